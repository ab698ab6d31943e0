/*
 * /iceberg/v1: the read side of the Iceberg REST catalog OpenAPI (config,
 * namespaces, tables) over the same catalog rows, so DuckDB, pyiceberg and
 * Spark's REST catalog can load lakestream tables. Errors use the Iceberg
 * REST error model {"error":{"message","type","code"}}. Writes go through
 * /api/v1/tables (or the JDBC catalog) and are not offered here.
 */
#include <string.h>

#include "api/api.h"
#include "services/tables.h"

static void rest_error(ls_http_req_t *req, const ls_error_t *err, const char *not_found_type)
{
    int status = ls_err_http_status(err->code);
    const char *type = "ServiceFailureException";
    if (err->code == LS_ERR_NOT_FOUND)
        type = not_found_type;
    else if (err->code == LS_ERR_INVALID_ARGUMENT)
        type = "BadRequestException";
    else if (err->code == LS_ERR_UNAVAILABLE)
        type = "ServiceUnavailableException";
    if (strcmp(ls_http_method(req), "HEAD") == 0) {
        ls_http_respond_json(req, status, NULL);
        return;
    }
    ls_http_respond_json(req, status,
                         json_pack("{s:{s:s,s:s,s:i}}", "error", "message", err->message, "type",
                                   type, "code", status));
}

static ls_iceberg_catalog_t *catalog_of(ls_http_req_t *req, void *data)
{
    ls_app_t *app = data;
    if (app->tables == NULL) {
        ls_error_t err;
        ls_error_set(&err, LS_ERR_UNAVAILABLE, "tables are not available");
        rest_error(req, &err, "NoSuchTableException");
        return NULL;
    }
    return ls_tables_catalog(app->tables);
}

static void handle_config(ls_http_req_t *req, void *data)
{
    ls_iceberg_catalog_t *c = catalog_of(req, data);
    if (c == NULL)
        return;
    ls_http_respond_json(req, 200,
                         json_pack("{s:{s:s},s:{}}", "defaults", "warehouse",
                                   ls_iceberg_catalog_warehouse(c), "overrides"));
}

static void on_namespaces(void *arg, json_t *result, const ls_error_t *err)
{
    ls_http_req_t *req = arg;
    if (err->code != LS_ERR_OK) {
        rest_error(req, err, "NoSuchNamespaceException");
        return;
    }
    ls_http_respond_json(req, 200,
                         json_pack("{s:O}", "namespaces", json_object_get(result, "namespaces")));
}

static void handle_namespaces(ls_http_req_t *req, void *data)
{
    ls_iceberg_catalog_t *c = catalog_of(req, data);
    ls_error_t err;
    if (c != NULL && ls_iceberg_list_namespaces(c, on_namespaces, req, &err) != LS_ERR_OK)
        rest_error(req, &err, "NoSuchNamespaceException");
}

static void on_namespace(void *arg, json_t *result, const ls_error_t *err)
{
    ls_http_req_t *req = arg;
    if (err->code != LS_ERR_OK) {
        rest_error(req, err, "NoSuchNamespaceException");
        return;
    }
    const char *ns = ls_http_param(req, "ns");
    size_t i;
    json_t *n;
    json_array_foreach(json_object_get(result, "namespaces"), i, n)
    {
        if (strcmp(json_string_value(json_array_get(n, 0)), ns) == 0) {
            if (strcmp(ls_http_method(req), "HEAD") == 0)
                ls_http_respond_json(req, 204, NULL);
            else
                ls_http_respond_json(req, 200,
                                     json_pack("{s:[s],s:{}}", "namespace", ns, "properties"));
            return;
        }
    }
    ls_error_t nf;
    ls_error_set(&nf, LS_ERR_NOT_FOUND, "Namespace does not exist: %s", ns);
    rest_error(req, &nf, "NoSuchNamespaceException");
}

static void handle_namespace(ls_http_req_t *req, void *data)
{
    ls_iceberg_catalog_t *c = catalog_of(req, data);
    ls_error_t err;
    if (c != NULL && ls_iceberg_list_namespaces(c, on_namespace, req, &err) != LS_ERR_OK)
        rest_error(req, &err, "NoSuchNamespaceException");
}

static void on_tables(void *arg, json_t *result, const ls_error_t *err)
{
    ls_http_req_t *req = arg;
    if (err->code != LS_ERR_OK) {
        rest_error(req, err, "NoSuchNamespaceException");
        return;
    }
    json_t *ids = json_array();
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(result, "tables"), i, t) json_array_append_new(
        ids, json_pack("{s:[O],s:O}", "namespace", json_object_get(t, "namespace"), "name",
                       json_object_get(t, "name")));
    ls_http_respond_json(req, 200, json_pack("{s:o}", "identifiers", ids));
}

static void handle_tables(ls_http_req_t *req, void *data)
{
    ls_iceberg_catalog_t *c = catalog_of(req, data);
    ls_error_t err;
    if (c != NULL &&
        ls_iceberg_list_tables(c, ls_http_param(req, "ns"), on_tables, req, &err) != LS_ERR_OK)
        rest_error(req, &err, "NoSuchNamespaceException");
}

static void on_table(void *arg, json_t *result, const ls_error_t *err)
{
    ls_http_req_t *req = arg;
    if (err->code != LS_ERR_OK) {
        rest_error(req, err, "NoSuchTableException");
        return;
    }
    if (strcmp(ls_http_method(req), "HEAD") == 0) {
        ls_http_respond_json(req, 204, NULL);
        return;
    }
    ls_http_respond_json(req, 200,
                         json_pack("{s:O,s:O,s:{}}", "metadata-location",
                                   json_object_get(result, "metadata-location"), "metadata",
                                   json_object_get(result, "metadata"), "config"));
}

static void handle_table(ls_http_req_t *req, void *data)
{
    ls_iceberg_catalog_t *c = catalog_of(req, data);
    ls_error_t err;
    if (c != NULL && ls_iceberg_load(c, ls_http_param(req, "ns"), ls_http_param(req, "t"), on_table,
                                     req, &err) != LS_ERR_OK)
        rest_error(req, &err, "NoSuchTableException");
}

void ls_api_iceberg_rest_routes(ls_app_t *app, ls_http_server_t *http)
{
    ls_http_route(http, "GET", "/iceberg/v1/config", handle_config, app, 0);
    ls_http_route(http, "GET", "/iceberg/v1/namespaces", handle_namespaces, app, 0);
    ls_http_route(http, "GET", "/iceberg/v1/namespaces/{ns}", handle_namespace, app, 0);
    ls_http_route(http, "HEAD", "/iceberg/v1/namespaces/{ns}", handle_namespace, app, 0);
    ls_http_route(http, "GET", "/iceberg/v1/namespaces/{ns}/tables", handle_tables, app, 0);
    ls_http_route(http, "GET", "/iceberg/v1/namespaces/{ns}/tables/{t}", handle_table, app, 0);
    ls_http_route(http, "HEAD", "/iceberg/v1/namespaces/{ns}/tables/{t}", handle_table, app, 0);
}
