/*
 * Helpers shared by the kafka unit tests: run the loop until a condition
 * holds (with a deadline), a loop-lag probe, synchronous-looking wrappers for
 * the async API, and a consumer sink that records what it received.
 */
#ifndef LS_TEST_KAFKA_HELPERS_H
#define LS_TEST_KAFKA_HELPERS_H

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdbool.h>
#include <string.h>

#include "kafka/kafka.h"
#include "test.h"

#pragma GCC diagnostic ignored "-Wunused-function"

/* ---- loop helpers ---- */

static void tick_cb(uv_timer_t *t)
{
}

/* Runs the loop until pred(arg) holds or timeout_ms passes; returns whether
 * it holds. A 5 ms tick makes every UV_RUN_ONCE return promptly. */
static bool wait_for(uv_loop_t *loop, bool (*pred)(void *), void *arg, int timeout_ms)
{
    uv_timer_t tick;
    uv_timer_init(loop, &tick);
    uv_timer_start(&tick, tick_cb, 5, 5);
    uint64_t deadline = uv_now(loop) + (uint64_t)timeout_ms;
    bool ok;
    while (!(ok = pred(arg)) && uv_now(loop) < deadline)
        uv_run(loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&tick, NULL);
    uv_run(loop, UV_RUN_NOWAIT);
    return ok;
}

static bool flag_pred(void *arg)
{
    return *(bool *)arg;
}

static bool run_until(uv_loop_t *loop, bool *flag, int timeout_ms)
{
    return wait_for(loop, flag_pred, flag, timeout_ms);
}

/* Measures how late a 5 ms repeating timer fires (the wall-clock stall,
 * which includes time the OS did not schedule the loop thread) and how much
 * of each interval the loop spent running code rather than waiting in
 * epoll (needs UV_METRICS_IDLE_TIME): the second is what "never blocks"
 * means, the first is what a client would feel. */
typedef struct {
    uv_timer_t timer;
    uv_loop_t *loop;
    uint64_t last_ns, last_idle_ns, max_lag_ms, max_busy_ms;
    const char *phase, *max_phase; /* what the test was doing at the worst stall */
} lag_probe_t;

static void lag_cb(uv_timer_t *t)
{
    lag_probe_t *p = t->data;
    uint64_t now = uv_hrtime(), idle = uv_metrics_idle_time(p->loop);
    if (p->last_ns) {
        uint64_t gap_ms = (now - p->last_ns) / 1000000;
        uint64_t lag = gap_ms > 5 ? gap_ms - 5 : 0;
        if (lag > p->max_lag_ms) {
            p->max_lag_ms = lag;
            p->max_phase = p->phase;
        }
        uint64_t idle_ns = idle - p->last_idle_ns, wall_ns = now - p->last_ns;
        uint64_t busy_ms = wall_ns > idle_ns ? (wall_ns - idle_ns) / 1000000 : 0;
        if (busy_ms > p->max_busy_ms)
            p->max_busy_ms = busy_ms;
    }
    p->last_ns = now;
    p->last_idle_ns = idle;
}

/* The loop must have been configured with UV_METRICS_IDLE_TIME before it
 * first ran. */
static void lag_start(uv_loop_t *loop, lag_probe_t *p)
{
    memset(p, 0, sizeof(*p));
    p->loop = loop;
    uv_timer_init(loop, &p->timer);
    p->timer.data = p;
    uv_timer_start(&p->timer, lag_cb, 5, 5);
}

static void closed_flag(void *arg)
{
    *(bool *)arg = true;
}

static void close_kafka(uv_loop_t *loop, ls_kafka_t *k)
{
    bool closed = false;
    ls_kafka_close(k, closed_flag, &closed);
    LS_CHECK(run_until(loop, &closed, 15000));
}

static void finish_loop(uv_loop_t *loop)
{
    uv_run(loop, UV_RUN_DEFAULT);
    LS_CHECK_INT_EQ(uv_loop_close(loop), 0);
}

typedef struct {
    bool done;
    ls_err_t code;
    char message[512];
} done_t;

static void done_cb(void *arg, const ls_error_t *err)
{
    done_t *d = arg;
    d->done = true;
    d->code = err->code;
    if (err)
        snprintf(d->message, sizeof(d->message), "%s", err->message);
}

static ls_kafka_t *open_embedded(uv_loop_t *loop)
{
    ls_kafka_config_t cfg = {.embedded = true};
    ls_kafka_t *k = NULL;
    ls_error_t err;
    LS_REQUIRE(ls_kafka_open(loop, &cfg, &k, &err) == LS_ERR_OK);
    return k;
}

static ls_err_t create_topic_sync(uv_loop_t *loop, ls_kafka_t *k, const char *name, int parts)
{
    done_t d = {0};
    ls_error_t err;
    ls_err_t rc = ls_kafka_create_topic(k, name, parts, 1, NULL, done_cb, &d, &err);
    if (rc != LS_ERR_OK)
        return rc;
    LS_REQUIRE(run_until(loop, &d.done, 10000));
    return d.code;
}

typedef struct {
    bool done;
    ls_err_t code;
    int n;
    ls_kafka_partition_offsets_t parts[16];
} offsets_t;

static void offsets_cb(void *arg, const ls_kafka_partition_offsets_t *parts, int n,
                       const ls_error_t *err)
{
    offsets_t *o = arg;
    o->done = true;
    o->code = err->code;
    o->n = n;
    for (int i = 0; i < n && i < 16; i++)
        o->parts[i] = parts[i];
}

static offsets_t topic_offsets_sync(uv_loop_t *loop, ls_kafka_t *k, const char *topic)
{
    offsets_t o = {0};
    ls_error_t err;
    LS_REQUIRE(ls_kafka_topic_offsets(k, topic, offsets_cb, &o, &err) == LS_ERR_OK);
    LS_REQUIRE(run_until(loop, &o.done, 15000));
    return o;
}

/* ---- consumers ---- */

enum { MAX_SEEN = 4096 };

typedef struct {
    int count, batches;
    size_t max_batch_seen;
    struct {
        char topic[64];
        int32_t partition;
        int64_t offset;
        char key[32];
    } seen[MAX_SEEN];
    bool assigned;
    int assigned_parts;
    int errors;
} sink_t;

static void sink_messages(void *arg, rd_kafka_message_t **msgs, size_t n)
{
    sink_t *s = arg;
    s->batches++;
    if (n > s->max_batch_seen)
        s->max_batch_seen = n;
    for (size_t i = 0; i < n && s->count < MAX_SEEN; i++) {
        rd_kafka_message_t *m = msgs[i];
        snprintf(s->seen[s->count].topic, 64, "%s", rd_kafka_topic_name(m->rkt));
        s->seen[s->count].partition = m->partition;
        s->seen[s->count].offset = m->offset;
        snprintf(s->seen[s->count].key, 32, "%.*s", (int)m->key_len, (const char *)m->key);
        s->count++;
    }
}

static void sink_rebalance(void *arg, bool assigned, const rd_kafka_topic_partition_list_t *parts)
{
    sink_t *s = arg;
    s->assigned = assigned;
    s->assigned_parts = assigned ? s->assigned_parts + parts->cnt : 0;
}

static void sink_error(void *arg, const ls_error_t *err)
{
    ((sink_t *)arg)->errors++;
}

static ls_kafka_consumer_t *open_consumer(ls_kafka_t *k, const char *group,
                                          const char *const *topics, const char *const *props,
                                          sink_t *s)
{
    ls_kafka_consumer_config_t cc = {
        .group = group,
        .topics = topics,
        .properties = props,
        .max_batch = 100,
        .on_messages = sink_messages,
        .on_rebalance = sink_rebalance,
        .on_error = sink_error,
        .arg = s,
    };
    ls_kafka_consumer_t *c = NULL;
    ls_error_t err;
    LS_REQUIRE(ls_kafka_consumer_open(k, &cc, &c, &err) == LS_ERR_OK);
    return c;
}

static void close_consumer(uv_loop_t *loop, ls_kafka_consumer_t *c)
{
    bool closed = false;
    ls_kafka_consumer_close(c, closed_flag, &closed);
    LS_CHECK(run_until(loop, &closed, 15000));
}

typedef struct {
    sink_t *sink;
    int target;
} count_wait_t;

static bool count_pred(void *arg)
{
    count_wait_t *w = arg;
    return w->sink->count >= w->target;
}

static bool wait_count(uv_loop_t *loop, sink_t *s, int target, int timeout_ms)
{
    count_wait_t w = {.sink = s, .target = target};
    return wait_for(loop, count_pred, &w, timeout_ms);
}

/* Keeps the loop turning for ms (to prove that nothing arrives meanwhile). */
static void run_for(uv_loop_t *loop, int ms)
{
    bool never = false;
    run_until(loop, &never, ms);
}

/* ---- producing ---- */

typedef struct {
    int ok, failed;
    int64_t min_offset;
    int per_partition[16];
} deliveries_t;

static void delivery_cb(void *arg, int32_t partition, int64_t offset, const ls_error_t *err)
{
    deliveries_t *d = arg;
    if (err->code != LS_ERR_OK || offset < 0 || partition < 0 || partition >= 16) {
        d->failed++;
        return;
    }
    d->ok++;
    d->per_partition[partition]++;
    if (offset < d->min_offset)
        d->min_offset = offset;
}

static void produce_keyed(ls_kafka_t *k, const char *topic, const char *prefix, int n,
                          deliveries_t *d)
{
    for (int i = 0; i < n; i++) {
        char key[32], value[64];
        snprintf(key, sizeof(key), "%s-%d", prefix, i);
        snprintf(value, sizeof(value), "{\"i\":%d}", i);
        ls_kafka_header_t h = {.name = "source", .value = "test", .len = 4};
        ls_error_t err;
        LS_REQUIRE(ls_kafka_produce(k, topic, -1, key, strlen(key), value, strlen(value), &h, 1,
                                    delivery_cb, d, &err) == LS_ERR_OK);
    }
}

typedef struct {
    deliveries_t *d;
    int target;
} delivery_wait_t;

static bool delivery_pred(void *arg)
{
    delivery_wait_t *w = arg;
    return w->d->ok + w->d->failed >= w->target;
}

static bool wait_deliveries(uv_loop_t *loop, deliveries_t *d, int target, int timeout_ms)
{
    delivery_wait_t w = {.d = d, .target = target};
    return wait_for(loop, delivery_pred, &w, timeout_ms);
}

static bool up_pred(void *arg)
{
    return ls_kafka_is_up(arg);
}

static bool down_pred(void *arg)
{
    return !ls_kafka_is_up(arg);
}

static bool all_unique_and_complete(sink_t *s, const char *prefix, int n)
{
    /* every key prefix-0..n-1 exactly once, and no (partition, offset) twice */
    static unsigned char hits[MAX_SEEN];
    memset(hits, 0, sizeof(hits));
    for (int i = 0; i < s->count; i++) {
        size_t pl = strlen(prefix);
        if (strncmp(s->seen[i].key, prefix, pl) != 0 || s->seen[i].key[pl] != '-')
            return false;
        int idx = atoi(s->seen[i].key + pl + 1);
        if (idx < 0 || idx >= n || hits[idx]++)
            return false;
        for (int j = 0; j < i; j++)
            if (s->seen[j].partition == s->seen[i].partition &&
                s->seen[j].offset == s->seen[i].offset)
                return false;
    }
    return s->count == n;
}

static bool assigned_pred(void *arg)
{
    return ((sink_t *)arg)->assigned;
}

typedef struct {
    int ticks;
} ticker_t;

static void ticker_cb(uv_timer_t *t)
{
    ((ticker_t *)t->data)->ticks++;
}

#endif
