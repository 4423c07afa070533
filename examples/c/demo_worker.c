#define _GNU_SOURCE
/* demo_worker: the C module of `make demo` (served by the 'aggregator'
 * actor, a tractor-actor C child).
 *   aggregate (context)    -> started("C aggregator ready"); for every int
 *                             streamed in, answers the running total (a
 *                             bidirectional stream); when the stream ends,
 *                             returns {"count": n, "total": sum}
 *   wait_forever (context) -> started, then waits until cancelled */
#include "tractor/tractor_msgpack.h"

/* a received int (0 when it is not one) */
static int64_t as_int(const tr_buf_t *b) {
    msgpack_unpacked u;
    int64_t v = 0;
    if (tr_mp_unpack_buf(b, &u) == 0) tr_mp_as_int(&u.data, &v);
    msgpack_unpacked_destroy(&u);
    return v;
}

static int aggregate(tr_ctx_t *ctx, void *ud) {
    (void)ud;
    msgpack_sbuffer sb;
    msgpack_packer pk;
    tr_mp_init(&sb, &pk);
    tr_mp_pack_str(&pk, "C aggregator ready");
    int rc = tr_ctx_started(ctx, sb.data, sb.size);
    tr_stream_t *s = NULL;
    if (!rc) rc = tr_ctx_open_stream(ctx, &s);
    if (rc) {
        msgpack_sbuffer_destroy(&sb);
        return rc;
    }
    int64_t count = 0, total = 0;
    tr_buf_t b;
    while ((rc = tr_stream_recv(s, &b, NULL, -1)) == 0) {
        total += as_int(&b);
        count++;
        tr_buf_release(&b);
        sb.size = 0;
        msgpack_pack_int64(&pk, total);
        if ((rc = tr_stream_send(s, sb.data, sb.size, NULL))) break;
    }
    tr_stream_release(s);
    if (rc == TR_EEOC) { /* the sender closed its end: report */
        sb.size = 0;
        msgpack_pack_map(&pk, 2);
        tr_mp_pack_kv_int(&pk, "count", count);
        tr_mp_pack_kv_int(&pk, "total", total);
        rc = tr_ctx_set_result(ctx, sb.data, sb.size);
    }
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

static int wait_forever(tr_ctx_t *ctx, void *ud) {
    (void)ud;
    int rc = tr_ctx_started(ctx, NULL, 0);
    if (rc) return rc;
    tr_stream_t *s;
    if ((rc = tr_ctx_open_stream(ctx, &s))) return rc;
    tr_buf_t b;
    while ((rc = tr_stream_recv(s, &b, NULL, -1)) == 0) tr_buf_release(&b);
    tr_stream_release(s);
    return rc; /* TR_ECANCELLED once cancelled */
}

int tr_module_init_demo_worker(tr_runtime_t *rt) {
    int rc = tr_register_func(rt, "demo_worker", "aggregate", TR_FUNC_CONTEXT, aggregate, NULL, NULL);
    if (!rc) rc = tr_register_func(rt, "demo_worker", "wait_forever", TR_FUNC_CONTEXT, wait_forever, NULL, NULL);
    return rc;
}
