/* Logging with tractor's levels: one line per record on stderr,
 * "time (actor[uid6], pid) [LEVEL] tractor.module message". */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "core/runtime/rt.h"

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

int tr_log_level_from_name(const char *name) { return tr__log_level_parse(name); }

static void emit(tr_runtime_t *rt, int level, const char *module, const char *msg) {
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
    fprintf(stderr, "%s%s (%s[%.6s], %d) [%s] tractor.%s %s%s\n", tty ? color : "", ts,
            rt ? rt->aid.name : "-", rt ? rt->aid.uuid : "", (int)getpid(), lname,
            module ? module : "app", msg, tty ? "\033[0m" : "");
}

static void vlog(tr_runtime_t *rt, int level, const char *module, const char *fmt, va_list ap) {
    int cur = rt ? rt->loglevel : TR_LOG_ERROR;
    if (level < cur) return;
    char buf[2048];
    vsnprintf(buf, sizeof buf, fmt, ap);
    emit(rt, level, module, buf);
}

void tr__log(tr_runtime_t *rt, int level, const char *module, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vlog(rt, level, module, fmt, ap);
    va_end(ap);
}

/* The public entry point is the same logger. */
void tr_log(tr_runtime_t *rt, int level, const char *module, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vlog(rt, level, module, fmt, ap);
    va_end(ap);
}

void tr_log_str(tr_runtime_t *rt, int level, const char *module, const char *msg) {
    int cur = rt ? rt->loglevel : TR_LOG_ERROR;
    if (level < cur || !msg) return;
    emit(rt, level, module, msg);
}
