/*
 * Producing with delivery reports, group consumption with manual commits, pause/resume, and a loop
 * that never stalls, against the embedded mock cluster.
 */
#include "kafka_helpers.h"

/* The loop's own work between two 5 ms ticks must stay under 100 ms.
 * Wall-clock lateness also counts time the OS gave the CPU to others: on a
 * shared 2-core machine with parallel builds or sanitizer runs it has been
 * seen at ~250 ms while the loop itself was busy < 5 ms, so its bound only
 * catches gross stalls. */
enum { LS_TEST_MAX_LOOP_BUSY_MS = 100, LS_TEST_MAX_LOOP_LAG_MS = 500 };

LS_TEST(produce_consume_commit_and_resume_from_committed_offsets_without_blocking_the_loop)
{
    enum { N = 1000, M = 10 };
    uv_loop_t loop;
    uv_loop_init(&loop);
    uv_loop_configure(&loop, UV_METRICS_IDLE_TIME);
    ls_kafka_t *k = open_embedded(&loop);
    LS_REQUIRE(create_topic_sync(&loop, k, "events", 3) == LS_ERR_OK);
    lag_probe_t probe;
    lag_start(&loop, &probe);

    deliveries_t d = {.min_offset = INT64_MAX};
    probe.phase = "produce";
    produce_keyed(k, "events", "old", N, &d);
    probe.phase = "flush";
    done_t flushed = {0};
    ls_kafka_flush(k, 10000, done_cb, &flushed);
    LS_CHECK(run_until(&loop, &flushed.done, 12000));
    LS_CHECK_INT_EQ(flushed.code, LS_ERR_OK);
    /* flush completes only once every delivery report was handed out */
    LS_CHECK_INT_EQ(d.ok, N);
    LS_CHECK_INT_EQ(d.failed, 0);
    LS_CHECK_INT_EQ(d.min_offset, 0);
    ls_kafka_stats_t st;
    ls_kafka_stats(k, &st);
    LS_CHECK_INT_EQ(st.produced, N);
    LS_CHECK_INT_EQ(st.delivered, N);
    LS_CHECK_INT_EQ(st.producer_queue, 0);

    offsets_t o = topic_offsets_sync(&loop, k, "events");
    LS_CHECK_INT_EQ(o.n, 3);
    int64_t sum = 0;
    for (int i = 0; i < o.n; i++) {
        sum += o.parts[i].high - o.parts[i].low;
        LS_CHECK_INT_EQ(o.parts[i].high, d.per_partition[o.parts[i].partition]);
    }
    LS_CHECK_INT_EQ(sum, N);

    /* first consumer: everything exactly once, then commit */
    static sink_t a;
    memset(&a, 0, sizeof(a));
    const char *const topics[] = {"events", NULL};
    uint64_t t_a = uv_now(&loop);
    probe.phase = "consume";
    ls_kafka_consumer_t *ca = open_consumer(k, "g1", topics, NULL, &a);
    LS_CHECK(wait_count(&loop, &a, N, 15000));
    printf("first member: %d records after %llu ms\n", a.count,
           (unsigned long long)(uv_now(&loop) - t_a));
    run_for(&loop, 300); /* a duplicate would show up here */
    LS_CHECK(all_unique_and_complete(&a, "old", N));
    LS_CHECK(a.max_batch_seen <= 100);
    LS_CHECK(a.assigned);
    LS_CHECK_INT_EQ(ls_kafka_consumer_assignment(ca)->cnt, 3);
    LS_CHECK_INT_EQ(ls_kafka_consumer_lag(ca), 0);
    LS_CHECK_INT_EQ(a.errors, 0);

    rd_kafka_topic_partition_list_t *commit = rd_kafka_topic_partition_list_new(3);
    for (int p = 0; p < 3; p++) {
        int64_t next = 0;
        for (int i = 0; i < a.count; i++)
            if (a.seen[i].partition == p && a.seen[i].offset + 1 > next)
                next = a.seen[i].offset + 1;
        rd_kafka_topic_partition_list_add(commit, "events", p)->offset = next;
    }
    done_t committed = {0};
    ls_error_t err;
    LS_CHECK_INT_EQ(ls_kafka_consumer_commit(ca, commit, done_cb, &committed, &err), LS_ERR_OK);
    rd_kafka_topic_partition_list_destroy(commit);
    LS_CHECK(run_until(&loop, &committed.done, 10000));
    LS_CHECK_INT_EQ(committed.code, LS_ERR_OK);
    /* bad commit input */
    rd_kafka_topic_partition_list_t *empty = rd_kafka_topic_partition_list_new(0);
    LS_CHECK_INT_EQ(ls_kafka_consumer_commit(ca, empty, done_cb, &committed, &err),
                    LS_ERR_INVALID_ARGUMENT);
    rd_kafka_topic_partition_list_destroy(empty);
    probe.phase = "close";
    close_consumer(&loop, ca);
    probe.phase = "second member";

    /* new records after the commit; a second member of the group starts at
     * the committed offsets: only the new ones arrive */
    deliveries_t d2 = {.min_offset = INT64_MAX};
    produce_keyed(k, "events", "new", M, &d2);
    LS_CHECK(wait_deliveries(&loop, &d2, M, 10000));
    LS_CHECK_INT_EQ(d2.ok, M);
    static sink_t b;
    memset(&b, 0, sizeof(b));
    ls_kafka_consumer_t *cb2 = open_consumer(k, "g1", topics, NULL, &b);
    uint64_t t_b = uv_now(&loop);
    LS_CHECK(wait_count(&loop, &b, M, 15000));
    printf("second member: %d records after %llu ms (assigned=%d errors=%d)\n", b.count,
           (unsigned long long)(uv_now(&loop) - t_b), b.assigned, b.errors);
    run_for(&loop, 300);
    LS_CHECK(all_unique_and_complete(&b, "new", M));
    close_consumer(&loop, cb2);

    printf("max loop lag during produce/consume: %llu ms (during %s); max loop busy between "
           "ticks: %llu ms\n",
           (unsigned long long)probe.max_lag_ms, probe.max_phase ? probe.max_phase : "-",
           (unsigned long long)probe.max_busy_ms);
    LS_CHECK(probe.max_busy_ms < LS_TEST_MAX_LOOP_BUSY_MS);
    LS_CHECK(probe.max_lag_ms < LS_TEST_MAX_LOOP_LAG_MS);
    uv_close((uv_handle_t *)&probe.timer, NULL);
    close_kafka(&loop, k);
    finish_loop(&loop);
}

LS_TEST(paused_consumer_receives_nothing_until_resumed)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    ls_kafka_t *k = open_embedded(&loop);
    LS_REQUIRE(create_topic_sync(&loop, k, "paused", 2) == LS_ERR_OK);
    static sink_t s;
    memset(&s, 0, sizeof(s));
    const char *const topics[] = {"paused", NULL};
    ls_kafka_consumer_t *c = open_consumer(k, "gp", topics, NULL, &s);
    LS_CHECK_INT_EQ(ls_kafka_consumer_lag(c), -1); /* nothing assigned yet */
    deliveries_t d = {.min_offset = INT64_MAX};
    produce_keyed(k, "paused", "p", 3, &d);
    LS_CHECK(wait_count(&loop, &s, 3, 15000));
    LS_CHECK(wait_for(&loop, assigned_pred, &s, 1000));

    ls_kafka_consumer_pause(c);
    produce_keyed(k, "paused", "q", 5, &d);
    LS_CHECK(wait_deliveries(&loop, &d, 8, 10000));
    run_for(&loop, 1500);
    LS_CHECK_INT_EQ(s.count, 3);

    ls_kafka_consumer_resume(c);
    LS_CHECK(wait_count(&loop, &s, 8, 10000));
    LS_CHECK_INT_EQ(s.count, 8);
    LS_CHECK_INT_EQ(ls_kafka_consumer_lag(c), 0);
    close_consumer(&loop, c);
    close_kafka(&loop, k);
    finish_loop(&loop);
}

LS_TEST_MAIN(
    LS_T(produce_consume_commit_and_resume_from_committed_offsets_without_blocking_the_loop),
    LS_T(paused_consumer_receives_nothing_until_resumed))
