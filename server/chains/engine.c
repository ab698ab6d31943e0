/*
 * Chain engine (see engine.h). Per consumer ("worker") a FIFO of batches:
 * one batch per on_messages call. A batch counts what still has to happen
 * before its offsets may be committed (writer tickets, dead-letter
 * deliveries, plus one guard while it is being processed); the head batch
 * commits when that count reaches zero, so commits always follow the
 * stream order. A processor answering RETRY blocks its worker: the rest of
 * the batch is copied aside, the consumer is paused and a timer offers the
 * record again with exponential backoff.
 */
#include "chains/engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avro/decoder.h"
#include "avro/framing.h"
#include "core/alloc.h"
#include "core/log.h"
#include "core/metrics.h"

typedef struct worker worker_t;

typedef struct batch {
    worker_t *w;
    struct batch *next;
    int pending; /* tickets + DLQ deliveries + 1 guard until sealed */
    bool failed;
    char fail_msg[256];
    rd_kafka_topic_partition_list_t *offsets; /* next offset to read, per partition */
} batch_t;

/* A message kept beyond its callback (RETRY). */
typedef struct {
    char *topic;
    int32_t partition;
    int64_t offset, ts;
    uint8_t *key, *value;
    size_t key_len, value_len;
} held_msg_t;

typedef struct {
    ls_annotation_t *items;
    void **blocks;
    size_t count, cap;
} ann_list_t;

struct worker {
    ls_chain_t *chain;
    int index;
    ls_kafka_consumer_t *consumer;
    batch_t *head, *tail;
    int inflight;
    bool bp_paused;
    /* RETRY state */
    bool blocked;
    held_msg_t *held;
    size_t held_count, held_cap, held_pos;
    int retry_proc;
    int backoff_ms;
    batch_t *open_batch;
    uv_timer_t *timer;
    ann_list_t ann;
    /* values of the record being processed */
    ls_avro_slot_t *slots;
    ls_value_t *values;
    int commits_inflight;
    bool closing, closed;
};

typedef enum { ST_RUNNING, ST_PAUSED, ST_FAILED } state_t;

struct ls_chain {
    ls_chain_env_t *env;
    ls_chain_spec_t *spec;
    ls_processor_host_t host;
    ls_processor_ctx_t **procs;
    size_t nprocs;
    ls_chain_fields_t fields;
    const ls_avro_node_t *writer;
    ls_avro_extractor_t *extractor;
    worker_t *workers;
    int nworkers;
    bool user_paused;
    state_t state;
    char message[512];
    /* totals */
    uint64_t records_in, decode_errors, dead_lettered, dlq_failures, committed, write_failures,
        restarts;
    int live_batches;
    /* stop / restart */
    bool stopping, restarting;
    int workers_open;
    uv_timer_t *stop_timer;
    uv_timer_t *restart_timer;
    void (*stop_cb)(void *arg);
    void *stop_arg;
    bool stop_reported;
};

static void worker_open(worker_t *w, ls_error_t *err, ls_err_t *rc);
static void worker_maybe_close(worker_t *w);
static void chain_maybe_close_workers(ls_chain_t *c);
static void chain_maybe_free(ls_chain_t *c);
static void process_from(worker_t *w, batch_t *b);
static void trigger_restart(ls_chain_t *c, const char *why);

/* ---------- annotations ---------- */

static void ann_clear(ann_list_t *a)
{
    for (size_t i = 0; i < a->count; i++)
        free(a->blocks[i]);
    a->count = 0;
}

void ls_chain__annotate(ls_processor_ctx_t *ctx, ls_record_t *rec, const char *name,
                        const ls_annotation_field_t *fields, size_t count)
{
    ls_chain_t *c = ctx->chain;
    if (c == NULL || count > 256)
        return;
    /* The worker is found from the record's value array, which belongs to it. */
    worker_t *owner = NULL;
    for (int i = 0; i < c->nworkers && owner == NULL; i++)
        if (c->workers[i].values == rec->fields)
            owner = &c->workers[i];
    if (owner == NULL)
        return;
    ann_list_t *a = &owner->ann;
    size_t size = sizeof(ls_annotation_field_t) * count + strlen(name) + 1;
    for (size_t i = 0; i < count; i++) {
        size += strlen(fields[i].key) + 1;
        if (fields[i].value.kind == LS_VALUE_STRING || fields[i].value.kind == LS_VALUE_BYTES)
            size += fields[i].value.len;
    }
    char *block = ls_malloc(size);
    ls_annotation_field_t *fs = (ls_annotation_field_t *)block;
    char *p = block + sizeof(ls_annotation_field_t) * count;
    for (size_t i = 0; i < count; i++) {
        fs[i] = fields[i];
        size_t kl = strlen(fields[i].key) + 1;
        memcpy(p, fields[i].key, kl);
        fs[i].key = p;
        p += kl;
        if (fields[i].value.kind == LS_VALUE_STRING || fields[i].value.kind == LS_VALUE_BYTES) {
            if (fields[i].value.len)
                memcpy(p, fields[i].value.ptr, fields[i].value.len);
            fs[i].value.ptr = (const uint8_t *)p;
            p += fields[i].value.len;
        }
    }
    memcpy(p, name, strlen(name) + 1);
    if (a->count == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 8;
        a->items = ls_realloc(a->items, a->cap * sizeof(*a->items));
        a->blocks = ls_realloc(a->blocks, a->cap * sizeof(*a->blocks));
    }
    a->items[a->count] = (ls_annotation_t){.name = p, .fields = fs, .field_count = count};
    a->blocks[a->count++] = block;
    rec->annotations = a->items;
    rec->annotation_count = a->count;
}

/* ---------- batches and commits ---------- */

static batch_t *batch_new(worker_t *w)
{
    batch_t *b = ls_calloc(1, sizeof(*b));
    b->w = w;
    b->pending = 1;
    b->offsets = rd_kafka_topic_partition_list_new(4);
    if (w->tail)
        w->tail->next = b;
    else
        w->head = b;
    w->tail = b;
    w->inflight++;
    w->chain->live_batches++;
    return b;
}

static void batch_note_offset(batch_t *b, const char *topic, int32_t partition, int64_t offset)
{
    rd_kafka_topic_partition_t *tp =
        rd_kafka_topic_partition_list_find(b->offsets, topic, partition);
    if (tp == NULL)
        tp = rd_kafka_topic_partition_list_add(b->offsets, topic, partition);
    if (offset + 1 > tp->offset)
        tp->offset = offset + 1;
}

static void update_backpressure(worker_t *w)
{
    ls_chain_t *c = w->chain;
    if (w->consumer == NULL || w->closing)
        return;
    bool want_paused = c->user_paused || w->blocked || c->stopping || c->restarting ||
                       w->inflight >= LS_CHAIN_MAX_INFLIGHT_BATCHES;
    if (want_paused && !w->bp_paused) {
        ls_kafka_consumer_pause(w->consumer);
        w->bp_paused = true;
    } else if (!want_paused && w->bp_paused && w->inflight <= LS_CHAIN_MAX_INFLIGHT_BATCHES / 2) {
        ls_kafka_consumer_resume(w->consumer);
        w->bp_paused = false;
    }
}

static void on_committed(void *arg, const ls_error_t *err)
{
    worker_t *w = arg;
    w->commits_inflight--;
    if (err->code != LS_ERR_OK)
        ls_log(LS_LOG_WARN, "chain", "chain %s: offset commit failed: %s", w->chain->spec->name,
               err->message);
    chain_maybe_close_workers(w->chain);
    chain_maybe_free(w->chain);
}

static void batch_free(batch_t *b)
{
    rd_kafka_topic_partition_list_destroy(b->offsets);
    b->w->chain->live_batches--;
    free(b);
}

/* Commits finished batches from the head, in order. A failed batch stops
 * commits for this worker and restarts the chain from the committed offsets. */
static void worker_drain_head(worker_t *w)
{
    ls_chain_t *c = w->chain;
    while (w->head != NULL && w->head->pending == 0) {
        batch_t *b = w->head;
        w->head = b->next;
        if (w->head == NULL)
            w->tail = NULL;
        w->inflight--;
        if (b->failed) {
            char why[300];
            snprintf(why, sizeof(why), "%s", b->fail_msg);
            /* Drop everything queued behind it: none of it may be committed. */
            while (w->head != NULL && w->head->pending == 0) {
                batch_t *n = w->head;
                w->head = n->next;
                if (w->head == NULL)
                    w->tail = NULL;
                w->inflight--;
                batch_free(n);
            }
            batch_free(b);
            trigger_restart(c, why);
            return;
        }
        if (b->offsets->cnt > 0 && w->consumer != NULL && !c->restarting) {
            ls_error_t err;
            if (ls_kafka_consumer_commit(w->consumer, b->offsets, on_committed, w, &err) ==
                LS_ERR_OK) {
                w->commits_inflight++;
                c->committed++;
            } else {
                ls_log(LS_LOG_WARN, "chain", "chain %s: commit refused: %s", c->spec->name,
                       err.message);
            }
        }
        batch_free(b);
    }
    update_backpressure(w);
    chain_maybe_close_workers(c);
    chain_maybe_free(c);
}

static void batch_release(batch_t *b)
{
    if (--b->pending == 0)
        worker_drain_head(b->w);
}

static void batch_fail(batch_t *b, const char *msg)
{
    if (!b->failed) {
        b->failed = true;
        snprintf(b->fail_msg, sizeof(b->fail_msg), "%.250s", msg);
    }
}

ls_processor_ticket_t *ls_chain__hold(ls_processor_ctx_t *ctx, const ls_record_t *rec)
{
    ls_chain_t *c = ctx->chain;
    if (c == NULL)
        return NULL;
    for (int i = 0; i < c->nworkers; i++) {
        worker_t *w = &c->workers[i];
        if (w->values == rec->fields && w->open_batch != NULL) {
            w->open_batch->pending++;
            return (ls_processor_ticket_t *)w->open_batch;
        }
    }
    return NULL;
}

void ls_chain__release(ls_processor_ctx_t *ctx, ls_processor_ticket_t *t, bool ok,
                       const char *error_message)
{
    batch_t *b = (batch_t *)t;
    if (b == NULL)
        return;
    if (!ok) {
        ctx->chain->write_failures++;
        char msg[300];
        snprintf(msg, sizeof(msg), "%s: %s", ctx->label, error_message ? error_message : "failed");
        batch_fail(b, msg);
    }
    batch_release(b);
}

/* ---------- dead letters ---------- */

static void on_dlq_delivered(void *arg, int32_t partition, int64_t offset, const ls_error_t *err)
{
    batch_t *b = arg;
    if (err->code != LS_ERR_OK) {
        b->w->chain->dlq_failures++;
        char msg[300];
        snprintf(msg, sizeof(msg), "dead-letter topic: %.250s", err->message);
        batch_fail(b, msg);
    } else {
        b->w->chain->dead_lettered++;
    }
    batch_release(b);
}

static void dead_letter(worker_t *w, batch_t *b, const held_msg_t *m, const char *processor,
                        const char *reason)
{
    ls_chain_t *c = w->chain;
    if (c->spec->dead_letter_topic == NULL) {
        c->dead_lettered++; /* counted as dropped-with-reason; logged at debug */
        if (ls_log_enabled(LS_LOG_DEBUG))
            ls_log(LS_LOG_DEBUG, "chain", "chain %s: %s/%d@%lld dropped by %s: %s", c->spec->name,
                   m->topic, m->partition, (long long)m->offset, processor, reason);
        return;
    }
    char part[16], off[24];
    snprintf(part, sizeof(part), "%d", m->partition);
    snprintf(off, sizeof(off), "%lld", (long long)m->offset);
    ls_kafka_header_t h[6] = {
        {"lakestream.error.reason", reason, strlen(reason)},
        {"lakestream.error.processor", processor, strlen(processor)},
        {"lakestream.chain", c->spec->name, strlen(c->spec->name)},
        {"lakestream.source.topic", m->topic, strlen(m->topic)},
        {"lakestream.source.partition", part, strlen(part)},
        {"lakestream.source.offset", off, strlen(off)},
    };
    ls_error_t err;
    b->pending++;
    if (ls_kafka_produce(c->env->kafka, c->spec->dead_letter_topic, -1, m->key, m->key_len,
                         m->value, m->value_len, h, 6, on_dlq_delivered, b, &err) != LS_ERR_OK) {
        c->dlq_failures++;
        char msg[300];
        snprintf(msg, sizeof(msg), "dead-letter topic: %.250s", err.message);
        batch_fail(b, msg);
        b->pending--;
    }
}

/* ---------- processing ---------- */

/* Frames and extracts m into the worker's values. On failure (only when
 * report is true) the record goes to the dead-letter topic. */
static bool decode_record(worker_t *w, batch_t *b, const held_msg_t *m, ls_record_t *rec,
                          bool report)
{
    ls_chain_t *c = w->chain;
    ls_error_t err;
    int32_t id;
    char reason[600];
    if (ls_avro_frame_decode(m->value, m->value_len, &id, &rec->body, &rec->body_len, &err) !=
        LS_ERR_OK) {
        snprintf(reason, sizeof(reason), "undecodable: %s", err.message);
        goto bad;
    }
    rec->schema_id = id;
    if (c->spec->value_schema_id >= 0 && id != c->spec->value_schema_id) {
        snprintf(reason, sizeof(reason), "unknown schema id %d (this chain reads id %d)", id,
                 c->spec->value_schema_id);
        goto bad;
    }
    if (c->extractor == NULL)
        return true;
    if (ls_avro_extractor_run(c->extractor, rec->body, rec->body_len, w->slots, &err) !=
        LS_ERR_OK) {
        snprintf(reason, sizeof(reason), "undecodable: %s", err.message);
        goto bad;
    }
    for (size_t i = 0; i < c->fields.count; i++) {
        const ls_avro_slot_t *s = &w->slots[i];
        ls_value_t *v = &w->values[i];
        v->ptr = NULL;
        v->len = 0;
        switch (s->kind) {
        case LS_AVRO_SLOT_NULL:
            v->kind = LS_VALUE_NULL;
            break;
        case LS_AVRO_SLOT_BOOLEAN:
            v->kind = LS_VALUE_BOOL;
            v->v.b = s->v.b;
            break;
        case LS_AVRO_SLOT_INT:
        case LS_AVRO_SLOT_LONG:
            v->kind = LS_VALUE_INT;
            v->v.i = s->v.i;
            break;
        case LS_AVRO_SLOT_FLOAT:
        case LS_AVRO_SLOT_DOUBLE:
            v->kind = LS_VALUE_DOUBLE;
            v->v.d = s->v.d;
            break;
        case LS_AVRO_SLOT_STRING:
        case LS_AVRO_SLOT_ENUM:
            v->kind = LS_VALUE_STRING;
            v->ptr = s->bytes.ptr;
            v->len = s->bytes.len;
            break;
        case LS_AVRO_SLOT_BYTES:
            v->kind = LS_VALUE_BYTES;
            v->ptr = s->bytes.ptr;
            v->len = s->bytes.len;
            break;
        }
    }
    return true;
bad:
    if (report) {
        c->decode_errors++;
        dead_letter(w, b, m, "decoder", reason);
    }
    return false;
}

/* Runs one record from processor `from`. Returns the index of the processor
 * that answered RETRY, or -1 when the record is done. */
static int run_record(worker_t *w, batch_t *b, const held_msg_t *m, int from)
{
    ls_chain_t *c = w->chain;
    ls_record_t rec = {
        .fields = w->values,
        .field_count = c->fields.count,
        .annotations = w->ann.items,
        .annotation_count = w->ann.count,
        .value = m->value,
        .value_len = m->value_len,
        .key = m->key,
        .key_len = m->key_len,
        .topic = m->topic,
        .partition = m->partition,
        .offset = m->offset,
        .timestamp_ms = m->ts,
    };
    if (from == 0)
        c->records_in++;
    if (!decode_record(w, b, m, &rec, from == 0))
        return -1;
    ls_processor_host_t *host = &c->host;
    for (size_t p = (size_t)from; p < c->nprocs; p++) {
        ls_processor_ctx_t *ctx = c->procs[p];
        ctx->in++;
        ctx->failed = false;
        ls_verdict_t v = ctx->plugin->process(ctx->state, ctx, host, &rec);
        switch (v) {
        case LS_VERDICT_PASS:
            ctx->pass++;
            continue;
        case LS_VERDICT_SKIP:
            ctx->skip++;
            break;
        case LS_VERDICT_RETRY:
            ctx->retry++;
            ctx->in--; /* offered again; counted once when it passes */
            return (int)p;
        case LS_VERDICT_ERROR:
        default: {
            ctx->error++;
            char reason[600];
            snprintf(reason, sizeof(reason), "%s",
                     ctx->failed ? ctx->fail.message : "processor returned ERROR");
            dead_letter(w, b, m, ctx->label, reason);
            break;
        }
        }
        break;
    }
    ann_clear(&w->ann);
    return -1;
}

static void seal_batch(worker_t *w, batch_t *b)
{
    ls_chain_t *c = w->chain;
    for (size_t p = 0; p < c->nprocs; p++)
        if (c->procs[p]->plugin->flush != NULL)
            c->procs[p]->plugin->flush(c->procs[p]->state, c->procs[p], &c->host);
    w->open_batch = NULL;
    batch_release(b);
}

static void held_clear(worker_t *w)
{
    for (size_t i = 0; i < w->held_count; i++) {
        free(w->held[i].topic);
        free(w->held[i].key);
        free(w->held[i].value);
    }
    w->held_count = w->held_pos = 0;
}

static void hold_msg(worker_t *w, const rd_kafka_message_t *m)
{
    if (w->held_count == w->held_cap) {
        w->held_cap = w->held_cap ? w->held_cap * 2 : 64;
        w->held = ls_realloc(w->held, w->held_cap * sizeof(*w->held));
    }
    held_msg_t *h = &w->held[w->held_count++];
    h->topic = ls_strdup(rd_kafka_topic_name(m->rkt));
    h->partition = m->partition;
    h->offset = m->offset;
    h->ts = rd_kafka_message_timestamp(m, NULL);
    h->key_len = m->key_len;
    h->key = m->key_len ? ls_malloc(m->key_len) : NULL;
    if (m->key_len)
        memcpy(h->key, m->key, m->key_len);
    h->value_len = m->len;
    h->value = ls_malloc(m->len ? m->len : 1);
    if (m->len)
        memcpy(h->value, m->payload, m->len);
}

static void on_retry_timer(uv_timer_t *t)
{
    worker_t *w = t->data;
    if (!w->blocked || w->open_batch == NULL)
        return;
    process_from(w, w->open_batch);
}

static void block_worker(worker_t *w, int proc)
{
    w->blocked = true;
    w->retry_proc = proc;
    w->backoff_ms = w->backoff_ms ? (w->backoff_ms * 2 > 5000 ? 5000 : w->backoff_ms * 2) : 50;
    update_backpressure(w);
    uv_timer_start(w->timer, on_retry_timer, (uint64_t)w->backoff_ms, 0);
}

/* Continues the held messages of a blocked worker. */
static void process_from(worker_t *w, batch_t *b)
{
    ls_chain_t *c = w->chain;
    while (w->held_pos < w->held_count) {
        if (c->stopping || c->restarting)
            break;
        held_msg_t *m = &w->held[w->held_pos];
        int from = w->blocked ? w->retry_proc : 0;
        int r = run_record(w, b, m, from);
        if (r >= 0) {
            block_worker(w, r);
            return;
        }
        batch_note_offset(b, m->topic, m->partition, m->offset);
        w->blocked = false;
        w->backoff_ms = 0;
        w->held_pos++;
    }
    held_clear(w);
    w->blocked = false;
    seal_batch(w, b);
    update_backpressure(w);
}

static void on_messages(void *arg, rd_kafka_message_t **msgs, size_t n)
{
    worker_t *w = arg;
    ls_chain_t *c = w->chain;
    if (c->stopping || c->restarting || w->closing)
        return; /* not processed, not committed: redelivered later */
    if (w->blocked) {
        /* fetched before the pause took effect: keep them behind the retry */
        for (size_t i = 0; i < n; i++)
            if (msgs[i]->err == RD_KAFKA_RESP_ERR_NO_ERROR)
                hold_msg(w, msgs[i]);
        return;
    }
    batch_t *b = batch_new(w);
    w->open_batch = b;
    for (size_t i = 0; i < n; i++) {
        rd_kafka_message_t *km = msgs[i];
        if (km->err != RD_KAFKA_RESP_ERR_NO_ERROR)
            continue;
        held_msg_t m = {
            .topic = (char *)rd_kafka_topic_name(km->rkt),
            .partition = km->partition,
            .offset = km->offset,
            .ts = rd_kafka_message_timestamp(km, NULL),
            .key = km->key,
            .key_len = km->key_len,
            .value = km->payload,
            .value_len = km->len,
        };
        int r = run_record(w, b, &m, 0);
        if (r >= 0) {
            for (size_t j = i; j < n; j++)
                if (msgs[j]->err == RD_KAFKA_RESP_ERR_NO_ERROR)
                    hold_msg(w, msgs[j]);
            /* the retried record's slots must point into the held copy */
            block_worker(w, r);
            return;
        }
        batch_note_offset(b, m.topic, m.partition, m.offset);
    }
    seal_batch(w, b);
    update_backpressure(w);
}

static void on_consumer_error(void *arg, const ls_error_t *err)
{
    worker_t *w = arg;
    ls_log(LS_LOG_DEBUG, "chain", "chain %s consumer %d: %s", w->chain->spec->name, w->index,
           err->message);
}

/* ---------- lifecycle ---------- */

static void worker_open(worker_t *w, ls_error_t *err, ls_err_t *rc)
{
    ls_chain_t *c = w->chain;
    const char *topics[2] = {c->spec->topic ? c->spec->topic : c->spec->topics_regex, NULL};
    ls_kafka_consumer_config_t cc = {
        .group = c->spec->group,
        .topics = topics,
        .start = c->spec->start,
        .max_batch = 500,
        .on_messages = on_messages,
        .on_error = on_consumer_error,
        .arg = w,
    };
    w->closing = w->closed = false;
    w->bp_paused = false;
    *rc = ls_kafka_consumer_open(c->env->kafka, &cc, &w->consumer, err);
    if (*rc == LS_ERR_OK) {
        c->workers_open++;
        update_backpressure(w);
    } else {
        w->consumer = NULL;
        w->closed = true;
    }
}

static void on_worker_closed(void *arg)
{
    worker_t *w = arg;
    ls_chain_t *c = w->chain;
    w->closed = true;
    w->consumer = NULL;
    c->workers_open--;
    chain_maybe_free(c);
}

static void worker_maybe_close(worker_t *w)
{
    ls_chain_t *c = w->chain;
    if (!(c->stopping || c->restarting) || w->closing || w->consumer == NULL)
        return;
    bool force = c->stopping && c->stop_timer == NULL; /* deadline passed */
    if (!force) {
        /* No worker leaves the group before every worker's commits are
         * answered: a member leaving starts a rebalance, and the broker then
         * refuses the other members' commits still in flight, so their
         * records would be delivered again to the next owner. */
        for (int i = 0; i < c->nworkers; i++) {
            const worker_t *o = &c->workers[i];
            if (o->consumer != NULL && !o->closing && (o->head != NULL || o->commits_inflight > 0))
                return;
        }
    }
    w->closing = true;
    ls_kafka_consumer_close(w->consumer, on_worker_closed, w);
}

/* A worker finished its last commit: the others may be waiting for it. */
static void chain_maybe_close_workers(ls_chain_t *c)
{
    for (int i = 0; i < c->nworkers; i++)
        worker_maybe_close(&c->workers[i]);
}

static void chain_free(ls_chain_t *c)
{
    for (int i = 0; i < c->nworkers; i++) {
        worker_t *w = &c->workers[i];
        held_clear(w);
        free(w->held);
        ann_clear(&w->ann);
        free(w->ann.items);
        free(w->ann.blocks);
        free(w->slots);
        free(w->values);
        uv_close((uv_handle_t *)w->timer, (uv_close_cb)free);
    }
    for (size_t p = 0; p < c->nprocs; p++)
        ls_chain_instance_free(c->procs[p]);
    free(c->procs);
    ls_chain_fields_clear(&c->fields);
    ls_avro_extractor_free(c->extractor);
    ls_chain_spec_free(c->spec);
    free(c->workers);
    free(c);
}

static void on_restart_timer(uv_timer_t *t);

static void chain_maybe_free(ls_chain_t *c)
{
    if (c->workers_open > 0)
        return;
    for (int i = 0; i < c->nworkers; i++)
        if (c->workers[i].consumer != NULL)
            return;
    if (c->stopping) {
        if (!c->stop_reported) {
            c->stop_reported = true;
            if (c->stop_timer) {
                uv_close((uv_handle_t *)c->stop_timer, (uv_close_cb)free);
                c->stop_timer = NULL;
            }
            if (c->restart_timer) {
                uv_close((uv_handle_t *)c->restart_timer, (uv_close_cb)free);
                c->restart_timer = NULL;
            }
            if (c->stop_cb)
                c->stop_cb(c->stop_arg);
        }
        if (c->live_batches == 0)
            chain_free(c);
        return;
    }
    if (c->restarting && c->live_batches == 0 && !uv_is_active((uv_handle_t *)c->restart_timer))
        uv_timer_start(c->restart_timer, on_restart_timer, 1000, 0);
}

static void on_restart_timer(uv_timer_t *t)
{
    ls_chain_t *c = t->data;
    if (c->stopping)
        return;
    c->restarting = false;
    c->restarts++;
    for (int i = 0; i < c->nworkers; i++) {
        ls_error_t err;
        ls_err_t rc;
        worker_t *w = &c->workers[i];
        w->head = w->tail = NULL;
        w->inflight = 0;
        worker_open(w, &err, &rc);
        if (rc != LS_ERR_OK) {
            snprintf(c->message, sizeof(c->message), "restart failed: %.400s", err.message);
            trigger_restart(c, c->message);
            return;
        }
    }
    ls_log(LS_LOG_INFO, "chain", "chain %s restarted from its committed offsets", c->spec->name);
    c->state = c->user_paused ? ST_PAUSED : ST_RUNNING;
}

static void trigger_restart(ls_chain_t *c, const char *why)
{
    if (c->stopping || c->restarting)
        return;
    c->state = ST_FAILED;
    snprintf(c->message, sizeof(c->message), "%s", why);
    ls_log(LS_LOG_ERROR, "chain", "chain %s failed (%s); restarting from committed offsets",
           c->spec->name, why);
    c->restarting = true;
    for (int i = 0; i < c->nworkers; i++) {
        worker_t *w = &c->workers[i];
        uv_timer_stop(w->timer);
        if (w->blocked && w->open_batch) {
            held_clear(w);
            w->blocked = false;
            batch_t *b = w->open_batch;
            w->open_batch = NULL;
            batch_fail(b, why);
            batch_release(b);
        }
        update_backpressure(w);
        worker_maybe_close(w);
    }
    chain_maybe_free(c);
}

ls_err_t ls_chain_start(ls_chain_env_t *env, ls_chain_spec_t *spec, bool paused, ls_chain_t **out,
                        ls_error_t *err)
{
    if (spec->value_schema == NULL) {
        ls_error_set(err, LS_ERR_FAILED_PRECONDITION,
                     "chain %s: schema-registry lookups are not wired yet; give "
                     "value_schema_file",
                     spec->name);
        ls_chain_spec_free(spec);
        return err->code;
    }
    ls_chain_t *c = ls_calloc(1, sizeof(*c));
    c->env = env;
    c->spec = spec;
    c->host = ls_chain_host;
    c->host.server = env;
    c->user_paused = paused;
    c->state = paused ? ST_PAUSED : ST_RUNNING;
    c->nprocs = spec->proc_count;
    c->procs = ls_calloc(c->nprocs, sizeof(*c->procs));
    c->nworkers = spec->instances;
    c->workers = ls_calloc((size_t)c->nworkers, sizeof(*c->workers));
    ls_err_t rc = LS_ERR_OK;
    for (size_t i = 0; i < c->nprocs && rc == LS_ERR_OK; i++) {
        ls_chain_proc_spec_t *p = &spec->procs[i];
        rc = ls_chain_instance_new(p->plugin, (int)i, p->label, p->given, p->params, &c->fields,
                                   env, c, spec->name, &c->procs[i], err);
    }
    if (rc == LS_ERR_OK && c->fields.count > 0) {
        c->writer = ls_avro_schema_root(spec->value_schema);
        rc = ls_avro_extractor_compile(c->writer, NULL, (const char *const *)c->fields.paths,
                                       c->fields.count, &c->extractor, err);
    }
    if (rc != LS_ERR_OK) {
        for (size_t i = 0; i < c->nprocs; i++)
            ls_chain_instance_free(c->procs[i]);
        free(c->procs);
        ls_chain_fields_clear(&c->fields);
        free(c->workers);
        free(c);
        ls_chain_spec_free(spec);
        return rc;
    }
    for (int i = 0; i < c->nworkers; i++) {
        worker_t *w = &c->workers[i];
        w->chain = c;
        w->index = i;
        w->slots = ls_calloc(c->fields.count + 1, sizeof(*w->slots));
        w->values = ls_calloc(c->fields.count + 1, sizeof(*w->values));
        w->timer = ls_malloc(sizeof(*w->timer));
        uv_timer_init(env->loop, w->timer);
        w->timer->data = w;
    }
    c->restart_timer = ls_malloc(sizeof(*c->restart_timer));
    uv_timer_init(env->loop, c->restart_timer);
    c->restart_timer->data = c;
    for (int i = 0; i < c->nworkers; i++) {
        worker_open(&c->workers[i], err, &rc);
        if (rc != LS_ERR_OK) {
            /* Close what opened; the chain frees itself (and the spec) once
             * they are closed. No stop callback for a failed start. */
            c->stopping = true;
            c->stop_reported = true;
            for (int k = 0; k < c->nworkers; k++)
                worker_maybe_close(&c->workers[k]);
            chain_maybe_free(c);
            return rc;
        }
    }
    *out = c;
    return LS_ERR_OK;
}

const ls_chain_spec_t *ls_chain_spec(const ls_chain_t *c)
{
    return c->spec;
}

void ls_chain_pause(ls_chain_t *c)
{
    c->user_paused = true;
    if (c->state == ST_RUNNING)
        c->state = ST_PAUSED;
    for (int i = 0; i < c->nworkers; i++)
        update_backpressure(&c->workers[i]);
}

void ls_chain_resume(ls_chain_t *c)
{
    c->user_paused = false;
    if (c->state == ST_PAUSED)
        c->state = ST_RUNNING;
    for (int i = 0; i < c->nworkers; i++)
        update_backpressure(&c->workers[i]);
}

bool ls_chain_paused(const ls_chain_t *c)
{
    return c->user_paused;
}

static void on_stop_deadline(uv_timer_t *t)
{
    ls_chain_t *c = t->data;
    ls_log(LS_LOG_WARN, "chain",
           "chain %s: stop deadline passed with %d batches unacknowledged; they will be "
           "redelivered",
           c->spec->name, c->live_batches);
    uv_close((uv_handle_t *)t, (uv_close_cb)free);
    c->stop_timer = NULL;
    for (int i = 0; i < c->nworkers; i++)
        worker_maybe_close(&c->workers[i]);
    chain_maybe_free(c);
}

void ls_chain_stop(ls_chain_t *c, int timeout_ms, void (*cb)(void *arg), void *arg)
{
    if (c->stopping)
        return;
    c->stopping = true;
    c->stop_cb = cb;
    c->stop_arg = arg;
    uv_timer_stop(c->restart_timer);
    c->stop_timer = ls_malloc(sizeof(*c->stop_timer));
    uv_timer_init(c->env->loop, c->stop_timer);
    c->stop_timer->data = c;
    uv_timer_start(c->stop_timer, on_stop_deadline, (uint64_t)(timeout_ms > 0 ? timeout_ms : 1), 0);
    for (int i = 0; i < c->nworkers; i++) {
        worker_t *w = &c->workers[i];
        uv_timer_stop(w->timer);
        if (w->blocked && w->open_batch) {
            /* The retried record and those behind it are not committed. */
            held_clear(w);
            w->blocked = false;
            batch_t *b = w->open_batch;
            w->open_batch = NULL;
            /* Its offsets cover only the records done before the retried
             * one, so releasing it commits exactly those. */
            batch_release(b);
        }
        update_backpressure(w);
        worker_maybe_close(w);
    }
    chain_maybe_free(c);
}

static const char *state_name(state_t s)
{
    return s == ST_RUNNING ? "running" : s == ST_PAUSED ? "paused" : "failed";
}

json_t *ls_chain_status(const ls_chain_t *c)
{
    json_t *procs = json_array();
    for (size_t i = 0; i < c->nprocs; i++) {
        const ls_processor_ctx_t *p = c->procs[i];
        json_array_append_new(
            procs, json_pack("{s:i,s:s,s:s,s:I,s:I,s:I,s:I,s:I}", "index", (int)i, "type",
                             p->plugin->name, "name", p->label, "in", (json_int_t)p->in, "pass",
                             (json_int_t)p->pass, "skip", (json_int_t)p->skip, "retry",
                             (json_int_t)p->retry, "error", (json_int_t)p->error));
    }
    int64_t lag = 0;
    bool known = false;
    json_t *inst = json_array();
    for (int i = 0; i < c->nworkers; i++) {
        const worker_t *w = &c->workers[i];
        int64_t l = w->consumer ? ls_kafka_consumer_lag(w->consumer) : -1;
        json_t *parts = json_array();
        if (w->consumer) {
            const rd_kafka_topic_partition_list_t *a = ls_kafka_consumer_assignment(w->consumer);
            for (int k = 0; k < a->cnt; k++)
                json_array_append_new(parts, json_pack("{s:s,s:i}", "topic", a->elems[k].topic,
                                                       "partition", a->elems[k].partition));
        }
        json_array_append_new(inst,
                              json_pack("{s:i,s:I,s:i,s:o}", "index", i, "lag", (json_int_t)l,
                                        "inflight_batches", w->inflight, "assignment", parts));
        if (l >= 0) {
            lag += l;
            known = true;
        }
    }
    json_t *st = json_pack(
        "{s:s,s:s,s:o,s:{s:I,s:I,s:I,s:I,s:I,s:I},s:o,s:o}", "state",
        c->user_paused && c->state != ST_FAILED ? "paused" : state_name(c->state), "message",
        c->message, "processors", procs, "records", "in", (json_int_t)c->records_in, "undecodable",
        (json_int_t)c->decode_errors, "dead_lettered", (json_int_t)c->dead_lettered, "commits",
        (json_int_t)c->committed, "write_failures", (json_int_t)c->write_failures, "restarts",
        (json_int_t)c->restarts, "lag", known ? json_integer(lag) : json_null(), "instances", inst);
    return st;
}

void ls_chain_metrics_headers(ls_buf_t *out)
{
    ls_metrics_header(out, "lakestream_chain_records_total", "counter",
                      "Records read by a chain, by outcome");
    ls_metrics_header(out, "lakestream_chain_processor_records_total", "counter",
                      "Records seen by a chain processor, by verdict");
    ls_metrics_header(out, "lakestream_chain_lag", "gauge", "Consumer lag of a chain (records)");
}

void ls_chain_metrics(const ls_chain_t *c, ls_buf_t *out)
{
    char labels[256];
    const char *n = c->spec->name;
    struct {
        const char *what;
        uint64_t v;
    } totals[] = {{"in", c->records_in},
                  {"undecodable", c->decode_errors},
                  {"dead_lettered", c->dead_lettered}};
    for (size_t i = 0; i < 3; i++) {
        snprintf(labels, sizeof(labels), "chain=\"%s\",outcome=\"%s\"", n, totals[i].what);
        ls_metrics_sample(out, "lakestream_chain_records_total", labels, (double)totals[i].v);
    }
    for (size_t i = 0; i < c->nprocs; i++) {
        const ls_processor_ctx_t *p = c->procs[i];
        struct {
            const char *what;
            uint64_t v;
        } v[] = {{"in", p->in},
                 {"pass", p->pass},
                 {"skip", p->skip},
                 {"retry", p->retry},
                 {"error", p->error}};
        for (size_t k = 0; k < 5; k++) {
            snprintf(labels, sizeof(labels), "chain=\"%s\",processor=\"%zu:%s\",verdict=\"%s\"", n,
                     i, p->plugin->name, v[k].what);
            ls_metrics_sample(out, "lakestream_chain_processor_records_total", labels,
                              (double)v[k].v);
        }
    }
    int64_t lag = 0;
    for (int i = 0; i < c->nworkers; i++) {
        int64_t l = c->workers[i].consumer ? ls_kafka_consumer_lag(c->workers[i].consumer) : -1;
        if (l > 0)
            lag += l;
    }
    snprintf(labels, sizeof(labels), "chain=\"%s\"", n);
    ls_metrics_sample(out, "lakestream_chain_lag", labels, (double)lag);
}
