/*
 * The assembled server: owns the loop's long-lived parts (PostgreSQL pool,
 * Kafka clients, HTTP listeners, metrics, services) and their start and
 * graceful-stop order. main.c only parses flags and runs the loop; tests can
 * build an app the same way. Loop thread only.
 */
#ifndef LS_SERVICES_APP_H
#define LS_SERVICES_APP_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "api/http.h"
#include "core/config.h"
#include "core/metrics.h"
#include "kafka/kafka.h"
#include "services/sources.h"
#include "registry/registry.h"
#include "services/tables.h"
#include "services/topics.h"
#include "services/chains.h"
#include "store/pg.h"

/* Exit codes, documented in --help and README. */
enum {
    LS_EXIT_OK = 0,
    LS_EXIT_RUNTIME = 1,
    LS_EXIT_CONFIG = 2,
    LS_EXIT_BIND = 3,
    LS_EXIT_STOP_TIMEOUT = 4,
};

typedef struct ls_app {
    uv_loop_t *loop;
    const ls_config_t *config;
    char *warehouse; /* resolved warehouse URL */
    uint64_t started_ns;
    ls_metrics_t *metrics;
    ls_loop_lag_t lag;
    ls_pg_t *pg;
    ls_kafka_t *kafka;
    ls_http_server_t *http;
    ls_topics_t *topics;
    ls_sources_t *sources; /* CDC sources */
    /* schema registry: service and its own Confluent-API listener */
    ls_registry_t *registry;
    ls_http_server_t *registry_http;
    ls_chains_t *chains; /* filter chains */
    ls_tables_t *tables; /* Iceberg tables and catalog (services/tables.h) */
    bool migrated;
    int schema_version;
    uv_timer_t retry_timer; /* retries migrations/loads while PostgreSQL is down */
    int retry_delay_ms;
    bool stopping;
    int exit_code;
    uv_timer_t stop_timer;
    uint64_t stop_deadline_ns;
    int stop_phase;
    void (*on_stopped)(void *arg);
    void *on_stopped_arg;
} ls_app_t;

/* Starts everything; on failure returns an error whose exit code is in
 * app->exit_code, and everything opened so far is being closed (run the loop
 * to let it finish). */
ls_err_t ls_app_start(ls_app_t *app, uv_loop_t *loop, const ls_config_t *config, ls_error_t *err);

/* Graceful stop: stop accepting, wait for in-flight requests, flush
 * producers, close consumers, close PostgreSQL, close every handle. Bounded
 * by config->shutdown_timeout_ms; past it, remaining work is abandoned and
 * exit_code becomes LS_EXIT_STOP_TIMEOUT. cb fires when the app is down. */
void ls_app_stop(ls_app_t *app, void (*cb)(void *arg), void *arg);

/* Registers the REST routes of every resource (api/). */
void ls_api_register_routes(ls_app_t *app, ls_http_server_t *http);

#endif
