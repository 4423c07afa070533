// Golden frames: one (or more) per message type, written out byte by byte
// by hand from the encoding rules (tractor-wire-spec.md §1.2, §2): a
// fixmap, "msg_type" first, then every field in declaration order with
// defaults included, smallest int/str encodings, floats as float64.
// The encoder must produce exactly these bytes; the decoder must read them
// back to the same fields.
#include "test_msg_util.hpp"

using namespace trt;

namespace {

// The encoder output for one call, as a string of bytes.
template <class F> std::string enc(F f) {
    wbuf w;
    f(&w.b);
    REQUIRE(w.b.oom == 0);
    return w.bytes();
}

// The frame's body (after the 4-byte prefix), checking the prefix first.
std::string body_of(const std::string &frame) {
    REQUIRE(frame.size() >= 4);
    uint32_t n = uint8_t(frame[0]) | uint8_t(frame[1]) << 8 | uint8_t(frame[2]) << 16 |
                 uint32_t(uint8_t(frame[3])) << 24;
    REQUIRE(n == frame.size() - 4);
    return frame.substr(4);
}

// The decoded message; its slices point into the returned object's body.
decoded decode_ok(const std::string &frame, tr__msg_type_t type) {
    decoded d = decode(body_of(frame));
    INFO(d.err);
    REQUIRE(d.rc == 0);
    REQUIRE(d.m.type == type);
    // The whole-frame decoder agrees.
    tr__msg_t m2;
    char err[128];
    REQUIRE(tr__msg_decode_frame(frame.data(), frame.size(), &m2, err, sizeof err) == 0);
    REQUIRE(m2.type == type);
    return d;
}

const tr__uid_t ROOT{ {"root", 4}, {"u1", 2} };
const tr__uid_t CHILD{ {"child", 5}, {"u2", 2} };

} // namespace

// ---- Aid ----------------------------------------------------------------

// Exactly the example frame of tractor-wire-spec.md §1.2.
static const std::string AID_SPEC_EXAMPLE = TRT_BYTES(
    "\x62\x00\x00\x00"                 // u32 LE length = 98
    "\x86"                             // fixmap, 6 entries
    "\xa8" "msg_type" "\xa3" "Aid"
    "\xa4" "name" "\xa4" "root"
    "\xa4" "uuid" "\xd9\x24" "7f3c2a1e-0000-4000-8000-000000000001"
    "\xa3" "pid" "\xcd\x10\x92"        // uint16 4242
    "\xac" "is_registrar" "\xc3"
    "\xa8" "is_probe" "\xc2");

TEST_CASE("golden Aid: the spec's example frame (registrar, pid 4242)", "[msg][golden]") {
    REQUIRE(AID_SPEC_EXAMPLE.size() == 102);
    std::string got = enc([](tr__wbuf_t *b) {
        tr__enc_aid(b, S("root"), S("7f3c2a1e-0000-4000-8000-000000000001"), 4242, 1, 0);
    });
    CHECK(tohex(got) == tohex(AID_SPEC_EXAMPLE));

    decoded dd = decode_ok(AID_SPEC_EXAMPLE, TR__MSG_AID);
    const tr__msg_t &m = dd.m;
    CHECK(m.has_cid == 0);
    CHECK(str(m.u.aid.name) == "root");
    CHECK(str(m.u.aid.uuid) == "7f3c2a1e-0000-4000-8000-000000000001");
    CHECK(m.u.aid.has_pid == 1);
    CHECK(m.u.aid.pid == 4242);
    CHECK(m.u.aid.is_registrar == 1);
    CHECK(m.u.aid.is_probe == 0);
}

static const std::string AID_MINIMAL = TRT_BYTES(
    "\x3f\x00\x00\x00"                 // length = 63
    "\x86"
    "\xa8" "msg_type" "\xa3" "Aid"
    "\xa4" "name" "\xa6" "client"
    "\xa4" "uuid" "\xa2" "u9"
    "\xa3" "pid" "\xc0"                // pid: None
    "\xac" "is_registrar" "\xc0"       // is_registrar: None
    "\xa8" "is_probe" "\xc3");         // a registry probe

TEST_CASE("golden Aid: nil pid and is_registrar, probe set", "[msg][golden]") {
    std::string got = enc([](tr__wbuf_t *b) {
        tr__enc_aid(b, S("client"), S("u9"), -1, TR__NIL, 1);
    });
    CHECK(tohex(got) == tohex(AID_MINIMAL));
    decoded dd = decode_ok(AID_MINIMAL, TR__MSG_AID);
    const tr__msg_t &m = dd.m;
    CHECK(str(m.u.aid.name) == "client");
    CHECK(m.u.aid.has_pid == 0);
    CHECK(m.u.aid.is_registrar == TR__NIL);
    CHECK(m.u.aid.is_probe == 1);
}

// ---- SpawnSpec ------------------------------------------------------------

static const std::string SPAWNSPEC = TRT_BYTES(
    "\x7f\x00\x00\x00"                 // length = 127
    "\x86"
    "\xa8" "msg_type" "\xa9" "SpawnSpec"
    "\xb1" "_parent_main_data" "\x80"                       // {}
    "\xad" "_runtime_vars" "\x81" "\xa8" "_is_root" "\xc2"  // {"_is_root": false}
    "\xae" "enable_modules" "\x81" "\xa3" "mod" "\xa5" "/m.py"
    "\xa9" "reg_addrs" "\x91" "\x92" "\xa9" "127.0.0.1" "\xcd\x06\x50"  // [["127.0.0.1", 1616]]
    "\xaa" "bind_addrs" "\xc0");                            // None

TEST_CASE("golden SpawnSpec: raw fields in order, nil bind_addrs", "[msg][golden]") {
    std::string rv = TRT_BYTES("\x81" "\xa8" "_is_root" "\xc2");
    std::string mods = TRT_BYTES("\x81" "\xa3" "mod" "\xa5" "/m.py");
    std::string regs = TRT_BYTES("\x91\x92" "\xa9" "127.0.0.1" "\xcd\x06\x50");
    std::string got = enc([&](tr__wbuf_t *b) {
        tr__enc_spawnspec(b, S("\x80"), S(rv), S(mods), S(regs), S("\xc0"));
    });
    CHECK(tohex(got) == tohex(SPAWNSPEC));
    // n == 0 arguments give the same empty values ({} and nil).
    std::string got2 = enc([&](tr__wbuf_t *b) {
        tr__enc_spawnspec(b, tr__str_t{nullptr, 0}, S(rv), S(mods), S(regs),
                          tr__str_t{nullptr, 0});
    });
    CHECK(tohex(got2) == tohex(SPAWNSPEC));

    decoded dd = decode_ok(SPAWNSPEC, TR__MSG_SPAWNSPEC);
    const tr__msg_t &m = dd.m;
    CHECK(m.has_cid == 0);
    CHECK(str(m.u.spawnspec.parent_main_data) == "\x80");
    CHECK(str(m.u.spawnspec.runtime_vars) == rv);
    CHECK(str(m.u.spawnspec.enable_modules) == mods);
    CHECK(str(m.u.spawnspec.reg_addrs) == regs);
    CHECK(str(m.u.spawnspec.bind_addrs) == "\xc0");
}

// ---- Start ------------------------------------------------------------------

static const std::string START = TRT_BYTES(
    "\x61\x00\x00\x00"                 // length = 97
    "\x87"                             // fixmap, 7 entries
    "\xa8" "msg_type" "\xa5" "Start"
    "\xa3" "cid" "\xa2" "c2"
    "\xa2" "ns" "\xa4" "self"
    "\xa4" "func" "\xac" "_cancel_task"
    "\xa6" "kwargs" "\x81" "\xa3" "cid" "\xa2" "c0"  // {"cid": "c0"}
    "\xa3" "uid" "\x92" "\xa4" "root" "\xa2" "u1"    // ["root", "u1"]
    "\xa8" "pld_spec" "\xaa" "typing.Any");          // the default, still sent

TEST_CASE("golden Start: self._cancel_task with default pld_spec", "[msg][golden]") {
    std::string kwargs = TRT_BYTES("\x81" "\xa3" "cid" "\xa2" "c0");
    std::string got = enc([&](tr__wbuf_t *b) {
        tr__enc_start(b, S("c2"), S("self"), S("_cancel_task"), S(kwargs), ROOT,
                      tr__str_t{nullptr, 0});
    });
    CHECK(tohex(got) == tohex(START));

    decoded dd = decode_ok(START, TR__MSG_START);
    const tr__msg_t &m = dd.m;
    CHECK(m.has_cid == 1);
    CHECK(str(m.cid) == "c2");
    CHECK(str(m.u.start.ns) == "self");
    CHECK(str(m.u.start.func) == "_cancel_task");
    CHECK(str(m.u.start.kwargs) == kwargs);
    tr__str_t inner;
    REQUIRE(tr__mp_map_get(m.u.start.kwargs, "cid", &inner) == 0);
    CHECK(str(inner) == "\xa2" "c0");
    CHECK(str(m.u.start.uid.name) == "root");
    CHECK(str(m.u.start.uid.uuid) == "u1");
    CHECK(str(m.u.start.pld_spec) == "typing.Any");
}

// ---- StartAck -----------------------------------------------------------------

static const std::string STARTACK = TRT_BYTES(
    "\x2d\x00\x00\x00"                 // length = 45
    "\x83"
    "\xa8" "msg_type" "\xa8" "StartAck"
    "\xa3" "cid" "\xa2" "c2"
    "\xa8" "functype" "\xa9" "asyncfunc");

TEST_CASE("golden StartAck: asyncfunc", "[msg][golden]") {
    std::string got = enc([](tr__wbuf_t *b) { tr__enc_startack(b, S("c2"), S("asyncfunc")); });
    CHECK(tohex(got) == tohex(STARTACK));
    decoded dd = decode_ok(STARTACK, TR__MSG_STARTACK);
    const tr__msg_t &m = dd.m;
    CHECK(str(m.cid) == "c2");
    CHECK(str(m.u.functype) == "asyncfunc");
}

// ---- Started / Yield / Return ---------------------------------------------------

static const std::string STARTED = TRT_BYTES(
    "\x21\x00\x00\x00"                 // length = 33
    "\x83"
    "\xa8" "msg_type" "\xa7" "Started"
    "\xa3" "cid" "\xa2" "c3"
    "\xa3" "pld" "\x81" "\xa1" "a" "\x01");  // {"a": 1}

TEST_CASE("golden Started: map payload", "[msg][golden]") {
    std::string pld = TRT_BYTES("\x81" "\xa1" "a" "\x01");
    std::string got = enc([&](tr__wbuf_t *b) {
        tr__enc_payload(b, TR__MSG_STARTED, S("c3"), S(pld));
    });
    CHECK(tohex(got) == tohex(STARTED));
    decoded dd = decode_ok(STARTED, TR__MSG_STARTED);
    const tr__msg_t &m = dd.m;
    CHECK(str(m.cid) == "c3");
    CHECK(str(m.u.pld) == pld);
}

static const std::string YIELD = TRT_BYTES(
    "\x2e\x00\x00\x00"                 // length = 46
    "\x83"
    "\xa8" "msg_type" "\xa5" "Yield"
    "\xa3" "cid" "\xa2" "c3"
    "\xa3" "pld"
    "\x96"                             // [1, -33, 1.5, "x", b"\x01", None]
    "\x01"                             //   positive fixint
    "\xd0\xdf"                         //   int8 -33
    "\xcb\x3f\xf8\x00\x00\x00\x00\x00\x00"  // float64 1.5
    "\xa1" "x"
    "\xc4\x01\x01"                     //   bin8
    "\xc0");

TEST_CASE("golden Yield: array payload of mixed scalars", "[msg][golden]") {
    // Build the payload with the msgpack writer too: it must pick the
    // same smallest encodings.
    wbuf p;
    tr__mp_array(&p.b, 6);
    tr__mp_int(&p.b, 1);
    tr__mp_int(&p.b, -33);
    tr__mp_float(&p.b, 1.5);
    tr__mp_cstr(&p.b, "x");
    tr__mp_bin(&p.b, "\x01", 1);
    tr__mp_nil(&p.b);
    std::string pld = p.bytes();
    std::string got = enc([&](tr__wbuf_t *b) {
        tr__enc_payload(b, TR__MSG_YIELD, S("c3"), S(pld));
    });
    CHECK(tohex(got) == tohex(YIELD));
    decoded dd = decode_ok(YIELD, TR__MSG_YIELD);
    const tr__msg_t &m = dd.m;
    CHECK(str(m.cid) == "c3");
    CHECK(str(m.u.pld) == pld);
    CHECK(mp_to_json(m.u.pld) == json::parse(R"([1, -33, 1.5, "x", {"$bin": "01"}, null])"));
}

static const std::string RETURN = TRT_BYTES(
    "\x1f\x00\x00\x00"                 // length = 31
    "\x83"
    "\xa8" "msg_type" "\xa6" "Return"
    "\xa3" "cid" "\xa2" "c4"
    "\xa3" "pld" "\xcd\x10\x92");      // 4242

TEST_CASE("golden Return: int payload, and an empty pld means nil", "[msg][golden]") {
    wbuf p;
    tr__mp_int(&p.b, 4242);
    std::string got = enc([&](tr__wbuf_t *b) {
        tr__enc_payload(b, TR__MSG_RETURN, S("c4"), S(p.bytes()));
    });
    CHECK(tohex(got) == tohex(RETURN));
    decoded dd = decode_ok(RETURN, TR__MSG_RETURN);
    const tr__msg_t &m = dd.m;
    CHECK(str(m.cid) == "c4");
    CHECK(str(m.u.pld) == "\xcd\x10\x92");

    std::string nil_ret = enc([](tr__wbuf_t *b) {
        tr__enc_payload(b, TR__MSG_RETURN, S("c4"), tr__str_t{nullptr, 0});
    });
    CHECK(tohex(nil_ret) == tohex(TRT_BYTES("\x1d\x00\x00\x00" "\x83" "\xa8" "msg_type" "\xa6"
                                            "Return" "\xa3" "cid" "\xa2" "c4" "\xa3" "pld" "\xc0")));
}

// ---- Stop -----------------------------------------------------------------------

static const std::string STOP = TRT_BYTES(
    "\x16\x00\x00\x00"                 // length = 22
    "\x82"
    "\xa8" "msg_type" "\xa4" "Stop"
    "\xa3" "cid" "\xa2" "c3");

TEST_CASE("golden Stop", "[msg][golden]") {
    std::string got = enc([](tr__wbuf_t *b) { tr__enc_stop(b, S("c3")); });
    CHECK(tohex(got) == tohex(STOP));
    decoded dd = decode_ok(STOP, TR__MSG_STOP);
    const tr__msg_t &m = dd.m;
    CHECK(m.has_cid == 1);
    CHECK(str(m.cid) == "c3");
}

// ---- CancelAck --------------------------------------------------------------------

static const std::string CANCELACK = TRT_BYTES(
    "\x20\x00\x00\x00"                 // length = 32
    "\x83"
    "\xa8" "msg_type" "\xa9" "CancelAck"
    "\xa3" "cid" "\xa2" "c2"
    "\xa3" "pld" "\xc3");              // true

TEST_CASE("golden CancelAck: true", "[msg][golden]") {
    std::string got = enc([](tr__wbuf_t *b) { tr__enc_cancelack(b, S("c2"), 1); });
    CHECK(tohex(got) == tohex(CANCELACK));
    decoded dd = decode_ok(CANCELACK, TR__MSG_CANCELACK);
    const tr__msg_t &m = dd.m;
    CHECK(str(m.cid) == "c2");
    CHECK(m.u.cancelack == 1);
}

// ---- Error ------------------------------------------------------------------------

static const std::string ERROR_CTXC = TRT_BYTES(
    "\xce\x00\x00\x00"                 // length = 206
    "\x8c"                             // fixmap, 12 entries
    "\xa8" "msg_type" "\xa5" "Error"
    "\xa7" "src_uid" "\x92" "\xa5" "child" "\xa2" "u2"
    "\xac" "src_type_str" "\xb0" "ContextCancelled"
    "\xae" "boxed_type_str" "\xb0" "ContextCancelled"
    "\xaa" "relay_path" "\x91" "\x92" "\xa5" "child" "\xa2" "u2"
    "\xa7" "message" "\xa9" "cancelled"
    "\xa6" "tb_str" "\xa0"             // '' (the default)
    "\xa9" "canceller" "\x92" "\xa4" "root" "\xa2" "u1"
    "\xa6" "sender" "\xc0"
    "\xa3" "cid" "\xa2" "c3"
    "\xa8" "_bad_msg" "\xc0"
    "\xb0" "_bad_msg_as_dict" "\xc0");

TEST_CASE("golden Error: ContextCancelled with canceller and cid", "[msg][golden]") {
    tr__str_t cid = S("c3");
    tr__error_fields_t f{};
    f.src_uid = CHILD;
    f.src_type_str = S("ContextCancelled");
    f.boxed_type_str = S("ContextCancelled");
    f.relay = &CHILD;
    f.n_relay = 1;
    f.has_message = 1;
    f.message = S("cancelled");
    f.canceller = &ROOT;
    f.cid = &cid;
    std::string got = enc([&](tr__wbuf_t *b) { tr__enc_error(b, &f); });
    CHECK(tohex(got) == tohex(ERROR_CTXC));

    decoded dd = decode_ok(ERROR_CTXC, TR__MSG_ERROR);
    const tr__msg_t &m = dd.m;
    const tr__msg_error_t &e = m.u.error;
    CHECK(str(e.src_uid.name) == "child");
    CHECK(str(e.src_uid.uuid) == "u2");
    CHECK(str(e.src_type_str) == "ContextCancelled");
    CHECK(str(e.boxed_type_str) == "ContextCancelled");
    tr__uid_t relay[2];
    size_t n = 0;
    REQUIRE(tr__msg_read_uids(e.relay_path, relay, 2, &n) == 0);
    REQUIRE(n == 1);
    CHECK(str(relay[0].name) == "child");
    CHECK(e.has_message == 1);
    CHECK(str(e.message) == "cancelled");
    CHECK(e.tb_str.n == 0);
    CHECK(e.has_canceller == 1);
    CHECK(str(e.canceller.name) == "root");
    CHECK(str(e.canceller.uuid) == "u1");
    CHECK(e.has_sender == 0);
    CHECK(m.has_cid == 1);
    CHECK(str(m.cid) == "c3");
    CHECK(e.bad_msg.n == 0);
    CHECK(e.bad_msg_as_dict.n == 0);
}

static const std::string ERROR_NOCID = TRT_BYTES(
    "\xc3\x00\x00\x00"                 // length = 195
    "\x8c"
    "\xa8" "msg_type" "\xa5" "Error"
    "\xa7" "src_uid" "\x92" "\xa5" "child" "\xa2" "u2"
    "\xac" "src_type_str" "\xab" "MsgTypeErr"  "X"   // "MsgTypeErrX" (11 chars)
    "\xae" "boxed_type_str" "\xa3" "Bad"
    "\xaa" "relay_path" "\x90"         // []
    "\xa7" "message" "\xc0"            // None
    "\xa6" "tb_str" "\xa2" "tb"
    "\xa9" "canceller" "\xc0"
    "\xa6" "sender" "\x92" "\xa4" "root" "\xa2" "u1"
    "\xa3" "cid" "\xc0"                // no cid: a channel-wide error
    "\xa8" "_bad_msg"
        "\x83" "\xa8" "msg_type" "\xa5" "Yield" "\xa3" "cid" "\xa1" "k" "\xa3" "pld" "\x07"
    "\xb0" "_bad_msg_as_dict" "\x80");

TEST_CASE("golden Error: no cid, nil message, sender, _bad_msg", "[msg][golden]") {
    std::string bad = TRT_BYTES("\x83" "\xa8" "msg_type" "\xa5" "Yield" "\xa3" "cid" "\xa1" "k"
                                "\xa3" "pld" "\x07");
    tr__error_fields_t f{};
    f.src_uid = CHILD;
    f.src_type_str = S("MsgTypeErrX");
    f.boxed_type_str = S("Bad");
    f.tb_str = S("tb");
    f.sender = &ROOT;
    f.bad_msg = S(bad);
    f.bad_msg_as_dict = S("\x80");
    std::string got = enc([&](tr__wbuf_t *b) { tr__enc_error(b, &f); });
    CHECK(tohex(got) == tohex(ERROR_NOCID));

    decoded dd = decode_ok(ERROR_NOCID, TR__MSG_ERROR);
    const tr__msg_t &m = dd.m;
    const tr__msg_error_t &e = m.u.error;
    CHECK(m.has_cid == 0);
    CHECK(e.has_message == 0);
    CHECK(str(e.tb_str) == "tb");
    CHECK(e.has_canceller == 0);
    CHECK(e.has_sender == 1);
    CHECK(str(e.sender.name) == "root");
    CHECK(str(e.bad_msg) == bad);
    CHECK(str(e.bad_msg_as_dict) == "\x80");
    size_t n = 99;
    REQUIRE(tr__msg_read_uids(e.relay_path, nullptr, 0, &n) == 0);
    CHECK(n == 0);
}

TEST_CASE("golden frames concatenate: one buffer holds whole frames back to back",
          "[msg][golden]") {
    wbuf w;
    tr__enc_stop(&w.b, S("c3"));
    tr__enc_cancelack(&w.b, S("c2"), 1);
    REQUIRE(w.b.oom == 0);
    CHECK(tohex(w.bytes()) == tohex(STOP + CANCELACK));
    // and a receiver can split them again
    size_t body = 0;
    std::string all = w.bytes();
    REQUIRE(tr__frame_peek(all.data(), all.size(), TR__FRAME_MAX_DEFAULT, &body) == 0);
    CHECK(body == STOP.size() - 4);
    std::string rest = all.substr(4 + body);
    REQUIRE(tr__frame_peek(rest.data(), rest.size(), TR__FRAME_MAX_DEFAULT, &body) == 0);
    CHECK(rest == CANCELACK);
}
