/* points_mod: served by the child of typed_payloads.
 *   point_doubler (context, payloads limited to {x:int,y:int}|nil) ->
 *       started({x:0, y:0}), then streams back every point doubled */
#include "ex_util.h"

#define SPEC "{x:int,y:int}|nil"

static void pack_point(ex_pack_t *p, int64_t x, int64_t y) {
    msgpack_pack_map(&p->pk, 2);
    tr_mp_pack_kv_int(&p->pk, "x", x);
    tr_mp_pack_kv_int(&p->pk, "y", y);
}

static int point_doubler(tr_ctx_t *ctx, void *ud) {
    (void)ud;
    ex_pack_t p;
    ex_pack_init(&p);
    /* a started() value that breaks the spec is refused: nothing is sent */
    ex_str(&p, "this is no Point..");
    if (tr_ctx_started(ctx, p.sb.data, p.sb.size) == TR_EMSGTYPE)
        printf("child: just as planned, a str failed the %s spec\n", SPEC);
    fflush(stdout);
    ex_pack_reset(&p);
    pack_point(&p, 0, 0);
    int rc = tr_ctx_started(ctx, p.sb.data, p.sb.size);
    tr_stream_t *s = NULL;
    if (!rc) rc = tr_ctx_open_stream(ctx, &s);
    tr_buf_t b;
    while (!rc && (rc = tr_stream_recv(s, &b, NULL, -1)) == 0) { /* checked on receipt */
        ex_obj_t o;
        const msgpack_object *pt = ex_unpack(&o, b.data, b.len);
        ex_pack_reset(&p);
        pack_point(&p, 2 * ex_as_int(tr_mp_map_get(pt, "x")), 2 * ex_as_int(tr_mp_map_get(pt, "y")));
        ex_obj_free(&o);
        tr_buf_release(&b);
        rc = tr_stream_send(s, p.sb.data, p.sb.size, NULL);
    }
    if (s) tr_stream_release(s);
    ex_pack_free(&p);
    return rc == TR_EEOC ? 0 : rc; /* a bad point: TR_EMSGTYPE, a MsgTypeError */
}

int tr_module_init_points_mod(tr_runtime_t *rt) {
    return tr_register_func(rt, "points_mod", "point_doubler", TR_FUNC_CONTEXT, point_doubler, NULL, SPEC);
}
