/* streamers_mod: served by the actors of full_fledged_streaming_service.
 *   stream_data(seed) (context) -> streams 0 .. seed-1, returns seed
 *   aggregate(seed) (context)   -> spawns two streamers, reads both streams
 *                                  at once (a thread each) and streams every
 *                                  value on once; returns how many */
#include <pthread.h>

#include "ex_util.h"

#define TIMEOUT 30000

static int stream_data(tr_ctx_t *ctx, void *ud) {
    (void)ud;
    ex_obj_t kw;
    int64_t seed = ex_as_int(tr_mp_map_get(ex_kwargs(&kw, ctx), "seed"));
    ex_obj_free(&kw);
    int rc = tr_ctx_started(ctx, NULL, 0);
    if (rc) return rc;
    tr_stream_t *s;
    if ((rc = tr_ctx_open_stream(ctx, &s))) return rc;
    ex_pack_t p;
    ex_pack_init(&p);
    for (int64_t i = 0; i < seed && !rc; i++) {
        ex_pack_reset(&p);
        ex_int(&p, i);
        rc = tr_stream_send(s, p.sb.data, p.sb.size, NULL);
    }
    ex_pack_free(&p);
    tr_stream_close(s); /* Stop: the reader's loop ends */
    tr_stream_release(s);
    return rc ? rc : ex_return_int(ctx, seed);
}

/* one reader thread per streamer */
typedef struct {
    tr_portal_t *portal;
    tr_stream_t *out;
    int64_t seed;
    pthread_mutex_t *mu;
    unsigned char *seen;
    int64_t *unique;
    int rc;
} reader_t;

static void *push(void *arg) {
    reader_t *r = arg;
    ex_pack_t kw;
    ex_pack_init(&kw);
    msgpack_pack_map(&kw.pk, 1);
    tr_mp_pack_kv_int(&kw.pk, "seed", r->seed);
    tr_ctx_opts_t o;
    tr_ctx_opts_init(&o);
    o.allow_overruns = 1; /* let values queue while we pass them on */
    tr_ctx_t *ctx;
    r->rc = tr_portal_open_context(r->portal, "streamers_mod", "stream_data", kw.sb.data, kw.sb.size, &o, &ctx,
                                   NULL, NULL, TIMEOUT);
    ex_pack_free(&kw);
    if (r->rc) return NULL;
    tr_stream_t *s;
    tr_ctx_open_stream(ctx, &s);
    tr_buf_t b;
    int rc;
    while ((rc = tr_stream_recv(s, &b, NULL, TIMEOUT)) == 0) {
        int64_t v = ex_buf_int(&b);
        pthread_mutex_lock(r->mu);
        int fresh = v >= 0 && v < r->seed && !r->seen[v];
        if (fresh) {
            r->seen[v] = 1;
            (*r->unique)++;
        }
        pthread_mutex_unlock(r->mu);
        if (fresh) tr_stream_send(r->out, b.data, b.len, NULL);
        tr_buf_release(&b);
    }
    r->rc = rc == TR_EEOC ? 0 : rc;
    tr_stream_release(s);
    tr_ctx_close(ctx, 0);
    printf("FINISHED ITERATING %s\n", tr_portal_name(r->portal));
    return NULL;
}

static int aggregate(tr_ctx_t *ctx, void *ud) {
    (void)ud;
    ex_obj_t kw;
    int64_t seed = ex_as_int(tr_mp_map_get(ex_kwargs(&kw, ctx), "seed"));
    ex_obj_free(&kw);
    tr_nursery_t *n;
    int rc = tr_nursery_open(tr_ctx_runtime(ctx), &n);
    if (rc) return rc;
    tr_spawn_opts_t so;
    tr_spawn_opts_init(&so);
    so.enable_modules = "streamers_mod";
    reader_t r[2];
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    unsigned char *seen = calloc((size_t)seed + 1, 1);
    int64_t unique = 0;
    tr_stream_t *out = NULL;
    for (int i = 0; i < 2; i++) r[i] = (reader_t){NULL, NULL, seed, &mu, seen, &unique, 0};
    for (int i = 0; i < 2; i++) {
        char name[32];
        snprintf(name, sizeof name, "streamer_%d", i + 1);
        if ((rc = tr_nursery_start_actor(n, name, &so, &r[i].portal, NULL, TIMEOUT))) goto done;
    }
    if ((rc = tr_ctx_started(ctx, NULL, 0)) || (rc = tr_ctx_open_stream(ctx, &out))) goto done;
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        r[i].out = out;
        pthread_create(&th[i], NULL, push, &r[i]);
    }
    for (int i = 0; i < 2; i++) pthread_join(th[i], NULL);
    rc = r[0].rc ? r[0].rc : r[1].rc;
    printf("FINISHED ITERATING in aggregator\n");
    tr_stream_close(out);
    tr_stream_release(out);
done:
    for (int i = 0; i < 2; i++)
        if (r[i].portal) {
            tr_portal_cancel_actor(r[i].portal, -1);
            tr_portal_release(r[i].portal);
        }
    tr_nursery_close(n, rc != 0, NULL);
    free(seen);
    return rc ? rc : ex_return_int(ctx, unique);
}

int tr_module_init_streamers_mod(tr_runtime_t *rt) {
    int rc = tr_register_func(rt, "streamers_mod", "stream_data", TR_FUNC_CONTEXT, stream_data, NULL, NULL);
    if (!rc) rc = tr_register_func(rt, "streamers_mod", "aggregate", TR_FUNC_CONTEXT, aggregate, NULL, NULL);
    return rc;
}
