/*
 * Iceberg table operations as loop state machines (see iceberg_table.h).
 * Every operation is an op_t that walks small steps: load the table (catalog
 * row, then metadata.json), apply its change (possibly reading manifests or
 * running a work item), write new files, then commit by compare-and-swap.
 * A lost race re-enters the op's apply step on freshly loaded metadata.
 * Files an op wrote are never referenced by a commit that failed, so they
 * are orphans (listed by ls_iceberg_orphans), never corruption.
 */
#include "lake/iceberg_table.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/log.h"
#include "lake/iceberg_data.h"
#include "lake/iceberg_manifest.h"
#include "lake/iceberg_metadata.h"

#define MAX_COMMIT_ATTEMPTS 200
#define MAX_MANIFEST_RECORDS 1000000
#define SCAN_ROW_CAP 100000

struct ls_iceberg_catalog {
    uv_loop_t *loop;
    ls_pg_t *pg;
    ls_objstore_t *store;
    char *warehouse; /* no trailing slash */
    char *name;
    int inflight;
    bool closing;
    void (*close_cb)(void *);
    void *close_arg;
    ls_iceberg_stats_t stats;
};

typedef struct op op_t;
typedef void (*step_fn)(op_t *op);

enum {
    OP_LOAD,
    OP_APPEND,
    OP_REF,
    OP_UNREF,
    OP_EVOLVE,
    OP_EXPIRE,
    OP_COMPACT,
    OP_FILES,
    OP_SCAN,
    OP_ORPHANS,
    OP_CREATE,
    OP_DROP,
    OP_NAMESPACES
};

struct op {
    ls_iceberg_catalog_t *c;
    int kind;
    char *ns, *name;
    ls_iceberg_cb cb;
    void *arg;
    /* the table as loaded */
    char *base_loc;
    json_t *base;
    int attempt;
    uv_timer_t *timer;
    uv_work_t work;
    /* continuations: apply re-runs after every (re)load; next is the I/O helpers' slot;
     * after_collect / after_commit the multi-step helpers' */
    step_fn apply, next, after_collect, after_commit, work_fn;
    char *location; /* table location, for work items */
    uint8_t *got;
    size_t got_len;
    json_t *result;
    ls_error_t err;
    /* parameters */
    json_t *input; /* rows, definition, change */
    char *branch, *ref, *ref_type;
    int64_t snapshot_param, older_than_ms;
    int retain_last, min_files;
    uint64_t target_bytes;
    bool replace, overwrite;
    ls_iceberg_as_of_t as_of;
    /* files written by this op (append/compact), reused across attempts */
    ls_iceberg_new_file_t *files;
    size_t n_files, idx;
    bool files_ready;
    uint8_t *manifest;
    size_t manifest_len;
    char *manifest_path;
    json_t *manifest_entries;
    int64_t snapshot_id;
    /* snapshot contents being collected */
    int64_t read_snapshot;
    json_t *manifests; /* manifest_file records */
    json_t *entries;   /* per manifest: array of entries (or null when pruned) */
    bool want_entries;
    size_t mi;
    /* typed views and scan state */
    ls_iceberg_schema_t *schema;
    ls_iceberg_spec_t *spec;
    ls_iceberg_filter_t filter;
    bool has_filter;
    int *columns;
    size_t n_columns;
    int64_t limit;
    json_t *rows, *scan_files;
    unsigned long long files_scanned, files_pruned, manifests_pruned;
    size_t max_rows_per_file; /* compaction: rows that make a target-size file */
    json_t *column_names;     /* scan projection (names) */
    char *filter_text;
    /* compaction: bytes of the files being rewritten */
    uint8_t **inputs;
    size_t *input_lens;
    /* commit */
    json_t *new_meta;
    char *new_loc;
    uint8_t *list_bytes;
    size_t list_len;
    char *meta_text;
    /* snapshot being built */
    json_t *pending_list, *rewrite_entries, *deleted;
    uint8_t *rewrite_bytes;
    size_t rewrite_len;
    char *rewrite_path;
    const char *operation;
    int64_t deleted_files, deleted_records, snap_index;
    /* orphans */
    json_t *referenced;
    char *list_token;
};

/* ---------------- plumbing ---------------- */

static int64_t now_ms(void)
{
    uv_timeval64_t tv;
    uv_gettimeofday(&tv);
    return tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static void maybe_finish_close(ls_iceberg_catalog_t *c);

static void on_timer_closed(uv_handle_t *h)
{
    free(h);
}

static void op_free(op_t *op)
{
    ls_iceberg_catalog_t *c = op->c;
    if (op->timer != NULL)
        uv_close((uv_handle_t *)op->timer, on_timer_closed);
    free(op->ns);
    free(op->name);
    free(op->base_loc);
    json_decref(op->base);
    free(op->got);
    json_decref(op->result);
    json_decref(op->input);
    free(op->branch);
    free(op->ref);
    free(op->ref_type);
    free((char *)op->as_of.ref);
    ls_iceberg_new_files_free(op->files, op->n_files);
    free(op->manifest);
    free(op->manifest_path);
    json_decref(op->manifest_entries);
    json_decref(op->manifests);
    json_decref(op->entries);
    ls_iceberg_schema_free(op->schema);
    ls_iceberg_spec_free(op->spec);
    ls_iceberg_filter_free(&op->filter);
    free(op->columns);
    json_decref(op->rows);
    for (size_t i = 0; op->inputs != NULL && i < json_array_size(op->scan_files); i++)
        free(op->inputs[i]);
    free(op->inputs);
    free(op->input_lens);
    json_decref(op->scan_files);
    json_decref(op->new_meta);
    free(op->new_loc);
    free(op->list_bytes);
    free(op->meta_text);
    json_decref(op->referenced);
    free(op->list_token);
    free(op->location);
    json_decref(op->column_names);
    free(op->filter_text);
    json_decref(op->pending_list);
    json_decref(op->rewrite_entries);
    json_decref(op->deleted);
    free(op->rewrite_bytes);
    free(op->rewrite_path);
    free(op);
    c->inflight--;
    c->stats.operations_in_flight = c->inflight;
    maybe_finish_close(c);
}

static void op_done(op_t *op)
{
    ls_error_t ok;
    ls_error_clear(&ok);
    op->cb(op->arg, op->result, &ok);
    op_free(op);
}

static void op_fail_err(op_t *op, const ls_error_t *err)
{
    if (op->kind == OP_APPEND || op->kind == OP_COMPACT || op->kind == OP_REF ||
        op->kind == OP_EVOLVE || op->kind == OP_EXPIRE)
        op->c->stats.commit_failures++;
    op->cb(op->arg, NULL, err);
    op_free(op);
}

static void op_fail(op_t *op, ls_err_t code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void op_fail(op_t *op, ls_err_t code, const char *fmt, ...)
{
    ls_error_t e;
    ls_error_clear(&e);
    e.code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e.message, sizeof e.message, fmt, ap);
    va_end(ap);
    op_fail_err(op, &e);
}

static ls_err_t op_new(ls_iceberg_catalog_t *c, int kind, const char *ns, const char *name,
                       ls_iceberg_cb cb, void *arg, op_t **out, ls_error_t *err)
{
    if (c->closing)
        return ls_error_set(err, LS_ERR_FAILED_PRECONDITION, "the table catalog is closing");
    if (ns != NULL && (ns[0] == '\0' || strlen(ns) > 255 || strchr(ns, '/') != NULL))
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT,
                            "namespace must be 1..255 characters without '/'");
    if (name != NULL && (name[0] == '\0' || strlen(name) > 255 || strchr(name, '/') != NULL ||
                         strchr(name, '.') != NULL))
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT,
                            "table name must be 1..255 characters without '/' or '.'");
    op_t *op = ls_calloc(1, sizeof *op);
    op->c = c;
    op->kind = kind;
    op->ns = ns ? ls_strdup(ns) : NULL;
    op->name = name ? ls_strdup(name) : NULL;
    op->cb = cb;
    op->arg = arg;
    op->as_of.snapshot_id = -1;
    op->as_of.as_of_ms = -1;
    op->snapshot_param = -1;
    op->read_snapshot = -1;
    c->inflight++;
    c->stats.operations_in_flight = c->inflight;
    *out = op;
    return LS_ERR_OK;
}

/* Object-store key of a URL under the warehouse, or NULL (a table stored elsewhere). */
static const char *key_of(const ls_iceberg_catalog_t *c, const char *url)
{
    size_t n = strlen(c->warehouse);
    if (url == NULL || strncmp(url, c->warehouse, n) != 0 || url[n] != '/')
        return NULL;
    return url + n + 1;
}

static void on_got(ls_objstore_result_t *r, void *data)
{
    op_t *op = data;
    if (r->status != LS_ERR_OK) {
        ls_error_t e = r->error;
        e.code = r->status == LS_ERR_NOT_FOUND ? LS_ERR_INTERNAL : r->status;
        if (r->status == LS_ERR_NOT_FOUND)
            snprintf(e.message, sizeof e.message, "table file %s is missing from the warehouse",
                     r->key);
        op_fail_err(op, &e);
        return;
    }
    free(op->got);
    op->got_len = r->body_len;
    op->got = ls_objstore_result_take_body(r);
    op->next(op);
}

static void op_get(op_t *op, const char *url, step_fn next)
{
    const char *key = key_of(op->c, url);
    if (key == NULL) {
        op_fail(op, LS_ERR_FAILED_PRECONDITION,
                "%s is outside the warehouse %s: lakestream reads tables in its warehouse only",
                url, op->c->warehouse);
        return;
    }
    op->next = next;
    ls_error_t e;
    if (ls_objstore_get(op->c->store, key, on_got, op, &e) != LS_ERR_OK)
        op_fail_err(op, &e);
}

static void on_put(ls_objstore_result_t *r, void *data)
{
    op_t *op = data;
    if (r->status != LS_ERR_OK) {
        ls_error_t e = r->error;
        e.code = r->status;
        op_fail_err(op, &e);
        return;
    }
    op->next(op);
}

static void op_put(op_t *op, const char *url, const void *data, size_t len, step_fn next)
{
    const char *key = key_of(op->c, url);
    if (key == NULL) {
        op_fail(op, LS_ERR_FAILED_PRECONDITION, "%s is outside the warehouse", url);
        return;
    }
    op->next = next;
    ls_error_t e;
    if (ls_objstore_put(op->c->store, key, data, len, on_put, op, &e) != LS_ERR_OK)
        op_fail_err(op, &e);
}

static void on_deleted(ls_objstore_result_t *r, void *data)
{
    (void)r;
    (void)data;
}

/* Best effort: a file an aborted op wrote. If this fails the file is an orphan. */
static void forget_file(ls_iceberg_catalog_t *c, const char *url)
{
    const char *key = key_of(c, url);
    ls_error_t e;
    if (key != NULL)
        ls_objstore_delete(c->store, key, on_deleted, NULL, &e);
}

/* ---------------- load ---------------- */

static void load_parse(op_t *op)
{
    json_error_t je;
    json_t *meta = json_loadb((const char *)op->got, op->got_len, 0, &je);
    free(op->got);
    op->got = NULL;
    ls_error_t e;
    if (meta == NULL) {
        op_fail(op, LS_ERR_INTERNAL, "metadata %s is not JSON: %s", op->base_loc, je.text);
        return;
    }
    if (ls_iceberg_metadata_check(meta, &e) != LS_ERR_OK) {
        json_decref(meta);
        e.code = LS_ERR_INTERNAL;
        op_fail_err(op, &e);
        return;
    }
    json_decref(op->base);
    op->base = meta;
    op->apply(op);
}

static void on_row(void *arg, PGresult *res, const ls_error_t *err)
{
    op_t *op = arg;
    if (err->code != LS_ERR_OK) {
        op_fail_err(op, err);
        return;
    }
    if (PQntuples(res) == 0 || PQgetisnull(res, 0, 0)) {
        op_fail(op, LS_ERR_NOT_FOUND, "no table %s.%s", op->ns, op->name);
        return;
    }
    free(op->base_loc);
    op->base_loc = ls_strdup(PQgetvalue(res, 0, 0));
    op_get(op, op->base_loc, load_parse);
}

/* Loads the table into op->base / op->base_loc, then runs op->apply. */
static void op_load(op_t *op)
{
    const char *params[3] = {op->c->name, op->ns, op->name};
    ls_error_t e;
    if (ls_pg_query(op->c->pg,
                    "SELECT metadata_location FROM iceberg_tables WHERE catalog_name = $1 AND "
                    "table_namespace = $2 AND table_name = $3 AND "
                    "(iceberg_type = 'TABLE' OR iceberg_type IS NULL)",
                    3, params, on_row, op, &e) != LS_ERR_OK)
        op_fail_err(op, &e);
}

/* ---------------- commit ---------------- */

static int metadata_version(const char *loc)
{
    const char *slash = loc ? strrchr(loc, '/') : NULL;
    return slash == NULL ? 0 : atoi(slash + 1);
}

static void on_retry_timer(uv_timer_t *t)
{
    op_t *op = t->data;
    op_load(op);
}

static void on_cas(void *arg, PGresult *res, const ls_error_t *err)
{
    op_t *op = arg;
    if (err->code != LS_ERR_OK) {
        op_fail_err(op, err);
        return;
    }
    if (strcmp(PQcmdTuples(res), "1") == 0) {
        op->c->stats.commits++;
        op->after_commit(op);
        return;
    }
    /* Lost the race: somebody committed first. Re-read, re-apply, retry after a jittered
     * backoff so two writers do not collide in lockstep. This attempt's metadata file and
     * manifest list are referenced by nothing: remove them. */
    op->c->stats.conflicts++;
    forget_file(op->c, op->new_loc);
    json_t *snaps = json_object_get(op->new_meta, "snapshots");
    json_t *last = json_array_get(snaps, json_array_size(snaps) - 1);
    if (op->list_bytes != NULL &&
        json_integer_value(json_object_get(last, "snapshot-id")) == op->snapshot_id)
        forget_file(op->c, json_string_value(json_object_get(last, "manifest-list")));
    if (++op->attempt >= MAX_COMMIT_ATTEMPTS) {
        op_fail(op, LS_ERR_UNAVAILABLE, "gave up after %d conflicting commits on %s.%s",
                op->attempt, op->ns, op->name);
        return;
    }
    if (op->timer == NULL) {
        op->timer = ls_malloc(sizeof *op->timer);
        uv_timer_init(op->c->loop, op->timer);
        op->timer->data = op;
    }
    uint32_t r = 0;
    uv_random(NULL, NULL, &r, sizeof r, 0, NULL);
    unsigned cap = op->attempt < 6 ? 4u << op->attempt : 200;
    uv_timer_start(op->timer, on_retry_timer, r % (cap + 1), 0);
}

static void commit_cas(op_t *op)
{
    const char *params[5] = {op->new_loc, op->base_loc, op->c->name, op->ns, op->name};
    ls_error_t e;
    if (ls_pg_query(op->c->pg,
                    "UPDATE iceberg_tables SET metadata_location = $1, "
                    "previous_metadata_location = $2 WHERE catalog_name = $3 AND "
                    "table_namespace = $4 AND table_name = $5 AND metadata_location = $2",
                    5, params, on_cas, op, &e) != LS_ERR_OK)
        op_fail_err(op, &e);
}

/* Writes op->new_meta as the next metadata file, swaps it in, then runs done. */
static void op_commit(op_t *op, step_fn done)
{
    json_t *m = op->new_meta;
    int64_t prev_ms = json_integer_value(json_object_get(op->base, "last-updated-ms"));
    ls_iceberg_metadata_log_previous(m, op->base_loc, prev_ms, 100);
    int64_t t = now_ms();
    if (t > json_integer_value(json_object_get(m, "last-updated-ms")))
        json_object_set_new(m, "last-updated-ms", json_integer(t));
    char uuid[37];
    ls_iceberg_uuid(uuid);
    free(op->new_loc);
    op->new_loc = ls_asprintf("%s/metadata/%05d-%s.metadata.json",
                              json_string_value(json_object_get(m, "location")),
                              metadata_version(op->base_loc) + 1, uuid);
    free(op->meta_text);
    op->meta_text = json_dumps(m, JSON_COMPACT);
    op->after_commit = done;
    op_put(op, op->new_loc, op->meta_text, strlen(op->meta_text), commit_cas);
}

/* ---------------- work items ---------------- */

static void work_cb(uv_work_t *w)
{
    op_t *op = w->data;
    ls_error_clear(&op->err);
    op->work_fn(op);
}

static void after_work_cb(uv_work_t *w, int status)
{
    op_t *op = w->data;
    if (status != 0) {
        op_fail(op, LS_ERR_INTERNAL, "work item cancelled");
        return;
    }
    if (op->err.code != LS_ERR_OK) {
        op_fail_err(op, &op->err);
        return;
    }
    op->next(op);
}

/* Runs fn on the threadpool (it may use everything the op owns; the loop does not touch the
 * op meanwhile), then next on the loop (or fails the op with op->err). */
static void op_work(op_t *op, step_fn fn, step_fn next)
{
    op->work_fn = fn;
    op->next = next;
    op->work.data = op;
    if (uv_queue_work(op->c->loop, &op->work, work_cb, after_work_cb) != 0)
        op_fail(op, LS_ERR_INTERNAL, "cannot queue work");
}

/* ---------------- collecting a snapshot's manifests ---------------- */

static void collect_next_manifest(op_t *op);

/* Spec inheritance rules made explicit: ADDED entries written with nulls inherit the
 * manifest's sequence number and snapshot id. */
static void inherit(json_t *entries, json_t *mf)
{
    size_t i;
    json_t *e;
    json_array_foreach(entries, i, e)
    {
        json_t *seq = json_object_get(mf, "sequence_number");
        if (!json_is_integer(json_object_get(e, "snapshot_id")))
            json_object_set(e, "snapshot_id", json_object_get(mf, "added_snapshot_id"));
        if (!json_is_integer(json_object_get(e, "sequence_number")))
            json_object_set_new(e, "sequence_number",
                                json_is_integer(seq) ? json_incref(seq) : json_integer(0));
        if (!json_is_integer(json_object_get(e, "file_sequence_number")))
            json_object_set(e, "file_sequence_number", json_object_get(e, "sequence_number"));
    }
}

static void collect_got_manifest(op_t *op)
{
    json_t *entries = NULL;
    ls_error_t e;
    if (ls_iceberg_avro_read_all(op->got, op->got_len, MAX_MANIFEST_RECORDS, &entries, &e) !=
        LS_ERR_OK) {
        e.code = LS_ERR_INTERNAL;
        op_fail_err(op, &e);
        return;
    }
    free(op->got);
    op->got = NULL;
    inherit(entries, json_array_get(op->manifests, op->mi));
    json_array_set_new(op->entries, op->mi, entries);
    op->mi++;
    collect_next_manifest(op);
}

static void collect_next_manifest(op_t *op)
{
    while (op->mi < json_array_size(op->manifests)) {
        json_t *mf = json_array_get(op->manifests, op->mi);
        const char *path = json_string_value(json_object_get(mf, "manifest_path"));
        bool same_spec =
            op->spec != NULL &&
            json_integer_value(json_object_get(mf, "partition_spec_id")) == op->spec->spec_id;
        if (op->has_filter && same_spec &&
            !ls_iceberg_filter_may_match_manifest(&op->filter, op->spec, mf)) {
            op->manifests_pruned++;
            op->mi++;
            continue;
        }
        if (op->referenced != NULL && path != NULL &&
            json_object_get(op->referenced, path) != NULL) {
            op->mi++; /* orphan scan: this manifest's files are already counted */
            continue;
        }
        if (op->referenced != NULL && path != NULL)
            json_object_set_new(op->referenced, path, json_true());
        op_get(op, path, collect_got_manifest);
        return;
    }
    op->after_collect(op);
}

static void collect_got_list(op_t *op)
{
    json_decref(op->manifests);
    op->manifests = NULL;
    ls_error_t e;
    if (ls_iceberg_avro_read_all(op->got, op->got_len, MAX_MANIFEST_RECORDS, &op->manifests, &e) !=
        LS_ERR_OK) {
        e.code = LS_ERR_INTERNAL;
        op_fail_err(op, &e);
        return;
    }
    free(op->got);
    op->got = NULL;
    json_decref(op->entries);
    op->entries = json_array();
    for (size_t i = 0; i < json_array_size(op->manifests); i++)
        json_array_append_new(op->entries, json_null());
    op->mi = 0;
    if (!op->want_entries) {
        op->after_collect(op);
        return;
    }
    collect_next_manifest(op);
}

/* Reads snapshot_id's manifest list into op->manifests and, when want_entries, every
 * manifest's entries into op->entries (aligned; null where pruned); then after. */
static void collect(op_t *op, int64_t snapshot_id, bool want_entries, step_fn after)
{
    op->after_collect = after;
    op->want_entries = want_entries;
    json_t *snap = ls_iceberg_metadata_snapshot(op->base, snapshot_id);
    const char *ml = json_string_value(json_object_get(snap, "manifest-list"));
    if (snap == NULL || ml == NULL) {
        op_fail(op, snap == NULL ? LS_ERR_NOT_FOUND : LS_ERR_FAILED_PRECONDITION,
                snap == NULL ? "no snapshot %" PRId64
                             : "snapshot %" PRId64 " has no manifest list (v1 inline manifests "
                               "are not supported)",
                snapshot_id);
        return;
    }
    op_get(op, ml, collect_got_list);
}

/* Live (not deleted) entries of manifest i. */
#define FOREACH_LIVE(op, i, k, e)                                                                  \
    for (i = 0; i < json_array_size((op)->entries); i++)                                           \
    json_array_foreach(json_array_get((op)->entries, i), k,                                        \
                       e) if (json_integer_value(json_object_get(e, "status")) !=                  \
                              LS_ICEBERG_DELETED)

static ls_err_t load_views(op_t *op, ls_error_t *err)
{
    ls_iceberg_schema_free(op->schema);
    ls_iceberg_spec_free(op->spec);
    op->schema = NULL;
    op->spec = NULL;
    ls_err_t rc = ls_iceberg_metadata_schema(op->base, -1, &op->schema, err);
    if (rc == LS_ERR_OK)
        rc = ls_iceberg_metadata_spec(op->base, -1, op->schema, &op->spec, err);
    free(op->location);
    op->location = ls_strdup(json_string_value(json_object_get(op->base, "location")));
    return rc;
}

/* ---------------- load / list / create / drop ---------------- */

static void load_apply(op_t *op)
{
    op->result = json_pack("{s:s,s:O}", "metadata-location", op->base_loc, "metadata", op->base);
    op_done(op);
}

ls_err_t ls_iceberg_load(ls_iceberg_catalog_t *c, const char *ns, const char *name,
                         ls_iceberg_cb cb, void *arg, ls_error_t *err)
{
    op_t *op = NULL;
    if (op_new(c, OP_LOAD, ns, name, cb, arg, &op, err) != LS_ERR_OK)
        return err->code;
    op->apply = load_apply;
    op_load(op);
    return LS_ERR_OK;
}

static void on_list(void *arg, PGresult *res, const ls_error_t *err)
{
    op_t *op = arg;
    if (err->code != LS_ERR_OK) {
        op_fail_err(op, err);
        return;
    }
    json_t *arr = json_array();
    for (int i = 0; i < PQntuples(res); i++) {
        if (op->kind == OP_LOAD)
            json_array_append_new(arr,
                                  json_pack("{s:s,s:s,s:s?}", "namespace", PQgetvalue(res, i, 0),
                                            "name", PQgetvalue(res, i, 1), "metadata_location",
                                            PQgetisnull(res, i, 2) ? NULL : PQgetvalue(res, i, 2)));
        else
            json_array_append_new(arr, json_pack("[s]", PQgetvalue(res, i, 0)));
    }
    op->result = json_pack("{s:o}", op->kind == OP_LOAD ? "tables" : "namespaces", arr);
    op_done(op);
}

ls_err_t ls_iceberg_list_tables(ls_iceberg_catalog_t *c, const char *ns, ls_iceberg_cb cb,
                                void *arg, ls_error_t *err)
{
    op_t *op = NULL;
    if (op_new(c, OP_LOAD, NULL, NULL, cb, arg, &op, err) != LS_ERR_OK)
        return err->code;
    const char *params[2] = {c->name, ns};
    if (ls_pg_query(c->pg,
                    "SELECT table_namespace, table_name, metadata_location FROM iceberg_tables "
                    "WHERE catalog_name = $1 AND ($2::text IS NULL OR table_namespace = $2) AND "
                    "(iceberg_type = 'TABLE' OR iceberg_type IS NULL) "
                    "ORDER BY table_namespace, table_name",
                    2, params, on_list, op, err) != LS_ERR_OK) {
        op->cb = NULL;
        op_free(op);
        return err->code;
    }
    return LS_ERR_OK;
}

ls_err_t ls_iceberg_list_namespaces(ls_iceberg_catalog_t *c, ls_iceberg_cb cb, void *arg,
                                    ls_error_t *err)
{
    op_t *op = NULL;
    if (op_new(c, OP_NAMESPACES, NULL, NULL, cb, arg, &op, err) != LS_ERR_OK)
        return err->code;
    const char *params[1] = {c->name};
    if (ls_pg_query(c->pg,
                    "SELECT table_namespace FROM iceberg_tables WHERE catalog_name = $1 UNION "
                    "SELECT namespace FROM iceberg_namespace_properties WHERE catalog_name = $1 "
                    "ORDER BY 1",
                    1, params, on_list, op, err) != LS_ERR_OK) {
        op_free(op);
        return err->code;
    }
    return LS_ERR_OK;
}

static void on_namespace_row(void *arg, PGresult *res, const ls_error_t *err)
{
    op_t *op = arg;
    (void)res;
    (void)err; /* the namespace row is a courtesy for JDBC-catalog clients */
    op->result = json_pack("{s:s,s:O}", "metadata-location", op->new_loc, "metadata", op->new_meta);
    op_done(op);
}

static void on_inserted(void *arg, PGresult *res, const ls_error_t *err)
{
    op_t *op = arg;
    (void)res;
    if (err->code != LS_ERR_OK) {
        forget_file(op->c, op->new_loc);
        if (err->code == LS_ERR_ALREADY_EXISTS)
            op_fail(op, LS_ERR_ALREADY_EXISTS, "table %s.%s already exists", op->ns, op->name);
        else
            op_fail_err(op, err);
        return;
    }
    op->c->stats.commits++;
    const char *params[2] = {op->c->name, op->ns};
    ls_error_t e;
    if (ls_pg_query(op->c->pg,
                    "INSERT INTO iceberg_namespace_properties (catalog_name, namespace, "
                    "property_key, property_value) VALUES ($1, $2, 'exists', 'true') "
                    "ON CONFLICT DO NOTHING",
                    2, params, on_namespace_row, op, &e) != LS_ERR_OK)
        on_namespace_row(op, NULL, &e);
}

static void create_insert(op_t *op)
{
    const char *params[4] = {op->c->name, op->ns, op->name, op->new_loc};
    ls_error_t e;
    if (ls_pg_query(op->c->pg,
                    "INSERT INTO iceberg_tables (catalog_name, table_namespace, table_name, "
                    "metadata_location, previous_metadata_location, iceberg_type) "
                    "VALUES ($1, $2, $3, $4, NULL, 'TABLE')",
                    4, params, on_inserted, op, &e) != LS_ERR_OK)
        op_fail_err(op, &e);
}

ls_err_t ls_iceberg_create(ls_iceberg_catalog_t *c, const char *ns, const char *name, json_t *def,
                           ls_iceberg_cb cb, void *arg, ls_error_t *err)
{
    op_t *op = NULL;
    if (op_new(c, OP_CREATE, ns, name, cb, arg, &op, err) != LS_ERR_OK)
        return err->code;
    char uuid[37];
    ls_iceberg_uuid(uuid);
    char *location = ls_asprintf("%s/%s/%s", c->warehouse, ns, name);
    op->new_meta = ls_iceberg_metadata_new(
        json_object_get(def, "schema"), json_object_get(def, "partition_spec"),
        json_object_get(def, "properties"), uuid, location, now_ms(), err);
    if (op->new_meta == NULL) {
        free(location);
        op_free(op);
        return err->code;
    }
    op->new_loc = ls_asprintf("%s/metadata/00000-%s.metadata.json", location, uuid);
    free(location);
    op->meta_text = json_dumps(op->new_meta, JSON_COMPACT);
    op_put(op, op->new_loc, op->meta_text, strlen(op->meta_text), create_insert);
    return LS_ERR_OK;
}

static void on_dropped(void *arg, PGresult *res, const ls_error_t *err)
{
    op_t *op = arg;
    if (err->code != LS_ERR_OK) {
        op_fail_err(op, err);
        return;
    }
    if (strcmp(PQcmdTuples(res), "0") == 0) {
        op_fail(op, LS_ERR_NOT_FOUND, "no table %s.%s", op->ns, op->name);
        return;
    }
    op->result = json_pack("{s:b}", "dropped", 1);
    op_done(op);
}

ls_err_t ls_iceberg_drop(ls_iceberg_catalog_t *c, const char *ns, const char *name,
                         ls_iceberg_cb cb, void *arg, ls_error_t *err)
{
    op_t *op = NULL;
    if (op_new(c, OP_DROP, ns, name, cb, arg, &op, err) != LS_ERR_OK)
        return err->code;
    const char *params[3] = {c->name, ns, name};
    if (ls_pg_query(c->pg,
                    "DELETE FROM iceberg_tables WHERE catalog_name = $1 AND table_namespace = $2 "
                    "AND table_name = $3 AND (iceberg_type = 'TABLE' OR iceberg_type IS NULL)",
                    3, params, on_dropped, op, err) != LS_ERR_OK) {
        op_free(op);
        return err->code;
    }
    return LS_ERR_OK;
}

/* ---------------- building a snapshot ---------------- */

static int64_t branch_head(op_t *op)
{
    const char *b = op->branch != NULL ? op->branch : "main";
    if (strcmp(b, "main") == 0)
        return ls_iceberg_metadata_current_snapshot(op->base);
    return ls_iceberg_metadata_ref(op->base, b, NULL);
}

static void summary_set(json_t *sum, const char *k, int64_t v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%" PRId64, v);
    json_object_set_new(sum, k, json_string(buf));
}

static void snapshot_list_written(op_t *op);

static void snapshot_write_list(op_t *op)
{
    json_t *list = op->pending_list;
    int64_t seq = json_integer_value(json_object_get(op->base, "last-sequence-number")) + 1;
    int64_t parent = branch_head(op);
    if (op->rewrite_entries != NULL && json_array_size(op->rewrite_entries) > 0)
        json_array_append_new(list, ls_iceberg_manifest_file_new(op->rewrite_path, op->rewrite_len,
                                                                 op->spec, op->rewrite_entries,
                                                                 op->snapshot_id, seq));
    free(op->list_bytes);
    op->list_bytes = NULL;
    ls_error_t e;
    if (ls_iceberg_manifest_list_write(list, op->snapshot_id, parent, seq, &op->list_bytes,
                                       &op->list_len, &e) != LS_ERR_OK) {
        e.code = LS_ERR_INTERNAL;
        op_fail_err(op, &e);
        return;
    }
    char uuid[37];
    ls_iceberg_uuid(uuid);
    char *path = ls_asprintf("%s/metadata/snap-%" PRId64 "-%d-%s.avro", op->location,
                             op->snapshot_id, op->attempt + 1, uuid);
    /* the snapshot object refers to the list path; build it now, add it after the put */
    int64_t total_rows = 0, total_files = 0, added_rows = 0, added_files = 0;
    size_t i;
    json_t *mf;
    json_array_foreach(list, i, mf)
    {
        total_rows += json_integer_value(json_object_get(mf, "added_rows_count")) +
                      json_integer_value(json_object_get(mf, "existing_rows_count"));
        total_files += json_integer_value(json_object_get(mf, "added_files_count")) +
                       json_integer_value(json_object_get(mf, "existing_files_count"));
        if (json_integer_value(json_object_get(mf, "added_snapshot_id")) == op->snapshot_id) {
            added_rows += json_integer_value(json_object_get(mf, "added_rows_count"));
            added_files += json_integer_value(json_object_get(mf, "added_files_count"));
        }
    }
    json_t *sum = json_pack("{s:s}", "operation", op->operation);
    summary_set(sum, "added-data-files", added_files);
    summary_set(sum, "added-records", added_rows);
    summary_set(sum, "deleted-data-files", op->deleted_files);
    summary_set(sum, "deleted-records", op->deleted_records);
    summary_set(sum, "total-records", total_rows);
    summary_set(sum, "total-data-files", total_files);
    summary_set(sum, "total-delete-files", 0);
    json_t *snap =
        json_pack("{s:I,s:I,s:I,s:s,s:o,s:I}", "snapshot-id", (json_int_t)op->snapshot_id,
                  "sequence-number", (json_int_t)seq, "timestamp-ms", (json_int_t)now_ms(),
                  "manifest-list", path, "summary", sum, "schema-id",
                  (json_int_t)json_integer_value(json_object_get(op->base, "current-schema-id")));
    if (parent >= 0)
        json_object_set_new(snap, "parent-snapshot-id", json_integer(parent));
    json_decref(op->new_meta);
    op->new_meta = json_deep_copy(op->base);
    ls_iceberg_metadata_add_snapshot(op->new_meta, snap, op->branch != NULL ? op->branch : "main");
    free(path);
    op_put(op,
           json_string_value(json_object_get(
               ls_iceberg_metadata_snapshot(op->new_meta, op->snapshot_id), "manifest-list")),
           op->list_bytes, op->list_len, snapshot_list_written);
}

static void snapshot_list_written(op_t *op)
{
    op_commit(op, op->after_collect);
}

/* Builds and commits a snapshot on op->base from the collected manifests (op->manifests /
 * op->entries): files whose path is in op->deleted become DELETED in one rewritten manifest
 * (with the other files of the manifests they were in as EXISTING), op's added manifest joins
 * the list, then the list, the metadata and the catalog swap. done runs after the commit. */
static void build_snapshot(op_t *op, const char *operation, step_fn done)
{
    op->operation = operation;
    int64_t seq = json_integer_value(json_object_get(op->base, "last-sequence-number")) + 1;
    json_decref(op->pending_list);
    op->pending_list = json_array();
    json_decref(op->rewrite_entries);
    op->rewrite_entries = json_array();
    op->deleted_files = op->deleted_records = 0;
    for (size_t i = 0; op->manifests != NULL && i < json_array_size(op->manifests); i++) {
        json_t *mf = json_array_get(op->manifests, i);
        json_t *entries = json_array_get(op->entries, i);
        bool affected = false;
        size_t k;
        json_t *e;
        if (op->deleted != NULL && json_is_array(entries))
            json_array_foreach(entries, k, e)
            {
                const char *p = json_string_value(
                    json_object_get(json_object_get(e, "data_file"), "file_path"));
                if (json_integer_value(json_object_get(e, "status")) != LS_ICEBERG_DELETED &&
                    p != NULL && json_object_get(op->deleted, p) != NULL)
                    affected = true;
            }
        if (!affected) {
            json_array_append(op->pending_list, mf);
            continue;
        }
        json_array_foreach(entries, k, e)
        {
            int st = (int)json_integer_value(json_object_get(e, "status"));
            if (st == LS_ICEBERG_DELETED)
                continue;
            json_t *df = json_object_get(e, "data_file");
            const char *p = json_string_value(json_object_get(df, "file_path"));
            json_t *ne = json_deep_copy(e);
            if (p != NULL && json_object_get(op->deleted, p) != NULL) {
                json_object_set_new(ne, "status", json_integer(LS_ICEBERG_DELETED));
                json_object_set_new(ne, "snapshot_id", json_integer(op->snapshot_id));
                op->deleted_files++;
                op->deleted_records += json_integer_value(json_object_get(df, "record_count"));
            } else {
                json_object_set_new(ne, "status", json_integer(LS_ICEBERG_EXISTING));
            }
            json_array_append_new(op->rewrite_entries, ne);
        }
    }
    if (op->manifest_path != NULL)
        json_array_append_new(op->pending_list, ls_iceberg_manifest_file_new(
                                                    op->manifest_path, op->manifest_len, op->spec,
                                                    op->manifest_entries, op->snapshot_id, seq));
    op->after_collect = done; /* reused as the post-commit continuation */
    if (json_array_size(op->rewrite_entries) == 0) {
        snapshot_write_list(op);
        return;
    }
    free(op->rewrite_bytes);
    op->rewrite_bytes = NULL;
    ls_error_t e;
    if (ls_iceberg_manifest_write(op->schema, op->spec, op->rewrite_entries, &op->rewrite_bytes,
                                  &op->rewrite_len, &e) != LS_ERR_OK) {
        e.code = LS_ERR_INTERNAL;
        op_fail_err(op, &e);
        return;
    }
    char uuid[37];
    ls_iceberg_uuid(uuid);
    free(op->rewrite_path);
    op->rewrite_path = ls_asprintf("%s/metadata/%s-m1.avro", op->location, uuid);
    op_put(op, op->rewrite_path, op->rewrite_bytes, op->rewrite_len, snapshot_write_list);
}

/* ---------------- append / overwrite ---------------- */

static void append_committed(op_t *op)
{
    int64_t added = 0;
    for (size_t i = 0; i < op->n_files; i++)
        added += op->files[i].records;
    op->result = json_pack(
        "{s:I,s:I,s:I,s:I,s:I,s:i}", "snapshot_id", (json_int_t)op->snapshot_id, "sequence_number",
        (json_int_t)json_integer_value(json_object_get(op->new_meta, "last-sequence-number")),
        "added_files", (json_int_t)op->n_files, "added_records", (json_int_t)added, "deleted_files",
        (json_int_t)op->deleted_files, "attempts", op->attempt + 1);
    op_done(op);
}

static void append_collected(op_t *op)
{
    if (op->overwrite) {
        /* dynamic partition overwrite: every live file in a partition the new rows touch
         * (unpartitioned: every file) is deleted in this snapshot */
        json_decref(op->deleted);
        op->deleted = json_object();
        json_t *touched = json_object();
        for (size_t i = 0; i < op->n_files; i++) {
            char *k = json_dumps(json_object_get(op->files[i].data_file, "partition"),
                                 JSON_COMPACT | JSON_SORT_KEYS);
            json_object_set_new(touched, k, json_true());
            free(k);
        }
        size_t i, k;
        json_t *e;
        FOREACH_LIVE(op, i, k, e)
        {
            json_t *mf = json_array_get(op->manifests, i);
            if (json_integer_value(json_object_get(mf, "partition_spec_id")) != op->spec->spec_id)
                continue;
            json_t *df = json_object_get(e, "data_file");
            char *pk = json_dumps(json_object_get(df, "partition"), JSON_COMPACT | JSON_SORT_KEYS);
            if (op->spec->n_fields == 0 || json_object_get(touched, pk) != NULL)
                json_object_set_new(
                    op->deleted, json_string_value(json_object_get(df, "file_path")), json_true());
            free(pk);
        }
        json_decref(touched);
    }
    build_snapshot(op, op->overwrite ? "overwrite" : "append", append_committed);
}

static void append_commit_phase(op_t *op)
{
    int64_t head = branch_head(op);
    const char *type = NULL;
    if (op->branch != NULL && strcmp(op->branch, "main") != 0 &&
        (ls_iceberg_metadata_ref(op->base, op->branch, &type) < 0 || type == NULL ||
         strcmp(type, "branch") != 0)) {
        op_fail(op, LS_ERR_NOT_FOUND, "no branch \"%s\" (create it first)", op->branch);
        return;
    }
    ls_error_t e;
    if (load_views(op, &e) != LS_ERR_OK) {
        op_fail_err(op, &e);
        return;
    }
    json_decref(op->manifests);
    op->manifests = NULL;
    json_decref(op->entries);
    op->entries = NULL;
    if (head < 0) {
        append_collected(op);
        return;
    }
    collect(op, head, op->overwrite, append_collected);
}

static void append_put_next(op_t *op);

static void append_manifest_written(op_t *op)
{
    op->files_ready = true;
    append_commit_phase(op);
}

static void append_put_next(op_t *op)
{
    if (op->idx > 0) {
        ls_iceberg_new_file_t *f = &op->files[op->idx - 1];
        op->c->stats.data_files_written++;
        op->c->stats.data_bytes_written += f->len;
        op->c->stats.rows_written += (unsigned long long)f->records;
        free(f->bytes); /* uploaded: only its manifest record is still needed */
        f->bytes = NULL;
    }
    if (op->idx < op->n_files) {
        ls_iceberg_new_file_t *f = &op->files[op->idx++];
        op_put(op, f->path, f->bytes, f->len, append_put_next);
        return;
    }
    op_put(op, op->manifest_path, op->manifest, op->manifest_len, append_manifest_written);
}

/* Worker: rows -> Parquet files -> the manifest that adds them. */
static void write_files_work(op_t *op)
{
    json_t *rows = op->rows != NULL ? op->rows : op->input;
    if (ls_iceberg_write_rows(op->schema, op->spec, rows, op->location, op->max_rows_per_file,
                              &op->files, &op->n_files, &op->err) != LS_ERR_OK)
        return;
    op->manifest_entries = json_array();
    for (size_t i = 0; i < op->n_files; i++)
        json_array_append_new(op->manifest_entries,
                              json_pack("{s:i,s:I,s:n,s:n,s:O}", "status", LS_ICEBERG_ADDED,
                                        "snapshot_id", (json_int_t)op->snapshot_id,
                                        "sequence_number", "file_sequence_number", "data_file",
                                        op->files[i].data_file));
    ls_iceberg_manifest_write(op->schema, op->spec, op->manifest_entries, &op->manifest,
                              &op->manifest_len, &op->err);
}

static void files_written(op_t *op)
{
    char uuid[37];
    ls_iceberg_uuid(uuid);
    op->manifest_path = ls_asprintf("%s/metadata/%s-m0.avro", op->location, uuid);
    op->idx = 0;
    append_put_next(op);
}

static void append_apply(op_t *op)
{
    if (op->files_ready) {
        append_commit_phase(op);
        return;
    }
    ls_error_t e;
    if (load_views(op, &e) != LS_ERR_OK) {
        op_fail_err(op, &e);
        return;
    }
    op_work(op, write_files_work, files_written);
}

ls_err_t ls_iceberg_append(ls_iceberg_catalog_t *c, const char *ns, const char *name, json_t *rows,
                           const char *branch, bool overwrite, ls_iceberg_cb cb, void *arg,
                           ls_error_t *err)
{
    if (!json_is_array(rows) || json_array_size(rows) == 0)
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.rows",
                                 "rows must be a non-empty array of objects");
    op_t *op = NULL;
    if (op_new(c, OP_APPEND, ns, name, cb, arg, &op, err) != LS_ERR_OK)
        return err->code;
    op->input = json_deep_copy(rows); /* the work item owns its rows */
    op->branch = branch != NULL ? ls_strdup(branch) : NULL;
    op->overwrite = overwrite;
    op->snapshot_id = ls_iceberg_new_snapshot_id();
    op->apply = append_apply;
    op_load(op);
    return LS_ERR_OK;
}

/* ---------------- delete files ---------------- */

static void delete_committed(op_t *op)
{
    op->result = json_pack("{s:I,s:I,s:I,s:i}", "snapshot_id", (json_int_t)op->snapshot_id,
                           "deleted_files", (json_int_t)op->deleted_files, "deleted_records",
                           (json_int_t)op->deleted_records, "attempts", op->attempt + 1);
    op_done(op);
}

/* The first path of op->deleted that is not a live data file of the
 * collected entries, or NULL when all are live. Borrowed from op->deleted. */
static const char *first_dead_path(op_t *op)
{
    json_t *live = json_object();
    size_t i, k;
    json_t *e;
    FOREACH_LIVE(op, i, k, e)
    json_object_set_new(
        live, json_string_value(json_object_get(json_object_get(e, "data_file"), "file_path")),
        json_true());
    const char *p, *dead = NULL;
    json_t *v;
    json_object_foreach(op->deleted, p, v) if (dead == NULL && json_object_get(live, p) == NULL)
        dead = p;
    json_decref(live);
    return dead;
}

static void delete_collected(op_t *op)
{
    const char *dead = first_dead_path(op);
    if (dead != NULL) {
        op_fail(op, LS_ERR_NOT_FOUND, "%s is not a live data file of %s.%s", dead, op->ns,
                op->name);
        return;
    }
    build_snapshot(op, "delete", delete_committed);
}

static void delete_apply(op_t *op)
{
    ls_error_t e;
    if (load_views(op, &e) != LS_ERR_OK) {
        op_fail_err(op, &e);
        return;
    }
    int64_t head = ls_iceberg_metadata_current_snapshot(op->base);
    if (head < 0) {
        op_fail(op, LS_ERR_NOT_FOUND, "table %s.%s has no data files", op->ns, op->name);
        return;
    }
    collect(op, head, true, delete_collected);
}

ls_err_t ls_iceberg_delete_files(ls_iceberg_catalog_t *c, const char *ns, const char *name,
                                 json_t *paths, ls_iceberg_cb cb, void *arg, ls_error_t *err)
{
    if (!json_is_array(paths) || json_array_size(paths) == 0 || json_array_size(paths) > 100000)
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.files",
                                 "files must be a non-empty array of data file paths");
    size_t i;
    json_t *p;
    json_array_foreach(paths, i, p) if (!json_is_string(p)) return ls_error_set_path(
        err, LS_ERR_INVALID_ARGUMENT, "$.files", "files must be strings");
    op_t *op = NULL;
    if (op_new(c, OP_APPEND, ns, name, cb, arg, &op, err) != LS_ERR_OK)
        return err->code;
    op->deleted = json_object();
    json_array_foreach(paths, i, p)
        json_object_set_new(op->deleted, json_string_value(p), json_true());
    op->snapshot_id = ls_iceberg_new_snapshot_id();
    op->apply = delete_apply;
    op_load(op);
    return LS_ERR_OK;
}

/* ---------------- metadata-only changes ---------------- */

static void meta_committed(op_t *op)
{
    op_done(op);
}

static void meta_apply(op_t *op)
{
    json_decref(op->new_meta);
    op->new_meta = json_deep_copy(op->base);
    json_decref(op->result);
    op->result = NULL;
    ls_error_t e;
    ls_err_t rc = LS_ERR_OK;
    switch (op->kind) {
    case OP_REF: {
        int64_t id = op->snapshot_param >= 0 ? op->snapshot_param
                                             : ls_iceberg_metadata_current_snapshot(op->base);
        if (id < 0) {
            op_fail(op, LS_ERR_FAILED_PRECONDITION, "table %s.%s has no snapshot yet", op->ns,
                    op->name);
            return;
        }
        rc = ls_iceberg_metadata_set_ref(op->new_meta, op->ref, op->ref_type, id, op->replace, &e);
        op->result = json_pack("{s:s,s:s,s:I}", "name", op->ref, "type", op->ref_type,
                               "snapshot_id", (json_int_t)id);
        break;
    }
    case OP_UNREF:
        rc = ls_iceberg_metadata_remove_ref(op->new_meta, op->ref, op->ref_type, &e);
        op->result =
            json_pack("{s:s,s:s,s:b}", "name", op->ref, "type", op->ref_type, "removed", 1);
        break;
    case OP_EVOLVE: {
        json_t *add = json_object_get(op->input, "add_column");
        json_t *widen = json_object_get(op->input, "widen_column");
        json_t *ch = add != NULL ? add : widen;
        const char *n = json_string_value(json_object_get(ch, "name"));
        const char *t = json_string_value(json_object_get(ch, "type"));
        if (ch == NULL || n == NULL || t == NULL)
            rc = ls_error_set(&e, LS_ERR_INVALID_ARGUMENT,
                              "change must be {\"add_column\":{\"name\",\"type\"}} or "
                              "{\"widen_column\":{\"name\",\"type\"}}");
        else if (add != NULL)
            rc = ls_iceberg_metadata_add_column(op->new_meta, n, t, &e);
        else
            rc = ls_iceberg_metadata_widen_column(op->new_meta, n, t, &e);
        if (rc == LS_ERR_OK) {
            ls_iceberg_schema_t *s = NULL;
            if (ls_iceberg_metadata_schema(op->new_meta, -1, &s, &e) == LS_ERR_OK) {
                op->result = json_incref(s->json);
                ls_iceberg_schema_free(s);
            }
        }
        break;
    }
    case OP_EXPIRE: {
        json_t *gone = ls_iceberg_metadata_expire(op->new_meta, op->older_than_ms, op->retain_last);
        json_t *ids = json_array();
        size_t i;
        json_t *s;
        json_array_foreach(gone, i, s) json_array_append(ids, json_object_get(s, "snapshot-id"));
        json_decref(gone);
        op->result = json_pack("{s:o}", "expired_snapshot_ids", ids);
        if (json_array_size(ids) == 0) {
            op_done(op); /* nothing to commit */
            return;
        }
        break;
    }
    default:
        break;
    }
    if (rc != LS_ERR_OK) {
        op_fail_err(op, &e);
        return;
    }
    op_commit(op, meta_committed);
}

static ls_err_t start_meta_op(ls_iceberg_catalog_t *c, int kind, const char *ns, const char *name,
                              ls_iceberg_cb cb, void *arg, op_t **out, ls_error_t *err)
{
    if (op_new(c, kind, ns, name, cb, arg, out, err) != LS_ERR_OK)
        return err->code;
    (*out)->apply = meta_apply;
    return LS_ERR_OK;
}

ls_err_t ls_iceberg_set_ref(ls_iceberg_catalog_t *c, const char *ns, const char *name,
                            const char *ref, const char *type, int64_t snapshot_id, bool replace,
                            ls_iceberg_cb cb, void *arg, ls_error_t *err)
{
    if (ref == NULL || ref[0] == '\0' || strlen(ref) > 255)
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.name",
                                 "ref name must be 1..255 characters");
    if (type == NULL || (strcmp(type, "tag") != 0 && strcmp(type, "branch") != 0))
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "ref type must be tag or branch");
    op_t *op = NULL;
    if (start_meta_op(c, OP_REF, ns, name, cb, arg, &op, err) != LS_ERR_OK)
        return err->code;
    op->ref = ls_strdup(ref);
    op->ref_type = ls_strdup(type);
    op->snapshot_param = snapshot_id;
    op->replace = replace;
    op_load(op);
    return LS_ERR_OK;
}

ls_err_t ls_iceberg_remove_ref(ls_iceberg_catalog_t *c, const char *ns, const char *name,
                               const char *ref, const char *type, ls_iceberg_cb cb, void *arg,
                               ls_error_t *err)
{
    if (ref == NULL || type == NULL || (strcmp(type, "tag") != 0 && strcmp(type, "branch") != 0))
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "ref name and type (tag, branch)");
    op_t *op = NULL;
    if (start_meta_op(c, OP_UNREF, ns, name, cb, arg, &op, err) != LS_ERR_OK)
        return err->code;
    op->ref = ls_strdup(ref);
    op->ref_type = ls_strdup(type);
    op_load(op);
    return LS_ERR_OK;
}

ls_err_t ls_iceberg_evolve(ls_iceberg_catalog_t *c, const char *ns, const char *name,
                           json_t *change, ls_iceberg_cb cb, void *arg, ls_error_t *err)
{
    if (!json_is_object(change))
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "change must be an object");
    op_t *op = NULL;
    if (start_meta_op(c, OP_EVOLVE, ns, name, cb, arg, &op, err) != LS_ERR_OK)
        return err->code;
    op->input = json_deep_copy(change);
    op_load(op);
    return LS_ERR_OK;
}

ls_err_t ls_iceberg_expire(ls_iceberg_catalog_t *c, const char *ns, const char *name,
                           int64_t older_than_ms, int retain_last, ls_iceberg_cb cb, void *arg,
                           ls_error_t *err)
{
    op_t *op = NULL;
    if (start_meta_op(c, OP_EXPIRE, ns, name, cb, arg, &op, err) != LS_ERR_OK)
        return err->code;
    op->older_than_ms = older_than_ms;
    op->retain_last = retain_last < 1 ? 1 : retain_last;
    op_load(op);
    return LS_ERR_OK;
}

/* ---------------- reads: files and scans ---------------- */

static ls_err_t resolve(op_t *op, int64_t *out, ls_error_t *e)
{
    return ls_iceberg_metadata_resolve(op->base, op->as_of.ref, op->as_of.snapshot_id,
                                       op->as_of.as_of_ms, out, e);
}

static json_t *file_json(op_t *op, json_t *mf, json_t *e)
{
    json_t *df = json_object_get(e, "data_file");
    json_t *part = json_object();
    /* partition values in Iceberg's JSON form, when the file's spec is the default spec */
    json_t *pin = json_object_get(df, "partition");
    const char *k;
    json_t *v;
    json_object_foreach(pin, k, v)
    {
        json_t *out = json_incref(v);
        for (size_t i = 0; op->spec != NULL && i < op->spec->n_fields; i++) {
            if (strcmp(op->spec->fields[i].name, k) != 0 || json_is_null(v) ||
                json_integer_value(json_object_get(mf, "partition_spec_id")) != op->spec->spec_id)
                continue;
            ls_parquet_value_t pv;
            ls_buf_t store = LS_BUF_INIT;
            if (ls_iceberg_partition_value_get(&op->spec->fields[i].result, v, &pv, &store)) {
                json_decref(out);
                out = ls_iceberg_value_to_json(&op->spec->fields[i].result, &pv);
            }
            ls_buf_free(&store);
        }
        json_object_set_new(part, k, out);
    }
    return json_pack("{s:O,s:O,s:O,s:o,s:O,s:O}", "file_path", json_object_get(df, "file_path"),
                     "record_count", json_object_get(df, "record_count"), "file_size_in_bytes",
                     json_object_get(df, "file_size_in_bytes"), "partition", part,
                     "sequence_number", json_object_get(e, "sequence_number"), "snapshot_id",
                     json_object_get(e, "snapshot_id"));
}

static void files_collected(op_t *op)
{
    json_t *files = json_array();
    size_t i, k;
    json_t *e;
    FOREACH_LIVE(op, i, k, e)
    json_array_append_new(files, file_json(op, json_array_get(op->manifests, i), e));
    op->result =
        json_pack("{s:I,s:o}", "snapshot_id", (json_int_t)op->read_snapshot, "files", files);
    op_done(op);
}

static void files_apply(op_t *op)
{
    ls_error_t e;
    if (load_views(op, &e) != LS_ERR_OK || resolve(op, &op->read_snapshot, &e) != LS_ERR_OK) {
        op_fail_err(op, &e);
        return;
    }
    if (op->read_snapshot < 0) {
        op->result = json_pack("{s:n,s:[]}", "snapshot_id", "files");
        op_done(op);
        return;
    }
    collect(op, op->read_snapshot, true, files_collected);
}

static void copy_as_of(op_t *op, const ls_iceberg_as_of_t *as_of)
{
    if (as_of == NULL)
        return;
    op->as_of.ref = as_of->ref != NULL ? ls_strdup(as_of->ref) : NULL;
    op->as_of.snapshot_id = as_of->snapshot_id;
    op->as_of.as_of_ms = as_of->as_of_ms;
}

ls_err_t ls_iceberg_files(ls_iceberg_catalog_t *c, const char *ns, const char *name,
                          const ls_iceberg_as_of_t *as_of, ls_iceberg_cb cb, void *arg,
                          ls_error_t *err)
{
    op_t *op = NULL;
    if (op_new(c, OP_FILES, ns, name, cb, arg, &op, err) != LS_ERR_OK)
        return err->code;
    copy_as_of(op, as_of);
    op->apply = files_apply;
    op_load(op);
    return LS_ERR_OK;
}

static void scan_next_file(op_t *op);

static void scan_read_work(op_t *op)
{
    ls_iceberg_read_rows(op->schema, op->got, op->got_len, op->has_filter ? &op->filter : NULL,
                         op->columns, op->n_columns, op->limit, op->rows, &op->err);
}

static void scan_file_read(op_t *op)
{
    free(op->got);
    op->got = NULL;
    op->files_scanned++;
    op->c->stats.files_scanned++;
    scan_next_file(op);
}

static void scan_file_got(op_t *op)
{
    op_work(op, scan_read_work, scan_file_read);
}

static void scan_next_file(op_t *op)
{
    if (op->idx < json_array_size(op->scan_files) &&
        (int64_t)json_array_size(op->rows) < op->limit) {
        op_get(op, json_string_value(json_array_get(op->scan_files, op->idx++)), scan_file_got);
        return;
    }
    op->c->stats.rows_returned += json_array_size(op->rows);
    op->result = json_pack("{s:I,s:O,s:I,s:I,s:I}", "snapshot_id", (json_int_t)op->read_snapshot,
                           "rows", op->rows, "files_scanned", (json_int_t)op->files_scanned,
                           "files_pruned", (json_int_t)op->files_pruned, "manifests_pruned",
                           (json_int_t)op->manifests_pruned);
    op_done(op);
}

static void scan_collected(op_t *op)
{
    op->c->stats.manifests_pruned += op->manifests_pruned;
    json_decref(op->scan_files);
    op->scan_files = json_array();
    size_t i, k;
    json_t *e;
    FOREACH_LIVE(op, i, k, e)
    {
        json_t *mf = json_array_get(op->manifests, i);
        json_t *df = json_object_get(e, "data_file");
        bool same_spec =
            json_integer_value(json_object_get(mf, "partition_spec_id")) == op->spec->spec_id;
        if (json_integer_value(json_object_get(df, "content")) != 0)
            continue; /* delete files: lakestream writes none; reading them is not supported */
        if (op->has_filter && !ls_iceberg_filter_may_match_file(&op->filter, op->schema,
                                                                same_spec ? op->spec : NULL, df)) {
            op->files_pruned++;
            continue;
        }
        json_array_append(op->scan_files, json_object_get(df, "file_path"));
    }
    op->c->stats.files_pruned += op->files_pruned;
    op->idx = 0;
    scan_next_file(op);
}

static void scan_apply(op_t *op)
{
    ls_error_t e;
    if (load_views(op, &e) != LS_ERR_OK || resolve(op, &op->read_snapshot, &e) != LS_ERR_OK) {
        op_fail_err(op, &e);
        return;
    }
    if (op->column_names != NULL) {
        op->n_columns = json_array_size(op->column_names);
        op->columns = ls_calloc(op->n_columns + 1, sizeof *op->columns);
        for (size_t i = 0; i < op->n_columns; i++) {
            const char *n = json_string_value(json_array_get(op->column_names, i));
            int c = n != NULL ? ls_iceberg_schema_find_name(op->schema, n) : -1;
            if (c < 0) {
                op_fail(op, LS_ERR_INVALID_ARGUMENT, "columns: the table has no column \"%s\"",
                        n != NULL ? n : "?");
                return;
            }
            op->columns[i] = c;
        }
    }
    if (op->filter_text != NULL) {
        if (ls_iceberg_filter_parse(op->filter_text, op->schema, &op->filter, &e) != LS_ERR_OK) {
            op_fail_err(op, &e);
            return;
        }
        op->has_filter = true;
    }
    op->rows = json_array();
    if (op->read_snapshot < 0) {
        scan_next_file(op);
        return;
    }
    collect(op, op->read_snapshot, true, scan_collected);
}

ls_err_t ls_iceberg_scan(ls_iceberg_catalog_t *c, const char *ns, const char *name,
                         const ls_iceberg_as_of_t *as_of, json_t *columns, const char *filter,
                         int64_t limit, ls_iceberg_cb cb, void *arg, ls_error_t *err)
{
    if (columns != NULL && (!json_is_array(columns) || json_array_size(columns) > 1000))
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "columns must be a list of names");
    if (filter != NULL && strlen(filter) > 4096)
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "filter longer than 4096 characters");
    op_t *op = NULL;
    if (op_new(c, OP_SCAN, ns, name, cb, arg, &op, err) != LS_ERR_OK)
        return err->code;
    c->stats.scans++;
    copy_as_of(op, as_of);
    op->column_names = columns != NULL ? json_deep_copy(columns) : NULL;
    op->filter_text = filter != NULL && filter[0] != '\0' ? ls_strdup(filter) : NULL;
    op->limit = limit < 0 || limit > SCAN_ROW_CAP ? SCAN_ROW_CAP : limit;
    op->apply = scan_apply;
    op_load(op);
    return LS_ERR_OK;
}

/* ---------------- compaction ---------------- */

static void compact_commit_apply(op_t *op);

static void compact_committed(op_t *op)
{
    op->c->stats.compaction_files_done += json_array_size(op->scan_files);
    int64_t records = 0;
    for (size_t i = 0; i < op->n_files; i++)
        records += op->files[i].records;
    op->result = json_pack("{s:I,s:I,s:I,s:I,s:i}", "snapshot_id", (json_int_t)op->snapshot_id,
                           "rewritten_files", (json_int_t)op->deleted_files, "added_files",
                           (json_int_t)op->n_files, "records", (json_int_t)records, "attempts",
                           op->attempt + 1);
    op_done(op);
}

static void compact_recollected(op_t *op)
{
    /* the files being replaced must all still be live: if another writer removed one, the
     * rewrite is stale and is dropped (its new files become orphans) */
    if (first_dead_path(op) != NULL) {
        for (size_t f = 0; f < op->n_files; f++)
            forget_file(op->c, op->files[f].path);
        forget_file(op->c, op->manifest_path);
        op_fail(op, LS_ERR_FAILED_PRECONDITION,
                "files being compacted were changed by a concurrent commit; nothing was changed");
        return;
    }
    build_snapshot(op, "replace", compact_committed);
}

static void compact_commit_apply(op_t *op)
{
    ls_error_t e;
    if (load_views(op, &e) != LS_ERR_OK) {
        op_fail_err(op, &e);
        return;
    }
    int64_t head = ls_iceberg_metadata_current_snapshot(op->base);
    if (head < 0) {
        op_fail(op, LS_ERR_FAILED_PRECONDITION, "table lost its snapshots during compaction");
        return;
    }
    collect(op, head, true, compact_recollected);
}

static void compact_manifest_written(op_t *op)
{
    op->files_ready = true;
    op->apply = compact_commit_apply; /* retries re-check and rebuild only the snapshot */
    compact_commit_apply(op);
}

static void compact_put_next(op_t *op)
{
    if (op->idx < op->n_files) {
        ls_iceberg_new_file_t *f = &op->files[op->idx++];
        op->c->stats.data_files_written++;
        op->c->stats.data_bytes_written += f->len;
        op_put(op, f->path, f->bytes, f->len, compact_put_next);
        return;
    }
    op_put(op, op->manifest_path, op->manifest, op->manifest_len, compact_manifest_written);
}

/* Worker: decode every input file with the current schema, re-encode per partition. */
static void compact_work(op_t *op)
{
    op->rows = json_array();
    uint64_t in_bytes = 0;
    for (size_t i = 0; i < json_array_size(op->scan_files); i++) {
        in_bytes += op->input_lens[i];
        if (ls_iceberg_read_rows(op->schema, op->inputs[i], op->input_lens[i], NULL, NULL, 0, -1,
                                 op->rows, &op->err) != LS_ERR_OK)
            return;
    }
    /* target-size output: the inputs' bytes per row predict the new files' */
    size_t n = json_array_size(op->rows);
    double per_row = n > 0 ? (double)in_bytes / (double)n : 1.0;
    double rows_per_file = (double)op->target_bytes / (per_row > 0 ? per_row : 1.0);
    op->max_rows_per_file = rows_per_file < 1.0 ? 1 : (size_t)rows_per_file;
    write_files_work(op);
}

static void compact_written(op_t *op)
{
    char uuid[37];
    ls_iceberg_uuid(uuid);
    op->manifest_path = ls_asprintf("%s/metadata/%s-m0.avro", op->location, uuid);
    op->idx = 0;
    compact_put_next(op);
}

static void compact_fetch_next(op_t *op);

static void compact_fetched(op_t *op)
{
    op->inputs[op->idx] = op->got;
    op->input_lens[op->idx] = op->got_len;
    op->got = NULL;
    op->idx++;
    compact_fetch_next(op);
}

static void compact_fetch_next(op_t *op)
{
    if (op->idx < json_array_size(op->scan_files)) {
        op_get(op, json_string_value(json_array_get(op->scan_files, op->idx)), compact_fetched);
        return;
    }
    op_work(op, compact_work, compact_written);
}

static void compact_planned(op_t *op)
{
    /* group small live files of the default spec by partition tuple */
    json_t *groups = json_object();
    size_t i, k;
    json_t *e;
    FOREACH_LIVE(op, i, k, e)
    {
        json_t *mf = json_array_get(op->manifests, i);
        json_t *df = json_object_get(e, "data_file");
        if (json_integer_value(json_object_get(mf, "partition_spec_id")) != op->spec->spec_id ||
            json_integer_value(json_object_get(df, "content")) != 0 ||
            (uint64_t)json_integer_value(json_object_get(df, "file_size_in_bytes")) >=
                op->target_bytes)
            continue;
        char *key = json_dumps(json_object_get(df, "partition"), JSON_COMPACT | JSON_SORT_KEYS);
        json_t *g = json_object_get(groups, key);
        if (g == NULL)
            json_object_set_new(groups, key, g = json_array());
        json_array_append(g, json_object_get(df, "file_path"));
        free(key);
    }
    op->scan_files = json_array();
    op->deleted = json_object();
    const char *key;
    json_t *g;
    json_object_foreach(groups, key, g)
    {
        if (json_array_size(g) < (size_t)op->min_files)
            continue;
        json_t *p;
        json_array_foreach(g, k, p)
        {
            json_array_append(op->scan_files, p);
            json_object_set(op->deleted, json_string_value(p), json_true());
        }
    }
    json_decref(groups);
    if (json_array_size(op->scan_files) == 0) {
        op->result = json_pack("{s:i,s:i,s:i,s:i}", "snapshot_id", -1, "rewritten_files", 0,
                               "added_files", 0, "records", 0);
        op_done(op);
        return;
    }
    op->c->stats.compactions++;
    op->c->stats.compaction_files_total += json_array_size(op->scan_files);
    size_t n = json_array_size(op->scan_files);
    op->inputs = ls_calloc(n + 1, sizeof *op->inputs);
    op->input_lens = ls_calloc(n + 1, sizeof *op->input_lens);
    op->idx = 0;
    compact_fetch_next(op);
}

static void compact_apply(op_t *op)
{
    ls_error_t e;
    if (load_views(op, &e) != LS_ERR_OK) {
        op_fail_err(op, &e);
        return;
    }
    int64_t head = ls_iceberg_metadata_current_snapshot(op->base);
    if (head < 0) {
        op->result = json_pack("{s:i,s:i,s:i,s:i}", "snapshot_id", -1, "rewritten_files", 0,
                               "added_files", 0, "records", 0);
        op_done(op);
        return;
    }
    collect(op, head, true, compact_planned);
}

ls_err_t ls_iceberg_compact(ls_iceberg_catalog_t *c, const char *ns, const char *name,
                            uint64_t target_bytes, int min_files, ls_iceberg_cb cb, void *arg,
                            ls_error_t *err)
{
    op_t *op = NULL;
    if (op_new(c, OP_COMPACT, ns, name, cb, arg, &op, err) != LS_ERR_OK)
        return err->code;
    op->target_bytes = target_bytes > 0 ? target_bytes : 128ull << 20;
    op->min_files = min_files < 2 ? 2 : min_files;
    op->snapshot_id = ls_iceberg_new_snapshot_id();
    op->apply = compact_apply;
    op_load(op);
    return LS_ERR_OK;
}

/* ---------------- orphans ---------------- */

static void orphans_list_page(op_t *op);

static void on_orphan_page(ls_objstore_result_t *r, void *data)
{
    op_t *op = data;
    if (r->status != LS_ERR_OK) {
        ls_error_t e = r->error;
        e.code = r->status;
        op_fail_err(op, &e);
        return;
    }
    json_t *orphans = json_object_get(op->result, "orphans");
    for (size_t i = 0; i < r->entry_count; i++) {
        char *url = ls_asprintf("%s/%s", op->c->warehouse, r->entries[i].key);
        if (json_object_get(op->referenced, url) == NULL &&
            r->entries[i].mtime * 1000 < op->older_than_ms)
            json_array_append_new(orphans, json_pack("{s:s,s:I}", "location", url, "size",
                                                     (json_int_t)r->entries[i].size));
        free(url);
    }
    free(op->list_token);
    op->list_token = r->next_continuation_token ? ls_strdup(r->next_continuation_token) : NULL;
    if (op->list_token == NULL) {
        op_done(op);
        return;
    }
    orphans_list_page(op);
}

static void orphans_list_page(op_t *op)
{
    char *prefix = ls_asprintf("%s/", key_of(op->c, op->location));
    ls_error_t e;
    ls_err_t rc =
        ls_objstore_list(op->c->store, prefix, op->list_token, 1000, on_orphan_page, op, &e);
    free(prefix);
    if (rc != LS_ERR_OK)
        op_fail_err(op, &e);
}

static void orphans_next_snapshot(op_t *op);

static void orphans_collected(op_t *op)
{
    size_t i, k;
    json_t *e;
    FOREACH_LIVE(op, i, k, e)
    json_object_set_new(
        op->referenced,
        json_string_value(json_object_get(json_object_get(e, "data_file"), "file_path")),
        json_true());
    for (i = 0; i < json_array_size(op->manifests); i++)
        json_object_set_new(
            op->referenced,
            json_string_value(json_object_get(json_array_get(op->manifests, i), "manifest_path")),
            json_true());
    op->snap_index++;
    orphans_next_snapshot(op);
}

static void orphans_next_snapshot(op_t *op)
{
    json_t *snaps = json_object_get(op->base, "snapshots");
    if ((size_t)op->snap_index < json_array_size(snaps)) {
        json_t *s = json_array_get(snaps, (size_t)op->snap_index);
        const char *ml = json_string_value(json_object_get(s, "manifest-list"));
        if (ml != NULL)
            json_object_set_new(op->referenced, ml, json_true());
        collect(op, json_integer_value(json_object_get(s, "snapshot-id")), true, orphans_collected);
        return;
    }
    if (key_of(op->c, op->location) == NULL) {
        op_fail(op, LS_ERR_FAILED_PRECONDITION, "table location is outside the warehouse");
        return;
    }
    op->result = json_pack("{s:[]}", "orphans");
    orphans_list_page(op);
}

static void orphans_apply(op_t *op)
{
    ls_error_t e;
    if (load_views(op, &e) != LS_ERR_OK) {
        op_fail_err(op, &e);
        return;
    }
    json_decref(op->referenced);
    op->referenced = json_object();
    json_object_set_new(op->referenced, op->base_loc, json_true());
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(op->base, "metadata-log"), i, m)
    {
        const char *f = json_string_value(json_object_get(m, "metadata-file"));
        if (f != NULL)
            json_object_set_new(op->referenced, f, json_true());
    }
    op->snap_index = 0;
    orphans_next_snapshot(op);
}

ls_err_t ls_iceberg_orphans(ls_iceberg_catalog_t *c, const char *ns, const char *name,
                            int64_t older_than_ms, ls_iceberg_cb cb, void *arg, ls_error_t *err)
{
    op_t *op = NULL;
    if (op_new(c, OP_ORPHANS, ns, name, cb, arg, &op, err) != LS_ERR_OK)
        return err->code;
    op->older_than_ms = older_than_ms > 0 ? older_than_ms : INT64_MAX / 2;
    op->apply = orphans_apply;
    op_load(op);
    return LS_ERR_OK;
}

/* ---------------- catalog ---------------- */

ls_err_t ls_iceberg_catalog_open(uv_loop_t *loop, ls_pg_t *pg, const char *warehouse,
                                 const char *catalog_name, ls_iceberg_catalog_t **out,
                                 ls_error_t *err)
{
    ls_iceberg_catalog_t *c = ls_calloc(1, sizeof *c);
    c->loop = loop;
    c->pg = pg;
    c->warehouse = ls_strdup(warehouse);
    size_t n = strlen(c->warehouse);
    while (n > 0 && c->warehouse[n - 1] == '/')
        c->warehouse[--n] = '\0';
    c->name = ls_strdup(catalog_name != NULL ? catalog_name : "lakestream");
    if (ls_objstore_open(loop, c->warehouse, NULL, &c->store, err) != LS_ERR_OK) {
        free(c->warehouse);
        free(c->name);
        free(c);
        return err->code;
    }
    *out = c;
    return LS_ERR_OK;
}

static void on_store_closed(void *arg)
{
    ls_iceberg_catalog_t *c = arg;
    void (*cb)(void *) = c->close_cb;
    void *cb_arg = c->close_arg;
    free(c->warehouse);
    free(c->name);
    free(c);
    if (cb != NULL)
        cb(cb_arg);
}

static void maybe_finish_close(ls_iceberg_catalog_t *c)
{
    if (!c->closing || c->inflight > 0 || c->store == NULL)
        return;
    ls_objstore_t *s = c->store;
    c->store = NULL;
    ls_objstore_close(s, on_store_closed, c);
}

void ls_iceberg_catalog_close(ls_iceberg_catalog_t *c, void (*cb)(void *arg), void *arg)
{
    c->closing = true;
    c->close_cb = cb;
    c->close_arg = arg;
    maybe_finish_close(c);
}

void ls_iceberg_catalog_stats(const ls_iceberg_catalog_t *c, ls_iceberg_stats_t *out)
{
    *out = c->stats;
}

const char *ls_iceberg_catalog_name(const ls_iceberg_catalog_t *c)
{
    return c->name;
}
const char *ls_iceberg_catalog_warehouse(const ls_iceberg_catalog_t *c)
{
    return c->warehouse;
}
