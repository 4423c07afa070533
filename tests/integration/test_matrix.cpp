// The cross-language matrix, C parent side: a C root with a child of each
// language (c, python, lua) over TCP and UDS does RPC, a context with a
// bidirectional stream, cancellation from each side, and an error in each
// direction. The children serve tests/matrix/matrixmod.{c,py,lua} (the same
// endpoints in every language); the Python and Lua parents are
// tests/python/test_matrix.py and tests/lua/test_matrix.lua.
//
// Built as its own binary (matrix_tests) with the environment the Python
// and Lua children need; $TR_MATRIX_LANGS lists the languages this build
// has (sanitizer builds have no bindings: "c" only), others are skipped
// with a "skipped:" line.
#include "harness.hpp"

using namespace trt;

#define TRANSPORTS GENERATE(as<std::string>{}, "tcp", "uds")
#define T 30000

namespace {

#ifndef TR_MATRIX_PYTHONPATH
#define TR_MATRIX_PYTHONPATH ""
#define TR_MATRIX_PYTHON ""
#define TR_MATRIX_LUA ""
#define TR_MATRIX_LUA_PATH ""
#endif

// the environment the children need (compiled in by CMake), applied before
// any test runs. It replaces what the caller had: an inherited PYTHONPATH or
// TRACTOR_* must not change an outcome (#18).
struct MatrixEnv {
    MatrixEnv() {
        const char *vars[][2] = {{"TRACTOR_MODULE_PATH", TR_MATRIX_MODULE_PATH},
                                 {"TR_MATRIX_LANGS", TR_MATRIX_LANGS},
                                 {"PYTHONPATH", TR_MATRIX_PYTHONPATH},
                                 {"TRACTOR_PYTHON", TR_MATRIX_PYTHON},
                                 {"PYTHONDONTWRITEBYTECODE", "1"},
                                 {"TRACTOR_LUA", TR_MATRIX_LUA},
                                 {"TRACTOR_LUA_PATH", TR_MATRIX_LUA_PATH}};
        for (auto &v : vars)
            if (*v[1]) setenv(v[0], v[1], 1);
    }
} matrix_env;

bool have_lang(const std::string &lang) {
    const char *l = getenv("TR_MATRIX_LANGS");
    std::string langs = l ? l : "c";
    return ("," + langs + ",").find("," + lang + ",") != std::string::npos;
}

bool skip_unless(const std::string &lang) {
    if (have_lang(lang)) return false;
    std::printf("skipped: no %s binding in this build (TR_MATRIX_LANGS=%s)\n", lang.c_str(),
                getenv("TR_MATRIX_LANGS") ? getenv("TR_MATRIX_LANGS") : "");
    return true;
}

// a received payload, unpacked
struct Obj {
    msgpack_unpacked u;
    explicit Obj(const tr_buf_t &b) {
        msgpack_unpacked_init(&u);
        if (msgpack_unpack_next(&u, (const char *)b.data, b.len, nullptr) != MSGPACK_UNPACK_SUCCESS)
            u.data.type = MSGPACK_OBJECT_NIL;
    }
    ~Obj() { msgpack_unpacked_destroy(&u); }
    const msgpack_object &o() const { return u.data; }
};

// equal values; maps compare whatever their key order (a Lua table has none)
bool obj_eq(const msgpack_object &a, const msgpack_object &b) {
    if (a.type != b.type) return false;
    if (a.type == MSGPACK_OBJECT_ARRAY) {
        if (a.via.array.size != b.via.array.size) return false;
        for (uint32_t i = 0; i < a.via.array.size; i++)
            if (!obj_eq(a.via.array.ptr[i], b.via.array.ptr[i])) return false;
        return true;
    }
    if (a.type == MSGPACK_OBJECT_MAP) {
        if (a.via.map.size != b.via.map.size) return false;
        for (uint32_t i = 0; i < a.via.map.size; i++) {
            bool found = false;
            for (uint32_t j = 0; j < b.via.map.size && !found; j++)
                found = obj_eq(a.via.map.ptr[i].key, b.via.map.ptr[j].key) &&
                        obj_eq(a.via.map.ptr[i].val, b.via.map.ptr[j].val);
            if (!found) return false;
        }
        return true;
    }
    return msgpack_object_equal(a, b);
}

std::string str_of(const msgpack_object &o) {
    return o.type == MSGPACK_OBJECT_STR ? std::string(o.via.str.ptr, o.via.str.size) : std::string("<not a str>");
}

std::string nz(const char *s) { return s ? s : "<null>"; }

struct Child {
    std::string lang, name, uuid, addr;
    tr_nursery_t *n = nullptr;
    tr_portal_t *p = nullptr;
    Child(Root &root, const std::string &lang_, const std::string &name_) : lang(lang_), name(name_) {
        REQUIRE(tr_nursery_open(root.rt, &n) == 0);
        tr_spawn_opts_t so;
        tr_spawn_opts_init(&so);
        so.lang = lang.c_str();
        so.enable_modules = "matrixmod";
        tr_error_t *err = nullptr;
        int rc = tr_nursery_start_actor(n, name.c_str(), &so, &p, &err, T);
        INFO("start_actor(" << lang << "): " << tr_err_name(rc) << " " << (err ? tr_error_str(err) : ""));
        REQUIRE(rc == 0);
        root.pids.push_back(tr_portal_pid(p));
        uuid = tr_portal_uuid(p);
        // whoami: the child says who it is, in its own language
        tr_buf_t r;
        REQUIRE(tr_portal_run(p, "matrixmod", "whoami", nullptr, 0, &r, nullptr, T) == 0);
        Obj w(r);
        REQUIRE(w.o().type == MSGPACK_OBJECT_ARRAY);
        REQUIRE(w.o().via.array.size == 4);
        CHECK(str_of(w.o().via.array.ptr[0]) == name);
        CHECK(str_of(w.o().via.array.ptr[1]) == uuid);
        CHECK(str_of(w.o().via.array.ptr[2]) == lang);
        addr = str_of(w.o().via.array.ptr[3]);
        tr_buf_release(&r);
    }
    void done() {
        CHECK(tr_portal_cancel_actor(p, 5000) == 0);
        tr_portal_release(p);
        CHECK(tr_nursery_close(n, 0, nullptr) == 0);
    }
};

// the traceback text each language produces
void check_traceback(const std::string &lang, const std::string &tb, const std::string &msg) {
    INFO("traceback from " << lang << ":\n" << tb);
    if (lang == "c") {
        CHECK(tb.find("matrixmod.c") != std::string::npos);
    } else if (lang == "python") {
        CHECK(tb.find("Traceback (most recent call last)") != std::string::npos);
        CHECK(tb.find("matrixmod.py") != std::string::npos);
        // the whole text arrives: it ends with the exception line
        CHECK(tb.find("ValueError: " + msg) != std::string::npos);
    } else {
        CHECK(tb.find("stack traceback") != std::string::npos);
        CHECK(tb.find("matrixmod.lua") != std::string::npos);
    }
}

// The root serves matrixmod too (the children's call_back reaches it).
void serve_matrixmod(Root &root) {
    char err[256] = "";
    int rc = tr_load_c_module(root.rt, "matrixmod", err, sizeof err);
    INFO(err);
    REQUIRE(rc == 0);
}

void run_pair(const std::string &lang, const std::string &tpt) {
    if (skip_unless(lang)) return;
    Root root(tpt, "c-root");
    serve_matrixmod(root);
    Child ch(root, lang, lang + "-child");

    {  // RPC
        Pack kw;
        kw.map(2).str("x").i(40).str("y").i(2);
        tr_buf_t r;
        REQUIRE(tr_portal_run(ch.p, "matrixmod", "add", kw.data(), kw.size(), &r, nullptr, T) == 0);
        CHECK(as_int(r) == 42);
        tr_buf_release(&r);
    }
    {  // a context with a bidirectional stream: values of every portable type
        Pack kw;
        kw.map(1).str("first").str("hello " + lang);
        tr_ctx_t *ctx;
        tr_buf_t first;
        tr_error_t *err = nullptr;
        REQUIRE(tr_portal_open_context(ch.p, "matrixmod", "echo", kw.data(), kw.size(), nullptr, &ctx, &first, &err,
                                       T) == 0);
        {
            Obj f(first);
            CHECK(str_of(f.o()) == "hello " + lang);
        }
        tr_buf_release(&first);
        tr_stream_t *s;
        REQUIRE(tr_ctx_open_stream(ctx, &s) == 0);
        std::vector<Pack> values(9);
        values[0].i(7);
        values[1].i(-123456789012LL);
        msgpack_pack_double(&values[2].pk, 2.5);
        values[3].str("héllo wörld");
        msgpack_pack_bin_with_body(&values[4].pk, "\xff\x00\x01", 3);
        msgpack_pack_array(&values[5].pk, 3);
        values[5].i(1).str("two");
        msgpack_pack_true(&values[5].pk);
        values[6].map(2).str("k").str("v").str("n");
        msgpack_pack_array(&values[6].pk, 1);
        values[6].map(0);
        values[7].map(0);
        values[8].i(int64_t(1) << 62);
        for (int round = 0; round < 3; round++)
            for (auto &v : values) {
                REQUIRE(tr_stream_send(s, v.data(), v.size(), nullptr) == 0);
                tr_buf_t b;
                REQUIRE(tr_stream_recv(s, &b, nullptr, T) == 0);
                Obj got(b);
                tr_buf_t want_buf = {v.data(), v.size(), nullptr};
                Obj want(want_buf);
                CHECK(obj_eq(got.o(), want.o()));
                tr_buf_release(&b);
            }
        REQUIRE(tr_stream_close(s) == 0);
        tr_buf_t res;
        REQUIRE(tr_ctx_wait_for_result(ctx, &res, &err, T) == 0);
        CHECK(as_int(res) == 27);
        tr_buf_release(&res);
        tr_stream_release(s);
        CHECK(tr_ctx_close(ctx, 0) == 0);
    }
    {  // the caller cancels: absorbed, we are the canceller
        tr_ctx_t *ctx;
        REQUIRE(tr_portal_open_context(ch.p, "matrixmod", "wait_in_stream", nullptr, 0, nullptr, &ctx, nullptr,
                                       nullptr, T) == 0);
        tr_stream_t *s;
        REQUIRE(tr_ctx_open_stream(ctx, &s) == 0);
        Pack v;
        v.str("one message before the cancel");
        REQUIRE(tr_stream_send(s, v.data(), v.size(), nullptr) == 0);
        REQUIRE(tr_ctx_cancel(ctx, "the parent says stop") == 0);
        tr_buf_t res;
        tr_error_t *err = nullptr;
        CHECK(tr_ctx_wait_for_result(ctx, &res, &err, T) == TR_ECTXCANCELLED);
        REQUIRE(err);
        CHECK(nz(tr_error_type(err)) == "ContextCancelled");
        CHECK(nz(tr_error_canceller_uuid(err)) == tr_runtime_uuid(root.rt));
        CHECK(nz(tr_error_canceller_name(err)) == "c-root");
        CHECK(nz(tr_error_src_name(err)) == ch.name);
        tr_error_free(err);
        CHECK(tr_ctx_cancel_acked(ctx));
        tr_stream_release(s);
        CHECK(tr_ctx_close(ctx, 0) == 0);  // our own cancel: not an error
    }
    {  // the callee cancels itself: raised, the callee is the canceller
        tr_ctx_t *ctx;
        tr_error_t *err = nullptr;
        REQUIRE(tr_portal_open_context(ch.p, "matrixmod", "self_cancel", nullptr, 0, nullptr, &ctx, nullptr, &err,
                                       T) == 0);
        tr_buf_t res;
        CHECK(tr_ctx_wait_for_result(ctx, &res, &err, T) == TR_ECTXCANCELLED);
        REQUIRE(err);
        CHECK(nz(tr_error_type(err)) == "ContextCancelled");
        CHECK(nz(tr_error_canceller_uuid(err)) == ch.uuid);
        CHECK(nz(tr_error_canceller_name(err)) == ch.name);
        CHECK(nz(tr_error_message(err)).find("the callee gave up") != std::string::npos);
        tr_error_free(err);
        CHECK_FALSE(tr_ctx_cancel_acked(ctx));
        CHECK(tr_ctx_close(ctx, 0) == TR_ECTXCANCELLED);  // someone else's cancel: reported
    }
    {  // an error child -> parent: boxed with its type and the child's traceback, whole
        std::string msg = "raised by the " + lang + " child " + std::string(700, 'x');
        Pack kw;
        kw.map(2).str("msg").str(msg).str("depth").i(12);
        tr_buf_t r;
        tr_error_t *err = nullptr;
        REQUIRE(tr_portal_run(ch.p, "matrixmod", "fail", kw.data(), kw.size(), &r, &err, T) == TR_EREMOTE);
        REQUIRE(err);
        CHECK(nz(tr_error_type(err)) == "ValueError");
        CHECK(nz(tr_error_src_type(err)) == "ValueError");
        CHECK(nz(tr_error_message(err)) == msg);
        CHECK(nz(tr_error_src_name(err)) == ch.name);
        CHECK(nz(tr_error_src_uuid(err)) == ch.uuid);
        REQUIRE(tr_error_relay_len(err) == 1);
        CHECK(nz(tr_error_relay_name(err, 0)) == ch.name);
        check_traceback(lang, nz(tr_error_traceback(err)), msg);
        tr_error_free(err);
    }
    {  // an error parent -> child: the child calls us back, our (C) function
       // fails, the child gets it boxed and relays it: it comes back to us
       // with us as the source and the child on the relay path
        char addr[512];
        tr_runtime_addr(root.rt, addr, sizeof addr);
        Pack kw;
        kw.map(4).str("addr").str(addr).str("ns").str("matrixmod").str("func").str("fail").str("kwargs");
        kw.map(1).str("msg").str("raised by the C parent");
        tr_buf_t r;
        tr_error_t *err = nullptr;
        REQUIRE(tr_portal_run(ch.p, "matrixmod", "call_back", kw.data(), kw.size(), &r, &err, T) == TR_EREMOTE);
        REQUIRE(err);
        INFO(tr_error_str(err));
        CHECK(nz(tr_error_type(err)) == "RemoteActorError");
        CHECK(nz(tr_error_src_type(err)) == "ValueError");
        CHECK(nz(tr_error_message(err)) == "raised by the C parent");
        CHECK(nz(tr_error_src_uuid(err)) == tr_runtime_uuid(root.rt));
        REQUIRE(tr_error_relay_len(err) == 2);
        CHECK(nz(tr_error_relay_uuid(err, 0)) == tr_runtime_uuid(root.rt));
        CHECK(nz(tr_error_relay_uuid(err, 1)) == ch.uuid);
        check_traceback("c", nz(tr_error_traceback(err)), "");
        tr_error_free(err);
        // and a call back that works
        kw.clear();
        kw.map(4).str("addr").str(addr).str("ns").str("matrixmod").str("func").str("add").str("kwargs");
        kw.map(2).str("x").i(1).str("y").i(2);
        REQUIRE(tr_portal_run(ch.p, "matrixmod", "call_back", kw.data(), kw.size(), &r, &err, T) == 0);
        CHECK(as_int(r) == 3);
        tr_buf_release(&r);
    }
    ch.done();
    root.close_and_check();
}

}  // namespace

TEST_CASE("C parent, C child: rpc, stream, cancel both sides, errors both ways", "[matrix][c-child]") {
    std::string tpt = TRANSPORTS;
    run_pair("c", tpt);
}

TEST_CASE("C parent, Python child: rpc, stream, cancel both sides, errors both ways", "[matrix][python-child]") {
    std::string tpt = TRANSPORTS;
    run_pair("python", tpt);
}

TEST_CASE("C parent, Lua child: rpc, stream, cancel both sides, errors both ways", "[matrix][lua-child]") {
    std::string tpt = TRANSPORTS;
    run_pair("lua", tpt);
}

TEST_CASE("C root <- Python middle <- Lua grandchild: the Lua error arrives boxed, relayed, with its traceback",
          "[matrix][lua-under-python]") {
    std::string tpt = TRANSPORTS;
    if (skip_unless("python") || skip_unless("lua")) return;
    Root root(tpt, "c-root");
    Child mid(root, "python", "py-middle");
    Pack kw;
    kw.map(4).str("lang").str("lua").str("ns").str("matrixmod").str("func").str("fail").str("kwargs");
    kw.map(2).str("msg").str("a Lua error two levels down").str("plain");
    msgpack_pack_true(&kw.pk);
    tr_buf_t r;
    tr_error_t *err = nullptr;
    REQUIRE(tr_portal_run(mid.p, "matrixmod", "spawn_and_call", kw.data(), kw.size(), &r, &err, T) == TR_EREMOTE);
    REQUIRE(err);
    INFO(tr_error_str(err) << "\n" << nz(tr_error_traceback(err)));
    CHECK(nz(tr_error_type(err)) == "RemoteActorError");  // boxed again by the relay
    CHECK(nz(tr_error_src_type(err)) == "LuaError");      // what it was where raised
    CHECK(nz(tr_error_src_name(err)) == "py-middle-lua");
    CHECK(nz(tr_error_message(err)).find("a Lua error two levels down") != std::string::npos);
    REQUIRE(tr_error_relay_len(err) == 2);
    CHECK(nz(tr_error_relay_name(err, 0)) == "py-middle-lua");
    CHECK(nz(tr_error_relay_name(err, 1)) == "py-middle");
    CHECK(nz(tr_error_relay_uuid(err, 1)) == mid.uuid);
    check_traceback("lua", nz(tr_error_traceback(err)), "");
    tr_error_free(err);
    mid.done();
    root.close_and_check();
}

TEST_CASE("ContextCancelled names whoever cancelled, in any language", "[matrix][cancellers]") {
    std::string tpt = TRANSPORTS;
    // (canceller, target): each language cancels another's actor while we
    // hold a context on it; we see the canceller's uid, not ours
    const char *pairs[][2] = {{"python", "lua"}, {"lua", "c"}, {"c", "python"}};
    Root root(tpt, "c-root");
    for (auto &pr : pairs) {
        if (!have_lang(pr[0]) || !have_lang(pr[1])) {
            std::printf("(%s cancelling %s: not in this build)\n", pr[0], pr[1]);
            continue;
        }
        INFO(pr[0] << " cancels " << pr[1]);
        Child target(root, pr[1], std::string(pr[1]) + "-target");
        Child canceller(root, pr[0], std::string(pr[0]) + "-canceller");
        tr_ctx_t *ctx;
        REQUIRE(tr_portal_open_context(target.p, "matrixmod", "wait_in_stream", nullptr, 0, nullptr, &ctx, nullptr,
                                       nullptr, T) == 0);
        Pack kw;
        kw.map(1).str("addr").str(target.addr);
        tr_buf_t r;
        tr_error_t *err = nullptr;
        REQUIRE(tr_portal_run(canceller.p, "matrixmod", "cancel_actor_at", kw.data(), kw.size(), &r, &err, T) == 0);
        CHECK(r.len == 1);
        CHECK(((const unsigned char *)r.data)[0] == 0xc3);  // true: acknowledged
        tr_buf_release(&r);
        CHECK(tr_ctx_wait_for_result(ctx, &r, &err, T) == TR_ECTXCANCELLED);
        REQUIRE(err);
        CHECK(nz(tr_error_type(err)) == "ContextCancelled");
        CHECK(nz(tr_error_canceller_uuid(err)) == canceller.uuid);
        CHECK(nz(tr_error_canceller_name(err)) == canceller.name);
        CHECK(nz(tr_error_src_name(err)) == target.name);
        tr_error_free(err);
        CHECK(tr_ctx_close(ctx, 0) == TR_ECTXCANCELLED);  // not our cancel: reported
        // the target has exited (cancelled); its nursery closes cleanly
        tr_portal_release(target.p);
        CHECK(tr_nursery_close(target.n, 0, nullptr) == 0);
        canceller.done();
    }
    root.close_and_check();
}

namespace {
// An interpreter with Python tractor (tests/matrix/find_tractor_python.sh),
// or why there is none. Probed once.
bool tractor_python(std::string &py, std::string &why) {
    static int state = -1;
    static std::string s_py, s_why;
    if (state < 0) {
        std::string cmd = std::string("sh ") + TR_MATRIX_DIR + "/find_tractor_python.sh";
        FILE *f = popen(cmd.c_str(), "r");
        std::string out;
        char buf[512];
        while (f && fgets(buf, sizeof buf, f)) out += buf;
        int rc = f ? pclose(f) : -1;
        while (!out.empty() && out.back() == '\n') out.pop_back();
        state = rc == 0 && !out.empty();
        (state ? s_py : s_why) = out.empty() ? "find_tractor_python.sh failed" : out;
    }
    py = s_py;
    why = s_why;
    return state == 1;
}
}  // namespace

TEST_CASE("C parent, Python tractor child: rpc, stream, cancel both sides, an error", "[matrix][tractor-child]") {
    std::string tpt = TRANSPORTS;
    std::string py, why;
    if (!tractor_python(py, why)) {
        std::printf("skipped: %s\n", why.c_str());
        return;
    }
    Root root(tpt, "c-root");
    tr_nursery_t *n;
    REQUIRE(tr_nursery_open(root.rt, &n) == 0);
    tr_spawn_opts_t so;
    tr_spawn_opts_init(&so);
    so.lang = "tractor";
    so.enable_modules = "tractor_side";
    std::string command = py + " -m tractor._child";
    so.command = command.c_str();
    tr_portal_t *p;
    tr_error_t *err = nullptr;
    int rc = tr_nursery_start_actor(n, "tractor-child", &so, &p, &err, T);
    INFO("start_actor(tractor): " << tr_err_name(rc) << " " << (err ? tr_error_str(err) : ""));
    REQUIRE(rc == 0);
    root.pids.push_back(tr_portal_pid(p));
    std::string uuid = tr_portal_uuid(p);
    {
        Pack kw;
        kw.map(2).str("x").i(40).str("y").i(2);
        tr_buf_t r;
        REQUIRE(tr_portal_run(p, "tractor_side", "add", kw.data(), kw.size(), &r, nullptr, T) == 0);
        CHECK(as_int(r) == 42);
        tr_buf_release(&r);
        kw.clear();
        kw.map(1).str("msg").str("raised by tractor");
        REQUIRE(tr_portal_run(p, "tractor_side", "fail", kw.data(), kw.size(), &r, &err, T) == TR_EREMOTE);
        CHECK(nz(tr_error_type(err)) == "ValueError");
        CHECK(nz(tr_error_src_uuid(err)) == uuid);
        check_traceback("python", nz(tr_error_traceback(err)), "raised by tractor");
        tr_error_free(err);
    }
    {
        tr_ctx_t *ctx;
        REQUIRE(tr_portal_open_context(p, "tractor_side", "echo", nullptr, 0, nullptr, &ctx, nullptr, nullptr, T) == 0);
        tr_stream_t *s;
        REQUIRE(tr_ctx_open_stream(ctx, &s) == 0);
        for (int i = 0; i < 10; i++) {
            Pack v;
            v.i(i);
            REQUIRE(tr_stream_send(s, v.data(), v.size(), nullptr) == 0);
            tr_buf_t b;
            REQUIRE(tr_stream_recv(s, &b, nullptr, T) == 0);
            CHECK(as_int(b) == i);
            tr_buf_release(&b);
        }
        REQUIRE(tr_stream_close(s) == 0);
        tr_buf_t res;
        REQUIRE(tr_ctx_wait_for_result(ctx, &res, nullptr, T) == 0);
        CHECK(as_int(res) == 10);
        tr_buf_release(&res);
        tr_stream_release(s);
        CHECK(tr_ctx_close(ctx, 0) == 0);
    }
    {
        tr_ctx_t *ctx;
        REQUIRE(tr_portal_open_context(p, "tractor_side", "wait_in_stream", nullptr, 0, nullptr, &ctx, nullptr,
                                       nullptr, T) == 0);
        REQUIRE(tr_ctx_cancel(ctx, nullptr) == 0);
        tr_buf_t res;
        CHECK(tr_ctx_wait_for_result(ctx, &res, &err, T) == TR_ECTXCANCELLED);
        CHECK(nz(err ? tr_error_canceller_uuid(err) : nullptr) == tr_runtime_uuid(root.rt));
        tr_error_free(err);
        CHECK(tr_ctx_close(ctx, 0) == 0);
        REQUIRE(tr_portal_open_context(p, "tractor_side", "self_cancel", nullptr, 0, nullptr, &ctx, nullptr, nullptr,
                                       T) == 0);
        CHECK(tr_ctx_wait_for_result(ctx, &res, &err, T) == TR_ECTXCANCELLED);
        CHECK(nz(err ? tr_error_canceller_uuid(err) : nullptr) == uuid);
        tr_error_free(err);
        tr_ctx_close(ctx, 0);
    }
    CHECK(tr_portal_cancel_actor(p, 5000) == 0);
    tr_portal_release(p);
    CHECK(tr_nursery_close(n, 0, nullptr) == 0);
    root.close_and_check();
}
