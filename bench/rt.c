/* bench-rt: libtractor figures. A root actor spawns C children (the
 * tractor-actor host serving bench/benchmod.c) and measures:
 *
 *   bench-rt TPT stream     one-way stream child -> root, payloads 8 B (int),
 *                           1 KiB, 64 KiB, 1 MiB (the root receives with
 *                           allow_overruns); msgs/s and MB/s
 *   bench-rt TPT rtt        round trip over a context stream (echo): p50/p99/p99.9
 *   bench-rt TPT rpc        portal_run calls/s, sequential and 8 callers
 *   bench-rt TPT scale      1/10/100/1000 concurrent streams root -> child
 *                           (aggregate msgs/s; every message counted)
 *   bench-rt TPT spawn      spawn latency of a C child until its portal is
 *                           ready (median of 20); idle child RSS. With
 *                           BENCH_LANGS="python lua" the same per language.
 *   bench-rt TPT tree       a tree of 1/10/100 C actors up and down
 *
 * TPT is uds or tcp. Prints "R <key> <value>" lines. Needs
 * TRACTOR_MODULE_PATH to hold libbench.so (run-bench sets it). */
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "common.h"
#include "tractor/tractor.h"

static const char *g_tpt;
static tr_runtime_t *g_rt;

#define CHECK(expr)                                                              \
    do {                                                                         \
        int rc_ = (expr);                                                        \
        if (rc_) {                                                               \
            fprintf(stderr, "bench-rt: %s failed: %s (line %d)\n", #expr,         \
                    tr_err_name(rc_), __LINE__);                                 \
            exit(3);                                                             \
        }                                                                        \
    } while (0)

static void key(char *k, size_t n, const char *fmt, const char *a) {
    snprintf(k, n, fmt, g_tpt, a);
}

static void open_root(void) {
    tr_runtime_opts_t o;
    tr_runtime_opts_init(&o);
    o.name = "bench";
    o.transport = g_tpt;
    o.handle_signals = 0;
    o.enable_registrar = TR_REGISTRAR_NONE;
    CHECK(tr_runtime_open(&o, &g_rt));
}

static tr_portal_t *spawn_c(tr_nursery_t *n, const char *name) {
    tr_spawn_opts_t so;
    tr_spawn_opts_init(&so);
    so.enable_modules = "bench";
    tr_portal_t *p;
    tr_error_t *err = NULL;
    int rc = tr_nursery_start_actor(n, name, &so, &p, &err, 20000);
    if (rc) {
        fprintf(stderr, "bench-rt: spawn failed: %s %s\n", tr_err_name(rc),
                err ? tr_error_str(err) : "");
        exit(3);
    }
    return p;
}

/* msgpack {k1: v1, k2: v2} with small str keys and uint values */
static size_t kwargs2(uint8_t *b, const char *k1, uint64_t v1, const char *k2, uint64_t v2) {
    size_t n = 0;
    b[n++] = k2 ? 0x82 : 0x81;
    b[n++] = (uint8_t)(0xa0 | strlen(k1));
    memcpy(b + n, k1, strlen(k1));
    n += strlen(k1);
    n += bn_mp_uint(b + n, v1);
    if (k2) {
        b[n++] = (uint8_t)(0xa0 | strlen(k2));
        memcpy(b + n, k2, strlen(k2));
        n += strlen(k2);
        n += bn_mp_uint(b + n, v2);
    }
    return n;
}

static void teardown(tr_nursery_t *n, tr_portal_t *p) {
    if (p) {
        tr_portal_cancel_actor(p, -1);
        tr_portal_release(p);
    }
    tr_nursery_close(n, 0, NULL);
}

/* ---- one-way stream ------------------------------------------------------ */

static const char *g_only; /* optional 3rd argument: one case only */
static long g_div = 1;      /* $BENCH_DIV: divide message counts (profiling) */

static int bench_stream(void) {
    tr_nursery_t *n;
    CHECK(tr_nursery_open(g_rt, &n));
    tr_portal_t *p = spawn_c(n, "source");
    static const struct { size_t size; long count; const char *label; } cases[] = {
        {8, 2000000, "8"}, {1024, 400000, "1024"}, {65536, 20000, "65536"}, {1048576, 1500, "1048576"}};
    for (size_t ci = 0; ci < sizeof cases / sizeof *cases; ci++) {
        long count = cases[ci].count / g_div;
        if (g_only && strcmp(g_only, cases[ci].label)) continue;
        uint8_t kw[64];
        size_t kwn = kwargs2(kw, "count", (uint64_t)count, "size", cases[ci].size);
        tr_ctx_opts_t o;
        tr_ctx_opts_init(&o);
        o.allow_overruns = 1;
        tr_ctx_t *ctx;
        uint64_t t0 = bn_now_ns();
        CHECK(tr_portal_open_context(p, "bench", "source", kw, kwn, &o, &ctx, NULL, NULL, 10000));
        tr_stream_t *s;
        CHECK(tr_ctx_open_stream(ctx, &s));
        long got = 0, bad = 0;
        size_t bytes = 0;
        int rc;
        tr_buf_t b;
        while ((rc = tr_stream_recv(s, &b, NULL, 30000)) == 0) {
            if (cases[ci].size == 8) {
                if (bn_mp_read_uint(b.data, b.len) != got) bad++;
            } else if (b.len != cases[ci].size) {
                bad++;
            }
            bytes += b.len;
            got++;
            tr_buf_release(&b);
        }
        uint64_t t1 = bn_now_ns();
        if (rc != TR_EEOC || got != count || bad) {
            fprintf(stderr, "bench-rt stream %s: rc %s got %ld/%ld bad %ld\n", cases[ci].label,
                    tr_err_name(rc), got, count, bad);
            exit(3);
        }
        tr_stream_release(s);
        CHECK(tr_ctx_close(ctx, 0));
        double secs = bn_secs(t0, t1);
        char k[96];
        key(k, sizeof k, "rt.stream.%s.%s.msgs_per_s", cases[ci].label);
        bn_result(k, (double)count / secs);
        key(k, sizeof k, "rt.stream.%s.%s.MB_per_s", cases[ci].label);
        bn_result(k, (double)count * (double)cases[ci].size / secs / 1e6);
    }
    teardown(n, p);
    return 0;
}

/* ---- round trip ------------------------------------------------------------ */

static int bench_rtt(void) {
    tr_nursery_t *n;
    CHECK(tr_nursery_open(g_rt, &n));
    tr_portal_t *p = spawn_c(n, "echo");
    tr_ctx_t *ctx;
    CHECK(tr_portal_open_context(p, "bench", "echo", NULL, 0, NULL, &ctx, NULL, NULL, 10000));
    tr_stream_t *s;
    CHECK(tr_ctx_open_stream(ctx, &s));
    const long iters = 20000, warm = 2000;
    uint64_t *lat = malloc(sizeof *lat * (size_t)iters);
    uint64_t t0 = 0;
    for (long i = 0; i < warm + iters; i++) {
        uint8_t v[9];
        size_t vn = bn_mp_uint(v, (uint64_t)i + 100000);
        uint64_t a = bn_now_ns();
        CHECK(tr_stream_send(s, v, vn, NULL));
        tr_buf_t b;
        CHECK(tr_stream_recv(s, &b, NULL, 10000));
        uint64_t z = bn_now_ns();
        if (bn_mp_read_uint(b.data, b.len) != (int64_t)i + 100000) {
            fprintf(stderr, "bench-rt rtt: wrong echo\n");
            exit(3);
        }
        tr_buf_release(&b);
        if (i >= warm) lat[i - warm] = z - a;
        if (i == warm - 1) t0 = bn_now_ns();
    }
    uint64_t t1 = bn_now_ns();
    tr_stream_close(s);
    tr_stream_release(s);
    CHECK(tr_ctx_close(ctx, 0));
    bn_sort(lat, (size_t)iters);
    char k[96];
    key(k, sizeof k, "rt.rtt.%s.p50_us%s", "");
    bn_result(k, (double)bn_pct(lat, (size_t)iters, 50) / 1e3);
    key(k, sizeof k, "rt.rtt.%s.p99_us%s", "");
    bn_result(k, (double)bn_pct(lat, (size_t)iters, 99) / 1e3);
    key(k, sizeof k, "rt.rtt.%s.p999_us%s", "");
    bn_result(k, (double)bn_pct(lat, (size_t)iters, 99.9) / 1e3);
    key(k, sizeof k, "rt.rtt.%s.rtt_per_s%s", "");
    bn_result(k, (double)iters / bn_secs(t0, t1));
    free(lat);
    teardown(n, p);
    return 0;
}

/* ---- portal_run ------------------------------------------------------------ */

struct rpc_arg {
    tr_portal_t *p;
    long calls;
    atomic_long *fails;
};

static void *rpc_worker(void *arg) {
    struct rpc_arg *a = arg;
    for (long i = 0; i < a->calls; i++) {
        tr_buf_t r;
        if (tr_portal_run(a->p, "bench", "noop", NULL, 0, &r, NULL, 10000) != 0)
            atomic_fetch_add(a->fails, 1);
        tr_buf_release(&r);
    }
    return NULL;
}

static int bench_rpc(void) {
    tr_nursery_t *n;
    CHECK(tr_nursery_open(g_rt, &n));
    tr_portal_t *p = spawn_c(n, "rpc");
    atomic_long fails = 0;
    struct rpc_arg warm = {p, 300, &fails};
    rpc_worker(&warm);
    const long seq = 5000;
    struct rpc_arg a = {p, seq, &fails};
    uint64_t t0 = bn_now_ns();
    rpc_worker(&a);
    uint64_t t1 = bn_now_ns();
    char k[96];
    key(k, sizeof k, "rt.rpc.%s.seq_calls_per_s%s", "");
    bn_result(k, (double)seq / bn_secs(t0, t1));
    enum { NT = 8 };
    const long per = 1500;
    pthread_t th[NT];
    struct rpc_arg args[NT];
    t0 = bn_now_ns();
    for (int i = 0; i < NT; i++) {
        args[i] = (struct rpc_arg){p, per, &fails};
        pthread_create(&th[i], NULL, rpc_worker, &args[i]);
    }
    for (int i = 0; i < NT; i++) pthread_join(th[i], NULL);
    t1 = bn_now_ns();
    key(k, sizeof k, "rt.rpc.%s.conc8_calls_per_s%s", "");
    bn_result(k, (double)(NT * per) / bn_secs(t0, t1));
    if (atomic_load(&fails)) {
        fprintf(stderr, "bench-rt rpc: %ld failed calls\n", atomic_load(&fails));
        exit(3);
    }
    teardown(n, p);
    return 0;
}

/* ---- scaling: K concurrent streams root -> child ---------------------------- */

static int bench_scale(void) {
    tr_nursery_t *n;
    CHECK(tr_nursery_open(g_rt, &n));
    tr_portal_t *p = spawn_c(n, "sinks");
    static const int ks[] = {1, 10, 100, 1000};
    const long total = 1000000 / g_div;
    for (size_t ki = 0; ki < sizeof ks / sizeof *ks; ki++) {
        int K = ks[ki];
        char klab[16];
        snprintf(klab, sizeof klab, "%d", K);
        if (g_only && strcmp(g_only, klab)) continue;
        long per = total / K;
        tr_ctx_t **ctx = calloc((size_t)K, sizeof *ctx);
        tr_stream_t **s = calloc((size_t)K, sizeof *s);
        for (int i = 0; i < K; i++) {
            CHECK(tr_portal_open_context(p, "bench", "sink", NULL, 0, NULL, &ctx[i], NULL, NULL, 20000));
            CHECK(tr_ctx_open_stream(ctx[i], &s[i]));
        }
        /* one sender thread, round-robin in bursts of up to 64 per stream */
        uint64_t t0 = bn_now_ns();
        long sent = 0;
        const long burst = per < 64 ? per : 64;
        while (sent < per) {
            long m = per - sent < burst ? per - sent : burst;
            for (int i = 0; i < K; i++)
                for (long j = 0; j < m; j++) {
                    uint8_t v[9];
                    CHECK(tr_stream_send(s[i], v, bn_mp_uint(v, (uint64_t)(sent + j)), NULL));
                }
            sent += m;
        }
        /* end every stream, then collect each sink's [count, bad, t_last];
         * the figure runs from the first send to the last value received
         * (CLOCK_MONOTONIC is system-wide), so tasks ending is not in it */
        for (int i = 0; i < K; i++) CHECK(tr_stream_close(s[i]));
        long lost = 0, bad = 0;
        uint64_t t1 = 0;
        for (int i = 0; i < K; i++) {
            tr_buf_t r;
            CHECK(tr_ctx_wait_for_result(ctx[i], &r, NULL, 60000));
            const uint8_t *q = r.data, *end = q + r.len;
            int64_t f[3] = {-1, -1, -1};
            if (r.len >= 4 && q[0] == 0x93) {
                q++;
                for (int j = 0; j < 3 && q < end; j++) {
                    f[j] = bn_mp_read_uint(q, (size_t)(end - q));
                    q += q[0] < 128 ? 1 : q[0] == 0xcc ? 2 : q[0] == 0xcd ? 3 : q[0] == 0xce ? 5 : 9;
                }
            }
            if (f[0] != per) lost += per - f[0];
            if (f[1]) bad++;
            if (f[2] > 0 && (uint64_t)f[2] > t1) t1 = (uint64_t)f[2];
            tr_buf_release(&r);
        }
        if (!t1) t1 = bn_now_ns();
        for (int i = 0; i < K; i++) {
            tr_stream_release(s[i]);
            CHECK(tr_ctx_close(ctx[i], 0));
        }
        free(ctx);
        free(s);
        char lab[16], k[96];
        snprintf(lab, sizeof lab, "%d", K);
        key(k, sizeof k, "rt.scale.%s.%s.msgs_per_s", lab);
        bn_result(k, (double)(per * K) / bn_secs(t0, t1));
        key(k, sizeof k, "rt.scale.%s.%s.lost", lab);
        bn_result(k, (double)(lost + bad));
    }
    teardown(n, p);
    return 0;
}

/* ---- spawn latency and idle RSS ----------------------------------------------- */

static long rss_kib(int pid) {
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    long v = -1;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6)) v = atol(line + 6);
    fclose(f);
    return v;
}

static int bench_spawn_lang(const char *lang, int reps) {
    tr_nursery_t *n;
    CHECK(tr_nursery_open(g_rt, &n));
    uint64_t *lat = calloc((size_t)reps, sizeof *lat);
    long rss = -1;
    for (int i = 0; i < reps; i++) {
        tr_spawn_opts_t so;
        tr_spawn_opts_init(&so);
        so.lang = lang;
        if (!strcmp(lang, "c")) so.enable_modules = "bench";
        tr_portal_t *p;
        tr_error_t *err = NULL;
        char name[32];
        snprintf(name, sizeof name, "sp%d", i);
        uint64_t t0 = bn_now_ns();
        int rc = tr_nursery_start_actor(n, name, &so, &p, &err, 20000);
        uint64_t t1 = bn_now_ns();
        if (rc) {
            fprintf(stderr, "bench-rt spawn %s: %s %s\n", lang, tr_err_name(rc), err ? tr_error_str(err) : "");
            tr_error_free(err);
            tr_nursery_close(n, 1, NULL);
            free(lat);
            return 1;
        }
        lat[i] = t1 - t0;
        if (i == reps - 1) {
            /* the last one: let it settle, then read its RSS */
            tr_buf_t r;
            if (!strcmp(lang, "c")) tr_portal_run(p, "bench", "noop", NULL, 0, &r, NULL, 5000), tr_buf_release(&r);
            usleep(300000);
            rss = rss_kib(tr_portal_pid(p));
        }
        tr_portal_cancel_actor(p, -1);
        tr_portal_release(p);
    }
    tr_nursery_close(n, 0, NULL);
    bn_sort(lat, (size_t)reps);
    char k[96];
    key(k, sizeof k, "rt.spawn.%s.%s.median_ms", lang);
    bn_result(k, (double)bn_pct(lat, (size_t)reps, 50) / 1e6);
    key(k, sizeof k, "rt.spawn.%s.%s.rss_MiB", lang);
    bn_result(k, (double)rss / 1024.0);
    free(lat);
    return 0;
}

static int bench_spawn(void) {
    int rc = bench_spawn_lang("c", 20);
    const char *langs = getenv("BENCH_LANGS");
    if (langs && *langs) {
        char *dup = strdup(langs), *save;
        for (char *t = strtok_r(dup, " ,", &save); t; t = strtok_r(NULL, " ,", &save))
            if (bench_spawn_lang(t, 5)) fprintf(stderr, "bench-rt: %s children unavailable\n", t);
        free(dup);
    }
    return rc;
}

/* ---- a tree of N actors up and down ------------------------------------------ */

static int bench_tree(void) {
    static const int sizes[] = {1, 10, 100};
    for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++) {
        int N = sizes[si];
        int direct = N < 10 ? N : 10; /* fan-out 10: children, then grandchildren */
        int sub = N / direct - 1;
        uint64_t t0 = bn_now_ns();
        tr_nursery_t *n;
        CHECK(tr_nursery_open(g_rt, &n));
        tr_ctx_t *ctx[10];
        tr_portal_t *ps[10];
        for (int i = 0; i < direct; i++) {
            char name[32];
            snprintf(name, sizeof name, "t%d", i);
            ps[i] = spawn_c(n, name);
            uint8_t kw[32];
            size_t kwn = kwargs2(kw, "n", (uint64_t)sub, NULL, 0);
            CHECK(tr_portal_start_context(ps[i], "bench", "subtree", kw, kwn, NULL, &ctx[i]));
        }
        int up = 0;
        for (int i = 0; i < direct; i++) {
            tr_buf_t first;
            CHECK(tr_ctx_wait_started(ctx[i], &first, NULL, 30000));
            up += 1 + (int)bn_mp_read_uint(first.data, first.len);
            tr_buf_release(&first);
        }
        uint64_t t_up = bn_now_ns();
        for (int i = 0; i < direct; i++) tr_portal_release(ps[i]);
        tr_nursery_close(n, 1, NULL); /* cancel everything, wait for every exit */
        for (int i = 0; i < direct; i++) tr_ctx_close(ctx[i], 0);
        uint64_t t1 = bn_now_ns();
        if (up != N) {
            fprintf(stderr, "bench-rt tree: %d of %d actors came up\n", up, N);
            exit(3);
        }
        char lab[16], k[96];
        snprintf(lab, sizeof lab, "%d", N);
        key(k, sizeof k, "rt.tree.%s.%s.up_s", lab);
        bn_result(k, bn_secs(t0, t_up));
        key(k, sizeof k, "rt.tree.%s.%s.total_s", lab);
        bn_result(k, bn_secs(t0, t1));
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 3 || (strcmp(argv[1], "uds") && strcmp(argv[1], "tcp"))) {
        fprintf(stderr, "usage: bench-rt uds|tcp stream|rtt|rpc|scale|spawn|tree\n");
        return 2;
    }
    g_tpt = argv[1];
    g_only = argc > 3 ? argv[3] : NULL;
    if (getenv("BENCH_DIV") && atol(getenv("BENCH_DIV")) > 0) g_div = atol(getenv("BENCH_DIV"));
    open_root();
    int rc = 2;
    const char *what = argv[2];
    if (!strcmp(what, "stream")) rc = bench_stream();
    else if (!strcmp(what, "rtt")) rc = bench_rtt();
    else if (!strcmp(what, "rpc")) rc = bench_rpc();
    else if (!strcmp(what, "scale")) rc = bench_scale();
    else if (!strcmp(what, "spawn")) rc = bench_spawn();
    else if (!strcmp(what, "tree")) rc = bench_tree();
    else fprintf(stderr, "bench-rt: unknown benchmark %s\n", what);
    tr_runtime_close(g_rt);
    return rc;
}
