/*
 * Compatibility levels (/config) and the registry mode (/mode): each is one
 * statement, so settings changes need no subject lock. A level or mode is
 * validated before anything is sent to PostgreSQL; a subject's level
 * overrides the global one, and with no global row the default is
 * BACKWARD, as in Confluent. The mode is global (READWRITE, READONLY,
 * IMPORT); registration and deletes read it inside their own transaction.
 */
#include <stdio.h>
#include <string.h>

#include "registry/internal.h"

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
