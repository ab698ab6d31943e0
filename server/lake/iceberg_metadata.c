/*
 * Iceberg table metadata documents and their typed views (see
 * iceberg_metadata.h). The document stays a jansson object so a commit
 * changes only what it means to change.
 */
#include "lake/iceberg_metadata.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "core/alloc.h"

static bool valid_name(const char *s)
{
    if (s == NULL || !(isalpha((unsigned char)s[0]) || s[0] == '_') || strlen(s) > 128)
        return false;
    for (const char *p = s; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_')
            return false;
    return true;
}

static int64_t get_int(json_t *o, const char *k, int64_t def)
{
    json_t *v = json_object_get(o, k);
    return json_is_integer(v) ? json_integer_value(v) : def;
}

void ls_iceberg_schema_free(ls_iceberg_schema_t *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n_fields; i++)
        free(s->fields[i].name);
    free(s->fields);
    json_decref(s->json);
    free(s);
}

ls_err_t ls_iceberg_schema_parse(json_t *schema, ls_iceberg_schema_t **out, ls_error_t *err)
{
    json_t *fields = json_object_get(schema, "fields");
    if (!json_is_object(schema) || !json_is_array(fields))
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.schema",
                                 "schema must be an object with a \"fields\" array");
    if (json_array_size(fields) == 0 || json_array_size(fields) > 1000)
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.schema.fields",
                                 "schema needs 1..1000 fields");
    ls_iceberg_schema_t *s = ls_calloc(1, sizeof *s);
    s->schema_id = (int32_t)get_int(schema, "schema-id", 0);
    s->fields = ls_calloc(json_array_size(fields), sizeof *s->fields);
    size_t i;
    json_t *f;
    json_array_foreach(fields, i, f)
    {
        char path[64];
        snprintf(path, sizeof path, "$.schema.fields[%zu]", i);
        json_t *id = json_object_get(f, "id"), *name = json_object_get(f, "name"),
               *type = json_object_get(f, "type"), *req = json_object_get(f, "required");
        ls_iceberg_field_t *fld = &s->fields[s->n_fields];
        if (!json_is_integer(id) || json_integer_value(id) < 1 ||
            json_integer_value(id) > INT32_MAX || !valid_name(json_string_value(name)) ||
            !json_is_boolean(req)) {
            ls_iceberg_schema_free(s);
            return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, path,
                                     "a field needs an \"id\" >= 1, a \"name\" matching "
                                     "[A-Za-z_][A-Za-z0-9_]* and a boolean \"required\"");
        }
        if (!json_is_string(type) ||
            ls_iceberg_type_parse(json_string_value(type), &fld->type, err) != LS_ERR_OK) {
            ls_iceberg_schema_free(s);
            return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, path,
                                     "field \"%s\": lakestream tables hold primitive columns "
                                     "(boolean, int, long, float, double, decimal(P,S), date, "
                                     "time, timestamp, timestamptz, string, uuid, fixed[L], "
                                     "binary)",
                                     json_string_value(name));
        }
        fld->id = (int32_t)json_integer_value(id);
        fld->name = ls_strdup(json_string_value(name));
        fld->required = json_is_true(req);
        s->n_fields++;
        for (size_t k = 0; k + 1 < s->n_fields; k++)
            if (s->fields[k].id == fld->id || strcmp(s->fields[k].name, fld->name) == 0) {
                ls_iceberg_schema_free(s);
                return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, path,
                                         "duplicate field id or name");
            }
    }
    s->json = json_incref(schema);
    *out = s;
    return LS_ERR_OK;
}

int ls_iceberg_schema_find_id(const ls_iceberg_schema_t *s, int32_t id)
{
    for (size_t i = 0; i < s->n_fields; i++)
        if (s->fields[i].id == id)
            return (int)i;
    return -1;
}

int ls_iceberg_schema_find_name(const ls_iceberg_schema_t *s, const char *name)
{
    for (size_t i = 0; i < s->n_fields; i++)
        if (strcmp(s->fields[i].name, name) == 0)
            return (int)i;
    return -1;
}

void ls_iceberg_spec_free(ls_iceberg_spec_t *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n_fields; i++)
        free(s->fields[i].name);
    free(s->fields);
    json_decref(s->json);
    free(s);
}

ls_err_t ls_iceberg_spec_parse(json_t *spec, const ls_iceberg_schema_t *schema,
                               ls_iceberg_spec_t **out, ls_error_t *err)
{
    json_t *fields = json_object_get(spec, "fields");
    if (!json_is_array(fields) || json_array_size(fields) > 100)
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT,
                            "partition spec needs a \"fields\" array (at most 100)");
    ls_iceberg_spec_t *s = ls_calloc(1, sizeof *s);
    s->spec_id = (int32_t)get_int(spec, "spec-id", 0);
    s->fields = ls_calloc(json_array_size(fields) + 1, sizeof *s->fields);
    size_t i;
    json_t *f;
    json_array_foreach(fields, i, f)
    {
        ls_iceberg_partition_field_t *pf = &s->fields[s->n_fields];
        int64_t src = get_int(f, "source-id", -1), fid = get_int(f, "field-id", -1);
        const char *name = json_string_value(json_object_get(f, "name"));
        pf->source_index = ls_iceberg_schema_find_id(schema, (int32_t)src);
        if (pf->source_index < 0 || fid < 1000 || fid > INT32_MAX || !valid_name(name)) {
            ls_iceberg_spec_free(s);
            return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.partition_spec",
                                     "partition field %zu: unknown source column, bad field-id "
                                     "or name",
                                     i);
        }
        if (ls_iceberg_transform_parse(json_string_value(json_object_get(f, "transform")),
                                       &pf->transform, err) != LS_ERR_OK ||
            ls_iceberg_transform_result_type(&pf->transform, &schema->fields[pf->source_index].type,
                                             &pf->result, err) != LS_ERR_OK) {
            ls_iceberg_spec_free(s);
            err->code = LS_ERR_INVALID_ARGUMENT;
            snprintf(err->path, sizeof err->path, "$.partition_spec[%zu]", i);
            return LS_ERR_INVALID_ARGUMENT;
        }
        pf->source_id = (int32_t)src;
        pf->field_id = (int32_t)fid;
        pf->name = ls_strdup(name);
        s->n_fields++;
    }
    s->json = json_incref(spec);
    *out = s;
    return LS_ERR_OK;
}

/* ---- documents ---- */

static const char *default_part_name(const ls_iceberg_transform_t *t)
{
    switch (t->kind) {
    case LS_ICEBERG_IDENTITY:
        return "";
    case LS_ICEBERG_YEAR:
        return "_year";
    case LS_ICEBERG_MONTH:
        return "_month";
    case LS_ICEBERG_DAY:
        return "_day";
    case LS_ICEBERG_HOUR:
        return "_hour";
    case LS_ICEBERG_BUCKET:
        return "_bucket";
    case LS_ICEBERG_TRUNCATE:
        return "_trunc";
    default:
        return "_null";
    }
}

json_t *ls_iceberg_metadata_new(json_t *schema_in, json_t *partition, json_t *properties,
                                const char *uuid, const char *location, int64_t now_ms,
                                ls_error_t *err)
{
    json_t *in_fields = json_object_get(schema_in, "fields");
    if (!json_is_object(schema_in) || !json_is_array(in_fields)) {
        ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.schema",
                          "schema must be an Iceberg schema object with a \"fields\" array");
        return NULL;
    }
    /* Normalise the user's fields: ids assigned in order when absent, required defaults false. */
    json_t *fields = json_array();
    int32_t next_id = 1, max_id = 0;
    size_t i;
    json_t *f;
    json_array_foreach(in_fields, i, f)
    {
        if (!json_is_object(f)) {
            json_decref(fields);
            ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.schema.fields",
                              "fields must be objects");
            return NULL;
        }
        json_t *nf = json_deep_copy(f);
        if (json_object_get(nf, "id") == NULL)
            json_object_set_new(nf, "id", json_integer(next_id));
        if (json_object_get(nf, "required") == NULL)
            json_object_set_new(nf, "required", json_false());
        int64_t id = get_int(nf, "id", 0);
        if (id > max_id && id <= INT32_MAX)
            max_id = (int32_t)id;
        next_id = max_id + 1;
        json_array_append_new(fields, nf);
    }
    json_t *schema = json_pack("{s:s,s:i,s:o}", "type", "struct", "schema-id", 0, "fields", fields);
    ls_iceberg_schema_t *sv = NULL;
    if (ls_iceberg_schema_parse(schema, &sv, err) != LS_ERR_OK) {
        json_decref(schema);
        return NULL;
    }
    json_t *pfields = json_array();
    if (partition != NULL && !json_is_array(partition)) {
        ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.partition_spec",
                          "partition_spec must be an array");
        goto fail;
    }
    json_array_foreach(partition, i, f)
    {
        char path[64];
        snprintf(path, sizeof path, "$.partition_spec[%zu]", i);
        json_t *src = json_object_get(f, "source");
        int idx = -1;
        if (json_is_string(src))
            idx = ls_iceberg_schema_find_name(sv, json_string_value(src));
        else if (json_is_integer(json_object_get(f, "source-id")))
            idx = ls_iceberg_schema_find_id(sv, (int32_t)get_int(f, "source-id", -1));
        if (idx < 0) {
            ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, path,
                              "partition field needs \"source\" naming a column of the schema");
            goto fail;
        }
        const char *tr = json_string_value(json_object_get(f, "transform"));
        ls_iceberg_transform_t t;
        ls_iceberg_type_t rt;
        if (ls_iceberg_transform_parse(tr != NULL ? tr : "identity", &t, err) != LS_ERR_OK ||
            ls_iceberg_transform_result_type(&t, &sv->fields[idx].type, &rt, err) != LS_ERR_OK) {
            snprintf(err->path, sizeof err->path, "%s", path);
            goto fail;
        }
        char tb[24], name[200];
        const char *given = json_string_value(json_object_get(f, "name"));
        snprintf(name, sizeof name, "%s%s", sv->fields[idx].name, default_part_name(&t));
        json_array_append_new(
            pfields, json_pack("{s:s,s:s,s:i,s:i}", "name", given != NULL ? given : name,
                               "transform", ls_iceberg_transform_format(&t, tb, sizeof tb),
                               "source-id", sv->fields[idx].id, "field-id", 1000 + (int)i));
    }
    json_t *props = json_object();
    const char *k;
    json_t *v;
    if (properties != NULL && !json_is_object(properties)) {
        json_decref(props);
        ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.properties",
                          "properties must be an object of strings");
        goto fail;
    }
    json_object_foreach(properties, k, v)
    {
        if (!json_is_string(v)) {
            json_decref(props);
            ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.properties",
                              "property \"%s\" must be a string", k);
            goto fail;
        }
        json_object_set(props, k, v);
    }
    json_t *spec = json_pack("{s:i,s:o}", "spec-id", 0, "fields", pfields);
    pfields = NULL;
    ls_iceberg_spec_t *spv = NULL;
    if (ls_iceberg_spec_parse(spec, sv, &spv, err) != LS_ERR_OK) {
        json_decref(spec);
        json_decref(props);
        goto fail;
    }
    int last_partition_id = 999 + (int)spv->n_fields;
    ls_iceberg_spec_free(spv);
    ls_iceberg_schema_free(sv);
    json_t *meta = json_object();
    json_object_set_new(meta, "format-version", json_integer(2));
    json_object_set_new(meta, "table-uuid", json_string(uuid));
    json_object_set_new(meta, "location", json_string(location));
    json_object_set_new(meta, "last-sequence-number", json_integer(0));
    json_object_set_new(meta, "last-updated-ms", json_integer(now_ms));
    json_object_set_new(meta, "last-column-id", json_integer(max_id));
    json_object_set_new(meta, "current-schema-id", json_integer(0));
    json_object_set_new(meta, "schemas", json_pack("[o]", schema));
    json_object_set_new(meta, "default-spec-id", json_integer(0));
    json_object_set_new(meta, "partition-specs", json_pack("[o]", spec));
    json_object_set_new(meta, "last-partition-id", json_integer(last_partition_id));
    json_object_set_new(meta, "default-sort-order-id", json_integer(0));
    json_object_set_new(meta, "sort-orders", json_pack("[{s:i,s:[]}]", "order-id", 0, "fields"));
    json_object_set_new(meta, "properties", props);
    json_object_set_new(meta, "current-snapshot-id", json_integer(-1));
    json_object_set_new(meta, "refs", json_object());
    json_object_set_new(meta, "snapshots", json_array());
    json_object_set_new(meta, "statistics", json_array());
    json_object_set_new(meta, "snapshot-log", json_array());
    json_object_set_new(meta, "metadata-log", json_array());
    return meta;
fail:
    json_decref(pfields);
    json_decref(schema);
    ls_iceberg_schema_free(sv);
    return NULL;
}

static json_t *find_by_int(json_t *arr, const char *key, int64_t id)
{
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o) if (get_int(o, key, INT64_MIN) == id) return o;
    return NULL;
}

ls_err_t ls_iceberg_metadata_schema(json_t *meta, int32_t schema_id, ls_iceberg_schema_t **out,
                                    ls_error_t *err)
{
    if (schema_id < 0)
        schema_id = (int32_t)get_int(meta, "current-schema-id", 0);
    json_t *s = find_by_int(json_object_get(meta, "schemas"), "schema-id", schema_id);
    if (s == NULL)
        return ls_error_set(err, LS_ERR_NOT_FOUND, "schema %d not in table metadata",
                            (int)schema_id);
    return ls_iceberg_schema_parse(s, out, err);
}

ls_err_t ls_iceberg_metadata_spec(json_t *meta, int32_t spec_id, const ls_iceberg_schema_t *schema,
                                  ls_iceberg_spec_t **out, ls_error_t *err)
{
    if (spec_id < 0)
        spec_id = (int32_t)get_int(meta, "default-spec-id", 0);
    json_t *s = find_by_int(json_object_get(meta, "partition-specs"), "spec-id", spec_id);
    if (s == NULL)
        return ls_error_set(err, LS_ERR_NOT_FOUND, "partition spec %d not in table metadata",
                            (int)spec_id);
    return ls_iceberg_spec_parse(s, schema, out, err);
}

ls_err_t ls_iceberg_metadata_check(json_t *meta, ls_error_t *err)
{
    static const char *ints[] = {"format-version", "last-updated-ms", "last-column-id",
                                 "current-schema-id", "default-spec-id"};
    if (!json_is_object(meta))
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "table metadata is not a JSON object");
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        if (!json_is_integer(json_object_get(meta, ints[i])))
            return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "table metadata lacks \"%s\"",
                                ints[i]);
    int64_t fv = get_int(meta, "format-version", 0);
    if (fv != 1 && fv != 2)
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "unsupported format-version %" PRId64,
                            fv);
    if (!json_is_string(json_object_get(meta, "location")) ||
        !json_is_array(json_object_get(meta, "schemas")) ||
        !json_is_array(json_object_get(meta, "partition-specs")))
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT,
                            "table metadata lacks location, schemas or partition-specs");
    /* Optional parts get their empty forms so the rest of the code needs no NULL checks. */
    static const char *arrays[] = {"snapshots", "snapshot-log", "metadata-log", "sort-orders"};
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++)
        if (!json_is_array(json_object_get(meta, arrays[i])))
            json_object_set_new(meta, arrays[i], json_array());
    if (!json_is_object(json_object_get(meta, "refs")))
        json_object_set_new(meta, "refs", json_object());
    if (!json_is_object(json_object_get(meta, "properties")))
        json_object_set_new(meta, "properties", json_object());
    if (!json_is_integer(json_object_get(meta, "last-sequence-number")))
        json_object_set_new(meta, "last-sequence-number", json_integer(0));
    int64_t cur = get_int(meta, "current-snapshot-id", -1);
    json_t *refs = json_object_get(meta, "refs");
    if (cur >= 0 && json_object_get(refs, "main") == NULL)
        json_object_set_new(
            refs, "main", json_pack("{s:I,s:s}", "snapshot-id", (json_int_t)cur, "type", "branch"));
    /* The typed views (flat primitive schemas) are parsed only by the operations that need
     * them, so tables written by other engines with nested columns still load, list and
     * serve the REST catalog. */
    return LS_ERR_OK;
}

json_t *ls_iceberg_metadata_snapshot(json_t *meta, int64_t snapshot_id)
{
    return find_by_int(json_object_get(meta, "snapshots"), "snapshot-id", snapshot_id);
}

int64_t ls_iceberg_metadata_current_snapshot(json_t *meta)
{
    int64_t id = get_int(meta, "current-snapshot-id", -1);
    return id >= 0 ? id : -1;
}

int64_t ls_iceberg_metadata_ref(json_t *meta, const char *name, const char **type)
{
    json_t *r = json_object_get(json_object_get(meta, "refs"), name);
    if (r == NULL)
        return -1;
    if (type != NULL)
        *type = json_string_value(json_object_get(r, "type"));
    return get_int(r, "snapshot-id", -1);
}

ls_err_t ls_iceberg_metadata_resolve(json_t *meta, const char *ref, int64_t snapshot_id,
                                     int64_t as_of_ms, int64_t *out, ls_error_t *err)
{
    if (ref != NULL) {
        int64_t id = ls_iceberg_metadata_ref(meta, ref, NULL);
        if (id < 0)
            return ls_error_set(err, LS_ERR_NOT_FOUND, "no tag or branch named \"%s\"", ref);
        *out = id;
        return LS_ERR_OK;
    }
    if (snapshot_id >= 0) {
        if (ls_iceberg_metadata_snapshot(meta, snapshot_id) == NULL)
            return ls_error_set(err, LS_ERR_NOT_FOUND, "no snapshot %" PRId64, snapshot_id);
        *out = snapshot_id;
        return LS_ERR_OK;
    }
    if (as_of_ms >= 0) {
        int64_t found = -1;
        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(meta, "snapshot-log"), i, e)
        {
            if (get_int(e, "timestamp-ms", INT64_MAX) <= as_of_ms)
                found = get_int(e, "snapshot-id", -1);
        }
        if (found < 0 || ls_iceberg_metadata_snapshot(meta, found) == NULL)
            return ls_error_set(err, LS_ERR_NOT_FOUND,
                                "no snapshot of main was current at %" PRId64 " ms (or it expired)",
                                as_of_ms);
        *out = found;
        return LS_ERR_OK;
    }
    *out = ls_iceberg_metadata_current_snapshot(meta);
    return LS_ERR_OK;
}

void ls_iceberg_metadata_add_snapshot(json_t *meta, json_t *snapshot, const char *branch)
{
    int64_t id = get_int(snapshot, "snapshot-id", -1);
    int64_t ts = get_int(snapshot, "timestamp-ms", 0);
    json_object_set_new(meta, "last-sequence-number",
                        json_integer(get_int(snapshot, "sequence-number", 0)));
    json_object_set_new(meta, "last-updated-ms", json_integer(ts));
    json_array_append_new(json_object_get(meta, "snapshots"), snapshot);
    json_t *refs = json_object_get(meta, "refs");
    json_object_set_new(refs, branch,
                        json_pack("{s:I,s:s}", "snapshot-id", (json_int_t)id, "type", "branch"));
    if (strcmp(branch, "main") == 0) {
        json_object_set_new(meta, "current-snapshot-id", json_integer(id));
        json_array_append_new(
            json_object_get(meta, "snapshot-log"),
            json_pack("{s:I,s:I}", "timestamp-ms", (json_int_t)ts, "snapshot-id", (json_int_t)id));
    }
}

ls_err_t ls_iceberg_metadata_set_ref(json_t *meta, const char *name, const char *type,
                                     int64_t snapshot_id, bool replace, ls_error_t *err)
{
    bool tag = strcmp(type, "tag") == 0;
    if (name == NULL || name[0] == '\0' || strlen(name) > 255)
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.name",
                                 "ref name must be 1..255 characters");
    if (tag && strcmp(name, "main") == 0)
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.name",
                                 "\"main\" is the main branch and cannot be a tag");
    if (ls_iceberg_metadata_snapshot(meta, snapshot_id) == NULL)
        return ls_error_set_path(err, LS_ERR_NOT_FOUND, "$.snapshot_id",
                                 "no snapshot %" PRId64 " in this table", snapshot_id);
    json_t *refs = json_object_get(meta, "refs");
    json_t *old = json_object_get(refs, name);
    if (old != NULL) {
        const char *ot = json_string_value(json_object_get(old, "type"));
        if (ot == NULL || strcmp(ot, type) != 0)
            return ls_error_set_path(err, LS_ERR_ALREADY_EXISTS, "$.name",
                                     "\"%s\" already names a %s", name, ot ? ot : "ref");
        if (!replace)
            return ls_error_set_path(err, LS_ERR_ALREADY_EXISTS, "$.name",
                                     "%s \"%s\" already exists", type, name);
    }
    json_object_set_new(
        refs, name, json_pack("{s:I,s:s}", "snapshot-id", (json_int_t)snapshot_id, "type", type));
    if (strcmp(name, "main") == 0) {
        json_object_set_new(meta, "current-snapshot-id", json_integer(snapshot_id));
        json_array_append_new(json_object_get(meta, "snapshot-log"),
                              json_pack("{s:I,s:I}", "timestamp-ms",
                                        (json_int_t)get_int(meta, "last-updated-ms", 0),
                                        "snapshot-id", (json_int_t)snapshot_id));
    }
    return LS_ERR_OK;
}

ls_err_t ls_iceberg_metadata_remove_ref(json_t *meta, const char *name, const char *type,
                                        ls_error_t *err)
{
    if (strcmp(name, "main") == 0)
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "the main branch cannot be removed");
    json_t *refs = json_object_get(meta, "refs");
    json_t *old = json_object_get(refs, name);
    const char *ot = json_string_value(json_object_get(old, "type"));
    if (old == NULL || ot == NULL || strcmp(ot, type) != 0)
        return ls_error_set(err, LS_ERR_NOT_FOUND, "no %s named \"%s\"", type, name);
    json_object_del(refs, name);
    return LS_ERR_OK;
}

void ls_iceberg_metadata_log_previous(json_t *meta, const char *prev_location, int64_t prev_ms,
                                      int keep)
{
    json_t *log = json_object_get(meta, "metadata-log");
    json_array_append_new(log, json_pack("{s:I,s:s}", "timestamp-ms", (json_int_t)prev_ms,
                                         "metadata-file", prev_location));
    while (keep > 0 && json_array_size(log) > (size_t)keep)
        json_array_remove(log, 0);
}

json_t *ls_iceberg_metadata_expire(json_t *meta, int64_t older_than_ms, int retain_last)
{
    json_t *snaps = json_object_get(meta, "snapshots");
    size_t n = json_array_size(snaps);
    bool *keep = ls_calloc(n + 1, sizeof *keep);
    size_t i;
    json_t *s;
    json_array_foreach(snaps, i, s) keep[i] = get_int(s, "timestamp-ms", 0) >= older_than_ms;
    /* every ref's target survives: a tag is a promise to keep its snapshot readable */
    const char *name;
    json_t *r;
    json_object_foreach(json_object_get(meta, "refs"), name, r)
    {
        int64_t id = get_int(r, "snapshot-id", -1);
        json_array_foreach(snaps, i, s) if (get_int(s, "snapshot-id", -2) == id) keep[i] = true;
    }
    /* and the newest retain_last snapshots of main's ancestry */
    int64_t id = ls_iceberg_metadata_current_snapshot(meta);
    for (int k = 0; k < retain_last && id >= 0; k++) {
        int64_t next = -1;
        json_array_foreach(snaps, i, s) if (get_int(s, "snapshot-id", -2) == id)
        {
            keep[i] = true;
            next = get_int(s, "parent-snapshot-id", -1);
        }
        id = next;
    }
    json_t *expired = json_array(), *kept = json_array();
    json_array_foreach(snaps, i, s) json_array_append(keep[i] ? kept : expired, s);
    free(keep);
    json_object_set_new(meta, "snapshots", kept);
    json_t *log = json_object_get(meta, "snapshot-log"), *newlog = json_array();
    json_array_foreach(log, i, s)
    {
        if (ls_iceberg_metadata_snapshot(meta, get_int(s, "snapshot-id", -1)) != NULL)
            json_array_append(newlog, s);
    }
    json_object_set_new(meta, "snapshot-log", newlog);
    return expired;
}

static ls_err_t evolve(json_t *meta, json_t **fields_out, ls_error_t *err)
{
    json_t *cur = find_by_int(json_object_get(meta, "schemas"), "schema-id",
                              get_int(meta, "current-schema-id", 0));
    if (cur == NULL)
        return ls_error_set(err, LS_ERR_INTERNAL, "current schema missing");
    *fields_out = json_deep_copy(json_object_get(cur, "fields"));
    return LS_ERR_OK;
}

static void install_schema(json_t *meta, json_t *fields)
{
    int64_t max_sid = 0;
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(meta, "schemas"), i, s)
    {
        if (get_int(s, "schema-id", 0) > max_sid)
            max_sid = get_int(s, "schema-id", 0);
    }
    json_array_append_new(json_object_get(meta, "schemas"),
                          json_pack("{s:s,s:I,s:o}", "type", "struct", "schema-id",
                                    (json_int_t)(max_sid + 1), "fields", fields));
    json_object_set_new(meta, "current-schema-id", json_integer(max_sid + 1));
}

ls_err_t ls_iceberg_metadata_add_column(json_t *meta, const char *name, const char *type,
                                        ls_error_t *err)
{
    ls_iceberg_type_t t;
    if (!valid_name(name))
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.name",
                                 "column name must match [A-Za-z_][A-Za-z0-9_]*");
    if (ls_iceberg_type_parse(type, &t, err) != LS_ERR_OK)
        return LS_ERR_INVALID_ARGUMENT;
    json_t *fields;
    if (evolve(meta, &fields, err) != LS_ERR_OK)
        return err->code;
    size_t i;
    json_t *f;
    json_array_foreach(fields, i, f)
    {
        if (strcmp(json_string_value(json_object_get(f, "name")), name) == 0) {
            json_decref(fields);
            return ls_error_set_path(err, LS_ERR_ALREADY_EXISTS, "$.name",
                                     "column \"%s\" already exists", name);
        }
    }
    int64_t id = get_int(meta, "last-column-id", 0) + 1;
    json_array_append_new(fields, json_pack("{s:I,s:s,s:b,s:s}", "id", (json_int_t)id, "name", name,
                                            "required", 0, "type", type));
    json_object_set_new(meta, "last-column-id", json_integer(id));
    install_schema(meta, fields);
    return LS_ERR_OK;
}

ls_err_t ls_iceberg_metadata_widen_column(json_t *meta, const char *name, const char *type,
                                          ls_error_t *err)
{
    ls_iceberg_type_t to;
    if (ls_iceberg_type_parse(type, &to, err) != LS_ERR_OK)
        return LS_ERR_INVALID_ARGUMENT;
    json_t *fields;
    if (evolve(meta, &fields, err) != LS_ERR_OK)
        return err->code;
    size_t i;
    json_t *f;
    json_array_foreach(fields, i, f)
    {
        if (strcmp(json_string_value(json_object_get(f, "name")), name) != 0)
            continue;
        ls_iceberg_type_t from;
        if (ls_iceberg_type_parse(json_string_value(json_object_get(f, "type")), &from, err) !=
            LS_ERR_OK)
            break;
        bool ok = (from.type == LS_PARQUET_INT32 && to.type == LS_PARQUET_INT64) ||
                  (from.type == LS_PARQUET_FLOAT && to.type == LS_PARQUET_DOUBLE) ||
                  (from.type == LS_PARQUET_DECIMAL && to.type == LS_PARQUET_DECIMAL &&
                   to.scale == from.scale && to.precision > from.precision);
        if (!ok) {
            json_decref(fields);
            return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.type",
                                     "cannot promote %s to %s (allowed: int→long, "
                                     "float→double, decimal(P,S)→decimal(P',S) with P'>P)",
                                     json_string_value(json_object_get(f, "type")), type);
        }
        json_object_set_new(f, "type", json_string(type));
        install_schema(meta, fields);
        return LS_ERR_OK;
    }
    json_decref(fields);
    return ls_error_set_path(err, LS_ERR_NOT_FOUND, "$.name", "no column \"%s\"", name);
}

void ls_iceberg_uuid(char out[37])
{
    uint8_t b[16];
    if (uv_random(NULL, NULL, b, sizeof b, 0, NULL) != 0) {
        uint64_t t = uv_hrtime();
        for (int i = 0; i < 16; i++)
            b[i] = (uint8_t)((t >> (i % 8 * 8)) ^ (uint64_t)rand());
    }
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
}

int64_t ls_iceberg_new_snapshot_id(void)
{
    uint64_t v = 0;
    if (uv_random(NULL, NULL, &v, sizeof v, 0, NULL) != 0)
        v = uv_hrtime() * 2654435761u;
    v &= (1ull << 53) - 1;
    return v == 0 ? 1 : (int64_t)v;
}
