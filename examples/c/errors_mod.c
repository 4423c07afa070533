/* errors_mod: served by the children of remote_error_propagation.
 *   assert_err() -> fails with an AssertionError */
#include "ex_util.h"

static int assert_err(tr_ctx_t *ctx, void *ud) {
    (void)ud;
    tr_ctx_set_error(ctx, "AssertionError", "a remote assertion",
                     "errors_mod.c: assert_err(): assert(0) failed\n");
    return TR_EINVAL;
}

int tr_module_init_errors_mod(tr_runtime_t *rt) {
    return tr_register_func(rt, "errors_mod", "assert_err", TR_FUNC_ASYNCFUNC, assert_err, NULL, NULL);
}
