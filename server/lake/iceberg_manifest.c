/*
 * Manifests and manifest lists (see iceberg_manifest.h). The Avro schemas are
 * built here as JSON, field by field with the spec's ids and names, and the
 * container writer stores that text verbatim so outside readers see the
 * field-id attributes.
 */
#include "lake/iceberg_manifest.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avro/container.h"
#include "avro/decoder.h"
#include "core/alloc.h"

json_t *ls_iceberg_avro_bytes(const void *p, size_t n)
{
    const uint8_t *b = p;
    char *s = ls_malloc(n * 2 + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (b[i] < 0x80) {
            s[o++] = (char)b[i];
        } else {
            s[o++] = (char)(0xc0 | (b[i] >> 6));
            s[o++] = (char)(0x80 | (b[i] & 0x3f));
        }
    }
    json_t *j = json_stringn(s, o);
    free(s);
    return j;
}

bool ls_iceberg_avro_bytes_get(const json_t *j, ls_buf_t *out)
{
    if (!json_is_string(j))
        return false;
    const uint8_t *s = (const uint8_t *)json_string_value(j);
    size_t n = json_string_length(j);
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        if (c >= 0x80) {
            if ((c & 0xe0) != 0xc0 || c > 0xc3 || i + 1 >= n)
                return false;
            c = (uint8_t)(((c & 0x1f) << 6) | (s[++i] & 0x3f));
        }
        ls_buf_append(out, &c, 1);
    }
    return true;
}

/* Bytes a decimal of this precision needs as Avro fixed (Iceberg's decimalRequiredBytes). */
static int decimal_required_bytes(int precision)
{
    for (int n = 1; n <= 16; n++) {
        double maxp = floor(log10(pow(2.0, 8.0 * n - 1) - 1));
        if (maxp >= precision)
            return n;
    }
    return 16;
}

static json_t *avro_type(const ls_iceberg_type_t *t, int32_t field_id)
{
    char name[48];
    switch (t->type) {
    case LS_PARQUET_BOOLEAN:
        return json_string("boolean");
    case LS_PARQUET_INT32:
        return json_string("int");
    case LS_PARQUET_INT64:
        return json_string("long");
    case LS_PARQUET_FLOAT:
        return json_string("float");
    case LS_PARQUET_DOUBLE:
        return json_string("double");
    case LS_PARQUET_DATE:
        return json_pack("{s:s,s:s}", "type", "int", "logicalType", "date");
    case LS_PARQUET_TIME:
        return json_pack("{s:s,s:s}", "type", "long", "logicalType", "time-micros");
    case LS_PARQUET_TIMESTAMP:
    case LS_PARQUET_TIMESTAMPTZ:
        return json_pack("{s:s,s:s,s:b}", "type", "long", "logicalType", "timestamp-micros",
                         "adjust-to-utc", t->type == LS_PARQUET_TIMESTAMPTZ);
    case LS_PARQUET_STRING:
        return json_string("string");
    case LS_PARQUET_BINARY:
        return json_string("bytes");
    case LS_PARQUET_UUID:
        snprintf(name, sizeof name, "uuid_fixed_%d", (int)field_id);
        return json_pack("{s:s,s:s,s:i,s:s}", "type", "fixed", "name", name, "size", 16,
                         "logicalType", "uuid");
    case LS_PARQUET_FIXED:
        snprintf(name, sizeof name, "fixed_%d_%d", t->precision, (int)field_id);
        return json_pack("{s:s,s:s,s:i}", "type", "fixed", "name", name, "size", t->precision);
    case LS_PARQUET_DECIMAL:
        snprintf(name, sizeof name, "decimal_%d_%d_%d", t->precision, t->scale, (int)field_id);
        return json_pack("{s:s,s:s,s:i,s:s,s:i,s:i}", "type", "fixed", "name", name, "size",
                         decimal_required_bytes(t->precision), "logicalType", "decimal",
                         "precision", t->precision, "scale", t->scale);
    default:
        return json_string("bytes");
    }
}

static json_t *field(const char *name, json_t *type, int id, bool optional)
{
    json_t *f = json_object();
    json_object_set_new(f, "name", json_string(name));
    if (optional) {
        json_object_set_new(f, "type", json_pack("[s,o]", "null", type));
        json_object_set_new(f, "default", json_null());
    } else {
        json_object_set_new(f, "type", type);
    }
    json_object_set_new(f, "field-id", json_integer(id));
    return f;
}

/* Iceberg map<int, V> in Avro: an array of key/value records tagged logicalType "map". */
static json_t *int_map(const char *name, int id, int key_id, int value_id, const char *vtype)
{
    char rec[32];
    snprintf(rec, sizeof rec, "k%d_v%d", key_id, value_id);
    json_t *kv = json_pack("{s:s,s:s,s:[o,o]}", "type", "record", "name", rec, "fields",
                           field("key", json_string("int"), key_id, false),
                           field("value", json_string(vtype), value_id, false));
    return field(name,
                 json_pack("{s:s,s:o,s:s}", "type", "array", "items", kv, "logicalType", "map"), id,
                 true);
}

static json_t *list_of(const char *name, int id, int element_id, const char *etype)
{
    return field(
        name, json_pack("{s:s,s:s,s:i}", "type", "array", "items", etype, "element-id", element_id),
        id, true);
}

static json_t *manifest_schema(const ls_iceberg_schema_t *schema, const ls_iceberg_spec_t *spec)
{
    json_t *pfields = json_array();
    for (size_t i = 0; i < spec->n_fields; i++) {
        const ls_iceberg_partition_field_t *pf = &spec->fields[i];
        (void)schema;
        json_array_append_new(
            pfields, field(pf->name, avro_type(&pf->result, pf->field_id), pf->field_id, true));
    }
    json_t *partition =
        json_pack("{s:s,s:s,s:o}", "type", "record", "name", "r102", "fields", pfields);
    json_t *df = json_array();
    json_array_append_new(df, field("content", json_string("int"), 134, false));
    json_array_append_new(df, field("file_path", json_string("string"), 100, false));
    json_array_append_new(df, field("file_format", json_string("string"), 101, false));
    json_array_append_new(df, field("partition", partition, 102, false));
    json_array_append_new(df, field("record_count", json_string("long"), 103, false));
    json_array_append_new(df, field("file_size_in_bytes", json_string("long"), 104, false));
    json_array_append_new(df, int_map("column_sizes", 108, 117, 118, "long"));
    json_array_append_new(df, int_map("value_counts", 109, 119, 120, "long"));
    json_array_append_new(df, int_map("null_value_counts", 110, 121, 122, "long"));
    json_array_append_new(df, int_map("nan_value_counts", 137, 138, 139, "long"));
    json_array_append_new(df, int_map("lower_bounds", 125, 126, 127, "bytes"));
    json_array_append_new(df, int_map("upper_bounds", 128, 129, 130, "bytes"));
    json_array_append_new(df, field("key_metadata", json_string("bytes"), 131, true));
    json_array_append_new(df, list_of("split_offsets", 132, 133, "long"));
    json_array_append_new(df, list_of("equality_ids", 135, 136, "int"));
    json_array_append_new(df, field("sort_order_id", json_string("int"), 140, true));
    json_t *data_file = json_pack("{s:s,s:s,s:o}", "type", "record", "name", "r2", "fields", df);
    json_t *entry = json_array();
    json_array_append_new(entry, field("status", json_string("int"), 0, false));
    json_array_append_new(entry, field("snapshot_id", json_string("long"), 1, true));
    json_array_append_new(entry, field("sequence_number", json_string("long"), 3, true));
    json_array_append_new(entry, field("file_sequence_number", json_string("long"), 4, true));
    json_array_append_new(entry, field("data_file", data_file, 2, false));
    return json_pack("{s:s,s:s,s:o}", "type", "record", "name", "manifest_entry", "fields", entry);
}

static json_t *manifest_list_schema(void)
{
    json_t *summary = json_array();
    json_array_append_new(summary, field("contains_null", json_string("boolean"), 509, false));
    json_array_append_new(summary, field("contains_nan", json_string("boolean"), 518, true));
    json_array_append_new(summary, field("lower_bound", json_string("bytes"), 510, true));
    json_array_append_new(summary, field("upper_bound", json_string("bytes"), 511, true));
    json_t *r508 = json_pack("{s:s,s:s,s:o}", "type", "record", "name", "r508", "fields", summary);
    json_t *f = json_array();
    json_array_append_new(f, field("manifest_path", json_string("string"), 500, false));
    json_array_append_new(f, field("manifest_length", json_string("long"), 501, false));
    json_array_append_new(f, field("partition_spec_id", json_string("int"), 502, false));
    json_array_append_new(f, field("content", json_string("int"), 517, false));
    json_array_append_new(f, field("sequence_number", json_string("long"), 515, false));
    json_array_append_new(f, field("min_sequence_number", json_string("long"), 516, false));
    json_array_append_new(f, field("added_snapshot_id", json_string("long"), 503, false));
    json_array_append_new(f, field("added_files_count", json_string("int"), 504, false));
    json_array_append_new(f, field("existing_files_count", json_string("int"), 505, false));
    json_array_append_new(f, field("deleted_files_count", json_string("int"), 506, false));
    json_array_append_new(f, field("added_rows_count", json_string("long"), 512, false));
    json_array_append_new(f, field("existing_rows_count", json_string("long"), 513, false));
    json_array_append_new(f, field("deleted_rows_count", json_string("long"), 514, false));
    json_array_append_new(
        f, field("partitions",
                 json_pack("{s:s,s:o,s:i}", "type", "array", "items", r508, "element-id", 508), 507,
                 true));
    json_array_append_new(f, field("key_metadata", json_string("bytes"), 519, true));
    return json_pack("{s:s,s:s,s:o}", "type", "record", "name", "manifest_file", "fields", f);
}

json_t *ls_iceberg_partition_value_json(const ls_iceberg_type_t *t, const ls_parquet_value_t *v)
{
    switch (t->type) {
    case LS_PARQUET_BOOLEAN:
        return json_boolean(v->v.b);
    case LS_PARQUET_INT32:
    case LS_PARQUET_DATE:
        return json_integer(v->v.i32);
    case LS_PARQUET_INT64:
    case LS_PARQUET_TIME:
    case LS_PARQUET_TIMESTAMP:
    case LS_PARQUET_TIMESTAMPTZ:
        return json_integer(v->v.i64);
    case LS_PARQUET_FLOAT:
        return isnan(v->v.f) ? json_string("NaN") : json_real(v->v.f);
    case LS_PARQUET_DOUBLE:
        return isnan(v->v.d) ? json_string("NaN") : json_real(v->v.d);
    case LS_PARQUET_STRING:
        return json_stringn((const char *)v->v.bytes.ptr, v->v.bytes.len);
    case LS_PARQUET_DECIMAL: {
        /* fixed of the required size: sign-extended big-endian two's complement */
        int n = decimal_required_bytes(t->precision);
        uint8_t b[16];
        unsigned __int128 u = (unsigned __int128)v->v.dec;
        for (int i = n - 1; i >= 0; i--) {
            b[i] = (uint8_t)u;
            u >>= 8;
        }
        return ls_iceberg_avro_bytes(b, (size_t)n);
    }
    default:
        return ls_iceberg_avro_bytes(v->v.bytes.ptr, v->v.bytes.len);
    }
}

bool ls_iceberg_partition_value_get(const ls_iceberg_type_t *t, const json_t *j,
                                    ls_parquet_value_t *out, ls_buf_t *store)
{
    memset(out, 0, sizeof *out);
    out->type = t->type;
    store->len = 0;
    switch (t->type) {
    case LS_PARQUET_BOOLEAN:
        out->v.b = json_is_true(j);
        return json_is_boolean(j);
    case LS_PARQUET_INT32:
    case LS_PARQUET_DATE:
        out->v.i32 = (int32_t)json_integer_value(j);
        return json_is_integer(j);
    case LS_PARQUET_INT64:
    case LS_PARQUET_TIME:
    case LS_PARQUET_TIMESTAMP:
    case LS_PARQUET_TIMESTAMPTZ:
        out->v.i64 = json_integer_value(j);
        return json_is_integer(j);
    case LS_PARQUET_FLOAT:
        out->v.f = json_is_number(j) ? (float)json_number_value(j) : NAN;
        return true;
    case LS_PARQUET_DOUBLE:
        out->v.d = json_is_number(j) ? json_number_value(j) : NAN;
        return true;
    case LS_PARQUET_STRING:
        if (!json_is_string(j))
            return false;
        ls_buf_append(store, json_string_value(j), json_string_length(j));
        out->v.bytes.ptr = (const uint8_t *)(store->data ? store->data : "");
        out->v.bytes.len = store->len;
        return true;
    case LS_PARQUET_DECIMAL: {
        if (!ls_iceberg_avro_bytes_get(j, store) || store->len < 1 || store->len > 16)
            return false;
        ls_error_t err;
        return ls_iceberg_value_from_bytes(t, (const uint8_t *)store->data, store->len, out,
                                           &err) == LS_ERR_OK;
    }
    default:
        if (!ls_iceberg_avro_bytes_get(j, store))
            return false;
        out->v.bytes.ptr = (const uint8_t *)(store->data ? store->data : "");
        out->v.bytes.len = store->len;
        return true;
    }
}

static json_t *kv(int32_t key, json_t *value)
{
    return json_pack("{s:i,s:o}", "key", (int)key, "value", value);
}

json_t *ls_iceberg_data_file_new(const char *path, const ls_parquet_file_result_t *r,
                                 const ls_iceberg_spec_t *spec,
                                 const ls_parquet_value_t *const *partition)
{
    json_t *part = json_object();
    for (size_t i = 0; i < spec->n_fields; i++)
        json_object_set_new(part, spec->fields[i].name,
                            partition[i] != NULL ? ls_iceberg_partition_value_json(
                                                       &spec->fields[i].result, partition[i])
                                                 : json_null());
    json_t *sizes = json_array(), *values = json_array(), *nulls = json_array(),
           *nans = json_array(), *lower = json_array(), *upper = json_array();
    ls_buf_t b = LS_BUF_INIT;
    for (int c = 0; c < r->column_count; c++) {
        const ls_parquet_column_result_t *col = &r->columns[c];
        if (col->field_id < 0)
            continue;
        json_array_append_new(sizes, kv(col->field_id, json_integer(col->compressed_size)));
        json_array_append_new(values, kv(col->field_id, json_integer(col->value_count)));
        json_array_append_new(nulls, kv(col->field_id, json_integer(col->null_count)));
        if (col->type == LS_PARQUET_FLOAT || col->type == LS_PARQUET_DOUBLE)
            json_array_append_new(nans, kv(col->field_id, json_integer(col->nan_count)));
        if (col->has_min_max) {
            b.len = 0;
            ls_iceberg_value_to_bytes(&col->min, &b);
            json_array_append_new(lower, kv(col->field_id, ls_iceberg_avro_bytes(b.data, b.len)));
            b.len = 0;
            ls_iceberg_value_to_bytes(&col->max, &b);
            json_array_append_new(upper, kv(col->field_id, ls_iceberg_avro_bytes(b.data, b.len)));
        }
    }
    ls_buf_free(&b);
    json_t *df = json_object();
    json_object_set_new(df, "content", json_integer(0));
    json_object_set_new(df, "file_path", json_string(path));
    json_object_set_new(df, "file_format", json_string("PARQUET"));
    json_object_set_new(df, "partition", part);
    json_object_set_new(df, "record_count", json_integer(r->row_count));
    json_object_set_new(df, "file_size_in_bytes", json_integer((json_int_t)r->file_size));
    json_object_set_new(df, "column_sizes", sizes);
    json_object_set_new(df, "value_counts", values);
    json_object_set_new(df, "null_value_counts", nulls);
    json_object_set_new(df, "nan_value_counts", nans);
    json_object_set_new(df, "lower_bounds", lower);
    json_object_set_new(df, "upper_bounds", upper);
    json_object_set_new(df, "key_metadata", json_null());
    json_object_set_new(df, "split_offsets", json_null());
    json_object_set_new(df, "equality_ids", json_null());
    json_object_set_new(df, "sort_order_id", json_integer(0));
    return df;
}

static ls_err_t write_container(json_t *schema_json, const char *const *keys,
                                const char *const *values, size_t n_meta, json_t *records,
                                uint8_t **out, size_t *out_len, ls_error_t *err)
{
    ls_avro_schema_t *schema = NULL;
    ls_err_t rc = ls_avro_schema_parse_json(schema_json, NULL, &schema, err);
    if (rc != LS_ERR_OK)
        return rc;
    ls_avro_container_options_t opts = {.codec = LS_AVRO_CODEC_DEFLATE,
                                        .meta_keys = keys,
                                        .meta_values = values,
                                        .meta_count = n_meta};
    ls_avro_container_writer_t *w = NULL;
    rc = ls_avro_container_writer_new(schema, &opts, &w, err);
    size_t i;
    json_t *rec;
    if (rc == LS_ERR_OK) {
        json_array_foreach(records, i, rec)
        {
            rc = ls_avro_container_writer_append_json(w, rec, err);
            if (rc != LS_ERR_OK)
                break;
        }
        if (rc == LS_ERR_OK)
            rc = ls_avro_container_writer_finish(w, out, out_len, err);
        else
            ls_avro_container_writer_free(w);
    }
    ls_avro_schema_free(schema);
    return rc;
}

ls_err_t ls_iceberg_manifest_write(const ls_iceberg_schema_t *schema, const ls_iceberg_spec_t *spec,
                                   json_t *entries, uint8_t **out, size_t *out_len, ls_error_t *err)
{
    json_t *avro = manifest_schema(schema, spec);
    char *schema_text = json_dumps(schema->json, JSON_COMPACT);
    char *spec_text = json_dumps(json_object_get(spec->json, "fields"), JSON_COMPACT);
    char schema_id[24], spec_id[24];
    snprintf(schema_id, sizeof schema_id, "%d", (int)schema->schema_id);
    snprintf(spec_id, sizeof spec_id, "%d", (int)spec->spec_id);
    const char *keys[] = {"schema",         "schema-id", "partition-spec", "partition-spec-id",
                          "format-version", "content"};
    const char *values[] = {schema_text, schema_id, spec_text, spec_id, "2", "data"};
    ls_err_t rc = write_container(avro, keys, values, 6, entries, out, out_len, err);
    free(schema_text);
    free(spec_text);
    json_decref(avro);
    return rc;
}

json_t *ls_iceberg_manifest_file_new(const char *path, size_t length, const ls_iceberg_spec_t *spec,
                                     json_t *entries, int64_t snapshot_id, int64_t sequence_number)
{
    int64_t files[3] = {0, 0, 0}, rows[3] = {0, 0, 0};
    int64_t min_seq = sequence_number;
    size_t nf = spec->n_fields;
    bool *has = ls_calloc(nf + 1, sizeof *has), *cnull = ls_calloc(nf + 1, sizeof *cnull),
         *cnan = ls_calloc(nf + 1, sizeof *cnan);
    ls_buf_t *lo = ls_calloc(nf + 1, sizeof *lo), *hi = ls_calloc(nf + 1, sizeof *hi);
    ls_buf_t store = LS_BUF_INIT, cur = LS_BUF_INIT;
    size_t i;
    json_t *e;
    json_array_foreach(entries, i, e)
    {
        int st = (int)json_integer_value(json_object_get(e, "status"));
        if (st < 0 || st > 2)
            continue;
        json_t *df = json_object_get(e, "data_file");
        files[st]++;
        rows[st] += json_integer_value(json_object_get(df, "record_count"));
        json_t *seq = json_object_get(e, "sequence_number");
        if (json_is_integer(seq) && json_integer_value(seq) < min_seq)
            min_seq = json_integer_value(seq);
        if (st == LS_ICEBERG_DELETED)
            continue;
        json_t *part = json_object_get(df, "partition");
        for (size_t k = 0; k < nf; k++) {
            const ls_iceberg_type_t *t = &spec->fields[k].result;
            json_t *pv = json_object_get(part, spec->fields[k].name);
            ls_parquet_value_t v, old;
            if (pv == NULL || json_is_null(pv)) {
                cnull[k] = true;
                continue;
            }
            if (!ls_iceberg_partition_value_get(t, pv, &v, &store))
                continue;
            if ((t->type == LS_PARQUET_FLOAT && isnan(v.v.f)) ||
                (t->type == LS_PARQUET_DOUBLE && isnan(v.v.d))) {
                cnan[k] = true;
                continue;
            }
            cur.len = 0;
            ls_iceberg_value_to_bytes(&v, &cur);
            ls_error_t err;
            if (!has[k] || (ls_iceberg_value_from_bytes(t, (uint8_t *)lo[k].data, lo[k].len, &old,
                                                        &err) == LS_ERR_OK &&
                            ls_iceberg_value_compare(&v, &old) < 0)) {
                lo[k].len = 0;
                ls_buf_append(&lo[k], cur.data, cur.len);
            }
            if (!has[k] || (ls_iceberg_value_from_bytes(t, (uint8_t *)hi[k].data, hi[k].len, &old,
                                                        &err) == LS_ERR_OK &&
                            ls_iceberg_value_compare(&v, &old) > 0)) {
                hi[k].len = 0;
                ls_buf_append(&hi[k], cur.data, cur.len);
            }
            has[k] = true;
        }
    }
    json_t *parts = json_array();
    for (size_t k = 0; k < nf; k++) {
        bool floating = spec->fields[k].result.type == LS_PARQUET_FLOAT ||
                        spec->fields[k].result.type == LS_PARQUET_DOUBLE;
        json_array_append_new(
            parts, json_pack("{s:b,s:o,s:o,s:o}", "contains_null", cnull[k], "contains_nan",
                             floating ? json_boolean(cnan[k]) : json_null(), "lower_bound",
                             has[k] ? ls_iceberg_avro_bytes(lo[k].data, lo[k].len) : json_null(),
                             "upper_bound",
                             has[k] ? ls_iceberg_avro_bytes(hi[k].data, hi[k].len) : json_null()));
        ls_buf_free(&lo[k]);
        ls_buf_free(&hi[k]);
    }
    free(has);
    free(cnull);
    free(cnan);
    free(lo);
    free(hi);
    ls_buf_free(&store);
    ls_buf_free(&cur);
    json_t *m = json_object();
    json_object_set_new(m, "manifest_path", json_string(path));
    json_object_set_new(m, "manifest_length", json_integer((json_int_t)length));
    json_object_set_new(m, "partition_spec_id", json_integer(spec->spec_id));
    json_object_set_new(m, "content", json_integer(0));
    json_object_set_new(m, "sequence_number", json_integer(sequence_number));
    json_object_set_new(m, "min_sequence_number", json_integer(min_seq));
    json_object_set_new(m, "added_snapshot_id", json_integer(snapshot_id));
    json_object_set_new(m, "added_files_count", json_integer(files[LS_ICEBERG_ADDED]));
    json_object_set_new(m, "existing_files_count", json_integer(files[LS_ICEBERG_EXISTING]));
    json_object_set_new(m, "deleted_files_count", json_integer(files[LS_ICEBERG_DELETED]));
    json_object_set_new(m, "added_rows_count", json_integer(rows[LS_ICEBERG_ADDED]));
    json_object_set_new(m, "existing_rows_count", json_integer(rows[LS_ICEBERG_EXISTING]));
    json_object_set_new(m, "deleted_rows_count", json_integer(rows[LS_ICEBERG_DELETED]));
    json_object_set_new(m, "partitions", parts);
    json_object_set_new(m, "key_metadata", json_null());
    return m;
}

ls_err_t ls_iceberg_manifest_list_write(json_t *manifests, int64_t snapshot_id, int64_t parent_id,
                                        int64_t sequence_number, uint8_t **out, size_t *out_len,
                                        ls_error_t *err)
{
    json_t *avro = manifest_list_schema();
    char sid[24], pid[24], seq[24];
    snprintf(sid, sizeof sid, "%" PRId64, snapshot_id);
    if (parent_id >= 0)
        snprintf(pid, sizeof pid, "%" PRId64, parent_id);
    else
        snprintf(pid, sizeof pid, "null");
    snprintf(seq, sizeof seq, "%" PRId64, sequence_number);
    const char *keys[] = {"snapshot-id", "parent-snapshot-id", "sequence-number", "format-version"};
    const char *values[] = {sid, pid, seq, "2"};
    ls_err_t rc = write_container(avro, keys, values, 4, manifests, out, out_len, err);
    json_decref(avro);
    return rc;
}

ls_err_t ls_iceberg_avro_read_all(const uint8_t *data, size_t len, size_t max_records, json_t **out,
                                  ls_error_t *err)
{
    ls_avro_container_reader_t *r = NULL;
    ls_err_t rc = ls_avro_container_reader_open(data, len, NULL, &r, err);
    if (rc != LS_ERR_OK)
        return rc;
    ls_avro_json_decoder_t *d = NULL;
    rc = ls_avro_json_decoder_new(ls_avro_schema_root(ls_avro_container_reader_schema(r)), NULL, &d,
                                  err);
    json_t *arr = json_array();
    while (rc == LS_ERR_OK) {
        const uint8_t *rec;
        size_t n;
        rc = ls_avro_container_reader_next(r, &rec, &n, err);
        if (rc != LS_ERR_OK || rec == NULL)
            break;
        if (json_array_size(arr) >= max_records) {
            rc = ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "more than %zu records in a manifest",
                              max_records);
            break;
        }
        json_t *j = NULL;
        rc = ls_avro_json_decode(d, rec, n, &j, err);
        if (rc == LS_ERR_OK)
            json_array_append_new(arr, j);
    }
    ls_avro_json_decoder_free(d);
    ls_avro_container_reader_free(r);
    if (rc != LS_ERR_OK) {
        json_decref(arr);
        return rc;
    }
    *out = arr;
    return LS_ERR_OK;
}
