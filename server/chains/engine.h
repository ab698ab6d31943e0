/*
 * The chain engine: runs one deployed chain on the loop. A chain is a Kafka
 * consumer group (spec.instances consumers) whose records are decoded with
 * an extractor compiled from the writer schema for exactly the fields the
 * processors declared, then passed through the processors in order. Offsets
 * are committed per consumer, in batch order, only after every ticket the
 * writers took for a batch is released and every dead-letter record of it
 * is acknowledged. Undecodable records and ERROR verdicts go to the
 * dead-letter topic with headers saying why; a chain never stops on bad
 * records. A write failure marks the chain failed and restarts its
 * consumers from the last committed offset (at least once, nothing lost).
 * Backpressure: a consumer with too many unacknowledged batches is paused.
 * Never blocks the loop; loop thread only.
 */
#ifndef LS_CHAINS_ENGINE_H
#define LS_CHAINS_ENGINE_H

#include <jansson.h>
#include <lakestream/processor.h>

#include "chains/chain.h"
#include "core/buf.h"
#include "core/error.h"

typedef struct ls_chain ls_chain_t;

/* Consumers with more unacknowledged batches than this are paused. */
#define LS_CHAIN_MAX_INFLIGHT_BATCHES 16

/* Starts the chain: creates its processor instances (init with env, not
 * validate-only), compiles the decoder and opens the consumers. spec is
 * taken over in every case (freed with the chain, or at once on failure). env must outlive the
 * chain. Errors: INVALID_ARGUMENT (a processor's init or the decoder failed, with the JSON path),
 * UNAVAILABLE / INVALID_ARGUMENT from the consumer open. */
ls_err_t ls_chain_start(ls_chain_env_t *env, ls_chain_spec_t *spec, bool paused, ls_chain_t **out,
                        ls_error_t *err);

const ls_chain_spec_t *ls_chain_spec(const ls_chain_t *c);

/* Stops fetching (in-flight work still completes and is committed). */
void ls_chain_pause(ls_chain_t *c);
void ls_chain_resume(ls_chain_t *c);
bool ls_chain_paused(const ls_chain_t *c);

/* Drains and stops: no new records; waits (at most timeout_ms) until every
 * in-flight batch is acknowledged and its offsets committed, then closes the
 * consumers and frees the chain; cb fires when the consumers are closed
 * (after the timeout, work not yet acknowledged is simply not committed and
 * will be redelivered to the group's next consumer). */
void ls_chain_stop(ls_chain_t *c, int timeout_ms, void (*cb)(void *arg), void *arg);

/* {"state","message","processors":[...counters],"records":{...},"lag"}.
 * New reference. */
json_t *ls_chain_status(const ls_chain_t *c);

/* Appends Prometheus samples (per chain and per processor) without headers;
 * ls_chain_metrics_headers writes the HELP/TYPE lines once. */
void ls_chain_metrics_headers(ls_buf_t *out);
void ls_chain_metrics(const ls_chain_t *c, ls_buf_t *out);

/* Host hooks used by ls_chain_host (instance.c). */
void ls_chain__annotate(ls_processor_ctx_t *ctx, ls_record_t *rec, const char *name,
                        const ls_annotation_field_t *fields, size_t count);
ls_processor_ticket_t *ls_chain__hold(ls_processor_ctx_t *ctx, const ls_record_t *rec);
void ls_chain__release(ls_processor_ctx_t *ctx, ls_processor_ticket_t *t, bool ok,
                       const char *error_message);

#endif
