/* A fan-in streaming service: an aggregator actor spawns two streamers,
 * reads both of their streams at once and streams the unique values on to
 * the root.
 *
 * Port of tractor's examples/full_fledged_streaming_service.py; the actors
 * serve streamers_mod.c (the aggregator reads with a thread per stream).
 *   build/examples/c/full_fledged_streaming_service */
#include <time.h>

#include "ex_util.h"

#define SEED 1000

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    tr_runtime_t *rt = ex_open_root("root", NULL, 0);
    double pre_start = now();
    tr_nursery_t *n;
    EX_CHECK(tr_nursery_open(rt, &n), "open_nursery");
    tr_spawn_opts_t so;
    tr_spawn_opts_init(&so);
    so.enable_modules = "streamers_mod";
    tr_portal_t *p;
    tr_error_t *err = NULL;
    int rc = tr_nursery_start_actor(n, "aggregator", &so, &p, &err, 10000);
    if (rc) ex_die("start_actor", rc, err);

    ex_pack_t kw;
    ex_pack_init(&kw);
    msgpack_pack_map(&kw.pk, 1);
    tr_mp_pack_kv_int(&kw.pk, "seed", SEED);
    tr_ctx_opts_t o;
    tr_ctx_opts_init(&o);
    o.allow_overruns = 1;
    tr_ctx_t *ctx;
    rc = tr_portal_open_context(p, "streamers_mod", "aggregate", kw.sb.data, kw.sb.size, &o, &ctx, NULL, &err,
                                30000);
    ex_pack_free(&kw);
    if (rc) ex_die("open_context", rc, err);
    double start = now();
    tr_stream_t *s;
    EX_CHECK(tr_ctx_open_stream(ctx, &s), "open_stream");
    static unsigned char got[SEED];
    int count = 0;
    tr_buf_t b;
    while ((rc = tr_stream_recv(s, &b, &err, 30000)) == 0) {
        int64_t v = ex_buf_int(&b);
        if (v >= 0 && v < SEED && !got[v]) got[v] = 1, count++;
        tr_buf_release(&b);
    }
    if (rc != TR_EEOC) ex_die("receiving", rc, err);
    tr_buf_t res;
    if ((rc = tr_ctx_wait_for_result(ctx, &res, &err, 30000))) ex_die("the result", rc, err);
    int64_t unique = ex_buf_int(&res);
    tr_buf_release(&res);
    tr_stream_release(s);
    tr_ctx_close(ctx, 0);
    if (tr_portal_cancel_actor(p, -1) != 0) return 1;
    tr_portal_release(p);
    if (tr_nursery_close(n, 0, &err)) ex_die("closing the nursery", TR_EREMOTE, err);
    printf("STREAM TIME = %.3f s\nSTREAM + SPAWN TIME = %.3f s\n", now() - start, now() - pre_start);
    printf("received %d distinct values of %d; the aggregator counted %lld\n", count, SEED, (long long)unique);
    tr_runtime_close(rt);
    return count == SEED && unique == SEED && !ex_children_left() ? 0 : 1;
}
