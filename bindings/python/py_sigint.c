/* Python binding: Ctrl-C as KeyboardInterrupt (see py_sigint.h). */
#include "py_common.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "py_sigint.h"

static pthread_t g_main_thread;
static int g_have_main;
static pthread_t g_watch_thread;
static int g_watching;
static pthread_mutex_t g_watch_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_watch_cond = PTHREAD_COND_INITIALIZER;
static int g_watch_stop;
static atomic_int g_ki_claimed; /* someone delivers the KeyboardInterrupt */
static atomic_int g_ki_tripped; /* the watcher tripped Python's SIGINT flag */

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

void watch_stop(void) {
    if (!g_watching) return;
    pthread_mutex_lock(&g_watch_mu);
    g_watch_stop = 1;
    pthread_cond_broadcast(&g_watch_cond);
    pthread_mutex_unlock(&g_watch_mu);
    pthread_join(g_watch_thread, NULL);
    g_watching = 0;
}

void sigint_arm(tr_runtime_t *rt, int main_thread, int handle_signals) {
    atomic_store(&g_ki_claimed, 0);
    atomic_store(&g_ki_tripped, 0);
    g_have_main = main_thread != 0;
    if (g_have_main) g_main_thread = pthread_self();
    if (handle_signals && g_have_main && !tr_runtime_is_child(rt)) {
        g_watch_stop = 0;
        if (pthread_create(&g_watch_thread, NULL, watch_main, rt) == 0) g_watching = 1;
    }
}

int in_sigint_cancel(void) {
    if (!g_rt || !tr_runtime_cancelled(g_rt)) return 0;
    const char *r = tr_runtime_cancel_reason(g_rt);
    return r && !strcmp(r, "sigint");
}

PyObject *raise_keyboard_interrupt(void) {
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
