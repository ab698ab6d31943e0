/*
 * Thrift compact protocol (see thrift_compact.h). The decoder is the first
 * thing that touches untrusted bytes of a Parquet file, so it bounds every
 * read by the end of its buffer and every nesting by LS_THRIFT_MAX_DEPTH; it
 * must never allocate or read out of range.
 */
#include "lake/thrift_compact.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

void ls_thrift_write_raw(ls_thrift_writer_t *w, const void *p, size_t n)
{
    if (w->len + n > w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 256;
        while (cap < w->len + n)
            cap *= 2;
        w->data = ls_realloc(w->data, cap);
        w->cap = cap;
    }
    if (n)
        memcpy(w->data + w->len, p, n);
    w->len += n;
}

void ls_thrift_write_varint(ls_thrift_writer_t *w, uint64_t v)
{
    uint8_t b[10];
    size_t n = 0;
    while (v >= 0x80) {
        b[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    b[n++] = (uint8_t)v;
    ls_thrift_write_raw(w, b, n);
}

static uint64_t zigzag64(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

void ls_thrift_write_field(ls_thrift_writer_t *w, int16_t id, int type)
{
    int16_t delta = (int16_t)(id - w->last_field[w->depth]);
    if (delta > 0 && delta <= 15) {
        uint8_t b = (uint8_t)((delta << 4) | type);
        ls_thrift_write_raw(w, &b, 1);
    } else {
        uint8_t b = (uint8_t)type;
        ls_thrift_write_raw(w, &b, 1);
        ls_thrift_write_varint(w, zigzag64(id));
    }
    w->last_field[w->depth] = id;
}

void ls_thrift_write_i32(ls_thrift_writer_t *w, int32_t v)
{
    ls_thrift_write_varint(w, zigzag64(v));
}
void ls_thrift_write_i64(ls_thrift_writer_t *w, int64_t v)
{
    ls_thrift_write_varint(w, zigzag64(v));
}

void ls_thrift_write_binary(ls_thrift_writer_t *w, const void *p, size_t n)
{
    ls_thrift_write_varint(w, n);
    ls_thrift_write_raw(w, p, n);
}

void ls_thrift_write_i32_field(ls_thrift_writer_t *w, int16_t id, int32_t v)
{
    ls_thrift_write_field(w, id, LS_THRIFT_I32);
    ls_thrift_write_i32(w, v);
}

void ls_thrift_write_i64_field(ls_thrift_writer_t *w, int16_t id, int64_t v)
{
    ls_thrift_write_field(w, id, LS_THRIFT_I64);
    ls_thrift_write_i64(w, v);
}

void ls_thrift_write_bool_field(ls_thrift_writer_t *w, int16_t id, bool v)
{
    ls_thrift_write_field(w, id, v ? LS_THRIFT_TRUE : LS_THRIFT_FALSE);
}

void ls_thrift_write_binary_field(ls_thrift_writer_t *w, int16_t id, const void *p, size_t n)
{
    ls_thrift_write_field(w, id, LS_THRIFT_BINARY);
    ls_thrift_write_binary(w, p, n);
}

void ls_thrift_write_list_begin(ls_thrift_writer_t *w, int elem_type, size_t n)
{
    if (n < 15) {
        uint8_t b = (uint8_t)((n << 4) | (size_t)elem_type);
        ls_thrift_write_raw(w, &b, 1);
    } else {
        uint8_t b = (uint8_t)(0xF0 | elem_type);
        ls_thrift_write_raw(w, &b, 1);
        ls_thrift_write_varint(w, n);
    }
}

void ls_thrift_write_struct_begin(ls_thrift_writer_t *w)
{
    /* Our own footer never nests deeper than a handful of levels; exceeding the bound is a
     * programming error, not an input error. */
    if (w->depth + 1 >= LS_THRIFT_MAX_DEPTH)
        ls_oom(0);
    w->last_field[++w->depth] = 0;
}

void ls_thrift_write_struct_end(ls_thrift_writer_t *w)
{
    uint8_t b = 0;
    ls_thrift_write_raw(w, &b, 1);
    w->depth--;
}

/* ---- decoder ---------------------------------------------------------- */

void ls_thrift_reader_init(ls_thrift_reader_t *r, const void *data, size_t len, ls_error_t *err)
{
    memset(r, 0, sizeof(*r));
    r->p = data;
    r->end = r->p + len;
    r->err = err;
}

void ls_thrift_fail(ls_thrift_reader_t *r, const char *what)
{
    if (!r->failed) {
        r->failed = true;
        ls_error_set(r->err, LS_ERR_INVALID_ARGUMENT, "corrupt parquet metadata: %s", what);
    }
    r->p = r->end;
}

static uint8_t read_byte(ls_thrift_reader_t *r)
{
    if (r->failed || r->p >= r->end) {
        ls_thrift_fail(r, "unexpected end of thrift data");
        return 0;
    }
    return *r->p++;
}

static uint64_t read_varint(ls_thrift_reader_t *r)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        uint8_t b = read_byte(r);
        if (r->failed)
            return 0;
        v |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80))
            return v;
    }
    ls_thrift_fail(r, "varint longer than 10 bytes");
    return 0;
}

static int64_t unzigzag(uint64_t v)
{
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

void ls_thrift_read_struct_begin(ls_thrift_reader_t *r)
{
    if (r->depth + 1 >= LS_THRIFT_MAX_DEPTH) {
        ls_thrift_fail(r, "structs nested too deeply");
        return;
    }
    r->last_field[++r->depth] = 0;
}

void ls_thrift_read_struct_end(ls_thrift_reader_t *r)
{
    if (r->depth > 0)
        r->depth--;
}

bool ls_thrift_read_field(ls_thrift_reader_t *r, int16_t *id, int *type, bool *bool_value)
{
    uint8_t b = read_byte(r);
    if (r->failed || b == 0)
        return false;
    int t = b & 0x0F;
    int delta = b >> 4;
    int64_t fid;
    if (delta)
        fid = r->last_field[r->depth] + delta;
    else
        fid = unzigzag(read_varint(r));
    if (fid < INT16_MIN || fid > INT16_MAX || t > LS_THRIFT_STRUCT) {
        ls_thrift_fail(r, "bad field header");
        return false;
    }
    r->last_field[r->depth] = (int16_t)fid;
    *id = (int16_t)fid;
    *type = t;
    if (bool_value)
        *bool_value = t == LS_THRIFT_TRUE;
    return !r->failed;
}

int32_t ls_thrift_read_i32(ls_thrift_reader_t *r)
{
    int64_t v = unzigzag(read_varint(r));
    if (v < INT32_MIN || v > INT32_MAX) {
        ls_thrift_fail(r, "i32 out of range");
        return 0;
    }
    return (int32_t)v;
}

int64_t ls_thrift_read_i64(ls_thrift_reader_t *r)
{
    return unzigzag(read_varint(r));
}

const uint8_t *ls_thrift_read_binary(ls_thrift_reader_t *r, size_t *len)
{
    uint64_t n = read_varint(r);
    *len = 0;
    if (r->failed)
        return NULL;
    if (n > (uint64_t)(r->end - r->p)) {
        ls_thrift_fail(r, "binary length past end of data");
        return NULL;
    }
    const uint8_t *p = r->p;
    r->p += n;
    *len = (size_t)n;
    return p;
}

size_t ls_thrift_read_list_begin(ls_thrift_reader_t *r, int *elem_type)
{
    uint8_t b = read_byte(r);
    uint64_t n = b >> 4;
    *elem_type = b & 0x0F;
    if (n == 15)
        n = read_varint(r);
    if (r->failed)
        return 0;
    /* Every element takes at least one byte on the wire. */
    if (n > (uint64_t)(r->end - r->p)) {
        ls_thrift_fail(r, "list count past end of data");
        return 0;
    }
    return (size_t)n;
}

static void skip_depth(ls_thrift_reader_t *r, int type, int depth)
{
    if (depth > LS_THRIFT_MAX_DEPTH) {
        ls_thrift_fail(r, "values nested too deeply");
        return;
    }
    size_t n;
    int et, kt;
    switch (type) {
    case LS_THRIFT_TRUE:
    case LS_THRIFT_FALSE:
        return; /* value lives in the field header */
    case LS_THRIFT_BYTE:
        read_byte(r);
        return;
    case LS_THRIFT_I16:
    case LS_THRIFT_I32:
    case LS_THRIFT_I64:
        read_varint(r);
        return;
    case LS_THRIFT_DOUBLE:
        if (r->end - r->p < 8)
            ls_thrift_fail(r, "double past end of data");
        else
            r->p += 8;
        return;
    case LS_THRIFT_BINARY:
        ls_thrift_read_binary(r, &n);
        return;
    case LS_THRIFT_LIST:
    case LS_THRIFT_SET:
        n = ls_thrift_read_list_begin(r, &et);
        for (size_t i = 0; i < n && !r->failed; i++) {
            if (et == LS_THRIFT_TRUE || et == LS_THRIFT_FALSE)
                read_byte(r);
            else
                skip_depth(r, et, depth + 1);
        }
        return;
    case LS_THRIFT_MAP: {
        n = read_varint(r);
        if (n == 0)
            return;
        uint8_t kv = read_byte(r);
        if (n > (uint64_t)(r->end - r->p)) {
            ls_thrift_fail(r, "map count past end of data");
            return;
        }
        kt = kv >> 4;
        et = kv & 0x0F;
        for (size_t i = 0; i < n && !r->failed; i++) {
            skip_depth(r, kt, depth + 1);
            skip_depth(r, et, depth + 1);
        }
        return;
    }
    case LS_THRIFT_STRUCT: {
        ls_thrift_read_struct_begin(r);
        int16_t id;
        int t;
        while (ls_thrift_read_field(r, &id, &t, NULL))
            skip_depth(r, t, depth + 1);
        ls_thrift_read_struct_end(r);
        return;
    }
    default:
        ls_thrift_fail(r, "unknown thrift type");
    }
}

void ls_thrift_skip(ls_thrift_reader_t *r, int type)
{
    skip_depth(r, type, 0);
}
