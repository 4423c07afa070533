/* run-bench: runs every bench program (each in its own process group, with
 * a timeout), collects their "R <key> <value>" lines, and prints one table:
 * each figure, the bar from issue 9, the baseline measured in this same run,
 * the ratio against it, and pass/miss. Writes the table as JSON and CSV to
 * bench/results/ (bench-<time>.{json,csv} and latest.{json,csv}).
 *
 *   build/bench/run-bench [--quick | --rounds N] [--only SUBSTR]
 *
 * Throughput and latency steps run in N rounds (default 3; --quick: 1),
 * baselines interleaved with runtime figures; a figure is the best rate /
 * the median latency over the rounds (every sample is in the JSON).
 *
 * Environment: BENCH_PYTHON (default python3), BENCH_LUA (default lua5.4). */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef TR_BENCH_BIN_DIR
#define TR_BENCH_BIN_DIR "."
#endif
#ifndef TR_BENCH_SRC_DIR
#define TR_BENCH_SRC_DIR "."
#endif
#ifndef TR_BUILD_DIR
#define TR_BUILD_DIR ".."
#endif

/* ---- collected results ---------------------------------------------------- */

/* Each key keeps every sample of this run (steps may be repeated); the
 * figure is the best throughput (keys ending in _per_s: the maximum) and
 * the median of anything else (latencies, times, sizes, counts). */
#define MAX_RES 512
#define MAX_SAMPLES 8
static struct {
    char key[96];
    double s[MAX_SAMPLES];
    int n;
} g_res[MAX_RES];
static int g_nres;

static void res_add(const char *k, double v) {
    int i;
    for (i = 0; i < g_nres; i++)
        if (!strcmp(g_res[i].key, k)) break;
    if (i == g_nres) {
        if (g_nres == MAX_RES) return;
        snprintf(g_res[i].key, sizeof g_res[i].key, "%s", k);
        g_res[i].n = 0;
        g_nres++;
    }
    if (g_res[i].n < MAX_SAMPLES) g_res[i].s[g_res[i].n++] = v;
}

static void res_set(const char *k, double v) {
    for (int i = 0; i < g_nres; i++)
        if (!strcmp(g_res[i].key, k)) g_res[i].n = 0;
    res_add(k, v);
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int is_rate(const char *k) {
    size_t n = strlen(k);
    return n > 6 && !strcmp(k + n - 6, "_per_s");
}

static double res_value(int i) {
    double t[MAX_SAMPLES];
    int n = g_res[i].n;
    memcpy(t, g_res[i].s, sizeof(double) * (size_t)n);
    qsort(t, (size_t)n, sizeof *t, cmp_d);
    if (is_rate(g_res[i].key)) return t[n - 1];
    return n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

static int res_get(const char *k, double *v) {
    for (int i = 0; i < g_nres; i++)
        if (!strcmp(g_res[i].key, k) && g_res[i].n > 0) {
            *v = res_value(i);
            return 1;
        }
    return 0;
}

/* ---- running one step ----------------------------------------------------- */

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void parse_lines(char *buf) {
    char *save, *line;
    for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char k[96];
        double v;
        if (sscanf(line, "R %95s %lf", k, &v) == 2) res_add(k, v);
    }
}

/* Run argv (NULL-terminated) with a timeout; collect its results. Returns
 * the exit status (or -1 on timeout). stderr passes through. */
static int run_step(const char *title, char *const argv[], double timeout_s) {
    int pfd[2];
    if (pipe(pfd)) return -1;
    fprintf(stderr, "  %-34s", title);
    fflush(stderr);
    double t0 = now_s();
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        setpgid(0, 0);
        dup2(pfd[1], 1);
        close(pfd[0]);
        close(pfd[1]);
        execvp(argv[0], argv);
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid);
    close(pfd[1]);
    size_t cap = 1 << 16, len = 0;
    char *out = malloc(cap);
    int timed_out = 0;
    for (;;) {
        double left = timeout_s - (now_s() - t0);
        if (left <= 0) {
            timed_out = 1;
            kill(-pid, SIGKILL);
            break;
        }
        struct pollfd p = {pfd[0], POLLIN, 0};
        int r = poll(&p, 1, (int)(left * 1000) + 1);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) continue;
        if (len + 4096 > cap) out = realloc(out, cap *= 2);
        ssize_t n = read(pfd[0], out + len, cap - len - 1);
        if (n <= 0) break;
        len += (size_t)n;
    }
    close(pfd[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    kill(-pid, SIGKILL); /* stragglers of the group (children of children) */
    out[len] = 0;
    parse_lines(out);
    free(out);
    int rc = timed_out ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    fprintf(stderr, "%6.1f s%s\n", now_s() - t0,
            timed_out ? "  TIMEOUT" : rc ? "  FAILED" : "");
    return rc;
}

static int quiet_ok(const char *cmd) {
    char full[2048];
    snprintf(full, sizeof full, "%s >/dev/null 2>&1", cmd);
    return system(full) == 0;
}

/* ---- the table ---------------------------------------------------------------- */

enum { SEC = 1 }; /* row kind: section header */

typedef struct {
    int kind;
    const char *label;
    const char *key;      /* result key */
    const char *unit;     /* msgs/s, MB/s, us, ms, s, MiB, calls/s, n */
    const char *bar;      /* bar text ("" = no bar: information) */
    const char *base_key; /* baseline for the ratio (NULL: none) */
    const char *base_label;
    double min_abs, max_abs, min_ratio, max_ratio; /* NAN = unused */
    int binding;          /* 1 python, 2 lua: n/a when not built */
} row_t;

#define NA NAN
#define ROW(label, key, unit, bar, bk, bl, mina, maxa, minr, maxr) \
    {0, label, key, unit, bar, bk, bl, mina, maxa, minr, maxr, 0}
#define BROW(b, label, key, unit, bar, bk, bl, mina, maxa, minr, maxr) \
    {0, label, key, unit, bar, bk, bl, mina, maxa, minr, maxr, b}
#define SECTION(t) {SEC, t, NULL, NULL, NULL, NULL, NULL, NA, NA, NA, NA, 0}

static const row_t ROWS[] = {
    SECTION("Baselines (no runtime: plain sockets, msgpack-c)"),
    ROW("raw ping-pong UDS p50", "raw.pingpong.uds.p50_us", "us", "", NULL, NULL, NA, NA, NA, NA),
    ROW("raw ping-pong UDS p99", "raw.pingpong.uds.p99_us", "us", "", NULL, NULL, NA, NA, NA, NA),
    ROW("raw ping-pong UDS p99.9", "raw.pingpong.uds.p999_us", "us", "", NULL, NULL, NA, NA, NA, NA),
    ROW("raw ping-pong TCP p50", "raw.pingpong.tcp.p50_us", "us", "", NULL, NULL, NA, NA, NA, NA),
    ROW("raw ping-pong TCP p99", "raw.pingpong.tcp.p99_us", "us", "", NULL, NULL, NA, NA, NA, NA),
    ROW("raw ping-pong TCP p99.9", "raw.pingpong.tcp.p999_us", "us", "", NULL, NULL, NA, NA, NA, NA),
    ROW("raw ping-pong + 1 hand-off/side UDS p50", "raw.handoff.uds.p50_us", "us", "", NULL, NULL, NA, NA, NA, NA),
    ROW("raw ping-pong + 1 hand-off/side TCP p50", "raw.handoff.tcp.p50_us", "us", "", NULL, NULL, NA, NA, NA, NA),
    ROW("raw Yield stream UDS, pld=int", "raw.stream.uds.8.msgs_per_s", "msgs/s", "", NULL, NULL, NA, NA, NA, NA),
    ROW("raw Yield stream TCP, pld=int", "raw.stream.tcp.8.msgs_per_s", "msgs/s", "", NULL, NULL, NA, NA, NA, NA),
    ROW("raw Yield stream UDS, 1 KiB", "raw.stream.uds.1024.MB_per_s", "MB/s", "", NULL, NULL, NA, NA, NA, NA),
    ROW("raw Yield stream UDS, 64 KiB", "raw.stream.uds.65536.MB_per_s", "MB/s", "", NULL, NULL, NA, NA, NA, NA),
    ROW("raw Yield stream UDS, 1 MiB", "raw.stream.uds.1048576.MB_per_s", "MB/s", "", NULL, NULL, NA, NA, NA, NA),
    ROW("raw Yield stream TCP, 1 KiB", "raw.stream.tcp.1024.MB_per_s", "MB/s", "", NULL, NULL, NA, NA, NA, NA),
    ROW("raw Yield stream TCP, 64 KiB", "raw.stream.tcp.65536.MB_per_s", "MB/s", "", NULL, NULL, NA, NA, NA, NA),
    ROW("raw Yield stream TCP, 1 MiB", "raw.stream.tcp.1048576.MB_per_s", "MB/s", "", NULL, NULL, NA, NA, NA, NA),
    ROW("fork+exec to main() (median of 20)", "raw.spawn.median_ms", "ms", "", NULL, NULL, NA, NA, NA, NA),
    ROW("posix_spawn to main() (median of 20)", "raw.vspawn.median_ms", "ms", "", NULL, NULL, NA, NA, NA, NA),
    ROW("idle C process RSS", "raw.idle.rss_MiB", "MiB", "", NULL, NULL, NA, NA, NA, NA),

    SECTION("One-way stream in a context (C child -> C root)"),
    ROW("UDS 8 B (int)", "rt.stream.uds.8.msgs_per_s", "msgs/s", ">=1.5M/s & >=30% floor",
        "raw.stream.uds.8.msgs_per_s", "raw stream UDS", 1.5e6, NA, 0.30, NA),
    ROW("UDS 1 KiB", "rt.stream.uds.1024.msgs_per_s", "msgs/s", "", "raw.stream.uds.1024.msgs_per_s", "raw stream UDS", NA, NA, NA, NA),
    ROW("UDS 1 KiB", "rt.stream.uds.1024.MB_per_s", "MB/s", "", "raw.stream.uds.1024.MB_per_s", "raw stream UDS", NA, NA, NA, NA),
    ROW("UDS 64 KiB", "rt.stream.uds.65536.msgs_per_s", "msgs/s", "", "raw.stream.uds.65536.msgs_per_s", "raw stream UDS", NA, NA, NA, NA),
    ROW("UDS 64 KiB", "rt.stream.uds.65536.MB_per_s", "MB/s", "", "raw.stream.uds.65536.MB_per_s", "raw stream UDS", NA, NA, NA, NA),
    ROW("UDS 1 MiB", "rt.stream.uds.1048576.msgs_per_s", "msgs/s", "", "raw.stream.uds.1048576.msgs_per_s", "raw stream UDS", NA, NA, NA, NA),
    ROW("UDS 1 MiB", "rt.stream.uds.1048576.MB_per_s", "MB/s", ">=1000 MB/s",
        "raw.stream.uds.1048576.MB_per_s", "raw stream UDS", 1000, NA, NA, NA),
    ROW("TCP 8 B (int)", "rt.stream.tcp.8.msgs_per_s", "msgs/s", ">=30% floor",
        "raw.stream.tcp.8.msgs_per_s", "raw stream TCP", NA, NA, 0.30, NA),
    ROW("TCP 1 KiB", "rt.stream.tcp.1024.msgs_per_s", "msgs/s", "", "raw.stream.tcp.1024.msgs_per_s", "raw stream TCP", NA, NA, NA, NA),
    ROW("TCP 1 KiB", "rt.stream.tcp.1024.MB_per_s", "MB/s", "", "raw.stream.tcp.1024.MB_per_s", "raw stream TCP", NA, NA, NA, NA),
    ROW("TCP 64 KiB", "rt.stream.tcp.65536.msgs_per_s", "msgs/s", "", "raw.stream.tcp.65536.msgs_per_s", "raw stream TCP", NA, NA, NA, NA),
    ROW("TCP 64 KiB", "rt.stream.tcp.65536.MB_per_s", "MB/s", "", "raw.stream.tcp.65536.MB_per_s", "raw stream TCP", NA, NA, NA, NA),
    ROW("TCP 1 MiB", "rt.stream.tcp.1048576.msgs_per_s", "msgs/s", "", "raw.stream.tcp.1048576.msgs_per_s", "raw stream TCP", NA, NA, NA, NA),
    ROW("TCP 1 MiB", "rt.stream.tcp.1048576.MB_per_s", "MB/s", "", "raw.stream.tcp.1048576.MB_per_s", "raw stream TCP", NA, NA, NA, NA),

    SECTION("Round trip over a context stream (send, receive the echo)"),
    ROW("UDS p50", "rt.rtt.uds.p50_us", "us", "<=2x raw p50", "raw.pingpong.uds.p50_us", "raw ping-pong UDS", NA, NA, NA, 2.0),
    ROW("UDS p50 (vs hand-off floor)", "rt.rtt.uds.p50_us", "us", "", "raw.handoff.uds.p50_us", "raw + 1 hand-off/side", NA, NA, NA, NA),
    ROW("UDS p99", "rt.rtt.uds.p99_us", "us", "", "raw.pingpong.uds.p99_us", "raw ping-pong UDS", NA, NA, NA, NA),
    ROW("UDS p99.9", "rt.rtt.uds.p999_us", "us", "", "raw.pingpong.uds.p999_us", "raw ping-pong UDS", NA, NA, NA, NA),
    ROW("TCP p50", "rt.rtt.tcp.p50_us", "us", "<=2x raw p50", "raw.pingpong.tcp.p50_us", "raw ping-pong TCP", NA, NA, NA, 2.0),
    ROW("TCP p50 (vs hand-off floor)", "rt.rtt.tcp.p50_us", "us", "", "raw.handoff.tcp.p50_us", "raw + 1 hand-off/side", NA, NA, NA, NA),
    ROW("TCP p99", "rt.rtt.tcp.p99_us", "us", "", "raw.pingpong.tcp.p99_us", "raw ping-pong TCP", NA, NA, NA, NA),
    ROW("TCP p99.9", "rt.rtt.tcp.p999_us", "us", "", "raw.pingpong.tcp.p999_us", "raw ping-pong TCP", NA, NA, NA, NA),

    SECTION("One-shot portal_run (UDS)"),
    ROW("sequential", "rt.rpc.uds.seq_calls_per_s", "calls/s", "", "raw.pingpong.uds.rtt_per_s", "raw round trips/s", NA, NA, NA, NA),
    ROW("8 concurrent callers", "rt.rpc.uds.conc8_calls_per_s", "calls/s", "", "raw.pingpong.uds.rtt_per_s", "raw round trips/s", NA, NA, NA, NA),

    SECTION("Scaling: concurrent streams root -> child (UDS, 1M msgs total)"),
    ROW("1 stream", "rt.scale.uds.1.msgs_per_s", "msgs/s", "", "raw.stream.uds.8.msgs_per_s", "raw stream UDS", NA, NA, NA, NA),
    ROW("10 streams", "rt.scale.uds.10.msgs_per_s", "msgs/s", "", "rt.scale.uds.1.msgs_per_s", "1 stream", NA, NA, NA, NA),
    ROW("100 streams", "rt.scale.uds.100.msgs_per_s", "msgs/s", "", "rt.scale.uds.1.msgs_per_s", "1 stream", NA, NA, NA, NA),
    ROW("1000 streams", "rt.scale.uds.1000.msgs_per_s", "msgs/s", ">=50% of 1 stream", "rt.scale.uds.1.msgs_per_s", "1 stream", NA, NA, 0.50, NA),
    ROW("messages lost (all runs)", "rt.scale.uds.lost_total", "n", "0", NULL, NULL, NA, 0, NA, NA),

    SECTION("Spawning (UDS)"),
    ROW("C child ready (median of 20)", "rt.spawn.uds.c.median_ms", "ms", "<=10 ms", "raw.vspawn.median_ms", "posix_spawn floor", NA, 10, NA, NA),
    ROW("idle C child RSS", "rt.spawn.uds.c.rss_MiB", "MiB", "<=4 MiB", "raw.idle.rss_MiB", "idle C process", NA, 4, NA, NA),
    BROW(1, "Python child ready (median of 5)", "rt.spawn.uds.python.median_ms", "ms", "", "raw.vspawn.median_ms", "posix_spawn floor", NA, NA, NA, NA),
    BROW(1, "idle Python child RSS", "rt.spawn.uds.python.rss_MiB", "MiB", "", "raw.idle.rss_MiB", "idle C process", NA, NA, NA, NA),
    BROW(2, "Lua child ready (median of 5)", "rt.spawn.uds.lua.median_ms", "ms", "", "raw.vspawn.median_ms", "posix_spawn floor", NA, NA, NA, NA),
    BROW(2, "idle Lua child RSS", "rt.spawn.uds.lua.rss_MiB", "MiB", "", "raw.idle.rss_MiB", "idle C process", NA, NA, NA, NA),
    ROW("tree of 1 C actor up+down", "rt.tree.uds.1.total_s", "s", "", NULL, NULL, NA, NA, NA, NA),
    ROW("tree of 10 C actors up+down", "rt.tree.uds.10.total_s", "s", "", NULL, NULL, NA, NA, NA, NA),
    ROW("tree of 100 C actors up+down", "rt.tree.uds.100.total_s", "s", "<=2 s", NULL, NULL, NA, 2.0, NA, NA),

    SECTION("Bindings (UDS, C child on the other end)"),
    BROW(1, "Python one-way receive, int", "py.stream.recv.msgs_per_s", "msgs/s", ">=200k/s", "rt.stream.uds.8.msgs_per_s", "C runtime", 200000, NA, NA, NA),
    BROW(1, "Python one-way send, int", "py.stream.send.msgs_per_s", "msgs/s", "", "rt.stream.uds.8.msgs_per_s", "C runtime", NA, NA, NA, NA),
    BROW(1, "Python round trip p50", "py.rtt.p50_us", "us", "", "raw.pingpong.uds.p50_us", "raw ping-pong UDS", NA, NA, NA, NA),
    BROW(1, "Python round trip p99", "py.rtt.p99_us", "us", "", "raw.pingpong.uds.p99_us", "raw ping-pong UDS", NA, NA, NA, NA),
    BROW(2, "Lua one-way receive, int", "lua.stream.recv.msgs_per_s", "msgs/s", ">=300k/s", "rt.stream.uds.8.msgs_per_s", "C runtime", 300000, NA, NA, NA),
    BROW(2, "Lua one-way send, int", "lua.stream.send.msgs_per_s", "msgs/s", "", "rt.stream.uds.8.msgs_per_s", "C runtime", NA, NA, NA, NA),
    BROW(2, "Lua round trip p50", "lua.rtt.p50_us", "us", "", "raw.pingpong.uds.p50_us", "raw ping-pong UDS", NA, NA, NA, NA),
    BROW(2, "Lua round trip p99", "lua.rtt.p99_us", "us", "", "raw.pingpong.uds.p99_us", "raw ping-pong UDS", NA, NA, NA, NA),
};
#define NROWS (sizeof ROWS / sizeof *ROWS)

static void fmt_value(char *out, size_t n, double v, const char *unit) {
    if (!strcmp(unit, "msgs/s") || !strcmp(unit, "calls/s")) {
        char digits[32], grouped[48];
        snprintf(digits, sizeof digits, "%.0f", v);
        size_t L = strlen(digits), j = 0;
        for (size_t i = 0; i < L; i++) {
            grouped[j++] = digits[i];
            if ((L - i - 1) % 3 == 0 && i + 1 < L) grouped[j++] = ',';
        }
        grouped[j] = 0;
        snprintf(out, n, "%s %s", grouped, unit);
    } else if (!strcmp(unit, "MB/s")) {
        snprintf(out, n, "%.0f MB/s", v);
    } else if (!strcmp(unit, "us")) {
        snprintf(out, n, "%.1f us", v);
    } else if (!strcmp(unit, "ms")) {
        snprintf(out, n, "%.1f ms", v);
    } else if (!strcmp(unit, "s")) {
        snprintf(out, n, "%.2f s", v);
    } else if (!strcmp(unit, "MiB")) {
        snprintf(out, n, "%.2f MiB", v);
    } else {
        snprintf(out, n, "%.0f", v);
    }
}

typedef struct {
    int have, have_base;
    double v, base, ratio;
    const char *status; /* pass, MISS, info, n/a */
    char na_why[64];
} eval_t;

static int g_have_py, g_have_lua;

static eval_t evaluate(const row_t *r) {
    eval_t e;
    memset(&e, 0, sizeof e);
    e.ratio = NAN;
    e.have = res_get(r->key, &e.v);
    if (r->base_key) e.have_base = res_get(r->base_key, &e.base);
    if (e.have && e.have_base && e.base != 0) e.ratio = e.v / e.base;
    int has_bar = r->bar && *r->bar;
    if (!e.have) {
        e.status = "n/a";
        if ((r->binding == 1 && !g_have_py) || (r->binding == 2 && !g_have_lua))
            snprintf(e.na_why, sizeof e.na_why, "n/a (binding not built)");
        else
            snprintf(e.na_why, sizeof e.na_why, "n/a (run failed)");
        return e;
    }
    if (!has_bar) {
        e.status = "info";
        return e;
    }
    int ok = 1;
    if (!isnan(r->min_abs) && !(e.v >= r->min_abs)) ok = 0;
    if (!isnan(r->max_abs) && !(e.v <= r->max_abs)) ok = 0;
    if (!isnan(r->min_ratio) || !isnan(r->max_ratio)) {
        if (isnan(e.ratio)) ok = 0;
        else {
            if (!isnan(r->min_ratio) && !(e.ratio >= r->min_ratio)) ok = 0;
            if (!isnan(r->max_ratio) && !(e.ratio <= r->max_ratio)) ok = 0;
        }
    }
    e.status = ok ? "pass" : "MISS";
    return e;
}

static void json_str(FILE *f, const char *s) {
    fputc('"', f);
    for (; s && *s; s++) {
        if (*s == '"' || *s == '\\') fputc('\\', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void csv_str(FILE *f, const char *s) {
    fputc('"', f);
    for (; s && *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void load_avg(char *out, size_t n) {
    FILE *f = fopen("/proc/loadavg", "r");
    out[0] = 0;
    if (!f) return;
    double a, b, c;
    if (fscanf(f, "%lf %lf %lf", &a, &b, &c) == 3) snprintf(out, n, "%.2f %.2f %.2f", a, b, c);
    fclose(f);
}

static void copy_file(const char *from, const char *to) {
    FILE *a = fopen(from, "r"), *b = a ? fopen(to, "w") : NULL;
    char buf[8192];
    size_t n;
    while (a && b && (n = fread(buf, 1, sizeof buf, a)) > 0) fwrite(buf, 1, n, b);
    if (a) fclose(a);
    if (b) fclose(b);
}

static void report(const char *load0, const char *load1, double secs) {
    char val[64], basev[64], ratio[32], section[96] = "";
    printf("\nlibtractor benchmarks  (%ld cores; load average %s before, %s after; %.0f s)\n",
           sysconf(_SC_NPROCESSORS_ONLN), load0, load1, secs);
    printf("%-40s %22s  %-24s %-40s %8s  %s\n", "figure", "value", "bar", "baseline (same run)",
           "ratio", "result");
    int pass = 0, miss = 0, na = 0;
    for (size_t i = 0; i < NROWS; i++) {
        const row_t *r = &ROWS[i];
        if (r->kind == SEC) {
            printf("\n-- %s\n", r->label);
            snprintf(section, sizeof section, "%s", r->label);
            continue;
        }
        eval_t e = evaluate(r);
        if (e.have) fmt_value(val, sizeof val, e.v, r->unit);
        else snprintf(val, sizeof val, "%s", e.na_why);
        char bl[96] = "";
        if (r->base_key) {
            if (e.have_base) fmt_value(basev, sizeof basev, e.base, r->unit);
            else snprintf(basev, sizeof basev, "n/a");
            snprintf(bl, sizeof bl, "%s: %s", r->base_label, basev);
        }
        if (!isnan(e.ratio)) snprintf(ratio, sizeof ratio, "%.2fx", e.ratio);
        else snprintf(ratio, sizeof ratio, "%s", r->base_key ? "-" : "");
        printf("%-40s %22s  %-24s %-40s %8s  %s\n", r->label, val, r->bar, bl, ratio, e.status);
        if (!strcmp(e.status, "pass")) pass++;
        else if (!strcmp(e.status, "MISS")) miss++;
        else if (!strcmp(e.status, "n/a") && r->bar && *r->bar) na++;
    }
    printf("\nbars: %d pass, %d miss, %d n/a\n", pass, miss, na);

    /* files */
    char dir[1024], stamp[64], jpath[1200], cpath[1200], tmp[1300];
    snprintf(dir, sizeof dir, "%s/results", TR_BENCH_SRC_DIR);
    mkdir(dir, 0755);
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    snprintf(jpath, sizeof jpath, "%s/bench-%s.json", dir, stamp);
    snprintf(cpath, sizeof cpath, "%s/bench-%s.csv", dir, stamp);
    FILE *j = fopen(jpath, "w"), *c = fopen(cpath, "w");
    if (!j || !c) {
        fprintf(stderr, "run-bench: cannot write %s\n", dir);
        if (j) fclose(j);
        if (c) fclose(c);
        return;
    }
    struct utsname u;
    uname(&u);
    char iso[64];
    strftime(iso, sizeof iso, "%Y-%m-%dT%H:%M:%S%z", &tm);
    fprintf(j, "{\n  \"time\": \"%s\",\n  \"host\": ", iso);
    json_str(j, u.nodename);
    fprintf(j, ",\n  \"kernel\": ");
    json_str(j, u.release);
    fprintf(j, ",\n  \"cores\": %ld,\n  \"load_before\": \"%s\",\n  \"load_after\": \"%s\",\n",
            sysconf(_SC_NPROCESSORS_ONLN), load0, load1);
    fprintf(j, "  \"seconds\": %.1f,\n  \"summary\": {\"pass\": %d, \"miss\": %d, \"na\": %d},\n",
            secs, pass, miss, na);
    fprintf(j, "  \"figures\": [\n");
    fprintf(c, "section,figure,key,value,unit,bar,baseline,baseline_value,ratio,result\n");
    int first = 1;
    for (size_t i = 0; i < NROWS; i++) {
        const row_t *r = &ROWS[i];
        if (r->kind == SEC) {
            snprintf(section, sizeof section, "%s", r->label);
            continue;
        }
        eval_t e = evaluate(r);
        fprintf(j, "%s    {\"section\": ", first ? "" : ",\n");
        first = 0;
        json_str(j, section);
        fprintf(j, ", \"figure\": ");
        json_str(j, r->label);
        fprintf(j, ", \"key\": ");
        json_str(j, r->key);
        if (e.have) fprintf(j, ", \"value\": %.6g", e.v);
        else fprintf(j, ", \"value\": null");
        fprintf(j, ", \"unit\": ");
        json_str(j, r->unit);
        fprintf(j, ", \"bar\": ");
        json_str(j, r->bar);
        fprintf(j, ", \"baseline\": ");
        if (r->base_key) json_str(j, r->base_key);
        else fprintf(j, "null");
        if (e.have_base) fprintf(j, ", \"baseline_value\": %.6g", e.base);
        else fprintf(j, ", \"baseline_value\": null");
        if (!isnan(e.ratio)) fprintf(j, ", \"ratio\": %.4g", e.ratio);
        else fprintf(j, ", \"ratio\": null");
        fprintf(j, ", \"result\": ");
        json_str(j, e.have ? e.status : e.na_why);
        fprintf(j, "}");

        csv_str(c, section);
        fputc(',', c);
        csv_str(c, r->label);
        fprintf(c, ",%s,", r->key);
        if (e.have) fprintf(c, "%.6g", e.v);
        fprintf(c, ",%s,", r->unit);
        csv_str(c, r->bar);
        fprintf(c, ",%s,", r->base_key ? r->base_key : "");
        if (e.have_base) fprintf(c, "%.6g", e.base);
        fputc(',', c);
        if (!isnan(e.ratio)) fprintf(c, "%.4g", e.ratio);
        fputc(',', c);
        csv_str(c, e.have ? e.status : e.na_why);
        fputc('\n', c);
    }
    fprintf(j, "\n  ],\n  \"raw\": {");
    for (int i = 0; i < g_nres; i++) {
        fprintf(j, "%s\n    ", i ? "," : "");
        json_str(j, g_res[i].key);
        fprintf(j, ": {\"value\": %.6g, \"samples\": [", res_value(i));
        for (int k = 0; k < g_res[i].n; k++) fprintf(j, "%s%.6g", k ? ", " : "", g_res[i].s[k]);
        fprintf(j, "]}");
    }
    fprintf(j, "\n  }\n}\n");
    fclose(j);
    fclose(c);
    snprintf(tmp, sizeof tmp, "%s/latest.json", dir);
    copy_file(jpath, tmp);
    snprintf(tmp, sizeof tmp, "%s/latest.csv", dir);
    copy_file(cpath, tmp);
    printf("results: %s\n         %s\n", jpath, cpath);
}

/* ---- main -------------------------------------------------------------------- */

static const char *g_only;

static int want(const char *title) { return !g_only || strstr(title, g_only); }

#define STEP_R(title, reps, timeout, ...)                             \
    do {                                                              \
        if (want(title)) {                                            \
            char *const av_[] = {__VA_ARGS__, NULL};                  \
            for (int r_ = 0; r_ < (reps); r_++) run_step(title, av_, timeout); \
        }                                                             \
    } while (0)
#define STEP(title, timeout, ...) STEP_R(title, 1, timeout, __VA_ARGS__)

static void prepend_env(const char *name, const char *val, const char *sep) {
    const char *old = getenv(name);
    char buf[8192];
    if (old && *old) snprintf(buf, sizeof buf, "%s%s%s", val, sep, old);
    else snprintf(buf, sizeof buf, "%s", val);
    setenv(name, buf, 1);
}

int main(int argc, char **argv) {
    int reps = 3;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) reps = 1;
        else if (!strcmp(argv[i], "--rounds") && i + 1 < argc) reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--only") && i + 1 < argc) g_only = argv[++i];
        else {
            fprintf(stderr, "usage: run-bench [--quick | --rounds N] [--only SUBSTR]\n");
            return 2;
        }
    }
    if (reps < 1) reps = 1;
    if (reps > MAX_SAMPLES) reps = MAX_SAMPLES;
    signal(SIGPIPE, SIG_IGN);
    const char *B = TR_BENCH_BIN_DIR;
    char raw[1024], rt[1024], mods[1024], py_script[1024], lua_script[1024];
    snprintf(raw, sizeof raw, "%s/bench-raw", B);
    snprintf(rt, sizeof rt, "%s/bench-rt", B);
    snprintf(mods, sizeof mods, "%s/modules", B);
    snprintf(py_script, sizeof py_script, "%s/py_bench.py", TR_BENCH_SRC_DIR);
    snprintf(lua_script, sizeof lua_script, "%s/lua_bench.lua", TR_BENCH_SRC_DIR);
    prepend_env("TRACTOR_MODULE_PATH", mods, ":");
    prepend_env("PYTHONPATH", TR_BUILD_DIR "/bindings/python", ":");
    /* Lua: ";;" stands for the default path */
    if (!getenv("LUA_CPATH")) setenv("LUA_CPATH", ";", 1);
    if (!getenv("LUA_PATH")) setenv("LUA_PATH", ";", 1);
    prepend_env("LUA_CPATH", TR_BUILD_DIR "/bindings/lua/?.so", ";");
    prepend_env("LUA_PATH", TR_BUILD_DIR "/bindings/lua/?.lua", ";");
    unsetenv("TRACTOR_LOGLEVEL");
    const char *py = getenv("BENCH_PYTHON") ? getenv("BENCH_PYTHON") : "python3";
    const char *lua = getenv("BENCH_LUA") ? getenv("BENCH_LUA") : "lua5.4";
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s -c 'import libtractor'", py);
    g_have_py = quiet_ok(cmd);
    snprintf(cmd, sizeof cmd, "%s -e 'require \"tractor\"'", lua);
    g_have_lua = quiet_ok(cmd);
    char langs[64] = "";
    if (g_have_py) strcat(langs, "python ");
    if (g_have_lua) strcat(langs, "lua");
    setenv("BENCH_LANGS", langs, 1);

    char load0[64], load1[64];
    load_avg(load0, sizeof load0);
    double t0 = now_s();
    fprintf(stderr, "run-bench: python binding %s, lua binding %s\n",
            g_have_py ? "found" : "not built", g_have_lua ? "found" : "not built");

    /* rounds: baselines and runtime figures interleaved, so load swings on
     * a shared machine hit both alike; the table keeps the best rate and
     * the median latency of the rounds */
    for (int round = 1; round <= reps; round++) {
        fprintf(stderr, "round %d of %d\n", round, reps);
        STEP("raw ping-pong uds", 60, raw, "pingpong", "uds", "20000");
        STEP("rt rtt uds", 60, rt, "uds", "rtt");
        STEP("raw ping-pong tcp", 60, raw, "pingpong", "tcp", "20000");
        STEP("rt rtt tcp", 60, rt, "tcp", "rtt");
        STEP("raw hand-off ping-pong uds", 60, raw, "handoff", "uds", "20000");
        STEP("raw hand-off ping-pong tcp", 60, raw, "handoff", "tcp", "20000");
        STEP("raw stream uds 8", 60, raw, "stream", "uds", "8", "2000000");
        STEP("raw stream uds 1024", 60, raw, "stream", "uds", "1024", "400000");
        STEP("raw stream uds 65536", 60, raw, "stream", "uds", "65536", "20000");
        STEP("raw stream uds 1048576", 60, raw, "stream", "uds", "1048576", "1500");
        STEP("rt stream uds", 120, rt, "uds", "stream");
        STEP("raw stream tcp 8", 60, raw, "stream", "tcp", "8", "2000000");
        STEP("raw stream tcp 1024", 60, raw, "stream", "tcp", "1024", "400000");
        STEP("raw stream tcp 65536", 60, raw, "stream", "tcp", "65536", "20000");
        STEP("raw stream tcp 1048576", 60, raw, "stream", "tcp", "1048576", "1500");
        STEP("rt stream tcp", 120, rt, "tcp", "stream");
        STEP("rt scale uds", 120, rt, "uds", "scale");
        if (g_have_py) STEP("python binding", 120, (char *)py, py_script, "uds");
        if (g_have_lua) STEP("lua binding", 120, (char *)lua, lua_script, "uds");
    }
    STEP("rt rpc uds", 60, rt, "uds", "rpc");
    STEP("raw spawn floor", 60, raw, "spawn", "20");
    STEP("rt spawn uds", 120, rt, "uds", "spawn");
    STEP("rt tree uds", 120, rt, "uds", "tree");

    double lost = 0; /* every run's losses count */
    int any = 0;
    for (int k = 1; k <= 1000; k *= 10) {
        char key[64];
        snprintf(key, sizeof key, "rt.scale.uds.%d.lost", k);
        for (int i = 0; i < g_nres; i++)
            if (!strcmp(g_res[i].key, key))
                for (int m = 0; m < g_res[i].n; m++) lost += g_res[i].s[m], any = 1;
    }
    if (any) res_set("rt.scale.uds.lost_total", lost);

    load_avg(load1, sizeof load1);
    report(load0, load1, now_s() - t0);
    return 0;
}
