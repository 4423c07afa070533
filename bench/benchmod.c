/* benchmod: the functions bench children serve (module "bench").
 *
 *   bench.noop       asyncfunc: returns nil
 *   bench.source     context {count, size, pace}: started(nil), streams
 *                    `count` payloads (size 8: the int counter; else a bin
 *                    value of `size` bytes), then closes and returns count
 *   bench.sink       context: counts what arrives until Stop, checks ints
 *                    arrive in order, returns [count, bad, t_last] where
 *                    t_last is CLOCK_MONOTONIC (ns, system-wide) when the
 *                    last value arrived
 *   bench.echo       context: echoes every value until Stop
 *   bench.subtree    context {n}: spawns `n` C children (each serving this
 *                    module), reports started(n), waits to be cancelled
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "tractor/tractor.h"

/* kwargs lookup for small non-negative ints (msgpack map of str -> int) */
static int64_t kw_int(tr_ctx_t *ctx, const char *key, int64_t dflt) {
    const void *buf;
    size_t len;
    if (tr_ctx_kwargs(ctx, &buf, &len)) return dflt;
    const uint8_t *p = buf, *end = p + len;
    if (len < 1 || (p[0] & 0xf0) != 0x80) return dflt;
    unsigned n = p[0] & 0x0f;
    p++;
    size_t klen = strlen(key);
    for (unsigned i = 0; i < n && p < end; i++) {
        if ((p[0] & 0xe0) != 0xa0) return dflt;
        size_t sl = p[0] & 0x1f;
        const uint8_t *k = p + 1;
        p = k + sl;
        if (p >= end) return dflt;
        int64_t v = bn_mp_read_uint(p, (size_t)(end - p));
        if (v < 0) return dflt;
        if (sl == klen && !memcmp(k, key, klen)) return v;
        p += p[0] < 128 ? 1 : p[0] == 0xcc ? 2 : p[0] == 0xcd ? 3 : p[0] == 0xce ? 5 : 9;
    }
    return dflt;
}

static void set_uint(tr_ctx_t *ctx, uint64_t v) {
    uint8_t b[9];
    tr_ctx_set_result(ctx, b, bn_mp_uint(b, v));
}

static int noop(tr_ctx_t *ctx, void *ud) {
    (void)ctx;
    (void)ud;
    return 0;
}

static int source(tr_ctx_t *ctx, void *ud) {
    (void)ud;
    int64_t count = kw_int(ctx, "count", 1000);
    int64_t size = kw_int(ctx, "size", 8);
    int rc = tr_ctx_started(ctx, NULL, 0);
    if (rc) return rc;
    tr_stream_t *s;
    if ((rc = tr_ctx_open_stream(ctx, &s))) return rc;
    size_t blen = 0;
    uint8_t *bin = size > 8 ? bn_mp_bin_payload((size_t)size, &blen) : NULL;
    uint8_t ib[9];
    for (int64_t i = 0; i < count && !rc; i++) {
        if (bin)
            rc = tr_stream_send(s, bin, blen, NULL);
        else
            rc = tr_stream_send(s, ib, bn_mp_uint(ib, (uint64_t)i), NULL);
    }
    free(bin);
    tr_stream_close(s);
    tr_stream_release(s);
    if (rc) return rc;
    set_uint(ctx, (uint64_t)count);
    return 0;
}

static int sink(tr_ctx_t *ctx, void *ud) {
    (void)ud;
    tr_ctx_set_overruns(ctx, 1, 0);
    int rc = tr_ctx_started(ctx, NULL, 0);
    if (rc) return rc;
    tr_stream_t *s;
    if ((rc = tr_ctx_open_stream(ctx, &s))) return rc;
    uint64_t n = 0, bad = 0, t_last = 0;
    for (;;) {
        tr_buf_t b;
        rc = tr_stream_recv(s, &b, NULL, -1);
        if (rc) break;
        int64_t v = bn_mp_read_uint(b.data, b.len);
        if (v >= 0 && (uint64_t)v != n) bad++;
        n++;
        tr_buf_release(&b);
        t_last = bn_now_ns();
    }
    tr_stream_release(s);
    if (rc != TR_EEOC) return rc;
    uint8_t out[32];
    out[0] = 0x93;
    size_t k = 1;
    k += bn_mp_uint(out + k, n);
    k += bn_mp_uint(out + k, bad);
    k += bn_mp_uint(out + k, t_last);
    tr_ctx_set_result(ctx, out, k);
    return 0;
}

static int echo(tr_ctx_t *ctx, void *ud) {
    (void)ud;
    int rc = tr_ctx_started(ctx, NULL, 0);
    if (rc) return rc;
    tr_stream_t *s;
    if ((rc = tr_ctx_open_stream(ctx, &s))) return rc;
    uint64_t n = 0;
    for (;;) {
        tr_buf_t b;
        rc = tr_stream_recv(s, &b, NULL, -1);
        if (rc) break;
        rc = tr_stream_send(s, b.data, b.len, NULL);
        tr_buf_release(&b);
        if (rc) break;
        n++;
    }
    tr_stream_close(s);
    tr_stream_release(s);
    if (rc != TR_EEOC) return rc;
    set_uint(ctx, n);
    return 0;
}

static int subtree(tr_ctx_t *ctx, void *ud) {
    (void)ud;
    int64_t n = kw_int(ctx, "n", 0);
    tr_runtime_t *rt = tr_ctx_runtime(ctx);
    tr_nursery_t *nur = NULL;
    int rc = 0;
    if (n > 0) rc = tr_nursery_open(rt, &nur);
    for (int64_t i = 0; i < n && !rc; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s-%lld", tr_runtime_name(rt), (long long)i);
        tr_spawn_opts_t so;
        tr_spawn_opts_init(&so);
        so.enable_modules = "bench";
        tr_portal_t *p;
        rc = tr_nursery_start_actor(nur, name, &so, &p, NULL, 10000);
        if (!rc) tr_portal_release(p);
    }
    uint8_t v[9];
    if (!rc) rc = tr_ctx_started(ctx, v, bn_mp_uint(v, (uint64_t)n));
    /* wait to be cancelled (the tree comes down from the root) */
    while (!rc && !tr_ctx_cancel_called(ctx)) {
        tr_stream_t *s;
        if (tr_ctx_open_stream(ctx, &s) == 0) {
            tr_buf_t b;
            while (tr_stream_recv(s, &b, NULL, -1) == 0) tr_buf_release(&b);
            tr_stream_release(s);
        }
        break;
    }
    if (nur) tr_nursery_close(nur, 1, NULL);
    return rc ? rc : TR_ECANCELLED;
}

int tr_module_init_bench(tr_runtime_t *rt) {
    int rc = 0;
    rc |= tr_register_func(rt, "bench", "noop", TR_FUNC_ASYNCFUNC, noop, NULL, NULL);
    rc |= tr_register_func(rt, "bench", "source", TR_FUNC_CONTEXT, source, NULL, NULL);
    rc |= tr_register_func(rt, "bench", "sink", TR_FUNC_CONTEXT, sink, NULL, NULL);
    rc |= tr_register_func(rt, "bench", "echo", TR_FUNC_CONTEXT, echo, NULL, NULL);
    rc |= tr_register_func(rt, "bench", "subtree", TR_FUNC_CONTEXT, subtree, NULL, NULL);
    return rc ? TR_EINVAL : 0;
}
