/*
 * Avro binary decoding (compiled extractor, full JSON decode) and encoding.
 *
 * The extractor flattens the writer schema into a list of ops: nested records
 * are inlined, and consecutive scalars (nullable or not) become one "run" op
 * skipped in a tight loop, so only wanted values, unions, arrays and maps cost
 * a dispatch. A record body is then one pass over the ops with no allocation
 * and no schema lookups. Loop work is bounded by the input size: every
 * array/map item must consume input or be paid for from a per-run budget of
 * empty items.
 */
#include "avro/decoder.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "registry/compat.h"

/* Data nesting bound for recursive schemas (a linked list in a record). */
#define MAX_DATA_DEPTH 256

static ls_err_t bad(ls_error_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static ls_err_t bad(ls_error_t *err, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "invalid Avro data: %s", msg);
}

#define TRUNCATED(err) bad(err, "truncated input")

/* ---- shared helpers ---- */

/* The reader union branch that reads writer type w: first an exact match
 * (same type, same name for named types), then a promotion. */
static const ls_avro_node_t *match_branch(const ls_avro_node_t *ru, const ls_avro_node_t *w)
{
    for (size_t i = 0; i < ru->branch_count; i++) {
        const ls_avro_node_t *b = ru->branches[i];
        if (b->type == w->type && (!ls_avro_type_is_named(b->type) || ls_avro_names_match(b, w)))
            return b;
    }
    for (size_t i = 0; i < ru->branch_count; i++)
        if (ls_avro_promotes(ru->branches[i]->type, w->type))
            return ru->branches[i];
    return NULL;
}

/* The reader type that reads writer type w (non-union), or NULL. */
static const ls_avro_node_t *reader_for(const ls_avro_node_t *r, const ls_avro_node_t *w)
{
    if (r->type == LS_AVRO_UNION)
        return match_branch(r, w);
    if (r->type == w->type)
        return (!ls_avro_type_is_named(r->type) || ls_avro_names_match(r, w)) ? r : NULL;
    return ls_avro_promotes(r->type, w->type) ? r : NULL;
}

static int reader_field_for(const ls_avro_node_t *r, const char *writer_name)
{
    for (size_t i = 0; i < r->field_count; i++) {
        if (strcmp(r->fields[i].name, writer_name) == 0)
            return (int)i;
    }
    for (size_t i = 0; i < r->field_count; i++)
        for (size_t a = 0; a < r->fields[i].alias_count; a++)
            if (strcmp(r->fields[i].aliases[a], writer_name) == 0)
                return (int)i;
    return -1;
}

/* Reads an array/map block header. *count >= 0 after; a negative count is
 * followed by the block's byte size, returned in *size (else -1). */
static ls_err_t read_block(const uint8_t **p, const uint8_t *end, int64_t *count, int64_t *size,
                           ls_error_t *err)
{
    if (!ls_avro_read_long(p, end, count))
        return bad(err, "bad block count");
    *size = -1;
    if (*count < 0) {
        if (*count == INT64_MIN)
            return bad(err, "bad block count");
        *count = -*count;
        if (!ls_avro_read_long(p, end, size) || *size < 0 || *size > end - *p)
            return bad(err, "block byte size %lld is negative or beyond the remaining %zu bytes",
                       (long long)*size, (size_t)(end - *p));
    }
    return LS_ERR_OK;
}

/* Every item either consumes input or spends from the budget. */
static bool charge_item(const uint8_t *before, const uint8_t *after, uint32_t *budget)
{
    if (after > before)
        return true;
    if (*budget == 0)
        return false;
    (*budget)--;
    return true;
}

static ls_err_t read_len(const uint8_t **p, const uint8_t *end, int64_t *len, ls_error_t *err)
{
    if (!ls_avro_read_long(p, end, len))
        return bad(err, "bad length varint");
    if (*len < 0)
        return bad(err, "negative length %lld", (long long)*len);
    if (*len > end - *p)
        return bad(err, "length %lld exceeds the remaining %zu bytes", (long long)*len,
                   (size_t)(end - *p));
    return LS_ERR_OK;
}

/* ---- interpretive skip ---- */

static ls_err_t skip_value(const ls_avro_node_t *n, const uint8_t **pp, const uint8_t *end,
                           uint32_t *budget, int depth, ls_error_t *err)
{
    if (depth > MAX_DATA_DEPTH)
        return bad(err, "data nested deeper than %d levels", MAX_DATA_DEPTH);
    const uint8_t *p = *pp;
    int64_t v, len;
    ls_err_t rc;
    switch (n->type) {
    case LS_AVRO_NULL:
        return LS_ERR_OK;
    case LS_AVRO_BOOLEAN:
        if (p >= end)
            return TRUNCATED(err);
        if (*p > 1)
            return bad(err, "invalid boolean byte 0x%02x", *p);
        *pp = p + 1;
        return LS_ERR_OK;
    case LS_AVRO_INT:
    case LS_AVRO_LONG:
        if (!ls_avro_read_long(pp, end, &v))
            return bad(err, "bad varint");
        if (n->type == LS_AVRO_INT && (v < INT32_MIN || v > INT32_MAX))
            return bad(err, "int value out of range");
        return LS_ERR_OK;
    case LS_AVRO_ENUM:
        if (!ls_avro_read_long(pp, end, &v))
            return bad(err, "bad varint");
        if (v < 0 || (uint64_t)v >= n->symbol_count)
            return bad(err, "enum index %lld out of range for %s", (long long)v, n->fullname);
        return LS_ERR_OK;
    case LS_AVRO_FLOAT:
    case LS_AVRO_DOUBLE:
    case LS_AVRO_FIXED: {
        size_t sz = n->type == LS_AVRO_FLOAT ? 4 : n->type == LS_AVRO_DOUBLE ? 8 : n->size;
        if ((size_t)(end - p) < sz)
            return TRUNCATED(err);
        *pp = p + sz;
        return LS_ERR_OK;
    }
    case LS_AVRO_BYTES:
    case LS_AVRO_STRING:
        if ((rc = read_len(pp, end, &len, err)))
            return rc;
        *pp += len;
        return LS_ERR_OK;
    case LS_AVRO_RECORD:
        for (size_t i = 0; i < n->field_count; i++)
            if ((rc = skip_value(n->fields[i].type, pp, end, budget, depth + 1, err)))
                return rc;
        return LS_ERR_OK;
    case LS_AVRO_UNION:
        if (!ls_avro_read_long(pp, end, &v))
            return bad(err, "bad union index varint");
        if (v < 0 || (uint64_t)v >= n->branch_count)
            return bad(err, "union index %lld out of range (%zu branches)", (long long)v,
                       n->branch_count);
        return skip_value(n->branches[v], pp, end, budget, depth + 1, err);
    case LS_AVRO_ARRAY:
    case LS_AVRO_MAP:
        for (;;) {
            int64_t count, size;
            if ((rc = read_block(pp, end, &count, &size, err)))
                return rc;
            if (count == 0)
                return LS_ERR_OK;
            if (size >= 0) {
                *pp += size;
                continue;
            }
            for (int64_t i = 0; i < count; i++) {
                const uint8_t *before = *pp;
                if (n->type == LS_AVRO_MAP && (rc = read_len(pp, end, &len, err)))
                    return rc;
                if (n->type == LS_AVRO_MAP)
                    *pp += len;
                if ((rc = skip_value(n->items, pp, end, budget, depth + 1, err)))
                    return rc;
                if (!charge_item(before, *pp, budget))
                    return bad(err, "too many empty items");
            }
        }
    }
    return bad(err, "unknown type");
}

ls_err_t ls_avro_skip(const ls_avro_node_t *writer, const uint8_t **p, const uint8_t *end,
                      ls_error_t *err)
{
    uint32_t budget = LS_AVRO_MAX_EMPTY_ITEMS;
    return skip_value(writer, p, end, &budget, 0, err);
}

/* ---- extractor ---- */

/* OP_SKIP_BOOL..OP_SKIP_BYTES only appear as run entry kinds. */
enum {
    OP_SKIP_BOOL,
    OP_SKIP_INT,
    OP_SKIP_LONG,
    OP_SKIP_ENUM, /* a = symbol count */
    OP_SKIP_N,
    OP_SKIP_BYTES,
    OP_SKIP_RUN, /* ptr = run_entry_t[a]: consecutive simple skips, optionally nullable */
    OP_SKIP_ARRAY,
    OP_SKIP_MAP,
    OP_SKIP_NODE, /* interpretive (recursive types) */
    OP_UNION,     /* a = union table index */
    OP_READ_BOOL,
    OP_READ_INT,
    OP_READ_LONG,
    OP_READ_FLOAT,
    OP_READ_DOUBLE,
    OP_READ_BYTES,
    OP_READ_FIXED,
    OP_READ_ENUM,
    OP_FAIL,
};

typedef struct {
    uint8_t op, kind;
    uint32_t slot;
    uint32_t a;
    uint32_t n; /* arrays: fixed item width when the item is one SKIP_N, else 0 */
    const void *ptr;
} op_t;

typedef struct {
    uint32_t start, count;
} prog_t;

#define NOT_A_UNION 0xff

/* One simple value to skip in a run; null_index is the null branch (0 or 1)
 * of a two-branch union around it, or NOT_A_UNION. Runs let a flat record of
 * scalars (a ZTF candidate) be skipped by one op in a tight loop instead of
 * one dispatch per field. */
typedef struct {
    uint8_t kind; /* OP_SKIP_N, _INT, _LONG, _BYTES, _BOOL, _ENUM */
    uint8_t null_index;
    uint32_t size; /* bytes for N, symbol count for ENUM */
} run_entry_t;

typedef struct {
    int32_t index; /* reader symbol index, -1 = unreadable */
    const char *symbol;
} enum_map_t;

typedef struct {
    uint32_t first, count; /* into branch_progs */
} union_t;

struct ls_avro_extractor {
    op_t *ops;
    size_t op_count, op_cap;
    prog_t *progs;
    size_t prog_count, prog_cap;
    union_t *unions;
    size_t union_count, union_cap;
    uint32_t *branch_progs;
    size_t branch_prog_count, branch_prog_cap;
    uint32_t root;
    size_t slot_count;
    ls_avro_slot_t *init;
    void **owned; /* enum maps, decoded default bytes */
    size_t owned_count, owned_cap;
};

#define GROW(arr, count, cap)                                                                      \
    do {                                                                                           \
        if ((count) == (cap)) {                                                                    \
            (cap) = (cap) ? (cap)*2 : 16;                                                          \
            (arr) = ls_realloc((arr), (cap) * sizeof(*(arr)));                                     \
        }                                                                                          \
    } while (0)

typedef struct {
    op_t *ops;
    size_t count, cap;
} opvec_t;

static void push_op(opvec_t *v, op_t op)
{
    GROW(v->ops, v->count, v->cap);
    v->ops[v->count++] = op;
}

static void push_simple(opvec_t *v, uint8_t kind, uint8_t null_index, uint32_t size)
{
    op_t *last = v->count ? &v->ops[v->count - 1] : NULL;
    if (!last || last->op != OP_SKIP_RUN) {
        push_op(v, (op_t){.op = OP_SKIP_RUN});
        last = &v->ops[v->count - 1];
    }
    run_entry_t *ents = (run_entry_t *)last->ptr;
    if (last->a && null_index == NOT_A_UNION && kind == OP_SKIP_N &&
        ents[last->a - 1].kind == OP_SKIP_N && ents[last->a - 1].null_index == NOT_A_UNION) {
        ents[last->a - 1].size += size; /* adjacent fixed-width values: one skip */
        return;
    }
    if (last->a == last->n) {
        last->n = last->n ? last->n * 2 : 8;
        ents = ls_realloc(ents, last->n * sizeof(*ents));
        last->ptr = ents;
    }
    ents[last->a++] = (run_entry_t){kind, null_index, size};
}

static void free_vec(opvec_t *v)
{
    for (size_t i = 0; i < v->count; i++)
        if (v->ops[i].op == OP_SKIP_RUN)
            free((void *)v->ops[i].ptr);
    free(v->ops);
    memset(v, 0, sizeof(*v));
}

static uint32_t finish_prog(ls_avro_extractor_t *x, opvec_t *v)
{
    for (size_t i = 0; i < v->count; i++)
        if (v->ops[i].op == OP_SKIP_RUN) {
            GROW(x->owned, x->owned_count, x->owned_cap);
            x->owned[x->owned_count++] = (void *)v->ops[i].ptr;
        }
    GROW(x->progs, x->prog_count, x->prog_cap);
    prog_t pr = {(uint32_t)x->op_count, (uint32_t)v->count};
    for (size_t i = 0; i < v->count; i++) {
        GROW(x->ops, x->op_count, x->op_cap);
        x->ops[x->op_count++] = v->ops[i];
    }
    free(v->ops);
    memset(v, 0, sizeof(*v));
    x->progs[x->prog_count] = pr;
    return (uint32_t)x->prog_count++;
}

static void *own(ls_avro_extractor_t *x, size_t size)
{
    GROW(x->owned, x->owned_count, x->owned_cap);
    void *p = ls_calloc(1, size ? size : 1);
    x->owned[x->owned_count++] = p;
    return p;
}

typedef struct trie trie_t;
struct trie {
    char *name;
    int slot; /* >= 0 for a leaf */
    bool matched;
    trie_t *children;
    size_t child_count, child_cap;
};

typedef struct {
    ls_avro_extractor_t *x;
    ls_error_t *err;
    const ls_avro_node_t *stack[LS_AVRO_MAX_DEPTH + 8];
    int depth;
    const char *const *paths;
} compiler_t;

static uint32_t add_union(ls_avro_extractor_t *x, uint32_t *progs, size_t count)
{
    GROW(x->unions, x->union_count, x->union_cap);
    union_t u = {(uint32_t)x->branch_prog_count, (uint32_t)count};
    for (size_t i = 0; i < count; i++) {
        GROW(x->branch_progs, x->branch_prog_count, x->branch_prog_cap);
        x->branch_progs[x->branch_prog_count++] = progs[i];
    }
    x->unions[x->union_count] = u;
    return (uint32_t)x->union_count++;
}

static bool simple_skip(const ls_avro_node_t *n, uint8_t *op, uint32_t *size)
{
    switch (n->type) {
    case LS_AVRO_BOOLEAN:
        *op = OP_SKIP_BOOL;
        return true;
    case LS_AVRO_INT:
        *op = OP_SKIP_INT;
        return true;
    case LS_AVRO_LONG:
        *op = OP_SKIP_LONG;
        return true;
    case LS_AVRO_ENUM:
        *op = OP_SKIP_ENUM;
        *size = (uint32_t)n->symbol_count;
        return true;
    case LS_AVRO_FLOAT:
    case LS_AVRO_DOUBLE:
    case LS_AVRO_FIXED:
        *op = OP_SKIP_N;
        *size = n->type == LS_AVRO_FLOAT ? 4 : n->type == LS_AVRO_DOUBLE ? 8 : (uint32_t)n->size;
        return true;
    case LS_AVRO_BYTES:
    case LS_AVRO_STRING:
        *op = OP_SKIP_BYTES;
        return true;
    default:
        return false;
    }
}

static void emit_skip(compiler_t *c, opvec_t *v, const ls_avro_node_t *n)
{
    uint8_t sop;
    uint32_t size = 0;
    if (n->type == LS_AVRO_NULL)
        return;
    if (simple_skip(n, &sop, &size)) {
        push_simple(v, sop, NOT_A_UNION, size);
        return;
    }
    bool recursing = false;
    for (int i = 0; i < c->depth; i++)
        recursing |= c->stack[i] == n;
    if (recursing || c->depth >= LS_AVRO_MAX_DEPTH) {
        push_op(v, (op_t){.op = OP_SKIP_NODE, .ptr = n});
        return;
    }
    c->stack[c->depth++] = n;
    switch (n->type) {
    case LS_AVRO_RECORD:
        for (size_t i = 0; i < n->field_count; i++)
            emit_skip(c, v, n->fields[i].type);
        break;
    case LS_AVRO_UNION: {
        if (n->branch_count == 2 &&
            (n->branches[0]->type == LS_AVRO_NULL || n->branches[1]->type == LS_AVRO_NULL)) {
            int null_index = n->branches[0]->type == LS_AVRO_NULL ? 0 : 1;
            if (simple_skip(n->branches[1 - null_index], &sop, &size)) {
                push_simple(v, sop, (uint8_t)null_index, size);
                break;
            }
        }
        uint32_t progs[n->branch_count + 1];
        for (size_t i = 0; i < n->branch_count; i++) {
            opvec_t sub = {0};
            emit_skip(c, &sub, n->branches[i]);
            progs[i] = finish_prog(c->x, &sub);
        }
        push_op(v, (op_t){.op = OP_UNION, .a = add_union(c->x, progs, n->branch_count)});
        break;
    }
    case LS_AVRO_ARRAY:
    case LS_AVRO_MAP: {
        opvec_t sub = {0};
        emit_skip(c, &sub, n->items);
        const run_entry_t *only =
            sub.count == 1 && sub.ops[0].op == OP_SKIP_RUN && sub.ops[0].a == 1
                ? (const run_entry_t *)sub.ops[0].ptr
                : NULL;
        uint32_t width =
            only && only->kind == OP_SKIP_N && only->null_index == NOT_A_UNION ? only->size : 0;
        uint32_t prog = finish_prog(c->x, &sub);
        push_op(v, (op_t){.op = n->type == LS_AVRO_ARRAY ? OP_SKIP_ARRAY : OP_SKIP_MAP,
                          .a = prog,
                          .n = width});
        break;
    }
    default:
        break;
    }
    c->depth--;
}

static ls_avro_slot_kind_t slot_kind(const ls_avro_node_t *r)
{
    switch (r->type) {
    case LS_AVRO_BOOLEAN:
        return LS_AVRO_SLOT_BOOLEAN;
    case LS_AVRO_INT:
        return LS_AVRO_SLOT_INT;
    case LS_AVRO_LONG:
        return LS_AVRO_SLOT_LONG;
    case LS_AVRO_FLOAT:
        return LS_AVRO_SLOT_FLOAT;
    case LS_AVRO_DOUBLE:
        return LS_AVRO_SLOT_DOUBLE;
    case LS_AVRO_STRING:
        return LS_AVRO_SLOT_STRING;
    case LS_AVRO_ENUM:
        return LS_AVRO_SLOT_ENUM;
    case LS_AVRO_BYTES:
    case LS_AVRO_FIXED:
        return LS_AVRO_SLOT_BYTES;
    default:
        return LS_AVRO_SLOT_NULL;
    }
}

static ls_err_t compile_error(compiler_t *c, int slot, const char *fmt, const char *arg)
{
    char msg[300];
    snprintf(msg, sizeof(msg), fmt, arg);
    const char *path = slot >= 0 ? c->paths[slot] : "";
    return ls_error_set_path(c->err, LS_ERR_INVALID_ARGUMENT, path, "cannot extract \"%s\": %s",
                             path, msg);
}

static ls_err_t emit_read(compiler_t *c, opvec_t *v, const ls_avro_node_t *w,
                          const ls_avro_node_t *r, int slot)
{
    if (w->type == LS_AVRO_UNION) {
        uint32_t progs[w->branch_count + 1];
        for (size_t i = 0; i < w->branch_count; i++) {
            const ls_avro_node_t *b = w->branches[i];
            const ls_avro_node_t *rb = r ? reader_for(r, b) : b;
            opvec_t sub = {0};
            if (!rb) {
                emit_skip(c, &sub, b);
                push_op(&sub,
                        (op_t){.op = OP_FAIL,
                               .ptr = "writer union branch not readable by the reader schema"});
            } else {
                ls_err_t rc = emit_read(c, &sub, b, rb, slot);
                if (rc) {
                    free_vec(&sub);
                    return rc;
                }
            }
            progs[i] = finish_prog(c->x, &sub);
        }
        push_op(v, (op_t){.op = OP_UNION, .a = add_union(c->x, progs, w->branch_count)});
        return LS_ERR_OK;
    }
    if (r && r->type == LS_AVRO_UNION) {
        const ls_avro_node_t *rb = match_branch(r, w);
        if (!rb)
            return compile_error(c, slot, "reader union has no branch for writer type %s",
                                 ls_avro_type_name(w->type));
        r = rb;
    }
    if (!r)
        r = w;
    if (w->type == LS_AVRO_NULL)
        return LS_ERR_OK;
    op_t op = {.slot = (uint32_t)slot, .kind = (uint8_t)slot_kind(r)};
    switch (w->type) {
    case LS_AVRO_BOOLEAN:
        op.op = OP_READ_BOOL;
        break;
    case LS_AVRO_INT:
        op.op = OP_READ_INT;
        break;
    case LS_AVRO_LONG:
        op.op = OP_READ_LONG;
        break;
    case LS_AVRO_FLOAT:
        op.op = OP_READ_FLOAT;
        break;
    case LS_AVRO_DOUBLE:
        op.op = OP_READ_DOUBLE;
        break;
    case LS_AVRO_STRING:
    case LS_AVRO_BYTES:
        op.op = OP_READ_BYTES;
        break;
    case LS_AVRO_FIXED:
        op.op = OP_READ_FIXED;
        op.a = (uint32_t)w->size;
        break;
    case LS_AVRO_ENUM: {
        op.op = OP_READ_ENUM;
        op.a = (uint32_t)w->symbol_count;
        enum_map_t *map = own(c->x, (w->symbol_count + 1) * sizeof(*map));
        for (size_t i = 0; i < w->symbol_count; i++) {
            int k = ls_avro_enum_symbol_index(r, w->symbols[i], strlen(w->symbols[i]));
            if (k < 0)
                k = r->enum_default;
            map[i].index = k;
            map[i].symbol = k >= 0 ? r->symbols[k] : NULL;
        }
        op.ptr = map;
        break;
    }
    default:
        return compile_error(c, slot, "the value is a %s, only scalar values can be extracted",
                             ls_avro_type_name(w->type));
    }
    if (r != w && r->type != w->type && !ls_avro_promotes(r->type, w->type))
        return compile_error(c, slot, "reader type %s cannot read writer type",
                             ls_avro_type_name(r->type));
    push_op(v, op);
    return LS_ERR_OK;
}

/* Decodes a bytes/fixed default (code points 0-255) into owned bytes. */
static const uint8_t *default_bytes(ls_avro_extractor_t *x, const char *s, size_t len,
                                    size_t *out_len)
{
    uint8_t *b = own(x, len + 1);
    size_t n = 0;
    for (size_t i = 0; i < len; n++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch >= 0xC0 && i + 1 < len) {
            b[n] = (uint8_t)(((ch & 0x1F) << 6) | ((unsigned char)s[i + 1] & 0x3F));
            i += 2;
        } else {
            b[n] = ch;
            i++;
        }
    }
    *out_len = n;
    return b;
}

static ls_err_t set_default(compiler_t *c, const ls_avro_node_t *r, json_t *def, trie_t *t)
{
    if (r->type == LS_AVRO_UNION && r->branch_count)
        r = r->branches[0];
    if (t->slot < 0) {
        /* An inner path node: the default is a record value. */
        if (r->type != LS_AVRO_RECORD || !json_is_object(def))
            return compile_error(c, -1, "default of %s is not a record", r->name ? r->name : "?");
        for (size_t i = 0; i < t->child_count; i++) {
            trie_t *ch = &t->children[i];
            int fi = ls_avro_record_field_index(r, ch->name);
            if (fi < 0)
                return compile_error(c, -1, "no field \"%s\" in the reader schema", ch->name);
            json_t *v = json_object_get(def, ch->name);
            if (!v)
                v = r->fields[fi].default_value;
            if (!v)
                return compile_error(c, -1, "no default for \"%s\"", ch->name);
            ls_err_t rc = set_default(c, r->fields[fi].type, v, ch);
            if (rc)
                return rc;
        }
        return LS_ERR_OK;
    }
    ls_avro_slot_t *s = &c->x->init[t->slot];
    memset(s, 0, sizeof(*s));
    if (json_is_null(def))
        return LS_ERR_OK;
    s->kind = slot_kind(r);
    switch (r->type) {
    case LS_AVRO_BOOLEAN:
        s->v.b = json_is_true(def);
        break;
    case LS_AVRO_INT:
    case LS_AVRO_LONG:
        s->v.i = json_integer_value(def);
        break;
    case LS_AVRO_FLOAT:
    case LS_AVRO_DOUBLE:
        s->v.d = json_is_number(def)                          ? json_number_value(def)
                 : strcmp(json_string_value(def), "NaN") == 0 ? NAN
                 : json_string_value(def)[0] == '-'           ? -INFINITY
                                                              : INFINITY;
        break;
    case LS_AVRO_STRING:
        s->bytes.ptr = (const uint8_t *)json_string_value(def);
        s->bytes.len = json_string_length(def);
        break;
    case LS_AVRO_BYTES:
    case LS_AVRO_FIXED:
        s->bytes.ptr =
            default_bytes(c->x, json_string_value(def), json_string_length(def), &s->bytes.len);
        break;
    case LS_AVRO_ENUM:
        s->v.i = ls_avro_enum_symbol_index(r, json_string_value(def), json_string_length(def));
        s->bytes.ptr = (const uint8_t *)r->symbols[s->v.i];
        s->bytes.len = strlen(r->symbols[s->v.i]);
        break;
    default:
        return compile_error(c, t->slot, "the value is a %s, only scalar values can be extracted",
                             ls_avro_type_name(r->type));
    }
    return LS_ERR_OK;
}

static ls_err_t emit_record(compiler_t *c, opvec_t *v, const ls_avro_node_t *w,
                            const ls_avro_node_t *r, trie_t *t);

static ls_err_t emit_descend(compiler_t *c, opvec_t *v, const ls_avro_node_t *w,
                             const ls_avro_node_t *r, trie_t *t)
{
    if (w->type == LS_AVRO_UNION) {
        uint32_t progs[w->branch_count + 1];
        bool any_record = false;
        for (size_t i = 0; i < w->branch_count; i++) {
            const ls_avro_node_t *b = w->branches[i];
            opvec_t sub = {0};
            const ls_avro_node_t *rb = r ? reader_for(r, b) : b;
            if (b->type == LS_AVRO_RECORD && !rb) {
                any_record = true;
                emit_skip(c, &sub, b);
                push_op(&sub,
                        (op_t){.op = OP_FAIL,
                               .ptr = "writer union branch not readable by the reader schema"});
            } else if (b->type == LS_AVRO_RECORD) {
                any_record = true;
                ls_err_t rc = emit_descend(c, &sub, b, r ? rb : NULL, t);
                if (rc) {
                    free_vec(&sub);
                    return rc;
                }
            } else {
                emit_skip(c, &sub, b); /* other branches leave the slots NULL */
            }
            progs[i] = finish_prog(c->x, &sub);
        }
        if (!any_record)
            return compile_error(c, -1, "\"%s\" is not a record", t->name);
        push_op(v, (op_t){.op = OP_UNION, .a = add_union(c->x, progs, w->branch_count)});
        return LS_ERR_OK;
    }
    if (w->type != LS_AVRO_RECORD)
        return compile_error(c, -1, "\"%s\" is not a record (arrays and maps cannot be traversed)",
                             t->name);
    if (r && r->type == LS_AVRO_UNION)
        r = match_branch(r, w);
    if (r && (r->type != LS_AVRO_RECORD || !ls_avro_names_match(r, w)))
        return compile_error(c, -1, "reader schema cannot read record \"%s\"", w->fullname);
    if (c->depth >= LS_AVRO_MAX_DEPTH)
        return compile_error(c, -1, "path deeper than %s levels", "64");
    c->stack[c->depth++] = w;
    ls_err_t rc = emit_record(c, v, w, r, t);
    c->depth--;
    return rc;
}

static trie_t *trie_child(trie_t *t, const char *name)
{
    for (size_t i = 0; i < t->child_count; i++)
        if (strcmp(t->children[i].name, name) == 0)
            return &t->children[i];
    return NULL;
}

static int first_slot(const trie_t *t)
{
    if (t->slot >= 0)
        return t->slot;
    return t->child_count ? first_slot(&t->children[0]) : -1;
}

static ls_err_t emit_record(compiler_t *c, opvec_t *v, const ls_avro_node_t *w,
                            const ls_avro_node_t *r, trie_t *t)
{
    for (size_t i = 0; i < t->child_count; i++)
        t->children[i].matched = false;
    for (size_t i = 0; i < w->field_count; i++) {
        const ls_avro_field_t *wf = &w->fields[i];
        const ls_avro_field_t *rf = wf;
        if (r) {
            int k = reader_field_for(r, wf->name);
            rf = k >= 0 ? &r->fields[k] : NULL;
        }
        trie_t *ch = rf ? trie_child(t, rf->name) : NULL;
        if (!ch || ch->matched) {
            emit_skip(c, v, wf->type);
            continue;
        }
        ch->matched = true;
        ls_err_t rc = ch->slot >= 0 ? emit_read(c, v, wf->type, r ? rf->type : NULL, ch->slot)
                                    : emit_descend(c, v, wf->type, r ? rf->type : NULL, ch);
        if (rc)
            return rc;
    }
    for (size_t i = 0; i < t->child_count; i++) {
        trie_t *ch = &t->children[i];
        if (ch->matched)
            continue;
        int k = r ? ls_avro_record_field_index(r, ch->name) : -1;
        if (k < 0)
            return compile_error(c, first_slot(ch), "no field \"%s\" in the schema", ch->name);
        if (!r->fields[k].default_value)
            return compile_error(c, first_slot(ch),
                                 "field \"%s\" is missing in the writer and has no default",
                                 ch->name);
        ls_err_t rc = set_default(c, r->fields[k].type, r->fields[k].default_value, ch);
        if (rc)
            return rc;
    }
    return LS_ERR_OK;
}

static void trie_free(trie_t *t)
{
    for (size_t i = 0; i < t->child_count; i++)
        trie_free(&t->children[i]);
    free(t->children);
    free(t->name);
}

ls_err_t ls_avro_extractor_compile(const ls_avro_node_t *writer, const ls_avro_node_t *reader,
                                   const char *const *paths, size_t path_count,
                                   ls_avro_extractor_t **out, ls_error_t *err)
{
    trie_t root = {.slot = -1};
    ls_err_t rc = LS_ERR_OK;
    for (size_t i = 0; i < path_count && !rc; i++) {
        trie_t *t = &root;
        const char *p = paths[i];
        if (!p || !*p) {
            rc = ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "empty extraction path #%zu", i);
            break;
        }
        while (*p && !rc) {
            const char *dot = strchr(p, '.');
            size_t n = dot ? (size_t)(dot - p) : strlen(p);
            char *name = ls_strndup(p, n);
            if (t->slot >= 0 || n == 0) {
                rc = ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, paths[i],
                                       "extraction path \"%s\" is empty or overlaps another",
                                       paths[i]);
                free(name);
                break;
            }
            trie_t *ch = trie_child(t, name);
            if (!ch) {
                GROW(t->children, t->child_count, t->child_cap);
                ch = &t->children[t->child_count++];
                memset(ch, 0, sizeof(*ch));
                ch->name = name;
                ch->slot = -1;
            } else {
                free(name);
            }
            t = ch;
            p = dot ? dot + 1 : p + n;
            if (!dot) {
                if (t->slot >= 0 || t->child_count)
                    rc = ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, paths[i],
                                           "extraction path \"%s\" is repeated or overlaps another",
                                           paths[i]);
                t->slot = (int)i;
            }
        }
    }
    if (!rc && reader && reader != writer) {
        ls_compat_result_t res = {0};
        if (!ls_compat_can_read(reader, writer, &res))
            rc = ls_error_set(err, LS_ERR_INVALID_ARGUMENT,
                              "reader schema cannot read writer data: %s",
                              res.count ? res.items[0].message : "incompatible");
        ls_compat_result_free(&res);
    }
    ls_avro_extractor_t *x = ls_calloc(1, sizeof(*x));
    x->slot_count = path_count;
    x->init = ls_calloc(path_count + 1, sizeof(ls_avro_slot_t));
    if (!rc) {
        compiler_t c = {.x = x, .err = err, .paths = paths};
        opvec_t v = {0};
        if (writer->type != LS_AVRO_RECORD && path_count)
            rc = ls_error_set(err, LS_ERR_INVALID_ARGUMENT,
                              "cannot extract fields: the schema is not a record");
        else
            rc = emit_descend(&c, &v, writer, reader, &root);
        if (!rc)
            x->root = finish_prog(x, &v);
        free_vec(&v);
    }
    trie_free(&root);
    if (rc) {
        ls_avro_extractor_free(x);
        return rc;
    }
    *out = x;
    return LS_ERR_OK;
}

size_t ls_avro_extractor_slot_count(const ls_avro_extractor_t *x)
{
    return x->slot_count;
}

void ls_avro_extractor_free(ls_avro_extractor_t *x)
{
    if (!x)
        return;
    for (size_t i = 0; i < x->owned_count; i++)
        free(x->owned[i]);
    free(x->owned);
    free(x->ops);
    free(x->progs);
    free(x->unions);
    free(x->branch_progs);
    free(x->init);
    free(x);
}

typedef struct {
    const ls_avro_extractor_t *x;
    const uint8_t *p, *end;
    ls_avro_slot_t *slots;
    ls_error_t *err;
    uint32_t budget;
} exec_t;

static ls_err_t run_prog(exec_t *e, uint32_t prog, int depth);

static inline ls_err_t skip_simple(exec_t *e, uint8_t op, uint32_t size)
{
    int64_t len;
    switch (op) {
    case OP_SKIP_BOOL:
        if (e->p >= e->end)
            return TRUNCATED(e->err);
        if (*e->p > 1)
            return bad(e->err, "invalid boolean byte 0x%02x", *e->p);
        e->p++;
        return LS_ERR_OK;
    case OP_SKIP_INT:
    case OP_SKIP_LONG:
    case OP_SKIP_ENUM:
        if (op != OP_SKIP_ENUM && e->p < e->end &&
            *e->p < 0x80) { /* one-byte varints: always valid */
            e->p++;
            return LS_ERR_OK;
        }
        if (!ls_avro_read_long(&e->p, e->end, &len))
            return bad(e->err, "bad varint");
        if (op == OP_SKIP_INT && (len < INT32_MIN || len > INT32_MAX))
            return bad(e->err, "int value out of range");
        if (op == OP_SKIP_ENUM && (len < 0 || len >= size))
            return bad(e->err, "enum index %lld out of range", (long long)len);
        return LS_ERR_OK;
    case OP_SKIP_N:
        if ((size_t)(e->end - e->p) < size)
            return TRUNCATED(e->err);
        e->p += size;
        return LS_ERR_OK;
    default: { /* OP_SKIP_BYTES */
        ls_err_t rc = read_len(&e->p, e->end, &len, e->err);
        if (rc)
            return rc;
        e->p += len;
        return LS_ERR_OK;
    }
    }
}

static ls_err_t skip_run(exec_t *e, const run_entry_t *en, uint32_t count)
{
    const uint8_t *p = e->p, *end = e->end;
    for (const run_entry_t *last = en + count; en < last; en++) {
        if (en->null_index != NOT_A_UNION) {
            if (p >= end)
                return TRUNCATED(e->err);
            /* Union index 0 and 1 are the single bytes 0x00 and 0x02 in every
             * writer we know; overlong varints take the slow path. */
            int64_t branch;
            if (*p == 0 || *p == 2) {
                branch = *p++ >> 1;
            } else if (!ls_avro_read_long(&p, end, &branch)) {
                e->p = p;
                return bad(e->err, "bad union index varint");
            }
            if (branch == en->null_index)
                continue;
            if (branch != 1 - en->null_index) {
                e->p = p;
                return bad(e->err, "union index %lld out of range (2 branches)", (long long)branch);
            }
        }
        if (en->kind == OP_SKIP_N) {
            if ((size_t)(end - p) < en->size)
                return TRUNCATED(e->err);
            p += en->size;
        } else if ((en->kind == OP_SKIP_INT || en->kind == OP_SKIP_LONG) && p < end && *p < 0x80) {
            p++;
        } else {
            e->p = p;
            ls_err_t rc = skip_simple(e, en->kind, en->size);
            if (rc)
                return rc;
            p = e->p;
        }
    }
    e->p = p;
    return LS_ERR_OK;
}

static ls_err_t run_blocks(exec_t *e, const op_t *op, int depth)
{
    for (;;) {
        int64_t count, size;
        ls_err_t rc = read_block(&e->p, e->end, &count, &size, e->err);
        if (rc)
            return rc;
        if (count == 0)
            return LS_ERR_OK;
        if (size >= 0) {
            e->p += size; /* writer gave the block's byte size: skip it whole */
            continue;
        }
        if (op->op == OP_SKIP_ARRAY && op->n) {
            if ((uint64_t)count > (uint64_t)(e->end - e->p) / op->n)
                return TRUNCATED(e->err);
            e->p += (size_t)count * op->n;
            continue;
        }
        for (int64_t i = 0; i < count; i++) {
            const uint8_t *before = e->p;
            if (op->op == OP_SKIP_MAP && (rc = skip_simple(e, OP_SKIP_BYTES, 0)))
                return rc;
            if ((rc = run_prog(e, op->a, depth + 1)))
                return rc;
            if (!charge_item(before, e->p, &e->budget))
                return bad(e->err, "too many empty items");
        }
    }
}

static ls_err_t run_prog(exec_t *e, uint32_t prog, int depth)
{
    if (depth > MAX_DATA_DEPTH)
        return bad(e->err, "data nested deeper than %d levels", MAX_DATA_DEPTH);
    const prog_t *pr = &e->x->progs[prog];
    const op_t *op = &e->x->ops[pr->start], *last = op + pr->count;
    ls_err_t rc;
    int64_t v;
    for (; op < last; op++) {
        ls_avro_slot_t *s = &e->slots[op->slot];
        switch (op->op) {
        case OP_SKIP_RUN:
            if ((rc = skip_run(e, (const run_entry_t *)op->ptr, op->a)))
                return rc;
            break;
        case OP_SKIP_ARRAY:
        case OP_SKIP_MAP:
            if ((rc = run_blocks(e, op, depth)))
                return rc;
            break;
        case OP_SKIP_NODE:
            if ((rc = skip_value(op->ptr, &e->p, e->end, &e->budget, depth + 1, e->err)))
                return rc;
            break;
        case OP_UNION: {
            const union_t *u = &e->x->unions[op->a];
            if (!ls_avro_read_long(&e->p, e->end, &v))
                return bad(e->err, "bad union index varint");
            if (v < 0 || (uint64_t)v >= u->count)
                return bad(e->err, "union index %lld out of range (%u branches)", (long long)v,
                           u->count);
            if ((rc = run_prog(e, e->x->branch_progs[u->first + v], depth + 1)))
                return rc;
            break;
        }
        case OP_READ_BOOL:
            if (e->p >= e->end)
                return TRUNCATED(e->err);
            if (*e->p > 1)
                return bad(e->err, "invalid boolean byte 0x%02x", *e->p);
            s->kind = LS_AVRO_SLOT_BOOLEAN;
            s->v.b = *e->p++ != 0;
            break;
        case OP_READ_INT:
        case OP_READ_LONG:
            if (!ls_avro_read_long(&e->p, e->end, &v))
                return bad(e->err, "bad varint");
            if (op->op == OP_READ_INT && (v < INT32_MIN || v > INT32_MAX))
                return bad(e->err, "int value out of range");
            s->kind = op->kind;
            if (op->kind == LS_AVRO_SLOT_FLOAT || op->kind == LS_AVRO_SLOT_DOUBLE)
                s->v.d = (double)v;
            else
                s->v.i = v;
            break;
        case OP_READ_FLOAT:
            if (e->end - e->p < 4)
                return TRUNCATED(e->err);
            s->kind = op->kind;
            s->v.d = ls_avro_get_float(e->p);
            e->p += 4;
            break;
        case OP_READ_DOUBLE:
            if (e->end - e->p < 8)
                return TRUNCATED(e->err);
            s->kind = op->kind;
            s->v.d = ls_avro_get_double(e->p);
            e->p += 8;
            break;
        case OP_READ_BYTES:
            if ((rc = read_len(&e->p, e->end, &v, e->err)))
                return rc;
            s->kind = op->kind;
            s->bytes.ptr = e->p;
            s->bytes.len = (size_t)v;
            e->p += v;
            break;
        case OP_READ_FIXED:
            if ((size_t)(e->end - e->p) < op->a)
                return TRUNCATED(e->err);
            s->kind = LS_AVRO_SLOT_BYTES;
            s->bytes.ptr = e->p;
            s->bytes.len = op->a;
            e->p += op->a;
            break;
        case OP_READ_ENUM: {
            if (!ls_avro_read_long(&e->p, e->end, &v))
                return bad(e->err, "bad varint");
            if (v < 0 || v >= op->a)
                return bad(e->err, "enum index %lld out of range", (long long)v);
            const enum_map_t *m = &((const enum_map_t *)op->ptr)[v];
            if (m->index < 0)
                return bad(e->err, "enum symbol #%lld unknown to the reader, which has no default",
                           (long long)v);
            s->kind = LS_AVRO_SLOT_ENUM;
            s->v.i = m->index;
            s->bytes.ptr = (const uint8_t *)m->symbol;
            s->bytes.len = strlen(m->symbol);
            break;
        }
        case OP_FAIL:
            return bad(e->err, "%s", (const char *)op->ptr);
        }
    }
    return LS_ERR_OK;
}

ls_err_t ls_avro_extractor_run(const ls_avro_extractor_t *x, const uint8_t *body, size_t len,
                               ls_avro_slot_t *slots, ls_error_t *err)
{
    static const uint8_t empty[1];
    if (!body)
        body = empty;
    memcpy(slots, x->init, x->slot_count * sizeof(*slots));
    exec_t e = {x, body, body + len, slots, err, LS_AVRO_MAX_EMPTY_ITEMS};
    ls_err_t rc = run_prog(&e, x->root, 0);
    if (rc)
        return rc;
    if (e.p != e.end)
        return bad(err, "%zu trailing bytes after the record", (size_t)(e.end - e.p));
    return LS_ERR_OK;
}

/* ---- full decode to JSON ---- */

struct ls_avro_json_decoder {
    const ls_avro_node_t *writer, *reader;
};

static json_t *real_json(double d)
{
    if (isnan(d))
        return json_string("NaN");
    if (isinf(d))
        return json_string(d > 0 ? "Infinity" : "-Infinity");
    return json_real(d);
}

/* Bytes as a JSON string of code points 0-255. */
static json_t *bytes_json(const uint8_t *p, size_t n)
{
    char stackbuf[512] = {0};
    char *buf = n * 2 <= sizeof(stackbuf) ? stackbuf : ls_malloc(n * 2);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < 0x80) {
            buf[k++] = (char)p[i];
        } else {
            buf[k++] = (char)(0xC0 | (p[i] >> 6));
            buf[k++] = (char)(0x80 | (p[i] & 0x3F));
        }
    }
    json_t *j = json_stringn_nocheck(buf, k);
    if (buf != stackbuf)
        free(buf);
    return j;
}

typedef struct {
    const uint8_t *p, *end;
    ls_error_t *err;
    uint32_t budget;
} jdec_t;

static ls_err_t decode_value(jdec_t *d, const ls_avro_node_t *w, const ls_avro_node_t *r, int depth,
                             json_t **out);

static json_t *default_json(const ls_avro_field_t *f)
{
    return json_deep_copy(f->default_value);
}

static ls_err_t decode_record(jdec_t *d, const ls_avro_node_t *w, const ls_avro_node_t *r,
                              int depth, json_t **out)
{
    size_t n = r->field_count;
    json_t *stackvals[64];
    json_t **vals = n <= 64 ? stackvals : ls_calloc(n, sizeof(json_t *));
    memset(vals, 0, n * sizeof(json_t *));
    ls_err_t rc = LS_ERR_OK;
    for (size_t i = 0; i < w->field_count && !rc; i++) {
        int k = r == w ? (int)i : reader_field_for(r, w->fields[i].name);
        if (k < 0) {
            rc = skip_value(w->fields[i].type, &d->p, d->end, &d->budget, depth + 1, d->err);
            continue;
        }
        json_t *v = NULL;
        rc = decode_value(d, w->fields[i].type, r->fields[k].type, depth + 1, &v);
        if (!rc) {
            json_decref(vals[k]);
            vals[k] = v;
        }
    }
    json_t *obj = rc ? NULL : json_object();
    for (size_t i = 0; i < n; i++) {
        if (!rc && !vals[i]) {
            if (r->fields[i].default_value) {
                vals[i] = default_json(&r->fields[i]);
            } else {
                rc = bad(d->err, "field \"%s\" missing in the writer data and without default",
                         r->fields[i].name);
            }
        }
        if (!rc)
            json_object_set_new_nocheck(obj, r->fields[i].name, vals[i]);
        else
            json_decref(vals[i]);
    }
    if (vals != stackvals)
        free(vals);
    if (rc) {
        json_decref(obj);
        return rc;
    }
    *out = obj;
    return LS_ERR_OK;
}

static ls_err_t decode_blocks(jdec_t *d, const ls_avro_node_t *w, const ls_avro_node_t *r,
                              int depth, json_t **out)
{
    bool map = w->type == LS_AVRO_MAP;
    json_t *coll = map ? json_object() : json_array();
    ls_err_t rc = LS_ERR_OK;
    for (;;) {
        int64_t count, size;
        if ((rc = read_block(&d->p, d->end, &count, &size, d->err)) || count == 0)
            break;
        const uint8_t *block_start = d->p;
        for (int64_t i = 0; i < count && !rc; i++) {
            const uint8_t *before = d->p;
            int64_t klen = 0;
            const uint8_t *key = NULL;
            if (map) {
                if ((rc = read_len(&d->p, d->end, &klen, d->err)))
                    break;
                key = d->p;
                d->p += klen;
            }
            json_t *v = NULL;
            if ((rc = decode_value(d, w->items, r->items, depth + 1, &v)))
                break;
            if (map) {
                char *k = ls_strndup((const char *)key, (size_t)klen);
                if (strlen(k) != (size_t)klen) {
                    json_decref(v);
                    rc = bad(d->err, "map key contains a NUL byte");
                } else if (json_object_set_new(coll, k, v) != 0) { /* takes v even on failure */
                    rc = bad(d->err, "map key is not valid UTF-8");
                }
                free(k);
            } else {
                json_array_append_new(coll, v);
            }
            if (!rc && !charge_item(before, d->p, &d->budget))
                rc = bad(d->err, "too many empty items");
        }
        /* The skipping decoders trust a block's byte size; a full decode
         * checks it, so both never accept different record boundaries. */
        if (!rc && size >= 0 && d->p - block_start != size)
            rc = bad(d->err, "block byte size %lld does not match its items", (long long)size);
        if (rc)
            break;
    }
    if (rc) {
        json_decref(coll);
        return rc;
    }
    *out = coll;
    return LS_ERR_OK;
}

static ls_err_t decode_value(jdec_t *d, const ls_avro_node_t *w, const ls_avro_node_t *r, int depth,
                             json_t **out)
{
    if (depth > MAX_DATA_DEPTH)
        return bad(d->err, "data nested deeper than %d levels", MAX_DATA_DEPTH);
    int64_t v;
    if (w->type == LS_AVRO_UNION) {
        if (!ls_avro_read_long(&d->p, d->end, &v))
            return bad(d->err, "bad union index varint");
        if (v < 0 || (uint64_t)v >= w->branch_count)
            return bad(d->err, "union index %lld out of range (%zu branches)", (long long)v,
                       w->branch_count);
        const ls_avro_node_t *b = w->branches[v];
        const ls_avro_node_t *rb = r == w ? b : reader_for(r, b);
        if (!rb)
            return bad(d->err, "writer union branch %s not readable by the reader schema",
                       ls_avro_type_name(b->type));
        return decode_value(d, b, rb, depth + 1, out);
    }
    if (r->type == LS_AVRO_UNION) {
        r = match_branch(r, w);
        if (!r)
            return bad(d->err, "reader union has no branch for %s", ls_avro_type_name(w->type));
    }
    ls_err_t rc;
    json_t *j = NULL;
    switch (w->type) {
    case LS_AVRO_NULL:
        j = json_null();
        break;
    case LS_AVRO_BOOLEAN:
        if (d->p >= d->end)
            return TRUNCATED(d->err);
        if (*d->p > 1)
            return bad(d->err, "invalid boolean byte 0x%02x", *d->p);
        j = json_boolean(*d->p++);
        break;
    case LS_AVRO_INT:
    case LS_AVRO_LONG:
        if (!ls_avro_read_long(&d->p, d->end, &v))
            return bad(d->err, "bad varint");
        if (w->type == LS_AVRO_INT && (v < INT32_MIN || v > INT32_MAX))
            return bad(d->err, "int value out of range");
        j = (r->type == LS_AVRO_FLOAT || r->type == LS_AVRO_DOUBLE) ? real_json((double)v)
                                                                    : json_integer(v);
        break;
    case LS_AVRO_FLOAT:
        if (d->end - d->p < 4)
            return TRUNCATED(d->err);
        j = real_json(ls_avro_get_float(d->p));
        d->p += 4;
        break;
    case LS_AVRO_DOUBLE:
        if (d->end - d->p < 8)
            return TRUNCATED(d->err);
        j = real_json(ls_avro_get_double(d->p));
        d->p += 8;
        break;
    case LS_AVRO_STRING:
    case LS_AVRO_BYTES:
        if ((rc = read_len(&d->p, d->end, &v, d->err)))
            return rc;
        if (r->type == LS_AVRO_STRING) {
            j = json_stringn((const char *)d->p, (size_t)v);
            if (!j)
                return bad(d->err, "string is not valid UTF-8");
        } else {
            j = bytes_json(d->p, (size_t)v);
        }
        d->p += v;
        break;
    case LS_AVRO_FIXED:
        if ((size_t)(d->end - d->p) < w->size)
            return TRUNCATED(d->err);
        j = bytes_json(d->p, w->size);
        d->p += w->size;
        break;
    case LS_AVRO_ENUM: {
        if (!ls_avro_read_long(&d->p, d->end, &v))
            return bad(d->err, "bad varint");
        if (v < 0 || (uint64_t)v >= w->symbol_count)
            return bad(d->err, "enum index %lld out of range for %s", (long long)v, w->fullname);
        const char *sym = w->symbols[v];
        if (r != w && ls_avro_enum_symbol_index(r, sym, strlen(sym)) < 0) {
            if (r->enum_default < 0)
                return bad(d->err, "enum symbol %s unknown to the reader, which has no default",
                           sym);
            sym = r->symbols[r->enum_default];
        }
        j = json_string(sym);
        break;
    }
    case LS_AVRO_RECORD:
        return decode_record(d, w, r, depth, out);
    case LS_AVRO_ARRAY:
    case LS_AVRO_MAP:
        return decode_blocks(d, w, r, depth, out);
    case LS_AVRO_UNION:
        break;
    }
    *out = j;
    return LS_ERR_OK;
}

ls_err_t ls_avro_json_decoder_new(const ls_avro_node_t *writer, const ls_avro_node_t *reader,
                                  ls_avro_json_decoder_t **out, ls_error_t *err)
{
    if (reader && reader != writer) {
        /* Resolution at decode time assumes the pair was checked once here. */
        ls_compat_result_t res = {0};
        if (!ls_compat_can_read(reader, writer, &res)) {
            ls_err_t rc = ls_error_set(err, LS_ERR_INVALID_ARGUMENT,
                                       "reader schema cannot read writer data: %s",
                                       res.count ? res.items[0].message : "incompatible");
            ls_compat_result_free(&res);
            return rc;
        }
        ls_compat_result_free(&res);
    }
    ls_avro_json_decoder_t *d = ls_calloc(1, sizeof(*d));
    d->writer = writer;
    d->reader = reader ? reader : writer;
    *out = d;
    return LS_ERR_OK;
}

ls_err_t ls_avro_json_decode_next(const ls_avro_json_decoder_t *dec, const uint8_t **p,
                                  const uint8_t *end, json_t **out, ls_error_t *err)
{
    jdec_t d = {*p, end, err, LS_AVRO_MAX_EMPTY_ITEMS};
    ls_err_t rc = decode_value(&d, dec->writer, dec->reader, 0, out);
    if (!rc)
        *p = d.p;
    return rc;
}

ls_err_t ls_avro_json_decode(const ls_avro_json_decoder_t *dec, const uint8_t *body, size_t len,
                             json_t **out, ls_error_t *err)
{
    static const uint8_t empty[1];
    if (!body) /* an empty encoding (type null) may come as NULL, 0 */
        body = empty;
    const uint8_t *p = body;
    json_t *j;
    ls_err_t rc = ls_avro_json_decode_next(dec, &p, body + len, &j, err);
    if (rc)
        return rc;
    if (p != body + len) {
        json_decref(j);
        return bad(err, "%zu trailing bytes after the value", (size_t)(body + len - p));
    }
    *out = j;
    return LS_ERR_OK;
}

void ls_avro_json_decoder_free(ls_avro_json_decoder_t *d)
{
    free(d);
}

/* ---- encoder ---- */

static ls_err_t enc_error(ls_error_t *err, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static ls_err_t enc_error(ls_error_t *err, const char *path, const char *fmt, ...)
{
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, path, "cannot encode %s: %s", path, msg);
}

static bool number_or_special(json_t *v, double *d)
{
    if (json_is_number(v)) {
        *d = json_number_value(v);
        return true;
    }
    const char *s = json_string_value(v);
    if (!s)
        return false;
    if (strcmp(s, "NaN") == 0)
        *d = NAN;
    else if (strcmp(s, "Infinity") == 0)
        *d = INFINITY;
    else if (strcmp(s, "-Infinity") == 0)
        *d = -INFINITY;
    else
        return false;
    return true;
}

/* Code points 0-255 back to bytes, appended to out. */
static bool latin1_to_bytes(json_t *v, ls_avro_buf_t *out, size_t *count)
{
    const unsigned char *s = (const unsigned char *)json_string_value(v);
    size_t len = json_string_length(v), n = 0;
    uint8_t *dst = ls_avro_buf_reserve(out, len);
    for (size_t i = 0; i < len; n++) {
        if (s[i] < 0x80) {
            dst[n] = s[i++];
        } else if ((s[i] == 0xC2 || s[i] == 0xC3) && i + 1 < len) {
            dst[n] = (uint8_t)(((s[i] & 0x1F) << 6) | (s[i + 1] & 0x3F));
            i += 2;
        } else {
            return false;
        }
    }
    *count = n;
    return true;
}

static ls_err_t encode(const ls_avro_node_t *n, json_t *v, ls_avro_buf_t *out, char *path,
                       size_t path_len, int depth, ls_error_t *err)
{
    if (depth > MAX_DATA_DEPTH)
        return enc_error(err, path, "value nested too deeply");
    double dv;
    ls_err_t rc;
    switch (n->type) {
    case LS_AVRO_NULL:
        return json_is_null(v) ? LS_ERR_OK : enc_error(err, path, "expected null");
    case LS_AVRO_BOOLEAN:
        if (!json_is_boolean(v))
            return enc_error(err, path, "expected a boolean");
        ls_avro_buf_append(out, json_is_true(v) ? "\1" : "\0", 1);
        return LS_ERR_OK;
    case LS_AVRO_INT:
    case LS_AVRO_LONG:
        if (!json_is_integer(v))
            return enc_error(err, path, "expected an integer");
        if (n->type == LS_AVRO_INT &&
            (json_integer_value(v) < INT32_MIN || json_integer_value(v) > INT32_MAX))
            return enc_error(err, path, "integer out of int range");
        ls_avro_write_long(out, json_integer_value(v));
        return LS_ERR_OK;
    case LS_AVRO_FLOAT:
    case LS_AVRO_DOUBLE:
        if (!number_or_special(v, &dv))
            return enc_error(err, path, "expected a number");
        if (n->type == LS_AVRO_FLOAT)
            ls_avro_write_float(out, (float)dv);
        else
            ls_avro_write_double(out, dv);
        return LS_ERR_OK;
    case LS_AVRO_STRING:
        if (!json_is_string(v))
            return enc_error(err, path, "expected a string");
        ls_avro_write_bytes(out, json_string_value(v), json_string_length(v));
        return LS_ERR_OK;
    case LS_AVRO_BYTES:
    case LS_AVRO_FIXED: {
        if (!json_is_string(v))
            return enc_error(err, path, "expected a string of byte code points");
        ls_avro_buf_t tmp = {0};
        size_t count;
        bool ok = latin1_to_bytes(v, &tmp, &count);
        if (ok && n->type == LS_AVRO_FIXED && count != n->size)
            ok = false;
        if (ok) {
            if (n->type == LS_AVRO_BYTES)
                ls_avro_write_long(out, (int64_t)count);
            ls_avro_buf_append(out, tmp.data, count);
        }
        ls_avro_buf_free(&tmp);
        return ok ? LS_ERR_OK
                  : enc_error(err, path,
                              n->type == LS_AVRO_FIXED ? "expected %zu bytes (code points 0-255)"
                                                       : "expected code points 0-255%.0zu",
                              n->size);
    }
    case LS_AVRO_ENUM: {
        int k = json_is_string(v)
                    ? ls_avro_enum_symbol_index(n, json_string_value(v), json_string_length(v))
                    : -1;
        if (k < 0)
            return enc_error(err, path, "expected a symbol of enum %s", n->fullname);
        ls_avro_write_long(out, k);
        return LS_ERR_OK;
    }
    case LS_AVRO_ARRAY: {
        if (!json_is_array(v))
            return enc_error(err, path, "expected an array");
        size_t count = json_array_size(v);
        if (count)
            ls_avro_write_long(out, (int64_t)count);
        for (size_t i = 0; i < count; i++) {
            int k = snprintf(path + path_len, 512 - path_len, "[%zu]", i);
            size_t np = k > 0 && path_len + (size_t)k < 512 ? path_len + (size_t)k : path_len;
            if ((rc = encode(n->items, json_array_get(v, i), out, path, np, depth + 1, err)))
                return rc;
            path[path_len] = 0;
        }
        ls_avro_write_long(out, 0);
        return LS_ERR_OK;
    }
    case LS_AVRO_MAP: {
        if (!json_is_object(v))
            return enc_error(err, path, "expected an object");
        size_t count = json_object_size(v);
        if (count)
            ls_avro_write_long(out, (int64_t)count);
        const char *key;
        json_t *e;
        json_object_foreach(v, key, e)
        {
            ls_avro_write_bytes(out, key, strlen(key));
            int k = snprintf(path + path_len, 512 - path_len, ".%s", key);
            size_t np = k > 0 && path_len + (size_t)k < 512 ? path_len + (size_t)k : path_len;
            if ((rc = encode(n->items, e, out, path, np, depth + 1, err)))
                return rc;
            path[path_len] = 0;
        }
        ls_avro_write_long(out, 0);
        return LS_ERR_OK;
    }
    case LS_AVRO_RECORD:
        if (!json_is_object(v))
            return enc_error(err, path, "expected an object for record %s", n->fullname);
        for (size_t i = 0; i < n->field_count; i++) {
            const ls_avro_field_t *f = &n->fields[i];
            json_t *fv = json_object_get(v, f->name);
            int k = snprintf(path + path_len, 512 - path_len, ".%s", f->name);
            size_t np = k > 0 && path_len + (size_t)k < 512 ? path_len + (size_t)k : path_len;
            if (!fv)
                fv = f->default_value;
            if (!fv)
                return enc_error(err, path, "missing field without default");
            if ((rc = encode(f->type, fv, out, path, np, depth + 1, err)))
                return rc;
            path[path_len] = 0;
        }
        return LS_ERR_OK;
    case LS_AVRO_UNION:
        /* First branch that takes the value; a failed attempt is rolled back. */
        for (size_t i = 0; i < n->branch_count; i++) {
            size_t mark = out->len;
            ls_avro_write_long(out, (int64_t)i);
            ls_error_t sub;
            if (encode(n->branches[i], v, out, path, path_len, depth + 1, &sub) == LS_ERR_OK)
                return LS_ERR_OK;
            out->len = mark;
            path[path_len] = 0;
        }
        return enc_error(err, path, "value fits no branch of the union");
    }
    return enc_error(err, path, "unknown type");
}

ls_err_t ls_avro_encode_json(const ls_avro_node_t *schema, json_t *value, ls_avro_buf_t *out,
                             ls_error_t *err)
{
    char path[512] = "$";
    return encode(schema, value, out, path, 1, 0, err);
}
