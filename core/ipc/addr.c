/* Addresses: multiaddr text <-> tr__addr_t <-> tractor's 2-element wire form,
 * address preference, and the UDS runtime directory. See addr.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <unistd.h>

#include "core/ipc/ipc.h"
#include "tractor/tractor.h"

static int fail(char *err, size_t errlen, const char *fmt, const char *arg) {
    if (err && errlen) snprintf(err, errlen, fmt, arg);
    return TR_EADDR;
}

static int split_path(const char *path, tr__addr_t *out, char *err,
                      size_t errlen) {
    const char *slash = strrchr(path, '/');
    if (path[0] != '/' || !slash || slash == path || !slash[1])
        return fail(err, errlen, "UDS address `%s` needs a directory and a file name", path);
    size_t dl = (size_t)(slash - path);
    if (dl >= sizeof out->dir || strlen(slash + 1) >= sizeof out->file)
        return fail(err, errlen, "UDS path `%s` is too long", path);
    if (dl + 1 + strlen(slash + 1) >= 108)
        return fail(err, errlen, "UDS path `%s` exceeds the 107-byte socket path limit", path);
    memcpy(out->dir, path, dl);
    out->dir[dl] = 0;
    strcpy(out->file, slash + 1);
    out->kind = TR__ADDR_UDS;
    return 0;
}

static int parse_port(const char *s, int *port) {
    char *end;
    if (*s < '0' || *s > '9') return -1; /* no sign, no space */
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || end == s || v < 0 || v > 65535) return -1;
    *port = (int)v;
    return 0;
}

/* Canonical text of an IP literal into out->host ("localhost" is
 * 127.0.0.1; hostnames are not resolved). family: 4, 6 or 0 (either). */
static int set_host(tr__addr_t *out, const char *h, size_t hl, int family) {
    char tmp[80];
    unsigned char bin[sizeof(struct in6_addr)];
    if (hl == 0 || hl >= sizeof tmp) return -1;
    memcpy(tmp, h, hl);
    tmp[hl] = 0;
    if (!strcmp(tmp, "localhost") && family != 6) strcpy(tmp, "127.0.0.1");
    if (family != 6 && inet_pton(AF_INET, tmp, bin) == 1)
        return inet_ntop(AF_INET, bin, out->host, sizeof out->host) ? 0 : -1;
    if (family != 4 && inet_pton(AF_INET6, tmp, bin) == 1)
        return inet_ntop(AF_INET6, bin, out->host, sizeof out->host) ? 0 : -1;
    return -1;
}

int tr__addr_parse(const char *s, tr__addr_t *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    if (!s || !*s) return fail(err, errlen, "empty address%s", "");
    if (!strncmp(s, "/ip4/", 5) || !strncmp(s, "/ip6/", 5)) {
        int fam = s[3] == '4' ? 4 : 6;
        const char *h = s + 5;
        const char *t = strstr(h, "/tcp/");
        if (!t || t == h)
            return fail(err, errlen, "bad multiaddr `%s` (want /ip4/HOST/tcp/PORT or /ip6/HOST/tcp/PORT)", s);
        if (set_host(out, h, (size_t)(t - h), fam))
            return fail(err, errlen, fam == 4 ? "bad IPv4 address in `%s`" : "bad IPv6 address in `%s`", s);
        if (parse_port(t + 5, &out->port))
            return fail(err, errlen, "bad port in `%s`", s);
        out->kind = TR__ADDR_TCP;
        return 0;
    }
    if (!strncmp(s, "/unix/", 6)) return split_path(s + 5, out, err, errlen);
    if (!strncmp(s, "unix://", 7)) return split_path(s + 7, out, err, errlen);
    if (s[0] == '/') return split_path(s, out, err, errlen);
    if (!strncmp(s, "tcp://", 6)) s += 6;
    const char *colon = strrchr(s, ':');
    if (!colon) return fail(err, errlen, "address `%s` is not host:port, a multiaddr or an absolute path", s);
    const char *h = s;
    size_t hl = (size_t)(colon - s);
    if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']') {
        h++;
        hl -= 2;
    }
    if (set_host(out, h, hl, 0))
        return fail(err, errlen, "bad host in `%s` (want an IPv4/IPv6 literal or localhost)", s);
    if (parse_port(colon + 1, &out->port))
        return fail(err, errlen, "bad port in `%s`", s);
    out->kind = TR__ADDR_TCP;
    return 0;
}

int tr__addr_uds_path(const tr__addr_t *a, char *buf, size_t len) {
    if (a->kind != TR__ADDR_UDS) return TR_EADDR;
    int n = snprintf(buf, len, "%s/%s", a->dir, a->file);
    return (n < 0 || (size_t)n >= len) ? TR_EADDR : 0;
}

int tr__addr_format(const tr__addr_t *a, char *buf, size_t len) {
    int n;
    if (a->kind == TR__ADDR_TCP)
        n = snprintf(buf, len, "/%s/%s/tcp/%d", strchr(a->host, ':') ? "ip6" : "ip4",
                     a->host, a->port);
    else if (a->kind == TR__ADDR_UDS)
        n = snprintf(buf, len, "/unix%s%s/%s", a->dir[0] == '/' ? "" : "/", a->dir, a->file);
    else
        n = snprintf(buf, len, "<none>");
    return (n < 0 || (size_t)n >= len) ? TR_EINVAL : 0;
}

void tr__addr_encode(tr__wbuf_t *b, const tr__addr_t *a) {
    tr__mp_array(b, 2);
    if (a->kind == TR__ADDR_TCP) {
        tr__mp_cstr(b, a->host);
        tr__mp_int(b, a->port);
    } else {
        tr__mp_cstr(b, a->dir);
        tr__mp_cstr(b, a->file);
    }
}

int tr__addr_decode(tr__str_t raw, tr__addr_t *out) {
    tr__mp_reader_t r;
    tr__mp_tok_t t;
    tr__str_t s1, s2;
    memset(out, 0, sizeof *out);
    tr__mp_reader_init(&r, raw.p, raw.n);
    if (tr__mp_next(&r, &t) || t.kind != TR__MP_ARRAY || t.count != 2) return TR_EADDR;
    if (tr__mp_read_str(&r, &s1) || s1.n >= sizeof out->dir) return TR_EADDR;
    tr__mp_reader_t save = r;
    if (tr__mp_next(&r, &t)) return TR_EADDR;
    if (t.kind == TR__MP_INT) {
        if (s1.n >= sizeof out->host ||
            (t.is_unsigned ? t.u > 65535 : (t.i < 0 || t.i > 65535)))
            return TR_EADDR;
        memcpy(out->host, s1.p, s1.n);
        out->port = t.is_unsigned ? (int)t.u : (int)t.i;
        out->kind = TR__ADDR_TCP;
        return 0;
    }
    r = save;
    if (tr__mp_read_str(&r, &s2) || s2.n >= sizeof out->file) return TR_EADDR;
    memcpy(out->dir, s1.p, s1.n);
    memcpy(out->file, s2.p, s2.n);
    out->kind = TR__ADDR_UDS;
    return 0;
}

int tr__addr_equal(const tr__addr_t *a, const tr__addr_t *b) {
    if (a->kind != b->kind) return 0;
    if (a->kind == TR__ADDR_TCP) return a->port == b->port && !strcmp(a->host, b->host);
    return !strcmp(a->dir, b->dir) && !strcmp(a->file, b->file);
}

/* ---- address preference: UDS > loopback/local TCP > remote -------------- */

static int is_local_ip(const char *host) {
    if (!strncmp(host, "127.", 4) || !strcmp(host, "::1") || !strcmp(host, "localhost")) return 1;
    struct ifaddrs *ifs, *i;
    int local = 0;
    if (getifaddrs(&ifs) != 0) return 0;
    for (i = ifs; i && !local; i = i->ifa_next) {
        if (!i->ifa_addr) continue;
        char buf[INET6_ADDRSTRLEN];
        if (i->ifa_addr->sa_family == AF_INET)
            inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, buf, sizeof buf);
        else if (i->ifa_addr->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, buf, sizeof buf);
        else
            continue;
        local = !strcmp(buf, host);
    }
    freeifaddrs(ifs);
    return local;
}

int tr__addr_tier(const tr__addr_t *a) {
    if (a->kind == TR__ADDR_UDS) return 0;
    return is_local_ip(a->host) ? 1 : 2;
}

void tr__addr_sort_pref(tr__addr_t *v, int n) {
    int tier[16];
    if (n > 16) n = 16;
    for (int i = 0; i < n; i++) tier[i] = tr__addr_tier(&v[i]);
    for (int i = 1; i < n; i++) { /* insertion sort: stable */
        tr__addr_t a = v[i];
        int t = tier[i], j = i;
        while (j > 0 && tier[j - 1] > t) {
            v[j] = v[j - 1];
            tier[j] = tier[j - 1];
            j--;
        }
        v[j] = a;
        tier[j] = t;
    }
}

int tr__rt_dir(char *buf, size_t len, char *err, size_t errlen) {
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    int n;
    if (xdg && *xdg && access(xdg, W_OK) == 0)
        n = snprintf(buf, len, "%s/tractor", xdg);
    else
        n = snprintf(buf, len, "/tmp/tractor-%u", (unsigned)getuid());
    if (n < 0 || (size_t)n >= len) return TR_EADDR;
    if (mkdir(buf, 0700) != 0 && errno != EEXIST) {
        if (err) snprintf(err, errlen, "cannot create runtime dir %s: %s", buf, strerror(errno));
        return TR_EADDR;
    }
    struct stat st;
    if (lstat(buf, &st) != 0 || !S_ISDIR(st.st_mode)) {
        if (err) snprintf(err, errlen, "runtime dir %s is not a directory (symlink?)", buf);
        return TR_EPERM;
    }
    if (st.st_uid != getuid()) {
        if (err) snprintf(err, errlen, "runtime dir %s is owned by uid %u, not us (%u)", buf,
                          (unsigned)st.st_uid, (unsigned)getuid());
        return TR_EPERM;
    }
    if ((st.st_mode & 0777) != 0700 && chmod(buf, 0700) != 0) {
        if (err) snprintf(err, errlen, "cannot make runtime dir %s mode 0700", buf);
        return TR_EPERM;
    }
    return 0;
}
