/*
 * Strict readers for JSON request bodies (jansson). They reject unknown
 * members and wrong types with an INVALID_ARGUMENT error naming the JSON
 * path ("$.partitions"), so every resource validates its input the same way
 * and a bad request never reaches a state change. Any thread.
 */
#ifndef LS_CORE_JSON_H
#define LS_CORE_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"

/* Fails when `obj` is not an object or has a member not in `allowed`
 * (NULL-terminated). `path` is the object's own path ("$"). */
ls_err_t ls_json_check_members(const json_t *obj, const char *path, const char *const *allowed,
                               ls_error_t *err);

/* Reads obj[key] as a string. Missing or null: *out = def (may be NULL) and,
 * when required, an error. Borrowed result, lives as long as obj. */
ls_err_t ls_json_get_string(const json_t *obj, const char *path, const char *key, bool required,
                            const char *def, const char **out, ls_error_t *err);

/* Reads obj[key] as an integer in [min, max]; missing: def (or error if required). */
ls_err_t ls_json_get_int(const json_t *obj, const char *path, const char *key, bool required,
                         int64_t def, int64_t min, int64_t max, int64_t *out, ls_error_t *err);

ls_err_t ls_json_get_bool(const json_t *obj, const char *path, const char *key, bool def, bool *out,
                          ls_error_t *err);

/* Serialises compactly; caller frees. */
char *ls_json_dump(const json_t *value);

#endif
