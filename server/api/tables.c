/*
 * /api/v1/tables: HTTP translation over services/tables (tables, snapshots,
 * tags, branches, files, rows, schema changes and maintenance). Table names
 * are "namespace.table" in one path segment, split by the service.
 */
#include "api/api.h"
#include "services/tables.h"

static void answer(ls_http_req_t *req, json_t *result, const ls_error_t *err, int status)
{
    if (err->code != LS_ERR_OK) {
        json_decref(result);
        ls_http_respond_error(req, err);
        return;
    }
    if (status == 204) {
        json_decref(result);
        ls_http_respond_json(req, 204, NULL);
        return;
    }
    ls_http_respond_json(req, status, result);
}

static void on_ok(void *arg, json_t *result, const ls_error_t *err)
{
    answer(arg, result, err, 200);
}

static void on_created(void *arg, json_t *result, const ls_error_t *err)
{
    answer(arg, result, err, 201);
}

static void on_deleted(void *arg, json_t *result, const ls_error_t *err)
{
    answer(arg, result, err, 204);
}

static ls_tables_t *tables_of(ls_http_req_t *req, void *data)
{
    ls_app_t *app = data;
    if (app->tables == NULL) {
        ls_error_t err;
        ls_error_set(&err, LS_ERR_UNAVAILABLE, "tables are not available");
        ls_http_respond_error(req, &err);
    }
    return app->tables;
}

#define ANSWER_SYNC_ERROR(req, call)                                                               \
    do {                                                                                           \
        ls_error_t err_;                                                                           \
        ls_error_clear(&err_);                                                                     \
        ls_error_t *err = &err_;                                                                   \
        if ((call) != LS_ERR_OK)                                                                   \
            ls_http_respond_error(req, err);                                                       \
    } while (0)

static void handle_list(ls_http_req_t *req, void *data)
{
    ls_tables_t *t = tables_of(req, data);
    if (t != NULL)
        ANSWER_SYNC_ERROR(req, ls_tables_list(t, on_ok, req, err));
}

static void handle_create(ls_http_req_t *req, void *data)
{
    ls_tables_t *t = tables_of(req, data);
    if (t != NULL)
        ANSWER_SYNC_ERROR(req, ls_tables_create(t, ls_http_body(req), on_created, req, err));
}

static void handle_get(ls_http_req_t *req, void *data)
{
    ls_tables_t *t = tables_of(req, data);
    if (t != NULL)
        ANSWER_SYNC_ERROR(req, ls_tables_get(t, ls_http_param(req, "table"), on_ok, req, err));
}

static void handle_drop(ls_http_req_t *req, void *data)
{
    ls_tables_t *t = tables_of(req, data);
    if (t != NULL)
        ANSWER_SYNC_ERROR(req,
                          ls_tables_drop(t, ls_http_param(req, "table"), on_deleted, req, err));
}

static void handle_snapshots(ls_http_req_t *req, void *data)
{
    ls_tables_t *t = tables_of(req, data);
    if (t != NULL)
        ANSWER_SYNC_ERROR(req,
                          ls_tables_snapshots(t, ls_http_param(req, "table"), on_ok, req, err));
}

static void refs_list(ls_http_req_t *req, void *data, const char *type)
{
    ls_tables_t *t = tables_of(req, data);
    if (t != NULL)
        ANSWER_SYNC_ERROR(req,
                          ls_tables_refs(t, ls_http_param(req, "table"), type, on_ok, req, err));
}

static void refs_create(ls_http_req_t *req, void *data, const char *type)
{
    ls_tables_t *t = tables_of(req, data);
    if (t != NULL)
        ANSWER_SYNC_ERROR(req, ls_tables_set_ref(t, ls_http_param(req, "table"), type,
                                                 ls_http_body(req), on_created, req, err));
}

static void refs_delete(ls_http_req_t *req, void *data, const char *type)
{
    ls_tables_t *t = tables_of(req, data);
    if (t != NULL)
        ANSWER_SYNC_ERROR(req,
                          ls_tables_remove_ref(t, ls_http_param(req, "table"), type,
                                               ls_http_param(req, "ref"), on_deleted, req, err));
}

static void handle_tags(ls_http_req_t *req, void *data)
{
    refs_list(req, data, "tag");
}
static void handle_tag_create(ls_http_req_t *req, void *data)
{
    refs_create(req, data, "tag");
}
static void handle_tag_delete(ls_http_req_t *req, void *data)
{
    refs_delete(req, data, "tag");
}
static void handle_branches(ls_http_req_t *req, void *data)
{
    refs_list(req, data, "branch");
}
static void handle_branch_create(ls_http_req_t *req, void *data)
{
    refs_create(req, data, "branch");
}
static void handle_branch_delete(ls_http_req_t *req, void *data)
{
    refs_delete(req, data, "branch");
}

static ls_tables_read_t read_query(ls_http_req_t *req)
{
    ls_tables_read_t q = {.tag = ls_http_query(req, "tag"),
                          .branch = ls_http_query(req, "branch"),
                          .snapshot_id = ls_http_query(req, "snapshot_id"),
                          .as_of = ls_http_query(req, "as_of"),
                          .columns = ls_http_query(req, "columns"),
                          .filter = ls_http_query(req, "filter"),
                          .limit = ls_http_query(req, "limit")};
    return q;
}

static void handle_files(ls_http_req_t *req, void *data)
{
    ls_tables_t *t = tables_of(req, data);
    ls_tables_read_t q = read_query(req);
    if (t != NULL)
        ANSWER_SYNC_ERROR(req,
                          ls_tables_files(t, ls_http_param(req, "table"), &q, on_ok, req, err));
}

static void handle_rows(ls_http_req_t *req, void *data)
{
    ls_tables_t *t = tables_of(req, data);
    ls_tables_read_t q = read_query(req);
    if (t != NULL)
        ANSWER_SYNC_ERROR(req, ls_tables_rows(t, ls_http_param(req, "table"), &q, on_ok, req, err));
}

static void handle_append(ls_http_req_t *req, void *data)
{
    ls_tables_t *t = tables_of(req, data);
    if (t != NULL)
        ANSWER_SYNC_ERROR(req, ls_tables_append(t, ls_http_param(req, "table"), ls_http_body(req),
                                                on_created, req, err));
}

static void handle_schema(ls_http_req_t *req, void *data)
{
    ls_tables_t *t = tables_of(req, data);
    if (t != NULL)
        ANSWER_SYNC_ERROR(req, ls_tables_evolve(t, ls_http_param(req, "table"), ls_http_body(req),
                                                on_ok, req, err));
}

static void handle_maintenance(ls_http_req_t *req, void *data)
{
    ls_tables_t *t = tables_of(req, data);
    if (t != NULL)
        ANSWER_SYNC_ERROR(req, ls_tables_maintain(t, ls_http_param(req, "table"), ls_http_body(req),
                                                  on_ok, req, err));
}

void ls_api_tables_routes(ls_app_t *app, ls_http_server_t *http)
{
    const char *base = "/api/v1/tables/{table}";
    char p[128];
    ls_http_route(http, "GET", "/api/v1/tables", handle_list, app, 0);
    ls_http_route(http, "POST", "/api/v1/tables", handle_create, app, LS_HTTP_JSON_BODY);
    ls_http_route(http, "GET", base, handle_get, app, 0);
    ls_http_route(http, "DELETE", base, handle_drop, app, 0);
#define SUB(method, suffix, fn, flags)                                                             \
    snprintf(p, sizeof p, "%s%s", base, suffix);                                                   \
    ls_http_route(http, method, p, fn, app, flags)
    SUB("GET", "/snapshots", handle_snapshots, 0);
    SUB("GET", "/tags", handle_tags, 0);
    SUB("POST", "/tags", handle_tag_create, LS_HTTP_JSON_BODY);
    SUB("DELETE", "/tags/{ref}", handle_tag_delete, 0);
    SUB("GET", "/branches", handle_branches, 0);
    SUB("POST", "/branches", handle_branch_create, LS_HTTP_JSON_BODY);
    SUB("DELETE", "/branches/{ref}", handle_branch_delete, 0);
    SUB("GET", "/files", handle_files, 0);
    SUB("GET", "/rows", handle_rows, 0);
    SUB("POST", "/rows", handle_append, LS_HTTP_JSON_BODY);
    SUB("POST", "/schema", handle_schema, LS_HTTP_JSON_BODY);
    SUB("POST", "/maintenance", handle_maintenance, LS_HTTP_JSON_BODY);
#undef SUB
}
