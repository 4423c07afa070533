/* Ping/pong over a bidirectional stream inside a context: the child's
 * started() value comes first, then every "ping" we send is answered with
 * "pong"; closing our end lets the child return its count.
 *
 * Port of tractor's examples/rpc_bidir_streaming.py; the child serves
 * pingpong_mod.c.
 *   build/examples/c/rpc_bidir_streaming */
#include "ex_util.h"

int main(void) {
    tr_runtime_t *rt = ex_open_root("root", NULL, 0);
    tr_nursery_t *n;
    EX_CHECK(tr_nursery_open(rt, &n), "open_nursery");
    tr_spawn_opts_t so;
    tr_spawn_opts_init(&so);
    so.enable_modules = "pingpong_mod";
    tr_portal_t *p;
    tr_error_t *err = NULL;
    int rc = tr_nursery_start_actor(n, "rpc_server", &so, &p, &err, 10000);
    if (rc) ex_die("start_actor", rc, err);

    ex_pack_t kw;
    ex_pack_init(&kw);
    msgpack_pack_map(&kw.pk, 1);
    tr_mp_pack_kv_int(&kw.pk, "data", 10);
    tr_ctx_t *ctx;
    tr_buf_t first;
    rc = tr_portal_open_context(p, "pingpong_mod", "simple_rpc", kw.sb.data, kw.sb.size, NULL, &ctx, &first, &err,
                                10000);
    if (rc) ex_die("open_context", rc, err);
    printf("started: %lld\n", (long long)ex_buf_int(&first));
    if (ex_buf_int(&first) != 11) return 1;
    tr_buf_release(&first);

    tr_stream_t *s;
    EX_CHECK(tr_ctx_open_stream(ctx, &s), "open_stream");
    for (int i = 1; i <= 4; i++) {
        ex_pack_reset(&kw);
        ex_str(&kw, "ping");
        EX_CHECK(tr_stream_send(s, kw.sb.data, kw.sb.size, NULL), "send");
        tr_buf_t b;
        if ((rc = tr_stream_recv(s, &b, &err, 10000))) ex_die("receive", rc, err);
        char msg[16];
        printf("ping %d -> %s\n", i, ex_buf_str(&b, msg, sizeof msg));
        tr_buf_release(&b);
    }
    ex_pack_free(&kw);
    tr_stream_close(s); /* the child's loop ends; it returns its count */
    tr_buf_t res;
    if ((rc = tr_ctx_wait_for_result(ctx, &res, &err, 10000))) ex_die("the result", rc, err);
    printf("the server answered %lld pings\n", (long long)ex_buf_int(&res));
    tr_buf_release(&res);
    tr_stream_release(s);
    tr_ctx_close(ctx, 0);

    tr_portal_cancel_actor(p, -1);
    tr_portal_release(p);
    if (tr_nursery_close(n, 0, &err)) ex_die("closing the nursery", TR_EREMOTE, err);
    tr_runtime_close(rt);
    return ex_children_left() ? 1 : 0;
}
