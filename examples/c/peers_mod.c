/* peers_mod: served by the actors of service_discovery.
 *   hi()             -> "hi, I am <name>"
 *   say_hello(other) -> finds `other` through the registrar (by name, not
 *                       through our parent) and returns what it answered */
#include "ex_util.h"

static int hi(tr_ctx_t *ctx, void *ud) {
    (void)ud;
    char out[200];
    snprintf(out, sizeof out, "hi, I am %s", tr_runtime_name(tr_ctx_runtime(ctx)));
    return ex_return_str(ctx, out);
}

static int say_hello(tr_ctx_t *ctx, void *ud) {
    (void)ud;
    ex_obj_t kw;
    char other[64];
    ex_as_str(tr_mp_map_get(ex_kwargs(&kw, ctx), "other"), other, sizeof other);
    ex_obj_free(&kw);
    tr_runtime_t *rt = tr_ctx_runtime(ctx);
    tr_portal_t *p;
    int rc = tr_wait_for_actor(rt, other, &p, 10000);
    if (rc) return rc;
    tr_buf_t res;
    rc = tr_portal_run(p, "peers_mod", "hi", NULL, 0, &res, NULL, 10000);
    tr_portal_release(p);
    if (rc) return rc;
    char answer[200], out[400];
    snprintf(out, sizeof out, "%s asked %s: '%s'", tr_runtime_name(rt), other, ex_buf_str(&res, answer, sizeof answer));
    tr_buf_release(&res);
    return ex_return_str(ctx, out);
}

int tr_module_init_peers_mod(tr_runtime_t *rt) {
    int rc = tr_register_func(rt, "peers_mod", "hi", TR_FUNC_ASYNCFUNC, hi, NULL, NULL);
    if (!rc) rc = tr_register_func(rt, "peers_mod", "say_hello", TR_FUNC_ASYNCFUNC, say_hello, NULL, NULL);
    return rc;
}
