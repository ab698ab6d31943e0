/*
 * The row side of Iceberg tables: JSON rows -> Parquet data files grouped by
 * partition (with their manifest data_file records), Parquet data files ->
 * JSON rows in the table's current schema (columns matched by field id, so
 * renamed, added and widened columns read right), and the small row filter
 * language of the REST API ("a = 1 AND b >= '2024-01-01'") with the pruning
 * tests it allows on partition tuples and column bounds. CPU work for a
 * uv_queue_work item: pure, synchronous, any thread, no shared state. Never
 * trusts input: bad rows, bad filters and corrupt files give INVALID_ARGUMENT.
 */
#ifndef LS_LAKE_ICEBERG_DATA_H
#define LS_LAKE_ICEBERG_DATA_H

#include <jansson.h>
#include <stdint.h>

#include "core/error.h"
#include "lake/iceberg_metadata.h"

/* ---- writing ---- */

typedef struct {
    char *path;     /* full URL: <location>/data/<partition path>/<uuid>.parquet */
    uint8_t *bytes; /* Parquet file (malloc'ed) */
    size_t len;
    json_t *data_file; /* manifest data_file record */
    int64_t records;
} ls_iceberg_new_file_t;

/* Converts rows (array of objects keyed by column name; missing keys are null) into Parquet
 * files under `location`: one per partition tuple, split every max_rows_per_file rows (0: no
 * split; compaction uses it to hit a target file size). Unknown keys, wrong value types and nulls
 * in required columns are INVALID_ARGUMENT naming "$.rows[i].col". *files (n_files entries) are
 * owned by the caller: ls_iceberg_new_files_free. No rows gives zero files. */
ls_err_t ls_iceberg_write_rows(const ls_iceberg_schema_t *schema, const ls_iceberg_spec_t *spec,
                               json_t *rows, const char *location, size_t max_rows_per_file,
                               ls_iceberg_new_file_t **files, size_t *n_files, ls_error_t *err);
void ls_iceberg_new_files_free(ls_iceberg_new_file_t *files, size_t n);

/* ---- filters ---- */

typedef enum {
    LS_ICEBERG_EQ,
    LS_ICEBERG_NE,
    LS_ICEBERG_LT,
    LS_ICEBERG_LE,
    LS_ICEBERG_GT,
    LS_ICEBERG_GE
} ls_iceberg_op_t;

typedef struct {
    int column; /* index in the schema */
    ls_iceberg_op_t op;
    ls_parquet_value_t value; /* in the column's type; bytes point into `store` */
    uint8_t *store;
} ls_iceberg_predicate_t;

typedef struct {
    ls_iceberg_predicate_t *preds; /* ANDed */
    size_t n;
} ls_iceberg_filter_t;

/* Parses "col op literal [AND ...]" (ops =, !=, <, <=, >, >=; literals: numbers, 'quoted text'
 * with '' for a quote, true, false) against schema. INVALID_ARGUMENT saying what is wrong and
 * where. At most 32 predicates, 4096 characters. */
ls_err_t ls_iceberg_filter_parse(const char *text, const ls_iceberg_schema_t *schema,
                                 ls_iceberg_filter_t *out, ls_error_t *err);
void ls_iceberg_filter_free(ls_iceberg_filter_t *f);
/* Copies a filter (for a work item that must own its inputs). */
void ls_iceberg_filter_copy(const ls_iceberg_filter_t *src, ls_iceberg_filter_t *dst);

/* False when no row of a data file can match, judged from its manifest data_file record
 * (partition tuple under spec, lower/upper bounds and null counts by field id). */
bool ls_iceberg_filter_may_match_file(const ls_iceberg_filter_t *f,
                                      const ls_iceberg_schema_t *schema,
                                      const ls_iceberg_spec_t *spec, json_t *data_file);
/* False when no file of a manifest can match, judged from its partition summaries. */
bool ls_iceberg_filter_may_match_manifest(const ls_iceberg_filter_t *f,
                                          const ls_iceberg_spec_t *spec, json_t *manifest_file);

/* ---- reading ---- */

/* Decodes a Parquet data file into JSON rows of the schema (current schema: columns found by
 * field id; absent columns are null, int/float/decimal values widened), keeping only rows that
 * pass filter (may be NULL) and only `columns` (schema indexes; NULL = all), appending to
 * `rows` until it holds `limit` rows (limit < 0: no limit). */
ls_err_t ls_iceberg_read_rows(const ls_iceberg_schema_t *schema, const uint8_t *file, size_t len,
                              const ls_iceberg_filter_t *filter, const int *columns,
                              size_t n_columns, int64_t limit, json_t *rows, ls_error_t *err);

#endif
