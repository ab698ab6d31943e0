/*
 * Encoding of one Parquet column chunk for the writer: statistics, the
 * dictionary attempt (open-addressing hash over the chunk's values, given up
 * for PLAIN when it grows past the configured entries/bytes or looks
 * high-cardinality early), data pages v1 cut at row boundaries, RLE levels and
 * compression. Pure computation over buffers the caller owns; it must never
 * emit pages whose sizes or counts disagree with their headers.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "lake/parquet_internal.h"

#define MAX_STAT_BYTES 1024 /* longer min/max byte values are left out of the footer */

static inline uint64_t mix64(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

static inline uint64_t hash_bytes(const uint8_t *p, size_t n)
{
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ (n * 0xff51afd7ed558ccdULL);
    while (n >= 8) {
        uint64_t x;
        memcpy(&x, p, 8);
        h = (h ^ mix64(x)) * 0x9E3779B97F4A7C15ULL;
        p += 8;
        n -= 8;
    }
    uint64_t t = 0;
    memcpy(&t, p, n);
    return mix64(h ^ t);
}

typedef struct {
    const uint8_t *ptr; /* into the leaf's value buffer (first occurrence) */
    uint32_t len;
    uint32_t hash;
} dict_entry_t;

typedef struct {
    dict_entry_t *entries;
    uint32_t n, cap;
    uint32_t *slots; /* entry index + 1, 0 = empty */
    uint32_t mask;
    size_t plain_bytes;
} dict_t;

static void dict_free(dict_t *d)
{
    free(d->entries);
    free(d->slots);
    memset(d, 0, sizeof(*d));
}

static void dict_grow(dict_t *d)
{
    uint32_t nslots = d->mask ? (d->mask + 1) * 2 : 1024;
    free(d->slots);
    d->slots = ls_calloc(nslots, sizeof(uint32_t));
    d->mask = nslots - 1;
    for (uint32_t i = 0; i < d->n; i++) {
        uint32_t s = d->entries[i].hash & d->mask;
        while (d->slots[s])
            s = (s + 1) & d->mask;
        d->slots[s] = i + 1;
    }
}

/* Index of the value in the dictionary, inserting it; UINT32_MAX when the dictionary is full. */
static inline uint32_t dict_insert(dict_t *d, const uint8_t *p, uint32_t len, uint64_t h64,
                                   const ls_parquet_writer_options_t *o, size_t plain_len)
{
    uint32_t h = (uint32_t)(h64 >> 32);
    uint32_t s = h & d->mask;
    for (;;) {
        uint32_t e = d->slots[s];
        if (!e)
            break;
        dict_entry_t *de = &d->entries[e - 1];
        if (de->hash == h && de->len == len && memcmp(de->ptr, p, len) == 0)
            return e - 1;
        s = (s + 1) & d->mask;
    }
    if (d->n >= o->dictionary_max_entries || d->plain_bytes + plain_len > o->dictionary_max_bytes)
        return UINT32_MAX;
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 256;
        d->entries = ls_realloc(d->entries, d->cap * sizeof(dict_entry_t));
    }
    d->entries[d->n] = (dict_entry_t){p, len, h};
    d->slots[s] = ++d->n;
    d->plain_bytes += plain_len;
    if ((uint64_t)d->n * 2 > d->mask)
        dict_grow(d);
    return d->n - 1;
}

typedef struct {
    bool has;
    const uint8_t *min, *max;
    size_t min_len, max_len;
    int64_t nan;
    double dmin, dmax;
    float fmin, fmax;
} stats_t; /* while scanning; floating bounds are kept as numbers */

static inline void stats_bytes(stats_t *st, const ls_parquet_node_t *n, const uint8_t *p,
                               size_t len)
{
    if (!st->has) {
        st->has = true;
        st->min = st->max = p;
        st->min_len = st->max_len = len;
        return;
    }
    if (ls__pq_compare(n, p, len, st->min, st->min_len) < 0) {
        st->min = p;
        st->min_len = len;
    } else if (ls__pq_compare(n, p, len, st->max, st->max_len) > 0) {
        st->max = p;
        st->max_len = len;
    }
}

/* Walks the chunk's values once: statistics, and dictionary indices unless the dictionary
 * overflows (returns false then). */
static bool scan_values(ls_pq_encoder_t *e, const ls_parquet_writer_options_t *o,
                        const ls_pq_column_t *l, stats_t *st, dict_t *d, bool try_dict)
{
    const ls_parquet_node_t *n = l->node;
    const uint8_t *p = l->values;
    size_t nv = l->n_values;
    memset(st, 0, sizeof(*st));
    if (try_dict) {
        if (e->cap_indices < nv) {
            free(e->indices);
            e->cap_indices = nv;
            e->indices = ls_malloc(nv * sizeof(uint32_t));
        }
        dict_grow(d);
    }
    switch (n->physical) {
    case LS_PARQUET_PHYS_DOUBLE:
    case LS_PARQUET_PHYS_FLOAT: {
        bool dbl = n->physical == LS_PARQUET_PHYS_DOUBLE;
        double mn = INFINITY, mx = -INFINITY;
        bool any = false;
        for (size_t i = 0; i < nv; i++) {
            double x;
            if (dbl)
                memcpy(&x, p + i * 8, 8);
            else {
                float f;
                memcpy(&f, p + i * 4, 4);
                x = f;
            }
            if (x != x) {
                st->nan++;
            } else {
                /* the sign of a zero bound is fixed below, so plain comparisons suffice */
                any = true;
                mn = x < mn ? x : mn;
                mx = x > mx ? x : mx;
            }
            if (try_dict) {
                uint64_t bits;
                if (dbl)
                    memcpy(&bits, p + i * 8, 8);
                else {
                    uint32_t b32;
                    memcpy(&b32, p + i * 4, 4);
                    bits = b32;
                }
                uint32_t idx =
                    dict_insert(d, p + i * l->width, (uint32_t)l->width, mix64(bits), o, l->width);
                if (idx == UINT32_MAX || (i == 4095 && d->n > 3072))
                    try_dict = false;
                else
                    e->indices[i] = idx;
            }
        }
        if (any) {
            st->has = true;
            /* spec: a zero minimum is written as -0.0, a zero maximum as +0.0 */
            if (mn == 0)
                mn = -0.0;
            if (mx == 0)
                mx = 0.0;
            st->dmin = mn;
            st->dmax = mx;
            st->fmin = (float)mn;
            st->fmax = (float)mx;
        }
        return try_dict;
    }
    case LS_PARQUET_PHYS_INT64:
    case LS_PARQUET_PHYS_INT32: {
        bool i64 = n->physical == LS_PARQUET_PHYS_INT64;
        size_t wd = l->width;
        int64_t mn = INT64_MAX, mx = INT64_MIN;
        size_t imin = 0, imax = 0;
        for (size_t i = 0; i < nv; i++) {
            int64_t x;
            if (i64)
                memcpy(&x, p + i * 8, 8);
            else {
                int32_t y;
                memcpy(&y, p + i * 4, 4);
                x = y;
            }
            if (x < mn) {
                mn = x;
                imin = i;
            }
            if (x > mx) {
                mx = x;
                imax = i;
            }
            if (try_dict) {
                uint32_t idx = dict_insert(d, p + i * wd, (uint32_t)wd, mix64((uint64_t)x), o, wd);
                if (idx == UINT32_MAX || (i == 4095 && d->n > 3072))
                    try_dict = false;
                else
                    e->indices[i] = idx;
            }
        }
        if (nv) {
            st->has = true;
            st->min = p + imin * wd;
            st->max = p + imax * wd;
            st->min_len = st->max_len = wd;
        }
        return try_dict;
    }
    default:
        break;
    }
    /* BOOLEAN, FIXED_LEN_BYTE_ARRAY and BYTE_ARRAY */
    size_t pos = 0;
    for (size_t i = 0; i < nv; i++) {
        const uint8_t *v;
        uint32_t len;
        size_t plain_len;
        if (l->width) {
            v = p + pos;
            len = (uint32_t)l->width;
            pos += l->width;
            plain_len = len;
        } else {
            memcpy(&len, p + pos, 4);
            v = p + pos + 4;
            pos += 4 + len;
            plain_len = 4 + (size_t)len;
        }
        stats_bytes(st, n, v, len);
        if (try_dict) {
            uint32_t idx = dict_insert(d, v, len, hash_bytes(v, len), o, plain_len);
            if (idx == UINT32_MAX || (i == 4095 && d->n > 3072))
                try_dict = false;
            else
                e->indices[i] = idx;
        }
    }
    return try_dict;
}

static void write_page_header(ls_thrift_writer_t *tw, int type, size_t uncompressed,
                              size_t compressed, size_t num_values, int encoding)
{
    ls_thrift_write_struct_begin(tw);
    ls_thrift_write_i32_field(tw, 1, type);
    ls_thrift_write_i32_field(tw, 2, (int32_t)uncompressed);
    ls_thrift_write_i32_field(tw, 3, (int32_t)compressed);
    if (type == LS_PQ_PAGE_DICTIONARY) {
        ls_thrift_write_field(tw, 7, LS_THRIFT_STRUCT);
        ls_thrift_write_struct_begin(tw);
        ls_thrift_write_i32_field(tw, 1, (int32_t)num_values);
        ls_thrift_write_i32_field(tw, 2, encoding);
        ls_thrift_write_struct_end(tw);
    } else {
        ls_thrift_write_field(tw, 5, LS_THRIFT_STRUCT);
        ls_thrift_write_struct_begin(tw);
        ls_thrift_write_i32_field(tw, 1, (int32_t)num_values);
        ls_thrift_write_i32_field(tw, 2, encoding);
        ls_thrift_write_i32_field(tw, 3, LS_PQ_ENC_RLE);
        ls_thrift_write_i32_field(tw, 4, LS_PQ_ENC_RLE);
        ls_thrift_write_struct_end(tw);
    }
    ls_thrift_write_struct_end(tw);
}

static void append_levels(ls_pq_buf_t *page, const uint8_t *lv, size_t n, int max)
{
    size_t at = page->len;
    uint32_t len = 0;
    ls__pq_buf_append(page, &len, 4);
    ls__pq_rle_encode_u8(page, lv, n, ls__pq_bit_width((uint32_t)max));
    len = (uint32_t)(page->len - at - 4);
    memcpy(page->data + at, &len, 4);
}

void ls__pq_keep_bytes(uint8_t **dst, size_t *dst_len, const uint8_t *p, size_t n)
{
    *dst = ls_realloc(*dst, n ? n : 1);
    if (n)
        memcpy(*dst, p, n);
    *dst_len = n;
}

/* Compresses e->page and appends header + body to out. */
static ls_err_t finish_page(ls_pq_encoder_t *e, const ls_parquet_writer_options_t *o,
                            ls_pq_buf_t *out, ls_pq_chunk_meta_t *cm, int type, size_t num_values,
                            int encoding, ls_error_t *err)
{
    if (e->page.len > LS_PARQUET_MAX_PAGE_BYTES)
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT,
                            "parquet page of %zu bytes exceeds the %u-byte limit (values in one "
                            "row too large)",
                            e->page.len, LS_PARQUET_MAX_PAGE_BYTES);
    e->cpage.len = 0;
    ls_err_t rc = ls__pq_compress(&e->codec, o->codec, e->page.data, e->page.len, &e->cpage, err);
    if (rc)
        return rc;
    ls_thrift_writer_t tw = {0};
    write_page_header(&tw, type, e->page.len, e->cpage.len, num_values, encoding);
    ls__pq_buf_append(out, tw.data, tw.len);
    ls__pq_buf_append(out, e->cpage.data, e->cpage.len);
    cm->total_uncompressed += (int64_t)(tw.len + e->page.len);
    cm->total_compressed += (int64_t)(tw.len + e->cpage.len);
    free(tw.data);
    return LS_ERR_OK;
}

void ls__pq_encoder_free(ls_pq_encoder_t *e)
{
    free(e->page.data);
    free(e->cpage.data);
    free(e->indices);
    ls__pq_codec_ctx_free(&e->codec);
    memset(e, 0, sizeof(*e));
}

ls_err_t ls__pq_encode_chunk(ls_pq_encoder_t *e, const ls_parquet_writer_options_t *o,
                             const ls_pq_column_t *l, uint64_t offset, ls_pq_buf_t *out,
                             ls_pq_chunk_meta_t *cm, ls_pq_chunk_stats_t *result, ls_error_t *err)
{
    const ls_parquet_node_t *n = l->node;
    int max_def = n->def_level, max_rep = n->rep_level;
    size_t start = out->len;
    memset(cm, 0, sizeof(*cm));
    cm->dictionary_page_offset = -1;
    cm->num_values = (int64_t)l->n_levels;
    cm->null_count = (int64_t)(l->n_levels - l->n_values);

    stats_t st;
    dict_t d = {0};
    bool try_dict = o->dictionary && n->physical != LS_PARQUET_PHYS_BOOLEAN && l->n_values;
    bool use_dict = scan_values(e, o, l, &st, &d, try_dict) && try_dict;

    /* statistics, in Parquet's PLAIN value layout */
    memset(result, 0, sizeof(*result));
    result->has = st.has;
    result->nan = st.nan;
    result->min = st.min;
    result->max = st.max;
    result->min_len = st.min_len;
    result->max_len = st.max_len;
    if (st.has && (n->physical == LS_PARQUET_PHYS_DOUBLE || n->physical == LS_PARQUET_PHYS_FLOAT)) {
        bool dbl = n->physical == LS_PARQUET_PHYS_DOUBLE;
        if (dbl) {
            memcpy(result->fixed[0], &st.dmin, 8);
            memcpy(result->fixed[1], &st.dmax, 8);
        } else {
            memcpy(result->fixed[0], &st.fmin, 4);
            memcpy(result->fixed[1], &st.fmax, 4);
        }
        result->min = result->fixed[0];
        result->max = result->fixed[1];
        result->min_len = result->max_len = dbl ? 8 : 4;
    }
    if (result->has && result->min_len <= MAX_STAT_BYTES && result->max_len <= MAX_STAT_BYTES) {
        cm->has_min_max = true;
        ls__pq_keep_bytes(&cm->min, &cm->min_len, result->min, result->min_len);
        ls__pq_keep_bytes(&cm->max, &cm->max_len, result->max, result->max_len);
    }

    ls_err_t rc = LS_ERR_OK;
    int bw = 0;
    if (use_dict) {
        cm->dictionary_page_offset = (int64_t)offset;
        e->page.len = 0;
        for (uint32_t i = 0; i < d.n; i++) {
            if (!l->width) {
                uint32_t len = d.entries[i].len;
                ls__pq_buf_append(&e->page, &len, 4);
            }
            ls__pq_buf_append(&e->page, d.entries[i].ptr, d.entries[i].len);
        }
        rc = finish_page(e, o, out, cm, LS_PQ_PAGE_DICTIONARY, d.n, LS_PQ_ENC_PLAIN, err);
        bw = ls__pq_bit_width(d.n - 1);
    }
    cm->data_page_offset = (int64_t)(offset + (out->len - start));

    /* data pages, cut at row boundaries once they reach page_bytes */
    size_t lv = 0, vi = 0, vpos = 0;
    const uint8_t *vals = l->values;
    while (!rc && lv < l->n_levels) {
        size_t l0 = lv, v0 = vi, p0 = vpos, bytes = 0;
        while (lv < l->n_levels) {
            if (max_def == 0 || l->def[lv] == max_def) {
                size_t adv = l->width;
                if (!adv) {
                    uint32_t len;
                    memcpy(&len, vals + vpos, 4);
                    adv = 4 + (size_t)len;
                }
                vpos += adv;
                bytes += use_dict ? 1 + (size_t)bw / 8 : adv;
                vi++;
            }
            bytes += 1;
            lv++;
            if (bytes >= o->page_bytes && (max_rep == 0 || lv == l->n_levels || l->rep[lv] == 0))
                break;
        }
        e->page.len = 0;
        if (max_rep > 0)
            append_levels(&e->page, l->rep + l0, lv - l0, max_rep);
        if (max_def > 0)
            append_levels(&e->page, l->def + l0, lv - l0, max_def);
        if (use_dict) {
            uint8_t b = (uint8_t)bw;
            ls__pq_buf_append(&e->page, &b, 1);
            ls__pq_rle_encode_u32(&e->page, e->indices + v0, vi - v0, bw);
        } else if (n->physical == LS_PARQUET_PHYS_BOOLEAN) {
            size_t cnt = vi - v0;
            ls__pq_buf_reserve(&e->page, (cnt + 7) / 8);
            uint8_t *bits = e->page.data + e->page.len;
            memset(bits, 0, (cnt + 7) / 8);
            for (size_t i = 0; i < cnt; i++)
                bits[i / 8] |= (uint8_t)((vals[v0 + i] & 1) << (i % 8));
            e->page.len += (cnt + 7) / 8;
        } else if (vpos > p0) { /* vals is NULL when the chunk has no values */
            ls__pq_buf_append(&e->page, vals + p0, vpos - p0);
        }
        rc = finish_page(e, o, out, cm, LS_PQ_PAGE_DATA, lv - l0,
                         use_dict ? LS_PQ_ENC_RLE_DICTIONARY : LS_PQ_ENC_PLAIN, err);
    }
    dict_free(&d);
    return rc;
}
