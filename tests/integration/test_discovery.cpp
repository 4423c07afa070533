// Discovery: the registrar and its election, find/wait/query, several
// independent programs sharing one registrar, the `tractor` CLI (tractor's
// tests/discovery/). Every test uses private registry addresses (a free
// port or a socket in a private directory), never the default 1616.
//
// Other programs are this binary re-executed with TRT_DISCOVERY_PEER set
// (see peer_main below: it runs before Catch's main and never returns), or
// the `tractor` CLI from build/bin.
#include "harness.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <atomic>
#include <map>
#include <memory>

extern char **environ;

using namespace trt;

#define TRANSPORTS GENERATE(as<std::string>{}, "tcp", "uds")

namespace {

// ---- helpers ---------------------------------------------------------------

int free_port() {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof sa;
    if (bind(fd, (sockaddr *)&sa, sizeof sa) != 0 || getsockname(fd, (sockaddr *)&sa, &sl) != 0) {
        close(fd);
        return -1;
    }
    close(fd);
    return ntohs(sa.sin_port);
}

// A private directory for UDS registry sockets, removed afterwards.
struct TmpDir {
    std::string path;
    TmpDir() {
        char t[] = "/tmp/trt-disc-XXXXXX";
        REQUIRE(mkdtemp(t));
        path = t;
    }
    ~TmpDir() {
        if (DIR *d = opendir(path.c_str())) {
            while (dirent *e = readdir(d))
                if (e->d_name[0] != '.') unlink((path + "/" + e->d_name).c_str());
            closedir(d);
        }
        rmdir(path.c_str());
    }
    bool empty() const {
        DIR *d = opendir(path.c_str());
        if (!d) return true;
        bool empty = true;
        while (dirent *e = readdir(d))
            if (e->d_name[0] != '.') empty = false;
        closedir(d);
        return empty;
    }
};

std::string private_registry(const std::string &tpt, TmpDir &dir) {
    if (tpt == "uds") return dir.path + "/registry.sock";
    return "127.0.0.1:" + std::to_string(free_port());
}

std::string self_exe() {
    char buf[4096];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    REQUIRE(n > 0);
    buf[n] = 0;
    return buf;
}

std::string cli_path() {
    std::vector<std::string> cands;
    if (const char *e = getenv("TRACTOR_CLI")) cands.push_back(e);
    if (const char *m = getenv("TRACTOR_MODULE_PATH")) cands.push_back(std::string(m) + "/../bin/tractor");
    std::string exe = self_exe();
    cands.push_back(exe.substr(0, exe.rfind('/')) + "/../../bin/tractor");
    for (auto &c : cands)
        if (access(c.c_str(), X_OK) == 0) return c;
    FAIL("the tractor CLI was not found (build target tractor-cli)");
    return "";
}

// A child program with its stdout on a pipe.
struct Proc {
    pid_t pid = -1;
    int out = -1;
    std::string buf;
    Proc(const std::vector<std::string> &argv, const std::vector<std::string> &extra_env = {},
         bool capture_stderr = false) {
        std::vector<std::string> envs;
        for (char **e = environ; *e; e++) envs.push_back(*e);
        for (auto &e : extra_env) envs.push_back(e);
        std::vector<char *> av, ev;
        for (auto &a : argv) av.push_back(const_cast<char *>(a.c_str()));
        av.push_back(nullptr);
        for (auto &e : envs) ev.push_back(const_cast<char *>(e.c_str()));
        ev.push_back(nullptr);
        int p[2];
        REQUIRE(pipe2(p, O_CLOEXEC) == 0);
        pid_t parent = getpid();
        pid = fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            dup2(p[1], 1);
            if (capture_stderr) dup2(p[1], 2);
            prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the test
            if (getppid() != parent) _exit(127);
            execve(av[0], av.data(), ev.data());
            _exit(127);
        }
        close(p[1]);
        out = p[0];
    }
    // Next line of output (without '\n'), or "" at EOF / after ms.
    std::string line(int ms = 10000) {
        auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
        for (;;) {
            auto nl = buf.find('\n');
            if (nl != std::string::npos) {
                std::string l = buf.substr(0, nl);
                buf.erase(0, nl + 1);
                return l;
            }
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                            end - std::chrono::steady_clock::now())
                            .count();
            if (left <= 0) return "";
            pollfd pf{out, POLLIN, 0};
            if (poll(&pf, 1, (int)left) <= 0) continue;
            char tmp[4096];
            ssize_t n = read(out, tmp, sizeof tmp);
            if (n <= 0) return "";
            buf.append(tmp, (size_t)n);
        }
    }
    // Everything until EOF (bounded).
    std::string rest(int ms = 10000) {
        std::string all = buf;
        buf.clear();
        auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
        for (;;) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                            end - std::chrono::steady_clock::now())
                            .count();
            if (left <= 0) break;
            pollfd pf{out, POLLIN, 0};
            if (poll(&pf, 1, (int)left) <= 0) continue;
            char tmp[4096];
            ssize_t n = read(out, tmp, sizeof tmp);
            if (n <= 0) break;
            all.append(tmp, (size_t)n);
        }
        return all;
    }
    void signal(int sig) {
        if (pid > 0) kill(pid, sig);
    }
    // Exit status, or -1 when it had to be killed after ms.
    int wait(int ms = 10000) {
        if (pid <= 0) return -1;
        int st = 0;
        auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
        while (waitpid(pid, &st, WNOHANG) == 0) {
            if (std::chrono::steady_clock::now() > end) {
                kill(pid, SIGKILL);
                waitpid(pid, &st, 0);
                pid = -1;
                return -1;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        pid = -1;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
    ~Proc() {
        if (pid > 0) {
            kill(pid, SIGKILL);
            waitpid(pid, nullptr, 0);
        }
        if (out >= 0) close(out);
    }
};

// `tractor registrar --addr REG`, ready once it printed its address.
struct Daemon {
    std::unique_ptr<Proc> p;
    explicit Daemon(const std::string &reg) {
        p.reset(new Proc({cli_path(), "registrar", "--addr", reg}));
        std::string l = p->line(10000);
        INFO("daemon said: " << l);
        REQUIRE(l.find("registrar listening on") == 0);
    }
    int stop(int sig = SIGTERM) {
        p->signal(sig);
        return p->wait(10000);
    }
};

// `tractor ARGS...`: exit status and combined output
int run_cli(const std::vector<std::string> &args, std::string *output = nullptr) {
    std::vector<std::string> argv{cli_path()};
    argv.insert(argv.end(), args.begin(), args.end());
    Proc p(argv, {}, true);
    std::string o = p.rest(15000);
    if (output) *output = o;
    return p.wait(15000);
}

// Another program: this binary as a root of its own tree (see peer_main).
struct Peer {
    std::unique_ptr<Proc> p;
    std::string addr;
    Peer(const std::string &mode, const std::vector<std::string> &env) {
        std::vector<std::string> e{"TRT_DISCOVERY_PEER=" + mode};
        e.insert(e.end(), env.begin(), env.end());
        p.reset(new Proc({self_exe()}, e));
        std::string l = p->line(15000);
        INFO("peer said: " << l);
        REQUIRE(l.rfind("ready ", 0) == 0);
        addr = l.substr(6);
    }
    int stop() {
        p->signal(SIGTERM);
        return p->wait(10000);
    }
};

// A root with explicit registry options (the harness Root uses its own).
struct DRoot {
    tr_runtime_t *rt = nullptr;
    std::set<std::string> socks_before;
    std::vector<int> pids;
    DRoot(const std::string &tpt, const std::string &registry, int mode = TR_REGISTRAR_ELECT,
          const char *name = "root") {
        socks_before = sock_files();
        tr_runtime_opts_t o;
        tr_runtime_opts_init(&o);
        o.name = name;
        o.transport = tpt.c_str();
        o.handle_signals = 0;
        o.registry_addrs = registry.c_str();
        o.enable_registrar = mode;
        REQUIRE(tr_runtime_open(&o, &rt) == 0);
    }
    void close_and_check() {
        if (!rt) return;
        REQUIRE(tr_runtime_close(rt) == 0);
        rt = nullptr;
        CHECK(eventually([] { return children_of(getpid()).empty(); }));
        for (int p : pids) CHECK(eventually([p] { return !pid_alive(p); }));
        // only our own tree's files: the runtime dir is shared with every
        // other test process (and whoever else runs actors on this machine)
        CHECK(eventually([this] {
            for (auto &f : sock_files())
                if (!socks_before.count(f) && mine(f)) return false;
            return true;
        }));
    }
    bool mine(const std::string &f) const {  // "<name>@<pid>.sock"
        auto at = f.rfind('@');
        if (at == std::string::npos) return false;
        int pid = atoi(f.c_str() + at + 1);
        if (pid == getpid()) return true;
        for (int p : pids)
            if (p == pid) return true;
        return false;
    }
    ~DRoot() {
        if (rt) tr_runtime_close(rt);
    }
};

// ---- msgpack views of registrar answers -----------------------------------

std::string obj_str(const msgpack_object &o) {
    return o.type == MSGPACK_OBJECT_STR ? std::string(o.via.str.ptr, o.via.str.size) : "";
}

std::string obj_addr(const msgpack_object &o) {
    if (o.type != MSGPACK_OBJECT_ARRAY || o.via.array.size != 2) return "?";
    const msgpack_object &a = o.via.array.ptr[0], &b = o.via.array.ptr[1];
    if (b.type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
        std::string h = obj_str(a);
        return (h.find(':') != std::string::npos ? "/ip6/" : "/ip4/") + h + "/tcp/" +
               std::to_string(b.via.u64);
    }
    return "/unix" + obj_str(a) + "/" + obj_str(b);
}

struct Unpacked {
    msgpack_unpacked u;
    explicit Unpacked(const tr_buf_t &b) {
        msgpack_unpacked_init(&u);
        REQUIRE(msgpack_unpack_next(&u, (const char *)b.data, b.len, nullptr) ==
                MSGPACK_UNPACK_SUCCESS);
    }
    ~Unpacked() { msgpack_unpacked_destroy(&u); }
    const msgpack_object &obj() const { return u.data; }
};

// [addr, ...] | nil
std::vector<std::string> addr_list(const tr_buf_t &b) {
    Unpacked u(b);
    std::vector<std::string> v;
    if (u.obj().type == MSGPACK_OBJECT_NIL) return v;
    REQUIRE(u.obj().type == MSGPACK_OBJECT_ARRAY);
    for (uint32_t i = 0; i < u.obj().via.array.size; i++) v.push_back(obj_addr(u.obj().via.array.ptr[i]));
    return v;
}

using Registry = std::map<std::string, std::vector<std::string>>;  // "name.uuid" -> addrs

Registry registry_of(tr_runtime_t *rt) {
    tr_buf_t b;
    REQUIRE(tr_get_registry(rt, &b, 5000) == 0);
    Registry r;
    {
        Unpacked u(b);
        REQUIRE(u.obj().type == MSGPACK_OBJECT_MAP);
        for (uint32_t i = 0; i < u.obj().via.map.size; i++) {
            auto &kv = u.obj().via.map.ptr[i];
            std::vector<std::string> addrs;
            REQUIRE(kv.val.type == MSGPACK_OBJECT_ARRAY);
            for (uint32_t j = 0; j < kv.val.via.array.size; j++)
                addrs.push_back(obj_addr(kv.val.via.array.ptr[j]));
            r[obj_str(kv.key)] = addrs;
        }
    }
    tr_buf_release(&b);
    return r;
}

int count_named(const Registry &r, const std::string &name) {
    int n = 0;
    for (auto &kv : r)
        if (kv.first.compare(0, name.size() + 1, name + ".") == 0) n++;
    return n;
}

// Capture what the library logs to stderr while `f` runs.
template <class F> std::string capture_stderr(F f) {
    fflush(stderr);
    char path[] = "/tmp/trt-stderr-XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    int saved = dup(2);
    dup2(fd, 2);
    f();
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    std::string s;
    lseek(fd, 0, SEEK_SET);
    char tmp[4096];
    ssize_t n;
    while ((n = read(fd, tmp, sizeof tmp)) > 0) s.append(tmp, (size_t)n);
    close(fd);
    unlink(path);
    return s;
}

double secs_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void echo_roundtrip(tr_portal_t *p, int n) {
    tr_ctx_t *ctx;
    tr_buf_t first;
    REQUIRE(tr_portal_open_context(p, "testmod", "echo", nullptr, 0, nullptr, &ctx, &first, nullptr, 5000) == 0);
    tr_buf_release(&first);
    tr_stream_t *s;
    REQUIRE(tr_ctx_open_stream(ctx, &s) == 0);
    for (int i = 0; i < n; i++) {
        Pack v;
        v.i(i);
        REQUIRE(tr_stream_send(s, v.data(), v.size(), nullptr) == 0);
        tr_buf_t b;
        REQUIRE(tr_stream_recv(s, &b, nullptr, 5000) == 0);
        CHECK(as_int(b) == i);
        tr_buf_release(&b);
    }
    REQUIRE(tr_stream_close(s) == 0);
    tr_buf_t res;
    REQUIRE(tr_ctx_wait_for_result(ctx, &res, nullptr, 5000) == 0);
    CHECK(as_int(res) == n);
    tr_buf_release(&res);
    tr_stream_release(s);
    CHECK(tr_ctx_close(ctx, 0) == 0);
}

int64_t call_add(tr_portal_t *p, int x, int y) {
    Pack kw;
    kw.map(2).str("x").i(x).str("y").i(y);
    tr_buf_t r;
    int rc = tr_portal_run(p, "testmod", "add", kw.data(), kw.size(), &r, nullptr, 5000);
    if (rc) return INT64_MIN;
    int64_t v = as_int(r);
    tr_buf_release(&r);
    return v;
}

// ---- the recorded registrar session (tests/conformance/transcripts) --------

struct Rec {
    std::string actor, dir, conn, type, body;  // body: frame bytes, no prefix
};

std::string json_field(const std::string &line, const std::string &key) {
    auto k = line.find("\"" + key + "\": \"");  // first (top-level) occurrence
    if (k == std::string::npos) return "";
    auto b = k + key.size() + 5, e = line.find('"', b);
    return line.substr(b, e - b);
}

std::vector<Rec> transcript(const std::string &name) {
    std::string here = __FILE__;
    std::string path = here.substr(0, here.rfind('/')) + "/../conformance/transcripts/" + name;
    std::ifstream f(path);
    REQUIRE(f.good());
    std::vector<Rec> out;
    std::string line;
    while (std::getline(f, line)) {
        Rec r{json_field(line, "actor"), json_field(line, "dir"), json_field(line, "conn"),
              json_field(line, "msg_type"), ""};
        std::string hex = json_field(line, "hex");
        for (size_t i = 0; i + 1 < hex.size(); i += 2)
            r.body.push_back((char)std::stoi(hex.substr(i, 2), nullptr, 16));
        out.push_back(r);
    }
    return out;
}

// A raw TCP connection speaking frames.
struct RawConn {
    int fd = -1;
    std::string buf;
    explicit RawConn(const std::string &hostport) {
        auto colon = hostport.rfind(':');
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_port = htons((uint16_t)atoi(hostport.c_str() + colon + 1));
        inet_pton(AF_INET, hostport.substr(0, colon).c_str(), &sa.sin_addr);
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        REQUIRE(connect(fd, (sockaddr *)&sa, sizeof sa) == 0);
    }
    ~RawConn() { close(fd); }
    void send_body(const std::string &body) {
        uint32_t n = (uint32_t)body.size();
        std::string f((const char *)&n, 4);  // little-endian hosts
        f += body;
        REQUIRE(::send(fd, f.data(), f.size(), MSG_NOSIGNAL) == (ssize_t)f.size());
    }
    std::string recv_body(int ms = 5000) {
        auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
        for (;;) {
            if (buf.size() >= 4) {
                uint32_t n;
                memcpy(&n, buf.data(), 4);
                if (buf.size() >= 4 + (size_t)n) {
                    std::string b = buf.substr(4, n);
                    buf.erase(0, 4 + (size_t)n);
                    return b;
                }
            }
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                            end - std::chrono::steady_clock::now()).count();
            if (left <= 0) return "";
            pollfd pf{fd, POLLIN, 0};
            if (poll(&pf, 1, (int)left) <= 0) continue;
            char tmp[4096];
            ssize_t r = read(fd, tmp, sizeof tmp);
            if (r <= 0) return "";
            buf.append(tmp, (size_t)r);
        }
    }
};

std::string hexs(const std::string &b) {
    static const char *h = "0123456789abcdef";
    std::string o;
    for (unsigned char c : b) {
        o += h[c >> 4];
        o += h[c & 15];
    }
    return o;
}

// ---- the peer program -------------------------------------------------------

int whoami(tr_ctx_t *ctx, void *) {
    const char *name = tr_runtime_name(tr_ctx_runtime(ctx));
    Pack p;
    p.str(name);
    return tr_ctx_set_result(ctx, p.data(), p.size());
}

// TRT_DISCOVERY_PEER=tree: a root (TRT_NAME) joining the registrar at
// TRT_REG, optionally spawning a testmod daemon TRT_CHILD; serves
// peer.whoami. =plain: a tractor actor at TRT_BIND with no registrar at all.
// Prints "ready <addr>" and runs until SIGTERM.
int peer_main(const std::string &mode) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    const char *name = getenv("TRT_NAME");
    tr_runtime_opts_t o;
    tr_runtime_opts_init(&o);
    o.name = name ? name : "peer";
    o.transport = getenv("TRT_TPT");
    if (mode == "plain") {
        o.enable_registrar = TR_REGISTRAR_NONE;
        o.bind_addr = getenv("TRT_BIND");
    } else {
        o.enable_registrar = TR_REGISTRAR_JOIN;
        o.registry_addrs = getenv("TRT_REG");
    }
    tr_runtime_t *rt;
    if (tr_runtime_open(&o, &rt) != 0) return 3;
    tr_register_func(rt, "peer", "whoami", TR_FUNC_ASYNCFUNC, whoami, nullptr, nullptr);
    tr_nursery_t *n = nullptr;
    tr_portal_t *child = nullptr;
    const char *cname = getenv("TRT_CHILD");
    if (cname && *cname) {
        tr_spawn_opts_t so = c_opts();
        if (tr_nursery_open(rt, &n) || tr_nursery_start_actor(n, cname, &so, &child, nullptr, 10000))
            return 4;
        // wait for its registration so the test can look it up at once
        tr_portal_t *p;
        if (tr_wait_for_actor(rt, cname, &p, 10000)) return 5;
        tr_portal_release(p);
    }
    char addr[400];
    tr_runtime_addr(rt, addr, sizeof addr);
    printf("ready %s\n", addr);
    fflush(stdout);
    tr_runtime_wait(rt, 60000);
    if (child) tr_portal_release(child);
    if (n) tr_nursery_close(n, 1, nullptr);
    tr_runtime_close(rt);
    return 0;
}

__attribute__((constructor)) void discovery_peer_entry() {
    const char *mode = getenv("TRT_DISCOVERY_PEER");
    if (!mode || !*mode) return;
    std::string m = mode;
    unsetenv("TRT_DISCOVERY_PEER");
    fflush(stdout);
    _exit(peer_main(m));
}

}  // namespace

// ---- tests ------------------------------------------------------------------

TEST_CASE("discovery: the root elects itself registrar, children register at boot and unregister on cancel",
          "[discovery]") {
    std::string tpt = TRANSPORTS;
    TmpDir dir;
    std::string reg = tpt == "uds" ? dir.path + "/registry.sock" : "127.0.0.1:0";
    DRoot root(tpt, reg);
    REQUIRE(tr_runtime_is_registrar(root.rt));
    char addr[400];
    REQUIRE(tr_runtime_addr(root.rt, addr, sizeof addr) == 0);
    if (tpt == "uds") CHECK(std::string(addr) == "/unix" + reg);
    // the registrar registers itself (locally)
    std::string me = tr_runtime_uuid(root.rt);
    CHECK(registry_of(root.rt)["root." + me] == std::vector<std::string>{addr});
    char q[400];
    REQUIRE(tr_query_actor(root.rt, "root", q, sizeof q, 2000) == 0);
    CHECK(std::string(q) == addr);

    tr_nursery_t *n;
    REQUIRE(tr_nursery_open(root.rt, &n) == 0);
    tr_spawn_opts_t so = c_opts();
    tr_portal_t *child;
    REQUIRE(tr_nursery_start_actor(n, "svc", &so, &child, nullptr, 10000) == 0);
    int pid = tr_portal_pid(child);
    root.pids.push_back(pid);
    tr_portal_t *found;
    REQUIRE(tr_wait_for_actor(root.rt, "svc", &found, 5000) == 0);
    CHECK(std::string(tr_portal_uuid(found)) == tr_portal_uuid(child));
    CHECK(call_add(found, 2, 3) == 5);
    tr_portal_release(found);
    Registry r = registry_of(root.rt);
    std::string key = std::string("svc.") + tr_portal_uuid(child);
    REQUIRE(r.count(key));
    REQUIRE(r[key].size() == 1);
    CHECK(r[key][0].find(tpt == "uds" ? "/unix/" : "/ip4/127.0.0.1/tcp/") == 0);
    REQUIRE(tr_query_actor(root.rt, "svc", q, sizeof q, 2000) == 0);
    CHECK(std::string(q) == r[key][0]);
    // names only: a uuid is not a name (tractor's `name in uid` quirk)
    CHECK(tr_query_actor(root.rt, tr_portal_uuid(child), q, sizeof q, 2000) == TR_ENOTFOUND);

    // cancelled: it unregisters on its way out
    CHECK(tr_portal_cancel_actor(child, 5000) == 0);
    CHECK(eventually([pid] { return !pid_alive(pid); }, 5000));
    CHECK(eventually([&] { return !registry_of(root.rt).count(key); }, 3000));
    CHECK(tr_find_actor(root.rt, "svc", &found, 2000) == TR_ENOTFOUND);
    tr_portal_release(child);
    REQUIRE(tr_nursery_close(n, 0, nullptr) == 0);

    // wait_for_actor is bounded
    auto t0 = std::chrono::steady_clock::now();
    CHECK(tr_wait_for_actor(root.rt, "nobody", &found, 300) == TR_ETIMEDOUT);
    CHECK(secs_since(t0) < 2.0);
    root.close_and_check();
    CHECK(dir.empty());  // the registry socket is gone
}

TEST_CASE("discovery: a stale entry is deleted by find_actor", "[discovery]") {
    std::string tpt = TRANSPORTS;
    TmpDir dir;
    DRoot root(tpt, tpt == "uds" ? dir.path + "/registry.sock" : "127.0.0.1:0");
    tr_nursery_t *n;
    REQUIRE(tr_nursery_open(root.rt, &n) == 0);
    tr_spawn_opts_t so = c_opts();
    tr_portal_t *child;
    REQUIRE(tr_nursery_start_actor(n, "doomed", &so, &child, nullptr, 10000) == 0);
    int pid = tr_portal_pid(child);
    root.pids.push_back(pid);
    std::string key = std::string("doomed.") + tr_portal_uuid(child);
    tr_portal_t *found;
    REQUIRE(tr_wait_for_actor(root.rt, "doomed", &found, 5000) == 0);
    tr_portal_release(found);
    // SIGKILL: no chance to unregister
    REQUIRE(kill(pid, SIGKILL) == 0);
    CHECK(eventually([pid] { return !pid_alive(pid); }, 5000));
    CHECK(registry_of(root.rt).count(key) == 1);
    CHECK(tr_find_actor(root.rt, "doomed", &found, 3000) == TR_ENOTFOUND);
    CHECK(registry_of(root.rt).count(key) == 0);
    tr_portal_release(child);
    tr_error_t *err = nullptr;
    tr_nursery_close(n, 0, &err);  // the killed child may be reported
    tr_error_free(err);
    root.close_and_check();
}

TEST_CASE("discovery: duplicate names", "[discovery]") {
    DRoot root("tcp", "127.0.0.1:0");
    tr_nursery_t *n;
    REQUIRE(tr_nursery_open(root.rt, &n) == 0);
    tr_spawn_opts_t so = c_opts();
    tr_portal_t *a, *b;
    REQUIRE(tr_nursery_start_actor(n, "dup", &so, &a, nullptr, 10000) == 0);
    REQUIRE(tr_nursery_start_actor(n, "dup", &so, &b, nullptr, 10000) == 0);
    root.pids.push_back(tr_portal_pid(a));
    root.pids.push_back(tr_portal_pid(b));
    std::string ua = tr_portal_uuid(a), ub = tr_portal_uuid(b);
    REQUIRE(ua != ub);
    REQUIRE(eventually([&] { return count_named(registry_of(root.rt), "dup") == 2; }, 5000));
    tr_portal_t *f;
    REQUIRE(tr_find_actor(root.rt, "dup", &f, 3000) == 0);
    std::string first = tr_portal_uuid(f);
    CHECK((first == ua || first == ub));
    tr_portal_release(f);
    // cancel the one found first: the other is found next
    tr_portal_t *gone = first == ua ? a : b;
    std::string other = first == ua ? ub : ua;
    CHECK(tr_portal_cancel_actor(gone, 5000) == 0);
    REQUIRE(eventually([&] { return count_named(registry_of(root.rt), "dup") == 1; }, 5000));
    REQUIRE(tr_find_actor(root.rt, "dup", &f, 3000) == 0);
    CHECK(std::string(tr_portal_uuid(f)) == other);
    tr_portal_release(f);
    CHECK(tr_portal_cancel_actor(first == ua ? b : a, -1) == 0);
    tr_portal_release(a);
    tr_portal_release(b);
    REQUIRE(tr_nursery_close(n, 0, nullptr) == 0);
    root.close_and_check();
}

TEST_CASE("discovery: registrar RPCs have tractor's arguments and return shapes, wait_for_actor is parked",
          "[discovery][cli]") {
    int dead = free_port();  // nothing listens here
    std::string reg = "127.0.0.1:" + std::to_string(free_port());
    Daemon d(reg);
    DRoot root("tcp", reg, TR_REGISTRAR_JOIN, "client");
    CHECK_FALSE(tr_runtime_is_registrar(root.rt));
    tr_portal_t *p;
    REQUIRE(tr_portal_connect(root.rt, reg.c_str(), &p, 5000) == 0);
    CHECK(std::string(tr_portal_name(p)) == "registrar");
    auto call = [&](tr_portal_t *pt, const char *func, const Pack *kw, tr_buf_t *res,
                    tr_error_t **err = nullptr) {
        return tr_portal_run(pt, "self", func, kw ? kw->data() : nullptr, kw ? kw->size() : 0, res,
                             err, 5000);
    };
    tr_buf_t res;
    Pack kw;
    // register_actor(uid=[name, uuid], addr=[host, port]) -> nil
    kw.map(2).str("uid");
    msgpack_pack_array(&kw.pk, 2);
    kw.str("ghost").str("u-1").str("addr");
    msgpack_pack_array(&kw.pk, 2);
    kw.str("127.0.0.1").i(dead);
    REQUIRE(call(p, "register_actor", &kw, &res) == 0);
    CHECK(res.len == 1);
    CHECK(((const uint8_t *)res.data)[0] == 0xc0);
    tr_buf_release(&res);
    std::string ghost_addr = "/ip4/127.0.0.1/tcp/" + std::to_string(dead);
    // find_actor(name) -> [addr] | nil; names only, not uuids
    kw.clear();
    kw.map(1).str("name").str("ghost");
    REQUIRE(call(p, "find_actor", &kw, &res) == 0);
    CHECK(addr_list(res) == std::vector<std::string>{ghost_addr});
    tr_buf_release(&res);
    kw.clear();
    kw.map(1).str("name").str("u-1");
    REQUIRE(call(p, "find_actor", &kw, &res) == 0);
    CHECK(addr_list(res).empty());
    CHECK(((const uint8_t *)res.data)[0] == 0xc0);
    tr_buf_release(&res);
    // get_registry() -> {"name.uuid": [addr]}
    Registry r = registry_of(root.rt);
    CHECK(r["ghost.u-1"] == std::vector<std::string>{ghost_addr});
    CHECK(count_named(r, "registrar") == 1);
    CHECK(count_named(r, "client") == 1);
    // the same address registered by another uid replaces the stale owner
    kw.clear();
    kw.map(2).str("uid");
    msgpack_pack_array(&kw.pk, 2);
    kw.str("ghost2").str("u-2").str("addr");
    msgpack_pack_array(&kw.pk, 2);
    kw.str("127.0.0.1").i(dead);
    REQUIRE(call(p, "register_actor", &kw, &res) == 0);
    tr_buf_release(&res);
    r = registry_of(root.rt);
    CHECK(r.count("ghost.u-1") == 0);
    CHECK(r.count("ghost2.u-2") == 1);
    // delete_addr(addr) -> uid | nil
    kw.clear();
    kw.map(1).str("addr");
    msgpack_pack_array(&kw.pk, 2);
    kw.str("127.0.0.1").i(dead);
    REQUIRE(call(p, "delete_addr", &kw, &res) == 0);
    {
        Unpacked u(res);
        REQUIRE(u.obj().type == MSGPACK_OBJECT_ARRAY);
        REQUIRE(u.obj().via.array.size == 2);
        CHECK(obj_str(u.obj().via.array.ptr[0]) == "ghost2");
        CHECK(obj_str(u.obj().via.array.ptr[1]) == "u-2");
    }
    tr_buf_release(&res);
    REQUIRE(call(p, "delete_addr", &kw, &res) == 0);
    CHECK(((const uint8_t *)res.data)[0] == 0xc0);
    tr_buf_release(&res);
    CHECK(registry_of(root.rt).count("ghost2.u-2") == 0);
    // unregister_actor(uid) of an unknown uid -> nil (tractor only warns)
    kw.clear();
    kw.map(1).str("uid");
    msgpack_pack_array(&kw.pk, 2);
    kw.str("nobody").str("u-0");
    REQUIRE(call(p, "unregister_actor", &kw, &res) == 0);
    tr_buf_release(&res);
    // bad arguments are a remote TypeError, the channel stays usable
    kw.clear();
    kw.map(1).str("uid").i(3);
    tr_error_t *err = nullptr;
    CHECK(call(p, "register_actor", &kw, &res, &err) == TR_EREMOTE);
    REQUIRE(err);
    CHECK(std::string(tr_error_type(err)) == "TypeError");
    tr_error_free(err);
    err = nullptr;
    CHECK(call(p, "no_such_method", nullptr, &res, &err) == TR_EREMOTE);
    REQUIRE(err);
    CHECK(std::string(tr_error_type(err)) == "AttributeError");
    tr_error_free(err);

    // wait_for_actor(name) is parked without blocking the registrar: other
    // calls (on this and another connection) are served meanwhile
    kw.clear();
    kw.map(1).str("name").str("later");
    tr_ctx_t *waiting;
    REQUIRE(tr_portal_start_call(p, "self", "wait_for_actor", kw.data(), kw.size(), &waiting) == 0);
    tr_buf_t none;
    CHECK(tr_ctx_wait_for_result(waiting, &none, nullptr, 200) == TR_ETIMEDOUT);
    CHECK(count_named(registry_of(root.rt), "later") == 0);
    tr_portal_t *p2;
    REQUIRE(tr_portal_connect(root.rt, reg.c_str(), &p2, 5000) == 0);
    kw.clear();
    kw.map(2).str("uid");
    msgpack_pack_array(&kw.pk, 2);
    kw.str("later").str("u-3").str("addr");
    msgpack_pack_array(&kw.pk, 2);
    kw.str("/tmp/x").str("later@1.sock");
    REQUIRE(call(p2, "register_actor", &kw, &res) == 0);
    tr_buf_release(&res);
    REQUIRE(tr_ctx_wait_for_result(waiting, &res, nullptr, 5000) == 0);
    CHECK(addr_list(res) == std::vector<std::string>{"/unix/tmp/x/later@1.sock"});
    tr_buf_release(&res);
    tr_ctx_release(waiting);
    // the query API prefers nothing but what exists; the UDS entry is stale
    char q[400];
    REQUIRE(tr_query_actor(root.rt, "later", q, sizeof q, 2000) == 0);
    CHECK(std::string(q) == "/unix/tmp/x/later@1.sock");
    tr_portal_t *f;
    CHECK(tr_find_actor(root.rt, "later", &f, 3000) == TR_ENOTFOUND);
    CHECK(registry_of(root.rt).count("later.u-3") == 0);
    tr_portal_release(p2);
    tr_portal_release(p);

    // a stale entry ahead of a live one with the same name: find_actor
    // deletes it and finds the live one
    REQUIRE(tr_portal_connect(root.rt, reg.c_str(), &p, 5000) == 0);
    kw.clear();
    kw.map(2).str("uid");
    msgpack_pack_array(&kw.pk, 2);
    kw.str("twin").str("u-4").str("addr");
    msgpack_pack_array(&kw.pk, 2);
    kw.str("127.0.0.1").i(dead);
    REQUIRE(call(p, "register_actor", &kw, &res) == 0);
    tr_buf_release(&res);
    tr_portal_release(p);
    tr_nursery_t *n;
    REQUIRE(tr_nursery_open(root.rt, &n) == 0);
    tr_spawn_opts_t so = c_opts();
    tr_portal_t *twin;
    REQUIRE(tr_nursery_start_actor(n, "twin", &so, &twin, nullptr, 10000) == 0);
    root.pids.push_back(tr_portal_pid(twin));
    REQUIRE(eventually([&] { return count_named(registry_of(root.rt), "twin") == 2; }, 5000));
    REQUIRE(tr_find_actor(root.rt, "twin", &f, 5000) == 0);
    CHECK(std::string(tr_portal_uuid(f)) == tr_portal_uuid(twin));
    tr_portal_release(f);
    CHECK(registry_of(root.rt).count("twin.u-4") == 0);
    CHECK(tr_portal_cancel_actor(twin, 5000) == 0);
    tr_portal_release(twin);
    REQUIRE(tr_nursery_close(n, 0, nullptr) == 0);

    CHECK(d.stop() == 0);
    root.close_and_check();
}

TEST_CASE("discovery: two independent programs find each other through one registrar and stream",
          "[discovery][cli]") {
    std::string tpt = TRANSPORTS;
    TmpDir dir;
    std::string reg = private_registry(tpt, dir);
    Daemon d(reg);
    Peer a("tree", {"TRT_NAME=prog-a", "TRT_CHILD=a-worker", "TRT_REG=" + reg, "TRT_TPT=" + tpt});
    DRoot b(tpt, reg, TR_REGISTRAR_JOIN, "prog-b");
    CHECK_FALSE(tr_runtime_is_registrar(b.rt));

    // B finds A's child (another process tree) and streams with it
    tr_portal_t *w;
    REQUIRE(tr_wait_for_actor(b.rt, "a-worker", &w, 5000) == 0);
    CHECK(std::string(tr_portal_name(w)) == "a-worker");
    echo_roundtrip(w, 50);
    CHECK(call_add(w, 40, 2) == 42);
    // ... and A's root itself
    tr_portal_t *ra;
    REQUIRE(tr_find_actor(b.rt, "prog-a", &ra, 5000) == 0);
    tr_buf_t res;
    REQUIRE(tr_portal_run(ra, "peer", "whoami", nullptr, 0, &res, nullptr, 5000) == 0);
    {
        Unpacked u(res);
        CHECK(obj_str(u.obj()) == "prog-a");
    }
    tr_buf_release(&res);
    tr_portal_release(ra);
    char q[400];
    REQUIRE(tr_query_actor(b.rt, "prog-a", q, sizeof q, 2000) == 0);
    CHECK(std::string(q) == a.addr);

    // the CLI sees the same registry
    std::string out;
    CHECK(run_cli({"ls", "--registry", reg}, &out) == 0);
    INFO(out);
    CHECK(out.find("NAME") != std::string::npos);
    for (auto nm : {"registrar", "prog-a", "a-worker", "prog-b"}) CHECK(out.find(nm) != std::string::npos);
    CHECK(out.find(a.addr) != std::string::npos);
    CHECK(run_cli({"find", "a-worker", "--registry", reg}, &out) == 0);
    CHECK(out.find(std::string("a-worker ") + tr_portal_uuid(w)) == 0);
    CHECK(run_cli({"find", "nobody", "--registry", reg}, &out) == 1);
    CHECK(run_cli({"find", "nobody", "--wait", "--timeout", "0.3", "--registry", reg}, &out) == 1);

    // A's tree ends: its actors unregister from the remote registrar
    tr_portal_release(w);
    CHECK(a.stop() == 0);
    CHECK(eventually([&] {
        Registry r = registry_of(b.rt);
        return count_named(r, "prog-a") == 0 && count_named(r, "a-worker") == 0;
    }, 5000));
    CHECK(tr_find_actor(b.rt, "a-worker", &w, 2000) == TR_ENOTFOUND);
    CHECK(d.stop() == 0);
    b.close_and_check();
    if (tpt == "uds") CHECK(eventually([&] { return dir.empty(); }));
}

TEST_CASE("discovery: a registrar daemon killed and restarted while trees run", "[discovery][cli]") {
    std::string reg = "127.0.0.1:" + std::to_string(free_port());
    std::unique_ptr<Daemon> d(new Daemon(reg));
    Peer a("tree", {"TRT_NAME=prog-a", "TRT_CHILD=a-worker", "TRT_REG=" + reg, "TRT_TPT=tcp"});
    DRoot b("tcp", reg, TR_REGISTRAR_JOIN, "prog-b");
    tr_portal_t *w;
    REQUIRE(tr_find_actor(b.rt, "a-worker", &w, 5000) == 0);
    echo_roundtrip(w, 10);

    // the registrar dies: the trees keep working
    CHECK(d->stop(SIGKILL) == 128 + SIGKILL);
    d.reset();
    echo_roundtrip(w, 10);
    CHECK(call_add(w, 1, 1) == 2);
    tr_portal_t *f;
    CHECK(tr_find_actor(b.rt, "a-worker", &f, 2000) == TR_ETRANSPORT);
    tr_nursery_t *n;
    REQUIRE(tr_nursery_open(b.rt, &n) == 0);

    // a wait started while it is down completes after the restart
    std::atomic<int> wait_rc{1};
    std::string waited_name;
    std::thread waiter([&] {
        tr_portal_t *p = nullptr;
        int rc = tr_wait_for_actor(b.rt, "late", &p, 20000);
        if (rc == 0) {
            waited_name = tr_portal_name(p);
            tr_portal_release(p);
        }
        wait_rc = rc;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    CHECK(wait_rc == 1);  // still waiting

    d.reset(new Daemon(reg));  // restarted at the same address
    tr_spawn_opts_t so = c_opts();
    tr_portal_t *late;
    REQUIRE(tr_nursery_start_actor(n, "late", &so, &late, nullptr, 10000) == 0);
    b.pids.push_back(tr_portal_pid(late));
    waiter.join();
    CHECK(wait_rc == 0);
    CHECK(waited_name == "late");
    // new lookups work
    REQUIRE(tr_find_actor(b.rt, "late", &f, 5000) == 0);
    CHECK(call_add(f, 20, 22) == 42);
    tr_portal_release(f);
    // the old tree still streams (its registrations died with the old daemon)
    echo_roundtrip(w, 10);
    CHECK(count_named(registry_of(b.rt), "a-worker") == 0);

    CHECK(tr_portal_cancel_actor(late, 5000) == 0);
    tr_portal_release(late);
    REQUIRE(tr_nursery_close(n, 0, nullptr) == 0);
    tr_portal_release(w);
    CHECK(a.stop() == 0);
    CHECK(d->stop() == 0);
    b.close_and_check();
}

TEST_CASE("discovery: a non-registrar listening on the registry address is not treated as a registrar",
          "[discovery]") {
    tr_runtime_opts_t o;
    tr_runtime_opts_init(&o);
    o.handle_signals = 0;
    tr_runtime_t *rt = nullptr;

    SECTION("a listener that does not speak tractor") {
        int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t sl = sizeof sa;
        REQUIRE(bind(lfd, (sockaddr *)&sa, sizeof sa) == 0);
        REQUIRE(listen(lfd, 16) == 0);
        REQUIRE(getsockname(lfd, (sockaddr *)&sa, &sl) == 0);
        int port = ntohs(sa.sin_port);
        std::atomic<bool> stop{false};
        std::thread acceptor([&] {  // accept and hang up at once
            while (!stop) {
                pollfd pf{lfd, POLLIN, 0};
                if (poll(&pf, 1, 50) > 0) {
                    int c = accept(lfd, nullptr, nullptr);
                    if (c >= 0) close(c);
                }
            }
        });
        std::string reg = "127.0.0.1:" + std::to_string(port);
        o.registry_addrs = reg.c_str();
        int rc = 0;
        auto t0 = std::chrono::steady_clock::now();
        std::string log = capture_stderr([&] { rc = tr_runtime_open(&o, &rt); });
        CHECK(rc == TR_EADDR);
        CHECK(rt == nullptr);
        CHECK(secs_since(t0) < 5.0);
        INFO(log);
        CHECK(log.find("/ip4/127.0.0.1/tcp/" + std::to_string(port)) != std::string::npos);
        CHECK(log.find("not a tractor registrar") != std::string::npos);
        stop = true;
        acceptor.join();
        close(lfd);
    }
    SECTION("a tractor actor that is not a registrar") {
        int port = free_port();
        std::string addr = "127.0.0.1:" + std::to_string(port);
        Peer plain("plain", {"TRT_NAME=bystander", "TRT_BIND=" + addr});
        o.registry_addrs = addr.c_str();
        int rc = 0;
        auto t0 = std::chrono::steady_clock::now();
        std::string log = capture_stderr([&] { rc = tr_runtime_open(&o, &rt); });
        CHECK(rc == TR_EADDR);
        CHECK(secs_since(t0) < 3.0);
        INFO(log);
        CHECK(log.find("/ip4/127.0.0.1/tcp/" + std::to_string(port)) != std::string::npos);
        CHECK(log.find("'bystander'") != std::string::npos);
        CHECK(log.find("is not a registrar") != std::string::npos);
        // joining it is refused too, and so is the daemon
        o.enable_registrar = TR_REGISTRAR_JOIN;
        CHECK(tr_runtime_open(&o, &rt) == TR_EADDR);
        std::string out;
        CHECK(run_cli({"registrar", "--addr", addr}, &out) == 2);
        CHECK(out.find("not a tractor registrar") != std::string::npos);
        CHECK(plain.stop() == 0);
    }
    CHECK(children_of(getpid()).empty());
}

TEST_CASE("discovery: election modes, join-only needs a registrar and a daemon refuses a second one",
          "[discovery][cli]") {
    std::string reg = "127.0.0.1:" + std::to_string(free_port());
    tr_runtime_opts_t o;
    tr_runtime_opts_init(&o);
    o.handle_signals = 0;
    o.registry_addrs = reg.c_str();
    o.loglevel = "critical";
    o.enable_registrar = TR_REGISTRAR_JOIN;
    tr_runtime_t *rt = nullptr;
    CHECK(tr_runtime_open(&o, &rt) == TR_ETRANSPORT);
    std::string out;
    CHECK(run_cli({"ls", "--registry", reg}, &out) == 2);
    CHECK(run_cli({"find", "x", "--registry", reg}, &out) == 2);
    {
        Daemon d(reg);
        CHECK(run_cli({"registrar", "--addr", reg}, &out) == 2);
        CHECK(out.find("already running") != std::string::npos);
        o.enable_registrar = TR_REGISTRAR_BECOME;
        CHECK(tr_runtime_open(&o, &rt) == TR_EEXIST);
        // the default election joins it
        o.enable_registrar = TR_REGISTRAR_ELECT;
        REQUIRE(tr_runtime_open(&o, &rt) == 0);
        CHECK_FALSE(tr_runtime_is_registrar(rt));
        CHECK(tr_runtime_close(rt) == 0);
        CHECK(d.stop() == 0);
    }
    // gone: the next root becomes the registrar itself
    o.enable_registrar = TR_REGISTRAR_ELECT;
    REQUIRE(tr_runtime_open(&o, &rt) == 0);
    CHECK(tr_runtime_is_registrar(rt));
    char a[200];
    REQUIRE(tr_runtime_addr(rt, a, sizeof a) == 0);
    CHECK(std::string(a) == "/ip4/127.0.0.1/tcp/" + reg.substr(reg.rfind(':') + 1));
    CHECK(tr_runtime_close(rt) == 0);
    // usage errors
    CHECK(run_cli({}, &out) == 2);
    CHECK(run_cli({"bogus"}, &out) == 2);
    CHECK(run_cli({"find"}, &out) == 2);
    CHECK(run_cli({"ls", "--timeout", "soon"}, &out) == 2);
    CHECK(run_cli({"--help"}, &out) == 0);
    CHECK(out.find("registrar") != std::string::npos);
    for (auto c : {"registrar", "ls", "find"}) {
        CHECK(run_cli({c, "--help"}, &out) == 0);
        CHECK(out.find(std::string("usage: ")) != std::string::npos);
    }
    CHECK(children_of(getpid()).empty());
}

TEST_CASE("discovery: the default UDS registry lives in a 0700 runtime dir owned by us", "[discovery][uds]") {
    TmpDir xdg;
    const char *old = getenv("XDG_RUNTIME_DIR");
    std::string saved_xdg = old ? old : "";
    const char *oldreg = getenv("TRACTOR_REGISTRY_ADDR");
    std::string saved_reg = oldreg ? oldreg : "";
    setenv("XDG_RUNTIME_DIR", xdg.path.c_str(), 1);
    unsetenv("TRACTOR_REGISTRY_ADDR");
    std::string dir = xdg.path + "/tractor";
    REQUIRE(mkdir(dir.c_str(), 0755) == 0);  // too open: tightened

    tr_runtime_opts_t o;
    tr_runtime_opts_init(&o);
    o.handle_signals = 0;
    o.transport = "uds";
    tr_runtime_t *rt = nullptr;
    REQUIRE(tr_runtime_open(&o, &rt) == 0);  // default registry: private XDG dir
    CHECK(tr_runtime_is_registrar(rt));
    char a[400];
    REQUIRE(tr_runtime_addr(rt, a, sizeof a) == 0);
    CHECK(std::string(a) == "/unix" + dir + "/registry@1616.sock");
    struct stat st;
    REQUIRE(stat(dir.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);
    REQUIRE(stat((dir + "/registry@1616.sock").c_str(), &st) == 0);
    CHECK(S_ISSOCK(st.st_mode));
    CHECK(tr_runtime_close(rt) == 0);
    CHECK(access((dir + "/registry@1616.sock").c_str(), F_OK) != 0);

    // a symlinked runtime dir is refused
    std::string real = xdg.path + "/real";
    REQUIRE(rmdir(dir.c_str()) == 0);
    REQUIRE(mkdir(real.c_str(), 0700) == 0);
    REQUIRE(symlink(real.c_str(), dir.c_str()) == 0);
    o.loglevel = "critical";
    CHECK(tr_runtime_open(&o, &rt) == TR_EPERM);
    unlink(dir.c_str());
    rmdir(real.c_str());
    // someone else's runtime dir is refused (needs root to set up)
    if (geteuid() == 0) {
        REQUIRE(mkdir(dir.c_str(), 0700) == 0);
        REQUIRE(chown(dir.c_str(), 4242, 4242) == 0);
        CHECK(tr_runtime_open(&o, &rt) == TR_EPERM);
        rmdir(dir.c_str());
    }
    if (old)
        setenv("XDG_RUNTIME_DIR", saved_xdg.c_str(), 1);
    else
        unsetenv("XDG_RUNTIME_DIR");
    if (oldreg) setenv("TRACTOR_REGISTRY_ADDR", saved_reg.c_str(), 1);
    CHECK(children_of(getpid()).empty());
}

TEST_CASE("discovery: the recorded tractor registrar session replays byte for byte", "[discovery][conformance]") {
    // Our registrar answers the recorded child's requests (register_actor,
    // find_actor x2, wait_for_actor, get_registry, unregister_actor, one
    // connection each as recorded) with the recorded bytes; only answers
    // that name the recorded root (its address, its uuid) differ, and those
    // are checked by structure.
    DRoot root("tcp", "127.0.0.1:0", TR_REGISTRAR_ELECT, "root");
    REQUIRE(tr_runtime_is_registrar(root.rt));
    char maddr[200];
    REQUIRE(tr_runtime_addr(root.rt, maddr, sizeof maddr) == 0);
    std::string ma = maddr;  // /ip4/127.0.0.1/tcp/PORT
    std::string port = ma.substr(ma.rfind('/') + 1);
    std::vector<Rec> t = transcript("registrar.jsonl");
    std::map<std::string, std::unique_ptr<RawConn>> conns;
    int compared = 0, structural = 0;
    for (size_t i = 0; i < t.size(); i++) {
        const Rec &r = t[i];
        if (r.actor != "child" || r.dir != "send" || r.conn == "c1") continue;  // c1: the spawn channel
        if (r.type == "Aid") {
            conns[r.conn].reset(new RawConn("127.0.0.1:" + port));
            conns[r.conn]->send_body(r.body);
            std::string aid = conns[r.conn]->recv_body();
            CHECK(aid.find("\xacis_registrar\xc3") != std::string::npos);
            continue;
        }
        REQUIRE(r.type == "Start");
        RawConn &c = *conns[r.conn];
        c.send_body(r.body);
        // the recorded root's answers on this connection, in order
        std::vector<const Rec *> want;
        for (size_t j = i + 1; j < t.size() && want.size() < 2; j++)
            if (t[j].actor == "root" && t[j].dir == "send" && t[j].conn == r.conn) want.push_back(&t[j]);
        REQUIRE(want.size() == 2);
        std::string ack = c.recv_body(), ret = c.recv_body();
        CHECK(hexs(ack) == hexs(want[0]->body));  // StartAck{cid, 'asyncfunc'}
        bool names_root = want[1]->body.find("82787ecc") != std::string::npos ||
                          want[1]->body.find("\xcd\x90\x17") != std::string::npos;  // port 36887
        if (!names_root) {
            CHECK(hexs(ret) == hexs(want[1]->body));
            compared++;
            continue;
        }
        structural++;
        tr_buf_t b{ret.data(), ret.size(), nullptr};
        Unpacked u(b);
        REQUIRE(u.obj().type == MSGPACK_OBJECT_MAP);
        const msgpack_object *pld = nullptr;
        for (uint32_t k = 0; k < u.obj().via.map.size; k++)
            if (obj_str(u.obj().via.map.ptr[k].key) == "pld") pld = &u.obj().via.map.ptr[k].val;
        REQUIRE(pld);
        if (pld->type == MSGPACK_OBJECT_ARRAY) {  // find_actor("root"): [our address]
            REQUIRE(pld->via.array.size == 1);
            CHECK(obj_addr(pld->via.array.ptr[0]) == ma);
        } else {  // get_registry: us and the recorded child
            REQUIRE(pld->type == MSGPACK_OBJECT_MAP);
            std::map<std::string, std::string> m;
            for (uint32_t k = 0; k < pld->via.map.size; k++)
                m[obj_str(pld->via.map.ptr[k].key)] = obj_addr(pld->via.map.ptr[k].val.via.array.ptr[0]);
            CHECK(m.size() == 2);
            CHECK(m[std::string("root.") + tr_runtime_uuid(root.rt)] == ma);
            CHECK(m["child.cf80e6b9-b692-4d71-8d69-ea78e1122404"] == "/ip4/127.0.0.1/tcp/42717");
        }
    }
    CHECK(compared == 4);    // register, find(nobody), wait_for_actor, unregister
    CHECK(structural == 2);  // find(root), get_registry
    conns.clear();
    CHECK(count_named(registry_of(root.rt), "child") == 0);  // unregistered
    root.close_and_check();
}
