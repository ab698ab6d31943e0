/*
 * Parsing Canonical Form writer and CRC-64-AVRO. Names, symbols and type
 * keywords are restricted by the parser to [A-Za-z0-9_.], so the [STRINGS]
 * rule needs no escaping here; integers are printed with %zu ([INTEGERS]).
 */
#include "registry/canonical.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"

typedef struct {
    char *buf;
    size_t len, cap;
    const ls_avro_node_t **seen;
    size_t seen_count, seen_cap;
} pcf_t;

static void put(pcf_t *w, const char *s)
{
    size_t n = strlen(s);
    if (w->len + n + 1 > w->cap) {
        w->cap = (w->len + n + 1) * 2;
        w->buf = ls_realloc(w->buf, w->cap);
    }
    memcpy(w->buf + w->len, s, n + 1);
    w->len += n;
}

static void put_str(pcf_t *w, const char *s)
{
    put(w, "\"");
    put(w, s);
    put(w, "\"");
}

static bool seen_before(pcf_t *w, const ls_avro_node_t *n)
{
    for (size_t i = 0; i < w->seen_count; i++)
        if (w->seen[i] == n)
            return true;
    if (w->seen_count == w->seen_cap) {
        w->seen_cap = w->seen_cap ? w->seen_cap * 2 : 16;
        w->seen = ls_realloc(w->seen, w->seen_cap * sizeof(*w->seen));
    }
    w->seen[w->seen_count++] = n;
    return false;
}

static void write_node(pcf_t *w, const ls_avro_node_t *n)
{
    char num[32];
    switch (n->type) {
    case LS_AVRO_NULL:
    case LS_AVRO_BOOLEAN:
    case LS_AVRO_INT:
    case LS_AVRO_LONG:
    case LS_AVRO_FLOAT:
    case LS_AVRO_DOUBLE:
    case LS_AVRO_BYTES:
    case LS_AVRO_STRING:
        put_str(w, ls_avro_type_name(n->type));
        return;
    case LS_AVRO_UNION:
        put(w, "[");
        for (size_t i = 0; i < n->branch_count; i++) {
            if (i)
                put(w, ",");
            write_node(w, n->branches[i]);
        }
        put(w, "]");
        return;
    case LS_AVRO_ARRAY:
    case LS_AVRO_MAP:
        put(w, n->type == LS_AVRO_ARRAY ? "{\"type\":\"array\",\"items\":"
                                        : "{\"type\":\"map\",\"values\":");
        write_node(w, n->items);
        put(w, "}");
        return;
    case LS_AVRO_RECORD:
    case LS_AVRO_ENUM:
    case LS_AVRO_FIXED:
        break;
    }
    if (seen_before(w, n)) {
        put_str(w, n->fullname);
        return;
    }
    put(w, "{\"name\":");
    put_str(w, n->fullname);
    put(w, ",\"type\":");
    put_str(w, ls_avro_type_name(n->type));
    if (n->type == LS_AVRO_RECORD) {
        put(w, ",\"fields\":[");
        for (size_t i = 0; i < n->field_count; i++) {
            put(w, i ? ",{\"name\":" : "{\"name\":");
            put_str(w, n->fields[i].name);
            put(w, ",\"type\":");
            write_node(w, n->fields[i].type);
            put(w, "}");
        }
        put(w, "]}");
    } else if (n->type == LS_AVRO_ENUM) {
        put(w, ",\"symbols\":[");
        for (size_t i = 0; i < n->symbol_count; i++) {
            if (i)
                put(w, ",");
            put_str(w, n->symbols[i]);
        }
        put(w, "]}");
    } else {
        snprintf(num, sizeof(num), ",\"size\":%zu}", n->size);
        put(w, num);
    }
}

char *ls_registry_canonical_form(const ls_avro_node_t *node)
{
    pcf_t w = {0};
    put(&w, "");
    write_node(&w, node);
    free(w.seen);
    return w.buf;
}

#define CRC64_AVRO_EMPTY 0xc15d213aa4d7a795ULL

uint64_t ls_registry_fingerprint64(const void *data, size_t len)
{
    /* The table is a pure function of the polynomial; computing it on every
     * call costs ~2k operations and keeps this free of shared state. */
    uint64_t table[256];
    for (int i = 0; i < 256; i++) {
        uint64_t fp = (uint64_t)i;
        for (int j = 0; j < 8; j++)
            fp = (fp >> 1) ^ (CRC64_AVRO_EMPTY & (0 - (fp & 1)));
        table[i] = fp;
    }
    uint64_t fp = CRC64_AVRO_EMPTY;
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++)
        fp = (fp >> 8) ^ table[(fp ^ p[i]) & 0xff];
    return fp;
}

ls_err_t ls_registry_canonical_from_text(const char *text, size_t len, char **canonical,
                                         uint64_t *fingerprint, ls_error_t *err)
{
    ls_avro_schema_t *schema;
    ls_err_t rc = ls_avro_schema_parse(text, len, NULL, &schema, err);
    if (rc)
        return rc;
    char *pcf = ls_registry_canonical_form(ls_avro_schema_root(schema));
    if (fingerprint)
        *fingerprint = ls_registry_fingerprint64(pcf, strlen(pcf));
    if (canonical)
        *canonical = pcf;
    else
        free(pcf);
    ls_avro_schema_free(schema);
    return LS_ERR_OK;
}
