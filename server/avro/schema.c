/*
 * Avro schema parser: JSON -> our node graph (see schema.h). All memory of a
 * schema (nodes, strings, arrays) is owned by one list freed at once, so
 * error paths just free the half-built schema. Parsing is one pass: a named
 * type is registered before its body is parsed, so a record may refer to
 * itself, and later references resolve to the earlier definition.
 */
#include "avro/schema.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"

struct ls_avro_schema {
    void **allocs;
    size_t alloc_count, alloc_cap;
    ls_avro_node_t **named;
    size_t named_count, named_cap;
    ls_avro_node_t *root;
    json_t *json;
    char *text;
    size_t text_len;
    bool validate_defaults;
};

static void *sc_alloc(ls_avro_schema_t *s, size_t size)
{
    if (s->alloc_count == s->alloc_cap) {
        s->alloc_cap = s->alloc_cap ? s->alloc_cap * 2 : 64;
        s->allocs = ls_realloc(s->allocs, s->alloc_cap * sizeof(void *));
    }
    void *p = ls_calloc(1, size ? size : 1);
    s->allocs[s->alloc_count++] = p;
    return p;
}

static const char *sc_strdup(ls_avro_schema_t *s, const char *str)
{
    size_t n = strlen(str);
    char *p = sc_alloc(s, n + 1);
    memcpy(p, str, n + 1);
    return p;
}

static const char *sc_join(ls_avro_schema_t *s, const char *space, const char *name)
{
    if (!space || !*space)
        return sc_strdup(s, name);
    size_t a = strlen(space), b = strlen(name);
    char *p = sc_alloc(s, a + b + 2);
    memcpy(p, space, a);
    p[a] = '.';
    memcpy(p + a + 1, name, b + 1);
    return p;
}

static const char *const type_names[] = {"null",   "boolean", "int",    "long",   "float",
                                         "double", "bytes",   "string", "record", "enum",
                                         "array",  "map",     "union",  "fixed"};

const char *ls_avro_type_name(ls_avro_type_t type)
{
    return (unsigned)type < sizeof(type_names) / sizeof(type_names[0]) ? type_names[type] : "?";
}

bool ls_avro_type_is_named(ls_avro_type_t type)
{
    return type == LS_AVRO_RECORD || type == LS_AVRO_ENUM || type == LS_AVRO_FIXED;
}

static int primitive_type(const char *name)
{
    for (int t = LS_AVRO_NULL; t <= LS_AVRO_STRING; t++)
        if (strcmp(name, type_names[t]) == 0)
            return t;
    return -1;
}

/* Avro names: [A-Za-z_][A-Za-z0-9_]*, namespaces are dot-separated names. */
static bool valid_name(const char *name)
{
    if (!(isalpha((unsigned char)name[0]) || name[0] == '_'))
        return false;
    for (const char *p = name + 1; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == '_'))
            return false;
    return true;
}

static bool valid_fullname(const char *full)
{
    char buf[1024];
    if (strlen(full) >= sizeof(buf) || !*full)
        return false;
    strcpy(buf, full);
    for (char *save = NULL, *tok = strtok_r(buf, ".", &save); tok; tok = strtok_r(NULL, ".", &save))
        if (!valid_name(tok))
            return false;
    return full[strlen(full) - 1] != '.' && full[0] != '.' && !strstr(full, "..");
}

const ls_avro_node_t *ls_avro_schema_find_named(const ls_avro_schema_t *s, const char *fullname)
{
    for (size_t i = 0; i < s->named_count; i++)
        if (strcmp(s->named[i]->fullname, fullname) == 0)
            return s->named[i];
    return NULL;
}

typedef struct {
    ls_avro_schema_t *s;
    ls_error_t *err;
} parser_t;

static ls_err_t perr(parser_t *p, const char *path, const char *fmt, const char *arg)
{
    char msg[400];
    snprintf(msg, sizeof(msg), fmt, arg ? arg : "");
    return ls_error_set_path(p->err, LS_ERR_INVALID_ARGUMENT, path[0] ? path : "/",
                             "invalid Avro schema at %s: %s", path[0] ? path : "/", msg);
}

static ls_err_t parse_node(parser_t *p, json_t *j, const char *space, const char *path, int depth,
                           ls_avro_node_t **out);

static ls_avro_node_t *new_node(parser_t *p, ls_avro_type_t type, json_t *j)
{
    ls_avro_node_t *n = sc_alloc(p->s, sizeof(*n));
    n->type = type;
    n->json = j;
    n->enum_default = -1;
    return n;
}

static void add_path(char *dst, size_t cap, const char *base, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void add_path(char *dst, size_t cap, const char *base, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(dst, cap, "%s", base);
    if (n < 0 || (size_t)n >= cap)
        return;
    va_start(ap, fmt);
    vsnprintf(dst + n, cap - (size_t)n, fmt, ap);
    va_end(ap);
}

static void set_logical(ls_avro_node_t *n, json_t *j)
{
    const char *lt = json_string_value(json_object_get(j, "logicalType"));
    if (!lt)
        return;
    ls_avro_type_t t = n->type;
    if (strcmp(lt, "decimal") == 0 && (t == LS_AVRO_BYTES || t == LS_AVRO_FIXED)) {
        json_t *pj = json_object_get(j, "precision"), *sj = json_object_get(j, "scale");
        if (!json_is_integer(pj) || (sj && !json_is_integer(sj)))
            return;
        json_int_t prec = json_integer_value(pj), scale = sj ? json_integer_value(sj) : 0;
        if (prec <= 0 || scale < 0 || scale > prec || prec > 1000)
            return;
        if (t == LS_AVRO_FIXED) {
            /* max digits storable in size bytes: floor(log10(2^(8*size-1) - 1)) */
            double max_digits = floor(log10(pow(2.0, 8.0 * (double)n->size - 1.0) - 1.0));
            if ((double)prec > max_digits)
                return;
        }
        n->logical = LS_AVRO_LOGICAL_DECIMAL;
        n->precision = (int)prec;
        n->scale = (int)scale;
    } else if (strcmp(lt, "date") == 0 && t == LS_AVRO_INT) {
        n->logical = LS_AVRO_LOGICAL_DATE;
    } else if (strcmp(lt, "time-millis") == 0 && t == LS_AVRO_INT) {
        n->logical = LS_AVRO_LOGICAL_TIME_MILLIS;
    } else if (strcmp(lt, "time-micros") == 0 && t == LS_AVRO_LONG) {
        n->logical = LS_AVRO_LOGICAL_TIME_MICROS;
    } else if (strcmp(lt, "timestamp-millis") == 0 && t == LS_AVRO_LONG) {
        n->logical = LS_AVRO_LOGICAL_TIMESTAMP_MILLIS;
    } else if (strcmp(lt, "timestamp-micros") == 0 && t == LS_AVRO_LONG) {
        n->logical = LS_AVRO_LOGICAL_TIMESTAMP_MICROS;
    } else if (strcmp(lt, "local-timestamp-millis") == 0 && t == LS_AVRO_LONG) {
        n->logical = LS_AVRO_LOGICAL_LOCAL_TIMESTAMP_MILLIS;
    } else if (strcmp(lt, "local-timestamp-micros") == 0 && t == LS_AVRO_LONG) {
        n->logical = LS_AVRO_LOGICAL_LOCAL_TIMESTAMP_MICROS;
    } else if (strcmp(lt, "uuid") == 0 &&
               (t == LS_AVRO_STRING || (t == LS_AVRO_FIXED && n->size == 16))) {
        n->logical = LS_AVRO_LOGICAL_UUID;
    } else if (strcmp(lt, "duration") == 0 && t == LS_AVRO_FIXED && n->size == 12) {
        n->logical = LS_AVRO_LOGICAL_DURATION;
    }
    /* Anything else: the spec says an invalid logical type is ignored and the
     * underlying type used; the attribute stays in n->json. */
}

static ls_err_t parse_aliases(parser_t *p, json_t *j, const char *space, bool qualify,
                              const char *path, const char ***out, size_t *count)
{
    json_t *a = json_object_get(j, "aliases");
    *out = NULL;
    *count = 0;
    if (!a)
        return LS_ERR_OK;
    if (!json_is_array(a))
        return perr(p, path, "\"aliases\" must be an array of names%s", NULL);
    size_t n = json_array_size(a);
    const char **arr = sc_alloc(p->s, (n + 1) * sizeof(char *));
    for (size_t i = 0; i < n; i++) {
        const char *al = json_string_value(json_array_get(a, i));
        if (!al || !(qualify ? valid_fullname(al) : valid_name(al)))
            return perr(p, path, "invalid alias \"%s\"", al ? al : "(not a string)");
        arr[i] = (qualify && !strchr(al, '.')) ? sc_join(p->s, space, al) : sc_strdup(p->s, al);
    }
    *out = arr;
    *count = n;
    return LS_ERR_OK;
}

/* Registers a named type: computes name/namespace/fullname per the spec. */
static ls_err_t define_named(parser_t *p, ls_avro_node_t *n, json_t *j, const char *space,
                             const char *path)
{
    const char *name = json_string_value(json_object_get(j, "name"));
    if (!name)
        return perr(p, path, "%s type needs a string \"name\"", ls_avro_type_name(n->type));
    json_t *nsj = json_object_get(j, "namespace");
    if (nsj && !json_is_string(nsj) && !json_is_null(nsj))
        return perr(p, path, "\"namespace\" must be a string%s", NULL);
    const char *dot = strrchr(name, '.');
    if (dot) {
        if (!valid_fullname(name))
            return perr(p, path, "invalid name \"%s\"", name);
        n->fullname = sc_strdup(p->s, name);
        n->name = sc_strdup(p->s, dot + 1);
        char *sp = (char *)sc_alloc(p->s, (size_t)(dot - name) + 1);
        memcpy(sp, name, (size_t)(dot - name));
        n->space = sp;
    } else {
        if (!valid_name(name))
            return perr(p, path, "invalid name \"%s\"", name);
        const char *ns = nsj ? (json_string_value(nsj) ? json_string_value(nsj) : "") : space;
        if (ns && *ns && !valid_fullname(ns))
            return perr(p, path, "invalid namespace \"%s\"", ns);
        n->space = sc_strdup(p->s, ns ? ns : "");
        n->name = sc_strdup(p->s, name);
        n->fullname = sc_join(p->s, n->space, name);
    }
    if (primitive_type(n->name) >= 0 && !*n->space)
        return perr(p, path, "a named type cannot be called \"%s\"", n->name);
    if (ls_avro_schema_find_named(p->s, n->fullname))
        return perr(p, path, "type \"%s\" is defined twice", n->fullname);
    const char *doc = json_string_value(json_object_get(j, "doc"));
    n->doc = doc ? sc_strdup(p->s, doc) : NULL;
    ls_err_t rc = parse_aliases(p, j, n->space, true, path, &n->aliases, &n->alias_count);
    if (rc)
        return rc;
    ls_avro_schema_t *s = p->s;
    if (s->named_count == s->named_cap) {
        s->named_cap = s->named_cap ? s->named_cap * 2 : 16;
        s->named = ls_realloc(s->named, s->named_cap * sizeof(*s->named));
    }
    s->named[s->named_count++] = n;
    return LS_ERR_OK;
}

static ls_err_t parse_record(parser_t *p, ls_avro_node_t *n, json_t *j, const char *path, int depth)
{
    json_t *fields = json_object_get(j, "fields");
    if (!json_is_array(fields))
        return perr(p, path, "record \"%s\" needs a \"fields\" array", n->fullname);
    size_t count = json_array_size(fields);
    n->fields = sc_alloc(p->s, (count + 1) * sizeof(ls_avro_field_t));
    n->field_count = count;
    for (size_t i = 0; i < count; i++) {
        char fpath[512];
        add_path(fpath, sizeof(fpath), path, "/fields/%zu", i);
        json_t *fj = json_array_get(fields, i);
        ls_avro_field_t *f = &n->fields[i];
        if (!json_is_object(fj))
            return perr(p, fpath, "a field must be an object%s", NULL);
        const char *fname = json_string_value(json_object_get(fj, "name"));
        if (!fname || !valid_name(fname))
            return perr(p, fpath, "invalid field name \"%s\"", fname ? fname : "(missing)");
        for (size_t k = 0; k < i; k++)
            if (strcmp(n->fields[k].name, fname) == 0)
                return perr(p, fpath, "duplicate field name \"%s\"", fname);
        f->name = sc_strdup(p->s, fname);
        f->json = fj;
        const char *doc = json_string_value(json_object_get(fj, "doc"));
        f->doc = doc ? sc_strdup(p->s, doc) : NULL;
        ls_err_t rc = parse_aliases(p, fj, NULL, false, fpath, &f->aliases, &f->alias_count);
        if (rc)
            return rc;
        const char *order = json_string_value(json_object_get(fj, "order"));
        if (json_object_get(fj, "order") && !order)
            return perr(p, fpath, "\"order\" must be a string%s", NULL);
        if (!order || strcmp(order, "ascending") == 0)
            f->order = LS_AVRO_ORDER_ASCENDING;
        else if (strcmp(order, "descending") == 0)
            f->order = LS_AVRO_ORDER_DESCENDING;
        else if (strcmp(order, "ignore") == 0)
            f->order = LS_AVRO_ORDER_IGNORE;
        else
            return perr(p, fpath, "invalid order \"%s\"", order);
        json_t *tj = json_object_get(fj, "type");
        if (!tj)
            return perr(p, fpath, "field \"%s\" has no \"type\"", fname);
        char tpath[512];
        add_path(tpath, sizeof(tpath), fpath, "/type");
        rc = parse_node(p, tj, n->space, tpath, depth + 1, &f->type);
        if (rc)
            return rc;
        f->default_value = json_object_get(fj, "default");
        if (f->default_value && p->s->validate_defaults) {
            char dpath[512];
            add_path(dpath, sizeof(dpath), fpath, "/default");
            rc = ls_avro_validate_default(f->type, f->default_value, dpath, p->err);
            if (rc)
                return rc;
        }
    }
    return LS_ERR_OK;
}

static ls_err_t parse_enum(parser_t *p, ls_avro_node_t *n, json_t *j, const char *path)
{
    json_t *syms = json_object_get(j, "symbols");
    if (!json_is_array(syms))
        return perr(p, path, "enum \"%s\" needs a \"symbols\" array", n->fullname);
    size_t count = json_array_size(syms);
    n->symbols = sc_alloc(p->s, (count + 1) * sizeof(char *));
    n->symbol_count = count;
    for (size_t i = 0; i < count; i++) {
        const char *sym = json_string_value(json_array_get(syms, i));
        if (!sym || !valid_name(sym))
            return perr(p, path, "invalid enum symbol \"%s\"", sym ? sym : "(not a string)");
        for (size_t k = 0; k < i; k++)
            if (strcmp(n->symbols[k], sym) == 0)
                return perr(p, path, "duplicate enum symbol \"%s\"", sym);
        n->symbols[i] = sc_strdup(p->s, sym);
    }
    json_t *def = json_object_get(j, "default");
    if (def) {
        const char *d = json_string_value(def);
        n->enum_default = d ? ls_avro_enum_symbol_index(n, d, strlen(d)) : -1;
        if (n->enum_default < 0)
            return perr(p, path, "enum default \"%s\" is not one of its symbols",
                        d ? d : "(not a string)");
    }
    return LS_ERR_OK;
}

static ls_err_t parse_named_or_complex(parser_t *p, json_t *j, const char *space, const char *path,
                                       int depth, ls_avro_node_t **out)
{
    json_t *tj = json_object_get(j, "type");
    if (!tj)
        return perr(p, path, "schema object has no \"type\"%s", NULL);
    if (!json_is_string(tj)) {
        /* {"type": {...}} / {"type": [...]}: a wrapped schema; Java accepts it. */
        char tpath[512];
        add_path(tpath, sizeof(tpath), path, "/type");
        return parse_node(p, tj, space, tpath, depth + 1, out);
    }
    const char *type = json_string_value(tj);
    int prim = primitive_type(type);
    if (prim >= 0) {
        ls_avro_node_t *n = new_node(p, (ls_avro_type_t)prim, j);
        set_logical(n, j);
        *out = n;
        return LS_ERR_OK;
    }
    ls_err_t rc;
    if (strcmp(type, "record") == 0 || strcmp(type, "error") == 0) {
        ls_avro_node_t *n = new_node(p, LS_AVRO_RECORD, j);
        if ((rc = define_named(p, n, j, space, path)))
            return rc;
        if ((rc = parse_record(p, n, j, path, depth)))
            return rc;
        *out = n;
        return LS_ERR_OK;
    }
    if (strcmp(type, "enum") == 0) {
        ls_avro_node_t *n = new_node(p, LS_AVRO_ENUM, j);
        if ((rc = define_named(p, n, j, space, path)) || (rc = parse_enum(p, n, j, path)))
            return rc;
        *out = n;
        return LS_ERR_OK;
    }
    if (strcmp(type, "fixed") == 0) {
        ls_avro_node_t *n = new_node(p, LS_AVRO_FIXED, j);
        json_t *sz = json_object_get(j, "size");
        if (!json_is_integer(sz) || json_integer_value(sz) < 0 ||
            json_integer_value(sz) > INT32_MAX)
            return perr(p, path, "fixed needs a non-negative integer \"size\"%s", NULL);
        n->size = (size_t)json_integer_value(sz);
        if ((rc = define_named(p, n, j, space, path)))
            return rc;
        set_logical(n, j);
        *out = n;
        return LS_ERR_OK;
    }
    if (strcmp(type, "array") == 0 || strcmp(type, "map") == 0) {
        bool arr = type[0] == 'a';
        ls_avro_node_t *n = new_node(p, arr ? LS_AVRO_ARRAY : LS_AVRO_MAP, j);
        json_t *ij = json_object_get(j, arr ? "items" : "values");
        if (!ij)
            return perr(p, path, "%s needs \"items\"/\"values\"", type);
        char ipath[512];
        add_path(ipath, sizeof(ipath), path, arr ? "/items" : "/values");
        if ((rc = parse_node(p, ij, space, ipath, depth + 1, &n->items)))
            return rc;
        *out = n;
        return LS_ERR_OK;
    }
    /* {"type": "SomeNamedType"} */
    return parse_node(p, tj, space, path, depth + 1, out);
}

static ls_err_t parse_node(parser_t *p, json_t *j, const char *space, const char *path, int depth,
                           ls_avro_node_t **out)
{
    if (depth > LS_AVRO_MAX_DEPTH)
        return perr(p, path, "schema nested deeper than %s levels", "64");
    if (json_is_string(j)) {
        const char *name = json_string_value(j);
        int prim = primitive_type(name);
        if (prim >= 0) {
            *out = new_node(p, (ls_avro_type_t)prim, j);
            return LS_ERR_OK;
        }
        const ls_avro_node_t *found = NULL;
        if (!strchr(name, '.') && space && *space) {
            char full[1024];
            snprintf(full, sizeof(full), "%s.%s", space, name);
            found = ls_avro_schema_find_named(p->s, full);
        }
        if (!found)
            found = ls_avro_schema_find_named(p->s, name);
        if (!found)
            return perr(p, path, "unknown type \"%s\"", name);
        *out = (ls_avro_node_t *)found;
        return LS_ERR_OK;
    }
    if (json_is_array(j)) {
        size_t count = json_array_size(j);
        ls_avro_node_t *n = new_node(p, LS_AVRO_UNION, j);
        n->branches = sc_alloc(p->s, (count + 1) * sizeof(ls_avro_node_t *));
        n->branch_count = count;
        for (size_t i = 0; i < count; i++) {
            char bpath[512];
            add_path(bpath, sizeof(bpath), path, "/%zu", i);
            ls_err_t rc =
                parse_node(p, json_array_get(j, i), space, bpath, depth + 1, &n->branches[i]);
            if (rc)
                return rc;
            ls_avro_node_t *b = n->branches[i];
            if (b->type == LS_AVRO_UNION)
                return perr(p, bpath, "a union cannot directly contain a union%s", NULL);
            for (size_t k = 0; k < i; k++) {
                ls_avro_node_t *o = n->branches[k];
                if (o->type != b->type)
                    continue;
                if (!ls_avro_type_is_named(b->type) || strcmp(o->fullname, b->fullname) == 0)
                    return perr(p, bpath, "union has two branches of type \"%s\"",
                                ls_avro_type_is_named(b->type) ? b->fullname
                                                               : ls_avro_type_name(b->type));
            }
        }
        *out = n;
        return LS_ERR_OK;
    }
    if (json_is_object(j))
        return parse_named_or_complex(p, j, space, path, depth, out);
    return perr(p, path, "a schema must be a string, an object or an array%s", NULL);
}

ls_err_t ls_avro_schema_parse_json(json_t *json, const ls_avro_parse_options_t *options,
                                   ls_avro_schema_t **out, ls_error_t *err)
{
    char *text = json_dumps(json, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!text)
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT,
                            "invalid Avro schema: not serialisable JSON");
    ls_err_t rc = ls_avro_schema_parse(text, strlen(text), options, out, err);
    free(text);
    return rc;
}

ls_err_t ls_avro_schema_parse(const char *text, size_t len, const ls_avro_parse_options_t *options,
                              ls_avro_schema_t **out, ls_error_t *err)
{
    json_error_t jerr;
    json_t *j = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (!j)
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT,
                            "invalid Avro schema: JSON error at line %d: %s", jerr.line, jerr.text);
    ls_avro_schema_t *s = ls_calloc(1, sizeof(*s));
    s->json = j;
    s->validate_defaults = !(options && options->skip_default_validation);
    s->text = ls_strndup(text, len);
    s->text_len = len;
    parser_t p = {s, err};
    ls_err_t rc = parse_node(&p, j, "", "", 0, &s->root);
    if (rc) {
        ls_avro_schema_free(s);
        return rc;
    }
    *out = s;
    return LS_ERR_OK;
}

void ls_avro_schema_free(ls_avro_schema_t *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->alloc_count; i++)
        free(s->allocs[i]);
    free(s->allocs);
    free(s->named);
    json_decref(s->json);
    free(s->text);
    free(s);
}

const ls_avro_node_t *ls_avro_schema_root(const ls_avro_schema_t *s)
{
    return s->root;
}

const char *ls_avro_schema_text(const ls_avro_schema_t *s, size_t *len)
{
    if (len)
        *len = s->text_len;
    return s->text;
}

json_t *ls_avro_node_attribute(const ls_avro_node_t *node, const char *key)
{
    return json_is_object(node->json) ? json_object_get(node->json, key) : NULL;
}

bool ls_avro_names_match(const ls_avro_node_t *reader, const ls_avro_node_t *writer)
{
    if (strcmp(reader->name, writer->name) == 0)
        return true;
    for (size_t i = 0; i < reader->alias_count; i++)
        if (strcmp(reader->aliases[i], writer->fullname) == 0)
            return true;
    return false;
}

bool ls_avro_promotes(ls_avro_type_t reader, ls_avro_type_t writer)
{
    switch (reader) {
    case LS_AVRO_LONG:
        return writer == LS_AVRO_INT;
    case LS_AVRO_FLOAT:
        return writer == LS_AVRO_INT || writer == LS_AVRO_LONG;
    case LS_AVRO_DOUBLE:
        return writer == LS_AVRO_INT || writer == LS_AVRO_LONG || writer == LS_AVRO_FLOAT;
    case LS_AVRO_STRING:
        return writer == LS_AVRO_BYTES;
    case LS_AVRO_BYTES:
        return writer == LS_AVRO_STRING;
    default:
        return false;
    }
}

int ls_avro_record_field_index(const ls_avro_node_t *record, const char *name)
{
    for (size_t i = 0; i < record->field_count; i++)
        if (strcmp(record->fields[i].name, name) == 0)
            return (int)i;
    return -1;
}

int ls_avro_enum_symbol_index(const ls_avro_node_t *en, const char *symbol, size_t len)
{
    for (size_t i = 0; i < en->symbol_count; i++)
        if (strlen(en->symbols[i]) == len && memcmp(en->symbols[i], symbol, len) == 0)
            return (int)i;
    return -1;
}

/* Bytes/fixed defaults are JSON strings whose code points are byte values. */
static bool latin1_length(const char *s, size_t len, size_t *out)
{
    size_t n = 0;
    for (size_t i = 0; i < len; n++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80)
            i++;
        else if ((c == 0xC2 || c == 0xC3) && i + 1 < len)
            i += 2;
        else
            return false;
    }
    *out = n;
    return true;
}

static ls_err_t validate_default(const ls_avro_node_t *t, json_t *v, const char *path,
                                 ls_error_t *err, int depth)
{
    if (depth > LS_AVRO_MAX_DEPTH)
        return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, path,
                                 "default at %s nested too deeply", path);
    bool ok = true;
    switch (t->type) {
    case LS_AVRO_NULL:
        ok = json_is_null(v);
        break;
    case LS_AVRO_BOOLEAN:
        ok = json_is_boolean(v);
        break;
    case LS_AVRO_INT:
        ok = json_is_integer(v) && json_integer_value(v) >= INT32_MIN &&
             json_integer_value(v) <= INT32_MAX;
        break;
    case LS_AVRO_LONG:
        ok = json_is_integer(v);
        break;
    case LS_AVRO_FLOAT:
    case LS_AVRO_DOUBLE: {
        const char *sv = json_string_value(v);
        ok = json_is_number(v) ||
             (sv && (!strcmp(sv, "NaN") || !strcmp(sv, "Infinity") || !strcmp(sv, "-Infinity")));
        break;
    }
    case LS_AVRO_STRING:
        ok = json_is_string(v);
        break;
    case LS_AVRO_BYTES:
    case LS_AVRO_FIXED: {
        size_t n;
        ok = json_is_string(v) && latin1_length(json_string_value(v), json_string_length(v), &n) &&
             (t->type == LS_AVRO_BYTES || n == t->size);
        break;
    }
    case LS_AVRO_ENUM:
        ok = json_is_string(v) &&
             ls_avro_enum_symbol_index(t, json_string_value(v), json_string_length(v)) >= 0;
        break;
    case LS_AVRO_ARRAY: {
        if (!json_is_array(v)) {
            ok = false;
            break;
        }
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e)
        {
            ls_err_t rc = validate_default(t->items, e, path, err, depth + 1);
            if (rc)
                return rc;
        }
        break;
    }
    case LS_AVRO_MAP: {
        if (!json_is_object(v)) {
            ok = false;
            break;
        }
        const char *k;
        json_t *e;
        json_object_foreach(v, k, e)
        {
            ls_err_t rc = validate_default(t->items, e, path, err, depth + 1);
            if (rc)
                return rc;
        }
        break;
    }
    case LS_AVRO_RECORD: {
        if (!json_is_object(v)) {
            ok = false;
            break;
        }
        for (size_t i = 0; i < t->field_count; i++) {
            const ls_avro_field_t *f = &t->fields[i];
            json_t *fv = json_object_get(v, f->name);
            if (!fv)
                fv = f->default_value;
            if (!fv)
                return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, path,
                                         "invalid Avro schema: default at %s misses field \"%s\"",
                                         path, f->name);
            ls_err_t rc = validate_default(f->type, fv, path, err, depth + 1);
            if (rc)
                return rc;
        }
        break;
    }
    case LS_AVRO_UNION:
        if (t->branch_count == 0) {
            ok = false;
            break;
        }
        return validate_default(t->branches[0], v, path, err, depth + 1);
    }
    if (!ok)
        return ls_error_set_path(
            err, LS_ERR_INVALID_ARGUMENT, path,
            "invalid Avro schema: default value at %s does not match type %s%s", path,
            ls_avro_type_name(t->type), t->type == LS_AVRO_UNION ? "" : "");
    return LS_ERR_OK;
}

ls_err_t ls_avro_validate_default(const ls_avro_node_t *type, json_t *value, const char *path,
                                  ls_error_t *err)
{
    return validate_default(type, value, path, err, 0);
}
