/* Python binding: Ctrl-C.
 *
 * A watcher thread turns a SIGINT cancellation of the runtime into
 * KeyboardInterrupt in the main thread, exactly once: either the watcher
 * trips Python's signal flag, or a blocking call of the main thread that
 * returns TR_ECANCELLED raises it (raise_code() in py_errors.c). */
#ifndef TR_PY_SIGINT_H
#define TR_PY_SIGINT_H

#include "py_common.h"

/* After tr_runtime_open of `rt` (g_rt already set): reset the
 * KeyboardInterrupt state, remember the calling thread as the main thread
 * when `main_thread`, and start the watcher thread when `handle_signals` in
 * the main thread of a root actor. */
TRPY_INTERNAL void sigint_arm(tr_runtime_t *rt, int main_thread, int handle_signals);

/* Stop and join the watcher thread, if any. */
TRPY_INTERNAL void watch_stop(void);

/* The runtime of this process (g_rt) was cancelled by SIGINT. */
TRPY_INTERNAL int in_sigint_cancel(void);

/* Raise KeyboardInterrupt for a SIGINT cancellation, exactly once in the
 * main thread. Always returns NULL. */
TRPY_INTERNAL PyObject *raise_keyboard_interrupt(void);

#endif
