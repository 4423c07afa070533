/* causality_mod: served by the children of actor_spawning_and_causality
 * and actor_spawning_and_causality_with_daemon. */
#include "ex_util.h"

/* cellar_door(msg) -> "<msg> (from <name>, a child: yes)" */
static int cellar_door(tr_ctx_t *ctx, void *ud) {
    (void)ud;
    ex_obj_t kw;
    char msg[200], out[400];
    ex_as_str(tr_mp_map_get(ex_kwargs(&kw, ctx), "msg"), msg, sizeof msg);
    ex_obj_free(&kw);
    tr_runtime_t *rt = tr_ctx_runtime(ctx);
    snprintf(out, sizeof out, "%s (from %s, a child: %s)", msg, tr_runtime_name(rt),
             tr_runtime_is_child(rt) ? "yes" : "no");
    return ex_return_str(ctx, out);
}

static int movie_theatre_question(tr_ctx_t *ctx, void *ud) {
    (void)ud;
    return ex_return_str(ctx, "in your mind's eye");
}

int tr_module_init_causality_mod(tr_runtime_t *rt) {
    int rc = tr_register_func(rt, "causality_mod", "cellar_door", TR_FUNC_ASYNCFUNC, cellar_door, NULL, NULL);
    if (!rc)
        rc = tr_register_func(rt, "causality_mod", "movie_theatre_question", TR_FUNC_ASYNCFUNC,
                              movie_theatre_question, NULL, NULL);
    return rc;
}
