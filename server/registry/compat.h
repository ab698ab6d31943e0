/*
 * Avro schema compatibility: the reader/writer schema-resolution rules of the
 * Avro specification evaluated on our schema model, and the registry's
 * compatibility levels on top. Results are lists of reasons shaped like
 * Confluent's verbose messages (type, JSON path in the reader schema, text),
 * so the REST layer can return them unchanged. Pure functions: no I/O, no
 * global state, any thread; recursive schemas terminate because a
 * (reader, writer) pair already under examination is assumed compatible.
 */
#ifndef LS_REGISTRY_COMPAT_H
#define LS_REGISTRY_COMPAT_H

#include <stdbool.h>
#include <stddef.h>

#include "avro/schema.h"
#include "core/error.h"

typedef enum {
    LS_COMPAT_NAME_MISMATCH,
    LS_COMPAT_FIXED_SIZE_MISMATCH,
    LS_COMPAT_MISSING_ENUM_SYMBOLS,
    LS_COMPAT_READER_FIELD_MISSING_DEFAULT_VALUE,
    LS_COMPAT_TYPE_MISMATCH,
    LS_COMPAT_MISSING_UNION_BRANCH,
} ls_compat_error_type_t;

typedef struct {
    ls_compat_error_type_t type;
    char path[256];    /* JSON pointer into the reader schema, e.g. "/fields/3/type" */
    char message[400]; /* Confluent-style description */
} ls_compat_reason_t;

typedef struct {
    ls_compat_reason_t *items;
    size_t count, cap;
} ls_compat_result_t;

/* "TYPE_MISMATCH", ... */
const char *ls_compat_error_type_name(ls_compat_error_type_t type);

/* Can data written with writer be read with reader? Appends one reason per
 * incompatibility to result (which the caller zero-initialises and releases
 * with ls_compat_result_free) and returns true when none was found. Borrowed
 * nodes are only read during the call. */
bool ls_compat_can_read(const ls_avro_node_t *reader, const ls_avro_node_t *writer,
                        ls_compat_result_t *result);

void ls_compat_result_free(ls_compat_result_t *result);

typedef enum {
    LS_COMPAT_NONE,
    LS_COMPAT_BACKWARD,
    LS_COMPAT_BACKWARD_TRANSITIVE,
    LS_COMPAT_FORWARD,
    LS_COMPAT_FORWARD_TRANSITIVE,
    LS_COMPAT_FULL,
    LS_COMPAT_FULL_TRANSITIVE,
} ls_compat_level_t;

/* Level <-> Confluent name ("BACKWARD_TRANSITIVE"). parse returns
 * LS_ERR_INVALID_ARGUMENT (Confluent 42203) for unknown names. */
const char *ls_compat_level_name(ls_compat_level_t level);
ls_err_t ls_compat_level_parse(const char *name, ls_compat_level_t *out, ls_error_t *err);

/* Checks candidate against the previous schemas of a subject (oldest first,
 * newest last) under level: BACKWARD = candidate reads previous data,
 * FORWARD = previous readers read candidate data, FULL = both; the
 * non-transitive levels look only at the newest previous schema. Reasons are
 * prefixed with which direction and version failed. Returns true when
 * compatible (always for NONE or an empty list). */
bool ls_compat_check(ls_compat_level_t level, const ls_avro_node_t *candidate,
                     const ls_avro_node_t *const *previous, size_t previous_count,
                     ls_compat_result_t *result);

#endif
