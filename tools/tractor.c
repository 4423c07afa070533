/* tractor: the libtractor command-line tool.
 *
 *   tractor registrar [--addr A] [--transport tcp|uds]   standalone registrar daemon
 *   tractor ls [--registry A] [--timeout S]              list registered actors
 *   tractor find NAME [--registry A] [--wait] [--timeout S]
 *
 * Exit codes: 0 success / found, 1 not found, 2 usage or connection error.
 * Speaks tractor's registrar protocol, so it works with Python tractor trees
 * too. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tractor/tractor.h"

enum { EXIT_FOUND = 0, EXIT_NOTFOUND = 1, EXIT_USAGE = 2 };

static const char *prog = "tractor";

static void usage_main(FILE *f) {
    fprintf(f,
            "usage: %s [--version] [--help] COMMAND [ARGS]\n"
            "\n"
            "commands:\n"
            "  registrar   run a standalone registrar daemon until SIGINT/SIGTERM\n"
            "  ls          list the actors registered with a registrar\n"
            "  find NAME   look up one actor by name\n"
            "\n"
            "Registry addresses are multiaddrs (/ip4/127.0.0.1/tcp/1616, /ip6/::1/tcp/1616,\n"
            "/unix/PATH), host:port or an absolute UDS path. The default is\n"
            "$TRACTOR_REGISTRY_ADDR, else 127.0.0.1:1616 (tcp) or\n"
            "$XDG_RUNTIME_DIR/tractor/registry@1616.sock (uds).\n"
            "\n"
            "exit status: 0 success/found, 1 not found, 2 usage or connection error.\n"
            "'%s COMMAND --help' describes each command.\n",
            prog, prog);
}

static void usage_registrar(FILE *f) {
    fprintf(f,
            "usage: %s registrar [--addr A[,B]] [--transport tcp|uds] [--loglevel L]\n"
            "\n"
            "Run a standalone registrar (an actor serving register_actor, find_actor,\n"
            "wait_for_actor, get_registry, ...) at A until SIGINT or SIGTERM. Actor trees\n"
            "started with the same registry address join it instead of electing their own.\n"
            "Prints 'registrar listening on ADDR' once ready. Fails (exit 2) when a\n"
            "registrar already runs there or the address is taken by something else.\n",
            prog);
}

static void usage_ls(FILE *f) {
    fprintf(f,
            "usage: %s ls [--registry A] [--timeout SECONDS] [--loglevel L]\n"
            "\n"
            "List every registered actor as a table: NAME, UUID, ADDRESSES.\n"
            "Exit 2 when no registrar answers.\n",
            prog);
}

static void usage_find(FILE *f) {
    fprintf(f,
            "usage: %s find NAME [--registry A] [--wait] [--timeout SECONDS] [--loglevel L]\n"
            "\n"
            "Look up the actor called NAME and check that it answers: prints\n"
            "'NAME UUID ADDRESS' (the preferred address: UDS, then loopback TCP, then\n"
            "remote). Stale registry entries that refuse connections are deleted.\n"
            "--wait waits until such an actor registers (up to --timeout, default\n"
            "forever with --wait, 5 s otherwise).\n"
            "Exit 0 found, 1 not found, 2 no registrar / usage error.\n",
            prog);
}

/* ---- a tiny msgpack reader for the registry map ------------------------- */

typedef struct {
    const uint8_t *p, *end;
} rd_t;

static int rd_bytes(rd_t *r, size_t n, const uint8_t **out) {
    if ((size_t)(r->end - r->p) < n) return -1;
    *out = r->p;
    r->p += n;
    return 0;
}

static int rd_be(rd_t *r, int n, uint64_t *v) {
    const uint8_t *b;
    if (rd_bytes(r, (size_t)n, &b)) return -1;
    *v = 0;
    for (int i = 0; i < n; i++) *v = *v << 8 | b[i];
    return 0;
}

/* kind: 's' str, 'a' array, 'm' map, 'i' int, 'n' nil; len/value in *v */
static int rd_head(rd_t *r, char *kind, uint64_t *v, const char **s) {
    const uint8_t *b;
    if (rd_bytes(r, 1, &b)) return -1;
    uint8_t c = *b;
    *s = NULL;
    if (c <= 0x7f) { *kind = 'i'; *v = c; return 0; }
    if ((c & 0xe0) == 0xa0 || c == 0xd9 || c == 0xda || c == 0xdb) {
        if ((c & 0xe0) == 0xa0) *v = c & 0x1f;
        else if (rd_be(r, c == 0xd9 ? 1 : c == 0xda ? 2 : 4, v)) return -1;
        if (rd_bytes(r, *v, &b)) return -1;
        *kind = 's';
        *s = (const char *)b;
        return 0;
    }
    if ((c & 0xf0) == 0x90 || c == 0xdc || c == 0xdd) {
        *kind = 'a';
        if ((c & 0xf0) == 0x90) { *v = c & 0x0f; return 0; }
        return rd_be(r, c == 0xdc ? 2 : 4, v);
    }
    if ((c & 0xf0) == 0x80 || c == 0xde || c == 0xdf) {
        *kind = 'm';
        if ((c & 0xf0) == 0x80) { *v = c & 0x0f; return 0; }
        return rd_be(r, c == 0xde ? 2 : 4, v);
    }
    if (c >= 0xcc && c <= 0xcf) { *kind = 'i'; return rd_be(r, 1 << (c - 0xcc), v); }
    if (c == 0xc0) { *kind = 'n'; *v = 0; return 0; }
    return -1;
}

/* one wire address ([host, port] or [dir, file]) as a multiaddr */
static int rd_addr(rd_t *r, char *out, size_t cap) {
    char k;
    uint64_t v, v2;
    const char *s, *s2;
    if (rd_head(r, &k, &v, &s) || k != 'a' || v != 2) return -1;
    if (rd_head(r, &k, &v, &s) || k != 's') return -1;
    if (rd_head(r, &k, &v2, &s2)) return -1;
    if (k == 'i')
        snprintf(out, cap, "/%s/%.*s/tcp/%llu", memchr(s, ':', v) ? "ip6" : "ip4", (int)v, s,
                 (unsigned long long)v2);
    else if (k == 's')
        snprintf(out, cap, "/unix%s%.*s/%.*s", v && s[0] == '/' ? "" : "/", (int)v, s, (int)v2, s2);
    else
        return -1;
    return 0;
}

/* ---- helpers ------------------------------------------------------------ */

static int parse_secs(const char *s, int *ms) {
    char *end;
    double d = strtod(s, &end);
    if (*end || end == s || d < 0 || d > 86400 * 365) return -1;
    *ms = (int)(d * 1000);
    return 0;
}

/* The registry address a command talks to, for messages. */
static const char *registry_text(const char *reg, const char *tpt) {
    if (reg) return reg;
    const char *env = getenv("TRACTOR_REGISTRY_ADDR");
    if (env && *env) return env;
    return tpt && !strcmp(tpt, "uds") ? "<rt dir>/registry@1616.sock" : "127.0.0.1:1616";
}

struct common {
    const char *registry, *transport, *loglevel;
    int timeout_ms;
    int wait;
    const char *name;
};

/* Parse the options shared by the sub-commands. Returns -1 on a usage
 * error (message printed), 1 for --help. */
static int parse_opts(int argc, char **argv, struct common *c, int allow_name, int allow_wait,
                      const char *addr_opt) {
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *val = NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) return 1;
        if (a[0] == '-' && a[1] == '-' && strchr(a, '=')) { /* --opt=value */
            static char key[64];
            size_t kl = (size_t)(strchr(a, '=') - a);
            if (kl >= sizeof key) kl = sizeof key - 1;
            memcpy(key, a, kl);
            key[kl] = 0;
            val = strchr(a, '=') + 1;
            a = key;
        }
#define TAKE()                                                                  \
    do {                                                                        \
        if (!val) {                                                             \
            if (i + 1 >= argc) {                                                \
                fprintf(stderr, "%s: option %s needs a value\n", prog, a);      \
                return -1;                                                      \
            }                                                                   \
            val = argv[++i];                                                    \
        }                                                                       \
    } while (0)
        if (!strcmp(a, addr_opt) || !strcmp(a, "--registry") || !strcmp(a, "--addr")) {
            TAKE();
            c->registry = val;
        } else if (!strcmp(a, "--transport")) {
            TAKE();
            if (strcmp(val, "tcp") && strcmp(val, "uds")) {
                fprintf(stderr, "%s: --transport must be tcp or uds\n", prog);
                return -1;
            }
            c->transport = val;
        } else if (!strcmp(a, "--loglevel")) {
            TAKE();
            c->loglevel = val;
        } else if (!strcmp(a, "--timeout")) {
            TAKE();
            if (parse_secs(val, &c->timeout_ms)) {
                fprintf(stderr, "%s: bad --timeout `%s` (seconds)\n", prog, val);
                return -1;
            }
        } else if (allow_wait && !strcmp(a, "--wait")) {
            c->wait = 1;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "%s: unknown option %s\n", prog, a);
            return -1;
        } else if (allow_name && !c->name) {
            c->name = a;
        } else {
            fprintf(stderr, "%s: unexpected argument `%s`\n", prog, a);
            return -1;
        }
#undef TAKE
    }
    return 0;
}

static int open_client(struct common *c, const char *name, tr_runtime_t **rt) {
    tr_runtime_opts_t o;
    tr_runtime_opts_init(&o);
    o.name = name;
    o.registry_addrs = c->registry;
    o.transport = c->transport;
    o.loglevel = c->loglevel ? c->loglevel : "critical";
    o.enable_registrar = TR_REGISTRAR_JOIN;
    int rc = tr_runtime_open(&o, rt);
    if (rc) {
        fprintf(stderr, "%s: no registrar answers at %s (%s)\n", prog,
                registry_text(c->registry, c->transport), tr_strerror(rc));
        return EXIT_USAGE;
    }
    return 0;
}

/* ---- commands ------------------------------------------------------------ */

static int cmd_registrar(int argc, char **argv) {
    struct common c = {0};
    int p = parse_opts(argc, argv, &c, 0, 0, "--addr");
    if (p) {
        if (p > 0) usage_registrar(stdout);
        return p > 0 ? 0 : EXIT_USAGE;
    }
    tr_runtime_opts_t o;
    tr_runtime_opts_init(&o);
    o.name = "registrar";
    o.registry_addrs = c.registry;
    o.transport = c.transport;
    o.loglevel = c.loglevel;
    o.enable_registrar = TR_REGISTRAR_BECOME;
    o.handle_signals = 1;
    tr_runtime_t *rt;
    int rc = tr_runtime_open(&o, &rt);
    if (rc) {
        fprintf(stderr, "%s registrar: cannot serve at %s: %s\n", prog,
                registry_text(c.registry, c.transport), tr_strerror(rc));
        return EXIT_USAGE;
    }
    char addr[400];
    tr_runtime_addr(rt, addr, sizeof addr);
    printf("registrar listening on %s (pid %d, uuid %s)\n", addr, (int)getpid(),
           tr_runtime_uuid(rt));
    fflush(stdout);
    tr_runtime_wait(rt, -1);
    tr_runtime_close(rt);
    return 0;
}

static int cmd_ls(int argc, char **argv) {
    struct common c = {0};
    c.timeout_ms = 5000;
    int p = parse_opts(argc, argv, &c, 0, 0, "--registry");
    if (p) {
        if (p > 0) usage_ls(stdout);
        return p > 0 ? 0 : EXIT_USAGE;
    }
    tr_runtime_t *rt;
    int rc = open_client(&c, "tractor-ls", &rt);
    if (rc) return rc;
    tr_buf_t b;
    rc = tr_get_registry(rt, &b, c.timeout_ms);
    if (rc) {
        fprintf(stderr, "%s ls: get_registry failed: %s\n", prog, tr_strerror(rc));
        tr_runtime_close(rt);
        return EXIT_USAGE;
    }
    const char *self = tr_runtime_uuid(rt);
    rd_t r = {b.data, (const uint8_t *)b.data + b.len};
    char k;
    uint64_t n;
    const char *s;
    int bad = rd_head(&r, &k, &n, &s) || k != 'm';
    printf("%-24s %-36s %s\n", "NAME", "UUID", "ADDRESSES");
    for (uint64_t i = 0; !bad && i < n; i++) {
        uint64_t kl, na;
        const char *key;
        if (rd_head(&r, &k, &kl, &key) || k != 's' || rd_head(&r, &k, &na, &s) || k != 'a') {
            bad = 1;
            break;
        }
        /* "name.uuid": names may hold dots, uuids do not */
        const char *dot = NULL;
        for (uint64_t j = 0; j < kl; j++)
            if (key[j] == '.') dot = key + j;
        int nl = dot ? (int)(dot - key) : (int)kl;
        const char *uuid = dot ? dot + 1 : "";
        int ul = dot ? (int)(key + kl - uuid) : 0;
        int mine = (size_t)ul == strlen(self) && !memcmp(uuid, self, (size_t)ul);
        char addrs[2048] = "";
        for (uint64_t j = 0; j < na; j++) {
            char a[400];
            if (rd_addr(&r, a, sizeof a)) {
                bad = 1;
                break;
            }
            if (strlen(addrs) + strlen(a) + 3 < sizeof addrs) {
                if (addrs[0]) strcat(addrs, ", ");
                strcat(addrs, a);
            }
        }
        if (!bad && !mine) printf("%-24.*s %-36.*s %s\n", nl, key, ul, uuid, addrs);
    }
    tr_buf_release(&b);
    tr_runtime_close(rt);
    if (bad) {
        fprintf(stderr, "%s ls: the registrar sent a malformed registry\n", prog);
        return EXIT_USAGE;
    }
    return 0;
}

static int cmd_find(int argc, char **argv) {
    struct common c = {0};
    c.timeout_ms = -2;
    int p = parse_opts(argc, argv, &c, 1, 1, "--registry");
    if (p) {
        if (p > 0) usage_find(stdout);
        return p > 0 ? 0 : EXIT_USAGE;
    }
    if (!c.name || !*c.name) {
        fprintf(stderr, "%s find: which actor? (usage: %s find NAME)\n", prog, prog);
        return EXIT_USAGE;
    }
    if (c.timeout_ms == -2) c.timeout_ms = c.wait ? -1 : 5000;
    tr_runtime_t *rt;
    int rc = open_client(&c, "tractor-find", &rt);
    if (rc) return rc;
    tr_portal_t *pt = NULL;
    rc = c.wait ? tr_wait_for_actor(rt, c.name, &pt, c.timeout_ms)
                : tr_find_actor(rt, c.name, &pt, c.timeout_ms);
    int out;
    if (rc == 0) {
        char addr[400] = "?";
        tr_query_actor(rt, c.name, addr, sizeof addr, 2000);
        printf("%s %s %s\n", tr_portal_name(pt), tr_portal_uuid(pt), addr);
        tr_portal_release(pt);
        out = EXIT_FOUND;
    } else if (rc == TR_ENOTFOUND || (c.wait && rc == TR_ETIMEDOUT)) {
        fprintf(stderr, "%s find: no actor called '%s'%s\n", prog, c.name,
                c.wait ? " registered in time" : "");
        out = EXIT_NOTFOUND;
    } else {
        fprintf(stderr, "%s find: lookup failed: %s\n", prog, tr_strerror(rc));
        out = EXIT_USAGE;
    }
    tr_runtime_close(rt);
    return out;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage_main(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        if (argc > 2 && !strcmp(argv[2], "registrar")) usage_registrar(stdout);
        else if (argc > 2 && !strcmp(argv[2], "ls")) usage_ls(stdout);
        else if (argc > 2 && !strcmp(argv[2], "find")) usage_find(stdout);
        else usage_main(stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version")) {
        printf("tractor (libtractor) %s\n", tr_version());
        return 0;
    }
    if (!strcmp(cmd, "registrar")) return cmd_registrar(argc - 2, argv + 2);
    if (!strcmp(cmd, "ls")) return cmd_ls(argc - 2, argv + 2);
    if (!strcmp(cmd, "find")) return cmd_find(argc - 2, argv + 2);
    fprintf(stderr, "%s: unknown command `%s`\n\n", prog, cmd);
    usage_main(stderr);
    return EXIT_USAGE;
}
