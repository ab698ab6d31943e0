/*
 * The Kafka client's lifecycle and its one shared idempotent producer, driven
 * from the uv loop: delivery reports, errors, statistics (readiness) and log
 * lines arrive as librdkafka events on the main queue, which a queue watcher
 * drains with timeout 0. It must never call librdkafka with a timeout above 0
 * on the loop: flush is a timer watching the out-queue, and rd_kafka_destroy
 * runs in uv_queue_work.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "kafka/internal.h"

const ls_error_t ls__kafka_ok = {LS_ERR_OK, "", ""};

enum {
    LS_KAFKA_DEFAULT_ADMIN_TIMEOUT_MS = 10000,
    LS_KAFKA_STATS_INTERVAL_MS = 1000,
    /* Stats older than this mean librdkafka's main thread stopped reporting;
     * treat the cluster as unknown (down). */
    LS_KAFKA_STATS_STALE_MS = 5000,
    LS_KAFKA_DRAIN_BUDGET = 1000,
    LS_KAFKA_MAX_HEADERS = 1000,
};

/* ---- configuration ---- */

ls_err_t ls__kafka_conf_apply(rd_kafka_conf_t *conf, const char *const *pairs, ls_error_t *err)
{
    if (!pairs)
        return LS_ERR_OK;
    for (size_t i = 0; pairs[i]; i += 2) {
        if (!pairs[i + 1])
            return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "property %s has no value", pairs[i]);
        char errstr[256];
        if (rd_kafka_conf_set(conf, pairs[i], pairs[i + 1], errstr, sizeof(errstr)) !=
            RD_KAFKA_CONF_OK)
            return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "kafka property %s: %s", pairs[i],
                                errstr);
    }
    return LS_ERR_OK;
}

ls_err_t ls__kafka_conf_base(ls_kafka_t *k, rd_kafka_conf_t *conf, ls_error_t *err)
{
    const char *const defaults[] = {"client.id", k->client_id,
                                    /* librdkafka's default (10 s) would make readiness lag a
                                     * returning cluster by that much. */
                                    "reconnect.backoff.max.ms", "2000", NULL};
    ls_err_t rc = ls__kafka_conf_apply(conf, defaults, err);
    if (rc == LS_ERR_OK && k->bootstrap) {
        const char *const bs[] = {"bootstrap.servers", k->bootstrap, NULL};
        rc = ls__kafka_conf_apply(conf, bs, err);
    }
    if (rc == LS_ERR_OK)
        rc = ls__kafka_conf_apply(conf, (const char *const *)k->properties, err);
    if (rc == LS_ERR_OK && k->log) {
        const char *const lq[] = {"log.queue", "true", NULL};
        rc = ls__kafka_conf_apply(conf, lq, err);
    }
    return rc;
}

ls_err_t ls__kafka_map_err(rd_kafka_resp_err_t e)
{
    switch (e) {
    case RD_KAFKA_RESP_ERR_NO_ERROR:
        return LS_ERR_OK;
    case RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS:
        return LS_ERR_ALREADY_EXISTS;
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
        return LS_ERR_NOT_FOUND;
    case RD_KAFKA_RESP_ERR_INVALID_PARTITIONS:
    case RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR:
    case RD_KAFKA_RESP_ERR_INVALID_REPLICA_ASSIGNMENT:
    case RD_KAFKA_RESP_ERR_INVALID_CONFIG:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR_INVALID_REQUEST:
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR_INVALID_COMMIT_OFFSET_SIZE:
    case RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE:
        return LS_ERR_INVALID_ARGUMENT;
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
        return LS_ERR_PERMISSION_DENIED;
    case RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED:
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
        return LS_ERR_UNAUTHENTICATED;
    case RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION:
    case RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID:
    case RD_KAFKA_RESP_ERR__STATE:
        return LS_ERR_FAILED_PRECONDITION;
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__RESOLVE:
    case RD_KAFKA_RESP_ERR__QUEUE_FULL:
    case RD_KAFKA_RESP_ERR__WAIT_COORD:
    case RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_COORDINATOR:
    case RD_KAFKA_RESP_ERR_NOT_CONTROLLER:
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
    case RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION:
    case RD_KAFKA_RESP_ERR__PURGE_QUEUE:
    case RD_KAFKA_RESP_ERR__PURGE_INFLIGHT:
    case RD_KAFKA_RESP_ERR__DESTROY:
    case RD_KAFKA_RESP_ERR__FATAL:
        return LS_ERR_UNAVAILABLE;
    default:
        return LS_ERR_INTERNAL;
    }
}

void ls__kafka_log_event(ls_kafka_t *k, rd_kafka_event_t *ev)
{
    const char *fac = "", *msg = "";
    int level = 6;
    if (rd_kafka_event_log(ev, &fac, &msg, &level) == 0 && k->log)
        k->log(k->log_arg, level, fac, msg);
}

/* ---- readiness from statistics ---- */

/* Counts the real brokers (bootstrap or learned, not librdkafka's internal or
 * logical coordinator entries) whose connection is UP. */
static int count_brokers_up(const char *json)
{
    json_t *root = json_loads(json, 0, NULL);
    if (!root)
        return -1;
    int up = 0;
    json_t *brokers = json_object_get(root, "brokers");
    const char *name;
    json_t *b;
    json_object_foreach(brokers, name, b)
    {
        const char *state = json_string_value(json_object_get(b, "state"));
        const char *source = json_string_value(json_object_get(b, "source"));
        if (state && strcmp(state, "UP") == 0 && source &&
            (strcmp(source, "learned") == 0 || strcmp(source, "configured") == 0))
            up++;
    }
    json_decref(root);
    return up;
}

static void handle_delivery(ls_kafka_t *k, rd_kafka_event_t *ev);

typedef struct {
    ls_kafka_delivery_cb cb;
    void *arg;
} delivery_t;

static bool main_drain(void *owner)
{
    ls_kafka_t *k = owner;
    for (int i = 0; i < LS_KAFKA_DRAIN_BUDGET; i++) {
        rd_kafka_event_t *ev = rd_kafka_queue_poll(k->main_q, 0);
        if (!ev)
            return false;
        switch (rd_kafka_event_type(ev)) {
        case RD_KAFKA_EVENT_DR:
            handle_delivery(k, ev);
            break;
        case RD_KAFKA_EVENT_STATS: {
            int up = count_brokers_up(rd_kafka_event_stats(ev));
            if (up >= 0) {
                k->brokers_up = up;
                k->last_stats_ms = uv_now(k->loop);
            }
            break;
        }
        case RD_KAFKA_EVENT_ERROR:
            if (rd_kafka_event_error(ev) == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
                k->brokers_up = 0;
            if (k->log)
                k->log(k->log_arg, rd_kafka_event_error_is_fatal(ev) ? 2 : 4, "ERROR",
                       rd_kafka_event_error_string(ev));
            break;
        case RD_KAFKA_EVENT_LOG:
            ls__kafka_log_event(k, ev);
            break;
        default:
            break;
        }
        rd_kafka_event_destroy(ev);
    }
    return true;
}

static bool admin_drain(void *owner)
{
    ls_kafka_t *k = owner;
    for (int i = 0; i < LS_KAFKA_DRAIN_BUDGET; i++) {
        rd_kafka_event_t *ev = rd_kafka_queue_poll(k->admin_q, 0);
        if (!ev)
            return false;
        ls__kafka_admin_event(k, ev);
        rd_kafka_event_destroy(ev);
    }
    return true;
}

/* ---- open ---- */

static char **copy_pairs(const char *const *pairs)
{
    if (!pairs)
        return NULL;
    size_t n = 0;
    while (pairs[n])
        n++;
    char **out = ls_calloc(n + 1, sizeof(char *));
    for (size_t i = 0; i < n; i++)
        out[i] = ls_strdup(pairs[i]);
    return out;
}

static void free_pairs(char **pairs)
{
    if (!pairs)
        return;
    for (size_t i = 0; pairs[i]; i++)
        free(pairs[i]);
    free(pairs);
}

static void kafka_free(ls_kafka_t *k)
{
    free(k->bootstrap);
    free(k->client_id);
    free_pairs(k->properties);
    free(k);
}

ls_err_t ls_kafka_open(uv_loop_t *loop, const ls_kafka_config_t *config, ls_kafka_t **out,
                       ls_error_t *err)
{
    *out = NULL;
    if (!loop || !config)
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "kafka: loop and config are required");
    if (!config->embedded && (!config->bootstrap || !*config->bootstrap))
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.kafka.bootstrap",
                                 "bootstrap servers are required unless embedded");
    int brokers = config->embedded_brokers ? config->embedded_brokers : 1;
    if (config->embedded && (brokers < 1 || brokers > 16))
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.kafka.embedded_brokers",
                                 "embedded broker count must be 1..16, got %d", brokers);
    if (config->admin_timeout_ms < 0 || config->admin_timeout_ms > 600000)
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "admin timeout must be 0..600000 ms");
    if (config->properties) {
        size_t n = 0;
        while (config->properties[n])
            n++;
        if (n % 2)
            return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "kafka property %s has no value",
                                config->properties[n - 1]);
    }

    ls_kafka_t *k = ls_calloc(1, sizeof(*k));
    k->loop = loop;
    k->embedded = config->embedded;
    k->embedded_brokers = brokers;
    k->bootstrap = config->embedded ? NULL : ls_strdup(config->bootstrap);
    k->client_id = ls_strdup(config->client_id ? config->client_id : "lakestreamd");
    k->properties = copy_pairs(config->properties);
    k->admin_timeout_ms =
        config->admin_timeout_ms ? config->admin_timeout_ms : LS_KAFKA_DEFAULT_ADMIN_TIMEOUT_MS;
    k->log = config->log;
    k->log_arg = config->log_arg;

    /* Validate the whole producer configuration before starting anything
     * that would need a blocking teardown. */
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char stats_ms[16];
    snprintf(stats_ms, sizeof(stats_ms), "%d", LS_KAFKA_STATS_INTERVAL_MS);
    const char *const producer_defaults[] = {
        "enable.idempotence", "true", "acks", "all",
        /* Topics are created explicitly; a metadata query or a stray produce
         * must not create one as a side effect. */
        "allow.auto.create.topics", "false", "statistics.interval.ms", stats_ms, NULL};
    ls_err_t rc = ls__kafka_conf_apply(conf, producer_defaults, err);
    if (rc == LS_ERR_OK)
        rc = ls__kafka_conf_base(k, conf, err);
    if (rc != LS_ERR_OK) {
        rd_kafka_conf_destroy(conf);
        kafka_free(k);
        return rc;
    }
    int events = RD_KAFKA_EVENT_DR | RD_KAFKA_EVENT_ERROR | RD_KAFKA_EVENT_STATS;
    if (k->log)
        events |= RD_KAFKA_EVENT_LOG;
    rd_kafka_conf_set_events(conf, events);

    if (k->embedded) {
        rc = ls__kafka_embedded_start(k, err);
        if (rc != LS_ERR_OK) {
            rd_kafka_conf_destroy(conf);
            kafka_free(k);
            return rc;
        }
        const char *const bs[] = {"bootstrap.servers", k->bootstrap, NULL};
        ls__kafka_conf_apply(conf, bs, NULL);
    }

    char errstr[512];
    k->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (!k->rk) {
        rd_kafka_conf_destroy(conf);
        if (k->embedded)
            ls__kafka_embedded_destroy(k);
        kafka_free(k);
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "kafka producer: %s", errstr);
    }
    k->main_q = rd_kafka_queue_get_main(k->rk);
    k->admin_q = rd_kafka_queue_new(k->rk);
    if (k->log)
        rd_kafka_set_log_queue(k->rk, k->main_q);
    rc = ls__kafka_qwatch_start(&k->main_w, loop, k->main_q, main_drain, k, err);
    if (rc == LS_ERR_OK) {
        rc = ls__kafka_qwatch_start(&k->admin_w, loop, k->admin_q, admin_drain, k, err);
        if (rc != LS_ERR_OK) {
            /* Only reachable when the process is out of fds; the synchronous
             * teardown below is the lesser evil there. */
            ls__kafka_qwatch_stop(&k->main_w, NULL);
        }
    }
    if (rc != LS_ERR_OK) {
        rd_kafka_queue_destroy(k->main_q);
        rd_kafka_queue_destroy(k->admin_q);
        rd_kafka_destroy(k->rk);
        if (k->embedded)
            ls__kafka_embedded_destroy(k);
        ls__kafka_qwatch_close_fds(&k->main_w);
        /* main_w's handles are closing; k must outlive their callbacks, so it
         * is leaked deliberately on this out-of-fds path. */
        return rc;
    }
    uv_timer_init(loop, &k->close_timer);
    k->close_timer.data = k;
    *out = k;
    return LS_ERR_OK;
}

const char *ls_kafka_bootstrap(const ls_kafka_t *k)
{
    return k->bootstrap;
}

bool ls_kafka_is_embedded(const ls_kafka_t *k)
{
    return k->embedded;
}

rd_kafka_mock_cluster_t *ls_kafka_mock_cluster(const ls_kafka_t *k)
{
    return k->mock;
}

bool ls_kafka_is_up(const ls_kafka_t *k)
{
    if (k->last_stats_ms == 0)
        return false;
    if (uv_now(k->loop) - k->last_stats_ms > LS_KAFKA_STATS_STALE_MS)
        return false;
    return k->brokers_up > 0;
}

void ls_kafka_stats(const ls_kafka_t *k, ls_kafka_stats_t *out)
{
    *out = k->stats;
    out->brokers_up = ls_kafka_is_up(k) ? k->brokers_up : 0;
    out->producer_queue = rd_kafka_outq_len(k->rk);
}

/* ---- deferred completions ---- */

typedef struct {
    uv_timer_t timer;
    ls_kafka_t *k;
    ls_kafka_done_cb cb;
    void *arg;
    ls_error_t err;
} deferred_t;

static void deferred_closed(uv_handle_t *h)
{
    deferred_t *d = h->data;
    d->k->pending--;
    free(d);
}

static void deferred_fire(uv_timer_t *t)
{
    deferred_t *d = t->data;
    d->cb(d->arg, &d->err);
    uv_close((uv_handle_t *)&d->timer, deferred_closed);
}

void ls__kafka_defer_done(ls_kafka_t *k, ls_kafka_done_cb cb, void *arg, const ls_error_t *err)
{
    deferred_t *d = ls_calloc(1, sizeof(*d));
    d->k = k;
    d->cb = cb;
    d->arg = arg;
    if (err)
        d->err = *err;
    k->pending++;
    uv_timer_init(k->loop, &d->timer);
    d->timer.data = d;
    uv_timer_start(&d->timer, deferred_fire, 0, 0);
}

/* ---- producer ---- */

static void handle_delivery(ls_kafka_t *k, rd_kafka_event_t *ev)
{
    const rd_kafka_message_t *m;
    while ((m = rd_kafka_event_message_next(ev))) {
        if (m->err)
            k->stats.produce_errors++;
        else
            k->stats.delivered++;
        delivery_t *d = m->_private;
        if (!d)
            continue;
        if (m->err) {
            ls_error_t e;
            ls_error_set(&e, ls__kafka_map_err(m->err), "delivery to %s failed: %s",
                         m->rkt ? rd_kafka_topic_name(m->rkt) : "?", rd_kafka_err2str(m->err));
            d->cb(d->arg, m->partition, -1, &e);
        } else {
            d->cb(d->arg, m->partition, m->offset, &ls__kafka_ok);
        }
        free(d);
    }
}

ls_err_t ls_kafka_produce(ls_kafka_t *k, const char *topic, int32_t partition, const void *key,
                          size_t key_len, const void *value, size_t value_len,
                          const ls_kafka_header_t *headers, int header_count,
                          ls_kafka_delivery_cb cb, void *arg, ls_error_t *err)
{
    if (k->closing)
        return ls_error_set(err, LS_ERR_FAILED_PRECONDITION, "kafka client is closing");
    if (!topic || !*topic)
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "topic is required");
    if (header_count < 0 || header_count > LS_KAFKA_MAX_HEADERS || (header_count > 0 && !headers))
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "header count must be 0..%d",
                            LS_KAFKA_MAX_HEADERS);
    rd_kafka_headers_t *hdrs = NULL;
    if (header_count > 0) {
        hdrs = rd_kafka_headers_new((size_t)header_count);
        for (int i = 0; i < header_count; i++) {
            if (!headers[i].name) {
                rd_kafka_headers_destroy(hdrs);
                return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "header %d has no name", i);
            }
            rd_kafka_header_add(hdrs, headers[i].name, -1, headers[i].value,
                                headers[i].value ? (ssize_t)headers[i].len : 0);
        }
    }
    delivery_t *d = NULL;
    if (cb) {
        d = ls_malloc(sizeof(*d));
        d->cb = cb;
        d->arg = arg;
    }
    rd_kafka_resp_err_t e = rd_kafka_producev(
        k->rk, RD_KAFKA_V_TOPIC(topic),
        RD_KAFKA_V_PARTITION(partition < 0 ? RD_KAFKA_PARTITION_UA : partition),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key, key ? key_len : 0),
        RD_KAFKA_V_VALUE((void *)value, value ? value_len : 0), RD_KAFKA_V_HEADERS(hdrs),
        RD_KAFKA_V_OPAQUE(d), RD_KAFKA_V_END);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (hdrs)
            rd_kafka_headers_destroy(hdrs);
        free(d);
        k->stats.produce_errors++;
        return ls_error_set(err, ls__kafka_map_err(e), "produce to %s: %s", topic,
                            rd_kafka_err2str(e));
    }
    k->stats.produced++;
    return LS_ERR_OK;
}

/* ---- flush ---- */

typedef struct {
    uv_timer_t timer;
    ls_kafka_t *k;
    uint64_t deadline;
    ls_kafka_done_cb cb;
    void *arg;
} flush_t;

static void flush_closed(uv_handle_t *h)
{
    flush_t *f = h->data;
    f->k->pending--;
    free(f);
}

static void flush_tick(uv_timer_t *t)
{
    flush_t *f = t->data;
    int left = rd_kafka_outq_len(f->k->rk);
    if (left > 0 && uv_now(f->k->loop) < f->deadline)
        return;
    uv_timer_stop(t);
    if (left > 0) {
        ls_error_t e;
        ls_error_set(&e, LS_ERR_UNAVAILABLE, "flush timed out with %d messages undelivered", left);
        f->cb(f->arg, &e);
    } else {
        f->cb(f->arg, &ls__kafka_ok);
    }
    uv_close((uv_handle_t *)t, flush_closed);
}

void ls_kafka_flush(ls_kafka_t *k, int timeout_ms, ls_kafka_done_cb cb, void *arg)
{
    flush_t *f = ls_calloc(1, sizeof(*f));
    f->k = k;
    f->cb = cb;
    f->arg = arg;
    f->deadline = uv_now(k->loop) + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
    k->pending++;
    uv_timer_init(k->loop, &f->timer);
    f->timer.data = f;
    /* First check on the next iteration, then every 5 ms: delivery reports
     * arrive through the main-queue watcher meanwhile. */
    uv_timer_start(&f->timer, flush_tick, 0, 5);
}

/* ---- close ---- */

typedef struct {
    uv_work_t work;
    ls_kafka_t *k;
} destroy_work_t;

static void destroy_work(uv_work_t *w)
{
    ls_kafka_t *k = ((destroy_work_t *)w->data)->k;
    rd_kafka_queue_destroy(k->main_q);
    rd_kafka_queue_destroy(k->admin_q);
    rd_kafka_destroy(k->rk);
    if (k->embedded)
        ls__kafka_embedded_destroy(k);
}

static void destroy_after(uv_work_t *w, int status)
{
    destroy_work_t *dw = w->data;
    ls_kafka_t *k = dw->k;
    free(dw);
    ls__kafka_qwatch_close_fds(&k->main_w);
    ls__kafka_qwatch_close_fds(&k->admin_w);
    void (*cb)(void *) = k->close_cb;
    void *arg = k->close_arg;
    kafka_free(k);
    if (cb)
        cb(arg);
}

static void close_handle_done(ls_kafka_t *k)
{
    if (--k->close_handles > 0)
        return;
    destroy_work_t *dw = ls_calloc(1, sizeof(*dw));
    dw->k = k;
    dw->work.data = dw;
    uv_queue_work(k->loop, &dw->work, destroy_work, destroy_after);
}

static void close_qwatch_closed(ls__kafka_qwatch_t *w)
{
    close_handle_done(w->owner);
}

static void close_timer_closed(uv_handle_t *h)
{
    close_handle_done(h->data);
}

static void close_tick(uv_timer_t *t)
{
    ls_kafka_t *k = t->data;
    /* Callbacks we still owe (admin answers, worker queries) arrive within
     * their own bounded timeouts; purged messages' reports within moments. */
    if (k->pending > 0)
        return;
    if (rd_kafka_outq_len(k->rk) > 0 && uv_now(k->loop) < k->close_deadline_ms)
        return;
    uv_timer_stop(t);
    k->close_handles = 3;
    ls__kafka_qwatch_stop(&k->main_w, close_qwatch_closed);
    ls__kafka_qwatch_stop(&k->admin_w, close_qwatch_closed);
    uv_close((uv_handle_t *)&k->close_timer, close_timer_closed);
}

void ls_kafka_close(ls_kafka_t *k, void (*cb)(void *arg), void *arg)
{
    if (k->consumers > 0) {
        fprintf(stderr, "ls_kafka_close: %d consumers still open\n", k->consumers);
        abort();
    }
    k->closing = true;
    k->close_cb = cb;
    k->close_arg = arg;
    /* Undelivered messages are purged; their delivery callbacks fire with an
     * error through the main-queue watcher before the handles close. */
    rd_kafka_purge(k->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    k->close_deadline_ms = uv_now(k->loop) + 2000;
    uv_timer_start(&k->close_timer, close_tick, 0, 5);
}
