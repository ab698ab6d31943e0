/*
 * Test tool: runs the embedded Kafka broker (librdkafka's mock cluster) so
 * independent clients such as kafkajs can be tested against it.
 *
 *   kafka_embedded_tool TOPIC PARTITIONS [PRODUCE_COUNT]
 *
 * Creates TOPIC with PARTITIONS partitions, produces PRODUCE_COUNT records
 * (key "tool-<i>", value "value-<i>", header "origin: tool") and waits for
 * their delivery, then prints one JSON line on stdout:
 *   {"bootstrap":"127.0.0.1:PORT","topic":"...","partitions":N,"produced":K}
 * and serves until stdin reaches end-of-file or SIGTERM/SIGINT arrives. Exits
 * 0 after a clean shutdown (every handle closed), non-zero on any failure.
 * Lines on stdin drive broker failures for outage tests: "down" takes every
 * mock broker down (connections drop, new ones are refused), "up" brings them
 * back; each is acknowledged with {"brokers":"down"|"up"} on stdout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka/kafka.h"

#include <librdkafka/rdkafka_mock.h>

typedef struct {
    uv_loop_t *loop;
    ls_kafka_t *k;
    const char *topic;
    int partitions;
    int to_produce, delivered, failed;
    uv_signal_t sigterm, sigint;
    uv_pipe_t in;
    bool in_open;
    bool stopping;
    int exit_code;
    char line[64];
    size_t line_len;
} tool_t;

static void stop(tool_t *t, int code);

static void kafka_closed(void *arg)
{
    tool_t *t = arg;
    uv_close((uv_handle_t *)&t->sigterm, NULL);
    uv_close((uv_handle_t *)&t->sigint, NULL);
    if (t->in_open)
        uv_close((uv_handle_t *)&t->in, NULL);
}

static void stop(tool_t *t, int code)
{
    if (t->stopping)
        return;
    t->stopping = true;
    t->exit_code = code;
    ls_kafka_close(t->k, kafka_closed, t);
}

static void on_signal(uv_signal_t *s, int signum)
{
    stop(s->data, 0);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    static char scratch[4096];
    *buf = uv_buf_init(scratch, sizeof(scratch));
}

/* The mock numbers its brokers from 1; one tool cluster has at most 9. */
static void set_brokers(tool_t *t, bool up)
{
    rd_kafka_mock_cluster_t *mc = ls_kafka_mock_cluster(t->k);
    for (int32_t id = 1; id <= 9 && mc != NULL; id++) {
        if (up)
            rd_kafka_mock_broker_set_up(mc, id);
        else
            rd_kafka_mock_broker_set_down(mc, id);
    }
    printf("{\"brokers\":\"%s\"}\n", up ? "up" : "down");
    fflush(stdout);
}

static void on_stdin(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    tool_t *t = s->data;
    if (nread < 0) {
        uv_read_stop(s);
        stop(t, 0);
        return;
    }
    for (ssize_t i = 0; i < nread; i++) {
        char c = buf->base[i];
        if (c != '\n') {
            if (t->line_len + 1 < sizeof(t->line))
                t->line[t->line_len++] = c;
            continue;
        }
        t->line[t->line_len] = '\0';
        t->line_len = 0;
        if (strcmp(t->line, "down") == 0)
            set_brokers(t, false);
        else if (strcmp(t->line, "up") == 0)
            set_brokers(t, true);
    }
}

static void ready(tool_t *t)
{
    printf("{\"bootstrap\":\"%s\",\"topic\":\"%s\",\"partitions\":%d,\"produced\":%d}\n",
           ls_kafka_bootstrap(t->k), t->topic, t->partitions, t->delivered);
    fflush(stdout);
}

static void delivered(void *arg, int32_t partition, int64_t offset, const ls_error_t *err)
{
    tool_t *t = arg;
    if (err->code != LS_ERR_OK) {
        fprintf(stderr, "kafka_embedded_tool: delivery failed: %s\n", err->message);
        t->failed++;
    } else {
        t->delivered++;
    }
    if (t->delivered + t->failed < t->to_produce)
        return;
    if (t->failed)
        stop(t, 1);
    else
        ready(t);
}

static void created(void *arg, const ls_error_t *err)
{
    tool_t *t = arg;
    if (err->code != LS_ERR_OK) {
        fprintf(stderr, "kafka_embedded_tool: create topic: %s\n", err->message);
        stop(t, 1);
        return;
    }
    if (t->to_produce == 0) {
        ready(t);
        return;
    }
    for (int i = 0; i < t->to_produce; i++) {
        char key[32], value[32];
        snprintf(key, sizeof(key), "tool-%d", i);
        snprintf(value, sizeof(value), "value-%d", i);
        ls_kafka_header_t h = {.name = "origin", .value = "tool", .len = 4};
        ls_error_t e;
        if (ls_kafka_produce(t->k, t->topic, -1, key, strlen(key), value, strlen(value), &h, 1,
                             delivered, t, &e) != LS_ERR_OK) {
            fprintf(stderr, "kafka_embedded_tool: produce: %s\n", e.message);
            stop(t, 1);
            return;
        }
    }
}

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: %s TOPIC PARTITIONS [PRODUCE_COUNT]\n", argv[0]);
        return 2;
    }
    tool_t t = {.topic = argv[1], .partitions = atoi(argv[2])};
    t.to_produce = argc == 4 ? atoi(argv[3]) : 0;
    if (t.to_produce < 0 || t.to_produce > 1000000) {
        fprintf(stderr, "PRODUCE_COUNT must be 0..1000000\n");
        return 2;
    }
    uv_loop_t loop;
    uv_loop_init(&loop);
    t.loop = &loop;
    const char *const quiet[] = {"log_level", "3", NULL};
    ls_kafka_config_t cfg = {.embedded = true, .properties = quiet};
    ls_error_t err;
    if (ls_kafka_open(&loop, &cfg, &t.k, &err) != LS_ERR_OK) {
        fprintf(stderr, "kafka_embedded_tool: %s\n", err.message);
        return 1;
    }
    uv_signal_init(&loop, &t.sigterm);
    uv_signal_init(&loop, &t.sigint);
    t.sigterm.data = t.sigint.data = &t;
    uv_signal_start(&t.sigterm, on_signal, SIGTERM);
    uv_signal_start(&t.sigint, on_signal, SIGINT);
    /* stdin may be a pipe, a tty or /dev/null; watch it only when libuv can. */
    if (uv_pipe_init(&loop, &t.in, 0) == 0) {
        t.in.data = &t;
        t.in_open = true;
        if (uv_pipe_open(&t.in, 0) != 0 ||
            uv_read_start((uv_stream_t *)&t.in, alloc_cb, on_stdin) != 0) {
            uv_close((uv_handle_t *)&t.in, NULL);
            t.in_open = false;
        }
    }
    if (ls_kafka_create_topic(t.k, t.topic, t.partitions, 1, NULL, created, &t, &err) !=
        LS_ERR_OK) {
        fprintf(stderr, "kafka_embedded_tool: create topic: %s\n", err.message);
        stop(&t, 1);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    int rc = uv_loop_close(&loop);
    if (rc != 0) {
        fprintf(stderr, "kafka_embedded_tool: loop not clean at exit: %s\n", uv_strerror(rc));
        return 1;
    }
    return t.exit_code;
}
