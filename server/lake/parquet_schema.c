/*
 * Parquet schema trees: building them in code, deriving definition and
 * repetition levels, and converting to and from the flattened SchemaElement
 * list of the footer. Parsing accepts only the shapes lakestream writes
 * (3-level LIST, structs, the primitive/logical type pairs of parquet.h) and
 * must never trust a child count or a nesting depth from the file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "lake/parquet_internal.h"

ls_parquet_schema_t *ls_parquet_schema_new(void)
{
    ls_parquet_schema_t *s = ls_calloc(1, sizeof(*s));
    s->cap_nodes = 16;
    s->nodes = ls_calloc((size_t)s->cap_nodes, sizeof(ls_parquet_node_t));
    ls_parquet_node_t *root = &s->nodes[0];
    root->name = ls_strdup("schema");
    root->type = LS_PARQUET_STRUCT;
    root->field_id = -1;
    root->parent = -1;
    root->leaf = -1;
    s->n_nodes = 1;
    return s;
}

void ls_parquet_schema_free(ls_parquet_schema_t *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->n_nodes; i++) {
        free(s->nodes[i].name);
        free(s->nodes[i].children);
        free(s->nodes[i].path);
    }
    free(s->nodes);
    free(s->leaves);
    free(s);
}

static bool is_group(ls_parquet_type_t t)
{
    return t == LS_PARQUET_STRUCT || t == LS_PARQUET_LIST || t == LS_PARQUET_MAP;
}

/* LIST and MAP add a repeated group ("list", "key_value") between them and their children. */
static bool is_repeated(ls_parquet_type_t t)
{
    return t == LS_PARQUET_LIST || t == LS_PARQUET_MAP;
}

static int node_depth(const ls_parquet_schema_t *s, int i)
{
    int d = 0;
    while (s->nodes[i].parent >= 0) {
        /* a LIST adds the repeated "list" group in the file */
        d += is_repeated(s->nodes[i].type) ? 2 : 1;
        i = s->nodes[i].parent;
    }
    return d;
}

int ls_parquet_schema_add(ls_parquet_schema_t *s, int parent, const char *name,
                          ls_parquet_type_t type, bool optional, int32_t field_id, int precision,
                          int scale, ls_error_t *err)
{
    if (s->finished) {
        ls_error_set(err, LS_ERR_FAILED_PRECONDITION, "schema already finished");
        return -1;
    }
    if (parent < 0 || parent >= s->n_nodes || !is_group(s->nodes[parent].type)) {
        ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "parquet schema: parent %d is not a group",
                     parent);
        return -1;
    }
    if (!name || !*name || (unsigned)type > LS_PARQUET_MAP) {
        ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "parquet schema: bad name or type");
        return -1;
    }
    ls_parquet_node_t *p = &s->nodes[parent];
    if (p->type == LS_PARQUET_LIST && p->n_children > 0) {
        ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "parquet schema: list %s already has an element",
                     p->name);
        return -1;
    }
    if (p->type == LS_PARQUET_MAP &&
        (p->n_children > 1 || strcmp(name, p->n_children ? "value" : "key") != 0 ||
         (p->n_children == 0 && (optional || is_group(type))))) {
        ls_error_set(err, LS_ERR_INVALID_ARGUMENT,
                     "parquet schema: map %s takes a required primitive \"key\", then \"value\"",
                     p->name);
        return -1;
    }
    for (int i = 0; i < p->n_children; i++)
        if (strcmp(s->nodes[p->children[i]].name, name) == 0) {
            ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "parquet schema: duplicate field %s", name);
            return -1;
        }
    if (type == LS_PARQUET_FIXED && (precision < 1 || precision > 65536)) {
        ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "parquet schema: bad fixed(%d) for %s",
                     precision, name);
        return -1;
    }
    if (type == LS_PARQUET_DECIMAL &&
        (precision < 1 || precision > 38 || scale < 0 || scale > precision)) {
        ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "parquet schema: bad decimal(%d,%d) for %s",
                     precision, scale, name);
        return -1;
    }
    if (node_depth(s, parent) + 2 > LS_PARQUET_MAX_DEPTH || s->n_nodes >= LS_PARQUET_MAX_NODES) {
        ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "parquet schema: nested too deeply at %s", name);
        return -1;
    }
    if (s->n_nodes == s->cap_nodes) {
        s->cap_nodes *= 2;
        s->nodes = ls_realloc(s->nodes, (size_t)s->cap_nodes * sizeof(ls_parquet_node_t));
    }
    int idx = s->n_nodes++;
    ls_parquet_node_t *n = &s->nodes[idx];
    memset(n, 0, sizeof(*n));
    n->name = ls_strdup(name);
    n->type = type;
    n->optional = optional;
    n->field_id = field_id < 0 ? -1 : field_id;
    n->precision = type == LS_PARQUET_DECIMAL || type == LS_PARQUET_FIXED ? precision : 0;
    n->scale = type == LS_PARQUET_DECIMAL ? scale : 0;
    n->parent = parent;
    n->leaf = -1;
    p = &s->nodes[parent];
    p->children = ls_realloc(p->children, (size_t)(p->n_children + 1) * sizeof(int));
    p->children[p->n_children++] = idx;
    return idx;
}

static int decimal_bytes(int precision)
{
    /* smallest n with 2^(8n-1) > 10^p */
    static const double log2_10 = 3.32192809488736234787;
    int bits = (int)(precision * log2_10) + 2;
    return (bits + 7) / 8;
}

static void derive_physical(ls_parquet_node_t *n)
{
    n->type_length = 0;
    switch (n->type) {
    case LS_PARQUET_BOOLEAN:
        n->physical = LS_PARQUET_PHYS_BOOLEAN;
        break;
    case LS_PARQUET_INT32:
    case LS_PARQUET_DATE:
        n->physical = LS_PARQUET_PHYS_INT32;
        break;
    case LS_PARQUET_INT64:
    case LS_PARQUET_TIMESTAMP:
    case LS_PARQUET_TIMESTAMPTZ:
    case LS_PARQUET_TIME:
        n->physical = LS_PARQUET_PHYS_INT64;
        break;
    case LS_PARQUET_UUID:
        n->physical = LS_PARQUET_PHYS_FIXED_LEN_BYTE_ARRAY;
        n->type_length = 16;
        break;
    case LS_PARQUET_FIXED:
        n->physical = LS_PARQUET_PHYS_FIXED_LEN_BYTE_ARRAY;
        n->type_length = n->precision;
        break;
    case LS_PARQUET_FLOAT:
        n->physical = LS_PARQUET_PHYS_FLOAT;
        break;
    case LS_PARQUET_DOUBLE:
        n->physical = LS_PARQUET_PHYS_DOUBLE;
        break;
    case LS_PARQUET_STRING:
    case LS_PARQUET_BINARY:
        n->physical = LS_PARQUET_PHYS_BYTE_ARRAY;
        break;
    case LS_PARQUET_DECIMAL:
        if (n->precision <= 9)
            n->physical = LS_PARQUET_PHYS_INT32;
        else if (n->precision <= 18)
            n->physical = LS_PARQUET_PHYS_INT64;
        else {
            n->physical = LS_PARQUET_PHYS_FIXED_LEN_BYTE_ARRAY;
            n->type_length = decimal_bytes(n->precision);
        }
        break;
    default:
        break;
    }
}

static void finish_node(ls_parquet_schema_t *s, int idx, const char *parent_path)
{
    ls_parquet_node_t *n = &s->nodes[idx];
    if (n->parent >= 0) {
        const ls_parquet_node_t *p = &s->nodes[n->parent];
        int def = p->def_level, rep = p->rep_level;
        if (is_repeated(p->type)) {
            def += 1; /* the repeated "list" / "key_value" group */
            rep += 1;
        }
        n->def_level = def + (n->optional ? 1 : 0);
        n->rep_level = rep;
        if (p->type == LS_PARQUET_LIST)
            n->path = ls_asprintf("%s.list.%s", parent_path, n->name);
        else if (p->type == LS_PARQUET_MAP)
            n->path = ls_asprintf("%s.key_value.%s", parent_path, n->name);
        else if (n->parent == 0)
            n->path = ls_strdup(n->name);
        else
            n->path = ls_asprintf("%s.%s", parent_path, n->name);
    } else {
        n->path = ls_strdup("");
    }
    n->first_leaf = s->n_leaves;
    if (!is_group(n->type)) {
        derive_physical(n);
        n->leaf = s->n_leaves;
        s->leaves = ls_realloc(s->leaves, (size_t)(s->n_leaves + 1) * sizeof(int));
        s->leaves[s->n_leaves++] = idx;
    } else {
        for (int i = 0; i < s->nodes[idx].n_children; i++)
            finish_node(s, s->nodes[idx].children[i], s->nodes[idx].path);
    }
    n = &s->nodes[idx];
    n->n_leaves = s->n_leaves - n->first_leaf;
}

ls_err_t ls_parquet_schema_finish(ls_parquet_schema_t *s, ls_error_t *err)
{
    if (s->finished)
        return LS_ERR_OK;
    for (int i = 0; i < s->n_nodes; i++) {
        const ls_parquet_node_t *n = &s->nodes[i];
        if (is_group(n->type) && (n->n_children == 0 || (n->type == LS_PARQUET_MAP &&
                                                         n->n_children != 2)))
            return ls_error_set(err, LS_ERR_INVALID_ARGUMENT,
                                "parquet schema: %s %s is empty or incomplete",
                                n->type == LS_PARQUET_LIST  ? "list"
                                : n->type == LS_PARQUET_MAP ? "map"
                                                            : "struct",
                                n->name);
    }
    finish_node(s, 0, "");
    s->finished = true;
    return LS_ERR_OK;
}

int ls_parquet_schema_node_count(const ls_parquet_schema_t *s)
{
    return s->n_nodes;
}
const ls_parquet_node_t *ls_parquet_schema_node(const ls_parquet_schema_t *s, int i)
{
    return &s->nodes[i];
}
int ls_parquet_schema_leaf_count(const ls_parquet_schema_t *s)
{
    return s->n_leaves;
}
int ls_parquet_schema_leaf_node(const ls_parquet_schema_t *s, int leaf)
{
    return s->leaves[leaf];
}

int ls_parquet_schema_find_field_id(const ls_parquet_schema_t *s, int32_t field_id)
{
    if (field_id < 0)
        return -1;
    for (int i = 1; i < s->n_nodes; i++)
        if (s->nodes[i].field_id == field_id)
            return i;
    return -1;
}

int ls_parquet_schema_find_path(const ls_parquet_schema_t *s, const char *path)
{
    int cur = 0;
    const char *p = path;
    while (*p) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        const ls_parquet_node_t *n = &s->nodes[cur];
        int next = -1;
        for (int i = 0; i < n->n_children; i++) {
            const char *name = s->nodes[n->children[i]].name;
            if (strlen(name) == len && memcmp(name, p, len) == 0) {
                next = n->children[i];
                break;
            }
        }
        if (next < 0)
            return -1;
        cur = next;
        p = dot ? dot + 1 : p + len;
    }
    return cur == 0 ? -1 : cur;
}

size_t ls__pq_fixed_width(const ls_parquet_node_t *leaf)
{
    switch (leaf->physical) {
    case LS_PARQUET_PHYS_BOOLEAN:
        return 1;
    case LS_PARQUET_PHYS_INT32:
    case LS_PARQUET_PHYS_FLOAT:
        return 4;
    case LS_PARQUET_PHYS_INT64:
    case LS_PARQUET_PHYS_DOUBLE:
        return 8;
    case LS_PARQUET_PHYS_FIXED_LEN_BYTE_ARRAY:
        return (size_t)leaf->type_length;
    default:
        return 0;
    }
}

/* ---- SchemaElement list ----------------------------------------------- */

static void write_logical_empty(ls_thrift_writer_t *tw, int16_t which)
{
    ls_thrift_write_field(tw, 10, LS_THRIFT_STRUCT);
    ls_thrift_write_struct_begin(tw);
    ls_thrift_write_field(tw, which, LS_THRIFT_STRUCT);
    ls_thrift_write_struct_begin(tw);
    ls_thrift_write_struct_end(tw);
    ls_thrift_write_struct_end(tw);
}

static void write_node(const ls_parquet_schema_t *s, int idx, ls_thrift_writer_t *tw)
{
    const ls_parquet_node_t *n = &s->nodes[idx];
    int rep = n->optional ? LS_PQ_OPTIONAL : LS_PQ_REQUIRED;
    ls_thrift_write_struct_begin(tw);
    if (!is_group(n->type)) {
        ls_thrift_write_i32_field(tw, 1, n->physical);
        if (n->type_length)
            ls_thrift_write_i32_field(tw, 2, n->type_length);
    }
    if (idx != 0)
        ls_thrift_write_i32_field(tw, 3, rep);
    ls_thrift_write_binary_field(tw, 4, n->name, strlen(n->name));
    if (is_group(n->type))
        ls_thrift_write_i32_field(tw, 5, is_repeated(n->type) ? 1 : n->n_children);
    switch (n->type) {
    case LS_PARQUET_STRING:
        ls_thrift_write_i32_field(tw, 6, LS_PQ_CT_UTF8);
        break;
    case LS_PARQUET_DATE:
        ls_thrift_write_i32_field(tw, 6, LS_PQ_CT_DATE);
        break;
    case LS_PARQUET_TIMESTAMPTZ:
        ls_thrift_write_i32_field(tw, 6, LS_PQ_CT_TIMESTAMP_MICROS);
        break;
    case LS_PARQUET_LIST:
        ls_thrift_write_i32_field(tw, 6, LS_PQ_CT_LIST);
        break;
    case LS_PARQUET_MAP:
        ls_thrift_write_i32_field(tw, 6, LS_PQ_CT_MAP);
        break;
    case LS_PARQUET_DECIMAL:
        ls_thrift_write_i32_field(tw, 6, LS_PQ_CT_DECIMAL);
        ls_thrift_write_i32_field(tw, 7, n->scale);
        ls_thrift_write_i32_field(tw, 8, n->precision);
        break;
    default:
        break;
    }
    if (n->field_id >= 0)
        ls_thrift_write_i32_field(tw, 9, n->field_id);
    switch (n->type) {
    case LS_PARQUET_STRING:
        write_logical_empty(tw, 1);
        break;
    case LS_PARQUET_LIST:
        write_logical_empty(tw, 3);
        break;
    case LS_PARQUET_MAP:
        write_logical_empty(tw, 2);
        break;
    case LS_PARQUET_DATE:
        write_logical_empty(tw, 6);
        break;
    case LS_PARQUET_UUID:
        write_logical_empty(tw, 14);
        break;
    case LS_PARQUET_DECIMAL:
        ls_thrift_write_field(tw, 10, LS_THRIFT_STRUCT);
        ls_thrift_write_struct_begin(tw);
        ls_thrift_write_field(tw, 5, LS_THRIFT_STRUCT);
        ls_thrift_write_struct_begin(tw);
        ls_thrift_write_i32_field(tw, 1, n->scale);
        ls_thrift_write_i32_field(tw, 2, n->precision);
        ls_thrift_write_struct_end(tw);
        ls_thrift_write_struct_end(tw);
        break;
    case LS_PARQUET_TIMESTAMP:
    case LS_PARQUET_TIMESTAMPTZ:
    case LS_PARQUET_TIME: /* TimeType and TimestampType share their shape */
        ls_thrift_write_field(tw, 10, LS_THRIFT_STRUCT);
        ls_thrift_write_struct_begin(tw);
        ls_thrift_write_field(tw, n->type == LS_PARQUET_TIME ? 7 : 8, LS_THRIFT_STRUCT);
        ls_thrift_write_struct_begin(tw);
        ls_thrift_write_bool_field(tw, 1, n->type == LS_PARQUET_TIMESTAMPTZ);
        ls_thrift_write_field(tw, 2, LS_THRIFT_STRUCT); /* TimeUnit */
        ls_thrift_write_struct_begin(tw);
        ls_thrift_write_field(tw, 2, LS_THRIFT_STRUCT); /* MICROS */
        ls_thrift_write_struct_begin(tw);
        ls_thrift_write_struct_end(tw);
        ls_thrift_write_struct_end(tw);
        ls_thrift_write_struct_end(tw);
        ls_thrift_write_struct_end(tw);
        break;
    default:
        break;
    }
    ls_thrift_write_struct_end(tw);
    if (is_repeated(n->type)) {
        bool list = n->type == LS_PARQUET_LIST;
        ls_thrift_write_struct_begin(tw);
        ls_thrift_write_i32_field(tw, 3, LS_PQ_REPEATED);
        ls_thrift_write_binary_field(tw, 4, list ? "list" : "key_value", list ? 4 : 9);
        ls_thrift_write_i32_field(tw, 5, list ? 1 : 2);
        ls_thrift_write_struct_end(tw);
    }
    if (is_group(n->type))
        for (int i = 0; i < n->n_children; i++)
            write_node(s, n->children[i], tw);
}

void ls__pq_schema_write_thrift(const ls_parquet_schema_t *s, ls_thrift_writer_t *tw)
{
    size_t n = 0;
    for (int i = 0; i < s->n_nodes; i++)
        n += is_repeated(s->nodes[i].type) ? 2 : 1;
    ls_thrift_write_list_begin(tw, LS_THRIFT_STRUCT, n);
    write_node(s, 0, tw);
}

typedef struct {
    int type, type_length, repetition, num_children, converted, scale, precision;
    int32_t field_id;
    bool has_field_id;
    const uint8_t *name;
    size_t name_len;
    int logical; /* LogicalType union member id, 0 none */
    bool ts_utc;
    int ts_unit; /* TimeUnit member id */
    int dec_scale, dec_precision;
} element_t;

static void parse_logical(ls_thrift_reader_t *tr, element_t *e)
{
    int16_t id;
    int t;
    ls_thrift_read_struct_begin(tr);
    while (ls_thrift_read_field(tr, &id, &t, NULL)) {
        if (t != LS_THRIFT_STRUCT) {
            ls_thrift_skip(tr, t);
            continue;
        }
        e->logical = id;
        if (id == 5 || id == 7 || id == 8) {
            int16_t id2;
            int t2;
            bool bv;
            ls_thrift_read_struct_begin(tr);
            while (ls_thrift_read_field(tr, &id2, &t2, &bv)) {
                if (id == 5 && id2 == 1 && t2 == LS_THRIFT_I32)
                    e->dec_scale = ls_thrift_read_i32(tr);
                else if (id == 5 && id2 == 2 && t2 == LS_THRIFT_I32)
                    e->dec_precision = ls_thrift_read_i32(tr);
                else if (id != 5 && id2 == 1 && (t2 == LS_THRIFT_TRUE || t2 == LS_THRIFT_FALSE))
                    e->ts_utc = bv;
                else if (id != 5 && id2 == 2 && t2 == LS_THRIFT_STRUCT) {
                    int16_t id3;
                    int t3;
                    ls_thrift_read_struct_begin(tr);
                    while (ls_thrift_read_field(tr, &id3, &t3, NULL)) {
                        e->ts_unit = id3;
                        ls_thrift_skip(tr, t3);
                    }
                    ls_thrift_read_struct_end(tr);
                } else
                    ls_thrift_skip(tr, t2);
            }
            ls_thrift_read_struct_end(tr);
        } else {
            ls_thrift_skip(tr, t);
        }
    }
    ls_thrift_read_struct_end(tr);
}

static void parse_element(ls_thrift_reader_t *tr, element_t *e)
{
    memset(e, 0, sizeof(*e));
    e->type = e->repetition = e->num_children = e->converted = -1;
    int16_t id;
    int t;
    ls_thrift_read_struct_begin(tr);
    while (ls_thrift_read_field(tr, &id, &t, NULL)) {
        if (t == LS_THRIFT_I32 && id >= 1 && id <= 9 && id != 4) {
            int32_t v = ls_thrift_read_i32(tr);
            switch (id) {
            case 1:
                e->type = v;
                break;
            case 2:
                e->type_length = v;
                break;
            case 3:
                e->repetition = v;
                break;
            case 5:
                e->num_children = v;
                break;
            case 6:
                e->converted = v;
                break;
            case 7:
                e->scale = v;
                break;
            case 8:
                e->precision = v;
                break;
            case 9:
                e->field_id = v;
                e->has_field_id = true;
                break;
            }
        } else if (id == 4 && t == LS_THRIFT_BINARY) {
            e->name = ls_thrift_read_binary(tr, &e->name_len);
        } else if (id == 10 && t == LS_THRIFT_STRUCT) {
            parse_logical(tr, e);
        } else {
            ls_thrift_skip(tr, t);
        }
    }
    ls_thrift_read_struct_end(tr);
}

typedef struct {
    const element_t *el;
    int *file_physical, *file_length; /* per node: a decimal's physical type in the file */
    size_t n, pos;
    ls_parquet_schema_t *s;
    ls_error_t *err;
} build_t;

static ls_err_t bad(build_t *b, const char *what, const element_t *e)
{
    return ls_error_set(b->err, LS_ERR_INVALID_ARGUMENT, "unsupported parquet schema: %s (%.*s)",
                        what, e ? (int)(e->name_len > 64 ? 64 : e->name_len) : 0,
                        e && e->name ? (const char *)e->name : "");
}

static ls_err_t build_node(build_t *b, int parent, int depth);

static ls_err_t build_children(build_t *b, int parent, int count, int depth)
{
    for (int i = 0; i < count; i++) {
        ls_err_t rc = build_node(b, parent, depth);
        if (rc)
            return rc;
    }
    return LS_ERR_OK;
}

static ls_err_t build_node(build_t *b, int parent, int depth)
{
    if (depth > LS_PARQUET_MAX_DEPTH)
        return bad(b, "nested too deeply", NULL);
    if (b->pos >= b->n)
        return bad(b, "schema element list ends early", NULL);
    const element_t *e = &b->el[b->pos++];
    if (!e->name || e->name_len == 0 || e->name_len > 1024 || memchr(e->name, 0, e->name_len))
        return bad(b, "bad name", e);
    if (e->repetition != LS_PQ_REQUIRED && e->repetition != LS_PQ_OPTIONAL)
        return bad(b, "repeated field outside a LIST", e);
    char name[1025];
    memcpy(name, e->name, e->name_len);
    name[e->name_len] = 0;
    bool optional = e->repetition == LS_PQ_OPTIONAL;
    int32_t fid = e->has_field_id && e->field_id >= 0 ? e->field_id : -1;
    if (e->num_children >= 0 && e->type < 0) {
        if (e->num_children == 0 || (size_t)e->num_children > b->n - b->pos)
            return bad(b, "bad child count", e);
        if (e->converted == LS_PQ_CT_LIST || e->logical == 3) {
            if (e->num_children != 1 || b->pos >= b->n)
                return bad(b, "LIST needs one child", e);
            const element_t *r = &b->el[b->pos++];
            if (r->repetition != LS_PQ_REPEATED || r->type >= 0 || r->num_children != 1)
                return bad(b, "LIST is not in the 3-level form", e);
            int idx = ls_parquet_schema_add(b->s, parent, name, LS_PARQUET_LIST, optional, fid, 0,
                                            0, b->err);
            if (idx < 0)
                return LS_ERR_INVALID_ARGUMENT;
            return build_children(b, idx, 1, depth + 2);
        }
        if (e->converted == LS_PQ_CT_MAP || e->converted == LS_PQ_CT_MAP_KEY_VALUE ||
            e->logical == 2) {
            if (e->num_children != 1 || b->pos >= b->n)
                return bad(b, "MAP needs one child", e);
            const element_t *r = &b->el[b->pos++];
            if (r->repetition != LS_PQ_REPEATED || r->type >= 0 || r->num_children != 2)
                return bad(b, "MAP is not a repeated key_value group of two", e);
            int idx = ls_parquet_schema_add(b->s, parent, name, LS_PARQUET_MAP, optional, fid, 0,
                                            0, b->err);
            if (idx < 0)
                return LS_ERR_INVALID_ARGUMENT;
            return build_children(b, idx, 2, depth + 2);
        }
        int idx = ls_parquet_schema_add(b->s, parent, name, LS_PARQUET_STRUCT, optional, fid, 0, 0,
                                        b->err);
        if (idx < 0)
            return LS_ERR_INVALID_ARGUMENT;
        return build_children(b, idx, e->num_children, depth + 1);
    }
    ls_parquet_type_t type;
    int precision = 0, scale = 0;
    if (e->converted == LS_PQ_CT_DECIMAL || e->logical == 5) {
        type = LS_PARQUET_DECIMAL;
        precision = e->logical == 5 ? e->dec_precision : e->precision;
        scale = e->logical == 5 ? e->dec_scale : e->scale;
    } else if (e->type == LS_PARQUET_PHYS_BYTE_ARRAY) {
        type = (e->converted == LS_PQ_CT_UTF8 || e->logical == 1) ? LS_PARQUET_STRING
                                                                  : LS_PARQUET_BINARY;
    } else if (e->type == LS_PARQUET_PHYS_INT32) {
        type =
            (e->converted == LS_PQ_CT_DATE || e->logical == 6) ? LS_PARQUET_DATE : LS_PARQUET_INT32;
    } else if (e->type == LS_PARQUET_PHYS_FIXED_LEN_BYTE_ARRAY) {
        if (e->logical == 14 && e->type_length != 16)
            return bad(b, "UUID is not 16 bytes", e);
        if (e->type_length < 1 || e->type_length > 65536)
            return bad(b, "bad fixed length", e);
        type = e->logical == 14 ? LS_PARQUET_UUID : LS_PARQUET_FIXED;
        precision = e->type_length;
    } else if (e->type == LS_PARQUET_PHYS_INT64) {
        if (e->logical == 7 || e->converted == LS_PQ_CT_TIME_MICROS) {
            if (e->logical == 7 && e->ts_unit != 2)
                return bad(b, "time unit other than microseconds", e);
            type = LS_PARQUET_TIME;
        } else if (e->logical == 8) {
            if (e->ts_unit != 2)
                return bad(b, "timestamp unit other than microseconds", e);
            type = e->ts_utc ? LS_PARQUET_TIMESTAMPTZ : LS_PARQUET_TIMESTAMP;
        } else if (e->converted == LS_PQ_CT_TIMESTAMP_MICROS) {
            type = LS_PARQUET_TIMESTAMPTZ;
        } else {
            type = LS_PARQUET_INT64;
        }
    } else if (e->type == LS_PARQUET_PHYS_BOOLEAN) {
        type = LS_PARQUET_BOOLEAN;
    } else if (e->type == LS_PARQUET_PHYS_FLOAT) {
        type = LS_PARQUET_FLOAT;
    } else if (e->type == LS_PARQUET_PHYS_DOUBLE) {
        type = LS_PARQUET_DOUBLE;
    } else {
        return bad(b, "unsupported physical type", e);
    }
    int idx =
        ls_parquet_schema_add(b->s, parent, name, type, optional, fid, precision, scale, b->err);
    if (idx < 0)
        return LS_ERR_INVALID_ARGUMENT;
    ls_parquet_node_t *n = &b->s->nodes[idx];
    if (type == LS_PARQUET_DECIMAL) {
        /* Other writers store decimals in any wide-enough physical type (DuckDB uses 16-byte
         * FIXED for every precision above 18); keep the file's choice. */
        bool fits = (e->type == LS_PARQUET_PHYS_INT32 && precision <= 9) ||
                    (e->type == LS_PARQUET_PHYS_INT64 && precision <= 18) ||
                    (e->type == LS_PARQUET_PHYS_FIXED_LEN_BYTE_ARRAY && e->type_length <= 16 &&
                     e->type_length >= decimal_bytes(precision));
        if (!fits)
            return bad(b, "decimal physical type too small for its precision", e);
        b->file_physical[idx] = e->type;
        b->file_length[idx] = e->type_length;
        return LS_ERR_OK;
    }
    derive_physical(n);
    if ((int)n->physical != e->type)
        return bad(b, "physical type does not match its logical type", e);
    return LS_ERR_OK;
}

ls_parquet_schema_t *ls__pq_schema_from_thrift(ls_thrift_reader_t *tr, size_t n_elements,
                                               ls_error_t *err)
{
    if (n_elements < 2 || n_elements > LS_PARQUET_MAX_NODES) {
        ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "parquet schema: %zu elements", n_elements);
        return NULL;
    }
    element_t *el = ls_calloc(n_elements, sizeof(*el));
    for (size_t i = 0; i < n_elements && !tr->failed; i++)
        parse_element(tr, &el[i]);
    if (tr->failed) {
        free(el);
        return NULL;
    }
    build_t b = {.el = el, .n = n_elements, .pos = 1, .err = err};
    b.file_physical = ls_calloc(n_elements, sizeof(int));
    b.file_length = ls_calloc(n_elements, sizeof(int));
    b.s = ls_parquet_schema_new();
    ls_err_t rc = LS_ERR_OK;
    if (el[0].num_children <= 0 || el[0].type >= 0)
        rc = bad(&b, "bad root", &el[0]);
    else
        rc = build_children(&b, 0, el[0].num_children, 1);
    if (!rc && b.pos != n_elements)
        rc = bad(&b, "extra schema elements", NULL);
    if (!rc)
        rc = ls_parquet_schema_finish(b.s, err);
    for (int i = 0; !rc && i < b.s->n_nodes; i++)
        if (b.s->nodes[i].type == LS_PARQUET_DECIMAL) {
            b.s->nodes[i].physical = (ls_parquet_physical_t)b.file_physical[i];
            b.s->nodes[i].type_length =
                b.file_physical[i] == LS_PARQUET_PHYS_FIXED_LEN_BYTE_ARRAY ? b.file_length[i] : 0;
        }
    free(b.file_physical);
    free(b.file_length);
    free(el);
    if (rc) {
        ls_parquet_schema_free(b.s);
        return NULL;
    }
    return b.s;
}
