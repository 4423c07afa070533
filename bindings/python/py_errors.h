/* Python binding: libtractor errors as Python exceptions.
 *
 * TR_E* codes and tr_error_t become exceptions made by the factory the
 * Python layer registers with set_hooks() (libtractor/_exceptions.py). */
#ifndef TR_PY_ERRORS_H
#define TR_PY_ERRORS_H

#include "py_common.h"

/* set_hooks(): callable(code, info|None, where) -> exc */
extern TRPY_INTERNAL PyObject *g_factory;
/* set_hooks(): exceptions meaning "this task was cancelled" */
extern TRPY_INTERNAL PyObject *g_cancel_types;

/* (name, uuid), or None when both are NULL. New reference. */
TRPY_INTERNAL PyObject *uid_tuple(const char *name, const char *uuid);

/* Describe `e` as a dict. When `owned` is non-NULL it is kept alive in the
 * dict as a capsule (key "_capsule") so the error can be relayed later;
 * it is freed on failure. */
TRPY_INTERNAL PyObject *error_info(const tr_error_t *e, tr_error_t *owned);

/* Raise the exception the factory makes for (code, info, where). Steals
 * `info`. Always returns NULL. */
TRPY_INTERNAL PyObject *raise_from_factory(int code, PyObject *info, const char *where);

/* A local error of type `type` with a formatted message. Always returns
 * NULL. */
TRPY_INTERNAL PyObject *raise_local(int code, const char *type, const char *where,
                                    const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Raise the Python exception for a failed call (KeyboardInterrupt for a
 * Ctrl-C cancellation outside served tasks). Takes ownership of `err`.
 * Always returns NULL. */
TRPY_INTERNAL PyObject *raise_code(int rc, tr_error_t *err, const char *where);

#endif
