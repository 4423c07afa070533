/* Root start-up: tractor's registrar election (_root._probe_registry_addrs),
 * and every actor's registration at boot / unregistration at teardown
 * (runtime._runtime.async_main). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "core/discovery/discovery.h"

int tr__runtime_listen(tr_runtime_t *rt, const tr__addr_t *a, char *err, size_t errlen);

/* we registered with rt->reg_addrs (one runtime per process) */
static atomic_int registered;

int tr__registry_addrs(const char *list, int transport, tr__addr_t *out, int cap, int *n,
                       char *err, size_t errlen) {
    *n = 0;
    const char *src = list && *list ? list : getenv("TRACTOR_REGISTRY_ADDR");
    if (!src || !*src) {
        memset(out, 0, sizeof *out);
        if (transport == TR__ADDR_UDS) {
            char dir[256];
            int rc = tr__rt_dir(dir, sizeof dir, err, errlen);
            if (rc) return rc;
            out->kind = TR__ADDR_UDS;
            snprintf(out->dir, sizeof out->dir, "%s", dir);
            snprintf(out->file, sizeof out->file, "registry@%d.sock", TR__REG_DEFAULT_PORT);
        } else {
            out->kind = TR__ADDR_TCP;
            snprintf(out->host, sizeof out->host, "127.0.0.1");
            out->port = TR__REG_DEFAULT_PORT;
        }
        *n = 1;
        return 0;
    }
    char *copy = tr__strdup(src), *save = NULL;
    if (!copy) return TR_ENOMEM;
    int rc = 0;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ' || *t == '\t') t++;
        size_t l = strlen(t);
        while (l && (t[l - 1] == ' ' || t[l - 1] == '\t')) t[--l] = 0;
        if (!*t) continue;
        if (*n == cap) {
            snprintf(err, errlen, "too many registry addresses (at most %d)", cap);
            rc = TR_EINVAL;
            break;
        }
        char e[200];
        if (tr__addr_parse(t, &out[*n], e, sizeof e)) {
            snprintf(err, errlen, "bad registry address: %s", e);
            rc = TR_EADDR;
            break;
        }
        (*n)++;
    }
    free(copy);
    if (rc == 0 && *n == 0) {
        snprintf(err, errlen, "empty registry address list `%s`", src);
        rc = TR_EADDR;
    }
    return rc;
}

/* Serialise UDS elections in one directory (probe + bind must be atomic:
 * binding a UDS path replaces a stale socket file, which could otherwise
 * remove a registrar that bound it a moment earlier). Returns an fd or -1. */
static int uds_lock(const char *dir) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    uint64_t end = tr__now_ns() + 5000000000ull;
    while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK || tr__now_ns() > end) {
            close(fd);
            return -1; /* go on unlocked rather than fail */
        }
        struct timespec ts = {0, 5000000L};
        nanosleep(&ts, NULL);
    }
    return fd;
}

static void uds_unlock(int fd) {
    if (fd < 0) return;
    flock(fd, LOCK_UN);
    close(fd);
}

static int elect(tr_runtime_t *rt, int mode, tr__addr_t *addrs, int n, char *err, size_t errlen,
                 int *retry) {
    int cls[4];
    tr__aid_info_t peer[4];
    char why[4][200], as[4][300];
    *retry = 0;
    int reg = -1, occ = -1;
    for (int i = 0; i < n; i++) {
        tr__addr_format(&addrs[i], as[i], sizeof as[i]);
        why[i][0] = 0;
        cls[i] = tr__probe(&addrs[i], rt->max_frame, &peer[i], why[i], sizeof why[i]);
        if (cls[i] == TR_EADDR) {
            snprintf(err, errlen, "registry address %s is unusable: %s", as[i], why[i]);
            return TR_EADDR;
        }
        if (cls[i] == TR__PROBE_REGISTRAR && reg < 0) reg = i;
        if (cls[i] == TR__PROBE_OCCUPIED && occ < 0) occ = i;
        TR__LOG(rt, TR_LOG_RUNTIME, "discovery", "registry probe %s: %s", as[i],
                cls[i] == TR__PROBE_REGISTRAR ? "registrar"
                : cls[i] == TR__PROBE_OCCUPIED ? "occupied"
                                               : "nothing listening");
    }
    if (reg >= 0) {
        if (mode == TR__REGMODE_BECOME) {
            snprintf(err, errlen, "a registrar is already running at %s (actor '%s', pid %lld)",
                     as[reg], peer[reg].name, (long long)peer[reg].pid);
            return TR_EEXIST;
        }
        rt->n_reg_addrs = 0;
        for (int i = 0; i < n; i++)
            if (cls[i] != TR__PROBE_OCCUPIED) rt->reg_addrs[rt->n_reg_addrs++] = addrs[i];
        TR__LOG(rt, TR_LOG_RUNTIME, "discovery", "joined registrar '%s' at %s", peer[reg].name,
                as[reg]);
        return 0;
    }
    if (occ >= 0) {
        snprintf(err, errlen,
                 "registry address %s is occupied by something that is not a tractor registrar "
                 "(%s); pass other registry addresses (registry_addrs / TRACTOR_REGISTRY_ADDR)",
                 as[occ], why[occ][0] ? why[occ] : "no handshake");
        return TR_EADDR;
    }
    if (mode == TR__REGMODE_JOIN) {
        snprintf(err, errlen, "no registrar answers at %s", as[0]);
        return TR_ETRANSPORT;
    }
    if (n > TR__MAX_LISTENERS - rt->n_listeners) {
        snprintf(err, errlen, "cannot serve %d registry addresses (at most %d)", n,
                 TR__MAX_LISTENERS - rt->n_listeners);
        return TR_EINVAL;
    }
    /* nothing anywhere: we are the registrar */
    rt->is_registrar = 1;
    rt->aid.is_registrar = 1;
    int bound = 0;
    char lerr[256] = "";
    for (int i = 0; i < n; i++) {
        int rc = tr__runtime_listen(rt, &addrs[i], lerr, sizeof lerr);
        if (rc == 0) {
            rt->reg_addrs[bound++] = rt->listeners[rt->n_listeners - 1].addr;
            continue;
        }
        if (i == 0) break;
        TR__LOG(rt, TR_LOG_WARNING, "discovery", "registrar: %s", lerr);
    }
    if (bound) {
        rt->n_reg_addrs = bound;
        char a0[300];
        tr__addr_format(&rt->reg_addrs[0], a0, sizeof a0);
        TR__LOG(rt, TR_LOG_RUNTIME, "discovery", "'%s' is the registrar at %s", rt->aid.name, a0);
        return 0;
    }
    rt->is_registrar = 0;
    rt->aid.is_registrar = 0;
    /* lost a race with another root that bound it since our probe */
    *retry = strstr(lerr, "in use") != NULL;
    snprintf(err, errlen, "cannot become the registrar at %s: %s", as[0], lerr);
    return TR_EADDR;
}

int tr__discovery_boot(tr_runtime_t *rt, const char *registry_addrs, char *err, size_t errlen) {
    int mode = rt->enable_registrar;
    if (mode < TR__REGMODE_ELECT || mode > TR__REGMODE_BECOME) mode = TR__REGMODE_ELECT;
    atomic_store(&registered, 0);
    rt->n_reg_addrs = 0;
    tr__addr_t addrs[4];
    int n, rc;
    if ((rc = tr__registry_addrs(registry_addrs, rt->transport, addrs, 4, &n, err, errlen)))
        return rc;
    for (int round = 0;; round++) {
        int lock = addrs[0].kind == TR__ADDR_UDS ? uds_lock(addrs[0].dir) : -1;
        int retry;
        rc = elect(rt, mode, addrs, n, err, errlen, &retry);
        uds_unlock(lock);
        if (!rc || !retry || round == 4) return rc;
        struct timespec ts = {0, (long)(10 + (tr__now_ns() / 1000) % 50) * 1000000L};
        nanosleep(&ts, NULL);
    }
}

/* ---- register / unregister -------------------------------------------- */

static void enc_uid(tr__wbuf_t *b, tr_runtime_t *rt) {
    tr__mp_cstr(b, "uid");
    tr__mp_array(b, 2);
    tr__mp_cstr(b, rt->aid.name);
    tr__mp_cstr(b, rt->aid.uuid);
}

static int call_registrar(tr_runtime_t *rt, const tr__addr_t *reg, const char *func,
                          const tr__wbuf_t *kw, uint64_t deadline, char *why, size_t wl) {
    tr__bconn_t c;
    int absent;
    int rc = tr__bconn_open(&c, reg, &rt->aid, rt->max_frame, deadline, &absent, why, wl);
    if (rc) return rc;
    rc = tr__bconn_call(&c, &rt->aid, func, kw->p, kw->len, deadline, why, wl);
    tr__bconn_close(&c);
    return rc;
}

int tr__discovery_register_self(tr_runtime_t *rt) {
    if (rt->is_registrar) {
        tr__reg_local_register_self(rt);
        return 0;
    }
    int ok = 0;
    for (int i = 0; i < rt->n_reg_addrs; i++) {
        char rs[300];
        tr__addr_format(&rt->reg_addrs[i], rs, sizeof rs);
        for (int j = 0; j < rt->n_listeners; j++) {
            if (!rt->listeners[j].active) continue;
            tr__wbuf_t kw;
            tr__wbuf_init(&kw);
            tr__mp_map(&kw, 2);
            enc_uid(&kw, rt);
            tr__mp_cstr(&kw, "addr");
            tr__addr_encode(&kw, &rt->listeners[j].addr);
            char why[300];
            int rc = call_registrar(rt, &rt->reg_addrs[i], "register_actor", &kw,
                                    tr__now_ns() + 2000000000ull, why, sizeof why);
            tr__wbuf_free(&kw);
            if (rc) {
                TR__LOG(rt, TR_LOG_WARNING, "discovery", "could not register with the registrar at %s: %s",
                        rs, why);
                break;
            }
            ok = 1;
            TR__LOG(rt, TR_LOG_RUNTIME, "discovery", "registered with the registrar at %s", rs);
        }
    }
    atomic_store(&registered, ok);
    return 0;
}

void tr__discovery_unregister_self(tr_runtime_t *rt) {
    if (rt->is_registrar) {
        tr__reg_local_unregister_self(rt);
        return;
    }
    if (!atomic_exchange(&registered, 0)) return;
    /* tractor bounds this to 0.5 s */
    uint64_t deadline = tr__now_ns() + 500000000ull;
    for (int i = 0; i < rt->n_reg_addrs; i++) {
        tr__wbuf_t kw;
        tr__wbuf_init(&kw);
        tr__mp_map(&kw, 1);
        enc_uid(&kw, rt);
        char why[300];
        int rc = call_registrar(rt, &rt->reg_addrs[i], "unregister_actor", &kw, deadline, why,
                                sizeof why);
        tr__wbuf_free(&kw);
        if (rc) {
            char rs[300];
            tr__addr_format(&rt->reg_addrs[i], rs, sizeof rs);
            TR__LOG(rt, TR_LOG_RUNTIME, "discovery", "could not unregister from %s: %s", rs, why);
        }
    }
}
