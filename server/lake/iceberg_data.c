/*
 * Rows in and out of Iceberg data files, and the REST filter language (see
 * iceberg_data.h). Runs inside work items only.
 */
#include "lake/iceberg_data.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "lake/iceberg_manifest.h"

/* ---------------- writing ---------------- */

typedef struct {
    ls_parquet_value_t *values; /* n partition fields */
    bool *present;
    uint8_t **stores; /* owned copies of byte values */
    size_t *rows;     /* row indexes */
    size_t n_rows, cap_rows;
} group_t;

static ls_err_t put_value(ls_parquet_writer_t *w, const ls_parquet_value_t *v)
{
    switch (v->type) {
    case LS_PARQUET_BOOLEAN:
        return ls_parquet_writer_put_bool(w, v->v.b);
    case LS_PARQUET_INT32:
    case LS_PARQUET_DATE:
        return ls_parquet_writer_put_int32(w, v->v.i32);
    case LS_PARQUET_INT64:
    case LS_PARQUET_TIME:
    case LS_PARQUET_TIMESTAMP:
    case LS_PARQUET_TIMESTAMPTZ:
        return ls_parquet_writer_put_int64(w, v->v.i64);
    case LS_PARQUET_FLOAT:
        return ls_parquet_writer_put_float(w, v->v.f);
    case LS_PARQUET_DOUBLE:
        return ls_parquet_writer_put_double(w, v->v.d);
    case LS_PARQUET_DECIMAL:
        return ls_parquet_writer_put_decimal(w, v->v.dec);
    default:
        return ls_parquet_writer_put_bytes(w, v->v.bytes.ptr, v->v.bytes.len);
    }
}

/* Parses row r's value of column c (NULL json or null → *is_null). */
static ls_err_t row_value(const ls_iceberg_schema_t *schema, json_t *row, size_t r, size_t c,
                          ls_parquet_value_t *v, bool *is_null, uint8_t **store, ls_error_t *err)
{
    const ls_iceberg_field_t *f = &schema->fields[c];
    json_t *j = json_object_get(row, f->name);
    char path[300];
    snprintf(path, sizeof path, "$.rows[%zu].%s", r, f->name);
    *store = NULL;
    if (j == NULL || json_is_null(j)) {
        *is_null = true;
        if (f->required)
            return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, path,
                                     "%s: column \"%s\" is required", path, f->name);
        return LS_ERR_OK;
    }
    *is_null = false;
    return ls_iceberg_value_from_json(&f->type, j, path, v, store, err);
}

static void partition_path(const ls_iceberg_spec_t *spec, const group_t *g, ls_buf_t *out)
{
    for (size_t k = 0; k < spec->n_fields; k++) {
        ls_buf_printf(out, "%s=", spec->fields[k].name);
        if (!g->present[k]) {
            ls_buf_puts(out, "null/");
            continue;
        }
        json_t *j = ls_iceberg_value_to_json(&spec->fields[k].result, &g->values[k]);
        char *s =
            json_is_string(j) ? ls_strdup(json_string_value(j)) : json_dumps(j, JSON_ENCODE_ANY);
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
            if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.')
                ls_buf_append(out, p, 1);
            else
                ls_buf_printf(out, "%%%02X", *p);
        }
        free(s);
        json_decref(j);
        ls_buf_puts(out, "/");
    }
}

static bool same_tuple(const ls_iceberg_spec_t *spec, const group_t *g,
                       const ls_parquet_value_t *vals, const bool *present)
{
    for (size_t k = 0; k < spec->n_fields; k++) {
        if (g->present[k] != present[k])
            return false;
        if (present[k] && ls_iceberg_value_compare(&g->values[k], &vals[k]) != 0)
            return false;
    }
    return true;
}

void ls_iceberg_new_files_free(ls_iceberg_new_file_t *files, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(files[i].path);
        free(files[i].bytes);
        json_decref(files[i].data_file);
    }
    free(files);
}

static void groups_free(group_t *groups, size_t n, size_t nf)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < nf; k++)
            free(groups[i].stores[k]);
        free(groups[i].stores);
        free(groups[i].values);
        free(groups[i].present);
        free(groups[i].rows);
    }
    free(groups);
}

ls_err_t ls_iceberg_write_rows(const ls_iceberg_schema_t *schema, const ls_iceberg_spec_t *spec,
                               json_t *rows, const char *location, size_t max_rows_per_file,
                               ls_iceberg_new_file_t **files, size_t *n_files, ls_error_t *err)
{
    *files = NULL;
    *n_files = 0;
    if (!json_is_array(rows))
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.rows", "rows must be an array");
    size_t nf = spec->n_fields, nr = json_array_size(rows);
    group_t *groups = NULL;
    size_t n_groups = 0;
    ls_err_t rc = LS_ERR_OK;
    ls_parquet_value_t *pvals = ls_calloc(nf + 1, sizeof *pvals);
    bool *present = ls_calloc(nf + 1, sizeof *present);
    /* pass 1: validate every row and group rows by partition tuple */
    for (size_t r = 0; r < nr && rc == LS_ERR_OK; r++) {
        json_t *row = json_array_get(rows, r);
        if (!json_is_object(row)) {
            char path[48];
            snprintf(path, sizeof path, "$.rows[%zu]", r);
            rc =
                ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, path, "%s must be an object", path);
            break;
        }
        const char *key;
        json_t *val;
        json_object_foreach(row, key, val)
        {
            if (ls_iceberg_schema_find_name(schema, key) < 0) {
                char path[300];
                snprintf(path, sizeof path, "$.rows[%zu].%s", r, key);
                rc = ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, path,
                                       "%s: the table has no column \"%s\"", path, key);
                break;
            }
        }
        ls_parquet_value_t *cols = ls_calloc(schema->n_fields, sizeof *cols);
        bool *nulls = ls_calloc(schema->n_fields, sizeof *nulls);
        uint8_t **stores = ls_calloc(schema->n_fields, sizeof *stores);
        for (size_t c = 0; c < schema->n_fields && rc == LS_ERR_OK; c++)
            rc = row_value(schema, row, r, c, &cols[c], &nulls[c], &stores[c], err);
        if (rc == LS_ERR_OK) {
            for (size_t k = 0; k < nf; k++) {
                int src = spec->fields[k].source_index;
                present[k] = !nulls[src] && ls_iceberg_transform_apply(&spec->fields[k].transform,
                                                                       &cols[src], &pvals[k]);
            }
            size_t g = 0;
            while (g < n_groups && !same_tuple(spec, &groups[g], pvals, present))
                g++;
            if (g == n_groups) {
                groups = ls_realloc(groups, (n_groups + 1) * sizeof *groups);
                group_t *ng = &groups[n_groups++];
                memset(ng, 0, sizeof *ng);
                ng->values = ls_calloc(nf + 1, sizeof *ng->values);
                ng->present = ls_calloc(nf + 1, sizeof *ng->present);
                ng->stores = ls_calloc(nf + 1, sizeof *ng->stores);
                for (size_t k = 0; k < nf; k++) {
                    ng->present[k] = present[k];
                    ng->values[k] = pvals[k];
                    if (present[k] &&
                        (pvals[k].type == LS_PARQUET_STRING || pvals[k].type == LS_PARQUET_BINARY ||
                         pvals[k].type == LS_PARQUET_FIXED || pvals[k].type == LS_PARQUET_UUID)) {
                        ng->stores[k] = ls_malloc(pvals[k].v.bytes.len + 1);
                        memcpy(ng->stores[k], pvals[k].v.bytes.ptr, pvals[k].v.bytes.len);
                        ng->values[k].v.bytes.ptr = ng->stores[k];
                    }
                }
            }
            group_t *gr = &groups[g];
            if (gr->n_rows == gr->cap_rows) {
                gr->cap_rows = gr->cap_rows ? gr->cap_rows * 2 : 64;
                gr->rows = ls_realloc(gr->rows, gr->cap_rows * sizeof *gr->rows);
            }
            gr->rows[gr->n_rows++] = r;
        }
        for (size_t c = 0; c < schema->n_fields; c++)
            free(stores[c]);
        free(stores);
        free(cols);
        free(nulls);
    }
    free(pvals);
    free(present);
    if (rc != LS_ERR_OK) {
        groups_free(groups, n_groups, nf);
        return rc;
    }
    /* pass 2: one Parquet file per group, or per max_rows_per_file rows of a group */
    char *schema_text = json_dumps(schema->json, JSON_COMPACT);
    ls_parquet_schema_t *ps = ls_parquet_schema_from_iceberg(schema_text, strlen(schema_text), err);
    if (ps == NULL) {
        free(schema_text);
        groups_free(groups, n_groups, nf);
        return LS_ERR_INVALID_ARGUMENT;
    }
    size_t n_chunks = 0;
    for (size_t g = 0; g < n_groups; g++)
        n_chunks += max_rows_per_file > 0
                        ? (groups[g].n_rows + max_rows_per_file - 1) / max_rows_per_file
                        : 1;
    ls_iceberg_new_file_t *out = ls_calloc(n_chunks + 1, sizeof *out);
    size_t n_out = 0, g = 0, first = 0;
    while (g < n_groups && rc == LS_ERR_OK) {
        size_t last = groups[g].n_rows;
        if (max_rows_per_file > 0 && last - first > max_rows_per_file)
            last = first + max_rows_per_file;
        ls_parquet_writer_t *w = NULL;
        rc = ls_parquet_writer_new(ps, NULL, NULL, NULL, &w, err);
        if (rc != LS_ERR_OK)
            break;
        ls_parquet_writer_set_metadata(w, "iceberg.schema", schema_text, err);
        for (size_t i = first; i < last && rc == LS_ERR_OK; i++) {
            size_t r = groups[g].rows[i];
            json_t *row = json_array_get(rows, r);
            for (size_t c = 0; c < schema->n_fields && rc == LS_ERR_OK; c++) {
                ls_parquet_value_t v;
                bool is_null;
                uint8_t *store = NULL;
                rc = row_value(schema, row, r, c, &v, &is_null, &store, err);
                if (rc == LS_ERR_OK) {
                    rc = is_null ? ls_parquet_writer_put_null(w) : put_value(w, &v);
                    if (rc != LS_ERR_OK)
                        *err = *ls_parquet_writer_error(w);
                }
                free(store);
            }
            if (rc == LS_ERR_OK && (rc = ls_parquet_writer_end_row(w)) != LS_ERR_OK)
                *err = *ls_parquet_writer_error(w);
        }
        if (rc == LS_ERR_OK)
            rc = ls_parquet_writer_close(w, err);
        if (rc == LS_ERR_OK) {
            ls_iceberg_new_file_t *f = &out[n_out++];
            ls_buf_t path = LS_BUF_INIT;
            char uuid[37];
            ls_iceberg_uuid(uuid);
            ls_buf_printf(&path, "%s/data/", location);
            partition_path(spec, &groups[g], &path);
            ls_buf_printf(&path, "%05zu-%s.parquet", n_out - 1, uuid);
            f->path = ls_buf_steal(&path, NULL);
            size_t len;
            const uint8_t *bytes = ls_parquet_writer_buffer(w, &len);
            f->bytes = ls_malloc(len);
            memcpy(f->bytes, bytes, len);
            f->len = len;
            const ls_parquet_value_t **pv = ls_calloc(nf + 1, sizeof *pv);
            for (size_t k = 0; k < nf; k++)
                pv[k] = groups[g].present[k] ? &groups[g].values[k] : NULL;
            f->data_file = ls_iceberg_data_file_new(f->path, ls_parquet_writer_result(w), spec, pv);
            f->records = ls_parquet_writer_result(w)->row_count;
            free(pv);
        }
        ls_parquet_writer_free(w);
        first = last;
        if (first >= groups[g].n_rows) {
            g++;
            first = 0;
        }
    }
    ls_parquet_schema_free(ps);
    free(schema_text);
    groups_free(groups, n_groups, nf);
    if (rc != LS_ERR_OK) {
        ls_iceberg_new_files_free(out, n_out);
        return rc;
    }
    *files = out;
    *n_files = n_out;
    return LS_ERR_OK;
}

/* ---------------- filters ---------------- */

void ls_iceberg_filter_free(ls_iceberg_filter_t *f)
{
    for (size_t i = 0; i < f->n; i++)
        free(f->preds[i].store);
    free(f->preds);
    f->preds = NULL;
    f->n = 0;
}

void ls_iceberg_filter_copy(const ls_iceberg_filter_t *src, ls_iceberg_filter_t *dst)
{
    dst->n = src->n;
    dst->preds = ls_calloc(src->n + 1, sizeof *dst->preds);
    for (size_t i = 0; i < src->n; i++) {
        dst->preds[i] = src->preds[i];
        if (src->preds[i].store != NULL) {
            size_t n = src->preds[i].value.v.bytes.len;
            dst->preds[i].store = ls_malloc(n + 1);
            memcpy(dst->preds[i].store, src->preds[i].store, n);
            dst->preds[i].value.v.bytes.ptr = dst->preds[i].store;
        }
    }
}

static void skip_ws(const char **p)
{
    while (isspace((unsigned char)**p))
        (*p)++;
}

ls_err_t ls_iceberg_filter_parse(const char *text, const ls_iceberg_schema_t *schema,
                                 ls_iceberg_filter_t *out, ls_error_t *err)
{
    memset(out, 0, sizeof *out);
    if (text == NULL || strlen(text) > 4096)
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "filter",
                                 "filter must be at most 4096 characters");
    const char *p = text;
    out->preds = ls_calloc(33, sizeof *out->preds);
    for (;;) {
        skip_ws(&p);
        const char *start = p;
        while (isalnum((unsigned char)*p) || *p == '_')
            p++;
        char name[130];
        size_t nlen = (size_t)(p - start);
        if (nlen == 0 || nlen >= sizeof name) {
            ls_iceberg_filter_free(out);
            return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "filter",
                                     "filter: expected a column name at offset %zu",
                                     (size_t)(start - text));
        }
        memcpy(name, start, nlen);
        name[nlen] = '\0';
        int col = ls_iceberg_schema_find_name(schema, name);
        if (col < 0) {
            ls_iceberg_filter_free(out);
            return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "filter",
                                     "filter: the table has no column \"%s\"", name);
        }
        skip_ws(&p);
        ls_iceberg_op_t op;
        if (strncmp(p, "!=", 2) == 0 || strncmp(p, "<>", 2) == 0)
            op = LS_ICEBERG_NE, p += 2;
        else if (strncmp(p, "<=", 2) == 0)
            op = LS_ICEBERG_LE, p += 2;
        else if (strncmp(p, ">=", 2) == 0)
            op = LS_ICEBERG_GE, p += 2;
        else if (*p == '=')
            op = LS_ICEBERG_EQ, p += 1 + (p[1] == '=');
        else if (*p == '<')
            op = LS_ICEBERG_LT, p++;
        else if (*p == '>')
            op = LS_ICEBERG_GT, p++;
        else {
            ls_iceberg_filter_free(out);
            return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "filter",
                                     "filter: expected =, !=, <, <=, > or >= after \"%s\"", name);
        }
        skip_ws(&p);
        json_t *lit = NULL;
        if (*p == '\'') {
            ls_buf_t b = LS_BUF_INIT;
            p++;
            for (;;) {
                if (*p == '\0') {
                    ls_buf_free(&b);
                    ls_iceberg_filter_free(out);
                    return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "filter",
                                             "filter: unterminated quoted value");
                }
                if (*p == '\'' && p[1] == '\'') {
                    ls_buf_append(&b, "'", 1);
                    p += 2;
                } else if (*p == '\'') {
                    p++;
                    break;
                } else
                    ls_buf_append(&b, p++, 1);
            }
            lit = json_stringn(b.data ? b.data : "", b.len);
            ls_buf_free(&b);
        } else {
            const char *ls = p;
            while (*p && !isspace((unsigned char)*p))
                p++;
            char tok[64];
            size_t tl = (size_t)(p - ls);
            if (tl == 0 || tl >= sizeof tok) {
                ls_iceberg_filter_free(out);
                return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "filter",
                                         "filter: expected a value after the operator on \"%s\"",
                                         name);
            }
            memcpy(tok, ls, tl);
            tok[tl] = '\0';
            char *end;
            if (strcmp(tok, "true") == 0 || strcmp(tok, "false") == 0)
                lit = json_boolean(tok[0] == 't');
            else if ((void)strtoll(tok, &end, 10), *end == '\0')
                lit = json_integer(strtoll(tok, NULL, 10));
            else if ((void)strtod(tok, &end), *end == '\0')
                lit = json_real(strtod(tok, NULL));
            else
                lit = json_string(tok); /* bare dates etc. */
            const ls_iceberg_type_t *ct = &schema->fields[col].type;
            /* a bare number is the literal text for decimals, so 0.1 is exactly 0.1 */
            if (ct->type == LS_PARQUET_DECIMAL && !json_is_boolean(lit)) {
                json_decref(lit);
                lit = json_string(tok);
            }
        }
        if (out->n == 32) {
            json_decref(lit);
            ls_iceberg_filter_free(out);
            return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "filter",
                                     "filter: at most 32 conditions");
        }
        ls_iceberg_predicate_t *pr = &out->preds[out->n];
        char path[160];
        snprintf(path, sizeof path, "filter(%s)", name);
        ls_err_t rc = ls_iceberg_value_from_json(&schema->fields[col].type, lit, path, &pr->value,
                                                 &pr->store, err);
        json_decref(lit);
        if (rc != LS_ERR_OK) {
            ls_iceberg_filter_free(out);
            snprintf(err->path, sizeof err->path, "filter");
            return rc;
        }
        pr->column = col;
        pr->op = op;
        out->n++;
        skip_ws(&p);
        if (*p == '\0')
            return LS_ERR_OK;
        if (strncasecmp(p, "AND", 3) != 0 || !isspace((unsigned char)p[3])) {
            ls_iceberg_filter_free(out);
            return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "filter",
                                     "filter: expected AND at offset %zu", (size_t)(p - text));
        }
        p += 3;
    }
}

static bool eval(ls_iceberg_op_t op, int c)
{
    switch (op) {
    case LS_ICEBERG_EQ:
        return c == 0;
    case LS_ICEBERG_NE:
        return c != 0;
    case LS_ICEBERG_LT:
        return c < 0;
    case LS_ICEBERG_LE:
        return c <= 0;
    case LS_ICEBERG_GT:
        return c > 0;
    default:
        return c >= 0;
    }
}

static bool is_nan(const ls_parquet_value_t *v)
{
    return (v->type == LS_PARQUET_FLOAT && isnan(v->v.f)) ||
           (v->type == LS_PARQUET_DOUBLE && isnan(v->v.d));
}

/* Whether values in [lo, hi] may satisfy "x op v". */
static bool range_may_match(ls_iceberg_op_t op, const ls_parquet_value_t *lo,
                            const ls_parquet_value_t *hi, const ls_parquet_value_t *v)
{
    switch (op) {
    case LS_ICEBERG_EQ:
        return ls_iceberg_value_compare(lo, v) <= 0 && ls_iceberg_value_compare(hi, v) >= 0;
    case LS_ICEBERG_NE:
        return !(ls_iceberg_value_compare(lo, v) == 0 && ls_iceberg_value_compare(hi, v) == 0);
    case LS_ICEBERG_LT:
        return ls_iceberg_value_compare(lo, v) < 0;
    case LS_ICEBERG_LE:
        return ls_iceberg_value_compare(lo, v) <= 0;
    case LS_ICEBERG_GT:
        return ls_iceberg_value_compare(hi, v) > 0;
    default:
        return ls_iceberg_value_compare(hi, v) >= 0;
    }
}

static bool monotonic(const ls_iceberg_transform_t *t)
{
    return t->kind == LS_ICEBERG_IDENTITY || t->kind == LS_ICEBERG_YEAR ||
           t->kind == LS_ICEBERG_MONTH || t->kind == LS_ICEBERG_DAY || t->kind == LS_ICEBERG_HOUR ||
           t->kind == LS_ICEBERG_TRUNCATE;
}

/* The predicate on the partition value of a transform: identity keeps the operator; other
 * monotonic transforms weaken strict comparisons; bucket allows only equality. Returns false
 * when the predicate says nothing about the partition value. */
static bool partition_predicate(const ls_iceberg_partition_field_t *pf,
                                const ls_iceberg_predicate_t *pr, ls_iceberg_op_t *op,
                                ls_parquet_value_t *tv)
{
    if (pr->op == LS_ICEBERG_NE || is_nan(&pr->value) || pf->transform.kind == LS_ICEBERG_VOID)
        return false;
    if (pr->op != LS_ICEBERG_EQ && !monotonic(&pf->transform))
        return false;
    if (!ls_iceberg_transform_apply(&pf->transform, &pr->value, tv))
        return false;
    *op = pr->op;
    if (pf->transform.kind != LS_ICEBERG_IDENTITY) {
        if (*op == LS_ICEBERG_LT)
            *op = LS_ICEBERG_LE;
        if (*op == LS_ICEBERG_GT)
            *op = LS_ICEBERG_GE;
    }
    return true;
}

static json_t *map_get(json_t *arr, int32_t key)
{
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e)
    {
        if (json_integer_value(json_object_get(e, "key")) == key)
            return json_object_get(e, "value");
    }
    return NULL;
}

bool ls_iceberg_filter_may_match_file(const ls_iceberg_filter_t *f,
                                      const ls_iceberg_schema_t *schema,
                                      const ls_iceberg_spec_t *spec, json_t *df)
{
    if (f == NULL)
        return true;
    ls_buf_t a = LS_BUF_INIT, b = LS_BUF_INIT;
    bool ok = true;
    json_t *part = json_object_get(df, "partition");
    for (size_t i = 0; i < f->n && ok; i++) {
        const ls_iceberg_predicate_t *pr = &f->preds[i];
        const ls_iceberg_field_t *col = &schema->fields[pr->column];
        for (size_t k = 0; spec != NULL && k < spec->n_fields && ok; k++) {
            const ls_iceberg_partition_field_t *pf = &spec->fields[k];
            if (pf->source_id != col->id)
                continue;
            json_t *pj = json_object_get(part, pf->name);
            if (pj == NULL)
                continue;
            if (json_is_null(pj)) {
                ok = pf->transform.kind == LS_ICEBERG_VOID; /* null source never matches */
                continue;
            }
            ls_parquet_value_t pv, tv;
            ls_iceberg_op_t op;
            if (!partition_predicate(pf, pr, &op, &tv) ||
                !ls_iceberg_partition_value_get(&pf->result, pj, &pv, &a))
                continue;
            ok = eval(op, ls_iceberg_value_compare(&pv, &tv));
        }
        if (!ok || is_nan(&pr->value))
            break;
        json_t *nulls = map_get(json_object_get(df, "null_value_counts"), col->id);
        json_t *vals = map_get(json_object_get(df, "value_counts"), col->id);
        if (json_is_integer(nulls) && json_is_integer(vals) &&
            json_integer_value(nulls) == json_integer_value(vals)) {
            ok = false; /* every value null: no comparison holds */
            break;
        }
        json_t *lj = map_get(json_object_get(df, "lower_bounds"), col->id);
        json_t *uj = map_get(json_object_get(df, "upper_bounds"), col->id);
        a.len = b.len = 0;
        ls_parquet_value_t lo, hi;
        ls_error_t err;
        if (lj == NULL || uj == NULL || !ls_iceberg_avro_bytes_get(lj, &a) ||
            !ls_iceberg_avro_bytes_get(uj, &b) ||
            ls_iceberg_value_from_bytes(&col->type, (uint8_t *)(a.data ? a.data : ""), a.len, &lo,
                                        &err) != LS_ERR_OK ||
            ls_iceberg_value_from_bytes(&col->type, (uint8_t *)(b.data ? b.data : ""), b.len, &hi,
                                        &err) != LS_ERR_OK)
            continue; /* no usable bounds (or written under an older type) */
        ok = range_may_match(pr->op, &lo, &hi, &pr->value);
    }
    ls_buf_free(&a);
    ls_buf_free(&b);
    return ok;
}

bool ls_iceberg_filter_may_match_manifest(const ls_iceberg_filter_t *f,
                                          const ls_iceberg_spec_t *spec, json_t *mf)
{
    if (f == NULL || spec == NULL)
        return true;
    json_t *parts = json_object_get(mf, "partitions");
    if (!json_is_array(parts) || json_array_size(parts) != spec->n_fields)
        return true;
    ls_buf_t a = LS_BUF_INIT, b = LS_BUF_INIT;
    bool ok = true;
    for (size_t i = 0; i < f->n && ok; i++) {
        const ls_iceberg_predicate_t *pr = &f->preds[i];
        for (size_t k = 0; k < spec->n_fields && ok; k++) {
            const ls_iceberg_partition_field_t *pf = &spec->fields[k];
            if (pf->source_index != pr->column)
                continue;
            json_t *sum = json_array_get(parts, k);
            ls_parquet_value_t tv, lo, hi;
            ls_iceberg_op_t op;
            ls_error_t err;
            a.len = b.len = 0;
            if (!partition_predicate(pf, pr, &op, &tv))
                continue;
            if (json_is_null(json_object_get(sum, "lower_bound")) &&
                json_is_true(json_object_get(sum, "contains_null")) &&
                !json_is_true(json_object_get(sum, "contains_nan"))) {
                ok = false; /* only nulls in this manifest's partitions */
                continue;
            }
            if (!ls_iceberg_avro_bytes_get(json_object_get(sum, "lower_bound"), &a) ||
                !ls_iceberg_avro_bytes_get(json_object_get(sum, "upper_bound"), &b) ||
                ls_iceberg_value_from_bytes(&pf->result, (uint8_t *)(a.data ? a.data : ""), a.len,
                                            &lo, &err) != LS_ERR_OK ||
                ls_iceberg_value_from_bytes(&pf->result, (uint8_t *)(b.data ? b.data : ""), b.len,
                                            &hi, &err) != LS_ERR_OK)
                continue;
            ok = range_may_match(op, &lo, &hi, &tv);
        }
    }
    ls_buf_free(&a);
    ls_buf_free(&b);
    return ok;
}

/* ---------------- reading ---------------- */

typedef struct {
    const ls_iceberg_schema_t *schema;
    const ls_iceberg_filter_t *filter;
    const int *columns;
    size_t n_columns;
    int64_t limit;
    json_t *rows;
    ls_parquet_value_t *vals; /* per schema column, this row */
    bool *set;
    ls_buf_t *bytes; /* per column copy of byte values */
    bool done;
} read_ctx_t;

static ls_err_t on_value(void *arg, const ls_parquet_node_t *node, const ls_parquet_value_t *v)
{
    read_ctx_t *rc = arg;
    int c = ls_iceberg_schema_find_id(rc->schema, node->field_id);
    if (c < 0)
        return LS_ERR_OK;
    const ls_iceberg_type_t *t = &rc->schema->fields[c].type;
    ls_parquet_value_t out = *v;
    /* promotions allowed by schema evolution */
    if (t->type == LS_PARQUET_INT64 && v->type == LS_PARQUET_INT32)
        out.v.i64 = v->v.i32;
    else if (t->type == LS_PARQUET_DOUBLE && v->type == LS_PARQUET_FLOAT)
        out.v.d = v->v.f;
    else if (t->type != v->type)
        return LS_ERR_INVALID_ARGUMENT;
    out.type = t->type;
    if (v->type == LS_PARQUET_STRING || v->type == LS_PARQUET_BINARY ||
        v->type == LS_PARQUET_FIXED || v->type == LS_PARQUET_UUID) {
        rc->bytes[c].len = 0;
        ls_buf_append(&rc->bytes[c], v->v.bytes.ptr, v->v.bytes.len);
        out.v.bytes.ptr = (const uint8_t *)(rc->bytes[c].data ? rc->bytes[c].data : "");
    }
    rc->vals[c] = out;
    rc->set[c] = true;
    return LS_ERR_OK;
}

static ls_err_t on_null(void *arg, const ls_parquet_node_t *node)
{
    (void)arg;
    (void)node;
    return LS_ERR_OK;
}

static ls_err_t on_end_row(void *arg)
{
    read_ctx_t *rc = arg;
    bool pass = true;
    for (size_t i = 0; rc->filter != NULL && i < rc->filter->n && pass; i++) {
        const ls_iceberg_predicate_t *p = &rc->filter->preds[i];
        pass = rc->set[p->column] && !is_nan(&rc->vals[p->column]) &&
               eval(p->op, ls_iceberg_value_compare(&rc->vals[p->column], &p->value));
    }
    if (pass && (rc->limit < 0 || (int64_t)json_array_size(rc->rows) < rc->limit)) {
        json_t *row = json_object();
        size_t n = rc->columns ? rc->n_columns : rc->schema->n_fields;
        for (size_t i = 0; i < n; i++) {
            int c = rc->columns ? rc->columns[i] : (int)i;
            json_object_set_new(
                row, rc->schema->fields[c].name,
                rc->set[c] ? ls_iceberg_value_to_json(&rc->schema->fields[c].type, &rc->vals[c])
                           : json_null());
        }
        json_array_append_new(rc->rows, row);
    }
    memset(rc->set, 0, rc->schema->n_fields * sizeof *rc->set);
    if (rc->limit >= 0 && (int64_t)json_array_size(rc->rows) >= rc->limit) {
        rc->done = true;
        return LS_ERR_FAILED_PRECONDITION; /* stop reading: enough rows */
    }
    return LS_ERR_OK;
}

ls_err_t ls_iceberg_read_rows(const ls_iceberg_schema_t *schema, const uint8_t *file, size_t len,
                              const ls_iceberg_filter_t *filter, const int *columns,
                              size_t n_columns, int64_t limit, json_t *rows, ls_error_t *err)
{
    if (limit >= 0 && (int64_t)json_array_size(rows) >= limit)
        return LS_ERR_OK;
    ls_parquet_reader_t *r = NULL;
    ls_err_t rc = ls_parquet_reader_open_memory(file, len, &r, err);
    if (rc != LS_ERR_OK)
        return rc;
    /* project the wanted columns plus the filter's, by field id, those the file has */
    const ls_parquet_schema_t *fs = ls_parquet_reader_schema(r);
    int32_t *ids = ls_calloc(schema->n_fields + 1, sizeof *ids);
    size_t n_ids = 0;
    bool *want = ls_calloc(schema->n_fields + 1, sizeof *want);
    for (size_t i = 0; i < (columns ? n_columns : schema->n_fields); i++)
        want[columns ? columns[i] : (int)i] = true;
    for (size_t i = 0; filter != NULL && i < filter->n; i++)
        want[filter->preds[i].column] = true;
    for (size_t c = 0; c < schema->n_fields; c++)
        if (want[c] && ls_parquet_schema_find_field_id(fs, schema->fields[c].id) >= 0)
            ids[n_ids++] = schema->fields[c].id;
    free(want);
    rc = ls_parquet_reader_select_field_ids(r, ids, n_ids, err);
    free(ids);
    read_ctx_t ctx = {.schema = schema,
                      .filter = filter,
                      .columns = columns,
                      .n_columns = n_columns,
                      .limit = limit,
                      .rows = rows};
    ctx.vals = ls_calloc(schema->n_fields, sizeof *ctx.vals);
    ctx.set = ls_calloc(schema->n_fields, sizeof *ctx.set);
    ctx.bytes = ls_calloc(schema->n_fields, sizeof *ctx.bytes);
    ls_parquet_visitor_t vis = {.value = on_value, .null = on_null, .end_row = on_end_row};
    if (rc == LS_ERR_OK) {
        if (n_ids == 0) {
            /* no stored column is wanted: rows are all-null but still count */
            for (int64_t i = 0; i < ls_parquet_reader_num_rows(r) && !ctx.done; i++)
                on_end_row(&ctx);
        } else {
            err->message[0] = '\0';
            rc = ls_parquet_reader_read(r, NULL, NULL, &vis, &ctx, err);
            if (ctx.done)
                rc = LS_ERR_OK;
            else if (rc == LS_ERR_INVALID_ARGUMENT && err->message[0] == '\0')
                ls_error_set(err, rc, "data file column type does not match the table schema");
        }
    }
    for (size_t c = 0; c < schema->n_fields; c++)
        ls_buf_free(&ctx.bytes[c]);
    free(ctx.bytes);
    free(ctx.vals);
    free(ctx.set);
    ls_parquet_reader_free(r);
    return rc;
}
