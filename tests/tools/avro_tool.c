/*
 * Test driver for the Avro runtime, used by tests/e2e/avro_interop.test.mjs to
 * check our decoder, encoder and container files against an independent
 * implementation (npm avsc). Reads and writes lines on stdin/stdout:
 *   avro_tool decode WRITER.avsc [READER.avsc]   hex lines in  -> JSON lines out
 *   avro_tool extract WRITER.avsc PATH...         hex lines in  -> JSON array of slot values out
 *   avro_tool sample SCHEMA.avsc COUNT SEED        -> "JSON<TAB>HEX" lines (our encoder)
 *   avro_tool container-write SCHEMA.avsc CODEC OUT COUNT SEED -> writes OUT, prints the records as
 * JSON lines avro_tool container-read FILE                  -> the file's records as JSON lines
 * Exit status 1 with the error on stderr when anything fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avro/container.h"
#include "avro/decoder.h"
#include "avro/sample.h"
#include "core/alloc.h"

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = ls_malloc((size_t)n + 1);
    if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(1);
    }
    buf[n] = 0;
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static ls_avro_schema_t *load_schema(const char *path)
{
    size_t len;
    char *text = read_file(path, &len);
    ls_avro_schema_t *s;
    ls_error_t err;
    if (ls_avro_schema_parse(text, len, NULL, &s, &err) != LS_ERR_OK) {
        fprintf(stderr, "%s: %s\n", path, err.message);
        exit(1);
    }
    free(text);
    return s;
}

static void die(const ls_error_t *err)
{
    fprintf(stderr, "error: %s\n", err->message);
    exit(1);
}

static size_t unhex(const char *line, uint8_t *out)
{
    size_t n = 0;
    for (const char *p = line; p[0] && p[1] && p[0] != '\n'; p += 2) {
        unsigned v;
        sscanf(p, "%2x", &v);
        out[n++] = (uint8_t)v;
    }
    return n;
}

static void print_hex(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        printf("%02x", p[i]);
}

static void print_json(json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    printf("%s\n", s);
    free(s);
}

static json_t *slot_json(const ls_avro_slot_t *s)
{
    switch (s->kind) {
    case LS_AVRO_SLOT_NULL:
        return json_null();
    case LS_AVRO_SLOT_BOOLEAN:
        return json_boolean(s->v.b);
    case LS_AVRO_SLOT_INT:
    case LS_AVRO_SLOT_LONG:
        return json_integer(s->v.i);
    case LS_AVRO_SLOT_FLOAT:
    case LS_AVRO_SLOT_DOUBLE:
        return json_real(s->v.d);
    case LS_AVRO_SLOT_STRING:
    case LS_AVRO_SLOT_ENUM:
        return json_stringn((const char *)s->bytes.ptr, s->bytes.len);
    case LS_AVRO_SLOT_BYTES: {
        json_t *a = json_array();
        for (size_t i = 0; i < s->bytes.len; i++)
            json_array_append_new(a, json_integer(s->bytes.ptr[i]));
        return a;
    }
    }
    return json_null();
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: see the comment at the top of tests/tools/avro_tool.c\n");
        return 2;
    }
    const char *cmd = argv[1];
    ls_error_t err;
    static char line[64 * 1024 * 1024];
    if (strcmp(cmd, "decode") == 0 || strcmp(cmd, "extract") == 0) {
        ls_avro_schema_t *w = load_schema(argv[2]);
        ls_avro_schema_t *r = strcmp(cmd, "decode") == 0 && argc > 3 ? load_schema(argv[3]) : NULL;
        ls_avro_json_decoder_t *d = NULL;
        ls_avro_extractor_t *x = NULL;
        size_t nslots = 0;
        if (strcmp(cmd, "decode") == 0) {
            if (ls_avro_json_decoder_new(ls_avro_schema_root(w), r ? ls_avro_schema_root(r) : NULL,
                                         &d, &err))
                die(&err);
        } else {
            nslots = (size_t)(argc - 3);
            if (ls_avro_extractor_compile(ls_avro_schema_root(w), NULL,
                                          (const char *const *)argv + 3, nslots, &x, &err))
                die(&err);
        }
        uint8_t *buf = ls_malloc(sizeof(line) / 2 + 1);
        ls_avro_slot_t *slots = ls_calloc(nslots + 1, sizeof(*slots));
        while (fgets(line, sizeof(line), stdin)) {
            size_t n = unhex(line, buf);
            if (d) {
                json_t *v;
                if (ls_avro_json_decode(d, buf, n, &v, &err))
                    die(&err);
                print_json(v);
                json_decref(v);
            } else {
                if (ls_avro_extractor_run(x, buf, n, slots, &err))
                    die(&err);
                json_t *a = json_array();
                for (size_t i = 0; i < nslots; i++)
                    json_array_append_new(a, slot_json(&slots[i]));
                print_json(a);
                json_decref(a);
            }
        }
        free(buf);
        free(slots);
        ls_avro_json_decoder_free(d);
        ls_avro_extractor_free(x);
        ls_avro_schema_free(w);
        ls_avro_schema_free(r);
        return 0;
    }
    if (strcmp(cmd, "sample") == 0 && argc == 5) {
        ls_avro_schema_t *s = load_schema(argv[2]);
        long count = atol(argv[3]), seed = atol(argv[4]);
        for (long i = 0; i < count; i++) {
            ls_avro_sample_options_t o = {.seed = (uint64_t)(seed + i),
                                          .array_items = (size_t)(i % 4),
                                          .bytes_length = 64,
                                          .null_ratio = 0.3};
            json_t *v = ls_avro_sample_value(ls_avro_schema_root(s), &o);
            ls_avro_buf_t b = {0};
            if (ls_avro_encode_json(ls_avro_schema_root(s), v, &b, &err))
                die(&err);
            char *js = json_dumps(v, JSON_COMPACT);
            printf("%s\t", js);
            print_hex(b.data, b.len);
            printf("\n");
            free(js);
            ls_avro_buf_free(&b);
            json_decref(v);
        }
        ls_avro_schema_free(s);
        return 0;
    }
    if (strcmp(cmd, "container-write") == 0 && argc == 7) {
        ls_avro_schema_t *s = load_schema(argv[2]);
        ls_avro_codec_t codec;
        if (ls_avro_codec_parse(argv[3], strlen(argv[3]), &codec, &err))
            die(&err);
        ls_avro_container_writer_t *w;
        if (ls_avro_container_writer_new(
                s, &(ls_avro_container_options_t){.codec = codec, .block_bytes = 4096}, &w, &err))
            die(&err);
        long count = atol(argv[5]), seed = atol(argv[6]);
        for (long i = 0; i < count; i++) {
            ls_avro_sample_options_t o = {
                .seed = (uint64_t)(seed + i), .array_items = 2, .null_ratio = 0.3};
            json_t *v = ls_avro_sample_value(ls_avro_schema_root(s), &o);
            if (ls_avro_container_writer_append_json(w, v, &err))
                die(&err);
            print_json(v);
            json_decref(v);
        }
        uint8_t *data;
        size_t len;
        if (ls_avro_container_writer_finish(w, &data, &len, &err))
            die(&err);
        FILE *f = fopen(argv[4], "wb");
        if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
            fprintf(stderr, "cannot write %s\n", argv[4]);
            return 1;
        }
        free(data);
        ls_avro_schema_free(s);
        return 0;
    }
    if (strcmp(cmd, "container-read") == 0) {
        size_t len;
        char *data = read_file(argv[2], &len);
        ls_avro_container_reader_t *r;
        if (ls_avro_container_reader_open((const uint8_t *)data, len, NULL, &r, &err))
            die(&err);
        ls_avro_json_decoder_t *d;
        if (ls_avro_json_decoder_new(ls_avro_schema_root(ls_avro_container_reader_schema(r)), NULL,
                                     &d, &err))
            die(&err);
        for (;;) {
            const uint8_t *rec;
            size_t rl;
            if (ls_avro_container_reader_next(r, &rec, &rl, &err))
                die(&err);
            if (!rec)
                break;
            json_t *v;
            if (ls_avro_json_decode(d, rec, rl, &v, &err))
                die(&err);
            print_json(v);
            json_decref(v);
        }
        ls_avro_json_decoder_free(d);
        ls_avro_container_reader_free(r);
        free(data);
        return 0;
    }
    fprintf(stderr, "unknown command %s\n", cmd);
    return 2;
}
