/* Blocking libtractor calls that have no polling form (spawning, nursery
 * close/cancel, actor and context cancellation, connecting), run either
 * inline or on a short-lived helper thread so that a Lua scheduler keeps
 * running its other coroutines meanwhile.
 *
 *   job = C.start_actor(threaded, nursery, name, spawnopts)   (and friends)
 *   rc, ... = C.job_poll(job)   -- TR_EAGAIN until the call returned
 *
 * A helper thread touches only its own job struct and libtractor (which is
 * thread-safe); it never touches the Lua state. When done it writes the
 * waker eventfd, which the scheduler polls beside tr_runtime_fd(). The job
 * userdata keeps the handles it uses alive (user value 2) and its __gc joins
 * the thread, so nothing is freed under a running call. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "bindings/lua/lt.h"

enum {
    JOB_START_ACTOR,
    JOB_RUN_IN_ACTOR,
    JOB_NURSERY_CLOSE,
    JOB_NURSERY_CANCEL,
    JOB_CANCEL_ACTOR,
    JOB_CTX_CANCEL,
    JOB_CTX_CLOSE,
    JOB_CONNECT,
    JOB_FIND_ACTOR,
    JOB_WAIT_FOR_ACTOR
};

typedef struct lt_job {
    struct lt_job *next; /* the waker's list of unjoined threads */
    int kind;
    int threaded, joined;
    pthread_t th;
    atomic_int done;
    int wake_fd;
    /* inputs */
    tr_runtime_t *rt;
    tr_nursery_t *n;
    tr_portal_t *p;
    tr_ctx_t *c;
    char *name, *ns, *func, *lang, *mods, *loglevel, *command, *reason, *addr;
    lt_wbuf kw;
    int has_kw;
    int iarg;
    /* outputs */
    int rc;
    tr_portal_t *out_portal;
    tr_error_t *err;
} lt_job;

#define WAKER_KEY "tractor.waker_instance" /* registry: this state's waker */

typedef struct lt_waker {
    int fd;
    lt_job *jobs;
} lt_waker;

static lt_waker *get_waker(lua_State *L) {
    lua_getfield(L, LUA_REGISTRYINDEX, WAKER_KEY);
    lt_waker *w = luaL_testudata(L, -1, LT_WAKER);
    lua_pop(L, 1);
    return w;
}

int lt_waker_fd(lua_State *L) {
    lt_waker *w = get_waker(L);
    return w ? w->fd : -1;
}

static void job_join(lt_waker *w, lt_job *j) {
    if (j->threaded && !j->joined) {
        pthread_join(j->th, NULL);
        j->joined = 1;
    }
    if (w)
        for (lt_job **pp = &w->jobs; *pp; pp = &(*pp)->next)
            if (*pp == j) {
                *pp = j->next;
                break;
            }
}

/* Wait for every helper thread (before the runtime closes). */
void lt_jobs_join_all(lua_State *L) {
    lt_waker *w = get_waker(L);
    while (w && w->jobs) job_join(w, w->jobs);
}

static void run_job(lt_job *j) {
    tr_spawn_opts_t so;
    tr_spawn_opts_init(&so);
    so.lang = j->lang ? j->lang : "lua";
    so.enable_modules = j->mods;
    so.loglevel = j->loglevel;
    so.command = j->command;
    switch (j->kind) {
    case JOB_START_ACTOR:
        j->rc = tr_nursery_start_actor(j->n, j->name, &so, &j->out_portal, &j->err, j->iarg);
        break;
    case JOB_RUN_IN_ACTOR:
        j->rc = tr_nursery_run_in_actor(j->n, j->name, j->ns, j->func, j->has_kw ? j->kw.p : NULL,
                                        j->has_kw ? j->kw.len : 0, &so, &j->out_portal, &j->err,
                                        j->iarg);
        break;
    case JOB_NURSERY_CLOSE: j->rc = tr_nursery_close(j->n, j->iarg, &j->err); break;
    case JOB_NURSERY_CANCEL: j->rc = tr_nursery_cancel(j->n); break;
    case JOB_CANCEL_ACTOR: j->rc = tr_portal_cancel_actor(j->p, j->iarg); break;
    case JOB_CTX_CANCEL: j->rc = tr_ctx_cancel(j->c, j->reason); break;
    case JOB_CTX_CLOSE: j->rc = tr_ctx_close(j->c, j->iarg); break;
    case JOB_CONNECT: j->rc = tr_portal_connect(j->rt, j->addr, &j->out_portal, j->iarg); break;
    case JOB_FIND_ACTOR: j->rc = tr_find_actor(j->rt, j->name, &j->out_portal, j->iarg); break;
    case JOB_WAIT_FOR_ACTOR: j->rc = tr_wait_for_actor(j->rt, j->name, &j->out_portal, j->iarg); break;
    }
    if (j->kind == JOB_NURSERY_CLOSE) j->n = NULL; /* freed by the call */
    if (j->kind == JOB_CTX_CLOSE) j->c = NULL;     /* released by the call */
}

static void *job_thread(void *arg) {
    lt_job *j = arg;
    run_job(j);
    atomic_store(&j->done, 1);
    uint64_t one = 1;
    ssize_t wr = write(j->wake_fd, &one, sizeof one);
    (void)wr;
    return NULL;
}

static int gc_job(lua_State *L) {
    lt_job **pj = luaL_checkudata(L, 1, LT_JOB);
    lt_job *j = *pj;
    if (!j) return 0;
    *pj = NULL;
    lua_getiuservalue(L, 1, 1);
    lt_handle *r = luaL_testudata(L, -1, LT_RUNTIME);
    int alive = r && r->h;
    lua_pop(L, 1);
    /* Still running: its coroutine was dropped mid-wait, which only happens
     * when the Lua state closes (the scheduler keeps every task until it
     * ends). Cancel the actor so the call returns, then wait for it. */
    if (j->threaded && !j->joined && !atomic_load(&j->done) && alive)
        tr_runtime_cancel(r->h);
    job_join(get_waker(L), j);
    /* results never collected: give them back */
    if (j->out_portal && alive) tr_portal_release(j->out_portal);
    tr_error_free(j->err);
    if (j->kind == JOB_CTX_CANCEL && j->c && alive) tr_ctx_release(j->c);
    free(j->name);
    free(j->ns);
    free(j->func);
    free(j->lang);
    free(j->mods);
    free(j->loglevel);
    free(j->command);
    free(j->reason);
    free(j->addr);
    lt_wbuf_free(&j->kw);
    free(j);
    return 0;
}

static char *dup_opt(lua_State *L, int idx) {
    if (lua_isnoneornil(L, idx)) return NULL;
    const char *s = luaL_checkstring(L, idx);
    char *d = strdup(s);
    if (!d) luaL_error(L, "out of memory");
    return d;
}

static char *dup_field(lua_State *L, int t, const char *k) {
    if (lua_type(L, t) != LUA_TTABLE) return NULL;
    lua_getfield(L, t, k);
    char *d = NULL;
    if (lua_type(L, -1) == LUA_TTABLE) { /* a list of module names */
        luaL_Buffer b;
        int top = lua_gettop(L);
        luaL_buffinit(L, &b);
        lua_Integer n = luaL_len(L, top);
        for (lua_Integer i = 1; i <= n; i++) {
            lua_geti(L, top, i);
            if (lua_type(L, -1) != LUA_TSTRING)
                luaL_error(L, "spawn option `%s` must be a string or a list of strings", k);
            if (i > 1) luaL_addchar(&b, ',');
            luaL_addvalue(&b);
        }
        luaL_pushresult(&b);
        d = dup_opt(L, -1);
        lua_settop(L, top);
    } else if (!lua_isnil(L, -1)) {
        if (lua_type(L, -1) != LUA_TSTRING) luaL_error(L, "spawn option `%s` must be a string", k);
        d = dup_opt(L, -1);
    }
    lua_pop(L, 1);
    return d;
}

/* New job userdata at the top of the stack; `parent` is a handle whose
 * runtime the results belong to; `keep` handles stay alive with the job. */
static lt_job *new_job(lua_State *L, int kind, int parent) {
    parent = lua_absindex(L, parent);
    lt_job **pj = lua_newuserdatauv(L, sizeof *pj, 2);
    *pj = NULL;
    luaL_setmetatable(L, LT_JOB);
    lt_job *j = calloc(1, sizeof *j);
    if (!j) luaL_error(L, "out of memory");
    *pj = j;
    j->kind = kind;
    j->wake_fd = lt_waker_fd(L);
    j->iarg = -1;
    /* uservalue 1: the runtime; 2: the parent handle (kept alive) */
    if (luaL_testudata(L, parent, LT_RUNTIME)) lua_pushvalue(L, parent);
    else lua_getiuservalue(L, parent, 1);
    lua_setiuservalue(L, -2, 1);
    lua_pushvalue(L, parent);
    lua_setiuservalue(L, -2, 2);
    return j;
}

static void launch(lua_State *L, lt_job *j, int threaded) {
    lt_waker *w = threaded ? get_waker(L) : NULL;
    if (w) {
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setstacksize(&at, 256 * 1024);
        int rc = pthread_create(&j->th, &at, job_thread, j);
        pthread_attr_destroy(&at);
        if (rc == 0) {
            j->threaded = 1;
            j->next = w->jobs;
            w->jobs = j;
            return;
        }
        /* no thread: run it here */
    }
    run_job(j);
    atomic_store(&j->done, 1);
}

/* start_actor(threaded, nursery, name, opts{lang, enable_modules, loglevel,
 * command, timeout_ms}) -> job */
static int l_start_actor(lua_State *L) {
    int threaded = lua_toboolean(L, 1);
    tr_nursery_t *n = lt_check_open(L, 2, LT_NURSERY);
    luaL_checkstring(L, 3);
    lt_job *j = new_job(L, JOB_START_ACTOR, 2);
    j->n = n;
    j->name = dup_opt(L, 3);
    j->lang = dup_field(L, 4, "lang");
    j->mods = dup_field(L, 4, "enable_modules");
    j->loglevel = dup_field(L, 4, "loglevel");
    j->command = dup_field(L, 4, "command");
    if (lua_type(L, 4) == LUA_TTABLE) {
        lua_getfield(L, 4, "timeout_ms");
        j->iarg = (int)luaL_optinteger(L, -1, -1);
        lua_pop(L, 1);
    }
    launch(L, j, threaded);
    return 1;
}

/* run_in_actor(threaded, nursery, name, ns, func, kwargs, opts) -> job */
static int l_run_in_actor(lua_State *L) {
    int threaded = lua_toboolean(L, 1);
    tr_nursery_t *n = lt_check_open(L, 2, LT_NURSERY);
    luaL_checkstring(L, 3);
    luaL_checkstring(L, 4);
    luaL_checkstring(L, 5);
    lt_job *j = new_job(L, JOB_RUN_IN_ACTOR, 2);
    char err[400];
    j->has_kw = !lua_isnoneornil(L, 6);
    if (j->has_kw && lt_encode_opt(L, 6, &j->kw, "kwargs", 1, err, sizeof err)) {
        lua_pushinteger(L, TR_EINVAL);
        lt_push_local_error(L, "TypeError", err, TR_EINVAL);
        return 2; /* rc, err (the unlaunched job is garbage) */
    }
    j->n = n;
    j->name = dup_opt(L, 3);
    j->ns = dup_opt(L, 4);
    j->func = dup_opt(L, 5);
    j->lang = dup_field(L, 7, "lang");
    j->mods = dup_field(L, 7, "enable_modules");
    j->loglevel = dup_field(L, 7, "loglevel");
    j->command = dup_field(L, 7, "command");
    if (lua_type(L, 7) == LUA_TTABLE) {
        lua_getfield(L, 7, "timeout_ms");
        j->iarg = (int)luaL_optinteger(L, -1, -1);
        lua_pop(L, 1);
    }
    launch(L, j, threaded);
    return 1;
}

/* nursery_close(threaded, nursery, block_error) -> job; the nursery handle
 * is closed at once (the call frees it). */
static int l_nursery_close(lua_State *L) {
    int threaded = lua_toboolean(L, 1);
    tr_nursery_t *n = lt_check_open(L, 2, LT_NURSERY);
    lt_job *j = new_job(L, JOB_NURSERY_CLOSE, 2);
    j->n = n;
    j->iarg = lua_toboolean(L, 3);
    lt_check_handle(L, 2, LT_NURSERY)->h = NULL;
    launch(L, j, threaded);
    return 1;
}

static int l_nursery_cancel(lua_State *L) {
    int threaded = lua_toboolean(L, 1);
    tr_nursery_t *n = lt_check_open(L, 2, LT_NURSERY);
    lt_job *j = new_job(L, JOB_NURSERY_CANCEL, 2);
    j->n = n;
    launch(L, j, threaded);
    return 1;
}

/* portal_cancel_actor(threaded, portal, timeout_ms) -> job */
static int l_cancel_actor(lua_State *L) {
    int threaded = lua_toboolean(L, 1);
    tr_portal_t *p = lt_check_open(L, 2, LT_PORTAL);
    lt_job *j = new_job(L, JOB_CANCEL_ACTOR, 2);
    j->p = p;
    j->iarg = (int)luaL_optinteger(L, 3, -1);
    launch(L, j, threaded);
    return 1;
}

/* ctx_cancel(threaded, ctx, reason) -> job */
static int l_ctx_cancel(lua_State *L) {
    int threaded = lua_toboolean(L, 1);
    tr_ctx_t *c = lt_check_open(L, 2, LT_CTX);
    lt_job *j = new_job(L, JOB_CTX_CANCEL, 2);
    j->c = tr_ctx_retain(c);
    j->reason = dup_opt(L, 3);
    launch(L, j, threaded);
    return 1;
}

/* ctx_close(threaded, ctx, block_error) -> job; the handle is released. */
static int l_ctx_close(lua_State *L) {
    int threaded = lua_toboolean(L, 1);
    tr_ctx_t *c = lt_check_open(L, 2, LT_CTX);
    lt_handle *u = lt_check_handle(L, 2, LT_CTX);
    if (u->callee) return luaL_error(L, "ctx_close is for the caller side");
    lt_job *j = new_job(L, JOB_CTX_CLOSE, 2);
    j->c = c;
    j->iarg = lua_toboolean(L, 3);
    u->h = NULL;
    launch(L, j, threaded);
    return 1;
}

/* portal_connect(threaded, rt, addr, timeout_ms) -> job */
static int l_connect(lua_State *L) {
    int threaded = lua_toboolean(L, 1);
    tr_runtime_t *rt = lt_check_open(L, 2, LT_RUNTIME);
    luaL_checkstring(L, 3);
    lt_job *j = new_job(L, JOB_CONNECT, 2);
    j->rt = rt;
    j->addr = dup_opt(L, 3);
    j->iarg = (int)luaL_optinteger(L, 4, -1);
    launch(L, j, threaded);
    return 1;
}

static int find_common(lua_State *L, int kind) {
    int threaded = lua_toboolean(L, 1);
    tr_runtime_t *rt = lt_check_open(L, 2, LT_RUNTIME);
    luaL_checkstring(L, 3);
    lt_job *j = new_job(L, kind, 2);
    j->rt = rt;
    j->name = dup_opt(L, 3);
    j->iarg = (int)luaL_optinteger(L, 4, -1);
    launch(L, j, threaded);
    return 1;
}
static int l_find_actor(lua_State *L) { return find_common(L, JOB_FIND_ACTOR); }
static int l_wait_for_actor(lua_State *L) { return find_common(L, JOB_WAIT_FOR_ACTOR); }

/* job_poll(job) -> TR_EAGAIN | rc [, portal] [, err] */
static int l_job_poll(lua_State *L) {
    lt_job **pj = luaL_checkudata(L, 1, LT_JOB);
    lt_job *j = *pj;
    if (!j) return luaL_error(L, "job already collected");
    if (!atomic_load(&j->done)) {
        lua_pushinteger(L, TR_EAGAIN);
        return 1;
    }
    job_join(get_waker(L), j);
    lua_pushinteger(L, j->rc);
    int nret = 1;
    int kind = j->kind;
    if (kind == JOB_START_ACTOR || kind == JOB_RUN_IN_ACTOR || kind == JOB_CONNECT ||
        kind == JOB_FIND_ACTOR || kind == JOB_WAIT_FOR_ACTOR) {
        if (j->out_portal) {
            lt_push_handle_from(L, LT_PORTAL, NULL, 1)->h = j->out_portal;
            j->out_portal = NULL;
        } else {
            lua_pushnil(L);
        }
        nret++;
    }
    if (j->err) {
        lt_push_error(L, j->err);
        tr_error_free(j->err);
        j->err = NULL;
        nret++;
    }
    return nret;
}

/* ---- the waker --------------------------------------------------------------- */

static int gc_waker(lua_State *L) {
    lt_waker *w = luaL_checkudata(L, 1, LT_WAKER);
    while (w->jobs) job_join(w, w->jobs);
    if (w->fd >= 0) close(w->fd);
    w->fd = -1;
    return 0;
}

void lt_jobs_open(lua_State *L) {
    luaL_newmetatable(L, LT_JOB);
    lua_pushcfunction(L, gc_job);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
    luaL_newmetatable(L, LT_WAKER);
    lua_pushcfunction(L, gc_waker);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
    lua_getfield(L, LUA_REGISTRYINDEX, WAKER_KEY);
    int have = !lua_isnil(L, -1);
    lua_pop(L, 1);
    if (!have) {
        lt_waker *w = lua_newuserdatauv(L, sizeof *w, 0);
        w->fd = -1;
        w->jobs = NULL;
        luaL_setmetatable(L, LT_WAKER);
        w->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (w->fd < 0) luaL_error(L, "tractor: eventfd failed: %s", strerror(errno));
        lua_setfield(L, LUA_REGISTRYINDEX, WAKER_KEY);
    }
    static const luaL_Reg fns[] = {{"start_actor", l_start_actor},
                                   {"run_in_actor", l_run_in_actor},
                                   {"nursery_close", l_nursery_close},
                                   {"nursery_cancel", l_nursery_cancel},
                                   {"portal_cancel_actor", l_cancel_actor},
                                   {"ctx_cancel", l_ctx_cancel},
                                   {"ctx_close", l_ctx_close},
                                   {"portal_connect", l_connect},
                                   {"find_actor", l_find_actor},
                                   {"wait_for_actor", l_wait_for_actor},
                                   {"job_poll", l_job_poll},
                                   {NULL, NULL}};
    luaL_setfuncs(L, fns, 0);
}
