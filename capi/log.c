/* The public layer: logging through the runtime's logger. */
#include <stdarg.h>

#include "core/runtime/rt.h"

int tr_log_level_from_name(const char *name) {
    return tr__log_level_parse(name);
}

void tr_log(tr_runtime_t *rt, int level, const char *module, const char *fmt, ...) {
    if (!fmt) return;
    va_list ap;
    va_start(ap, fmt);
    tr__runtime_logv(rt, level, module, fmt, ap);
    va_end(ap);
}

void tr_log_str(tr_runtime_t *rt, int level, const char *module, const char *msg) {
    tr__runtime_log_str(rt, level, module, msg);
}
