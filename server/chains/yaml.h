/*
 * YAML chain specs to JSON (libyaml events to jansson), so a spec sent as
 * application/yaml is validated by exactly the same code as a JSON one.
 * Only the JSON-compatible subset is accepted: mappings with scalar keys,
 * sequences, scalars (plain scalars resolve to null, booleans, integers and
 * reals like YAML 1.2's core schema; quoted scalars stay strings). Aliases
 * and tags are rejected (no entity expansion), nesting is bounded. Pure: no
 * I/O, no global state; any thread.
 */
#ifndef LS_CHAINS_YAML_H
#define LS_CHAINS_YAML_H

#include <jansson.h>
#include <stddef.h>

#include "core/error.h"

#define LS_YAML_MAX_DEPTH 32

/* Parses one YAML document of len bytes into a new JSON value (*out owned by
 * the caller). Errors: INVALID_ARGUMENT with the line and column. */
ls_err_t ls_yaml_to_json(const char *text, size_t len, json_t **out, ls_error_t *err);

#endif
