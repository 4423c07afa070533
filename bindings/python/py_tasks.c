/* Python binding: the trampoline serving Python functions (see py_tasks.h). */
#include "py_common.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "py_errors.h"
#include "py_tasks.h"
#include "py_values.h"

_Thread_local tr_ctx_t *tl_task; /* the served task running on this thread */
static PyObject *g_format_exc;   /* traceback.format_exception */
static atomic_int g_inflight;    /* trampolines currently running */

/* Registered handlers (one reference each), released at close when no task
 * is still running Python code. */
static PyObject **g_handlers;
static size_t g_nhandlers, g_caphandlers;

int handlers_reserve(void) {
    if (g_nhandlers == g_caphandlers) {
        size_t nc = g_caphandlers ? g_caphandlers * 2 : 32;
        PyObject **nv = realloc(g_handlers, nc * sizeof *nv);
        if (!nv) {
            PyErr_NoMemory();
            return -1;
        }
        g_handlers = nv;
        g_caphandlers = nc;
    }
    return 0;
}

void handlers_keep(PyObject *handler) {
    Py_INCREF(handler);
    g_handlers[g_nhandlers++] = handler;
}

void handlers_release_idle(void) {
    if (atomic_load(&g_inflight) == 0) {
        for (size_t i = 0; i < g_nhandlers; i++) Py_DECREF(g_handlers[i]);
        g_nhandlers = 0;
    }
}

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

int py_trampoline(tr_ctx_t *ctx, void *ud) {
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
    PyObject *pctx = kw ? new_ctx_handle(ctx) : NULL;
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
