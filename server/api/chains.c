/*
 * /api/v1/chains: HTTP translation over services/chains. Deploy and replace
 * accept JSON or YAML bodies (Content-Type application/json,
 * application/yaml, application/x-yaml or text/yaml); the routes are
 * registered without LS_HTTP_JSON_BODY so this file parses the raw body.
 */
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "chains/chain.h"
#include "services/chains.h"

static bool read_spec(ls_http_req_t *req, json_t **out)
{
    ls_error_t err;
    size_t len;
    const char *body = ls_http_raw_body(req, &len);
    if (len > ls_http_max_body_bytes(req)) {
        ls_error_set(&err, LS_ERR_INVALID_ARGUMENT, "request body of %zu bytes exceeds the limit",
                     len);
        ls_http_respond_error_status(req, 413, &err);
        return false;
    }
    const char *ct = ls_http_header(req, "content-type");
    size_t ctl = 0;
    if (ct != NULL)
        while (ct[ctl] && ct[ctl] != ';' && ct[ctl] != ' ')
            ctl++;
    bool yaml = false;
    if (ct != NULL && ((ctl == 16 && strncasecmp(ct, "application/yaml", 16) == 0) ||
                       (ctl == 18 && strncasecmp(ct, "application/x-yaml", 18) == 0) ||
                       (ctl == 9 && strncasecmp(ct, "text/yaml", 9) == 0)))
        yaml = true;
    else if (ct == NULL || !(ctl == 16 && strncasecmp(ct, "application/json", 16) == 0)) {
        ls_error_set(&err, LS_ERR_INVALID_ARGUMENT,
                     "Content-Type must be application/json or application/yaml");
        ls_http_respond_error_status(req, 415, &err);
        return false;
    }
    if (ls_chain_spec_parse_text(body, len, yaml, out, &err) != LS_ERR_OK) {
        ls_http_respond_error(req, &err);
        return false;
    }
    return true;
}

static void respond_err(ls_http_req_t *req, const ls_error_t *err)
{
    if (err->path[0] == '\0') {
        ls_http_respond_error(req, err);
        return;
    }
    /* API.md: errors carry the JSON path of the bad field in details. */
    json_t *body = json_pack("{s:{s:s,s:s,s:[{s:s}]}}", "error", "code", ls_err_name(err->code),
                             "message", err->message, "details", "path", err->path);
    ls_http_respond_json(req, ls_err_http_status(err->code), body);
}

static void on_done_status(void *arg, json_t *chain, const ls_error_t *err, int status)
{
    ls_http_req_t *req = arg;
    if (err->code != LS_ERR_OK) {
        json_decref(chain);
        respond_err(req, err);
        return;
    }
    ls_http_respond_json(req, status, chain);
}
static void on_created(void *arg, json_t *chain, const ls_error_t *err)
{
    on_done_status(arg, chain, err, 201);
}
static void on_ok(void *arg, json_t *chain, const ls_error_t *err)
{
    on_done_status(arg, chain, err, 200);
}
static void on_deleted(void *arg, json_t *chain, const ls_error_t *err)
{
    json_decref(chain);
    on_done_status(arg, NULL, err, 204);
}

static void handle_deploy(ls_http_req_t *req, void *data)
{
    ls_app_t *app = data;
    json_t *spec;
    if (!read_spec(req, &spec))
        return;
    ls_error_t err;
    if (ls_chains_deploy(app->chains, spec, NULL, on_created, req, &err) != LS_ERR_OK)
        respond_err(req, &err);
    json_decref(spec);
}

static void handle_replace(ls_http_req_t *req, void *data)
{
    ls_app_t *app = data;
    json_t *spec;
    if (!read_spec(req, &spec))
        return;
    ls_error_t err;
    if (ls_chains_deploy(app->chains, spec, ls_http_param(req, "name"), on_ok, req, &err) !=
        LS_ERR_OK)
        respond_err(req, &err);
    json_decref(spec);
}

static void handle_validate(ls_http_req_t *req, void *data)
{
    ls_app_t *app = data;
    json_t *spec, *summary;
    if (!read_spec(req, &spec))
        return;
    ls_error_t err;
    if (ls_chains_validate(app->chains, spec, &summary, &err) != LS_ERR_OK)
        respond_err(req, &err);
    else
        ls_http_respond_json(req, 200, summary);
    json_decref(spec);
}

static void handle_list(ls_http_req_t *req, void *data)
{
    ls_app_t *app = data;
    ls_http_respond_json(req, 200, ls_chains_list(app->chains));
}

static void handle_get(ls_http_req_t *req, void *data)
{
    ls_app_t *app = data;
    json_t *out;
    ls_error_t err;
    if (ls_chains_get(app->chains, ls_http_param(req, "name"), &out, &err) != LS_ERR_OK)
        respond_err(req, &err);
    else
        ls_http_respond_json(req, 200, out);
}

static void set_paused(ls_http_req_t *req, ls_app_t *app, bool paused)
{
    ls_error_t err;
    if (ls_chains_set_paused(app->chains, ls_http_param(req, "name"), paused, on_ok, req, &err) !=
        LS_ERR_OK)
        respond_err(req, &err);
}
static void handle_pause(ls_http_req_t *req, void *data)
{
    set_paused(req, data, true);
}
static void handle_resume(ls_http_req_t *req, void *data)
{
    set_paused(req, data, false);
}

static void handle_delete(ls_http_req_t *req, void *data)
{
    ls_app_t *app = data;
    ls_error_t err;
    if (ls_chains_delete(app->chains, ls_http_param(req, "name"), on_deleted, req, &err) !=
        LS_ERR_OK)
        respond_err(req, &err);
}

static void handle_processors(ls_http_req_t *req, void *data)
{
    ls_http_respond_json(req, 200, ls_chains_processors_help());
}

void ls_api_chains_routes(ls_app_t *app, ls_http_server_t *http)
{
    ls_http_route(http, "POST", "/api/v1/chains:validate", handle_validate, app, 0);
    ls_http_route(http, "POST", "/api/v1/chains", handle_deploy, app, 0);
    ls_http_route(http, "GET", "/api/v1/chains", handle_list, app, 0);
    ls_http_route(http, "GET", "/api/v1/chains/{name}", handle_get, app, 0);
    ls_http_route(http, "PUT", "/api/v1/chains/{name}", handle_replace, app, 0);
    ls_http_route(http, "DELETE", "/api/v1/chains/{name}", handle_delete, app, 0);
    ls_http_route(http, "POST", "/api/v1/chains/{name}:pause", handle_pause, app, 0);
    ls_http_route(http, "POST", "/api/v1/chains/{name}:resume", handle_resume, app, 0);
    ls_http_route(http, "GET", "/api/v1/processors", handle_processors, app, 0);
}
