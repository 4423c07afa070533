/* Python binding: libtractor errors as Python exceptions (see py_errors.h). */
#include "py_common.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "py_errors.h"
#include "py_sigint.h"
#include "py_tasks.h"

PyObject *g_factory;      /* callable(code, info|None, where) -> exc */
PyObject *g_cancel_types; /* exceptions meaning "this task was cancelled" */

static void cap_free_error(PyObject *cap) {
    tr_error_free((tr_error_t *)PyCapsule_GetPointer(cap, "tr_error_t"));
}

PyObject *uid_tuple(const char *name, const char *uuid) {
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
PyObject *error_info(const tr_error_t *e, tr_error_t *owned) {
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
PyObject *raise_from_factory(int code, PyObject *info, const char *where) {
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
PyObject *raise_local(int code, const char *type, const char *where, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    PyObject *info = Py_BuildValue("{s:i,s:s,s:s,s:s}", "code", code, "type", type, "src_type",
                                   type, "message", msg);
    return raise_from_factory(code, info, where);
}

/* Raise the Python exception for a failed call. Takes ownership of `err`.
 * Always returns NULL. */
PyObject *raise_code(int rc, tr_error_t *err, const char *where) {
    if (rc == TR_ECANCELLED && !tl_task && in_sigint_cancel()) {
        tr_error_free(err);
        return raise_keyboard_interrupt();
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

