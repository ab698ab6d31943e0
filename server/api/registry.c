/*
 * Confluent Schema Registry REST API on its own listener: HTTP translation
 * over registry/registry.h. Bodies are answered as
 * application/vnd.schemaregistry.v1+json and every error, including the
 * HTTP layer's own (unknown route, bad JSON, wrong content type), has
 * Confluent's shape {"error_code": N, "message": "..."}. The hot
 * GET /schemas/ids/{id} is answered from the service's cache without a
 * round trip.
 */
#include "api/registry.h"

#include <string.h>
#include <strings.h>

#include "core/alloc.h"

#define CONTENT_TYPE "application/vnd.schemaregistry.v1+json"

const char *const ls_api_registry_content_types[] = {
    "application/vnd.schemaregistry.v1+json", "application/vnd.schemaregistry+json",
    "application/json", "application/octet-stream", NULL};

static void write_error(ls_http_req_t *req, int status, int error_code, const char *message)
{
    json_t *body = json_pack("{s:i,s:s}", "error_code", error_code, "message", message);
    char *text = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(body);
    if (text == NULL)
        ls_oom(0);
    ls_http_respond_bytes(req, status, CONTENT_TYPE, text, strlen(text));
    free(text);
}

/* Errors raised by the HTTP layer itself: the status doubles as the code,
 * as Confluent's server does for them. */
static void confluent_error_writer(ls_http_req_t *req, int status, const ls_error_t *err)
{
    write_error(req, status, status == 500 ? 50001 : status, err->message);
}

static void respond_registry_error(ls_http_req_t *req, const ls_registry_error_t *err)
{
    write_error(req, ls_registry_http_status(err->error_code), err->error_code, err->error.message);
}

static void respond(ls_http_req_t *req, json_t *result)
{
    char *text = json_dumps(result, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
    json_decref(result);
    if (text == NULL)
        ls_oom(0);
    ls_http_respond_bytes(req, 200, CONTENT_TYPE, text, strlen(text));
    free(text);
}

static bool query_true(ls_http_req_t *req, const char *name)
{
    const char *v = ls_http_query(req, name);
    return v != NULL && strcasecmp(v, "true") == 0;
}

/* The generic answer: the service's JSON document, or its error. */
static void on_result(void *arg, json_t *result, const ls_registry_error_t *err)
{
    ls_http_req_t *req = arg;
    if (err->error_code != 0)
        respond_registry_error(req, err);
    else
        respond(req, result);
}

/* The .../schema endpoints answer the schema text itself. */
static void on_version_schema(void *arg, json_t *result, const ls_registry_error_t *err)
{
    ls_http_req_t *req = arg;
    if (err->error_code != 0) {
        respond_registry_error(req, err);
        return;
    }
    json_t *schema = json_object_get(result, "schema");
    ls_http_respond_bytes(req, 200, CONTENT_TYPE, json_string_value(schema),
                          json_string_length(schema));
    json_decref(result);
}

#define REGISTRY(data) ((ls_registry_t *)(data))
#define SUBJECT(req) ls_http_param(req, "subject")

#define CALL_OR_FAIL(req, call)                                                                    \
    do {                                                                                           \
        ls_registry_error_t err_;                                                                  \
        if ((call) != LS_ERR_OK)                                                                   \
            respond_registry_error(req, &err_);                                                    \
    } while (0)

static void handle_root(ls_http_req_t *req, void *data)
{
    respond(req, json_object());
}

static void handle_list_subjects(ls_http_req_t *req, void *data)
{
    CALL_OR_FAIL(req, ls_registry_list_subjects(REGISTRY(data), query_true(req, "deleted"),
                                                on_result, req, &err_));
}

static void handle_list_versions(ls_http_req_t *req, void *data)
{
    CALL_OR_FAIL(req, ls_registry_list_versions(REGISTRY(data), SUBJECT(req),
                                                query_true(req, "deleted"), on_result, req, &err_));
}

static void handle_register(ls_http_req_t *req, void *data)
{
    CALL_OR_FAIL(req, ls_registry_register(REGISTRY(data), SUBJECT(req), ls_http_body(req),
                                           on_result, req, &err_));
}

static void handle_get_version(ls_http_req_t *req, void *data)
{
    CALL_OR_FAIL(req, ls_registry_get_version(REGISTRY(data), SUBJECT(req),
                                              ls_http_param(req, "version"),
                                              query_true(req, "deleted"), on_result, req, &err_));
}

static void handle_get_version_schema(ls_http_req_t *req, void *data)
{
    CALL_OR_FAIL(
        req, ls_registry_get_version(REGISTRY(data), SUBJECT(req), ls_http_param(req, "version"),
                                     query_true(req, "deleted"), on_version_schema, req, &err_));
}

/* Schema references are not supported, so nothing refers to any version;
 * the version must exist all the same. */
static void on_referenced_by(void *arg, json_t *result, const ls_registry_error_t *err)
{
    json_decref(result);
    on_result(arg, err->error_code == 0 ? json_array() : NULL, err);
}

static void handle_referenced_by(ls_http_req_t *req, void *data)
{
    CALL_OR_FAIL(req, ls_registry_get_version(REGISTRY(data), SUBJECT(req),
                                              ls_http_param(req, "version"), false,
                                              on_referenced_by, req, &err_));
}

static void handle_lookup(ls_http_req_t *req, void *data)
{
    CALL_OR_FAIL(req, ls_registry_lookup(REGISTRY(data), SUBJECT(req), ls_http_body(req),
                                         query_true(req, "deleted"), on_result, req, &err_));
}

static void handle_delete_subject(ls_http_req_t *req, void *data)
{
    CALL_OR_FAIL(req,
                 ls_registry_delete_subject(REGISTRY(data), SUBJECT(req),
                                            query_true(req, "permanent"), on_result, req, &err_));
}

static void handle_delete_version(ls_http_req_t *req, void *data)
{
    CALL_OR_FAIL(
        req, ls_registry_delete_version(REGISTRY(data), SUBJECT(req), ls_http_param(req, "version"),
                                        query_true(req, "permanent"), on_result, req, &err_));
}

/* ---- schemas by id ---- */

static void on_schema(void *arg, ls_registry_schema_t *schema, const ls_registry_error_t *err)
{
    ls_http_req_t *req = arg;
    if (err->error_code != 0) {
        respond_registry_error(req, err);
        return;
    }
    size_t len;
    const char *text = ls_registry_schema_response(schema, &len);
    ls_http_respond_bytes(req, 200, CONTENT_TYPE, text, len);
}

static void on_schema_text(void *arg, ls_registry_schema_t *schema, const ls_registry_error_t *err)
{
    ls_http_req_t *req = arg;
    if (err->error_code != 0) {
        respond_registry_error(req, err);
        return;
    }
    size_t len;
    const char *text = ls_registry_schema_text(schema, &len);
    ls_http_respond_bytes(req, 200, CONTENT_TYPE, text, len);
}

static void get_schema(ls_http_req_t *req, void *data, ls_registry_schema_cb cb)
{
    int32_t id;
    ls_registry_error_t err;
    if (ls_registry_parse_id(ls_http_param(req, "id"), &id, &err) != LS_ERR_OK ||
        ls_registry_schema_get(REGISTRY(data), id, cb, req, &err) != LS_ERR_OK)
        respond_registry_error(req, &err);
}

static void handle_schema_by_id(ls_http_req_t *req, void *data)
{
    get_schema(req, data, on_schema);
}

static void handle_schema_text_by_id(ls_http_req_t *req, void *data)
{
    get_schema(req, data, on_schema_text);
}

static void schema_users(ls_http_req_t *req, void *data, bool versions)
{
    int32_t id;
    ls_registry_error_t err;
    if (ls_registry_parse_id(ls_http_param(req, "id"), &id, &err) != LS_ERR_OK ||
        ls_registry_schema_subjects(REGISTRY(data), id, query_true(req, "deleted"), versions,
                                    on_result, req, &err) != LS_ERR_OK)
        respond_registry_error(req, &err);
}

static void handle_schema_subjects(ls_http_req_t *req, void *data)
{
    schema_users(req, data, false);
}

static void handle_schema_versions(ls_http_req_t *req, void *data)
{
    schema_users(req, data, true);
}

static void handle_schema_types(ls_http_req_t *req, void *data)
{
    static const char body[] = "[\"AVRO\"]";
    ls_http_respond_static(req, 200, CONTENT_TYPE, body, sizeof(body) - 1);
}

/* ---- config, mode, compatibility ---- */

static void handle_get_config(ls_http_req_t *req, void *data)
{
    CALL_OR_FAIL(req,
                 ls_registry_get_config(REGISTRY(data), SUBJECT(req),
                                        query_true(req, "defaultToGlobal"), on_result, req, &err_));
}

static void handle_put_config(ls_http_req_t *req, void *data)
{
    CALL_OR_FAIL(req, ls_registry_put_config(REGISTRY(data), SUBJECT(req), ls_http_body(req),
                                             on_result, req, &err_));
}

static void handle_delete_config(ls_http_req_t *req, void *data)
{
    CALL_OR_FAIL(req,
                 ls_registry_delete_config(REGISTRY(data), SUBJECT(req), on_result, req, &err_));
}

static void handle_get_mode(ls_http_req_t *req, void *data)
{
    CALL_OR_FAIL(req, ls_registry_get_mode(REGISTRY(data), on_result, req, &err_));
}

static void handle_put_mode(ls_http_req_t *req, void *data)
{
    CALL_OR_FAIL(req, ls_registry_put_mode(REGISTRY(data), ls_http_body(req),
                                           query_true(req, "force"), on_result, req, &err_));
}

static void handle_compatibility(ls_http_req_t *req, void *data)
{
    CALL_OR_FAIL(req, ls_registry_check_compatibility(
                          REGISTRY(data), SUBJECT(req), ls_http_param(req, "version"),
                          ls_http_body(req), query_true(req, "verbose"), on_result, req, &err_));
}

void ls_api_registry_routes(ls_registry_t *registry, ls_http_server_t *http)
{
    void *r = registry;
    ls_http_set_error_writer(http, confluent_error_writer);
    ls_http_route(http, "GET", "/", handle_root, r, 0);
    ls_http_route(http, "GET", "/subjects", handle_list_subjects, r, 0);
    ls_http_route(http, "POST", "/subjects/{subject}", handle_lookup, r, LS_HTTP_JSON_BODY);
    ls_http_route(http, "DELETE", "/subjects/{subject}", handle_delete_subject, r, 0);
    ls_http_route(http, "GET", "/subjects/{subject}/versions", handle_list_versions, r, 0);
    ls_http_route(http, "POST", "/subjects/{subject}/versions", handle_register, r,
                  LS_HTTP_JSON_BODY);
    ls_http_route(http, "GET", "/subjects/{subject}/versions/{version}", handle_get_version, r, 0);
    ls_http_route(http, "DELETE", "/subjects/{subject}/versions/{version}", handle_delete_version,
                  r, 0);
    ls_http_route(http, "GET", "/subjects/{subject}/versions/{version}/schema",
                  handle_get_version_schema, r, 0);
    ls_http_route(http, "GET", "/subjects/{subject}/versions/{version}/referencedby",
                  handle_referenced_by, r, 0);
    ls_http_route(http, "GET", "/schemas/types", handle_schema_types, r, 0);
    ls_http_route(http, "GET", "/schemas/ids/{id}", handle_schema_by_id, r, 0);
    ls_http_route(http, "GET", "/schemas/ids/{id}/schema", handle_schema_text_by_id, r, 0);
    ls_http_route(http, "GET", "/schemas/ids/{id}/subjects", handle_schema_subjects, r, 0);
    ls_http_route(http, "GET", "/schemas/ids/{id}/versions", handle_schema_versions, r, 0);
    ls_http_route(http, "GET", "/config", handle_get_config, r, 0);
    ls_http_route(http, "PUT", "/config", handle_put_config, r, LS_HTTP_JSON_BODY);
    ls_http_route(http, "DELETE", "/config", handle_delete_config, r, 0);
    ls_http_route(http, "GET", "/config/{subject}", handle_get_config, r, 0);
    ls_http_route(http, "PUT", "/config/{subject}", handle_put_config, r, LS_HTTP_JSON_BODY);
    ls_http_route(http, "DELETE", "/config/{subject}", handle_delete_config, r, 0);
    ls_http_route(http, "GET", "/mode", handle_get_mode, r, 0);
    ls_http_route(http, "PUT", "/mode", handle_put_mode, r, LS_HTTP_JSON_BODY);
    ls_http_route(http, "POST", "/compatibility/subjects/{subject}/versions", handle_compatibility,
                  r, LS_HTTP_JSON_BODY);
    ls_http_route(http, "POST", "/compatibility/subjects/{subject}/versions/{version}",
                  handle_compatibility, r, LS_HTTP_JSON_BODY);
}
