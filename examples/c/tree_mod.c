/* tree_mod: served by the actors of nested_actor_tree.
 *   compute_square(x)               -> x * x (in a leaf)
 *   fan_out_squares(vals) (context) -> spawns leaf_1 and leaf_2,
 *                                      started([their names]), sends each
 *                                      value to one of them (a thread per
 *                                      call), returns the squares */
#include <pthread.h>

#include "ex_util.h"

#define TIMEOUT 30000

static int compute_square(tr_ctx_t *ctx, void *ud) {
    (void)ud;
    ex_obj_t kw;
    int64_t x = ex_as_int(tr_mp_map_get(ex_kwargs(&kw, ctx), "x"));
    ex_obj_free(&kw);
    printf("%s: squaring %lld\n", tr_runtime_name(tr_ctx_runtime(ctx)), (long long)x);
    fflush(stdout);
    return ex_return_int(ctx, x * x);
}

typedef struct {
    tr_portal_t *leaf;
    int64_t x, square;
    int rc;
} job_t;

static void *run_in_leaf(void *arg) {
    job_t *j = arg;
    ex_pack_t kw;
    ex_pack_init(&kw);
    msgpack_pack_map(&kw.pk, 1);
    tr_mp_pack_kv_int(&kw.pk, "x", j->x);
    tr_buf_t res;
    j->rc = tr_portal_run(j->leaf, "tree_mod", "compute_square", kw.sb.data, kw.sb.size, &res, NULL, TIMEOUT);
    ex_pack_free(&kw);
    if (!j->rc) {
        j->square = ex_buf_int(&res);
        tr_buf_release(&res);
    }
    return NULL;
}

static int fan_out_squares(tr_ctx_t *ctx, void *ud) {
    (void)ud;
    ex_obj_t kw;
    const msgpack_object *vals = tr_mp_map_get(ex_kwargs(&kw, ctx), "vals");
    uint32_t nv = vals && vals->type == MSGPACK_OBJECT_ARRAY ? vals->via.array.size : 0;
    job_t *jobs = calloc(nv ? nv : 1, sizeof *jobs);
    for (uint32_t i = 0; i < nv; i++) jobs[i].x = ex_as_int(&vals->via.array.ptr[i]);
    ex_obj_free(&kw);

    tr_nursery_t *n;
    int rc = tr_nursery_open(tr_ctx_runtime(ctx), &n);
    if (rc) {
        free(jobs);
        return rc;
    }
    tr_spawn_opts_t so;
    tr_spawn_opts_init(&so);
    so.enable_modules = "tree_mod";
    tr_portal_t *leaves[2] = {NULL, NULL};
    ex_pack_t p;
    ex_pack_init(&p);
    for (int i = 0; i < 2 && !rc; i++) {
        char name[16];
        snprintf(name, sizeof name, "leaf_%d", i + 1);
        rc = tr_nursery_start_actor(n, name, &so, &leaves[i], NULL, TIMEOUT);
    }
    if (!rc) {
        msgpack_pack_array(&p.pk, 2);
        ex_str(&p, tr_portal_name(leaves[0]));
        ex_str(&p, tr_portal_name(leaves[1]));
        rc = tr_ctx_started(ctx, p.sb.data, p.sb.size);
    }
    if (!rc) {
        pthread_t *th = calloc(nv ? nv : 1, sizeof *th);
        for (uint32_t i = 0; i < nv; i++) {
            jobs[i].leaf = leaves[i % 2];
            pthread_create(&th[i], NULL, run_in_leaf, &jobs[i]);
        }
        for (uint32_t i = 0; i < nv; i++) {
            pthread_join(th[i], NULL);
            if (jobs[i].rc && !rc) rc = jobs[i].rc;
        }
        free(th);
    }
    for (int i = 0; i < 2; i++) /* inside-out: the leaves go first */
        if (leaves[i]) {
            printf("supervisor: cancelling %s\n", tr_portal_name(leaves[i]));
            fflush(stdout);
            tr_portal_cancel_actor(leaves[i], -1);
            tr_portal_release(leaves[i]);
        }
    tr_nursery_close(n, rc != 0, NULL);
    if (!rc) {
        ex_pack_reset(&p);
        msgpack_pack_array(&p.pk, nv);
        for (uint32_t i = 0; i < nv; i++) ex_int(&p, jobs[i].square);
        rc = tr_ctx_set_result(ctx, p.sb.data, p.sb.size);
    }
    ex_pack_free(&p);
    free(jobs);
    return rc;
}

int tr_module_init_tree_mod(tr_runtime_t *rt) {
    int rc = tr_register_func(rt, "tree_mod", "compute_square", TR_FUNC_ASYNCFUNC, compute_square, NULL, NULL);
    if (!rc) rc = tr_register_func(rt, "tree_mod", "fan_out_squares", TR_FUNC_CONTEXT, fan_out_squares, NULL, NULL);
    return rc;
}
