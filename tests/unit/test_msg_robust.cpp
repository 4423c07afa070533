// The decoder is total: on any input it returns 0, TR_EPROTO or
// TR_EMSGTYPE with a message, never reads out of bounds (the input is always
// an exactly-sized heap copy, so ASan builds catch over-reads), never
// allocates for declared lengths, and bounds nesting.
#include "test_msg_util.hpp"

#include <map>

using namespace trt;

namespace {

std::string body_of(const std::string &frame) { return frame.substr(4); }

// A set of valid bodies: our encoders' output for every type, plus some of
// the largest/most nested frames from the conformance data.
std::vector<std::pair<std::string, std::string>> sample_bodies() {
    std::vector<std::pair<std::string, std::string>> out;
    tr__uid_t u{S("root"), S("ef053993-02d4-4f32-8f5f-f1a517896ab4")};
    {
        wbuf w;
        tr__enc_aid(&w.b, u.name, u.uuid, 4242, 1, 0);
        out.emplace_back("Aid", body_of(w.bytes()));
    }
    {
        wbuf w;
        tr__enc_start(&w.b, S("c1"), S("self"), S("find_actor"),
                      S("\x81\xa4" "name" "\xa5" "child"), u, tr__str_t{nullptr, 0});
        out.emplace_back("Start", body_of(w.bytes()));
    }
    {
        wbuf w;
        tr__enc_payload(&w.b, TR__MSG_YIELD, S("c1"), S("\x92\x01\x81\xa1" "k" "\x90"));
        out.emplace_back("Yield", body_of(w.bytes()));
    }
    {
        wbuf w;
        tr__enc_stop(&w.b, S("c1"));
        out.emplace_back("Stop", body_of(w.bytes()));
    }
    {
        wbuf w;
        tr__enc_cancelack(&w.b, S("c1"), 1);
        out.emplace_back("CancelAck", body_of(w.bytes()));
    }
    std::map<std::string, bool> want = {{"SpawnSpec/start_actor", true},
                                        {"Start/user-kwargs-mixed", true},
                                        {"Error/inception", true},
                                        {"Error/MsgTypeError-bad_msg", true},
                                        {"Error/StreamOverrun", true},
                                        {"StartAck/context", true},
                                        {"Started/map-int-keys", true},
                                        {"Return/get_registry-map", true}};
    for (const json &l : load_jsonl("frames.jsonl"))
        if (want.count(l["name"]))
            out.emplace_back(l["name"], unhex(l["hex"]));
    REQUIRE(out.size() == 13);
    return out;
}

void expect_rejected(const decoded &d, int rc) {
    CHECK(d.rc == rc);
    CHECK(!d.err.empty());
}

std::string yield_with_pld(const std::string &pld) {
    return TRT_BYTES("\x83\xa8" "msg_type" "\xa5" "Yield" "\xa3" "cid" "\xa1" "c" "\xa3" "pld") +
           pld;
}

} // namespace

TEST_CASE("robust: every strict prefix of valid bodies is TR_EPROTO (truncated)",
          "[msg][robust]") {
    for (auto &s : sample_bodies()) {
        INFO(s.first);
        REQUIRE(decode(s.second).rc == 0);
        for (size_t n = 0; n < s.second.size(); n++) {
            INFO("prefix " << n << " of " << s.second.size());
            decoded d = decode(s.second.substr(0, n));
            expect_rejected(d, TR_EPROTO);
            if (n == 0)
                CHECK(d.err == "empty message body");
            else
                CHECK(d.err.rfind("malformed msgpack at byte ", 0) == 0);
        }
    }
}

TEST_CASE("robust: every truncated frame is TR_EPROTO at the frame level too", "[msg][robust]") {
    for (auto &s : sample_bodies()) {
        std::string body = s.second;
        uint32_t n = uint32_t(body.size());
        std::string frame = std::string{char(n), char(n >> 8), char(n >> 16), char(n >> 24)} + body;
        for (size_t k = 0; k < frame.size(); k++) {
            std::vector<char> copy(frame.begin(), frame.begin() + long(k));
            tr__msg_t m;
            char err[128] = "";
            CHECK(tr__msg_decode_frame(copy.data(), k, &m, err, sizeof err) == TR_EPROTO);
            CHECK(err[0] != 0);
            size_t bl;
            CHECK(tr__frame_peek(copy.data(), k, TR__FRAME_MAX_DEFAULT, &bl) == TR_EAGAIN);
        }
    }
}

TEST_CASE("robust: trailing garbage after a complete body is TR_EPROTO", "[msg][robust]") {
    for (auto &s : sample_bodies()) {
        INFO(s.first);
        for (std::string tail : {TRT_BYTES("\x00"), TRT_BYTES("\xc0"), TRT_BYTES("\xc1"),
                                 TRT_BYTES("\xff\xff"), TRT_BYTES("\x81\xa1" "a" "\x01")}) {
            decoded d = decode(s.second + tail);
            expect_rejected(d, TR_EPROTO);
            CHECK(d.err.find(std::to_string(tail.size()) + " trailing byte(s)") != std::string::npos);
        }
    }
}

TEST_CASE("robust: byte 0xc1 where a token starts is TR_EPROTO, in any position",
          "[msg][robust]") {
    std::vector<std::string> bodies = {
        TRT_BYTES("\xc1"),
        yield_with_pld("\xc1"),
        yield_with_pld(TRT_BYTES("\x93\x01\x91\xc1\x02")),
        yield_with_pld(TRT_BYTES("\x81\xc1\x01")),
        TRT_BYTES("\x82\xc1\x01\xa8" "msg_type" "\xa4" "Stop"),            // as a key
        TRT_BYTES("\x82\xa8" "msg_type" "\xc1\xa3" "cid" "\xa1" "c"),      // as the tag
        TRT_BYTES("\x82\xa8" "msg_type" "\xa4" "Stop" "\xa3" "cid" "\xc1"), // as the cid
    };
    for (auto &b : bodies) {
        INFO(tohex(b));
        decoded d = decode(b);
        expect_rejected(d, TR_EPROTO);
        CHECK(d.err.find("invalid byte 0xc1") != std::string::npos);
    }
}

TEST_CASE("robust: a payload nested 10000 deep is TR_EPROTO, 63 deep is fine",
          "[msg][robust]") {
    // The body map is level 1, so a payload may nest 63 more levels.
    auto deep = [](size_t levels) { return std::string(levels, '\x91') + "\x01"; };
    CHECK(decode(yield_with_pld(deep(TR__MP_MAX_DEPTH - 1))).rc == 0);
    for (size_t levels : {size_t(TR__MP_MAX_DEPTH), size_t(10000)}) {
        decoded d = decode(yield_with_pld(deep(levels)));
        expect_rejected(d, TR_EPROTO);
        CHECK(d.err.find("nesting deeper than 64 levels") != std::string::npos);
    }
    // maps nested as values of an unknown key, and as a key
    std::string maps;
    for (int i = 0; i < 10000; i++)
        maps += TRT_BYTES("\x81\xa1" "k");
    decoded d = decode(TRT_BYTES("\x82\xa8" "msg_type" "\xa4" "Stop" "\xa1" "x") + maps + "\x01");
    expect_rejected(d, TR_EPROTO);
    d = decode(TRT_BYTES("\x82\xa8" "msg_type" "\xa4" "Stop") + std::string(10000, '\x91') + "\x01" +
               "\x01");
    expect_rejected(d, TR_EPROTO);
    // 10000-deep top-level maps
    d = decode(maps + "\x01");
    expect_rejected(d, TR_EPROTO);
    CHECK(d.err.find("nesting deeper") != std::string::npos);
}

TEST_CASE("robust: declared str/bin/array/map/ext lengths of 0xffffffff are TR_EPROTO",
          "[msg][robust]") {
    for (std::string v : {TRT_BYTES("\xdb\xff\xff\xff\xff" "ab"), TRT_BYTES("\xc6\xff\xff\xff\xff" "ab"),
                          TRT_BYTES("\xdd\xff\xff\xff\xff\x01"), TRT_BYTES("\xdf\xff\xff\xff\xff\x01\x01"),
                          TRT_BYTES("\xc9\xff\xff\xff\xff\x05" "ab")}) {
        INFO(tohex(v));
        // as the payload, as the cid, as a key, and as the whole body
        std::vector<std::string> bodies = {
            yield_with_pld(v),
            TRT_BYTES("\x82\xa8" "msg_type" "\xa4" "Stop" "\xa3" "cid") + v,
            TRT_BYTES("\x82\xa8" "msg_type" "\xa4" "Stop") + v,
            v,
        };
        for (auto &b : bodies) {
            decoded d = decode(b);
            expect_rejected(d, TR_EPROTO);
            CHECK(d.err.find("declared length exceeds the remaining input") !=
                  std::string::npos);
        }
    }
}

TEST_CASE("robust: mutating any byte of valid bodies never crashes and always explains",
          "[msg][robust]") {
    const unsigned char subst[] = {0x00, 0x01, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0,
                                   0xc1, 0xc2, 0xc4, 0xc7, 0xc9, 0xcb, 0xcf, 0xd3, 0xd4, 0xd8,
                                   0xd9, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xff};
    size_t decoded_ok = 0, rejected = 0;
    for (auto &s : sample_bodies()) {
        for (size_t i = 0; i < s.second.size(); i++) {
            for (unsigned char c : subst) {
                std::string b = s.second;
                b[i] = char(c);
                decoded d = decode(b);
                if (d.rc == 0) {
                    decoded_ok++;
                    // whatever decodes must re-encode and decode again
                    decoded again = decode(reencode(d.m).substr(4));
                    CHECK(again.rc == 0);
                    continue;
                }
                rejected++;
                INFO(s.first << " byte " << i << " := " << int(c) << ": " << d.err);
                CHECK((d.rc == TR_EPROTO || d.rc == TR_EMSGTYPE));
                CHECK(!d.err.empty());
            }
        }
    }
    CHECK(decoded_ok > 0);
    CHECK(rejected > 0);
}

TEST_CASE("robust: unknown msg_type values are TR_EMSGTYPE and shown safely",
          "[msg][robust]") {
    struct { std::string tag; std::string shown; } cases[] = {
        {"Bogus", "unknown msg_type 'Bogus'"},
        {"", "unknown msg_type ''"},
        {"yield", "unknown msg_type 'yield'"},           // case matters
        {"Yield ", "unknown msg_type 'Yield '"},
        {std::string("Yi\x00" "ld\n", 6), "unknown msg_type 'Yi?ld?'"},
        {std::string(100, 'A'), "unknown msg_type '" + std::string(48, 'A') + "...'"},
    };
    for (auto &c : cases) {
        wbuf w;
        tr__mp_map(&w.b, 2);
        tr__mp_cstr(&w.b, "msg_type");
        tr__mp_str(&w.b, c.tag.data(), c.tag.size());
        tr__mp_cstr(&w.b, "cid");
        tr__mp_cstr(&w.b, "c");
        decoded d = decode(w.bytes());
        CHECK(d.rc == TR_EMSGTYPE);
        CHECK(d.err == c.shown);
        CHECK(d.m.type == TR__MSG_NONE);
    }
}

TEST_CASE("robust: msg_type may come anywhere and unknown keys are ignored", "[msg][robust]") {
    for (auto &s : sample_bodies()) {
        INFO(s.first);
        decoded ref = decode(s.second);
        REQUIRE(ref.rc == 0);
        json want = msg_to_json(ref.m);
        pairs_t p = split_map(s.second);
        // reversed order: msg_type last
        pairs_t rev(p.rbegin(), p.rend());
        decoded d = decode(join_map(rev));
        REQUIRE(d.rc == 0);
        CHECK(msg_to_json(d.m) == want);
        // unknown keys (with container values) at the front, middle and end
        pairs_t extra = p;
        extra.insert(extra.begin(), {mp_key("zzz"), TRT_BYTES("\x92\x81\xa1" "a" "\x01\x90")});
        extra.insert(extra.begin() + 2, {mp_key("msg_typ"), mp_key("Bogus")});
        extra.push_back({mp_key("_private"), TRT_BYTES("\xc4\x01\x00")});
        d = decode(join_map(extra));
        REQUIRE(d.rc == 0);
        CHECK(msg_to_json(d.m) == want);
        // re-encoding puts everything back in canonical order
        CHECK(tohex(reencode(d.m).substr(4)) == tohex(reencode(ref.m).substr(4)));
    }
}

TEST_CASE("robust: a non-str key in the message map is TR_EMSGTYPE", "[msg][robust]") {
    for (std::string key : {TRT_BYTES("\x01"), TRT_BYTES("\xc0"), TRT_BYTES("\x91\x01"),
                            TRT_BYTES("\x81\xa1" "a" "\x02"), TRT_BYTES("\xc4\x01" "x")}) {
        INFO(tohex(key));
        pairs_t p = split_map(TRT_BYTES("\x82\xa8" "msg_type" "\xa4" "Stop" "\xa3" "cid" "\xa1" "c"));
        p.push_back({key, TRT_BYTES("\x01")});
        decoded d = decode(join_map(p));
        CHECK(d.rc == TR_EMSGTYPE);
        CHECK(d.err.rfind("Stop: map keys must be str, got ", 0) == 0);
    }
}

TEST_CASE("robust: a repeated field keeps its last value", "[msg][robust]") {
    decoded d = decode(TRT_BYTES("\x83\xa8" "msg_type" "\xa4" "Stop" "\xa3" "cid" "\xa1" "a"
                                 "\xa3" "cid" "\xa1" "b"));
    REQUIRE(d.rc == 0);
    CHECK(str(d.m.cid) == "b");
}

TEST_CASE("robust: errbuf may be NULL or tiny and messages are truncated safely", "[msg][robust]") {
    std::string bad = TRT_BYTES("\x82\xa8" "msg_type" "\xa4" "Stop" "\xa3" "cid" "\x07");
    tr__msg_t m;
    CHECK(tr__msg_decode(bad.data(), bad.size(), &m, nullptr, 0) == TR_EMSGTYPE);
    char tiny[8];
    std::memset(tiny, 'x', sizeof tiny);
    CHECK(tr__msg_decode(bad.data(), bad.size(), &m, tiny, sizeof tiny) == TR_EMSGTYPE);
    CHECK(std::string(tiny) == "Stop.ci");
    CHECK(tr__msg_decode(bad.data(), 0, &m, tiny, 1) == TR_EPROTO);
    CHECK(tiny[0] == 0);
}
