/* ex_util.h: small helpers shared by the C examples and their modules
 * (msgpack in and out on top of tractor/tractor_msgpack.h, errors, finding
 * the modules). Header-only. */
#ifndef EX_UTIL_H
#define EX_UTIL_H

#include <dirent.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tractor/tractor_msgpack.h"

/* ---- building payloads ---------------------------------------------------- */

typedef struct {
    msgpack_sbuffer sb;
    msgpack_packer pk;
} ex_pack_t;

static inline void ex_pack_init(ex_pack_t *p) { tr_mp_init(&p->sb, &p->pk); }
static inline void ex_pack_free(ex_pack_t *p) { msgpack_sbuffer_destroy(&p->sb); }
static inline void ex_pack_reset(ex_pack_t *p) { p->sb.size = 0; }
static inline void ex_str(ex_pack_t *p, const char *s) { tr_mp_pack_str(&p->pk, s); }
static inline void ex_int(ex_pack_t *p, int64_t v) { msgpack_pack_int64(&p->pk, v); }

/* ---- reading payloads ----------------------------------------------------- */

typedef struct {
    msgpack_unpacked u;
} ex_obj_t;

/* unpack bytes (a received tr_buf_t, or a context's kwargs); the object is
 * NIL when they are not msgpack. Its strings point into the bytes: keep them
 * until ex_obj_free */
static inline const msgpack_object *ex_unpack(ex_obj_t *o, const void *data, size_t len) {
    tr_mp_unpack(data, len, &o->u);
    return &o->u.data;
}
static inline void ex_obj_free(ex_obj_t *o) { msgpack_unpacked_destroy(&o->u); }

/* the kwargs of a served call, unpacked */
static inline const msgpack_object *ex_kwargs(ex_obj_t *o, tr_ctx_t *ctx) {
    tr_mp_unpack_kwargs(ctx, &o->u);
    return &o->u.data;
}

/* an int (0 when it is not one); map values: tr_mp_map_get(map, "key") */
static inline int64_t ex_as_int(const msgpack_object *v) {
    int64_t i = 0;
    tr_mp_as_int(v, &i);
    return i;
}

/* a str value copied into buf ("" when it is not a str) */
static inline const char *ex_as_str(const msgpack_object *v, char *buf, size_t len) {
    const char *s;
    size_t n;
    buf[0] = 0;
    if (tr_mp_as_str(v, &s, &n) == 0) snprintf(buf, len, "%.*s", (int)n, s);
    return buf;
}

/* a received int / str */
static inline int64_t ex_buf_int(const tr_buf_t *b) {
    ex_obj_t o;
    int64_t v = ex_as_int(ex_unpack(&o, b->data, b->len));
    ex_obj_free(&o);
    return v;
}
static inline const char *ex_buf_str(const tr_buf_t *b, char *buf, size_t len) {
    ex_obj_t o;
    ex_as_str(ex_unpack(&o, b->data, b->len), buf, len);
    ex_obj_free(&o);
    return buf;
}

/* ---- results of served functions ----------------------------------------- */

static inline int ex_return_int(tr_ctx_t *ctx, int64_t v) {
    ex_pack_t p;
    ex_pack_init(&p);
    ex_int(&p, v);
    int rc = tr_ctx_set_result(ctx, p.sb.data, p.sb.size);
    ex_pack_free(&p);
    return rc;
}
static inline int ex_return_str(tr_ctx_t *ctx, const char *s) {
    ex_pack_t p;
    ex_pack_init(&p);
    ex_str(&p, s);
    int rc = tr_ctx_set_result(ctx, p.sb.data, p.sb.size);
    ex_pack_free(&p);
    return rc;
}

/* ---- programs -------------------------------------------------------------- */

/* print what failed and exit 1 */
static inline void ex_die(const char *what, int rc, tr_error_t *err) {
    fprintf(stderr, "%s failed: %s%s%s\n", what, tr_strerror(rc), err ? ": " : "", err ? tr_error_str(err) : "");
    exit(1);
}
#define EX_CHECK(call, what)                    \
    do {                                        \
        int ex_rc_ = (call);                    \
        if (ex_rc_) ex_die(what, ex_rc_, NULL); \
    } while (0)

/* C modules are found next to the example programs, unless
 * $TRACTOR_MODULE_PATH says otherwise */
static inline void ex_find_modules(void) {
    if (getenv("TRACTOR_MODULE_PATH")) return;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) return;
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (slash) *slash = 0;
    setenv("TRACTOR_MODULE_PATH", exe, 1);
}

/* a root for an example: quiet, no signal handling surprises */
static inline tr_runtime_t *ex_open_root(const char *name, const char *transport, int registrar) {
    ex_find_modules();
    tr_runtime_opts_t o;
    tr_runtime_opts_init(&o);
    o.name = name;
    o.transport = transport;
    /* a private registrar (a free port) unless one is given, or none */
    if (!registrar) o.enable_registrar = TR_REGISTRAR_NONE;
    else if (!getenv("TRACTOR_REGISTRY_ADDR")) o.registry_addrs = "127.0.0.1:0";
    tr_runtime_t *rt;
    int rc = tr_runtime_open(&o, &rt);
    if (rc) ex_die("opening the root actor", rc, NULL);
    return rt;
}

/* after tr_runtime_close: no child process of ours may be left */
static inline int ex_children_left(void) {
    int left = 0, me = (int)getpid();
    DIR *d = opendir("/proc");
    if (!d) return 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        char path[300], line[512];
        if (atoi(e->d_name) <= 0) continue;
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        if (fgets(line, sizeof line, f)) {
            char *rp = strrchr(line, ')');
            char state;
            int ppid;
            if (rp && sscanf(rp + 2, "%c %d", &state, &ppid) == 2 && ppid == me) left++;
        }
        fclose(f);
    }
    closedir(d);
    return left;
}

#endif
