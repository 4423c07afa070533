/* Typed payloads: a context limited to a payload spec ({x:int,y:int}|nil).
 * A started() value that does not match is refused in the sender before
 * anything is sent; stream values are checked where they are received, and
 * a bad one fails the context with a MsgTypeError both sides see.
 *
 * Port of tractor's examples/typed_payloads.py; the child serves
 * points_mod.c.
 *   build/examples/c/typed_payloads */
#include "ex_util.h"

#define SPEC "{x:int,y:int}|nil"

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    tr_runtime_t *rt = ex_open_root("root", NULL, 0);
    tr_nursery_t *n;
    EX_CHECK(tr_nursery_open(rt, &n), "open_nursery");
    tr_spawn_opts_t so;
    tr_spawn_opts_init(&so);
    so.enable_modules = "points_mod";
    tr_portal_t *p;
    tr_error_t *err = NULL;
    int rc = tr_nursery_start_actor(n, "point_doubler", &so, &p, &err, 10000);
    if (rc) ex_die("start_actor", rc, err);

    tr_ctx_opts_t o;
    tr_ctx_opts_init(&o);
    o.pld_spec = SPEC; /* our side checks what it receives too */
    tr_ctx_t *ctx;
    tr_buf_t first;
    if ((rc = tr_portal_open_context(p, "points_mod", "point_doubler", NULL, 0, &o, &ctx, &first, &err, 10000)))
        ex_die("open_context", rc, err);
    tr_buf_release(&first);
    tr_stream_t *s;
    EX_CHECK(tr_ctx_open_stream(ctx, &s), "open_stream");
    ex_pack_t pt;
    ex_pack_init(&pt);
    int ok = 1;
    for (int i = 0; i < 3; i++) {
        ex_pack_reset(&pt);
        msgpack_pack_map(&pt.pk, 2);
        tr_mp_pack_kv_int(&pt.pk, "x", i);
        tr_mp_pack_kv_int(&pt.pk, "y", i);
        EX_CHECK(tr_stream_send(s, pt.sb.data, pt.sb.size, NULL), "send");
        tr_buf_t b;
        if ((rc = tr_stream_recv(s, &b, &err, 10000))) ex_die("receive", rc, err);
        ex_obj_t d;
        const msgpack_object *dp = ex_unpack(&d, b.data, b.len);
        int64_t x = ex_as_int(tr_mp_map_get(dp, "x")), y = ex_as_int(tr_mp_map_get(dp, "y"));
        printf("parent: rx {x = %lld, y = %lld}\n", (long long)x, (long long)y);
        ok = ok && x == 2 * i && y == 2 * i;
        ex_obj_free(&d);
        tr_buf_release(&b);
    }
    tr_stream_close(s);
    tr_stream_release(s);
    tr_buf_t res;
    if ((rc = tr_ctx_wait_for_result(ctx, &res, &err, 10000))) ex_die("the result", rc, err);
    tr_buf_release(&res);
    tr_ctx_close(ctx, 0);

    /* a bad point: the child's receive refuses it and its context fails */
    if ((rc = tr_portal_open_context(p, "points_mod", "point_doubler", NULL, 0, NULL, &ctx, NULL, &err, 10000)))
        ex_die("open_context", rc, err);
    tr_ctx_open_stream(ctx, &s);
    ex_pack_reset(&pt);
    msgpack_pack_map(&pt.pk, 2);
    tr_mp_pack_kv_str(&pt.pk, "x", "one");
    tr_mp_pack_kv_int(&pt.pk, "y", 1);
    tr_stream_send(s, pt.sb.data, pt.sb.size, NULL);
    ex_pack_free(&pt);
    rc = tr_ctx_wait_for_result(ctx, &res, &err, 10000);
    printf("parent: the child refused a bad point: %s %s: %s\n", tr_err_name(rc), err ? tr_error_type(err) : "?",
           err ? tr_error_message(err) : "?");
    ok = ok && rc == TR_EMSGTYPE && err && !strcmp(tr_error_type(err), "MsgTypeError");
    tr_error_free(err);
    tr_stream_release(s);
    tr_ctx_close(ctx, 0);

    tr_portal_cancel_actor(p, -1);
    tr_portal_release(p);
    tr_nursery_close(n, 0, NULL);
    tr_runtime_close(rt);
    return ok && !ex_children_left() ? 0 : 1;
}
