/* Spawn an actor, run one function in it, get the result back
 * (run_in_actor): the nursery does not close before the child has
 * returned, and the child is cancelled once its one job is done.
 *
 * Port of tractor's examples/actor_spawning_and_causality.py; the child
 * serves causality_mod.c.
 *   build/examples/c/actor_spawning_and_causality */
#include "ex_util.h"

int main(void) {
    tr_runtime_t *rt = ex_open_root("root", NULL, 0);
    tr_nursery_t *n;
    EX_CHECK(tr_nursery_open(rt, &n), "open_nursery");

    ex_pack_t kw;
    ex_pack_init(&kw);
    msgpack_pack_map(&kw.pk, 1);
    tr_mp_pack_kv_str(&kw.pk, "msg", "beautiful");
    tr_portal_t *portal;
    tr_error_t *err = NULL;
    int rc = tr_nursery_run_in_actor(n, "some_linguist", "causality_mod", "cellar_door", kw.sb.data, kw.sb.size,
                                     NULL, &portal, &err, 10000);
    ex_pack_free(&kw);
    if (rc) ex_die("run_in_actor", rc, err);

    /* the nursery would collect the result when closing; asking is fine */
    tr_buf_t res;
    if ((rc = tr_portal_wait_for_result(portal, &res, &err, 10000))) ex_die("wait_for_result", rc, err);
    char out[400];
    ex_buf_str(&res, out, sizeof out);
    tr_buf_release(&res);
    tr_portal_release(portal);
    if ((rc = tr_nursery_close(n, 0, &err))) ex_die("closing the nursery", rc, err);
    tr_runtime_close(rt);

    printf("%s\n", out);
    if (strcmp(out, "beautiful (from some_linguist, a child: yes)") != 0) return 1;
    return ex_children_left() ? 1 : 0;
}
