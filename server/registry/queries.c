/*
 * The registry's one-statement operations: listings (subjects, the users of
 * a schema, whether a subject exists), compatibility levels (/config) and
 * the mode (/mode). A single statement needs no subject lock; levels and
 * modes are validated before anything is sent. A subject's level overrides
 * the global one, and with no global row the default is BACKWARD, as in
 * Confluent. The mode is global (READWRITE, READONLY, IMPORT); registration
 * and deletes read it inside their own transaction. Loop thread; never
 * blocks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "registry/internal.h"

/* ---------- one-statement operations ---------- */

ls__registry_simple_t *ls__registry_simple_new(ls_registry_t *r, const char *subject,
                                               ls_registry_cb cb, void *arg)
{
    ls__registry_simple_t *op = ls_calloc(1, sizeof(*op));
    op->r = r;
    op->cb = cb;
    op->arg = arg;
    op->subject = subject ? ls_strdup(subject) : NULL;
    ls__registry_error_ok(&op->err);
    return op;
}

static void simple_free(ls__registry_simple_t *op)
{
    free(op->subject);
    json_decref(op->result);
    free(op);
}

static void on_simple(void *arg, PGresult *res, const ls_error_t *qerr)
{
    ls__registry_simple_t *op = arg;
    if (qerr->code != LS_ERR_OK)
        ls_registry_error_set(&op->err, LS_REGISTRY_STORE_ERROR,
                              "Error in the backend data store: %s", qerr->message);
    else
        op->shape(op, res);
    if (op->exists_cb != NULL) {
        op->exists_cb(op->arg, op->err.error_code == 0 && op->flag, &op->err);
    } else {
        json_t *result = op->err.error_code == 0 ? op->result : NULL;
        op->result = NULL;
        op->cb(op->arg, result, &op->err);
    }
    simple_free(op);
}

ls_err_t ls__registry_simple_run(ls__registry_simple_t *op, const char *sql, int n,
                                 const char *const *params, ls_registry_error_t *err)
{
    ls_error_t qerr;
    if (ls_pg_query(op->r->pg, sql, n, params, on_simple, op, &qerr) != LS_ERR_OK) {
        simple_free(op);
        return ls_registry_error_set(err, LS_REGISTRY_STORE_ERROR,
                                     "Error in the backend data store: %s", qerr.message);
    }
    return LS_ERR_OK;
}

static void shape_names(ls__registry_simple_t *op, PGresult *res)
{
    op->result = json_array();
    for (int i = 0; i < PQntuples(res); i++)
        json_array_append_new(op->result, json_string(PQgetvalue(res, i, 0)));
}

ls_err_t ls_registry_list_subjects(ls_registry_t *r, bool deleted, ls_registry_cb cb, void *arg,
                                   ls_registry_error_t *err)
{
    if (ls__registry_check_store(r, err) != LS_ERR_OK)
        return err->error.code;
    ls__registry_simple_t *op = ls__registry_simple_new(r, NULL, cb, arg);
    op->shape = shape_names;
    const char *params[] = {deleted ? "t" : "f"};
    return ls__registry_simple_run(op,
                                   "SELECT subject FROM registry_subject_versions GROUP BY subject "
                                   "HAVING bool_or(NOT deleted) OR $1::bool ORDER BY subject",
                                   1, params, err);
}

static void shape_schema_users(ls__registry_simple_t *op, PGresult *res)
{
    int n = PQntuples(res);
    if (n == 0) {
        ls_registry_error_set(&op->err, LS_REGISTRY_SCHEMA_NOT_FOUND, "Schema %d not found",
                              op->id);
        return;
    }
    op->result = json_array();
    for (int i = 0; i < n; i++) {
        if (op->flag) /* versions */
            json_array_append_new(op->result,
                                  json_pack("{s:s,s:i}", "subject", PQgetvalue(res, i, 0),
                                            "version", atoi(PQgetvalue(res, i, 1))));
        else if (i == 0 || strcmp(PQgetvalue(res, i, 0), PQgetvalue(res, i - 1, 0)) != 0)
            json_array_append_new(op->result, json_string(PQgetvalue(res, i, 0)));
    }
}

ls_err_t ls_registry_schema_subjects(ls_registry_t *r, int32_t id, bool deleted, bool versions,
                                     ls_registry_cb cb, void *arg, ls_registry_error_t *err)
{
    if (ls__registry_check_store(r, err) != LS_ERR_OK)
        return err->error.code;
    ls__registry_simple_t *op = ls__registry_simple_new(r, NULL, cb, arg);
    op->shape = shape_schema_users;
    op->id = id;
    op->flag = versions;
    char idtext[16];
    snprintf(idtext, sizeof(idtext), "%d", id);
    const char *params[] = {idtext, deleted ? "t" : "f"};
    return ls__registry_simple_run(op,
                                   "SELECT subject, version FROM registry_subject_versions "
                                   "WHERE schema_id = $1::int AND (NOT deleted OR $2::bool) "
                                   "ORDER BY subject, version",
                                   2, params, err);
}

static void shape_exists(ls__registry_simple_t *op, PGresult *res)
{
    op->flag = PQntuples(res) > 0;
}

ls_err_t ls_registry_subject_exists(ls_registry_t *r, const char *subject,
                                    void (*cb)(void *arg, bool exists,
                                               const ls_registry_error_t *err),
                                    void *arg, ls_registry_error_t *err)
{
    if (ls_registry_check_subject(subject, err) != LS_ERR_OK ||
        ls__registry_check_store(r, err) != LS_ERR_OK)
        return err->error.code;
    ls__registry_simple_t *op = ls__registry_simple_new(r, subject, NULL, arg);
    op->shape = shape_exists;
    op->exists_cb = cb;
    const char *params[] = {subject};
    return ls__registry_simple_run(op,
                                   "SELECT 1 FROM registry_subject_versions WHERE subject = $1 "
                                   "AND NOT deleted LIMIT 1",
                                   1, params, err);
}

/* ---------- compatibility levels and mode ---------- */

static void shape_get_config(ls__registry_simple_t *op, PGresult *res)
{
    const char *level;
    if (op->subject == NULL) {
        level = PQgetisnull(res, 0, 0) ? "BACKWARD" : PQgetvalue(res, 0, 0);
    } else if (!PQgetisnull(res, 0, 0)) {
        level = PQgetvalue(res, 0, 0);
    } else if (op->flag) {
        level = PQgetisnull(res, 0, 1) ? "BACKWARD" : PQgetvalue(res, 0, 1);
    } else {
        ls_registry_error_set(&op->err, LS_REGISTRY_SUBJECT_CONFIG_NOT_FOUND,
                              "Subject '%.260s' does not have subject-level compatibility "
                              "configured",
                              op->subject);
        return;
    }
    op->result = json_pack("{s:s}", "compatibilityLevel", level);
}

ls_err_t ls_registry_get_config(ls_registry_t *r, const char *subject, bool default_to_global,
                                ls_registry_cb cb, void *arg, ls_registry_error_t *err)
{
    if ((subject != NULL && ls_registry_check_subject(subject, err) != LS_ERR_OK) ||
        ls__registry_check_store(r, err) != LS_ERR_OK)
        return err->error.code;
    ls__registry_simple_t *op = ls__registry_simple_new(r, subject, cb, arg);
    op->shape = shape_get_config;
    op->flag = default_to_global;
    const char *params[] = {subject ? subject : ""};
    return ls__registry_simple_run(
        op,
        "SELECT (SELECT compatibility FROM registry_config WHERE subject = $1), "
        "(SELECT compatibility FROM registry_config WHERE subject = '')",
        1, params, err);
}

static void shape_put_config(ls__registry_simple_t *op, PGresult *res)
{
    op->result = json_pack("{s:s}", "compatibility", op->value);
}

ls_err_t ls_registry_put_config(ls_registry_t *r, const char *subject, const json_t *body,
                                ls_registry_cb cb, void *arg, ls_registry_error_t *err)
{
    if (subject != NULL && ls_registry_check_subject(subject, err) != LS_ERR_OK)
        return err->error.code;
    const char *name = json_string_value(json_object_get(body, "compatibility"));
    ls_compat_level_t level;
    ls_error_t perr;
    if (name == NULL || ls_compat_level_parse(name, &level, &perr) != LS_ERR_OK)
        return ls_registry_error_set(err, LS_REGISTRY_INVALID_COMPATIBILITY,
                                     "Invalid compatibility level. Valid values are none, "
                                     "backward, forward, full, backward_transitive, "
                                     "forward_transitive, and full_transitive");
    if (ls__registry_check_store(r, err) != LS_ERR_OK)
        return err->error.code;
    ls__registry_simple_t *op = ls__registry_simple_new(r, subject, cb, arg);
    op->shape = shape_put_config;
    snprintf(op->value, sizeof(op->value), "%s", ls_compat_level_name(level));
    const char *params[] = {subject ? subject : "", op->value};
    return ls__registry_simple_run(
        op,
        "INSERT INTO registry_config (subject, compatibility) VALUES ($1, $2) "
        "ON CONFLICT (subject) DO UPDATE SET compatibility = EXCLUDED.compatibility",
        2, params, err);
}

static void shape_delete_config(ls__registry_simple_t *op, PGresult *res)
{
    if (op->subject != NULL && PQgetvalue(res, 0, 0)[0] != 't') {
        ls_registry_error_set(&op->err, LS_REGISTRY_SUBJECT_NOT_FOUND,
                              "Subject '%.260s' not found.", op->subject);
        return;
    }
    const char *level = !PQgetisnull(res, 0, 1)   ? PQgetvalue(res, 0, 1)
                        : !PQgetisnull(res, 0, 2) ? PQgetvalue(res, 0, 2)
                                                  : "BACKWARD";
    op->result = json_pack("{s:s}", "compatibilityLevel", level);
}

ls_err_t ls_registry_delete_config(ls_registry_t *r, const char *subject, ls_registry_cb cb,
                                   void *arg, ls_registry_error_t *err)
{
    if ((subject != NULL && ls_registry_check_subject(subject, err) != LS_ERR_OK) ||
        ls__registry_check_store(r, err) != LS_ERR_OK)
        return err->error.code;
    ls__registry_simple_t *op = ls__registry_simple_new(r, subject, cb, arg);
    op->shape = shape_delete_config;
    /* $1 = '' is the global row, which always "exists". For the global
     * level the answer is the level before the delete; after it the
     * default applies. */
    const char *params[] = {subject ? subject : ""};
    return ls__registry_simple_run(
        op,
        "WITH known AS (SELECT $1 = '' OR EXISTS (SELECT 1 FROM registry_subject_versions "
        "WHERE subject = $1) AS k), "
        "old AS (SELECT compatibility FROM registry_config WHERE subject = $1), "
        "d AS (DELETE FROM registry_config WHERE subject = $1 AND (SELECT k FROM known)) "
        "SELECT (SELECT k FROM known), (SELECT compatibility FROM old), "
        "(SELECT compatibility FROM registry_config WHERE subject = '' AND $1 <> '')",
        1, params, err);
}

static void shape_get_mode(ls__registry_simple_t *op, PGresult *res)
{
    op->result =
        json_pack("{s:s}", "mode", PQgetisnull(res, 0, 0) ? "READWRITE" : PQgetvalue(res, 0, 0));
}

ls_err_t ls_registry_get_mode(ls_registry_t *r, ls_registry_cb cb, void *arg,
                              ls_registry_error_t *err)
{
    if (ls__registry_check_store(r, err) != LS_ERR_OK)
        return err->error.code;
    ls__registry_simple_t *op = ls__registry_simple_new(r, NULL, cb, arg);
    op->shape = shape_get_mode;
    return ls__registry_simple_run(op, "SELECT (SELECT mode FROM registry_mode WHERE subject = '')",
                                   0, NULL, err);
}

static void shape_put_mode(ls__registry_simple_t *op, PGresult *res)
{
    if (PQgetisnull(res, 0, 1)) {
        ls_registry_error_set(&op->err, LS_REGISTRY_OPERATION_NOT_PERMITTED,
                              "Cannot import since found existing subjects");
        return;
    }
    op->result = json_pack("{s:s}", "mode", op->value);
}

ls_err_t ls_registry_put_mode(ls_registry_t *r, const json_t *body, bool force, ls_registry_cb cb,
                              void *arg, ls_registry_error_t *err)
{
    ls_registry_mode_t mode;
    if (ls_registry_mode_parse(json_string_value(json_object_get(body, "mode")), &mode, err) !=
            LS_ERR_OK ||
        ls__registry_check_store(r, err) != LS_ERR_OK)
        return err->error.code;
    ls__registry_simple_t *op = ls__registry_simple_new(r, NULL, cb, arg);
    op->shape = shape_put_mode;
    snprintf(op->value, sizeof(op->value), "%s", ls_registry_mode_name(mode));
    /* IMPORT keeps ids given by the client, which is only safe on an empty
     * registry (Confluent's rule), unless forced. */
    const char *params[] = {op->value, mode == LS_REGISTRY_IMPORT && !force ? "t" : "f"};
    return ls__registry_simple_run(
        op,
        "WITH busy AS (SELECT EXISTS (SELECT 1 FROM registry_subject_versions) AS b), "
        "u AS (INSERT INTO registry_mode (subject, mode) SELECT '', $1 "
        "WHERE NOT ($2::bool AND (SELECT b FROM busy)) "
        "ON CONFLICT (subject) DO UPDATE SET mode = EXCLUDED.mode RETURNING mode) "
        "SELECT (SELECT b FROM busy), (SELECT mode FROM u)",
        2, params, err);
}
