/*
 * The registry's operations (see registry.h). Each operation reads the
 * subject's whole state in one statement (mode, effective compatibility
 * level and every version row with its schema) and decides on that
 * snapshot; operations that change a subject first take the subject's
 * advisory lock inside their transaction, so the snapshot stays true until
 * commit even with other instances writing. Requests are validated
 * (validate.c) before anything is queued, so bad input never reaches
 * PostgreSQL. Loop thread; never blocks.
 */
#include "registry/registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "registry/internal.h"

/* The first key of the two-key advisory lock namespace the registry uses
 * ("reg" + 's'), so its locks never collide with other modules' one-key
 * locks. */
#define LOCK_NAMESPACE "1919252339"

/* Bound on how many compatibility messages a verbose answer carries. */
#define MAX_MESSAGES 100

/* ---------- service ---------- */

ls_registry_t *ls_registry_new(ls_pg_t *pg)
{
    ls_registry_t *r = ls_calloc(1, sizeof(*r));
    r->pg = pg;
    ls__registry_cache_init(r);
    ls_error_t err;
    if (ls_pg_listen(pg, LS__REGISTRY_CHANNEL, ls__registry_on_notify, r, &err) != LS_ERR_OK)
        ls_log(LS_LOG_WARN, "registry", "cannot listen for schema deletions: %s", err.message);
    return r;
}

void ls_registry_free(ls_registry_t *r)
{
    if (r == NULL)
        return;
    ls__registry_cache_free(r);
    free(r);
}

void ls_registry_set_ready(ls_registry_t *r)
{
    r->ready = true;
}

ls_err_t ls__registry_check_store(ls_registry_t *r, ls_registry_error_t *err)
{
    if (!r->ready)
        return ls_registry_error_set(err, LS_REGISTRY_STORE_ERROR,
                                     "Error in the backend data store: the registry is starting "
                                     "(schema migrations not applied yet)");
    if (!ls_pg_is_up(r->pg))
        return ls_registry_error_set(err, LS_REGISTRY_STORE_ERROR,
                                     "Error in the backend data store: PostgreSQL is unavailable");
    return LS_ERR_OK;
}

/* ---------- subject operations ---------- */

typedef enum {
    OP_LIST_VERSIONS,
    OP_GET_VERSION,
    OP_LOOKUP,
    OP_COMPAT,
    OP_REGISTER,
    OP_DELETE_SUBJECT,
    OP_DELETE_VERSION,
} op_kind_t;

typedef struct {
    int version;
    int32_t id;
    bool deleted;
    char *text;
    char *canonical;
} row_t;

typedef struct {
    ls_registry_t *r;
    op_kind_t kind;
    ls_registry_cb cb;
    void *arg;
    char *subject;
    int version; /* -1 latest, 0 none given */
    bool deleted, permanent, verbose;
    ls_avro_schema_t *candidate;
    char *canonical;
    int32_t import_id;
    int import_version;
    ls_pg_tx_t *tx;
    ls_registry_mode_t mode;
    ls_compat_level_t level;
    row_t *rows;
    size_t nrows;
    /* outcome */
    json_t *result;
    ls_registry_error_t err;
    int32_t new_id;
    int new_version;
    int step;
    bool inserted_schema, tried_insert;
    int32_t *evict;
    size_t evict_count;
} op_t;

static void op_free(op_t *op)
{
    free(op->subject);
    ls_avro_schema_free(op->candidate);
    free(op->canonical);
    for (size_t i = 0; i < op->nrows; i++) {
        free(op->rows[i].text);
        free(op->rows[i].canonical);
    }
    free(op->rows);
    json_decref(op->result);
    free(op->evict);
    free(op);
}

static void op_finish(op_t *op)
{
    if (op->err.error_code == 0) {
        json_t *result = op->result;
        op->result = NULL;
        op->cb(op->arg, result, &op->err);
    } else {
        op->cb(op->arg, NULL, &op->err);
    }
    op_free(op);
}

static void store_error(op_t *op, const char *what, const ls_error_t *qerr)
{
    ls_registry_error_set(&op->err, LS_REGISTRY_STORE_ERROR, "Error while %s: %s", what,
                          qerr->message);
}

/* The subject's live (or all, with deleted) rows, newest last. */
static size_t live_rows(const op_t *op, bool with_deleted, const row_t **out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < op->nrows && n < cap; i++)
        if (with_deleted || !op->rows[i].deleted)
            out[n++] = &op->rows[i];
    return n;
}

static bool has_live(const op_t *op)
{
    for (size_t i = 0; i < op->nrows; i++)
        if (!op->rows[i].deleted)
            return true;
    return false;
}

/* The row for the requested version: latest among the rows allowed, or the
 * exact number. */
static const row_t *find_version(const op_t *op, int version, bool with_deleted)
{
    for (size_t i = op->nrows; i-- > 0;) {
        const row_t *row = &op->rows[i];
        if (!with_deleted && row->deleted)
            continue;
        if (version == -1 || row->version == version)
            return row;
    }
    return NULL;
}

static json_t *version_json(const op_t *op, const row_t *row)
{
    return json_pack("{s:s,s:i,s:i,s:s}", "subject", op->subject, "version", row->version, "id",
                     (int)row->id, "schema", row->text);
}

/* The parsed schema of a row: from the cache, or parsed and cached. */
static ls_registry_schema_t *row_schema(op_t *op, const row_t *row, ls_error_t *err)
{
    ls_registry_schema_t *s = ls_registry_schema_cached(op->r, row->id);
    if (s != NULL)
        return ls_registry_schema_ref(s);
    s = ls__registry_schema_new(row->id, row->text, strlen(row->text), err);
    if (s == NULL)
        return NULL;
    ls_registry_schema_t *cached = ls__registry_cache_put(op->r, s);
    ls_registry_schema_unref(s);
    return ls_registry_schema_ref(cached);
}

static const char *const direction_names[] = {"BACKWARD", "FORWARD"};

/* Checks op->candidate against rows (oldest first) under level; appends
 * Confluent-style messages to messages (may be NULL). */
static bool compat_against(op_t *op, ls_compat_level_t level, const row_t *const *rows,
                           size_t nrows, json_t *messages, char *first_reason, size_t reason_size)
{
    if (level == LS_COMPAT_NONE || nrows == 0)
        return true;
    bool transitive = level == LS_COMPAT_BACKWARD_TRANSITIVE ||
                      level == LS_COMPAT_FORWARD_TRANSITIVE || level == LS_COMPAT_FULL_TRANSITIVE;
    bool backward = level != LS_COMPAT_FORWARD && level != LS_COMPAT_FORWARD_TRANSITIVE;
    bool forward = level != LS_COMPAT_BACKWARD && level != LS_COMPAT_BACKWARD_TRANSITIVE;
    const ls_avro_node_t *cand = ls_avro_schema_root(op->candidate);
    bool ok = true;
    for (size_t k = nrows; k-- > 0;) {
        ls_error_t perr;
        ls_registry_schema_t *prev = row_schema(op, rows[k], &perr);
        if (prev == NULL) {
            ls_log(LS_LOG_ERROR, "registry", "stored schema %d is unreadable: %s", rows[k]->id,
                   perr.message);
            continue;
        }
        const ls_avro_node_t *old = ls_avro_schema_root(ls_registry_schema_avro(prev));
        for (int d = 0; d < 2; d++) {
            if ((d == 0 && !backward) || (d == 1 && !forward))
                continue;
            ls_compat_result_t res = {0};
            bool one =
                d == 0 ? ls_compat_can_read(cand, old, &res) : ls_compat_can_read(old, cand, &res);
            if (!one) {
                ok = false;
                for (size_t i = 0; i < res.count; i++) {
                    if (first_reason != NULL && first_reason[0] == '\0')
                        snprintf(first_reason, reason_size, "%s against version %d: %.300s",
                                 direction_names[d], rows[k]->version, res.items[i].message);
                    if (messages != NULL && json_array_size(messages) < MAX_MESSAGES) {
                        char *m = ls_asprintf("{errorType:'%s', description:'%s', direction:'%s', "
                                              "oldSchemaVersion: %d}",
                                              ls_compat_error_type_name(res.items[i].type),
                                              res.items[i].message,
                                              d == 0 ? "BACKWARD (new schema reads old data)"
                                                     : "FORWARD (old schema reads new data)",
                                              rows[k]->version);
                        json_array_append_new(messages, json_string(m));
                        free(m);
                    }
                }
            }
            ls_compat_result_free(&res);
        }
        ls_registry_schema_unref(prev);
        if (!transitive)
            break;
    }
    if (!ok && messages != NULL) {
        char *m = ls_asprintf("{compatibility: '%s'}", ls_compat_level_name(level));
        json_array_append_new(messages, json_string(m));
        free(m);
    }
    return ok;
}

/* Decisions of the read-only operations on the loaded state. */
static void decide_read(op_t *op)
{
    const row_t *row;
    switch (op->kind) {
    case OP_LIST_VERSIONS: {
        json_t *list = json_array();
        for (size_t i = 0; i < op->nrows; i++)
            if (op->deleted || !op->rows[i].deleted)
                json_array_append_new(list, json_integer(op->rows[i].version));
        if (json_array_size(list) == 0) {
            json_decref(list);
            ls_registry_error_set(&op->err, LS_REGISTRY_SUBJECT_NOT_FOUND,
                                  "Subject '%.260s' not found.", op->subject);
            return;
        }
        op->result = list;
        return;
    }
    case OP_GET_VERSION:
        if (op->nrows == 0 || (!op->deleted && !has_live(op))) {
            ls_registry_error_set(&op->err, LS_REGISTRY_SUBJECT_NOT_FOUND,
                                  "Subject '%.260s' not found.", op->subject);
            return;
        }
        row = find_version(op, op->version, op->deleted);
        if (row == NULL) {
            if (op->version == -1)
                ls_registry_error_set(&op->err, LS_REGISTRY_VERSION_NOT_FOUND,
                                      "Version latest not found.");
            else
                ls_registry_error_set(&op->err, LS_REGISTRY_VERSION_NOT_FOUND,
                                      "Version %d not found.", op->version);
            return;
        }
        op->result = version_json(op, row);
        return;
    case OP_LOOKUP:
        if (op->nrows == 0 || (!op->deleted && !has_live(op))) {
            ls_registry_error_set(&op->err, LS_REGISTRY_SUBJECT_NOT_FOUND,
                                  "Subject '%.260s' not found.", op->subject);
            return;
        }
        for (size_t i = op->nrows; i-- > 0;) {
            row = &op->rows[i];
            if ((op->deleted || !row->deleted) && strcmp(row->canonical, op->canonical) == 0) {
                op->result = version_json(op, row);
                return;
            }
        }
        ls_registry_error_set(&op->err, LS_REGISTRY_SCHEMA_NOT_FOUND, "Schema not found");
        return;
    case OP_COMPAT: {
        json_t *messages = op->verbose ? json_array() : NULL;
        bool ok;
        if (op->version == 0) {
            const row_t **live = ls_calloc(op->nrows + 1, sizeof(*live));
            size_t n = live_rows(op, false, live, op->nrows);
            ok = compat_against(op, op->level, live, n, messages, NULL, 0);
            free(live);
        } else {
            if (!has_live(op)) {
                if (op->version == -1) {
                    /* Nothing registered yet: anything is compatible. */
                    ok = true;
                    goto answer;
                }
                json_decref(messages);
                ls_registry_error_set(&op->err, LS_REGISTRY_SUBJECT_NOT_FOUND,
                                      "Subject '%.260s' not found.", op->subject);
                return;
            }
            row = find_version(op, op->version, false);
            if (row == NULL) {
                json_decref(messages);
                ls_registry_error_set(&op->err, LS_REGISTRY_VERSION_NOT_FOUND,
                                      "Version %d not found.", op->version);
                return;
            }
            ok = compat_against(op, op->level, &row, 1, messages, NULL, 0);
        }
    answer:
        op->result = json_pack("{s:b}", "is_compatible", ok);
        if (messages != NULL)
            json_object_set_new(op->result, "messages", messages);
        return;
    }
    default:
        return;
    }
}

static ls_err_t load_rows(op_t *op, PGresult *res)
{
    int n = PQntuples(res);
    if (n < 1) {
        ls_registry_error_set(&op->err, LS_REGISTRY_STORE_ERROR, "subject state query gave no row");
        return LS_ERR_INTERNAL;
    }
    ls_error_t e;
    if (ls_registry_mode_parse(PQgetvalue(res, 0, 0), &op->mode, NULL) != LS_ERR_OK)
        op->mode = LS_REGISTRY_READWRITE;
    if (ls_compat_level_parse(PQgetvalue(res, 0, 1), &op->level, &e) != LS_ERR_OK)
        op->level = LS_COMPAT_BACKWARD;
    op->rows = ls_calloc((size_t)n, sizeof(row_t));
    for (int i = 0; i < n; i++) {
        if (PQgetisnull(res, i, 2))
            continue;
        row_t *row = &op->rows[op->nrows++];
        row->version = atoi(PQgetvalue(res, i, 2));
        row->id = (int32_t)atoi(PQgetvalue(res, i, 3));
        row->deleted = PQgetvalue(res, i, 4)[0] == 't';
        row->text = ls_strdup(PQgetvalue(res, i, 5));
        row->canonical = ls_strdup(PQgetvalue(res, i, 6));
    }
    return LS_ERR_OK;
}

/* Mode, effective level and every version of subject $1 in one snapshot;
 * always at least one row (version NULL when the subject has none). */
#define STATE_SQL                                                                                  \
    "SELECT c.mode, c.level, v.version, v.schema_id, v.deleted, s.schema_text, s.canonical "       \
    "FROM (SELECT coalesce((SELECT mode FROM registry_mode WHERE subject = ''), 'READWRITE') "     \
    "AS mode, coalesce((SELECT compatibility FROM registry_config WHERE subject = $1), "           \
    "(SELECT compatibility FROM registry_config WHERE subject = ''), 'BACKWARD') AS level) c "     \
    "LEFT JOIN registry_subject_versions v ON v.subject = $1 "                                     \
    "LEFT JOIN registry_schemas s ON s.id = v.schema_id ORDER BY v.version"

static void on_read_state(void *arg, PGresult *res, const ls_error_t *qerr)
{
    op_t *op = arg;
    if (qerr->code != LS_ERR_OK)
        store_error(op, "reading the subject", qerr);
    else if (load_rows(op, res) == LS_ERR_OK)
        decide_read(op);
    op_finish(op);
}

static op_t *op_new(ls_registry_t *r, op_kind_t kind, const char *subject, ls_registry_cb cb,
                    void *arg)
{
    op_t *op = ls_calloc(1, sizeof(*op));
    op->r = r;
    op->kind = kind;
    op->cb = cb;
    op->arg = arg;
    op->subject = ls_strdup(subject);
    ls__registry_error_ok(&op->err);
    return op;
}

static ls_err_t start_read(op_t *op, ls_registry_error_t *err)
{
    const char *params[] = {op->subject};
    ls_error_t qerr;
    if (ls_pg_query(op->r->pg, STATE_SQL, 1, params, on_read_state, op, &qerr) != LS_ERR_OK) {
        op_free(op);
        return ls_registry_error_set(err, LS_REGISTRY_STORE_ERROR,
                                     "Error in the backend data store: %s", qerr.message);
    }
    return LS_ERR_OK;
}

ls_err_t ls_registry_list_versions(ls_registry_t *r, const char *subject, bool deleted,
                                   ls_registry_cb cb, void *arg, ls_registry_error_t *err)
{
    if (ls_registry_check_subject(subject, err) != LS_ERR_OK ||
        ls__registry_check_store(r, err) != LS_ERR_OK)
        return err->error.code;
    op_t *op = op_new(r, OP_LIST_VERSIONS, subject, cb, arg);
    op->deleted = deleted;
    return start_read(op, err);
}

ls_err_t ls_registry_get_version(ls_registry_t *r, const char *subject, const char *version,
                                 bool deleted, ls_registry_cb cb, void *arg,
                                 ls_registry_error_t *err)
{
    int v;
    if (ls_registry_check_subject(subject, err) != LS_ERR_OK ||
        ls_registry_parse_version(version, &v, err) != LS_ERR_OK ||
        ls__registry_check_store(r, err) != LS_ERR_OK)
        return err->error.code;
    op_t *op = op_new(r, OP_GET_VERSION, subject, cb, arg);
    op->version = v;
    op->deleted = deleted;
    return start_read(op, err);
}

/* Validates subject and a schema body and checks the store; the new op
 * carries the parsed candidate. NULL with err filled on failure. */
static op_t *schema_op_new(ls_registry_t *r, op_kind_t kind, const char *subject,
                           const char *version, const json_t *body, ls_registry_cb cb, void *arg,
                           ls_registry_error_t *err)
{
    int v = 0;
    ls_avro_schema_t *schema = NULL;
    char *canonical = NULL;
    int32_t id;
    int import_version;
    if (ls_registry_check_subject(subject, err) != LS_ERR_OK ||
        (version != NULL && ls_registry_parse_version(version, &v, err) != LS_ERR_OK) ||
        ls_registry_parse_schema_request(body, &schema, &canonical, &id, &import_version, err) !=
            LS_ERR_OK)
        return NULL;
    if (ls__registry_check_store(r, err) != LS_ERR_OK) {
        ls_avro_schema_free(schema);
        free(canonical);
        return NULL;
    }
    op_t *op = op_new(r, kind, subject, cb, arg);
    op->version = v;
    op->candidate = schema;
    op->canonical = canonical;
    op->import_id = id;
    op->import_version = import_version;
    return op;
}

ls_err_t ls_registry_lookup(ls_registry_t *r, const char *subject, const json_t *body, bool deleted,
                            ls_registry_cb cb, void *arg, ls_registry_error_t *err)
{
    op_t *op = schema_op_new(r, OP_LOOKUP, subject, NULL, body, cb, arg, err);
    if (op == NULL)
        return err->error.code;
    op->deleted = deleted;
    return start_read(op, err);
}

ls_err_t ls_registry_check_compatibility(ls_registry_t *r, const char *subject, const char *version,
                                         const json_t *body, bool verbose, ls_registry_cb cb,
                                         void *arg, ls_registry_error_t *err)
{
    op_t *op = schema_op_new(r, OP_COMPAT, subject, version, body, cb, arg, err);
    if (op == NULL)
        return err->error.code;
    op->verbose = verbose;
    return start_read(op, err);
}

/* ---------- writes: transaction, lock, state, decide, write, commit ---------- */

enum {
    STEP_LOCK = 1,
    STEP_STATE,
    STEP_FIND_SCHEMA,
    STEP_INSERT_SCHEMA,
    STEP_BUMP_SEQUENCE,
    STEP_INSERT_VERSION,
    STEP_DELETE,
};

static void on_ended(void *arg, const ls_error_t *err)
{
    op_t *op = arg;
    if (op->err.error_code == 0 && err->code != LS_ERR_OK) {
        store_error(op, "committing", err);
        json_decref(op->result);
        op->result = NULL;
    }
    if (op->err.error_code == 0 && op->step >= STEP_FIND_SCHEMA) {
        ls_registry_t *r = op->r;
        if (op->evict_count > 0)
            ls__registry_evict(r, op->evict, op->evict_count, true);
        if (op->inserted_schema) {
            /* The text just stored is the candidate's: cache it as parsed. */
            ls_registry_schema_t *s = ls__registry_schema_wrap(op->new_id, op->candidate);
            op->candidate = NULL;
            ls__registry_cache_put(r, s);
            ls_registry_schema_unref(s);
        }
        if (op->kind == OP_REGISTER)
            ls_log(LS_LOG_INFO, "registry", "registered %.260s version %d (schema id %d)",
                   op->subject, op->new_version, op->new_id);
    }
    op_finish(op);
}

/* Ends the transaction: commit when the decision stands and wrote
 * something, else roll back (a decision that changes nothing, such as
 * registering a schema the subject already has, still succeeds). */
static void end_tx(op_t *op, bool commit)
{
    ls_error_t err;
    ls_err_t rc = commit && op->err.error_code == 0 ? ls_pg_tx_commit(op->tx, on_ended, op, &err)
                                                    : ls_pg_tx_rollback(op->tx, on_ended, op, &err);
    if (rc != LS_ERR_OK) {
        if (op->err.error_code == 0)
            store_error(op, "ending the transaction", &err);
        op_finish(op);
    }
}

static void on_tx_result(void *arg, PGresult *res, const ls_error_t *qerr);

static void tx_query(op_t *op, int step, const char *sql, int n, const char *const *params)
{
    op->step = step;
    ls_error_t qerr;
    if (ls_pg_tx_query(op->tx, sql, n, params, on_tx_result, op, &qerr) != LS_ERR_OK) {
        store_error(op, "writing", &qerr);
        end_tx(op, false);
    }
}

static void insert_version(op_t *op)
{
    char version[16], id[16];
    snprintf(version, sizeof(version), "%d", op->new_version);
    snprintf(id, sizeof(id), "%d", op->new_id);
    const char *params[] = {op->subject, version, id};
    tx_query(op, STEP_INSERT_VERSION,
             "INSERT INTO registry_subject_versions (subject, version, schema_id) "
             "VALUES ($1, $2::int, $3::int)",
             3, params);
}

static void find_schema(op_t *op)
{
    const char *params[] = {op->canonical};
    tx_query(op, STEP_FIND_SCHEMA,
             "SELECT id, canonical FROM registry_schemas WHERE canonical_md5 = md5($1)", 1, params);
}

static void insert_schema(op_t *op)
{
    size_t len;
    const char *text = ls_avro_schema_text(op->candidate, &len);
    char id[16];
    snprintf(id, sizeof(id), "%d", op->import_id);
    const char *params[] = {op->canonical, text, id};
    op->tried_insert = true;
    if (op->import_id > 0)
        tx_query(op, STEP_INSERT_SCHEMA,
                 "INSERT INTO registry_schemas (id, canonical_md5, canonical, schema_text) "
                 "VALUES ($3::int, md5($1), $1, $2) ON CONFLICT DO NOTHING RETURNING id",
                 3, params);
    else
        tx_query(op, STEP_INSERT_SCHEMA,
                 "INSERT INTO registry_schemas (id, canonical_md5, canonical, schema_text) "
                 "VALUES (nextval('registry_schema_ids'), md5($1), $1, $2) "
                 "ON CONFLICT (canonical_md5) DO NOTHING RETURNING id",
                 2, params);
}

static void have_schema_id(op_t *op)
{
    if (op->import_id > 0 && op->inserted_schema) {
        char id[16];
        snprintf(id, sizeof(id), "%d", op->import_id);
        const char *params[] = {id};
        /* Later ids handed out here must not collide with imported ones. */
        tx_query(op, STEP_BUMP_SEQUENCE,
                 "SELECT setval('registry_schema_ids', GREATEST($1::int, "
                 "(SELECT last_value FROM registry_schema_ids)))",
                 1, params);
        return;
    }
    insert_version(op);
}

static void decide_register(op_t *op)
{
    if (op->mode == LS_REGISTRY_READONLY) {
        ls_registry_error_set(&op->err, LS_REGISTRY_OPERATION_NOT_PERMITTED,
                              "Subject %.260s is in read-only mode", op->subject);
        end_tx(op, false);
        return;
    }
    if ((op->import_id > 0 || op->import_version > 0) && op->mode != LS_REGISTRY_IMPORT) {
        ls_registry_error_set(&op->err, LS_REGISTRY_OPERATION_NOT_PERMITTED,
                              "Subject %.260s is not in import mode: an id or version may only be "
                              "given in IMPORT mode",
                              op->subject);
        end_tx(op, false);
        return;
    }
    for (size_t i = op->nrows; i-- > 0;) {
        const row_t *row = &op->rows[i];
        if (!row->deleted && strcmp(row->canonical, op->canonical) == 0 &&
            (op->import_id == 0 || op->import_id == row->id)) {
            op->result = json_pack("{s:i}", "id", (int)row->id);
            end_tx(op, false);
            return;
        }
    }
    int max_version = 0;
    for (size_t i = 0; i < op->nrows; i++)
        if (op->rows[i].version > max_version)
            max_version = op->rows[i].version;
    if (op->mode != LS_REGISTRY_IMPORT) {
        const row_t **live = ls_calloc(op->nrows + 1, sizeof(*live));
        size_t n = live_rows(op, false, live, op->nrows);
        char reason[400] = "";
        bool ok = compat_against(op, op->level, live, n, NULL, reason, sizeof(reason));
        free(live);
        if (!ok) {
            ls_registry_error_set(&op->err, LS_REGISTRY_INCOMPATIBLE,
                                  "Schema being registered is incompatible with an earlier schema "
                                  "for subject \"%.200s\" (compatibility %s); %s",
                                  op->subject, ls_compat_level_name(op->level), reason);
            end_tx(op, false);
            return;
        }
    }
    if (op->import_version > 0) {
        for (size_t i = 0; i < op->nrows; i++)
            if (op->rows[i].version == op->import_version) {
                ls_registry_error_set(&op->err, LS_REGISTRY_OPERATION_NOT_PERMITTED,
                                      "Overwrite new schema with version %d of subject %.260s is "
                                      "not permitted",
                                      op->import_version, op->subject);
                end_tx(op, false);
                return;
            }
        op->new_version = op->import_version;
    } else {
        op->new_version = max_version + 1;
    }
    find_schema(op);
}

static void delete_rows(op_t *op, const char *sql, const row_t *row)
{
    char version[16];
    snprintf(version, sizeof(version), "%d", row ? row->version : 0);
    const char *params[] = {op->subject, version};
    tx_query(op, STEP_DELETE, sql, row ? 2 : 1, params);
}

static void decide_delete_subject(op_t *op)
{
    if (op->nrows == 0) {
        ls_registry_error_set(&op->err, LS_REGISTRY_SUBJECT_NOT_FOUND,
                              "Subject '%.260s' not found.", op->subject);
    } else if (op->mode == LS_REGISTRY_READONLY) {
        ls_registry_error_set(&op->err, LS_REGISTRY_OPERATION_NOT_PERMITTED,
                              "Subject %.260s is in read-only mode", op->subject);
    } else if (!op->permanent && !has_live(op)) {
        ls_registry_error_set(&op->err, LS_REGISTRY_SUBJECT_SOFT_DELETED,
                              "Subject '%.260s' was soft deleted. Set permanent=true to delete "
                              "permanently",
                              op->subject);
    } else if (op->permanent && has_live(op)) {
        ls_registry_error_set(&op->err, LS_REGISTRY_SUBJECT_NOT_SOFT_DELETED,
                              "Subject '%.260s' was not deleted first before being permanently "
                              "deleted",
                              op->subject);
    }
    if (op->err.error_code != 0) {
        end_tx(op, false);
        return;
    }
    op->result = json_array();
    op->evict = ls_calloc(op->nrows, sizeof(int32_t));
    for (size_t i = 0; i < op->nrows; i++) {
        if (op->permanent || !op->rows[i].deleted)
            json_array_append_new(op->result, json_integer(op->rows[i].version));
        if (op->permanent)
            op->evict[op->evict_count++] = op->rows[i].id;
    }
    if (op->permanent)
        delete_rows(op,
                    "WITH c AS (DELETE FROM registry_config WHERE subject = $1) "
                    "DELETE FROM registry_subject_versions WHERE subject = $1",
                    NULL);
    else
        delete_rows(op,
                    "UPDATE registry_subject_versions SET deleted = true "
                    "WHERE subject = $1 AND NOT deleted",
                    NULL);
}

static void decide_delete_version(op_t *op)
{
    const row_t *row = NULL;
    if (op->nrows == 0) {
        ls_registry_error_set(&op->err, LS_REGISTRY_SUBJECT_NOT_FOUND,
                              "Subject '%.260s' not found.", op->subject);
    } else if (op->mode == LS_REGISTRY_READONLY) {
        ls_registry_error_set(&op->err, LS_REGISTRY_OPERATION_NOT_PERMITTED,
                              "Subject %.260s is in read-only mode", op->subject);
    } else {
        /* "latest" is the newest live version, or for a permanent delete the
         * newest of all; an explicit number finds soft-deleted ones too. */
        row = find_version(op, op->version, op->version != -1 || op->permanent);
        if (row == NULL && op->version == -1)
            ls_registry_error_set(&op->err, LS_REGISTRY_VERSION_NOT_FOUND,
                                  "Version latest not found.");
        else if (row == NULL)
            ls_registry_error_set(&op->err, LS_REGISTRY_VERSION_NOT_FOUND, "Version %d not found.",
                                  op->version);
        else if (op->permanent && !row->deleted)
            ls_registry_error_set(&op->err, LS_REGISTRY_VERSION_NOT_SOFT_DELETED,
                                  "Subject '%.260s' Version %d was not deleted first before "
                                  "being permanently deleted",
                                  op->subject, row->version);
        else if (!op->permanent && row->deleted)
            ls_registry_error_set(&op->err, LS_REGISTRY_VERSION_SOFT_DELETED,
                                  "Subject '%.260s' Version %d was soft deleted. Set "
                                  "permanent=true to delete permanently",
                                  op->subject, row->version);
    }
    if (op->err.error_code != 0) {
        end_tx(op, false);
        return;
    }
    op->result = json_integer(row->version);
    if (op->permanent) {
        op->evict = ls_calloc(1, sizeof(int32_t));
        op->evict[op->evict_count++] = row->id;
        delete_rows(op,
                    "DELETE FROM registry_subject_versions WHERE subject = $1 AND version = "
                    "$2::int",
                    row);
    } else {
        delete_rows(op,
                    "UPDATE registry_subject_versions SET deleted = true WHERE subject = $1 AND "
                    "version = $2::int",
                    row);
    }
}

static void on_tx_result(void *arg, PGresult *res, const ls_error_t *qerr)
{
    op_t *op = arg;
    if (qerr->code != LS_ERR_OK) {
        store_error(op, "writing", qerr);
        end_tx(op, false);
        return;
    }
    switch (op->step) {
    case STEP_LOCK: {
        const char *params[] = {op->subject};
        tx_query(op, STEP_STATE, STATE_SQL, 1, params);
        return;
    }
    case STEP_STATE:
        if (load_rows(op, res) != LS_ERR_OK) {
            end_tx(op, false);
            return;
        }
        if (op->kind == OP_REGISTER)
            decide_register(op);
        else if (op->kind == OP_DELETE_SUBJECT)
            decide_delete_subject(op);
        else
            decide_delete_version(op);
        return;
    case STEP_FIND_SCHEMA:
        if (PQntuples(res) == 1) {
            int32_t id = (int32_t)atoi(PQgetvalue(res, 0, 0));
            if (strcmp(PQgetvalue(res, 0, 1), op->canonical) != 0) {
                ls_registry_error_set(&op->err, LS_REGISTRY_STORE_ERROR,
                                      "Schema %d has the same MD5 but a different canonical form",
                                      id);
                end_tx(op, false);
            } else if (op->import_id > 0 && id != op->import_id) {
                ls_registry_error_set(&op->err, LS_REGISTRY_OPERATION_NOT_PERMITTED,
                                      "Overwrite new schema with id %d is not permitted: the "
                                      "schema is registered with id %d",
                                      op->import_id, id);
                end_tx(op, false);
            } else {
                op->new_id = id;
                have_schema_id(op);
            }
        } else if (!op->tried_insert) {
            insert_schema(op);
        } else {
            ls_registry_error_set(&op->err, LS_REGISTRY_STORE_ERROR,
                                  "The schema row disappeared while registering");
            end_tx(op, false);
        }
        return;
    case STEP_INSERT_SCHEMA:
        if (PQntuples(res) == 1) {
            op->new_id = (int32_t)atoi(PQgetvalue(res, 0, 0));
            op->inserted_schema = true;
            have_schema_id(op);
        } else if (op->import_id > 0) {
            ls_registry_error_set(&op->err, LS_REGISTRY_OPERATION_NOT_PERMITTED,
                                  "Overwrite new schema with id %d is not permitted: the id "
                                  "belongs to another schema",
                                  op->import_id);
            end_tx(op, false);
        } else {
            /* Another transaction inserted the same schema meanwhile. */
            find_schema(op);
        }
        return;
    case STEP_BUMP_SEQUENCE:
        insert_version(op);
        return;
    case STEP_INSERT_VERSION:
        op->result = json_pack("{s:i}", "id", (int)op->new_id);
        end_tx(op, true);
        return;
    case STEP_DELETE:
        end_tx(op, true);
        return;
    default:
        end_tx(op, false);
        return;
    }
}

static void on_begin(void *arg, ls_pg_tx_t *tx, const ls_error_t *err)
{
    op_t *op = arg;
    if (err->code != LS_ERR_OK) {
        store_error(op, "starting a transaction", err);
        op_finish(op);
        return;
    }
    op->tx = tx;
    const char *params[] = {op->subject};
    tx_query(op, STEP_LOCK, "SELECT pg_advisory_xact_lock(" LOCK_NAMESPACE ", hashtext($1))", 1,
             params);
}

static ls_err_t start_write(op_t *op, ls_registry_error_t *err)
{
    ls_error_t qerr;
    if (ls_pg_begin(op->r->pg, NULL, on_begin, op, &qerr) != LS_ERR_OK) {
        op_free(op);
        return ls_registry_error_set(err, LS_REGISTRY_STORE_ERROR,
                                     "Error in the backend data store: %s", qerr.message);
    }
    return LS_ERR_OK;
}

ls_err_t ls_registry_register(ls_registry_t *r, const char *subject, const json_t *body,
                              ls_registry_cb cb, void *arg, ls_registry_error_t *err)
{
    op_t *op = schema_op_new(r, OP_REGISTER, subject, NULL, body, cb, arg, err);
    if (op == NULL)
        return err->error.code;
    return start_write(op, err);
}

ls_err_t ls_registry_delete_subject(ls_registry_t *r, const char *subject, bool permanent,
                                    ls_registry_cb cb, void *arg, ls_registry_error_t *err)
{
    if (ls_registry_check_subject(subject, err) != LS_ERR_OK ||
        ls__registry_check_store(r, err) != LS_ERR_OK)
        return err->error.code;
    op_t *op = op_new(r, OP_DELETE_SUBJECT, subject, cb, arg);
    op->permanent = permanent;
    return start_write(op, err);
}

ls_err_t ls_registry_delete_version(ls_registry_t *r, const char *subject, const char *version,
                                    bool permanent, ls_registry_cb cb, void *arg,
                                    ls_registry_error_t *err)
{
    int v;
    if (ls_registry_check_subject(subject, err) != LS_ERR_OK ||
        ls_registry_parse_version(version, &v, err) != LS_ERR_OK ||
        ls__registry_check_store(r, err) != LS_ERR_OK)
        return err->error.code;
    op_t *op = op_new(r, OP_DELETE_VERSION, subject, cb, arg);
    op->version = v;
    op->permanent = permanent;
    return start_write(op, err);
}
