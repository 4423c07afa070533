/* Logging with tractor's levels (core/devx: usable by every layer, depends
 * on none). A record is one line on stderr:
 * "time (actor[uid6], pid) [LEVEL] tractor.module message". */
#ifndef TR_CORE_DEVX_LOG_H
#define TR_CORE_DEVX_LOG_H

#include <stdarg.h>

/* Who is logging: the actor's name and uid (NULL before there is one) and
 * the level below which records are dropped. */
typedef struct tr__logger {
    const char *name, *uuid;
    int level;
} tr__logger_t;

/* Level number for a name, case-insensitive ("warn" too); TR_EINVAL. */
int tr__log_level_parse(const char *s);
/* Write one record when level >= lg->level (lg may be NULL: TR_LOG_ERROR). */
void tr__logv(const tr__logger_t *lg, int level, const char *module, const char *fmt,
              va_list ap);
void tr__log_str(const tr__logger_t *lg, int level, const char *module, const char *msg);

#endif
