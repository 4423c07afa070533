/* The message loop: channel callbacks, Start dispatch, and the runtime's own
 * `self.*` endpoints (cancel, _cancel_task). Runs on the I/O thread. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/runtime/rt.h"

void tr__peer_add(tr_runtime_t *rt, tr__chan_t *c) {
    tr__peer_t *p = malloc(sizeof *p);
    if (!p) return;
    tr__chan_retain(c);
    p->chan = c;
    p->next = rt->peers;
    rt->peers = p;
}

static void peer_del(tr_runtime_t *rt, tr__chan_t *c) {
    for (tr__peer_t **pp = &rt->peers; *pp; pp = &(*pp)->next) {
        if ((*pp)->chan == c) {
            tr__peer_t *p = *pp;
            *pp = p->next;
            tr__chan_release(p->chan);
            free(p);
            return;
        }
    }
}

static tr__func_t *find_func(tr_runtime_t *rt, tr__str_t ns, tr__str_t name, int *ns_known) {
    *ns_known = 0;
    for (tr__func_t *f = rt->funcs; f; f = f->next) {
        if (!tr__str_eq(ns, f->ns)) continue;
        *ns_known = 1;
        if (tr__str_eq(name, f->name)) return f;
    }
    return NULL;
}

/* ---- self.cancel / self._cancel_task -------------------------------- */

void tr__runtime_cancel_locked(tr_runtime_t *rt, const char *reason, const char *cname,
                               const char *cuuid) {
    if (!rt->cancelled) {
        rt->cancelled = 1;
        rt->cancel_reason = reason;
    }
    for (int i = 0; i < TR__CTX_BUCKETS; i++)
        for (tr_ctx_t *c = rt->callees[i]; c; c = c->next)
            tr__ctx_cancel_task(c, cname, cuuid, NULL);
    tr__wake_all(rt);
}

static void handle_self(tr_runtime_t *rt, tr__chan_t *chan, const tr__msg_t *m) {
    const tr__msg_start_t *s = &m->u.start;
    char cid[TR__CID_LEN + 8];
    snprintf(cid, sizeof cid, "%.*s", (int)m->cid.n, m->cid.p);

    if (tr__str_eq(s->func, "cancel")) {
        tr__send_simple(chan, cid, TR__MSG_STARTACK, TR__STR("asyncfunc"), 0);
        TR__LOG(rt, TR_LOG_CANCEL, "rpc", "actor cancel requested by '%s'", chan->peer.name);
        pthread_mutex_lock(&rt->mu);
        tr__runtime_cancel_locked(rt, "remote", chan->peer.name, chan->peer.uuid);
        if (rt->running_tasks == 0) {
            pthread_mutex_unlock(&rt->mu);
            tr__send_simple(chan, cid, TR__MSG_CANCELACK, (tr__str_t){0}, 1);
            pthread_mutex_lock(&rt->mu);
        } else {
            tr__pending_ack_push(&rt->cancel_acks, chan, cid);
        }
        pthread_cond_broadcast(&rt->wait_cond);
        pthread_mutex_unlock(&rt->mu);
        return;
    }
    if (tr__str_eq(s->func, "_cancel_task")) {
        tr__str_t target = {0};
        tr__mp_map_get(s->kwargs, "cid", &target);
        tr__mp_reader_t r;
        tr__str_t tcid = {0};
        tr__mp_reader_init(&r, target.p, target.n);
        if (target.n) tr__mp_read_str(&r, &tcid);
        tr__send_simple(chan, cid, TR__MSG_STARTACK, TR__STR("asyncfunc"), 0);
        pthread_mutex_lock(&rt->mu);
        tr_ctx_t *c = tr__ctx_lookup(rt, TR__SIDE_CALLEE, tcid);
        if (c && c->chan == chan && !c->finished) {
            tr__pending_ack_push(&c->acks, chan, cid);
            TR__LOG(rt, TR_LOG_CANCEL, "rpc", "cancelling task %s.%s (%s) for '%s'", c->ns,
                    c->func, c->cid, chan->peer.name);
            tr__ctx_cancel_task(c, chan->peer.name, chan->peer.uuid, NULL);
            pthread_mutex_unlock(&rt->mu);
            return;
        }
        pthread_mutex_unlock(&rt->mu);
        /* unknown or already done: ack at once, as tractor */
        tr__send_simple(chan, cid, TR__MSG_CANCELACK, (tr__str_t){0}, 1);
        return;
    }
    if (rt->ops->registrar_handle(rt, chan, m)) return;
    char msg[200];
    snprintf(msg, sizeof msg, "'%s' has no runtime method `self.%.*s`", rt->aid.name,
             (int)s->func.n, s->func.p);
    tr__send_error(rt, chan, cid, "AttributeError", msg, "");
}

/* ---- Start ------------------------------------------------------------ */

void tr__rpc_on_start(tr_runtime_t *rt, tr__chan_t *chan, const tr__msg_t *m,
                      tr__chunk_t *chunk) {
    (void)chunk;
    const tr__msg_start_t *s = &m->u.start;
    char cid[TR__CID_LEN + 8];
    snprintf(cid, sizeof cid, "%.*s", (int)m->cid.n, m->cid.p);
    if (!tr__str_eq(s->uid.name, chan->peer.name) || !tr__str_eq(s->uid.uuid, chan->peer.uuid)) {
        tr__send_error(rt, chan, cid, "RuntimeError",
                       "Start.uid does not match the channel's handshake Aid", "");
        return;
    }
    if (tr__str_eq(s->ns, "self")) {
        handle_self(rt, chan, m);
        return;
    }
    pthread_mutex_lock(&rt->mu);
    int ns_known;
    tr__func_t *f = find_func(rt, s->ns, s->func, &ns_known);
    if (!f || rt->cancelled) {
        pthread_mutex_unlock(&rt->mu);
        char msg[300];
        const char *type;
        if (rt->cancelled && f) {
            type = "ActorCancelled";
            snprintf(msg, sizeof msg, "actor '%s' is shutting down", rt->aid.name);
        } else if (!ns_known) {
            type = "ModuleNotExposed";
            snprintf(msg, sizeof msg, "module `%.*s` is not enabled in actor '%s'", (int)s->ns.n,
                     s->ns.p, rt->aid.name);
        } else {
            type = "AttributeError";
            snprintf(msg, sizeof msg, "module `%.*s` has no function `%.*s` in actor '%s'",
                     (int)s->ns.n, s->ns.p, (int)s->func.n, s->func.p, rt->aid.name);
        }
        TR__LOG(rt, TR_LOG_WARNING, "rpc", "%s", msg);
        tr__send_error(rt, chan, cid, type, msg, "");
        return;
    }
    tr_ctx_t *c = tr__ctx_new(rt, chan, TR__SIDE_CALLEE);
    if (!c) {
        pthread_mutex_unlock(&rt->mu);
        tr__send_error(rt, chan, cid, "MemoryError", "out of memory", "");
        return;
    }
    snprintf(c->cid, sizeof c->cid, "%s", cid);
    c->ns = tr__strdup(f->ns);
    c->func = tr__strdup(f->name);
    c->kind = f->kind;
    c->fn = f->fn;
    c->ud = f->ud;
    if (f->pld_spec) tr__pldspec_compile(f->pld_spec, &c->spec, NULL, 0);
    c->kwargs = malloc(s->kwargs.n ? s->kwargs.n : 1);
    if (c->kwargs) memcpy(c->kwargs, s->kwargs.p, s->kwargs.n);
    c->kwargs_len = s->kwargs.n;
    if (tr__ctx_lookup(rt, TR__SIDE_CALLEE, m->cid)) {
        pthread_mutex_unlock(&rt->mu);
        tr__ctx_release(c);
        tr__send_error(rt, chan, cid, "RuntimeError", "duplicate context id", "");
        return;
    }
    tr__ctx_table_add(rt, c);
    tr__send_simple(chan, cid, TR__MSG_STARTACK,
                    f->kind == TR_FUNC_CONTEXT ? TR__STR("context") : TR__STR("asyncfunc"), 0);
    tr__task_submit(rt, c);
    pthread_mutex_unlock(&rt->mu);
    tr__ctx_release(c);
}

/* ---- channel callbacks ------------------------------------------------ */

static int on_handshake(tr__chan_t *c) {
    tr_runtime_t *rt = c->owner;
    TR__LOG(rt, TR_LOG_TRANSPORT, "ipc", "handshake with '%s' (%s)", c->peer.name, c->peer.uuid);
    if (c->peer.is_probe) {
        /* a registrar-election probe: answer the handshake, then hang up */
        tr__chan_close(c, 1, "probe done");
        return 0;
    }
    pthread_mutex_lock(&rt->mu);
    tr__peer_add(rt, c);
    /* wake tr__portal_connect_addr, which waits for the handshake */
    pthread_cond_broadcast(&rt->wait_cond);
    pthread_mutex_unlock(&rt->mu);
    return rt->ops->on_handshake(rt, c);
}

static void on_child_spawnspec(tr_runtime_t *rt, tr__chan_t *c, const tr__msg_t *m);

static void on_msg(tr__chan_t *c, const tr__msg_t *m, tr__chunk_t *chunk, tr__str_t body) {
    (void)body;
    tr_runtime_t *rt = c->owner;
    TR__LOG(rt, TR_LOG_TRANSPORT, "ipc", "recv %s from '%s'", tr__msg_type_name(m->type),
            c->peer.name);
    if (c == rt->parent && !rt->got_spawnspec) {
        on_child_spawnspec(rt, c, m);
        return;
    }
    switch (m->type) {
    case TR__MSG_START:
        tr__rpc_on_start(rt, c, m, chunk);
        return;
    case TR__MSG_AID:
    case TR__MSG_SPAWNSPEC:
        TR__LOG(rt, TR_LOG_WARNING, "ipc", "unexpected %s from '%s' after the handshake",
                tr__msg_type_name(m->type), c->peer.name);
        return;
    case TR__MSG_ERROR:
        if (!m->has_cid) {
            /* channel-wide error: fail everything on the channel */
            tr_error_t *e = tr__error_from_msg(&m->u.error, NULL);
            TR__LOG(rt, TR_LOG_ERROR, "ipc", "channel error from '%s': %s", c->peer.name,
                    e ? tr__error_str(e) : "?");
            pthread_mutex_lock(&rt->mu);
            rt->ops->on_chan_error(rt, c, e);
            pthread_mutex_unlock(&rt->mu);
            return;
        }
        /* fallthrough */
    default:
        pthread_mutex_lock(&rt->mu);
        tr__ctx_deliver(rt, c, m, chunk);
        pthread_mutex_unlock(&rt->mu);
        return;
    }
}

static void on_bad_frame(tr__chan_t *c, int code, const char *why, tr__str_t body) {
    (void)body;
    tr_runtime_t *rt = c->owner;
    TR__LOG(rt, TR_LOG_ERROR, "ipc", "bad frame from '%s' (%s): %s", c->peer.name,
            tr__err_name(code), why);
    /* Tell the peer (tractor relays a MsgTypeError); keep the channel. */
    char msg[300];
    snprintf(msg, sizeof msg, "actor '%s' could not decode a frame: %s", rt->aid.name, why);
    tr__send_error(rt, c, NULL, "MsgTypeError", msg, "");
}

static void on_close(tr__chan_t *c, const char *reason) {
    tr_runtime_t *rt = c->owner;
    TR__LOG(rt, TR_LOG_RUNTIME, "ipc", "channel to '%s' closed: %s",
            c->peer.name[0] ? c->peer.name : "?", reason);
    pthread_mutex_lock(&rt->mu);
    peer_del(rt, c);
    tr__ctx_chan_lost(rt, c, reason);
    if (c == rt->parent) {
        if (!rt->got_spawnspec) {
            rt->boot_state = TR_ETRANSPORT;
            snprintf(rt->boot_err, sizeof rt->boot_err, "parent channel closed: %s", reason);
        }
        if (!rt->cancelled)
            tr__runtime_cancel_locked(rt, "parent-gone", c->peer.name, c->peer.uuid);
        extern void tr__arm_exit_timer(tr_runtime_t *);
        if (!rt->closing) tr__arm_exit_timer(rt);
    }
    rt->ops->on_chan_close(rt, c);
    pthread_cond_broadcast(&rt->wait_cond);
    pthread_mutex_unlock(&rt->mu);
}

/* The reading thread (I/O thread or leader): wake each context that got
 * stream messages from this read once, after the whole read is delivered,
 * instead of once per message. */
static void on_batch(tr__chan_t *c, int begin) { tr__ctx_batch(c->owner, begin); }

const tr__chan_cbs_t tr__rt_chan_cbs = {on_handshake, on_msg, on_bad_frame, on_close, on_batch};

/* ---- child boot: the SpawnSpec --------------------------------------- */

static void on_child_spawnspec(tr_runtime_t *rt, tr__chan_t *c, const tr__msg_t *m) {
    pthread_mutex_lock(&rt->mu);
    if (m->type != TR__MSG_SPAWNSPEC) {
        rt->boot_state = TR_EPROTO;
        snprintf(rt->boot_err, sizeof rt->boot_err, "expected SpawnSpec from parent, got %s",
                 tr__msg_type_name(m->type));
    } else {
        /* enable_modules: {name: path} */
        tr__mp_reader_t r;
        tr__mp_tok_t t;
        tr__mp_reader_init(&r, m->u.spawnspec.enable_modules.p, m->u.spawnspec.enable_modules.n);
        if (tr__mp_next(&r, &t) == 0 && t.kind == TR__MP_MAP) {
            rt->enabled_modules = calloc(t.count + 1, sizeof(char *));
            for (uint32_t i = 0; i < t.count && rt->enabled_modules; i++) {
                tr__str_t k;
                if (tr__mp_read_str(&r, &k) || tr__mp_skip(&r)) break;
                rt->enabled_modules[rt->n_enabled_modules++] = tr__strndup(k.p, k.n);
            }
        }
        /* reg_addrs */
        tr__mp_reader_init(&r, m->u.spawnspec.reg_addrs.p, m->u.spawnspec.reg_addrs.n);
        if (tr__mp_next(&r, &t) == 0 && t.kind == TR__MP_ARRAY) {
            for (uint32_t i = 0; i < t.count; i++) {
                tr__str_t raw;
                if (tr__mp_read_raw(&r, &raw)) break;
                if (rt->n_reg_addrs < 4 && tr__addr_decode(raw, &rt->reg_addrs[rt->n_reg_addrs]) == 0)
                    rt->n_reg_addrs++;
            }
        }
        /* transport: _runtime_vars._enable_tpts[0] */
        tr__str_t tpts;
        if (tr__mp_map_get(m->u.spawnspec.runtime_vars, "_enable_tpts", &tpts) == 0) {
            tr__mp_reader_init(&r, tpts.p, tpts.n);
            tr__str_t first;
            if (tr__mp_next(&r, &t) == 0 && t.kind == TR__MP_ARRAY && t.count > 0 &&
                tr__mp_read_str(&r, &first) == 0)
                rt->transport = tr__str_eq(first, "uds") ? TR__ADDR_UDS : TR__ADDR_TCP;
        }
        /* the tree root's addresses, kept to relay them to our children:
         * only a well-formed address (a root without one sends (None, None)) */
        tr__str_t v;
        tr__addr_t root_addr;
        if (tr__mp_map_get(m->u.spawnspec.runtime_vars, "_root_mailbox", &v) == 0 &&
            tr__addr_decode(v, &root_addr) == 0 && (rt->root_mailbox_raw = malloc(v.n))) {
            memcpy(rt->root_mailbox_raw, v.p, v.n);
            rt->root_mailbox_len = v.n;
        }
        if (tr__mp_map_get(m->u.spawnspec.runtime_vars, "_root_addrs", &v) == 0 && v.n &&
            ((unsigned char)v.p[0] >> 4 == 0x9 || (unsigned char)v.p[0] == 0xdc ||
             (unsigned char)v.p[0] == 0xdd) &&
            (rt->root_addrs_raw = malloc(v.n))) {
            memcpy(rt->root_addrs_raw, v.p, v.n);
            rt->root_addrs_len = v.n;
        }
        rt->boot_state = 1;
    }
    rt->got_spawnspec = 1;
    tr__chan_pause(c); /* requests wait in the socket until tr__runtime_serve */
    pthread_cond_broadcast(&rt->wait_cond);
    pthread_mutex_unlock(&rt->mu);
}
