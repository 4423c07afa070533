// Addresses: multiaddr / host:port / path parsing and printing, the wire
// form, address preference, the UDS runtime dir (tractor's
// tests/discovery/test_multiaddr.py and ipc/test_each_tpt.py dir checks).
#include <catch2/catch.hpp>

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "core/ipc/addr.h"
#include "tractor/tractor.h"

namespace {

std::string fmt(const tr__addr_t &a) {
    char buf[400];
    REQUIRE(tr__addr_format(&a, buf, sizeof buf) == 0);
    return buf;
}

tr__addr_t parse_ok(const std::string &s) {
    tr__addr_t a;
    char err[200] = "";
    INFO(s << ": " << err);
    REQUIRE(tr__addr_parse(s.c_str(), &a, err, sizeof err) == 0);
    return a;
}

int parse_rc(const std::string &s, std::string *why = nullptr) {
    tr__addr_t a;
    char err[200] = "";
    int rc = tr__addr_parse(s.c_str(), &a, err, sizeof err);
    if (why) *why = err;
    return rc;
}

// msgpack wire form and back
tr__addr_t wire_round_trip(const tr__addr_t &a) {
    tr__wbuf_t b;
    tr__wbuf_init(&b);
    tr__addr_encode(&b, &a);
    tr__addr_t out;
    REQUIRE(tr__addr_decode(tr__str_t{(const char *)b.p, b.len}, &out) == 0);
    tr__wbuf_free(&b);
    return out;
}

}  // namespace

TEST_CASE("multiaddr: tcp ip4, ip6 and unix round trips", "[addr]") {
    const char *cases[] = {
        "/ip4/127.0.0.1/tcp/1616",
        "/ip4/10.1.2.3/tcp/0",
        "/ip4/0.0.0.0/tcp/65535",
        "/ip6/::1/tcp/1616",
        "/ip6/fe80::1/tcp/4242",
        "/ip6/2001:db8::42/tcp/80",
        "/unix/run/user/1000/tractor/registry@1616.sock",
        "/unix/tmp/x/a b@12.sock",
    };
    for (const char *s : cases) {
        INFO(s);
        tr__addr_t a = parse_ok(s);
        CHECK(fmt(a) == s);
        tr__addr_t b = parse_ok(fmt(a));
        CHECK(tr__addr_equal(&a, &b));
        tr__addr_t w = wire_round_trip(a);
        CHECK(tr__addr_equal(&a, &w));
        CHECK(fmt(w) == s);
    }
}

TEST_CASE("multiaddr: fields and wire form", "[addr]") {
    tr__addr_t a = parse_ok("/ip4/127.0.0.1/tcp/1616");
    CHECK(a.kind == TR__ADDR_TCP);
    CHECK(std::string(a.host) == "127.0.0.1");
    CHECK(a.port == 1616);
    // tractor's unwrapped form: ["127.0.0.1", 1616]
    tr__wbuf_t b;
    tr__wbuf_init(&b);
    tr__addr_encode(&b, &a);
    CHECK(std::string((const char *)b.p, b.len) ==
          std::string("\x92\xa9" "127.0.0.1" "\xcd\x06\x50", 14));
    tr__wbuf_free(&b);

    tr__addr_t u = parse_ok("/unix/run/user/1000/tractor/registry@1616.sock");
    CHECK(u.kind == TR__ADDR_UDS);
    CHECK(std::string(u.dir) == "/run/user/1000/tractor");
    CHECK(std::string(u.file) == "registry@1616.sock");
    char path[300];
    REQUIRE(tr__addr_uds_path(&u, path, sizeof path) == 0);
    CHECK(std::string(path) == "/run/user/1000/tractor/registry@1616.sock");
    tr__wbuf_init(&b);
    tr__addr_encode(&b, &u);
    CHECK(std::string((const char *)b.p, b.len) ==
          std::string("\x92\xb6" "/run/user/1000/tractor" "\xb2" "registry@1616.sock"));
    tr__wbuf_free(&b);
}

TEST_CASE("address: other accepted spellings map to the same address", "[addr]") {
    struct {
        const char *in, *canon;
    } cases[] = {
        {"127.0.0.1:1616", "/ip4/127.0.0.1/tcp/1616"},
        {"localhost:1616", "/ip4/127.0.0.1/tcp/1616"},
        {"tcp://127.0.0.1:9", "/ip4/127.0.0.1/tcp/9"},
        {"[::1]:1616", "/ip6/::1/tcp/1616"},
        {"[0:0:0:0:0:0:0:1]:7", "/ip6/::1/tcp/7"},        // canonical IPv6 text
        {"/ip6/0:0:0:0:0:0:0:1/tcp/7", "/ip6/::1/tcp/7"},
        {"/tmp/tractor-0/svc@12.sock", "/unix/tmp/tractor-0/svc@12.sock"},
        {"unix:///tmp/r.sock", "/unix/tmp/r.sock"},
    };
    for (auto &c : cases) {
        INFO(c.in);
        CHECK(fmt(parse_ok(c.in)) == c.canon);
    }
    tr__addr_t a = parse_ok("localhost:1616"), b = parse_ok("/ip4/127.0.0.1/tcp/1616");
    CHECK(tr__addr_equal(&a, &b));
    tr__addr_t c = parse_ok("/ip4/127.0.0.1/tcp/1617");
    CHECK_FALSE(tr__addr_equal(&a, &c));
    tr__addr_t u = parse_ok("/unix/tmp/x.sock");
    CHECK_FALSE(tr__addr_equal(&a, &u));
}

TEST_CASE("address: malformed input is refused with a reason", "[addr]") {
    const char *bad[] = {
        "",
        "nonsense",
        "/ip4/127.0.0.1",             // no transport
        "/ip4/127.0.0.1/tcp/",        // no port
        "/ip4/127.0.0.1/tcp/x",       //
        "/ip4/127.0.0.1/tcp/65536",   // out of range
        "/ip4/127.0.0.1/tcp/-1",      //
        "/ip4/127.0.0.1/tcp/80/",     // trailing component
        "/ip4/::1/tcp/80",            // ip6 literal under /ip4
        "/ip6/127.0.0.1/tcp/80",      // ip4 literal under /ip6
        "/ip4/300.1.1.1/tcp/80",      //
        "/ip4//tcp/80",               //
        "example.com:80",             // hostnames are not resolved
        "127.0.0.1:",                 //
        "127.0.0.1: 80",              //
        "/unix/",                     // no file
        "/unix/x.sock",               // no directory
        "/tmp/",                      //
    };
    for (const char *s : bad) {
        INFO("`" << s << "`");
        std::string why;
        CHECK(parse_rc(s, &why) == TR_EADDR);
        CHECK_FALSE(why.empty());
    }
    // the 107-byte socket path limit
    std::string longp = "/tmp/" + std::string(120, 'd') + "/x.sock";
    std::string why;
    CHECK(parse_rc(longp, &why) == TR_EADDR);
    CHECK(why.find("107") != std::string::npos);
}

TEST_CASE("address: wire decode accepts both forms and rejects others", "[addr]") {
    tr__addr_t a;
    // [host, port]
    CHECK(tr__addr_decode(TR__STR("\x92\xa9" "127.0.0.1" "\xcd\x06\x50"), &a) == 0);
    CHECK(a.kind == TR__ADDR_TCP);
    CHECK(a.port == 1616);
    // [dir, file]
    CHECK(tr__addr_decode(TR__STR("\x92\xa4/tmp\xa5r.soc"), &a) == 0);
    CHECK(a.kind == TR__ADDR_UDS);
    CHECK(fmt(a) == "/unix/tmp/r.soc");
    // not a 2-array / wrong element types / port out of range
    CHECK(tr__addr_decode(TR__STR("\x91\xa4/tmp"), &a) == TR_EADDR);
    CHECK(tr__addr_decode(TR__STR("\x92\x01\x02"), &a) == TR_EADDR);
    CHECK(tr__addr_decode(TR__STR("\x92\xa1h\xce\x00\x01\x00\x00"), &a) == TR_EADDR);
    CHECK(tr__addr_decode(TR__STR("\xc0"), &a) == TR_EADDR);
}

TEST_CASE("address preference: UDS, then loopback TCP, then remote", "[addr][discovery]") {
    tr__addr_t v[5] = {parse_ok("/ip4/10.255.255.1/tcp/1"), parse_ok("/ip4/127.0.0.1/tcp/2"),
                       parse_ok("/unix/tmp/a.sock"), parse_ok("/ip6/::1/tcp/3"),
                       parse_ok("/unix/tmp/b.sock")};
    CHECK(tr__addr_tier(&v[0]) == 2);
    CHECK(tr__addr_tier(&v[1]) == 1);
    CHECK(tr__addr_tier(&v[2]) == 0);
    CHECK(tr__addr_tier(&v[3]) == 1);
    tr__addr_sort_pref(v, 5);
    // stable within a tier
    CHECK(fmt(v[0]) == "/unix/tmp/a.sock");
    CHECK(fmt(v[1]) == "/unix/tmp/b.sock");
    CHECK(fmt(v[2]) == "/ip4/127.0.0.1/tcp/2");
    CHECK(fmt(v[3]) == "/ip6/::1/tcp/3");
    CHECK(fmt(v[4]) == "/ip4/10.255.255.1/tcp/1");
}

TEST_CASE("registry address lists: explicit, environment, defaults", "[addr][discovery]") {
    tr__addr_t v[4];
    int n;
    char err[200];
    REQUIRE(tr__registry_addrs(" 127.0.0.1:5001 , /ip6/::1/tcp/5002", TR__ADDR_TCP, v, 4, &n, err,
                               sizeof err) == 0);
    REQUIRE(n == 2);
    CHECK(fmt(v[0]) == "/ip4/127.0.0.1/tcp/5001");
    CHECK(fmt(v[1]) == "/ip6/::1/tcp/5002");
    CHECK(tr__registry_addrs("127.0.0.1:1,bogus", TR__ADDR_TCP, v, 4, &n, err, sizeof err) ==
          TR_EADDR);
    CHECK(std::string(err).find("bogus") != std::string::npos);
    CHECK(tr__registry_addrs("1.1.1.1:1,1.1.1.1:2,1.1.1.1:3", TR__ADDR_TCP, v, 2, &n, err,
                             sizeof err) == TR_EINVAL);

    const char *old = getenv("TRACTOR_REGISTRY_ADDR");
    std::string saved = old ? old : "";
    unsetenv("TRACTOR_REGISTRY_ADDR");
    REQUIRE(tr__registry_addrs(nullptr, TR__ADDR_TCP, v, 4, &n, err, sizeof err) == 0);
    REQUIRE(n == 1);
    CHECK(fmt(v[0]) == "/ip4/127.0.0.1/tcp/1616");
    REQUIRE(tr__registry_addrs(nullptr, TR__ADDR_UDS, v, 4, &n, err, sizeof err) == 0);
    REQUIRE(n == 1);
    CHECK(std::string(v[0].file) == "registry@1616.sock");
    setenv("TRACTOR_REGISTRY_ADDR", "/ip4/127.0.0.1/tcp/4999", 1);
    REQUIRE(tr__registry_addrs(nullptr, TR__ADDR_UDS, v, 4, &n, err, sizeof err) == 0);
    CHECK(fmt(v[0]) == "/ip4/127.0.0.1/tcp/4999");
    REQUIRE(tr__registry_addrs("127.0.0.1:7", TR__ADDR_TCP, v, 4, &n, err, sizeof err) == 0);
    CHECK(v[0].port == 7);  // explicit beats the environment
    if (old)
        setenv("TRACTOR_REGISTRY_ADDR", saved.c_str(), 1);
    else
        unsetenv("TRACTOR_REGISTRY_ADDR");
}

TEST_CASE("UDS runtime dir: created 0700, tightened, owner and symlink checks", "[addr][uds]") {
    char tmpl[] = "/tmp/trt-rtdir-XXXXXX";
    REQUIRE(mkdtemp(tmpl));
    std::string base = tmpl;
    const char *old = getenv("XDG_RUNTIME_DIR");
    std::string saved = old ? old : "";
    setenv("XDG_RUNTIME_DIR", base.c_str(), 1);
    char dir[256], err[300];
    struct stat st;

    // created with mode 0700
    REQUIRE(tr__rt_dir(dir, sizeof dir, err, sizeof err) == 0);
    CHECK(std::string(dir) == base + "/tractor");
    REQUIRE(stat(dir, &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);

    // too open: tightened back to 0700
    REQUIRE(chmod(dir, 0755) == 0);
    REQUIRE(tr__rt_dir(dir, sizeof dir, err, sizeof err) == 0);
    REQUIRE(stat(dir, &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);

    // a symlink (someone else's dir in disguise) is refused
    std::string real = base + "/elsewhere";
    REQUIRE(rmdir(dir) == 0);
    REQUIRE(mkdir(real.c_str(), 0700) == 0);
    REQUIRE(symlink(real.c_str(), dir) == 0);
    CHECK(tr__rt_dir(dir, sizeof dir, err, sizeof err) == TR_EPERM);
    CHECK(std::string(err).find("symlink") != std::string::npos);
    unlink(dir);

    // owned by another user: refused (needs root to set up)
    if (geteuid() == 0) {
        REQUIRE(mkdir(dir, 0700) == 0);
        REQUIRE(chown(dir, 4242, 4242) == 0);
        CHECK(tr__rt_dir(dir, sizeof dir, err, sizeof err) == TR_EPERM);
        CHECK(std::string(err).find("owned by uid 4242") != std::string::npos);
        rmdir(dir);
    }
    rmdir(real.c_str());
    rmdir(base.c_str());
    if (old)
        setenv("XDG_RUNTIME_DIR", saved.c_str(), 1);
    else
        unsetenv("XDG_RUNTIME_DIR");
}
