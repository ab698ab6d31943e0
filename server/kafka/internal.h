/*
 * Internals shared by the files of the kafka module (kafka.c: producer and
 * lifecycle, admin.c: topics and watermarks, consumer.c, queue.c: the
 * librdkafka-queue-to-uv bridge, embedded.c: the mock cluster). Nothing here
 * is API; nothing here may block the loop.
 */
#ifndef LS_KAFKA_INTERNAL_H
#define LS_KAFKA_INTERNAL_H

#include "kafka/kafka.h"

#include <librdkafka/rdkafka_mock.h>

/* A librdkafka queue watched by the loop: librdkafka writes one byte into a
 * non-blocking pipe when the queue goes from empty to non-empty; a uv_poll on
 * the pipe calls `drain`, which polls the queue with timeout 0 for at most a
 * budget of events and returns true when it stopped with events left. Since
 * no new byte arrives for a queue that was left non-empty, a timer re-runs
 * the drain at once in that case, and every 200 ms otherwise as a safety net
 * (and as the tick owners use for deadlines). */
typedef struct ls__kafka_qwatch {
    uv_poll_t poll;
    uv_timer_t timer;
    int fds[2];
    rd_kafka_queue_t *queue;
    bool (*drain)(void *owner);
    void *owner;
    int open_handles;
    void (*on_closed)(struct ls__kafka_qwatch *w);
} ls__kafka_qwatch_t;

/* Creates the pipe and the handles and enables the io event. The queue stays
 * owned by the caller. */
int ls__kafka_qwatch_start(ls__kafka_qwatch_t *w, uv_loop_t *loop, rd_kafka_queue_t *queue,
                           bool (*drain)(void *owner), void *owner, ls_error_t *err);
/* Disables the io event and closes the handles; on_closed fires after both
 * close callbacks. The pipe fds stay open until ls__kafka_qwatch_close_fds,
 * which the owner calls after the librdkafka handle is destroyed (librdkafka
 * could otherwise write into a recycled fd number). */
void ls__kafka_qwatch_stop(ls__kafka_qwatch_t *w, void (*on_closed)(ls__kafka_qwatch_t *w));
void ls__kafka_qwatch_close_fds(ls__kafka_qwatch_t *w);

/* Deferred completion: runs cb(arg, err) on a later loop iteration (so no
 * callback fires inside the call that scheduled it). */
void ls__kafka_defer_done(ls_kafka_t *k, ls_kafka_done_cb cb, void *arg, const ls_error_t *err);

struct ls_kafka {
    uv_loop_t *loop;
    char *bootstrap;
    char *client_id;
    char **properties; /* NULL-terminated pairs, owned copy */
    int admin_timeout_ms;
    void (*log)(void *log_arg, int syslog_level, const char *fac, const char *msg);
    void *log_arg;

    bool embedded;
    int embedded_brokers;
    rd_kafka_t *mock_rk; /* owns the mock cluster (test.mock.num.brokers) */
    rd_kafka_mock_cluster_t *mock;

    rd_kafka_t *rk; /* producer; also runs the admin requests */
    rd_kafka_queue_t *main_q;
    rd_kafka_queue_t *admin_q;
    ls__kafka_qwatch_t main_w, admin_w;

    /* readiness, from the statistics events and error events */
    int brokers_up;
    uint64_t last_stats_ms;
    ls_kafka_stats_t stats;

    /* Operations whose callback has not fired yet (admin, worker queries,
     * deferred completions, flushes); close waits for them. */
    int pending;
    int consumers;

    bool closing;
    uv_timer_t close_timer;
    uint64_t close_deadline_ms;
    int close_handles;
    void (*close_cb)(void *arg);
    void *close_arg;
};

/* Applies NULL-terminated key/value pairs to conf; INVALID_ARGUMENT naming the
 * property when librdkafka rejects one. */
ls_err_t ls__kafka_conf_apply(rd_kafka_conf_t *conf, const char *const *pairs, ls_error_t *err);
/* Base configuration shared by every client of k (bootstrap, client.id,
 * user properties, log routing). */
ls_err_t ls__kafka_conf_base(ls_kafka_t *k, rd_kafka_conf_t *conf, ls_error_t *err);
/* Maps a librdkafka error to ours (transport/timeouts -> UNAVAILABLE, ...). */
ls_err_t ls__kafka_map_err(rd_kafka_resp_err_t e);

/* The error every callback receives on success (code LS_ERR_OK): callbacks
 * always get a non-NULL error, as in the rest of the server. */
extern const ls_error_t ls__kafka_ok;
/* Delivers a log event to k's log callback. */
void ls__kafka_log_event(ls_kafka_t *k, rd_kafka_event_t *ev);

/* admin.c: handles one event from the admin queue. */
void ls__kafka_admin_event(ls_kafka_t *k, rd_kafka_event_t *ev);

/* embedded.c */
ls_err_t ls__kafka_embedded_start(ls_kafka_t *k, ls_error_t *err);
/* Worker thread: destroys the mock cluster (blocks while its thread stops). */
void ls__kafka_embedded_destroy(ls_kafka_t *k);
/* Queues the mock topic creation on a worker; cb fires on the loop. */
ls_err_t ls__kafka_embedded_create_topic(ls_kafka_t *k, const char *name, int partitions,
                                         int replication_factor, ls_kafka_done_cb cb, void *arg,
                                         ls_error_t *err);

#endif
