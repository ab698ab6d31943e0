/*
 * Encodings shared by the Parquet writer and reader: the RLE/bit-packed
 * hybrid used for levels and dictionary indices, page compression (zstd,
 * snappy) and the statistics order of values. Decoders bound every run by the
 * number of values the caller asked for and every byte read by the buffer
 * they were given; they must never write past `n` outputs.
 */
#include <snappy-c.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "core/alloc.h"
#include "lake/parquet_internal.h"

void ls__pq_buf_reserve(ls_pq_buf_t *b, size_t extra)
{
    if (b->len + extra <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra)
        cap *= 2;
    b->data = ls_realloc(b->data, cap);
    b->cap = cap;
}

int ls__pq_bit_width(uint32_t max_value)
{
    int w = 0;
    while (max_value) {
        w++;
        max_value >>= 1;
    }
    return w;
}

static void put_varint(ls_pq_buf_t *out, uint64_t v)
{
    uint8_t b[10];
    size_t n = 0;
    while (v >= 0x80) {
        b[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    b[n++] = (uint8_t)v;
    ls__pq_buf_append(out, b, n);
}

/* Bit-packs `n` values (n a multiple of 8, the last group zero-padded by the caller). */
#define DEFINE_PACK(suffix, T)                                                                     \
    static void pack_##suffix(ls_pq_buf_t *out, const T *v, size_t n, size_t padded, int bw)       \
    {                                                                                              \
        put_varint(out, ((uint64_t)(padded / 8) << 1) | 1);                                        \
        ls__pq_buf_reserve(out, padded / 8 * (size_t)bw + 8);                                      \
        uint8_t *o = out->data + out->len;                                                         \
        uint64_t acc = 0;                                                                          \
        int bits = 0;                                                                              \
        for (size_t i = 0; i < padded; i++) {                                                      \
            acc |= (uint64_t)(i < n ? v[i] : 0) << bits;                                           \
            bits += bw;                                                                            \
            while (bits >= 8) {                                                                    \
                *o++ = (uint8_t)acc;                                                               \
                acc >>= 8;                                                                         \
                bits -= 8;                                                                         \
            }                                                                                      \
        }                                                                                          \
        out->len = (size_t)(o - out->data);                                                        \
    }

#define DEFINE_RLE_ENCODE(suffix, T)                                                               \
    DEFINE_PACK(suffix, T)                                                                         \
    void ls__pq_rle_encode_##suffix(ls_pq_buf_t *out, const T *v, size_t n, int bw)                \
    {                                                                                              \
        size_t i = 0, lit = 0;                                                                     \
        int vbytes = (bw + 7) / 8;                                                                 \
        while (i < n) {                                                                            \
            size_t r = 1;                                                                          \
            while (i + r < n && v[i + r] == v[i])                                                  \
                r++;                                                                               \
            if (r < 8) {                                                                           \
                i += r;                                                                            \
                continue;                                                                          \
            }                                                                                      \
            /* Fill the pending literal run up to a multiple of 8 with values of this run, since   \
             * only the last bit-packed group of the stream may be padded. */                      \
            size_t pending = i - lit;                                                              \
            if (pending % 8) {                                                                     \
                size_t take = 8 - pending % 8;                                                     \
                i += take;                                                                         \
                r -= take;                                                                         \
                pending += take;                                                                   \
            }                                                                                      \
            if (pending)                                                                           \
                pack_##suffix(out, v + lit, pending, pending, bw);                                 \
            put_varint(out, (uint64_t)r << 1);                                                     \
            uint32_t val = v[i];                                                                   \
            uint8_t vb[4] = {(uint8_t)val, (uint8_t)(val >> 8), (uint8_t)(val >> 16),              \
                             (uint8_t)(val >> 24)};                                                \
            ls__pq_buf_append(out, vb, (size_t)vbytes);                                            \
            i += r;                                                                                \
            lit = i;                                                                               \
        }                                                                                          \
        if (lit < n)                                                                               \
            pack_##suffix(out, v + lit, n - lit, (n - lit + 7) / 8 * 8, bw);                       \
    }

DEFINE_RLE_ENCODE(u8, uint8_t)
DEFINE_RLE_ENCODE(u32, uint32_t)

static bool get_varint(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        v |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false;
}

#define DEFINE_RLE_DECODE(suffix, T)                                                               \
    long ls__pq_rle_decode_##suffix(const uint8_t *p, size_t len, int bw, T *out, size_t n,        \
                                    uint32_t max_value, ls_error_t *err)                           \
    {                                                                                              \
        if (n == 0)                                                                                \
            return 0;                                                                              \
        const uint8_t *start = p, *end = p + len;                                                  \
        size_t i = 0;                                                                              \
        int vbytes = (bw + 7) / 8;                                                                 \
        if (bw < 0 || bw > 32) {                                                                   \
            ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "corrupt parquet page: bit width %d", bw);  \
            return -1;                                                                             \
        }                                                                                          \
        uint64_t mask = bw == 32 ? 0xFFFFFFFFull : ((1ull << bw) - 1);                             \
        while (i < n) {                                                                            \
            uint64_t h;                                                                            \
            if (!get_varint(&p, end, &h))                                                          \
                goto corrupt;                                                                      \
            if (h & 1) {                                                                           \
                uint64_t groups = h >> 1;                                                          \
                if (groups == 0 || groups > (uint64_t)(end - p) * 8 + n)                           \
                    goto corrupt;                                                                  \
                uint64_t bytes = groups * (uint64_t)bw;                                            \
                if (bytes > (uint64_t)(end - p))                                                   \
                    goto corrupt;                                                                  \
                uint64_t count = groups * 8;                                                       \
                uint64_t acc = 0;                                                                  \
                int bits = 0;                                                                      \
                const uint8_t *q = p;                                                              \
                for (uint64_t k = 0; k < count && i < n; k++) {                                    \
                    while (bits < bw) {                                                            \
                        acc |= (uint64_t)(*q++) << bits;                                           \
                        bits += 8;                                                                 \
                    }                                                                              \
                    uint64_t val = acc & mask;                                                     \
                    acc >>= bw;                                                                    \
                    bits -= bw;                                                                    \
                    if (val > max_value)                                                           \
                        goto out_of_range;                                                         \
                    out[i++] = (T)val;                                                             \
                }                                                                                  \
                p += bytes;                                                                        \
            } else {                                                                               \
                uint64_t count = h >> 1;                                                           \
                if (count == 0 || (uint64_t)(end - p) < (uint64_t)vbytes)                          \
                    goto corrupt;                                                                  \
                uint32_t val = 0;                                                                  \
                for (int k = 0; k < vbytes; k++)                                                   \
                    val |= (uint32_t)p[k] << (8 * k);                                              \
                p += vbytes;                                                                       \
                if (val > max_value)                                                               \
                    goto out_of_range;                                                             \
                size_t take = count < n - i ? (size_t)count : n - i;                               \
                for (size_t k = 0; k < take; k++)                                                  \
                    out[i + k] = (T)val;                                                           \
                i += take;                                                                         \
            }                                                                                      \
        }                                                                                          \
        return (long)(p - start);                                                                  \
    corrupt:                                                                                       \
        ls_error_set(err, LS_ERR_INVALID_ARGUMENT,                                                 \
                     "corrupt parquet page: bad RLE/bit-packed run");                              \
        return -1;                                                                                 \
    out_of_range:                                                                                  \
        ls_error_set(err, LS_ERR_INVALID_ARGUMENT,                                                 \
                     "corrupt parquet page: level or dictionary index out of range");              \
        return -1;                                                                                 \
    }

DEFINE_RLE_DECODE(u8, uint8_t)
DEFINE_RLE_DECODE(u32, uint32_t)

void ls__pq_codec_ctx_free(ls_pq_codec_ctx_t *c)
{
    if (c->zcctx)
        ZSTD_freeCCtx(c->zcctx);
    if (c->zdctx)
        ZSTD_freeDCtx(c->zdctx);
    c->zcctx = c->zdctx = NULL;
}

ls_err_t ls__pq_compress(ls_pq_codec_ctx_t *c, ls_parquet_codec_t codec, const uint8_t *p, size_t n,
                         ls_pq_buf_t *out, ls_error_t *err)
{
    switch (codec) {
    case LS_PARQUET_UNCOMPRESSED:
        ls__pq_buf_append(out, p, n);
        return LS_ERR_OK;
    case LS_PARQUET_ZSTD: {
        if (!c->zcctx)
            c->zcctx = ZSTD_createCCtx();
        size_t bound = ZSTD_compressBound(n);
        ls__pq_buf_reserve(out, bound);
        size_t r = ZSTD_compressCCtx(c->zcctx, out->data + out->len, bound, p, n, c->zstd_level);
        if (ZSTD_isError(r))
            return ls_error_set(err, LS_ERR_INTERNAL, "zstd: %s", ZSTD_getErrorName(r));
        out->len += r;
        return LS_ERR_OK;
    }
    case LS_PARQUET_SNAPPY: {
        size_t bound = snappy_max_compressed_length(n);
        ls__pq_buf_reserve(out, bound);
        if (snappy_compress((const char *)p, n, (char *)out->data + out->len, &bound) != SNAPPY_OK)
            return ls_error_set(err, LS_ERR_INTERNAL, "snappy compression failed");
        out->len += bound;
        return LS_ERR_OK;
    }
    }
    return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "unknown codec %d", (int)codec);
}

bool ls__pq_plausible_size(int codec, const uint8_t *p, size_t compressed, size_t uncompressed)
{
    if (uncompressed > LS_PARQUET_MAX_PAGE_BYTES)
        return false;
    switch (codec) {
    case LS_PARQUET_UNCOMPRESSED:
        return uncompressed == compressed;
    case LS_PARQUET_SNAPPY: {
        /* every snappy element costs >= 1 byte per 64 output bytes; the stream starts with
         * the uncompressed length */
        size_t len;
        return uncompressed <= compressed * 64 + 64 &&
               snappy_uncompressed_length((const char *)p, compressed, &len) == SNAPPY_OK &&
               len == uncompressed;
    }
    case LS_PARQUET_ZSTD: {
        /* a zstd block of <= 128 KiB costs >= 3 bytes; frames usually state their size */
        if ((uint64_t)uncompressed > (uint64_t)compressed * 43691 + 1024)
            return false;
        unsigned long long fs = ZSTD_getFrameContentSize(p, compressed);
        return fs == ZSTD_CONTENTSIZE_UNKNOWN || fs == uncompressed;
    }
    default:
        return true; /* rejected by ls__pq_decompress */
    }
}

ls_err_t ls__pq_decompress(ls_pq_codec_ctx_t *c, int codec, const uint8_t *p, size_t n,
                           uint8_t *out, size_t out_len, ls_error_t *err)
{
    switch (codec) {
    case LS_PARQUET_UNCOMPRESSED:
        if (n != out_len)
            break;
        memcpy(out, p, n);
        return LS_ERR_OK;
    case LS_PARQUET_ZSTD: {
        if (!c->zdctx)
            c->zdctx = ZSTD_createDCtx();
        size_t r = ZSTD_decompressDCtx(c->zdctx, out, out_len, p, n);
        if (ZSTD_isError(r) || r != out_len)
            break;
        return LS_ERR_OK;
    }
    case LS_PARQUET_SNAPPY: {
        size_t len;
        if (snappy_uncompressed_length((const char *)p, n, &len) != SNAPPY_OK || len != out_len)
            break;
        if (snappy_uncompress((const char *)p, n, (char *)out, &len) != SNAPPY_OK || len != out_len)
            break;
        return LS_ERR_OK;
    }
    default:
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT,
                            "parquet page uses unsupported compression codec %d", codec);
    }
    return ls_error_set(err, LS_ERR_INVALID_ARGUMENT,
                        "corrupt parquet page: decompression failed or size mismatch");
}

static int cmp_bytes(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    int c = n ? memcmp(a, b, n) : 0;
    if (c)
        return c;
    return alen < blen ? -1 : alen > blen;
}

int ls__pq_compare(const ls_parquet_node_t *leaf, const uint8_t *a, size_t alen, const uint8_t *b,
                   size_t blen)
{
    switch (leaf->physical) {
    case LS_PARQUET_PHYS_BOOLEAN:
        return (int)(a[0] != 0) - (int)(b[0] != 0);
    case LS_PARQUET_PHYS_INT32: {
        int32_t x, y;
        memcpy(&x, a, 4);
        memcpy(&y, b, 4);
        return (x > y) - (x < y);
    }
    case LS_PARQUET_PHYS_INT64: {
        int64_t x, y;
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        return (x > y) - (x < y);
    }
    case LS_PARQUET_PHYS_FLOAT: {
        float x, y;
        memcpy(&x, a, 4);
        memcpy(&y, b, 4);
        return (x > y) - (x < y);
    }
    case LS_PARQUET_PHYS_DOUBLE: {
        double x, y;
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        return (x > y) - (x < y);
    }
    case LS_PARQUET_PHYS_FIXED_LEN_BYTE_ARRAY:
        /* decimals are signed big-endian two's complement: the sign byte decides first; other
         * fixed values (UUID, FIXED) order unsigned byte-wise */
        if (leaf->type == LS_PARQUET_DECIMAL && alen && blen && (int8_t)a[0] != (int8_t)b[0])
            return (int8_t)a[0] < (int8_t)b[0] ? -1 : 1;
        return cmp_bytes(a, alen, b, blen);
    default:
        return cmp_bytes(a, alen, b, blen);
    }
}

bool ls__pq_decode_value(const ls_parquet_node_t *leaf, const uint8_t *p, size_t len,
                         ls_parquet_value_t *out)
{
    memset(out, 0, sizeof(*out));
    out->type = leaf->type;
    size_t w = ls__pq_fixed_width(leaf);
    if (leaf->physical != LS_PARQUET_PHYS_BYTE_ARRAY && len != w)
        return false;
    switch (leaf->physical) {
    case LS_PARQUET_PHYS_BOOLEAN:
        out->v.b = p[0] != 0;
        return true;
    case LS_PARQUET_PHYS_INT32: {
        int32_t x;
        memcpy(&x, p, 4);
        if (leaf->type == LS_PARQUET_DECIMAL)
            out->v.dec = x;
        else
            out->v.i32 = x;
        return true;
    }
    case LS_PARQUET_PHYS_INT64: {
        int64_t x;
        memcpy(&x, p, 8);
        if (leaf->type == LS_PARQUET_DECIMAL)
            out->v.dec = x;
        else
            out->v.i64 = x;
        return true;
    }
    case LS_PARQUET_PHYS_FLOAT:
        memcpy(&out->v.f, p, 4);
        return true;
    case LS_PARQUET_PHYS_DOUBLE:
        memcpy(&out->v.d, p, 8);
        return true;
    case LS_PARQUET_PHYS_FIXED_LEN_BYTE_ARRAY: {
        if (leaf->type != LS_PARQUET_DECIMAL) {
            out->v.bytes.ptr = p;
            out->v.bytes.len = len;
            return true;
        }
        if (len == 0 || len > 16)
            return false;
        unsigned __int128 u = (p[0] & 0x80) ? ~(unsigned __int128)0 : 0;
        for (size_t i = 0; i < len; i++)
            u = (u << 8) | p[i];
        out->v.dec = (__int128)u;
        return true;
    }
    case LS_PARQUET_PHYS_BYTE_ARRAY:
        out->v.bytes.ptr = p;
        out->v.bytes.len = len;
        return true;
    }
    return false;
}
