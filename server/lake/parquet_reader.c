/*
 * The Parquet reader: parses the footer, rebuilds the schema, and reads one
 * row group at a time (one range read per selected column chunk), decoding
 * pages into per-leaf levels and values and reassembling rows as visitor
 * events. Every size in the file is checked against the bytes that hold it
 * and against LS_PARQUET_MAX_CHUNK_VALUES before anything is allocated or
 * read; corrupt input must produce INVALID_ARGUMENT, never a crash, an
 * out-of-range access or an unbounded allocation.
 */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "lake/parquet_internal.h"

typedef struct {
    int type, codec;
    int64_t num_values, total_compressed, data_page_offset, dictionary_page_offset;
    bool has_null_count, has_min, has_max;
    int64_t null_count;
    const uint8_t *min, *max;
    size_t min_len, max_len;
} rd_chunk_t;

typedef struct {
    rd_chunk_t *chunks;
    size_t n_chunks;
    int64_t num_rows;
} rd_row_group_t;

struct ls_parquet_reader {
    ls_parquet_read_fn read_fn;
    void *ctx;
    uint64_t file_size;
    uint8_t *footer;
    size_t footer_len;
    ls_parquet_schema_t *schema;
    int64_t num_rows;
    rd_row_group_t *rgs;
    size_t n_rgs;
    char *created_by;
    char **kv; /* key, value, key, value... */
    size_t n_kv;
    bool *leaf_selected;
    int *probe; /* per node: first selected leaf of its subtree, -1 if none */
    ls_pq_codec_ctx_t codec;
    /* open_memory */
    const uint8_t *mem;
    size_t mem_len;
};

static ls_err_t corrupt(ls_error_t *err, const char *what)
{
    return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "corrupt parquet file: %s", what);
}

/* ---- footer ------------------------------------------------------------- */

static void parse_statistics(ls_thrift_reader_t *tr, rd_chunk_t *c)
{
    int16_t id;
    int t;
    ls_thrift_read_struct_begin(tr);
    while (ls_thrift_read_field(tr, &id, &t, NULL)) {
        if (id == 3 && t == LS_THRIFT_I64) {
            c->null_count = ls_thrift_read_i64(tr);
            c->has_null_count = true;
        } else if (id == 5 && t == LS_THRIFT_BINARY) {
            c->max = ls_thrift_read_binary(tr, &c->max_len);
            c->has_max = true;
        } else if (id == 6 && t == LS_THRIFT_BINARY) {
            c->min = ls_thrift_read_binary(tr, &c->min_len);
            c->has_min = true;
        } else {
            ls_thrift_skip(tr, t);
        }
    }
    ls_thrift_read_struct_end(tr);
}

static void parse_column_meta(ls_thrift_reader_t *tr, rd_chunk_t *c)
{
    int16_t id;
    int t;
    ls_thrift_read_struct_begin(tr);
    while (ls_thrift_read_field(tr, &id, &t, NULL)) {
        if (id == 1 && t == LS_THRIFT_I32)
            c->type = ls_thrift_read_i32(tr);
        else if (id == 4 && t == LS_THRIFT_I32)
            c->codec = ls_thrift_read_i32(tr);
        else if (id == 5 && t == LS_THRIFT_I64)
            c->num_values = ls_thrift_read_i64(tr);
        else if (id == 7 && t == LS_THRIFT_I64)
            c->total_compressed = ls_thrift_read_i64(tr);
        else if (id == 9 && t == LS_THRIFT_I64)
            c->data_page_offset = ls_thrift_read_i64(tr);
        else if (id == 11 && t == LS_THRIFT_I64)
            c->dictionary_page_offset = ls_thrift_read_i64(tr);
        else if (id == 12 && t == LS_THRIFT_STRUCT)
            parse_statistics(tr, c);
        else
            ls_thrift_skip(tr, t);
    }
    ls_thrift_read_struct_end(tr);
}

static void parse_row_group(ls_thrift_reader_t *tr, rd_row_group_t *rg)
{
    int16_t id;
    int t, et;
    ls_thrift_read_struct_begin(tr);
    while (ls_thrift_read_field(tr, &id, &t, NULL)) {
        if (id == 1 && t == LS_THRIFT_LIST && !rg->chunks) {
            size_t n = ls_thrift_read_list_begin(tr, &et);
            if (et != LS_THRIFT_STRUCT && n) {
                ls_thrift_fail(tr, "column chunks are not structs");
                break;
            }
            rg->chunks = ls_calloc(n ? n : 1, sizeof(rd_chunk_t));
            rg->n_chunks = n;
            for (size_t i = 0; i < n && !tr->failed; i++) {
                rd_chunk_t *c = &rg->chunks[i];
                c->type = c->codec = -1;
                c->dictionary_page_offset = -1;
                c->data_page_offset = -1;
                int16_t cid;
                int ct;
                ls_thrift_read_struct_begin(tr);
                while (ls_thrift_read_field(tr, &cid, &ct, NULL)) {
                    if (cid == 3 && ct == LS_THRIFT_STRUCT)
                        parse_column_meta(tr, c);
                    else
                        ls_thrift_skip(tr, ct);
                }
                ls_thrift_read_struct_end(tr);
            }
        } else if (id == 3 && t == LS_THRIFT_I64) {
            rg->num_rows = ls_thrift_read_i64(tr);
        } else {
            ls_thrift_skip(tr, t);
        }
    }
    ls_thrift_read_struct_end(tr);
}

static ls_err_t parse_footer(ls_parquet_reader_t *r, ls_error_t *err)
{
    ls_thrift_reader_t tr;
    ls_thrift_reader_init(&tr, r->footer, r->footer_len, err);
    int16_t id;
    int t, et;
    bool have_rows = false, have_rgs = false;
    ls_thrift_read_struct_begin(&tr);
    while (ls_thrift_read_field(&tr, &id, &t, NULL)) {
        if (id == 2 && t == LS_THRIFT_LIST && !r->schema) {
            size_t n = ls_thrift_read_list_begin(&tr, &et);
            if (tr.failed)
                break;
            if (et != LS_THRIFT_STRUCT)
                return corrupt(err, "schema is not a list of structs");
            r->schema = ls__pq_schema_from_thrift(&tr, n, err);
            if (!r->schema)
                return LS_ERR_INVALID_ARGUMENT;
        } else if (id == 3 && t == LS_THRIFT_I64) {
            r->num_rows = ls_thrift_read_i64(&tr);
            have_rows = true;
        } else if (id == 4 && t == LS_THRIFT_LIST && !have_rgs) {
            size_t n = ls_thrift_read_list_begin(&tr, &et);
            have_rgs = true;
            if (n && et != LS_THRIFT_STRUCT)
                return corrupt(err, "row groups are not structs");
            r->rgs = ls_calloc(n ? n : 1, sizeof(rd_row_group_t));
            r->n_rgs = n;
            for (size_t i = 0; i < n && !tr.failed; i++)
                parse_row_group(&tr, &r->rgs[i]);
        } else if (id == 5 && t == LS_THRIFT_LIST && !r->kv) {
            size_t n = ls_thrift_read_list_begin(&tr, &et);
            if (n && et != LS_THRIFT_STRUCT)
                return corrupt(err, "key/value metadata are not structs");
            r->kv = ls_calloc(2 * n + 1, sizeof(char *));
            for (size_t i = 0; i < n && !tr.failed; i++) {
                int16_t kid;
                int kt;
                ls_thrift_read_struct_begin(&tr);
                while (ls_thrift_read_field(&tr, &kid, &kt, NULL)) {
                    size_t len;
                    const uint8_t *p;
                    if ((kid == 1 || kid == 2) && kt == LS_THRIFT_BINARY &&
                        (p = ls_thrift_read_binary(&tr, &len))) {
                        free(r->kv[2 * i + (size_t)(kid - 1)]);
                        r->kv[2 * i + (size_t)(kid - 1)] = ls_strndup((const char *)p, len);
                    } else {
                        ls_thrift_skip(&tr, kt);
                    }
                }
                ls_thrift_read_struct_end(&tr);
                r->n_kv++;
            }
        } else if (id == 6 && t == LS_THRIFT_BINARY) {
            size_t len;
            const uint8_t *p = ls_thrift_read_binary(&tr, &len);
            if (p) {
                free(r->created_by);
                r->created_by = ls_strndup((const char *)p, len);
            }
        } else {
            ls_thrift_skip(&tr, t);
        }
    }
    if (tr.failed)
        return LS_ERR_INVALID_ARGUMENT;
    if (!r->schema || !have_rows || !have_rgs)
        return corrupt(err, "footer lacks schema, num_rows or row_groups");
    /* Cross-check every number we will later trust. */
    int n_leaves = ls_parquet_schema_leaf_count(r->schema);
    uint64_t data_end = r->file_size - 8 - r->footer_len;
    int64_t rows = 0;
    for (size_t g = 0; g < r->n_rgs; g++) {
        rd_row_group_t *rg = &r->rgs[g];
        if (rg->n_chunks != (size_t)n_leaves)
            return corrupt(err, "row group column count differs from the schema");
        if (rg->num_rows < 0 || rg->num_rows > LS_PARQUET_MAX_CHUNK_VALUES)
            return corrupt(err, "row group row count out of range");
        rows += rg->num_rows;
        for (int i = 0; i < n_leaves; i++) {
            rd_chunk_t *c = &rg->chunks[i];
            const ls_parquet_node_t *leaf =
                ls_parquet_schema_node(r->schema, ls_parquet_schema_leaf_node(r->schema, i));
            /* Some writers put 0 here for "no dictionary"; offset 0 is the magic, never a page,
             * and a dictionary page found at data_page_offset is handled while decoding. */
            if (c->dictionary_page_offset <= 0)
                c->dictionary_page_offset = -1;
            int64_t start =
                c->dictionary_page_offset >= 0 ? c->dictionary_page_offset : c->data_page_offset;
            if (c->type != (int)leaf->physical)
                return corrupt(err, "column chunk type differs from the schema");
            if (c->codec != LS_PARQUET_UNCOMPRESSED && c->codec != LS_PARQUET_SNAPPY &&
                c->codec != LS_PARQUET_ZSTD)
                return ls_error_set(err, LS_ERR_INVALID_ARGUMENT,
                                    "parquet column %s uses unsupported codec %d", leaf->path,
                                    c->codec);
            if (c->num_values < 0 || c->num_values > LS_PARQUET_MAX_CHUNK_VALUES)
                return corrupt(err, "column chunk value count out of range");
            if (leaf->rep_level == 0 && c->num_values != rg->num_rows)
                return corrupt(err, "column chunk value count differs from the row count");
            if (leaf->rep_level > 0 && c->num_values < rg->num_rows)
                return corrupt(err, "column chunk has fewer values than rows");
            if (start < 4 || c->total_compressed <= 0 || (uint64_t)start > data_end ||
                (uint64_t)c->total_compressed > data_end - (uint64_t)start)
                return corrupt(err, "column chunk lies outside the file");
            if (c->dictionary_page_offset >= 0 &&
                (c->data_page_offset < c->dictionary_page_offset ||
                 c->data_page_offset >= start + c->total_compressed))
                return corrupt(err, "data page offset outside its column chunk");
        }
    }
    if (rows != r->num_rows)
        return corrupt(err, "row groups do not add up to num_rows");
    return LS_ERR_OK;
}

static void compute_probes(ls_parquet_reader_t *r)
{
    int nn = ls_parquet_schema_node_count(r->schema);
    for (int i = 0; i < nn; i++) {
        const ls_parquet_node_t *n = ls_parquet_schema_node(r->schema, i);
        r->probe[i] = -1;
        for (int l = n->first_leaf; l < n->first_leaf + n->n_leaves; l++)
            if (r->leaf_selected[l]) {
                r->probe[i] = l;
                break;
            }
    }
}

ls_err_t ls_parquet_reader_open(ls_parquet_read_fn read_fn, void *ctx, uint64_t file_size,
                                ls_parquet_reader_t **out, ls_error_t *err)
{
    *out = NULL;
    if (file_size < 12)
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT,
                            "not a parquet file: %llu bytes is too short",
                            (unsigned long long)file_size);
    uint8_t head[4], tail[8];
    ls_err_t rc = read_fn(ctx, 0, 4, head, err);
    if (!rc)
        rc = read_fn(ctx, file_size - 8, 8, tail, err);
    if (rc)
        return rc;
    if (memcmp(head, "PAR1", 4) != 0 || memcmp(tail + 4, "PAR1", 4) != 0)
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "not a parquet file: bad magic");
    uint32_t flen;
    memcpy(&flen, tail, 4);
    if (flen == 0 || (uint64_t)flen > file_size - 12)
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT,
                            "corrupt parquet file: footer length %u past the file size %llu", flen,
                            (unsigned long long)file_size);
    ls_parquet_reader_t *r = ls_calloc(1, sizeof(*r));
    r->read_fn = read_fn;
    r->ctx = ctx;
    r->file_size = file_size;
    r->footer_len = flen;
    r->footer = ls_malloc(flen);
    rc = read_fn(ctx, file_size - 8 - flen, flen, r->footer, err);
    if (!rc)
        rc = parse_footer(r, err);
    if (rc) {
        ls_parquet_reader_free(r);
        return rc;
    }
    int n_leaves = ls_parquet_schema_leaf_count(r->schema);
    r->leaf_selected = ls_calloc((size_t)n_leaves, sizeof(bool));
    r->probe = ls_calloc((size_t)ls_parquet_schema_node_count(r->schema), sizeof(int));
    ls_parquet_reader_select_all(r);
    *out = r;
    return LS_ERR_OK;
}

static ls_err_t mem_read(void *ctx, uint64_t off, size_t len, void *buf, ls_error_t *err)
{
    ls_parquet_reader_t *r = ctx;
    if (off > r->mem_len || len > r->mem_len - off)
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "read past end of buffer");
    memcpy(buf, r->mem + off, len);
    return LS_ERR_OK;
}

ls_err_t ls_parquet_reader_open_memory(const void *data, size_t len, ls_parquet_reader_t **out,
                                       ls_error_t *err)
{
    /* The reader itself is the read context, so it must exist before open: use a stub. */
    ls_parquet_reader_t stub = {.mem = data, .mem_len = len};
    ls_err_t rc = ls_parquet_reader_open(mem_read, &stub, len, out, err);
    if (rc)
        return rc;
    (*out)->mem = data;
    (*out)->mem_len = len;
    (*out)->ctx = *out;
    return LS_ERR_OK;
}

void ls_parquet_reader_free(ls_parquet_reader_t *r)
{
    if (!r)
        return;
    for (size_t g = 0; g < r->n_rgs; g++)
        free(r->rgs[g].chunks);
    free(r->rgs);
    free(r->footer);
    free(r->created_by);
    for (size_t i = 0; r->kv && i < 2 * r->n_kv; i++)
        free(r->kv[i]);
    free(r->kv);
    free(r->leaf_selected);
    free(r->probe);
    ls_parquet_schema_free(r->schema);
    ls__pq_codec_ctx_free(&r->codec);
    free(r);
}

const ls_parquet_schema_t *ls_parquet_reader_schema(const ls_parquet_reader_t *r)
{
    return r->schema;
}
int64_t ls_parquet_reader_num_rows(const ls_parquet_reader_t *r)
{
    return r->num_rows;
}
int ls_parquet_reader_num_row_groups(const ls_parquet_reader_t *r)
{
    return (int)r->n_rgs;
}
int64_t ls_parquet_reader_row_group_rows(const ls_parquet_reader_t *r, int rg)
{
    return rg >= 0 && (size_t)rg < r->n_rgs ? r->rgs[rg].num_rows : 0;
}
const char *ls_parquet_reader_created_by(const ls_parquet_reader_t *r)
{
    return r->created_by ? r->created_by : "";
}

const char *ls_parquet_reader_metadata(const ls_parquet_reader_t *r, const char *key)
{
    for (size_t i = 0; i < r->n_kv; i++)
        if (r->kv[2 * i] && strcmp(r->kv[2 * i], key) == 0)
            return r->kv[2 * i + 1];
    return NULL;
}

ls_err_t ls_parquet_reader_chunk_stats(const ls_parquet_reader_t *r, int rg, int leaf,
                                       ls_parquet_chunk_stats_t *out, ls_error_t *err)
{
    memset(out, 0, sizeof(*out));
    if (rg < 0 || (size_t)rg >= r->n_rgs || leaf < 0 ||
        leaf >= ls_parquet_schema_leaf_count(r->schema))
        return ls_error_set(err, LS_ERR_NOT_FOUND, "no row group %d / leaf %d", rg, leaf);
    const rd_chunk_t *c = &r->rgs[rg].chunks[leaf];
    const ls_parquet_node_t *n =
        ls_parquet_schema_node(r->schema, ls_parquet_schema_leaf_node(r->schema, leaf));
    out->num_values = c->num_values;
    out->has_null_count = c->has_null_count;
    out->null_count = c->null_count;
    out->compressed_size = c->total_compressed;
    if (c->has_min && c->has_max && ls__pq_decode_value(n, c->min, c->min_len, &out->min) &&
        ls__pq_decode_value(n, c->max, c->max_len, &out->max))
        out->has_min_max = true;
    return LS_ERR_OK;
}

/* ---- projection --------------------------------------------------------- */

static void select_subtree(ls_parquet_reader_t *r, int node)
{
    const ls_parquet_node_t *n = ls_parquet_schema_node(r->schema, node);
    for (int l = n->first_leaf; l < n->first_leaf + n->n_leaves; l++)
        r->leaf_selected[l] = true;
}

void ls_parquet_reader_select_all(ls_parquet_reader_t *r)
{
    select_subtree(r, 0);
    compute_probes(r);
}

ls_err_t ls_parquet_reader_select_field_ids(ls_parquet_reader_t *r, const int32_t *ids, size_t n,
                                            ls_error_t *err)
{
    for (size_t i = 0; i < n; i++)
        if (ls_parquet_schema_find_field_id(r->schema, ids[i]) < 0)
            return ls_error_set(err, LS_ERR_NOT_FOUND, "parquet file has no field id %d",
                                (int)ids[i]);
    memset(r->leaf_selected, 0, (size_t)ls_parquet_schema_leaf_count(r->schema));
    for (size_t i = 0; i < n; i++)
        select_subtree(r, ls_parquet_schema_find_field_id(r->schema, ids[i]));
    compute_probes(r);
    return LS_ERR_OK;
}

ls_err_t ls_parquet_reader_select_paths(ls_parquet_reader_t *r, const char *const *paths, size_t n,
                                        ls_error_t *err)
{
    for (size_t i = 0; i < n; i++)
        if (ls_parquet_schema_find_path(r->schema, paths[i]) < 0)
            return ls_error_set(err, LS_ERR_NOT_FOUND, "parquet file has no column %s", paths[i]);
    memset(r->leaf_selected, 0, (size_t)ls_parquet_schema_leaf_count(r->schema));
    for (size_t i = 0; i < n; i++)
        select_subtree(r, ls_parquet_schema_find_path(r->schema, paths[i]));
    compute_probes(r);
    return LS_ERR_OK;
}

/* ---- column chunk decoding ---------------------------------------------- */

typedef struct {
    const uint8_t *p;
    uint32_t len;
} bytes_t;

typedef struct {
    const ls_parquet_node_t *node;
    size_t width;
    uint8_t *def, *rep;
    size_t n_levels, li;
    uint8_t *fixed; /* n_values * width */
    bytes_t *bytes; /* BYTE_ARRAY values, pointing into chunk/page buffers */
    size_t n_values, cap_values, vi;
    uint8_t *raw;    /* chunk bytes */
    uint8_t **pages; /* decompressed pages that byte values point into */
    size_t n_pages;
    /* dictionary */
    uint8_t *dict_fixed;
    bytes_t *dict_bytes;
    size_t dict_n;
    bool has_dict;
} col_t;

static void col_free(col_t *c)
{
    free(c->def);
    free(c->rep);
    free(c->fixed);
    free(c->bytes);
    free(c->raw);
    for (size_t i = 0; i < c->n_pages; i++)
        free(c->pages[i]);
    free(c->pages);
    free(c->dict_fixed);
    free(c->dict_bytes);
    memset(c, 0, sizeof(*c));
}

typedef struct {
    int type;
    int32_t uncompressed, compressed;
    int32_t num_values;
    int encoding;
    bool has_data, has_dict;
} page_header_t;

static void parse_page_header(ls_thrift_reader_t *tr, page_header_t *h)
{
    memset(h, 0, sizeof(*h));
    h->type = -1;
    h->uncompressed = h->compressed = -1;
    int16_t id;
    int t;
    ls_thrift_read_struct_begin(tr);
    while (ls_thrift_read_field(tr, &id, &t, NULL)) {
        if (id == 1 && t == LS_THRIFT_I32)
            h->type = ls_thrift_read_i32(tr);
        else if (id == 2 && t == LS_THRIFT_I32)
            h->uncompressed = ls_thrift_read_i32(tr);
        else if (id == 3 && t == LS_THRIFT_I32)
            h->compressed = ls_thrift_read_i32(tr);
        else if ((id == 5 || id == 7) && t == LS_THRIFT_STRUCT) {
            int16_t id2;
            int t2;
            if (id == 5)
                h->has_data = true;
            else
                h->has_dict = true;
            h->num_values = -1;
            ls_thrift_read_struct_begin(tr);
            while (ls_thrift_read_field(tr, &id2, &t2, NULL)) {
                if (id2 == 1 && t2 == LS_THRIFT_I32)
                    h->num_values = ls_thrift_read_i32(tr);
                else if (id2 == 2 && t2 == LS_THRIFT_I32)
                    h->encoding = ls_thrift_read_i32(tr);
                else
                    ls_thrift_skip(tr, t2);
            }
            ls_thrift_read_struct_end(tr);
        } else
            ls_thrift_skip(tr, t);
    }
    ls_thrift_read_struct_end(tr);
}

static void reserve_values(col_t *c, size_t extra)
{
    /* Allocated even for zero values, so value pointers are never NULL + offset. */
    if (c->n_values + extra <= c->cap_values && c->cap_values)
        return;
    size_t cap = c->cap_values ? c->cap_values : 256;
    while (cap < c->n_values + extra)
        cap *= 2;
    if (c->width)
        c->fixed = ls_realloc(c->fixed, cap * c->width);
    else
        c->bytes = ls_realloc(c->bytes, cap * sizeof(bytes_t));
    c->cap_values = cap;
}

/* PLAIN values: `n` of them from [p, p+len); returns false when they do not fit. */
static bool decode_plain(col_t *c, const uint8_t *p, size_t len, size_t n, uint8_t *fixed_out,
                         bytes_t *bytes_out)
{
    const ls_parquet_node_t *node = c->node;
    if (node->physical == LS_PARQUET_PHYS_BOOLEAN) {
        if (len < (n + 7) / 8)
            return false;
        for (size_t i = 0; i < n; i++)
            fixed_out[i] = (p[i / 8] >> (i % 8)) & 1;
        return true;
    }
    if (c->width) {
        if (len / c->width < n)
            return false;
        if (n)
            memcpy(fixed_out, p, n * c->width);
        return true;
    }
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t l;
        if (len - pos < 4)
            return false;
        memcpy(&l, p + pos, 4);
        pos += 4;
        if (l > len - pos)
            return false;
        bytes_out[i].p = p + pos;
        bytes_out[i].len = l;
        pos += l;
    }
    return true;
}

static ls_err_t decode_chunk(ls_parquet_reader_t *r, const rd_chunk_t *meta, col_t *c,
                             ls_error_t *err)
{
    const ls_parquet_node_t *node = c->node;
    int max_def = node->def_level, max_rep = node->rep_level;
    int64_t start =
        meta->dictionary_page_offset >= 0 ? meta->dictionary_page_offset : meta->data_page_offset;
    size_t chunk_len = (size_t)meta->total_compressed;
    c->raw = ls_malloc(chunk_len);
    ls_err_t rc = r->read_fn(r->ctx, (uint64_t)start, chunk_len, c->raw, err);
    if (rc)
        return rc;
    size_t total = (size_t)meta->num_values;
    if (max_def > 0)
        c->def = ls_malloc(total ? total : 1);
    if (max_rep > 0)
        c->rep = ls_malloc(total ? total : 1);
    size_t pos = 0;
    uint32_t *idx = NULL;
    while (c->n_levels < total) {
        if (pos >= chunk_len) {
            rc = corrupt(err, "column chunk ends before all its values");
            break;
        }
        ls_thrift_reader_t tr;
        ls_thrift_reader_init(&tr, c->raw + pos, chunk_len - pos, err);
        page_header_t h;
        parse_page_header(&tr, &h);
        if (tr.failed) {
            rc = LS_ERR_INVALID_ARGUMENT;
            break;
        }
        pos = (size_t)(tr.p - c->raw);
        if (h.compressed < 0 || (size_t)h.compressed > chunk_len - pos || h.uncompressed < 0 ||
            !ls__pq_plausible_size(meta->codec, c->raw + pos, (size_t)h.compressed,
                                   (size_t)h.uncompressed)) {
            rc = corrupt(err, "page size out of range or inconsistent with its compressed data");
            break;
        }
        const uint8_t *body = c->raw + pos;
        pos += (size_t)h.compressed;
        if (h.type != LS_PQ_PAGE_DATA && h.type != LS_PQ_PAGE_DICTIONARY) {
            if (h.type == LS_PQ_PAGE_DATA_V2) {
                rc = ls_error_set(err, LS_ERR_INVALID_ARGUMENT,
                                  "parquet data page v2 is not supported");
                break;
            }
            continue; /* index pages and unknown kinds carry no values */
        }
        uint8_t *page = ls_malloc(h.uncompressed ? (size_t)h.uncompressed : 1);
        c->pages = ls_realloc(c->pages, (c->n_pages + 1) * sizeof(uint8_t *));
        c->pages[c->n_pages++] = page;
        rc = ls__pq_decompress(&r->codec, meta->codec, body, (size_t)h.compressed, page,
                               (size_t)h.uncompressed, err);
        if (rc)
            break;
        const uint8_t *p = page, *end = page + h.uncompressed;
        if (h.type == LS_PQ_PAGE_DICTIONARY) {
            if (!h.has_dict || c->has_dict || c->n_levels || h.num_values < 0 ||
                (h.encoding != LS_PQ_ENC_PLAIN && h.encoding != LS_PQ_ENC_PLAIN_DICTIONARY) ||
                node->physical == LS_PARQUET_PHYS_BOOLEAN ||
                (size_t)h.num_values > (size_t)h.uncompressed) {
                rc = corrupt(err, "bad dictionary page");
                break;
            }
            size_t n = (size_t)h.num_values;
            if (c->width)
                c->dict_fixed = ls_malloc(n * c->width + 1);
            else
                c->dict_bytes = ls_malloc((n ? n : 1) * sizeof(bytes_t));
            if (!decode_plain(c, p, (size_t)(end - p), n, c->dict_fixed, c->dict_bytes)) {
                rc = corrupt(err, "dictionary values past the end of the page");
                break;
            }
            c->dict_n = n;
            c->has_dict = true;
            continue;
        }
        if (!h.has_data || h.num_values < 0 || (size_t)h.num_values > total - c->n_levels) {
            rc = corrupt(err, "data page value count out of range");
            break;
        }
        size_t n = (size_t)h.num_values;
        for (int pass = 0; pass < 2; pass++) {
            int max = pass == 0 ? max_rep : max_def;
            uint8_t *out = pass == 0 ? c->rep : c->def;
            if (max == 0)
                continue;
            uint32_t len;
            if (end - p < 4 || (memcpy(&len, p, 4), len > (size_t)(end - p - 4))) {
                rc = corrupt(err, "level data past the end of the page");
                break;
            }
            p += 4;
            if (ls__pq_rle_decode_u8(p, len, ls__pq_bit_width((uint32_t)max), out + c->n_levels, n,
                                     (uint32_t)max, err) < 0) {
                rc = LS_ERR_INVALID_ARGUMENT;
                break;
            }
            p += len;
        }
        if (rc)
            break;
        size_t present = n;
        if (max_def > 0) {
            present = 0;
            for (size_t i = 0; i < n; i++)
                present += c->def[c->n_levels + i] == max_def;
        }
        reserve_values(c, present);
        if (h.encoding == LS_PQ_ENC_PLAIN) {
            if (!decode_plain(c, p, (size_t)(end - p), present,
                              c->width ? c->fixed + c->n_values * c->width : NULL,
                              c->width ? NULL : c->bytes + c->n_values)) {
                rc = corrupt(err, "values past the end of the page");
                break;
            }
        } else if (h.encoding == LS_PQ_ENC_RLE_DICTIONARY ||
                   h.encoding == LS_PQ_ENC_PLAIN_DICTIONARY) {
            if (!c->has_dict || (present && (p >= end || c->dict_n == 0))) {
                rc = corrupt(err, "dictionary-encoded page without a dictionary");
                break;
            }
            if (present) {
                int bw = *p++;
                idx = ls_realloc(idx, present * sizeof(uint32_t));
                if (ls__pq_rle_decode_u32(p, (size_t)(end - p), bw, idx, present,
                                          (uint32_t)(c->dict_n - 1), err) < 0) {
                    rc = LS_ERR_INVALID_ARGUMENT;
                    break;
                }
                for (size_t i = 0; i < present; i++) {
                    if (c->width)
                        memcpy(c->fixed + (c->n_values + i) * c->width,
                               c->dict_fixed + (size_t)idx[i] * c->width, c->width);
                    else
                        c->bytes[c->n_values + i] = c->dict_bytes[idx[i]];
                }
            }
        } else {
            rc = ls_error_set(err, LS_ERR_INVALID_ARGUMENT,
                              "parquet column %s uses unsupported encoding %d", node->path,
                              h.encoding);
            break;
        }
        c->n_values += present;
        c->n_levels += n;
    }
    free(idx);
    return rc;
}

/* ---- row assembly ------------------------------------------------------- */

typedef struct {
    ls_parquet_reader_t *r;
    col_t *cols;
    const ls_parquet_visitor_t *v;
    void *ctx;
    ls_error_t *err;
} assemble_t;

static inline int def_at(const col_t *c)
{
    return c->def ? c->def[c->li] : 0;
}

/* One level entry without a value in every selected leaf under node. */
static ls_err_t skip_entry(assemble_t *a, const ls_parquet_node_t *n)
{
    for (int l = n->first_leaf; l < n->first_leaf + n->n_leaves; l++) {
        if (!a->r->leaf_selected[l])
            continue;
        col_t *c = &a->cols[l];
        if (c->li >= c->n_levels)
            return corrupt(a->err, "column ends early");
        if (def_at(c) == c->node->def_level)
            return corrupt(a->err, "levels of sibling columns disagree");
        c->li++;
    }
    return LS_ERR_OK;
}

static ls_err_t emit_node(assemble_t *a, int idx)
{
    const ls_parquet_node_t *n = ls_parquet_schema_node(a->r->schema, idx);
    col_t *c = &a->cols[a->r->probe[idx]];
    if (c->li >= c->n_levels)
        return corrupt(a->err, "column ends early");
    int d = def_at(c);
    ls_err_t rc;
    if (d < n->def_level) {
        if (!n->optional)
            return corrupt(a->err, "missing value for a required field");
        if ((rc = skip_entry(a, n)))
            return rc;
        return a->v->null ? a->v->null(a->ctx, n) : LS_ERR_OK;
    }
    if (n->type == LS_PARQUET_STRUCT) {
        if (a->v->begin_struct && (rc = a->v->begin_struct(a->ctx, n)))
            return rc;
        for (int i = 0; i < n->n_children; i++)
            if (a->r->probe[n->children[i]] >= 0 && (rc = emit_node(a, n->children[i])))
                return rc;
        return a->v->end_struct ? a->v->end_struct(a->ctx, n) : LS_ERR_OK;
    }
    if (n->type == LS_PARQUET_LIST || n->type == LS_PARQUET_MAP) {
        bool map = n->type == LS_PARQUET_MAP;
        int rep_r = n->rep_level + 1;
        size_t count = 0;
        if (d > n->def_level) {
            count = 1;
            for (size_t j = c->li + 1; j < c->n_levels && c->rep[j] >= rep_r; j++)
                count += c->rep[j] == rep_r;
        } else if ((rc = skip_entry(a, n))) {
            return rc;
        }
        ls_err_t (*begin)(void *, const ls_parquet_node_t *, size_t) =
            map ? a->v->begin_map : a->v->begin_list;
        ls_err_t (*end)(void *, const ls_parquet_node_t *) = map ? a->v->end_map : a->v->end_list;
        if (begin && (rc = begin(a->ctx, n, count)))
            return rc;
        for (size_t k = 0; k < count; k++) {
            if (k > 0 && (c->li >= c->n_levels || c->rep[c->li] != rep_r))
                return corrupt(a->err, "repetition levels disagree");
            /* a list's element, or a map entry's key then value (unselected ones skipped) */
            for (int i = 0; i < n->n_children; i++)
                if (a->r->probe[n->children[i]] >= 0 && (rc = emit_node(a, n->children[i])))
                    return rc;
        }
        return end ? end(a->ctx, n) : LS_ERR_OK;
    }
    /* leaf */
    if (d != n->def_level || c->vi >= c->n_values)
        return corrupt(a->err, "definition level and values disagree");
    ls_parquet_value_t val;
    if (c->width)
        ls__pq_decode_value(n, c->fixed + c->vi * c->width, c->width, &val);
    else {
        memset(&val, 0, sizeof(val));
        val.type = n->type;
        val.v.bytes.ptr = c->bytes[c->vi].p;
        val.v.bytes.len = c->bytes[c->vi].len;
    }
    c->li++;
    c->vi++;
    return a->v->value ? a->v->value(a->ctx, n, &val) : LS_ERR_OK;
}

ls_err_t ls_parquet_reader_read_row_group(ls_parquet_reader_t *r, int rg,
                                          const ls_parquet_visitor_t *visitor, void *ctx,
                                          ls_error_t *err)
{
    if (rg < 0 || (size_t)rg >= r->n_rgs)
        return ls_error_set(err, LS_ERR_NOT_FOUND, "parquet file has no row group %d", rg);
    const rd_row_group_t *g = &r->rgs[rg];
    int n_leaves = ls_parquet_schema_leaf_count(r->schema);
    col_t *cols = ls_calloc((size_t)n_leaves, sizeof(col_t));
    ls_err_t rc = LS_ERR_OK;
    for (int l = 0; l < n_leaves && !rc; l++) {
        if (!r->leaf_selected[l])
            continue;
        cols[l].node = ls_parquet_schema_node(r->schema, ls_parquet_schema_leaf_node(r->schema, l));
        cols[l].width = ls__pq_fixed_width(cols[l].node);
        rc = decode_chunk(r, &g->chunks[l], &cols[l], err);
    }
    const ls_parquet_node_t *root = ls_parquet_schema_node(r->schema, 0);
    assemble_t a = {r, cols, visitor, ctx, err};
    for (int64_t row = 0; row < g->num_rows && !rc; row++) {
        for (int i = 0; i < root->n_children && !rc; i++)
            if (r->probe[root->children[i]] >= 0)
                rc = emit_node(&a, root->children[i]);
        if (!rc && visitor->end_row)
            rc = visitor->end_row(ctx);
    }
    for (int l = 0; l < n_leaves && !rc; l++)
        if (r->leaf_selected[l] && cols[l].li != cols[l].n_levels)
            rc = corrupt(err, "column has more values than rows");
    for (int l = 0; l < n_leaves; l++)
        col_free(&cols[l]);
    free(cols);
    return rc;
}

ls_err_t ls_parquet_reader_read(ls_parquet_reader_t *r, ls_parquet_row_group_filter_fn filter,
                                void *filter_ctx, const ls_parquet_visitor_t *visitor, void *ctx,
                                ls_error_t *err)
{
    for (size_t g = 0; g < r->n_rgs; g++) {
        if (filter && !filter(filter_ctx, r, (int)g))
            continue;
        ls_err_t rc = ls_parquet_reader_read_row_group(r, (int)g, visitor, ctx, err);
        if (rc)
            return rc;
    }
    return LS_ERR_OK;
}
