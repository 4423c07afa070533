/* Shared helpers for the bench programs: clocks, percentiles, the result
 * line protocol ("R <key> <value>" on stdout, read by run-bench) and a tiny
 * msgpack writer for payloads. Not part of the library. */
#ifndef TR_BENCH_COMMON_H
#define TR_BENCH_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline uint64_t bn_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline double bn_secs(uint64_t t0, uint64_t t1) { return (double)(t1 - t0) / 1e9; }

/* One result for run-bench. */
static inline void bn_result(const char *key, double v) {
    printf("R %s %.6g\n", key, v);
    fflush(stdout);
}

static inline void bn_note(const char *key, const char *text) {
    printf("N %s %s\n", key, text);
    fflush(stdout);
}

static int bn_cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Percentile (0..100) of n sorted samples. */
static inline uint64_t bn_pct(const uint64_t *v, size_t n, double p) {
    if (!n) return 0;
    size_t i = (size_t)(p / 100.0 * (double)n);
    if (i >= n) i = n - 1;
    return v[i];
}

static inline void bn_sort(uint64_t *v, size_t n) { qsort(v, n, sizeof *v, bn_cmp_u64); }

/* ---- minimal msgpack writers (payloads only) ---------------------------- */

/* Smallest encoding of a non-negative int, as msgpack-c's pack_uint64. */
static inline size_t bn_mp_uint(uint8_t *p, uint64_t v) {
    if (v < 128) { p[0] = (uint8_t)v; return 1; }
    if (v < 256) { p[0] = 0xcc; p[1] = (uint8_t)v; return 2; }
    if (v < 65536) { p[0] = 0xcd; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)v; return 3; }
    if (v < 4294967296ull) {
        p[0] = 0xce;
        for (int i = 0; i < 4; i++) p[1 + i] = (uint8_t)(v >> (24 - 8 * i));
        return 5;
    }
    p[0] = 0xcf;
    for (int i = 0; i < 8; i++) p[1 + i] = (uint8_t)(v >> (56 - 8 * i));
    return 9;
}

/* Read a non-negative msgpack int; -1 when it is not one. */
static inline int64_t bn_mp_read_uint(const uint8_t *p, size_t n) {
    if (n < 1) return -1;
    if (p[0] < 128) return p[0];
    uint64_t v = 0;
    size_t w;
    switch (p[0]) {
    case 0xcc: w = 1; break;
    case 0xcd: w = 2; break;
    case 0xce: w = 4; break;
    case 0xcf: w = 8; break;
    default: return -1;
    }
    if (n < 1 + w) return -1;
    for (size_t i = 0; i < w; i++) v = v << 8 | p[1 + i];
    return (int64_t)v;
}

/* A bin payload of `size` bytes total (header included when size >= 16):
 * header + filler. Returns malloc'd buffer; *len its length. */
static inline uint8_t *bn_mp_bin_payload(size_t size, size_t *len) {
    size_t hdr = size < 256 ? 2 : size < 65536 ? 3 : 5;
    size_t body = size > hdr ? size - hdr : 0;
    uint8_t *p = malloc(hdr + body);
    if (!p) return NULL;
    if (hdr == 2) { p[0] = 0xc4; p[1] = (uint8_t)body; }
    else if (hdr == 3) { p[0] = 0xc5; p[1] = (uint8_t)(body >> 8); p[2] = (uint8_t)body; }
    else {
        p[0] = 0xc6;
        for (int i = 0; i < 4; i++) p[1 + i] = (uint8_t)(body >> (24 - 8 * i));
    }
    for (size_t i = 0; i < body; i++) p[hdr + i] = (uint8_t)(i * 31 + 7);
    *len = hdr + body;
    return p;
}

#endif
