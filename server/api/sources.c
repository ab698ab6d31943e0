/*
 * /api/v1/sources: HTTP translation over services/sources (CDC sources
 * polling PostgreSQL tables into Kafka topics). No business rule here.
 */
#include "api/api.h"

static void on_created(void *arg, json_t *source, const ls_error_t *err)
{
    ls_http_req_t *req = arg;
    if (err->code != LS_ERR_OK) {
        json_decref(source);
        ls_http_respond_error(req, err);
        return;
    }
    ls_http_respond_json(req, 201, source);
}

static void on_deleted(void *arg, json_t *source, const ls_error_t *err)
{
    ls_http_req_t *req = arg;
    json_decref(source);
    if (err->code != LS_ERR_OK)
        ls_http_respond_error(req, err);
    else
        ls_http_respond_json(req, 204, NULL);
}

static bool ready(ls_http_req_t *req, ls_app_t *app)
{
    if (ls_sources_loaded(app->sources))
        return true;
    ls_error_t err;
    ls_error_set(&err, LS_ERR_UNAVAILABLE, "sources are not loaded yet (PostgreSQL unavailable)");
    ls_http_respond_error(req, &err);
    return false;
}

static void handle_create(ls_http_req_t *req, void *data)
{
    ls_app_t *app = data;
    ls_error_t err;
    if (ls_sources_create(app->sources, ls_http_body(req), on_created, req, &err) != LS_ERR_OK)
        ls_http_respond_error(req, &err);
}

static void handle_list(ls_http_req_t *req, void *data)
{
    ls_app_t *app = data;
    if (ready(req, app))
        ls_http_respond_json(req, 200, ls_sources_list(app->sources));
}

static void handle_get(ls_http_req_t *req, void *data)
{
    ls_app_t *app = data;
    if (!ready(req, app))
        return;
    ls_error_t err;
    json_t *source;
    if (ls_sources_get(app->sources, ls_http_param(req, "name"), &source, &err) != LS_ERR_OK)
        ls_http_respond_error(req, &err);
    else
        ls_http_respond_json(req, 200, source);
}

static void handle_delete(ls_http_req_t *req, void *data)
{
    ls_app_t *app = data;
    if (!ready(req, app))
        return;
    ls_error_t err;
    if (ls_sources_delete(app->sources, ls_http_param(req, "name"), on_deleted, req, &err) !=
        LS_ERR_OK)
        ls_http_respond_error(req, &err);
}

void ls_api_sources_routes(ls_app_t *app, ls_http_server_t *http)
{
    ls_http_route(http, "POST", "/api/v1/sources", handle_create, app, LS_HTTP_JSON_BODY);
    ls_http_route(http, "GET", "/api/v1/sources", handle_list, app, 0);
    ls_http_route(http, "GET", "/api/v1/sources/{name}", handle_get, app, 0);
    ls_http_route(http, "DELETE", "/api/v1/sources/{name}", handle_delete, app, 0);
}
