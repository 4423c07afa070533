// Conformance against frames captured from / constructed by Python tractor
// (tests/conformance, see its README): every frame decodes to the stated
// type and fields, and re-encoding the decoded fields gives the same bytes;
// every bad frame is rejected with the right error class and a message.
#include "test_msg_util.hpp"

#include <map>

using namespace trt;

namespace {

// Decode, compare with the generic rendering, re-encode, compare bytes.
void check_roundtrip(const std::string &hex, const std::string &msg_type, const json &value,
                     const std::string *frame_hex) {
    std::string body = unhex(hex);
    decoded d = decode(body);
    INFO("decode error: " << d.err);
    REQUIRE(d.rc == 0);
    CHECK(tr__msg_type_name(d.m.type) == msg_type);
    // The README's generic rendering of the body equals `value` ...
    CHECK(mp_to_json(body) == value);
    // ... and so does our typed view of the decoded fields (wire order,
    // defaults filled in).
    CHECK(msg_to_json(d.m) == value);
    std::string frame = reencode(d.m);
    REQUIRE(frame.size() >= 4);
    CHECK(tohex(frame.substr(4)) == hex);
    if (frame_hex) {
        CHECK(tohex(frame) == *frame_hex);
        tr__msg_t m2;
        char err[200] = "";
        std::string f = unhex(*frame_hex);
        CHECK(tr__msg_decode_frame(f.data(), f.size(), &m2, err, sizeof err) == 0);
    }
}

} // namespace

TEST_CASE("conformance frames.jsonl: every frame decodes and re-encodes byte for byte",
          "[msg][conformance]") {
    std::vector<json> lines = load_jsonl("frames.jsonl");
    REQUIRE(lines.size() == 191);
    std::map<std::string, int> per_type;
    for (const json &l : lines) {
        std::string name = l["name"];
        INFO("frame " << name);
        std::string fh = l["frame_hex"];
        check_roundtrip(l["hex"], l["msg_type"], l["value"], &fh);
        per_type[l["msg_type"]]++;
    }
    // All ten message types are covered by the data.
    CHECK(per_type.size() == 10);
}

TEST_CASE("conformance frames.jsonl: payloads that need exact ints and floats",
          "[msg][conformance]") {
    // Spot checks on the boundaries, beyond the generic comparison.
    std::map<std::string, json> by_name;
    for (const json &l : load_jsonl("frames.jsonl"))
        by_name[l["name"]] = l;
    auto pld = [&](const std::string &name) {
        decoded d = decode(unhex(by_name.at(name)["hex"]));
        REQUIRE(d.rc == 0);
        return str(d.m.u.pld);
    };
    CHECK(tohex(pld("Yield/int-2p63-1")) == "cf7fffffffffffffff");
    CHECK(tohex(pld("Yield/int-2p64-1")) == "cfffffffffffffffff");
    CHECK(tohex(pld("Yield/int-neg2p63")) == "d38000000000000000");
    CHECK(tohex(pld("Yield/float-neg0")) == "cb8000000000000000");
    tr__mp_reader_t r;
    tr__mp_tok_t t;
    std::string big = pld("Return/int-2p64-1");
    tr__mp_reader_init(&r, big.data(), big.size());
    REQUIRE(tr__mp_next(&r, &t) == 0);
    CHECK(t.is_unsigned == 1);
    CHECK(t.u == UINT64_MAX);
}

TEST_CASE("conformance transcripts: every frame of every session round-trips",
          "[msg][conformance]") {
    size_t total = 0;
    for (const std::string &file : transcript_files()) {
        std::vector<json> lines = load_jsonl("transcripts/" + file);
        REQUIRE(!lines.empty());
        for (size_t i = 0; i < lines.size(); i++) {
            const json &l = lines[i];
            INFO(file << " line " << i + 1 << " " << l["msg_type"]);
            check_roundtrip(l["hex"], l["msg_type"], l["value"], nullptr);
            total++;
        }
    }
    CHECK(total == 652);
}

TEST_CASE("conformance transcripts: every connection starts with an Aid from each side",
          "[msg][conformance]") {
    for (const std::string &file : transcript_files()) {
        std::map<std::string, std::vector<std::string>> first_sends; // conn -> actors
        for (const json &l : load_jsonl("transcripts/" + file)) {
            if (l["dir"] != "send")
                continue;
            std::string key = l["conn"].get<std::string>() + "/" + l["actor"].get<std::string>();
            if (first_sends.count(key))
                continue;
            decoded d = decode(unhex(l["hex"]));
            REQUIRE(d.rc == 0);
            INFO(file << " " << key);
            CHECK(d.m.type == TR__MSG_AID);
            first_sends[key] = {};
        }
    }
}

namespace {

struct bad_case {
    int rc;            // expected error class
    const char *needle; // what the message must say
};

// One entry per line of bad_frames.jsonl. Schema violations are
// TR_EMSGTYPE; broken msgpack and non-map bodies TR_EPROTO (msg.h).
const std::map<std::string, bad_case> BAD = {
    {"unknown-msg_type", {TR_EMSGTYPE, "unknown msg_type 'Bogus'"}},
    {"missing-msg_type", {TR_EMSGTYPE, "missing required field `msg_type`"}},
    {"msg_type-not-str", {TR_EMSGTYPE, "msg_type: expected str, got int"}},
    {"Yield-missing-cid", {TR_EMSGTYPE, "Yield: missing required field `cid`"}},
    {"Started-missing-pld", {TR_EMSGTYPE, "Started: missing required field `pld`"}},
    {"Aid-missing-uuid", {TR_EMSGTYPE, "Aid: missing required field `uuid`"}},
    {"Stop-cid-int", {TR_EMSGTYPE, "Stop.cid: expected str, got int"}},
    {"Stop-cid-nil", {TR_EMSGTYPE, "Stop.cid: expected str, got nil"}},
    {"Aid-pid-str", {TR_EMSGTYPE, "Aid.pid: expected int or nil, got str"}},
    {"StartAck-bad-functype", {TR_EMSGTYPE, "StartAck.functype: invalid value 'coroutine'"}},
    {"CancelAck-pld-not-bool", {TR_EMSGTYPE, "CancelAck.pld: expected bool, got str"}},
    {"Start-uid-str", {TR_EMSGTYPE, "Start.uid: expected array of 2 str, got str"}},
    {"Start-uid-3-array", {TR_EMSGTYPE, "Start.uid: expected array of length 2, got length 3"}},
    {"Start-kwargs-array", {TR_EMSGTYPE, "Start.kwargs: expected map, got array"}},
    {"Error-relay_path-not-list",
     {TR_EMSGTYPE, "Error.relay_path: expected array of [str, str], got str"}},
    {"top-level-array", {TR_EPROTO, "message body must be a map, got array"}},
    {"top-level-int", {TR_EPROTO, "message body must be a map, got int"}},
    {"top-level-str", {TR_EPROTO, "message body must be a map, got str"}},
    {"truncated-body", {TR_EPROTO, "malformed msgpack at byte"}},
    {"trailing-bytes", {TR_EPROTO, "1 trailing byte(s)"}},
    {"invalid-msgpack-byte", {TR_EPROTO, "invalid byte 0xc1"}},
    {"empty-body", {TR_EPROTO, "empty message body"}},
    // The body itself is a valid Stop; the frame's prefix promises 157
    // bytes that never come (checked below at the frame level).
    {"length-prefix-overruns-stream", {TR_EPROTO, "frame length prefix says 157 byte(s) but 57 follow"}},
};

} // namespace

TEST_CASE("conformance bad_frames.jsonl: each case rejected with its error class and message",
          "[msg][conformance][bad]") {
    std::vector<json> lines = load_jsonl("bad_frames.jsonl");
    REQUIRE(lines.size() == 23);
    REQUIRE(BAD.size() == 23);
    for (const json &l : lines) {
        std::string name = l["name"];
        INFO("bad frame " << name << ": " << l["why"].get<std::string>());
        REQUIRE(BAD.count(name) == 1);
        const bad_case &want = BAD.at(name);
        std::string frame = unhex(l["frame_hex"]);
        tr__msg_t m;
        char err[256] = "";
        int rc = tr__msg_decode_frame(frame.data(), frame.size(), &m, err, sizeof err);
        INFO("got " << rc << " '" << err << "'");
        CHECK(rc == want.rc);
        CHECK(std::string(err).find(want.needle) != std::string::npos);

        if (name == "length-prefix-overruns-stream") {
            // What a stream reader sees: the frame is incomplete, forever.
            size_t body = 0;
            CHECK(tr__frame_peek(frame.data(), frame.size(), TR__FRAME_MAX_DEFAULT, &body) ==
                  TR_EAGAIN);
            CHECK(body == 157);
            continue;
        }
        // The body alone gives the same verdict.
        decoded d = decode(unhex(l["hex"]));
        CHECK(d.rc == want.rc);
        CHECK(d.err.find(want.needle) != std::string::npos);
        // Schema errors follow tractor's classification: ValidationError.
        if (want.rc == TR_EMSGTYPE)
            CHECK(l["tractor_error"]["type"] == "msgspec.ValidationError");
    }
}

TEST_CASE("conformance bad_frames.jsonl: a MsgTypeError can still be routed by type and cid",
          "[msg][conformance][bad]") {
    std::map<std::string, json> by_name;
    for (const json &l : load_jsonl("bad_frames.jsonl"))
        by_name[l["name"]] = l;
    decoded d = decode(unhex(by_name.at("Started-missing-pld")["hex"]));
    REQUIRE(d.rc == TR_EMSGTYPE);
    CHECK(d.m.type == TR__MSG_STARTED);
    CHECK(d.m.has_cid == 1);
    CHECK(str(d.m.cid) == "b5f58707-c0fb-484a-a4a2-e0af69587377");

    d = decode(unhex(by_name.at("Stop-cid-int")["hex"]));
    REQUIRE(d.rc == TR_EMSGTYPE);
    CHECK(d.m.type == TR__MSG_STOP);
    CHECK(d.m.has_cid == 0);

    d = decode(unhex(by_name.at("unknown-msg_type")["hex"]));
    REQUIRE(d.rc == TR_EMSGTYPE);
    CHECK(d.m.type == TR__MSG_NONE);
}
