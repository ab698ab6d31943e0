/*
 * The tables service (see tables.h): request validation and answer shaping
 * over the Iceberg catalog. No table state is cached here.
 */
#include "services/tables.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/json.h"
#include "core/metrics.h"
#include "lake/iceberg_value.h"

struct ls_tables {
    ls_iceberg_catalog_t *catalog;
    void (*close_cb)(void *);
    void *close_arg;
};

typedef enum {
    SHAPE_RAW,
    SHAPE_LIST,
    SHAPE_DETAIL,
    SHAPE_SNAPSHOTS,
    SHAPE_REFS,
    SHAPE_REF
} shape_t;

typedef struct {
    ls_tables_t *t;
    shape_t shape;
    char *full, *type;
    ls_tables_cb cb;
    void *arg;
} call_t;

ls_err_t ls_tables_open(uv_loop_t *loop, ls_pg_t *pg, const char *warehouse,
                        const char *catalog_name, ls_tables_t **out, ls_error_t *err)
{
    ls_tables_t *t = ls_calloc(1, sizeof *t);
    if (ls_iceberg_catalog_open(loop, pg, warehouse, catalog_name, &t->catalog, err) != LS_ERR_OK) {
        free(t);
        return err->code;
    }
    *out = t;
    return LS_ERR_OK;
}

static void on_catalog_closed(void *arg)
{
    ls_tables_t *t = arg;
    void (*cb)(void *) = t->close_cb;
    void *a = t->close_arg;
    free(t);
    if (cb != NULL)
        cb(a);
}

void ls_tables_close(ls_tables_t *t, void (*cb)(void *arg), void *arg)
{
    t->close_cb = cb;
    t->close_arg = arg;
    ls_iceberg_catalog_close(t->catalog, on_catalog_closed, t);
}

ls_iceberg_catalog_t *ls_tables_catalog(ls_tables_t *t)
{
    return t->catalog;
}

void ls_tables_collect_metrics(void *arg, ls_buf_t *out)
{
    ls_tables_t *t = arg;
    ls_iceberg_stats_t s;
    ls_iceberg_catalog_stats(t->catalog, &s);
    static const struct {
        const char *name, *help;
        size_t off;
        const char *type;
    } rows[] = {
        {"lakestream_iceberg_commits_total", "Iceberg commits that won their catalog swap",
         offsetof(ls_iceberg_stats_t, commits), "counter"},
        {"lakestream_iceberg_commit_conflicts_total",
         "Commits that lost the compare-and-swap and were re-applied",
         offsetof(ls_iceberg_stats_t, conflicts), "counter"},
        {"lakestream_iceberg_commit_failures_total", "Table changes that failed",
         offsetof(ls_iceberg_stats_t, commit_failures), "counter"},
        {"lakestream_iceberg_data_files_written_total", "Parquet data files uploaded",
         offsetof(ls_iceberg_stats_t, data_files_written), "counter"},
        {"lakestream_iceberg_data_bytes_written_total", "Bytes of Parquet data files uploaded",
         offsetof(ls_iceberg_stats_t, data_bytes_written), "counter"},
        {"lakestream_iceberg_rows_written_total", "Rows appended to tables",
         offsetof(ls_iceberg_stats_t, rows_written), "counter"},
        {"lakestream_iceberg_scans_total", "Table scans", offsetof(ls_iceberg_stats_t, scans),
         "counter"},
        {"lakestream_iceberg_scan_files_read_total", "Data files read by scans",
         offsetof(ls_iceberg_stats_t, files_scanned), "counter"},
        {"lakestream_iceberg_scan_files_pruned_total", "Data files skipped by scan planning",
         offsetof(ls_iceberg_stats_t, files_pruned), "counter"},
        {"lakestream_iceberg_scan_manifests_pruned_total", "Manifests skipped by scan planning",
         offsetof(ls_iceberg_stats_t, manifests_pruned), "counter"},
        {"lakestream_iceberg_compactions_total", "Compactions started",
         offsetof(ls_iceberg_stats_t, compactions), "counter"},
        {"lakestream_iceberg_compaction_files_total", "Files selected for compaction",
         offsetof(ls_iceberg_stats_t, compaction_files_total), "counter"},
        {"lakestream_iceberg_compaction_files_done_total", "Files compacted and committed",
         offsetof(ls_iceberg_stats_t, compaction_files_done), "counter"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        ls_metrics_header(out, rows[i].name, rows[i].type, rows[i].help);
        ls_metrics_sample(out, rows[i].name, NULL,
                          (double)*(const unsigned long long *)((const char *)&s + rows[i].off));
    }
    ls_metrics_header(out, "lakestream_iceberg_operations_in_flight", "gauge",
                      "Table operations running");
    ls_metrics_sample(out, "lakestream_iceberg_operations_in_flight", NULL,
                      (double)s.operations_in_flight);
}

ls_err_t ls_tables_split_name(const char *full, char **ns, char **name, ls_error_t *err)
{
    const char *dot = full != NULL ? strchr(full, '.') : NULL;
    if (dot == NULL || dot == full || dot[1] == '\0')
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT,
                            "table names are \"namespace.table\", got \"%s\"",
                            full != NULL ? full : "");
    *ns = ls_strndup(full, (size_t)(dot - full));
    *name = ls_strdup(dot + 1);
    return LS_ERR_OK;
}

/* ---- shaping ---- */

static json_t *snapshot_json(json_t *s)
{
    json_t *sum = json_object_get(s, "summary");
    return json_pack(
        "{s:O,s:O*,s:O*,s:O,s:O*,s:O*,s:O*}", "snapshot_id", json_object_get(s, "snapshot-id"),
        "parent_snapshot_id", json_object_get(s, "parent-snapshot-id"), "sequence_number",
        json_object_get(s, "sequence-number"), "timestamp_ms", json_object_get(s, "timestamp-ms"),
        "operation", json_object_get(sum, "operation"), "summary", sum, "manifest_list",
        json_object_get(s, "manifest-list"));
}

static json_t *find_snapshot(json_t *meta, json_t *id)
{
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(meta, "snapshots"), i, s)
    {
        if (json_equal(json_object_get(s, "snapshot-id"), id))
            return s;
    }
    return NULL;
}

static json_t *refs_json(json_t *meta, const char *type)
{
    json_t *out = json_array();
    const char *k;
    json_t *r;
    json_object_foreach(json_object_get(meta, "refs"), k, r)
    {
        const char *t = json_string_value(json_object_get(r, "type"));
        if (type != NULL && (t == NULL || strcmp(t, type) != 0))
            continue;
        json_t *id = json_object_get(r, "snapshot-id");
        json_t *s = find_snapshot(meta, id);
        json_t *o = json_pack("{s:s,s:O,s:O*}", "name", k, "snapshot_id", id, "timestamp_ms",
                              s ? json_object_get(s, "timestamp-ms") : NULL);
        if (type == NULL)
            json_object_set_new(o, "type", json_string(t ? t : "branch"));
        json_array_append_new(out, o);
    }
    return out;
}

static json_t *detail_json(const char *full, json_t *loaded)
{
    json_t *m = json_object_get(loaded, "metadata");
    json_t *schema = NULL, *spec = NULL;
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(m, "schemas"), i, s)
    {
        if (json_equal(json_object_get(s, "schema-id"), json_object_get(m, "current-schema-id")))
            schema = s;
    }
    json_array_foreach(json_object_get(m, "partition-specs"), i, s)
    {
        if (json_equal(json_object_get(s, "spec-id"), json_object_get(m, "default-spec-id")))
            spec = s;
    }
    json_t *cur = json_object_get(m, "current-snapshot-id");
    json_t *snap = find_snapshot(m, cur);
    const char *dot = strchr(full, '.');
    return json_pack(
        "{s:s,s:s%,s:s,s:O,s:O,s:O,s:O*,s:O*,s:O,s:O*,s:o,s:o,s:I}", "name", full, "namespace",
        full, (size_t)(dot - full), "table", dot + 1, "location", json_object_get(m, "location"),
        "metadata_location", json_object_get(loaded, "metadata-location"), "format_version",
        json_object_get(m, "format-version"), "schema", schema, "partition_spec",
        spec ? json_object_get(spec, "fields") : NULL, "properties",
        json_object_get(m, "properties"), "current_snapshot_id",
        json_integer_value(cur) >= 0 ? cur : NULL, "current_snapshot",
        snap ? snapshot_json(snap) : json_null(), "refs", refs_json(m, NULL), "snapshot_count",
        (json_int_t)json_array_size(json_object_get(m, "snapshots")));
}

static void on_catalog(void *arg, json_t *result, const ls_error_t *err)
{
    call_t *c = arg;
    json_t *out = NULL;
    if (err->code == LS_ERR_OK) {
        json_t *m = json_object_get(result, "metadata");
        switch (c->shape) {
        case SHAPE_RAW:
            out = json_incref(result);
            break;
        case SHAPE_LIST: {
            out = json_pack("{s:[]}", "tables");
            size_t i;
            json_t *e;
            json_array_foreach(json_object_get(result, "tables"), i, e)
            {
                const char *ns = json_string_value(json_object_get(e, "namespace"));
                const char *n = json_string_value(json_object_get(e, "name"));
                char *full = ls_asprintf("%s.%s", ns, n);
                json_array_append_new(json_object_get(out, "tables"),
                                      json_pack("{s:s,s:s,s:s,s:O}", "name", full, "namespace", ns,
                                                "table", n, "metadata_location",
                                                json_object_get(e, "metadata_location")));
                free(full);
            }
            break;
        }
        case SHAPE_DETAIL:
            out = detail_json(c->full, result);
            break;
        case SHAPE_SNAPSHOTS: {
            json_t *arr = json_array();
            size_t i;
            json_t *s;
            json_array_foreach(json_object_get(m, "snapshots"), i, s)
                json_array_append_new(arr, snapshot_json(s));
            out = json_pack("{s:o}", "snapshots", arr);
            break;
        }
        case SHAPE_REFS:
            out = refs_json(m, c->type);
            break;
        case SHAPE_REF:
            out = json_pack("{s:O,s:O,s:O}", "name", json_object_get(result, "name"), "type",
                            json_object_get(result, "type"), "snapshot_id",
                            json_object_get(result, "snapshot_id"));
            break;
        }
    }
    c->cb(c->arg, out, err);
    free(c->full);
    free(c->type);
    free(c);
}

static call_t *call_new(ls_tables_t *t, shape_t shape, const char *full, ls_tables_cb cb, void *arg)
{
    call_t *c = ls_calloc(1, sizeof *c);
    c->t = t;
    c->shape = shape;
    c->full = full ? ls_strdup(full) : NULL;
    c->cb = cb;
    c->arg = arg;
    return c;
}

static void call_free(call_t *c)
{
    free(c->full);
    free(c->type);
    free(c);
}

/* A catalog call on "ns.table": begin splits the name and allocates the call, finish
 * releases what a synchronous failure leaves behind and passes the result on. */
typedef struct {
    call_t *c;
    char *ns, *name;
} tcall_t;

static ls_err_t begin(ls_tables_t *t, const char *full, shape_t shape, ls_tables_cb cb, void *arg,
                      tcall_t *tc, ls_error_t *err)
{
    if (ls_tables_split_name(full, &tc->ns, &tc->name, err) != LS_ERR_OK)
        return err->code;
    tc->c = call_new(t, shape, full, cb, arg);
    return LS_ERR_OK;
}

static ls_err_t finish(tcall_t *tc, ls_err_t rc)
{
    free(tc->ns);
    free(tc->name);
    if (rc != LS_ERR_OK)
        call_free(tc->c);
    return rc;
}

ls_err_t ls_tables_list(ls_tables_t *t, ls_tables_cb cb, void *arg, ls_error_t *err)
{
    call_t *c = call_new(t, SHAPE_LIST, NULL, cb, arg);
    ls_err_t rc = ls_iceberg_list_tables(t->catalog, NULL, on_catalog, c, err);
    if (rc != LS_ERR_OK)
        call_free(c);
    return rc;
}

ls_err_t ls_tables_create(ls_tables_t *t, json_t *body, ls_tables_cb cb, void *arg, ls_error_t *err)
{
    static const char *allowed[] = {"name", "schema", "partition_spec", "properties", NULL};
    if (!json_is_object(body))
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "body must be a JSON object");
    if (ls_json_check_members(body, "$", allowed, err) != LS_ERR_OK)
        return err->code;
    const char *full = json_string_value(json_object_get(body, "name"));
    if (full == NULL)
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.name",
                                 "name (\"namespace.table\") is required");
    tcall_t tc = {0};
    if (begin(t, full, SHAPE_DETAIL, cb, arg, &tc, err) != LS_ERR_OK)
        return err->code;
    return finish(&tc, ls_iceberg_create(t->catalog, tc.ns, tc.name, body, on_catalog, tc.c, err));
}

ls_err_t ls_tables_get(ls_tables_t *t, const char *full, ls_tables_cb cb, void *arg,
                       ls_error_t *err)
{
    tcall_t tc = {0};
    if (begin(t, full, SHAPE_DETAIL, cb, arg, &tc, err) != LS_ERR_OK)
        return err->code;
    return finish(&tc, ls_iceberg_load(t->catalog, tc.ns, tc.name, on_catalog, tc.c, err));
}

ls_err_t ls_tables_drop(ls_tables_t *t, const char *full, ls_tables_cb cb, void *arg,
                        ls_error_t *err)
{
    tcall_t tc = {0};
    if (begin(t, full, SHAPE_RAW, cb, arg, &tc, err) != LS_ERR_OK)
        return err->code;
    return finish(&tc, ls_iceberg_drop(t->catalog, tc.ns, tc.name, on_catalog, tc.c, err));
}

ls_err_t ls_tables_snapshots(ls_tables_t *t, const char *full, ls_tables_cb cb, void *arg,
                             ls_error_t *err)
{
    tcall_t tc = {0};
    if (begin(t, full, SHAPE_SNAPSHOTS, cb, arg, &tc, err) != LS_ERR_OK)
        return err->code;
    return finish(&tc, ls_iceberg_load(t->catalog, tc.ns, tc.name, on_catalog, tc.c, err));
}

static bool valid_type(const char *type)
{
    return strcmp(type, "tag") == 0 || strcmp(type, "branch") == 0;
}

ls_err_t ls_tables_refs(ls_tables_t *t, const char *full, const char *type, ls_tables_cb cb,
                        void *arg, ls_error_t *err)
{
    if (!valid_type(type))
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "ref type must be tag or branch");
    tcall_t tc = {0};
    if (begin(t, full, SHAPE_REFS, cb, arg, &tc, err) != LS_ERR_OK)
        return err->code;
    return finish(&tc, (tc.c->type = ls_strdup(type),
                        ls_iceberg_load(t->catalog, tc.ns, tc.name, on_catalog, tc.c, err)));
}

ls_err_t ls_tables_set_ref(ls_tables_t *t, const char *full, const char *type, json_t *body,
                           ls_tables_cb cb, void *arg, ls_error_t *err)
{
    static const char *allowed[] = {"name", "snapshot_id", "replace", NULL};
    if (!valid_type(type))
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "ref type must be tag or branch");
    if (!json_is_object(body))
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "body must be a JSON object");
    if (ls_json_check_members(body, "$", allowed, err) != LS_ERR_OK)
        return err->code;
    const char *ref = json_string_value(json_object_get(body, "name"));
    if (ref == NULL || ref[0] == '\0' || strlen(ref) > 255)
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.name",
                                 "name must be a string of 1..255 characters");
    int64_t sid = -1;
    json_t *js = json_object_get(body, "snapshot_id");
    if (js != NULL && !json_is_null(js)) {
        if (!json_is_integer(js) || json_integer_value(js) < 0)
            return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.snapshot_id",
                                     "snapshot_id must be a non-negative integer");
        sid = json_integer_value(js);
    }
    bool replace = json_is_true(json_object_get(body, "replace"));
    tcall_t tc = {0};
    if (begin(t, full, SHAPE_REF, cb, arg, &tc, err) != LS_ERR_OK)
        return err->code;
    return finish(&tc, ls_iceberg_set_ref(t->catalog, tc.ns, tc.name, ref, type, sid, replace,
                                          on_catalog, tc.c, err));
}

ls_err_t ls_tables_remove_ref(ls_tables_t *t, const char *full, const char *type, const char *ref,
                              ls_tables_cb cb, void *arg, ls_error_t *err)
{
    if (!valid_type(type))
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "ref type must be tag or branch");
    tcall_t tc = {0};
    if (begin(t, full, SHAPE_RAW, cb, arg, &tc, err) != LS_ERR_OK)
        return err->code;
    return finish(
        &tc, ls_iceberg_remove_ref(t->catalog, tc.ns, tc.name, ref, type, on_catalog, tc.c, err));
}

static ls_err_t parse_int(const char *s, const char *what, int64_t min, int64_t max, int64_t *out,
                          ls_error_t *err)
{
    char *end;
    if (s == NULL || s[0] == '\0' || !(isdigit((unsigned char)s[0]) || s[0] == '-'))
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, what, "%s must be an integer", what);
    long long v = strtoll(s, &end, 10);
    if (*end != '\0' || v < min || v > max)
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, what,
                                 "%s must be an integer in %" PRId64 "..%" PRId64, what, min, max);
    *out = v;
    return LS_ERR_OK;
}

/* Validates a read selector into as_of (ref borrowed from q). */
static ls_err_t read_selector(const ls_tables_read_t *q, ls_iceberg_as_of_t *as_of, ls_error_t *err)
{
    as_of->ref = NULL;
    as_of->snapshot_id = -1;
    as_of->as_of_ms = -1;
    int given =
        (q->tag != NULL) + (q->branch != NULL) + (q->snapshot_id != NULL) + (q->as_of != NULL);
    if (given > 1)
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT,
                            "give at most one of tag, branch, snapshot_id, as_of");
    as_of->ref = q->tag != NULL ? q->tag : q->branch;
    if (q->snapshot_id != NULL && parse_int(q->snapshot_id, "snapshot_id", 0, INT64_MAX,
                                            &as_of->snapshot_id, err) != LS_ERR_OK)
        return err->code;
    if (q->as_of != NULL) {
        bool digits = q->as_of[0] != '\0';
        for (const char *p = q->as_of; *p; p++)
            digits = digits && isdigit((unsigned char)*p);
        if (digits)
            return parse_int(q->as_of, "as_of", 0, INT64_MAX, &as_of->as_of_ms, err);
        ls_iceberg_type_t tz = {.type = LS_PARQUET_TIMESTAMPTZ};
        json_t *j = json_string(q->as_of);
        ls_parquet_value_t v;
        uint8_t *store = NULL;
        ls_err_t rc = ls_iceberg_value_from_json(&tz, j, "as_of", &v, &store, err);
        json_decref(j);
        free(store);
        if (rc != LS_ERR_OK)
            return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "as_of",
                                     "as_of must be epoch milliseconds or an ISO-8601 time");
        as_of->as_of_ms = v.v.i64 / 1000;
    }
    return LS_ERR_OK;
}

ls_err_t ls_tables_files(ls_tables_t *t, const char *full, const ls_tables_read_t *q,
                         ls_tables_cb cb, void *arg, ls_error_t *err)
{
    ls_iceberg_as_of_t as_of;
    if (read_selector(q, &as_of, err) != LS_ERR_OK)
        return err->code;
    tcall_t tc = {0};
    if (begin(t, full, SHAPE_RAW, cb, arg, &tc, err) != LS_ERR_OK)
        return err->code;
    return finish(&tc, ls_iceberg_files(t->catalog, tc.ns, tc.name, &as_of, on_catalog, tc.c, err));
}

ls_err_t ls_tables_rows(ls_tables_t *t, const char *full, const ls_tables_read_t *q,
                        ls_tables_cb cb, void *arg, ls_error_t *err)
{
    ls_iceberg_as_of_t as_of;
    if (read_selector(q, &as_of, err) != LS_ERR_OK)
        return err->code;
    int64_t limit = 1000;
    if (q->limit != NULL && parse_int(q->limit, "limit", 1, 100000, &limit, err) != LS_ERR_OK)
        return err->code;
    json_t *columns = NULL;
    if (q->columns != NULL) {
        columns = json_array();
        const char *p = q->columns;
        while (*p) {
            const char *e = strchr(p, ',');
            size_t n = e ? (size_t)(e - p) : strlen(p);
            if (n == 0 || json_array_size(columns) >= 1000) {
                json_decref(columns);
                return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "columns",
                                         "columns must be comma-separated column names");
            }
            json_array_append_new(columns, json_stringn(p, n));
            p += n + (e != NULL);
        }
    }
    char *ns_ = NULL, *name_ = NULL;
    if (ls_tables_split_name(full, &ns_, &name_, err) != LS_ERR_OK) {
        json_decref(columns);
        return err->code;
    }
    call_t *c = call_new(t, SHAPE_RAW, full, cb, arg);
    ls_err_t rc = ls_iceberg_scan(t->catalog, ns_, name_, &as_of, columns, q->filter, limit,
                                  on_catalog, c, err);
    json_decref(columns);
    free(ns_);
    free(name_);
    if (rc != LS_ERR_OK)
        call_free(c);
    return rc;
}

ls_err_t ls_tables_append(ls_tables_t *t, const char *full, json_t *body, ls_tables_cb cb,
                          void *arg, ls_error_t *err)
{
    static const char *allowed[] = {"rows", "mode", "branch", NULL};
    if (!json_is_object(body))
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "body must be a JSON object");
    if (ls_json_check_members(body, "$", allowed, err) != LS_ERR_OK)
        return err->code;
    const char *mode = json_string_value(json_object_get(body, "mode"));
    if (json_object_get(body, "mode") != NULL &&
        (mode == NULL || (strcmp(mode, "append") != 0 && strcmp(mode, "overwrite") != 0)))
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.mode",
                                 "mode must be \"append\" or \"overwrite\"");
    json_t *jb = json_object_get(body, "branch");
    if (jb != NULL && !json_is_string(jb))
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.branch",
                                 "branch must be a string");
    bool overwrite = mode != NULL && strcmp(mode, "overwrite") == 0;
    tcall_t tc = {0};
    if (begin(t, full, SHAPE_RAW, cb, arg, &tc, err) != LS_ERR_OK)
        return err->code;
    return finish(&tc, ls_iceberg_append(t->catalog, tc.ns, tc.name, json_object_get(body, "rows"),
                                         json_string_value(jb), overwrite, on_catalog, tc.c, err));
}

ls_err_t ls_tables_evolve(ls_tables_t *t, const char *full, json_t *body, ls_tables_cb cb,
                          void *arg, ls_error_t *err)
{
    static const char *allowed[] = {"add_column", "widen_column", NULL};
    if (!json_is_object(body) || json_object_size(body) != 1)
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT,
                            "body must be {\"add_column\":{...}} or {\"widen_column\":{...}}");
    if (ls_json_check_members(body, "$", allowed, err) != LS_ERR_OK)
        return err->code;
    tcall_t tc = {0};
    if (begin(t, full, SHAPE_RAW, cb, arg, &tc, err) != LS_ERR_OK)
        return err->code;
    return finish(&tc, ls_iceberg_evolve(t->catalog, tc.ns, tc.name, body, on_catalog, tc.c, err));
}

ls_err_t ls_tables_maintain(ls_tables_t *t, const char *full, json_t *body, ls_tables_cb cb,
                            void *arg, ls_error_t *err)
{
    static const char *allowed[] = {
        "action",          "older_than_ms", "retain_last", "target_file_size_bytes",
        "min_input_files", "files",         NULL};
    if (!json_is_object(body))
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "body must be a JSON object");
    if (ls_json_check_members(body, "$", allowed, err) != LS_ERR_OK)
        return err->code;
    const char *action = NULL;
    int64_t older = 0, retain = 1, target = 128ll << 20, min_files = 2;
    if (ls_json_get_string(body, "$", "action", true, NULL, &action, err) != LS_ERR_OK ||
        ls_json_get_int(body, "$", "older_than_ms", false, 0, 0, INT64_MAX, &older, err) !=
            LS_ERR_OK ||
        ls_json_get_int(body, "$", "retain_last", false, 1, 1, 100000, &retain, err) != LS_ERR_OK ||
        ls_json_get_int(body, "$", "target_file_size_bytes", false, 128ll << 20, 1, 1ll << 40,
                        &target, err) != LS_ERR_OK ||
        ls_json_get_int(body, "$", "min_input_files", false, 2, 2, 100000, &min_files, err) !=
            LS_ERR_OK)
        return err->code;
    bool expire = strcmp(action, "expire_snapshots") == 0, compact = strcmp(action, "compact") == 0,
         orphans = strcmp(action, "orphans") == 0,
         delete_files = strcmp(action, "delete_files") == 0;
    if (!expire && !compact && !orphans && !delete_files)
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.action",
                                 "action must be expire_snapshots, compact, orphans or "
                                 "delete_files");
    if (expire && json_object_get(body, "older_than_ms") == NULL)
        older = INT64_MAX / 2; /* everything a ref or retain_last does not protect */
    tcall_t tc = {0};
    if (begin(t, full, SHAPE_RAW, cb, arg, &tc, err) != LS_ERR_OK)
        return err->code;
    if (expire)
        return finish(&tc, ls_iceberg_expire(t->catalog, tc.ns, tc.name, older, (int)retain,
                                             on_catalog, tc.c, err));
    if (delete_files)
        return finish(&tc, ls_iceberg_delete_files(t->catalog, tc.ns, tc.name,
                                                   json_object_get(body, "files"), on_catalog, tc.c,
                                                   err));
    if (compact)
        return finish(&tc, ls_iceberg_compact(t->catalog, tc.ns, tc.name, (uint64_t)target,
                                              (int)min_files, on_catalog, tc.c, err));
    return finish(&tc,
                  ls_iceberg_orphans(t->catalog, tc.ns, tc.name, older, on_catalog, tc.c, err));
}
