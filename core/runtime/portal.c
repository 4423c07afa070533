/* Portals: calls, contexts opened on a peer, actor cancellation, connect. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/spawn/spawn.h"

tr_portal_t *tr__portal_new(tr_runtime_t *rt, tr__chan_t *chan, tr__child_t *child) {
    tr_portal_t *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    atomic_init(&p->refs, 1);
    p->rt = rt;
    p->chan = chan;
    tr__chan_retain(chan);
    p->child = child;
    snprintf(p->name, sizeof p->name, "%s", chan->peer.name);
    snprintf(p->uuid, sizeof p->uuid, "%s", chan->peer.uuid);
    return p;
}

static void cmd_close_chan(tr_runtime_t *rt, void *arg) {
    (void)rt;
    tr__chan_t *c = arg;
    tr__chan_close(c, 1, "portal released");
    tr__chan_release(c);
}

void tr__portal_release(tr_portal_t *p) {
    if (!p || atomic_fetch_sub(&p->refs, 1) != 1) return;
    if (p->owns_chan) {
        tr__chan_retain(p->chan);
        tr__post(p->rt, cmd_close_chan, p->chan);
    }
    tr__chan_release(p->chan);
    free(p);
}

const char *tr__portal_name(tr_portal_t *p) { return p ? p->name : NULL; }
const char *tr__portal_uuid(tr_portal_t *p) { return p ? p->uuid : NULL; }
int tr__portal_pid(tr_portal_t *p) {
    if (!p) return 0;
    pthread_mutex_lock(&p->rt->mu);
    int pid = p->child ? p->child->pid : 0;
    pthread_mutex_unlock(&p->rt->mu);
    return pid;
}
int tr__portal_connected(tr_portal_t *p) { return p && tr__chan_alive(p->chan); }

static int is_self(tr_portal_t *p) { return !strcmp(p->uuid, p->rt->aid.uuid); }

int tr__portal_start_call(tr_portal_t *p, const char *ns, const char *func, const void *kwargs,
                         size_t kwargs_len, tr_ctx_t **out) {
    if (!p || !ns || !func || !out) return TR_EINVAL;
    if (kwargs && tr__mp_validate(kwargs, kwargs_len) != 0) return TR_EPROTO;
    if (is_self(p)) return TR_ESELF;
    tr_ctx_t *c = tr__ctx_new(p->rt, p->chan, TR__SIDE_CALLER);
    if (!c) return TR_ENOMEM;
    c->kind = TR_FUNC_ASYNCFUNC;
    int rc = tr__ctx_send_start(c, ns, func, kwargs, kwargs_len);
    if (rc) {
        tr__ctx_release(c);
        return rc;
    }
    *out = c;
    return 0;
}

/* Collect the outcome of a caller ctx into result/err. rt->mu held. */
int tr__ctx_take_outcome(tr_ctx_t *c, tr_buf_t *result, tr_error_t **err) {
    if (c->outcome == TR__OUT_RESULT) {
        if (result) {
            *result = c->res;
            if (c->res._ref) tr__chunk_retain(c->res._ref);
        }
        return 0;
    }
    if (err) *err = tr__error_copy(c->error);
    int code = tr__error_code(c->error);
    return code ? code : TR_EREMOTE;
}

int tr__ctx_wait_for_result(tr_ctx_t *c, tr_buf_t *result, tr_error_t **err, int timeout_ms) {
    if (result) memset(result, 0, sizeof *result);
    if (err) *err = NULL;
    if (!c || c->side != TR__SIDE_CALLER) return TR_EINVAL;
    tr_runtime_t *rt = c->rt;
    uint64_t dl = tr__deadline(timeout_ms);
    pthread_mutex_lock(&rt->mu);
    /* drain: late Yields are discarded */
    int rc = tr__ctx_wait_outcome(c, dl, 1);
    if (rc == 0) {
        rc = tr__ctx_take_outcome(c, result, err);
        tr__ring_clear(&c->q);
        c->q_yields = 0;
    }
    pthread_mutex_unlock(&rt->mu);
    return rc;
}

int tr__ctx_result(tr_ctx_t *c, tr_buf_t *result, tr_error_t **err, int timeout_ms) {
    return tr__ctx_wait_for_result(c, result, err, timeout_ms);
}

int tr__portal_run(tr_portal_t *p, const char *ns, const char *func, const void *kwargs,
                  size_t kwargs_len, tr_buf_t *result, tr_error_t **err, int timeout_ms) {
    if (result) memset(result, 0, sizeof *result);
    if (err) *err = NULL;
    tr_ctx_t *c;
    int rc = tr__portal_start_call(p, ns, func, kwargs, kwargs_len, &c);
    if (rc) return rc;
    rc = tr__ctx_wait_for_result(c, result, err, timeout_ms);
    if (rc == TR_ETIMEDOUT || rc == TR_ECANCELLED || rc == TR_EPROTO) {
        /* abandon the call: ask the callee to stop it */
        extern int tr__ctx_cancel_impl(tr_ctx_t *, const char *, int);
        tr__ctx_cancel_impl(c, rc == TR_ETIMEDOUT ? "caller timed out" : "caller abandoned the call", 1);
    }
    pthread_mutex_lock(&c->rt->mu);
    tr__ctx_table_del(c->rt, c);
    pthread_mutex_unlock(&c->rt->mu);
    tr__ctx_release(c);
    return rc;
}

int tr__portal_wait_for_result(tr_portal_t *p, tr_buf_t *result, tr_error_t **err,
                              int timeout_ms) {
    if (result) memset(result, 0, sizeof *result);
    if (err) *err = NULL;
    if (!p) return TR_EINVAL;
    pthread_mutex_lock(&p->rt->mu);
    tr_ctx_t *c = p->child ? tr__ctx_retain(p->child->ria_ctx) : NULL;
    pthread_mutex_unlock(&p->rt->mu);
    if (!c) return TR_ESTATE; /* not a run_in_actor portal */
    int rc = tr__ctx_wait_for_result(c, result, err, timeout_ms);
    tr__ctx_release(c);
    return rc;
}

int tr__portal_cancel_actor(tr_portal_t *p, int timeout_ms) {
    if (!p) return TR_EINVAL;
    if (!tr__chan_alive(p->chan)) return TR_ETRANSPORT; /* nothing to wait for */
    tr_ctx_t *c = tr__ctx_new(p->rt, p->chan, TR__SIDE_CALLER);
    if (!c) return TR_ENOMEM;
    c->is_cancel_req = 1;
    int rc = tr__ctx_send_start(c, "self", "cancel", NULL, 0);
    if (rc == 0) {
        pthread_mutex_lock(&p->rt->mu);
        rc = tr__ctx_wait_outcome(c, tr__deadline(timeout_ms < 0 ? 500 : timeout_ms), 0);
        if (rc == 0 && c->outcome == TR__OUT_ERROR) rc = tr__error_code(c->error);
        if (rc == TR_EAGAIN) rc = TR_ETIMEDOUT;
        tr__ctx_table_del(p->rt, c);
        pthread_mutex_unlock(&p->rt->mu);
    }
    tr__ctx_release(c);
    return rc;
}

/* ---- connect ------------------------------------------------------------- */

struct connect_op {
    tr__addr_t addr;
    tr__chan_t *chan;
    int status;
    int done;
    char why[200];
    tr_runtime_t *rt;
};

static void on_conn(tr__chan_t *c, int status, const char *why, void *arg) {
    struct connect_op *op = arg;
    pthread_mutex_lock(&op->rt->mu);
    op->status = status;
    if (status) {
        snprintf(op->why, sizeof op->why, "%s", why);
        op->done = 1;
    } else {
        tr__chan_retain(c);
        op->chan = c;
    }
    pthread_cond_broadcast(&op->rt->wait_cond);
    pthread_mutex_unlock(&op->rt->mu);
}

static void cmd_connect(tr_runtime_t *rt, void *arg) {
    struct connect_op *op = arg;
    int rc = tr__chan_connect(&rt->rset, &op->addr, &tr__rt_chan_cbs, rt, &rt->aid, rt->max_frame,
                              rt->hs_timeout_ms, on_conn, op);
    if (rc) {
        pthread_mutex_lock(&rt->mu);
        op->status = rc;
        op->done = 1;
        snprintf(op->why, sizeof op->why, "cannot connect");
        pthread_cond_broadcast(&rt->wait_cond);
        pthread_mutex_unlock(&rt->mu);
    }
}

int tr__portal_connect_addr(tr_runtime_t *rt, const tr__addr_t *a, tr_portal_t **out,
                            int timeout_ms) {
    struct connect_op *op = calloc(1, sizeof *op);
    if (!op) return TR_ENOMEM;
    op->addr = *a;
    op->rt = rt;
    tr__post(rt, cmd_connect, op);
    uint64_t dl = tr__deadline(timeout_ms < 0 ? 10000 : timeout_ms);
    int rc = 0;
    pthread_mutex_lock(&rt->mu);
    while (!op->done && !(op->chan && (op->chan->handshaken || op->chan->closed))) {
        rc = tr__wait(rt, &rt->wait_cond, NULL, dl, 1);
        if (rc) break;
    }
    tr__chan_t *c = op->chan;
    if (!rc && op->status) rc = op->status;
    if (!rc && c && !c->handshaken) rc = TR_ETRANSPORT;
    pthread_mutex_unlock(&rt->mu);
    if (rc == TR_EAGAIN) rc = TR_ETIMEDOUT;
    if (rc) {
        if (c) {
            tr__chan_retain(c);
            tr__post(rt, cmd_close_chan, c);
            tr__chan_release(c);
        }
        /* the op may still be referenced by a pending connect: leak-safe
         * only once done; keep it when not */
        if (op->done || c) free(op);
        return rc;
    }
    tr_portal_t *p = tr__portal_new(rt, c, NULL);
    tr__chan_release(c);
    free(op);
    if (!p) return TR_ENOMEM;
    p->owns_chan = 1;
    *out = p;
    return 0;
}

int tr__portal_connect(tr_runtime_t *rt, const char *addr, tr_portal_t **out, int timeout_ms) {
    if (!rt || !addr || !out) return TR_EINVAL;
    tr__addr_t a;
    char err[200];
    if (tr__addr_parse(addr, &a, err, sizeof err) != 0) {
        TR__LOG(rt, TR_LOG_ERROR, "portal", "%s", err);
        return TR_EADDR;
    }
    return tr__portal_connect_addr(rt, &a, out, timeout_ms);
}
