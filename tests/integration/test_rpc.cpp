// Spawning, RPC, errors and supervision (tractor's test_spawning, test_rpc,
// test_cancellation non-context parts, test_local).
#include "harness.hpp"

using namespace trt;

#define TRANSPORTS GENERATE(as<std::string>{}, "tcp", "uds")

TEST_CASE("run_in_actor returns the function's result", "[spawn]") {
    std::string tpt = TRANSPORTS;
    Root root(tpt);
    tr_nursery_t *n;
    REQUIRE(tr_nursery_open(root.rt, &n) == 0);
    Pack kw;
    kw.map(2).str("x").i(40).str("y").i(2);
    tr_spawn_opts_t so = c_opts("");
    tr_portal_t *p;
    tr_error_t *err = nullptr;
    REQUIRE(tr_nursery_run_in_actor(n, "adder", "testmod", "add", kw.data(), kw.size(), &so, &p, &err, 10000) == 0);
    root.pids.push_back(tr_portal_pid(p));
    tr_buf_t res;
    REQUIRE(tr_portal_wait_for_result(p, &res, &err, 10000) == 0);
    CHECK(as_int(res) == 42);
    tr_buf_release(&res);
    tr_portal_release(p);
    REQUIRE(tr_nursery_close(n, 0, &err) == 0);
    CHECK(err == nullptr);
    root.close_and_check();
}

TEST_CASE("start_actor, two calls, cancel_actor", "[spawn]") {
    std::string tpt = TRANSPORTS;
    Root root(tpt);
    tr_nursery_t *n;
    REQUIRE(tr_nursery_open(root.rt, &n) == 0);
    tr_spawn_opts_t so = c_opts();
    tr_portal_t *p;
    REQUIRE(tr_nursery_start_actor(n, "daemon", &so, &p, nullptr, 10000) == 0);
    int pid = tr_portal_pid(p);
    root.pids.push_back(pid);
    CHECK(std::string(tr_portal_name(p)) == "daemon");
    for (int i = 0; i < 2; i++) {
        Pack kw;
        kw.map(2).str("x").i(i).str("y").i(10);
        tr_buf_t res;
        tr_error_t *err = nullptr;
        REQUIRE(tr_portal_run(p, "testmod", "add", kw.data(), kw.size(), &res, &err, 5000) == 0);
        CHECK(as_int(res) == i + 10);
        tr_buf_release(&res);
    }
    tr_buf_t res;
    REQUIRE(tr_portal_run(p, "testmod", "getpid", nullptr, 0, &res, nullptr, 5000) == 0);
    CHECK(as_int(res) == pid);
    tr_buf_release(&res);
    CHECK(tr_portal_cancel_actor(p, -1) == 0);
    CHECK(eventually([pid] { return !pid_alive(pid); }));
    // the channel is gone now: cancel_actor returns at once
    auto t0 = std::chrono::steady_clock::now();
    CHECK(tr_portal_cancel_actor(p, 5000) == TR_ETRANSPORT);
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(200));
    tr_portal_release(p);
    REQUIRE(tr_nursery_close(n, 0, nullptr) == 0);
    root.close_and_check();
}

TEST_CASE("unknown module and function give remote errors; channel stays usable", "[rpc]") {
    std::string tpt = TRANSPORTS;
    Root root(tpt);
    tr_nursery_t *n;
    REQUIRE(tr_nursery_open(root.rt, &n) == 0);
    tr_spawn_opts_t so = c_opts();
    tr_portal_t *p;
    REQUIRE(tr_nursery_start_actor(n, "svc", &so, &p, nullptr, 10000) == 0);
    root.pids.push_back(tr_portal_pid(p));
    tr_buf_t res;
    tr_error_t *err = nullptr;
    CHECK(tr_portal_run(p, "nomod", "f", nullptr, 0, &res, &err, 5000) == TR_EREMOTE);
    REQUIRE(err);
    CHECK(std::string(tr_error_type(err)) == "ModuleNotExposed");
    CHECK(std::string(tr_error_message(err)).find("nomod") != std::string::npos);
    tr_error_free(err);
    err = nullptr;
    CHECK(tr_portal_run(p, "testmod", "nofunc", nullptr, 0, &res, &err, 5000) == TR_EREMOTE);
    REQUIRE(err);
    CHECK(std::string(tr_error_type(err)) == "AttributeError");
    tr_error_free(err);
    // a context endpoint called as a plain function is refused clearly
    err = nullptr;
    CHECK(tr_portal_run(p, "testmod", "echo", nullptr, 0, &res, &err, 5000) == TR_EPROTO);
    REQUIRE(err);
    CHECK(std::string(tr_error_message(err)).find("context endpoint") != std::string::npos);
    tr_error_free(err);
    Pack kw;
    kw.map(2).str("x").i(1).str("y").i(2);
    REQUIRE(tr_portal_run(p, "testmod", "add", kw.data(), kw.size(), &res, nullptr, 5000) == 0);
    CHECK(as_int(res) == 3);
    tr_buf_release(&res);
    tr_portal_cancel_actor(p, -1);
    tr_portal_release(p);
    REQUIRE(tr_nursery_close(n, 0, nullptr) == 0);
    root.close_and_check();
}

TEST_CASE("a child's error propagates with its boxed type", "[errors]") {
    std::string tpt = TRANSPORTS;
    Root root(tpt);
    tr_nursery_t *n;
    REQUIRE(tr_nursery_open(root.rt, &n) == 0);
    tr_spawn_opts_t so = c_opts("");
    tr_portal_t *p;
    REQUIRE(tr_nursery_run_in_actor(n, "failer", "testmod", "fail", nullptr, 0, &so, &p, nullptr, 10000) == 0);
    root.pids.push_back(tr_portal_pid(p));
    tr_portal_release(p);
    tr_error_t *err = nullptr;
    CHECK(tr_nursery_close(n, 0, &err) == TR_EREMOTE);
    REQUIRE(err);
    CHECK(std::string(tr_error_type(err)) == "ValueError");
    CHECK(std::string(tr_error_src_name(err)) == "failer");
    CHECK(tr_error_relay_len(err) == 1);
    CHECK(std::string(tr_error_traceback(err)).find("testmod.fail") != std::string::npos);
    tr_error_free(err);
    root.close_and_check();
}

TEST_CASE("two failing children give an error group and cancel the rest", "[errors]") {
    std::string tpt = TRANSPORTS;
    Root root(tpt);
    tr_nursery_t *n;
    REQUIRE(tr_nursery_open(root.rt, &n) == 0);
    tr_spawn_opts_t so = c_opts("");
    tr_portal_t *p;
    REQUIRE(tr_nursery_run_in_actor(n, "f1", "testmod", "fail", nullptr, 0, &so, &p, nullptr, 10000) == 0);
    root.pids.push_back(tr_portal_pid(p));
    tr_portal_release(p);
    REQUIRE(tr_nursery_run_in_actor(n, "f2", "testmod", "fail", nullptr, 0, &so, &p, nullptr, 10000) == 0);
    root.pids.push_back(tr_portal_pid(p));
    tr_portal_release(p);
    tr_spawn_opts_t d = c_opts();
    REQUIRE(tr_nursery_start_actor(n, "bystander", &d, &p, nullptr, 10000) == 0);
    int bpid = tr_portal_pid(p);
    root.pids.push_back(bpid);
    tr_portal_release(p);
    // let both failures arrive
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    tr_error_t *err = nullptr;
    CHECK(tr_nursery_close(n, 0, &err) == TR_EGROUP);
    REQUIRE(err);
    REQUIRE(tr_error_group_len(err) == 2);
    for (size_t i = 0; i < 2; i++)
        CHECK(std::string(tr_error_type(tr_error_group_at(err, i))) == "ValueError");
    tr_error_free(err);
    CHECK(!pid_alive(bpid));
    root.close_and_check();
}

TEST_CASE("nested tree depth 3: the grandchild's error reaches the root relayed", "[errors]") {
    std::string tpt = TRANSPORTS;
    Root root(tpt);
    tr_nursery_t *n;
    REQUIRE(tr_nursery_open(root.rt, &n) == 0);
    tr_spawn_opts_t so = c_opts();
    tr_portal_t *p;
    REQUIRE(tr_nursery_start_actor(n, "top", &so, &p, nullptr, 10000) == 0);
    root.pids.push_back(tr_portal_pid(p));
    Pack kw;
    kw.map(1).str("depth").i(2);
    tr_buf_t res;
    tr_error_t *err = nullptr;
    CHECK(tr_portal_run(p, "testmod", "spawn_and_call", kw.data(), kw.size(), &res, &err, 20000) == TR_EREMOTE);
    REQUIRE(err);
    CHECK(std::string(tr_error_type(err)) == "RemoteActorError");
    CHECK(std::string(tr_error_src_type(err)) == "ValueError");
    CHECK(std::string(tr_error_src_name(err)) == "top-sub-sub");
    REQUIRE(tr_error_relay_len(err) == 3);
    CHECK(std::string(tr_error_relay_name(err, 0)) == "top-sub-sub");
    CHECK(std::string(tr_error_relay_name(err, 1)) == "top-sub");
    CHECK(std::string(tr_error_relay_name(err, 2)) == "top");
    tr_error_free(err);
    tr_portal_cancel_actor(p, -1);
    tr_portal_release(p);
    REQUIRE(tr_nursery_close(n, 0, nullptr) == 0);
    root.close_and_check();
}

TEST_CASE("a grandchild stuck in a busy loop is hard-killed", "[cancel]") {
    std::string tpt = TRANSPORTS;
    Root root(tpt);
    tr_nursery_t *n;
    REQUIRE(tr_nursery_open(root.rt, &n) == 0);
    tr_spawn_opts_t so = c_opts();
    tr_portal_t *p;
    REQUIRE(tr_nursery_start_actor(n, "middle", &so, &p, nullptr, 10000) == 0);
    int mid = tr_portal_pid(p);
    root.pids.push_back(mid);
    tr_ctx_t *c;
    REQUIRE(tr_portal_start_call(p, "testmod", "spawn_stuck_grandchild", nullptr, 0, &c) == 0);
    // wait until the grandchild exists
    REQUIRE(eventually([mid] { return !children_of(mid).empty(); }, 10000));
    int gpid = children_of(mid)[0];
    root.pids.push_back(gpid);
    auto t0 = std::chrono::steady_clock::now();
    tr_ctx_release(c);
    tr_portal_release(p);
    REQUIRE(tr_nursery_close(n, 1, nullptr) == 0);
    auto took = std::chrono::steady_clock::now() - t0;
    CHECK(!pid_alive(mid));
    CHECK(eventually([gpid] { return !pid_alive(gpid); }, 3000));
    CHECK(took < std::chrono::seconds(8));
    root.close_and_check();
}

TEST_CASE("20 children started and torn down leave no fd or process growth", "[spawn]") {
    std::string tpt = TRANSPORTS;
    Root root(tpt);
    auto count_fds = [] {
        int k = 0;
        DIR *d = opendir("/proc/self/fd");
        while (readdir(d)) k++;
        closedir(d);
        return k;
    };
    int fds0 = -1;
    for (int round = 0; round < 20; round++) {
        tr_nursery_t *n;
        REQUIRE(tr_nursery_open(root.rt, &n) == 0);
        tr_spawn_opts_t so = c_opts();
        tr_portal_t *p;
        REQUIRE(tr_nursery_start_actor(n, "loop", &so, &p, nullptr, 10000) == 0);
        root.pids.push_back(tr_portal_pid(p));
        CHECK(tr_portal_cancel_actor(p, 5000) == 0);
        tr_portal_release(p);
        REQUIRE(tr_nursery_close(n, 0, nullptr) == 0);
        if (round == 1) fds0 = count_fds();
    }
    CHECK(children_of(getpid()).empty());
    CHECK(count_fds() <= fds0 + 1);
    root.close_and_check();
}

TEST_CASE("a child inherits its parent's log level", "[spawn][log]") {
    setenv("TRACTOR_LOGLEVEL", "cancel", 1);
    Root root("tcp");
    unsetenv("TRACTOR_LOGLEVEL");
    CHECK(tr_runtime_loglevel(root.rt) == TR_LOG_CANCEL);
    tr_nursery_t *n;
    REQUIRE(tr_nursery_open(root.rt, &n) == 0);
    tr_spawn_opts_t so = c_opts();
    tr_portal_t *p;
    REQUIRE(tr_nursery_start_actor(n, "logchild", &so, &p, nullptr, 10000) == 0);
    int pid = tr_portal_pid(p);
    root.pids.push_back(pid);
    std::ifstream f("/proc/" + std::to_string(pid) + "/cmdline");
    std::string cmd((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    for (auto &ch : cmd)
        if (ch == 0) ch = ' ';
    CHECK(cmd.find("--loglevel CANCEL") != std::string::npos);
    CHECK(cmd.find("--uid ('logchild', '") != std::string::npos);
    CHECK(tr_log_level_from_name("transport") == 5);
    CHECK(tr_log_level_from_name("IO") == 21);
    CHECK(tr_log_level_from_name("nope") == TR_EINVAL);
    CHECK(tr_portal_cancel_actor(p, 5000) == 0);
    tr_portal_release(p);
    CHECK(tr_nursery_close(n, 0, nullptr) == 0);
    root.close_and_check();
}

TEST_CASE("one runtime per process: a second open fails clearly", "[local]") {
    Root root("tcp");
    tr_runtime_t *second = nullptr;
    CHECK(tr_runtime_open(nullptr, &second) == TR_EEXIST);
    CHECK(second == nullptr);
    root.close_and_check();
    // and after closing, a new one may open
    Root again("tcp");
    again.close_and_check();
}

namespace {

// start_actor with a host `command` that fails before connecting back: it
// must return TR_ESPAWN with an error whose text holds every `expect`.
void expect_spawn_failure(tr_nursery_t *n, const char *name, const char *command,
                          std::initializer_list<const char *> expect) {
    tr_spawn_opts_t so = c_opts();
    so.command = command;
    tr_portal_t *p = nullptr;
    tr_error_t *err = nullptr;
    CHECK(tr_nursery_start_actor(n, name, &so, &p, &err, 5000) == TR_ESPAWN);
    REQUIRE(err != nullptr);
    std::string msg = tr_error_str(err);
    INFO(msg);
    for (const char *e : expect) CHECK(msg.find(e) != std::string::npos);
    tr_error_free(err);
}

}  // namespace

TEST_CASE("a host command that cannot be started fails clearly and the runtime goes on", "[spawn]") {
    Root root("uds");
    tr_nursery_t *n;
    REQUIRE(tr_nursery_open(root.rt, &n) == 0);
    expect_spawn_failure(n, "ghost", "/nonexistent/tractor-host --flag",
                         {"/nonexistent/tractor-host", "No such file"});
    // the nursery raises the failure again when it closes (an error inside
    // a nursery is the nursery's error, as in tractor)
    CHECK(tr_nursery_close(n, 0, nullptr) == TR_ESPAWN);
    // and the runtime still spawns
    REQUIRE(tr_nursery_open(root.rt, &n) == 0);
    tr_spawn_opts_t so = c_opts();
    tr_portal_t *p;
    REQUIRE(tr_nursery_start_actor(n, "real", &so, &p, nullptr, 10000) == 0);
    root.pids.push_back(tr_portal_pid(p));
    tr_buf_t r;
    tr_error_t *err = nullptr;
    Pack kw;
    kw.map(2).str("x").i(1).str("y").i(2);
    int rc = tr_portal_run(p, "testmod", "add", kw.data(), kw.size(), &r, &err, 5000);
    INFO((err ? tr_error_str(err) : ""));
    CHECK(rc == 0);
    if (rc == 0) CHECK(as_int(r) == 3);
    tr_error_free(err);
    tr_buf_release(&r);
    CHECK(tr_portal_cancel_actor(p, -1) == 0);
    tr_portal_release(p);
    CHECK(tr_nursery_close(n, 0, nullptr) == 0);
    root.close_and_check();
}

TEST_CASE("a child killed by a signal before connecting back is reported with the signal", "[spawn]") {
    Root root("uds");
    tr_nursery_t *n;
    REQUIRE(tr_nursery_open(root.rt, &n) == 0);
    // the host dies at once, by SIGKILL (tabs: the command splits on spaces)
    expect_spawn_failure(n, "doomed", "/bin/sh -c kill\t-KILL\t$$",
                         {"before connecting back", "signal 9"});
    tr_nursery_close(n, 0, nullptr);
    root.close_and_check();
}
