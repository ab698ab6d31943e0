/*
 * Shared between the files of the registry module (validate.c: request
 * checks and errors; registry.c: subject operations; queries.c:
 * one-statement operations; schema_cache.c: schemas by id). Not for use
 * outside server/registry/.
 */
#ifndef LS_REGISTRY_INTERNAL_H
#define LS_REGISTRY_INTERNAL_H

#include "registry/registry.h"

#define LS__REGISTRY_CHANNEL "lakestream_registry"

struct ls_registry_schema {
    int32_t id;
    int refs;
    ls_avro_schema_t *avro;
    char *response; /* {"schema":"..."} */
    size_t response_len;
    /* cache links (insertion order, for bounding the cache) */
    struct ls_registry_schema *hash_next;
    struct ls_registry_schema *older, *newer;
    bool cached;
};

struct ls_registry {
    ls_pg_t *pg;
    /* schema cache: chained hash by id plus an insertion-ordered list */
    ls_registry_schema_t **buckets;
    size_t bucket_count, entries;
    ls_registry_schema_t *oldest, *newest;
    /* bumped on every eviction so a lookup that started before one does
     * not put back what was just evicted */
    uint64_t evict_generation;
    bool was_listening;
    bool ready; /* migrations applied */
    unsigned long long hits, misses, evictions;
};

void ls__registry_cache_init(ls_registry_t *r);
void ls__registry_cache_free(ls_registry_t *r);

/* Builds a schema entry from stored text (parsed without default checks:
 * it was validated when registered). NULL with err on unparsable text. */
ls_registry_schema_t *ls__registry_schema_new(int32_t id, const char *text, size_t len,
                                              ls_error_t *err);

/* Same from a parsed schema, which the entry takes over. */
ls_registry_schema_t *ls__registry_schema_wrap(int32_t id, ls_avro_schema_t *avro);

/* Adds s to the cache (the cache takes its own reference; the caller keeps
 * its own) unless an entry for its id is there; returns the cached entry
 * (borrowed). */
ls_registry_schema_t *ls__registry_cache_put(ls_registry_t *r, ls_registry_schema_t *s);

/* Drops ids from this instance's cache and tells the other instances
 * (count 0 with all = true drops everything). */
void ls__registry_evict(ls_registry_t *r, const int32_t *ids, size_t count, bool announce);

/* The NOTIFY handler for LS__REGISTRY_CHANNEL. */
void ls__registry_on_notify(void *arg, const char *channel, const char *payload);

/* One-statement operations (listings, config, mode): the statement runs,
 * then shape() turns its result into op->result or op->err. */
typedef struct ls__registry_simple ls__registry_simple_t;
struct ls__registry_simple {
    ls_registry_t *r;
    ls_registry_cb cb;
    void *arg;
    void (*shape)(ls__registry_simple_t *op, PGresult *res);
    char *subject; /* NULL for global settings */
    int32_t id;
    bool flag; /* operation-specific: deleted, default_to_global, ... */
    char value[32];
    void (*exists_cb)(void *arg, bool exists, const ls_registry_error_t *err);
    json_t *result;
    ls_registry_error_t err;
};

/* Runs sql; on success shape() decides, then cb fires. Takes ownership of
 * op (allocate with ls__registry_simple_new). */
ls__registry_simple_t *ls__registry_simple_new(ls_registry_t *r, const char *subject,
                                               ls_registry_cb cb, void *arg);
ls_err_t ls__registry_simple_run(ls__registry_simple_t *op, const char *sql, int n,
                                 const char *const *params, ls_registry_error_t *err);
ls_err_t ls__registry_check_store(ls_registry_t *r, ls_registry_error_t *err);

/* Sets err to success (error_code 0, code OK). */
void ls__registry_error_ok(ls_registry_error_t *err);

#endif
