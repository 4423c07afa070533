// Contexts and streams with tractor's cancellation semantics
// (test_context_stream_semantics, test_inter_peer_cancellation, overruns).
#include <atomic>
#include <thread>

#include "harness.hpp"

using namespace trt;

#define TRANSPORTS GENERATE(as<std::string>{}, "tcp", "uds")


TEST_CASE("context: started value, bidirectional echo stream, Stop, Return", "[ctx]") {
    std::string tpt = TRANSPORTS;
    Root root(tpt);
    ServingChild d(root);
    tr_ctx_t *ctx;
    tr_buf_t first;
    tr_error_t *err = nullptr;
    REQUIRE(tr_portal_open_context(d.p, "testmod", "echo", nullptr, 0, nullptr, &ctx, &first, &err, 5000) == 0);
    CHECK(as_int(first) == 42);
    tr_buf_release(&first);
    tr_stream_t *s;
    REQUIRE(tr_ctx_open_stream(ctx, &s) == 0);
    CHECK(tr_stream_ctx(s) == ctx);
    for (int i = 0; i < 100; i++) {
        Pack v;
        v.i(i * 7);
        REQUIRE(tr_stream_send(s, v.data(), v.size(), nullptr) == 0);
        tr_buf_t b;
        REQUIRE(tr_stream_recv(s, &b, nullptr, 5000) == 0);
        CHECK(as_int(b) == i * 7);
        tr_buf_release(&b);
    }
    // polling with timeout 0 returns EAGAIN when nothing is queued
    tr_buf_t b;
    CHECK(tr_stream_recv(s, &b, nullptr, 0) == TR_EAGAIN);
    REQUIRE(tr_stream_close(s) == 0);  // sends Stop; the callee's loop ends
    tr_buf_t res;
    REQUIRE(tr_ctx_wait_for_result(ctx, &res, &err, 5000) == 0);
    CHECK(as_int(res) == 100);
    tr_buf_release(&res);
    CHECK(tr_ctx_has_outcome(ctx));
    tr_stream_release(s);
    CHECK(tr_ctx_close(ctx, 0) == 0);
    d.done();
    root.close_and_check();
}

TEST_CASE("context: callee stream ends with Stop; end-of-channel is not an error", "[ctx]") {
    std::string tpt = TRANSPORTS;
    Root root(tpt);
    ServingChild d(root);
    Pack kw;
    kw.map(1).str("count").i(500);
    tr_ctx_t *ctx;
    tr_ctx_opts_t o;
    tr_ctx_opts_init(&o);
    o.allow_overruns = 1;
    REQUIRE(tr_portal_open_context(d.p, "testmod", "producer", kw.data(), kw.size(), &o, &ctx, nullptr, nullptr, 5000) == 0);
    tr_stream_t *s;
    REQUIRE(tr_ctx_open_stream(ctx, &s) == 0);
    int64_t expect = 0;
    int rc;
    tr_buf_t b;
    while ((rc = tr_stream_recv(s, &b, nullptr, 5000)) == 0) {
        CHECK(as_int(b) == expect++);
        tr_buf_release(&b);
    }
    CHECK(rc == TR_EEOC);
    CHECK(expect == 500);
    // the side that received Stop does not echo one; send now reports EoC
    CHECK(tr_stream_send(s, "\x01", 1, nullptr) == TR_EEOC);
    tr_buf_t res;
    REQUIRE(tr_ctx_wait_for_result(ctx, &res, nullptr, 5000) == 0);
    CHECK(as_int(res) == 500);
    tr_buf_release(&res);
    tr_stream_close(s);
    tr_stream_release(s);
    CHECK(tr_ctx_close(ctx, 0) == 0);
    d.done();
    root.close_and_check();
}

TEST_CASE("context: caller cancel is absorbed; canceller is the caller", "[ctx][cancel]") {
    std::string tpt = TRANSPORTS;
    Root root(tpt);
    ServingChild d(root);
    tr_ctx_t *ctx;
    REQUIRE(tr_portal_open_context(d.p, "testmod", "wait_in_stream", nullptr, 0, nullptr, &ctx, nullptr, nullptr, 5000) == 0);
    tr_stream_t *s;
    REQUIRE(tr_ctx_open_stream(ctx, &s) == 0);
    Pack v;
    v.str("one msg before cancel");
    REQUIRE(tr_stream_send(s, v.data(), v.size(), nullptr) == 0);
    REQUIRE(tr_ctx_cancel(ctx, "parent says stop") == 0);
    CHECK(tr_ctx_cancel_called(ctx));
    tr_buf_t res;
    tr_error_t *err = nullptr;
    CHECK(tr_ctx_wait_for_result(ctx, &res, &err, 5000) == TR_ECTXCANCELLED);
    REQUIRE(err);
    CHECK(std::string(tr_error_type(err)) == "ContextCancelled");
    CHECK(std::string(tr_error_canceller_uuid(err)) == tr_runtime_uuid(root.rt));
    CHECK(std::string(tr_error_src_name(err)) == "svc");
    CHECK(std::string(tr_error_message(err)).find("parent says stop") != std::string::npos);
    tr_error_free(err);
    CHECK(tr_ctx_cancel_acked(ctx));
    const char *cn, *cu;
    REQUIRE(tr_ctx_canceller(ctx, &cn, &cu));
    CHECK(std::string(cn) == "root");
    tr_stream_release(s);
    CHECK(tr_ctx_close(ctx, 0) == 0);  // our own cancel: not an error
    // the actor still serves
    tr_buf_t r;
    Pack kw;
    kw.map(2).str("x").i(2).str("y").i(3);
    REQUIRE(tr_portal_run(d.p, "testmod", "add", kw.data(), kw.size(), &r, nullptr, 5000) == 0);
    CHECK(as_int(r) == 5);
    tr_buf_release(&r);
    d.done();
    root.close_and_check();
}

TEST_CASE("context: callee self-cancel is raised with the callee as canceller", "[ctx][cancel]") {
    std::string tpt = TRANSPORTS;
    Root root(tpt);
    ServingChild d(root);
    tr_ctx_t *ctx;
    REQUIRE(tr_portal_open_context(d.p, "testmod", "self_cancel", nullptr, 0, nullptr, &ctx, nullptr, nullptr, 5000) == 0);
    tr_buf_t res;
    tr_error_t *err = nullptr;
    CHECK(tr_ctx_wait_for_result(ctx, &res, &err, 5000) == TR_ECTXCANCELLED);
    REQUIRE(err);
    CHECK(std::string(tr_error_canceller_name(err)) == "svc");
    CHECK(std::string(tr_error_message(err)).find("child decided to stop") != std::string::npos);
    tr_error_free(err);
    CHECK(!tr_ctx_cancel_acked(ctx));
    CHECK(tr_ctx_close(ctx, 0) == TR_ECTXCANCELLED);
    d.done();
    root.close_and_check();
}

TEST_CASE("context: an error before started is reported, not masked", "[ctx][errors]") {
    std::string tpt = TRANSPORTS;
    Root root(tpt);
    ServingChild d(root);
    tr_ctx_t *ctx = nullptr;
    tr_error_t *err = nullptr;
    CHECK(tr_portal_open_context(d.p, "testmod", "fail_before_started", nullptr, 0, nullptr, &ctx, nullptr, &err, 5000) == TR_EREMOTE);
    CHECK(ctx == nullptr);
    REQUIRE(err);
    CHECK(std::string(tr_error_type(err)) == "KeyError");
    tr_error_free(err);
    d.done();
    root.close_and_check();
}

TEST_CASE("context: a third actor cancelling the callee's actor names itself as canceller", "[ctx][cancel]") {
    std::string tpt = TRANSPORTS;
    Root root(tpt);
    ServingChild d(root, "target");
    tr_ctx_t *ctx;
    REQUIRE(tr_portal_open_context(d.p, "testmod", "wait_in_stream", nullptr, 0, nullptr, &ctx, nullptr, nullptr, 5000) == 0);
    // a sibling finds the target through the registrar and cancels its actor
    tr_nursery_t *n2;
    REQUIRE(tr_nursery_open(root.rt, &n2) == 0);
    tr_spawn_opts_t so = c_opts();
    tr_portal_t *killer;
    REQUIRE(tr_nursery_start_actor(n2, "killer", &so, &killer, nullptr, 10000) == 0);
    root.pids.push_back(tr_portal_pid(killer));
    Pack kw;
    kw.map(1).str("target").str("target");
    tr_buf_t res;
    tr_error_t *err = nullptr;
    REQUIRE(tr_portal_run(killer, "testmod", "cancel_peer", kw.data(), kw.size(), &res, &err, 10000) == 0);
    tr_buf_release(&res);
    CHECK(tr_ctx_wait_for_result(ctx, &res, &err, 5000) == TR_ECTXCANCELLED);
    REQUIRE(err);
    CHECK(std::string(tr_error_canceller_name(err)) == "killer");
    CHECK(std::string(tr_error_canceller_uuid(err)) == tr_portal_uuid(killer));
    tr_error_free(err);
    const char *cn;
    REQUIRE(tr_ctx_canceller(ctx, &cn, nullptr));
    CHECK(std::string(cn) == "killer");
    CHECK(tr_ctx_close(ctx, 0) == TR_ECTXCANCELLED);  // not ours: reported
    int tpid = tr_portal_pid(d.p);
    CHECK(eventually([tpid] { return !pid_alive(tpid); }));
    tr_portal_release(d.p);
    CHECK(tr_nursery_close(d.n, 0, nullptr) == 0);
    CHECK(tr_portal_cancel_actor(killer, 5000) == 0);
    tr_portal_release(killer);
    CHECK(tr_nursery_close(n2, 0, nullptr) == 0);
    root.close_and_check();
}

TEST_CASE("broadcast: every subscriber receives every value", "[ctx][broadcast]") {
    Root root("tcp");
    ServingChild d(root);
    tr_ctx_opts_t o;
    tr_ctx_opts_init(&o);
    o.allow_overruns = 1;
    Pack kw;
    kw.map(2).str("ms").i(0).str("allow").i(1);
    tr_ctx_t *ctx;
    REQUIRE(tr_portal_open_context(d.p, "testmod", "echo", kw.data(), kw.size(), &o, &ctx, nullptr, nullptr, 5000) == 0);
    tr_stream_t *s;
    REQUIRE(tr_ctx_open_stream(ctx, &s) == 0);
    const int K = 3, N = 50;
    tr_stream_t *subs[K];
    for (int i = 0; i < K; i++) REQUIRE(tr_stream_subscribe(s, &subs[i]) == 0);
    std::vector<std::thread> th;
    std::vector<int> got(K, 0), inorder(K, 1);
    for (int i = 0; i < K; i++)
        th.emplace_back([&, i] {
            tr_buf_t b;
            for (int j = 0; j < N; j++) {
                if (tr_stream_recv(subs[i], &b, nullptr, 5000) != 0) break;
                if (as_int(b) != j) inorder[i] = 0;
                tr_buf_release(&b);
                got[i]++;
            }
        });
    for (int j = 0; j < N; j++) {
        Pack v;
        v.i(j);
        REQUIRE(tr_stream_send(s, v.data(), v.size(), nullptr) == 0);
    }
    for (auto &t : th) t.join();
    // the original stream is a consumer too
    for (int j = 0; j < N; j++) {
        tr_buf_t b;
        REQUIRE(tr_stream_recv(s, &b, nullptr, 5000) == 0);
        CHECK(as_int(b) == j);
        tr_buf_release(&b);
    }
    for (int i = 0; i < K; i++) {
        CHECK(got[i] == N);
        CHECK(inorder[i] == 1);
        tr_stream_close(subs[i]);
        tr_stream_release(subs[i]);
    }
    tr_stream_close(s);
    tr_stream_release(s);
    CHECK(tr_ctx_close(ctx, 0) == 0);
    d.done();
    root.close_and_check();
}

TEST_CASE("stream teardown race: a Return arriving while closing is still the result", "[ctx]") {
    Root root("tcp");
    ServingChild d(root);
    tr_ctx_opts_t o;
    tr_ctx_opts_init(&o);
    o.allow_overruns = 1;
    for (int round = 0; round < 20; round++) {
        Pack kw;
        kw.map(1).str("count").i(round * 5);
        tr_ctx_t *ctx;
        REQUIRE(tr_portal_open_context(d.p, "testmod", "producer", kw.data(), kw.size(), &o, &ctx, nullptr, nullptr, 5000) == 0);
        tr_stream_t *s;
        REQUIRE(tr_ctx_open_stream(ctx, &s) == 0);
        if (round % 2) std::this_thread::sleep_for(std::chrono::milliseconds(2));
        tr_stream_close(s);  // discards what is queued, races the Return
        tr_buf_t res;
        REQUIRE(tr_ctx_wait_for_result(ctx, &res, nullptr, 5000) == 0);
        CHECK(as_int(res) == round * 5);
        tr_buf_release(&res);
        tr_stream_release(s);
        CHECK(tr_ctx_close(ctx, 0) == 0);
    }
    d.done();
    root.close_and_check();
}

TEST_CASE("overrun matrix: slow callee / slow caller x allowed / not", "[ctx][overrun]") {
    std::string tpt = TRANSPORTS;
    Root root(tpt);
    ServingChild d(root);
    SECTION("slow callee, overruns not allowed: StreamOverrun back to the sender") {
        tr_ctx_t *ctx;
        Pack kw;
        kw.map(1).str("ms").i(400);
        REQUIRE(tr_portal_open_context(d.p, "testmod", "sleepy_reader", kw.data(), kw.size(), nullptr, &ctx, nullptr, nullptr, 5000) == 0);
        tr_stream_t *s;
        REQUIRE(tr_ctx_open_stream(ctx, &s) == 0);
        int rc = 0;
        tr_error_t *err = nullptr;
        for (int i = 0; i < 100 && rc == 0; i++) {
            Pack v;
            v.i(i);
            rc = tr_stream_send(s, v.data(), v.size(), &err);
            if (i == 99 && rc == 0) {
                // the overrun errors are on their way: wait for the first
                tr_buf_t b;
                rc = tr_stream_recv(s, &b, &err, 5000);
            }
        }
        CHECK(rc == TR_EOVERRUN);
        REQUIRE(err);
        CHECK(std::string(tr_error_type(err)) == "StreamOverrun");
        CHECK(std::string(tr_error_sender_uuid(err)) == tr_runtime_uuid(root.rt));
        tr_error_free(err);
        tr_stream_release(s);
        tr_ctx_close(ctx, 1);
    }
    SECTION("slow callee, overruns allowed: every message delivered in order") {
        tr_ctx_t *ctx;
        Pack kw;
        kw.map(2).str("ms").i(300).str("allow").i(1);
        REQUIRE(tr_portal_open_context(d.p, "testmod", "sleepy_reader", kw.data(), kw.size(), nullptr, &ctx, nullptr, nullptr, 5000) == 0);
        tr_stream_t *s;
        REQUIRE(tr_ctx_open_stream(ctx, &s) == 0);
        for (int i = 0; i < 100; i++) {
            Pack v;
            v.i(i);
            REQUIRE(tr_stream_send(s, v.data(), v.size(), nullptr) == 0);
        }
        tr_stream_close(s);
        tr_buf_t res;
        REQUIRE(tr_ctx_wait_for_result(ctx, &res, nullptr, 5000) == 0);
        CHECK(as_int(res) == 100);
        tr_buf_release(&res);
        tr_stream_release(s);
        CHECK(tr_ctx_close(ctx, 0) == 0);
    }
    SECTION("slow caller, overruns not allowed: the callee crashes and relays it") {
        tr_ctx_t *ctx;
        Pack kw;
        kw.map(1).str("count").i(5000000);
        REQUIRE(tr_portal_open_context(d.p, "testmod", "producer", kw.data(), kw.size(), nullptr, &ctx, nullptr, nullptr, 5000) == 0);
        tr_stream_t *s;
        REQUIRE(tr_ctx_open_stream(ctx, &s) == 0);
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        tr_buf_t res;
        tr_error_t *err = nullptr;
        CHECK(tr_ctx_wait_for_result(ctx, &res, &err, 5000) == TR_EREMOTE);
        REQUIRE(err);
        CHECK(std::string(tr_error_type(err)) == "RemoteActorError");
        CHECK(std::string(tr_error_src_type(err)) == "StreamOverrun");
        tr_error_free(err);
        // what was buffered is still delivered, then the loss is reported
        int got = 0, rc;
        tr_buf_t b;
        while ((rc = tr_stream_recv(s, &b, nullptr, 1000)) == 0) {
            got++;
            tr_buf_release(&b);
        }
        CHECK(rc != TR_ETIMEDOUT);
        tr_stream_release(s);
        tr_ctx_close(ctx, 0);
    }
    SECTION("slow caller, overruns allowed: nothing lost") {
        tr_ctx_opts_t o;
        tr_ctx_opts_init(&o);
        o.allow_overruns = 1;
        tr_ctx_t *ctx;
        Pack kw;
        kw.map(1).str("count").i(300);
        REQUIRE(tr_portal_open_context(d.p, "testmod", "producer", kw.data(), kw.size(), &o, &ctx, nullptr, nullptr, 5000) == 0);
        tr_stream_t *s;
        REQUIRE(tr_ctx_open_stream(ctx, &s) == 0);
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        tr_buf_t b;
        int64_t expect = 0;
        while (tr_stream_recv(s, &b, nullptr, 5000) == 0) {
            CHECK(as_int(b) == expect++);
            tr_buf_release(&b);
        }
        CHECK(expect == 300);
        tr_stream_release(s);
        CHECK(tr_ctx_close(ctx, 0) == 0);
    }
    d.done();
    root.close_and_check();
}

TEST_CASE("payload spec: a Yield violating the callee's pld_spec is a MsgTypeError", "[ctx][pld]") {
    std::string tpt = TRANSPORTS;
    Root root(tpt);
    ServingChild d(root);
    tr_ctx_t *ctx;
    tr_ctx_opts_t o;
    tr_ctx_opts_init(&o);
    o.pld_spec = "int";
    REQUIRE(tr_portal_open_context(d.p, "testmod", "typed", nullptr, 0, &o, &ctx, nullptr, nullptr, 5000) == 0);
    tr_stream_t *s;
    REQUIRE(tr_ctx_open_stream(ctx, &s) == 0);
    Pack ok;
    ok.i(7);
    REQUIRE(tr_stream_send(s, ok.data(), ok.size(), nullptr) == 0);
    tr_buf_t b;
    REQUIRE(tr_stream_recv(s, &b, nullptr, 5000) == 0);
    CHECK(as_int(b) == 7);
    tr_buf_release(&b);
    Pack bad;
    bad.str("not an int");
    REQUIRE(tr_stream_send(s, bad.data(), bad.size(), nullptr) == 0);
    tr_error_t *err = nullptr;
    // the callee validates on receipt, fails, and ships MsgTypeError
    int rc = tr_stream_recv(s, &b, &err, 5000);
    CHECK((rc == TR_EEOC || rc == TR_EMSGTYPE));
    tr_error_free(err);
    err = nullptr;
    tr_buf_t res;
    CHECK(tr_ctx_wait_for_result(ctx, &res, &err, 5000) == TR_EMSGTYPE);
    REQUIRE(err);
    CHECK(std::string(tr_error_type(err)) == "MsgTypeError");
    CHECK(std::string(tr_error_src_name(err)) == "svc");
    CHECK(std::string(tr_error_message(err)).find("expected int, got str") != std::string::npos);
    tr_error_free(err);
    tr_stream_release(s);
    tr_ctx_close(ctx, 0);
    // receive side of the caller: limit our own payloads, the callee echoes a str
    REQUIRE(tr_portal_open_context(d.p, "testmod", "echo", nullptr, 0, &o, &ctx, nullptr, nullptr, 5000) == 0);
    REQUIRE(tr_ctx_open_stream(ctx, &s) == 0);
    REQUIRE(tr_stream_send(s, bad.data(), bad.size(), nullptr) == 0);
    CHECK(tr_stream_recv(s, &b, &err, 5000) == TR_EMSGTYPE);
    REQUIRE(err);
    CHECK(std::string(tr_error_message(err)).find("expected int, got str at $") != std::string::npos);
    tr_error_free(err);
    tr_stream_close(s);
    tr_stream_release(s);
    tr_ctx_close(ctx, 0);
    d.done();
    root.close_and_check();
}

TEST_CASE("a context opened to the actor itself is rejected", "[ctx]") {
    Root root("tcp");
    char addr[512];
    REQUIRE(tr_runtime_addr(root.rt, addr, sizeof addr) == 0);
    tr_portal_t *self;
    REQUIRE(tr_portal_connect(root.rt, addr, &self, 5000) == 0);
    tr_ctx_t *ctx;
    CHECK(tr_portal_open_context(self, "testmod", "echo", nullptr, 0, nullptr, &ctx, nullptr, nullptr, 1000) == TR_ESELF);
    tr_portal_release(self);
    root.close_and_check();
}

TEST_CASE("1000 concurrent contexts each streaming 100 messages lose nothing", "[ctx][scale]") {
    std::string tpt = TRANSPORTS;
    Root root(tpt);
    ServingChild d(root);
    const int N = 1000, M = 100;
    std::vector<tr_ctx_t *> ctxs(N);
    std::vector<tr_stream_t *> ss(N);
    Pack kw;
    kw.map(1).str("count").i(M);
    tr_ctx_opts_t o;
    tr_ctx_opts_init(&o);
    o.allow_overruns = 1;
    for (int i = 0; i < N; i++) {
        REQUIRE(tr_portal_start_context(d.p, "testmod", "producer", kw.data(), kw.size(), &o, &ctxs[i]) == 0);
    }
    for (int i = 0; i < N; i++) {
        REQUIRE(tr_ctx_wait_started(ctxs[i], nullptr, nullptr, 60000) == 0);
        REQUIRE(tr_ctx_open_stream(ctxs[i], &ss[i]) == 0);
    }
    long total = 0;
    for (int i = 0; i < N; i++) {
        tr_buf_t b;
        int64_t expect = 0;
        while (tr_stream_recv(ss[i], &b, nullptr, 20000) == 0) {
            if (as_int(b) == expect) expect++;
            tr_buf_release(&b);
        }
        CHECK(expect == M);
        total += expect;
        tr_buf_t res;
        CHECK(tr_ctx_wait_for_result(ctxs[i], &res, nullptr, 20000) == 0);
        tr_buf_release(&res);
        tr_stream_release(ss[i]);
        tr_ctx_close(ctxs[i], 0);
    }
    CHECK(total == (long)N * M);
    d.done();
    root.close_and_check();
}

// Several threads share one channel, so they take turns reading it
// (leader/follower: docs/architecture.md). Calls, an echo stream, and receives
// that time out must all complete, each with its own answer and on time.
TEST_CASE("threads sharing a channel: calls, a stream and timed-out receives all complete", "[ctx][threads]") {
    std::string tpt = TRANSPORTS;
    Root root(tpt);
    ServingChild d(root);
    const int CALLERS = 6, CALLS = 300, ECHOES = 2000;
    std::atomic<int> calls_ok{0}, echoes_ok{0}, timeouts_ok{0};
    std::vector<std::thread> ts;
    for (int t = 0; t < CALLERS; t++)
        ts.emplace_back([&, t] {
            for (int i = 0; i < CALLS; i++) {
                Pack kw;
                kw.map(2).str("x").i(i).str("y").i(1000 * t);
                tr_buf_t r;
                if (tr_portal_run(d.p, "testmod", "add", kw.data(), kw.size(), &r, nullptr, 10000) != 0) return;
                if (as_int(r) == i + 1000 * t) calls_ok++;
                tr_buf_release(&r);
            }
        });
    ts.emplace_back([&] {  // an echo stream, one value at a time
        tr_ctx_t *c;
        tr_buf_t first;
        if (tr_portal_open_context(d.p, "testmod", "echo", nullptr, 0, nullptr, &c, &first, nullptr, 10000)) return;
        tr_buf_release(&first);
        tr_stream_t *s;
        tr_ctx_open_stream(c, &s);
        for (int i = 0; i < ECHOES; i++) {
            Pack v;
            msgpack_pack_int64(&v.pk, i);
            tr_buf_t b;
            if (tr_stream_send(s, v.data(), v.size(), nullptr) || tr_stream_recv(s, &b, nullptr, 10000)) break;
            if (as_int(b) == i) echoes_ok++;
            tr_buf_release(&b);
        }
        tr_stream_close(s);
        tr_stream_release(s);
        tr_ctx_close(c, 0);
    });
    ts.emplace_back([&] {  // a stream that stays silent: every receive times out
        tr_ctx_t *c;
        tr_buf_t first;
        if (tr_portal_open_context(d.p, "testmod", "wait_in_stream", nullptr, 0, nullptr, &c, &first, nullptr, 10000))
            return;
        tr_buf_release(&first);
        tr_stream_t *s;
        tr_ctx_open_stream(c, &s);
        for (int i = 0; i < 10; i++) {
            auto t0 = std::chrono::steady_clock::now();
            tr_buf_t b;
            int rc = tr_stream_recv(s, &b, nullptr, 50);
            auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
            if (rc == TR_ETIMEDOUT && ms >= 45 && ms < 2000) timeouts_ok++;
        }
        tr_stream_close(s);
        tr_stream_release(s);
        tr_ctx_close(c, 0);
    });
    for (auto &t : ts) t.join();
    CHECK(calls_ok == CALLERS * CALLS);
    CHECK(echoes_ok == ECHOES);
    CHECK(timeouts_ok == 10);
    d.done();
    root.close_and_check();
}
