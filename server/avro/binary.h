/*
 * Avro binary primitives shared by the decoder, encoder and container code:
 * zig-zag varints, little-endian floats and a growable output buffer. Every
 * reader checks the remaining length before touching a byte and reports
 * malformed input by returning false; nothing here allocates except the
 * buffer, which grows by doubling and aborts on OOM (core/alloc.h).
 */
#ifndef LS_AVRO_BINARY_H
#define LS_AVRO_BINARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

/* Reads one zig-zag varint long (at most 10 bytes). */
static inline bool ls_avro_read_long(const uint8_t **pp, const uint8_t *end, int64_t *out)
{
    const uint8_t *p = *pp;
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (p >= end)
            return false;
        uint8_t b = *p++;
        if (shift == 63 && (b & 0x7e))
            return false; /* more than 64 bits */
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *pp = p;
            *out = (int64_t)((v >> 1) ^ (0 - (v & 1)));
            return true;
        }
    }
    return false;
}

static inline bool ls_avro_read_int(const uint8_t **pp, const uint8_t *end, int32_t *out)
{
    int64_t v;
    if (!ls_avro_read_long(pp, end, &v) || v < INT32_MIN || v > INT32_MAX)
        return false;
    *out = (int32_t)v;
    return true;
}

static inline float ls_avro_get_float(const uint8_t *p)
{
    uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static inline double ls_avro_get_double(const uint8_t *p)
{
    uint64_t u = 0;
    for (int i = 7; i >= 0; i--)
        u = (u << 8) | p[i];
    double d;
    memcpy(&d, &u, 8);
    return d;
}

typedef struct {
    uint8_t *data;
    size_t len, cap;
} ls_avro_buf_t;

static inline uint8_t *ls_avro_buf_reserve(ls_avro_buf_t *b, size_t n)
{
    if (b->cap - b->len < n || !b->data) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->len < n)
            cap *= 2;
        b->data = ls_realloc(b->data, cap);
        b->cap = cap;
    }
    return b->data + b->len;
}

static inline void ls_avro_buf_append(ls_avro_buf_t *b, const void *p, size_t n)
{
    if (n) {
        memcpy(ls_avro_buf_reserve(b, n), p, n);
        b->len += n;
    }
}

static inline void ls_avro_buf_free(ls_avro_buf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

static inline void ls_avro_write_long(ls_avro_buf_t *b, int64_t v)
{
    uint64_t u = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    uint8_t *p = ls_avro_buf_reserve(b, 10);
    size_t n = 0;
    while (u > 0x7f) {
        p[n++] = (uint8_t)(u | 0x80);
        u >>= 7;
    }
    p[n++] = (uint8_t)u;
    b->len += n;
}

static inline void ls_avro_write_float(ls_avro_buf_t *b, float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    uint8_t p[4] = {(uint8_t)u, (uint8_t)(u >> 8), (uint8_t)(u >> 16), (uint8_t)(u >> 24)};
    ls_avro_buf_append(b, p, 4);
}

static inline void ls_avro_write_double(ls_avro_buf_t *b, double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    uint8_t p[8];
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(u >> (8 * i));
    ls_avro_buf_append(b, p, 8);
}

static inline void ls_avro_write_bytes(ls_avro_buf_t *b, const void *p, size_t n)
{
    ls_avro_write_long(b, (int64_t)n);
    ls_avro_buf_append(b, p, n);
}

#endif
