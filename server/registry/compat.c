/*
 * Schema-resolution compatibility, following the Avro specification's
 * "Schema Resolution" section (and the reference Java checker's choice of
 * reasons and paths, which Confluent reports). Paths are JSON pointers into
 * the reader schema as the checker walks it: "/fields/2/type", "/items",
 * "/values", "/1" for a writer union branch, "/name", "/size", "/symbols".
 */
#include "registry/compat.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"

/* Enough for any legitimate schema; stops a hostile one from producing an
 * unbounded answer. */
#define MAX_REASONS 200

typedef struct {
    const ls_avro_node_t *reader, *writer;
} pair_t;

typedef struct {
    ls_compat_result_t *result;
    pair_t *stack;
    size_t depth, cap;
    pair_t *done; /* pairs found compatible, not re-examined */
    size_t done_count, done_cap;
    char path[256];
    size_t found;
} checker_t;

static const char *const error_names[] = {
    "NAME_MISMATCH",        "FIXED_SIZE_MISMATCH",
    "MISSING_ENUM_SYMBOLS", "READER_FIELD_MISSING_DEFAULT_VALUE",
    "TYPE_MISMATCH",        "MISSING_UNION_BRANCH"};

const char *ls_compat_error_type_name(ls_compat_error_type_t type)
{
    return (unsigned)type < sizeof(error_names) / sizeof(error_names[0]) ? error_names[type]
                                                                         : "UNKNOWN";
}

static void add_reason(checker_t *c, ls_compat_error_type_t type, const char *suffix,
                       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void add_reason(checker_t *c, ls_compat_error_type_t type, const char *suffix,
                       const char *fmt, ...)
{
    c->found++;
    ls_compat_result_t *r = c->result;
    if (!r || r->count >= MAX_REASONS)
        return;
    if (r->count == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 8;
        r->items = ls_realloc(r->items, r->cap * sizeof(*r->items));
    }
    ls_compat_reason_t *reason = &r->items[r->count++];
    reason->type = type;
    snprintf(reason->path, sizeof(reason->path), "%s%s", c->path[0] || suffix ? c->path : "/",
             suffix ? suffix : "");
    char text[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    snprintf(reason->message, sizeof(reason->message), "%s at %.120s: %.220s", error_names[type],
             reason->path, text);
}

static size_t push_path(checker_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static size_t push_path(checker_t *c, const char *fmt, ...)
{
    size_t old = strlen(c->path);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->path + old, sizeof(c->path) - old, fmt, ap);
    va_end(ap);
    return old;
}

static const char *describe(const ls_avro_node_t *n)
{
    return ls_avro_type_is_named(n->type) ? n->fullname : ls_avro_type_name(n->type);
}

static bool check(checker_t *c, const ls_avro_node_t *r, const ls_avro_node_t *w);

static bool check_name(checker_t *c, const ls_avro_node_t *r, const ls_avro_node_t *w)
{
    if (ls_avro_names_match(r, w))
        return true;
    add_reason(c, LS_COMPAT_NAME_MISMATCH, "/name",
               "expected: %s (reader type %s has a different name)", w->fullname, r->fullname);
    return false;
}

static const ls_avro_field_t *writer_field_for(const ls_avro_node_t *w, const ls_avro_field_t *rf)
{
    int i = ls_avro_record_field_index(w, rf->name);
    for (size_t a = 0; i < 0 && a < rf->alias_count; a++)
        i = ls_avro_record_field_index(w, rf->aliases[a]);
    return i >= 0 ? &w->fields[i] : NULL;
}

static bool check_same_type(checker_t *c, const ls_avro_node_t *r, const ls_avro_node_t *w)
{
    size_t mark;
    bool ok = true;
    switch (r->type) {
    case LS_AVRO_ARRAY:
    case LS_AVRO_MAP:
        mark = push_path(c, r->type == LS_AVRO_ARRAY ? "/items" : "/values");
        ok = check(c, r->items, w->items);
        c->path[mark] = 0;
        return ok;
    case LS_AVRO_FIXED:
        ok = check_name(c, r, w);
        if (r->size != w->size) {
            add_reason(c, LS_COMPAT_FIXED_SIZE_MISMATCH, "/size", "expected: %zu, found: %zu",
                       w->size, r->size);
            ok = false;
        }
        return ok;
    case LS_AVRO_ENUM: {
        ok = check_name(c, r, w);
        char missing[256] = "";
        size_t len = 0, n = 0;
        for (size_t i = 0; i < w->symbol_count; i++) {
            if (ls_avro_enum_symbol_index(r, w->symbols[i], strlen(w->symbols[i])) >= 0)
                continue;
            n++;
            int k = snprintf(missing + len, sizeof(missing) - len, "%s%s", len ? ", " : "",
                             w->symbols[i]);
            if (k > 0 && len + (size_t)k < sizeof(missing))
                len += (size_t)k;
        }
        if (n && r->enum_default < 0) {
            add_reason(c, LS_COMPAT_MISSING_ENUM_SYMBOLS, "/symbols",
                       "the reader enum %s lacks symbols [%s] of the writer and has no default",
                       r->fullname, missing);
            ok = false;
        }
        return ok;
    }
    case LS_AVRO_RECORD:
        ok = check_name(c, r, w);
        for (size_t i = 0; i < r->field_count; i++) {
            const ls_avro_field_t *rf = &r->fields[i];
            const ls_avro_field_t *wf = writer_field_for(w, rf);
            mark = push_path(c, "/fields/%zu", i);
            if (!wf) {
                if (!rf->default_value) {
                    add_reason(c, LS_COMPAT_READER_FIELD_MISSING_DEFAULT_VALUE, NULL,
                               "the field '%s' in the reader schema has no default value and is "
                               "missing in "
                               "the writer schema",
                               rf->name);
                    ok = false;
                }
            } else {
                push_path(c, "/type");
                ok = check(c, rf->type, wf->type) && ok;
            }
            c->path[mark] = 0;
        }
        return ok;
    case LS_AVRO_UNION:
        for (size_t i = 0; i < w->branch_count; i++) {
            mark = push_path(c, "/%zu", i);
            ok = check(c, r, w->branches[i]) && ok;
            c->path[mark] = 0;
        }
        return ok;
    default:
        return true; /* same primitive */
    }
}

/* Quiet probe: would r read w, without recording reasons? */
static bool probe(checker_t *c, const ls_avro_node_t *r, const ls_avro_node_t *w)
{
    checker_t sub = *c;
    sub.result = NULL;
    sub.found = 0;
    sub.stack = NULL;
    sub.cap = 0;
    sub.depth = 0;
    /* Share the in-progress stack so recursion still terminates. */
    sub.stack = ls_malloc((c->depth + 1) * sizeof(pair_t));
    memcpy(sub.stack, c->stack, c->depth * sizeof(pair_t));
    sub.depth = sub.cap = c->depth;
    sub.done = NULL;
    sub.done_count = sub.done_cap = 0;
    bool ok = check(&sub, r, w);
    free(sub.stack);
    free(sub.done);
    return ok;
}

static bool check(checker_t *c, const ls_avro_node_t *r, const ls_avro_node_t *w)
{
    for (size_t i = 0; i < c->depth; i++)
        if (c->stack[i].reader == r && c->stack[i].writer == w)
            return true; /* recursion in progress: assume compatible */
    for (size_t i = 0; i < c->done_count; i++)
        if (c->done[i].reader == r && c->done[i].writer == w)
            return true;
    if (c->depth == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 16;
        c->stack = ls_realloc(c->stack, c->cap * sizeof(pair_t));
    }
    c->stack[c->depth++] = (pair_t){r, w};
    size_t before = c->found;
    bool ok;
    if (r->type == w->type) {
        ok = check_same_type(c, r, w);
    } else if (w->type == LS_AVRO_UNION) {
        ok = true;
        for (size_t i = 0; i < w->branch_count; i++) {
            size_t mark = push_path(c, "/%zu", i);
            ok = check(c, r, w->branches[i]) && ok;
            c->path[mark] = 0;
        }
    } else {
        switch (r->type) {
        case LS_AVRO_UNION:
            ok = false;
            for (size_t i = 0; i < r->branch_count && !ok; i++)
                ok = probe(c, r->branches[i], w);
            if (!ok)
                add_reason(c, LS_COMPAT_MISSING_UNION_BRANCH, NULL,
                           "the reader union lacks a branch for writer type %s", describe(w));
            c->depth--;
            if (ok)
                goto done;
            return false;
        default:
            ok = ls_avro_promotes(r->type, w->type);
        }
        if (!ok)
            add_reason(c, LS_COMPAT_TYPE_MISMATCH, NULL,
                       "reader type %s is not compatible with writer type %s", describe(r),
                       describe(w));
    }
    c->depth--;
    ok = ok && c->found == before;
done:
    if (ok) {
        if (c->done_count == c->done_cap) {
            c->done_cap = c->done_cap ? c->done_cap * 2 : 16;
            c->done = ls_realloc(c->done, c->done_cap * sizeof(pair_t));
        }
        c->done[c->done_count++] = (pair_t){r, w};
    }
    return ok;
}

bool ls_compat_can_read(const ls_avro_node_t *reader, const ls_avro_node_t *writer,
                        ls_compat_result_t *result)
{
    checker_t c = {0};
    c.result = result;
    bool ok = check(&c, reader, writer);
    free(c.stack);
    free(c.done);
    return ok;
}

void ls_compat_result_free(ls_compat_result_t *result)
{
    free(result->items);
    memset(result, 0, sizeof(*result));
}

static const char *const level_names[] = {
    "NONE", "BACKWARD",       "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE",
    "FULL", "FULL_TRANSITIVE"};

const char *ls_compat_level_name(ls_compat_level_t level)
{
    return (unsigned)level < sizeof(level_names) / sizeof(level_names[0]) ? level_names[level]
                                                                          : "UNKNOWN";
}

ls_err_t ls_compat_level_parse(const char *name, ls_compat_level_t *out, ls_error_t *err)
{
    for (size_t i = 0; name && i < sizeof(level_names) / sizeof(level_names[0]); i++)
        if (strcasecmp(name, level_names[i]) == 0) {
            *out = (ls_compat_level_t)i;
            return LS_ERR_OK;
        }
    return ls_error_set(
        err, LS_ERR_INVALID_ARGUMENT,
        "Invalid compatibility level. Valid values are none, backward, forward, full, "
        "backward_transitive, forward_transitive, and full_transitive");
}

/* Checks one direction against one previous schema, tagging its reasons. */
static bool check_direction(const ls_avro_node_t *reader, const ls_avro_node_t *writer,
                            const char *direction, size_t version_index, ls_compat_result_t *result)
{
    size_t first = result ? result->count : 0;
    bool ok = ls_compat_can_read(reader, writer, result);
    for (size_t i = first; result && i < result->count; i++) {
        char tagged[sizeof(result->items[i].message)];
        snprintf(tagged, sizeof(tagged), "%.300s (%s, previous schema #%zu)",
                 result->items[i].message, direction, version_index + 1);
        memcpy(result->items[i].message, tagged, sizeof(tagged));
    }
    return ok;
}

bool ls_compat_check(ls_compat_level_t level, const ls_avro_node_t *candidate,
                     const ls_avro_node_t *const *previous, size_t previous_count,
                     ls_compat_result_t *result)
{
    if (level == LS_COMPAT_NONE || previous_count == 0)
        return true;
    bool transitive = level == LS_COMPAT_BACKWARD_TRANSITIVE ||
                      level == LS_COMPAT_FORWARD_TRANSITIVE || level == LS_COMPAT_FULL_TRANSITIVE;
    bool backward = level != LS_COMPAT_FORWARD && level != LS_COMPAT_FORWARD_TRANSITIVE;
    bool forward = level != LS_COMPAT_BACKWARD && level != LS_COMPAT_BACKWARD_TRANSITIVE;
    bool ok = true;
    /* Newest first, as Confluent reports. */
    for (size_t k = previous_count; k-- > 0;) {
        if (backward)
            ok = check_direction(candidate, previous[k], "BACKWARD: new schema reading old data", k,
                                 result) &&
                 ok;
        if (forward)
            ok = check_direction(previous[k], candidate, "FORWARD: old schema reading new data", k,
                                 result) &&
                 ok;
        if (!transitive)
            break;
    }
    return ok;
}
