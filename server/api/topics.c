/*
 * /api/v1/topics: HTTP translation over services/topics. The list is served
 * from the service's cached JSON text.
 */
#include "api/api.h"

static void answer_topic(void *arg, json_t *topic, const ls_error_t *err, int status)
{
    ls_http_req_t *req = arg;
    if (err->code != LS_ERR_OK) {
        json_decref(topic);
        ls_http_respond_error(req, err);
        return;
    }
    ls_http_respond_json(req, status, topic);
}

static void on_created(void *arg, json_t *topic, const ls_error_t *err)
{
    answer_topic(arg, topic, err, 201);
}

static void on_got(void *arg, json_t *topic, const ls_error_t *err)
{
    answer_topic(arg, topic, err, 200);
}

static void on_deleted(void *arg, json_t *topic, const ls_error_t *err)
{
    answer_topic(arg, NULL, err, 204);
}

static void handle_create(ls_http_req_t *req, void *data)
{
    ls_app_t *app = data;
    ls_error_t err;
    if (ls_topics_create(app->topics, ls_http_body(req), on_created, req, &err) != LS_ERR_OK)
        ls_http_respond_error(req, &err);
}

static void handle_list(ls_http_req_t *req, void *data)
{
    ls_app_t *app = data;
    if (!ls_topics_loaded(app->topics)) {
        ls_error_t err;
        ls_error_set(&err, LS_ERR_UNAVAILABLE,
                     "topics are not loaded yet (PostgreSQL unavailable)");
        ls_http_respond_error(req, &err);
        return;
    }
    size_t len;
    const char *text = ls_topics_list_text(app->topics, &len);
    ls_http_respond_bytes(req, 200, "application/json", text, len);
}

static void handle_get(ls_http_req_t *req, void *data)
{
    ls_app_t *app = data;
    ls_error_t err;
    if (ls_topics_get(app->topics, ls_http_param(req, "name"), on_got, req, &err) != LS_ERR_OK)
        ls_http_respond_error(req, &err);
}

static void handle_delete(ls_http_req_t *req, void *data)
{
    ls_app_t *app = data;
    ls_error_t err;
    if (ls_topics_delete(app->topics, ls_http_param(req, "name"), on_deleted, req, &err) !=
        LS_ERR_OK)
        ls_http_respond_error(req, &err);
}

void ls_api_topics_routes(ls_app_t *app, ls_http_server_t *http)
{
    ls_http_route(http, "POST", "/api/v1/topics", handle_create, app, LS_HTTP_JSON_BODY);
    ls_http_route(http, "GET", "/api/v1/topics", handle_list, app, 0);
    ls_http_route(http, "GET", "/api/v1/topics/{name}", handle_get, app, 0);
    ls_http_route(http, "DELETE", "/api/v1/topics/{name}", handle_delete, app, 0);
}
