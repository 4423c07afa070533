#define _GNU_SOURCE
/* demo_worker: the C module the demo's worker actors serve.
 *   count_primes(lo, hi)      -> number of primes in [lo, hi)
 *   squares (context)         -> started("ready"), then echoes x*x for every
 *                                x streamed in, returns how many it did
 *   explode()                 -> fails with a ValueError
 *   wait_forever (context)    -> started, then waits until cancelled */
#include <msgpack.h>
#include <string.h>
#include <unistd.h>

#include "tractor/tractor.h"

static int64_t kw_int(tr_ctx_t *ctx, const char *key) {
    const void *buf;
    size_t len;
    tr_ctx_kwargs(ctx, &buf, &len);
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    int64_t v = 0;
    if (msgpack_unpack_next(&u, buf, len, NULL) == MSGPACK_UNPACK_SUCCESS &&
        u.data.type == MSGPACK_OBJECT_MAP)
        for (uint32_t i = 0; i < u.data.via.map.size; i++) {
            msgpack_object_kv *kv = &u.data.via.map.ptr[i];
            if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == strlen(key) &&
                !memcmp(kv->key.via.str.ptr, key, kv->key.via.str.size))
                v = kv->val.type == MSGPACK_OBJECT_NEGATIVE_INTEGER ? kv->val.via.i64
                                                                    : (int64_t)kv->val.via.u64;
        }
    msgpack_unpacked_destroy(&u);
    return v;
}

static int pack_int(tr_ctx_t *ctx, int64_t v, tr_stream_t *s) {
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_int64(&pk, v);
    int rc = s ? tr_stream_send(s, sb.data, sb.size, NULL) : tr_ctx_set_result(ctx, sb.data, sb.size);
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

static int count_primes(tr_ctx_t *ctx, void *ud) {
    (void)ud;
    int64_t lo = kw_int(ctx, "lo"), hi = kw_int(ctx, "hi"), n = 0;
    for (int64_t x = lo < 2 ? 2 : lo; x < hi; x++) {
        int prime = 1;
        for (int64_t d = 2; d * d <= x; d++)
            if (x % d == 0) {
                prime = 0;
                break;
            }
        n += prime;
        if ((x & 1023) == 0 && tr_ctx_cancel_called(ctx)) return TR_ECANCELLED;
    }
    return pack_int(ctx, n, NULL);
}

static int squares(tr_ctx_t *ctx, void *ud) {
    (void)ud;
    static const char ready[] = "\xa5ready";
    int rc = tr_ctx_started(ctx, ready, sizeof ready - 1);
    if (rc) return rc;
    tr_stream_t *s;
    if ((rc = tr_ctx_open_stream(ctx, &s))) return rc;
    int64_t n = 0;
    tr_buf_t b;
    while ((rc = tr_stream_recv(s, &b, NULL, -1)) == 0) {
        msgpack_unpacked u;
        msgpack_unpacked_init(&u);
        int64_t x = 0;
        if (msgpack_unpack_next(&u, b.data, b.len, NULL) == MSGPACK_UNPACK_SUCCESS)
            x = u.data.type == MSGPACK_OBJECT_NEGATIVE_INTEGER ? u.data.via.i64 : (int64_t)u.data.via.u64;
        msgpack_unpacked_destroy(&u);
        tr_buf_release(&b);
        if ((rc = pack_int(ctx, x * x, s))) break;
        n++;
    }
    tr_stream_release(s);
    if (rc != TR_EEOC) return rc;
    return pack_int(ctx, n, NULL);
}

static int explode(tr_ctx_t *ctx, void *ud) {
    (void)ud;
    tr_ctx_set_error(ctx, "ValueError", "the worker was asked to explode", NULL);
    return TR_EINVAL;
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
    int rc = tr_register_func(rt, "demo_worker", "count_primes", TR_FUNC_ASYNCFUNC, count_primes, NULL, NULL);
    if (!rc) rc = tr_register_func(rt, "demo_worker", "squares", TR_FUNC_CONTEXT, squares, NULL, "int|str");
    if (!rc) rc = tr_register_func(rt, "demo_worker", "explode", TR_FUNC_ASYNCFUNC, explode, NULL, NULL);
    if (!rc) rc = tr_register_func(rt, "demo_worker", "wait_forever", TR_FUNC_CONTEXT, wait_forever, NULL, NULL);
    return rc;
}
