/* matrixmod (C): the endpoints every language serves for the cross-language
 * matrix tests (tests/matrix/README.md). Same names, same behaviour as
 * matrixmod.py and matrixmod.lua:
 *   add(x, y)                   -> x + y
 *   whoami()                    -> [name, uuid, "c", addr]
 *   fail(msg)                   -> raises ValueError(msg)
 *   echo (ctx)                  -> started(first or "ready"), echoes, returns count
 *   wait_in_stream (ctx)        -> started(), reads its stream until cancelled
 *   self_cancel (ctx)           -> started(), cancels itself, waits
 *   call_back(addr, ns, func, kwargs)
 *                               -> connects to addr, returns ns.func(**kwargs)
 *                                  there; an error is relayed
 *   spawn_and_call(lang, ns, func, kwargs)
 *                               -> spawns a child of `lang` serving ns, returns
 *                                  ns.func(**kwargs) there; an error is relayed
 *   cancel_actor_at(addr)       -> cancels the actor at addr: True if acked */
#include <msgpack.h>
#include <stdio.h>
#include <string.h>

#include "tractor/tractor.h"

#define TIMEOUT 30000

/* kwargs, unpacked once per call */
typedef struct {
    msgpack_unpacked u;
} kw_t;

static void kw_open(kw_t *k, tr_ctx_t *ctx) {
    const void *buf;
    size_t len;
    tr_ctx_kwargs(ctx, &buf, &len);
    msgpack_unpacked_init(&k->u);
    if (msgpack_unpack_next(&k->u, buf, len, NULL) != MSGPACK_UNPACK_SUCCESS) k->u.data.type = MSGPACK_OBJECT_NIL;
}

static void kw_close(kw_t *k) { msgpack_unpacked_destroy(&k->u); }

static const msgpack_object *kw_get(kw_t *k, const char *key) {
    const msgpack_object *m = &k->u.data;
    if (m->type != MSGPACK_OBJECT_MAP) return NULL;
    for (uint32_t i = 0; i < m->via.map.size; i++) {
        const msgpack_object *kk = &m->via.map.ptr[i].key;
        if (kk->type == MSGPACK_OBJECT_STR && kk->via.str.size == strlen(key) &&
            !memcmp(kk->via.str.ptr, key, kk->via.str.size))
            return &m->via.map.ptr[i].val;
    }
    return NULL;
}

static int64_t kw_int(kw_t *k, const char *key) {
    const msgpack_object *v = kw_get(k, key);
    if (!v) return 0;
    return v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER ? v->via.i64 : (int64_t)v->via.u64;
}

/* a str kwarg copied into buf ("" when missing) */
static const char *kw_str(kw_t *k, const char *key, char *buf, size_t len) {
    const msgpack_object *v = kw_get(k, key);
    buf[0] = 0;
    if (v && v->type == MSGPACK_OBJECT_STR)
        snprintf(buf, len, "%.*s", (int)v->via.str.size, v->via.str.ptr);
    return buf;
}

typedef struct {
    msgpack_sbuffer sb;
    msgpack_packer pk;
} pack_t;

static void pack_init(pack_t *p) {
    msgpack_sbuffer_init(&p->sb);
    msgpack_packer_init(&p->pk, &p->sb, msgpack_sbuffer_write);
}

static void pack_cstr(pack_t *p, const char *s) { msgpack_pack_str_with_body(&p->pk, s, strlen(s)); }

static int set_packed(tr_ctx_t *ctx, pack_t *p) {
    int rc = tr_ctx_set_result(ctx, p->sb.data, p->sb.size);
    msgpack_sbuffer_destroy(&p->sb);
    return rc;
}

/* the kwargs map to pass on (the `kwargs` argument, or an empty map) */
static void pack_inner_kwargs(kw_t *k, pack_t *p) {
    const msgpack_object *v = kw_get(k, "kwargs");
    if (v && v->type == MSGPACK_OBJECT_MAP) msgpack_pack_object(&p->pk, *v);
    else msgpack_pack_map(&p->pk, 0);
}

static int add(tr_ctx_t *ctx, void *ud) {
    (void)ud;
    kw_t k;
    kw_open(&k, ctx);
    pack_t p;
    pack_init(&p);
    msgpack_pack_int64(&p.pk, kw_int(&k, "x") + kw_int(&k, "y"));
    kw_close(&k);
    return set_packed(ctx, &p);
}

static int whoami(tr_ctx_t *ctx, void *ud) {
    (void)ud;
    tr_runtime_t *rt = tr_ctx_runtime(ctx);
    pack_t p;
    pack_init(&p);
    char addr[512];
    tr_runtime_addr(rt, addr, sizeof addr);
    msgpack_pack_array(&p.pk, 4);
    pack_cstr(&p, tr_runtime_name(rt));
    pack_cstr(&p, tr_runtime_uuid(rt));
    pack_cstr(&p, "c");
    pack_cstr(&p, addr);
    return set_packed(ctx, &p);
}

static int fail(tr_ctx_t *ctx, void *ud) {
    (void)ud;
    kw_t k;
    kw_open(&k, ctx);
    char msg[4096];
    kw_str(&k, "msg", msg, sizeof msg);
    kw_close(&k);
    tr_ctx_set_error(ctx, "ValueError", msg, "C: matrixmod.c: fail() set this error\n");
    return TR_EINVAL;
}

static int echo(tr_ctx_t *ctx, void *ud) {
    (void)ud;
    kw_t k;
    kw_open(&k, ctx);
    const msgpack_object *first = kw_get(&k, "first");
    pack_t p;
    pack_init(&p);
    if (first) msgpack_pack_object(&p.pk, *first);
    else pack_cstr(&p, "ready");
    int rc = tr_ctx_started(ctx, p.sb.data, p.sb.size);
    msgpack_sbuffer_destroy(&p.sb);
    kw_close(&k);
    if (rc) return rc;
    tr_stream_t *s;
    if ((rc = tr_ctx_open_stream(ctx, &s))) return rc;
    int64_t n = 0;
    tr_buf_t b;
    while ((rc = tr_stream_recv(s, &b, NULL, -1)) == 0) {
        rc = tr_stream_send(s, b.data, b.len, NULL);
        tr_buf_release(&b);
        if (rc) break;
        n++;
    }
    tr_stream_release(s);
    if (rc != TR_EEOC) return rc;
    pack_init(&p);
    msgpack_pack_int64(&p.pk, n);
    return set_packed(ctx, &p);
}

static int wait_in_stream(tr_ctx_t *ctx, void *ud) {
    (void)ud;
    int rc = tr_ctx_started(ctx, NULL, 0);
    if (rc) return rc;
    tr_stream_t *s;
    if ((rc = tr_ctx_open_stream(ctx, &s))) return rc;
    tr_buf_t b;
    while ((rc = tr_stream_recv(s, &b, NULL, -1)) == 0) tr_buf_release(&b);
    tr_stream_release(s);
    return rc == TR_EEOC ? 0 : rc; /* TR_ECANCELLED once cancelled */
}

static int self_cancel(tr_ctx_t *ctx, void *ud) {
    (void)ud;
    int rc = tr_ctx_started(ctx, NULL, 0);
    if (rc) return rc;
    tr_ctx_cancel(ctx, "the callee gave up");
    tr_stream_t *s;
    if ((rc = tr_ctx_open_stream(ctx, &s))) return rc;
    tr_buf_t b;
    while ((rc = tr_stream_recv(s, &b, NULL, -1)) == 0) tr_buf_release(&b);
    tr_stream_release(s);
    return rc;
}

/* run ns.func(kwargs) through portal `p`; the result or the relayed error
 * becomes ours */
static int run_and_relay(tr_ctx_t *ctx, tr_portal_t *p, kw_t *k) {
    char ns[128], func[128];
    kw_str(k, "ns", ns, sizeof ns);
    kw_str(k, "func", func, sizeof func);
    pack_t kwargs;
    pack_init(&kwargs);
    pack_inner_kwargs(k, &kwargs);
    tr_buf_t res;
    tr_error_t *err = NULL;
    int rc = tr_portal_run(p, ns, func, kwargs.sb.data, kwargs.sb.size, &res, &err, TIMEOUT);
    msgpack_sbuffer_destroy(&kwargs.sb);
    if (rc == 0) {
        rc = tr_ctx_set_result(ctx, res.data, res.len);
        tr_buf_release(&res);
    } else if (err) {
        tr_ctx_set_remote_error(ctx, err); /* RemoteActorError, our uid appended */
        tr_error_free(err);
    } else {
        char msg[200];
        snprintf(msg, sizeof msg, "%s.%s failed: %s", ns, func, tr_strerror(rc));
        tr_ctx_set_error(ctx, "RuntimeError", msg, NULL);
    }
    return rc;
}

static int call_back(tr_ctx_t *ctx, void *ud) {
    (void)ud;
    kw_t k;
    kw_open(&k, ctx);
    char addr[512];
    kw_str(&k, "addr", addr, sizeof addr);
    tr_portal_t *p;
    int rc = tr_portal_connect(tr_ctx_runtime(ctx), addr, &p, TIMEOUT);
    if (rc) {
        tr_ctx_set_error(ctx, "ConnectionError", "call_back: cannot connect", NULL);
    } else {
        rc = run_and_relay(ctx, p, &k);
        tr_portal_release(p);
    }
    kw_close(&k);
    return rc;
}

static int spawn_and_call(tr_ctx_t *ctx, void *ud) {
    (void)ud;
    kw_t k;
    kw_open(&k, ctx);
    char lang[32], ns[128], name[200];
    kw_str(&k, "lang", lang, sizeof lang);
    kw_str(&k, "ns", ns, sizeof ns);
    snprintf(name, sizeof name, "%s-%s", tr_runtime_name(tr_ctx_runtime(ctx)), lang);
    tr_nursery_t *n;
    int rc = tr_nursery_open(tr_ctx_runtime(ctx), &n);
    if (rc) {
        kw_close(&k);
        return rc;
    }
    tr_spawn_opts_t so;
    tr_spawn_opts_init(&so);
    so.lang = lang;
    so.enable_modules = ns;
    tr_portal_t *p;
    tr_error_t *err = NULL;
    rc = tr_nursery_start_actor(n, name, &so, &p, &err, TIMEOUT);
    if (rc) {
        if (err) tr_ctx_set_remote_error(ctx, err);
        tr_error_free(err);
    } else {
        rc = run_and_relay(ctx, p, &k);
        tr_portal_cancel_actor(p, -1);
        tr_portal_release(p);
    }
    tr_nursery_close(n, rc != 0, NULL);
    kw_close(&k);
    return rc;
}

static int cancel_actor_at(tr_ctx_t *ctx, void *ud) {
    (void)ud;
    kw_t k;
    kw_open(&k, ctx);
    char addr[512];
    kw_str(&k, "addr", addr, sizeof addr);
    kw_close(&k);
    tr_portal_t *p;
    int rc = tr_portal_connect(tr_ctx_runtime(ctx), addr, &p, TIMEOUT);
    if (rc) return rc;
    int acked = tr_portal_cancel_actor(p, 5000) == 0;
    tr_portal_release(p);
    pack_t r;
    pack_init(&r);
    if (acked) msgpack_pack_true(&r.pk);
    else msgpack_pack_false(&r.pk);
    return set_packed(ctx, &r);
}

int tr_module_init_matrixmod(tr_runtime_t *rt) {
    static const struct {
        const char *name;
        tr_functype_t kind;
        tr_func_t fn;
    } fns[] = {
        {"add", TR_FUNC_ASYNCFUNC, add},
        {"whoami", TR_FUNC_ASYNCFUNC, whoami},
        {"fail", TR_FUNC_ASYNCFUNC, fail},
        {"echo", TR_FUNC_CONTEXT, echo},
        {"wait_in_stream", TR_FUNC_CONTEXT, wait_in_stream},
        {"self_cancel", TR_FUNC_CONTEXT, self_cancel},
        {"call_back", TR_FUNC_ASYNCFUNC, call_back},
        {"spawn_and_call", TR_FUNC_ASYNCFUNC, spawn_and_call},
        {"cancel_actor_at", TR_FUNC_ASYNCFUNC, cancel_actor_at},
    };
    for (size_t i = 0; i < sizeof fns / sizeof *fns; i++) {
        int rc = tr_register_func(rt, "matrixmod", fns[i].name, fns[i].kind, fns[i].fn, NULL, NULL);
        if (rc) return rc;
    }
    return 0;
}
