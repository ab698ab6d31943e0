/*
 * lakestream's own Parquet codec: a writer and a reader for the subset of
 * Parquet that Iceberg tables need (flat and nested schemas with Iceberg field
 * ids, PLAIN and RLE_DICTIONARY encodings, ZSTD/SNAPPY/no compression, data
 * page v1, column statistics). Both sides are pure, synchronous and
 * thread-agnostic: they never touch the loop, never block on anything but the
 * caller's callbacks, and own no global state, so a caller runs them inside
 * uv_queue_work (one writer/reader per work item, one thread at a time).
 * The reader treats every byte of the file as hostile: sizes are bounded by
 * the file and page sizes before anything is allocated, and bad input gives an
 * ls_err_t with a message, never a crash.
 *
 * Schema model. A schema is a tree of nodes; node 0 is the root (a struct).
 * Leaves are primitive nodes; LIST nodes have exactly one child, the element
 * (named "element"), and are written in the standard 3-level form
 * `<rep> group name (LIST) { repeated group list { <rep> element } }`.
 * MAP nodes have two children, "key" (required, primitive) and "value", written
 * as `<rep> group name (MAP) { repeated group key_value { required key; <rep> value } }`.
 * STRUCT nodes have one or more children. Leaves are numbered 0..n-1 in
 * depth-first order, so a subtree's leaves are a contiguous range.
 *
 * Row input (writer). Rows are pushed as a depth-first stream of typed
 * values in schema order, like an Avro encoder: for each top-level field
 * call one put_* (or put_null), a begin_list/put element.../end_list, a
 * begin_map/put key, value, key, value.../end_map, or a
 * begin_struct/put children.../end_struct; then end_row. The writer shreds
 * values into per-leaf columns (definition/repetition levels computed from a
 * small cursor stack, O(1) per call, no per-value allocation) and encodes a
 * row group when its buffered size reaches the target. A value of the wrong
 * type for the current field fails the call with INVALID_ARGUMENT and leaves
 * the writer in the middle of the row: call ls_parquet_writer_abort_row to
 * drop the partial row and continue with the next one.
 *
 * Typical use from the loop: a uv_queue_work item owns a schema, a batch of
 * decoded records and a writer with the in-memory sink (or a sink appending
 * to a buffer it owns); its work callback puts every row and closes the
 * writer; its after-work callback, back on the loop, uploads the buffer and
 * records ls_parquet_writer_result() in the Iceberg manifest. Reading works
 * the same way with a read_fn over a local file (pread) or over bytes a
 * range GET fetched.
 */
#ifndef LS_LAKE_PARQUET_H
#define LS_LAKE_PARQUET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

typedef enum {
    LS_PARQUET_BOOLEAN,
    LS_PARQUET_INT32,
    LS_PARQUET_INT64,
    LS_PARQUET_FLOAT,
    LS_PARQUET_DOUBLE,
    LS_PARQUET_STRING,    /* BYTE_ARRAY, STRING logical type (UTF-8) */
    LS_PARQUET_BINARY,    /* BYTE_ARRAY */
    LS_PARQUET_DATE,      /* INT32 days since 1970-01-01 */
    LS_PARQUET_TIMESTAMP, /* INT64 microseconds, local (isAdjustedToUTC=false); Iceberg timestamp */
    LS_PARQUET_TIMESTAMPTZ, /* INT64 microseconds since the epoch UTC; Iceberg timestamptz */
    LS_PARQUET_DECIMAL,     /* INT32 (p<=9), INT64 (p<=18) or FIXED_LEN_BYTE_ARRAY (p<=38) */
    LS_PARQUET_TIME,        /* INT64 microseconds since midnight, local; Iceberg time */
    LS_PARQUET_UUID,        /* FIXED_LEN_BYTE_ARRAY(16), UUID logical type */
    LS_PARQUET_FIXED,       /* FIXED_LEN_BYTE_ARRAY(precision bytes); Iceberg fixed[L] */
    LS_PARQUET_STRUCT,
    LS_PARQUET_LIST,
    LS_PARQUET_MAP, /* children "key" (required primitive) and "value" */
} ls_parquet_type_t;

typedef enum {
    LS_PARQUET_UNCOMPRESSED = 0,
    LS_PARQUET_SNAPPY = 1,
    LS_PARQUET_ZSTD = 6,
} ls_parquet_codec_t;

/* Parquet physical types (parquet.thrift Type). */
typedef enum {
    LS_PARQUET_PHYS_BOOLEAN = 0,
    LS_PARQUET_PHYS_INT32 = 1,
    LS_PARQUET_PHYS_INT64 = 2,
    LS_PARQUET_PHYS_FLOAT = 4,
    LS_PARQUET_PHYS_DOUBLE = 5,
    LS_PARQUET_PHYS_BYTE_ARRAY = 6,
    LS_PARQUET_PHYS_FIXED_LEN_BYTE_ARRAY = 7,
} ls_parquet_physical_t;

/* Limits shared by writer and reader (the reader rejects files beyond them). */
#define LS_PARQUET_MAX_DEPTH 32                /* nesting of groups below the root */
#define LS_PARQUET_MAX_NODES 10000             /* schema elements */
#define LS_PARQUET_MAX_CHUNK_VALUES (1 << 22)  /* level entries per column chunk */
#define LS_PARQUET_MAX_PAGE_BYTES (256u << 20) /* uncompressed page */

/* One schema node. Fields after `scale` are derived by the schema and read-only. */
typedef struct {
    char *name;
    ls_parquet_type_t type;
    bool optional;
    int32_t field_id;     /* Iceberg field id, or -1 for none */
    int precision, scale; /* DECIMAL; precision is the byte length of FIXED */

    int parent; /* -1 for the root */
    int *children;
    int n_children;
    int def_level; /* definition level when this node is present */
    int rep_level; /* repetition level of this node's values */
    int leaf;      /* leaf index, -1 for groups */
    int first_leaf, n_leaves;
    ls_parquet_physical_t physical;
    int type_length; /* FIXED_LEN_BYTE_ARRAY width */
    char *path;      /* dotted Parquet column path ("tags.list.element") */
} ls_parquet_node_t;

typedef struct ls_parquet_schema ls_parquet_schema_t;

/* A typed value as the reader hands it out and the writer reports min/max. Byte arrays are
 * borrowed (see each function for how long). DECIMAL values are the unscaled integer. */
typedef struct {
    ls_parquet_type_t type;
    union {
        bool b;
        int32_t i32; /* INT32, DATE */
        int64_t i64; /* INT64, TIMESTAMP, TIMESTAMPTZ, TIME */
        float f;
        double d;
        __int128 dec;
        struct {
            const uint8_t *ptr;
            size_t len;
        } bytes; /* STRING, BINARY, UUID, FIXED */
    } v;
} ls_parquet_value_t;

/* ---- schema ------------------------------------------------------------- */

/* New schema holding only the root. Owned by the caller; free with ls_parquet_schema_free.
 * Any thread. */
ls_parquet_schema_t *ls_parquet_schema_new(void);
void ls_parquet_schema_free(ls_parquet_schema_t *s);

/* Adds a node under `parent` (0 = root; a STRUCT, a LIST that has no element yet, or a MAP:
 * first its "key", then its "value"). `name` is
 * copied. `field_id` < 0 means none. DECIMAL needs 1 <= precision <= 38 and 0 <= scale <=
 * precision; FIXED takes its byte length (1..65536) in `precision`. Returns the new node's index (>
 * 0), or -1 with `err` set (INVALID_ARGUMENT: bad parent, duplicate name, bad decimal, too deep).
 * The schema must not yet be used by a writer. */
int ls_parquet_schema_add(ls_parquet_schema_t *s, int parent, const char *name,
                          ls_parquet_type_t type, bool optional, int32_t field_id, int precision,
                          int scale, ls_error_t *err);

/* Builds a schema from an Iceberg schema in its JSON form (the table metadata's schema object,
 * {"type":"struct","fields":[{"id":1,"name":"x","required":true,"type":"long"},...]}), with
 * every field, list-element, map key and value id as Parquet field_id and Iceberg's required
 * as REQUIRED. All Iceberg types (map keys must be primitive); bad JSON, unknown types and
 * fields without id/name/required/type give INVALID_ARGUMENT (err->path names the field). Returns a
 * finished schema owned by the caller, or NULL. Any thread. */
ls_parquet_schema_t *ls_parquet_schema_from_iceberg(const char *json, size_t len, ls_error_t *err);

/* Checks that every STRUCT has children and every LIST an element, and derives levels, leaves
 * and paths. Called by ls_parquet_writer_new; callable early to validate. */
ls_err_t ls_parquet_schema_finish(ls_parquet_schema_t *s, ls_error_t *err);

/* Node access; the pointer lives as long as the schema. `i` must be < node count. */
int ls_parquet_schema_node_count(const ls_parquet_schema_t *s);
const ls_parquet_node_t *ls_parquet_schema_node(const ls_parquet_schema_t *s, int i);
/* Leaf count and the node index of leaf `leaf` (after finish). */
int ls_parquet_schema_leaf_count(const ls_parquet_schema_t *s);
int ls_parquet_schema_leaf_node(const ls_parquet_schema_t *s, int leaf);
/* Node index with this field id / dotted logical path of node names ("point.x", list elements
 * are "tags.element"), or -1. */
int ls_parquet_schema_find_field_id(const ls_parquet_schema_t *s, int32_t field_id);
int ls_parquet_schema_find_path(const ls_parquet_schema_t *s, const char *path);

/* ---- writer ------------------------------------------------------------- */

typedef struct {
    ls_parquet_codec_t codec;        /* default ZSTD */
    int zstd_level;                  /* default 3 */
    uint64_t row_group_bytes;        /* uncompressed target, default 128 MiB */
    size_t page_bytes;               /* uncompressed data page target, default 4 MiB, max 64 MiB */
    size_t dictionary_max_bytes;     /* fall back to PLAIN above this, default 1 MiB */
    uint32_t dictionary_max_entries; /* and above this many entries, default 65536 */
    bool dictionary;                 /* default true */
} ls_parquet_writer_options_t;

/* Fills `o` with the defaults above. */
void ls_parquet_writer_options_init(ls_parquet_writer_options_t *o);

/* Receives the file's bytes in order. Return LS_ERR_OK, or an error (with `err` filled) which
 * makes the writer fail. `data` is only valid during the call. */
typedef ls_err_t (*ls_parquet_sink_fn)(void *ctx, const void *data, size_t len, ls_error_t *err);

typedef struct ls_parquet_writer ls_parquet_writer_t;

/* Creates a writer. `schema` is finished here if needed and is borrowed: it must outlive the
 * writer and not change. `opts` may be NULL for defaults. `sink` NULL means write to an
 * in-memory buffer (ls_parquet_writer_buffer). Writes the leading magic to the sink.
 * Returns INVALID_ARGUMENT for a bad schema/options, or the sink's error. */
ls_err_t ls_parquet_writer_new(const ls_parquet_schema_t *schema,
                               const ls_parquet_writer_options_t *opts, ls_parquet_sink_fn sink,
                               void *sink_ctx, ls_parquet_writer_t **out, ls_error_t *err);

/* Row input, see the file comment. Each returns LS_ERR_OK or INVALID_ARGUMENT (wrong type for
 * the current field, null for a required field, list/struct misuse, a byte value over 64 MiB,
 * writer failed); details in ls_parquet_writer_error. Accepted Parquet types per call:
 *   put_bool: BOOLEAN; put_int32: INT32, DATE, DECIMAL(p<=9); put_int64: INT64, TIMESTAMP(TZ),
 *   TIME, DECIMAL(p<=18); put_float: FLOAT; put_double: DOUBLE; put_bytes: STRING, BINARY,
 *   UUID (16 bytes), FIXED (exactly its length);
 *   put_decimal: any DECIMAL (value must fit the precision's storage). */
ls_err_t ls_parquet_writer_put_null(ls_parquet_writer_t *w);
ls_err_t ls_parquet_writer_put_bool(ls_parquet_writer_t *w, bool v);
ls_err_t ls_parquet_writer_put_int32(ls_parquet_writer_t *w, int32_t v);
ls_err_t ls_parquet_writer_put_int64(ls_parquet_writer_t *w, int64_t v);
ls_err_t ls_parquet_writer_put_float(ls_parquet_writer_t *w, float v);
ls_err_t ls_parquet_writer_put_double(ls_parquet_writer_t *w, double v);
ls_err_t ls_parquet_writer_put_bytes(ls_parquet_writer_t *w, const void *p, size_t n);
ls_err_t ls_parquet_writer_put_decimal(ls_parquet_writer_t *w, __int128 unscaled);
ls_err_t ls_parquet_writer_begin_list(ls_parquet_writer_t *w);
ls_err_t ls_parquet_writer_end_list(ls_parquet_writer_t *w);
ls_err_t ls_parquet_writer_begin_map(ls_parquet_writer_t *w);
/* INVALID_ARGUMENT when a key was given without its value. */
ls_err_t ls_parquet_writer_end_map(ls_parquet_writer_t *w);
ls_err_t ls_parquet_writer_begin_struct(ls_parquet_writer_t *w);
ls_err_t ls_parquet_writer_end_struct(ls_parquet_writer_t *w);
/* Completes the row (every top-level field must have been given). INVALID_ARGUMENT for a row
 * the format limits cannot hold (over LS_PARQUET_MAX_CHUNK_VALUES/2 entries or 128 MiB of values
 * in one column): abort it and go on. May encode and emit a row group; a sink error here makes
 * the writer failed. */
ls_err_t ls_parquet_writer_end_row(ls_parquet_writer_t *w);
/* Drops the values of the current, incomplete row. */
void ls_parquet_writer_abort_row(ls_parquet_writer_t *w);
/* The last error of a row-input call (borrowed, lives with the writer). */
const ls_error_t *ls_parquet_writer_error(const ls_parquet_writer_t *w);

/* Per-leaf-column results for Iceberg manifests, valid after ls_parquet_writer_close and until
 * ls_parquet_writer_free. min/max and their raw bytes (Parquet PLAIN statistics encoding)
 * point into writer-owned memory. null_count counts level entries without a value (the leaf or
 * an ancestor null or an empty list), nan_count NaN floats/doubles (not in min/max). */
typedef struct {
    int leaf;
    int32_t field_id;
    const char *path;
    ls_parquet_type_t type;
    int64_t value_count, null_count, nan_count;
    int64_t compressed_size, uncompressed_size;
    bool has_min_max;
    ls_parquet_value_t min, max;
    const uint8_t *min_raw, *max_raw;
    size_t min_raw_len, max_raw_len;
} ls_parquet_column_result_t;

typedef struct {
    int64_t row_count;
    uint64_t file_size;
    int row_group_count;
    int column_count;
    const ls_parquet_column_result_t *columns; /* column_count entries, leaf order */
} ls_parquet_file_result_t;

/* Flushes the last row group and writes the footer. Fails with FAILED_PRECONDITION in the middle
 * of a row, or the sink's error. Not callable twice. */
ls_err_t ls_parquet_writer_close(ls_parquet_writer_t *w, ls_error_t *err);
/* After a successful close. Pointer valid until ls_parquet_writer_free. */
const ls_parquet_file_result_t *ls_parquet_writer_result(const ls_parquet_writer_t *w);
/* In-memory writers: the file bytes so far (complete after close); borrowed. */
const uint8_t *ls_parquet_writer_buffer(const ls_parquet_writer_t *w, size_t *len);
/* Adds a key/value pair to the footer's key_value_metadata (e.g. Iceberg's "iceberg.schema").
 * Both strings are copied; a repeated key replaces the earlier value. Before close only
 * (FAILED_PRECONDITION after). */
ls_err_t ls_parquet_writer_set_metadata(ls_parquet_writer_t *w, const char *key, const char *value,
                                        ls_error_t *err);
/* Releases the writer, its buffers and results (NULL is fine). Does not close: a writer freed
 * before close has emitted a file without a footer. */
void ls_parquet_writer_free(ls_parquet_writer_t *w);

/* ---- reader ------------------------------------------------------------- */

/* Reads exactly `len` bytes at `offset` into `buf` (a local pread, an object-store range get).
 * Called only with ranges inside [0, file_size). Return LS_ERR_OK or an error with `err` set. */
typedef ls_err_t (*ls_parquet_read_fn)(void *ctx, uint64_t offset, size_t len, void *buf,
                                       ls_error_t *err);

typedef struct ls_parquet_reader ls_parquet_reader_t;

/* Opens a file of `file_size` bytes: reads and checks the tail, parses the footer and rebuilds
 * the schema (field ids, logical types). Every projection starts as "all columns". Returns
 * INVALID_ARGUMENT for anything that is not a Parquet file we can read, or read_fn's error.
 * `ctx` must outlive the reader. */
ls_err_t ls_parquet_reader_open(ls_parquet_read_fn read_fn, void *ctx, uint64_t file_size,
                                ls_parquet_reader_t **out, ls_error_t *err);
/* Same over a memory buffer, borrowed for the reader's lifetime. */
ls_err_t ls_parquet_reader_open_memory(const void *data, size_t len, ls_parquet_reader_t **out,
                                       ls_error_t *err);
/* Releases the reader and everything it handed out (NULL is fine). */
void ls_parquet_reader_free(ls_parquet_reader_t *r);

/* The file's schema, total rows, row groups, rows of one row group (0 for a bad index) and the
 * writer's created_by ("" when absent). Owned by the reader. */
const ls_parquet_schema_t *ls_parquet_reader_schema(const ls_parquet_reader_t *r);
int64_t ls_parquet_reader_num_rows(const ls_parquet_reader_t *r);
int ls_parquet_reader_num_row_groups(const ls_parquet_reader_t *r);
int64_t ls_parquet_reader_row_group_rows(const ls_parquet_reader_t *r, int rg);
const char *ls_parquet_reader_created_by(const ls_parquet_reader_t *r);
/* Value of a footer key_value_metadata key, or NULL. Owned by the reader. Values with an
 * embedded NUL are cut at it. */
const char *ls_parquet_reader_metadata(const ls_parquet_reader_t *r, const char *key);

/* Column-chunk statistics of leaf `leaf` in row group `rg`, for row-group skipping: the caller
 * evaluates its predicate on min/max (byte values borrowed from the reader). */
typedef struct {
    int64_t num_values;
    bool has_null_count;
    int64_t null_count;
    bool has_min_max;
    ls_parquet_value_t min, max;
    int64_t compressed_size;
} ls_parquet_chunk_stats_t;

ls_err_t ls_parquet_reader_chunk_stats(const ls_parquet_reader_t *r, int rg, int leaf,
                                       ls_parquet_chunk_stats_t *out, ls_error_t *err);

/* Projection: keep only these nodes (each with its subtree; ancestors are kept as containers).
 * Ids/paths that do not exist give NOT_FOUND. An empty selection reads no columns. */
ls_err_t ls_parquet_reader_select_field_ids(ls_parquet_reader_t *r, const int32_t *ids, size_t n,
                                            ls_error_t *err);
ls_err_t ls_parquet_reader_select_paths(ls_parquet_reader_t *r, const char *const *paths, size_t n,
                                        ls_error_t *err);
void ls_parquet_reader_select_all(ls_parquet_reader_t *r);

/* Receives the rows of a row group as a depth-first event stream, mirroring the writer's row
 * input (so reader events can be fed to a writer). Unselected fields produce no events. A
 * callback returning non-OK stops the read with that code (its message in `err` if it set one).
 * Byte values are valid only during the callback. */
typedef struct {
    ls_err_t (*value)(void *ctx, const ls_parquet_node_t *node, const ls_parquet_value_t *v);
    ls_err_t (*null)(void *ctx, const ls_parquet_node_t *node);
    ls_err_t (*begin_list)(void *ctx, const ls_parquet_node_t *node, size_t n_elements);
    ls_err_t (*end_list)(void *ctx, const ls_parquet_node_t *node);
    ls_err_t (*begin_struct)(void *ctx, const ls_parquet_node_t *node);
    ls_err_t (*end_struct)(void *ctx, const ls_parquet_node_t *node);
    ls_err_t (*end_row)(void *ctx);
    /* Entries come as key then value (each skipped when unselected). */
    ls_err_t (*begin_map)(void *ctx, const ls_parquet_node_t *node, size_t n_entries);
    ls_err_t (*end_map)(void *ctx, const ls_parquet_node_t *node);
} ls_parquet_visitor_t;

/* Reads the selected column chunks of row group `rg` (one read_fn call each, so memory is
 * bounded by one row group's selected chunks), decodes them and emits its rows. Returns
 * INVALID_ARGUMENT for corrupt data, or the callback's / read_fn's error. */
ls_err_t ls_parquet_reader_read_row_group(ls_parquet_reader_t *r, int rg,
                                          const ls_parquet_visitor_t *visitor, void *ctx,
                                          ls_error_t *err);

/* Decides from a row group's statistics (ls_parquet_reader_chunk_stats) whether it may hold
 * matching rows; false skips it unread. */
typedef bool (*ls_parquet_row_group_filter_fn)(void *ctx, const ls_parquet_reader_t *r, int rg);

/* Reads every row group the filter keeps (all when `filter` is NULL), in file order, one row
 * group in memory at a time; same errors as ls_parquet_reader_read_row_group. */
ls_err_t ls_parquet_reader_read(ls_parquet_reader_t *r, ls_parquet_row_group_filter_fn filter,
                                void *filter_ctx, const ls_parquet_visitor_t *visitor, void *ctx,
                                ls_error_t *err);

#endif
