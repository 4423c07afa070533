// Shared helpers for the multi-process integration tests: a root runtime per
// test, msgpack helpers, and the leftover check (no child process, no socket
// file left behind).
#pragma once
#include <catch2/catch.hpp>
#include <dirent.h>
#include <msgpack.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tractor/tractor.h"

namespace trt {

struct Pack {
    msgpack_sbuffer sb;
    msgpack_packer pk;
    Pack() {
        msgpack_sbuffer_init(&sb);
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    }
    ~Pack() { msgpack_sbuffer_destroy(&sb); }
    Pack(const Pack &) = delete;  // `pk` points at `sb`: never copy
    Pack &operator=(const Pack &) = delete;
    Pack &map(uint32_t n) { msgpack_pack_map(&pk, n); return *this; }
    Pack &str(const std::string &s) { msgpack_pack_str_with_body(&pk, s.data(), s.size()); return *this; }
    Pack &i(int64_t v) { msgpack_pack_int64(&pk, v); return *this; }
    Pack &nil() { msgpack_pack_nil(&pk); return *this; }
    const void *data() const { return sb.data; }
    size_t size() const { return sb.size; }
    void clear() { sb.size = 0; }
};

inline int64_t as_int(const tr_buf_t &b) {
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    int64_t v = INT64_MIN;
    if (msgpack_unpack_next(&u, (const char *)b.data, b.len, NULL) == MSGPACK_UNPACK_SUCCESS) {
        if (u.data.type == MSGPACK_OBJECT_POSITIVE_INTEGER) v = (int64_t)u.data.via.u64;
        else if (u.data.type == MSGPACK_OBJECT_NEGATIVE_INTEGER) v = u.data.via.i64;
    }
    msgpack_unpacked_destroy(&u);
    return v;
}

// pids of every live process whose parent is `ppid`
inline std::vector<int> children_of(int ppid) {
    std::vector<int> out;
    DIR *d = opendir("/proc");
    if (!d) return out;
    while (struct dirent *e = readdir(d)) {
        int pid = atoi(e->d_name);
        if (pid <= 0) continue;
        std::ifstream f(std::string("/proc/") + e->d_name + "/stat");
        std::string line;
        std::getline(f, line);
        auto rp = line.rfind(')');
        if (rp == std::string::npos) continue;
        std::istringstream is(line.substr(rp + 2));
        char state;
        int pp;
        is >> state >> pp;
        if (pp == ppid && state != 'Z') out.push_back(pid);
        if (pp == ppid && state == 'Z') out.push_back(-pid);  // zombie: also a leak
    }
    closedir(d);
    return out;
}

inline bool pid_alive(int pid) {
    if (kill(pid, 0) != 0) return false;
    std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(f, line);
    auto rp = line.rfind(')');
    return rp != std::string::npos && line[rp + 2] != 'Z';
}

inline std::string rt_dir() {
    const char *x = getenv("XDG_RUNTIME_DIR");
    if (x && *x && access(x, W_OK) == 0) return std::string(x) + "/tractor";
    return "/tmp/tractor-" + std::to_string(getuid());
}

inline std::set<std::string> sock_files() {
    std::set<std::string> s;
    DIR *d = opendir(rt_dir().c_str());
    if (!d) return s;
    while (struct dirent *e = readdir(d))
        if (strstr(e->d_name, ".sock")) s.insert(e->d_name);
    closedir(d);
    return s;
}

// Wait (up to ms) until `pred` holds.
template <class F> bool eventually(F pred, int ms = 3000) {
    auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (std::chrono::steady_clock::now() < end) {
        if (pred()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return pred();
}

// A root actor for one test; the destructor closes it and checks that no
// child process and no socket file of ours is left behind.
struct Root {
    tr_runtime_t *rt = nullptr;
    std::set<std::string> socks_before;
    std::vector<int> pids;  // every child pid we saw (grandchildren too)
    std::string registry;   // this root's private registrar address
    explicit Root(const std::string &transport, const char *name = "root") {
        socks_before = sock_files();
        tr_runtime_opts_t o;
        tr_runtime_opts_init(&o);
        o.name = name;
        o.transport = transport.c_str();
        o.handle_signals = 0;
        // Hermetic: each root elects itself registrar at a private address
        // instead of the machine-wide default 127.0.0.1:1616, which other
        // test processes (or unrelated programs) may hold.
        registry = transport == "uds"
                       ? rt_dir() + "/registry@" + std::to_string(getpid()) + ".sock"
                       : std::string("127.0.0.1:0");
        o.registry_addrs = registry.c_str();
        REQUIRE(tr_runtime_open(&o, &rt) == 0);
    }
    void close_and_check() {
        if (!rt) return;
        REQUIRE(tr_runtime_close(rt) == 0);
        rt = nullptr;
        CHECK(eventually([] { return children_of(getpid()).empty(); }));
        for (int p : pids) CHECK(eventually([p] { return !pid_alive(p); }));
        // only our own files count (name@pid.sock of this process or of a
        // child we spawned): other tests run in parallel in the same dir
        std::set<int> ours(pids.begin(), pids.end());
        ours.insert(getpid());
        CHECK(eventually([this, &ours] {
            for (auto &f : sock_files()) {
                if (socks_before.count(f)) continue;
                auto at = f.rfind('@');
                if (at == std::string::npos) continue;
                if (ours.count(atoi(f.c_str() + at + 1))) {
                    UNSCOPED_INFO("left behind: " << f);
                    return false;
                }
            }
            return true;
        }));
    }
    ~Root() {
        if (rt) tr_runtime_close(rt);
    }
};

inline tr_spawn_opts_t c_opts(const char *mods = "testmod") {
    tr_spawn_opts_t o;
    tr_spawn_opts_init(&o);
    o.enable_modules = mods;
    return o;
}

// A C child serving testmod, started in its own nursery; done() cancels it
// and closes the nursery, checking both went well.
struct ServingChild {
    tr_nursery_t *n = nullptr;
    tr_portal_t *p = nullptr;
    ServingChild(Root &root, const char *name = "svc") {
        REQUIRE(tr_nursery_open(root.rt, &n) == 0);
        tr_spawn_opts_t so = c_opts();
        REQUIRE(tr_nursery_start_actor(n, name, &so, &p, nullptr, 10000) == 0);
        root.pids.push_back(tr_portal_pid(p));
    }
    void done() {
        CHECK(tr_portal_cancel_actor(p, 5000) == 0);
        tr_portal_release(p);
        CHECK(tr_nursery_close(n, 0, nullptr) == 0);
    }
};

}  // namespace trt
