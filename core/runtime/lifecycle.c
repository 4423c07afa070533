/* Opening and closing the runtime, child boot, serving. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "core/runtime/rt.h"

int tr__io_start(tr_runtime_t *rt);
void tr__io_stop(tr_runtime_t *rt);
int tr__efd_open(tr_runtime_t *rt);
void tr__efd_clear(tr_runtime_t *rt);

static atomic_int the_runtime_open;

void tr__runtime_opts_init(tr_runtime_opts_t *o) {
    memset(o, 0, sizeof *o);
    o->size = sizeof *o;
    o->handle_signals = 1;
    o->enable_registrar = 1;
}

/* Parse python-repr tuples "('a', 'b')" / "('h', 123)": up to two items. */
static int parse_tuple(const char *s, char *a, size_t alen, char *b, size_t blen, int *num) {
    const char *p = s;
    *num = -1;
    while (*p == ' ' || *p == '(') p++;
    for (int item = 0; item < 2; item++) {
        while (*p == ' ' || *p == ',') p++;
        char *dst = item ? b : a;
        size_t cap = item ? blen : alen;
        if (*p == '\'' || *p == '"') {
            char q = *p++;
            size_t n = 0;
            while (*p && *p != q) {
                if (n + 1 < cap) dst[n++] = *p;
                p++;
            }
            dst[n] = 0;
            if (*p != q) return -1;
            p++;
        } else if (item == 1 && *p >= '0' && *p <= '9') {
            *num = (int)strtol(p, (char **)&p, 10);
            dst[0] = 0;
        } else {
            return -1;
        }
    }
    return 0;
}

static int parse_child_args(tr_runtime_t *rt, int argc, char **argv, char *err, size_t errlen) {
    const char *uid = NULL, *paddr = NULL, *lvl = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--uid") && i + 1 < argc) uid = argv[++i];
        else if (!strcmp(argv[i], "--parent_addr") && i + 1 < argc) paddr = argv[++i];
        else if (!strcmp(argv[i], "--loglevel") && i + 1 < argc) lvl = argv[++i];
    }
    if (!uid || !paddr) {
        snprintf(err, errlen, "child command line needs --uid \"('name', 'uuid')\" and --parent_addr");
        return TR_EINVAL;
    }
    int num;
    if (parse_tuple(uid, rt->aid.name, sizeof rt->aid.name, rt->aid.uuid, sizeof rt->aid.uuid, &num) ||
        num != -1) {
        snprintf(err, errlen, "bad --uid `%s` (want \"('name', 'uuid')\")", uid);
        return TR_EINVAL;
    }
    char a[256], b[128];
    if (parse_tuple(paddr, a, sizeof a, b, sizeof b, &num) == 0) {
        memset(&rt->parent_addr, 0, sizeof rt->parent_addr);
        if (num >= 0) {
            rt->parent_addr.kind = TR__ADDR_TCP;
            snprintf(rt->parent_addr.host, sizeof rt->parent_addr.host, "%s", a);
            rt->parent_addr.port = num;
        } else {
            rt->parent_addr.kind = TR__ADDR_UDS;
            snprintf(rt->parent_addr.dir, sizeof rt->parent_addr.dir, "%s", a);
            snprintf(rt->parent_addr.file, sizeof rt->parent_addr.file, "%s", b);
        }
    } else if (tr__addr_parse(paddr, &rt->parent_addr, err, errlen) != 0) {
        return TR_EINVAL;
    }
    if (lvl) {
        int l = tr__log_level_parse(lvl);
        if (l > 0) rt->loglevel = l;
    }
    return 0;
}

/* ---- I/O-thread commands ----------------------------------------------- */

static void on_parent_connected(tr__chan_t *c, int status, const char *why, void *arg) {
    tr_runtime_t *rt = arg;
    pthread_mutex_lock(&rt->mu);
    if (status) {
        rt->boot_state = TR_ETRANSPORT;
        snprintf(rt->boot_err, sizeof rt->boot_err, "cannot reach parent: %s", why);
        pthread_cond_broadcast(&rt->wait_cond);
    } else {
        tr__chan_retain(c);
        rt->parent = c;
    }
    pthread_mutex_unlock(&rt->mu);
}

static void cmd_connect_parent(tr_runtime_t *rt, void *arg) {
    (void)arg;
    int rc = tr__chan_connect(&rt->rset, &rt->parent_addr, &tr__rt_chan_cbs, rt, &rt->aid,
                              rt->max_frame, rt->hs_timeout_ms, on_parent_connected, rt);
    if (rc) {
        pthread_mutex_lock(&rt->mu);
        rt->boot_state = rc;
        snprintf(rt->boot_err, sizeof rt->boot_err, "bad parent address");
        pthread_cond_broadcast(&rt->wait_cond);
        pthread_mutex_unlock(&rt->mu);
    }
}

struct listen_cmd {
    tr__addr_t addr;
    int rc;
    char err[200];
};

static void cmd_listen(tr_runtime_t *rt, void *arg) {
    struct listen_cmd *lc = arg;
    tr__listener_t *l = &rt->listeners[rt->n_listeners];
    l->cbs = &tr__rt_chan_cbs;
    l->owner = rt;
    l->local = &rt->aid;
    l->max_frame = rt->max_frame;
    l->hs_timeout_ms = rt->hs_timeout_ms;
    lc->rc = tr__listen(&rt->rset, l, &lc->addr, lc->err, sizeof lc->err);
    if (lc->rc == 0) rt->n_listeners++;
}

int tr__default_bind_addr(tr_runtime_t *rt, tr__addr_t *a, char *err, size_t errlen) {
    memset(a, 0, sizeof *a);
    if (rt->transport == TR__ADDR_UDS) {
        char dir[256];
        int rc = tr__rt_dir(dir, sizeof dir, err, errlen);
        if (rc) return rc;
        a->kind = TR__ADDR_UDS;
        snprintf(a->dir, sizeof a->dir, "%s", dir);
        snprintf(a->file, sizeof a->file, "%s@%d.sock", rt->aid.name, (int)getpid());
        if (strlen(a->dir) + strlen(a->file) + 2 >= 108 || strchr(rt->aid.name, '/')) {
            unsigned h = 2166136261u;
            for (const char *p = rt->aid.name; *p; p++) h = (h ^ (uint8_t)*p) * 16777619u;
            snprintf(a->file, sizeof a->file, "actor.%08x@%d.sock", h, (int)getpid());
        }
    } else {
        a->kind = TR__ADDR_TCP;
        snprintf(a->host, sizeof a->host, "127.0.0.1");
        a->port = 0;
    }
    return 0;
}

int tr__runtime_listen(tr_runtime_t *rt, const tr__addr_t *a, char *err, size_t errlen) {
    struct listen_cmd lc;
    memset(&lc, 0, sizeof lc);
    lc.addr = *a;
    if (rt->n_listeners >= TR__MAX_LISTENERS) return TR_ESTATE;
    tr__post_sync(rt, cmd_listen, &lc);
    if (lc.rc && err) snprintf(err, errlen, "%s", lc.err);
    return lc.rc;
}

/* ---- open ------------------------------------------------------------- */


int tr__runtime_open(const tr_runtime_opts_t *opts, const tr__rt_ops_t *ops,
                     tr_runtime_t **out) {
    if (!out || !ops) return TR_EINVAL;
    *out = NULL;
    tr_runtime_opts_t o;
    tr__runtime_opts_init(&o);
    if (opts) {
        if (opts->size < offsetof(tr_runtime_opts_t, child_argc)) return TR_EINVAL;
        memcpy(&o, opts, opts->size < sizeof o ? opts->size : sizeof o);
    }
    int expected = 0;
    if (!atomic_compare_exchange_strong(&the_runtime_open, &expected, 1)) {
        tr__log(NULL, TR_LOG_ERROR, "runtime",
                "tr_runtime_open: a runtime is already open in this process (one actor per process)");
        return TR_EEXIST;
    }
    tr_runtime_t *rt = calloc(1, sizeof *rt);
    if (!rt) {
        atomic_store(&the_runtime_open, 0);
        return TR_ENOMEM;
    }
    rt->ops = ops;
    pthread_mutex_init(&rt->mu, NULL);
    pthread_mutex_init(&rt->dirty_mu, NULL);
    pthread_condattr_init(&rt->cattr);
    pthread_condattr_setclock(&rt->cattr, CLOCK_MONOTONIC);
    pthread_cond_init(&rt->wait_cond, &rt->cattr);
    pthread_cond_init(&rt->tasks_cond, &rt->cattr);
    pthread_cond_init(&rt->pool_cond, &rt->cattr);
    rt->efd = -1;
    rt->task_mode = o.task_mode;
    rt->handle_signals = o.handle_signals;
    rt->enable_registrar = o.enable_registrar;
    rt->max_frame = o.max_frame_size ? o.max_frame_size : 64u * 1024 * 1024;
    rt->hs_timeout_ms = 10000;
    if (opts && opts->size >= offsetof(tr_runtime_opts_t, handshake_timeout_ms) + sizeof(int) &&
        o.handshake_timeout_ms > 0)
        rt->hs_timeout_ms = o.handshake_timeout_ms;
    else if (getenv("TRACTOR_HANDSHAKE_TIMEOUT_MS") && atoi(getenv("TRACTOR_HANDSHAKE_TIMEOUT_MS")) > 0)
        rt->hs_timeout_ms = atoi(getenv("TRACTOR_HANDSHAKE_TIMEOUT_MS"));
    rt->module_path = tr__strdup(o.module_path ? o.module_path : getenv("TRACTOR_MODULE_PATH"));
    rt->aid.pid = getpid();
    rt->aid.is_registrar = 0;
    const char *lvl = getenv("TRACTOR_LOGLEVEL");
    if (!lvl || !*lvl) lvl = o.loglevel;
    rt->loglevel = lvl ? tr__log_level_parse(lvl) : TR_LOG_ERROR;
    if (rt->loglevel <= 0) rt->loglevel = TR_LOG_ERROR;
    rt->transport = (o.transport && !strcmp(o.transport, "uds")) ? TR__ADDR_UDS : TR__ADDR_TCP;
    if (o.transport && strcmp(o.transport, "uds") && strcmp(o.transport, "tcp")) {
        tr__log(NULL, TR_LOG_ERROR, "runtime", "unknown transport `%s` (want tcp or uds)",
                o.transport);
        goto fail_early;
    }
    char err[256] = "";
    int rc;
    if (o.child_argc > 0 && o.child_argv) {
        rt->is_child = 1;
        if ((rc = parse_child_args(rt, o.child_argc, o.child_argv, err, sizeof err)) != 0) {
            tr__log(NULL, TR_LOG_ERROR, "runtime", "%s", err);
            goto fail_early;
        }
        const char *lvl_env = getenv("TRACTOR_LOGLEVEL");
        if (lvl_env && *lvl_env && tr__log_level_parse(lvl_env) > 0)
            rt->loglevel = tr__log_level_parse(lvl_env);
        const char *ppid = getenv("TRACTOR_PARENT_PID");
        if (ppid) {
            /* die with the parent (Python tractor lacks this) */
            prctl(PR_SET_PDEATHSIG, SIGTERM);
            if (getppid() != (pid_t)atoi(ppid)) _exit(1);
        }
    } else {
        snprintf(rt->aid.name, sizeof rt->aid.name, "%s", o.name ? o.name : "root");
        tr__uuid4(rt->aid.uuid);
    }
    if (signal(SIGPIPE, SIG_IGN) == SIG_ERR) { /* sockets report EPIPE instead */
    }
    if (tr__efd_open(rt) || tr__io_start(rt)) {
        rc = TR_EIO;
        goto fail;
    }
    tr__the_runtime = rt;
    if (rt->is_child) {
        tr__post(rt, cmd_connect_parent, NULL);
        uint64_t dl = tr__deadline(15000);
        pthread_mutex_lock(&rt->mu);
        while (rt->boot_state == 0)
            if (tr__wait(rt, &rt->wait_cond, NULL, dl, 0) == TR_ETIMEDOUT) break;
        rc = rt->boot_state;
        pthread_mutex_unlock(&rt->mu);
        if (rc != 1) {
            tr__log(rt, TR_LOG_ERROR, "runtime", "child boot failed: %s",
                    rc == 0 ? "timed out waiting for the SpawnSpec" : rt->boot_err);
            rc = rc == 0 ? TR_ETIMEDOUT : rc;
            goto fail;
        }
    } else {
        tr__addr_t a;
        if (o.bind_addr) {
            if ((rc = tr__addr_parse(o.bind_addr, &a, err, sizeof err)) != 0) {
                tr__log(rt, TR_LOG_ERROR, "runtime", "bad bind address: %s", err);
                goto fail;
            }
            rt->transport = a.kind;
        } else if ((rc = tr__default_bind_addr(rt, &a, err, sizeof err)) != 0) {
            tr__log(rt, TR_LOG_ERROR, "runtime", "%s", err);
            goto fail;
        }
        if (rt->enable_registrar) {
            rc = rt->ops->discovery_boot(rt, o.registry_addrs, err, sizeof err);
            if (rc) {
                tr__log(rt, TR_LOG_ERROR, "runtime", "%s", err);
                goto fail;
            }
        }
        if (rt->n_listeners == 0 || o.bind_addr) {
            if ((rc = tr__runtime_listen(rt, &a, err, sizeof err)) != 0) {
                tr__log(rt, TR_LOG_ERROR, "runtime", "%s", err);
                goto fail;
            }
        }
        rt->serving = 1;
        rt->ops->register_self(rt);
    }
    *out = rt;
    return 0;
fail:
    tr__runtime_close(rt);
    return rc;
fail_early:
    free(rt->module_path);
    free(rt);
    atomic_store(&the_runtime_open, 0);
    return TR_EINVAL;
}

static void cmd_resume_parent(tr_runtime_t *rt, void *arg) {
    (void)arg;
    if (rt->parent) tr__chan_resume(rt->parent);
}

int tr__runtime_serve(tr_runtime_t *rt) {
    if (!rt) return TR_EINVAL;
    if (rt->serving) return TR_ESTATE;
    char err[256];
    tr__addr_t a;
    int rc = tr__default_bind_addr(rt, &a, err, sizeof err);
    if (rc == 0) rc = tr__runtime_listen(rt, &a, err, sizeof err);
    if (rc) {
        tr__log(rt, TR_LOG_ERROR, "runtime", "cannot listen: %s", err);
        return rc;
    }
    rt->serving = 1;
    rt->ops->register_self(rt);
    tr__post(rt, cmd_resume_parent, NULL);
    return 0;
}

int tr__runtime_wait(tr_runtime_t *rt, int timeout_ms) {
    if (!rt) return TR_EINVAL;
    uint64_t dl = tr__deadline(timeout_ms);
    pthread_mutex_lock(&rt->mu);
    int rc = 0;
    /* done when cancelled and every task has finished (acks are sent) */
    while (!(rt->cancelled && rt->running_tasks == 0)) {
        rc = tr__wait(rt, &rt->wait_cond, NULL, dl, 0);
        if (rc) break;
    }
    if (rt->cancelled && rt->running_tasks == 0) rc = 0;
    pthread_mutex_unlock(&rt->mu);
    return rc;
}

int tr__runtime_cancel(tr_runtime_t *rt) {
    if (!rt) return TR_EINVAL;
    pthread_mutex_lock(&rt->mu);
    tr__runtime_cancel_locked(rt, "local", rt->aid.name, rt->aid.uuid);
    pthread_mutex_unlock(&rt->mu);
    return 0;
}

int tr__runtime_cancelled(tr_runtime_t *rt) {
    if (!rt) return 0;
    pthread_mutex_lock(&rt->mu);
    int c = rt->cancelled;
    pthread_mutex_unlock(&rt->mu);
    return c;
}

const char *tr__runtime_cancel_reason(tr_runtime_t *rt) { return rt ? rt->cancel_reason : NULL; }

int tr__runtime_boot_failed(tr_runtime_t *rt, const char *type, const char *message,
                           const char *tb) {
    if (!rt || !rt->is_child || !rt->parent) return TR_ESTATE;
    return tr__send_error(rt, rt->parent, NULL, type ? type : "ModuleNotFoundError", message,
                          tb ? tb : "");
}

/* ---- close ------------------------------------------------------------- */

static void cmd_close_all(tr_runtime_t *rt, void *arg) {
    (void)arg;
    for (int i = 0; i < rt->n_listeners; i++) tr__listener_close(&rt->listeners[i]);
    pthread_mutex_lock(&rt->mu);
    tr__chan_t *list[256];
    int n = 0;
    for (tr__peer_t *p = rt->peers; p && n < 256; p = p->next) {
        tr__chan_retain(p->chan);
        list[n++] = p->chan;
    }
    pthread_mutex_unlock(&rt->mu);
    for (int i = 0; i < n; i++) {
        tr__chan_close(list[i], 1, "actor shutting down");
        tr__chan_release(list[i]);
    }
}

int tr__runtime_close(tr_runtime_t *rt) {
    if (!rt) return TR_EINVAL;
    pthread_mutex_lock(&rt->mu);
    rt->closing = 1;
    if (!rt->cancelled) tr__runtime_cancel_locked(rt, "local", rt->aid.name, rt->aid.uuid);
    pthread_mutex_unlock(&rt->mu);
    if (rt->io_running) {
        rt->ops->nurseries_close_all(rt);
        rt->ops->unregister_self(rt);
        /* let tasks finish (bounded: a task stuck in user code must not
         * keep the process alive) */
        uint64_t dl = tr__now_ns() + 1000000000ull;
        pthread_mutex_lock(&rt->mu);
        while (rt->running_tasks > 0)
            if (tr__wait(rt, &rt->tasks_cond, NULL, dl, 0) == TR_ETIMEDOUT) break;
        pthread_mutex_unlock(&rt->mu);
        tr__post(rt, cmd_close_all, NULL);
        dl = tr__now_ns() + 1000000000ull;
        pthread_mutex_lock(&rt->mu);
        while (rt->peers)
            if (tr__wait(rt, &rt->wait_cond, NULL, dl, 0) == TR_ETIMEDOUT) break;
        pthread_mutex_unlock(&rt->mu);
        tr__tasks_shutdown(rt);
        tr__io_stop(rt);
    }
    /* free what is left */
    pthread_mutex_lock(&rt->mu);
    while (rt->peers) {
        tr__peer_t *p = rt->peers;
        rt->peers = p->next;
        tr__chan_release(p->chan);
        free(p);
    }
    for (int s = 0; s < 2; s++) {
        tr_ctx_t **tab = s ? rt->callees : rt->callers;
        for (int i = 0; i < TR__CTX_BUCKETS; i++)
            while (tab[i]) tr__ctx_table_del(rt, tab[i]);
    }
    pthread_mutex_unlock(&rt->mu);
    if (rt->parent) tr__chan_release(rt->parent);
    while (rt->funcs) {
        tr__func_t *f = rt->funcs;
        rt->funcs = f->next;
        free(f->ns);
        free(f->name);
        free(f->pld_spec);
        free(f);
    }
    for (size_t i = 0; i < rt->n_enabled_modules; i++) free(rt->enabled_modules[i]);
    free(rt->enabled_modules);
    free(rt->root_mailbox_raw);
    free(rt->root_addrs_raw);
    rt->ops->registrar_free(rt);
    free(rt->taskq);
    free(rt->module_path);
    if (rt->efd >= 0) close(rt->efd);
    tr__the_runtime = NULL;
    free(rt);
    atomic_store(&the_runtime_open, 0);
    return 0;
}

/* ---- accessors ---------------------------------------------------------- */

size_t tr__runtime_enabled_module_count(tr_runtime_t *rt) { return rt ? rt->n_enabled_modules : 0; }
const char *tr__runtime_enabled_module(tr_runtime_t *rt, size_t i) {
    return rt && i < rt->n_enabled_modules ? rt->enabled_modules[i] : NULL;
}
const char *tr__runtime_name(tr_runtime_t *rt) { return rt ? rt->aid.name : NULL; }
const char *tr__runtime_uuid(tr_runtime_t *rt) { return rt ? rt->aid.uuid : NULL; }
int tr__runtime_is_registrar(tr_runtime_t *rt) { return rt ? rt->is_registrar : 0; }
int tr__runtime_is_child(tr_runtime_t *rt) { return rt ? rt->is_child : 0; }
int tr__runtime_loglevel(tr_runtime_t *rt) { return rt ? rt->loglevel : TR_LOG_ERROR; }
int tr__runtime_fd(tr_runtime_t *rt) { return rt ? rt->efd : -1; }
void tr__runtime_fd_clear(tr_runtime_t *rt) {
    if (rt) tr__efd_clear(rt);
}

int tr__runtime_addr(tr_runtime_t *rt, char *buf, size_t len) {
    if (!rt || !buf) return TR_EINVAL;
    if (rt->n_listeners == 0) return TR_ESTATE;
    return tr__addr_format(&rt->listeners[0].addr, buf, len);
}
