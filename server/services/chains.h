/*
 * The chains service: deploys, replaces, pauses, resumes, deletes and lists
 * filter chains for the REST API (and later gRPC and the dashboard). A chain
 * is a row in PostgreSQL (table chains, the validated spec) plus a running
 * engine (chains/engine.h). A rejected request changes nothing: specs are
 * validated completely before any state change. Chains found in the table
 * are started at server start. Loop thread only.
 */
#ifndef LS_SERVICES_CHAINS_H
#define LS_SERVICES_CHAINS_H

#include <jansson.h>
#include <uv.h>

#include "core/buf.h"
#include "core/error.h"
#include "kafka/kafka.h"
#include "store/pg.h"

typedef struct ls_chains ls_chains_t;

/* The plugin directory comes from LAKESTREAM_PLUGIN_DIR (NULL: no
 * third-party processors). */
ls_chains_t *ls_chains_new(uv_loop_t *loop, ls_pg_t *pg, ls_kafka_t *kafka);

/* Loads the chains table and starts every chain in it (retrying on its own
 * with backoff while PostgreSQL is unavailable). Call once the migrations
 * ran. */
void ls_chains_start(ls_chains_t *c);

/* Result callback: `chain` is a new reference (NULL on error). */
typedef void (*ls_chains_cb)(void *arg, json_t *chain, const ls_error_t *err);

/* Validates a spec (no side effects). *summary (new reference) describes
 * the processors with their resolved parameters. */
ls_err_t ls_chains_validate(ls_chains_t *c, json_t *spec, json_t **summary, ls_error_t *err);

/* Deploys a new chain (ALREADY_EXISTS if the name is taken) or, with
 * replace_name, replaces that chain (NOT_FOUND if absent): the old engine
 * drains and commits before the new one starts in the same consumer group.
 * Validation errors are synchronous (no callback). */
ls_err_t ls_chains_deploy(ls_chains_t *c, json_t *spec, const char *replace_name, ls_chains_cb cb,
                          void *arg, ls_error_t *err);

/* {"name","spec","state","message","paused",...status}: new reference. */
ls_err_t ls_chains_get(ls_chains_t *c, const char *name, json_t **out, ls_error_t *err);
/* {"items":[...],"next_page_token":null}: new reference. */
json_t *ls_chains_list(ls_chains_t *c);

ls_err_t ls_chains_set_paused(ls_chains_t *c, const char *name, bool paused, ls_chains_cb cb,
                              void *arg, ls_error_t *err);
ls_err_t ls_chains_delete(ls_chains_t *c, const char *name, ls_chains_cb cb, void *arg,
                          ls_error_t *err);

/* The built-in processors' help: {"items":[help...]}. New reference. */
json_t *ls_chains_processors_help(void);

/* Graceful stop: drains and stops every chain (each bounded by timeout_ms),
 * then cb. */
void ls_chains_stop_all(ls_chains_t *c, int timeout_ms, void (*cb)(void *arg), void *arg);

/* Metrics collector (arg: ls_chains_t *). */
void ls_chains_collect_metrics(void *arg, ls_buf_t *out);

/* Frees the service (after ls_chains_stop_all completed). */
void ls_chains_free(ls_chains_t *c);

#endif
