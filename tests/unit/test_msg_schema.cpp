// The schema pass: for every message type, each required field missing,
// each optional field missing (default), and wrong types for each field,
// with the exact message the decoder gives.
#include "test_msg_util.hpp"

using namespace trt;

namespace {

const tr__uid_t ROOT{{"root", 4}, {"u1", 2}};

// One valid body of each type, every field present.
std::string base(tr__msg_type_t t) {
    wbuf w;
    tr__str_t cid = S("c1");
    switch (t) {
    case TR__MSG_AID: tr__enc_aid(&w.b, S("root"), S("u1"), 42, 1, 0); break;
    case TR__MSG_SPAWNSPEC:
        tr__enc_spawnspec(&w.b, S("\x80"), S("\x81\xa1" "k" "\xc2"), S("\x81\xa1" "m" "\xa1" "p"),
                          S("\x91\x92\xa1" "h" "\x01"), S("\x91\x92\xa1" "d" "\xa1" "f"));
        break;
    case TR__MSG_START:
        tr__enc_start(&w.b, cid, S("self"), S("cancel"), S("\x80"), ROOT, S("int"));
        break;
    case TR__MSG_STARTACK: tr__enc_startack(&w.b, cid, S("context")); break;
    case TR__MSG_STARTED:
    case TR__MSG_YIELD:
    case TR__MSG_RETURN: tr__enc_payload(&w.b, t, cid, S("\x05")); break;
    case TR__MSG_STOP: tr__enc_stop(&w.b, cid); break;
    case TR__MSG_CANCELACK: tr__enc_cancelack(&w.b, cid, 0); break;
    case TR__MSG_ERROR: {
        tr__error_fields_t f{};
        f.src_uid = ROOT;
        f.src_type_str = S("ValueError");
        f.boxed_type_str = S("ValueError");
        f.relay = &ROOT;
        f.n_relay = 1;
        f.has_message = 1;
        f.message = S("boom");
        f.tb_str = S("tb");
        f.canceller = &ROOT;
        f.sender = &ROOT;
        f.cid = &cid;
        f.bad_msg = S("\x83\xa8" "msg_type" "\xa6" "Return" "\xa3" "cid" "\xa1" "x" "\xa3" "pld" "\x01");
        f.bad_msg_as_dict = S("\x81\x01\x02");
        tr__enc_error(&w.b, &f);
        break;
    }
    default: FAIL("no base"); break;
    }
    REQUIRE(w.b.oom == 0);
    return w.bytes().substr(4);
}

std::string without(const std::string &body, const std::string &field) {
    pairs_t p = split_map(body);
    pairs_t out;
    for (auto &kv : p)
        if (kv.first != mp_key(field))
            out.push_back(kv);
    REQUIRE(out.size() + 1 == p.size());
    return join_map(out);
}

std::string with(const std::string &body, const std::string &field, const std::string &raw) {
    pairs_t p = split_map(body);
    bool found = false;
    for (auto &kv : p)
        if (kv.first == mp_key(field)) {
            kv.second = raw;
            found = true;
        }
    REQUIRE(found);
    return join_map(p);
}

struct field_spec {
    const char *name;
    bool required;
};

const std::vector<std::pair<tr__msg_type_t, std::vector<field_spec>>> FIELDS = {
    {TR__MSG_AID, {{"name", true}, {"uuid", true}, {"pid", false}, {"is_registrar", false},
                   {"is_probe", false}}},
    {TR__MSG_SPAWNSPEC, {{"_parent_main_data", true}, {"_runtime_vars", true},
                         {"enable_modules", true}, {"reg_addrs", true}, {"bind_addrs", true}}},
    {TR__MSG_START, {{"cid", true}, {"ns", true}, {"func", true}, {"kwargs", true}, {"uid", true},
                     {"pld_spec", false}}},
    {TR__MSG_STARTACK, {{"cid", true}, {"functype", true}}},
    {TR__MSG_STARTED, {{"cid", true}, {"pld", true}}},
    {TR__MSG_YIELD, {{"cid", true}, {"pld", true}}},
    {TR__MSG_STOP, {{"cid", true}}},
    {TR__MSG_RETURN, {{"cid", true}, {"pld", true}}},
    {TR__MSG_CANCELACK, {{"cid", true}, {"pld", true}}},
    {TR__MSG_ERROR, {{"src_uid", true}, {"src_type_str", true}, {"boxed_type_str", true},
                     {"relay_path", true}, {"message", false}, {"tb_str", false},
                     {"canceller", false}, {"sender", false}, {"cid", false},
                     {"_bad_msg", false}, {"_bad_msg_as_dict", false}}},
};

} // namespace

TEST_CASE("schema: every base body decodes and every field is listed", "[msg][schema]") {
    for (auto &t : FIELDS) {
        INFO(tr__msg_type_name(t.first));
        decoded d = decode(base(t.first));
        REQUIRE(d.rc == 0);
        CHECK(d.m.type == t.first);
        // msg_type + the fields, nothing more
        CHECK(split_map(base(t.first)).size() == t.second.size() + 1);
    }
}

TEST_CASE("schema: a missing required field is TR_EMSGTYPE naming it", "[msg][schema]") {
    for (auto &t : FIELDS)
        for (auto &f : t.second) {
            if (!f.required)
                continue;
            std::string type = tr__msg_type_name(t.first);
            INFO(type << "." << f.name);
            decoded d = decode(without(base(t.first), f.name));
            CHECK(d.rc == TR_EMSGTYPE);
            CHECK(d.err == type + ": missing required field `" + f.name + "`");
            CHECK(d.m.type == t.first);
        }
    decoded d = decode(without(base(TR__MSG_YIELD), "msg_type"));
    CHECK(d.rc == TR_EMSGTYPE);
    CHECK(d.err == "missing required field `msg_type`");
}

TEST_CASE("schema: a missing optional field takes its default", "[msg][schema]") {
    for (auto &t : FIELDS)
        for (auto &f : t.second) {
            if (f.required)
                continue;
            INFO(tr__msg_type_name(t.first) << "." << f.name);
            decoded d = decode(without(base(t.first), f.name));
            REQUIRE(d.rc == 0);
            json j = msg_to_json(d.m);
            json dflt = std::string(f.name) == "is_probe"   ? json(false)
                        : std::string(f.name) == "pld_spec" ? json("typing.Any")
                        : std::string(f.name) == "tb_str"   ? json("")
                                                            : json(nullptr);
            CHECK(j[f.name] == dflt);
        }
    // All of an Error's optional fields at once; has_cid follows the cid.
    std::string e = base(TR__MSG_ERROR);
    for (const char *f : {"message", "tb_str", "canceller", "sender", "cid", "_bad_msg",
                          "_bad_msg_as_dict"})
        e = without(e, f);
    decoded d = decode(e);
    REQUIRE(d.rc == 0);
    CHECK(d.m.has_cid == 0);
    CHECK(d.m.u.error.has_message == 0);
    CHECK(d.m.u.error.tb_str.n == 0);
    CHECK(d.m.u.error.bad_msg.n == 0);
    CHECK(d.m.u.error.bad_msg_as_dict.n == 0);
}

TEST_CASE("schema: wrong field types are TR_EMSGTYPE naming field, expected and actual",
          "[msg][schema]") {
    struct {
        tr__msg_type_t type;
        const char *field;
        std::string raw;
        const char *msg;
    } cases[] = {
        {TR__MSG_AID, "name", "\x07", "Aid.name: expected str, got int"},
        {TR__MSG_AID, "uuid", "\xc0", "Aid.uuid: expected str, got nil"},
        {TR__MSG_AID, "uuid", TRT_BYTES("\xc4\x01" "u"), "Aid.uuid: expected str, got bin"},
        {TR__MSG_AID, "pid", "\xa1x", "Aid.pid: expected int or nil, got str"},
        {TR__MSG_AID, "pid", "\xc3", "Aid.pid: expected int or nil, got bool"},
        {TR__MSG_AID, "pid", TRT_BYTES("\xcb\x3f\xf0\x00\x00\x00\x00\x00\x00"),
         "Aid.pid: expected int or nil, got float"},
        {TR__MSG_AID, "pid", "\xcf\xff\xff\xff\xff\xff\xff\xff\xff",
         "Aid.pid: int 18446744073709551615 out of range"},
        {TR__MSG_AID, "is_registrar", "\x01", "Aid.is_registrar: expected bool or nil, got int"},
        {TR__MSG_AID, "is_probe", "\xc0", "Aid.is_probe: expected bool, got nil"},
        {TR__MSG_SPAWNSPEC, "_parent_main_data", "\x90",
         "SpawnSpec._parent_main_data: expected map, got array"},
        {TR__MSG_SPAWNSPEC, "_runtime_vars", "\x81\x01\x02",
         "SpawnSpec._runtime_vars: expected str keys, got int"},
        {TR__MSG_SPAWNSPEC, "enable_modules", "\x81\xa1" "a" "\x01",
         "SpawnSpec.enable_modules: expected str values, got int"},
        {TR__MSG_SPAWNSPEC, "enable_modules", TRT_BYTES("\x81\xc0\xa1" "a"),
         "SpawnSpec.enable_modules: expected str keys, got nil"},
        {TR__MSG_SPAWNSPEC, "reg_addrs", "\xc0",
         "SpawnSpec.reg_addrs: expected array of addresses, got nil"},
        {TR__MSG_SPAWNSPEC, "reg_addrs", "\x91\x91\xa1h",
         "SpawnSpec.reg_addrs[0]: expected array of length 2, got length 1"},
        {TR__MSG_SPAWNSPEC, "reg_addrs", "\x92\x92\xa1h\x01\x92\xa1h\xc0",
         "SpawnSpec.reg_addrs[1][1]: expected str or int, got nil"},
        {TR__MSG_SPAWNSPEC, "reg_addrs", "\x91\x92\x01\x02",
         "SpawnSpec.reg_addrs[0][0]: expected str, got int"},
        {TR__MSG_SPAWNSPEC, "reg_addrs", "\x91\xa1h",
         "SpawnSpec.reg_addrs[0]: expected array of [str, str|int], got str"},
        {TR__MSG_SPAWNSPEC, "bind_addrs", "\xa1x",
         "SpawnSpec.bind_addrs: expected array of addresses or nil, got str"},
        {TR__MSG_START, "cid", "\xc0", "Start.cid: expected str, got nil"},
        {TR__MSG_START, "ns", "\x90", "Start.ns: expected str, got array"},
        {TR__MSG_START, "func", "\x80", "Start.func: expected str, got map"},
        {TR__MSG_START, "kwargs", "\xc0", "Start.kwargs: expected map, got nil"},
        {TR__MSG_START, "kwargs", "\x81\x01\x02", "Start.kwargs: expected str keys, got int"},
        {TR__MSG_START, "uid", "\x92\xa1" "a" "\x01", "Start.uid[1]: expected str, got int"},
        {TR__MSG_START, "uid", "\x92\x90\xa1" "a", "Start.uid[0]: expected str, got array"},
        {TR__MSG_START, "uid", "\x90", "Start.uid: expected array of length 2, got length 0"},
        {TR__MSG_START, "uid", "\xc0", "Start.uid: expected array of 2 str, got nil"},
        {TR__MSG_START, "pld_spec", "\x05", "Start.pld_spec: expected str, got int"},
        {TR__MSG_STARTACK, "functype", "\x05", "StartAck.functype: expected str, got int"},
        {TR__MSG_STARTACK, "functype", "\xa4" "func",
         "StartAck.functype: invalid value 'func' (expected asyncfunc, asyncgen or context)"},
        {TR__MSG_YIELD, "cid", "\x05", "Yield.cid: expected str, got int"},
        {TR__MSG_STARTED, "cid", "\xc3", "Started.cid: expected str, got bool"},
        {TR__MSG_RETURN, "cid", TRT_BYTES("\xc4\x00"), "Return.cid: expected str, got bin"},
        {TR__MSG_STOP, "cid", "\xd4\x01\x01", "Stop.cid: expected str, got ext"},
        {TR__MSG_CANCELACK, "pld", "\x01", "CancelAck.pld: expected bool, got int"},
        {TR__MSG_CANCELACK, "pld", "\xc0", "CancelAck.pld: expected bool, got nil"},
        {TR__MSG_ERROR, "src_uid", "\xa1x", "Error.src_uid: expected array of 2 str, got str"},
        {TR__MSG_ERROR, "src_type_str", "\xc0", "Error.src_type_str: expected str, got nil"},
        {TR__MSG_ERROR, "boxed_type_str", "\x01", "Error.boxed_type_str: expected str, got int"},
        {TR__MSG_ERROR, "relay_path", "\x91\x91\xa1" "a",
         "Error.relay_path[0]: expected array of length 2, got length 1"},
        {TR__MSG_ERROR, "relay_path", "\x92\x92\xa1" "a" "\xa1" "b" "\x92\xa1" "a" "\x01",
         "Error.relay_path[1][1]: expected str, got int"},
        {TR__MSG_ERROR, "message", "\x01", "Error.message: expected str or nil, got int"},
        {TR__MSG_ERROR, "tb_str", "\xc0", "Error.tb_str: expected str, got nil"},
        {TR__MSG_ERROR, "canceller", "\xa1x",
         "Error.canceller: expected array of 2 str or nil, got str"},
        {TR__MSG_ERROR, "sender", "\x93\xa1" "a" "\xa1" "b" "\xa1" "c",
         "Error.sender: expected array of length 2, got length 3"},
        {TR__MSG_ERROR, "cid", "\x01", "Error.cid: expected str or nil, got int"},
        {TR__MSG_ERROR, "_bad_msg", "\x01",
         "Error._bad_msg: expected Started, Yield or Return map or nil, got int"},
        {TR__MSG_ERROR, "_bad_msg", "\x82\xa8" "msg_type" "\xa4" "Stop" "\xa3" "cid" "\xa1" "x",
         "Error._bad_msg: msg_type: expected Started, Yield or Return, got 'Stop'"},
        {TR__MSG_ERROR, "_bad_msg", "\x82\xa8" "msg_type" "\xa5" "Yield" "\xa3" "cid" "\xa1" "x",
         "Error._bad_msg: Yield: missing required field `pld`"},
        {TR__MSG_ERROR, "_bad_msg_as_dict", "\x90",
         "Error._bad_msg_as_dict: expected map or nil, got array"},
    };
    for (auto &c : cases) {
        INFO(c.msg);
        decoded d = decode(with(base(c.type), c.field, c.raw));
        CHECK(d.rc == TR_EMSGTYPE);
        CHECK(d.err == c.msg);
    }
}

TEST_CASE("schema: nil is accepted exactly where the type allows it", "[msg][schema]") {
    struct { tr__msg_type_t type; const char *field; } nil_ok[] = {
        {TR__MSG_AID, "pid"}, {TR__MSG_AID, "is_registrar"}, {TR__MSG_SPAWNSPEC, "bind_addrs"},
        {TR__MSG_ERROR, "message"}, {TR__MSG_ERROR, "canceller"}, {TR__MSG_ERROR, "sender"},
        {TR__MSG_ERROR, "cid"}, {TR__MSG_ERROR, "_bad_msg"}, {TR__MSG_ERROR, "_bad_msg_as_dict"},
        {TR__MSG_STARTED, "pld"}, {TR__MSG_YIELD, "pld"}, {TR__MSG_RETURN, "pld"},
    };
    for (auto &c : nil_ok) {
        INFO(tr__msg_type_name(c.type) << "." << c.field);
        decoded d = decode(with(base(c.type), c.field, "\xc0"));
        CHECK(d.rc == 0);
    }
}

TEST_CASE("schema: Start.kwargs keeps any values and SpawnSpec addresses take str or int ports",
          "[msg][schema]") {
    std::string kw = TRT_BYTES("\x82\xa1" "a" "\x92\x01\xc0" "\xa1" "b" "\x81\x01\x02");
    decoded d = decode(with(base(TR__MSG_START), "kwargs", kw));
    REQUIRE(d.rc == 0);
    CHECK(str(d.m.u.start.kwargs) == kw);
    std::string addrs = TRT_BYTES("\x92\x92\xa1" "h" "\xcd\x06\x50" "\x92\xa4" "/run" "\xa6" "r.sock");
    d = decode(with(base(TR__MSG_SPAWNSPEC), "reg_addrs", addrs));
    REQUIRE(d.rc == 0);
    CHECK(str(d.m.u.spawnspec.reg_addrs) == addrs);
}
