/*
 * Parquet schemas from Iceberg schemas: maps the JSON schema object of Iceberg
 * table metadata (spec "Schemas and Data Types", JSON serialization) to a
 * ls_parquet_schema_t carrying every Iceberg field id (struct fields, list
 * elements) as Parquet field_id, which is what lets Spark, Trino and pyiceberg
 * resolve our columns by id. It must reject what it cannot represent
 * (unknown types, missing ids, non-primitive map keys) with an error naming
 * the field, never guess.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lake/parquet_internal.h"

static bool fail(ls_error_t *err, const char *path, const char *fmt, const char *what)
{
    ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, path, fmt, what);
    return false;
}

static bool add_type(ls_parquet_schema_t *s, int parent, const char *name, int32_t id,
                     bool required, const json_t *type, const char *path, int depth,
                     ls_error_t *err);

static bool add_struct_fields(ls_parquet_schema_t *s, int parent, const json_t *st,
                              const char *path, int depth, ls_error_t *err)
{
    const json_t *fields = json_object_get(st, "fields");
    if (!json_is_array(fields) || json_array_size(fields) == 0)
        return fail(err, path, "iceberg schema: %s needs a non-empty \"fields\" array", "struct");
    size_t i;
    const json_t *f;
    json_array_foreach(fields, i, f)
    {
        char fpath[256];
        snprintf(fpath, sizeof(fpath), "%s.fields[%zu]", path, i);
        const json_t *id = json_object_get(f, "id"), *name = json_object_get(f, "name");
        const json_t *req = json_object_get(f, "required"), *type = json_object_get(f, "type");
        if (!json_is_integer(id) || json_integer_value(id) < 0 ||
            json_integer_value(id) > INT32_MAX || !json_is_string(name) || !json_is_boolean(req) ||
            !type)
            return fail(err, fpath, "iceberg schema: field %s needs id, name, required and type",
                        json_is_string(name) ? json_string_value(name) : "?");
        if (!add_type(s, parent, json_string_value(name), (int32_t)json_integer_value(id),
                      json_is_true(req), type, fpath, depth + 1, err))
            return false;
    }
    return true;
}

static bool add_type(ls_parquet_schema_t *s, int parent, const char *name, int32_t id,
                     bool required, const json_t *type, const char *path, int depth,
                     ls_error_t *err)
{
    if (depth > LS_PARQUET_MAX_DEPTH / 2)
        return fail(err, path, "iceberg schema: %s nested too deeply", name);
    int precision = 0, scale = 0;
    ls_parquet_type_t t;
    if (json_is_string(type)) {
        const char *ts = json_string_value(type);
        static const struct {
            const char *name;
            ls_parquet_type_t type;
        } prims[] = {{"boolean", LS_PARQUET_BOOLEAN},
                     {"int", LS_PARQUET_INT32},
                     {"long", LS_PARQUET_INT64},
                     {"float", LS_PARQUET_FLOAT},
                     {"double", LS_PARQUET_DOUBLE},
                     {"string", LS_PARQUET_STRING},
                     {"binary", LS_PARQUET_BINARY},
                     {"date", LS_PARQUET_DATE},
                     {"time", LS_PARQUET_TIME},
                     {"timestamp", LS_PARQUET_TIMESTAMP},
                     {"timestamptz", LS_PARQUET_TIMESTAMPTZ},
                     {"uuid", LS_PARQUET_UUID}};
        size_t k;
        for (k = 0; k < sizeof(prims) / sizeof(prims[0]); k++)
            if (strcmp(ts, prims[k].name) == 0)
                break;
        char tail;
        if (k < sizeof(prims) / sizeof(prims[0])) {
            t = prims[k].type;
        } else if (sscanf(ts, "decimal(%d, %d%c", &precision, &scale, &tail) == 3 && tail == ')') {
            t = LS_PARQUET_DECIMAL;
        } else if (sscanf(ts, "fixed[%d%c", &precision, &tail) == 2 && tail == ']') {
            t = LS_PARQUET_FIXED;
        } else {
            return fail(err, path, "iceberg schema: unsupported type %s", ts);
        }
        return ls_parquet_schema_add(s, parent, name, t, !required, id, precision, scale, err) > 0;
    }
    const char *kind = json_string_value(json_object_get(type, "type"));
    if (kind && strcmp(kind, "struct") == 0) {
        int idx =
            ls_parquet_schema_add(s, parent, name, LS_PARQUET_STRUCT, !required, id, 0, 0, err);
        return idx > 0 && add_struct_fields(s, idx, type, path, depth, err);
    }
    if (kind && strcmp(kind, "list") == 0) {
        const json_t *eid = json_object_get(type, "element-id");
        const json_t *ereq = json_object_get(type, "element-required");
        const json_t *etype = json_object_get(type, "element");
        if (!json_is_integer(eid) || json_integer_value(eid) < 0 ||
            json_integer_value(eid) > INT32_MAX || !json_is_boolean(ereq) || !etype)
            return fail(err, path,
                        "iceberg schema: list %s needs element-id, element-required and element",
                        name);
        int idx = ls_parquet_schema_add(s, parent, name, LS_PARQUET_LIST, !required, id, 0, 0, err);
        char epath[256];
        snprintf(epath, sizeof(epath), "%s.element", path);
        return idx > 0 && add_type(s, idx, "element", (int32_t)json_integer_value(eid),
                                   json_is_true(ereq), etype, epath, depth + 1, err);
    }
    if (kind && strcmp(kind, "map") == 0) {
        const json_t *kid = json_object_get(type, "key-id"),
                     *vid = json_object_get(type, "value-id");
        const json_t *vreq = json_object_get(type, "value-required");
        const json_t *ktype = json_object_get(type, "key"), *vtype = json_object_get(type, "value");
        if (!json_is_integer(kid) || json_integer_value(kid) < 0 ||
            json_integer_value(kid) > INT32_MAX || !json_is_integer(vid) ||
            json_integer_value(vid) < 0 || json_integer_value(vid) > INT32_MAX ||
            !json_is_boolean(vreq) || !json_is_string(ktype) || !vtype)
            return fail(err, path,
                        "iceberg schema: map %s needs key-id, primitive key, value-id, "
                        "value-required and value",
                        name);
        int idx = ls_parquet_schema_add(s, parent, name, LS_PARQUET_MAP, !required, id, 0, 0, err);
        char kpath[256], vpath[256];
        snprintf(kpath, sizeof(kpath), "%s.key", path);
        snprintf(vpath, sizeof(vpath), "%s.value", path);
        return idx > 0 &&
               add_type(s, idx, "key", (int32_t)json_integer_value(kid), true, ktype, kpath,
                        depth + 1, err) &&
               add_type(s, idx, "value", (int32_t)json_integer_value(vid), json_is_true(vreq),
                        vtype, vpath, depth + 1, err);
    }
    return fail(err, path, "iceberg schema: unsupported type %s", kind ? kind : "(not a string)");
}

ls_parquet_schema_t *ls_parquet_schema_from_iceberg(const char *json_text, size_t len,
                                                    ls_error_t *err)
{
    json_error_t jerr;
    json_t *root = json_loadb(json_text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "iceberg schema: bad JSON at line %d: %s",
                     jerr.line, jerr.text);
        return NULL;
    }
    ls_parquet_schema_t *s = ls_parquet_schema_new();
    const char *kind = json_string_value(json_object_get(root, "type"));
    bool ok = kind && strcmp(kind, "struct") == 0
                  ? add_struct_fields(s, 0, root, "$", 0, err)
                  : fail(err, "$", "iceberg schema: top level must be a %s", "struct");
    json_decref(root);
    if (ok && ls_parquet_schema_finish(s, err) == LS_ERR_OK)
        return s;
    ls_parquet_schema_free(s);
    return NULL;
}
