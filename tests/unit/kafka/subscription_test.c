/*
 * Subscriptions: regex subscriptions follow topics created after
 * subscribing; the cooperative protocol assigns incrementally.
 */
#include "kafka_helpers.h"

LS_TEST(regex_subscription_picks_up_a_topic_created_after_subscribing)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    ls_kafka_t *k = open_embedded(&loop);
    LS_REQUIRE(create_topic_sync(&loop, k, "rx_first", 1) == LS_ERR_OK);
    LS_REQUIRE(create_topic_sync(&loop, k, "other", 1) == LS_ERR_OK);
    static sink_t s;
    memset(&s, 0, sizeof(s));
    const char *const topics[] = {"^rx_.*", NULL};
    const char *const props[] = {"topic.metadata.refresh.interval.ms", "500", NULL};
    ls_kafka_consumer_t *c = open_consumer(k, "grx", topics, props, &s);
    deliveries_t d = {.min_offset = INT64_MAX};
    produce_keyed(k, "rx_first", "a", 1, &d);
    produce_keyed(k, "other", "x", 1, &d);
    LS_CHECK(wait_count(&loop, &s, 1, 15000));

    uint64_t t0 = uv_now(&loop);
    LS_REQUIRE(create_topic_sync(&loop, k, "rx_second", 2) == LS_ERR_OK);
    produce_keyed(k, "rx_second", "b", 4, &d);
    LS_CHECK(wait_count(&loop, &s, 5, 15000));
    printf("new topic's records arrived %llu ms after its creation\n",
           (unsigned long long)(uv_now(&loop) - t0));
    run_for(&loop, 200);
    /* Nothing was committed, so the eager rebalance that adds rx_second may
     * replay rx_first from the start: count distinct records. */
    int second = 0, first = 0;
    for (int i = 0; i < s.count; i++) {
        LS_CHECK(strcmp(s.seen[i].topic, "other") != 0);
        if (strcmp(s.seen[i].topic, "rx_second") == 0) {
            second++;
            LS_CHECK(strncmp(s.seen[i].key, "b-", 2) == 0);
        } else {
            first += s.seen[i].offset == 0;
            LS_CHECK_STR_EQ(s.seen[i].key, "a-0");
        }
    }
    LS_CHECK_INT_EQ(second, 4);
    LS_CHECK(first >= 1);
    LS_CHECK_INT_EQ(ls_kafka_consumer_assignment(c)->cnt, 3);
    close_consumer(&loop, c);
    close_kafka(&loop, k);
    finish_loop(&loop);
}

LS_TEST(cooperative_sticky_consumer_gets_incremental_assignment_and_reads_everything)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    ls_kafka_t *k = open_embedded(&loop);
    LS_REQUIRE(create_topic_sync(&loop, k, "coop", 4) == LS_ERR_OK);
    deliveries_t d = {.min_offset = INT64_MAX};
    produce_keyed(k, "coop", "c", 40, &d);
    LS_CHECK(wait_deliveries(&loop, &d, 40, 10000));
    static sink_t s;
    memset(&s, 0, sizeof(s));
    const char *const topics[] = {"coop", NULL};
    const char *const props[] = {"partition.assignment.strategy", "cooperative-sticky", NULL};
    ls_kafka_consumer_t *c = open_consumer(k, "gcoop", topics, props, &s);
    LS_CHECK(wait_count(&loop, &s, 40, 15000));
    LS_CHECK(all_unique_and_complete(&s, "c", 40));
    LS_CHECK_INT_EQ(s.assigned_parts, 4);
    LS_CHECK_INT_EQ(ls_kafka_consumer_assignment(c)->cnt, 4);
    LS_CHECK_INT_EQ(s.errors, 0);
    close_consumer(&loop, c);
    close_kafka(&loop, k);
    finish_loop(&loop);
}

LS_TEST_MAIN(LS_T(regex_subscription_picks_up_a_topic_created_after_subscribing),
             LS_T(cooperative_sticky_consumer_gets_incremental_assignment_and_reads_everything))
