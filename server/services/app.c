/*
 * Start and graceful stop of the whole server (see app.h). Dependencies may
 * be down at start: the listeners come up anyway so /healthz and /readyz
 * can say what is missing, and migrations plus state loading are retried
 * with backoff until PostgreSQL answers. The stop sequence is a small state
 * machine driven by one timer so that every step has the same deadline.
 */
#include "services/app.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "api/registry.h"
#include "core/alloc.h"
#include "core/log.h"
#include "store/migrate.h"

static void try_prepare(ls_app_t *app);

static void schedule_retry(ls_app_t *app, const char *what, const ls_error_t *err)
{
    if (app->stopping)
        return;
    ls_log(LS_LOG_WARN, "app", "%s failed, retrying in %d ms: %s", what, app->retry_delay_ms,
           err->message);
    uv_timer_start(&app->retry_timer, (uv_timer_cb)try_prepare, (uint64_t)app->retry_delay_ms, 0);
    app->retry_delay_ms = app->retry_delay_ms * 2 > 5000 ? 5000 : app->retry_delay_ms * 2;
}

/* CDC sources start once topics are known (they re-create their topic on
 * the embedded broker with the registered partition count). */
static void on_sources_loaded(void *arg, const ls_error_t *err)
{
    ls_app_t *app = arg;
    if (err->code != LS_ERR_OK)
        schedule_retry(app, "loading CDC sources", err);
}

static void on_topics_loaded(void *arg, const ls_error_t *err)
{
    ls_app_t *app = arg;
    if (err->code != LS_ERR_OK) {
        schedule_retry(app, "loading topics", err);
        return;
    }
    app->retry_delay_ms = 200;
    ls_log(LS_LOG_INFO, "app", "state loaded: %zu topics", ls_topics_count(app->topics));
    ls_error_t serr;
    if (!app->stopping && !ls_sources_loaded(app->sources) &&
        ls_sources_load(app->sources, on_sources_loaded, app, &serr) != LS_ERR_OK &&
        serr.code != LS_ERR_FAILED_PRECONDITION)
        schedule_retry(app, "loading CDC sources", &serr);
    ls_chains_start(app->chains); /* chains: restart the deployed chains */
}

static void on_migrated(void *arg, int applied, int version, const ls_error_t *err)
{
    ls_app_t *app = arg;
    if (err->code != LS_ERR_OK) {
        schedule_retry(app, "schema migration", err);
        return;
    }
    app->migrated = true;
    ls_registry_set_ready(app->registry);
    app->schema_version = version;
    if (applied > 0)
        ls_log(LS_LOG_INFO, "app", "applied %d schema migrations (now at version %d)", applied,
               version);
    ls_error_t lerr;
    if (ls_topics_load(app->topics, on_topics_loaded, app, &lerr) != LS_ERR_OK)
        schedule_retry(app, "loading topics", &lerr);
}

static void try_prepare(ls_app_t *app)
{
    if (app->stopping)
        return;
    ls_error_t err;
    if (!app->migrated) {
        if (ls_migrate(app->pg, on_migrated, app, &err) != LS_ERR_OK)
            schedule_retry(app, "schema migration", &err);
        return;
    }
    if (ls_topics_load(app->topics, on_topics_loaded, app, &err) != LS_ERR_OK)
        schedule_retry(app, "loading topics", &err);
}

static void collect_app(void *arg, ls_buf_t *out)
{
    ls_app_t *app = arg;
    ls_pg_stats_t pg;
    ls_pg_stats(app->pg, &pg);
    ls_kafka_stats_t ks;
    ls_kafka_stats(app->kafka, &ks);
    ls_metrics_header(out, "lakestream_up", "gauge", "Whether a dependency answers (1) or not (0)");
    ls_metrics_sample(out, "lakestream_up", "component=\"postgres\"", ls_pg_is_up(app->pg));
    ls_metrics_sample(out, "lakestream_up", "component=\"kafka\"", ls_kafka_is_up(app->kafka));
    ls_metrics_header(out, "lakestream_uptime_seconds", "gauge", "Seconds since start");
    ls_metrics_sample(out, "lakestream_uptime_seconds", NULL,
                      (double)((uv_hrtime() - app->started_ns) / 1000000000ull));
    ls_metrics_header(out, "lakestream_pg_connections", "gauge", "PostgreSQL pool connections");
    ls_metrics_sample(out, "lakestream_pg_connections", "state=\"configured\"", pg.size);
    ls_metrics_sample(out, "lakestream_pg_connections", "state=\"up\"", pg.up);
    ls_metrics_sample(out, "lakestream_pg_connections", "state=\"busy\"", pg.busy);
    ls_metrics_header(out, "lakestream_pg_queued_queries", "gauge",
                      "Queries waiting for a connection");
    ls_metrics_sample(out, "lakestream_pg_queued_queries", NULL, pg.queued);
    ls_metrics_header(out, "lakestream_pg_queries_total", "counter", "PostgreSQL queries run");
    ls_metrics_sample(out, "lakestream_pg_queries_total", NULL, (double)pg.queries);
    ls_metrics_header(out, "lakestream_pg_query_failures_total", "counter",
                      "PostgreSQL queries failed");
    ls_metrics_sample(out, "lakestream_pg_query_failures_total", NULL, (double)pg.failures);
    ls_metrics_header(out, "lakestream_pg_reconnects_total", "counter", "PostgreSQL reconnects");
    ls_metrics_sample(out, "lakestream_pg_reconnects_total", NULL, (double)pg.reconnects);
    ls_metrics_header(out, "lakestream_kafka_brokers_up", "gauge", "Kafka brokers in state UP");
    ls_metrics_sample(out, "lakestream_kafka_brokers_up", NULL, ks.brokers_up);
    ls_metrics_header(out, "lakestream_kafka_produced_total", "counter",
                      "Records handed to the producer");
    ls_metrics_sample(out, "lakestream_kafka_produced_total", NULL, (double)ks.produced);
    ls_metrics_header(out, "lakestream_kafka_delivered_total", "counter",
                      "Records acknowledged by Kafka");
    ls_metrics_sample(out, "lakestream_kafka_delivered_total", NULL, (double)ks.delivered);
    ls_metrics_header(out, "lakestream_kafka_produce_errors_total", "counter",
                      "Records Kafka failed to take");
    ls_metrics_sample(out, "lakestream_kafka_produce_errors_total", NULL,
                      (double)ks.produce_errors);
    ls_metrics_header(out, "lakestream_kafka_producer_queue", "gauge",
                      "Records waiting in the producer");
    ls_metrics_sample(out, "lakestream_kafka_producer_queue", NULL, ks.producer_queue);
    ls_metrics_header(out, "lakestream_topics", "gauge", "Topics registered");
    ls_metrics_sample(out, "lakestream_topics", NULL, (double)ls_topics_count(app->topics));
}

static void collect_registry(void *arg, ls_buf_t *out)
{
    ls_registry_stats_t st;
    ls_registry_stats(arg, &st);
    ls_metrics_header(out, "lakestream_registry_cached_schemas", "gauge",
                      "Schemas held in the registry's by-id cache");
    ls_metrics_sample(out, "lakestream_registry_cached_schemas", NULL, (double)st.entries);
    ls_metrics_header(out, "lakestream_registry_cache_lookups_total", "counter",
                      "Schema-by-id lookups, by outcome");
    ls_metrics_sample(out, "lakestream_registry_cache_lookups_total", "result=\"hit\"",
                      (double)st.hits);
    ls_metrics_sample(out, "lakestream_registry_cache_lookups_total", "result=\"miss\"",
                      (double)st.misses);
}

/* librdkafka's own log lines, into our JSON log (syslog levels 0..7). */
static void kafka_log(void *arg, int syslog_level, const char *fac, const char *msg)
{
    ls_log_level_t level = syslog_level <= 3   ? LS_LOG_ERROR
                           : syslog_level == 4 ? LS_LOG_WARN
                           : syslog_level <= 6 ? LS_LOG_INFO
                                               : LS_LOG_DEBUG;
    ls_log_fields(level, "kafka", NULL, json_pack("{s:s}", "facility", fac), "%s", msg);
}

static char *resolve_warehouse(const ls_config_t *cfg)
{
    if (cfg->warehouse != NULL && cfg->warehouse[0] != '\0')
        return ls_strdup(cfg->warehouse);
    char cwd[4096];
    if (getcwd(cwd, sizeof(cwd)) == NULL)
        return ls_strdup("file:///tmp/lakestream-warehouse");
    return ls_asprintf("file://%s/var/warehouse", cwd);
}

ls_err_t ls_app_start(ls_app_t *app, uv_loop_t *loop, const ls_config_t *cfg, ls_error_t *err)
{
    memset(app, 0, sizeof(*app));
    app->loop = loop;
    app->config = cfg;
    app->started_ns = uv_hrtime();
    app->retry_delay_ms = 200;
    app->exit_code = LS_EXIT_OK;

    ls_log_level_t level;
    if (!ls_log_level_parse(cfg->log_level, &level)) {
        app->exit_code = LS_EXIT_CONFIG;
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT,
                            "log.level must be debug, info, warn or error, got \"%s\"",
                            cfg->log_level);
    }
    if (strncmp(cfg->warehouse, "file:///", 8) != 0 && strncmp(cfg->warehouse, "s3://", 5) != 0 &&
        cfg->warehouse[0] != '\0') {
        app->exit_code = LS_EXIT_CONFIG;
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT,
                            "warehouse must be file:///DIR or s3://BUCKET/PREFIX, got \"%s\"",
                            cfg->warehouse);
    }
    ls_log_set_level(level);
    ls_log_start(loop);
    app->warehouse = resolve_warehouse(cfg);
    app->metrics = ls_metrics_new();
    ls_loop_lag_start(loop, &app->lag, 250);
    uv_timer_init(loop, &app->retry_timer);
    app->retry_timer.data = app;
    uv_timer_init(loop, &app->stop_timer);
    app->stop_timer.data = app;

    ls_pg_config_t pgc = {.dsn = cfg->pg_dsn, .pool_size = cfg->pg_pool_size};
    if (ls_pg_open(loop, &pgc, &app->pg, err) != LS_ERR_OK) {
        app->exit_code = LS_EXIT_CONFIG;
        ls_app_stop(app, NULL, NULL);
        return err->code;
    }
    ls_kafka_config_t kc = {.bootstrap = cfg->kafka_bootstrap,
                            .embedded = cfg->embedded,
                            .embedded_brokers = cfg->kafka_embedded_brokers,
                            .log = kafka_log,
                            .log_arg = app};
    if (ls_kafka_open(loop, &kc, &app->kafka, err) != LS_ERR_OK) {
        app->exit_code = LS_EXIT_CONFIG;
        ls_app_stop(app, NULL, NULL);
        return err->code;
    }
    app->topics = ls_topics_new(app->pg, app->kafka);
    app->sources = ls_sources_new(loop, app->pg, app->kafka, app->topics, cfg->pg_dsn);
    app->registry = ls_registry_new(app->pg);
    ls_topics_set_registry(app->topics, app->registry);
    app->chains = ls_chains_new(loop, app->pg, app->kafka); /* chains */
    if (ls_tables_open(loop, app->pg, app->warehouse, NULL, &app->tables, err) != LS_ERR_OK) {
        app->exit_code = LS_EXIT_CONFIG;
        ls_app_stop(app, NULL, NULL);
        return err->code;
    }

    ls_http_config_t hc = {.name = "http",
                           .addr = cfg->http_addr,
                           .max_body_bytes = (size_t)cfg->http_max_body_bytes,
                           .access_log_sample = cfg->http_access_log_sample};
    if (ls_http_server_start(loop, &hc, &app->http, err) != LS_ERR_OK) {
        app->exit_code = err->code == LS_ERR_UNAVAILABLE ? LS_EXIT_BIND : LS_EXIT_CONFIG;
        ls_app_stop(app, NULL, NULL);
        return err->code;
    }
    ls_api_register_routes(app, app->http);

    ls_http_config_t rc = {.name = "registry",
                           .addr = cfg->registry_addr,
                           .max_body_bytes = (size_t)cfg->http_max_body_bytes,
                           .access_log_sample = cfg->http_access_log_sample,
                           .json_content_types = ls_api_registry_content_types};
    if (ls_http_server_start(loop, &rc, &app->registry_http, err) != LS_ERR_OK) {
        app->exit_code = err->code == LS_ERR_UNAVAILABLE ? LS_EXIT_BIND : LS_EXIT_CONFIG;
        ls_app_stop(app, NULL, NULL);
        return err->code;
    }
    ls_api_registry_routes(app->registry, app->registry_http);
    ls_metrics_register(app->metrics, collect_registry, app->registry);

    ls_metrics_register(app->metrics, collect_app, app);
    ls_metrics_register(app->metrics, ls_loop_lag_collect, &app->lag);
    ls_metrics_register(app->metrics, ls_http_collect_metrics, app->http);
    ls_metrics_register(app->metrics, ls_sources_collect, app->sources);
    ls_metrics_register(app->metrics, ls_chains_collect_metrics, app->chains); /* chains */
    ls_metrics_register(app->metrics, ls_tables_collect_metrics, app->tables);

    char *dsn = ls_log_redact_dsn(cfg->pg_dsn);
    ls_log_fields(LS_LOG_INFO, "app", NULL,
                  json_pack("{s:s,s:{s:s,s:s},s:{s:s,s:b},s:s,s:s}", "version", LS_VERSION,
                            "listeners", "http", ls_http_server_addr(app->http), "registry",
                            ls_http_server_addr(app->registry_http), "kafka", "bootstrap",
                            ls_kafka_bootstrap(app->kafka), "embedded",
                            ls_kafka_is_embedded(app->kafka), "postgres", dsn, "warehouse",
                            app->warehouse),
                  "lakestreamd started; http on %s, kafka bootstrap %s",
                  ls_http_server_addr(app->http), ls_kafka_bootstrap(app->kafka));
    free(dsn);
    try_prepare(app);
    return LS_ERR_OK;
}

/* ---------- graceful stop ---------- */

enum {
    STOP_DRAIN_REQUESTS,
    STOP_CLOSE_SOURCES, /* CDC sources finish their batch before the flush */
    STOP_CHAINS, /* chains: drain and commit before the producer flush */
    STOP_FLUSH_KAFKA,
    STOP_CLOSE_HTTP,
    STOP_CLOSE_REGISTRY_HTTP,
    STOP_CLOSE_KAFKA,
    STOP_CLOSE_TABLES,
    STOP_CLOSE_PG,
    STOP_FINAL,
    STOP_DONE,
};

static void stop_step(ls_app_t *app);

static void on_part_closed(void *arg)
{
    ls_app_t *app = arg;
    app->stop_phase++;
    stop_step(app);
}

static void on_kafka_flushed(void *arg, const ls_error_t *err)
{
    ls_app_t *app = arg;
    if (err->code != LS_ERR_OK)
        ls_log(LS_LOG_WARN, "app", "producer flush incomplete at stop: %s", err->message);
    on_part_closed(app);
}

static void finish_stop(ls_app_t *app)
{
    ls_sources_free(app->sources);
    app->sources = NULL;
    ls_topics_free(app->topics);
    app->topics = NULL;
    ls_registry_free(app->registry);
    app->registry = NULL;
    ls_chains_free(app->chains); /* chains */
    app->chains = NULL;
    ls_metrics_free(app->metrics);
    app->metrics = NULL;
    free(app->warehouse);
    app->warehouse = NULL;
    ls_log(LS_LOG_INFO, "app", "lakestreamd stopped (exit code %d)", app->exit_code);
    ls_log_stop();
    if (app->on_stopped != NULL)
        app->on_stopped(app->on_stopped_arg);
}

static void on_stop_timer(uv_timer_t *t)
{
    ls_app_t *app = t->data;
    if (app->stop_phase == STOP_DRAIN_REQUESTS) {
        bool drained =
            (app->http == NULL || ls_http_server_inflight(app->http) == 0) &&
            (app->registry_http == NULL || ls_http_server_inflight(app->registry_http) == 0);
        if (!drained && uv_hrtime() < app->stop_deadline_ns)
            return;
        if (!drained) {
            ls_log(LS_LOG_WARN, "app", "%d requests still in flight at the stop deadline",
                   ls_http_server_inflight(app->http));
            app->exit_code = LS_EXIT_STOP_TIMEOUT;
        }
        uv_timer_stop(t);
        app->stop_phase = STOP_CLOSE_SOURCES;
        stop_step(app);
        return;
    }
    /* Later phases: only the deadline matters here. */
    if (uv_hrtime() >= app->stop_deadline_ns && app->exit_code == LS_EXIT_OK) {
        ls_log(LS_LOG_WARN, "app", "graceful stop passed its deadline in phase %d",
               app->stop_phase);
        app->exit_code = LS_EXIT_STOP_TIMEOUT;
        ls_log_flush();
    }
}

static void stop_step(ls_app_t *app)
{
    int remaining_ms =
        (int)((app->stop_deadline_ns > uv_hrtime() ? app->stop_deadline_ns - uv_hrtime() : 0) /
              1000000ull);
    switch (app->stop_phase) {
    case STOP_DRAIN_REQUESTS:
        uv_timer_start(&app->stop_timer, on_stop_timer, 0, 10);
        return;
    case STOP_CLOSE_SOURCES:
        if (app->sources != NULL) {
            ls_sources_stop(app->sources, remaining_ms / 2 > 0 ? remaining_ms / 2 : 1,
                            on_part_closed, app);
            return;
        }
        app->stop_phase++;
        /* fall through */
    case STOP_CHAINS: /* chains */
        if (app->chains != NULL) {
            ls_chains_stop_all(app->chains, remaining_ms > 1000 ? remaining_ms - 1000 : 1,
                               on_part_closed, app);
            return;
        }
        app->stop_phase++;
        /* fall through */
    case STOP_FLUSH_KAFKA:
        if (app->kafka != NULL) {
            ls_kafka_flush(app->kafka, remaining_ms > 0 ? remaining_ms : 1, on_kafka_flushed, app);
            return;
        }
        app->stop_phase++;
        /* fall through */
    case STOP_CLOSE_HTTP:
        uv_timer_start(&app->stop_timer, on_stop_timer, 100, 100);
        if (app->http != NULL) {
            ls_http_server_t *http = app->http;
            app->http = NULL;
            ls_http_server_close(http, on_part_closed, app);
            return;
        }
        app->stop_phase++;
        /* fall through */
    case STOP_CLOSE_REGISTRY_HTTP:
        if (app->registry_http != NULL) {
            ls_http_server_t *http = app->registry_http;
            app->registry_http = NULL;
            ls_http_server_close(http, on_part_closed, app);
            return;
        }
        app->stop_phase++;
        /* fall through */
    case STOP_CLOSE_KAFKA:
        if (app->kafka != NULL) {
            ls_kafka_t *k = app->kafka;
            app->kafka = NULL;
            ls_kafka_close(k, on_part_closed, app);
            return;
        }
        app->stop_phase++;
        /* fall through */
    case STOP_CLOSE_TABLES:
        /* table operations in flight finish first: they still need PostgreSQL */
        if (app->tables != NULL) {
            ls_tables_t *t = app->tables;
            app->tables = NULL;
            ls_tables_close(t, on_part_closed, app);
            return;
        }
        app->stop_phase++;
        /* fall through */
    case STOP_CLOSE_PG:
        if (app->pg != NULL) {
            ls_pg_t *pg = app->pg;
            app->pg = NULL;
            ls_pg_close(pg, on_part_closed, app);
            return;
        }
        app->stop_phase++;
        /* fall through */
    case STOP_FINAL:
        app->stop_phase = STOP_DONE;
        ls_loop_lag_close(&app->lag);
        uv_close((uv_handle_t *)&app->retry_timer, NULL);
        uv_close((uv_handle_t *)&app->stop_timer, NULL);
        finish_stop(app);
        return;
    default:
        return;
    }
}

void ls_app_stop(ls_app_t *app, void (*cb)(void *arg), void *arg)
{
    if (app->stopping)
        return;
    app->stopping = true;
    app->on_stopped = cb;
    app->on_stopped_arg = arg;
    uint64_t timeout_ms = app->config != NULL ? (uint64_t)app->config->shutdown_timeout_ms : 10000;
    app->stop_deadline_ns = uv_hrtime() + timeout_ms * 1000000ull;
    uv_timer_stop(&app->retry_timer);
    ls_log(LS_LOG_INFO, "app", "stopping: no new connections; finishing in-flight work");
    if (app->http != NULL)
        ls_http_server_stop_accepting(app->http);
    if (app->registry_http != NULL)
        ls_http_server_stop_accepting(app->registry_http);
    app->stop_phase = STOP_DRAIN_REQUESTS;
    stop_step(app);
}
