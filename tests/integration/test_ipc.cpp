// Transports and the channel seen from outside: hostile raw-socket peers
// (garbage, oversize frames, no handshake, mid-frame close, bad frames from
// the conformance data) and 100k mixed-size frames between two actors.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <atomic>
#include <thread>

#include "harness.hpp"

using namespace trt;

namespace {

struct RawPeer {
    int fd = -1;
    explicit RawPeer(int accepted) : fd(accepted) { REQUIRE(fd >= 0); }
    explicit RawPeer(tr_runtime_t *rt) {
        char addr[512];
        REQUIRE(tr_runtime_addr(rt, addr, sizeof addr) == 0);
        std::string a(addr);
        if (a.rfind("/ip4/", 0) == 0) {
            auto t = a.find("/tcp/");
            std::string host = a.substr(5, t - 5);
            int port = std::stoi(a.substr(t + 5));
            fd = socket(AF_INET, SOCK_STREAM, 0);
            sockaddr_in sa{};
            sa.sin_family = AF_INET;
            sa.sin_port = htons(port);
            inet_pton(AF_INET, host.c_str(), &sa.sin_addr);
            REQUIRE(connect(fd, (sockaddr *)&sa, sizeof sa) == 0);
        } else {
            std::string path = a.substr(5);  // "/unix" prefix
            fd = socket(AF_UNIX, SOCK_STREAM, 0);
            sockaddr_un sa{};
            sa.sun_family = AF_UNIX;
            snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path.c_str());
            REQUIRE(connect(fd, (sockaddr *)&sa, sizeof sa) == 0);
        }
    }
    ~RawPeer() {
        if (fd >= 0) close(fd);
    }
    void send_raw(const std::string &bytes) { REQUIRE(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) == (ssize_t)bytes.size()); }
    void send_frame(const void *body, size_t n) {
        uint32_t L = (uint32_t)n;
        std::string f((const char *)&L, 4);
        f.append((const char *)body, n);
        send_raw(f);
    }
    // read one frame body (ms timeout); "" on EOF/timeout
    std::string read_frame(int ms = 3000) {
        std::string hdr = read_n(4, ms);
        if (hdr.size() < 4) return "";
        uint32_t L;
        memcpy(&L, hdr.data(), 4);
        return read_n(L, ms);
    }
    std::string read_n(size_t n, int ms) {
        std::string out;
        while (out.size() < n) {
            pollfd p{fd, POLLIN, 0};
            if (poll(&p, 1, ms) <= 0) break;
            char buf[65536];
            ssize_t k = recv(fd, buf, std::min(sizeof buf, n - out.size()), 0);
            if (k <= 0) break;
            out.append(buf, (size_t)k);
        }
        return out;
    }
    // true when the peer closed the connection within ms
    bool closed_by_peer(int ms = 3000) {
        auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
        while (std::chrono::steady_clock::now() < end) {
            pollfd p{fd, POLLIN, 0};
            if (poll(&p, 1, 50) > 0) {
                char b[4096];
                ssize_t k = recv(fd, b, sizeof b, 0);
                if (k == 0 || (k < 0 && errno == ECONNRESET)) return true;
            }
        }
        return false;
    }
    void handshake(const char *name = "raw-peer") {
        Pack p;
        p.map(6).str("msg_type").str("Aid").str("name").str(name).str("uuid")
            .str("11111111-2222-4333-8444-555555555555").str("pid").i(1).str("is_registrar").nil().str("is_probe");
        msgpack_pack_false(&p.pk);
        send_frame(p.data(), p.size());
        std::string aid = read_frame();
        REQUIRE(aid.find("Aid") != std::string::npos);
    }
};

std::string unhex(const std::string &h) {
    std::string out;
    for (size_t i = 0; i + 1 < h.size(); i += 2) out.push_back((char)std::stoi(h.substr(i, 2), nullptr, 16));
    return out;
}

// A Start for a module nobody exposes, from `uid_name`: the actor must
// answer it with ModuleNotExposed.
void start_nomod(Pack &s, const char *uid_name) {
    s.map(7).str("msg_type").str("Start").str("cid").str("aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee").str("ns")
        .str("nomod").str("func").str("f").str("kwargs").map(0).str("uid");
    msgpack_pack_array(&s.pk, 2);
    s.str(uid_name).str("11111111-2222-4333-8444-555555555555").str("pld_spec").str("typing.Any");
}

// The root still serves: a fresh raw peer can handshake and get an answer.
void root_still_works(tr_runtime_t *rt) {
    RawPeer p(rt);
    p.handshake("checker");
    Pack s;
    start_nomod(s, "checker");
    p.send_frame(s.data(), s.size());
    std::string reply = p.read_frame();
    CHECK(reply.find("ModuleNotExposed") != std::string::npos);
}

}  // namespace

#define TRANSPORTS GENERATE(as<std::string>{}, "tcp", "uds")

TEST_CASE("ipc: an oversize declared length closes only that connection", "[ipc]") {
    std::string tpt = TRANSPORTS;
    Root root(tpt);
    RawPeer bystander(root.rt);
    bystander.handshake("bystander");
    RawPeer p(root.rt);
    p.handshake();
    uint32_t huge = 0x7fffffff;  // 2 GiB > the 64 MiB default maximum
    p.send_raw(std::string((const char *)&huge, 4) + "xx");
    CHECK(p.closed_by_peer());
    root_still_works(root.rt);
    CHECK(!bystander.closed_by_peer(200));
    root.close_and_check();
}

TEST_CASE("ipc: garbage instead of a handshake is refused", "[ipc]") {
    std::string tpt = TRANSPORTS;
    Root root(tpt);
    RawPeer p(root.rt);
    p.send_frame("\xc1\xc1\xc1", 3);
    std::string aid = p.read_frame();  // the root sends its Aid first
    CHECK(aid.find("Aid") != std::string::npos);
    CHECK(p.closed_by_peer());
    RawPeer q(root.rt);
    Pack notaid;
    notaid.map(2).str("msg_type").str("Stop").str("cid").str("x");
    q.send_frame(notaid.data(), notaid.size());
    q.read_frame();
    CHECK(q.closed_by_peer());
    root_still_works(root.rt);
    root.close_and_check();
}

TEST_CASE("ipc: a peer that never completes the handshake is dropped after the timeout", "[ipc]") {
    setenv("TRACTOR_HANDSHAKE_TIMEOUT_MS", "300", 1);
    Root root("tcp");
    unsetenv("TRACTOR_HANDSHAKE_TIMEOUT_MS");
    RawPeer p(root.rt);
    auto t0 = std::chrono::steady_clock::now();
    CHECK(p.closed_by_peer(3000));
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(2000));
    root_still_works(root.rt);
    root.close_and_check();
}

TEST_CASE("ipc: a peer closing mid-frame does not disturb the actor", "[ipc]") {
    std::string tpt = TRANSPORTS;
    Root root(tpt);
    {
        RawPeer p(root.rt);
        p.handshake();
        uint32_t L = 1000;
        p.send_raw(std::string((const char *)&L, 4) + "\x85\xa8msg_type");
    }
    root_still_works(root.rt);
    root.close_and_check();
}

TEST_CASE("ipc: every conformance bad frame is rejected with an error and the channel goes on", "[ipc]") {
    Root root("tcp");
    RawPeer p(root.rt);
    p.handshake();
    std::ifstream f(std::string(TR_TEST_DATA_DIR) + "/bad_frames.jsonl");
    REQUIRE(f.good());
    std::string line;
    int n = 0;
    while (std::getline(f, line)) {
        auto k = line.find("\"frame_hex\": \"");
        REQUIRE(k != std::string::npos);
        auto e = line.find('"', k + 14);
        std::string frame = unhex(line.substr(k + 14, e - k - 14));
        uint32_t L;
        memcpy(&L, frame.data(), 4);
        if (L + 4 != frame.size()) continue;  // truncated-on-the-wire cases: tested above
        p.send_raw(frame);
        std::string reply = p.read_frame();
        INFO(line.substr(0, 80));
        CHECK(reply.find("MsgTypeError") != std::string::npos);
        CHECK(reply.find("could not decode") != std::string::npos);
        n++;
    }
    CHECK(n >= 15);
    // still a working channel
    Pack s;
    start_nomod(s, "raw-peer");
    p.send_frame(s.data(), s.size());
    CHECK(p.read_frame().find("ModuleNotExposed") != std::string::npos);
    root.close_and_check();
}

TEST_CASE("ipc: 100k frames of mixed sizes arrive complete and in order", "[ipc]") {
    std::string tpt = TRANSPORTS;
    Root root(tpt);
    ServingChild d(root, "echoer");
    tr_portal_t *p = d.p;
    tr_ctx_opts_t o;
    tr_ctx_opts_init(&o);
    o.allow_overruns = 1;
    tr_ctx_t *ctx;
    Pack kw;
    kw.map(1).str("allow").i(1);
    REQUIRE(tr_portal_open_context(p, "testmod", "echo", kw.data(), kw.size(), &o, &ctx, nullptr, nullptr, 5000) == 0);
    tr_stream_t *s;
    REQUIRE(tr_ctx_open_stream(ctx, &s) == 0);
    const int N = 100000;
    std::atomic<int> send_err{0};
    std::thread sender([&] {
        std::string payload;
        for (int i = 0; i < N; i++) {
            size_t sz = (size_t)((i * 7919) % 3000);
            Pack v;
            msgpack_pack_array(&v.pk, 2);
            v.i(i);
            payload.assign(sz, (char)('a' + i % 26));
            msgpack_pack_bin_with_body(&v.pk, payload.data(), payload.size());
            int rc = tr_stream_send(s, v.data(), v.size(), nullptr);
            if (rc) {
                send_err = rc;
                return;
            }
        }
    });
    int got = 0, bad = 0;
    for (int i = 0; i < N; i++) {
        tr_buf_t b;
        int rc = tr_stream_recv(s, &b, nullptr, 10000);
        if (rc) {
            FAIL("recv failed at " << i << ": " << tr_err_name(rc));
            break;
        }
        msgpack_unpacked u;
        msgpack_unpacked_init(&u);
        REQUIRE(msgpack_unpack_next(&u, (const char *)b.data, b.len, NULL) == MSGPACK_UNPACK_SUCCESS);
        auto &arr = u.data.via.array;
        size_t sz = (size_t)((i * 7919) % 3000);
        bool ok = u.data.type == MSGPACK_OBJECT_ARRAY && arr.size == 2 && (int)arr.ptr[0].via.u64 == i &&
                  arr.ptr[1].via.bin.size == sz &&
                  (sz == 0 || (arr.ptr[1].via.bin.ptr[0] == 'a' + i % 26 && arr.ptr[1].via.bin.ptr[sz - 1] == 'a' + i % 26));
        bad += !ok;
        msgpack_unpacked_destroy(&u);
        tr_buf_release(&b);
        got++;
    }
    sender.join();
    CHECK(send_err == 0);
    CHECK(got == N);
    CHECK(bad == 0);
    tr_stream_close(s);
    tr_buf_t res;
    CHECK(tr_ctx_wait_for_result(ctx, &res, nullptr, 10000) == 0);
    CHECK(as_int(res) == N);
    tr_buf_release(&res);
    tr_stream_release(s);
    tr_ctx_close(ctx, 0);
    d.done();
    root.close_and_check();
}

TEST_CASE("ipc: frames from concurrent senders never interleave", "[ipc]") {
    Root root("uds");
    ServingChild d(root, "echoer");
    tr_portal_t *p = d.p;
    tr_ctx_opts_t o;
    tr_ctx_opts_init(&o);
    o.allow_overruns = 1;
    Pack kw;
    kw.map(1).str("allow").i(1);
    tr_ctx_t *ctx;
    REQUIRE(tr_portal_open_context(p, "testmod", "echo", kw.data(), kw.size(), &o, &ctx, nullptr, nullptr, 5000) == 0);
    tr_stream_t *s;
    REQUIRE(tr_ctx_open_stream(ctx, &s) == 0);
    const int T = 4, N = 5000;
    std::atomic<int> errs{0};
    std::vector<std::thread> th;
    for (int t = 0; t < T; t++)
        th.emplace_back([&, t] {
            std::string blob((size_t)(100 + t * 700), (char)('A' + t));
            for (int i = 0; i < N; i++) {
                Pack v;
                msgpack_pack_array(&v.pk, 3);
                v.i(t).i(i);
                msgpack_pack_bin_with_body(&v.pk, blob.data(), blob.size());
                if (tr_stream_send(s, v.data(), v.size(), nullptr)) errs++;
            }
        });
    std::vector<int> next(T, 0);
    int bad = 0;
    for (int k = 0; k < T * N; k++) {
        tr_buf_t b;
        REQUIRE(tr_stream_recv(s, &b, nullptr, 10000) == 0);
        msgpack_unpacked u;
        msgpack_unpacked_init(&u);
        REQUIRE(msgpack_unpack_next(&u, (const char *)b.data, b.len, NULL) == MSGPACK_UNPACK_SUCCESS);
        auto &a = u.data.via.array;
        int t = (int)a.ptr[0].via.u64, i = (int)a.ptr[1].via.u64;
        if (t < 0 || t >= T || i != next[t] || a.ptr[2].via.bin.size != (uint32_t)(100 + t * 700) ||
            a.ptr[2].via.bin.ptr[0] != 'A' + t)
            bad++;
        else
            next[t]++;
        msgpack_unpacked_destroy(&u);
        tr_buf_release(&b);
    }
    for (auto &x : th) x.join();
    CHECK(errs == 0);
    CHECK(bad == 0);
    for (int t = 0; t < T; t++) CHECK(next[t] == N);
    tr_stream_close(s);
    tr_stream_release(s);
    tr_ctx_close(ctx, 0);
    d.done();
    root.close_and_check();
}

namespace {

// msgpack map `body`: the str value of `key` ("" when absent)
std::string map_str(const std::string &body, const char *key) {
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    std::string out;
    if (msgpack_unpack_next(&u, body.data(), body.size(), NULL) == MSGPACK_UNPACK_SUCCESS &&
        u.data.type == MSGPACK_OBJECT_MAP)
        for (uint32_t i = 0; i < u.data.via.map.size; i++) {
            msgpack_object_kv *kv = &u.data.via.map.ptr[i];
            if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == strlen(key) &&
                !memcmp(kv->key.via.str.ptr, key, strlen(key)) && kv->val.type == MSGPACK_OBJECT_STR)
                out.assign(kv->val.via.str.ptr, kv->val.via.str.size);
        }
    msgpack_unpacked_destroy(&u);
    return out;
}

}  // namespace

// A thread blocked in tr_stream_recv reads its context's channel itself
// (docs/architecture.md, "Who reads a socket"). Frames it may not deliver —
// a Start for the actor, a frame that does not decode — must still be
// served by the runtime while it waits, and the Yield after them must still
// reach it.
TEST_CASE("ipc: a Start and a bad frame arriving while a thread waits in recv are still served", "[ipc]") {
    std::string tpt = TRANSPORTS;
    Root root(tpt);
    int lfd;
    std::string addr, path;
    if (tpt == "tcp") {
        lfd = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(bind(lfd, (sockaddr *)&sa, sizeof sa) == 0);
        socklen_t sl = sizeof sa;
        getsockname(lfd, (sockaddr *)&sa, &sl);
        addr = "/ip4/127.0.0.1/tcp/" + std::to_string(ntohs(sa.sin_port));
    } else {
        path = "/tmp/tr-test-leader-" + std::to_string(getpid()) + ".sock";
        unlink(path.c_str());
        lfd = socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un sa{};
        sa.sun_family = AF_UNIX;
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path.c_str());
        REQUIRE(bind(lfd, (sockaddr *)&sa, sizeof sa) == 0);
        addr = "/unix" + path;
    }
    REQUIRE(listen(lfd, 4) == 0);

    // the actor's side: open a context on the raw peer and block in recv
    std::atomic<int> open_rc{1}, recv_rc{1}, eoc_rc{1}, result_rc{1};
    std::atomic<long long> got{-1};
    std::thread caller([&] {
        tr_portal_t *p = nullptr;
        if (tr_portal_connect(root.rt, addr.c_str(), &p, 5000) != 0) return;
        tr_ctx_t *ctx = nullptr;
        tr_buf_t first{};
        tr_error_t *err = nullptr;
        open_rc = tr_portal_open_context(p, "rawmod", "streamer", NULL, 0, NULL, &ctx, &first, &err, 5000);
        tr_buf_release(&first);
        if (open_rc == 0) {
            tr_stream_t *s = nullptr;
            tr_ctx_open_stream(ctx, &s);
            tr_buf_t b{};
            recv_rc = tr_stream_recv(s, &b, &err, 10000);
            if (recv_rc == 0) {
                msgpack_unpacked u;
                msgpack_unpacked_init(&u);
                if (msgpack_unpack_next(&u, (const char *)b.data, b.len, NULL) == MSGPACK_UNPACK_SUCCESS)
                    got = (long long)u.data.via.i64;
                msgpack_unpacked_destroy(&u);
                tr_buf_release(&b);
            }
            eoc_rc = tr_stream_recv(s, &b, &err, 10000);
            tr_stream_release(s);
            tr_buf_t r{};
            result_rc = tr_ctx_wait_for_result(ctx, &r, &err, 10000);
            tr_buf_release(&r);
            tr_ctx_close(ctx, 0);
        }
        tr_error_free(err);
        tr_portal_release(p);
    });

    pollfd pl{lfd, POLLIN, 0};
    REQUIRE(poll(&pl, 1, 5000) == 1);
    RawPeer peer(accept(lfd, NULL, NULL));
    peer.handshake("raw-callee");
    std::string start = peer.read_frame();
    REQUIRE(start.find("Start") != std::string::npos);
    std::string cid = map_str(start, "cid");
    REQUIRE(cid.size() == 36);
    Pack ack;
    ack.map(3).str("msg_type").str("StartAck").str("cid").str(cid.c_str()).str("functype").str("context");
    peer.send_frame(ack.data(), ack.size());
    Pack started;
    started.map(3).str("msg_type").str("Started").str("cid").str(cid.c_str()).str("pld").nil();
    peer.send_frame(started.data(), started.size());
    usleep(100 * 1000);  // the caller is in recv now

    // a frame that does not decode: answered with MsgTypeError
    peer.send_frame("\xc1", 1);
    std::string reply = peer.read_frame();
    CHECK(reply.find("MsgTypeError") != std::string::npos);
    // a Start for the actor: answered (the module is not exposed)
    Pack s;
    start_nomod(s, "raw-callee");
    peer.send_frame(s.data(), s.size());
    reply = peer.read_frame();
    CHECK(reply.find("ModuleNotExposed") != std::string::npos);
    CHECK(recv_rc == 1);  // still waiting: neither frame was for it

    // then the Yield it waits for, the end of the stream and the result
    Pack y;
    y.map(3).str("msg_type").str("Yield").str("cid").str(cid.c_str()).str("pld").i(42);
    peer.send_frame(y.data(), y.size());
    Pack st;
    st.map(2).str("msg_type").str("Stop").str("cid").str(cid.c_str());
    peer.send_frame(st.data(), st.size());
    Pack ret;
    ret.map(3).str("msg_type").str("Return").str("cid").str(cid.c_str()).str("pld").i(7);
    peer.send_frame(ret.data(), ret.size());
    caller.join();
    CHECK(open_rc == 0);
    CHECK(recv_rc == 0);
    CHECK(got == 42);
    CHECK(eoc_rc == TR_EEOC);
    CHECK(result_rc == 0);
    CHECK(peer.closed_by_peer());  // the portal's connection goes with it
    close(lfd);
    if (!path.empty()) unlink(path.c_str());
    root.close_and_check();
}
