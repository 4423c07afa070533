// Payload specs (tr__pldspec_*): the grammar in core/msg/msg.h, checking
// of raw msgpack values, and the messages that point at the bad spot.
#include "test_msg_util.hpp"

#include <memory>

using namespace trt;

namespace {

struct spec_deleter {
    void operator()(tr__pldspec_t *s) const { tr__pldspec_free(s); }
};
using spec_ptr = std::unique_ptr<tr__pldspec_t, spec_deleter>;

spec_ptr compile(const char *text) {
    tr__pldspec_t *s = nullptr;
    char err[256] = "";
    int rc = tr__pldspec_compile(text, &s, err, sizeof err);
    INFO("spec '" << (text ? text : "(null)") << "': " << err);
    REQUIRE(rc == 0);
    return spec_ptr(s);
}

std::string compile_error(const char *text, int want = TR_EINVAL) {
    tr__pldspec_t *s = reinterpret_cast<tr__pldspec_t *>(1);
    char err[256] = "";
    CHECK(tr__pldspec_compile(text, &s, err, sizeof err) == want);
    CHECK(s == nullptr);
    return err;
}

// 0 or the error message of checking raw against spec.
std::string check(const tr__pldspec_t *s, const std::string &raw, int want_rc = TR_EMSGTYPE) {
    char err[256] = "";
    std::vector<char> copy(raw.begin(), raw.end()); // exact size for ASan
    int rc = tr__pldspec_check(s, tr__str_t{copy.data(), copy.size()}, err, sizeof err);
    if (rc == 0)
        return "ok";
    CHECK(rc == want_rc);
    CHECK(err[0] != 0);
    return err;
}

// Some msgpack values.
const std::string NIL = "\xc0", T = "\xc3", F = "\xc2", I1 = "\x01", INEG = "\xff",
                  IBIG = TRT_BYTES("\xcf\xff\xff\xff\xff\xff\xff\xff\xff"),
                  FL = TRT_BYTES("\xcb\x3f\xf8\x00\x00\x00\x00\x00\x00"), STR = "\xa2hi",
                  BIN = TRT_BYTES("\xc4\x01\x00"), ARR = "\x92\x01\x02", MAP = "\x81\xa1" "a" "\x01",
                  EXT = TRT_BYTES("\xd4\x01\x00");

} // namespace

TEST_CASE("pldspec: NULL, any and typing.Any compile to NULL and accept everything",
          "[pldspec]") {
    for (const char *text : {(const char *)nullptr, "any", "typing.Any", "  any  ", "int|any",
                             "any|nil"}) {
        INFO((text ? text : "(null)"));
        spec_ptr s = compile(text);
        CHECK(s == nullptr);
        CHECK(check(s.get(), STR) == "ok");
        CHECK(check(s.get(), EXT) == "ok");
    }
    CHECK(std::string(tr__pldspec_text(nullptr)) == "any");
}

TEST_CASE("pldspec: each scalar name accepts exactly its msgpack kinds", "[pldspec]") {
    struct { const char *spec; std::vector<std::string> ok, bad; } cases[] = {
        {"nil", {NIL}, {F, I1, STR, ARR}},
        {"bool", {T, F}, {NIL, I1, STR}},
        {"int", {I1, INEG, IBIG}, {FL, T, STR, NIL}},
        {"float", {FL, I1, INEG, IBIG}, {STR, T, NIL}}, // float also takes ints
        {"str", {STR, "\xa0"}, {BIN, I1, NIL}},
        {"bytes", {BIN}, {STR, ARR}},
        {"list", {ARR, "\x90", TRT_BYTES("\x92\xa1x\x80")}, {MAP, STR}},
        {"dict", {MAP, "\x80", "\x81\x01\x02"}, {ARR, NIL}},
    };
    for (auto &c : cases) {
        INFO(c.spec);
        spec_ptr s = compile(c.spec);
        REQUIRE(s != nullptr);
        CHECK(std::string(tr__pldspec_text(s.get())) == c.spec);
        for (auto &v : c.ok)
            CHECK(check(s.get(), v) == "ok");
        for (auto &v : c.bad)
            CHECK(check(s.get(), v).rfind(std::string("expected ") + c.spec + ", got ", 0) == 0);
    }
    spec_ptr s = compile("int");
    CHECK(check(s.get(), STR) == "expected int, got str at $");
    CHECK(check(s.get(), EXT) == "expected int, got ext at $");
}

TEST_CASE("pldspec: nil-able unions and multi-way unions", "[pldspec]") {
    spec_ptr s = compile("int|nil");
    CHECK(std::string(tr__pldspec_text(s.get())) == "int|nil");
    CHECK(check(s.get(), I1) == "ok");
    CHECK(check(s.get(), NIL) == "ok");
    CHECK(check(s.get(), STR) == "expected int|nil, got str at $");

    s = compile(" str | bytes | nil ");
    CHECK(std::string(tr__pldspec_text(s.get())) == "str|bytes|nil");
    CHECK(check(s.get(), STR) == "ok");
    CHECK(check(s.get(), BIN) == "ok");
    CHECK(check(s.get(), NIL) == "ok");
    CHECK(check(s.get(), FL) == "expected str|bytes|nil, got float at $");
}

TEST_CASE("pldspec: arrays of a spec check every element and report its index", "[pldspec]") {
    spec_ptr s = compile("[int]");
    CHECK(check(s.get(), "\x90") == "ok");
    CHECK(check(s.get(), "\x93\x01\x02\x03") == "ok");
    CHECK(check(s.get(), "\x93\x01\x02\xa1x") == "expected int, got str at $[2]");
    CHECK(check(s.get(), MAP) == "expected [int], got map at $");

    s = compile("[[str|nil]]");
    CHECK(std::string(tr__pldspec_text(s.get())) == "[[str|nil]]");
    CHECK(check(s.get(), "\x92\x92\xa1x\xc0\x90") == "ok");
    CHECK(check(s.get(), "\x92\x90\x92\xc0\x05") == "expected str|nil, got int at $[1][1]");
    // long arrays (array16) are walked too
    std::string big = TRT_BYTES("\xdc\x01\x00") + std::string(255, '\x01') + "\xc3";
    CHECK(check(s.get(), big) == "expected [str|nil], got int at $[0]");
    spec_ptr ints = compile("[int]");
    CHECK(check(ints.get(), big) == "expected int, got bool at $[255]");
}

TEST_CASE("pldspec: map specs require their keys, check their values, allow extras",
          "[pldspec]") {
    spec_ptr s = compile("{name: str, n: int}");
    CHECK(std::string(tr__pldspec_text(s.get())) == "{name:str,n:int}");
    std::string ok = TRT_BYTES("\x83\xa4" "name" "\xa1" "x" "\xa1" "n" "\x05" "\xa5" "extra" "\x90");
    CHECK(check(s.get(), ok) == "ok");
    // key order does not matter, non-str keys are extras
    CHECK(check(s.get(), TRT_BYTES("\x83\x01\x02\xa1" "n" "\x05\xa4" "name" "\xa0")) == "ok");
    CHECK(check(s.get(), TRT_BYTES("\x81\xa1" "n" "\x05")) == "missing required key `name` at $");
    CHECK(check(s.get(), TRT_BYTES("\x82\xa4" "name" "\x01\xa1" "n" "\x05")) ==
          "expected str, got int at $.name");
    CHECK(check(s.get(), ARR) == "expected {name:str,n:int}, got array at $");

    s = compile("{}");
    CHECK(std::string(tr__pldspec_text(s.get())) == "{}");
    CHECK(check(s.get(), MAP) == "ok");
    CHECK(check(s.get(), "\x80") == "ok");
    CHECK(check(s.get(), NIL) == "expected {}, got nil at $");
}

TEST_CASE("pldspec: nested arrays and maps give full paths", "[pldspec]") {
    spec_ptr s = compile("{items: [{id: int, tags: [str]}], owner: {name: str}|nil}");
    CHECK(std::string(tr__pldspec_text(s.get())) ==
          "{items:[{id:int,tags:[str]}],owner:{name:str}|nil}");
    // {items: [{id: 1, tags: ["a"]}, {id: 2, tags: ["b", 3]}], owner: nil}
    std::string v = TRT_BYTES("\x82\xa5" "items" "\x92"
                              "\x82\xa2" "id" "\x01\xa4" "tags" "\x91\xa1" "a"
                              "\x82\xa2" "id" "\x02\xa4" "tags" "\x92\xa1" "b" "\x03"
                              "\xa5" "owner" "\xc0");
    CHECK(check(s.get(), v) == "expected str, got int at $.items[1].tags[1]");
    std::string v2 = TRT_BYTES("\x82\xa5" "items" "\x91" "\x81\xa2" "id" "\x01"
                               "\xa5" "owner" "\x81\xa4" "name" "\xa1" "z");
    CHECK(check(s.get(), v2) == "missing required key `tags` at $.items[0]");
    std::string v3 = TRT_BYTES("\x82\xa5" "items" "\x90" "\xa5" "owner" "\x80");
    CHECK(check(s.get(), v3) == "missing required key `name` at $.owner");
    std::string v4 = TRT_BYTES("\x82\xa5" "items" "\x90" "\xa5" "owner" "\x81\xa4" "name" "\xa1" "z");
    CHECK(check(s.get(), v4) == "ok");
    std::string v5 = TRT_BYTES("\x81\xa5" "items" "\x90");
    CHECK(check(s.get(), v5) == "missing required key `owner` at $");
}

TEST_CASE("pldspec: quoted keys and keys that look like type names", "[pldspec]") {
    spec_ptr s = compile(R"({"a b": int, int: str})");
    CHECK(std::string(tr__pldspec_text(s.get())) == R"({"a b":int,int:str})");
    CHECK(check(s.get(), TRT_BYTES("\x82\xa3" "a b" "\x01\xa3" "int" "\xa1" "x")) == "ok");
    CHECK(check(s.get(), TRT_BYTES("\x82\xa3" "a b" "\xc0\xa3" "int" "\xa1" "x")) ==
          R"(expected int, got nil at $["a b"])");
}

TEST_CASE("pldspec: unions of several containers try each and name the union", "[pldspec]") {
    spec_ptr s = compile("[int]|[str]|nil");
    CHECK(check(s.get(), "\x92\x01\x02") == "ok");
    CHECK(check(s.get(), "\x92\xa1x\xa1y") == "ok");
    CHECK(check(s.get(), NIL) == "ok");
    CHECK(check(s.get(), "\x92\x01\xa1y") == "expected [int]|[str]|nil, got array at $");
    // A single container alternative reports its own deeper error.
    s = compile("{a: int}|str");
    CHECK(check(s.get(), TRT_BYTES("\x81\xa1" "a" "\xc0")) == "expected int, got nil at $.a");
    CHECK(check(s.get(), I1) == "expected {a:int}|str, got int at $");
    // In a list, each element chooses its alternative independently.
    s = compile("[int|str]");
    CHECK(check(s.get(), "\x93\x01\xa1x\x02") == "ok");
    CHECK(check(s.get(), "\x93\x01\xa1x\xc3") == "expected int|str, got bool at $[2]");
}

TEST_CASE("pldspec: malformed or trailing raw values are TR_EPROTO", "[pldspec]") {
    spec_ptr s = compile("[int]");
    CHECK(check(s.get(), "\x92\x01", TR_EPROTO).find("malformed msgpack payload") == 0);
    CHECK(check(s.get(), "\x91\x01\x01", TR_EPROTO) == "malformed msgpack payload: 1 trailing byte(s)");
    CHECK(check(s.get(), "\x91\xc1", TR_EPROTO).find("invalid byte 0xc1") != std::string::npos);
    // an empty raw value is nil, as tr__enc_payload sends it
    CHECK(check(s.get(), "") == "expected [int], got nil at $");
    spec_ptr n = compile("int|nil");
    CHECK(check(n.get(), "") == "ok");
    spec_ptr l = compile("list");
    std::string deep = std::string(10000, '\x91') + "\x01";
    CHECK(check(l.get(), deep, TR_EPROTO).find("nesting deeper") != std::string::npos);
    CHECK(check(l.get(), TRT_BYTES("\xdd\xff\xff\xff\xff\x01"), TR_EPROTO).find("declared length") !=
          std::string::npos);
}

TEST_CASE("pldspec: bad specs are TR_EINVAL with a message pointing at the spot",
          "[pldspec]") {
    CHECK(compile_error("integer") ==
          "bad payload spec: unknown type `integer` at offset 0 (expected any, nil, bool, int, "
          "float, str, bytes, list, dict, [..] or {..})");
    CHECK(compile_error("") == "bad payload spec: expected a type, got end of spec at offset 0");
    CHECK(compile_error("   ") == "bad payload spec: expected a type, got end of spec at offset 3");
    CHECK(compile_error("int|") == "bad payload spec: expected a type, got end of spec at offset 4");
    CHECK(compile_error("int str") == "bad payload spec: unexpected `s` at offset 4");
    CHECK(compile_error("[int") == "bad payload spec: expected `]`, got end of spec at offset 4");
    CHECK(compile_error("[]") == "bad payload spec: expected a type, got `]` at offset 1");
    CHECK(compile_error("{a int}") == "bad payload spec: expected `:`, got `i` at offset 3");
    CHECK(compile_error("{a: int,}") == "bad payload spec: expected a key, got `}` at offset 8");
    CHECK(compile_error("{a: int, a: str}") == "bad payload spec: duplicate key `a` at offset 9");
    CHECK(compile_error("{\"a: int}") ==
          "bad payload spec: unterminated key starting at offset 1");
    CHECK(compile_error("{1: int}") == "bad payload spec: expected a key, got `1` at offset 1");
    CHECK(compile_error("int|?") == "bad payload spec: expected a type, got `?` at offset 4");
    std::string deep = std::string(40, '[') + "int" + std::string(40, ']');
    CHECK(compile_error(deep.c_str()) ==
          "bad payload spec: nested deeper than 32 levels at offset 32");
    std::string ok = std::string(32, '[') + "int" + std::string(32, ']');
    spec_ptr s = compile(ok.c_str());
    CHECK(s != nullptr);
    std::string many = "{";
    for (int i = 0; i < 65; i++)
        many += (i ? ",k" : "k") + std::to_string(i) + ":int";
    many += "}";
    CHECK(compile_error(many.c_str()).find("more than 64 keys in one map") != std::string::npos);
    // errbuf may be NULL
    tr__pldspec_t *out = nullptr;
    CHECK(tr__pldspec_compile("nope", &out, nullptr, 0) == TR_EINVAL);
}

TEST_CASE("pldspec: a payload checked inside a decoded Yield", "[pldspec][msg]") {
    spec_ptr s = compile("{n: int}");
    std::string body = TRT_BYTES("\x83\xa8" "msg_type" "\xa5" "Yield" "\xa3" "cid" "\xa1" "c"
                                 "\xa3" "pld" "\x81\xa1" "n" "\xa1" "x");
    decoded d = decode(body);
    REQUIRE(d.rc == 0);
    char err[128];
    CHECK(tr__pldspec_check(s.get(), d.m.u.pld, err, sizeof err) == TR_EMSGTYPE);
    CHECK(std::string(err) == "expected int, got str at $.n");
}
