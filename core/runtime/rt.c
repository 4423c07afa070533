/* The runtime: its I/O thread, the command queue, waits and cancellation
 * points, the pollable fd, signals, the runtime's logger. */
#include "core/runtime/rt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

tr_runtime_t *tr__the_runtime;

char *tr__strdup(const char *s) { return s ? strdup(s) : NULL; }

static tr__logger_t logger_of(tr_runtime_t *rt) {
    tr__logger_t lg = {NULL, NULL, TR_LOG_ERROR};
    if (rt) {
        lg.name = rt->aid.name;
        lg.uuid = rt->aid.uuid;
        lg.level = rt->loglevel;
    }
    return lg;
}

void tr__runtime_logv(tr_runtime_t *rt, int level, const char *module, const char *fmt,
                      va_list ap) {
    tr__logger_t lg = logger_of(rt);
    tr__logv(&lg, level, module, fmt, ap);
}

void tr__log(tr_runtime_t *rt, int level, const char *module, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    tr__runtime_logv(rt, level, module, fmt, ap);
    va_end(ap);
}

void tr__runtime_log_str(tr_runtime_t *rt, int level, const char *module, const char *msg) {
    tr__logger_t lg = logger_of(rt);
    tr__log_str(&lg, level, module, msg);
}

char *tr__strndup(const char *s, size_t n) {
    char *r = malloc(n + 1);
    if (!r) return NULL;
    memcpy(r, s, n);
    r[n] = 0;
    return r;
}

void tr__uuid4(char out[TR__CID_LEN + 1]) {
    uint8_t b[16];
    if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) {
        uint64_t t = tr__now_ns() ^ ((uint64_t)getpid() << 32);
        for (int i = 0; i < 16; i++) {
            t = t * 6364136223846793005ull + 1442695040888963407ull;
            b[i] = (uint8_t)(t >> 56);
        }
    }
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    static const char hx[] = "0123456789abcdef";
    int o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out[o++] = '-';
        out[o++] = hx[b[i] >> 4];
        out[o++] = hx[b[i] & 15];
    }
    out[o] = 0;
}

/* ---- command queue to the I/O thread ----------------------------------- */

void tr__post(tr_runtime_t *rt, void (*fn)(tr_runtime_t *, void *), void *arg) {
    tr__cmd_t *c = malloc(sizeof *c);
    if (!c) abort(); /* cannot report: callers treat posting as infallible */
    c->fn = fn;
    c->arg = arg;
    c->next = NULL;
    pthread_mutex_lock(&rt->mu);
    if (rt->cmd_tail)
        rt->cmd_tail->next = c;
    else
        rt->cmd_head = c;
    rt->cmd_tail = c;
    pthread_mutex_unlock(&rt->mu);
    uv_async_send(&rt->wake);
}

struct sync_cmd {
    void (*fn)(tr_runtime_t *, void *);
    void *arg;
    int done;
    pthread_cond_t cond;
};

static void run_sync(tr_runtime_t *rt, void *arg) {
    struct sync_cmd *s = arg;
    s->fn(rt, s->arg);
    pthread_mutex_lock(&rt->mu);
    s->done = 1;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&rt->mu);
}

void tr__post_sync(tr_runtime_t *rt, void (*fn)(tr_runtime_t *, void *),
                   void *arg) {
    if (pthread_equal(pthread_self(), rt->io_thread)) {
        fn(rt, arg);
        return;
    }
    struct sync_cmd s = {fn, arg, 0, PTHREAD_COND_INITIALIZER};
    pthread_cond_init(&s.cond, &rt->cattr);
    tr__post(rt, run_sync, &s);
    pthread_mutex_lock(&rt->mu);
    while (!s.done) pthread_cond_wait(&s.cond, &rt->mu);
    pthread_mutex_unlock(&rt->mu);
    pthread_cond_destroy(&s.cond);
}

/* Any thread, any locks held (the dirty list has its own lock, so the I/O
 * thread may send replies while holding rt->mu). */
static void chan_request_flush(tr__chan_t *c) {
    tr_runtime_t *rt = c->owner;
    pthread_mutex_lock(&rt->dirty_mu);
    if (!c->next_dirty) {
        tr__chan_retain(c);
        c->next_dirty = rt->dirty ? rt->dirty : c; /* self-loop marks tail */
        rt->dirty = c;
    }
    pthread_mutex_unlock(&rt->dirty_mu);
    uv_async_send(&rt->wake);
}

static void on_wake(uv_async_t *a) {
    tr_runtime_t *rt = a->data;
    for (;;) {
        pthread_mutex_lock(&rt->mu);
        tr__cmd_t *cmds = rt->cmd_head;
        rt->cmd_head = rt->cmd_tail = NULL;
        pthread_mutex_unlock(&rt->mu);
        pthread_mutex_lock(&rt->dirty_mu);
        tr__chan_t *d = rt->dirty;
        rt->dirty = NULL;
        pthread_mutex_unlock(&rt->dirty_mu);
        if (!cmds && !d) break;
        while (d) {
            pthread_mutex_lock(&rt->dirty_mu);
            tr__chan_t *next = d->next_dirty == d ? NULL : d->next_dirty;
            d->next_dirty = NULL;
            pthread_mutex_unlock(&rt->dirty_mu);
            tr__chan_service(d);
            tr__chan_release(d);
            d = next;
        }
        while (cmds) {
            tr__cmd_t *n = cmds->next;
            cmds->fn(rt, cmds->arg);
            free(cmds);
            cmds = n;
        }
    }
}

/* ---- signals ---------------------------------------------------------- */

static void on_exit_timer(uv_timer_t *t) {
    tr_runtime_t *rt = t->data;
    /* tasks ignored the cancellation: leave anyway, tidily */
    for (int i = 0; i < rt->n_listeners; i++) {
        char path[400];
        if (rt->listeners[i].addr.kind == TR__ADDR_UDS &&
            tr__addr_uds_path(&rt->listeners[i].addr, path, sizeof path) == 0)
            unlink(path);
    }
    fprintf(stderr, "tractor: actor '%s' did not finish its tasks after being cancelled (%s); exiting\n",
            rt->aid.name, rt->cancel_reason ? rt->cancel_reason : "?");
    rt->ops->children_kill_all(rt, SIGKILL);
    _exit(1);
}

/* I/O thread: a child told to go (SIGTERM, parent gone) must go, even when a
 * task is stuck in code that never checks for cancellation. */
void tr__arm_exit_timer(tr_runtime_t *rt) {
    if (!rt->is_child || uv_is_active((uv_handle_t *)&rt->exit_timer)) return;
    uv_timer_start(&rt->exit_timer, on_exit_timer, 1200, 0);
}

static void on_signal(uv_signal_t *s, int signum) {
    tr_runtime_t *rt = s->data;
    pthread_mutex_lock(&rt->mu);
    if (!rt->cancelled && !rt->is_child)
        fprintf(stderr, "tractor: %s received in actor '%s': cancelling the actor tree\n",
                signum == SIGINT ? "SIGINT (Ctrl-C)" : "SIGTERM", rt->aid.name);
    tr__runtime_cancel_locked(rt, signum == SIGINT ? "sigint" : "sigterm", rt->aid.name,
                              rt->aid.uuid);
    pthread_mutex_unlock(&rt->mu);
    if (signum == SIGTERM) tr__arm_exit_timer(rt);
}

/* ---- the I/O thread ---------------------------------------------------- */

static void *io_main(void *arg) {
    tr_runtime_t *rt = arg;
    tr__chan_on_io_thread = 1;
    uv_run(&rt->loop, UV_RUN_DEFAULT);
    return NULL;
}

static void walk_close(uv_handle_t *h, void *arg) {
    (void)arg;
    if (!uv_is_closing(h)) uv_close(h, NULL);
}

static void stop_loop(tr_runtime_t *rt, void *arg) {
    (void)arg;
    if (rt->handle_signals) {
        uv_signal_stop(&rt->sigint);
        uv_signal_stop(&rt->sigterm);
    }
    uv_stop(&rt->loop);
}

int tr__io_start(tr_runtime_t *rt) {
    if (uv_loop_init(&rt->loop) != 0) return TR_EIO;
    rt->loop.data = rt;
    uv_async_init(&rt->loop, &rt->wake, on_wake);
    rt->wake.data = rt;
    uv_timer_init(&rt->loop, &rt->exit_timer);
    rt->exit_timer.data = rt;
    uv_unref((uv_handle_t *)&rt->exit_timer);
    if (rt->handle_signals) {
        uv_signal_init(&rt->loop, &rt->sigint);
        uv_signal_init(&rt->loop, &rt->sigterm);
        rt->sigint.data = rt->sigterm.data = rt;
        uv_signal_start(&rt->sigint, on_signal, SIGINT);
        uv_signal_start(&rt->sigterm, on_signal, SIGTERM);
    }
    tr__chan_request_flush = chan_request_flush;
    if (tr__rset_init(&rt->loop, &rt->rset) != 0) return TR_EIO;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setstacksize(&at, 256 * 1024);
    int rc = pthread_create(&rt->io_thread, &at, io_main, rt);
    pthread_attr_destroy(&at);
    if (rc != 0) return TR_ENOMEM;
    rt->io_running = 1;
    return 0;
}

static void lead_efd_drop(void);

void tr__io_stop(tr_runtime_t *rt) {
    if (!rt->io_running) return;
    tr__post(rt, stop_loop, NULL);
    pthread_join(rt->io_thread, NULL);
    rt->io_running = 0;
    /* close every remaining handle and let the closes complete */
    uv_walk(&rt->loop, walk_close, NULL);
    uv_run(&rt->loop, UV_RUN_DEFAULT);
    uv_loop_close(&rt->loop);
    tr__rset_free(&rt->rset);
    lead_efd_drop(); /* the closing thread's; other threads' close as they end */
}

/* ---- waits ------------------------------------------------------------- */

uint64_t tr__deadline(int timeout_ms) {
    if (timeout_ms < 0) return UINT64_MAX;
    if (timeout_ms == 0) return 0;
    return tr__now_ns() + (uint64_t)timeout_ms * 1000000ull;
}

int tr__cancel_point(tr_runtime_t *rt) {
    tr_ctx_t *t = tr__current_task;
    if (t) return t->local_cancelled ? TR_ECANCELLED : 0;
    return rt->cancelled ? TR_ECANCELLED : 0;
}

static void cond_wait_until(tr_runtime_t *rt, pthread_cond_t *cond, uint64_t deadline) {
    if (deadline == UINT64_MAX) {
        pthread_cond_wait(cond, &rt->mu);
    } else {
        struct timespec ts = {(time_t)(deadline / 1000000000ull),
                              (long)(deadline % 1000000000ull)};
        pthread_cond_timedwait(cond, &rt->mu, &ts);
    }
}

static void waiter_unlink(tr_runtime_t *rt, tr__waiter_t *w) {
    if (w->prev)
        w->prev->next = w->next;
    else
        rt->waiters = w->next;
    if (w->next) w->next->prev = w->prev;
}

int tr__wait(tr_runtime_t *rt, pthread_cond_t *cond, int *waiters,
             uint64_t deadline, int cancellable) {
    if (cancellable) {
        int rc = tr__cancel_point(rt);
        if (rc) return rc;
    }
    if (deadline == 0) return TR_EAGAIN;
    uint64_t now = tr__now_ns();
    if (deadline != UINT64_MAX && now >= deadline) return TR_ETIMEDOUT;
    tr__waiter_t w = {rt->waiters, NULL, cond, -1, 0};
    if (rt->waiters) rt->waiters->prev = &w;
    rt->waiters = &w;
    if (waiters) (*waiters)++;
    cond_wait_until(rt, cond, deadline);
    if (waiters) (*waiters)--;
    waiter_unlink(rt, &w);
    if (cancellable) {
        int rc = tr__cancel_point(rt);
        if (rc) return rc;
    }
    return 0;
}

/* ---- leaders: a waiting thread reads its context's channel itself ------- */

static pthread_key_t lead_key;
static pthread_once_t lead_once = PTHREAD_ONCE_INIT;
static _Thread_local int lead_efd = -1;
static _Thread_local tr__waiter_t *leading; /* this thread's leader wait */

static void lead_efd_close(void *p) { close((int)(intptr_t)p - 1); }
static void lead_key_init(void) { pthread_key_create(&lead_key, lead_efd_close); }

/* This thread's wake-up eventfd for leading (closed when the thread ends). */
static int my_lead_efd(void) {
    if (lead_efd >= 0) return lead_efd;
    pthread_once(&lead_once, lead_key_init);
    int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd < 0) return -1;
    if (pthread_setspecific(lead_key, (void *)(intptr_t)(fd + 1)) != 0) {
        close(fd);
        return -1;
    }
    lead_efd = fd;
    return fd;
}

static void lead_efd_drop(void) {
    if (lead_efd < 0) return;
    pthread_setspecific(lead_key, NULL);
    close(lead_efd);
    lead_efd = -1;
}

static void wake_waiter(tr__waiter_t *w) {
    if (w->efd < 0) return;
    atomic_store(&w->woken, 1);
    if (w == leading) return; /* it is delivering to itself: it will see */
    uint64_t one = 1;
    ssize_t n = write(w->efd, &one, sizeof one);
    (void)n;
}

void tr__ctx_wake_leader(tr_ctx_t *c) {
    if (c->lead_w) wake_waiter(c->lead_w);
}

void tr__ctx_wake_waiters(tr_ctx_t *c) {
    if (c->waiters) pthread_cond_broadcast(&c->cond);
    tr__ctx_wake_leader(c);
}

int tr__wait_ctx(tr_runtime_t *rt, tr_ctx_t *c, uint64_t deadline, int cancellable) {
    tr__chan_t *ch = c->chan;
    int efd;
    /* lead only where it helps and is safe: a blocking wait, off the I/O
     * thread, once the channel carries only context traffic to us */
    if (deadline == 0 || !ch || c->lead_w || leading ||
        pthread_equal(pthread_self(), rt->io_thread) ||
        (ch == rt->parent && !rt->got_spawnspec) || (efd = my_lead_efd()) < 0)
        return tr__wait(rt, &c->cond, &c->waiters, deadline, cancellable);
    if (cancellable) {
        int rc = tr__cancel_point(rt);
        if (rc) return rc;
    }
    if (deadline != UINT64_MAX && tr__now_ns() >= deadline) return TR_ETIMEDOUT;
    tr__waiter_t w = {rt->waiters, NULL, &c->cond, efd, 0};
    if (rt->waiters) rt->waiters->prev = &w;
    rt->waiters = &w;
    c->lead_w = &w; /* not counted in c->waiters: it is woken by flag/efd */
    leading = &w;
    tr__chan_retain(ch);
    pthread_mutex_unlock(&rt->mu);
    int rc = tr__chan_lead(ch, efd, deadline, &w.woken);
    pthread_mutex_lock(&rt->mu);
    leading = NULL;
    c->lead_w = NULL;
    w.efd = -1; /* from here on, wake-ups come by the condition */
    if (rc == TR_EAGAIN && !atomic_load(&w.woken)) {
        /* somebody else reads the channel: wait to be woken by them */
        c->waiters++;
        cond_wait_until(rt, &c->cond, deadline);
        c->waiters--;
    }
    waiter_unlink(rt, &w);
    tr__chan_release(ch);
    if (cancellable) {
        rc = tr__cancel_point(rt);
        if (rc) return rc;
    }
    return 0;
}

void tr__wake_all(tr_runtime_t *rt) {
    for (tr__waiter_t *w = rt->waiters; w; w = w->next) {
        pthread_cond_broadcast(w->cond);
        wake_waiter(w);
    }
    pthread_cond_broadcast(&rt->wait_cond);
    tr__signal_fd(rt);
}

void tr__signal_fd(tr_runtime_t *rt) {
    if (rt->efd < 0) return;
    if (atomic_exchange(&rt->efd_signalled, 1)) return;
    uint64_t one = 1;
    ssize_t n = write(rt->efd, &one, sizeof one);
    (void)n;
}

int tr__efd_open(tr_runtime_t *rt) {
    rt->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    atomic_init(&rt->efd_signalled, 0);
    return rt->efd < 0 ? TR_EIO : 0;
}

void tr__efd_clear(tr_runtime_t *rt) {
    uint64_t v;
    atomic_store(&rt->efd_signalled, 0);
    ssize_t n = read(rt->efd, &v, sizeof v);
    (void)n;
}
