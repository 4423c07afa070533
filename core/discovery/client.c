/* The discovery client API (tractor's discovery/_api.py): find_actor,
 * wait_for_actor, query_actor, get_registry. Remote registrars are called
 * through a portal on a fresh connection; a registrar process answers its
 * own queries locally. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/discovery/discovery.h"

/* ---- helpers ----------------------------------------------------------- */

static int ms_left(uint64_t deadline) {
    if (deadline == UINT64_MAX) return -1;
    uint64_t now = tr__now_ns();
    if (deadline <= now) return 1;
    uint64_t ms = (deadline - now + 999999) / 1000000;
    return ms > 0x7fffffff ? 0x7fffffff : (int)ms;
}

static int expired(uint64_t deadline) {
    return deadline != UINT64_MAX && tr__now_ns() >= deadline;
}

static int have_registry(tr_runtime_t *rt) { return rt->is_registrar || rt->n_reg_addrs > 0; }

/* Decode a msgpack list of addresses (nil = none). Count or -1. */
static int decode_addrs(const tr_buf_t *b, tr__addr_t *out, int cap) {
    tr__mp_reader_t r;
    tr__mp_tok_t t;
    tr__mp_reader_init(&r, b->data, b->len);
    if (tr__mp_next(&r, &t)) return -1;
    if (t.kind == TR__MP_NIL) return 0;
    if (t.kind != TR__MP_ARRAY) return -1;
    int n = 0;
    for (uint32_t i = 0; i < t.count; i++) {
        tr__str_t raw;
        if (tr__mp_read_raw(&r, &raw)) return -1;
        if (n < cap && tr__addr_decode(raw, &out[n]) == 0) n++;
    }
    return n;
}

/* Call `func` on the registrar at `reg` over a fresh connection. */
static int reg_call(tr_runtime_t *rt, const tr__addr_t *reg, const char *func, const tr__wbuf_t *kw,
                    tr_buf_t *res, uint64_t deadline) {
    tr_portal_t *p;
    int rc = tr__portal_connect_addr(rt, reg, &p, deadline == UINT64_MAX ? 5000 : ms_left(deadline));
    if (rc) return rc;
    tr_error_t *err = NULL;
    rc = tr__portal_run(p, "self", func, kw ? kw->p : NULL, kw ? kw->len : 0, res, &err,
                       ms_left(deadline));
    if (rc == TR_EREMOTE && err) {
        char as[300];
        tr__addr_format(reg, as, sizeof as);
        TR__LOG(rt, TR_LOG_WARNING, "discovery", "registrar at %s: %s() failed: %s", as, func,
                tr__error_str(err));
    }
    tr__error_free(err);
    tr__portal_release(p);
    return rc;
}

static void kw_name(tr__wbuf_t *kw, const char *name) {
    tr__mp_map(kw, 1);
    tr__mp_cstr(kw, "name");
    tr__mp_cstr(kw, name);
}

/* Ask the registrars for `name`. On success (count > 0) *which is the index
 * of the registrar that answered (-1: ourselves). Returns count, 0 when no
 * registrar knows the name, or a TR_E* code when none could be asked. */
static int lookup(tr_runtime_t *rt, const char *name, tr__addr_t *out, int cap, int *which,
                  uint64_t deadline) {
    *which = -1;
    if (rt->is_registrar) return tr__reg_local_find(rt, name, out, cap);
    if (!have_registry(rt)) return TR_ESTATE;
    int answered = 0, last = TR_ETRANSPORT;
    for (int i = 0; i < rt->n_reg_addrs; i++) {
        tr__wbuf_t kw;
        tr__wbuf_init(&kw);
        kw_name(&kw, name);
        tr_buf_t res = {0};
        int rc = reg_call(rt, &rt->reg_addrs[i], "find_actor", &kw, &res, deadline);
        tr__wbuf_free(&kw);
        if (rc == TR_ECANCELLED) return rc;
        if (rc) {
            last = rc;
            continue;
        }
        answered = 1;
        int n = decode_addrs(&res, out, cap);
        tr__buf_release(&res);
        if (n > 0) {
            *which = i;
            return n;
        }
    }
    return answered ? 0 : last;
}

static void delete_addr(tr_runtime_t *rt, int which, const tr__addr_t *a, uint64_t deadline) {
    char as[300];
    tr__addr_format(a, as, sizeof as);
    TR__LOG(rt, TR_LOG_RUNTIME, "discovery", "deleting stale registry address %s", as);
    if (which < 0) {
        tr__reg_local_delete_addr(rt, a);
        return;
    }
    tr__wbuf_t kw;
    tr__wbuf_init(&kw);
    tr__mp_map(&kw, 1);
    tr__mp_cstr(&kw, "addr");
    tr__addr_encode(&kw, a);
    tr_buf_t res = {0};
    /* bounded even when the caller waits forever */
    uint64_t dl = tr__now_ns() + 2000000000ull;
    if (deadline < dl) dl = deadline;
    if (reg_call(rt, &rt->reg_addrs[which], "delete_addr", &kw, &res, dl) == 0) tr__buf_release(&res);
    tr__wbuf_free(&kw);
}

/* Connect to the first live address in preference order; stale ones are
 * deleted from the registrar that gave them. 0, TR_ENOTFOUND (all stale),
 * or TR_ETIMEDOUT / TR_ECANCELLED. */
static int connect_pref(tr_runtime_t *rt, tr__addr_t *v, int n, int which, tr_portal_t **out,
                        uint64_t deadline) {
    tr__addr_sort_pref(v, n);
    for (int i = 0; i < n; i++) {
        int rc = tr__portal_connect_addr(rt, &v[i], out, deadline == UINT64_MAX ? 10000 : ms_left(deadline));
        if (rc == 0) return 0;
        if (rc != TR_ETRANSPORT) return rc;
        delete_addr(rt, which, &v[i], deadline);
    }
    return TR_ENOTFOUND;
}

/* ---- public API ------------------------------------------------------- */

int tr__query_actor(tr_runtime_t *rt, const char *name, char *buf, size_t buflen, int timeout_ms) {
    if (!rt || !name || !*name || !buf || !buflen) return TR_EINVAL;
    uint64_t deadline = tr__deadline(timeout_ms == 0 ? 1000 : timeout_ms);
    tr__addr_t v[TR__REG_MAX_ADDRS];
    int which;
    int n = lookup(rt, name, v, TR__REG_MAX_ADDRS, &which, deadline);
    if (n < 0) return n;
    if (n == 0) return TR_ENOTFOUND;
    tr__addr_sort_pref(v, n);
    return tr__addr_format(&v[0], buf, buflen);
}

int tr__find_actor(tr_runtime_t *rt, const char *name, tr_portal_t **out, int timeout_ms) {
    if (!rt || !name || !*name || !out) return TR_EINVAL;
    *out = NULL;
    uint64_t deadline = tr__deadline(timeout_ms == 0 ? 1000 : timeout_ms);
    /* a stale entry is deleted and the lookup repeated: another actor of
     * the same name may be registered behind it */
    for (int round = 0; round < 8; round++) {
        tr__addr_t v[TR__REG_MAX_ADDRS];
        int which;
        int n = lookup(rt, name, v, TR__REG_MAX_ADDRS, &which, deadline);
        if (n < 0) return n;
        if (n == 0) return TR_ENOTFOUND;
        int rc = connect_pref(rt, v, n, which, out, deadline);
        if (rc != TR_ENOTFOUND) return rc;
        if (expired(deadline)) return TR_ETIMEDOUT;
    }
    return TR_ENOTFOUND;
}

/* Short cancellable pause between retries. */
static int nap(tr_runtime_t *rt, int ms, uint64_t deadline) {
    uint64_t dl = tr__deadline(ms);
    if (deadline < dl) dl = deadline;
    pthread_cond_t c;
    pthread_cond_init(&c, &rt->cattr);
    pthread_mutex_lock(&rt->mu);
    int rc;
    while ((rc = tr__wait(rt, &c, NULL, dl, 1)) == 0) {
    }
    pthread_mutex_unlock(&rt->mu);
    pthread_cond_destroy(&c);
    if (rc == TR_ECANCELLED) return rc;
    return expired(deadline) ? TR_ETIMEDOUT : 0;
}

int tr__wait_for_actor(tr_runtime_t *rt, const char *name, tr_portal_t **out, int timeout_ms) {
    if (!rt || !name || !*name || !out) return TR_EINVAL;
    *out = NULL;
    if (!have_registry(rt)) return TR_ESTATE;
    if (timeout_ms == 0) { /* poll */
        int rc = tr__find_actor(rt, name, out, 1000);
        return rc == TR_ENOTFOUND ? TR_EAGAIN : rc;
    }
    uint64_t deadline = tr__deadline(timeout_ms);
    int reg = 0; /* the registrar we wait on (rotates when unreachable) */
    for (;;) {
        tr__addr_t v[TR__REG_MAX_ADDRS];
        int n, which = -1;
        if (rt->is_registrar) {
            n = tr__reg_local_wait(rt, name, v, TR__REG_MAX_ADDRS, deadline);
            if (n == TR_EAGAIN) n = TR_ETIMEDOUT;
        } else {
            tr__wbuf_t kw;
            tr__wbuf_init(&kw);
            kw_name(&kw, name);
            tr_buf_t res = {0};
            which = reg % rt->n_reg_addrs;
            n = reg_call(rt, &rt->reg_addrs[which], "wait_for_actor", &kw, &res, deadline);
            tr__wbuf_free(&kw);
            if (n == 0) {
                n = decode_addrs(&res, v, TR__REG_MAX_ADDRS);
                tr__buf_release(&res);
                if (n < 0) n = TR_EPROTO;
            } else if (n == TR_ETRANSPORT || n == TR_EREMOTE) {
                /* registrar down (or restarting): try again shortly */
                reg++;
                int rc = nap(rt, 100, deadline);
                if (rc) return rc;
                continue;
            }
        }
        if (n == TR_EAGAIN) n = TR_ETIMEDOUT;
        if (n < 0) return n;
        if (n == 0) { /* cannot happen with a conforming registrar */
            int rc = nap(rt, 100, deadline);
            if (rc) return rc;
            continue;
        }
        int rc = connect_pref(rt, v, n, which, out, deadline);
        if (rc != TR_ENOTFOUND) return rc;
        if (expired(deadline)) return TR_ETIMEDOUT;
    }
}

int tr__get_registry(tr_runtime_t *rt, tr_buf_t *out, int timeout_ms) {
    if (!rt || !out) return TR_EINVAL;
    memset(out, 0, sizeof *out);
    if (rt->is_registrar) return tr__reg_local_dump(rt, out);
    if (!have_registry(rt)) return TR_ESTATE;
    uint64_t deadline = tr__deadline(timeout_ms == 0 ? 1000 : timeout_ms);
    int rc = TR_ETRANSPORT;
    for (int i = 0; i < rt->n_reg_addrs; i++) {
        rc = reg_call(rt, &rt->reg_addrs[i], "get_registry", NULL, out, deadline);
        if (rc == 0 || rc == TR_ECANCELLED || expired(deadline)) break;
    }
    return rc;
}
