// Test-side helpers for the core/msg tests: hex, JSONL loading, a generic
// msgpack -> JSON converter following tests/conformance/README.md's
// conventions, a decoded-message -> JSON view, and re-encoding of decoded
// messages with the tr__enc_* functions. Header-only (several test files).
#pragma once

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstring>
#include <cstdio>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "core/msg/msg.h"
#include "tractor/tractor.h"

namespace trt {

using json = nlohmann::ordered_json;

#define TRT_BYTES(lit) std::string((lit), sizeof(lit) - 1)

inline tr__str_t S(const std::string &s) { return tr__str_t{s.data(), s.size()}; }
inline tr__str_t S(const char *s) { return tr__str_t{s, std::strlen(s)}; }
inline std::string str(tr__str_t s) { return s.n ? std::string(s.p, s.n) : std::string(); }

inline std::string unhex(const std::string &h) {
    REQUIRE(h.size() % 2 == 0);
    std::string out;
    out.reserve(h.size() / 2);
    for (size_t i = 0; i < h.size(); i += 2)
        out.push_back(static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16)));
    return out;
}

inline std::string tohex(const void *p, size_t n) {
    static const char d[] = "0123456789abcdef";
    const unsigned char *b = static_cast<const unsigned char *>(p);
    std::string out;
    for (size_t i = 0; i < n; i++) {
        out.push_back(d[b[i] >> 4]);
        out.push_back(d[b[i] & 15]);
    }
    return out;
}
inline std::string tohex(const std::string &s) { return tohex(s.data(), s.size()); }

inline std::string data_path(const std::string &rel) {
    return std::string(TR_TEST_DATA_DIR) + "/" + rel;
}

inline std::vector<json> load_jsonl(const std::string &rel) {
    std::ifstream in(data_path(rel));
    REQUIRE(in.good());
    std::vector<json> out;
    std::string line;
    while (std::getline(in, line))
        if (!line.empty())
            out.push_back(json::parse(line));
    return out;
}

inline std::vector<std::string> transcript_files() {
    return {"context_cancel_by_parent.jsonl", "context_child_self_cancel.jsonl",
            "context_stream.jsonl",           "overrun.jsonl",
            "registrar.jsonl",                "remote_error.jsonl",
            "run_in_actor.jsonl",             "start_actor_run_cancel.jsonl"};
}

// ---- msgpack -> JSON (README conventions) -------------------------------

inline json mp_value(tr__mp_reader_t *r) {
    tr__mp_tok_t t;
    REQUIRE(tr__mp_next(r, &t) == 0);
    switch (t.kind) {
    case TR__MP_NIL: return nullptr;
    case TR__MP_BOOL: return static_cast<bool>(t.b);
    case TR__MP_INT:
        if (t.is_unsigned)
            return t.u;
        return t.i;
    case TR__MP_FLOAT:
        if (std::isnan(t.f))
            return json{{"$float", "nan"}};
        if (std::isinf(t.f))
            return json{{"$float", t.f > 0 ? "inf" : "-inf"}};
        return t.f;
    case TR__MP_STR: return str(t.str);
    case TR__MP_BIN: return json{{"$bin", tohex(t.str.p, t.str.n)}};
    case TR__MP_EXT:
        return json{{"$ext", {{"code", static_cast<int>(t.ext_type)}, {"data", tohex(t.str.p, t.str.n)}}}};
    case TR__MP_ARRAY: {
        json a = json::array();
        for (uint32_t i = 0; i < t.count; i++)
            a.push_back(mp_value(r));
        return a;
    }
    case TR__MP_MAP: {
        std::vector<std::pair<json, json>> kv;
        bool all_str = true;
        for (uint32_t i = 0; i < t.count; i++) {
            json k = mp_value(r);
            json v = mp_value(r);
            all_str = all_str && k.is_string();
            kv.emplace_back(std::move(k), std::move(v));
        }
        if (!all_str) {
            json m = json::array();
            for (auto &p : kv)
                m.push_back(json::array({p.first, p.second}));
            return json{{"$map", m}};
        }
        json o = json::object();
        for (auto &p : kv)
            o[p.first.get<std::string>()] = p.second;
        return o;
    }
    }
    FAIL("unknown token kind");
    return nullptr;
}

inline json mp_to_json(tr__str_t raw) {
    tr__mp_reader_t r;
    tr__mp_reader_init(&r, raw.p, raw.n);
    json j = mp_value(&r);
    REQUIRE(r.p == r.end);
    return j;
}
inline json mp_to_json(const std::string &raw) { return mp_to_json(S(raw)); }

// ---- decoded message -> JSON, in wire order with defaults -----------------

inline json uid_json(tr__uid_t u) { return json::array({str(u.name), str(u.uuid)}); }

inline json msg_to_json(const tr__msg_t &m) {
    json j = json::object();
    j["msg_type"] = tr__msg_type_name(m.type);
    switch (m.type) {
    case TR__MSG_AID: {
        const tr__msg_aid_t &a = m.u.aid;
        j["name"] = str(a.name);
        j["uuid"] = str(a.uuid);
        j["pid"] = a.has_pid ? json(a.pid) : json(nullptr);
        j["is_registrar"] = a.is_registrar == TR__NIL ? json(nullptr) : json(a.is_registrar != 0);
        j["is_probe"] = a.is_probe != 0;
        break;
    }
    case TR__MSG_SPAWNSPEC: {
        const tr__msg_spawnspec_t &s = m.u.spawnspec;
        j["_parent_main_data"] = mp_to_json(s.parent_main_data);
        j["_runtime_vars"] = mp_to_json(s.runtime_vars);
        j["enable_modules"] = mp_to_json(s.enable_modules);
        j["reg_addrs"] = mp_to_json(s.reg_addrs);
        j["bind_addrs"] = mp_to_json(s.bind_addrs);
        break;
    }
    case TR__MSG_START: {
        const tr__msg_start_t &s = m.u.start;
        j["cid"] = str(m.cid);
        j["ns"] = str(s.ns);
        j["func"] = str(s.func);
        j["kwargs"] = mp_to_json(s.kwargs);
        j["uid"] = uid_json(s.uid);
        j["pld_spec"] = str(s.pld_spec);
        break;
    }
    case TR__MSG_STARTACK:
        j["cid"] = str(m.cid);
        j["functype"] = str(m.u.functype);
        break;
    case TR__MSG_STARTED:
    case TR__MSG_YIELD:
    case TR__MSG_RETURN:
        j["cid"] = str(m.cid);
        j["pld"] = mp_to_json(m.u.pld);
        break;
    case TR__MSG_STOP: j["cid"] = str(m.cid); break;
    case TR__MSG_CANCELACK:
        j["cid"] = str(m.cid);
        j["pld"] = m.u.cancelack != 0;
        break;
    case TR__MSG_ERROR: {
        const tr__msg_error_t &e = m.u.error;
        j["src_uid"] = uid_json(e.src_uid);
        j["src_type_str"] = str(e.src_type_str);
        j["boxed_type_str"] = str(e.boxed_type_str);
        j["relay_path"] = mp_to_json(e.relay_path);
        j["message"] = e.has_message ? json(str(e.message)) : json(nullptr);
        j["tb_str"] = str(e.tb_str);
        j["canceller"] = e.has_canceller ? uid_json(e.canceller) : json(nullptr);
        j["sender"] = e.has_sender ? uid_json(e.sender) : json(nullptr);
        j["cid"] = m.has_cid ? json(str(m.cid)) : json(nullptr);
        j["_bad_msg"] = e.bad_msg.n ? mp_to_json(e.bad_msg) : json(nullptr);
        j["_bad_msg_as_dict"] = e.bad_msg_as_dict.n ? mp_to_json(e.bad_msg_as_dict) : json(nullptr);
        break;
    }
    default: FAIL("unexpected message type"); break;
    }
    return j;
}

// ---- re-encoding a decoded message with the tr__enc_* functions ---------

struct wbuf {
    tr__wbuf_t b;
    wbuf() { tr__wbuf_init(&b); }
    ~wbuf() { tr__wbuf_free(&b); }
    wbuf(const wbuf &) = delete;
    wbuf &operator=(const wbuf &) = delete;
    std::string bytes() const {
        return b.len ? std::string(reinterpret_cast<const char *>(b.p), b.len) : std::string();
    }
};

inline std::string reencode(const tr__msg_t &m) {
    wbuf w;
    switch (m.type) {
    case TR__MSG_AID: {
        const tr__msg_aid_t &a = m.u.aid;
        tr__enc_aid(&w.b, a.name, a.uuid, a.has_pid ? a.pid : -1, a.is_registrar, a.is_probe);
        break;
    }
    case TR__MSG_SPAWNSPEC: {
        const tr__msg_spawnspec_t &s = m.u.spawnspec;
        tr__enc_spawnspec(&w.b, s.parent_main_data, s.runtime_vars, s.enable_modules,
                          s.reg_addrs, s.bind_addrs);
        break;
    }
    case TR__MSG_START: {
        const tr__msg_start_t &s = m.u.start;
        tr__enc_start(&w.b, m.cid, s.ns, s.func, s.kwargs, s.uid, s.pld_spec);
        break;
    }
    case TR__MSG_STARTACK: tr__enc_startack(&w.b, m.cid, m.u.functype); break;
    case TR__MSG_STARTED:
    case TR__MSG_YIELD:
    case TR__MSG_RETURN: tr__enc_payload(&w.b, m.type, m.cid, m.u.pld); break;
    case TR__MSG_STOP: tr__enc_stop(&w.b, m.cid); break;
    case TR__MSG_CANCELACK: tr__enc_cancelack(&w.b, m.cid, m.u.cancelack); break;
    case TR__MSG_ERROR: {
        const tr__msg_error_t &e = m.u.error;
        size_t n = 0;
        REQUIRE(tr__msg_read_uids(e.relay_path, nullptr, 0, &n) == 0);
        std::vector<tr__uid_t> relay(n);
        REQUIRE(tr__msg_read_uids(e.relay_path, relay.data(), n, &n) == 0);
        tr__error_fields_t f{};
        f.src_uid = e.src_uid;
        f.src_type_str = e.src_type_str;
        f.boxed_type_str = e.boxed_type_str;
        f.relay = relay.data();
        f.n_relay = n;
        f.has_message = e.has_message;
        f.message = e.message;
        f.tb_str = e.tb_str;
        f.canceller = e.has_canceller ? &e.canceller : nullptr;
        f.sender = e.has_sender ? &e.sender : nullptr;
        f.cid = m.has_cid ? &m.cid : nullptr;
        f.bad_msg = e.bad_msg;
        f.bad_msg_as_dict = e.bad_msg_as_dict;
        tr__enc_error(&w.b, &f);
        break;
    }
    default: FAIL("unexpected message type"); break;
    }
    REQUIRE(w.b.oom == 0);
    return w.bytes();
}

// Decode a body; on failure the code and message are returned too.
// The slices in `m` point into `body`, an exactly-sized heap copy of the
// input (so ASan catches any read past its end); moving keeps it valid.
struct decoded {
    int rc;
    tr__msg_t m;
    std::string err;
    std::vector<char> body;
};

inline decoded decode(const std::string &body) {
    decoded d{};
    char err[256] = "";
    d.body.assign(body.begin(), body.end());
    d.rc = tr__msg_decode(d.body.empty() ? nullptr : d.body.data(), d.body.size(), &d.m, err,
                          sizeof err);
    d.err = err;
    return d;
}

// A raw msgpack map body split into (key raw, value raw) pairs, and back.
using pairs_t = std::vector<std::pair<std::string, std::string>>;

inline pairs_t split_map(const std::string &body) {
    tr__mp_reader_t r;
    tr__mp_tok_t t;
    tr__mp_reader_init(&r, body.data(), body.size());
    REQUIRE(tr__mp_next(&r, &t) == 0);
    REQUIRE(t.kind == TR__MP_MAP);
    pairs_t out;
    for (uint32_t i = 0; i < t.count; i++) {
        tr__str_t k, v;
        REQUIRE(tr__mp_read_raw(&r, &k) == 0);
        REQUIRE(tr__mp_read_raw(&r, &v) == 0);
        out.emplace_back(str(k), str(v));
    }
    return out;
}

inline std::string join_map(const pairs_t &pairs) {
    wbuf w;
    tr__mp_map(&w.b, static_cast<uint32_t>(pairs.size()));
    for (auto &p : pairs) {
        tr__mp_raw(&w.b, p.first.data(), p.first.size());
        tr__mp_raw(&w.b, p.second.data(), p.second.size());
    }
    return w.bytes();
}

inline std::string mp_key(const std::string &k) {
    wbuf w;
    tr__mp_str(&w.b, k.data(), k.size());
    return w.bytes();
}

} // namespace trt
