/*
 * Kafka on the libuv loop: one shared producer, an admin path, consumers, and
 * the embedded broker (librdkafka's in-process mock cluster). Every librdkafka
 * handle's main queue is forwarded to an fd with rd_kafka_queue_io_event_enable
 * and drained by a uv_poll with rd_kafka_queue_poll(q, 0); no librdkafka call
 * with a timeout above 0 ever runs on the loop. Calls that only exist in a
 * blocking form in librdkafka 2.0.2 (watermark queries) run in uv_queue_work
 * with a bounded timeout and hand their result back on the loop. A few
 * librdkafka calls (rd_kafka_assign, rd_kafka_subscribe, the mock's topic
 * creation) are synchronous hand-offs to librdkafka's own threads, never
 * network waits; the mock call still runs in a worker.
 * Loop thread only unless stated. Every async call follows libuv's contract:
 * a synchronous error means its callback never fires; otherwise it fires
 * exactly once, never from inside the call itself.
 */
#ifndef LS_KAFKA_KAFKA_H
#define LS_KAFKA_KAFKA_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "core/error.h"

typedef struct ls_kafka ls_kafka_t;
typedef struct ls_kafka_consumer ls_kafka_consumer_t;

typedef struct {
    const char *bootstrap; /* "host:port,..."; ignored when embedded */
    bool embedded;         /* start the in-process mock cluster */
    int embedded_brokers;  /* mock broker count (default 1) */
    const char *client_id; /* default "lakestreamd" */
    /* extra librdkafka properties applied to every client, NULL-terminated
     * key/value pairs ("security.protocol", "SASL_SSL", ..., NULL); may be NULL */
    const char *const *properties;
    /* Added: timeout of admin requests (create/delete topic) and of the bounded
     * blocking queries run in workers (watermarks); default 10000 ms. */
    int admin_timeout_ms;
    /* Added: librdkafka log lines, delivered on the loop (log.queue) for the
     * producer/admin handle and consumers. NULL = librdkafka's default stderr
     * logger. `fac` and `msg` are borrowed for the call. */
    void (*log)(void *log_arg, int syslog_level, const char *fac, const char *msg);
    void *log_arg;
} ls_kafka_config_t;

/* Creates the producer (idempotent, acks=all), the admin handle, and, when
 * embedded, the mock cluster. Returns at once; broker connections happen in the
 * background. Fails synchronously on an invalid configuration
 * (INVALID_ARGUMENT naming the property). Defaults we set, which
 * config->properties may override: allow.auto.create.topics=false (a produce
 * or metadata query never creates a topic), statistics.interval.ms=1000 (the
 * readiness signal), reconnect.backoff.max.ms=2000. */
ls_err_t ls_kafka_open(uv_loop_t *loop, const ls_kafka_config_t *config, ls_kafka_t **out,
                       ls_error_t *err);

/* The bootstrap servers in use (the mock cluster's address when embedded).
 * Borrowed; lives as long as k. */
const char *ls_kafka_bootstrap(const ls_kafka_t *k);
bool ls_kafka_is_embedded(const ls_kafka_t *k);

/* Added: the mock cluster when embedded, else NULL (tests use it to inject
 * broker failures with rd_kafka_mock_broker_set_down/up). Borrowed. */
struct rd_kafka_mock_cluster_s *ls_kafka_mock_cluster(const ls_kafka_t *k);

/* True when the cluster answered recently: at least one broker is UP per
 * librdkafka's broker state events / a periodic non-blocking metadata refresh
 * (for /readyz). Implementation: the producer's statistics (every 1 s) count
 * brokers in state UP; an ALL_BROKERS_DOWN error makes it false at once;
 * statistics older than 5 s make it false. False until the first statistics
 * arrive (~1 s after open). */
bool ls_kafka_is_up(const ls_kafka_t *k);

typedef struct {
    int brokers_up;
    unsigned long long produced, produce_errors, delivered;
    int producer_queue; /* rd_kafka_outq_len */
} ls_kafka_stats_t;
void ls_kafka_stats(const ls_kafka_t *k, ls_kafka_stats_t *out);

/* Every callback of this module receives a non-NULL err, borrowed for the
 * call; err->code is LS_ERR_OK on success. */
typedef void (*ls_kafka_done_cb)(void *arg, const ls_error_t *err);

/* Topic admin. Embedded: rd_kafka_mock_topic_create (the mock ignores
 * CreateTopics); real cluster: rd_kafka_CreateTopics on the admin queue.
 * `config` is NULL-terminated key/value pairs (may be NULL). Errors:
 * ALREADY_EXISTS when the topic exists, INVALID_ARGUMENT for bad partition/RF/config,
 * UNAVAILABLE when the cluster does not answer within timeout. */
ls_err_t ls_kafka_create_topic(ls_kafka_t *k, const char *name, int partitions,
                               int replication_factor, const char *const *config,
                               ls_kafka_done_cb cb, void *arg, ls_error_t *err);
/* Embedded: the mock cannot delete topics; this succeeds without doing anything
 * there (documented limit). Real cluster: rd_kafka_DeleteTopics. */
ls_err_t ls_kafka_delete_topic(ls_kafka_t *k, const char *name, ls_kafka_done_cb cb, void *arg,
                               ls_error_t *err);

typedef struct {
    int32_t partition;
    int64_t low, high;
} ls_kafka_partition_offsets_t;
/* Per-partition low/high watermarks of `topic`, read from the broker without
 * blocking the loop. parts is borrowed for the callback; n = partition count.
 * NOT_FOUND when the topic does not exist. */
typedef void (*ls_kafka_offsets_cb)(void *arg, const ls_kafka_partition_offsets_t *parts, int n,
                                    const ls_error_t *err);
/* UNAVAILABLE when the cluster does not answer within admin_timeout_ms. The
 * query (a metadata request for all topics, then one ListOffsets per
 * partition) holds one libuv threadpool thread for its duration. */
ls_err_t ls_kafka_topic_offsets(ls_kafka_t *k, const char *topic, ls_kafka_offsets_cb cb, void *arg,
                                ls_error_t *err);

/* Produces one record; partition -1 = partitioner by key. key/value/headers
 * are copied. cb (may be NULL) fires on the loop with the delivery report:
 * partition and offset on success. Synchronous errors: INVALID_ARGUMENT (no
 * topic, bad headers), UNAVAILABLE (librdkafka's queue is full: back off),
 * FAILED_PRECONDITION (closing). A topic that does not exist fails in the
 * delivery report once librdkafka gives up on it. Messages still queued at
 * ls_kafka_close are purged: their cb fires with UNAVAILABLE. */
typedef struct {
    const char *name;
    const void *value;
    size_t len;
} ls_kafka_header_t;
typedef void (*ls_kafka_delivery_cb)(void *arg, int32_t partition, int64_t offset,
                                     const ls_error_t *err);
ls_err_t ls_kafka_produce(ls_kafka_t *k, const char *topic, int32_t partition, const void *key,
                          size_t key_len, const void *value, size_t value_len,
                          const ls_kafka_header_t *headers, int header_count,
                          ls_kafka_delivery_cb cb, void *arg, ls_error_t *err);

/* Consumers (consumer groups; topics by name or by regex "^vqe_.*"). Messages
 * arrive on the loop in batches; the message pointers are borrowed for the
 * callback. Auto-commit is OFF: the owner commits offsets explicitly once what
 * they cover is durable (DESIGN.md). Rebalances are handled inside (assign /
 * unassign; incremental when the protocol says so) and reported through
 * rebalance_cb (may be NULL) so owners can flush before partitions go. */
typedef struct {
    const char *group;
    const char *const *topics;     /* NULL-terminated; an entry starting with '^' is a regex */
    const char *start;             /* "earliest" (default) or "latest" when no committed offset */
    const char *const *properties; /* extra librdkafka props, NULL-terminated pairs, may be NULL */
    int max_batch;                 /* max messages per callback (default 500) */
    void (*on_messages)(void *arg, rd_kafka_message_t **msgs, size_t n);
    void (*on_rebalance)(void *arg, bool assigned, const rd_kafka_topic_partition_list_t *parts);
    /* may be NULL; also hears transient errors that librdkafka retries by
     * itself (broker disconnects, a subscribed topic that does not exist yet):
     * informational unless the owner decides otherwise */
    void (*on_error)(void *arg, const ls_error_t *err);
    void *arg;
} ls_kafka_consumer_config_t;
/* Embedded only, defaults session.timeout.ms=4000 / heartbeat.interval.ms=1000:
 * the mock coordinator waits session.timeout.ms - 1 s before rebalancing a
 * group whose membership changed (librdkafka's default would be 44 s), and
 * it always waits 3 s before the first assignment of an empty group.
 * Properties override. INVALID_ARGUMENT on bad config (synchronously). */
ls_err_t ls_kafka_consumer_open(ls_kafka_t *k, const ls_kafka_consumer_config_t *config,
                                ls_kafka_consumer_t **out, ls_error_t *err);
/* Pause/resume fetching of all assigned partitions (backpressure). */
void ls_kafka_consumer_pause(ls_kafka_consumer_t *c);
void ls_kafka_consumer_resume(ls_kafka_consumer_t *c);
/* Commits offsets (the next offset to read, i.e. last processed + 1) asynchronously;
 * cb fires on the loop with the broker's answer. offsets is copied.
 * Synchronous errors: INVALID_ARGUMENT (empty list, negative offset, no cb),
 * FAILED_PRECONDITION (close called). A commit still unanswered when the
 * consumer finishes closing gets UNAVAILABLE. */
ls_err_t ls_kafka_consumer_commit(ls_kafka_consumer_t *c,
                                  const rd_kafka_topic_partition_list_t *offsets,
                                  ls_kafka_done_cb cb, void *arg, ls_error_t *err);
/* Lag per assigned partition (high watermark from the consumer's cached
 * watermarks minus position), summed; -1 when unknown. The cached high
 * watermark is only refreshed by fetch responses, so a paused consumer
 * reports the lag as of its last fetch. */
int64_t ls_kafka_consumer_lag(const ls_kafka_consumer_t *c);
/* Added: the consumer's current assignment (as reported by rebalances).
 * Borrowed; valid until the next callback of this consumer. Never NULL. */
const rd_kafka_topic_partition_list_t *ls_kafka_consumer_assignment(const ls_kafka_consumer_t *c);
/* Leaves the group and destroys the handle off the loop; cb fires when done.
 * (rd_kafka_consumer_close blocks, so the close runs through
 * rd_kafka_consumer_close_queue served on the loop, bounded to
 * admin_timeout_ms, and rd_kafka_destroy runs in uv_queue_work.) No
 * on_messages after this call; on_rebalance may still report the final
 * revoke. Safe to call from inside on_messages / on_rebalance. */
void ls_kafka_consumer_close(ls_kafka_consumer_t *c, void (*cb)(void *arg), void *arg);

/* Flushes the producer without blocking (polls outq on a timer until empty or
 * timeout_ms), then cb: NULL error when every queued message got its delivery
 * report, UNAVAILABLE on timeout. Used in graceful stop. */
void ls_kafka_flush(ls_kafka_t *k, int timeout_ms, ls_kafka_done_cb cb, void *arg);

/* Destroys everything (consumers must be closed first; the producer is
 * flushed/purged; rd_kafka_destroy runs in uv_queue_work since it can block),
 * closes all uv handles; cb fires after the last close callback; k is freed
 * before cb. Waits for callbacks still owed (admin answers, watermark queries,
 * flushes: each bounded by its own timeout). Calling it with a consumer still
 * open is a programming error and aborts. */
void ls_kafka_close(ls_kafka_t *k, void (*cb)(void *arg), void *arg);

#endif
