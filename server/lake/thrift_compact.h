/*
 * A small Thrift compact-protocol encoder and decoder, just enough for the
 * Parquet footer and page headers (parquet.thrift). The encoder appends to a
 * growable byte buffer; the decoder reads from a bounded byte range and never
 * reads past it, never recurses deeper than LS_THRIFT_MAX_DEPTH and never
 * allocates: strings and binaries are returned as borrowed slices of the
 * input. It must never trust a length or count from the input without
 * checking it against the bytes that remain.
 */
#ifndef LS_LAKE_THRIFT_COMPACT_H
#define LS_LAKE_THRIFT_COMPACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* Compact-protocol type codes (as they appear on the wire). */
enum {
    LS_THRIFT_STOP = 0,
    LS_THRIFT_TRUE = 1,
    LS_THRIFT_FALSE = 2,
    LS_THRIFT_BYTE = 3,
    LS_THRIFT_I16 = 4,
    LS_THRIFT_I32 = 5,
    LS_THRIFT_I64 = 6,
    LS_THRIFT_DOUBLE = 7,
    LS_THRIFT_BINARY = 8,
    LS_THRIFT_LIST = 9,
    LS_THRIFT_SET = 10,
    LS_THRIFT_MAP = 11,
    LS_THRIFT_STRUCT = 12,
};

#define LS_THRIFT_MAX_DEPTH 32

/* ---- encoder ---------------------------------------------------------- */

/* Growable output buffer. Zero-initialise, then append; release with free(data). */
typedef struct {
    uint8_t *data;
    size_t len, cap;
    int16_t last_field[LS_THRIFT_MAX_DEPTH];
    int depth;
} ls_thrift_writer_t;

void ls_thrift_write_raw(ls_thrift_writer_t *w, const void *p, size_t n);
void ls_thrift_write_varint(ls_thrift_writer_t *w, uint64_t v);
/* Field header for field `id` of compact type `type`, relative to the last field of the current
 * struct. For booleans use ls_thrift_write_bool_field. */
void ls_thrift_write_field(ls_thrift_writer_t *w, int16_t id, int type);
void ls_thrift_write_i32_field(ls_thrift_writer_t *w, int16_t id, int32_t v);
void ls_thrift_write_i64_field(ls_thrift_writer_t *w, int16_t id, int64_t v);
void ls_thrift_write_bool_field(ls_thrift_writer_t *w, int16_t id, bool v);
void ls_thrift_write_binary_field(ls_thrift_writer_t *w, int16_t id, const void *p, size_t n);
void ls_thrift_write_i32(ls_thrift_writer_t *w, int32_t v);
void ls_thrift_write_i64(ls_thrift_writer_t *w, int64_t v);
void ls_thrift_write_binary(ls_thrift_writer_t *w, const void *p, size_t n);
/* List header: `n` elements of compact type `elem_type`. */
void ls_thrift_write_list_begin(ls_thrift_writer_t *w, int elem_type, size_t n);
/* Opens a struct value (after its field header or as a list element) / closes it with STOP. */
void ls_thrift_write_struct_begin(ls_thrift_writer_t *w);
void ls_thrift_write_struct_end(ls_thrift_writer_t *w);

/* ---- decoder ---------------------------------------------------------- */

/* Cursor over [p, end). Every read checks bounds; the first failure sets `failed` and a message
 * in `err`, and every later read is a no-op returning zeros, so a parser can check once at the
 * end of a struct. */
typedef struct {
    const uint8_t *p, *end;
    int16_t last_field[LS_THRIFT_MAX_DEPTH];
    int depth;
    bool failed;
    ls_error_t *err;
} ls_thrift_reader_t;

void ls_thrift_reader_init(ls_thrift_reader_t *r, const void *data, size_t len, ls_error_t *err);
/* Enters a struct (call once before reading its first field). */
void ls_thrift_read_struct_begin(ls_thrift_reader_t *r);
void ls_thrift_read_struct_end(ls_thrift_reader_t *r);
/* Reads the next field header; returns false at STOP (or on failure). `*bool_value` receives the
 * value of a boolean field, whose value lives in the header. */
bool ls_thrift_read_field(ls_thrift_reader_t *r, int16_t *id, int *type, bool *bool_value);
int32_t ls_thrift_read_i32(ls_thrift_reader_t *r);
int64_t ls_thrift_read_i64(ls_thrift_reader_t *r);
/* Borrowed slice of the input; NULL/0 on failure. */
const uint8_t *ls_thrift_read_binary(ls_thrift_reader_t *r, size_t *len);
/* List header; the count is checked against the remaining bytes (every element, booleans
 * included, takes at least one byte in compact lists), so a caller may allocate `count` items. */
size_t ls_thrift_read_list_begin(ls_thrift_reader_t *r, int *elem_type);
/* Skips a value of the given type (fields of unknown ids). */
void ls_thrift_skip(ls_thrift_reader_t *r, int type);
/* Marks the cursor failed with a message (for semantic errors found by the parser). */
void ls_thrift_fail(ls_thrift_reader_t *r, const char *what);

#endif
