/*
 * Iceberg primitive types and values: parsing type strings ("decimal(9,2)",
 * "fixed[16]"), the spec's single-value binary serialization (manifest
 * bounds and partition summaries), its JSON single-value serialization (REST
 * rows, partition values, filters), ordering, the 32-bit murmur3 hash of
 * Appendix B and the partition transforms (identity, year, month, day, hour,
 * bucket[N], truncate[W], void). Values reuse the Parquet value struct
 * (lake/parquet.h) so writer statistics and reader output need no
 * conversion. Pure functions: no I/O, no global state, any thread. Never
 * trusts a serialized value's length: wrong sizes are INVALID_ARGUMENT.
 */
#ifndef LS_LAKE_ICEBERG_VALUE_H
#define LS_LAKE_ICEBERG_VALUE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"
#include "lake/parquet.h"

/* A primitive Iceberg type. `type` is the Parquet value type it maps to (int → INT32,
 * long → INT64, ...); precision/scale for decimals, precision is the length of fixed[L]. */
typedef struct {
    ls_parquet_type_t type;
    int precision, scale;
} ls_iceberg_type_t;

/* Parses a primitive Iceberg type name ("long", "decimal(10, 2)", "fixed[16]"). Nested types
 * (JSON objects) are not primitive: INVALID_ARGUMENT. */
ls_err_t ls_iceberg_type_parse(const char *s, ls_iceberg_type_t *out, ls_error_t *err);
/* Writes the type's Iceberg name into buf (at least 32 bytes). Returns buf. */
const char *ls_iceberg_type_format(const ls_iceberg_type_t *t, char *buf, size_t size);

/* ---- single-value binary serialization (spec Appendix D) ---- */

/* Appends the binary form of v (of type t) to out: little-endian ints/longs/floats/doubles,
 * date as 4 bytes, time/timestamps as 8, strings UTF-8, uuid 16 bytes big-endian, decimals the
 * minimal big-endian two's complement of the unscaled value, boolean one byte. */
void ls_iceberg_value_to_bytes(const ls_parquet_value_t *v, ls_buf_t *out);
/* Reads a binary form of type t. Byte values in *out borrow `p`. INVALID_ARGUMENT on a wrong
 * length. */
ls_err_t ls_iceberg_value_from_bytes(const ls_iceberg_type_t *t, const uint8_t *p, size_t len,
                                     ls_parquet_value_t *out, ls_error_t *err);

/* ---- JSON single-value serialization (spec Appendix D, JSON) ---- */

/* New JSON value for v (caller owns): booleans, numbers (long as integer), date "2017-11-16",
 * time "22:31:08.123456", timestamp "2017-11-16T22:31:08.000001", timestamptz with "+00:00",
 * string, uuid "f79c3e09-...", fixed/binary lowercase hex, decimal "14.20". NaN/Infinity as
 * strings. */
json_t *ls_iceberg_value_to_json(const ls_iceberg_type_t *t, const ls_parquet_value_t *v);
/* Parses the JSON form for type t (also accepts integers for date/time/timestamps as
 * days/micros, and integers or numbers for decimals). Byte values are written to *store
 * (caller frees it with free()) and *out borrows it. INVALID_ARGUMENT naming `path`. */
ls_err_t ls_iceberg_value_from_json(const ls_iceberg_type_t *t, const json_t *j, const char *path,
                                    ls_parquet_value_t *out, uint8_t **store, ls_error_t *err);

/* Total order of two non-null values of the same type (Iceberg's: signed numbers, unsigned
 * lexicographic bytes; NaN sorts above every number). Returns <0, 0, >0. */
int ls_iceberg_value_compare(const ls_parquet_value_t *a, const ls_parquet_value_t *b);

/* ---- hashing and transforms ---- */

/* MurmurHash3_x86_32 with seed 0 over len bytes, as a signed Java int. */
int32_t ls_iceberg_murmur3(const void *data, size_t len);
/* The spec's hash of a value (ints, dates as longs; decimals by minimal bytes; ...).
 * Booleans, floats and doubles are not hashable: returns false. */
bool ls_iceberg_hash(const ls_parquet_value_t *v, int32_t *out);

typedef enum {
    LS_ICEBERG_IDENTITY,
    LS_ICEBERG_YEAR,
    LS_ICEBERG_MONTH,
    LS_ICEBERG_DAY,
    LS_ICEBERG_HOUR,
    LS_ICEBERG_BUCKET,
    LS_ICEBERG_TRUNCATE,
    LS_ICEBERG_VOID,
} ls_iceberg_transform_kind_t;

typedef struct {
    ls_iceberg_transform_kind_t kind;
    int32_t param; /* N of bucket[N], W of truncate[W] */
} ls_iceberg_transform_t;

/* Parses "identity", "year", ..., "bucket[16]", "truncate[4]", "void". */
ls_err_t ls_iceberg_transform_parse(const char *s, ls_iceberg_transform_t *out, ls_error_t *err);
/* Writes the transform's name into buf (at least 24 bytes). Returns buf. */
const char *ls_iceberg_transform_format(const ls_iceberg_transform_t *t, char *buf, size_t size);
/* The result type of applying t to a source type, or INVALID_ARGUMENT when t does not apply
 * (year of a string, bucket of a double...). */
ls_err_t ls_iceberg_transform_result_type(const ls_iceberg_transform_t *t,
                                          const ls_iceberg_type_t *source, ls_iceberg_type_t *out,
                                          ls_error_t *err);
/* Applies t to a non-null value; byte results (truncate of strings/binary) borrow in's bytes.
 * Returns false for void (the result is null). The caller checked the types with
 * ls_iceberg_transform_result_type. */
bool ls_iceberg_transform_apply(const ls_iceberg_transform_t *t, const ls_parquet_value_t *in,
                                ls_parquet_value_t *out);

/* Days since 1970-01-01 of a civil date and back (proleptic Gregorian). */
int32_t ls_iceberg_days_from_civil(int64_t y, unsigned m, unsigned d);
void ls_iceberg_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);

#endif
