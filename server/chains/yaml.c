/*
 * YAML to JSON for chain specs (see yaml.h). A recursive descent over
 * libyaml's event stream; depth is bounded so hostile input cannot overflow
 * the stack, and aliases are refused so it cannot expand.
 */
#include "chains/yaml.h"

#include <errno.h>
#include <stdbool.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

typedef struct {
    yaml_parser_t parser;
    ls_error_t *err;
} ctx_t;

static ls_err_t next_event(ctx_t *c, yaml_event_t *ev)
{
    if (!yaml_parser_parse(&c->parser, ev))
        return ls_error_set(c->err, LS_ERR_INVALID_ARGUMENT,
                            "invalid YAML at line %zu column %zu: %s",
                            c->parser.problem_mark.line + 1, c->parser.problem_mark.column + 1,
                            c->parser.problem ? c->parser.problem : "syntax error");
    return LS_ERR_OK;
}

static json_t *plain_scalar(const char *s, size_t len)
{
    if (len == 0 || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
        strcmp(s, "NULL") == 0)
        return json_null();
    if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 || strcmp(s, "TRUE") == 0)
        return json_true();
    if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0 || strcmp(s, "FALSE") == 0)
        return json_false();
    char *end;
    errno = 0;
    long long ll = strtoll(s, &end, 10);
    if (*end == '\0' && errno == 0 && (s[0] == '-' || s[0] == '+' || (s[0] >= '0' && s[0] <= '9')))
        return json_integer(ll);
    errno = 0;
    double d = strtod(s, &end);
    if (*end == '\0' && errno == 0 && isfinite(d) &&
        (s[0] == '-' || s[0] == '+' || s[0] == '.' || (s[0] >= '0' && s[0] <= '9')))
        return json_real(d);
    return json_stringn(s, len);
}

static ls_err_t parse_node(ctx_t *c, yaml_event_t *ev, int depth, json_t **out);

static ls_err_t parse_children(ctx_t *c, json_t *container, int depth)
{
    bool is_map = json_is_object(container);
    for (;;) {
        yaml_event_t ev;
        if (next_event(c, &ev) != LS_ERR_OK)
            return c->err->code;
        if (ev.type == YAML_MAPPING_END_EVENT || ev.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&ev);
            return LS_ERR_OK;
        }
        if (!is_map) {
            json_t *v;
            ls_err_t rc = parse_node(c, &ev, depth + 1, &v);
            if (rc != LS_ERR_OK)
                return rc;
            json_array_append_new(container, v);
            continue;
        }
        if (ev.type != YAML_SCALAR_EVENT) {
            size_t line = ev.start_mark.line + 1;
            yaml_event_delete(&ev);
            return ls_error_set(c->err, LS_ERR_INVALID_ARGUMENT,
                                "YAML line %zu: mapping keys must be scalars", line);
        }
        char *key = strndup((const char *)ev.data.scalar.value, ev.data.scalar.length);
        size_t line = ev.start_mark.line + 1, key_len = ev.data.scalar.length;
        yaml_event_delete(&ev);
        if (key == NULL)
            abort();
        if (strlen(key) != key_len || json_object_get(container, key) != NULL) {
            ls_error_set(c->err, LS_ERR_INVALID_ARGUMENT, "YAML line %zu: duplicate key \"%.100s\"",
                         line, key);
            free(key);
            return LS_ERR_INVALID_ARGUMENT;
        }
        yaml_event_t vev;
        if (next_event(c, &vev) != LS_ERR_OK) {
            free(key);
            return c->err->code;
        }
        json_t *v;
        ls_err_t rc = parse_node(c, &vev, depth + 1, &v);
        if (rc != LS_ERR_OK) {
            free(key);
            return rc;
        }
        json_object_set_new(container, key, v);
        free(key);
    }
}

/* Consumes ev (deletes it) and the events of its children. */
static ls_err_t parse_node(ctx_t *c, yaml_event_t *ev, int depth, json_t **out)
{
    size_t line = ev->start_mark.line + 1, col = ev->start_mark.column + 1;
    if (depth > LS_YAML_MAX_DEPTH) {
        yaml_event_delete(ev);
        return ls_error_set(c->err, LS_ERR_INVALID_ARGUMENT,
                            "YAML line %zu: nesting deeper than %d levels", line,
                            LS_YAML_MAX_DEPTH);
    }
    switch (ev->type) {
    case YAML_ALIAS_EVENT:
        yaml_event_delete(ev);
        return ls_error_set(c->err, LS_ERR_INVALID_ARGUMENT,
                            "YAML line %zu column %zu: aliases are not supported", line, col);
    case YAML_SCALAR_EVENT: {
        const char *s = (const char *)ev->data.scalar.value;
        size_t len = ev->data.scalar.length;
        if (strlen(s) != len) {
            yaml_event_delete(ev);
            return ls_error_set(c->err, LS_ERR_INVALID_ARGUMENT,
                                "YAML line %zu: NUL character in a scalar", line);
        }
        *out = ev->data.scalar.plain_implicit ? plain_scalar(s, len) : json_stringn(s, len);
        yaml_event_delete(ev);
        if (*out == NULL)
            return ls_error_set(c->err, LS_ERR_INVALID_ARGUMENT,
                                "YAML line %zu: scalar is not valid UTF-8", line);
        return LS_ERR_OK;
    }
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT: {
        json_t *container = ev->type == YAML_SEQUENCE_START_EVENT ? json_array() : json_object();
        yaml_event_delete(ev);
        ls_err_t rc = parse_children(c, container, depth);
        if (rc != LS_ERR_OK) {
            json_decref(container);
            return rc;
        }
        *out = container;
        return LS_ERR_OK;
    }
    default:
        yaml_event_delete(ev);
        return ls_error_set(c->err, LS_ERR_INVALID_ARGUMENT,
                            "YAML line %zu column %zu: unexpected YAML structure", line, col);
    }
}

ls_err_t ls_yaml_to_json(const char *text, size_t len, json_t **out, ls_error_t *err)
{
    ctx_t c = {.err = err};
    if (!yaml_parser_initialize(&c.parser))
        abort();
    yaml_parser_set_input_string(&c.parser, (const unsigned char *)text, len);
    yaml_event_t ev;
    json_t *doc = NULL;
    ls_err_t rc = LS_ERR_OK;
    /* STREAM-START, DOCUMENT-START, node, DOCUMENT-END, STREAM-END */
    for (int i = 0; i < 2 && rc == LS_ERR_OK; i++) {
        rc = next_event(&c, &ev);
        if (rc != LS_ERR_OK)
            break;
        if (i == 1 && ev.type == YAML_STREAM_END_EVENT) {
            yaml_event_delete(&ev);
            rc = ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "empty YAML document");
            break;
        }
        yaml_event_delete(&ev);
    }
    if (rc == LS_ERR_OK && (rc = next_event(&c, &ev)) == LS_ERR_OK)
        rc = parse_node(&c, &ev, 0, &doc);
    if (rc == LS_ERR_OK && (rc = next_event(&c, &ev)) == LS_ERR_OK) {
        yaml_event_delete(&ev); /* DOCUMENT-END */
        if ((rc = next_event(&c, &ev)) == LS_ERR_OK) {
            if (ev.type != YAML_STREAM_END_EVENT)
                rc = ls_error_set(err, LS_ERR_INVALID_ARGUMENT,
                                  "YAML line %zu: only one document is allowed",
                                  ev.start_mark.line + 1);
            yaml_event_delete(&ev);
        }
    }
    yaml_parser_delete(&c.parser);
    if (rc != LS_ERR_OK) {
        json_decref(doc);
        return rc;
    }
    *out = doc;
    return LS_ERR_OK;
}
