/* Served tasks: a pool of worker threads (default) or a queue the host
 * drains (TR_TASKS_HOST, for Lua coroutines). */
#include <stdlib.h>
#include <string.h>

#include "core/runtime/rt.h"

_Thread_local tr_ctx_t *tr__current_task;

#define TR__MAX_IDLE_WORKERS 16
#define TR__WORKER_STACK (1024 * 1024)

static int taskq_push(tr_runtime_t *rt, tr_ctx_t *c) {
    if (rt->taskq_len == rt->taskq_cap) {
        size_t ncap = rt->taskq_cap ? rt->taskq_cap * 2 : 32;
        tr_ctx_t **nv = realloc(rt->taskq, ncap * sizeof *nv);
        if (!nv) return -1;
        rt->taskq = nv;
        rt->taskq_cap = ncap;
    }
    rt->taskq[rt->taskq_len++] = c;
    return 0;
}

static tr_ctx_t *taskq_pop(tr_runtime_t *rt) {
    if (!rt->taskq_len) return NULL;
    tr_ctx_t *c = rt->taskq[0];
    memmove(rt->taskq, rt->taskq + 1, (rt->taskq_len - 1) * sizeof *rt->taskq);
    rt->taskq_len--;
    return c;
}

static void run_task(tr_runtime_t *rt, tr_ctx_t *c) {
    tr__current_task = c;
    int rc;
    pthread_mutex_lock(&rt->mu);
    int pre_cancelled = c->local_cancelled;
    pthread_mutex_unlock(&rt->mu);
    rc = pre_cancelled ? TR_ECANCELLED : c->fn(c, c->ud);
    tr__current_task = NULL;
    tr__ctx_finish(c, rc);
}

static void *worker_main(void *arg) {
    tr_runtime_t *rt = arg;
    pthread_mutex_lock(&rt->mu);
    for (;;) {
        tr_ctx_t *c = taskq_pop(rt);
        if (c) {
            pthread_mutex_unlock(&rt->mu);
            run_task(rt, c);
            tr__ctx_release(c);
            pthread_mutex_lock(&rt->mu);
            continue;
        }
        if (rt->pool_shutdown || rt->idle_workers >= TR__MAX_IDLE_WORKERS) break;
        rt->idle_workers++;
        pthread_cond_wait(&rt->pool_cond, &rt->mu);
        rt->idle_workers--;
        if (rt->wakes_pending > 0) rt->wakes_pending--;
    }
    rt->n_workers--;
    pthread_cond_broadcast(&rt->tasks_cond);
    pthread_mutex_unlock(&rt->mu);
    return NULL;
}

/* rt->mu held; takes a reference on c for the task. */
void tr__task_submit(tr_runtime_t *rt, tr_ctx_t *c) {
    tr__ctx_retain(c);
    rt->running_tasks++;
    if (taskq_push(rt, c) != 0) {
        rt->running_tasks--;
        tr__ctx_release(c);
        return;
    }
    if (rt->task_mode == TR_TASKS_HOST) {
        tr__signal_fd(rt);
        pthread_cond_broadcast(&rt->wait_cond);
        return;
    }
    /* an idle worker already signalled for an earlier task is not free:
     * without this, two tasks submitted back to back could share one
     * worker and run one after the other */
    if (rt->idle_workers > rt->wakes_pending) {
        rt->wakes_pending++;
        pthread_cond_signal(&rt->pool_cond);
        return;
    }
    pthread_t th;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&at, TR__WORKER_STACK);
    if (pthread_create(&th, &at, worker_main, rt) == 0) rt->n_workers++;
    pthread_attr_destroy(&at);
}

int tr__ctx_finish(tr_ctx_t *c, int rc) {
    if (!c || c->side != TR__SIDE_CALLEE) return TR_EINVAL;
    tr_runtime_t *rt = c->rt;
    pthread_mutex_lock(&rt->mu);
    int already = c->finished;
    pthread_mutex_unlock(&rt->mu);
    if (already) return TR_ESTATE;
    tr__ctx_task_done(c, rc);
    pthread_mutex_lock(&rt->mu);
    rt->running_tasks--;
    if (rt->running_tasks == 0) {
        /* a pending self.cancel waits for every task: ack it now */
        tr__pending_ack_t *acks = rt->cancel_acks;
        rt->cancel_acks = NULL;
        pthread_mutex_unlock(&rt->mu);
        tr__pending_acks_send(acks);
        pthread_mutex_lock(&rt->mu);
        pthread_cond_broadcast(&rt->wait_cond);
    }
    pthread_cond_broadcast(&rt->tasks_cond);
    pthread_mutex_unlock(&rt->mu);
    return 0;
}

int tr__runtime_next_task(tr_runtime_t *rt, tr_ctx_t **out, int timeout_ms) {
    if (!rt || !out) return TR_EINVAL;
    if (rt->task_mode != TR_TASKS_HOST) return TR_ESTATE;
    uint64_t dl = tr__deadline(timeout_ms);
    pthread_mutex_lock(&rt->mu);
    for (;;) {
        tr_ctx_t *c = taskq_pop(rt);
        if (c) {
            pthread_mutex_unlock(&rt->mu);
            *out = c;
            return 0;
        }
        int rc = tr__wait(rt, &rt->wait_cond, NULL, dl, 0);
        if (rc) {
            pthread_mutex_unlock(&rt->mu);
            return rc;
        }
    }
}

void tr__tasks_shutdown(tr_runtime_t *rt) {
    pthread_mutex_lock(&rt->mu);
    rt->pool_shutdown = 1;
    pthread_cond_broadcast(&rt->pool_cond);
    uint64_t dl = tr__now_ns() + 2000000000ull; /* stuck tasks: give up */
    while (rt->n_workers > 0) {
        if (tr__wait(rt, &rt->tasks_cond, NULL, dl, 0) == TR_ETIMEDOUT) break;
    }
    pthread_mutex_unlock(&rt->mu);
}
