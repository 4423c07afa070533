/* The actor nursery: start_actor, run_in_actor, one-cancels-all and the
 * teardown escalation (cancel RPC 0.5 s -> SIGTERM -> SIGKILL after 1.6 s). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/spawn/spawn.h"

#define CANCEL_ACK_NS 500000000ull  /* Portal.cancel_timeout */
#define TERM_GRACE_NS 1600000000ull /* hard_kill terminate_after */

void tr__spawn_opts_init(tr_spawn_opts_t *o) {
    memset(o, 0, sizeof *o);
    o->size = sizeof *o;
    o->lang = "c";
}

int tr__nursery_open(tr_runtime_t *rt, tr_nursery_t **out) {
    if (!rt || !out) return TR_EINVAL;
    tr_nursery_t *n = calloc(1, sizeof *n);
    if (!n) return TR_ENOMEM;
    n->rt = rt;
    pthread_cond_init(&n->cond, &rt->cattr);
    pthread_mutex_lock(&rt->mu);
    if (rt->closing) {
        pthread_mutex_unlock(&rt->mu);
        free(n);
        return TR_ESTATE;
    }
    n->next = rt->nurseries;
    rt->nurseries = n;
    pthread_mutex_unlock(&rt->mu);
    *out = n;
    return 0;
}

static int valid_name(const char *s) {
    if (!s || !*s || strlen(s) >= 100) return 0;
    for (; *s; s++)
        if (*s == '\'' || *s == '"' || *s == '\\' || (unsigned char)*s < 0x20) return 0;
    return 1;
}

/* 1 when `name` is an item of the comma-separated `list` (spaces around
 * items ignored, as the SpawnSpec encoder does). */
static int module_listed(const char *list, const char *name) {
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        while (*p == ' ' || *p == ',') p++;
        const char *e = p;
        while (*e && *e != ',') e++;
        const char *t = e;
        while (t > p && t[-1] == ' ') t--;
        if ((size_t)(t - p) == n && !strncmp(p, name, n)) return 1;
        p = e;
    }
    return 0;
}

/* Spawn and wait for connect-back. rt->mu NOT held. */
static int spawn_child(tr_nursery_t *n, const char *name, const tr_spawn_opts_t *opts,
                       const char *extra_mod, tr__child_t **out, tr_error_t **err,
                       int timeout_ms) {
    tr_runtime_t *rt = n->rt;
    tr_spawn_opts_t o;
    tr__spawn_opts_init(&o);
    if (opts) memcpy(&o, opts, opts->size < sizeof o ? opts->size : sizeof o);
    if (!valid_name(name)) return TR_EINVAL;
    const char *lang = o.lang ? o.lang : "c";
    if (strcmp(lang, "c") && strcmp(lang, "python") && strcmp(lang, "lua") &&
        strcmp(lang, "tractor")) {
        if (err) *err = tr__error_local(TR_EINVAL, "ValueError", "unknown child language (want c, python, lua or tractor)");
        return TR_EINVAL;
    }
    tr__child_t *ch = calloc(1, sizeof *ch);
    if (!ch) return TR_ENOMEM;
    ch->rt = rt;
    ch->nursery = n;
    snprintf(ch->name, sizeof ch->name, "%s", name);
    tr__uuid4(ch->uuid);
    snprintf(ch->lang, sizeof ch->lang, "%s", lang);
    const char *lvl = o.loglevel;
    if (!lvl) {
        static const struct { int n; const char *s; } names[] = {
            {5, "TRANSPORT"}, {10, "DEBUG"}, {15, "RUNTIME"}, {17, "DEVX"}, {20, "INFO"},
            {21, "IO"}, {22, "CANCEL"}, {30, "WARNING"}, {40, "ERROR"}, {50, "CRITICAL"}, {500, "PDB"}};
        lvl = "ERROR";
        for (size_t i = 0; i < sizeof names / sizeof *names; i++)
            if (names[i].n == rt->loglevel) lvl = names[i].s;
    }
    snprintf(ch->loglevel, sizeof ch->loglevel, "%s", lvl);
    /* run_in_actor's module is added unless the options already enable it:
     * a module listed twice is loaded twice, and its second init fails */
    if (extra_mod && o.enable_modules && module_listed(o.enable_modules, extra_mod)) extra_mod = NULL;
    snprintf(ch->modules, sizeof ch->modules, "%s%s%s", o.enable_modules ? o.enable_modules : "",
             (o.enable_modules && *o.enable_modules && extra_mod) ? "," : "", extra_mod ? extra_mod : "");
    if (o.command) snprintf(ch->command, sizeof ch->command, "%s", o.command);

    pthread_mutex_lock(&rt->mu);
    if (n->closing || rt->closing || rt->n_listeners == 0) {
        pthread_mutex_unlock(&rt->mu);
        free(ch);
        return TR_ESTATE;
    }
    ch->next = rt->children;
    rt->children = ch;
    ch->next_in_n = n->children;
    n->children = ch;
    pthread_mutex_unlock(&rt->mu);

    tr__child_spawn(ch);

    uint64_t dl = tr__deadline(timeout_ms < 0 ? 30000 : timeout_ms);
    int rc = 0;
    pthread_mutex_lock(&rt->mu);
    while (!ch->connected && !ch->boot_error && !ch->exited) {
        rc = tr__wait(rt, &n->cond, NULL, dl, 1);
        if (rc) break;
    }
    if (!rc && !ch->connected) rc = ch->boot_error ? tr__error_code(ch->boot_error) : TR_ESPAWN;
    if (rc && ch->boot_error && err) *err = tr__error_copy(ch->boot_error);
    if (rc == TR_EAGAIN) rc = TR_ETIMEDOUT;
    if (!rc) ch->portal = tr__portal_new(rt, ch->chan, ch);
    pthread_mutex_unlock(&rt->mu);
    if (rc) {
        /* the child may still come up: make sure it goes away */
        pthread_mutex_lock(&rt->mu);
        tr__child_kill(ch, SIGKILL);
        pthread_mutex_unlock(&rt->mu);
        TR__LOG(rt, TR_LOG_ERROR, "spawn", "starting child '%s' failed: %s", name, tr__err_name(rc));
        return rc;
    }
    *out = ch;
    return 0;
}

int tr__nursery_start_actor(tr_nursery_t *n, const char *name, const tr_spawn_opts_t *opts,
                           tr_portal_t **portal, tr_error_t **err, int timeout_ms) {
    if (err) *err = NULL;
    if (!n || !portal) return TR_EINVAL;
    tr__child_t *ch;
    int rc = spawn_child(n, name, opts, NULL, &ch, err, timeout_ms);
    if (rc) return rc;
    atomic_fetch_add(&ch->portal->refs, 1);
    *portal = ch->portal;
    return 0;
}

int tr__nursery_run_in_actor(tr_nursery_t *n, const char *name, const char *ns,
                            const char *func, const void *kwargs, size_t kwargs_len,
                            const tr_spawn_opts_t *opts, tr_portal_t **portal,
                            tr_error_t **err, int timeout_ms) {
    if (err) *err = NULL;
    if (!n || !ns || !func) return TR_EINVAL;
    tr__child_t *ch;
    int rc = spawn_child(n, name, opts, ns, &ch, err, timeout_ms);
    if (rc) return rc;
    tr_ctx_t *c;
    rc = tr__portal_start_call(ch->portal, ns, func, kwargs, kwargs_len, &c);
    if (rc) return rc;
    pthread_mutex_lock(&n->rt->mu);
    ch->is_ria = 1;
    ch->ria_ctx = c;
    pthread_mutex_unlock(&n->rt->mu);
    if (portal) {
        atomic_fetch_add(&ch->portal->refs, 1);
        *portal = ch->portal;
    }
    return 0;
}

size_t tr__nursery_child_count(tr_nursery_t *n) {
    if (!n) return 0;
    size_t k = 0;
    pthread_mutex_lock(&n->rt->mu);
    for (tr__child_t *ch = n->children; ch; ch = ch->next_in_n) k += !ch->exited;
    pthread_mutex_unlock(&n->rt->mu);
    return k;
}

/* ---- teardown ------------------------------------------------------------ */

static int all_exited(tr_nursery_t *n) {
    for (tr__child_t *ch = n->children; ch; ch = ch->next_in_n)
        if (!ch->exited || !ch->proc_closed) return 0;
    return 1;
}

/* rt->mu held: wait up to `ns` (polling the nursery cond). */
static void wait_some(tr_nursery_t *n, uint64_t until) {
    uint64_t step = tr__now_ns() + 10000000ull;
    tr__wait(n->rt, &n->cond, NULL, step < until ? step : until, 0);
}

static int chan_open(const tr__child_t *ch) { return ch->chan && !ch->chan_closed; }
static int proc_open(const tr__child_t *ch) { return ch->spawned && !ch->proc_closed; }

/* rt->mu held: wait until no child of n is `pending`, or until `until`. */
static void wait_children(tr_nursery_t *n, int (*pending)(const tr__child_t *), uint64_t until) {
    for (;;) {
        int any = 0;
        for (tr__child_t *ch = n->children; ch && !any; ch = ch->next_in_n) any = pending(ch);
        if (!any || tr__now_ns() >= until) return;
        wait_some(n, until);
    }
}

static int list_exited(tr__child_t **list, int k) {
    for (int i = 0; i < k; i++)
        if (!list[i]->exited) return 0;
    return 1;
}

/* Cancel `only_ria` children (or all), escalating. rt->mu NOT held. */
static void cancel_children(tr_nursery_t *n, int only_ria) {
    tr_runtime_t *rt = n->rt;
    pthread_mutex_lock(&rt->mu);
    tr__child_t *list[1024];
    int k = 0;
    for (tr__child_t *ch = n->children; ch && k < 1024; ch = ch->next_in_n)
        if (!ch->exited && (!only_ria || ch->is_ria)) list[k++] = ch;
    pthread_mutex_unlock(&rt->mu);
    if (!k) return;
    /* 1. the cancel RPC to each, in parallel */
    for (int i = 0; i < k; i++) {
        tr__child_t *ch = list[i];
        pthread_mutex_lock(&rt->mu);
        int can_rpc = ch->connected && !ch->chan_closed && ch->chan && !ch->cancel_ctx;
        pthread_mutex_unlock(&rt->mu);
        if (can_rpc) {
            tr_ctx_t *c = tr__ctx_new(rt, ch->chan, TR__SIDE_CALLER);
            if (c) {
                c->is_cancel_req = 1;
                if (tr__ctx_send_start(c, "self", "cancel", NULL, 0) == 0) {
                    pthread_mutex_lock(&rt->mu);
                    ch->cancel_ctx = c;
                    pthread_mutex_unlock(&rt->mu);
                } else {
                    tr__ctx_release(c);
                }
            }
        }
    }
    uint64_t t0 = tr__now_ns();
    pthread_mutex_lock(&rt->mu);
    for (;;) {
        int pending = 0;
        for (int i = 0; i < k; i++) {
            tr__child_t *ch = list[i];
            if (ch->exited) continue;
            if (ch->cancel_ctx && ch->cancel_ctx->outcome == TR__OUT_RESULT) continue;
            pending = 1;
        }
        if (!pending || tr__now_ns() - t0 >= CANCEL_ACK_NS) break;
        wait_some(n, t0 + CANCEL_ACK_NS);
    }
    /* 2. SIGTERM whoever did not ack */
    for (int i = 0; i < k; i++) {
        tr__child_t *ch = list[i];
        if (ch->exited) continue;
        if (!(ch->cancel_ctx && ch->cancel_ctx->outcome == TR__OUT_RESULT)) {
            TR__LOG(rt, TR_LOG_CANCEL, "spawn", "child '%s' did not ack cancel: SIGTERM", ch->name);
            tr__child_kill(ch, SIGTERM);
        }
    }
    uint64_t t1 = tr__now_ns();
    while (!list_exited(list, k)) {
        if (tr__now_ns() - t1 >= TERM_GRACE_NS) break;
        wait_some(n, t1 + TERM_GRACE_NS);
    }
    /* 3. SIGKILL: "T-800 deployed to collect zombie" */
    for (int i = 0; i < k; i++)
        if (!list[i]->exited) {
            TR__LOG(rt, TR_LOG_CANCEL, "spawn", "child '%s' still alive: SIGKILL", list[i]->name);
            tr__child_kill(list[i], SIGKILL);
        }
    uint64_t t2 = tr__now_ns() + 5000000000ull;
    for (;;) {
        int done = 1;
        for (int i = 0; i < k; i++)
            if (!list[i]->exited || !list[i]->proc_closed) done = 0;
        if (done || tr__now_ns() >= t2) break;
        wait_some(n, t2);
    }
    pthread_mutex_unlock(&rt->mu);
}

int tr__nursery_cancel(tr_nursery_t *n) {
    if (!n) return TR_EINVAL;
    cancel_children(n, 0);
    return 0;
}

static void child_free(tr_runtime_t *rt, tr__child_t *ch) {
    for (tr__child_t **pp = &rt->children; *pp; pp = &(*pp)->next)
        if (*pp == ch) {
            *pp = ch->next;
            break;
        }
    if (ch->chan) tr__chan_release(ch->chan);
    tr__error_free(ch->boot_error);
    if (ch->ria_ctx) tr__ctx_release(ch->ria_ctx);
    if (ch->cancel_ctx) tr__ctx_release(ch->cancel_ctx);
    if (ch->portal) {
        ch->portal->child = NULL;
        tr__portal_release(ch->portal);
    }
    free(ch);
}

int tr__nursery_close(tr_nursery_t *n, int block_error, tr_error_t **err) {
    if (err) *err = NULL;
    if (!n) return TR_EINVAL;
    tr_runtime_t *rt = n->rt;
    tr_error_t *errs[256];
    size_t ne = 0;
    int cancel_all = block_error;
    pthread_mutex_lock(&rt->mu);
    n->closing = 1;
    /* wait for every run_in_actor result; any error cancels everyone */
    for (tr__child_t *ch = n->children; ch && !cancel_all; ch = ch->next_in_n) {
        if (!ch->is_ria || !ch->ria_ctx) continue;
        while (ch->ria_ctx->outcome == TR__OUT_NONE && !rt->cancelled) {
            /* a sibling's failure cancels us too */
            int failed = 0;
            for (tr__child_t *o = n->children; o; o = o->next_in_n)
                if (o->boot_error || (o->ria_ctx && o->ria_ctx->outcome == TR__OUT_ERROR)) failed = 1;
            if (failed) break;
            tr__wait(rt, &ch->ria_ctx->cond, &ch->ria_ctx->waiters, tr__now_ns() + 50000000ull, 0);
        }
        if (rt->cancelled) cancel_all = 1;
    }
    for (tr__child_t *ch = n->children; ch; ch = ch->next_in_n) {
        tr_error_t *e = NULL;
        if (ch->boot_error)
            e = tr__error_copy(ch->boot_error);
        else if (ch->ria_ctx && ch->ria_ctx->outcome == TR__OUT_ERROR)
            e = tr__error_copy(ch->ria_ctx->error);
        if (e && ne < 256) {
            errs[ne++] = e;
            cancel_all = 1;
        } else {
            tr__error_free(e);
        }
    }
    pthread_mutex_unlock(&rt->mu);

    if (cancel_all) {
        cancel_children(n, 0);
    } else {
        cancel_children(n, 1); /* run_in_actor children are done: cancel */
        /* daemons: wait until they are cancelled (by the user) or we are */
        pthread_mutex_lock(&rt->mu);
        while (!all_exited(n) && !rt->cancelled) wait_some(n, tr__now_ns() + 100000000ull);
        int c = rt->cancelled;
        if (!c) {
            /* a daemon may have reported a failure just before exiting (its
             * modules did not load): read its channel to the end (bounded),
             * then raise such errors too */
            wait_children(n, chan_open, tr__now_ns() + 200000000ull);
            for (tr__child_t *ch = n->children; ch; ch = ch->next_in_n)
                if (ch->boot_error && ne < 256) errs[ne++] = tr__error_copy(ch->boot_error);
        }
        pthread_mutex_unlock(&rt->mu);
        if (c) cancel_children(n, 0);
    }

    pthread_mutex_lock(&rt->mu);
    for (tr_nursery_t **pp = &rt->nurseries; *pp; pp = &(*pp)->next)
        if (*pp == n) {
            *pp = n->next;
            break;
        }
    /* a child that exited on its own is not in any cancel list, and the I/O
     * thread may still be finishing with it: wait until its process handle
     * is closed before freeing it */
    wait_children(n, proc_open, tr__now_ns() + 5000000000ull);
    while (n->children) {
        tr__child_t *ch = n->children;
        n->children = ch->next_in_n;
        if (ch->spawned && !ch->proc_closed) {
            /* not reaped even after SIGKILL (uninterruptible sleep?): the
             * I/O thread still watches it, so it is not freed */
            TR__LOG(rt, TR_LOG_ERROR, "spawn", "child '%s' pid %d was not reaped; left behind",
                    ch->name, ch->pid);
            ch->nursery = NULL;
            continue;
        }
        child_free(rt, ch);
    }
    int was_cancelled = rt->cancelled && !ne;
    pthread_mutex_unlock(&rt->mu);
    pthread_cond_destroy(&n->cond);
    free(n);
    if (ne == 0) return was_cancelled && !block_error && rt->cancel_reason &&
                               strcmp(rt->cancel_reason, "local")
                           ? TR_ECANCELLED
                           : 0;
    tr_error_t *g = tr__error_group(errs, ne);
    int code = ne == 1 ? tr__error_code(g) : TR_EGROUP;
    if (code == TR_ECTXCANCELLED || code == TR_EOVERRUN || code == TR_EMSGTYPE) code = TR_EREMOTE;
    if (err)
        *err = g;
    else
        tr__error_free(g);
    return code;
}

void tr__nurseries_close_all(tr_runtime_t *rt) {
    for (;;) {
        pthread_mutex_lock(&rt->mu);
        tr_nursery_t *n = rt->nurseries;
        pthread_mutex_unlock(&rt->mu);
        if (!n) break;
        tr__nursery_close(n, 1, NULL);
    }
}
