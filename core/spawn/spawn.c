/* Child processes: launching a host per language, connect-back + SpawnSpec,
 * reaping, and the cancel -> SIGTERM -> SIGKILL escalation. */
#include "core/spawn/spawn.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* ---- locating the host programs ------------------------------------- */

static int file_exists(const char *p) { return access(p, X_OK) == 0; }

/* Directory holding libtractor.so (for finding tractor-actor & co). */
static void lib_dir(char *buf, size_t len) {
    Dl_info info;
    buf[0] = 0;
    if (dladdr((void *)&tr__the_runtime, &info) && info.dli_fname) {
        snprintf(buf, len, "%s", info.dli_fname);
        char *s = strrchr(buf, '/');
        if (s) *s = 0;
        else buf[0] = 0;
    }
}

static void find_c_host(char *out, size_t len) {
    const char *env = getenv("TRACTOR_ACTOR_BIN");
    if (env && *env) {
        snprintf(out, len, "%s", env);
        return;
    }
    char dir[PATH_MAX];
    lib_dir(dir, sizeof dir);
    if (dir[0]) {
        const char *cands[] = {"%s/../bin/tractor-actor", "%s/tractor-actor",
                               "%s/../tools/tractor-actor", "%s/../libexec/tractor-actor"};
        for (size_t i = 0; i < sizeof cands / sizeof *cands; i++) {
            snprintf(out, len, cands[i], dir);
            if (file_exists(out)) return;
        }
    }
    snprintf(out, len, "tractor-actor");
}

static void find_lua_child(char *out, size_t len) {
    const char *env = getenv("TRACTOR_LUA_CHILD");
    if (env && *env) {
        snprintf(out, len, "%s", env);
        return;
    }
    char dir[PATH_MAX];
    lib_dir(dir, sizeof dir);
    const char *cands[] = {"%s/../bindings/lua/tractor_child.lua",
                           "%s/../share/tractor/lua/tractor_child.lua",
                           "%s/lua/tractor_child.lua"};
    for (size_t i = 0; i < sizeof cands / sizeof *cands; i++) {
        snprintf(out, len, cands[i], dir);
        if (access(out, R_OK) == 0) return;
    }
    snprintf(out, len, "tractor_child.lua");
}

/* Build argv for the child. Returns count; strings are malloc'd. */
static int build_argv(tr_runtime_t *rt, tr__child_t *ch, char **argv, int max) {
    int n = 0;
    char buf[PATH_MAX];
    if (ch->command[0]) {
        char *save, *cmd = tr__strdup(ch->command);
        for (char *t = strtok_r(cmd, " ", &save); t && n < max - 10; t = strtok_r(NULL, " ", &save))
            argv[n++] = tr__strdup(t);
        free(cmd);
    } else if (!strcmp(ch->lang, "c")) {
        find_c_host(buf, sizeof buf);
        argv[n++] = tr__strdup(buf);
    } else if (!strcmp(ch->lang, "python") || !strcmp(ch->lang, "tractor")) {
        /* tractor runs `<sys.executable> -m tractor._child` (spec 4.2); our
         * interpreter is $TRACTOR_PYTHON (a Python root sets it to its own),
         * else python3; `command` replaces the whole prefix */
        const char *py = getenv("TRACTOR_PYTHON");
        argv[n++] = tr__strdup(py && *py ? py : "python3");
        argv[n++] = tr__strdup("-m");
        argv[n++] = tr__strdup(!strcmp(ch->lang, "python") ? "libtractor.child" : "tractor._child");
    } else if (!strcmp(ch->lang, "lua")) {
        const char *lua = getenv("TRACTOR_LUA");
        argv[n++] = tr__strdup(lua && *lua ? lua : "lua5.4");
        find_lua_child(buf, sizeof buf);
        argv[n++] = tr__strdup(buf);
    }
    /* tractor's child command line (spec 4.2): --uid is str((name, uuid)),
     * --parent_addr str() of our first accept address, literal_eval'd by the
     * child; --loglevel always (tractor passes its resolved level). Names
     * cannot hold quotes (valid_name), so no escaping is needed for them. */
    char tmp[512];
    argv[n++] = tr__strdup("--uid");
    snprintf(tmp, sizeof tmp, "('%s', '%s')", ch->name, ch->uuid);
    argv[n++] = tr__strdup(tmp);
    argv[n++] = tr__strdup("--parent_addr");
    const tr__addr_t *a = &rt->listeners[0].addr;
    if (a->kind == TR__ADDR_TCP)
        snprintf(tmp, sizeof tmp, "('%s', %d)", a->host, a->port);
    else
        snprintf(tmp, sizeof tmp, "('%s', '%s')", a->dir, a->file);
    argv[n++] = tr__strdup(tmp);
    argv[n++] = tr__strdup("--loglevel");
    argv[n++] = tr__strdup(ch->loglevel);
    argv[n] = NULL;
    return n;
}

/* Remove the UDS socket file a dead child would have created. */
void tr__child_unlink_sock(tr__child_t *ch) {
    if (ch->rt->transport != TR__ADDR_UDS || ch->pid <= 0) return;
    char dir[256], path[512];
    if (tr__rt_dir(dir, sizeof dir, NULL, 0) == 0) {
        snprintf(path, sizeof path, "%s/%s@%d.sock", dir, ch->name, ch->pid);
        unlink(path);
    }
}

/* ---- the I/O-thread side ---------------------------------------------- */

static void on_proc_closed(uv_handle_t *h) {
    tr__child_t *ch = h->data;
    tr_runtime_t *rt = ch->rt;
    close(ch->pidfd);
    pthread_mutex_lock(&rt->mu);
    ch->pidfd = -1;
    ch->proc_closed = 1;
    if (ch->nursery) pthread_cond_broadcast(&ch->nursery->cond);
    pthread_mutex_unlock(&rt->mu);
}

/* The child's pidfd is readable: it exited. Reap it (only this pid: other
 * code in the process may run children of its own). */
static void on_exit_cb(uv_poll_t *p, int status, int events) {
    (void)status;
    (void)events;
    tr__child_t *ch = p->data;
    tr_runtime_t *rt = ch->rt;
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int64_t code = 0;
    int sig = 0;
    if (waitid(P_PID, (id_t)ch->pid, &si, WEXITED | WNOHANG) == 0) {
        if (si.si_pid == 0) return; /* not yet */
        if (si.si_code == CLD_EXITED)
            code = si.si_status;
        else
            sig = si.si_status;
    } else {
        code = -1; /* ECHILD: somebody else reaped it; its status is unknown */
    }
    uv_poll_stop(p);
    pthread_mutex_lock(&rt->mu);
    ch->exited = 1;
    ch->exit_status = code;
    ch->term_signal = sig;
    if (!ch->connected && !ch->boot_error) {
        char msg[200];
        snprintf(msg, sizeof msg, "child '%s' (%s) exited (status %lld, signal %d) before connecting back",
                 ch->name, ch->lang, (long long)code, sig);
        ch->boot_error = tr__error_local(TR_ESPAWN, "ActorFailedToStart", msg);
    }
    TR__LOG(rt, TR_LOG_RUNTIME, "spawn", "child '%s' pid %d exited (status %lld, signal %d)",
            ch->name, ch->pid, (long long)code, sig);
    if (sig) tr__child_unlink_sock(ch); /* a killed child cannot do it */
    if (ch->nursery) pthread_cond_broadcast(&ch->nursery->cond);
    /* the child's memory stays ours until on_proc_closed says so: its
     * nursery frees it only once proc_closed is set */
    uv_close((uv_handle_t *)p, on_proc_closed);
    pthread_mutex_unlock(&rt->mu);
}

/* posix_spawnp (vfork semantics: the parent's page tables are not copied,
 * which a fork of a large parent such as a Python root pays for in
 * milliseconds), with every signal back to its default disposition and
 * nothing blocked, as a fresh program expects. Exit is watched through a
 * pidfd. Returns 0 or an errno. */
static int spawn_proc(tr_runtime_t *rt, tr__child_t *ch, char **argv, char **env, int *pid_out) {
    posix_spawnattr_t at;
    sigset_t all, none;
    sigfillset(&all);
    sigdelset(&all, SIGKILL);
    sigdelset(&all, SIGSTOP);
    sigemptyset(&none);
    posix_spawnattr_init(&at);
    posix_spawnattr_setsigdefault(&at, &all);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], NULL, &at, argv, env);
    posix_spawnattr_destroy(&at);
    if (rc != 0) return rc;
    int pfd = pidfd_open(pid, 0);
    if (pfd < 0 || uv_poll_init(&rt->loop, &ch->exitpoll, pfd) != 0) {
        rc = pfd < 0 ? errno : EINVAL;
        if (pfd >= 0) close(pfd);
        kill(pid, SIGKILL); /* cannot watch it: do not leave it behind */
        waitpid(pid, NULL, 0);
        return rc;
    }
    ch->pidfd = pfd;
    *pid_out = (int)pid;
    ch->exitpoll.data = ch;
    uv_poll_start(&ch->exitpoll, UV_READABLE, on_exit_cb);
    return 0;
}

static void cmd_spawn(tr_runtime_t *rt, void *arg) {
    tr__child_t *ch = arg;
    char *argv[64];
    int n = build_argv(rt, ch, argv, 64);
    /* environment: ours + TRACTOR_PARENT_PID (children die with us) */
    size_t ne = 0;
    while (environ[ne]) ne++;
    char **env = calloc(ne + 2, sizeof(char *));
    size_t k = 0;
    for (size_t i = 0; i < ne; i++)
        if (strncmp(environ[i], "TRACTOR_PARENT_PID=", 19)) env[k++] = environ[i];
    char ppid[48];
    snprintf(ppid, sizeof ppid, "TRACTOR_PARENT_PID=%d", (int)getpid());
    env[k++] = ppid;
    env[k] = NULL;
    int pid = 0;
    int rc = spawn_proc(rt, ch, argv, env, &pid);
    pthread_mutex_lock(&rt->mu);
    if (rc != 0) {
        char msg[PATH_MAX + 100];
        snprintf(msg, sizeof msg, "cannot start `%s` for child '%s': %s", argv[0], ch->name,
                 strerror(rc));
        ch->boot_error = tr__error_local(TR_ESPAWN, "ActorFailedToStart", msg);
        ch->exited = 1;
        ch->proc_closed = 1;
    } else {
        ch->pid = pid;
        ch->spawned = 1;
        TR__LOG(rt, TR_LOG_RUNTIME, "spawn", "spawned %s child '%s' pid %d", ch->lang, ch->name,
                ch->pid);
    }
    if (ch->nursery) pthread_cond_broadcast(&ch->nursery->cond);
    pthread_mutex_unlock(&rt->mu);
    for (int i = 0; i < n; i++) free(argv[i]);
    free(env);
}

static void enc_spawnspec(tr__wbuf_t *b, void *arg) {
    tr__child_t *ch = arg;
    tr_runtime_t *rt = ch->rt;
    tr__wbuf_t rv, mods, regs, pmd;
    tr__wbuf_init(&rv);
    tr__wbuf_init(&mods);
    tr__wbuf_init(&regs);
    tr__wbuf_init(&pmd);
    tr__mp_map(&pmd, 0); /* _parent_main_data: {} from a non-Python parent (spec 4.3) */
    /* _runtime_vars: tractor's keys, in its order (spec 4.3); tractor sends a
     * copy of the parent's own vars, so the tree root's addresses are relayed
     * from our SpawnSpec when we are a child ourselves. No other keys: the
     * log level travels on the command line only, as in tractor. */
    const tr__addr_t *root = &rt->listeners[0].addr;
    tr__mp_map(&rv, 10);
    tr__mp_cstr(&rv, "_is_root");
    tr__mp_bool(&rv, 0);
    tr__mp_cstr(&rv, "_root_mailbox");
    if (rt->root_mailbox_raw)
        tr__wbuf_put(&rv, rt->root_mailbox_raw, rt->root_mailbox_len);
    else
        tr__addr_encode(&rv, root);
    tr__mp_cstr(&rv, "_root_addrs");
    if (rt->root_addrs_raw) {
        tr__wbuf_put(&rv, rt->root_addrs_raw, rt->root_addrs_len);
    } else {
        tr__mp_array(&rv, 1);
        tr__addr_encode(&rv, root);
    }
    tr__mp_cstr(&rv, "_enable_tpts");
    tr__mp_array(&rv, 1);
    tr__mp_cstr(&rv, rt->transport == TR__ADDR_UDS ? "uds" : "tcp");
    tr__mp_cstr(&rv, "_registry_addrs");
    tr__mp_array(&rv, (uint32_t)rt->n_reg_addrs);
    for (int i = 0; i < rt->n_reg_addrs; i++) tr__addr_encode(&rv, &rt->reg_addrs[i]);
    tr__mp_cstr(&rv, "_debug_mode");
    tr__mp_bool(&rv, 0);
    tr__mp_cstr(&rv, "repl_fixture");
    tr__mp_bool(&rv, 0);
    tr__mp_cstr(&rv, "use_greenback");
    tr__mp_bool(&rv, 0);
    tr__mp_cstr(&rv, "use_stackscope");
    tr__mp_bool(&rv, 0);
    tr__mp_cstr(&rv, "_is_infected_aio"); /* must match --asyncio, never passed */
    tr__mp_bool(&rv, 0);
    /* enable_modules {module_path: file_path}: a non-Python parent cannot know
     * file paths, so the name stands for both; tractor only appends
     * dirname(path) ("" here) to sys.path and imports by name. */
    uint32_t nm = 0;
    char *mlist = tr__strdup(ch->modules), *save;
    for (char *t = strtok_r(mlist, ",", &save); t; t = strtok_r(NULL, ",", &save)) nm++;
    free(mlist);
    tr__mp_map(&mods, nm);
    mlist = tr__strdup(ch->modules);
    for (char *t = strtok_r(mlist, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ') t++;
        tr__mp_cstr(&mods, t);
        tr__mp_cstr(&mods, t);
    }
    free(mlist);
    tr__mp_array(&regs, (uint32_t)rt->n_reg_addrs);
    for (int i = 0; i < rt->n_reg_addrs; i++) tr__addr_encode(&regs, &rt->reg_addrs[i]);
    /* bind_addrs nil: the child binds one random address on the transport of
     * _enable_tpts, as for a tractor parent's default start_actor() */
    static const char nil = (char)0xc0;
    tr__enc_spawnspec(b, (tr__str_t){(char *)pmd.p, pmd.len}, (tr__str_t){(char *)rv.p, rv.len},
                      (tr__str_t){(char *)mods.p, mods.len}, (tr__str_t){(char *)regs.p, regs.len},
                      (tr__str_t){&nil, 1});
    tr__wbuf_free(&rv);
    tr__wbuf_free(&mods);
    tr__wbuf_free(&regs);
    tr__wbuf_free(&pmd);
}

int tr__spawn_on_handshake(tr_runtime_t *rt, tr__chan_t *c) {
    pthread_mutex_lock(&rt->mu);
    tr__child_t *ch;
    for (ch = rt->children; ch; ch = ch->next)
        if (!ch->connected && !strcmp(ch->uuid, c->peer.uuid) && !strcmp(ch->name, c->peer.name))
            break;
    if (!ch) {
        pthread_mutex_unlock(&rt->mu);
        return 0;
    }
    tr__chan_retain(c);
    ch->chan = c;
    pthread_mutex_unlock(&rt->mu);
    int rc = tr__chan_send_enc(c, enc_spawnspec, ch);
    pthread_mutex_lock(&rt->mu);
    if (rc == 0)
        ch->connected = 1;
    else if (!ch->boot_error)
        ch->boot_error = tr__error_local(TR_ETRANSPORT, "TransportClosed",
                                         "could not send the SpawnSpec");
    if (ch->nursery) pthread_cond_broadcast(&ch->nursery->cond);
    pthread_mutex_unlock(&rt->mu);
    return 0;
}

void tr__spawn_on_chan_close(tr_runtime_t *rt, tr__chan_t *c) {
    for (tr__child_t *ch = rt->children; ch; ch = ch->next)
        if (ch->chan == c) {
            ch->chan_closed = 1;
            if (ch->nursery) pthread_cond_broadcast(&ch->nursery->cond);
        }
}

/* rt->mu held: a channel-wide Error (e.g. a child's module failed to load) */
void tr__spawn_on_chan_error(tr_runtime_t *rt, tr__chan_t *c, tr_error_t *e) {
    if (!e) return;
    for (tr__child_t *ch = rt->children; ch; ch = ch->next)
        if (ch->chan == c && !ch->boot_error) {
            ch->boot_error = tr__error_copy(e);
            if (ch->nursery) pthread_cond_broadcast(&ch->nursery->cond);
        }
    for (int i = 0; i < TR__CTX_BUCKETS; i++)
        for (tr_ctx_t *x = rt->callers[i]; x; x = x->next)
            if (x->chan == c && x->outcome == TR__OUT_NONE) {
                x->outcome = TR__OUT_ERROR;
                x->error = tr__error_copy(e);
                pthread_cond_broadcast(&x->cond);
            }
    tr__error_free(e);
    tr__wake_all(rt);
}

/* ---- user-thread API ---------------------------------------------------- */

int tr__child_spawn(tr__child_t *ch) {
    tr__post(ch->rt, cmd_spawn, ch);
    return 0;
}

/* Send `sig` to a child that has not been reaped. rt->mu held. */
void tr__child_kill(tr__child_t *ch, int sig) {
    if (ch->spawned && !ch->exited && ch->pid > 0) kill(ch->pid, sig);
}

void tr__children_kill_all(tr_runtime_t *rt, int sig) {
    pthread_mutex_lock(&rt->mu);
    for (tr__child_t *ch = rt->children; ch; ch = ch->next) {
        int alive = ch->spawned && !ch->exited;
        tr__child_kill(ch, sig);
        if (alive && sig == SIGKILL) tr__child_unlink_sock(ch);
    }
    pthread_mutex_unlock(&rt->mu);
}
