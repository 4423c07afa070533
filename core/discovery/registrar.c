/* The registrar: the registry of (name, uuid) -> addresses and the `self.*`
 * endpoints tractor's registrar serves (discovery/_registry.py):
 *
 *   register_actor(uid, addr) -> nil      unregister_actor(uid) -> nil
 *   find_actor(name) -> [addr] | nil      wait_for_actor(name) -> [addr]
 *   get_registry() -> {"name.uuid": [addr]}
 *   delete_addr(addr) -> uid | nil
 *
 * Requests arrive on the I/O thread (tr__registrar_handle); the registry is
 * guarded by rt->mu. Replies are sent after rt->mu is released (a send may
 * need the lock to wake the I/O thread). wait_for_actor never blocks the
 * I/O thread: the request is parked and answered when the name registers.
 *
 * Deliberate differences from tractor (wire compatible): find_actor matches
 * the name only (tractor also matched the uuid, `name in uid`); an address
 * with port 0 is refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/discovery/discovery.h"

typedef struct reg_entry {
    struct reg_entry *next;
    char name[128], uuid[64];
    tr__addr_t addrs[TR__REG_MAX_ADDRS];
    int n;
} reg_entry_t;

typedef struct reg_waiter {
    struct reg_waiter *next;
    tr__chan_t *chan;
    char cid[TR__CID_LEN + 8];
    char name[128];
} reg_waiter_t;

typedef struct tr__registry {
    reg_entry_t *head; /* insertion order */
    reg_waiter_t *waiters;
    pthread_cond_t cond; /* local waiters (tr__reg_local_wait) */
    uint64_t gen;
} tr__registry_t;

/* rt->mu held */
static tr__registry_t *reg_get(tr_runtime_t *rt) {
    if (!rt->registry) {
        tr__registry_t *r = calloc(1, sizeof *r);
        if (!r) return NULL;
        pthread_cond_init(&r->cond, &rt->cattr);
        rt->registry = r;
    }
    return rt->registry;
}

static reg_entry_t *entry_find(tr__registry_t *r, const char *name, const char *uuid) {
    for (reg_entry_t *e = r->head; e; e = e->next)
        if (!strcmp(e->name, name) && !strcmp(e->uuid, uuid)) return e;
    return NULL;
}

static void entry_unlink(tr__registry_t *r, reg_entry_t *x) {
    for (reg_entry_t **pp = &r->head; *pp; pp = &(*pp)->next)
        if (*pp == x) {
            *pp = x->next;
            free(x);
            return;
        }
}

static int entry_has(const reg_entry_t *e, const tr__addr_t *a) {
    for (int i = 0; i < e->n; i++)
        if (tr__addr_equal(&e->addrs[i], a)) return 1;
    return 0;
}

static void entry_drop_addr(reg_entry_t *e, const tr__addr_t *a) {
    for (int i = 0; i < e->n; i++)
        if (tr__addr_equal(&e->addrs[i], a)) {
            memmove(&e->addrs[i], &e->addrs[i + 1], (size_t)(e->n - i - 1) * sizeof e->addrs[0]);
            e->n--;
            return;
        }
}

/* Remove `a` from every entry but `keep`; drop entries left empty. */
static int drop_addr_elsewhere(tr__registry_t *r, const tr__addr_t *a, reg_entry_t *keep,
                               char *name, size_t nl, char *uuid, size_t ul) {
    int found = 0;
    reg_entry_t **pp = &r->head;
    while (*pp) {
        reg_entry_t *e = *pp;
        if (e != keep && entry_has(e, a)) {
            if (name && !found) {
                snprintf(name, nl, "%s", e->name);
                snprintf(uuid, ul, "%s", e->uuid);
            }
            found = 1;
            entry_drop_addr(e, a);
            if (e->n == 0) {
                *pp = e->next;
                free(e);
                continue;
            }
        }
        pp = &e->next;
    }
    return found;
}

/* rt->mu held. Parked remote waiters for `name` are moved to *woken. */
static int reg_add(tr_runtime_t *rt, const char *name, const char *uuid, const tr__addr_t *a,
                   reg_waiter_t **woken) {
    tr__registry_t *r = reg_get(rt);
    if (!r) return TR_ENOMEM;
    reg_entry_t *e = entry_find(r, name, uuid);
    if (!e) {
        e = calloc(1, sizeof *e);
        if (!e) return TR_ENOMEM;
        snprintf(e->name, sizeof e->name, "%s", name);
        snprintf(e->uuid, sizeof e->uuid, "%s", uuid);
        reg_entry_t **pp = &r->head;
        while (*pp) pp = &(*pp)->next;
        *pp = e;
    }
    /* an address belongs to one actor: a new owner (a restarted actor that
     * got the same port or socket path) replaces the stale entry */
    drop_addr_elsewhere(r, a, e, NULL, 0, NULL, 0);
    if (!entry_has(e, a)) {
        if (e->n == TR__REG_MAX_ADDRS) return TR_ENOMEM;
        e->addrs[e->n++] = *a;
    }
    r->gen++;
    pthread_cond_broadcast(&r->cond);
    tr__signal_fd(rt);
    if (woken) {
        reg_waiter_t **pp = &r->waiters;
        while (*pp) {
            reg_waiter_t *w = *pp;
            if (!strcmp(w->name, name) || !tr__chan_alive(w->chan)) {
                *pp = w->next;
                w->next = *woken;
                *woken = w;
                continue;
            }
            pp = &w->next;
        }
    }
    return 0;
}

static int reg_remove(tr_runtime_t *rt, const char *name, const char *uuid) {
    tr__registry_t *r = reg_get(rt);
    reg_entry_t *e = r ? entry_find(r, name, uuid) : NULL;
    if (!e) return TR_ENOTFOUND;
    entry_unlink(r, e);
    r->gen++;
    return 0;
}

static int reg_find(tr_runtime_t *rt, const char *name, tr__addr_t *out, int cap) {
    tr__registry_t *r = reg_get(rt);
    if (!r) return 0;
    for (reg_entry_t *e = r->head; e; e = e->next)
        if (!strcmp(e->name, name)) {
            int n = e->n < cap ? e->n : cap;
            memcpy(out, e->addrs, (size_t)n * sizeof *out);
            return n;
        }
    return 0;
}

/* every address of every uid called `name` (tractor's wait_for_actor) */
static int reg_find_all(tr_runtime_t *rt, const char *name, tr__addr_t *out, int cap) {
    tr__registry_t *r = reg_get(rt);
    int n = 0;
    if (!r) return 0;
    for (reg_entry_t *e = r->head; e; e = e->next)
        if (!strcmp(e->name, name))
            for (int i = 0; i < e->n && n < cap; i++) out[n++] = e->addrs[i];
    return n;
}

static void enc_addr_list(tr__wbuf_t *b, const tr__addr_t *v, int n) {
    tr__mp_array(b, (uint32_t)n);
    for (int i = 0; i < n; i++) tr__addr_encode(b, &v[i]);
}

static void enc_registry(tr__registry_t *r, tr__wbuf_t *b) {
    uint32_t n = 0;
    for (reg_entry_t *e = r ? r->head : NULL; e; e = e->next) n++;
    tr__mp_map(b, n);
    for (reg_entry_t *e = r ? r->head : NULL; e; e = e->next) {
        char key[200];
        snprintf(key, sizeof key, "%s.%s", e->name, e->uuid);
        tr__mp_cstr(b, key);
        enc_addr_list(b, e->addrs, e->n);
    }
}

/* ---- local API (the registrar's own process) --------------------------- */

static int own_addrs(tr_runtime_t *rt, tr__addr_t *out) {
    int n = 0;
    for (int i = 0; i < rt->n_listeners; i++)
        if (rt->listeners[i].active) out[n++] = rt->listeners[i].addr;
    return n;
}

void tr__reg_local_register_self(tr_runtime_t *rt) {
    tr__addr_t a[TR__MAX_LISTENERS];
    pthread_mutex_lock(&rt->mu);
    int n = own_addrs(rt, a);
    for (int i = 0; i < n; i++) reg_add(rt, rt->aid.name, rt->aid.uuid, &a[i], NULL);
    pthread_mutex_unlock(&rt->mu);
}

void tr__reg_local_unregister_self(tr_runtime_t *rt) {
    pthread_mutex_lock(&rt->mu);
    reg_remove(rt, rt->aid.name, rt->aid.uuid);
    pthread_mutex_unlock(&rt->mu);
}

int tr__reg_local_find(tr_runtime_t *rt, const char *name, tr__addr_t *out, int cap) {
    pthread_mutex_lock(&rt->mu);
    int n = reg_find(rt, name, out, cap);
    pthread_mutex_unlock(&rt->mu);
    return n;
}

int tr__reg_local_wait(tr_runtime_t *rt, const char *name, tr__addr_t *out, int cap,
                       uint64_t deadline) {
    pthread_mutex_lock(&rt->mu);
    tr__registry_t *r = reg_get(rt);
    int n = 0, rc = 0;
    if (!r) rc = TR_ENOMEM;
    while (r && (n = reg_find_all(rt, name, out, cap)) == 0) {
        rc = tr__wait(rt, &r->cond, NULL, deadline, 1);
        if (rc) break;
    }
    if (n > 0) rc = 0;
    pthread_mutex_unlock(&rt->mu);
    return rc ? rc : n;
}

int tr__reg_local_delete_addr(tr_runtime_t *rt, const tr__addr_t *a) {
    pthread_mutex_lock(&rt->mu);
    tr__registry_t *r = reg_get(rt);
    int found = r ? drop_addr_elsewhere(r, a, NULL, NULL, 0, NULL, 0) : 0;
    pthread_mutex_unlock(&rt->mu);
    return found;
}

int tr__reg_local_dump(tr_runtime_t *rt, tr_buf_t *out) {
    tr__wbuf_t b;
    tr__wbuf_init(&b);
    pthread_mutex_lock(&rt->mu);
    enc_registry(reg_get(rt), &b);
    pthread_mutex_unlock(&rt->mu);
    if (b.oom) {
        tr__wbuf_free(&b);
        return TR_ENOMEM;
    }
    tr__chunk_t *k = tr__chunk_new(b.len);
    if (!k) {
        tr__wbuf_free(&b);
        return TR_ENOMEM;
    }
    memcpy(k->data, b.p, b.len);
    k->len = b.len;
    out->data = k->data;
    out->len = b.len;
    out->_ref = k;
    tr__wbuf_free(&b);
    return 0;
}

/* ---- serving requests (I/O thread) ------------------------------------- */

static int kw_str(tr__str_t kwargs, const char *key, char *out, size_t cap) {
    tr__str_t raw, s;
    tr__mp_reader_t r;
    if (tr__mp_map_get(kwargs, key, &raw)) return -1;
    tr__mp_reader_init(&r, raw.p, raw.n);
    if (tr__mp_read_str(&r, &s) || s.n == 0 || s.n >= cap || memchr(s.p, 0, s.n)) return -1;
    memcpy(out, s.p, s.n);
    out[s.n] = 0;
    return 0;
}

/* uid: [name, uuid] */
static int kw_uid(tr__str_t kwargs, char *name, size_t nl, char *uuid, size_t ul) {
    tr__str_t raw, a, b;
    tr__mp_reader_t r;
    tr__mp_tok_t t;
    if (tr__mp_map_get(kwargs, "uid", &raw)) return -1;
    tr__mp_reader_init(&r, raw.p, raw.n);
    if (tr__mp_next(&r, &t) || t.kind != TR__MP_ARRAY || t.count != 2) return -1;
    if (tr__mp_read_str(&r, &a) || tr__mp_read_str(&r, &b)) return -1;
    if (a.n == 0 || a.n >= nl || b.n >= ul || memchr(a.p, 0, a.n) || memchr(b.p, 0, b.n))
        return -1;
    memcpy(name, a.p, a.n);
    name[a.n] = 0;
    memcpy(uuid, b.p, b.n);
    uuid[b.n] = 0;
    return 0;
}

static int kw_addr(tr__str_t kwargs, tr__addr_t *a) {
    tr__str_t raw;
    if (tr__mp_map_get(kwargs, "addr", &raw)) return -1;
    if (tr__addr_decode(raw, a)) return -1;
    if (a->kind == TR__ADDR_TCP && a->port == 0) return -1;
    if (a->kind == TR__ADDR_UDS && (!a->file[0] || !a->dir[0])) return -1;
    return 0;
}

static void reply(tr__chan_t *chan, const char *cid, const tr__wbuf_t *pld) {
    tr__send_simple(chan, cid, TR__MSG_STARTACK, TR__STR("asyncfunc"), 0);
    tr__send_simple(chan, cid, TR__MSG_RETURN,
                    pld ? (tr__str_t){(const char *)pld->p, pld->len} : (tr__str_t){0}, 0);
}

static void reply_error(tr_runtime_t *rt, tr__chan_t *chan, const char *cid, const char *type,
                        const char *msg) {
    tr__send_simple(chan, cid, TR__MSG_STARTACK, TR__STR("asyncfunc"), 0);
    tr__send_error(rt, chan, cid, type, msg, "");
}

/* Answer woken waiters (rt->mu NOT held): each gets the addresses of the
 * actor that just registered; dead channels are just released. */
static void answer_waiters(reg_waiter_t *w, const tr__wbuf_t *pld) {
    while (w) {
        reg_waiter_t *n = w->next;
        if (tr__chan_alive(w->chan))
            tr__send_simple(w->chan, w->cid, TR__MSG_RETURN,
                            (tr__str_t){(const char *)pld->p, pld->len}, 0);
        tr__chan_release(w->chan);
        free(w);
        w = n;
    }
}

int tr__registrar_handle(tr_runtime_t *rt, tr__chan_t *chan, const tr__msg_t *m) {
    if (!rt->is_registrar) return 0; /* a plain actor has no registry methods */
    const tr__msg_start_t *s = &m->u.start;
    char cid[TR__CID_LEN + 8];
    snprintf(cid, sizeof cid, "%.*s", (int)m->cid.n, m->cid.p);
    char name[128], uuid[64], emsg[300];
    tr__addr_t a;
    tr__wbuf_t pld;
    tr__wbuf_init(&pld);

    if (tr__str_eq(s->func, "register_actor")) {
        if (kw_uid(s->kwargs, name, sizeof name, uuid, sizeof uuid) || kw_addr(s->kwargs, &a)) {
            reply_error(rt, chan, cid, "TypeError",
                        "register_actor() wants uid=[name, uuid] and addr=[host, port] or "
                        "[dir, file] (port != 0)");
            return 1;
        }
        reg_waiter_t *woken = NULL;
        pthread_mutex_lock(&rt->mu);
        int rc = reg_add(rt, name, uuid, &a, &woken);
        tr__addr_t all[TR__REG_MAX_ADDRS];
        int n = 0;
        if (rc == 0) {
            tr__registry_t *r = reg_get(rt);
            reg_entry_t *e = entry_find(r, name, uuid);
            n = e ? e->n : 0;
            if (e) memcpy(all, e->addrs, (size_t)n * sizeof all[0]);
        }
        pthread_mutex_unlock(&rt->mu);
        char as[300];
        tr__addr_format(&a, as, sizeof as);
        if (rc) {
            snprintf(emsg, sizeof emsg, "cannot register '%s' at %s: %s", name, as,
                     tr__strerror(rc));
            reply_error(rt, chan, cid, "RuntimeError", emsg);
            return 1;
        }
        TR__LOG(rt, TR_LOG_RUNTIME, "registrar", "registered '%s' (%.8s) at %s", name, uuid, as);
        reply(chan, cid, NULL);
        enc_addr_list(&pld, all, n);
        /* a woken waiter whose name differs was a dead channel: released */
        answer_waiters(woken, &pld);
        tr__wbuf_free(&pld);
        return 1;
    }
    if (tr__str_eq(s->func, "unregister_actor")) {
        if (kw_uid(s->kwargs, name, sizeof name, uuid, sizeof uuid)) {
            reply_error(rt, chan, cid, "TypeError", "unregister_actor() wants uid=[name, uuid]");
            return 1;
        }
        pthread_mutex_lock(&rt->mu);
        int rc = reg_remove(rt, name, uuid);
        pthread_mutex_unlock(&rt->mu);
        if (rc)
            TR__LOG(rt, TR_LOG_WARNING, "registrar", "unregister_actor: '%s' (%s) is not registered",
                    name, uuid);
        else
            TR__LOG(rt, TR_LOG_RUNTIME, "registrar", "unregistered '%s' (%.8s)", name, uuid);
        reply(chan, cid, NULL);
        return 1;
    }
    if (tr__str_eq(s->func, "find_actor") || tr__str_eq(s->func, "wait_for_actor")) {
        int wait = tr__str_eq(s->func, "wait_for_actor");
        if (kw_str(s->kwargs, "name", name, sizeof name)) {
            snprintf(emsg, sizeof emsg, "%s() wants name=<str>", wait ? "wait_for_actor" : "find_actor");
            reply_error(rt, chan, cid, "TypeError", emsg);
            return 1;
        }
        tr__addr_t v[TR__REG_MAX_ADDRS];
        pthread_mutex_lock(&rt->mu);
        int n = wait ? reg_find_all(rt, name, v, TR__REG_MAX_ADDRS)
                     : reg_find(rt, name, v, TR__REG_MAX_ADDRS);
        reg_waiter_t *dead = NULL;
        if (n == 0 && wait) {
            tr__registry_t *r = reg_get(rt);
            reg_waiter_t *w = calloc(1, sizeof *w);
            if (!r || !w) {
                free(w);
                pthread_mutex_unlock(&rt->mu);
                reply_error(rt, chan, cid, "MemoryError", "out of memory");
                return 1;
            }
            /* prune waiters whose caller went away */
            for (reg_waiter_t **pp = &r->waiters; *pp;) {
                reg_waiter_t *x = *pp;
                if (!tr__chan_alive(x->chan)) {
                    *pp = x->next;
                    x->next = dead;
                    dead = x;
                } else {
                    pp = &x->next;
                }
            }
            tr__chan_retain(chan);
            w->chan = chan;
            snprintf(w->cid, sizeof w->cid, "%s", cid);
            snprintf(w->name, sizeof w->name, "%s", name);
            w->next = r->waiters;
            r->waiters = w;
            pthread_mutex_unlock(&rt->mu);
            answer_waiters(dead, &pld);
            TR__LOG(rt, TR_LOG_RUNTIME, "registrar", "'%s' waits for '%s'", chan->peer.name, name);
            tr__send_simple(chan, cid, TR__MSG_STARTACK, TR__STR("asyncfunc"), 0);
            return 1;
        }
        pthread_mutex_unlock(&rt->mu);
        if (n == 0) {
            reply(chan, cid, NULL); /* find_actor: nil */
        } else {
            enc_addr_list(&pld, v, n);
            reply(chan, cid, &pld);
        }
        tr__wbuf_free(&pld);
        return 1;
    }
    if (tr__str_eq(s->func, "get_registry")) {
        pthread_mutex_lock(&rt->mu);
        enc_registry(reg_get(rt), &pld);
        pthread_mutex_unlock(&rt->mu);
        reply(chan, cid, &pld);
        tr__wbuf_free(&pld);
        return 1;
    }
    if (tr__str_eq(s->func, "delete_addr")) {
        tr__str_t raw;
        if (tr__mp_map_get(s->kwargs, "addr", &raw) || tr__addr_decode(raw, &a)) {
            reply_error(rt, chan, cid, "TypeError", "delete_addr() wants addr=[host, port] or [dir, file]");
            return 1;
        }
        pthread_mutex_lock(&rt->mu);
        tr__registry_t *r = reg_get(rt);
        int found = r && drop_addr_elsewhere(r, &a, NULL, name, sizeof name, uuid, sizeof uuid);
        pthread_mutex_unlock(&rt->mu);
        if (found) {
            char as[300];
            tr__addr_format(&a, as, sizeof as);
            TR__LOG(rt, TR_LOG_RUNTIME, "registrar", "deleted stale address %s of '%s'", as, name);
            tr__mp_array(&pld, 2);
            tr__mp_cstr(&pld, name);
            tr__mp_cstr(&pld, uuid);
            reply(chan, cid, &pld);
        } else {
            reply(chan, cid, NULL);
        }
        tr__wbuf_free(&pld);
        return 1;
    }
    return 0; /* unknown: the runtime answers AttributeError */
}

void tr__registrar_free(tr_runtime_t *rt) {
    tr__registry_t *r = rt->registry;
    if (!r) return;
    while (r->head) {
        reg_entry_t *e = r->head;
        r->head = e->next;
        free(e);
    }
    while (r->waiters) {
        reg_waiter_t *w = r->waiters;
        r->waiters = w->next;
        tr__chan_release(w->chan);
        free(w);
    }
    pthread_cond_destroy(&r->cond);
    free(r);
    rt->registry = NULL;
}
