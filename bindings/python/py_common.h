/* Shared by the C files of the Python binding (py_*.c) and by the SWIG
 * interface tractor.i: the Python and libtractor headers, the visibility of
 * the functions they share, and the process state more than one reads.
 *
 * Include it first: Python.h must come before any system header. */
#ifndef TR_PY_COMMON_H
#define TR_PY_COMMON_H

#ifndef PY_SSIZE_T_CLEAN
#define PY_SSIZE_T_CLEAN
#endif
#include <Python.h>

#include "tractor/tractor.h"

/* Functions and variables shared between the extension's own C files: never
 * exported from the module (setup.py does not build with
 * -fvisibility=hidden, CMake does). */
#define TRPY_INTERNAL __attribute__((visibility("hidden")))

/* The runtime of this process, if open. Set by runtime_open/runtime_close in
 * tractor.i (defined there). */
extern TRPY_INTERNAL tr_runtime_t *g_rt;

#endif
