/* Contexts: the per-cid state both sides keep, message delivery from the
 * I/O thread, and the callee's final reply. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/runtime/rt.h"

/* ---- ring ---------------------------------------------------------------- */

/* cap is 0 or a power of two: indexes wrap with a mask, not a division */
static int ring_push(tr__ring_t *r, tr__qent_t e) {
    if (r->len == r->cap) {
        size_t ncap = r->cap ? r->cap * 2 : 16;
        tr__qent_t *nv = malloc(ncap * sizeof *nv);
        if (!nv) return -1;
        size_t first = r->cap - r->head; /* entries before the wrap */
        if (first > r->len) first = r->len;
        if (r->len) {
            memcpy(nv, r->v + r->head, first * sizeof *nv);
            memcpy(nv + first, r->v, (r->len - first) * sizeof *nv);
        }
        free(r->v);
        r->v = nv;
        r->cap = ncap;
        r->head = 0;
    }
    r->v[(r->head + r->len) & (r->cap - 1)] = e;
    r->len++;
    return 0;
}

int tr__ring_push(tr__ring_t *r, tr__qent_t e) { return ring_push(r, e); }

int tr__ring_pop(tr__ring_t *r, tr__qent_t *e) {
    if (!r->len) return -1;
    *e = r->v[r->head];
    r->head = (r->head + 1) & (r->cap - 1);
    r->len--;
    return 0;
}

void tr__ring_clear(tr__ring_t *r) {
    tr__qent_t e;
    while (tr__ring_pop(r, &e) == 0) tr__chunk_release(e.chunk);
}

/* ---- lifetime -------------------------------------------------------------- */

tr_ctx_t *tr__ctx_new(tr_runtime_t *rt, tr__chan_t *chan, int side) {
    tr_ctx_t *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    atomic_init(&c->refs, 1);
    c->rt = rt;
    c->chan = chan;
    if (chan) {
        tr__chan_retain(chan);
        snprintf(c->peer_name, sizeof c->peer_name, "%s", chan->peer.name);
        snprintf(c->peer_uuid, sizeof c->peer_uuid, "%s", chan->peer.uuid);
    }
    c->side = side;
    c->bufsize = TR__DEFAULT_BUFSIZE;
    pthread_cond_init(&c->cond, &rt->cattr);
    tr__wbuf_init(&c->result);
    return c;
}

tr_ctx_t *tr__ctx_retain(tr_ctx_t *c) {
    if (c) atomic_fetch_add(&c->refs, 1);
    return c;
}

static void pending_acks_free(tr__pending_ack_t *a) {
    while (a) {
        tr__pending_ack_t *n = a->next;
        tr__chan_release(a->chan);
        free(a);
        a = n;
    }
}

void tr__pending_ack_push(tr__pending_ack_t **list, tr__chan_t *chan, const char *cid) {
    tr__pending_ack_t *a = calloc(1, sizeof *a);
    if (!a) return;
    tr__chan_retain(chan);
    a->chan = chan;
    snprintf(a->cid, sizeof a->cid, "%s", cid);
    a->next = *list;
    *list = a;
}

void tr__pending_acks_send(tr__pending_ack_t *acks) {
    for (tr__pending_ack_t *a = acks; a; a = a->next)
        tr__send_simple(a->chan, a->cid, TR__MSG_CANCELACK, (tr__str_t){0}, 1);
    pending_acks_free(acks);
}

void tr__ctx_release(tr_ctx_t *c) {
    if (!c || atomic_fetch_sub(&c->refs, 1) != 1) return;
    tr__ring_clear(&c->q);
    free(c->q.v);
    tr__buf_release(&c->first);
    tr__buf_release(&c->res);
    tr__error_free(c->error);
    tr__error_free(c->relay_err);
    free(c->ns);
    free(c->func);
    free(c->kwargs);
    free(c->err_type);
    free(c->err_msg);
    free(c->err_tb);
    free(c->cancel_reason);
    tr__wbuf_free(&c->result);
    tr__pldspec_free(c->spec);
    pending_acks_free(c->acks);
    pthread_cond_destroy(&c->cond);
    if (c->chan) tr__chan_release(c->chan);
    free(c);
}

/* ---- tables ---------------------------------------------------------------- */

static unsigned hash_cid(tr__str_t s) {
    unsigned h = 2166136261u;
    for (size_t i = 0; i < s.n; i++) h = (h ^ (uint8_t)s.p[i]) * 16777619u;
    return h % TR__CTX_BUCKETS;
}

static tr_ctx_t **bucket(tr_runtime_t *rt, int side, tr__str_t cid) {
    return side == TR__SIDE_CALLER ? &rt->callers[hash_cid(cid)]
                                   : &rt->callees[hash_cid(cid)];
}

void tr__ctx_table_add(tr_runtime_t *rt, tr_ctx_t *c) {
    tr_ctx_t **b = bucket(rt, c->side, tr__cstr(c->cid));
    tr__ctx_retain(c);
    c->next = *b;
    *b = c;
    c->in_table = 1;
    rt->route_last = NULL;
}

void tr__ctx_table_del(tr_runtime_t *rt, tr_ctx_t *c) {
    if (!c->in_table) return;
    rt->route_last = NULL;
    tr_ctx_t **b = bucket(rt, c->side, tr__cstr(c->cid));
    for (; *b; b = &(*b)->next) {
        if (*b == c) {
            *b = c->next;
            c->in_table = 0;
            tr__ctx_release(c);
            return;
        }
    }
}

tr_ctx_t *tr__ctx_lookup(tr_runtime_t *rt, int side, tr__str_t cid) {
    for (tr_ctx_t *c = *bucket(rt, side, cid); c; c = c->next)
        if (tr__str_eq(cid, c->cid)) return c;
    return NULL;
}

/* ---- sending helpers ------------------------------------------------------- */

struct start_arg {
    tr_ctx_t *c;
    const void *kw;
    size_t kwlen;
};
static void enc_start(tr__wbuf_t *b, void *arg) {
    struct start_arg *s = arg;
    tr_runtime_t *rt = s->c->rt;
    tr__uid_t uid = {tr__cstr(rt->aid.name), tr__cstr(rt->aid.uuid)};
    tr__enc_start(b, tr__cstr(s->c->cid), tr__cstr(s->c->ns), tr__cstr(s->c->func),
                  (tr__str_t){s->kw, s->kw ? s->kwlen : 0}, uid, (tr__str_t){NULL, 0});
}

int tr__ctx_send_start(tr_ctx_t *c, const char *ns, const char *func,
                       const void *kw, size_t kwlen) {
    tr_runtime_t *rt = c->rt;
    tr__uuid4(c->cid);
    c->ns = tr__strdup(ns);
    c->func = tr__strdup(func);
    pthread_mutex_lock(&rt->mu);
    tr__ctx_table_add(rt, c);
    pthread_mutex_unlock(&rt->mu);
    struct start_arg a = {c, kw, kwlen};
    int rc = tr__chan_send_enc(c->chan, enc_start, &a);
    if (rc) {
        pthread_mutex_lock(&rt->mu);
        tr__ctx_table_del(rt, c);
        pthread_mutex_unlock(&rt->mu);
    }
    return rc;
}

struct cid_arg {
    const char *cid;
    int type;
    tr__str_t pld;
    int flag;
};
static void enc_simple(tr__wbuf_t *b, void *arg) {
    struct cid_arg *a = arg;
    tr__str_t cid = tr__cstr(a->cid);
    switch (a->type) {
    case TR__MSG_STOP: tr__enc_stop(b, cid); break;
    case TR__MSG_CANCELACK: tr__enc_cancelack(b, cid, a->flag); break;
    case TR__MSG_STARTACK: tr__enc_startack(b, cid, a->pld); break;
    default: tr__enc_payload(b, (tr__msg_type_t)a->type, cid, a->pld); break;
    }
}

int tr__send_simple(tr__chan_t *chan, const char *cid, int type, tr__str_t pld,
                    int flag) {
    struct cid_arg a = {cid, type, pld, flag};
    return tr__chan_send_enc(chan, enc_simple, &a);
}

struct err_arg {
    tr__error_fields_t f;
};
static void enc_err(tr__wbuf_t *b, void *arg) { tr__enc_error(b, &((struct err_arg *)arg)->f); }

int tr__send_error_full(tr_runtime_t *rt, tr__chan_t *chan, const char *cid,
                        const char *type, const char *msg, const char *tb,
                        const tr__uid_t *canceller, const tr__uid_t *sender,
                        const tr_error_t *relay) {
    struct err_arg a;
    memset(&a, 0, sizeof a);
    tr__uid_t self = {tr__cstr(rt->aid.name), tr__cstr(rt->aid.uuid)};
    tr__uid_t *path = NULL;
    tr__str_t cids = tr__cstr(cid);
    if (relay) {
        /* inception: keep the origin, box as RemoteActorError, extend path */
        a.f.src_uid = (tr__uid_t){tr__cstr(relay->src_name), tr__cstr(relay->src_uuid)};
        a.f.src_type_str = tr__cstr(relay->src_type);
        a.f.boxed_type_str = TR__STR("RemoteActorError");
        path = calloc(relay->n_relay + 1, sizeof *path);
        if (!path) return TR_ENOMEM;
        for (size_t i = 0; i < relay->n_relay; i++)
            path[i] = (tr__uid_t){tr__cstr(relay->relay_name[i]), tr__cstr(relay->relay_uuid[i])};
        path[relay->n_relay] = self;
        a.f.relay = path;
        a.f.n_relay = relay->n_relay + 1;
        a.f.has_message = 1;
        a.f.message = tr__cstr(relay->message ? relay->message : "");
        a.f.tb_str = tr__cstr(relay->tb ? relay->tb : "");
    } else {
        a.f.src_uid = self;
        a.f.src_type_str = tr__cstr(type);
        a.f.boxed_type_str = tr__cstr(type);
        a.f.relay = &self;
        a.f.n_relay = 1;
        a.f.has_message = msg != NULL;
        a.f.message = tr__cstr(msg);
        a.f.tb_str = tr__cstr(tb ? tb : "");
        a.f.canceller = canceller;
        a.f.sender = sender;
    }
    a.f.cid = cid ? &cids : NULL;
    int rc = tr__chan_send_enc(chan, enc_err, &a);
    free(path);
    return rc;
}

int tr__send_error(tr_runtime_t *rt, tr__chan_t *chan, const char *cid,
                   const char *type, const char *msg, const char *tb) {
    return tr__send_error_full(rt, chan, cid, type, msg, tb, NULL, NULL, NULL);
}

/* ---- delivery (I/O thread, rt->mu held) --------------------------------- */

static void wake_ctx(tr_ctx_t *c) {
    tr__ctx_wake_waiters(c);
    tr__signal_fd(c->rt);
}

/* Stream deliveries of one read batch wake each context once, when the
 * batch ends, instead of once per message. The batch belongs to the thread
 * reading the channel: the I/O thread, or a leader (tr__wait_ctx). */
#define TR__DEFER_MAX 128
static _Thread_local struct {
    int depth;
    size_t n;
    tr_ctx_t *v[TR__DEFER_MAX];
} batch;

/* A stream message was queued: wake the reader, or (in a read batch) note
 * it and wake it once when the batch ends. */
static void wake_stream(tr_ctx_t *c) {
    if (batch.depth) {
        if (c->wake_deferred) return;
        if (batch.n < TR__DEFER_MAX) {
            c->wake_deferred = 1;
            batch.v[batch.n++] = tr__ctx_retain(c);
            return;
        }
    }
    wake_ctx(c);
}

void tr__ctx_batch(tr_runtime_t *rt, int begin) {
    if (begin) {
        batch.depth++;
        return;
    }
    if (--batch.depth) return;
    size_t n = batch.n;
    if (!n) return;
    batch.n = 0;
    /* who waits is known under the lock; the broadcasts come after it, so a
     * woken reader does not block at once on the rt->mu we still hold */
    pthread_mutex_lock(&rt->mu);
    for (size_t i = 0; i < n; i++) {
        tr_ctx_t *c = batch.v[i];
        c->wake_deferred = c->waiters ? 2 : 1;
        /* a leader that filled its own context learns it here (it is the
         * reading thread: this only sets its flag) */
        tr__ctx_wake_leader(c);
    }
    pthread_mutex_unlock(&rt->mu);
    for (size_t i = 0; i < n; i++) {
        tr_ctx_t *c = batch.v[i];
        if (c->wake_deferred == 2) pthread_cond_broadcast(&c->cond);
        c->wake_deferred = 0;
        tr__ctx_release(c);
    }
    tr__signal_fd(rt);
}

static void set_outcome_error(tr_ctx_t *c, tr_error_t *e) {
    if (c->outcome == TR__OUT_NONE) {
        c->outcome = TR__OUT_ERROR;
        c->error = e;
    } else {
        tr__error_free(e); /* never mask the first outcome */
    }
}

static void fanout_subs(tr_ctx_t *c, const tr__qent_t *e) {
    for (tr_stream_t *s = c->subs; s; s = s->next_sub) {
        if (s->closed) continue;
        if (e->type == TR__MSG_YIELD && s->ring.len >= (size_t)c->bufsize) {
            tr__qent_t old; /* lagging: drop the oldest, report once */
            if (tr__ring_pop(&s->ring, &old) == 0) tr__chunk_release(old.chunk);
            s->lagged = 1;
        }
        tr__chunk_retain(e->chunk);
        if (ring_push(&s->ring, *e) != 0) tr__chunk_release(e->chunk);
    }
}

static void deliver_stream_msg(tr_ctx_t *c, const tr__msg_t *m, tr__chunk_t *chunk) {
    tr_runtime_t *rt = c->rt;
    tr__qent_t e = {m->type == TR__MSG_YIELD ? TR__MSG_YIELD : TR__MSG_STOP,
                    m->type == TR__MSG_YIELD ? m->u.pld : (tr__str_t){NULL, 0}, chunk};
    if (e.type == TR__MSG_STOP) c->peer_stopped = 1;
    if (c->subs) {
        fanout_subs(c, &e);
        /* the original stream is one more broadcast consumer: bounded, a
         * lagging one skips the oldest and is told once (tractor's Lagged) */
        if (c->stream && !c->stream->closed) {
            if (e.type == TR__MSG_YIELD && c->q_yields >= (size_t)c->bufsize) {
                tr__qent_t old;
                if (tr__ring_pop(&c->q, &old) == 0) {
                    if (old.type == TR__MSG_YIELD) c->q_yields--;
                    tr__chunk_release(old.chunk);
                }
                c->stream->lagged = 1;
            }
            tr__chunk_retain(chunk);
            if (ring_push(&c->q, e) == 0) {
                if (e.type == TR__MSG_YIELD) c->q_yields++;
            } else {
                tr__chunk_release(chunk);
            }
        }
        wake_stream(c);
        return;
    }
    if (e.type == TR__MSG_YIELD && c->q_yields >= (size_t)c->bufsize && !c->allow_overruns) {
        /* overrun: drop it and tell the sender (tractor's StreamOverrun) */
        char msg[200];
        snprintf(msg, sizeof msg,
                 "Actor '%s' context %s buffer full (%d msgs): a Yield from '%s' was dropped",
                 rt->aid.name, c->cid, c->bufsize, c->peer_name);
        TR__LOG(rt, TR_LOG_WARNING, "ctx", "%s", msg);
        c->dropped++;
        /* sending from the I/O thread under rt->mu is fine: the flush
         * request only takes the dirty-list lock */
        tr__uid_t sender = {tr__cstr(c->peer_name), tr__cstr(c->peer_uuid)};
        tr__send_error_full(rt, c->chan, c->cid, "StreamOverrun", msg, "", NULL, &sender, NULL);
        return;
    }
    tr__chunk_retain(chunk);
    if (ring_push(&c->q, e) != 0) {
        tr__chunk_release(chunk);
        return;
    }
    if (e.type == TR__MSG_YIELD) c->q_yields++;
    wake_stream(c);
}

void tr__ctx_deliver(tr_runtime_t *rt, tr__chan_t *chan, const tr__msg_t *m,
                     tr__chunk_t *chunk) {
    tr_ctx_t *c = NULL;
    switch (m->type) {
    case TR__MSG_STARTACK:
    case TR__MSG_STARTED:
    case TR__MSG_RETURN:
    case TR__MSG_CANCELACK:
        c = tr__ctx_lookup(rt, TR__SIDE_CALLER, m->cid);
        break;
    default:
        /* streams come in runs of one context's frames: skip the hash
         * lookups while the cid is the last one routed */
        c = rt->route_last;
        if (c && c->chan == chan && m->cid.n <= TR__CID_LEN && c->cid[m->cid.n] == 0 &&
            memcmp(c->cid, m->cid.p, m->cid.n) == 0)
            break;
        c = tr__ctx_lookup(rt, TR__SIDE_CALLER, m->cid);
        if (!c || c->chan != chan) c = tr__ctx_lookup(rt, TR__SIDE_CALLEE, m->cid);
        if (c && c->chan == chan && (m->type == TR__MSG_YIELD || m->type == TR__MSG_STOP))
            rt->route_last = c;
        break;
    }
    if (!c || c->chan != chan) {
        if (m->type != TR__MSG_STOP)
            TR__LOG(rt, TR_LOG_WARNING, "ctx", "dropping %s for unknown context %.*s from '%s'",
                    tr__msg_type_name(m->type), (int)m->cid.n, m->cid.p, chan->peer.name);
        return;
    }
    switch (m->type) {
    case TR__MSG_STARTACK:
        c->acked = 1;
        snprintf(c->functype, sizeof c->functype, "%.*s", (int)m->u.functype.n, m->u.functype.p);
        if (!c->is_cancel_req && c->outcome == TR__OUT_NONE &&
            strcmp(c->functype, c->kind == TR_FUNC_CONTEXT ? "context" : "asyncfunc")) {
            /* tractor's caller refuses a functype it did not ask for */
            char msg[300];
            if (c->kind == TR_FUNC_CONTEXT)
                snprintf(msg, sizeof msg,
                         "%s.%s is not a context endpoint (StartAck '%s'): call it as a function",
                         c->ns, c->func, c->functype);
            else
                snprintf(msg, sizeof msg,
                         "%s.%s is a context endpoint (StartAck '%s'): open it as a context",
                         c->ns, c->func, c->functype);
            c->outcome = TR__OUT_ERROR;
            c->error = tr__error_local(TR_EPROTO, "TypeError", msg);
            wake_ctx(c);
        }
        /* nothing waits for the ack itself (callers wait for Started or the
         * outcome): no wake-up, which saves each call one */
        break;
    case TR__MSG_STARTED:
        if (!c->started_recv) {
            c->started_recv = 1;
            tr__chunk_retain(chunk);
            c->first.data = m->u.pld.p;
            c->first.len = m->u.pld.n;
            c->first._ref = chunk;
        }
        wake_ctx(c);
        break;
    case TR__MSG_YIELD:
    case TR__MSG_STOP:
        deliver_stream_msg(c, m, chunk);
        break;
    case TR__MSG_RETURN:
        if (c->outcome == TR__OUT_NONE) {
            c->outcome = TR__OUT_RESULT;
            tr__chunk_retain(chunk);
            c->res.data = m->u.pld.p;
            c->res.len = m->u.pld.n;
            c->res._ref = chunk;
        }
        wake_ctx(c);
        break;
    case TR__MSG_CANCELACK:
        if (c->outcome == TR__OUT_NONE) {
            c->outcome = TR__OUT_RESULT;
            static const uint8_t t = 0xc3, f = 0xc2;
            c->res.data = m->u.cancelack ? &t : &f;
            c->res.len = 1;
        }
        wake_ctx(c);
        break;
    case TR__MSG_ERROR: {
        tr_error_t *e = tr__error_from_msg(&m->u.error, &m->cid);
        if (!e) break;
        if (c->side == TR__SIDE_CALLEE) {
            /* an error from our caller (overrun, MsgTypeError...): it
             * cancels our task, which sees it at its next checkpoint */
            set_outcome_error(c, e);
            c->local_cancelled = 1;
            wake_ctx(c);
            tr__wake_all(rt);
            break;
        }
        if (e->code == TR_ECTXCANCELLED && c->cancel_called && e->canceller_uuid &&
            !strcmp(e->canceller_uuid, rt->aid.uuid))
        {
            c->cancel_acked = 1; /* the ack of our own cancel: absorbed */
            if (c->cancel_reason && e->message) {
                /* the reason stays local: tractor's _cancel_task takes no
                 * reason argument, so sending one would break interop */
                size_t n = strlen(e->message) + strlen(c->cancel_reason) + 16;
                char *m2 = malloc(n);
                if (m2) {
                    snprintf(m2, n, "%s (reason: %s)", e->message, c->cancel_reason);
                    free(e->message);
                    e->message = m2;
                }
            }
        }
        if (e->code == TR_ECTXCANCELLED && !c->has_canceller) {
            const char *n = e->canceller_name ? e->canceller_name : e->src_name;
            const char *u = e->canceller_uuid ? e->canceller_uuid : e->src_uuid;
            snprintf(c->canceller_name, sizeof c->canceller_name, "%s", n ? n : "");
            snprintf(c->canceller_uuid, sizeof c->canceller_uuid, "%s", u ? u : "");
            c->has_canceller = 1;
        }
        set_outcome_error(c, e);
        wake_ctx(c);
        break;
    }
    default:
        break;
    }
}

void tr__ctx_chan_lost(tr_runtime_t *rt, tr__chan_t *chan, const char *reason) {
    char msg[256];
    snprintf(msg, sizeof msg, "TransportClosed: channel to '%s' closed: %s", chan->peer.name,
             reason ? reason : "closed");
    for (int side = 0; side < 2; side++) {
        tr_ctx_t **tab = side == TR__SIDE_CALLER ? rt->callers : rt->callees;
        for (int i = 0; i < TR__CTX_BUCKETS; i++) {
            for (tr_ctx_t *c = tab[i]; c; c = c->next) {
                if (c->chan != chan) continue;
                if (side == TR__SIDE_CALLEE) {
                    /* the caller is gone: cancel its task (tractor leaves
                     * them running; we do the safe thing) */
                    if (!c->finished) c->local_cancelled = 1;
                }
                if (c->outcome == TR__OUT_NONE) {
                    tr_error_t *e = tr__error_local(TR_ETRANSPORT, "TransportClosed", msg);
                    c->outcome = TR__OUT_ERROR;
                    c->error = e;
                }
                wake_ctx(c);
            }
        }
    }
    tr__wake_all(rt);
}

void tr__ctx_cancel_task(tr_ctx_t *c, const char *cname, const char *cuuid,
                         const char *reason) {
    if (c->finished) return;
    c->local_cancelled = 1;
    if (!c->has_canceller) {
        snprintf(c->canceller_name, sizeof c->canceller_name, "%s", cname);
        snprintf(c->canceller_uuid, sizeof c->canceller_uuid, "%s", cuuid);
        c->has_canceller = 1;
    }
    if (reason && !c->cancel_reason) c->cancel_reason = tr__strdup(reason);
    c->cancel_called = 1;
    wake_ctx(c);
    tr__wake_all(c->rt);
}

int tr__ctx_wait_outcome(tr_ctx_t *c, uint64_t deadline, int cancellable) {
    while (c->outcome == TR__OUT_NONE) {
        int rc = tr__wait_ctx(c->rt, c, deadline, cancellable);
        if (rc) return rc;
    }
    return 0;
}

/* ---- callee completion ------------------------------------------------------ */

void tr__ctx_task_done(tr_ctx_t *c, int rc) {
    tr_runtime_t *rt = c->rt;
    pthread_mutex_lock(&rt->mu);
    if (c->finished) {
        pthread_mutex_unlock(&rt->mu);
        return;
    }
    c->finished = 1;
    int send_stop = c->stream_open && !c->stream_closed && !c->eoc;
    c->stream_closed = 1;
    int cancelled = c->local_cancelled;
    tr_error_t *remote = c->outcome == TR__OUT_ERROR ? tr__error_copy(c->error) : NULL;
    tr__pending_ack_t *acks = c->acks;
    c->acks = NULL;
    tr__ctx_table_del(rt, c);
    pthread_mutex_unlock(&rt->mu);

    tr__chan_t *ch = c->chan;
    tr__uid_t self = {tr__cstr(rt->aid.name), tr__cstr(rt->aid.uuid)};
    if (send_stop) tr__send_simple(ch, c->cid, TR__MSG_STOP, (tr__str_t){0}, 0);
    if (rc == 0 && !(cancelled && c->kind == TR_FUNC_CONTEXT && !c->has_result)) {
        tr__send_simple(ch, c->cid, TR__MSG_RETURN,
                        (tr__str_t){(const char *)c->result.p, c->has_result ? c->result.len : 0}, 0);
    } else if (cancelled && (rc == TR_ECANCELLED || rc == 0) && !remote) {
        if (c->kind == TR_FUNC_CONTEXT) {
            tr__uid_t canc = {tr__cstr(c->canceller_name), tr__cstr(c->canceller_uuid)};
            char msg[512];
            snprintf(msg, sizeof msg, "Actor '%s' task %s.%s was cancelled by '%s'%s%s",
                     rt->aid.name, c->ns, c->func, c->canceller_name,
                     c->cancel_reason ? ": " : "", c->cancel_reason ? c->cancel_reason : "");
            tr__send_error_full(rt, ch, c->cid, "ContextCancelled", msg, "",
                                c->has_canceller ? &canc : &self, NULL, NULL);
        }
        /* asyncfunc tasks cancelled send nothing (as tractor) */
    } else if (remote && !c->relay_err) {
        /* an error from our caller (e.g. StreamOverrun) crashed the task:
         * relay it back boxed, as tractor's child does */
        tr__send_error_full(rt, ch, c->cid, NULL, NULL, NULL, NULL, NULL, remote);
    } else if (c->relay_err) {
        tr__send_error_full(rt, ch, c->cid, NULL, NULL, NULL, NULL, NULL, c->relay_err);
    } else {
        /* the traceback the function gave, whole: Python and Lua ones run to
         * kilobytes and end with the line that matters (a fixed buffer cut
         * them); else a line naming the function and its return code */
        char line[300];
        snprintf(line, sizeof line, "%s.%s returned %d (%s)\n", c->ns, c->func, rc, tr__err_name(rc));
        tr__send_error(rt, ch, c->cid, c->err_type ? c->err_type : "CError",
                       c->err_msg ? c->err_msg : tr__strerror(rc),
                       c->err_tb && *c->err_tb ? c->err_tb : line);
    }
    tr__error_free(remote);
    tr__pending_acks_send(acks);

    pthread_mutex_lock(&rt->mu);
    wake_ctx(c);
    /* drop the ctx's reference to its stream: the stream holds the ctx, so
     * keeping both would leak them (and the read chunks their queue pins) */
    tr_stream_t *own = c->stream;
    c->stream = NULL;
    pthread_mutex_unlock(&rt->mu);
    if (own) tr__stream_release(own);
}
