/* Logging with tractor's levels: one line per record on stderr,
 * "time (actor[uid6], pid) [LEVEL] tractor.module message". */
#include "core/devx/log.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "tractor/tractor.h"

static const struct {
    const char *name;
    int level;
    const char *color;
} levels[] = {
    {"TRANSPORT", TR_LOG_TRANSPORT, "\033[37m"}, {"DEBUG", TR_LOG_DEBUG, "\033[37m"},
    {"RUNTIME", TR_LOG_RUNTIME, "\033[36m"},     {"DEVX", TR_LOG_DEVX, "\033[36m"},
    {"INFO", TR_LOG_INFO, "\033[32m"},           {"IO", TR_LOG_IO, "\033[35m"},
    {"CANCEL", TR_LOG_CANCEL, "\033[33m"},       {"WARNING", TR_LOG_WARNING, "\033[33m"},
    {"ERROR", TR_LOG_ERROR, "\033[31m"},         {"CRITICAL", TR_LOG_CRITICAL, "\033[1;31m"},
    {"PDB", TR_LOG_PDB, "\033[1;35m"},
};

int tr__log_level_parse(const char *s) {
    if (!s) return TR_EINVAL;
    for (size_t i = 0; i < sizeof levels / sizeof *levels; i++)
        if (!strcasecmp(s, levels[i].name)) return levels[i].level;
    if (!strcasecmp(s, "warn")) return TR_LOG_WARNING;
    return TR_EINVAL;
}

static void emit(const tr__logger_t *lg, int level, const char *module, const char *msg) {
    const char *lname = "LOG", *color = "";
    for (size_t i = 0; i < sizeof levels / sizeof *levels; i++)
        if (levels[i].level == level) {
            lname = levels[i].name;
            color = levels[i].color;
        }
    int tty = isatty(2);
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    char ts[32];
    strftime(ts, sizeof ts, "%b %d %H:%M:%S", &tm);
    const char *name = lg && lg->name ? lg->name : "-";
    const char *uuid = lg && lg->uuid ? lg->uuid : "";
    fprintf(stderr, "%s%s (%s[%.6s], %d) [%s] tractor.%s %s%s\n", tty ? color : "", ts, name,
            uuid, (int)getpid(), lname, module ? module : "app", msg, tty ? "\033[0m" : "");
}

static int enabled(const tr__logger_t *lg, int level) {
    return level >= (lg ? lg->level : TR_LOG_ERROR);
}

void tr__logv(const tr__logger_t *lg, int level, const char *module, const char *fmt,
              va_list ap) {
    if (!enabled(lg, level)) return;
    char buf[2048];
    vsnprintf(buf, sizeof buf, fmt, ap);
    emit(lg, level, module, buf);
}

void tr__log_str(const tr__logger_t *lg, int level, const char *module, const char *msg) {
    if (!enabled(lg, level) || !msg) return;
    emit(lg, level, module, msg);
}
