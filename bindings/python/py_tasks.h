/* Python binding: serving Python functions.
 *
 * The runtime runs served functions on its worker threads; the trampoline
 * takes the GIL, calls the registered Python handler with the task's
 * context handle and kwargs, and turns its return value or exception into
 * the task's outcome. */
#ifndef TR_PY_TASKS_H
#define TR_PY_TASKS_H

#include "py_common.h"

/* The served task running on this thread (NULL outside tasks). */
extern TRPY_INTERNAL _Thread_local tr_ctx_t *tl_task;

/* The tr_func_t of every registered Python function; `ud` is the handler,
 * called as handler(ctx_handle, kwargs_dict) -> result value. */
TRPY_INTERNAL int py_trampoline(tr_ctx_t *ctx, void *ud);

/* Registered handlers are kept alive (one reference each) until the
 * runtime closes. handlers_reserve() makes room for one more: 0, or -1
 * with MemoryError set; handlers_keep() then stores a new reference. */
TRPY_INTERNAL int handlers_reserve(void);
TRPY_INTERNAL void handlers_keep(PyObject *handler);

/* At runtime close: release the handlers, unless a trampoline is still
 * running Python code. */
TRPY_INTERNAL void handlers_release_idle(void);

/* A new Python handle (SWIG pointer object) for `ctx`; NULL with an
 * exception set. Defined in tractor.i, which owns the SWIG types. */
TRPY_INTERNAL PyObject *new_ctx_handle(tr_ctx_t *ctx);

#endif
