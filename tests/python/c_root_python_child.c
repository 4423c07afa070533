/* A C root actor spawning a Python child (lang "python"): run a Python
 * function, stream through a Python context, get a Python error back. Run
 * by ctest as python/c_root_python_child (PYTHONPATH carries libtractor and
 * tests/python/tmods). Exits 0 on success. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tractor/tractor.h"

#define CHECK(cond)                                                         \
    do {                                                                    \
        if (!(cond)) {                                                      \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            return 1;                                                       \
        }                                                                   \
    } while (0)

static int run(tr_runtime_t *rt) {
    tr_nursery_t *n;
    CHECK(tr_nursery_open(rt, &n) == 0);
    tr_spawn_opts_t so;
    tr_spawn_opts_init(&so);
    so.lang = "python";
    so.enable_modules = "tmods.basic";
    tr_portal_t *p;
    tr_error_t *err = NULL;
    int rc = tr_nursery_start_actor(n, "pychild", &so, &p, &err, 30000);
    if (rc) fprintf(stderr, "start_actor: %s %s\n", tr_strerror(rc), err ? tr_error_str(err) : "");
    CHECK(rc == 0);

    /* {"x": 40, "y": 2} */
    static const unsigned char kw[] = {0x82, 0xa1, 'x', 40, 0xa1, 'y', 2};
    tr_buf_t res;
    CHECK(tr_portal_run(p, "tmods.basic", "add", kw, sizeof kw, &res, NULL, 10000) == 0);
    CHECK(res.len == 1 && ((const unsigned char *)res.data)[0] == 42);
    tr_buf_release(&res);

    /* a Python exception comes back with its type and traceback */
    CHECK(tr_portal_run(p, "tmods.basic", "raise_key_error", NULL, 0, &res, &err, 10000) ==
          TR_EREMOTE);
    CHECK(err && !strcmp(tr_error_type(err), "KeyError"));
    CHECK(strstr(tr_error_traceback(err), "Traceback (most recent call last)") != NULL);
    tr_error_free(err);
    err = NULL;

    /* a Python context: echo three values */
    tr_ctx_t *ctx;
    tr_buf_t first;
    CHECK(tr_portal_open_context(p, "tmods.basic", "echo", NULL, 0, NULL, &ctx, &first, &err,
                                 10000) == 0);
    tr_buf_release(&first);
    tr_stream_t *s;
    CHECK(tr_ctx_open_stream(ctx, &s) == 0);
    for (unsigned char i = 0; i < 3; i++) {
        CHECK(tr_stream_send(s, &i, 1, NULL) == 0);
        tr_buf_t b;
        CHECK(tr_stream_recv(s, &b, NULL, 10000) == 0);
        CHECK(b.len == 1 && ((const unsigned char *)b.data)[0] == i);
        tr_buf_release(&b);
    }
    CHECK(tr_stream_close(s) == 0);
    tr_stream_release(s);
    CHECK(tr_ctx_wait_for_result(ctx, &res, NULL, 10000) == 0);
    CHECK(res.len == 1 && ((const unsigned char *)res.data)[0] == 3);
    tr_buf_release(&res);
    CHECK(tr_ctx_close(ctx, 0) == 0);

    int pid = tr_portal_pid(p);
    CHECK(tr_portal_cancel_actor(p, 5000) == 0);
    tr_portal_release(p);
    CHECK(tr_nursery_close(n, 0, NULL) == 0);
    for (int i = 0; i < 300 && kill(pid, 0) == 0; i++) usleep(10000);
    CHECK(kill(pid, 0) != 0);
    return 0;
}

int main(void) {
    tr_runtime_opts_t o;
    tr_runtime_opts_init(&o);
    o.name = "c-root";
    o.handle_signals = 0;
    tr_runtime_t *rt;
    if (tr_runtime_open(&o, &rt)) return 2;
    int rc = run(rt);
    tr_runtime_close(rt);
    if (rc == 0) printf("C root -> Python child: ok\n");
    return rc;
}
