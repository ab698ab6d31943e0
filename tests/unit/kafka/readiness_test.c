/*
 * Readiness and failure modes: the embedded cluster going down and back, and an unreachable
 * cluster.
 */
#include <pthread.h>

#include "kafka_helpers.h"

LS_TEST(readiness_follows_the_cluster_going_down_and_coming_back)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    ls_kafka_t *k = open_embedded(&loop);
    LS_REQUIRE(create_topic_sync(&loop, k, "ready", 1) == LS_ERR_OK);
    LS_CHECK(wait_for(&loop, up_pred, k, 10000));
    uint64_t t0 = uv_now(&loop);
    rd_kafka_mock_broker_set_down(ls_kafka_mock_cluster(k), -1);
    LS_CHECK(wait_for(&loop, down_pred, k, 10000));
    printf("down detected after %llu ms\n", (unsigned long long)(uv_now(&loop) - t0));
    t0 = uv_now(&loop);
    rd_kafka_mock_broker_set_up(ls_kafka_mock_cluster(k), -1);
    LS_CHECK(wait_for(&loop, up_pred, k, 15000));
    printf("up again after %llu ms\n", (unsigned long long)(uv_now(&loop) - t0));
    close_kafka(&loop, k);
    finish_loop(&loop);
}

typedef struct {
    pthread_t loop_thread;
    int lines, off_loop, connect_failures;
} log_sink_t;

static void log_line(void *arg, int level, const char *fac, const char *msg)
{
    log_sink_t *s = arg;
    s->lines++;
    s->off_loop += !pthread_equal(pthread_self(), s->loop_thread);
    s->connect_failures += strstr(msg, "127.0.0.1:1") != NULL;
}

LS_TEST(unreachable_cluster_is_not_ready_and_admin_fails_unavailable)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    /* librdkafka's complaints about the refused connection arrive through the
     * log callback, on the loop thread, instead of on stderr */
    log_sink_t logs = {.loop_thread = pthread_self()};
    ls_kafka_config_t cfg = {
        .bootstrap = "127.0.0.1:1", .admin_timeout_ms = 2000, .log = log_line, .log_arg = &logs};
    ls_kafka_t *k = NULL;
    ls_error_t err;
    LS_REQUIRE(ls_kafka_open(&loop, &cfg, &k, &err) == LS_ERR_OK);
    LS_CHECK(!ls_kafka_is_embedded(k));
    LS_CHECK_STR_EQ(ls_kafka_bootstrap(k), "127.0.0.1:1");
    ticker_t tk = {0};
    uv_timer_t ticker;
    uv_timer_init(&loop, &ticker);
    ticker.data = &tk;
    uv_timer_start(&ticker, ticker_cb, 10, 10);

    uint64_t t0 = uv_now(&loop);
    done_t d = {0};
    LS_CHECK_INT_EQ(ls_kafka_create_topic(k, "t", 1, 1, NULL, done_cb, &d, &err), LS_ERR_OK);
    LS_CHECK(run_until(&loop, &d.done, 6000));
    uint64_t took = uv_now(&loop) - t0;
    LS_CHECK_INT_EQ(d.code, LS_ERR_UNAVAILABLE);
    printf("create_topic against a closed port: %s after %llu ms (%s)\n", ls_err_name(d.code),
           (unsigned long long)took, d.message);
    LS_CHECK(took >= 1500 && took < 5000);
    LS_CHECK(!ls_kafka_is_up(k));
    /* the loop kept running meanwhile: ~10 ms ticks throughout */
    LS_CHECK(tk.ticks > (int)(took / 10) / 2);

    offsets_t o = topic_offsets_sync(&loop, k, "t");
    LS_CHECK_INT_EQ(o.code, LS_ERR_UNAVAILABLE);

    printf("log lines: %d (%d about 127.0.0.1:1)\n", logs.lines, logs.connect_failures);
    LS_CHECK(logs.connect_failures > 0);
    LS_CHECK_INT_EQ(logs.off_loop, 0);
    uv_close((uv_handle_t *)&ticker, NULL);
    close_kafka(&loop, k);
    finish_loop(&loop);
}

LS_TEST_MAIN(LS_T(readiness_follows_the_cluster_going_down_and_coming_back),
             LS_T(unreachable_cluster_is_not_ready_and_admin_fails_unavailable))
