/*
 * Operational endpoints: /healthz (the loop runs), /readyz (dependencies
 * answer), /metrics (Prometheus text) and /api/v1/status, plus the OpenAPI
 * document. Answers come from memory; none of these touch PostgreSQL.
 */
#include <string.h>

#include "api/api.h"
#include "core/embedded.h"

static void handle_healthz(ls_http_req_t *req, void *data)
{
    static const char body[] = "{\"status\":\"ok\"}";
    ls_http_respond_static(req, 200, "application/json", body, sizeof(body) - 1);
}

static void handle_readyz(ls_http_req_t *req, void *data)
{
    ls_app_t *app = data;
    json_t *failing = json_array();
    if (!ls_pg_is_up(app->pg))
        json_array_append_new(failing, json_pack("{s:s,s:s}", "component", "postgres", "message",
                                                 "no PostgreSQL connection is up"));
    else if (!app->migrated || !ls_topics_loaded(app->topics))
        json_array_append_new(failing, json_pack("{s:s,s:s}", "component", "postgres", "message",
                                                 "schema migrations or state loading not done"));
    if (!ls_kafka_is_up(app->kafka))
        json_array_append_new(failing, json_pack("{s:s,s:s}", "component", "kafka", "message",
                                                 "no Kafka broker answers"));
    if (app->stopping)
        json_array_append_new(
            failing, json_pack("{s:s,s:s}", "component", "server", "message", "shutting down"));
    bool ok = json_array_size(failing) == 0;
    ls_http_respond_json(
        req, ok ? 200 : 503,
        json_pack("{s:s,s:o}", "status", ok ? "ready" : "unavailable", "failing", failing));
}

static void handle_metrics(ls_http_req_t *req, void *data)
{
    ls_app_t *app = data;
    ls_buf_t out = LS_BUF_INIT;
    ls_metrics_render(app->metrics, &out);
    ls_http_respond_bytes(req, 200, "text/plain; version=0.0.4; charset=utf-8", out.data, out.len);
    ls_buf_free(&out);
}

static void handle_status(ls_http_req_t *req, void *data)
{
    ls_app_t *app = data;
    const ls_config_t *cfg = app->config;
    ls_pg_stats_t pg;
    ls_pg_stats(app->pg, &pg);
    ls_kafka_stats_t ks;
    ls_kafka_stats(app->kafka, &ks);
    json_t *body = json_pack(
        "{s:s,s:I,s:{s:s,s:s?,s:s?},s:{s:s,s:b,s:b,s:i},s:{s:b,s:b,s:i,s:i,s:i},s:s,s:{s:I}}",
        "version", LS_VERSION, "uptime_s",
        (json_int_t)((uv_hrtime() - app->started_ns) / 1000000000ull), "listeners", "http",
        ls_http_server_addr(app->http), "registry",
        app->registry_http ? ls_http_server_addr(app->registry_http) : NULL, "grpc", NULL, "kafka",
        "bootstrap", ls_kafka_bootstrap(app->kafka), "embedded", ls_kafka_is_embedded(app->kafka),
        "up", ls_kafka_is_up(app->kafka), "brokers_up", ks.brokers_up, "postgres", "ok",
        ls_pg_is_up(app->pg), "migrated", app->migrated, "schema_version", app->schema_version,
        "pool_size", pg.size, "connections_up", pg.up, "warehouse", app->warehouse, "totals",
        "topics", (json_int_t)ls_topics_count(app->topics));
    (void)cfg;
    ls_http_respond_json(req, 200, body);
}

static void handle_openapi(ls_http_req_t *req, void *data)
{
    const ls_embedded_file_t *f = ls_embedded_find("schemas/openapi.yaml");
    if (f == NULL) {
        ls_error_t err;
        ls_error_set(&err, LS_ERR_NOT_FOUND, "this build carries no OpenAPI document");
        ls_http_respond_error(req, &err);
        return;
    }
    ls_http_respond_static(req, 200, "application/yaml", f->data, f->len);
}

void ls_api_health_routes(ls_app_t *app, ls_http_server_t *http)
{
    ls_http_route(http, "GET", "/healthz", handle_healthz, app, 0);
    ls_http_route(http, "GET", "/readyz", handle_readyz, app, 0);
    ls_http_route(http, "GET", "/metrics", handle_metrics, app, 0);
    ls_http_route(http, "GET", "/api/v1/status", handle_status, app, 0);
    ls_http_route(http, "GET", "/api/v1/openapi.yaml", handle_openapi, app, 0);
}
