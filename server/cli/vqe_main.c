/*
 * lakestream-vqe: publishes synthetic VQE simulation results
 * (VQEDecoratedResult, features/vqe_generator) to Kafka the way the
 * reference simulator does: the schema is registered under {topic}-value in
 * a Confluent-compatible schema registry (lakestreamd's own), and each record
 * is framed as 0x00 + 4-byte schema id + Avro binary.
 *
 *   lakestream-vqe --bootstrap HOST:PORT --registry http://HOST:PORT
 *                  [--schema-version 1|2] [--topic NAME] [--count N] [--seed S]
 *                  [--molecule H2|LiH|BeH2|H2O] [--basis-set B] [--optimizer O]
 *                  [--iterations N] [--experiment-id ID]
 *
 * A command-line tool, not the server: the one registration request is a
 * plain blocking libcurl call before the loop starts; producing runs on a
 * libuv loop through the same Kafka layer as lakestreamd. Exit 0 when every
 * record was acknowledged by the broker.
 */
#include <curl/curl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avro/binary.h"
#include "avro/decoder.h"
#include "avro/framing.h"
#include "avro/schema.h"
#include "core/buf.h"
#include "core/embedded.h"
#include "features/vqe_generator.h"
#include "kafka/kafka.h"

typedef struct {
    const char *bootstrap, *registry, *topic, *molecule, *basis, *optimizer, *experiment;
    int version, count, iterations;
    uint64_t seed;
} options_t;

typedef struct {
    int pending, delivered, failed;
    ls_kafka_t *k;
    bool closing;
} state_t;

static void usage(void)
{
    fprintf(stderr,
            "usage: lakestream-vqe --bootstrap HOST:PORT --registry http://HOST:PORT\n"
            "         [--schema-version 1|2] [--topic NAME] [--count N] [--seed S]\n"
            "         [--molecule H2|LiH|BeH2|H2O] [--basis-set sto-3g|6-31g|cc-pvdz]\n"
            "         [--optimizer L-BFGS-B|COBYLA|SLSQP] [--iterations N] [--experiment-id ID]\n");
}

static size_t collect(char *data, size_t size, size_t n, void *arg)
{
    ls_buf_append(arg, data, size * n);
    return size * n;
}

/* Registers the schema text under subject; returns the id or -1. */
static int32_t register_schema(const char *registry, const char *subject, const char *schema_text)
{
    json_t *body = json_pack("{s:s}", "schema", schema_text);
    char *payload = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    char *url = NULL;
    CURL *curl = curl_easy_init();
    char *escaped = curl_easy_escape(curl, subject, 0);
    size_t ulen = strlen(registry) + strlen(escaped) + 32;
    url = malloc(ulen);
    snprintf(url, ulen, "%s/subjects/%s/versions", registry, escaped);
    ls_buf_t response = LS_BUF_INIT;
    struct curl_slist *headers =
        curl_slist_append(NULL, "Content-Type: application/vnd.schemaregistry.v1+json");
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, payload);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
    /* Blocking is fine here: a CLI before its loop starts, not the server. */
    CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    int32_t id = -1;
    if (rc != CURLE_OK) {
        fprintf(stderr, "lakestream-vqe: registry %s: %s\n", url, curl_easy_strerror(rc));
    } else {
        json_t *answer = json_loads(response.data ? response.data : "", 0, NULL);
        json_t *jid = json_object_get(answer, "id");
        if (status == 200 && json_is_integer(jid) && json_integer_value(jid) >= 0 &&
            json_integer_value(jid) <= INT32_MAX)
            id = (int32_t)json_integer_value(jid);
        else
            fprintf(stderr, "lakestream-vqe: registry answered %ld: %s\n", status,
                    response.data ? response.data : "");
        json_decref(answer);
    }
    curl_slist_free_all(headers);
    curl_free(escaped);
    curl_easy_cleanup(curl);
    ls_buf_free(&response);
    free(url);
    free(payload);
    return id;
}

static void on_closed(void *arg)
{
}

static void maybe_close(state_t *s)
{
    if (s->pending == 0 && !s->closing) {
        s->closing = true;
        ls_kafka_close(s->k, on_closed, s);
    }
}

static void on_delivered(void *arg, int32_t partition, int64_t offset, const ls_error_t *err)
{
    state_t *s = arg;
    s->pending--;
    if (err->code == LS_ERR_OK) {
        s->delivered++;
    } else {
        s->failed++;
        fprintf(stderr, "lakestream-vqe: delivery failed: %s\n", err->message);
    }
    maybe_close(s);
}

static int parse_args(int argc, char **argv, options_t *o)
{
    *o = (options_t){.version = 1, .count = 10, .seed = 1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v == NULL)
            return -1;
        if (strcmp(a, "--bootstrap") == 0)
            o->bootstrap = v;
        else if (strcmp(a, "--registry") == 0)
            o->registry = v;
        else if (strcmp(a, "--topic") == 0)
            o->topic = v;
        else if (strcmp(a, "--schema-version") == 0)
            o->version = atoi(v);
        else if (strcmp(a, "--count") == 0)
            o->count = atoi(v);
        else if (strcmp(a, "--seed") == 0)
            o->seed = strtoull(v, NULL, 10);
        else if (strcmp(a, "--molecule") == 0)
            o->molecule = v;
        else if (strcmp(a, "--basis-set") == 0)
            o->basis = v;
        else if (strcmp(a, "--optimizer") == 0)
            o->optimizer = v;
        else if (strcmp(a, "--iterations") == 0)
            o->iterations = atoi(v);
        else if (strcmp(a, "--experiment-id") == 0)
            o->experiment = v;
        else
            return -1;
        i++;
    }
    if (o->bootstrap == NULL || o->registry == NULL || (o->version != 1 && o->version != 2) ||
        o->count < 0 || o->iterations < 0)
        return -1;
    return 0;
}

int main(int argc, char **argv)
{
    options_t o;
    if (parse_args(argc, argv, &o) != 0) {
        usage();
        return 2;
    }
    char topic[64];
    snprintf(topic, sizeof(topic), "vqe_decorated_result_v%d", o.version);
    if (o.topic == NULL)
        o.topic = topic;
    const ls_embedded_file_t *f =
        ls_embedded_find(o.version == 1 ? "schemas/avro/vqe_decorated_result.avsc"
                                        : "schemas/avro/vqe_decorated_result.v2.avsc");
    ls_error_t err;
    ls_avro_schema_t *schema = NULL;
    if (f == NULL ||
        ls_avro_schema_parse((const char *)f->data, f->len, NULL, &schema, &err) != LS_ERR_OK) {
        fprintf(stderr, "lakestream-vqe: built-in schema unusable\n");
        return 1;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    char subject[300];
    snprintf(subject, sizeof(subject), "%s-value", o.topic);
    int32_t id = register_schema(o.registry, subject, (const char *)f->data);
    if (id < 0) {
        ls_avro_schema_free(schema);
        curl_global_cleanup();
        return 1;
    }

    uv_loop_t loop;
    uv_loop_init(&loop);
    ls_kafka_config_t kc = {.bootstrap = o.bootstrap, .client_id = "lakestream-vqe"};
    state_t s = {0};
    if (ls_kafka_open(&loop, &kc, &s.k, &err) != LS_ERR_OK) {
        fprintf(stderr, "lakestream-vqe: %s\n", err.message);
        return 1;
    }
    ls_vqe_rng_t rng;
    ls_vqe_rng_seed(&rng, o.seed);
    size_t bytes = 0;
    for (int i = 0; i < o.count; i++) {
        ls_vqe_params_t p = {.molecule = o.molecule,
                             .basis_set = o.basis,
                             .optimizer = o.optimizer,
                             .iterations = o.iterations,
                             .molecule_id = i,
                             .schema_version = o.version,
                             .experiment_id = o.experiment};
        json_t *record = ls_vqe_generate(&p, &rng, &err);
        ls_avro_buf_t body = {0};
        if (record == NULL ||
            ls_avro_encode_json(ls_avro_schema_root(schema), record, &body, &err) != LS_ERR_OK) {
            fprintf(stderr, "lakestream-vqe: %s\n", err.message);
            json_decref(record);
            ls_avro_buf_free(&body);
            s.failed++;
            break;
        }
        size_t framed_len;
        uint8_t *framed = ls_avro_frame_encode(id, body.data, body.len, &framed_len);
        char key[32];
        snprintf(key, sizeof(key), "%d", i);
        if (ls_kafka_produce(s.k, o.topic, -1, key, strlen(key), framed, framed_len, NULL, 0,
                             on_delivered, &s, &err) == LS_ERR_OK) {
            s.pending++;
            bytes += framed_len;
        } else {
            fprintf(stderr, "lakestream-vqe: produce: %s\n", err.message);
            s.failed++;
        }
        free(framed);
        ls_avro_buf_free(&body);
        json_decref(record);
    }
    maybe_close(&s);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    ls_avro_schema_free(schema);
    curl_global_cleanup();
    printf("{\"topic\":\"%s\",\"schema_id\":%d,\"delivered\":%d,\"failed\":%d,\"bytes\":%zu}\n",
           o.topic, id, s.delivered, s.failed, bytes);
    return s.failed == 0 && s.delivered == o.count ? 0 : 1;
}
