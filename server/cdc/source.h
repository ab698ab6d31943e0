/*
 * One running CDC source: polls a PostgreSQL table by its (timestamp, key)
 * watermark on its own small non-blocking pool (one query connection, plus
 * the LISTEN connection when notify is on), turns each row into a JSON
 * record keyed by the key column, produces it through the shared idempotent
 * producer, and stores the watermark in the server's database only after
 * the broker acknowledged every record up to it. Rows are read only below
 * the horizon (cdc/watermark.h), so a transaction still open during a poll
 * cannot commit rows behind the watermark. A poll cycle is strictly
 * sequential: horizon, rows, produce, acknowledgements, watermark write.
 * It never blocks the loop and never writes to the source database except
 * the optional NOTIFY trigger. Loop thread only.
 */
#ifndef LS_CDC_SOURCE_H
#define LS_CDC_SOURCE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "core/error.h"
#include "kafka/kafka.h"
#include "store/pg.h"

typedef struct ls_cdc_source ls_cdc_source_t;

/* A source's definition (all strings copied by the calls that take it). */
typedef struct {
    const char *name;
    const char *dsn; /* libpq DSN of the source database */
    const char *schema, *table, *key_column, *timestamp_column;
    const char *topic;
    int topic_partitions; /* re-created with this count on the embedded broker */
    int poll_interval_ms, safety_delay_ms, batch_size;
    bool notify;
    /* resume point; has_watermark false = from the first row */
    bool has_watermark;
    int64_t watermark_us;
    const char *watermark_key;
    int64_t rows_emitted;
} ls_cdc_source_config_t;

/* Checks a definition against the source database without keeping anything
 * open: the table exists and is readable, the key column is NOT NULL and of
 * an orderable scalar type (integers, numeric, text, varchar, uuid), the
 * timestamp column is timestamptz or timestamp, and the role can see other
 * sessions' transactions in pg_stat_activity (superuser or
 * pg_read_all_stats; without it the horizon could not protect late
 * commits). With notify it also installs the trigger. cb fires once with
 * OK, INVALID_ARGUMENT / FAILED_PRECONDITION naming the problem, or
 * UNAVAILABLE when the database cannot be reached within timeout_ms.
 * Synchronous errors (bad DSN syntax) mean no callback. */
ls_err_t ls_cdc_source_check(uv_loop_t *loop, const ls_cdc_source_config_t *config, int timeout_ms,
                             void (*cb)(void *arg, const ls_error_t *err), void *arg,
                             ls_error_t *err);

/* Starts a source: opens its pool, reads the catalog, installs the notify
 * trigger and LISTENs when asked, then polls. Failures after this returns
 * (database down, table dropped) put the source in state "error" and are
 * retried with backoff; they never stop the server. state_pg is the
 * server's own pool (watermark writes to table cdc_sources), kafka the
 * shared producer; both must outlive the source. Synchronous errors: bad
 * DSN syntax (INVALID_ARGUMENT). */
ls_err_t ls_cdc_source_start(uv_loop_t *loop, ls_pg_t *state_pg, ls_kafka_t *kafka,
                             const ls_cdc_source_config_t *config, ls_cdc_source_t **out,
                             ls_error_t *err);

/* Stops polling. Waits up to wait_ms for the current cycle (its records'
 * acknowledgements and watermark write), then, when drop_trigger, removes
 * the notify trigger and function (best effort), closes the pool and fires
 * cb. The source frees itself once stopped and every callback it is owed
 * (deliveries, watermark write) has fired; do not use it after this call. */
void ls_cdc_source_stop(ls_cdc_source_t *src, bool drop_trigger, int wait_ms, void (*cb)(void *arg),
                        void *arg);

/* The status document for GET /api/v1/sources/{name} (runtime part): state
 * "starting|running|error", watermark {"timestamp","key"} or null, rows_emitted,
 * polls, errors, lag_seconds (now minus watermark timestamp), caught_up
 * (the last poll found nothing more below the horizon), listening (notify
 * mode: LISTEN in effect), last_poll_at, last_error. New reference. */
json_t *ls_cdc_source_status(const ls_cdc_source_t *src);

/* Counters for /metrics. name is borrowed from the source. */
typedef struct {
    const char *name;
    uint64_t rows_emitted, polls, errors;
    bool has_watermark, running;
    double lag_seconds; /* now minus the watermark timestamp; 0 without one */
} ls_cdc_source_counters_t;
void ls_cdc_source_counters(const ls_cdc_source_t *src, ls_cdc_source_counters_t *out);

#endif
