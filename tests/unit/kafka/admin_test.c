/*
 * Topic administration and configuration errors against the embedded mock cluster.
 */
#include "kafka_helpers.h"

LS_TEST(embedded_cluster_has_loopback_bootstrap_and_becomes_ready)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    ls_kafka_t *k = open_embedded(&loop);
    LS_CHECK(ls_kafka_is_embedded(k));
    LS_CHECK(ls_kafka_mock_cluster(k) != NULL);
    const char *bs = ls_kafka_bootstrap(k);
    LS_REQUIRE(bs != NULL);
    const char *colon = strrchr(bs, ':');
    LS_CHECK(colon != NULL && colon != bs);
    int port = colon ? atoi(colon + 1) : 0;
    LS_CHECK(port > 0 && port < 65536);
    printf("embedded bootstrap: %s\n", bs);
    /* Readiness comes from librdkafka's broker states, so it needs a round
     * of statistics before it turns true. */
    LS_CHECK(!ls_kafka_is_up(k));
    LS_CHECK(wait_for(&loop, up_pred, k, 10000));
    ls_kafka_stats_t st;
    ls_kafka_stats(k, &st);
    LS_CHECK(st.brokers_up >= 1);
    close_kafka(&loop, k);
    finish_loop(&loop);
}

LS_TEST(topic_admin_creates_partitions_and_rejects_duplicates_and_bad_input)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    ls_kafka_t *k = open_embedded(&loop);
    LS_CHECK_INT_EQ(create_topic_sync(&loop, k, "orders", 3), LS_ERR_OK);
    offsets_t o = topic_offsets_sync(&loop, k, "orders");
    LS_CHECK_INT_EQ(o.code, LS_ERR_OK);
    LS_CHECK_INT_EQ(o.n, 3);
    for (int i = 0; i < o.n; i++) {
        LS_CHECK_INT_EQ(o.parts[i].partition, i);
        LS_CHECK_INT_EQ(o.parts[i].low, 0);
        LS_CHECK_INT_EQ(o.parts[i].high, 0);
    }
    LS_CHECK_INT_EQ(create_topic_sync(&loop, k, "orders", 3), LS_ERR_ALREADY_EXISTS);
    LS_CHECK_INT_EQ(create_topic_sync(&loop, k, "orders", 5), LS_ERR_ALREADY_EXISTS);

    /* bad input fails synchronously, so no callback may fire */
    done_t never = {0};
    ls_error_t err;
    LS_CHECK_INT_EQ(ls_kafka_create_topic(k, "zero", 0, 1, NULL, done_cb, &never, &err),
                    LS_ERR_INVALID_ARGUMENT);
    LS_CHECK_STR_EQ(err.path, "$.partitions");
    LS_CHECK_INT_EQ(ls_kafka_create_topic(k, "huge", 1000000, 1, NULL, done_cb, &never, &err),
                    LS_ERR_INVALID_ARGUMENT);
    LS_CHECK_INT_EQ(ls_kafka_create_topic(k, "bad name", 1, 1, NULL, done_cb, &never, &err),
                    LS_ERR_INVALID_ARGUMENT);
    LS_CHECK_INT_EQ(ls_kafka_create_topic(k, "", 1, 1, NULL, done_cb, &never, &err),
                    LS_ERR_INVALID_ARGUMENT);
    LS_CHECK_INT_EQ(ls_kafka_create_topic(k, "rf", 1, 3, NULL, done_cb, &never, &err),
                    LS_ERR_INVALID_ARGUMENT);
    LS_CHECK_STR_EQ(err.path, "$.replication_factor");
    const char *const odd_config[] = {"retention.ms", NULL};
    LS_CHECK_INT_EQ(ls_kafka_create_topic(k, "cfg", 1, 1, odd_config, done_cb, &never, &err),
                    LS_ERR_INVALID_ARGUMENT);
    char long_name[300];
    memset(long_name, 'a', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = 0;
    LS_CHECK_INT_EQ(ls_kafka_create_topic(k, long_name, 1, 1, NULL, done_cb, &never, &err),
                    LS_ERR_INVALID_ARGUMENT);

    offsets_t missing = topic_offsets_sync(&loop, k, "no_such_topic");
    LS_CHECK_INT_EQ(missing.code, LS_ERR_NOT_FOUND);
    LS_CHECK_INT_EQ(missing.n, 0);

    /* the mock cannot delete: documented no-op that still calls back once */
    done_t del = {0};
    LS_CHECK_INT_EQ(ls_kafka_delete_topic(k, "orders", done_cb, &del, &err), LS_ERR_OK);
    LS_CHECK(!del.done); /* never from inside the call */
    LS_CHECK(run_until(&loop, &del.done, 2000));
    LS_CHECK_INT_EQ(del.code, LS_ERR_OK);

    close_kafka(&loop, k);
    LS_CHECK(!never.done);
    finish_loop(&loop);
}

LS_TEST(invalid_configuration_fails_synchronously)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    ls_kafka_t *k = (ls_kafka_t *)1;
    ls_error_t err;
    ls_kafka_config_t none = {0};
    LS_CHECK_INT_EQ(ls_kafka_open(&loop, &none, &k, &err), LS_ERR_INVALID_ARGUMENT);
    LS_CHECK(k == NULL);
    const char *const bad[] = {"no.such.property", "1", NULL};
    ls_kafka_config_t cfg = {.embedded = true, .properties = bad};
    LS_CHECK_INT_EQ(ls_kafka_open(&loop, &cfg, &k, &err), LS_ERR_INVALID_ARGUMENT);
    LS_CHECK(strstr(err.message, "no.such.property") != NULL);
    const char *const odd[] = {"linger.ms", NULL};
    cfg.properties = odd;
    LS_CHECK_INT_EQ(ls_kafka_open(&loop, &cfg, &k, &err), LS_ERR_INVALID_ARGUMENT);
    ls_kafka_config_t many = {.embedded = true, .embedded_brokers = 1000};
    LS_CHECK_INT_EQ(ls_kafka_open(&loop, &many, &k, &err), LS_ERR_INVALID_ARGUMENT);

    /* consumer configuration errors */
    k = open_embedded(&loop);
    static sink_t s;
    const char *const topics[] = {"x", NULL};
    ls_kafka_consumer_config_t cc = {
        .group = "g", .topics = topics, .on_messages = sink_messages, .arg = &s};
    ls_kafka_consumer_t *c = (ls_kafka_consumer_t *)1;
    cc.start = "middle";
    LS_CHECK_INT_EQ(ls_kafka_consumer_open(k, &cc, &c, &err), LS_ERR_INVALID_ARGUMENT);
    LS_CHECK(c == NULL);
    cc.start = NULL;
    cc.group = "";
    LS_CHECK_INT_EQ(ls_kafka_consumer_open(k, &cc, &c, &err), LS_ERR_INVALID_ARGUMENT);
    cc.group = "g";
    const char *const none_topics[] = {NULL};
    cc.topics = none_topics;
    LS_CHECK_INT_EQ(ls_kafka_consumer_open(k, &cc, &c, &err), LS_ERR_INVALID_ARGUMENT);
    cc.topics = topics;
    cc.properties = bad;
    LS_CHECK_INT_EQ(ls_kafka_consumer_open(k, &cc, &c, &err), LS_ERR_INVALID_ARGUMENT);
    /* produce input errors */
    LS_CHECK_INT_EQ(ls_kafka_produce(k, "", -1, NULL, 0, "v", 1, NULL, 0, NULL, NULL, &err),
                    LS_ERR_INVALID_ARGUMENT);
    LS_CHECK_INT_EQ(ls_kafka_produce(k, "x", -1, NULL, 0, "v", 1, NULL, 5, NULL, NULL, &err),
                    LS_ERR_INVALID_ARGUMENT);
    close_kafka(&loop, k);
    finish_loop(&loop);
}

LS_TEST(cluster_mode_client_produces_and_reads_watermarks_through_a_bootstrap_address)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    ls_kafka_t *broker = open_embedded(&loop);
    LS_REQUIRE(create_topic_sync(&loop, broker, "shared", 2) == LS_ERR_OK);
    /* a second client in real-cluster mode, pointed at the embedded broker */
    ls_kafka_config_t cfg = {.bootstrap = ls_kafka_bootstrap(broker), .client_id = "second"};
    ls_kafka_t *k = NULL;
    ls_error_t err;
    LS_REQUIRE(ls_kafka_open(&loop, &cfg, &k, &err) == LS_ERR_OK);
    LS_CHECK(!ls_kafka_is_embedded(k));
    LS_CHECK(ls_kafka_mock_cluster(k) == NULL);
    deliveries_t d = {.min_offset = INT64_MAX};
    produce_keyed(k, "shared", "s", 20, &d);
    LS_CHECK(wait_deliveries(&loop, &d, 20, 10000));
    LS_CHECK_INT_EQ(d.ok, 20);
    offsets_t o = topic_offsets_sync(&loop, broker, "shared");
    LS_CHECK_INT_EQ(o.n, 2);
    LS_CHECK_INT_EQ(o.parts[0].high + o.parts[1].high, 20);
    LS_CHECK(wait_for(&loop, up_pred, k, 10000));
    close_kafka(&loop, k);
    close_kafka(&loop, broker);
    finish_loop(&loop);
}

LS_TEST_MAIN(LS_T(embedded_cluster_has_loopback_bootstrap_and_becomes_ready),
             LS_T(topic_admin_creates_partitions_and_rejects_duplicates_and_bad_input),
             LS_T(invalid_configuration_fails_synchronously),
             LS_T(cluster_mode_client_produces_and_reads_watermarks_through_a_bootstrap_address))
