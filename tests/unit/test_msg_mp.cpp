// The msgpack layer (core/msg/mp.c): smallest encodings exactly as msgspec
// picks them, and a reader that is total on any input.
#include "test_msg_util.hpp"

#include <limits>

using namespace trt;

namespace {

template <class F> std::string mp(F f) {
    wbuf w;
    f(&w.b);
    REQUIRE(w.b.oom == 0);
    return w.bytes();
}

tr__mp_tok_t tok(const std::string &bytes, int expect_rc = 0) {
    tr__mp_reader_t r;
    tr__mp_tok_t t{};
    tr__mp_reader_init(&r, bytes.data(), bytes.size());
    REQUIRE(tr__mp_next(&r, &t) == expect_rc);
    if (expect_rc == 0)
        CHECK(r.p == r.end); // each sample is exactly one token
    return t;
}

} // namespace

TEST_CASE("mp writer: signed ints use the smallest form at every width boundary", "[msg][mp]") {
    struct { int64_t v; const char *hex; } cases[] = {
        {0, "00"}, {1, "01"}, {127, "7f"}, {128, "cc80"}, {255, "ccff"}, {256, "cd0100"},
        {65535, "cdffff"}, {65536, "ce00010000"}, {4294967295LL, "ceffffffff"},
        {4294967296LL, "cf0000000100000000"},
        {INT64_MAX, "cf7fffffffffffffff"},
        {-1, "ff"}, {-32, "e0"}, {-33, "d0df"}, {-128, "d080"}, {-129, "d1ff7f"},
        {-32768, "d18000"}, {-32769, "d2ffff7fff"}, {INT32_MIN, "d280000000"},
        {(int64_t)INT32_MIN - 1, "d3ffffffff7fffffff"}, {INT64_MIN, "d38000000000000000"},
    };
    for (auto &c : cases) {
        INFO(c.v);
        std::string b = mp([&](tr__wbuf_t *w) { tr__mp_int(w, c.v); });
        CHECK(tohex(b) == c.hex);
        tr__mp_tok_t t = tok(b);
        CHECK(t.kind == TR__MP_INT);
        CHECK(t.is_unsigned == 0);
        CHECK(t.i == c.v);
    }
}

TEST_CASE("mp writer: unsigned ints up to 2^64-1 are read back through u", "[msg][mp]") {
    struct { uint64_t v; const char *hex; int is_unsigned; } cases[] = {
        {0, "00", 0}, {200, "ccc8", 0}, {70000, "ce00011170", 0},
        {(uint64_t)INT64_MAX + 1, "cf8000000000000000", 1},
        {UINT64_MAX, "cfffffffffffffffff", 1},
    };
    for (auto &c : cases) {
        INFO(c.v);
        std::string b = mp([&](tr__wbuf_t *w) { tr__mp_uint(w, c.v); });
        CHECK(tohex(b) == c.hex);
        tr__mp_tok_t t = tok(b);
        CHECK(t.kind == TR__MP_INT);
        CHECK(t.is_unsigned == c.is_unsigned);
        CHECK(t.u == c.v);
        int64_t v = 0;
        tr__mp_reader_t r;
        tr__mp_reader_init(&r, b.data(), b.size());
        CHECK(tr__mp_read_int(&r, &v) == (c.is_unsigned ? -1 : 0));
        CHECK(r.p == (c.is_unsigned ? (const uint8_t *)b.data() : r.end)); // no move on -1
    }
}

TEST_CASE("mp writer: every float is a float64 (0xcb), incl. -0.0, inf and nan", "[msg][mp]") {
    CHECK(tohex(mp([](tr__wbuf_t *w) { tr__mp_float(w, 1.5); })) == "cb3ff8000000000000");
    CHECK(tohex(mp([](tr__wbuf_t *w) { tr__mp_float(w, -0.0); })) == "cb8000000000000000");
    CHECK(tohex(mp([](tr__wbuf_t *w) { tr__mp_float(w, 1.0); })) == "cb3ff0000000000000");
    CHECK(tohex(mp([](tr__wbuf_t *w) {
              tr__mp_float(w, std::numeric_limits<double>::infinity());
          })) == "cb7ff0000000000000");
    std::string nan = mp([](tr__wbuf_t *w) { tr__mp_float(w, std::nan("")); });
    REQUIRE(nan.size() == 9);
    CHECK(std::isnan(tok(nan).f));
    CHECK(tok(TRT_BYTES("\xcb\x40\x09\x21\xfb\x54\x44\x2d\x18")).f == 3.141592653589793);
    // float32 is not written, but it is read
    tr__mp_tok_t t = tok(TRT_BYTES("\xca\x3f\xc0\x00\x00"));
    CHECK(t.kind == TR__MP_FLOAT);
    CHECK(t.f == 1.5);
}

TEST_CASE("mp writer: nil, bools, and a NULL C string as nil", "[msg][mp]") {
    CHECK(tohex(mp([](tr__wbuf_t *w) {
              tr__mp_nil(w);
              tr__mp_bool(w, 1);
              tr__mp_bool(w, 0);
              tr__mp_cstr(w, nullptr);
          })) == "c0c3c2c0");
    CHECK(tok("\xc3").kind == TR__MP_BOOL);
    CHECK(tok("\xc3").b == 1);
    CHECK(tok("\xc2").b == 0);
}

TEST_CASE("mp writer: str is fixstr, str8, str16, str32 by length, never bin", "[msg][mp]") {
    struct { size_t n; const char *hdr; } cases[] = {
        {0, "a0"}, {1, "a1"}, {31, "bf"}, {32, "d920"}, {255, "d9ff"}, {256, "da0100"},
        {65535, "daffff"}, {65536, "db00010000"},
    };
    for (auto &c : cases) {
        INFO(c.n);
        std::string s(c.n, 'x');
        std::string b = mp([&](tr__wbuf_t *w) { tr__mp_str(w, s.data(), s.size()); });
        std::string hdr = c.hdr;
        CHECK(tohex(b.substr(0, hdr.size() / 2)) == hdr);
        CHECK(b.size() == hdr.size() / 2 + c.n);
        tr__mp_tok_t t = tok(b);
        CHECK(t.kind == TR__MP_STR);
        CHECK(str(t.str) == s);
    }
}

TEST_CASE("mp writer: bin is bin8, bin16, bin32 by length", "[msg][mp]") {
    struct { size_t n; const char *hdr; } cases[] = {
        {0, "c400"}, {255, "c4ff"}, {256, "c50100"}, {65535, "c5ffff"}, {65536, "c600010000"},
    };
    for (auto &c : cases) {
        INFO(c.n);
        std::string s(c.n, '\x01');
        std::string b = mp([&](tr__wbuf_t *w) { tr__mp_bin(w, s.data(), s.size()); });
        std::string hdr = c.hdr;
        CHECK(tohex(b.substr(0, hdr.size() / 2)) == hdr);
        tr__mp_tok_t t = tok(b);
        CHECK(t.kind == TR__MP_BIN);
        CHECK(t.str.n == c.n);
    }
}

TEST_CASE("mp writer: array and map headers are fix, 16 or 32 by count", "[msg][mp]") {
    struct { uint32_t n; const char *arr; const char *map; } cases[] = {
        {0, "90", "80"}, {15, "9f", "8f"}, {16, "dc0010", "de0010"},
        {65535, "dcffff", "deffff"}, {65536, "dd00010000", "df00010000"},
    };
    for (auto &c : cases) {
        INFO(c.n);
        CHECK(tohex(mp([&](tr__wbuf_t *w) { tr__mp_array(w, c.n); })) == c.arr);
        CHECK(tohex(mp([&](tr__wbuf_t *w) { tr__mp_map(w, c.n); })) == c.map);
        // The reader wants the elements to be there: pad with nils.
        std::string a = unhex(c.arr) + std::string(c.n, '\xc0');
        std::string m = unhex(c.map) + std::string(2 * size_t(c.n), '\xc0');
        tr__mp_reader_t r;
        tr__mp_tok_t t;
        tr__mp_reader_init(&r, a.data(), a.size());
        REQUIRE(tr__mp_next(&r, &t) == 0);
        CHECK(t.kind == TR__MP_ARRAY);
        CHECK(t.count == c.n);
        CHECK(tr__mp_validate(a.data(), a.size()) == 0);
        tr__mp_reader_init(&r, m.data(), m.size());
        REQUIRE(tr__mp_next(&r, &t) == 0);
        CHECK(t.kind == TR__MP_MAP);
        CHECK(t.count == c.n);
        CHECK(tr__mp_validate(m.data(), m.size()) == 0);
    }
}

TEST_CASE("mp reader: ext types (fixext1..16, ext8/16/32) are single tokens", "[msg][mp]") {
    struct { std::string bytes; int8_t type; size_t n; } cases[] = {
        {TRT_BYTES("\xd4\x05\xaa"), 5, 1},
        {TRT_BYTES("\xd5\xff\x01\x02"), -1, 2},
        {TRT_BYTES("\xd6\x01") + std::string(4, 'a'), 1, 4},
        {TRT_BYTES("\xd7\xff") + std::string(8, 'a'), -1, 8}, // e.g. a timestamp
        {TRT_BYTES("\xd8\x02") + std::string(16, 'a'), 2, 16},
        {TRT_BYTES("\xc7\x03\xfe\x01\x02\x03"), -2, 3},
        {TRT_BYTES("\xc7\x00\x07"), 7, 0},
        {TRT_BYTES("\xc8\x01\x00\x09") + std::string(256, 'b'), 9, 256},
        {TRT_BYTES("\xc9\x00\x00\x00\x02\x0a" "zz"), 10, 2},
    };
    for (auto &c : cases) {
        INFO(tohex(c.bytes));
        tr__mp_tok_t t = tok(c.bytes);
        CHECK(t.kind == TR__MP_EXT);
        CHECK(t.ext_type == c.type);
        CHECK(t.str.n == c.n);
        CHECK(tr__mp_validate(c.bytes.data(), c.bytes.size()) == 0);
        // and inside a container they are skipped whole
        std::string arr = "\x92" + c.bytes + "\xc0";
        CHECK(tr__mp_validate(arr.data(), arr.size()) == 0);
        // every strict prefix is truncated
        for (size_t k = 0; k < c.bytes.size(); k++)
            CHECK(tr__mp_validate(c.bytes.data(), k) == -1);
    }
}

TEST_CASE("mp reader: 0xc1 is rejected wherever a token starts", "[msg][mp]") {
    const char *why = nullptr;
    tr__mp_reader_t r;
    tr__mp_tok_t t;
    std::string c1 = "\xc1";
    tr__mp_reader_init(&r, c1.data(), 1);
    CHECK(tr__mp_next_ex(&r, &t, &why) == -1);
    CHECK(std::string(why) == "invalid byte 0xc1");
    CHECK(r.p == (const uint8_t *)c1.data());
    for (std::string s : {TRT_BYTES("\x91\xc1"), TRT_BYTES("\x81\xc1\x01"), TRT_BYTES("\x81\x01\xc1"),
                          TRT_BYTES("\x92\x92\x01\xc1\x01")}) {
        INFO(tohex(s));
        CHECK(tr__mp_validate(s.data(), s.size()) == -1);
    }
    // but 0xc1 inside str/bin data is just data
    std::string ok = TRT_BYTES("\xa1\xc1");
    CHECK(tr__mp_validate(ok.data(), ok.size()) == 0);
}

TEST_CASE("mp reader: declared lengths of 0xffffffff with short input fail without allocating",
          "[msg][mp]") {
    for (std::string s : {TRT_BYTES("\xdb\xff\xff\xff\xff" "abc"),     // str32
                          TRT_BYTES("\xc6\xff\xff\xff\xff" "abc"),     // bin32
                          TRT_BYTES("\xc9\xff\xff\xff\xff\x01" "abc"), // ext32
                          TRT_BYTES("\xdd\xff\xff\xff\xff\x01\x02"),   // array32
                          TRT_BYTES("\xdf\xff\xff\xff\xff\x01\x02"),   // map32
                          TRT_BYTES("\xda\x01\x00" "abc"),             // str16, 256 > 3
                          TRT_BYTES("\xdc\x00\x04\x01\x02\x03"),       // array16 of 4, 3 left
                          TRT_BYTES("\x82\x01\x02\x03"),               // fixmap 2 needs >= 4
                          TRT_BYTES("\xd8\x01" "short")}) {            // fixext16
        INFO(tohex(s));
        tr__mp_reader_t r;
        tr__mp_tok_t t;
        const char *why = nullptr;
        tr__mp_reader_init(&r, s.data(), s.size());
        CHECK(tr__mp_next_ex(&r, &t, &why) == -1);
        REQUIRE(why != nullptr);
        CHECK(std::string(why) == "declared length exceeds the remaining input");
        CHECK(tr__mp_validate(s.data(), s.size()) == -1);
    }
}

TEST_CASE("mp reader: truncated headers and empty input fail", "[msg][mp]") {
    for (std::string s : {std::string(), TRT_BYTES("\xcd\x01"), TRT_BYTES("\xcb\x00\x00"),
                          TRT_BYTES("\xd9"), TRT_BYTES("\xdb\x00\x00"), TRT_BYTES("\xdd\x00"),
                          TRT_BYTES("\xc7\x01"), TRT_BYTES("\xd4")}) {
        INFO(tohex(s));
        tr__mp_reader_t r;
        tr__mp_tok_t t;
        tr__mp_reader_init(&r, s.data(), s.size());
        CHECK(tr__mp_next(&r, &t) == -1);
        CHECK(r.p == (const uint8_t *)s.data());
    }
}

TEST_CASE("mp reader: nesting is bounded at TR__MP_MAX_DEPTH without recursion", "[msg][mp]") {
    auto nested = [](size_t depth, char hdr) {
        std::string s;
        for (size_t i = 0; i < depth; i++) {
            s += hdr;
            if (hdr == '\x81')
                s += '\x01'; // map key
        }
        return s + "\xc0";
    };
    for (char hdr : {'\x91', '\x81'}) {
        std::string ok = nested(TR__MP_MAX_DEPTH, hdr);
        CHECK(tr__mp_validate(ok.data(), ok.size()) == 0);
        std::string deep = nested(TR__MP_MAX_DEPTH + 1, hdr);
        CHECK(tr__mp_validate(deep.data(), deep.size()) == -1);
        tr__mp_reader_t r;
        const char *why = nullptr;
        tr__mp_reader_init(&r, deep.data(), deep.size());
        CHECK(tr__mp_skip_ex(&r, 0, &why) == -1);
        CHECK(std::string(why) == "nesting deeper than 64 levels");
        std::string huge = nested(10000, hdr);
        CHECK(tr__mp_validate(huge.data(), huge.size()) == -1);
    }
    // Empty containers count as a level too.
    std::string s(TR__MP_MAX_DEPTH, '\x91');
    s += '\x90';
    CHECK(tr__mp_validate(s.data(), s.size()) == -1);
    // The starting depth is taken into account.
    std::string one = nested(1, '\x91');
    tr__mp_reader_t r;
    tr__mp_reader_init(&r, one.data(), one.size());
    CHECK(tr__mp_skip_ex(&r, TR__MP_MAX_DEPTH, nullptr) == -1);
    tr__mp_reader_init(&r, one.data(), one.size());
    CHECK(tr__mp_skip_ex(&r, TR__MP_MAX_DEPTH - 1, nullptr) == 0);
}

TEST_CASE("mp reader: skip, read_raw, validate and trailing bytes", "[msg][mp]") {
    std::string v = TRT_BYTES("\x82\xa1" "a" "\x93\x01\x02\x03" "\xa1" "b" "\x81\xc0\xc4\x01\x00");
    std::string two = v + "\x07";
    tr__mp_reader_t r;
    tr__mp_reader_init(&r, two.data(), two.size());
    tr__str_t raw;
    REQUIRE(tr__mp_read_raw(&r, &raw) == 0);
    CHECK(str(raw) == v);
    int64_t i = 0;
    REQUIRE(tr__mp_read_int(&r, &i) == 0);
    CHECK(i == 7);
    CHECK(r.p == r.end);
    CHECK(tr__mp_validate(v.data(), v.size()) == 0);
    CHECK(tr__mp_validate(two.data(), two.size()) == -1); // trailing byte
    // a failed skip leaves the reader where it was
    std::string bad = TRT_BYTES("\x92\x01\xc1");
    tr__mp_reader_init(&r, bad.data(), bad.size());
    CHECK(tr__mp_skip(&r) == -1);
    CHECK(r.p == (const uint8_t *)bad.data());
}

TEST_CASE("mp reader: read_str and read_int refuse other kinds without moving", "[msg][mp]") {
    std::string s = TRT_BYTES("\x05\xa2" "hi");
    tr__mp_reader_t r;
    tr__mp_reader_init(&r, s.data(), s.size());
    tr__str_t out;
    CHECK(tr__mp_read_str(&r, &out) == -1);
    int64_t v;
    REQUIRE(tr__mp_read_int(&r, &v) == 0);
    CHECK(v == 5);
    CHECK(tr__mp_read_int(&r, &v) == -1);
    REQUIRE(tr__mp_read_str(&r, &out) == 0);
    CHECK(str(out) == "hi");
}

TEST_CASE("mp reader: map_get finds str keys, skips other keys and container values",
          "[msg][mp]") {
    std::string m = TRT_BYTES("\x84" "\x01" "\xa1" "x"           // 1: "x"
                              "\x91\xa3" "cid" "\x02"             // ["cid"]: 2
                              "\xa1" "a" "\x92\x81\xa1" "b" "\x01\x90" // a: [{b:1}, []]
                              "\xa3" "cid" "\xa2" "c1");          // cid: "c1"
    tr__str_t val;
    REQUIRE(tr__mp_map_get(S(m), "cid", &val) == 0);
    CHECK(str(val) == "\xa2" "c1");
    REQUIRE(tr__mp_map_get(S(m), "a", &val) == 0);
    CHECK(tohex(str(val)) == "9281a1620190");
    CHECK(tr__mp_map_get(S(m), "nope", &val) == -1);
    CHECK(tr__mp_map_get(S("\x91\x01"), "a", &val) == -1);  // not a map
    CHECK(tr__mp_map_get(S("\x81\xa1" "a"), "a", &val) == -1); // truncated
}

TEST_CASE("mp: kind names for messages", "[msg][mp]") {
    CHECK(std::string(tr__mp_kind_name(TR__MP_NIL)) == "nil");
    CHECK(std::string(tr__mp_kind_name(TR__MP_BIN)) == "bin");
    CHECK(std::string(tr__mp_kind_name(TR__MP_EXT)) == "ext");
    CHECK(std::string(tr__mp_kind_name(TR__MP_MAP)) == "map");
}

TEST_CASE("mp writer: the buffer grows across many writes and raw copies verbatim",
          "[msg][mp]") {
    wbuf w;
    for (int i = 0; i < 100000; i++)
        tr__mp_int(&w.b, i);
    std::string big(3 << 20, 'z');
    tr__mp_str(&w.b, big.data(), big.size());
    tr__mp_raw(&w.b, "\x93\x01\x02\x03", 4);
    REQUIRE(w.b.oom == 0);
    tr__mp_reader_t r;
    tr__mp_reader_init(&r, w.b.p, w.b.len);
    for (int i = 0; i < 100000; i++) {
        int64_t v = -1;
        REQUIRE(tr__mp_read_int(&r, &v) == 0);
        REQUIRE(v == i);
    }
    tr__str_t s;
    REQUIRE(tr__mp_read_str(&r, &s) == 0);
    CHECK(s.n == big.size());
    REQUIRE(tr__mp_skip(&r) == 0);
    CHECK(r.p == r.end);
}

TEST_CASE("mp writer: after a failure (oom) nothing more is written, encoders roll back",
          "[msg][mp]") {
    wbuf w;
    tr__enc_stop(&w.b, S("c1"));
    size_t len = w.b.len;
    w.b.oom = 1; // as if an allocation had failed
    tr__mp_int(&w.b, 1);
    tr__mp_str(&w.b, "abc", 3);
    tr__enc_payload(&w.b, TR__MSG_YIELD, S("c1"), S("\x01"));
    CHECK(w.b.len == len);
    CHECK(tr__wbuf_reserve(&w.b, 1) == -1);
    // an invalid payload type is refused the same way
    wbuf w2;
    tr__enc_payload(&w2.b, TR__MSG_STOP, S("c1"), S("\x01"));
    CHECK(w2.b.oom == 1);
    CHECK(w2.b.len == 0);
}

TEST_CASE("framing: frame_begin/end write the LE prefix and frame_peek splits a stream",
          "[msg][mp][frame]") {
    wbuf w;
    size_t off = tr__frame_begin(&w.b);
    std::string body(300, 'q');
    tr__mp_raw(&w.b, body.data(), body.size());
    REQUIRE(tr__frame_end(&w.b, off) == 0);
    std::string f = w.bytes();
    CHECK(tohex(f.substr(0, 4)) == "2c010000"); // 300 little-endian
    size_t n = 0;
    CHECK(tr__frame_peek(f.data(), 3, 1000, &n) == TR_EAGAIN);
    CHECK(tr__frame_peek(f.data(), 4, 1000, &n) == TR_EAGAIN);
    CHECK(n == 300);
    CHECK(tr__frame_peek(f.data(), f.size() - 1, 1000, &n) == TR_EAGAIN);
    CHECK(tr__frame_peek(f.data(), f.size(), 1000, &n) == 0);
    CHECK(tr__frame_peek(f.data(), f.size(), 299, &n) == TR_EMSGSIZE);
    std::string huge = TRT_BYTES("\xff\xff\xff\xff");
    CHECK(tr__frame_peek(huge.data(), 4, TR__FRAME_MAX_DEFAULT, &n) == TR_EMSGSIZE);
    CHECK(n == 0xffffffffu);
    CHECK(tr__frame_end(&w.b, w.b.len) == -1); // not a frame start
}
