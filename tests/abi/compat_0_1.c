/* Binary compatibility with the 0.1 baseline: this program is compiled
 * against abi/0.1/include/tractor/tractor.h (the header the baseline was
 * recorded from), linked against the library being built, and must behave
 * exactly as it did against 0.1: error codes and names, options structs of
 * 0.1's size, and a real call between two actors (fork + two runtimes). */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <tractor/tractor.h>

#if TR_VERSION_MAJOR != 0 || TR_VERSION_MINOR != 1
#error "compat_0_1.c must be compiled against the 0.1 baseline header"
#endif

static int failures;
#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "compat_0_1: %s:%d: failed: %s\n", __FILE__,     \
                    __LINE__, #cond);                                        \
            failures++;                                                      \
        }                                                                    \
    } while (0)

/* An options struct of 0.1's size with guard bytes behind it: the
 * library's _init may write only what a 0.1 program allocated. */
#define GUARDED(type) struct { type o; unsigned char guard[64]; }
static int guard_intact(const unsigned char *g) {
    for (int i = 0; i < 64; i++)
        if (g[i] != 0xA5) return 0;
    return 1;
}

static void check_errors(void) {
#define XX(name, code, text)                                                 \
    CHECK(TR_##name == (code));                                              \
    CHECK(strcmp(tr_err_name(code), "TR_" #name) == 0);                      \
    CHECK(strcmp(tr_strerror(code), text) == 0);
    TR_ERRNO_MAP(XX)
#undef XX
}

static void check_opts(void) {
    GUARDED(tr_runtime_opts_t) r;
    GUARDED(tr_spawn_opts_t) s;
    GUARDED(tr_ctx_opts_t) c;
    memset(&r, 0xA5, sizeof r);
    memset(&s, 0xA5, sizeof s);
    memset(&c, 0xA5, sizeof c);
    tr_runtime_opts_init(&r.o);
    tr_spawn_opts_init(&s.o);
    tr_ctx_opts_init(&c.o);
    CHECK(r.o.size == sizeof(tr_runtime_opts_t) && guard_intact(r.guard));
    CHECK(s.o.size == sizeof(tr_spawn_opts_t) && guard_intact(s.guard));
    CHECK(c.o.size == sizeof(tr_ctx_opts_t) && guard_intact(c.guard));
    CHECK(r.o.handle_signals == 1 && r.o.enable_registrar == TR_REGISTRAR_ELECT);
    CHECK(c.o.msg_buffer_size == 64);
}

/* served by the forked actor: returns its kwargs as the result */
static int echo(tr_ctx_t *ctx, void *ud) {
    (void)ud;
    const void *kw;
    size_t len;
    if (tr_ctx_kwargs(ctx, &kw, &len) != 0) return TR_EPROTO;
    return tr_ctx_set_result(ctx, kw, len);
}

static int open_rt(const char *name, tr_runtime_t **rt) {
    tr_runtime_opts_t o;
    tr_runtime_opts_init(&o);
    o.name = name;
    o.transport = "tcp";
    o.bind_addr = "127.0.0.1:0";
    o.enable_registrar = TR_REGISTRAR_NONE;
    o.handle_signals = 0;
    return tr_runtime_open(&o, rt);
}

static int serve(int wfd) {
    tr_runtime_t *rt;
    char addr[256];
    if (open_rt("compat-server", &rt) != 0) return 10;
    if (tr_register_func(rt, "compat", "echo", TR_FUNC_ASYNCFUNC, echo, NULL, NULL)) return 11;
    if (tr_runtime_addr(rt, addr, sizeof addr) != 0) return 12;
    if (write(wfd, addr, strlen(addr) + 1) < 0) return 13;
    close(wfd);
    int rc = tr_runtime_wait(rt, 20000); /* until the client cancels us */
    tr_runtime_close(rt);
    return rc == 0 ? 0 : 14;
}

static void check_call(void) {
    int pfd[2];
    CHECK(pipe(pfd) == 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(pfd[0]);
        _exit(serve(pfd[1]));
    }
    close(pfd[1]);
    char addr[256] = {0};
    ssize_t n = read(pfd[0], addr, sizeof addr - 1);
    close(pfd[0]);
    CHECK(n > 0);

    tr_runtime_t *rt;
    CHECK(open_rt("compat-client", &rt) == 0);
    tr_portal_t *p = NULL;
    CHECK(tr_portal_connect(rt, addr, &p, 5000) == 0);
    if (p) {
        static const unsigned char kw[] = {0x81, 0xa1, 'x', 40}; /* {"x": 40} */
        tr_buf_t res = {0};
        tr_error_t *err = NULL;
        CHECK(tr_portal_run(p, "compat", "echo", kw, sizeof kw, &res, &err, 5000) == 0);
        CHECK(res.len == sizeof kw && memcmp(res.data, kw, sizeof kw) == 0);
        tr_buf_release(&res);
        CHECK(tr_portal_run(p, "compat", "nope", NULL, 0, &res, &err, 5000) == TR_EREMOTE);
        CHECK(err && strcmp(tr_error_type(err), "AttributeError") == 0);
        tr_error_free(err);
        CHECK(strcmp(tr_portal_name(p), "compat-server") == 0);
        CHECK(tr_portal_cancel_actor(p, 5000) == 0);
        tr_portal_release(p);
    }
    CHECK(tr_runtime_close(rt) == 0);
    int st = -1;
    for (int i = 0; i < 500 && waitpid(pid, &st, WNOHANG) == 0; i++) usleep(10000);
    if (!WIFEXITED(st)) { kill(pid, SIGKILL); waitpid(pid, &st, 0); }
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

int main(void) {
    alarm(60);
    CHECK((tr_version_hex() >> 16) == TR_VERSION_MAJOR);
    CHECK(tr_version_hex() >= TR_VERSION_HEX);
    check_errors();
    check_opts();
    check_call();
    if (failures) return 1;
    printf("ok: a program built against the 0.1 header runs against %s\n", tr_version());
    return 0;
}
