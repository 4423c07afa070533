/* The public layer: portals: connections to other actors and the calls made through them.
 * Each function is the ABI's entry point over one internal tr__ call of
 * core/ (see include/tractor/tractor.h for the contracts). */
#include "core/runtime/rt.h"

int tr_portal_connect(tr_runtime_t *rt, const char *addr, tr_portal_t **out, int timeout_ms) {
    return tr__portal_connect(rt, addr, out, timeout_ms);
}

const char *tr_portal_name(tr_portal_t *p) {
    return tr__portal_name(p);
}

const char *tr_portal_uuid(tr_portal_t *p) {
    return tr__portal_uuid(p);
}

int tr_portal_pid(tr_portal_t *p) {
    return tr__portal_pid(p);
}

int tr_portal_connected(tr_portal_t *p) {
    return tr__portal_connected(p);
}

int tr_portal_run(tr_portal_t *p, const char *ns, const char *func, const void *kwargs,
                  size_t kwargs_len, tr_buf_t *result, tr_error_t **err, int timeout_ms) {
    return tr__portal_run(p, ns, func, kwargs, kwargs_len, result, err, timeout_ms);
}

int tr_portal_start_call(tr_portal_t *p, const char *ns, const char *func,
                         const void *kwargs, size_t kwargs_len, tr_ctx_t **out) {
    return tr__portal_start_call(p, ns, func, kwargs, kwargs_len, out);
}

int tr_portal_wait_for_result(tr_portal_t *p, tr_buf_t *result, tr_error_t **err,
                              int timeout_ms) {
    return tr__portal_wait_for_result(p, result, err, timeout_ms);
}

int tr_portal_cancel_actor(tr_portal_t *p, int timeout_ms) {
    return tr__portal_cancel_actor(p, timeout_ms);
}

void tr_portal_release(tr_portal_t *p) {
    tr__portal_release(p);
}

int tr_portal_open_context(tr_portal_t *p, const char *ns, const char *func,
                           const void *kwargs, size_t kwargs_len,
                           const tr_ctx_opts_t *opts, tr_ctx_t **ctx, tr_buf_t *first,
                           tr_error_t **err, int timeout_ms) {
    return tr__portal_open_context(p, ns, func, kwargs, kwargs_len, opts, ctx, first, err, timeout_ms);
}

int tr_portal_start_context(tr_portal_t *p, const char *ns, const char *func,
                            const void *kwargs, size_t kwargs_len,
                            const tr_ctx_opts_t *opts, tr_ctx_t **ctx) {
    return tr__portal_start_context(p, ns, func, kwargs, kwargs_len, opts, ctx);
}
