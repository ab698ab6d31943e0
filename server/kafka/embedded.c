/*
 * The embedded broker: librdkafka's in-process mock cluster, listening on
 * loopback ports that any Kafka client (ours, kafkajs) can use. The mock
 * ignores the CreateTopics request, so topics are created with
 * rd_kafka_mock_topic_create, which waits for the mock's own thread and
 * therefore runs in a worker; it cannot delete topics at all. This file must
 * not log: the caller reports ls_kafka_bootstrap() itself.
 */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "kafka/internal.h"

static void silent_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
}

ls_err_t ls__kafka_embedded_start(ls_kafka_t *k, ls_error_t *err)
{
    /* A handle of its own that only carries the cluster; it has no bootstrap
     * servers, so it never connects anywhere and its complaint about that is
     * silenced. */
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(conf, silent_log);
    char errstr[512];
    k->mock_rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (!k->mock_rk) {
        rd_kafka_conf_destroy(conf);
        return ls_error_set(err, LS_ERR_INTERNAL, "embedded broker: %s", errstr);
    }
    k->mock = rd_kafka_mock_cluster_new(k->mock_rk, k->embedded_brokers);
    if (!k->mock) {
        rd_kafka_destroy(k->mock_rk);
        k->mock_rk = NULL;
        return ls_error_set(err, LS_ERR_UNAVAILABLE,
                            "embedded broker: cannot create the mock cluster (no free port?)");
    }
    k->bootstrap = ls_strdup(rd_kafka_mock_cluster_bootstraps(k->mock));
    return LS_ERR_OK;
}

void ls__kafka_embedded_destroy(ls_kafka_t *k)
{
    if (k->mock)
        rd_kafka_mock_cluster_destroy(k->mock);
    if (k->mock_rk)
        rd_kafka_destroy(k->mock_rk);
    k->mock = NULL;
    k->mock_rk = NULL;
}

typedef struct {
    uv_work_t work;
    ls_kafka_t *k;
    rd_kafka_mock_cluster_t *mock;
    char *name;
    int partitions, replication_factor;
    rd_kafka_resp_err_t result;
    ls_kafka_done_cb cb;
    void *arg;
} create_work_t;

static void create_run(uv_work_t *w)
{
    create_work_t *cw = w->data;
    cw->result =
        rd_kafka_mock_topic_create(cw->mock, cw->name, cw->partitions, cw->replication_factor);
}

static void create_after(uv_work_t *w, int status)
{
    create_work_t *cw = w->data;
    ls_error_t e;
    ls_error_clear(&e);
    if (cw->result == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
        ls_error_set(&e, LS_ERR_ALREADY_EXISTS, "topic %s already exists", cw->name);
    else if (cw->result != RD_KAFKA_RESP_ERR_NO_ERROR)
        ls_error_set(&e, ls__kafka_map_err(cw->result), "create topic %s: %s", cw->name,
                     rd_kafka_err2str(cw->result));
    cw->k->pending--;
    cw->cb(cw->arg, cw->result == RD_KAFKA_RESP_ERR_NO_ERROR ? &ls__kafka_ok : &e);
    free(cw->name);
    free(cw);
}

ls_err_t ls__kafka_embedded_create_topic(ls_kafka_t *k, const char *name, int partitions,
                                         int replication_factor, ls_kafka_done_cb cb, void *arg,
                                         ls_error_t *err)
{
    if (replication_factor < 0)
        replication_factor = 1;
    if (replication_factor > k->embedded_brokers)
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.replication_factor",
                                 "replication factor %d exceeds the %d embedded brokers",
                                 replication_factor, k->embedded_brokers);
    create_work_t *cw = ls_calloc(1, sizeof(*cw));
    cw->k = k;
    cw->mock = k->mock;
    cw->name = ls_strdup(name);
    cw->partitions = partitions;
    cw->replication_factor = replication_factor;
    cw->cb = cb;
    cw->arg = arg;
    cw->work.data = cw;
    k->pending++;
    uv_queue_work(k->loop, &cw->work, create_run, create_after);
    return LS_ERR_OK;
}
