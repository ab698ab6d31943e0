/*
 * `kafka_writer`: produces every record that reaches it to a topic through
 * the server's idempotent producer (acks=all), passing the original bytes
 * (Confluent framing and schema id unchanged) and the original key, or a key
 * taken from a field. Each record holds a ticket until its delivery report
 * arrives, so the chain commits offsets only for delivered records. A full
 * producer queue answers RETRY (the chain backs off); a failed delivery
 * releases the ticket as failed (the chain restarts from committed offsets).
 * Annotations are carried as Kafka headers (lakestream.ann.<name>.<key>).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chains/chain.h"
#include "core/alloc.h"

typedef struct {
    ls_chain_env_t *env;
    char *topic;
    ls_field_t key_field;
    bool annotation_headers;
    ls_processor_ctx_t *ctx;
    const ls_processor_host_t *host;
} kw_t;

typedef struct {
    kw_t *kw;
    ls_processor_ticket_t *ticket;
} delivery_t;

static int kw_init(ls_processor_ctx_t *ctx, const ls_processor_host_t *host, void **state)
{
    const char *topic = host->param_string(ctx, "topic");
    size_t n = strlen(topic);
    bool ok = n > 0 && n <= 249;
    for (size_t i = 0; ok && i < n; i++) {
        char c = topic[i];
        ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '.' || c == '_' || c == '-';
    }
    if (!ok) {
        host->fail(ctx, "topic", "not a valid Kafka topic name");
        return -1;
    }
    kw_t *k = ls_calloc(1, sizeof(*k));
    k->env = host->server;
    k->topic = ls_strdup(topic);
    k->key_field = -1;
    k->annotation_headers = host->param_bool(ctx, "annotation_headers");
    const char *kf = host->param_string(ctx, "key_field");
    if (kf != NULL) {
        k->key_field = host->field(ctx, kf);
        if (k->key_field < 0) {
            free(k->topic);
            free(k);
            host->fail(ctx, "key_field", "invalid field path");
            return -1;
        }
    }
    k->ctx = ctx;
    k->host = &ls_chain_host; /* the init-time host is a temporary copy */
    *state = k;
    return 0;
}

static void on_delivered(void *arg, int32_t partition, int64_t offset, const ls_error_t *err)
{
    delivery_t *d = arg;
    d->kw->host->release(d->kw->ctx, d->ticket, err->code == LS_ERR_OK,
                         err->code == LS_ERR_OK ? NULL : err->message);
    free(d);
}

static ls_verdict_t kw_process(void *state, ls_processor_ctx_t *ctx,
                               const ls_processor_host_t *host, ls_record_t *rec)
{
    kw_t *k = state;
    const void *key = rec->key;
    size_t key_len = rec->key_len;
    char numkey[32];
    if (k->key_field >= 0) {
        const ls_value_t *v = ls_record_value(rec, k->key_field);
        if (v->kind == LS_VALUE_STRING || v->kind == LS_VALUE_BYTES) {
            key = v->ptr;
            key_len = v->len;
        } else if (v->kind == LS_VALUE_INT) {
            key_len = (size_t)snprintf(numkey, sizeof(numkey), "%lld", (long long)v->v.i);
            key = numkey;
        } else {
            key = NULL;
            key_len = 0;
        }
    }
    ls_kafka_header_t headers[32];
    char names[32][128];
    char values[32][64];
    int nh = 0;
    if (k->annotation_headers) {
        for (size_t a = 0; a < rec->annotation_count; a++) {
            const ls_annotation_t *an = &rec->annotations[a];
            for (size_t f = 0; f < an->field_count && nh < 32; f++) {
                const ls_annotation_field_t *af = &an->fields[f];
                snprintf(names[nh], sizeof(names[nh]), "lakestream.ann.%s.%s", an->name, af->key);
                headers[nh].name = names[nh];
                switch (af->value.kind) {
                case LS_VALUE_STRING:
                case LS_VALUE_BYTES:
                    headers[nh].value = af->value.ptr;
                    headers[nh].len = af->value.len;
                    break;
                case LS_VALUE_INT:
                    headers[nh].len = (size_t)snprintf(values[nh], sizeof(values[nh]), "%lld",
                                                       (long long)af->value.v.i);
                    headers[nh].value = values[nh];
                    break;
                case LS_VALUE_DOUBLE:
                    headers[nh].len =
                        (size_t)snprintf(values[nh], sizeof(values[nh]), "%.17g", af->value.v.d);
                    headers[nh].value = values[nh];
                    break;
                case LS_VALUE_BOOL:
                    headers[nh].value = af->value.v.b ? "true" : "false";
                    headers[nh].len = af->value.v.b ? 4 : 5;
                    break;
                default:
                    headers[nh].value = NULL;
                    headers[nh].len = 0;
                }
                nh++;
            }
        }
    }
    delivery_t *d = ls_malloc(sizeof(*d));
    d->kw = k;
    d->ticket = host->hold(ctx, rec);
    ls_error_t err;
    if (ls_kafka_produce(k->env->kafka, k->topic, -1, key, key_len, rec->value, rec->value_len,
                         nh ? headers : NULL, nh, on_delivered, d, &err) != LS_ERR_OK) {
        host->release(ctx, d->ticket, true, NULL); /* nothing was written: no failure */
        free(d);
        if (err.code == LS_ERR_UNAVAILABLE)
            return LS_VERDICT_RETRY;
        host->fail(ctx, NULL, "%s", err.message);
        return LS_VERDICT_ERROR;
    }
    return LS_VERDICT_PASS;
}

static void kw_destroy(void *state)
{
    kw_t *k = state;
    if (k == NULL)
        return;
    free(k->topic);
    free(k);
}

static const ls_processor_param_t kw_params[] = {
    {.name = "topic",
     .type = LS_PARAM_STRING,
     .required = true,
     .description = "destination topic (must exist)"},
    {.name = "key_field",
     .type = LS_PARAM_STRING,
     .description = "field whose value becomes the message key (default: the input key)"},
    {.name = "annotation_headers",
     .type = LS_PARAM_BOOL,
     .default_json = "true",
     .description = "carry annotations as headers lakestream.ann.<name>.<key>"},
};

const ls_processor_plugin_t ls_proc_kafka_writer = {
    .abi_version = LS_PROCESSOR_ABI_VERSION,
    .name = "kafka_writer",
    .description = "Write records (original bytes) to a Kafka topic; offsets commit after delivery",
    .flags = LS_PROCESSOR_WRITER,
    .params = kw_params,
    .param_count = sizeof(kw_params) / sizeof(kw_params[0]),
    .init = kw_init,
    .process = kw_process,
    .destroy = kw_destroy,
};
