// Faults: the root SIGKILLed (children die with it), a channel dying
// mid-stream (TransportClosed on both sides, teardown still works).
#include <sys/wait.h>

#include "harness.hpp"

using namespace trt;

TEST_CASE("SIGKILL of the root leaves no descendant running", "[faults]") {
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    pid_t root = fork();
    REQUIRE(root >= 0);
    if (root == 0) {
        close(fds[0]);
        tr_runtime_opts_t o;
        tr_runtime_opts_init(&o);
        o.name = "doomed";
        o.enable_registrar = 0;
        tr_runtime_t *rt;
        if (tr_runtime_open(&o, &rt)) _exit(3);
        tr_nursery_t *n;
        tr_nursery_open(rt, &n);
        tr_spawn_opts_t so = c_opts();
        int pids[3] = {0, 0, 0};
        tr_portal_t *a, *b;
        if (tr_nursery_start_actor(n, "a", &so, &a, nullptr, 10000)) _exit(4);
        if (tr_nursery_start_actor(n, "b", &so, &b, nullptr, 10000)) _exit(5);
        pids[0] = tr_portal_pid(a);
        pids[1] = tr_portal_pid(b);
        // b spawns a grandchild that ignores cancellation
        tr_ctx_t *c;
        tr_portal_start_call(b, "testmod", "spawn_stuck_grandchild", nullptr, 0, &c);
        for (int i = 0; i < 500 && children_of(pids[1]).empty(); i++) usleep(10000);
        auto g = children_of(pids[1]);
        pids[2] = g.empty() ? 0 : g[0];
        if (write(fds[1], pids, sizeof pids) != (ssize_t)sizeof pids) _exit(6);
        pause();
        _exit(0);
    }
    close(fds[1]);
    int pids[3] = {0, 0, 0};
    REQUIRE(read(fds[0], pids, sizeof pids) == (ssize_t)sizeof pids);
    close(fds[0]);
    REQUIRE(pids[0] > 0);
    REQUIRE(pids[1] > 0);
    REQUIRE(pids[2] > 0);
    for (int p : pids) REQUIRE(pid_alive(p));
    kill(root, SIGKILL);
    int st;
    waitpid(root, &st, 0);
    auto t0 = std::chrono::steady_clock::now();
    for (int p : pids) CHECK(eventually([p] { return !pid_alive(p); }, 2000));
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(2100));
}

TEST_CASE("a channel dying mid-stream gives TransportClosed, not a hang", "[faults]") {
    std::string tpt = GENERATE(as<std::string>{}, "tcp", "uds");
    Root root(tpt);
    tr_nursery_t *n;
    REQUIRE(tr_nursery_open(root.rt, &n) == 0);
    tr_spawn_opts_t so = c_opts();
    tr_portal_t *p;
    REQUIRE(tr_nursery_start_actor(n, "victim", &so, &p, nullptr, 10000) == 0);
    int pid = tr_portal_pid(p);
    root.pids.push_back(pid);
    tr_ctx_t *ctx;
    REQUIRE(tr_portal_open_context(p, "testmod", "echo", nullptr, 0, nullptr, &ctx, nullptr, nullptr, 5000) == 0);
    tr_stream_t *s;
    REQUIRE(tr_ctx_open_stream(ctx, &s) == 0);
    Pack v;
    v.i(1);
    REQUIRE(tr_stream_send(s, v.data(), v.size(), nullptr) == 0);
    tr_buf_t b;
    REQUIRE(tr_stream_recv(s, &b, nullptr, 5000) == 0);
    tr_buf_release(&b);
    kill(pid, SIGKILL);
    tr_error_t *err = nullptr;
    auto t0 = std::chrono::steady_clock::now();
    CHECK(tr_stream_recv(s, &b, &err, 5000) == TR_ETRANSPORT);
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(2));
    REQUIRE(err);
    CHECK(std::string(tr_error_type(err)) == "TransportClosed");
    tr_error_free(err);
    CHECK(tr_stream_send(s, v.data(), v.size(), nullptr) == TR_ETRANSPORT);
    CHECK(tr_stream_close(s) == 0);  // tolerated during teardown
    tr_stream_release(s);
    tr_ctx_close(ctx, 0);
    t0 = std::chrono::steady_clock::now();
    CHECK(tr_portal_cancel_actor(p, 5000) == TR_ETRANSPORT);  // no wait on a dead peer
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(200));
    tr_portal_release(p);
    tr_nursery_close(n, 0, nullptr);
    root.close_and_check();
}

TEST_CASE("SIGINT at the root cancels the whole tree and the root exits cleanly", "[faults]") {
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    pid_t root = fork();
    REQUIRE(root >= 0);
    if (root == 0) {
        close(fds[0]);
        tr_runtime_opts_t o;
        tr_runtime_opts_init(&o);
        o.name = "interrupted";
        o.enable_registrar = 0;
        o.handle_signals = 1;
        tr_runtime_t *rt;
        if (tr_runtime_open(&o, &rt)) _exit(3);
        tr_nursery_t *n;
        tr_nursery_open(rt, &n);
        tr_spawn_opts_t so = c_opts();
        int pids[2];
        for (int i = 0; i < 2; i++) {
            tr_portal_t *p;
            if (tr_nursery_start_actor(n, i ? "d1" : "d0", &so, &p, nullptr, 10000)) _exit(4);
            pids[i] = tr_portal_pid(p);
            tr_portal_release(p);
        }
        if (write(fds[1], pids, sizeof pids) != (ssize_t)sizeof pids) _exit(6);
        int rc = tr_nursery_close(n, 0, nullptr);  // daemons: waits until cancelled
        int cancelled = tr_runtime_cancelled(rt) && !strcmp(tr_runtime_cancel_reason(rt), "sigint");
        tr_runtime_close(rt);
        _exit(rc == TR_ECANCELLED && cancelled ? 130 : 1);
    }
    close(fds[1]);
    int pids[2] = {0, 0};
    REQUIRE(read(fds[0], pids, sizeof pids) == (ssize_t)sizeof pids);
    close(fds[0]);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto t0 = std::chrono::steady_clock::now();
    kill(root, SIGINT);
    int st = 0;
    bool exited = eventually([&] { return waitpid(root, &st, WNOHANG) == root; }, 5000);
    REQUIRE(exited);
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(3));
    CHECK(WIFEXITED(st));
    CHECK(WEXITSTATUS(st) == 130);
    for (int p : pids) CHECK(!pid_alive(p));
}
