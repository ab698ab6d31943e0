/*
 * The CDC sources service: validates, creates, lists, shows and deletes the
 * sources that poll PostgreSQL tables into Kafka topics (cdc/source.h), for
 * the REST API, gRPC and the dashboard alike. A definition is a row of
 * cdc_sources in the server's database, which also holds the source's
 * watermark; every row is started at server start and resumes from its
 * stored watermark. A rejected request changes nothing: the request is
 * validated, the source database is checked (table, columns, privileges)
 * and the target topic resolved before the row is written. Loop thread only.
 */
#ifndef LS_SERVICES_SOURCES_H
#define LS_SERVICES_SOURCES_H

#include <jansson.h>
#include <stdbool.h>
#include <uv.h>

#include "core/buf.h"
#include "core/error.h"
#include "kafka/kafka.h"
#include "services/topics.h"
#include "store/pg.h"

typedef struct ls_sources ls_sources_t;

/* server_dsn (copied) is the DSN a source uses when its definition names
 * none. pg, kafka and topics are borrowed and must outlive the service. */
ls_sources_t *ls_sources_new(uv_loop_t *loop, ls_pg_t *pg, ls_kafka_t *kafka, ls_topics_t *topics,
                             const char *server_dsn);
/* Frees the service after ls_sources_stop() completed (or if never loaded). */
void ls_sources_free(ls_sources_t *s);

/* Reads every definition and starts its source; cb reports the outcome
 * (retry on UNAVAILABLE: nothing was started then). Call again only after
 * a failure; once loaded it is a programming error. */
ls_err_t ls_sources_load(ls_sources_t *s, void (*cb)(void *arg, const ls_error_t *err), void *arg,
                         ls_error_t *err);
bool ls_sources_loaded(const ls_sources_t *s);
size_t ls_sources_count(const ls_sources_t *s);

/* Result callback: `source` is a new reference (NULL on error). */
typedef void (*ls_sources_cb)(void *arg, json_t *source, const ls_error_t *err);

/* Validates a create request body (see API.md "CDC sources": name, dsn,
 * table, key_column, timestamp_column, poll_interval_ms, topic, format,
 * safety_delay_ms, batch_size, notify), checks the source database, resolves
 * or creates the topic, stores the row and starts the source. Synchronous
 * errors (validation, duplicate name, state not loaded) mean no callback. */
ls_err_t ls_sources_create(ls_sources_t *s, const json_t *body, ls_sources_cb cb, void *arg,
                           ls_error_t *err);

/* {"items":[...],"next_page_token":null}, sorted by name. New reference. */
json_t *ls_sources_list(ls_sources_t *s);

/* The definition plus runtime status (watermark, rows_emitted, lag_seconds,
 * last_poll_at, last_error, ...). New reference in *out; NOT_FOUND. */
ls_err_t ls_sources_get(ls_sources_t *s, const char *name, json_t **out, ls_error_t *err);

/* Stops the source, removes its notify trigger and deletes its row (its
 * topic stays). cb gets NULL on success. NOT_FOUND synchronously. */
ls_err_t ls_sources_delete(ls_sources_t *s, const char *name, ls_sources_cb cb, void *arg,
                           ls_error_t *err);

/* Graceful stop of every source: each finishes its current batch (records
 * acknowledged, watermark stored) within wait_ms, then closes; cb fires when
 * all are closed. */
void ls_sources_stop(ls_sources_t *s, int wait_ms, void (*cb)(void *arg), void *arg);

/* Metrics collector (arg: ls_sources_t*): per-source rows emitted, polls,
 * errors, lag seconds, running state. */
void ls_sources_collect(void *arg, ls_buf_t *out);

#endif
