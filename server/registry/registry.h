/*
 * The schema registry service: the rules of Confluent's Schema Registry
 * (subjects, versions, global schema ids, compatibility levels, modes, soft
 * and permanent deletes) over state in PostgreSQL, for the registry REST
 * listener (api/registry.c) and for in-process users such as decoders of
 * Confluent-framed records. Results are the JSON documents of Confluent's
 * API so every front end answers alike. Every write to a subject runs in one
 * transaction holding a per-subject advisory lock, so several lakestreamd
 * instances may share the database; ids come from a PostgreSQL sequence and
 * are never reused. Schemas by id are kept in an in-memory cache (ids are
 * immutable; a permanent delete evicts, announced to other instances with
 * NOTIFY). Only AVRO schemas are accepted. Loop thread only; never blocks.
 */
#ifndef LS_REGISTRY_REGISTRY_H
#define LS_REGISTRY_REGISTRY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "avro/schema.h"
#include "core/error.h"
#include "registry/compat.h"
#include "store/pg.h"

/* Confluent's error codes; the HTTP status is the code's first three digits
 * (409 is its own code). */
enum {
    LS_REGISTRY_OK = 0,
    LS_REGISTRY_SUBJECT_NOT_FOUND = 40401,
    LS_REGISTRY_VERSION_NOT_FOUND = 40402,
    LS_REGISTRY_SCHEMA_NOT_FOUND = 40403,
    LS_REGISTRY_SUBJECT_SOFT_DELETED = 40404,
    LS_REGISTRY_SUBJECT_NOT_SOFT_DELETED = 40405,
    LS_REGISTRY_VERSION_SOFT_DELETED = 40406,
    LS_REGISTRY_VERSION_NOT_SOFT_DELETED = 40407,
    LS_REGISTRY_SUBJECT_CONFIG_NOT_FOUND = 40408,
    LS_REGISTRY_INCOMPATIBLE = 409,
    LS_REGISTRY_INVALID_SCHEMA = 42201,
    LS_REGISTRY_INVALID_VERSION = 42202,
    LS_REGISTRY_INVALID_COMPATIBILITY = 42203,
    LS_REGISTRY_INVALID_MODE = 42204,
    LS_REGISTRY_OPERATION_NOT_PERMITTED = 42205,
    LS_REGISTRY_INVALID_SUBJECT = 42208,
    LS_REGISTRY_STORE_ERROR = 50001,
};

/* An outcome: error.code is the server-wide code (for logs and gRPC),
 * error_code Confluent's (0 on success), error.message the text Confluent
 * clients show. */
typedef struct {
    ls_error_t error;
    int error_code;
} ls_registry_error_t;

/* HTTP status for a Confluent error code (40401 -> 404, 409 -> 409). */
int ls_registry_http_status(int error_code);

/* Fills err (if not NULL) and returns the matching ls_err_t. */
ls_err_t ls_registry_error_set(ls_registry_error_t *err, int error_code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

typedef enum { LS_REGISTRY_READWRITE, LS_REGISTRY_READONLY, LS_REGISTRY_IMPORT } ls_registry_mode_t;

/* ---- pure helpers (any thread) ---- */

/* A version path segment: "latest" or "-1" give -1 (latest), otherwise a
 * decimal integer in 1..2^31-1. Anything else: 42202. */
ls_err_t ls_registry_parse_version(const char *text, int *out, ls_registry_error_t *err);

/* A schema id path segment: decimal 1..2^31-1, else 40403 (no such schema). */
ls_err_t ls_registry_parse_id(const char *text, int32_t *out, ls_registry_error_t *err);

/* Mode name (case-insensitive) -> mode; unknown: 42204. */
ls_err_t ls_registry_mode_parse(const char *name, ls_registry_mode_t *out,
                                ls_registry_error_t *err);
const char *ls_registry_mode_name(ls_registry_mode_t mode);

/* Subject names: 1..255 bytes, no control characters; else 42208. */
ls_err_t ls_registry_check_subject(const char *subject, ls_registry_error_t *err);

/* Validates a registration/lookup body {"schema": "...", "schemaType":
 * "AVRO"?, "references": []?, "id"?, "version"?} and parses the schema. On
 * success *schema is a new parsed schema (caller frees) and *canonical its
 * Parsing Canonical Form (caller frees); *id and *version get the optional
 * import values (0 when absent). Errors are 42201 with a message saying what
 * is wrong (other schema types and references are not supported). */
ls_err_t ls_registry_parse_schema_request(const json_t *body, ls_avro_schema_t **schema,
                                          char **canonical, int32_t *id, int *version,
                                          ls_registry_error_t *err);

/* ---- the service ---- */

typedef struct ls_registry ls_registry_t;

/* Creates the service over a pool that outlives it, and starts listening for
 * cache evictions from other instances. Free after the pool is closed (every
 * pending operation has then called back). */
ls_registry_t *ls_registry_new(ls_pg_t *pg);
void ls_registry_free(ls_registry_t *r);

/* Tells the service its tables exist (schema migrations applied). Until
 * then every operation fails at once with 50001 saying so. */
void ls_registry_set_ready(ls_registry_t *r);

/* Result callback: result is a new reference the callee owns (NULL on
 * error); err is borrowed for the call. Every operation below returns an
 * error synchronously (no callback) for bad input or PostgreSQL being down,
 * otherwise calls cb exactly once later. */
typedef void (*ls_registry_cb)(void *arg, json_t *result, const ls_registry_error_t *err);

/* GET /subjects: array of subject names with a live version (deleted: also
 * subjects whose versions are all soft-deleted). */
ls_err_t ls_registry_list_subjects(ls_registry_t *r, bool deleted, ls_registry_cb cb, void *arg,
                                   ls_registry_error_t *err);
/* GET /subjects/{s}/versions: array of version numbers. */
ls_err_t ls_registry_list_versions(ls_registry_t *r, const char *subject, bool deleted,
                                   ls_registry_cb cb, void *arg, ls_registry_error_t *err);
/* GET /subjects/{s}/versions/{v}: {"subject","version","id","schema"}. */
ls_err_t ls_registry_get_version(ls_registry_t *r, const char *subject, const char *version,
                                 bool deleted, ls_registry_cb cb, void *arg,
                                 ls_registry_error_t *err);
/* POST /subjects/{s}/versions: {"id": N}. */
ls_err_t ls_registry_register(ls_registry_t *r, const char *subject, const json_t *body,
                              ls_registry_cb cb, void *arg, ls_registry_error_t *err);
/* POST /subjects/{s}: {"subject","id","version","schema"} of the version whose
 * schema has the same canonical form. */
ls_err_t ls_registry_lookup(ls_registry_t *r, const char *subject, const json_t *body, bool deleted,
                            ls_registry_cb cb, void *arg, ls_registry_error_t *err);
/* DELETE /subjects/{s}: array of the versions deleted. */
ls_err_t ls_registry_delete_subject(ls_registry_t *r, const char *subject, bool permanent,
                                    ls_registry_cb cb, void *arg, ls_registry_error_t *err);
/* DELETE /subjects/{s}/versions/{v}: the version number deleted. */
ls_err_t ls_registry_delete_version(ls_registry_t *r, const char *subject, const char *version,
                                    bool permanent, ls_registry_cb cb, void *arg,
                                    ls_registry_error_t *err);
/* POST /compatibility/subjects/{s}/versions[/{v}]: {"is_compatible": bool}
 * plus "messages" when verbose. version NULL checks every schema the
 * subject's level looks at (as registration would); a version (or "latest")
 * checks against that one version in the level's direction. */
ls_err_t ls_registry_check_compatibility(ls_registry_t *r, const char *subject, const char *version,
                                         const json_t *body, bool verbose, ls_registry_cb cb,
                                         void *arg, ls_registry_error_t *err);

/* /schemas/ids/{id}/subjects and /versions: subjects (or {"subject","version"}
 * pairs) using the schema. */
ls_err_t ls_registry_schema_subjects(ls_registry_t *r, int32_t id, bool deleted, bool versions,
                                     ls_registry_cb cb, void *arg, ls_registry_error_t *err);

/* /config and /config/{s}. subject NULL means the global level. get of a
 * subject without its own level: 40408, unless default_to_global. put body
 * {"compatibility": LEVEL}. delete answers the level in force before. */
ls_err_t ls_registry_get_config(ls_registry_t *r, const char *subject, bool default_to_global,
                                ls_registry_cb cb, void *arg, ls_registry_error_t *err);
ls_err_t ls_registry_put_config(ls_registry_t *r, const char *subject, const json_t *body,
                                ls_registry_cb cb, void *arg, ls_registry_error_t *err);
ls_err_t ls_registry_delete_config(ls_registry_t *r, const char *subject, ls_registry_cb cb,
                                   void *arg, ls_registry_error_t *err);

/* GET|PUT /mode (global). Switching to IMPORT needs an empty registry unless
 * force (42205 otherwise). */
ls_err_t ls_registry_get_mode(ls_registry_t *r, ls_registry_cb cb, void *arg,
                              ls_registry_error_t *err);
ls_err_t ls_registry_put_mode(ls_registry_t *r, const json_t *body, bool force, ls_registry_cb cb,
                              void *arg, ls_registry_error_t *err);

/* True when subject has at least one live (not soft-deleted) version; asks
 * PostgreSQL, so a subject just registered on another instance counts. */
ls_err_t ls_registry_subject_exists(ls_registry_t *r, const char *subject,
                                    void (*cb)(void *arg, bool exists,
                                               const ls_registry_error_t *err),
                                    void *arg, ls_registry_error_t *err);

/* ---- schemas by id (the cache) ---- */

typedef struct ls_registry_schema ls_registry_schema_t;

/* Accessors; all borrowed for the schema's lifetime. */
int32_t ls_registry_schema_id(const ls_registry_schema_t *s);
const ls_avro_schema_t *ls_registry_schema_avro(const ls_registry_schema_t *s);
const char *ls_registry_schema_text(const ls_registry_schema_t *s, size_t *len);
/* The cached body of GET /schemas/ids/{id}: {"schema":"..."}. */
const char *ls_registry_schema_response(const ls_registry_schema_t *s, size_t *len);
/* Keeps a schema beyond the callback / cache lifetime; unref releases. */
ls_registry_schema_t *ls_registry_schema_ref(ls_registry_schema_t *s);
void ls_registry_schema_unref(ls_registry_schema_t *s);

/* The cached schema with this id, or NULL (borrowed: valid until control
 * returns to the loop; ref it to keep it). Never touches PostgreSQL. */
ls_registry_schema_t *ls_registry_schema_cached(ls_registry_t *r, int32_t id);

/* The schema with this id for decoding Confluent-framed records. On a cache
 * hit cb runs before this returns; on a miss PostgreSQL is asked and cb runs
 * later. cb's schema is borrowed for the call (ref it to keep it), NULL with
 * 40403 when no subject version uses the id. */
typedef void (*ls_registry_schema_cb)(void *arg, ls_registry_schema_t *schema,
                                      const ls_registry_error_t *err);
ls_err_t ls_registry_schema_get(ls_registry_t *r, int32_t id, ls_registry_schema_cb cb, void *arg,
                                ls_registry_error_t *err);

/* Cache counters for /metrics. */
typedef struct {
    size_t entries;
    unsigned long long hits, misses, evictions;
} ls_registry_stats_t;
void ls_registry_stats(const ls_registry_t *r, ls_registry_stats_t *out);

#endif
