/* A three-level tree: one call from the root fans out through a
 * 'supervisor' actor to two 'leaf' actors it spawns, and the aggregate comes
 * back up. Teardown runs inside out: the supervisor cancels its leaves,
 * then the root cancels the supervisor.
 *
 * Port of tractor's examples/nested_actor_tree.py; the actors serve
 * tree_mod.c.
 *   build/examples/c/nested_actor_tree */
#include "ex_util.h"

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    tr_runtime_t *rt = ex_open_root("root", NULL, 0);
    tr_nursery_t *n;
    EX_CHECK(tr_nursery_open(rt, &n), "open_nursery");
    tr_spawn_opts_t so;
    tr_spawn_opts_init(&so);
    so.enable_modules = "tree_mod";
    tr_portal_t *sup;
    tr_error_t *err = NULL;
    int rc = tr_nursery_start_actor(n, "supervisor", &so, &sup, &err, 10000);
    if (rc) ex_die("start_actor", rc, err);

    ex_pack_t kw;
    ex_pack_init(&kw);
    msgpack_pack_map(&kw.pk, 1);
    ex_str(&kw, "vals");
    msgpack_pack_array(&kw.pk, 4);
    for (int i = 1; i <= 4; i++) ex_int(&kw, i);
    tr_ctx_t *ctx;
    tr_buf_t first;
    rc = tr_portal_open_context(sup, "tree_mod", "fan_out_squares", kw.sb.data, kw.sb.size, NULL, &ctx, &first,
                                &err, 30000);
    ex_pack_free(&kw);
    if (rc) ex_die("open_context", rc, err);
    ex_obj_t o;
    const msgpack_object *names = ex_unpack(&o, first.data, first.len);
    char a[32] = "?", b[32] = "?";
    if (names->type == MSGPACK_OBJECT_ARRAY && names->via.array.size == 2) {
        ex_as_str(&names->via.array.ptr[0], a, sizeof a);
        ex_as_str(&names->via.array.ptr[1], b, sizeof b);
    }
    printf("root: supervisor spawned %s, %s\n", a, b);
    ex_obj_free(&o);
    tr_buf_release(&first);

    tr_buf_t res;
    if ((rc = tr_ctx_wait_for_result(ctx, &res, &err, 30000))) ex_die("the result", rc, err);
    const msgpack_object *sq = ex_unpack(&o, res.data, res.len);
    int ok = sq->type == MSGPACK_OBJECT_ARRAY && sq->via.array.size == 4;
    printf("root: aggregate result [");
    for (uint32_t i = 0; ok && i < 4; i++) {
        int64_t v = ex_as_int(&sq->via.array.ptr[i]);
        printf("%s%lld", i ? ", " : "", (long long)v);
        ok = ok && v == (int64_t)(i + 1) * (i + 1);
    }
    printf("]\n");
    ex_obj_free(&o);
    tr_buf_release(&res);
    tr_ctx_close(ctx, 0);

    printf("root: cancelling supervisor\n");
    tr_portal_cancel_actor(sup, -1);
    tr_portal_release(sup);
    if (tr_nursery_close(n, 0, &err)) ex_die("closing the nursery", TR_EREMOTE, err);
    tr_runtime_close(rt);
    printf("root: tree torn down, no zombies\n");
    return ok && !ex_children_left() ? 0 : 1;
}
