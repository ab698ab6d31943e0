/*
 * Group consumers on the loop. Each consumer's main queue is forwarded to
 * its consumer queue (rd_kafka_poll_set_consumer), and that one queue carries
 * everything as events: fetched messages, rebalances, commit results, errors
 * and logs. Messages are handed to the owner in batches and destroyed right
 * after its callback; offsets are only committed when the owner asks
 * (auto-commit and auto offset store are off). Close runs through
 * rd_kafka_consumer_close_queue served on the loop, and rd_kafka_destroy runs
 * in a worker: this file must never call librdkafka with a timeout above 0.
 */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "kafka/internal.h"

enum { LS_KAFKA_CONSUMER_BUDGET = 2000, LS_KAFKA_DEFAULT_BATCH = 500, LS_KAFKA_MAX_BATCH = 100000 };

typedef struct commit_op {
    struct commit_op *next;
    ls_kafka_done_cb cb;
    void *arg;
} commit_op_t;

struct ls_kafka_consumer {
    ls_kafka_t *k;
    rd_kafka_t *rk;
    rd_kafka_queue_t *queue;
    ls__kafka_qwatch_t watch;

    int max_batch;
    void (*on_messages)(void *arg, rd_kafka_message_t **msgs, size_t n);
    void (*on_rebalance)(void *arg, bool assigned, const rd_kafka_topic_partition_list_t *parts);
    void (*on_error)(void *arg, const ls_error_t *err);
    void *arg;

    /* the batch being assembled; events own their message */
    rd_kafka_event_t **batch_events;
    rd_kafka_message_t **batch;
    size_t batch_len;

    rd_kafka_topic_partition_list_t *assignment;
    bool paused;
    commit_op_t *commits; /* awaiting the broker's answer */

    bool closing;   /* close requested: no more on_messages */
    bool finishing; /* handles closing, destroy under way */
    bool close_failed;
    uint64_t close_deadline_ms;
    void (*close_cb)(void *arg);
    void *close_arg;
};

static void report_error(ls_kafka_consumer_t *c, rd_kafka_resp_err_t e, const char *what)
{
    if (!c->on_error || c->closing)
        return;
    ls_error_t err;
    ls_error_set(&err, ls__kafka_map_err(e), "consumer: %s", what ? what : rd_kafka_err2str(e));
    c->on_error(c->arg, &err);
}

static void flush_batch(ls_kafka_consumer_t *c)
{
    if (c->batch_len == 0)
        return;
    size_t n = c->batch_len;
    if (!c->closing)
        c->on_messages(c->arg, c->batch, n);
    for (size_t i = 0; i < n; i++)
        rd_kafka_event_destroy(c->batch_events[i]);
    c->batch_len = 0;
}

/* ---- assignment bookkeeping ---- */

static bool is_cooperative(ls_kafka_consumer_t *c)
{
    const char *p = rd_kafka_rebalance_protocol(c->rk);
    return p && strcmp(p, "COOPERATIVE") == 0;
}

static void assignment_remove(ls_kafka_consumer_t *c, const rd_kafka_topic_partition_list_t *parts)
{
    for (int i = 0; i < parts->cnt; i++)
        rd_kafka_topic_partition_list_del(c->assignment, parts->elems[i].topic,
                                          parts->elems[i].partition);
}

static void handle_rebalance(ls_kafka_consumer_t *c, rd_kafka_event_t *ev)
{
    rd_kafka_resp_err_t e = rd_kafka_event_error(ev);
    rd_kafka_topic_partition_list_t *parts = rd_kafka_event_topic_partition_list(ev);
    bool coop = is_cooperative(c);
    if (e == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        if (coop) {
            rd_kafka_error_t *er = rd_kafka_incremental_assign(c->rk, parts);
            if (er) {
                report_error(c, rd_kafka_error_code(er), rd_kafka_error_string(er));
                rd_kafka_error_destroy(er);
            }
        } else {
            rd_kafka_resp_err_t ae = rd_kafka_assign(c->rk, parts);
            if (ae)
                report_error(c, ae, "assign failed");
            rd_kafka_topic_partition_list_destroy(c->assignment);
            c->assignment = rd_kafka_topic_partition_list_new(parts->cnt);
        }
        for (int i = 0; i < parts->cnt; i++)
            rd_kafka_topic_partition_list_add(c->assignment, parts->elems[i].topic,
                                              parts->elems[i].partition);
        if (c->paused && parts->cnt > 0)
            rd_kafka_pause_partitions(c->rk, parts);
        if (c->on_rebalance)
            c->on_rebalance(c->arg, true, parts);
    } else {
        /* Revoke (or a rebalance error, after which librdkafka expects the
         * whole assignment dropped). The owner hears first, so it can commit
         * what is durable while it still owns the partitions. */
        if (c->on_rebalance)
            c->on_rebalance(c->arg, false, parts);
        if (coop && e == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
            rd_kafka_error_t *er = rd_kafka_incremental_unassign(c->rk, parts);
            if (er)
                rd_kafka_error_destroy(er);
            assignment_remove(c, parts);
        } else {
            rd_kafka_assign(c->rk, NULL);
            rd_kafka_topic_partition_list_destroy(c->assignment);
            c->assignment = rd_kafka_topic_partition_list_new(0);
        }
        if (e != RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS)
            report_error(c, e, NULL);
    }
}

/* ---- commits ---- */

static void handle_commit(ls_kafka_consumer_t *c, rd_kafka_event_t *ev)
{
    commit_op_t *op = rd_kafka_event_opaque(ev);
    if (!op)
        return;
    for (commit_op_t **p = &c->commits; *p; p = &(*p)->next)
        if (*p == op) {
            *p = op->next;
            break;
        }
    rd_kafka_resp_err_t e = rd_kafka_event_error(ev);
    const rd_kafka_topic_partition_list_t *parts = rd_kafka_event_topic_partition_list(ev);
    const char *topic = NULL;
    int32_t partition = -1;
    for (int i = 0; !e && parts && i < parts->cnt; i++)
        if (parts->elems[i].err) {
            e = parts->elems[i].err;
            topic = parts->elems[i].topic;
            partition = parts->elems[i].partition;
        }
    if (e) {
        ls_error_t err;
        if (topic)
            ls_error_set(&err, ls__kafka_map_err(e), "commit of %s[%d] failed: %s", topic,
                         (int)partition, rd_kafka_err2str(e));
        else
            ls_error_set(&err, ls__kafka_map_err(e), "commit failed: %s", rd_kafka_err2str(e));
        op->cb(op->arg, &err);
    } else {
        op->cb(op->arg, &ls__kafka_ok);
    }
    free(op);
}

ls_err_t ls_kafka_consumer_commit(ls_kafka_consumer_t *c,
                                  const rd_kafka_topic_partition_list_t *offsets,
                                  ls_kafka_done_cb cb, void *arg, ls_error_t *err)
{
    if (c->closing)
        return ls_error_set(err, LS_ERR_FAILED_PRECONDITION, "consumer is closing");
    if (!offsets || offsets->cnt == 0)
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "commit needs at least one offset");
    if (!cb)
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "commit needs a callback");
    for (int i = 0; i < offsets->cnt; i++)
        if (offsets->elems[i].offset < 0)
            return ls_error_set(err, LS_ERR_INVALID_ARGUMENT,
                                "commit offset of %s[%d] must be >= 0", offsets->elems[i].topic,
                                (int)offsets->elems[i].partition);
    commit_op_t *op = ls_calloc(1, sizeof(*op));
    op->cb = cb;
    op->arg = arg;
    rd_kafka_resp_err_t e = rd_kafka_commit_queue(c->rk, offsets, c->queue, NULL, op);
    if (e) {
        free(op);
        return ls_error_set(err, ls__kafka_map_err(e), "commit: %s", rd_kafka_err2str(e));
    }
    op->next = c->commits;
    c->commits = op;
    return LS_ERR_OK;
}

/* ---- the drain ---- */

static void check_close(ls_kafka_consumer_t *c);

static bool consumer_drain(void *owner)
{
    ls_kafka_consumer_t *c = owner;
    if (c->finishing)
        return false;
    bool more = true;
    for (int i = 0; i < LS_KAFKA_CONSUMER_BUDGET; i++) {
        rd_kafka_event_t *ev = rd_kafka_queue_poll(c->queue, 0);
        if (!ev) {
            more = false;
            break;
        }
        bool keep = false;
        switch (rd_kafka_event_type(ev)) {
        case RD_KAFKA_EVENT_FETCH: {
            const rd_kafka_message_t *m = rd_kafka_event_message_next(ev);
            if (!m)
                break;
            if (m->err) {
                if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                    char what[512];
                    snprintf(what, sizeof(what), "%s[%d]: %s",
                             m->rkt ? rd_kafka_topic_name(m->rkt) : "?", (int)m->partition,
                             rd_kafka_message_errstr(m));
                    report_error(c, m->err, what);
                }
                break;
            }
            if (c->closing)
                break;
            c->batch_events[c->batch_len] = ev;
            c->batch[c->batch_len++] = (rd_kafka_message_t *)m;
            keep = true;
            if (c->batch_len == (size_t)c->max_batch)
                flush_batch(c);
            break;
        }
        case RD_KAFKA_EVENT_REBALANCE:
            /* Messages fetched before the rebalance belong to the old
             * assignment: deliver them first. */
            flush_batch(c);
            handle_rebalance(c, ev);
            break;
        case RD_KAFKA_EVENT_OFFSET_COMMIT:
            handle_commit(c, ev);
            break;
        case RD_KAFKA_EVENT_ERROR:
            report_error(c, rd_kafka_event_error(ev), rd_kafka_event_error_string(ev));
            break;
        case RD_KAFKA_EVENT_LOG:
            ls__kafka_log_event(c->k, ev);
            break;
        default:
            break;
        }
        if (!keep)
            rd_kafka_event_destroy(ev);
    }
    flush_batch(c);
    if (c->closing)
        check_close(c);
    return more;
}

/* ---- open ---- */

ls_err_t ls_kafka_consumer_open(ls_kafka_t *k, const ls_kafka_consumer_config_t *config,
                                ls_kafka_consumer_t **out, ls_error_t *err)
{
    *out = NULL;
    if (k->closing)
        return ls_error_set(err, LS_ERR_FAILED_PRECONDITION, "kafka client is closing");
    if (!config->group || !*config->group)
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.group", "group is required");
    if (!config->on_messages)
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "on_messages is required");
    size_t ntopics = 0;
    while (config->topics && config->topics[ntopics]) {
        if (!*config->topics[ntopics])
            return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.topics", "topic %zu is empty",
                                     ntopics);
        ntopics++;
    }
    if (ntopics == 0)
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.topics",
                                 "at least one topic is required");
    const char *start = config->start ? config->start : "earliest";
    if (strcmp(start, "earliest") != 0 && strcmp(start, "latest") != 0)
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.start",
                                 "start must be earliest or latest, got %s", start);
    int max_batch = config->max_batch ? config->max_batch : LS_KAFKA_DEFAULT_BATCH;
    if (max_batch < 1 || max_batch > LS_KAFKA_MAX_BATCH)
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "max_batch must be 1..%d",
                            LS_KAFKA_MAX_BATCH);

    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *const defaults[] = {"group.id",
                                    config->group,
                                    "enable.auto.commit",
                                    "false",
                                    "enable.auto.offset.store",
                                    "false",
                                    "auto.offset.reset",
                                    start,
                                    NULL};
    /* The mock coordinator waits session.timeout.ms - 1 s before it
     * rebalances a group whose membership changed (a member left, a new one
     * joined a non-empty group); librdkafka's 45 s default would stall every
     * embedded handover that long. */
    const char *const embedded_defaults[] = {"session.timeout.ms", "4000", "heartbeat.interval.ms",
                                             "1000", NULL};
    ls_err_t rc = ls__kafka_conf_base(k, conf, err);
    if (rc == LS_ERR_OK && k->embedded)
        rc = ls__kafka_conf_apply(conf, embedded_defaults, err);
    if (rc == LS_ERR_OK)
        rc = ls__kafka_conf_apply(conf, defaults, err);
    if (rc == LS_ERR_OK)
        rc = ls__kafka_conf_apply(conf, config->properties, err);
    if (rc != LS_ERR_OK) {
        rd_kafka_conf_destroy(conf);
        return rc;
    }
    int events = RD_KAFKA_EVENT_FETCH | RD_KAFKA_EVENT_REBALANCE | RD_KAFKA_EVENT_OFFSET_COMMIT |
                 RD_KAFKA_EVENT_ERROR;
    if (k->log)
        events |= RD_KAFKA_EVENT_LOG;
    rd_kafka_conf_set_events(conf, events);
    char errstr[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "kafka consumer: %s", errstr);
    }
    rd_kafka_poll_set_consumer(rk);

    ls_kafka_consumer_t *c = ls_calloc(1, sizeof(*c));
    c->k = k;
    c->rk = rk;
    c->queue = rd_kafka_queue_get_consumer(rk);
    if (k->log)
        rd_kafka_set_log_queue(rk, c->queue);
    c->max_batch = max_batch;
    c->on_messages = config->on_messages;
    c->on_rebalance = config->on_rebalance;
    c->on_error = config->on_error;
    c->arg = config->arg;
    c->batch_events = ls_calloc((size_t)max_batch, sizeof(*c->batch_events));
    c->batch = ls_calloc((size_t)max_batch, sizeof(*c->batch));
    c->assignment = rd_kafka_topic_partition_list_new(0);

    rd_kafka_topic_partition_list_t *subs = rd_kafka_topic_partition_list_new((int)ntopics);
    for (size_t i = 0; i < ntopics; i++)
        rd_kafka_topic_partition_list_add(subs, config->topics[i], RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(rk, subs);
    rd_kafka_topic_partition_list_destroy(subs);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
        rc = ls__kafka_qwatch_start(&c->watch, k->loop, c->queue, consumer_drain, c, err);
    else
        rc = ls_error_set_path(err, ls__kafka_map_err(e), "$.topics", "subscribe: %s",
                               rd_kafka_err2str(e));
    if (rc != LS_ERR_OK) {
        /* Nothing joined yet, so this destroy does not wait on the network. */
        rd_kafka_queue_destroy(c->queue);
        rd_kafka_destroy_flags(rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
        rd_kafka_topic_partition_list_destroy(c->assignment);
        free(c->batch_events);
        free(c->batch);
        free(c);
        return rc;
    }
    k->consumers++;
    *out = c;
    return LS_ERR_OK;
}

/* ---- pause / lag / assignment ---- */

static void set_paused(ls_kafka_consumer_t *c, bool paused)
{
    c->paused = paused;
    if (c->assignment->cnt == 0)
        return;
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_copy(c->assignment);
    if (paused)
        rd_kafka_pause_partitions(c->rk, parts);
    else
        rd_kafka_resume_partitions(c->rk, parts);
    rd_kafka_topic_partition_list_destroy(parts);
}

void ls_kafka_consumer_pause(ls_kafka_consumer_t *c)
{
    set_paused(c, true);
}

void ls_kafka_consumer_resume(ls_kafka_consumer_t *c)
{
    set_paused(c, false);
}

const rd_kafka_topic_partition_list_t *ls_kafka_consumer_assignment(const ls_kafka_consumer_t *c)
{
    return c->assignment;
}

int64_t ls_kafka_consumer_lag(const ls_kafka_consumer_t *c)
{
    if (c->assignment->cnt == 0)
        return -1;
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_copy(c->assignment);
    rd_kafka_position(c->rk, parts);
    int64_t lag = 0;
    int known = 0;
    for (int i = 0; i < parts->cnt; i++) {
        int64_t lo, hi;
        if (rd_kafka_get_watermark_offsets(c->rk, parts->elems[i].topic, parts->elems[i].partition,
                                           &lo, &hi) != 0 ||
            hi < 0)
            continue;
        int64_t pos = parts->elems[i].offset;
        if (pos < 0) {
            /* Nothing consumed yet: only an empty partition has a known lag. */
            if (lo < 0 || hi != lo)
                continue;
            pos = hi;
        }
        lag += hi > pos ? hi - pos : 0;
        known++;
    }
    rd_kafka_topic_partition_list_destroy(parts);
    return known ? lag : -1;
}

/* ---- close ---- */

typedef struct {
    uv_work_t work;
    ls_kafka_consumer_t *c;
} consumer_destroy_t;

static void consumer_destroy_run(uv_work_t *w)
{
    ls_kafka_consumer_t *c = ((consumer_destroy_t *)w->data)->c;
    rd_kafka_queue_destroy(c->queue);
    rd_kafka_destroy_flags(c->rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
}

static void consumer_destroy_after(uv_work_t *w, int status)
{
    consumer_destroy_t *dw = w->data;
    ls_kafka_consumer_t *c = dw->c;
    free(dw);
    ls__kafka_qwatch_close_fds(&c->watch);
    /* Commits the broker never answered still owe their callback. */
    while (c->commits) {
        commit_op_t *op = c->commits;
        c->commits = op->next;
        ls_error_t err;
        ls_error_set(&err, LS_ERR_UNAVAILABLE, "commit not confirmed before the consumer closed");
        op->cb(op->arg, &err);
        free(op);
    }
    c->k->consumers--;
    rd_kafka_topic_partition_list_destroy(c->assignment);
    free(c->batch_events);
    free(c->batch);
    void (*cb)(void *) = c->close_cb;
    void *arg = c->close_arg;
    free(c);
    if (cb)
        cb(arg);
}

static void consumer_watch_closed(ls__kafka_qwatch_t *w)
{
    ls_kafka_consumer_t *c = w->owner;
    consumer_destroy_t *dw = ls_calloc(1, sizeof(*dw));
    dw->c = c;
    dw->work.data = dw;
    uv_queue_work(c->k->loop, &dw->work, consumer_destroy_run, consumer_destroy_after);
}

static void check_close(ls_kafka_consumer_t *c)
{
    if (c->finishing)
        return;
    bool done = c->close_failed || (rd_kafka_consumer_closed(c->rk) && !c->commits);
    if (!done && uv_now(c->k->loop) < c->close_deadline_ms)
        return;
    c->finishing = true;
    ls__kafka_qwatch_stop(&c->watch, consumer_watch_closed);
}

void ls_kafka_consumer_close(ls_kafka_consumer_t *c, void (*cb)(void *arg), void *arg)
{
    if (c->closing)
        return;
    c->closing = true;
    c->close_cb = cb;
    c->close_arg = arg;
    c->close_deadline_ms = uv_now(c->k->loop) + (uint64_t)c->k->admin_timeout_ms;
    rd_kafka_error_t *e = rd_kafka_consumer_close_queue(c->rk, c->queue);
    if (e) {
        c->close_failed = true;
        rd_kafka_error_destroy(e);
    }
    /* The watcher's timer re-runs the drain at least every 200 ms; the drain
     * serves the final revoke and notices when the close is complete. */
}
