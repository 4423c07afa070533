/* bench-raw: the baselines. Two processes, plain blocking sockets, no
 * runtime and no extra threads.
 *
 *   bench-raw pingpong uds|tcp ITERS
 *       small framed messages (a Yield frame, 4-byte LE length + body) sent
 *       back and forth: the latency floor (p50/p99/p99.9 of a round trip).
 *   bench-raw handoff uds|tcp ITERS
 *       the same ping-pong with one thread hand-off per side (a reader
 *       thread passes each frame to the answering thread): the floor for a
 *       runtime with an I/O thread.
 *   bench-raw stream uds|tcp SIZE COUNT
 *       a one-way stream of Yield{cid, pld} frames, each packed with
 *       msgpack-c by the sender and unpacked by the receiver, batched into
 *       64 KiB writes: the codec + socket floor. SIZE 8 sends pld=int (the
 *       counter); larger sizes send a bin payload of SIZE bytes.
 *   bench-raw spawn REPS
 *       fork + exec, and posix_spawn, of this (dynamically linked) program
 *       until its main() runs, median of REPS each: the floor under a
 *       child's spawn latency; and the RSS of that idle process.
 *
 * Prints "R <key> <value>" lines (see common.h). */
#include <errno.h>
#include <fcntl.h>
#include <msgpack.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

static const char CID[] = "0b7d8f5e-1c2a-4e3b-9f00-123456789abc"; /* 36 chars */

static void die(const char *what) {
    perror(what);
    exit(2);
}

/* ---- sockets ----------------------------------------------------------- */

struct conn {
    int lfd;
    int is_tcp;
    struct sockaddr_storage sa;
    socklen_t salen;
    char path[108];
};

static void listen_on(struct conn *c, const char *tpt) {
    c->is_tcp = !strcmp(tpt, "tcp");
    if (c->is_tcp) {
        struct sockaddr_in *a = (struct sockaddr_in *)&c->sa;
        memset(a, 0, sizeof *a);
        a->sin_family = AF_INET;
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a->sin_port = 0;
        c->lfd = socket(AF_INET, SOCK_STREAM, 0);
        if (c->lfd < 0) die("socket");
        if (bind(c->lfd, (struct sockaddr *)a, sizeof *a)) die("bind");
        c->salen = sizeof *a;
        if (getsockname(c->lfd, (struct sockaddr *)a, &c->salen)) die("getsockname");
    } else {
        struct sockaddr_un *a = (struct sockaddr_un *)&c->sa;
        memset(a, 0, sizeof *a);
        a->sun_family = AF_UNIX;
        snprintf(c->path, sizeof c->path, "/tmp/tr-bench-raw-%d.sock", (int)getpid());
        unlink(c->path);
        snprintf(a->sun_path, sizeof a->sun_path, "%s", c->path);
        c->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (c->lfd < 0) die("socket");
        c->salen = sizeof *a;
        if (bind(c->lfd, (struct sockaddr *)a, c->salen)) die("bind");
    }
    if (listen(c->lfd, 4)) die("listen");
}

static void tune(int fd, int is_tcp) {
    if (is_tcp) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
}

static int connect_to(struct conn *c) {
    int fd = socket(c->is_tcp ? AF_INET : AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) die("socket");
    if (connect(fd, (struct sockaddr *)&c->sa, c->salen)) die("connect");
    tune(fd, c->is_tcp);
    return fd;
}

static int accept_one(struct conn *c) {
    int fd = accept(c->lfd, NULL, NULL);
    if (fd < 0) die("accept");
    tune(fd, c->is_tcp);
    close(c->lfd);
    if (!c->is_tcp) unlink(c->path);
    return fd;
}

static void write_all(int fd, const void *p, size_t n) {
    const char *q = p;
    while (n) {
        ssize_t w = write(fd, q, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            die("write");
        }
        q += w;
        n -= (size_t)w;
    }
}

/* ---- frames -------------------------------------------------------------- */

static void put_le32(char *p, uint32_t v) {
    p[0] = (char)v;
    p[1] = (char)(v >> 8);
    p[2] = (char)(v >> 16);
    p[3] = (char)(v >> 24);
}

static uint32_t get_le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Append one Yield frame (as msgspec/libtractor lay it out) to sb. */
static void pack_yield(msgpack_sbuffer *sb, msgpack_packer *pk, uint64_t i, const char *bin,
                       size_t binlen) {
    size_t off = sb->size;
    msgpack_sbuffer_write(sb, "\0\0\0\0", 4);
    msgpack_pack_map(pk, 3);
    msgpack_pack_str_with_body(pk, "msg_type", 8);
    msgpack_pack_str_with_body(pk, "Yield", 5);
    msgpack_pack_str_with_body(pk, "cid", 3);
    msgpack_pack_str_with_body(pk, CID, sizeof CID - 1);
    msgpack_pack_str_with_body(pk, "pld", 3);
    if (bin)
        msgpack_pack_bin_with_body(pk, bin, binlen);
    else
        msgpack_pack_uint64(pk, i);
    put_le32(sb->data + off, (uint32_t)(sb->size - off - 4));
}

/* ---- ping-pong ---------------------------------------------------------- */

/* Read one whole frame into buf (cap bytes); returns its total length. */
static size_t read_frame(int fd, uint8_t *buf, size_t cap) {
    size_t have = 0;
    for (;;) {
        if (have >= 4) {
            size_t need = 4 + (size_t)get_le32(buf);
            if (need > cap) {
                fprintf(stderr, "frame too big\n");
                exit(2);
            }
            if (have >= need) return need;
        }
        ssize_t r = read(fd, buf + have, cap - have);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return 0;
        have += (size_t)r;
    }
}

static int pingpong(const char *tpt, long iters) {
    struct conn c;
    listen_on(&c, tpt);
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    pack_yield(&sb, &pk, 123456, NULL, 0);
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
        int fd = connect_to(&c);
        uint8_t buf[4096];
        size_t n;
        while ((n = read_frame(fd, buf, sizeof buf)) > 0) write_all(fd, buf, n);
        _exit(0);
    }
    int fd = accept_one(&c);
    long warm = iters / 10 + 100;
    uint64_t *lat = malloc(sizeof *lat * (size_t)iters);
    uint8_t buf[4096];
    uint64_t t0 = bn_now_ns();
    for (long i = 0; i < warm + iters; i++) {
        uint64_t a = bn_now_ns();
        write_all(fd, sb.data, sb.size);
        if (read_frame(fd, buf, sizeof buf) != sb.size) die("short echo");
        uint64_t b = bn_now_ns();
        if (i >= warm) lat[i - warm] = b - a;
        if (i == warm - 1) t0 = bn_now_ns();
    }
    uint64_t t1 = bn_now_ns();
    close(fd);
    waitpid(pid, NULL, 0);
    bn_sort(lat, (size_t)iters);
    char k[64];
    snprintf(k, sizeof k, "raw.pingpong.%s.p50_us", tpt);
    bn_result(k, (double)bn_pct(lat, (size_t)iters, 50) / 1e3);
    snprintf(k, sizeof k, "raw.pingpong.%s.p99_us", tpt);
    bn_result(k, (double)bn_pct(lat, (size_t)iters, 99) / 1e3);
    snprintf(k, sizeof k, "raw.pingpong.%s.p999_us", tpt);
    bn_result(k, (double)bn_pct(lat, (size_t)iters, 99.9) / 1e3);
    snprintf(k, sizeof k, "raw.pingpong.%s.rtt_per_s", tpt);
    bn_result(k, (double)iters / bn_secs(t0, t1));
    snprintf(k, sizeof k, "raw.pingpong.%s.frame_bytes", tpt);
    bn_result(k, (double)sb.size);
    free(lat);
    msgpack_sbuffer_destroy(&sb);
    return 0;
}

/* ---- ping-pong with one thread hand-off per side ------------------------------ */

/* The same ping-pong, but in each process a reader thread reads the frame
 * and hands it to the thread that answers (mutex + condition variable), as
 * any runtime with an I/O thread does: the floor for that design. */
struct handoff {
    int fd;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    uint8_t buf[4096];
    size_t len; /* a frame is waiting when > 0 */
    int eof;
};

static void *handoff_reader(void *arg) {
    struct handoff *h = arg;
    uint8_t buf[4096];
    for (;;) {
        size_t n = read_frame(h->fd, buf, sizeof buf);
        pthread_mutex_lock(&h->mu);
        if (n == 0) h->eof = 1;
        else {
            memcpy(h->buf, buf, n);
            h->len = n;
        }
        pthread_mutex_unlock(&h->mu);
        pthread_cond_signal(&h->cond);
        if (n == 0) return NULL;
    }
}

/* wait for the reader thread's next frame; 0 at EOF */
static size_t handoff_take(struct handoff *h, uint8_t *out) {
    pthread_mutex_lock(&h->mu);
    while (!h->len && !h->eof) pthread_cond_wait(&h->cond, &h->mu);
    size_t n = h->len;
    if (n) memcpy(out, h->buf, n);
    h->len = 0;
    pthread_mutex_unlock(&h->mu);
    return n;
}

static void handoff_start(struct handoff *h, int fd, pthread_t *th) {
    memset(h, 0, sizeof *h);
    h->fd = fd;
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cond, NULL);
    pthread_create(th, NULL, handoff_reader, h);
}

static int pingpong_handoff(const char *tpt, long iters) {
    struct conn c;
    listen_on(&c, tpt);
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    pack_yield(&sb, &pk, 123456, NULL, 0);
    pid_t pid = fork();
    if (pid < 0) die("fork");
    uint8_t buf[4096];
    struct handoff h;
    pthread_t th;
    if (pid == 0) {
        int fd = connect_to(&c);
        handoff_start(&h, fd, &th);
        size_t n;
        while ((n = handoff_take(&h, buf)) > 0) write_all(fd, buf, n);
        _exit(0);
    }
    int fd = accept_one(&c);
    handoff_start(&h, fd, &th);
    long warm = iters / 10 + 100;
    uint64_t *lat = malloc(sizeof *lat * (size_t)iters);
    for (long i = 0; i < warm + iters; i++) {
        uint64_t a = bn_now_ns();
        write_all(fd, sb.data, sb.size);
        if (handoff_take(&h, buf) != sb.size) die("short echo");
        if (i >= warm) lat[i - warm] = bn_now_ns() - a;
    }
    shutdown(fd, SHUT_RDWR);
    pthread_join(th, NULL);
    close(fd);
    waitpid(pid, NULL, 0);
    bn_sort(lat, (size_t)iters);
    char k[64];
    snprintf(k, sizeof k, "raw.handoff.%s.p50_us", tpt);
    bn_result(k, (double)bn_pct(lat, (size_t)iters, 50) / 1e3);
    snprintf(k, sizeof k, "raw.handoff.%s.p99_us", tpt);
    bn_result(k, (double)bn_pct(lat, (size_t)iters, 99) / 1e3);
    free(lat);
    msgpack_sbuffer_destroy(&sb);
    return 0;
}

/* ---- one-way stream ----------------------------------------------------- */

#define BATCH (64 * 1024)

static void stream_send(int fd, size_t size, long count) {
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    char *bin = NULL;
    size_t binlen = 0;
    if (size > 8) {
        size_t total = 0;
        uint8_t *p = bn_mp_bin_payload(size, &total);
        /* msgpack-c writes the bin header itself: hand it the body only */
        size_t hdr = size < 256 ? 2 : size < 65536 ? 3 : 5;
        binlen = total - hdr;
        bin = malloc(binlen ? binlen : 1);
        memcpy(bin, p + hdr, binlen);
        free(p);
    }
    for (long i = 0; i < count; i++) {
        pack_yield(&sb, &pk, (uint64_t)i, bin, binlen);
        if (sb.size >= BATCH) {
            write_all(fd, sb.data, sb.size);
            sb.size = 0;
        }
    }
    if (sb.size) write_all(fd, sb.data, sb.size);
    free(bin);
    msgpack_sbuffer_destroy(&sb);
}

static int str_is(const msgpack_object *o, const char *s) {
    size_t n = strlen(s);
    return o->type == MSGPACK_OBJECT_STR && o->via.str.size == n && !memcmp(o->via.str.ptr, s, n);
}

/* Unpack one Yield body; returns the pld int (size 8) or the bin length. */
static int64_t unpack_yield(msgpack_zone *z, const char *p, size_t n) {
    msgpack_object o;
    size_t off = 0;
    msgpack_zone_clear(z);
    if (msgpack_unpack(p, n, &off, z, &o) != MSGPACK_UNPACK_SUCCESS || o.type != MSGPACK_OBJECT_MAP)
        return -1;
    int64_t v = -1;
    int ok = 0;
    for (uint32_t i = 0; i < o.via.map.size; i++) {
        msgpack_object_kv *kv = &o.via.map.ptr[i];
        if (str_is(&kv->key, "msg_type")) ok |= str_is(&kv->val, "Yield");
        else if (str_is(&kv->key, "cid")) ok |= (kv->val.type == MSGPACK_OBJECT_STR) << 1;
        else if (str_is(&kv->key, "pld")) {
            if (kv->val.type == MSGPACK_OBJECT_POSITIVE_INTEGER) v = (int64_t)kv->val.via.u64;
            else if (kv->val.type == MSGPACK_OBJECT_BIN) v = kv->val.via.bin.size;
        }
    }
    return ok == 3 ? v : -1;
}

static int stream(const char *tpt, size_t size, long count) {
    struct conn c;
    listen_on(&c, tpt);
    pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
        int fd = connect_to(&c);
        stream_send(fd, size, count);
        close(fd);
        _exit(0);
    }
    int fd = accept_one(&c);
    size_t cap = 4 * BATCH + 2 * size + 256, have = 0, pos = 0;
    uint8_t *buf = malloc(cap);
    msgpack_zone z;
    msgpack_zone_init(&z, 4096);
    long got = 0;
    int64_t bad = 0;
    uint64_t t0 = 0, t1 = 0;
    while (got < count) {
        if (pos > 0 && (cap - have < BATCH || pos == have)) {
            memmove(buf, buf + pos, have - pos);
            have -= pos;
            pos = 0;
        }
        ssize_t r = read(fd, buf + have, cap - have);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        if (!t0) t0 = bn_now_ns();
        have += (size_t)r;
        while (have - pos >= 4) {
            uint32_t L = get_le32(buf + pos);
            if (have - pos - 4 < L) break;
            int64_t v = unpack_yield(&z, (const char *)buf + pos + 4, L);
            if (size <= 8 ? v != got : v < 0) bad++;
            got++;
            pos += 4 + L;
        }
    }
    t1 = bn_now_ns();
    close(fd);
    waitpid(pid, NULL, 0);
    msgpack_zone_destroy(&z);
    free(buf);
    if (got != count || bad) {
        fprintf(stderr, "bench-raw stream: got %ld/%ld, %lld bad\n", got, count, (long long)bad);
        return 1;
    }
    double s = bn_secs(t0, t1);
    char k[80];
    snprintf(k, sizeof k, "raw.stream.%s.%zu.msgs_per_s", tpt, size);
    bn_result(k, (double)count / s);
    snprintf(k, sizeof k, "raw.stream.%s.%zu.MB_per_s", tpt, size);
    bn_result(k, (double)count * (double)size / s / 1e6);
    return 0;
}

/* ---- process start floor -------------------------------------------------- */

static long rss_kib(int pid) {
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    long v = -1;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6)) v = atol(line + 6);
    fclose(f);
    return v;
}

/* Start this program until its main() runs (it writes one byte on fd 3,
 * then idles until its stdin closes), REPS times, median: the floor under
 * any child's spawn latency, and the RSS of an idle, dynamically linked C
 * process. Measured two ways: fork()+exec (what a naive runtime does; its
 * cost grows with the parent's page tables) and posix_spawn (vfork
 * semantics; what libtractor uses). */
static uint64_t spawn_once(const char *self, int use_vfork, pid_t *pid_out, int *hold_out) {
    int ready[2], hold[2];
    /* close-on-exec: the child gets only the dup2'd copies */
    if (pipe2(ready, O_CLOEXEC) || pipe2(hold, O_CLOEXEC)) die("pipe");
    uint64_t t0 = bn_now_ns();
    pid_t pid;
    if (use_vfork) {
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, ready[1], 3);
        posix_spawn_file_actions_adddup2(&fa, hold[0], 0);
        char *av[] = {(char *)self, (char *)"--idle-child", NULL};
        if (posix_spawn(&pid, self, &fa, NULL, av, environ) != 0) die("posix_spawn");
        posix_spawn_file_actions_destroy(&fa);
    } else {
        pid = fork();
        if (pid < 0) die("fork");
        if (pid == 0) {
            /* fd 3 <- ready[1], stdin <- hold[0], nothing else of ours */
            dup2(ready[1], 100);
            dup2(hold[0], 0);
            close(ready[0]);
            close(ready[1]);
            close(hold[0]);
            close(hold[1]);
            dup2(100, 3);
            close(100);
            execl(self, self, "--idle-child", (char *)NULL);
            _exit(127);
        }
    }
    close(ready[1]);
    close(hold[0]);
    char b;
    if (read(ready[0], &b, 1) != 1) die("child did not start");
    uint64_t dt = bn_now_ns() - t0;
    close(ready[0]);
    *pid_out = pid;
    *hold_out = hold[1];
    return dt;
}

extern char **environ;

static int spawn_floor(const char *self, int reps) {
    uint64_t *lat = malloc(sizeof *lat * (size_t)reps);
    uint64_t *vlat = malloc(sizeof *vlat * (size_t)reps);
    long rss = -1;
    for (int i = 0; i < reps; i++) {
        for (int v = 0; v < 2; v++) { /* alternate, so load hits both alike */
            pid_t pid;
            int hold;
            uint64_t dt = spawn_once(self, v, &pid, &hold);
            (v ? vlat : lat)[i] = dt;
            if (v && i == reps - 1) {
                usleep(300000);
                rss = rss_kib(pid);
            }
            close(hold);
            waitpid(pid, NULL, 0);
        }
    }
    bn_sort(lat, (size_t)reps);
    bn_sort(vlat, (size_t)reps);
    bn_result("raw.spawn.median_ms", (double)bn_pct(lat, (size_t)reps, 50) / 1e6);
    bn_result("raw.vspawn.median_ms", (double)bn_pct(vlat, (size_t)reps, 50) / 1e6);
    bn_result("raw.idle.rss_MiB", (double)rss / 1024.0);
    free(lat);
    free(vlat);
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 2 && !strcmp(argv[1], "--idle-child")) {
        char b = 1, buf[16];
        if (write(3, &b, 1) != 1) return 1;
        while (read(0, buf, sizeof buf) > 0) {
        }
        return 0;
    }
    signal(SIGPIPE, SIG_IGN);
    if (argc >= 3 && !strcmp(argv[1], "spawn")) return spawn_floor("/proc/self/exe", atoi(argv[2]));
    if (argc >= 4 && !strcmp(argv[1], "pingpong")) return pingpong(argv[2], atol(argv[3]));
    if (argc >= 4 && !strcmp(argv[1], "handoff")) return pingpong_handoff(argv[2], atol(argv[3]));
    if (argc >= 5 && !strcmp(argv[1], "stream"))
        return stream(argv[2], (size_t)atol(argv[3]), atol(argv[4]));
    fprintf(stderr, "usage: bench-raw pingpong|handoff uds|tcp ITERS | stream uds|tcp SIZE COUNT | spawn REPS\n");
    return 2;
}
