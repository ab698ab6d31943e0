/*
 * Sample value generator (see sample.h). Uses splitmix64 so values depend on
 * the seed only; floats are drawn so that they survive a float round trip
 * exactly (multiples of 1/1024 in a small range), which lets tests compare
 * decoded values with ==.
 */
#include "avro/sample.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"

typedef struct {
    uint64_t state;
    ls_avro_sample_options_t o;
} gen_t;

static uint64_t next(gen_t *g)
{
    uint64_t z = (g->state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static double unit(gen_t *g)
{
    return (double)(next(g) >> 11) / 9007199254740992.0;
}

static json_t *gen(gen_t *g, const ls_avro_node_t *n, int depth)
{
    char buf[64];
    if (depth > 48) /* a recursive type without a way out has no finite value */
        return json_null();
    switch (n->type) {
    case LS_AVRO_NULL:
        return json_null();
    case LS_AVRO_BOOLEAN:
        return json_boolean(next(g) & 1);
    case LS_AVRO_INT:
        return json_integer((json_int_t)(int32_t)next(g) / 4);
    case LS_AVRO_LONG:
        /* within +-2^51 so JavaScript clients (avsc) read longs exactly */
        return json_integer((json_int_t)(next(g) >> 12) - (json_int_t)(1ULL << 51));
    case LS_AVRO_FLOAT:
        return json_real((double)((int64_t)(next(g) % 2000000) - 1000000) / 1024.0);
    case LS_AVRO_DOUBLE:
        return json_real((unit(g) - 0.5) * 720.0);
    case LS_AVRO_STRING: {
        size_t len = 3 + next(g) % 12;
        for (size_t i = 0; i < len; i++)
            buf[i] = (char)('a' + next(g) % 26);
        if (len > 4 && (next(g) & 3) == 0) {
            memcpy(buf + 1, "\xc3\xa9", 2); /* some non-ASCII UTF-8 */
        }
        return json_stringn(buf, len);
    }
    case LS_AVRO_BYTES:
    case LS_AVRO_FIXED: {
        size_t len =
            n->type == LS_AVRO_FIXED ? n->size : (g->o.bytes_length ? g->o.bytes_length : 8);
        char *s = ls_malloc(len * 2 + 1);
        size_t k = 0;
        for (size_t i = 0; i < len; i++) {
            unsigned b = (unsigned)(next(g) & 0xff);
            if (b < 0x80) {
                s[k++] = (char)b;
            } else {
                s[k++] = (char)(0xC0 | (b >> 6));
                s[k++] = (char)(0x80 | (b & 0x3F));
            }
        }
        json_t *j = json_stringn_nocheck(s, k);
        free(s);
        return j;
    }
    case LS_AVRO_ENUM:
        return json_string(n->symbols[next(g) % (n->symbol_count ? n->symbol_count : 1)]);
    case LS_AVRO_ARRAY:
    case LS_AVRO_MAP: {
        size_t count = depth > 6 ? 0 : (g->o.array_items ? g->o.array_items : 3);
        json_t *c = n->type == LS_AVRO_ARRAY ? json_array() : json_object();
        for (size_t i = 0; i < count; i++) {
            json_t *v = gen(g, n->items, depth + 1);
            if (n->type == LS_AVRO_ARRAY) {
                json_array_append_new(c, v);
            } else {
                snprintf(buf, sizeof(buf), "k%zu", i);
                json_object_set_new(c, buf, v);
            }
        }
        return c;
    }
    case LS_AVRO_RECORD: {
        json_t *o = json_object();
        for (size_t i = 0; i < n->field_count; i++)
            json_object_set_new(o, n->fields[i].name, gen(g, n->fields[i].type, depth + 1));
        return o;
    }
    case LS_AVRO_UNION: {
        if (!n->branch_count)
            return json_null();
        int null_branch = -1;
        for (size_t i = 0; i < n->branch_count; i++)
            if (n->branches[i]->type == LS_AVRO_NULL)
                null_branch = (int)i;
        if (null_branch >= 0 && (depth > 6 || unit(g) < g->o.null_ratio))
            return json_null();
        size_t pick = next(g) % n->branch_count;
        if ((int)pick == null_branch && n->branch_count > 1)
            pick = (pick + 1) % n->branch_count;
        return gen(g, n->branches[pick], depth + 1);
    }
    }
    return json_null();
}

json_t *ls_avro_sample_value(const ls_avro_node_t *node, const ls_avro_sample_options_t *options)
{
    gen_t g = {0};
    if (options)
        g.o = *options;
    g.state = g.o.seed;
    return gen(&g, node, 0);
}
