/*
 * Topic administration and watermark queries. Create/delete go through the
 * Admin API on a dedicated queue watched by the loop (real clusters) or the
 * mock cluster (embedded). Watermarks only exist as blocking calls in
 * librdkafka 2.0.2, so they run in uv_queue_work with a bounded timeout; the
 * work item reads only its own copy of the inputs and the thread-safe
 * rd_kafka_t. Nothing here blocks the loop.
 */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "kafka/internal.h"

enum { LS_KAFKA_MAX_PARTITIONS = 10000, LS_KAFKA_MAX_TOPIC_LEN = 249 };

static ls_err_t validate_topic_name(const char *name, ls_error_t *err)
{
    if (!name || !*name)
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.name", "topic name is empty");
    size_t len = strlen(name);
    if (len > LS_KAFKA_MAX_TOPIC_LEN)
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.name",
                                 "topic name longer than %d characters", LS_KAFKA_MAX_TOPIC_LEN);
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.name",
                                 "topic name cannot be '.' or '..'");
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.name",
                                     "topic name may only contain [a-zA-Z0-9._-]");
    }
    return LS_ERR_OK;
}

typedef enum { ADMIN_CREATE, ADMIN_DELETE } admin_kind_t;

typedef struct {
    admin_kind_t kind;
    char *name;
    ls_kafka_done_cb cb;
    void *arg;
} admin_op_t;

static rd_kafka_AdminOptions_t *admin_options(ls_kafka_t *k, rd_kafka_admin_op_t op, admin_op_t *a)
{
    rd_kafka_AdminOptions_t *opts = rd_kafka_AdminOptions_new(k->rk, op);
    char errstr[256];
    rd_kafka_AdminOptions_set_request_timeout(opts, k->admin_timeout_ms, errstr, sizeof(errstr));
    rd_kafka_AdminOptions_set_operation_timeout(opts, k->admin_timeout_ms, errstr, sizeof(errstr));
    rd_kafka_AdminOptions_set_opaque(opts, a);
    return opts;
}

void ls__kafka_admin_event(ls_kafka_t *k, rd_kafka_event_t *ev)
{
    admin_op_t *a = rd_kafka_event_opaque(ev);
    if (!a)
        return;
    rd_kafka_resp_err_t e = rd_kafka_event_error(ev);
    const char *msg = rd_kafka_event_error_string(ev);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const rd_kafka_topic_result_t **res = NULL;
        size_t n = 0;
        if (a->kind == ADMIN_CREATE && rd_kafka_event_CreateTopics_result(ev))
            res = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
        else if (a->kind == ADMIN_DELETE && rd_kafka_event_DeleteTopics_result(ev))
            res = rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev), &n);
        if (n > 0) {
            e = rd_kafka_topic_result_error(res[0]);
            msg = rd_kafka_topic_result_error_string(res[0]);
        }
    }
    ls_error_t err;
    ls_error_clear(&err);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        ls_err_t code = ls__kafka_map_err(e);
        if (code == LS_ERR_INTERNAL && e < 0)
            code = LS_ERR_UNAVAILABLE;
        ls_error_set(&err, code, "%s topic %s: %s", a->kind == ADMIN_CREATE ? "create" : "delete",
                     a->name, msg && *msg ? msg : rd_kafka_err2str(e));
    }
    k->pending--;
    a->cb(a->arg, e ? &err : &ls__kafka_ok);
    free(a->name);
    free(a);
}

ls_err_t ls_kafka_create_topic(ls_kafka_t *k, const char *name, int partitions,
                               int replication_factor, const char *const *config,
                               ls_kafka_done_cb cb, void *arg, ls_error_t *err)
{
    if (k->closing)
        return ls_error_set(err, LS_ERR_FAILED_PRECONDITION, "kafka client is closing");
    if (!cb)
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "create_topic needs a callback");
    ls_err_t rc = validate_topic_name(name, err);
    if (rc != LS_ERR_OK)
        return rc;
    if (partitions < 1 || partitions > LS_KAFKA_MAX_PARTITIONS)
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.partitions",
                                 "partitions must be 1..%d, got %d", LS_KAFKA_MAX_PARTITIONS,
                                 partitions);
    if (replication_factor == 0 || replication_factor < -1 || replication_factor > 32767)
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.replication_factor",
                                 "replication factor must be -1 (broker default) or 1..32767");
    size_t nconfig = 0;
    if (config) {
        while (config[nconfig])
            nconfig++;
        if (nconfig % 2)
            return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.config",
                                     "config key %s has no value", config[nconfig - 1]);
    }
    /* The mock has no topic configuration at all: configs are accepted and
     * ignored there. */
    if (k->embedded)
        return ls__kafka_embedded_create_topic(k, name, partitions, replication_factor, cb, arg,
                                               err);

    char errstr[512];
    rd_kafka_NewTopic_t *nt =
        rd_kafka_NewTopic_new(name, partitions, replication_factor, errstr, sizeof(errstr));
    if (!nt)
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "create topic %s: %s", name, errstr);
    for (size_t i = 0; i < nconfig; i += 2) {
        rd_kafka_resp_err_t e = rd_kafka_NewTopic_set_config(nt, config[i], config[i + 1]);
        if (e) {
            rd_kafka_NewTopic_destroy(nt);
            return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, "$.config",
                                     "topic config %s: %s", config[i], rd_kafka_err2str(e));
        }
    }
    admin_op_t *a = ls_calloc(1, sizeof(*a));
    a->kind = ADMIN_CREATE;
    a->name = ls_strdup(name);
    a->cb = cb;
    a->arg = arg;
    rd_kafka_AdminOptions_t *opts = admin_options(k, RD_KAFKA_ADMIN_OP_CREATETOPICS, a);
    k->pending++;
    rd_kafka_CreateTopics(k->rk, &nt, 1, opts, k->admin_q);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_NewTopic_destroy(nt);
    return LS_ERR_OK;
}

ls_err_t ls_kafka_delete_topic(ls_kafka_t *k, const char *name, ls_kafka_done_cb cb, void *arg,
                               ls_error_t *err)
{
    if (k->closing)
        return ls_error_set(err, LS_ERR_FAILED_PRECONDITION, "kafka client is closing");
    if (!cb)
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "delete_topic needs a callback");
    ls_err_t rc = validate_topic_name(name, err);
    if (rc != LS_ERR_OK)
        return rc;
    if (k->embedded) {
        /* Documented limit: the mock cluster cannot delete topics. */
        ls__kafka_defer_done(k, cb, arg, NULL);
        return LS_ERR_OK;
    }
    admin_op_t *a = ls_calloc(1, sizeof(*a));
    a->kind = ADMIN_DELETE;
    a->name = ls_strdup(name);
    a->cb = cb;
    a->arg = arg;
    rd_kafka_DeleteTopic_t *dt = rd_kafka_DeleteTopic_new(name);
    rd_kafka_AdminOptions_t *opts = admin_options(k, RD_KAFKA_ADMIN_OP_DELETETOPICS, a);
    k->pending++;
    rd_kafka_DeleteTopics(k->rk, &dt, 1, opts, k->admin_q);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_DeleteTopic_destroy(dt);
    return LS_ERR_OK;
}

/* ---- watermarks (worker) ---- */

typedef struct {
    uv_work_t work;
    ls_kafka_t *k;
    rd_kafka_t *rk;
    int timeout_ms;
    char *topic;
    ls_kafka_offsets_cb cb;
    void *arg;
    /* results, written by the worker */
    ls_kafka_partition_offsets_t *parts;
    int n;
    ls_error_t err;
} offsets_work_t;

static int cmp_partition(const void *a, const void *b)
{
    const ls_kafka_partition_offsets_t *x = a, *y = b;
    return (x->partition > y->partition) - (x->partition < y->partition);
}

static void offsets_run(uv_work_t *w)
{
    offsets_work_t *ow = w->data;
    uint64_t start = uv_hrtime() / 1000000;
    const struct rd_kafka_metadata *md = NULL;
    /* All topics rather than one: asking for a single unknown topic would
     * need a topic handle, which lingers in the producer. */
    rd_kafka_resp_err_t e = rd_kafka_metadata(ow->rk, 1, NULL, &md, ow->timeout_ms);
    if (e) {
        ls_error_set(&ow->err, LS_ERR_UNAVAILABLE, "metadata for %s: %s", ow->topic,
                     rd_kafka_err2str(e));
        return;
    }
    const struct rd_kafka_metadata_topic *t = NULL;
    for (int i = 0; i < md->topic_cnt; i++)
        if (strcmp(md->topics[i].topic, ow->topic) == 0)
            t = &md->topics[i];
    if (!t || t->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || t->partition_cnt == 0) {
        ls_error_set(&ow->err, LS_ERR_NOT_FOUND, "topic %s does not exist", ow->topic);
        rd_kafka_metadata_destroy(md);
        return;
    }
    ow->n = t->partition_cnt;
    ow->parts = ls_calloc((size_t)ow->n, sizeof(*ow->parts));
    for (int i = 0; i < ow->n; i++)
        ow->parts[i].partition = t->partitions[i].id;
    rd_kafka_metadata_destroy(md);
    qsort(ow->parts, (size_t)ow->n, sizeof(*ow->parts), cmp_partition);
    for (int i = 0; i < ow->n; i++) {
        int64_t elapsed = (int64_t)(uv_hrtime() / 1000000 - start);
        int left = ow->timeout_ms - (int)elapsed;
        if (left < 1)
            left = 1;
        e = rd_kafka_query_watermark_offsets(ow->rk, ow->topic, ow->parts[i].partition,
                                             &ow->parts[i].low, &ow->parts[i].high, left);
        if (e) {
            ls_error_set(&ow->err,
                         ls__kafka_map_err(e) == LS_ERR_NOT_FOUND ? LS_ERR_NOT_FOUND
                                                                  : LS_ERR_UNAVAILABLE,
                         "watermarks of %s[%d]: %s", ow->topic, (int)ow->parts[i].partition,
                         rd_kafka_err2str(e));
            return;
        }
    }
}

static void offsets_after(uv_work_t *w, int status)
{
    offsets_work_t *ow = w->data;
    ow->k->pending--;
    if (ow->err.code != LS_ERR_OK)
        ow->cb(ow->arg, NULL, 0, &ow->err);
    else
        ow->cb(ow->arg, ow->parts, ow->n, &ls__kafka_ok);
    free(ow->parts);
    free(ow->topic);
    free(ow);
}

ls_err_t ls_kafka_topic_offsets(ls_kafka_t *k, const char *topic, ls_kafka_offsets_cb cb, void *arg,
                                ls_error_t *err)
{
    if (k->closing)
        return ls_error_set(err, LS_ERR_FAILED_PRECONDITION, "kafka client is closing");
    if (!cb)
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "topic_offsets needs a callback");
    ls_err_t rc = validate_topic_name(topic, err);
    if (rc != LS_ERR_OK)
        return rc;
    offsets_work_t *ow = ls_calloc(1, sizeof(*ow));
    ow->k = k;
    ow->rk = k->rk;
    ow->timeout_ms = k->admin_timeout_ms;
    ow->topic = ls_strdup(topic);
    ow->cb = cb;
    ow->arg = arg;
    ls_error_clear(&ow->err);
    ow->work.data = ow;
    k->pending++;
    uv_queue_work(k->loop, &ow->work, offsets_run, offsets_after);
    return LS_ERR_OK;
}
