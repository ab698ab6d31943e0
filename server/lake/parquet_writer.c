/*
 * The Parquet writer: shreds a depth-first stream of row values into
 * per-leaf columns (definition/repetition levels plus PLAIN-layout values),
 * cuts row groups by size, has each column chunk encoded by parquet_chunk.c,
 * hands the bytes to the sink, keeps the per-column results Iceberg
 * manifests need, and on close writes the Thrift footer. It is pure and
 * synchronous: no loop, no globals, no I/O but the sink, so callers run it on
 * a worker thread. It must never emit a file that DuckDB, hyparquet or our
 * reader would read differently from what was put.
 */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "lake/parquet_internal.h"

#define CREATED_BY "lakestream version " LS_VERSION " (build lakestream)"
/* Pages stay under LS_PARQUET_MAX_PAGE_BYTES: a page is cut after reaching its target (at most
 * MAX_PAGE_TARGET) at the next row boundary, and one row adds at most MAX_ROW_LEAF_BYTES to a
 * leaf (a value at most MAX_VALUE_BYTES). */
#define MAX_PAGE_TARGET (64u << 20)
#define MAX_ROW_LEAF_BYTES (128u << 20)
#define MAX_VALUE_BYTES (64u << 20)

typedef struct {
    ls_pq_chunk_meta_t *chunks;
    int64_t num_rows, total_byte_size, total_compressed, file_offset;
} row_group_meta_t;

typedef struct {
    const ls_parquet_node_t *node;
    size_t width; /* fixed value width in the value buffer; 0 for BYTE_ARRAY */
    uint8_t *def, *rep;
    size_t n_levels, cap_levels;
    ls_pq_buf_t values; /* PLAIN layout (booleans one byte each) */
    size_t n_values;
    /* row start, for abort_row */
    size_t row_levels, row_values, row_value_bytes;
    /* whole-file results */
    ls_parquet_column_result_t res;
    uint8_t *min_buf, *max_buf;
} leaf_t;

typedef struct {
    int node;
    int child;    /* STRUCT/root: next child */
    size_t count; /* LIST: elements so far */
    uint8_t rep_in;
} frame_t;

struct ls_parquet_writer {
    const ls_parquet_schema_t *schema;
    const ls_parquet_node_t *nodes;
    ls_parquet_writer_options_t opts;
    ls_parquet_sink_fn sink;
    void *sink_ctx;
    ls_pq_buf_t mem; /* in-memory output */
    uint64_t offset; /* bytes emitted so far */

    leaf_t *leaves;
    int n_leaves;
    frame_t stack[LS_PARQUET_MAX_DEPTH + 2];
    int depth;

    int64_t rg_rows, total_rows;
    uint64_t buffered, row_buffered; /* estimate now / at the start of the row */
    size_t max_leaf_levels;
    row_group_meta_t *rgs;
    int n_rgs;

    ls_pq_encoder_t enc;
    ls_pq_buf_t chunk;

    char **kv; /* key, value, key, value... */
    size_t n_kv;

    bool failed, closed;
    ls_error_t err;
    ls_parquet_file_result_t result;
    ls_parquet_column_result_t *results;
};

void ls_parquet_writer_options_init(ls_parquet_writer_options_t *o)
{
    memset(o, 0, sizeof(*o));
    o->codec = LS_PARQUET_ZSTD;
    o->zstd_level = 3;
    o->row_group_bytes = 128u << 20;
    o->page_bytes = 4u << 20;
    o->dictionary_max_bytes = 1u << 20;
    o->dictionary_max_entries = 65536;
    o->dictionary = true;
}

static ls_err_t emit(ls_parquet_writer_t *w, const void *p, size_t n)
{
    if (w->sink) {
        ls_err_t rc = w->sink(w->sink_ctx, p, n, &w->err);
        if (rc) {
            w->failed = true;
            return rc;
        }
    } else {
        ls__pq_buf_append(&w->mem, p, n);
    }
    w->offset += n;
    return LS_ERR_OK;
}

ls_err_t ls_parquet_writer_new(const ls_parquet_schema_t *schema,
                               const ls_parquet_writer_options_t *opts, ls_parquet_sink_fn sink,
                               void *sink_ctx, ls_parquet_writer_t **out, ls_error_t *err)
{
    *out = NULL;
    ls_err_t rc = ls_parquet_schema_finish((ls_parquet_schema_t *)schema, err);
    if (rc)
        return rc;
    ls_parquet_writer_options_t o;
    if (opts)
        o = *opts;
    else
        ls_parquet_writer_options_init(&o);
    if (o.codec != LS_PARQUET_UNCOMPRESSED && o.codec != LS_PARQUET_ZSTD &&
        o.codec != LS_PARQUET_SNAPPY)
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "parquet writer: unknown codec %d",
                            (int)o.codec);
    if (o.page_bytes < 1024)
        o.page_bytes = 1024;
    if (o.page_bytes > MAX_PAGE_TARGET)
        o.page_bytes = MAX_PAGE_TARGET;
    if (o.row_group_bytes < 1)
        o.row_group_bytes = 1;
    ls_parquet_writer_t *w = ls_calloc(1, sizeof(*w));
    w->schema = schema;
    w->nodes = ls_parquet_schema_node(schema, 0);
    w->opts = o;
    w->sink = sink;
    w->sink_ctx = sink_ctx;
    w->enc.codec.zstd_level = o.zstd_level;
    w->n_leaves = ls_parquet_schema_leaf_count(schema);
    w->leaves = ls_calloc((size_t)w->n_leaves, sizeof(leaf_t));
    for (int i = 0; i < w->n_leaves; i++) {
        leaf_t *l = &w->leaves[i];
        l->node = &w->nodes[ls_parquet_schema_leaf_node(schema, i)];
        l->width = ls__pq_fixed_width(l->node);
        l->res.leaf = i;
        l->res.field_id = l->node->field_id;
        l->res.path = l->node->path;
        l->res.type = l->node->type;
    }
    rc = emit(w, "PAR1", 4);
    if (rc) {
        if (err)
            *err = w->err;
        ls_parquet_writer_free(w);
        return rc;
    }
    *out = w;
    return LS_ERR_OK;
}

const ls_error_t *ls_parquet_writer_error(const ls_parquet_writer_t *w)
{
    return &w->err;
}

/* ---- shredding ---------------------------------------------------------- */

static ls_err_t fail_put(ls_parquet_writer_t *w, const char *what, const ls_parquet_node_t *n)
{
    return ls_error_set(&w->err, LS_ERR_INVALID_ARGUMENT, "parquet writer: %s%s%s", what,
                        n ? " at " : "", n ? n->path : "");
}

/* The node the next put fills, and the repetition level its values get; -1 when the current
 * struct has no fields left. */
static inline int next_slot(ls_parquet_writer_t *w, uint8_t *rep)
{
    frame_t *f = &w->stack[w->depth];
    const ls_parquet_node_t *n = &w->nodes[f->node];
    if (n->type == LS_PARQUET_LIST) {
        int e = n->children[0];
        *rep = f->count ? (uint8_t)w->nodes[e].rep_level : f->rep_in;
        return e;
    }
    if (n->type == LS_PARQUET_MAP) { /* key, value, key, value...: count is values given */
        int e = n->children[f->count & 1];
        *rep = f->count >= 2 ? (uint8_t)w->nodes[e].rep_level : f->rep_in;
        return e;
    }
    if (f->child >= n->n_children)
        return -1;
    *rep = f->rep_in;
    return n->children[f->child];
}

static inline void advance(ls_parquet_writer_t *w)
{
    frame_t *f = &w->stack[w->depth];
    if (w->nodes[f->node].type == LS_PARQUET_LIST || w->nodes[f->node].type == LS_PARQUET_MAP)
        f->count++;
    else
        f->child++;
}

static inline void push_level(ls_parquet_writer_t *w, leaf_t *l, uint8_t rep, uint8_t def)
{
    if (l->n_levels == l->cap_levels) {
        l->cap_levels = l->cap_levels ? l->cap_levels * 2 : 1024;
        if (l->node->def_level > 0)
            l->def = ls_realloc(l->def, l->cap_levels);
        if (l->node->rep_level > 0)
            l->rep = ls_realloc(l->rep, l->cap_levels);
    }
    if (l->def)
        l->def[l->n_levels] = def;
    if (l->rep)
        l->rep[l->n_levels] = rep;
    l->n_levels++;
    if (l->n_levels > w->max_leaf_levels)
        w->max_leaf_levels = l->n_levels;
}

/* Resolves the slot for a primitive put and checks its type; returns the leaf or NULL. */
static inline leaf_t *begin_put(ls_parquet_writer_t *w, uint8_t *rep, unsigned accepted)
{
    if (w->failed || w->closed) {
        fail_put(w, "writer failed or closed", NULL);
        return NULL;
    }
    int idx = next_slot(w, rep);
    if (idx < 0) {
        fail_put(w, "more values than fields in", &w->nodes[w->stack[w->depth].node]);
        return NULL;
    }
    const ls_parquet_node_t *n = &w->nodes[idx];
    if (!((accepted >> n->type) & 1u)) {
        fail_put(w, "value of the wrong type", n);
        return NULL;
    }
    return &w->leaves[n->leaf];
}

static inline void add_value(ls_parquet_writer_t *w, leaf_t *l, uint8_t rep, const void *p,
                             size_t n)
{
    push_level(w, l, rep, (uint8_t)l->node->def_level);
    ls__pq_buf_append(&l->values, p, n);
    l->n_values++;
    w->buffered += n + 1;
    advance(w);
}

#define BIT(t) (1u << (t))

ls_err_t ls_parquet_writer_put_bool(ls_parquet_writer_t *w, bool v)
{
    uint8_t rep;
    leaf_t *l = begin_put(w, &rep, BIT(LS_PARQUET_BOOLEAN));
    if (!l)
        return LS_ERR_INVALID_ARGUMENT;
    uint8_t b = v ? 1 : 0;
    add_value(w, l, rep, &b, 1);
    return LS_ERR_OK;
}

static ls_err_t put_decimal_leaf(ls_parquet_writer_t *w, leaf_t *l, uint8_t rep, __int128 v)
{
    const ls_parquet_node_t *n = l->node;
    __int128 lim = 1;
    for (int i = 0; i < n->precision; i++)
        lim *= 10;
    if (v >= lim || v <= -lim)
        return fail_put(w, "decimal has more digits than its precision", n);
    if (n->physical == LS_PARQUET_PHYS_INT32) {
        if (v < INT32_MIN || v > INT32_MAX)
            return fail_put(w, "decimal out of range", n);
        int32_t x = (int32_t)v;
        add_value(w, l, rep, &x, 4);
    } else if (n->physical == LS_PARQUET_PHYS_INT64) {
        if (v < INT64_MIN || v > INT64_MAX)
            return fail_put(w, "decimal out of range", n);
        int64_t x = (int64_t)v;
        add_value(w, l, rep, &x, 8);
    } else {
        uint8_t be[16];
        int len = n->type_length;
        unsigned __int128 u = (unsigned __int128)v;
        for (int i = len - 1; i >= 0; i--) {
            be[i] = (uint8_t)u;
            u >>= 8;
        }
        add_value(w, l, rep, be, (size_t)len);
    }
    return LS_ERR_OK;
}

ls_err_t ls_parquet_writer_put_int32(ls_parquet_writer_t *w, int32_t v)
{
    uint8_t rep;
    leaf_t *l =
        begin_put(w, &rep, BIT(LS_PARQUET_INT32) | BIT(LS_PARQUET_DATE) | BIT(LS_PARQUET_DECIMAL));
    if (!l)
        return LS_ERR_INVALID_ARGUMENT;
    if (l->node->type == LS_PARQUET_DECIMAL)
        return put_decimal_leaf(w, l, rep, v);
    add_value(w, l, rep, &v, 4);
    return LS_ERR_OK;
}

ls_err_t ls_parquet_writer_put_int64(ls_parquet_writer_t *w, int64_t v)
{
    uint8_t rep;
    leaf_t *l =
        begin_put(w, &rep,
                  BIT(LS_PARQUET_INT64) | BIT(LS_PARQUET_TIMESTAMP) | BIT(LS_PARQUET_TIMESTAMPTZ) |
                      BIT(LS_PARQUET_TIME) | BIT(LS_PARQUET_DECIMAL));
    if (!l)
        return LS_ERR_INVALID_ARGUMENT;
    if (l->node->type == LS_PARQUET_DECIMAL)
        return put_decimal_leaf(w, l, rep, v);
    add_value(w, l, rep, &v, 8);
    return LS_ERR_OK;
}

ls_err_t ls_parquet_writer_put_decimal(ls_parquet_writer_t *w, __int128 v)
{
    uint8_t rep;
    leaf_t *l = begin_put(w, &rep, BIT(LS_PARQUET_DECIMAL));
    if (!l)
        return LS_ERR_INVALID_ARGUMENT;
    return put_decimal_leaf(w, l, rep, v);
}

ls_err_t ls_parquet_writer_put_float(ls_parquet_writer_t *w, float v)
{
    uint8_t rep;
    leaf_t *l = begin_put(w, &rep, BIT(LS_PARQUET_FLOAT));
    if (!l)
        return LS_ERR_INVALID_ARGUMENT;
    add_value(w, l, rep, &v, 4);
    return LS_ERR_OK;
}

ls_err_t ls_parquet_writer_put_double(ls_parquet_writer_t *w, double v)
{
    uint8_t rep;
    leaf_t *l = begin_put(w, &rep, BIT(LS_PARQUET_DOUBLE));
    if (!l)
        return LS_ERR_INVALID_ARGUMENT;
    add_value(w, l, rep, &v, 8);
    return LS_ERR_OK;
}

ls_err_t ls_parquet_writer_put_bytes(ls_parquet_writer_t *w, const void *p, size_t n)
{
    uint8_t rep;
    leaf_t *l = begin_put(w, &rep,
                          BIT(LS_PARQUET_STRING) | BIT(LS_PARQUET_BINARY) | BIT(LS_PARQUET_UUID) |
                              BIT(LS_PARQUET_FIXED));
    if (!l)
        return LS_ERR_INVALID_ARGUMENT;
    if (l->width) { /* UUID, FIXED: exactly the column's length, no length prefix */
        if (n != l->width)
            return fail_put(w, "fixed-length value of the wrong length", l->node);
        add_value(w, l, rep, p, n);
        return LS_ERR_OK;
    }
    if (n > MAX_VALUE_BYTES)
        return fail_put(w, "byte value larger than 64 MiB", l->node);
    push_level(w, l, rep, (uint8_t)l->node->def_level);
    uint32_t len = (uint32_t)n;
    ls__pq_buf_reserve(&l->values, 4 + n);
    memcpy(l->values.data + l->values.len, &len, 4);
    if (n)
        memcpy(l->values.data + l->values.len + 4, p, n);
    l->values.len += 4 + n;
    l->n_values++;
    w->buffered += n + 5;
    advance(w);
    return LS_ERR_OK;
}

/* One level entry without a value in every leaf under node `idx`. */
static void push_absent(ls_parquet_writer_t *w, int idx, uint8_t rep, uint8_t def)
{
    const ls_parquet_node_t *n = &w->nodes[idx];
    for (int i = n->first_leaf; i < n->first_leaf + n->n_leaves; i++)
        push_level(w, &w->leaves[i], rep, def);
    w->buffered += (uint64_t)n->n_leaves;
}

ls_err_t ls_parquet_writer_put_null(ls_parquet_writer_t *w)
{
    uint8_t rep;
    if (w->failed || w->closed)
        return fail_put(w, "writer failed or closed", NULL);
    int idx = next_slot(w, &rep);
    if (idx < 0)
        return fail_put(w, "more values than fields in", &w->nodes[w->stack[w->depth].node]);
    const ls_parquet_node_t *n = &w->nodes[idx];
    if (!n->optional)
        return fail_put(w, "null for a required field", n);
    push_absent(w, idx, rep, (uint8_t)(n->def_level - 1));
    advance(w);
    return LS_ERR_OK;
}

static ls_err_t begin_group(ls_parquet_writer_t *w, ls_parquet_type_t type)
{
    uint8_t rep;
    if (w->failed || w->closed)
        return fail_put(w, "writer failed or closed", NULL);
    int idx = next_slot(w, &rep);
    if (idx < 0)
        return fail_put(w, "more values than fields in", &w->nodes[w->stack[w->depth].node]);
    if (w->nodes[idx].type != type)
        return fail_put(w,
                        type == LS_PARQUET_LIST  ? "list for a non-list field"
                        : type == LS_PARQUET_MAP ? "map for a non-map field"
                                                 : "struct for a non-struct field",
                        &w->nodes[idx]);
    advance(w);
    frame_t *f = &w->stack[++w->depth];
    f->node = idx;
    f->child = 0;
    f->count = 0;
    f->rep_in = rep;
    return LS_ERR_OK;
}

ls_err_t ls_parquet_writer_begin_list(ls_parquet_writer_t *w)
{
    return begin_group(w, LS_PARQUET_LIST);
}

ls_err_t ls_parquet_writer_begin_map(ls_parquet_writer_t *w)
{
    return begin_group(w, LS_PARQUET_MAP);
}

ls_err_t ls_parquet_writer_end_map(ls_parquet_writer_t *w)
{
    frame_t *f = &w->stack[w->depth];
    if (w->depth == 0 || w->nodes[f->node].type != LS_PARQUET_MAP)
        return fail_put(w, "end_map without begin_map", NULL);
    if (f->count & 1)
        return fail_put(w, "map key without a value in", &w->nodes[f->node]);
    if (f->count == 0) /* empty map: present, no entry */
        push_absent(w, f->node, f->rep_in, (uint8_t)w->nodes[f->node].def_level);
    w->depth--;
    return LS_ERR_OK;
}

ls_err_t ls_parquet_writer_begin_struct(ls_parquet_writer_t *w)
{
    return begin_group(w, LS_PARQUET_STRUCT);
}

ls_err_t ls_parquet_writer_end_list(ls_parquet_writer_t *w)
{
    frame_t *f = &w->stack[w->depth];
    if (w->depth == 0 || w->nodes[f->node].type != LS_PARQUET_LIST)
        return fail_put(w, "end_list without begin_list", NULL);
    if (f->count == 0) /* empty list: present (def of the list node), no element */
        push_absent(w, f->node, f->rep_in, (uint8_t)w->nodes[f->node].def_level);
    w->depth--;
    return LS_ERR_OK;
}

ls_err_t ls_parquet_writer_end_struct(ls_parquet_writer_t *w)
{
    frame_t *f = &w->stack[w->depth];
    if (w->depth == 0 || w->nodes[f->node].type != LS_PARQUET_STRUCT)
        return fail_put(w, "end_struct without begin_struct", NULL);
    if (f->child != w->nodes[f->node].n_children)
        return fail_put(w, "missing fields in", &w->nodes[f->node]);
    w->depth--;
    return LS_ERR_OK;
}

static ls_err_t flush_row_group(ls_parquet_writer_t *w);

ls_err_t ls_parquet_writer_end_row(ls_parquet_writer_t *w)
{
    if (w->failed || w->closed)
        return fail_put(w, "writer failed or closed", NULL);
    if (w->depth != 0 || w->stack[0].child != w->nodes[0].n_children)
        return fail_put(w, "end_row before every field was given", NULL);
    /* A chunk the reader would refuse must never be written. Chunks are cut once a leaf holds
     * MAX/2 entries, so a row adding at most MAX/2 entries per leaf keeps every chunk within MAX;
     * a larger row is rejected whole (the caller aborts it). */
    if (w->max_leaf_levels > LS_PARQUET_MAX_CHUNK_VALUES / 2)
        for (int i = 0; i < w->n_leaves; i++)
            if (w->leaves[i].n_levels - w->leaves[i].row_levels > LS_PARQUET_MAX_CHUNK_VALUES / 2)
                return fail_put(w, "row has too many list elements in one column", NULL);
    if (w->buffered - w->row_buffered > MAX_ROW_LEAF_BYTES)
        for (int i = 0; i < w->n_leaves; i++)
            if (w->leaves[i].values.len - w->leaves[i].row_value_bytes > MAX_ROW_LEAF_BYTES)
                return fail_put(w, "row has more than 128 MiB of values in one column", NULL);
    w->stack[0].child = 0;
    w->rg_rows++;
    if (w->buffered >= w->opts.row_group_bytes ||
        w->max_leaf_levels >= LS_PARQUET_MAX_CHUNK_VALUES / 2) {
        ls_err_t rc = flush_row_group(w);
        if (rc)
            return rc;
    }
    for (int i = 0; i < w->n_leaves; i++) {
        leaf_t *l = &w->leaves[i];
        l->row_levels = l->n_levels;
        l->row_values = l->n_values;
        l->row_value_bytes = l->values.len;
    }
    w->row_buffered = w->buffered;
    return LS_ERR_OK;
}

void ls_parquet_writer_abort_row(ls_parquet_writer_t *w)
{
    for (int i = 0; i < w->n_leaves; i++) {
        leaf_t *l = &w->leaves[i];
        l->n_levels = l->row_levels;
        l->n_values = l->row_values;
        l->values.len = l->row_value_bytes;
    }
    w->depth = 0;
    w->stack[0].child = 0;
    w->buffered = w->row_buffered;
    w->max_leaf_levels = 0;
    for (int i = 0; i < w->n_leaves; i++)
        if (w->leaves[i].n_levels > w->max_leaf_levels)
            w->max_leaf_levels = w->leaves[i].n_levels;
}

/* ---- row groups ------------------------------------------------------- */

static ls_err_t encode_leaf(ls_parquet_writer_t *w, leaf_t *l, ls_pq_chunk_meta_t *cm)
{
    const ls_pq_column_t col = {l->node,     l->width,       l->def,     l->rep,
                                l->n_levels, l->values.data, l->n_values};
    ls_pq_chunk_stats_t st;
    w->chunk.len = 0;
    ls_err_t rc =
        ls__pq_encode_chunk(&w->enc, &w->opts, &col, w->offset, &w->chunk, cm, &st, &w->err);
    if (rc)
        return rc;
    const ls_parquet_node_t *n = l->node;
    l->res.nan_count += st.nan;
    if (st.has) {
        if (!l->res.has_min_max ||
            ls__pq_compare(n, st.min, st.min_len, l->min_buf, l->res.min_raw_len) < 0)
            ls__pq_keep_bytes(&l->min_buf, &l->res.min_raw_len, st.min, st.min_len);
        if (!l->res.has_min_max ||
            ls__pq_compare(n, st.max, st.max_len, l->max_buf, l->res.max_raw_len) > 0)
            ls__pq_keep_bytes(&l->max_buf, &l->res.max_raw_len, st.max, st.max_len);
        l->res.has_min_max = true;
    }
    l->res.value_count += cm->num_values;
    l->res.null_count += cm->null_count;
    l->res.compressed_size += cm->total_compressed;
    l->res.uncompressed_size += cm->total_uncompressed;
    return emit(w, w->chunk.data, w->chunk.len);
}

static ls_err_t flush_row_group(ls_parquet_writer_t *w)
{
    if (w->rg_rows == 0)
        return LS_ERR_OK;
    w->rgs = ls_realloc(w->rgs, (size_t)(w->n_rgs + 1) * sizeof(row_group_meta_t));
    row_group_meta_t *rg = &w->rgs[w->n_rgs++];
    memset(rg, 0, sizeof(*rg));
    rg->chunks = ls_calloc((size_t)w->n_leaves, sizeof(ls_pq_chunk_meta_t));
    rg->num_rows = w->rg_rows;
    rg->file_offset = (int64_t)w->offset;
    for (int i = 0; i < w->n_leaves; i++) {
        leaf_t *l = &w->leaves[i];
        ls_err_t rc = encode_leaf(w, l, &rg->chunks[i]);
        if (rc) {
            w->failed = true;
            return rc;
        }
        rg->total_byte_size += rg->chunks[i].total_uncompressed;
        rg->total_compressed += rg->chunks[i].total_compressed;
        l->n_levels = l->n_values = l->values.len = 0;
        l->row_levels = l->row_values = l->row_value_bytes = 0;
    }
    w->total_rows += w->rg_rows;
    w->rg_rows = 0;
    w->buffered = 0;
    w->max_leaf_levels = 0;
    return LS_ERR_OK;
}

/* ---- footer ------------------------------------------------------------- */

static bool signed_safe(const ls_parquet_node_t *n)
{
    return n->physical != LS_PARQUET_PHYS_BYTE_ARRAY &&
           n->physical != LS_PARQUET_PHYS_FIXED_LEN_BYTE_ARRAY;
}

static void write_path(ls_thrift_writer_t *tw, const char *path)
{
    size_t parts = 1;
    for (const char *p = path; *p; p++)
        parts += *p == '.';
    ls_thrift_write_list_begin(tw, LS_THRIFT_BINARY, parts);
    const char *p = path;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        ls_thrift_write_binary(tw, p, len);
        if (!dot)
            break;
        p = dot + 1;
    }
}

static void write_column_chunk(ls_thrift_writer_t *tw, const leaf_t *l,
                               const ls_pq_chunk_meta_t *cm, ls_parquet_codec_t codec)
{
    const ls_parquet_node_t *n = l->node;
    bool dict = cm->dictionary_page_offset >= 0;
    ls_thrift_write_struct_begin(tw);
    ls_thrift_write_i64_field(tw, 2, dict ? cm->dictionary_page_offset : cm->data_page_offset);
    ls_thrift_write_field(tw, 3, LS_THRIFT_STRUCT);
    ls_thrift_write_struct_begin(tw);
    ls_thrift_write_i32_field(tw, 1, n->physical);
    ls_thrift_write_field(tw, 2, LS_THRIFT_LIST);
    ls_thrift_write_list_begin(tw, LS_THRIFT_I32, dict ? 3 : 2);
    ls_thrift_write_i32(tw, LS_PQ_ENC_PLAIN);
    ls_thrift_write_i32(tw, LS_PQ_ENC_RLE);
    if (dict)
        ls_thrift_write_i32(tw, LS_PQ_ENC_RLE_DICTIONARY);
    ls_thrift_write_field(tw, 3, LS_THRIFT_LIST);
    write_path(tw, n->path);
    ls_thrift_write_i32_field(tw, 4, (int32_t)codec);
    ls_thrift_write_i64_field(tw, 5, cm->num_values);
    ls_thrift_write_i64_field(tw, 6, cm->total_uncompressed);
    ls_thrift_write_i64_field(tw, 7, cm->total_compressed);
    ls_thrift_write_i64_field(tw, 9, cm->data_page_offset);
    if (dict)
        ls_thrift_write_i64_field(tw, 11, cm->dictionary_page_offset);
    ls_thrift_write_field(tw, 12, LS_THRIFT_STRUCT);
    ls_thrift_write_struct_begin(tw);
    if (cm->has_min_max && signed_safe(n)) {
        ls_thrift_write_binary_field(tw, 1, cm->max, cm->max_len);
        ls_thrift_write_binary_field(tw, 2, cm->min, cm->min_len);
    }
    ls_thrift_write_i64_field(tw, 3, cm->null_count);
    if (cm->has_min_max) {
        ls_thrift_write_binary_field(tw, 5, cm->max, cm->max_len);
        ls_thrift_write_binary_field(tw, 6, cm->min, cm->min_len);
    }
    ls_thrift_write_struct_end(tw);
    ls_thrift_write_struct_end(tw); /* ColumnMetaData */
    ls_thrift_write_struct_end(tw); /* ColumnChunk */
}

static void fill_results(ls_parquet_writer_t *w)
{
    w->results = ls_calloc((size_t)w->n_leaves ? (size_t)w->n_leaves : 1, sizeof(*w->results));
    for (int i = 0; i < w->n_leaves; i++) {
        leaf_t *l = &w->leaves[i];
        ls_parquet_column_result_t *r = &w->results[i];
        *r = l->res;
        if (r->has_min_max) {
            r->min_raw = l->min_buf;
            r->max_raw = l->max_buf;
            ls__pq_decode_value(l->node, l->min_buf, r->min_raw_len, &r->min);
            ls__pq_decode_value(l->node, l->max_buf, r->max_raw_len, &r->max);
        }
    }
    w->result.row_count = w->total_rows;
    w->result.file_size = w->offset;
    w->result.row_group_count = w->n_rgs;
    w->result.column_count = w->n_leaves;
    w->result.columns = w->results;
}

ls_err_t ls_parquet_writer_close(ls_parquet_writer_t *w, ls_error_t *err)
{
    if (w->closed)
        return ls_error_set(err, LS_ERR_FAILED_PRECONDITION, "parquet writer already closed");
    if (w->failed) {
        if (err)
            *err = w->err;
        return w->err.code ? w->err.code : LS_ERR_INTERNAL;
    }
    if (w->depth != 0 || w->stack[0].child != 0)
        return ls_error_set(err, LS_ERR_FAILED_PRECONDITION,
                            "parquet writer closed in the middle of a row");
    ls_err_t rc = flush_row_group(w);
    if (rc) {
        if (err)
            *err = w->err;
        return rc;
    }
    ls_thrift_writer_t tw = {0};
    ls_thrift_write_struct_begin(&tw);
    ls_thrift_write_i32_field(&tw, 1, 1);
    ls_thrift_write_field(&tw, 2, LS_THRIFT_LIST);
    ls__pq_schema_write_thrift(w->schema, &tw);
    ls_thrift_write_i64_field(&tw, 3, w->total_rows);
    ls_thrift_write_field(&tw, 4, LS_THRIFT_LIST);
    ls_thrift_write_list_begin(&tw, LS_THRIFT_STRUCT, (size_t)w->n_rgs);
    for (int g = 0; g < w->n_rgs; g++) {
        row_group_meta_t *rg = &w->rgs[g];
        ls_thrift_write_struct_begin(&tw);
        ls_thrift_write_field(&tw, 1, LS_THRIFT_LIST);
        ls_thrift_write_list_begin(&tw, LS_THRIFT_STRUCT, (size_t)w->n_leaves);
        for (int i = 0; i < w->n_leaves; i++)
            write_column_chunk(&tw, &w->leaves[i], &rg->chunks[i], w->opts.codec);
        ls_thrift_write_i64_field(&tw, 2, rg->total_byte_size);
        ls_thrift_write_i64_field(&tw, 3, rg->num_rows);
        ls_thrift_write_i64_field(&tw, 5, rg->file_offset);
        ls_thrift_write_i64_field(&tw, 6, rg->total_compressed);
        ls_thrift_write_field(&tw, 7, LS_THRIFT_I16);
        ls_thrift_write_i32(&tw, g);
        ls_thrift_write_struct_end(&tw);
    }
    if (w->n_kv) {
        ls_thrift_write_field(&tw, 5, LS_THRIFT_LIST);
        ls_thrift_write_list_begin(&tw, LS_THRIFT_STRUCT, w->n_kv);
        for (size_t i = 0; i < w->n_kv; i++) {
            ls_thrift_write_struct_begin(&tw);
            ls_thrift_write_binary_field(&tw, 1, w->kv[2 * i], strlen(w->kv[2 * i]));
            ls_thrift_write_binary_field(&tw, 2, w->kv[2 * i + 1], strlen(w->kv[2 * i + 1]));
            ls_thrift_write_struct_end(&tw);
        }
    }
    ls_thrift_write_binary_field(&tw, 6, CREATED_BY, strlen(CREATED_BY));
    ls_thrift_write_field(&tw, 7, LS_THRIFT_LIST);
    ls_thrift_write_list_begin(&tw, LS_THRIFT_STRUCT, (size_t)w->n_leaves);
    for (int i = 0; i < w->n_leaves; i++) {
        ls_thrift_write_struct_begin(&tw); /* ColumnOrder */
        ls_thrift_write_field(&tw, 1, LS_THRIFT_STRUCT);
        ls_thrift_write_struct_begin(&tw); /* TypeDefinedOrder */
        ls_thrift_write_struct_end(&tw);
        ls_thrift_write_struct_end(&tw);
    }
    ls_thrift_write_struct_end(&tw);
    uint32_t flen = (uint32_t)tw.len;
    ls_thrift_write_raw(&tw, &flen, 4);
    ls_thrift_write_raw(&tw, "PAR1", 4);
    rc = emit(w, tw.data, tw.len);
    free(tw.data);
    if (rc) {
        if (err)
            *err = w->err;
        return rc;
    }
    w->closed = true;
    fill_results(w);
    return LS_ERR_OK;
}

ls_err_t ls_parquet_writer_set_metadata(ls_parquet_writer_t *w, const char *key, const char *value,
                                        ls_error_t *err)
{
    if (w->closed)
        return ls_error_set(err, LS_ERR_FAILED_PRECONDITION, "parquet writer already closed");
    for (size_t i = 0; i < w->n_kv; i++)
        if (strcmp(w->kv[2 * i], key) == 0) {
            free(w->kv[2 * i + 1]);
            w->kv[2 * i + 1] = ls_strdup(value);
            return LS_ERR_OK;
        }
    w->kv = ls_realloc(w->kv, (w->n_kv + 1) * 2 * sizeof(char *));
    w->kv[2 * w->n_kv] = ls_strdup(key);
    w->kv[2 * w->n_kv + 1] = ls_strdup(value);
    w->n_kv++;
    return LS_ERR_OK;
}

const ls_parquet_file_result_t *ls_parquet_writer_result(const ls_parquet_writer_t *w)
{
    return w->closed ? &w->result : NULL;
}

const uint8_t *ls_parquet_writer_buffer(const ls_parquet_writer_t *w, size_t *len)
{
    *len = w->mem.len;
    return w->mem.data;
}

void ls_parquet_writer_free(ls_parquet_writer_t *w)
{
    if (!w)
        return;
    for (int i = 0; i < w->n_leaves; i++) {
        leaf_t *l = &w->leaves[i];
        free(l->def);
        free(l->rep);
        free(l->values.data);
        free(l->min_buf);
        free(l->max_buf);
    }
    for (int g = 0; g < w->n_rgs; g++) {
        for (int i = 0; i < w->n_leaves; i++) {
            free(w->rgs[g].chunks[i].min);
            free(w->rgs[g].chunks[i].max);
        }
        free(w->rgs[g].chunks);
    }
    free(w->rgs);
    for (size_t i = 0; i < 2 * w->n_kv; i++)
        free(w->kv[i]);
    free(w->kv);
    free(w->leaves);
    free(w->results);
    free(w->mem.data);
    free(w->chunk.data);
    ls__pq_encoder_free(&w->enc);
    free(w);
}
