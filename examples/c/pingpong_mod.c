/* pingpong_mod: served by the child of rpc_bidir_streaming.
 *   simple_rpc(data) (context) -> started(data + 1); answers every "ping"
 *                                 with "pong"; returns how many */
#include "ex_util.h"

static int simple_rpc(tr_ctx_t *ctx, void *ud) {
    (void)ud;
    ex_obj_t kw;
    int64_t data = ex_as_int(tr_mp_map_get(ex_kwargs(&kw, ctx), "data"));
    ex_obj_free(&kw);
    ex_pack_t p;
    ex_pack_init(&p);
    ex_int(&p, data + 1);
    int rc = tr_ctx_started(ctx, p.sb.data, p.sb.size);
    if (rc) goto out;
    tr_stream_t *s;
    if ((rc = tr_ctx_open_stream(ctx, &s))) goto out;
    int64_t count = 0;
    tr_buf_t b;
    char msg[16];
    while ((rc = tr_stream_recv(s, &b, NULL, -1)) == 0) {
        ex_buf_str(&b, msg, sizeof msg);
        tr_buf_release(&b);
        if (strcmp(msg, "ping") != 0) {
            tr_ctx_set_error(ctx, "ValueError", "expected 'ping'", NULL);
            rc = TR_EINVAL;
            break;
        }
        ex_pack_reset(&p);
        ex_str(&p, "pong");
        if ((rc = tr_stream_send(s, p.sb.data, p.sb.size, NULL))) break;
        count++;
    }
    tr_stream_release(s);
    if (rc == TR_EEOC) rc = ex_return_int(ctx, count); /* the caller closed its end */
out:
    ex_pack_free(&p);
    return rc;
}

int tr_module_init_pingpong_mod(tr_runtime_t *rt) {
    return tr_register_func(rt, "pingpong_mod", "simple_rpc", TR_FUNC_CONTEXT, simple_rpc, NULL, NULL);
}
