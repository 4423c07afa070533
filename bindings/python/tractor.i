/* SWIG interface for the Python binding: the private extension module
 * `libtractor._tractor_c`.
 *
 * Everything here is deliberately low level; the public API is the pure
 * Python package `libtractor` (bindings/python/libtractor/). This file owns:
 *   - value conversion Python <-> msgpack (in C, no dependency),
 *   - releasing the GIL around every blocking call,
 *   - turning TR_E* codes and tr_error_t into Python exceptions (through a
 *     factory the Python layer registers with set_hooks()),
 *   - the trampoline that serves Python functions on runtime worker threads,
 *   - Ctrl-C: KeyboardInterrupt in the root's main thread once the runtime
 *     was cancelled by SIGINT.
 */
%module(package="libtractor") tractor_c

%{
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tractor/tractor.h"
%}

/* Opaque handles: SWIG wraps pointers to them. */
typedef struct tr_runtime tr_runtime_t;
typedef struct tr_nursery tr_nursery_t;
typedef struct tr_portal tr_portal_t;
typedef struct tr_ctx tr_ctx_t;
typedef struct tr_stream tr_stream_t;

/* Functions returning PyObject* return NULL with an exception set. */
%typemap(out) PyObject * {
    if (!$1) SWIG_fail;
    $result = $1;
}

%{
/* ======================================================================
 * Globals
 * ====================================================================== */

static PyObject *g_factory;      /* callable(code, info|None, where) -> exc */
static PyObject *g_cancel_types; /* exceptions meaning "this task was cancelled" */
static PyObject *g_format_exc;   /* traceback.format_exception */
static tr_runtime_t *g_rt;       /* the runtime of this process, if open */
static _Thread_local tr_ctx_t *tl_task; /* the served task running on this thread */
static atomic_int g_inflight;    /* trampolines currently running */

/* Registered handlers (one reference each), released at close when no task
 * is still running Python code. */
static PyObject **g_handlers;
static size_t g_nhandlers, g_caphandlers;

/* Ctrl-C: a watcher thread turns a SIGINT cancellation of the runtime into
 * KeyboardInterrupt in the main thread, exactly once. */
static pthread_t g_main_thread;
static int g_have_main;
static pthread_t g_watch_thread;
static int g_watching;
static pthread_mutex_t g_watch_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_watch_cond = PTHREAD_COND_INITIALIZER;
static int g_watch_stop;
static atomic_int g_ki_claimed; /* someone delivers the KeyboardInterrupt */
static atomic_int g_ki_tripped; /* the watcher tripped Python's SIGINT flag */

#define MAX_DEPTH 256

/* ======================================================================
 * Errors
 * ====================================================================== */

static void cap_free_error(PyObject *cap) {
    tr_error_free((tr_error_t *)PyCapsule_GetPointer(cap, "tr_error_t"));
}

static PyObject *uid_tuple(const char *name, const char *uuid) {
    if (!name && !uuid) Py_RETURN_NONE;
    return Py_BuildValue("(ss)", name ? name : "", uuid ? uuid : "");
}

static int dict_set_str(PyObject *d, const char *k, const char *v) {
    PyObject *o;
    if (v) {
        o = PyUnicode_DecodeUTF8(v, (Py_ssize_t)strlen(v), "replace");
        if (!o) return -1;
    } else {
        o = Py_None;
        Py_INCREF(o);
    }
    int rc = PyDict_SetItemString(d, k, o);
    Py_DECREF(o);
    return rc;
}

static int dict_set_obj(PyObject *d, const char *k, PyObject *o) {
    if (!o) return -1;
    int rc = PyDict_SetItemString(d, k, o);
    Py_DECREF(o);
    return rc;
}

/* Describe `e` as a dict. When `owned` is non-NULL it is kept alive in the
 * dict as a capsule (key "_capsule") so the error can be relayed later. */
static PyObject *error_info(const tr_error_t *e, tr_error_t *owned) {
    PyObject *d = PyDict_New();
    if (!d) {
        tr_error_free(owned);
        return NULL;
    }
    if (owned) {
        PyObject *cap = PyCapsule_New(owned, "tr_error_t", cap_free_error);
        if (!cap) {
            tr_error_free(owned);
            goto fail;
        }
        if (dict_set_obj(d, "_capsule", cap)) goto fail;
    }
    if (dict_set_obj(d, "code", PyLong_FromLong(tr_error_code(e)))) goto fail;
    if (dict_set_str(d, "type", tr_error_type(e))) goto fail;
    if (dict_set_str(d, "src_type", tr_error_src_type(e))) goto fail;
    if (dict_set_str(d, "message", tr_error_message(e))) goto fail;
    if (dict_set_str(d, "tb", tr_error_traceback(e))) goto fail;
    if (dict_set_str(d, "cid", tr_error_cid(e))) goto fail;
    if (dict_set_str(d, "summary", tr_error_str(e))) goto fail;
    if (dict_set_obj(d, "src_uid", uid_tuple(tr_error_src_name(e), tr_error_src_uuid(e)))) goto fail;
    if (dict_set_obj(d, "canceller",
                     uid_tuple(tr_error_canceller_name(e), tr_error_canceller_uuid(e))))
        goto fail;
    if (dict_set_obj(d, "sender", uid_tuple(tr_error_sender_name(e), tr_error_sender_uuid(e))))
        goto fail;
    size_t nr = tr_error_relay_len(e);
    PyObject *relay = PyList_New((Py_ssize_t)nr);
    if (!relay) goto fail;
    for (size_t i = 0; i < nr; i++) {
        PyObject *u = uid_tuple(tr_error_relay_name(e, i), tr_error_relay_uuid(e, i));
        if (!u) {
            Py_DECREF(relay);
            goto fail;
        }
        PyList_SET_ITEM(relay, (Py_ssize_t)i, u);
    }
    if (dict_set_obj(d, "relay_path", relay)) goto fail;
    size_t ng = tr_error_group_len(e);
    PyObject *group = PyList_New((Py_ssize_t)ng);
    if (!group) goto fail;
    for (size_t i = 0; i < ng; i++) {
        const tr_error_t *m = tr_error_group_at(e, i);
        PyObject *mi = error_info(m, tr_error_copy(m));
        if (!mi) {
            Py_DECREF(group);
            goto fail;
        }
        PyList_SET_ITEM(group, (Py_ssize_t)i, mi);
    }
    if (dict_set_obj(d, "group", group)) goto fail;
    return d;
fail:
    Py_DECREF(d);
    return NULL;
}

/* Raise the exception the factory makes for (code, info, where). Steals
 * `info`. Always returns NULL. */
static PyObject *raise_from_factory(int code, PyObject *info, const char *where) {
    if (!info) return NULL;
    if (!g_factory) {
        Py_DECREF(info);
        PyErr_Format(PyExc_RuntimeError, "%s: %s (libtractor not initialised)", where,
                     tr_strerror(code));
        return NULL;
    }
    PyObject *exc = PyObject_CallFunction(g_factory, "iOs", code, info, where);
    Py_DECREF(info);
    if (!exc) return NULL;
    if (PyExceptionInstance_Check(exc))
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
    else
        PyErr_Format(PyExc_RuntimeError, "%s: %s", where, tr_strerror(code));
    Py_DECREF(exc);
    return NULL;
}

/* A local error of type `type` with a formatted message. */
static PyObject *raise_local(int code, const char *type, const char *where, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    PyObject *info = Py_BuildValue("{s:i,s:s,s:s,s:s}", "code", code, "type", type, "src_type",
                                   type, "message", msg);
    return raise_from_factory(code, info, where);
}

static int in_sigint_cancel(void) {
    if (!g_rt || !tr_runtime_cancelled(g_rt)) return 0;
    const char *r = tr_runtime_cancel_reason(g_rt);
    return r && !strcmp(r, "sigint");
}

/* Raise the Python exception for a failed call. Takes ownership of `err`.
 * Always returns NULL. */
static PyObject *raise_code(int rc, tr_error_t *err, const char *where) {
    if (rc == TR_ECANCELLED && !tl_task && in_sigint_cancel()) {
        tr_error_free(err);
        if (g_have_main && pthread_equal(pthread_self(), g_main_thread)) {
            if (atomic_exchange(&g_ki_claimed, 1)) {
                /* the watcher tripped Python's flag: let Python raise it so
                 * that it is raised exactly once */
                for (int i = 0; i < 1000 && !atomic_load(&g_ki_tripped); i++) {
                    struct timespec ts = {0, 1000000};
                    nanosleep(&ts, NULL);
                }
                if (PyErr_CheckSignals() < 0) return NULL;
            }
        }
        PyErr_SetNone(PyExc_KeyboardInterrupt);
        return NULL;
    }
    PyObject *info;
    if (err) {
        info = error_info(err, err);
    } else {
        info = Py_None;
        Py_INCREF(info);
    }
    return raise_from_factory(rc, info, where);
}

/* ======================================================================
 * msgpack writer
 * ====================================================================== */

typedef struct {
    char *p;
    size_t len, cap;
} pbuf_t;

static void pb_free(pbuf_t *b) {
    PyMem_Free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

static int pb_reserve(pbuf_t *b, size_t n) {
    if (b->len + n <= b->cap) return 0;
    size_t nc = b->cap ? b->cap * 2 : 64;
    while (nc < b->len + n) nc *= 2;
    char *np = PyMem_Realloc(b->p, nc);
    if (!np) {
        PyErr_NoMemory();
        return -1;
    }
    b->p = np;
    b->cap = nc;
    return 0;
}

static int pb_put(pbuf_t *b, const void *d, size_t n) {
    if (pb_reserve(b, n)) return -1;
    memcpy(b->p + b->len, d, n);
    b->len += n;
    return 0;
}

static int pb_byte(pbuf_t *b, uint8_t v) { return pb_put(b, &v, 1); }

static int pb_be(pbuf_t *b, uint8_t tag, uint64_t v, int nbytes) {
    uint8_t t[9];
    t[0] = tag;
    for (int i = 0; i < nbytes; i++) t[1 + i] = (uint8_t)(v >> (8 * (nbytes - 1 - i)));
    return pb_put(b, t, (size_t)nbytes + 1);
}

static int pb_uint(pbuf_t *b, uint64_t v) {
    if (v < 128) return pb_byte(b, (uint8_t)v);
    if (v <= 0xff) return pb_be(b, 0xcc, v, 1);
    if (v <= 0xffff) return pb_be(b, 0xcd, v, 2);
    if (v <= 0xffffffffu) return pb_be(b, 0xce, v, 4);
    return pb_be(b, 0xcf, v, 8);
}

static int pb_int(pbuf_t *b, int64_t v) {
    if (v >= 0) return pb_uint(b, (uint64_t)v);
    if (v >= -32) return pb_byte(b, (uint8_t)(0xe0 | (v + 32)));
    if (v >= INT8_MIN) return pb_be(b, 0xd0, (uint64_t)v, 1);
    if (v >= INT16_MIN) return pb_be(b, 0xd1, (uint64_t)v, 2);
    if (v >= INT32_MIN) return pb_be(b, 0xd2, (uint64_t)v, 4);
    return pb_be(b, 0xd3, (uint64_t)v, 8);
}

static int pb_len(pbuf_t *b, size_t n, uint8_t fix, size_t fixmax, uint8_t t8, uint8_t t16,
                  uint8_t t32) {
    if (fix && n <= fixmax) return pb_byte(b, (uint8_t)(fix | n));
    if (t8 && n <= 0xff) return pb_be(b, t8, n, 1);
    if (n <= 0xffff) return pb_be(b, t16, n, 2);
    if (n <= 0xffffffffu) return pb_be(b, t32, n, 4);
    return -2;
}

static int too_big(const char *what, size_t n) {
    raise_local(TR_EMSGTYPE, "MsgTypeError", "encode",
                "%s of length %zu is too large for msgpack", what, n);
    return -1;
}

static int pack_obj(pbuf_t *b, PyObject *o, int depth) {
    if (depth > MAX_DEPTH) {
        raise_local(TR_EMSGTYPE, "MsgTypeError", "encode",
                    "value nested deeper than %d levels (a cycle?) cannot be encoded", MAX_DEPTH);
        return -1;
    }
    if (o == Py_None) return pb_byte(b, 0xc0);
    if (o == Py_True) return pb_byte(b, 0xc3);
    if (o == Py_False) return pb_byte(b, 0xc2);
    if (PyLong_Check(o)) {
        int ovf = 0;
        long long v = PyLong_AsLongLongAndOverflow(o, &ovf);
        if (v == -1 && PyErr_Occurred()) return -1;
        if (ovf == 0) return pb_int(b, (int64_t)v);
        if (ovf > 0) {
            unsigned long long u = PyLong_AsUnsignedLongLong(o);
            if (!(u == (unsigned long long)-1 && PyErr_Occurred())) return pb_uint(b, u);
            PyErr_Clear();
        }
        PyObject *r = PyObject_Repr(o);
        const char *rs = r ? PyUnicode_AsUTF8(r) : NULL;
        if (!rs) PyErr_Clear();
        raise_local(TR_EMSGTYPE, "MsgTypeError", "encode",
                    "int %.60s%s is out of msgpack's 64-bit range", rs ? rs : "?",
                    rs && strlen(rs) > 60 ? "..." : "");
        Py_XDECREF(r);
        return -1;
    }
    if (PyFloat_Check(o)) {
        double d = PyFloat_AS_DOUBLE(o);
        uint64_t u;
        memcpy(&u, &d, 8);
        return pb_be(b, 0xcb, u, 8);
    }
    if (PyUnicode_Check(o)) {
        Py_ssize_t n;
        const char *s = PyUnicode_AsUTF8AndSize(o, &n);
        if (!s) return -1;
        int rc = pb_len(b, (size_t)n, 0xa0, 31, 0xd9, 0xda, 0xdb);
        if (rc == -2) return too_big("str", (size_t)n);
        return rc ? rc : pb_put(b, s, (size_t)n);
    }
    if (PyBytes_Check(o) || PyByteArray_Check(o)) {
        const char *s = PyBytes_Check(o) ? PyBytes_AS_STRING(o) : PyByteArray_AS_STRING(o);
        size_t n = (size_t)(PyBytes_Check(o) ? PyBytes_GET_SIZE(o) : PyByteArray_GET_SIZE(o));
        int rc = pb_len(b, n, 0, 0, 0xc4, 0xc5, 0xc6);
        if (rc == -2) return too_big("bytes", n);
        return rc ? rc : pb_put(b, s, n);
    }
    if (PyList_Check(o) || PyTuple_Check(o)) {
        PyObject *seq = o;
        Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
        int rc = pb_len(b, (size_t)n, 0x90, 15, 0, 0xdc, 0xdd);
        if (rc == -2) return too_big("list", (size_t)n);
        if (rc) return rc;
        for (Py_ssize_t i = 0; i < n; i++) {
            /* a list may change under us if the item's encoding runs code:
             * re-check the size */
            if (i >= PySequence_Fast_GET_SIZE(seq)) {
                PyErr_SetString(PyExc_RuntimeError, "list changed size during encoding");
                return -1;
            }
            if (pack_obj(b, PySequence_Fast_GET_ITEM(seq, i), depth + 1)) return -1;
        }
        return 0;
    }
    if (PyDict_Check(o)) {
        Py_ssize_t n = PyDict_GET_SIZE(o), pos = 0, k = 0;
        int rc = pb_len(b, (size_t)n, 0x80, 15, 0, 0xde, 0xdf);
        if (rc == -2) return too_big("dict", (size_t)n);
        if (rc) return rc;
        PyObject *key, *val;
        while (PyDict_Next(o, &pos, &key, &val)) {
            if (pack_obj(b, key, depth + 1) || pack_obj(b, val, depth + 1)) return -1;
            k++;
        }
        if (k != n) {
            PyErr_SetString(PyExc_RuntimeError, "dict changed size during encoding");
            return -1;
        }
        return 0;
    }
    raise_local(TR_EMSGTYPE, "MsgTypeError", "encode",
                "cannot encode a value of type '%.100s' as msgpack (supported: None, bool, "
                "int, float, str, bytes, list, tuple, dict)",
                Py_TYPE(o)->tp_name);
    return -1;
}

/* Encode `o` (NULL/None for "no kwargs" when `nil_is_empty`). */
static int pack_value(PyObject *o, pbuf_t *b) {
    memset(b, 0, sizeof *b);
    if (pack_obj(b, o, 0)) {
        pb_free(b);
        return -1;
    }
    return 0;
}

static int pack_kwargs(PyObject *kw, pbuf_t *b) {
    memset(b, 0, sizeof *b);
    if (!kw || kw == Py_None) return 0;
    if (!PyDict_Check(kw)) {
        PyErr_SetString(PyExc_TypeError, "kwargs must be a dict");
        return -1;
    }
    PyObject *key, *val;
    Py_ssize_t pos = 0;
    while (PyDict_Next(kw, &pos, &key, &val))
        if (!PyUnicode_Check(key)) {
            PyErr_Format(PyExc_TypeError, "keyword argument names must be str, not %.100s",
                         Py_TYPE(key)->tp_name);
            return -1;
        }
    return pack_value(kw, b);
}

/* ======================================================================
 * msgpack reader
 * ====================================================================== */

typedef struct {
    const uint8_t *p, *end;
} rd_t;

static PyObject *rd_error(const char *what) {
    return raise_local(TR_EPROTO, "MsgTypeError", "decode", "malformed msgpack payload: %s", what);
}

static int rd_need(rd_t *r, size_t n) {
    if ((size_t)(r->end - r->p) < n) {
        rd_error("truncated");
        return -1;
    }
    return 0;
}

static uint64_t rd_be(rd_t *r, int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; i++) v = (v << 8) | r->p[i];
    r->p += n;
    return v;
}

static PyObject *unpack_obj(rd_t *r, int depth);

static PyObject *unpack_array(rd_t *r, size_t n, int depth) {
    if ((size_t)(r->end - r->p) < n) return rd_error("array longer than the payload");
    PyObject *l = PyList_New((Py_ssize_t)n);
    if (!l) return NULL;
    for (size_t i = 0; i < n; i++) {
        PyObject *v = unpack_obj(r, depth + 1);
        if (!v) {
            Py_DECREF(l);
            return NULL;
        }
        PyList_SET_ITEM(l, (Py_ssize_t)i, v);
    }
    return l;
}

static PyObject *unpack_map(rd_t *r, size_t n, int depth) {
    if ((size_t)(r->end - r->p) / 2 < n) return rd_error("map longer than the payload");
    PyObject *d = PyDict_New();
    if (!d) return NULL;
    for (size_t i = 0; i < n; i++) {
        PyObject *k = unpack_obj(r, depth + 1);
        if (!k) goto fail;
        if (PyList_Check(k)) { /* msgpack allows array keys: use a tuple */
            PyObject *t = PyList_AsTuple(k);
            Py_DECREF(k);
            if (!(k = t)) goto fail;
        }
        PyObject *v = unpack_obj(r, depth + 1);
        if (!v) {
            Py_DECREF(k);
            goto fail;
        }
        int rc = PyDict_SetItem(d, k, v);
        Py_DECREF(k);
        Py_DECREF(v);
        if (rc) goto fail;
    }
    return d;
fail:
    Py_DECREF(d);
    return NULL;
}

static PyObject *unpack_obj(rd_t *r, int depth) {
    if (depth > MAX_DEPTH) return rd_error("nested too deeply");
    if (rd_need(r, 1)) return NULL;
    uint8_t t = *r->p++;
    size_t n;
    if (t <= 0x7f) return PyLong_FromLong(t);
    if (t >= 0xe0) return PyLong_FromLong((int8_t)t);
    if ((t & 0xf0) == 0x80) return unpack_map(r, t & 0x0f, depth);
    if ((t & 0xf0) == 0x90) return unpack_array(r, t & 0x0f, depth);
    if ((t & 0xe0) == 0xa0) {
        n = t & 0x1f;
        goto str;
    }
    switch (t) {
    case 0xc0: Py_RETURN_NONE;
    case 0xc2: Py_RETURN_FALSE;
    case 0xc3: Py_RETURN_TRUE;
    case 0xc4: case 0xc5: case 0xc6: {
        int w = t == 0xc4 ? 1 : t == 0xc5 ? 2 : 4;
        if (rd_need(r, (size_t)w)) return NULL;
        n = (size_t)rd_be(r, w);
        if (rd_need(r, n)) return NULL;
        PyObject *o = PyBytes_FromStringAndSize((const char *)r->p, (Py_ssize_t)n);
        r->p += n;
        return o;
    }
    case 0xca: {
        if (rd_need(r, 4)) return NULL;
        uint32_t u = (uint32_t)rd_be(r, 4);
        float f;
        memcpy(&f, &u, 4);
        return PyFloat_FromDouble(f);
    }
    case 0xcb: {
        if (rd_need(r, 8)) return NULL;
        uint64_t u = rd_be(r, 8);
        double d;
        memcpy(&d, &u, 8);
        return PyFloat_FromDouble(d);
    }
    case 0xcc: case 0xcd: case 0xce: case 0xcf: {
        int w = 1 << (t - 0xcc);
        if (rd_need(r, (size_t)w)) return NULL;
        return PyLong_FromUnsignedLongLong(rd_be(r, w));
    }
    case 0xd0: case 0xd1: case 0xd2: case 0xd3: {
        int w = 1 << (t - 0xd0);
        if (rd_need(r, (size_t)w)) return NULL;
        uint64_t u = rd_be(r, w);
        int64_t v;
        if (w == 1) v = (int8_t)u;
        else if (w == 2) v = (int16_t)u;
        else if (w == 4) v = (int32_t)u;
        else v = (int64_t)u;
        return PyLong_FromLongLong(v);
    }
    case 0xd9: case 0xda: case 0xdb: {
        int w = t == 0xd9 ? 1 : t == 0xda ? 2 : 4;
        if (rd_need(r, (size_t)w)) return NULL;
        n = (size_t)rd_be(r, w);
        goto str;
    }
    case 0xdc: case 0xdd: {
        int w = t == 0xdc ? 2 : 4;
        if (rd_need(r, (size_t)w)) return NULL;
        return unpack_array(r, (size_t)rd_be(r, w), depth);
    }
    case 0xde: case 0xdf: {
        int w = t == 0xde ? 2 : 4;
        if (rd_need(r, (size_t)w)) return NULL;
        return unpack_map(r, (size_t)rd_be(r, w), depth);
    }
    default:
        return raise_local(TR_EMSGTYPE, "MsgTypeError", "decode",
                           "msgpack type 0x%02x (ext) is not supported", t);
    }
str:
    if (rd_need(r, n)) return NULL;
    {
        PyObject *o = PyUnicode_DecodeUTF8((const char *)r->p, (Py_ssize_t)n, "strict");
        r->p += n;
        return o;
    }
}

/* Decode one payload; an empty payload is None. */
static PyObject *unpack_bytes(const void *data, size_t len) {
    if (!len) Py_RETURN_NONE;
    rd_t r = {(const uint8_t *)data, (const uint8_t *)data + len};
    PyObject *o = unpack_obj(&r, 0);
    if (o && r.p != r.end) {
        Py_DECREF(o);
        return rd_error("trailing bytes after the value");
    }
    return o;
}

static PyObject *unpack_buf(tr_buf_t *b) {
    PyObject *o = unpack_bytes(b->data, b->len);
    tr_buf_release(b);
    return o;
}

/* ======================================================================
 * Handles
 * ====================================================================== */

#define NEW_PTR(p, T) SWIG_NewPointerObj((void *)(p), SWIGTYPE_p_##T, 0)

#define CHECK_HANDLE(h, what)                                                 \
    do {                                                                      \
        if (!(h)) {                                                           \
            PyErr_SetString(PyExc_ValueError, what " handle is NULL (closed?)"); \
            return NULL;                                                      \
        }                                                                     \
    } while (0)

#define CALL_NOGIL(stmt) \
    do {                 \
        Py_BEGIN_ALLOW_THREADS stmt; Py_END_ALLOW_THREADS \
    } while (0)

/* ======================================================================
 * Served functions: the trampoline
 * ====================================================================== */

static PyObject *format_exception(PyObject *t, PyObject *v, PyObject *tb) {
    if (!g_format_exc) {
        PyObject *m = PyImport_ImportModule("traceback");
        if (!m) return NULL;
        g_format_exc = PyObject_GetAttrString(m, "format_exception");
        Py_DECREF(m);
        if (!g_format_exc) return NULL;
    }
    PyObject *lines = PyObject_CallFunctionObjArgs(g_format_exc, t, v ? v : Py_None,
                                                   tb ? tb : Py_None, NULL);
    if (!lines) return NULL;
    PyObject *sep = PyUnicode_FromString("");
    PyObject *s = sep ? PyUnicode_Join(sep, lines) : NULL;
    Py_XDECREF(sep);
    Py_DECREF(lines);
    return s;
}

static const char *utf8_or(PyObject *s, const char *dflt) {
    const char *r = s ? PyUnicode_AsUTF8(s) : NULL;
    if (!r) {
        PyErr_Clear();
        return dflt;
    }
    return r;
}

/* The pending Python exception becomes the task's failure. GIL held. */
static int exception_to_ctx(tr_ctx_t *ctx) {
    PyObject *t, *v, *tb;
    PyErr_Fetch(&t, &v, &tb);
    if (!t) return TR_EREMOTE;
    PyErr_NormalizeException(&t, &v, &tb);
    if (tb && v) PyException_SetTraceback(v, tb);
    int rc = TR_EREMOTE;
    if (g_cancel_types && PyErr_GivenExceptionMatches(t, g_cancel_types)) {
        rc = TR_ECANCELLED;
        goto out;
    }
    PyObject *cap = v ? PyObject_GetAttrString(v, "_tr_error") : NULL;
    if (!cap) PyErr_Clear();
    if (cap && PyCapsule_CheckExact(cap)) {
        tr_error_t *e = PyCapsule_GetPointer(cap, "tr_error_t");
        const char *src = e ? tr_error_src_name(e) : NULL;
        if (e && src && *src) { /* raised in another actor: relay it */
            tr_ctx_set_remote_error(ctx, e);
            Py_DECREF(cap);
            if (tr_error_code(e) == TR_EMSGTYPE) rc = TR_EMSGTYPE;
            goto out;
        }
        if (!e) PyErr_Clear();
    }
    Py_XDECREF(cap);
    PyObject *name = PyObject_GetAttrString(t, "__name__");
    PyObject *msg = v ? PyObject_Str(v) : NULL;
    if (!msg) PyErr_Clear();
    /* the first frame is the binding's handler: not the user's business */
    PyObject *tb_user = tb && ((PyTracebackObject *)tb)->tb_next
                            ? (PyObject *)((PyTracebackObject *)tb)->tb_next
                            : tb;
    PyObject *tbs = format_exception(t, v, tb_user);
    if (!tbs) PyErr_Clear();
    const char *tname = utf8_or(name, "Exception");
    tr_ctx_set_error(ctx, tname, utf8_or(msg, ""), utf8_or(tbs, ""));
    if (!strcmp(tname, "MsgTypeError")) rc = TR_EMSGTYPE;
    Py_XDECREF(name);
    Py_XDECREF(msg);
    Py_XDECREF(tbs);
out:
    Py_XDECREF(t);
    Py_XDECREF(v);
    Py_XDECREF(tb);
    return rc;
}

static int py_trampoline(tr_ctx_t *ctx, void *ud) {
    PyGILState_STATE g = PyGILState_Ensure();
    atomic_fetch_add(&g_inflight, 1);
    tr_ctx_t *prev = tl_task;
    tl_task = ctx;
    PyObject *handler = ud;
    int rc = 0;
    const void *kb = NULL;
    size_t kl = 0;
    tr_ctx_kwargs(ctx, &kb, &kl);
    PyObject *kw = unpack_bytes(kb, kl);
    PyObject *pctx = kw ? NEW_PTR(ctx, tr_ctx) : NULL;
    PyObject *res = pctx ? PyObject_CallFunctionObjArgs(handler, pctx, kw, NULL) : NULL;
    if (!res) {
        rc = exception_to_ctx(ctx);
    } else {
        pbuf_t b;
        if (pack_value(res, &b)) {
            rc = exception_to_ctx(ctx);
        } else {
            rc = tr_ctx_set_result(ctx, b.p, b.len);
            pb_free(&b);
        }
    }
    Py_XDECREF(res);
    Py_XDECREF(pctx);
    Py_XDECREF(kw);
    tl_task = prev;
    atomic_fetch_sub(&g_inflight, 1);
    PyGILState_Release(g);
    return rc;
}

/* ======================================================================
 * Ctrl-C watcher
 * ====================================================================== */

static void *watch_main(void *arg) {
    tr_runtime_t *rt = arg;
    pthread_mutex_lock(&g_watch_mu);
    while (!g_watch_stop) {
        if (tr_runtime_cancelled(rt)) {
            const char *r = tr_runtime_cancel_reason(rt);
            if (r && !strcmp(r, "sigint") && !atomic_exchange(&g_ki_claimed, 1)) {
                PyErr_SetInterrupt(); /* async-signal-safe, no GIL needed */
                atomic_store(&g_ki_tripped, 1);
                /* interrupt a sleep/wait of the main thread so that Python
                 * looks at the flag now */
                pthread_kill(g_main_thread, SIGINT);
            }
            break;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 50 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&g_watch_cond, &g_watch_mu, &ts);
    }
    pthread_mutex_unlock(&g_watch_mu);
    return NULL;
}

static void watch_stop(void) {
    if (!g_watching) return;
    pthread_mutex_lock(&g_watch_mu);
    g_watch_stop = 1;
    pthread_cond_broadcast(&g_watch_cond);
    pthread_mutex_unlock(&g_watch_mu);
    pthread_join(g_watch_thread, NULL);
    g_watching = 0;
}

static char **argv_from_list(PyObject *lst, int *argc) {
    *argc = 0;
    if (!lst || lst == Py_None) return NULL;
    PyObject *seq = PySequence_Fast(lst, "child_argv must be a sequence of str");
    if (!seq) return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    char **v = calloc((size_t)n + 1, sizeof(char *));
    if (!v) {
        Py_DECREF(seq);
        PyErr_NoMemory();
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        const char *s = PyUnicode_AsUTF8(PySequence_Fast_GET_ITEM(seq, i));
        if (!s || !(v[i] = strdup(s))) {
            for (Py_ssize_t j = 0; j < i; j++) free(v[j]);
            free(v);
            Py_DECREF(seq);
            if (!PyErr_Occurred()) PyErr_NoMemory();
            return NULL;
        }
    }
    Py_DECREF(seq);
    *argc = (int)n;
    return v;
}

static void argv_free(char **v, int n) {
    for (int i = 0; i < n; i++) free(v[i]);
    free(v);
}

static void spawn_opts(tr_spawn_opts_t *o, const char *lang, const char *mods,
                       const char *loglevel, const char *command) {
    tr_spawn_opts_init(o);
    o->lang = lang;
    o->enable_modules = mods;
    o->loglevel = loglevel;
    o->command = command;
}
%}

/* ======================================================================
 * The module's functions
 * ====================================================================== */

%inline %{

/* ---- setup, versions, conversion ------------------------------------- */

PyObject *set_hooks(PyObject *factory, PyObject *cancel_types) {
    if (!PyCallable_Check(factory) || !PyTuple_Check(cancel_types)) {
        PyErr_SetString(PyExc_TypeError, "set_hooks(callable, tuple)");
        return NULL;
    }
    Py_XSETREF(g_factory, Py_NewRef(factory));
    Py_XSETREF(g_cancel_types, Py_NewRef(cancel_types));
    Py_RETURN_NONE;
}

PyObject *version(void) { return PyUnicode_FromString(tr_version()); }
PyObject *errtext(int code) { return PyUnicode_FromString(tr_strerror(code)); }
PyObject *err_name(int code) { return PyUnicode_FromString(tr_err_name(code)); }
PyObject *log_level_from_name(const char *name) {
    return PyLong_FromLong(tr_log_level_from_name(name));
}

PyObject *pack(PyObject *value) {
    pbuf_t b;
    if (pack_value(value, &b)) return NULL;
    PyObject *r = PyBytes_FromStringAndSize(b.p ? b.p : "", (Py_ssize_t)b.len);
    pb_free(&b);
    return r;
}

PyObject *unpack(PyObject *data) {
    Py_buffer view;
    if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)) return NULL;
    if (view.len == 0) {
        PyBuffer_Release(&view);
        return rd_error("empty payload");
    }
    PyObject *r = unpack_bytes(view.buf, (size_t)view.len);
    PyBuffer_Release(&view);
    return r;
}

/* The served task running on this thread (None outside tasks). */
PyObject *current_task(void) {
    if (!tl_task) Py_RETURN_NONE;
    return NEW_PTR(tl_task, tr_ctx);
}

PyObject *log_str(int level, const char *module, const char *msg) {
    tr_log_str(g_rt, level, module, msg);
    Py_RETURN_NONE;
}

/* ---- runtime ----------------------------------------------------------- */

PyObject *runtime_open(const char *name, const char *transport, const char *bind_addr,
                       const char *registry_addrs, const char *loglevel,
                       const char *module_path, int handle_signals, int enable_registrar,
                       PyObject *child_argv, int main_thread) {
    int argc = 0;
    char **argv = argv_from_list(child_argv, &argc);
    if (!argv && PyErr_Occurred()) return NULL;
    tr_runtime_opts_t o;
    tr_runtime_opts_init(&o);
    o.name = name;
    o.transport = transport;
    o.bind_addr = bind_addr;
    o.registry_addrs = registry_addrs;
    o.loglevel = loglevel;
    o.module_path = module_path;
    o.handle_signals = handle_signals;
    o.enable_registrar = enable_registrar;
    o.child_argc = argc;
    o.child_argv = argv;
    tr_runtime_t *rt = NULL;
    int rc;
    CALL_NOGIL(rc = tr_runtime_open(&o, &rt));
    argv_free(argv, argc);
    if (rc) return raise_code(rc, NULL, "tr_runtime_open");
    g_rt = rt;
    atomic_store(&g_ki_claimed, 0);
    atomic_store(&g_ki_tripped, 0);
    g_have_main = main_thread != 0;
    if (g_have_main) g_main_thread = pthread_self();
    if (handle_signals && g_have_main && !tr_runtime_is_child(rt)) {
        g_watch_stop = 0;
        if (pthread_create(&g_watch_thread, NULL, watch_main, rt) == 0) g_watching = 1;
    }
    return NEW_PTR(rt, tr_runtime);
}

PyObject *runtime_close(tr_runtime_t *rt) {
    CHECK_HANDLE(rt, "runtime");
    int rc;
    watch_stop();
    CALL_NOGIL(rc = tr_runtime_close(rt));
    if (g_rt == rt) g_rt = NULL;
    if (atomic_load(&g_inflight) == 0) {
        for (size_t i = 0; i < g_nhandlers; i++) Py_DECREF(g_handlers[i]);
        g_nhandlers = 0;
    }
    if (rc) return raise_code(rc, NULL, "tr_runtime_close");
    Py_RETURN_NONE;
}

PyObject *runtime_serve(tr_runtime_t *rt) {
    CHECK_HANDLE(rt, "runtime");
    int rc = tr_runtime_serve(rt);
    if (rc) return raise_code(rc, NULL, "tr_runtime_serve");
    Py_RETURN_NONE;
}

/* True when the actor was asked to end, False on timeout. */
PyObject *runtime_wait(tr_runtime_t *rt, int timeout_ms) {
    CHECK_HANDLE(rt, "runtime");
    int rc;
    CALL_NOGIL(rc = tr_runtime_wait(rt, timeout_ms));
    if (rc == 0) Py_RETURN_TRUE;
    if (rc == TR_ETIMEDOUT || rc == TR_EAGAIN) Py_RETURN_FALSE;
    return raise_code(rc, NULL, "tr_runtime_wait");
}

PyObject *runtime_cancel(tr_runtime_t *rt) {
    CHECK_HANDLE(rt, "runtime");
    tr_runtime_cancel(rt);
    Py_RETURN_NONE;
}

PyObject *runtime_info(tr_runtime_t *rt) {
    CHECK_HANDLE(rt, "runtime");
    char addr[512] = "";
    tr_runtime_addr(rt, addr, sizeof addr);
    const char *reason = tr_runtime_cancel_reason(rt);
    return Py_BuildValue("{s:s,s:s,s:s,s:O,s:O,s:O,s:i,s:z}", "name", tr_runtime_name(rt),
                         "uuid", tr_runtime_uuid(rt), "addr", addr, "is_registrar",
                         tr_runtime_is_registrar(rt) ? Py_True : Py_False, "is_child",
                         tr_runtime_is_child(rt) ? Py_True : Py_False, "cancelled",
                         tr_runtime_cancelled(rt) ? Py_True : Py_False, "loglevel",
                         tr_runtime_loglevel(rt), "cancel_reason", reason);
}

PyObject *runtime_cancelled(tr_runtime_t *rt) {
    CHECK_HANDLE(rt, "runtime");
    return PyBool_FromLong(tr_runtime_cancelled(rt));
}

PyObject *runtime_enabled_modules(tr_runtime_t *rt) {
    CHECK_HANDLE(rt, "runtime");
    size_t n = tr_runtime_enabled_module_count(rt);
    PyObject *l = PyList_New((Py_ssize_t)n);
    if (!l) return NULL;
    for (size_t i = 0; i < n; i++) {
        PyObject *s = PyUnicode_FromString(tr_runtime_enabled_module(rt, i));
        if (!s) {
            Py_DECREF(l);
            return NULL;
        }
        PyList_SET_ITEM(l, (Py_ssize_t)i, s);
    }
    return l;
}

PyObject *runtime_boot_failed(tr_runtime_t *rt, const char *type, const char *message,
                              const char *tb) {
    CHECK_HANDLE(rt, "runtime");
    int rc;
    CALL_NOGIL(rc = tr_runtime_boot_failed(rt, type, message, tb));
    if (rc) return raise_code(rc, NULL, "tr_runtime_boot_failed");
    Py_RETURN_NONE;
}

PyObject *runtime_fd(tr_runtime_t *rt) {
    CHECK_HANDLE(rt, "runtime");
    return PyLong_FromLong(tr_runtime_fd(rt));
}

PyObject *runtime_fd_clear(tr_runtime_t *rt) {
    CHECK_HANDLE(rt, "runtime");
    tr_runtime_fd_clear(rt);
    Py_RETURN_NONE;
}

/* kind: 0 asyncfunc, 1 context. `handler(ctx_handle, kwargs_dict)` returns
 * the result value. */
PyObject *register_func(tr_runtime_t *rt, const char *ns, const char *name, int kind,
                        PyObject *handler, const char *pld_spec) {
    CHECK_HANDLE(rt, "runtime");
    if (!PyCallable_Check(handler)) {
        PyErr_SetString(PyExc_TypeError, "handler must be callable");
        return NULL;
    }
    if (g_nhandlers == g_caphandlers) {
        size_t nc = g_caphandlers ? g_caphandlers * 2 : 32;
        PyObject **nv = realloc(g_handlers, nc * sizeof *nv);
        if (!nv) return PyErr_NoMemory();
        g_handlers = nv;
        g_caphandlers = nc;
    }
    int rc = tr_register_func(rt, ns, name, kind ? TR_FUNC_CONTEXT : TR_FUNC_ASYNCFUNC,
                              py_trampoline, handler, pld_spec);
    if (rc) {
        if (rc == TR_EINVAL && pld_spec)
            return raise_local(rc, "ValueError", "tr_register_func",
                               "cannot register %s.%s: bad pld_spec `%s`", ns, name, pld_spec);
        return raise_code(rc, NULL, "tr_register_func");
    }
    Py_INCREF(handler);
    g_handlers[g_nhandlers++] = handler;
    Py_RETURN_NONE;
}

/* ---- nursery ----------------------------------------------------------- */

PyObject *nursery_open(tr_runtime_t *rt) {
    CHECK_HANDLE(rt, "runtime");
    tr_nursery_t *n = NULL;
    int rc = tr_nursery_open(rt, &n);
    if (rc) return raise_code(rc, NULL, "tr_nursery_open");
    return NEW_PTR(n, tr_nursery);
}

PyObject *nursery_start_actor(tr_nursery_t *n, const char *name, const char *lang,
                              const char *enable_modules, const char *loglevel,
                              const char *command, int timeout_ms) {
    CHECK_HANDLE(n, "nursery");
    tr_spawn_opts_t o;
    spawn_opts(&o, lang, enable_modules, loglevel, command);
    tr_portal_t *p = NULL;
    tr_error_t *err = NULL;
    int rc;
    CALL_NOGIL(rc = tr_nursery_start_actor(n, name, &o, &p, &err, timeout_ms));
    if (rc) return raise_code(rc, err, "start_actor");
    return NEW_PTR(p, tr_portal);
}

PyObject *nursery_run_in_actor(tr_nursery_t *n, const char *name, const char *ns,
                               const char *func, PyObject *kwargs, const char *lang,
                               const char *enable_modules, const char *loglevel,
                               const char *command, int timeout_ms) {
    CHECK_HANDLE(n, "nursery");
    pbuf_t kb;
    if (pack_kwargs(kwargs, &kb)) return NULL;
    tr_spawn_opts_t o;
    spawn_opts(&o, lang, enable_modules, loglevel, command);
    tr_portal_t *p = NULL;
    tr_error_t *err = NULL;
    int rc;
    CALL_NOGIL(rc = tr_nursery_run_in_actor(n, name, ns, func, kb.p, kb.len, &o, &p, &err,
                                            timeout_ms));
    pb_free(&kb);
    if (rc) return raise_code(rc, err, "run_in_actor");
    return NEW_PTR(p, tr_portal);
}

PyObject *nursery_cancel(tr_nursery_t *n) {
    CHECK_HANDLE(n, "nursery");
    int rc;
    CALL_NOGIL(rc = tr_nursery_cancel(n));
    if (rc) return raise_code(rc, NULL, "nursery.cancel");
    Py_RETURN_NONE;
}

/* Frees the nursery. Returns None, or the error info dict (the caller
 * decides how to raise it, since it may have its own exception). */
PyObject *nursery_close(tr_nursery_t *n, int block_error) {
    CHECK_HANDLE(n, "nursery");
    tr_error_t *err = NULL;
    int rc;
    CALL_NOGIL(rc = tr_nursery_close(n, block_error, &err));
    if (rc == 0) {
        tr_error_free(err);
        Py_RETURN_NONE;
    }
    if (!err) return raise_code(rc, NULL, "ActorNursery"); /* e.g. Ctrl-C */
    return error_info(err, err);
}

PyObject *nursery_child_count(tr_nursery_t *n) {
    CHECK_HANDLE(n, "nursery");
    return PyLong_FromSize_t(tr_nursery_child_count(n));
}

/* Turn an info dict (from nursery_close) into the exception instance. */
PyObject *make_error(int code, PyObject *info, const char *where) {
    if (!g_factory) {
        PyErr_SetString(PyExc_RuntimeError, "libtractor not initialised");
        return NULL;
    }
    return PyObject_CallFunction(g_factory, "iOs", code, info, where);
}

/* ---- portals ----------------------------------------------------------- */

PyObject *portal_connect(tr_runtime_t *rt, const char *addr, int timeout_ms) {
    CHECK_HANDLE(rt, "runtime");
    tr_portal_t *p = NULL;
    int rc;
    CALL_NOGIL(rc = tr_portal_connect(rt, addr, &p, timeout_ms));
    if (rc) return raise_code(rc, NULL, "connect");
    return NEW_PTR(p, tr_portal);
}

PyObject *portal_info(tr_portal_t *p) {
    CHECK_HANDLE(p, "portal");
    return Py_BuildValue("{s:s,s:s,s:i}", "name", tr_portal_name(p), "uuid", tr_portal_uuid(p),
                         "pid", tr_portal_pid(p));
}

PyObject *portal_connected(tr_portal_t *p) {
    CHECK_HANDLE(p, "portal");
    return PyBool_FromLong(tr_portal_connected(p));
}

PyObject *portal_run(tr_portal_t *p, const char *ns, const char *func, PyObject *kwargs,
                     int timeout_ms) {
    CHECK_HANDLE(p, "portal");
    pbuf_t kb;
    if (pack_kwargs(kwargs, &kb)) return NULL;
    tr_buf_t res = {0};
    tr_error_t *err = NULL;
    int rc;
    CALL_NOGIL(rc = tr_portal_run(p, ns, func, kb.p, kb.len, &res, &err, timeout_ms));
    pb_free(&kb);
    if (rc) return raise_code(rc, err, "Portal.run");
    return unpack_buf(&res);
}

PyObject *portal_start_call(tr_portal_t *p, const char *ns, const char *func,
                            PyObject *kwargs) {
    CHECK_HANDLE(p, "portal");
    pbuf_t kb;
    if (pack_kwargs(kwargs, &kb)) return NULL;
    tr_ctx_t *c = NULL;
    int rc;
    CALL_NOGIL(rc = tr_portal_start_call(p, ns, func, kb.p, kb.len, &c));
    pb_free(&kb);
    if (rc) return raise_code(rc, NULL, "Portal.start_call");
    return NEW_PTR(c, tr_ctx);
}

PyObject *portal_wait_for_result(tr_portal_t *p, int timeout_ms) {
    CHECK_HANDLE(p, "portal");
    tr_buf_t res = {0};
    tr_error_t *err = NULL;
    int rc;
    CALL_NOGIL(rc = tr_portal_wait_for_result(p, &res, &err, timeout_ms));
    if (rc) return raise_code(rc, err, "Portal.wait_for_result");
    return unpack_buf(&res);
}

/* True when acked, False on timeout or when the channel is down. */
PyObject *portal_cancel_actor(tr_portal_t *p, int timeout_ms) {
    CHECK_HANDLE(p, "portal");
    int rc;
    CALL_NOGIL(rc = tr_portal_cancel_actor(p, timeout_ms));
    if (rc == 0) Py_RETURN_TRUE;
    if (rc == TR_ETIMEDOUT || rc == TR_ETRANSPORT) Py_RETURN_FALSE;
    return raise_code(rc, NULL, "Portal.cancel_actor");
}

PyObject *portal_release(tr_portal_t *p) {
    if (p) tr_portal_release(p);
    Py_RETURN_NONE;
}

/* ---- contexts ---------------------------------------------------------- */

/* -> (ctx_handle, first_value) */
PyObject *portal_open_context(tr_portal_t *p, const char *ns, const char *func,
                              PyObject *kwargs, int allow_overruns, int msg_buffer_size,
                              const char *pld_spec, int timeout_ms) {
    CHECK_HANDLE(p, "portal");
    pbuf_t kb;
    if (pack_kwargs(kwargs, &kb)) return NULL;
    tr_ctx_opts_t o;
    tr_ctx_opts_init(&o);
    o.allow_overruns = allow_overruns;
    if (msg_buffer_size > 0) o.msg_buffer_size = msg_buffer_size;
    o.pld_spec = pld_spec;
    tr_ctx_t *c = NULL;
    tr_buf_t first = {0};
    tr_error_t *err = NULL;
    int rc;
    CALL_NOGIL(rc = tr_portal_open_context(p, ns, func, kb.p, kb.len, &o, &c, &first, &err,
                                           timeout_ms));
    pb_free(&kb);
    if (rc) {
        if (rc == TR_EINVAL && pld_spec && !err)
            return raise_local(rc, "ValueError", "open_context", "bad pld_spec `%s`", pld_spec);
        return raise_code(rc, err, "Portal.open_context");
    }
    PyObject *v = unpack_buf(&first);
    PyObject *h = v ? NEW_PTR(c, tr_ctx) : NULL;
    if (!h) {
        Py_XDECREF(v);
        CALL_NOGIL(tr_ctx_close(c, 1));
        return NULL;
    }
    PyObject *r = PyTuple_Pack(2, h, v);
    Py_DECREF(h);
    Py_DECREF(v);
    return r;
}

PyObject *ctx_started(tr_ctx_t *c, PyObject *value) {
    CHECK_HANDLE(c, "context");
    pbuf_t b;
    if (pack_value(value, &b)) return NULL;
    int rc;
    CALL_NOGIL(rc = tr_ctx_started(c, b.p, b.len));
    pb_free(&b);
    if (rc == TR_EMSGTYPE)
        return raise_local(rc, "MsgTypeError", "Context.started",
                           "started() value does not match the context's pld_spec");
    if (rc == TR_ESTATE)
        return raise_local(rc, "RuntimeError", "Context.started",
                           "started() was already called for this context");
    if (rc) return raise_code(rc, NULL, "Context.started");
    Py_RETURN_NONE;
}

PyObject *ctx_open_stream(tr_ctx_t *c) {
    CHECK_HANDLE(c, "context");
    tr_stream_t *s = NULL;
    int rc = tr_ctx_open_stream(c, &s);
    if (rc == TR_ESTATE)
        return raise_local(rc, "RuntimeError", "Context.open_stream",
                           "open_stream(): the context must be started first, and a context "
                           "has only one stream");
    if (rc) return raise_code(rc, NULL, "Context.open_stream");
    return NEW_PTR(s, tr_stream);
}

PyObject *ctx_cancel(tr_ctx_t *c, const char *reason) {
    CHECK_HANDLE(c, "context");
    int rc;
    CALL_NOGIL(rc = tr_ctx_cancel(c, reason));
    if (rc && rc != TR_ETRANSPORT) return raise_code(rc, NULL, "Context.cancel");
    Py_RETURN_NONE;
}

/* -> (ok, value_or_exception): remote failures come back as an exception
 * instance (not raised) so the caller can decide. */
PyObject *ctx_wait_for_result(tr_ctx_t *c, int timeout_ms) {
    CHECK_HANDLE(c, "context");
    tr_buf_t res = {0};
    tr_error_t *err = NULL;
    int rc;
    CALL_NOGIL(rc = tr_ctx_wait_for_result(c, &res, &err, timeout_ms));
    if (rc == 0) {
        PyObject *v = unpack_buf(&res);
        if (!v) return NULL;
        PyObject *r = Py_BuildValue("(OO)", Py_True, v);
        Py_DECREF(v);
        return r;
    }
    if (err && (rc == TR_EREMOTE || rc == TR_ECTXCANCELLED || rc == TR_EOVERRUN ||
                rc == TR_EMSGTYPE || rc == TR_ETRANSPORT || rc == TR_EGROUP)) {
        PyObject *info = error_info(err, err);
        if (!info) return NULL;
        if (!g_factory) return raise_from_factory(rc, info, "Context.wait_for_result");
        PyObject *exc = PyObject_CallFunction(g_factory, "iOs", rc, info, "Context.wait_for_result");
        Py_DECREF(info);
        if (!exc) return NULL;
        PyObject *r = Py_BuildValue("(OO)", Py_False, exc);
        Py_DECREF(exc);
        return r;
    }
    return raise_code(rc, err, "Context.wait_for_result");
}

/* Leave the caller side (releases the handle). Returns the rc. */
PyObject *ctx_close(tr_ctx_t *c, int block_error) {
    CHECK_HANDLE(c, "context");
    int rc;
    CALL_NOGIL(rc = tr_ctx_close(c, block_error));
    return PyLong_FromLong(rc);
}

PyObject *ctx_info(tr_ctx_t *c) {
    CHECK_HANDLE(c, "context");
    const char *cn = NULL, *cu = NULL;
    int has = tr_ctx_canceller(c, &cn, &cu);
    PyObject *canc = has ? uid_tuple(cn, cu) : (Py_INCREF(Py_None), Py_None);
    if (!canc) return NULL;
    PyObject *r = Py_BuildValue(
        "{s:z,s:z,s:z,s:i,s:(zz),s:O,s:O,s:O,s:N}", "cid", tr_ctx_cid(c), "ns", tr_ctx_ns(c),
        "func", tr_ctx_func(c), "kind", tr_ctx_kind(c), "peer", tr_ctx_peer_name(c),
        tr_ctx_peer_uuid(c), "cancel_called", tr_ctx_cancel_called(c) ? Py_True : Py_False,
        "cancel_acked", tr_ctx_cancel_acked(c) ? Py_True : Py_False, "has_outcome",
        tr_ctx_has_outcome(c) ? Py_True : Py_False, "canceller", canc);
    return r;
}

PyObject *ctx_cancel_called(tr_ctx_t *c) {
    CHECK_HANDLE(c, "context");
    return PyBool_FromLong(tr_ctx_cancel_called(c));
}

PyObject *ctx_set_overruns(tr_ctx_t *c, int allow, int msg_buffer_size) {
    CHECK_HANDLE(c, "context");
    int rc = tr_ctx_set_overruns(c, allow, msg_buffer_size);
    if (rc) return raise_code(rc, NULL, "Context.open_stream");
    Py_RETURN_NONE;
}

PyObject *ctx_limit_plds(tr_ctx_t *c, const char *spec) {
    CHECK_HANDLE(c, "context");
    int rc = tr_ctx_limit_plds(c, spec);
    if (rc == TR_EINVAL)
        return raise_local(rc, "ValueError", "limit_plds", "bad pld_spec `%s`", spec ? spec : "");
    if (rc) return raise_code(rc, NULL, "limit_plds");
    Py_RETURN_NONE;
}

PyObject *ctx_retain(tr_ctx_t *c) {
    CHECK_HANDLE(c, "context");
    tr_ctx_retain(c);
    Py_RETURN_NONE;
}

PyObject *ctx_release(tr_ctx_t *c) {
    if (c) tr_ctx_release(c);
    Py_RETURN_NONE;
}

/* ---- streams ----------------------------------------------------------- */

PyObject *stream_send(tr_stream_t *s, PyObject *value) {
    CHECK_HANDLE(s, "stream");
    pbuf_t b;
    if (pack_value(value, &b)) return NULL;
    tr_error_t *err = NULL;
    int rc;
    CALL_NOGIL(rc = tr_stream_send(s, b.p, b.len, &err));
    pb_free(&b);
    if (rc == TR_EMSGTYPE && !err)
        return raise_local(rc, "MsgTypeError", "MsgStream.send",
                           "value does not match the context's pld_spec");
    if (rc) return raise_code(rc, err, "MsgStream.send");
    Py_RETURN_NONE;
}

PyObject *stream_recv(tr_stream_t *s, int timeout_ms) {
    CHECK_HANDLE(s, "stream");
    tr_buf_t b = {0};
    tr_error_t *err = NULL;
    int rc;
    if (timeout_ms == 0)
        rc = tr_stream_recv(s, &b, &err, 0);
    else
        CALL_NOGIL(rc = tr_stream_recv(s, &b, &err, timeout_ms));
    if (rc) return raise_code(rc, err, "MsgStream.receive");
    return unpack_buf(&b);
}

PyObject *stream_close(tr_stream_t *s) {
    CHECK_HANDLE(s, "stream");
    int rc;
    CALL_NOGIL(rc = tr_stream_close(s));
    if (rc) return raise_code(rc, NULL, "MsgStream.close");
    Py_RETURN_NONE;
}

PyObject *stream_subscribe(tr_stream_t *s) {
    CHECK_HANDLE(s, "stream");
    tr_stream_t *sub = NULL;
    int rc = tr_stream_subscribe(s, &sub);
    if (rc) return raise_code(rc, NULL, "MsgStream.subscribe");
    return NEW_PTR(sub, tr_stream);
}

PyObject *stream_release(tr_stream_t *s) {
    if (s) tr_stream_release(s);
    Py_RETURN_NONE;
}

/* ---- discovery --------------------------------------------------------- */

/* -> portal handle, or None when not registered */
PyObject *find_actor(tr_runtime_t *rt, const char *name, int timeout_ms) {
    CHECK_HANDLE(rt, "runtime");
    tr_portal_t *p = NULL;
    int rc;
    CALL_NOGIL(rc = tr_find_actor(rt, name, &p, timeout_ms));
    if (rc == TR_ENOTFOUND) Py_RETURN_NONE;
    if (rc) return raise_code(rc, NULL, "find_actor");
    return NEW_PTR(p, tr_portal);
}

PyObject *wait_for_actor(tr_runtime_t *rt, const char *name, int timeout_ms) {
    CHECK_HANDLE(rt, "runtime");
    tr_portal_t *p = NULL;
    int rc;
    CALL_NOGIL(rc = tr_wait_for_actor(rt, name, &p, timeout_ms));
    if (rc) return raise_code(rc, NULL, "wait_for_actor");
    return NEW_PTR(p, tr_portal);
}

PyObject *query_actor(tr_runtime_t *rt, const char *name, int timeout_ms) {
    CHECK_HANDLE(rt, "runtime");
    char buf[512];
    int rc;
    CALL_NOGIL(rc = tr_query_actor(rt, name, buf, sizeof buf, timeout_ms));
    if (rc == TR_ENOTFOUND) Py_RETURN_NONE;
    if (rc) return raise_code(rc, NULL, "query_actor");
    return PyUnicode_FromString(buf);
}

PyObject *get_registry(tr_runtime_t *rt, int timeout_ms) {
    CHECK_HANDLE(rt, "runtime");
    tr_buf_t b = {0};
    int rc;
    CALL_NOGIL(rc = tr_get_registry(rt, &b, timeout_ms));
    if (rc) return raise_code(rc, NULL, "get_registry");
    return unpack_buf(&b);
}

%}
