#define _GNU_SOURCE
/* tractor-demo: the `make demo` job. A root actor supervises a small tree
 * of C workers: it splits a prime count across them (run_in_actor), streams
 * numbers through a bidirectional context, shows a remote error boxed with
 * its origin, cancels a context and tears the tree down cleanly. */
#include <limits.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tractor/tractor.h"

#define NWORKERS 3
#define LIMIT 2000000

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t unpack_int(tr_buf_t *b) {
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    int64_t v = 0;
    if (msgpack_unpack_next(&u, b->data, b->len, NULL) == MSGPACK_UNPACK_SUCCESS)
        v = u.data.type == MSGPACK_OBJECT_NEGATIVE_INTEGER ? u.data.via.i64 : (int64_t)u.data.via.u64;
    msgpack_unpacked_destroy(&u);
    return v;
}

static void fail(const char *what, int rc, tr_error_t *err) {
    fprintf(stderr, "demo: %s failed: %s%s%s\n", what, tr_strerror(rc), err ? ": " : "",
            err ? tr_error_str(err) : "");
    exit(1);
}

/* Point children at the demo module (next to this binary) unless set. */
static void set_module_path(void) {
    if (getenv("TRACTOR_MODULE_PATH")) return;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return;
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (slash) *slash = 0;
    setenv("TRACTOR_MODULE_PATH", exe, 1);
}

int main(void) {
    set_module_path();
    double t0 = now();
    tr_runtime_opts_t o;
    tr_runtime_opts_init(&o);
    o.name = "demo-root";
    o.enable_registrar = 0; /* a self-contained tree: no registry port */
    tr_runtime_t *rt;
    int rc = tr_runtime_open(&o, &rt);
    if (rc) fail("opening the root actor", rc, NULL);
    char addr[256];
    tr_runtime_addr(rt, addr, sizeof addr);
    printf("[demo-root] libtractor %s, listening on %s\n", tr_version(), addr);

    tr_nursery_t *n;
    tr_nursery_open(rt, &n);
    tr_spawn_opts_t so;
    tr_spawn_opts_init(&so);
    so.lang = "c";

    /* 1. run_in_actor: split a prime count across workers */
    printf("[demo-root] counting primes below %d across %d C workers (run_in_actor)\n", LIMIT, NWORKERS);
    tr_portal_t *ria[NWORKERS];
    for (int i = 0; i < NWORKERS; i++) {
        msgpack_sbuffer sb;
        msgpack_packer pk;
        msgpack_sbuffer_init(&sb);
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        msgpack_pack_map(&pk, 2);
        msgpack_pack_str_with_body(&pk, "lo", 2);
        msgpack_pack_int64(&pk, (int64_t)LIMIT * i / NWORKERS);
        msgpack_pack_str_with_body(&pk, "hi", 2);
        msgpack_pack_int64(&pk, (int64_t)LIMIT * (i + 1) / NWORKERS);
        char name[32];
        snprintf(name, sizeof name, "primes-%d", i);
        tr_error_t *err = NULL;
        rc = tr_nursery_run_in_actor(n, name, "demo_worker", "count_primes", sb.data, sb.size, &so,
                                     &ria[i], &err, 10000);
        msgpack_sbuffer_destroy(&sb);
        if (rc) fail("spawning a worker", rc, err);
        printf("[demo-root]   spawned '%s' (pid %d)\n", name, tr_portal_pid(ria[i]));
    }
    int64_t total = 0;
    for (int i = 0; i < NWORKERS; i++) {
        tr_buf_t res;
        tr_error_t *err = NULL;
        rc = tr_portal_wait_for_result(ria[i], &res, &err, 30000);
        if (rc) fail("collecting a result", rc, err);
        int64_t v = unpack_int(&res);
        printf("[demo-root]   '%s' found %lld primes\n", tr_portal_name(ria[i]), (long long)v);
        total += v;
        tr_buf_release(&res);
        tr_portal_release(ria[i]);
    }
    printf("[demo-root] => %lld primes below %d\n", (long long)total, LIMIT);

    /* 2. a daemon serving a bidirectional streaming context */
    so.enable_modules = "demo_worker";
    tr_portal_t *sq;
    tr_error_t *err = NULL;
    if ((rc = tr_nursery_start_actor(n, "squarer", &so, &sq, &err, 10000))) fail("start_actor", rc, err);
    printf("[demo-root] started daemon 'squarer' (pid %d); opening a streaming context\n", tr_portal_pid(sq));
    tr_ctx_t *ctx;
    tr_buf_t first;
    if ((rc = tr_portal_open_context(sq, "demo_worker", "squares", NULL, 0, NULL, &ctx, &first, &err, 5000)))
        fail("open_context", rc, err);
    printf("[demo-root]   'squarer' started: %.*s\n", (int)first.len - 1, (const char *)first.data + 1);
    tr_buf_release(&first);
    tr_stream_t *s;
    tr_ctx_open_stream(ctx, &s);
    printf("[demo-root]   streaming:");
    for (int64_t x = 1; x <= 8; x++) {
        char b[16];
        msgpack_sbuffer sb = {0};
        msgpack_packer pk;
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        msgpack_pack_int64(&pk, x);
        tr_stream_send(s, sb.data, sb.size, NULL);
        msgpack_sbuffer_destroy(&sb);
        tr_buf_t r;
        if ((rc = tr_stream_recv(s, &r, &err, 5000))) fail("stream receive", rc, err);
        snprintf(b, sizeof b, " %lld->%lld", (long long)x, (long long)unpack_int(&r));
        fputs(b, stdout);
        tr_buf_release(&r);
    }
    printf("\n");
    tr_stream_close(s);
    tr_buf_t res;
    if ((rc = tr_ctx_wait_for_result(ctx, &res, &err, 5000))) fail("context result", rc, err);
    printf("[demo-root]   stream closed; 'squarer' returned %lld (values squared)\n", (long long)unpack_int(&res));
    tr_buf_release(&res);
    tr_stream_release(s);
    tr_ctx_close(ctx, 0);

    /* 3. a remote error, boxed with where it came from */
    rc = tr_portal_run(sq, "demo_worker", "explode", NULL, 0, &res, &err, 5000);
    printf("[demo-root] calling 'explode' on 'squarer' -> %s: %s\n", tr_err_name(rc), err ? tr_error_str(err) : "?");
    tr_error_free(err);
    err = NULL;

    /* 4. cancelling a context: the callee's task ends, the cancel is ours */
    if ((rc = tr_portal_open_context(sq, "demo_worker", "wait_forever", NULL, 0, NULL, &ctx, NULL, &err, 5000)))
        fail("open_context", rc, err);
    tr_ctx_cancel(ctx, "the demo is done waiting");
    rc = tr_ctx_wait_for_result(ctx, &res, &err, 5000);
    const char *cn = NULL;
    tr_ctx_canceller(ctx, &cn, NULL);
    printf("[demo-root] cancelled context 'wait_forever' -> %s, canceller '%s', acked=%d\n", tr_err_name(rc),
           cn ? cn : "?", tr_ctx_cancel_acked(ctx));
    tr_error_free(err);
    tr_ctx_close(ctx, 0);

    /* 5. teardown */
    rc = tr_portal_cancel_actor(sq, -1);
    printf("[demo-root] cancel_actor('squarer') -> %s\n", rc ? tr_err_name(rc) : "acked");
    tr_portal_release(sq);
    rc = tr_nursery_close(n, 0, &err);
    if (rc) fail("closing the nursery", rc, err);
    tr_runtime_close(rt);
    printf("[demo-root] tree torn down cleanly in %.2f s; no actor left running\n", now() - t0);
    return 0;
}
