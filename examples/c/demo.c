#define _GNU_SOURCE
/* tractor-demo: the `make demo` program. One actor tree, three languages:
 *
 *   demo-root (C, this process)
 *   ├── producer     Lua     examples/lua/modules/demo_producer.lua
 *   ├── transformer  Python  examples/python/modules/demo_transform.py
 *   │   └── lua-helper  Lua  (spawned by the Python actor in act 2)
 *   └── aggregator   C       examples/c/demo_worker.c
 *
 * Act 1 streams words through a pipeline of contexts (Lua produces, Python
 * transforms, C aggregates); act 2 relays a Lua error from a grandchild
 * through the Python actor to us; act 3 cancels two contexts and shows who
 * the canceller was; act 4 tears the tree down and checks that no process is
 * left. The program finds the Python package, the Lua binding and the demo
 * modules next to itself in the build tree (environment variables that are
 * already set are extended, not replaced). */
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tractor/tractor_msgpack.h"

#ifndef TR_DEMO_SOURCE_DIR
#define TR_DEMO_SOURCE_DIR ""
#endif
#ifndef TR_DEMO_PYTHON
#define TR_DEMO_PYTHON ""
#endif
#ifndef TR_DEMO_LUA
#define TR_DEMO_LUA ""
#endif

#define ROOT "demo-root"
#define TIMEOUT 10000

static double t0;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* one line of narration, prefixed with the time and the actor it is about */
static void say(const char *who, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    printf("%5.2fs [%s] ", now() - t0, who);
    vprintf(fmt, ap);
    printf("\n");
    fflush(stdout);
    va_end(ap);
}

static void fail(const char *what, int rc, tr_error_t *err) {
    fprintf(stderr, "demo: %s failed: %s%s%s\n", what, tr_strerror(rc), err ? ": " : "",
            err ? tr_error_str(err) : "");
    if (err && tr_error_traceback(err)) fprintf(stderr, "%s\n", tr_error_traceback(err));
    exit(1);
}

/* ---- finding everything relative to this binary ------------------------ */

static int is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* append `dir` to the `sep`-separated list in $var (create it when unset,
 * with `tail` appended then, e.g. ";;" for Lua's default path) */
static void env_add(const char *var, const char *dir, const char *sep, const char *tail) {
    const char *cur = getenv(var);
    char buf[8192];
    if (cur && *cur) {
        if (strstr(cur, dir)) return;
        snprintf(buf, sizeof buf, "%s%s%s", dir, sep, cur);
    } else {
        snprintf(buf, sizeof buf, "%s%s", dir, tail);
    }
    setenv(var, buf, 1);
}

static void set_env(void) {
    char exe[PATH_MAX], dir[PATH_MAX + 64], build[PATH_MAX], p[PATH_MAX + 128];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return;
    exe[n] = 0;
    *strrchr(exe, '/') = 0; /* <build>/examples/c */
    snprintf(p, sizeof p, "%s/../..", exe);
    if (!realpath(p, build)) return;
    /* the C module (demo_worker) is next to us */
    if (!getenv("TRACTOR_MODULE_PATH")) setenv("TRACTOR_MODULE_PATH", exe, 1);
    /* Python: the libtractor package and the demo module */
    snprintf(p, sizeof p, "%s/bindings/python", build);
    if (is_dir(p)) env_add("PYTHONPATH", p, ":", "");
    snprintf(dir, sizeof dir, "%s/examples/python", build); /* copied there by the build */
    if (!is_file((snprintf(p, sizeof p, "%s/demo_transform.py", dir), p)))
        snprintf(dir, sizeof dir, "%s/examples/python/modules", TR_DEMO_SOURCE_DIR);
    env_add("PYTHONPATH", dir, ":", "");
    /* Lua: the binding (tractor.lua, tractor_c.so) and the demo module;
     * children look on TRACTOR_LUA_PATH first */
    snprintf(p, sizeof p, "%s/bindings/lua/?.lua", build);
    env_add("LUA_PATH", p, ";", ";;");
    snprintf(p, sizeof p, "%s/bindings/lua/?.so", build);
    env_add("LUA_CPATH", p, ";", ";;");
    snprintf(dir, sizeof dir, "%s/examples/lua", build);
    if (!is_file((snprintf(p, sizeof p, "%s/demo_producer.lua", dir), p)))
        snprintf(dir, sizeof dir, "%s/examples/lua/modules", TR_DEMO_SOURCE_DIR);
    env_add("TRACTOR_LUA_PATH", dir, ";", "");
    /* the interpreters the bindings were built for */
    if (!getenv("TRACTOR_PYTHON") && is_file(TR_DEMO_PYTHON)) setenv("TRACTOR_PYTHON", TR_DEMO_PYTHON, 1);
    if (!getenv("TRACTOR_LUA") && is_file(TR_DEMO_LUA)) setenv("TRACTOR_LUA", TR_DEMO_LUA, 1);
    /* quiet children: errors are what the demo shows, not log lines */
    if (!getenv("TRACTOR_LOGLEVEL")) setenv("TRACTOR_LOGLEVEL", "critical", 1);
}

/* ---- msgpack (tractor/tractor_msgpack.h) -------------------------------- */

typedef struct {
    msgpack_sbuffer sb;
    msgpack_packer pk;
} pack_t;

static void pack_init(pack_t *p) { tr_mp_init(&p->sb, &p->pk); }

/* a received payload, unpacked (nil when it is not msgpack; freed with
 * msgpack_unpacked_destroy, before the tr_buf_t is released) */
static msgpack_object unpack(msgpack_unpacked *u, const tr_buf_t *b) {
    tr_mp_unpack_buf(b, u);
    return u->data;
}

/* an int field (0 when it is missing or not an int) */
static long long get_int(const msgpack_object *m, const char *key) {
    int64_t v = 0;
    tr_mp_get_int(m, key, &v);
    return (long long)v;
}

/* a str field as "%.*s" arguments */
#define STRF(o) (int)((o) && (o)->type == MSGPACK_OBJECT_STR ? (o)->via.str.size : 1), \
                ((o) && (o)->type == MSGPACK_OBJECT_STR ? (o)->via.str.ptr : "?")

/* ---- the tree ------------------------------------------------------------ */

typedef struct {
    const char *name, *lang, *module;
    tr_portal_t *p;
    int pid;
} child_t;

static void spawn(tr_nursery_t *n, child_t *c) {
    tr_spawn_opts_t so;
    tr_spawn_opts_init(&so);
    so.lang = c->lang;
    so.enable_modules = c->module;
    tr_error_t *err = NULL;
    double t = now();
    int rc = tr_nursery_start_actor(n, c->name, &so, &c->p, &err, 30000);
    if (rc) fail("spawning a child", rc, err);
    c->pid = tr_portal_pid(c->p);
    say(ROOT, "  spawned %-11s %-6s pid %-7d serving %-14s (up in %.2f s)", c->name, c->lang, c->pid,
        c->module, now() - t);
}

/* act 1: Lua produces, Python transforms, C aggregates */
static void act_pipeline(child_t *transformer) {
    say(ROOT, "act 1: a pipeline of contexts: producer (lua) -> transformer (python) -> aggregator (c)");
    pack_t kw;
    pack_init(&kw);
    msgpack_pack_map(&kw.pk, 2);
    tr_mp_pack_kv_str(&kw.pk, "producer", "producer");
    tr_mp_pack_kv_str(&kw.pk, "aggregator", "aggregator");
    tr_ctx_t *ctx;
    tr_buf_t first;
    tr_error_t *err = NULL;
    int rc = tr_portal_open_context(transformer->p, "demo_transform", "pipeline", kw.sb.data, kw.sb.size,
                                    NULL, &ctx, &first, &err, TIMEOUT);
    msgpack_sbuffer_destroy(&kw.sb);
    if (rc) fail("opening the pipeline", rc, err);
    msgpack_unpacked u;
    msgpack_object f = unpack(&u, &first);
    if (f.type == MSGPACK_OBJECT_ARRAY && f.via.array.size == 2) {
        say("transformer", "found its peers: producer says \"%.*s\", aggregator says \"%.*s\"",
            STRF(&f.via.array.ptr[0]), STRF(&f.via.array.ptr[1]));
    }
    msgpack_unpacked_destroy(&u);
    tr_buf_release(&first);
    tr_stream_t *s;
    if ((rc = tr_ctx_open_stream(ctx, &s))) fail("opening the report stream", rc, NULL);
    tr_buf_t b;
    while ((rc = tr_stream_recv(s, &b, &err, TIMEOUT)) == 0) {
        msgpack_object r = unpack(&u, &b);
        char quoted[64];
        snprintf(quoted, sizeof quoted, "'%.*s'", STRF(tr_mp_map_get(&r, "word")));
        say("transformer", "#%lld %-11s from producer -> %-11.*s len %lld -> aggregator: total %lld",
            get_int(&r, "seq"), quoted, STRF(tr_mp_map_get(&r, "upper")), get_int(&r, "len"), get_int(&r, "total"));
        msgpack_unpacked_destroy(&u);
        tr_buf_release(&b);
    }
    if (rc != TR_EEOC) fail("receiving a report", rc, err);
    tr_buf_t res;
    if ((rc = tr_ctx_wait_for_result(ctx, &res, &err, TIMEOUT))) fail("the pipeline's result", rc, err);
    msgpack_object r = unpack(&u, &res);
    const msgpack_object *agg = tr_mp_map_get(&r, "aggregated");
    say(ROOT, "  pipeline returned: the producer (lua) had %lld words acknowledged, the aggregator (c) "
              "counted %lld words, %lld letters",
        get_int(&r, "produced"), agg ? get_int(agg, "count") : 0, agg ? get_int(agg, "total") : 0);
    msgpack_unpacked_destroy(&u);
    tr_buf_release(&res);
    tr_stream_release(s);
    tr_ctx_close(ctx, 0);
}

/* act 2: a Lua error in a grandchild, relayed by the Python actor */
static void act_error(child_t *transformer) {
    say(ROOT, "act 2: an error two levels down, in another language");
    say(ROOT, "  asking transformer (python) to double \"forty-two\" with a Lua helper it spawns");
    pack_t kw;
    pack_init(&kw);
    msgpack_pack_map(&kw.pk, 1);
    tr_mp_pack_kv_str(&kw.pk, "text", "forty-two");
    tr_buf_t res;
    tr_error_t *err = NULL;
    int rc = tr_portal_run(transformer->p, "demo_transform", "double_with_lua", kw.sb.data, kw.sb.size, &res,
                           &err, TIMEOUT);
    msgpack_sbuffer_destroy(&kw.sb);
    if (rc != TR_EREMOTE || !err) fail("expecting a remote error", rc ? rc : TR_ESTATE, err);
    say(ROOT, "  -> %s: boxed %s, raised as %s in '%s'", tr_err_name(rc), tr_error_type(err),
        tr_error_src_type(err), tr_error_src_name(err));
    char path[512] = "";
    for (size_t i = 0; i < tr_error_relay_len(err); i++) {
        size_t l = strlen(path);
        snprintf(path + l, sizeof path - l, "%s -> ", tr_error_relay_name(err, i));
    }
    say(ROOT, "     relay path: %s%s (us)", path, ROOT);
    say(ROOT, "     message: %s", tr_error_message(err));
    say(ROOT, "     the Lua traceback, as the grandchild sent it:");
    const char *tb = tr_error_traceback(err);
    int lines = 0;
    for (const char *l = tb; l && *l && lines < 8; lines++) {
        const char *e = strchr(l, '\n');
        int len = e ? (int)(e - l) : (int)strlen(l);
        say(ROOT, "       | %.*s", len, l);
        l = e ? e + 1 : l + len;
    }
    tr_error_free(err);
}

/* act 3: cancellation, and who asked for it */
static void act_cancel(child_t *producer, child_t *transformer, child_t *aggregator) {
    say(ROOT, "act 3: cancellation");
    /* a: we cancel a Lua stream ourselves: absorbed */
    pack_t kw;
    pack_init(&kw);
    msgpack_pack_map(&kw.pk, 1);
    tr_mp_pack_str(&kw.pk, "period");
    msgpack_pack_double(&kw.pk, 0.02);
    tr_ctx_t *ctx;
    tr_error_t *err = NULL;
    int rc = tr_portal_open_context(producer->p, "demo_producer", "ticker", kw.sb.data, kw.sb.size, NULL, &ctx,
                                    NULL, &err, TIMEOUT);
    msgpack_sbuffer_destroy(&kw.sb);
    if (rc) fail("opening the ticker", rc, err);
    tr_stream_t *s;
    tr_ctx_open_stream(ctx, &s);
    char ticks[64] = "";
    for (int i = 0; i < 4; i++) {
        tr_buf_t b;
        if ((rc = tr_stream_recv(s, &b, &err, TIMEOUT))) fail("a tick", rc, err);
        msgpack_unpacked u;
        msgpack_object o = unpack(&u, &b);
        size_t l = strlen(ticks);
        snprintf(ticks + l, sizeof ticks - l, " %lld", (long long)o.via.u64);
        msgpack_unpacked_destroy(&u);
        tr_buf_release(&b);
    }
    say(ROOT, "  producer (lua) ticks:%s ... we cancel the context", ticks);
    tr_ctx_cancel(ctx, "the demo has seen enough ticks");
    tr_buf_t res;
    rc = tr_ctx_wait_for_result(ctx, &res, &err, TIMEOUT);
    const char *cname = NULL, *cuuid = NULL;
    tr_ctx_canceller(ctx, &cname, &cuuid);
    say(ROOT, "  -> %s (%s), canceller '%s' = us: %s, acknowledged: %s; absorbed, not an error",
        tr_err_name(rc), err ? tr_error_type(err) : "?", cname ? cname : "?",
        cuuid && !strcmp(cuuid, tr_runtime_uuid(tr_ctx_runtime(ctx))) ? "yes" : "no",
        tr_ctx_cancel_acked(ctx) ? "yes" : "no");
    tr_error_free(err);
    err = NULL;
    tr_stream_release(s);
    if ((rc = tr_ctx_close(ctx, 0))) fail("closing the cancelled context", rc, NULL);

    /* b: a third actor (Python) cancels the C actor we hold a context with */
    if ((rc = tr_portal_open_context(aggregator->p, "demo_worker", "wait_forever", NULL, 0, NULL, &ctx, NULL,
                                     &err, TIMEOUT)))
        fail("opening wait_forever", rc, err);
    say(ROOT, "  holding a context on aggregator (c); asking transformer (python) to cancel that actor");
    pack_init(&kw);
    msgpack_pack_map(&kw.pk, 1);
    tr_mp_pack_kv_str(&kw.pk, "name", "aggregator");
    rc = tr_portal_run(transformer->p, "demo_transform", "cancel_peer", kw.sb.data, kw.sb.size, &res, &err,
                       TIMEOUT);
    msgpack_sbuffer_destroy(&kw.sb);
    if (rc) fail("cancel_peer", rc, err);
    tr_buf_release(&res);
    rc = tr_ctx_wait_for_result(ctx, &res, &err, TIMEOUT);
    say(ROOT, "  -> %s (%s) raised: canceller '%s' (%s), not us", tr_err_name(rc), err ? tr_error_type(err) : "?",
        err && tr_error_canceller_name(err) ? tr_error_canceller_name(err) : "?",
        err && tr_error_canceller_name(err) && !strcmp(tr_error_canceller_name(err), "transformer") ? "python"
                                                                                                     : "?");
    if (rc != TR_ECTXCANCELLED) fail("expecting ContextCancelled", rc ? rc : TR_ESTATE, err);
    tr_error_free(err);
    tr_ctx_close(ctx, 0);
}

int main(void) {
    t0 = now();
    setvbuf(stdout, NULL, _IOLBF, 0);
    set_env();
    tr_runtime_opts_t o;
    tr_runtime_opts_init(&o);
    o.name = ROOT;
    /* a private registrar (ourselves, on a free port) so the children can
     * find each other by name without touching the machine's 127.0.0.1:1616 */
    o.registry_addrs = "127.0.0.1:0";
    o.enable_registrar = TR_REGISTRAR_BECOME;
    tr_runtime_t *rt;
    int rc = tr_runtime_open(&o, &rt);
    if (rc) fail("opening the root actor", rc, NULL);
    char addr[256];
    tr_runtime_addr(rt, addr, sizeof addr);
    say(ROOT, "libtractor %s: a C root actor at %s (the registrar of this tree)", tr_version(), addr);

    tr_nursery_t *n;
    tr_nursery_open(rt, &n);
    child_t producer = {"producer", "lua", "demo_producer", NULL, 0};
    child_t transformer = {"transformer", "python", "demo_transform", NULL, 0};
    child_t aggregator = {"aggregator", "c", "demo_worker", NULL, 0};
    say(ROOT, "spawning one child per language:");
    spawn(n, &producer);
    spawn(n, &transformer);
    spawn(n, &aggregator);

    act_pipeline(&transformer);
    act_error(&transformer);
    act_cancel(&producer, &transformer, &aggregator);

    /* act 4: teardown */
    say(ROOT, "act 4: teardown");
    child_t *kids[] = {&producer, &transformer};
    for (int i = 0; i < 2; i++) {
        rc = tr_portal_cancel_actor(kids[i]->p, -1);
        say(ROOT, "  cancel_actor(%s) -> %s", kids[i]->name, rc ? tr_err_name(rc) : "acknowledged");
    }
    tr_portal_release(producer.p);
    tr_portal_release(transformer.p);
    tr_portal_release(aggregator.p);
    tr_error_t *err = NULL;
    if ((rc = tr_nursery_close(n, 0, &err))) fail("closing the nursery", rc, err);
    tr_runtime_close(rt);
    int left = 0;
    child_t *all[] = {&producer, &transformer, &aggregator};
    for (int i = 0; i < 3; i++) left += kill(all[i]->pid, 0) == 0;
    if (left) {
        fprintf(stderr, "demo: %d child process(es) still running\n", left);
        return 1;
    }
    say(ROOT, "every child reaped, no process left; the tree lived %.2f s", now() - t0);
    return 0;
}
