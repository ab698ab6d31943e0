/*
 * Avro schema model: parses Avro schema JSON (jansson) into our own tree of
 * nodes that keeps everything avro-c drops (defaults, docs, aliases, custom
 * attributes such as Iceberg's field-id) and resolves names, namespaces and
 * named-type references. A reference to a named type is the same node as its
 * definition, so the tree is a graph that may be cyclic (recursive records):
 * every walker must track visited named nodes or bound its depth. This module
 * never does I/O and never keeps global state; a parsed schema is immutable
 * and may be shared read-only by any number of threads.
 */
#ifndef LS_AVRO_SCHEMA_H
#define LS_AVRO_SCHEMA_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* Deepest JSON nesting of a schema we accept; deeper input is rejected so no
 * walker can overflow the stack on hostile schemas. */
#define LS_AVRO_MAX_DEPTH 64

typedef enum {
    LS_AVRO_NULL,
    LS_AVRO_BOOLEAN,
    LS_AVRO_INT,
    LS_AVRO_LONG,
    LS_AVRO_FLOAT,
    LS_AVRO_DOUBLE,
    LS_AVRO_BYTES,
    LS_AVRO_STRING,
    LS_AVRO_RECORD,
    LS_AVRO_ENUM,
    LS_AVRO_ARRAY,
    LS_AVRO_MAP,
    LS_AVRO_UNION,
    LS_AVRO_FIXED,
} ls_avro_type_t;

typedef enum {
    LS_AVRO_LOGICAL_NONE,
    LS_AVRO_LOGICAL_DECIMAL,
    LS_AVRO_LOGICAL_DATE,
    LS_AVRO_LOGICAL_TIME_MILLIS,
    LS_AVRO_LOGICAL_TIME_MICROS,
    LS_AVRO_LOGICAL_TIMESTAMP_MILLIS,
    LS_AVRO_LOGICAL_TIMESTAMP_MICROS,
    LS_AVRO_LOGICAL_LOCAL_TIMESTAMP_MILLIS,
    LS_AVRO_LOGICAL_LOCAL_TIMESTAMP_MICROS,
    LS_AVRO_LOGICAL_UUID,
    LS_AVRO_LOGICAL_DURATION,
} ls_avro_logical_t;

typedef enum {
    LS_AVRO_ORDER_ASCENDING,
    LS_AVRO_ORDER_DESCENDING,
    LS_AVRO_ORDER_IGNORE
} ls_avro_order_t;

typedef struct ls_avro_node ls_avro_node_t;

typedef struct {
    const char *name;
    const char *doc;       /* NULL when absent */
    json_t *default_value; /* NULL when the field has no default (json null = default null) */
    const char **aliases;  /* field aliases as written */
    size_t alias_count;
    ls_avro_order_t order;
    ls_avro_node_t *type;
    json_t *json; /* the field's JSON object: custom attributes ("field-id") live here */
} ls_avro_field_t;

struct ls_avro_node {
    ls_avro_type_t type;
    ls_avro_logical_t logical; /* NONE when absent or invalid for the type (spec: ignored) */
    int precision, scale;      /* decimal only */
    /* Named types (record, enum, fixed). */
    const char *name;     /* unqualified */
    const char *space;    /* namespace, "" for the null namespace */
    const char *fullname; /* space.name, or name */
    const char *doc;
    const char **aliases; /* fully qualified */
    size_t alias_count;
    /* record */
    ls_avro_field_t *fields;
    size_t field_count;
    /* enum */
    const char **symbols;
    size_t symbol_count;
    int enum_default; /* index into symbols, -1 when absent */
    /* fixed */
    size_t size;
    /* array items / map values */
    ls_avro_node_t *items;
    /* union */
    ls_avro_node_t **branches;
    size_t branch_count;
    /* The JSON that defined this node (an object, or a string for a bare
     * primitive); custom attributes and logicalType are read from here. */
    json_t *json;
};

typedef struct ls_avro_schema ls_avro_schema_t;

typedef struct {
    /* Check every default against its field's type (Avro spec; Confluent
     * rejects schemas with invalid defaults). True unless told otherwise. */
    bool skip_default_validation;
} ls_avro_parse_options_t;

/* Parses schema JSON text (len bytes, need not be NUL-terminated). On success
 * *out owns a new schema (free with ls_avro_schema_free) that also keeps a
 * copy of the original text. On failure returns LS_ERR_INVALID_ARGUMENT with a
 * message naming the JSON path at fault (err->path), *out untouched.
 * options may be NULL. Any thread. */
ls_err_t ls_avro_schema_parse(const char *text, size_t len, const ls_avro_parse_options_t *options,
                              ls_avro_schema_t **out, ls_error_t *err);

/* Same from an already parsed JSON value (borrowed; the schema takes its own
 * reference). The original text is then json_dumps(json, JSON_COMPACT). */
ls_err_t ls_avro_schema_parse_json(json_t *json, const ls_avro_parse_options_t *options,
                                   ls_avro_schema_t **out, ls_error_t *err);

void ls_avro_schema_free(ls_avro_schema_t *schema);

/* The root node; lives as long as the schema. */
const ls_avro_node_t *ls_avro_schema_root(const ls_avro_schema_t *schema);

/* The original schema text (NUL-terminated) as given to parse; lives as long
 * as the schema. Use it wherever a schema is written out (registry, container
 * headers) so attributes survive. */
const char *ls_avro_schema_text(const ls_avro_schema_t *schema, size_t *len);

/* The named type with this fullname, or NULL. Borrowed. */
const ls_avro_node_t *ls_avro_schema_find_named(const ls_avro_schema_t *schema,
                                                const char *fullname);

/* A custom attribute of a node (e.g. "connect.name"), borrowed, or NULL. */
json_t *ls_avro_node_attribute(const ls_avro_node_t *node, const char *key);

/* "record", "int", ... */
const char *ls_avro_type_name(ls_avro_type_t type);

/* True for record, enum and fixed. */
bool ls_avro_type_is_named(ls_avro_type_t type);

/* Schema resolution's name rule for named types: the reader's unqualified
 * name equals the writer's, or one of the reader's aliases is the writer's
 * fullname (Avro's Java checker and Confluent compare this way). */
bool ls_avro_names_match(const ls_avro_node_t *reader, const ls_avro_node_t *writer);

/* True when a reader of type reader reads a writer of the different type
 * writer by promotion: int->long/float/double, long->float/double,
 * float->double, string<->bytes. */
bool ls_avro_promotes(ls_avro_type_t reader, ls_avro_type_t writer);

/* Index of the record field with this name, or -1. */
int ls_avro_record_field_index(const ls_avro_node_t *record, const char *name);

/* Index of the enum symbol, or -1. */
int ls_avro_enum_symbol_index(const ls_avro_node_t *en, const char *symbol, size_t len);

/* Checks that json is a valid default / JSON value for type per the Avro
 * spec's default rules (union: first branch). On failure fills err with a
 * message mentioning path. */
ls_err_t ls_avro_validate_default(const ls_avro_node_t *type, json_t *value, const char *path,
                                  ls_error_t *err);

#endif
