/* Contexts and streams: the caller's and callee's operations (start, started,
 * streams, cancel, close, results) behind capi/ctx.c and capi/stream.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/runtime/rt.h"

int tr__ctx_take_outcome(tr_ctx_t *c, tr_buf_t *result, tr_error_t **err);

void tr__ctx_opts_init(tr_ctx_opts_t *o) {
    memset(o, 0, sizeof *o);
    o->size = sizeof *o;
    o->msg_buffer_size = TR__DEFAULT_BUFSIZE;
}

static int apply_opts(tr_ctx_t *c, const tr_ctx_opts_t *opts) {
    tr_ctx_opts_t o;
    tr__ctx_opts_init(&o);
    if (opts) memcpy(&o, opts, opts->size < sizeof o ? opts->size : sizeof o);
    c->allow_overruns = o.allow_overruns;
    c->bufsize = o.msg_buffer_size > 0 ? o.msg_buffer_size : TR__DEFAULT_BUFSIZE;
    if (o.pld_spec) {
        char err[200];
        if (tr__pldspec_compile(o.pld_spec, &c->spec, err, sizeof err) != 0) {
            TR__LOG(c->rt, TR_LOG_ERROR, "ctx", "bad pld_spec: %s", err);
            return TR_EINVAL;
        }
    }
    return 0;
}

int tr__portal_start_context(tr_portal_t *p, const char *ns, const char *func, const void *kwargs,
                            size_t kwargs_len, const tr_ctx_opts_t *opts, tr_ctx_t **out) {
    if (!p || !ns || !func || !out) return TR_EINVAL;
    if (!strcmp(p->uuid, p->rt->aid.uuid)) return TR_ESELF;
    if (kwargs && tr__mp_validate(kwargs, kwargs_len) != 0) return TR_EPROTO;
    tr_ctx_t *c = tr__ctx_new(p->rt, p->chan, TR__SIDE_CALLER);
    if (!c) return TR_ENOMEM;
    c->kind = TR_FUNC_CONTEXT;
    int rc = apply_opts(c, opts);
    if (!rc) rc = tr__ctx_send_start(c, ns, func, kwargs, kwargs_len);
    if (rc) {
        tr__ctx_release(c);
        return rc;
    }
    *out = c;
    return 0;
}

static int mte(tr_ctx_t *c, const char *where, const char *why, tr_error_t **err) {
    char msg[400];
    snprintf(msg, sizeof msg, "%s payload does not match pld_spec `%s`: %s", where,
             tr__pldspec_text(c->spec), why);
    if (err) *err = tr__error_local(TR_EMSGTYPE, "MsgTypeError", msg);
    TR__LOG(c->rt, TR_LOG_ERROR, "ctx", "%s", msg);
    /* a callee that fails on it ships a MsgTypeError to its caller */
    if (c->side == TR__SIDE_CALLEE && !c->err_type) tr__ctx_set_error(c, "MsgTypeError", msg, NULL);
    return TR_EMSGTYPE;
}

int tr__ctx_wait_started(tr_ctx_t *c, tr_buf_t *first, tr_error_t **err, int timeout_ms) {
    if (first) memset(first, 0, sizeof *first);
    if (err) *err = NULL;
    if (!c || c->side != TR__SIDE_CALLER) return TR_EINVAL;
    tr_runtime_t *rt = c->rt;
    uint64_t dl = tr__deadline(timeout_ms);
    pthread_mutex_lock(&rt->mu);
    int rc = 0;
    while (!c->started_recv && c->outcome == TR__OUT_NONE) {
        rc = tr__wait_ctx(rt, c, dl, 1);
        if (rc) break;
    }
    if (!rc && !c->started_recv) {
        rc = tr__ctx_take_outcome(c, NULL, err);
        if (rc == 0) rc = TR_EPROTO; /* returned without started() */
    } else if (!rc && strcmp(c->functype, "context") && c->functype[0]) {
        rc = TR_EPROTO;
    }
    if (!rc && c->spec) {
        char why[200];
        if (tr__pldspec_check(c->spec, (tr__str_t){c->first.data, c->first.len}, why, sizeof why))
            rc = mte(c, "Started", why, err);
    }
    if (!rc && first) {
        *first = c->first;
        if (c->first._ref) tr__chunk_retain(c->first._ref);
    }
    pthread_mutex_unlock(&rt->mu);
    return rc;
}

int tr__portal_open_context(tr_portal_t *p, const char *ns, const char *func, const void *kwargs,
                           size_t kwargs_len, const tr_ctx_opts_t *opts, tr_ctx_t **ctx,
                           tr_buf_t *first, tr_error_t **err, int timeout_ms) {
    if (err) *err = NULL;
    if (!ctx) return TR_EINVAL;
    *ctx = NULL;
    tr_ctx_t *c;
    int rc = tr__portal_start_context(p, ns, func, kwargs, kwargs_len, opts, &c);
    if (rc) return rc;
    rc = tr__ctx_wait_started(c, first, err, timeout_ms);
    if (rc) {
        if (rc == TR_ETIMEDOUT || rc == TR_ECANCELLED || rc == TR_EMSGTYPE)
            tr__ctx_cancel(c, "open_context failed");
        pthread_mutex_lock(&c->rt->mu);
        tr__ctx_table_del(c->rt, c);
        pthread_mutex_unlock(&c->rt->mu);
        tr__ctx_release(c);
        return rc;
    }
    *ctx = c;
    return 0;
}

int tr__ctx_started(tr_ctx_t *c, const void *buf, size_t len) {
    if (!c || c->side != TR__SIDE_CALLEE || c->kind != TR_FUNC_CONTEXT) return TR_EINVAL;
    if (buf && tr__mp_validate(buf, len) != 0) return TR_EPROTO;
    tr_runtime_t *rt = c->rt;
    pthread_mutex_lock(&rt->mu);
    int rc = c->started_sent ? TR_ESTATE : tr__cancel_point(rt);
    if (!rc && c->spec) {
        char why[200];
        if (tr__pldspec_check(c->spec, (tr__str_t){buf, buf ? len : 0}, why, sizeof why)) {
            pthread_mutex_unlock(&rt->mu);
            tr__ctx_set_error(c, "MsgTypeError", why, NULL);
            return TR_EMSGTYPE;
        }
    }
    if (!rc) c->started_sent = 1;
    pthread_mutex_unlock(&rt->mu);
    if (rc) {
        if (rc == TR_ESTATE)
            TR__LOG(rt, TR_LOG_ERROR, "ctx", "%s.%s: started() called twice", c->ns, c->func);
        return rc;
    }
    return tr__send_simple(c->chan, c->cid, TR__MSG_STARTED, (tr__str_t){buf, buf ? len : 0}, 0);
}

int tr__ctx_open_stream(tr_ctx_t *c, tr_stream_t **out) {
    if (!c || !out) return TR_EINVAL;
    tr_runtime_t *rt = c->rt;
    pthread_mutex_lock(&rt->mu);
    int rc = 0;
    if (c->kind != TR_FUNC_CONTEXT) rc = TR_EINVAL;
    else if (c->side == TR__SIDE_CALLEE && !c->started_sent) rc = TR_ESTATE;
    else if (c->side == TR__SIDE_CALLER && !c->started_recv) rc = TR_ESTATE;
    else if (c->stream_open) rc = TR_ESTATE;
    if (!rc) {
        tr_stream_t *s = calloc(1, sizeof *s);
        if (!s) rc = TR_ENOMEM;
        else {
            atomic_init(&s->refs, 2); /* caller + ctx */
            s->ctx = tr__ctx_retain(c);
            c->stream = s;
            c->stream_open = 1;
            *out = s;
        }
    }
    pthread_mutex_unlock(&rt->mu);
    if (rc == TR_ESTATE)
        TR__LOG(rt, TR_LOG_ERROR, "ctx", "open_stream: call started() first, and only once");
    return rc;
}

tr_ctx_t *tr__stream_ctx(tr_stream_t *s) { return s ? s->ctx : NULL; }

void tr__stream_release(tr_stream_t *s) {
    if (!s || atomic_fetch_sub(&s->refs, 1) != 1) return;
    tr__ring_clear(&s->ring);
    free(s->ring.v);
    tr__ctx_release(s->ctx);
    free(s);
}

/* An error already delivered to the context (rt->mu held). */
static int pending_error(tr_ctx_t *c, tr_error_t **err) {
    if (c->outcome == TR__OUT_ERROR) {
        if (err) *err = tr__error_copy(c->error);
        int code = tr__error_code(c->error);
        return code ? code : TR_EREMOTE;
    }
    return 0;
}

/* tr__chan_send_enc_flow's stop check: the sending task was cancelled. */
static int send_stop(void *arg) {
    tr_runtime_t *rt = arg;
    pthread_mutex_lock(&rt->mu);
    int rc = tr__cancel_point(rt);
    pthread_mutex_unlock(&rt->mu);
    return rc;
}

struct yield_arg {
    const char *cid;
    tr__str_t pld;
};
static void enc_yield(tr__wbuf_t *b, void *arg) {
    struct yield_arg *a = arg;
    tr__enc_payload(b, TR__MSG_YIELD, tr__cstr(a->cid), a->pld);
}

int tr__stream_send(tr_stream_t *s, const void *buf, size_t len, tr_error_t **err) {
    if (err) *err = NULL;
    if (!s) return TR_EINVAL;
    tr_ctx_t *c = s->ctx;
    tr_runtime_t *rt = c->rt;
    pthread_mutex_lock(&rt->mu);
    int rc = tr__cancel_point(rt);
    if (!rc && c->side == TR__SIDE_CALLER && c->outcome == TR__OUT_RESULT) rc = TR_EEOC;
    if (!rc) rc = pending_error(c, err);
    if (!rc && (c->stream_closed || s->closed)) rc = TR_ECLOSED;
    if (!rc && c->eoc) rc = TR_EEOC;
    pthread_mutex_unlock(&rt->mu);
    if (rc) return rc;
    if (buf && len < 4096 && tr__mp_validate(buf, len) != 0) return TR_EPROTO;
    /* flow control: a sender faster than the peer waits for the queue to
     * drain below TR__WQ_HIGH instead of growing it without bound */
    struct yield_arg a = {c->cid, {buf, buf ? len : 0}};
    return tr__chan_send_enc_flow(c->chan, enc_yield, &a, send_stop, rt);
}

int tr__stream_recv(tr_stream_t *s, tr_buf_t *out, tr_error_t **err, int timeout_ms) {
    if (err) *err = NULL;
    if (!s || !out) return TR_EINVAL;
    memset(out, 0, sizeof *out);
    tr_ctx_t *c = s->ctx;
    tr_runtime_t *rt = c->rt;
    tr__ring_t *q = s->is_sub ? &s->ring : &c->q;
    /* the deadline (a clock read) only once we actually have to wait */
    uint64_t dl = timeout_ms > 0 ? UINT64_MAX - 1 : tr__deadline(timeout_ms);
    int rc;
    pthread_mutex_lock(&rt->mu);
    for (;;) {
        if (s->closed) {
            rc = TR_ECLOSED;
            break;
        }
        if (c->eoc && !s->is_sub) {
            rc = TR_EEOC;
            break;
        }
        if (c->outcome == TR__OUT_ERROR) {
            rc = pending_error(c, err);
            break;
        }
        if (s->lagged) {
            s->lagged = 0;
            if (err) *err = tr__error_local(TR_EOVERRUN, "Lagged", "subscriber lagged: messages were skipped");
            rc = TR_EOVERRUN;
            break;
        }
        tr__qent_t e;
        if (tr__ring_pop(q, &e) == 0) {
            if (e.type == TR__MSG_STOP) {
                tr__chunk_release(e.chunk);
                if (!s->is_sub) c->eoc = 1;
                else s->closed = 1;
                rc = TR_EEOC;
                break;
            }
            if (!s->is_sub) c->q_yields--;
            if (c->spec) {
                char why[200];
                if (tr__pldspec_check(c->spec, e.pld, why, sizeof why)) {
                    tr__chunk_release(e.chunk);
                    pthread_mutex_unlock(&rt->mu);
                    return mte(c, "Yield", why, err);
                }
            }
            out->data = e.pld.p;
            out->len = e.pld.n;
            out->_ref = e.chunk;
            rc = 0;
            break;
        }
        if (c->dropped && !s->is_sub) {
            char msg[200];
            snprintf(msg, sizeof msg,
                     "%zu messages from '%s' were dropped: the stream buffer (%d) overran",
                     c->dropped, c->peer_name, c->bufsize);
            c->dropped = 0;
            if (err) *err = tr__error_local(TR_EOVERRUN, "StreamOverrun", msg);
            rc = TR_EOVERRUN;
            break;
        }
        if (c->outcome == TR__OUT_RESULT) {
            rc = TR_EEOC; /* the peer returned: nothing more will come */
            break;
        }
        if (dl == UINT64_MAX - 1) dl = tr__deadline(timeout_ms);
        rc = tr__wait_ctx(rt, c, dl, 1);
        if (rc) break;
    }
    pthread_mutex_unlock(&rt->mu);
    return rc;
}

int tr__stream_close(tr_stream_t *s) {
    if (!s) return TR_EINVAL;
    tr_ctx_t *c = s->ctx;
    tr_runtime_t *rt = c->rt;
    pthread_mutex_lock(&rt->mu);
    if (s->is_sub) {
        s->closed = 1;
        for (tr_stream_t **pp = &c->subs; *pp; pp = &(*pp)->next_sub)
            if (*pp == s) {
                *pp = s->next_sub;
                tr__stream_release(s);
                break;
            }
        pthread_mutex_unlock(&rt->mu);
        return 0;
    }
    int send_stop = !c->stream_closed && !c->eoc && !c->finished;
    /* drain: a Stop or final Return already queued is still recorded */
    tr__qent_t e;
    while (tr__ring_pop(&c->q, &e) == 0) {
        if (e.type == TR__MSG_STOP) {
            c->eoc = 1;
            send_stop = 0;
        }
        tr__chunk_release(e.chunk);
    }
    c->q_yields = 0;
    c->stream_closed = 1;
    s->closed = 1;
    pthread_mutex_unlock(&rt->mu);
    if (send_stop) tr__send_simple(c->chan, c->cid, TR__MSG_STOP, (tr__str_t){0}, 0);
    return 0; /* TransportClosed is tolerated here */
}

int tr__stream_subscribe(tr_stream_t *s, tr_stream_t **out) {
    if (!s || !out) return TR_EINVAL;
    tr_ctx_t *c = s->ctx;
    tr_stream_t *sub = calloc(1, sizeof *sub);
    if (!sub) return TR_ENOMEM;
    atomic_init(&sub->refs, 2);
    sub->ctx = tr__ctx_retain(c);
    sub->is_sub = 1;
    pthread_mutex_lock(&c->rt->mu);
    sub->next_sub = c->subs;
    c->subs = sub;
    pthread_mutex_unlock(&c->rt->mu);
    *out = sub;
    return 0;
}

/* ---- cancellation ----------------------------------------------------- */

/* Caller side with force: ask the callee to stop its task even though we
 * already have an outcome (a call abandoned locally). */
int tr__ctx_cancel_impl(tr_ctx_t *c, const char *reason, int force);

int tr__ctx_cancel(tr_ctx_t *c, const char *reason) { return tr__ctx_cancel_impl(c, reason, 0); }

int tr__ctx_cancel_impl(tr_ctx_t *c, const char *reason, int force) {
    if (!c) return TR_EINVAL;
    tr_runtime_t *rt = c->rt;
    if (c->side == TR__SIDE_CALLEE) {
        pthread_mutex_lock(&rt->mu);
        tr__ctx_cancel_task(c, rt->aid.name, rt->aid.uuid, reason);
        pthread_mutex_unlock(&rt->mu);
        return 0;
    }
    pthread_mutex_lock(&rt->mu);
    if (c->cancel_called || (c->outcome != TR__OUT_NONE && !force)) {
        c->cancel_called = 1;
        pthread_mutex_unlock(&rt->mu);
        return 0;
    }
    c->cancel_called = 1;
    if (reason && !c->cancel_reason) c->cancel_reason = tr__strdup(reason);
    pthread_mutex_unlock(&rt->mu);
    if (!tr__chan_alive(c->chan)) return TR_ETRANSPORT; /* no ack to wait for */
    /* `self._cancel_task {cid}` */
    tr__wbuf_t kw;
    tr__wbuf_init(&kw);
    tr__mp_map(&kw, 1);
    tr__mp_cstr(&kw, "cid");
    tr__mp_cstr(&kw, c->cid);
    tr_ctx_t *k = tr__ctx_new(rt, c->chan, TR__SIDE_CALLER);
    if (k) k->is_cancel_req = 1; /* before the Start: its StartAck may come at once */
    int rc = k ? tr__ctx_send_start(k, "self", "_cancel_task", kw.p, kw.len) : TR_ENOMEM;
    tr__wbuf_free(&kw);
    if (rc == 0) {
        pthread_mutex_lock(&rt->mu);
        rc = tr__ctx_wait_outcome(k, tr__deadline(616), 0);
        if (rc == TR_EAGAIN) rc = TR_ETIMEDOUT;
        tr__ctx_table_del(rt, k);
        pthread_mutex_unlock(&rt->mu);
        if (rc == TR_ETIMEDOUT)
            TR__LOG(rt, TR_LOG_CANCEL, "ctx", "no CancelAck for %s within 0.616 s", c->cid);
    }
    if (k) tr__ctx_release(k);
    return rc == TR_ETIMEDOUT ? 0 : rc;
}

int tr__ctx_close(tr_ctx_t *c, int block_error) {
    if (!c) return TR_EINVAL;
    if (c->side != TR__SIDE_CALLER) return TR_EINVAL;
    tr_runtime_t *rt = c->rt;
    if (block_error) tr__ctx_cancel(c, "the caller's block raised");
    pthread_mutex_lock(&rt->mu);
    tr_stream_t *s = c->stream && !c->stream->closed ? c->stream : NULL;
    pthread_mutex_unlock(&rt->mu);
    if (s) tr__stream_close(s);
    pthread_mutex_lock(&rt->mu);
    /* a cancelled asyncfunc call sends nothing more (as tractor): do not
     * wait 2 s for an outcome that will not come */
    int wait_ms = block_error ? (c->kind == TR_FUNC_ASYNCFUNC ? 0 : 2000) : -1;
    int rc = tr__ctx_wait_outcome(c, tr__deadline(wait_ms), 0);
    if (rc == TR_EAGAIN) rc = TR_ETIMEDOUT;
    if (rc == 0 && c->outcome == TR__OUT_ERROR && !c->cancel_acked) rc = tr__error_code(c->error);
    tr__ctx_table_del(rt, c);
    tr_stream_t *own = c->stream;
    c->stream = NULL;
    pthread_mutex_unlock(&rt->mu);
    if (own) tr__stream_release(own);
    tr__ctx_release(c);
    return rc;
}

/* ---- accessors -------------------------------------------------------- */

#define LOCKED_INT(fn, expr)                    \
    int fn(tr_ctx_t *c) {                       \
        if (!c) return 0;                       \
        pthread_mutex_lock(&c->rt->mu);         \
        int v = (expr);                         \
        pthread_mutex_unlock(&c->rt->mu);       \
        return v;                               \
    }
LOCKED_INT(tr__ctx_has_outcome, c->outcome != TR__OUT_NONE)
LOCKED_INT(tr__ctx_cancel_called, c->cancel_called || c->local_cancelled)
LOCKED_INT(tr__ctx_cancel_acked, c->cancel_acked)
#undef LOCKED_INT

int tr__ctx_canceller(tr_ctx_t *c, const char **name, const char **uuid) {
    if (!c) return 0;
    pthread_mutex_lock(&c->rt->mu);
    int has = c->has_canceller;
    pthread_mutex_unlock(&c->rt->mu);
    if (name) *name = has ? c->canceller_name : NULL;
    if (uuid) *uuid = has ? c->canceller_uuid : NULL;
    return has;
}

const char *tr__ctx_cid(tr_ctx_t *c) { return c ? c->cid : NULL; }
const char *tr__ctx_ns(tr_ctx_t *c) { return c ? c->ns : NULL; }
const char *tr__ctx_func(tr_ctx_t *c) { return c ? c->func : NULL; }
int tr__ctx_kind(tr_ctx_t *c) { return c ? c->kind : TR_EINVAL; }
void *tr__ctx_userdata(tr_ctx_t *c) { return c ? c->ud : NULL; }
const char *tr__ctx_peer_name(tr_ctx_t *c) { return c ? c->peer_name : NULL; }
const char *tr__ctx_peer_uuid(tr_ctx_t *c) { return c ? c->peer_uuid : NULL; }
tr_runtime_t *tr__ctx_runtime(tr_ctx_t *c) { return c ? c->rt : NULL; }

int tr__ctx_kwargs(tr_ctx_t *c, const void **buf, size_t *len) {
    if (!c || !buf || !len || c->side != TR__SIDE_CALLEE) return TR_EINVAL;
    static const uint8_t empty_map = 0x80;
    *buf = c->kwargs_len ? c->kwargs : &empty_map;
    *len = c->kwargs_len ? c->kwargs_len : 1;
    return 0;
}

int tr__ctx_set_result(tr_ctx_t *c, const void *buf, size_t len) {
    if (!c || c->side != TR__SIDE_CALLEE) return TR_EINVAL;
    if (buf && tr__mp_validate(buf, len) != 0) return TR_EPROTO;
    if (c->spec && c->kind == TR_FUNC_CONTEXT) {
        char why[200];
        if (tr__pldspec_check(c->spec, (tr__str_t){buf, buf ? len : 0}, why, sizeof why)) {
            tr__ctx_set_error(c, "MsgTypeError", why, NULL);
            return TR_EMSGTYPE;
        }
    }
    c->result.len = 0;
    if (buf) tr__wbuf_put(&c->result, buf, len);
    c->has_result = buf != NULL;
    return c->result.oom ? TR_ENOMEM : 0;
}

int tr__ctx_set_error(tr_ctx_t *c, const char *type, const char *message, const char *tb) {
    if (!c || c->side != TR__SIDE_CALLEE) return TR_EINVAL;
    free(c->err_type);
    free(c->err_msg);
    free(c->err_tb);
    c->err_type = tr__strdup(type);
    c->err_msg = tr__strdup(message);
    c->err_tb = tr__strdup(tb);
    return 0;
}

int tr__ctx_set_remote_error(tr_ctx_t *c, const tr_error_t *e) {
    if (!c || !e || c->side != TR__SIDE_CALLEE) return TR_EINVAL;
    tr__error_free(c->relay_err);
    c->relay_err = tr__error_copy(e);
    return 0;
}

int tr__ctx_limit_plds(tr_ctx_t *c, const char *spec) {
    if (!c) return TR_EINVAL;
    tr__pldspec_t *s = NULL;
    char err[200];
    if (tr__pldspec_compile(spec, &s, err, sizeof err) != 0) return TR_EINVAL;
    pthread_mutex_lock(&c->rt->mu);
    tr__pldspec_free(c->spec);
    c->spec = s;
    pthread_mutex_unlock(&c->rt->mu);
    return 0;
}

int tr__ctx_set_overruns(tr_ctx_t *c, int allow, int msg_buffer_size) {
    if (!c) return TR_EINVAL;
    pthread_mutex_lock(&c->rt->mu);
    c->allow_overruns = allow != 0;
    if (msg_buffer_size > 0) c->bufsize = msg_buffer_size;
    pthread_mutex_unlock(&c->rt->mu);
    return 0;
}
