/*
 * Test driver for the registry's decode-by-id path, used by
 * tests/e2e/registry_kafkajs.test.mjs: it runs the real service
 * (registry/registry.h) on a libuv loop against the server's database, so
 * schemas are found with ls_registry_schema_get (an async PostgreSQL lookup
 * on a miss, the cache after that) exactly as in-process decoders will.
 *   registry_decode decode PG_DSN          hex Confluent-framed lines in -> JSON lines out
 *   registry_decode encode PG_DSN ID       JSON lines in -> hex framed lines out
 * A line that cannot be handled gives {"error": "..."} and the next line
 * goes on. Exit status 1 when the database cannot be reached or the loop
 * does not close cleanly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "avro/binary.h"
#include "avro/decoder.h"
#include "avro/framing.h"
#include "core/alloc.h"
#include "registry/registry.h"
#include "store/pg.h"

typedef struct {
    uv_loop_t loop;
    uv_timer_t timer;
    ls_pg_t *pg;
    ls_registry_t *registry;
    bool encode;
    int32_t encode_id;
    char **lines;
    size_t count, next;
    bool pending, driving;
    uint8_t *frame; /* the current decoded line */
    size_t frame_len;
    int waited_ms;
    int status;
} tool_t;

static void print_error(const char *fmt, const char *detail)
{
    json_t *e = json_object();
    char msg[700];
    snprintf(msg, sizeof(msg), fmt, detail);
    json_object_set_new(e, "error", json_string(msg));
    char *s = json_dumps(e, JSON_COMPACT);
    printf("%s\n", s);
    free(s);
    json_decref(e);
}

static void drive(tool_t *t);

static void on_schema(void *arg, ls_registry_schema_t *schema, const ls_registry_error_t *err)
{
    tool_t *t = arg;
    t->pending = false;
    if (err->error_code != 0) {
        print_error("%s", err->error.message);
    } else if (t->encode) {
        const ls_avro_node_t *root = ls_avro_schema_root(ls_registry_schema_avro(schema));
        json_error_t jerr;
        json_t *value = json_loads(t->lines[t->next - 1], JSON_DECODE_ANY, &jerr);
        ls_avro_buf_t body = {0};
        ls_error_t e;
        if (value == NULL) {
            print_error("bad JSON line: %s", jerr.text);
        } else if (ls_avro_encode_json(root, value, &body, &e) != LS_ERR_OK) {
            print_error("%s", e.message);
        } else {
            size_t n;
            uint8_t *framed = ls_avro_frame_encode(t->encode_id, body.data, body.len, &n);
            for (size_t i = 0; i < n; i++)
                printf("%02x", framed[i]);
            printf("\n");
            free(framed);
        }
        json_decref(value);
        ls_avro_buf_free(&body);
    } else {
        const ls_avro_node_t *root = ls_avro_schema_root(ls_registry_schema_avro(schema));
        int32_t id;
        const uint8_t *body;
        size_t len;
        ls_error_t e;
        ls_avro_json_decoder_t *d = NULL;
        json_t *out = NULL;
        ls_avro_frame_decode(t->frame, t->frame_len, &id, &body, &len, &e);
        if (ls_avro_json_decoder_new(root, NULL, &d, &e) != LS_ERR_OK ||
            ls_avro_json_decode(d, body, len, &out, &e) != LS_ERR_OK) {
            print_error("%s", e.message);
        } else {
            char *s = json_dumps(out, JSON_COMPACT | JSON_ENCODE_ANY);
            printf("%s\n", s);
            free(s);
        }
        json_decref(out);
        ls_avro_json_decoder_free(d);
    }
    if (!t->driving)
        drive(t);
}

static void on_pg_closed(void *arg)
{
    (void)arg;
}

static void finish(tool_t *t)
{
    fflush(stdout);
    ls_pg_close(t->pg, on_pg_closed, t);
    uv_close((uv_handle_t *)&t->timer, NULL);
}

static bool unhex(const char *line, uint8_t **out, size_t *len)
{
    size_t n = strlen(line);
    if (n % 2 != 0)
        return false;
    *out = ls_malloc(n / 2 + 1);
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        if (sscanf(line + 2 * i, "%2x", &v) != 1) {
            free(*out);
            return false;
        }
        (*out)[i] = (uint8_t)v;
    }
    *len = n / 2;
    return true;
}

/* One line after the other; a cache hit calls back before
 * ls_registry_schema_get returns, so loop instead of recursing. */
static void drive(tool_t *t)
{
    t->driving = true;
    while (t->next < t->count) {
        const char *line = t->lines[t->next++];
        int32_t id = t->encode_id;
        free(t->frame);
        t->frame = NULL;
        if (!t->encode) {
            const uint8_t *body;
            size_t len;
            ls_error_t e;
            if (!unhex(line, &t->frame, &t->frame_len)) {
                print_error("%s", "not a hex line");
                continue;
            }
            if (ls_avro_frame_decode(t->frame, t->frame_len, &id, &body, &len, &e) != LS_ERR_OK) {
                print_error("%s", e.message);
                continue;
            }
        }
        ls_registry_error_t err;
        t->pending = true;
        if (ls_registry_schema_get(t->registry, id, on_schema, t, &err) != LS_ERR_OK) {
            t->pending = false;
            print_error("%s", err.error.message);
            continue;
        }
        if (t->pending) {
            t->driving = false;
            return;
        }
    }
    t->driving = false;
    free(t->frame);
    t->frame = NULL;
    finish(t);
}

static void on_timer(uv_timer_t *timer)
{
    tool_t *t = timer->data;
    if (ls_pg_is_up(t->pg)) {
        uv_timer_stop(timer);
        drive(t);
        return;
    }
    t->waited_ms += 20;
    if (t->waited_ms > 10000) {
        fprintf(stderr, "PostgreSQL did not come up\n");
        t->status = 1;
        uv_timer_stop(timer);
        finish(t);
    }
}

int main(int argc, char **argv)
{
    tool_t t = {0};
    if (argc < 3 || (strcmp(argv[1], "decode") != 0 && strcmp(argv[1], "encode") != 0) ||
        (strcmp(argv[1], "encode") == 0 && argc != 4)) {
        fprintf(stderr, "usage: see the comment at the top of tests/tools/registry_decode.c\n");
        return 2;
    }
    t.encode = strcmp(argv[1], "encode") == 0;
    if (t.encode)
        t.encode_id = atoi(argv[3]);
    size_t cap = 0;
    char *line = NULL;
    size_t lcap = 0;
    ssize_t n;
    while ((n = getline(&line, &lcap, stdin)) >= 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n == 0)
            continue;
        if (t.count == cap) {
            cap = cap ? cap * 2 : 64;
            t.lines = ls_realloc(t.lines, cap * sizeof(char *));
        }
        t.lines[t.count++] = ls_strdup(line);
    }
    free(line);

    uv_loop_init(&t.loop);
    ls_pg_config_t pgc = {.dsn = argv[2], .pool_size = 1};
    ls_error_t err;
    if (ls_pg_open(&t.loop, &pgc, &t.pg, &err) != LS_ERR_OK) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    t.registry = ls_registry_new(t.pg);
    ls_registry_set_ready(t.registry); /* the server under test migrated the database */
    uv_timer_init(&t.loop, &t.timer);
    t.timer.data = &t;
    uv_timer_start(&t.timer, on_timer, 0, 20);
    uv_run(&t.loop, UV_RUN_DEFAULT);
    ls_registry_free(t.registry);
    for (size_t i = 0; i < t.count; i++)
        free(t.lines[i]);
    free(t.lines);
    if (uv_loop_close(&t.loop) != 0) {
        fprintf(stderr, "the loop did not close cleanly\n");
        return 1;
    }
    return t.status;
}
