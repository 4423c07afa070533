/* SWIG interface for the Python binding: the private extension module
 * `libtractor._tractor_c`.
 *
 * Everything here is deliberately low level; the public API is the pure
 * Python package `libtractor` (bindings/python/libtractor/). This file
 * declares the module's functions, thin wrappers over the C API that
 * release the GIL around every blocking call. The work they share lives in
 * C files compiled into the same extension (CMakeLists.txt, setup.py):
 *   - py_values.c: value conversion Python <-> msgpack (in C, no dependency),
 *   - py_errors.c: TR_E* codes and tr_error_t as Python exceptions (through
 *     a factory the Python layer registers with set_hooks()),
 *   - py_tasks.c:  the trampoline that serves Python functions on runtime
 *     worker threads, and the registered handlers,
 *   - py_sigint.c: Ctrl-C: KeyboardInterrupt in the root's main thread once
 *     the runtime was cancelled by SIGINT.
 */
%module(package="libtractor") tractor_c

%{
#include "py_common.h"

#include <stdlib.h>
#include <string.h>

#include "py_errors.h"
#include "py_sigint.h"
#include "py_tasks.h"
#include "py_values.h"
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
tr_runtime_t *g_rt; /* the runtime of this process, if open */

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

PyObject *new_ctx_handle(tr_ctx_t *ctx) { return NEW_PTR(ctx, tr_ctx); }

/* ======================================================================
 * Runtime and spawn options
 * ====================================================================== */

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
    sigint_arm(rt, main_thread, handle_signals);
    return NEW_PTR(rt, tr_runtime);
}

PyObject *runtime_close(tr_runtime_t *rt) {
    CHECK_HANDLE(rt, "runtime");
    int rc;
    watch_stop();
    CALL_NOGIL(rc = tr_runtime_close(rt));
    if (g_rt == rt) g_rt = NULL;
    handlers_release_idle();
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
    if (handlers_reserve()) return NULL;
    int rc = tr_register_func(rt, ns, name, kind ? TR_FUNC_CONTEXT : TR_FUNC_ASYNCFUNC,
                              py_trampoline, handler, pld_spec);
    if (rc) {
        if (rc == TR_EINVAL && pld_spec)
            return raise_local(rc, "ValueError", "tr_register_func",
                               "cannot register %s.%s: bad pld_spec `%s`", ns, name, pld_spec);
        return raise_code(rc, NULL, "tr_register_func");
    }
    handlers_keep(handler);
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
