/*
 * Schemas by id, in memory: the hot path of every deserializer
 * (GET /schemas/ids/{id}) and of in-process decoders. An id's schema never
 * changes, so an entry is only ever invalid after a permanent delete left
 * the id unused; those evictions are broadcast with NOTIFY. If the LISTEN
 * connection was lost, notifications may have been missed, so the cache is
 * emptied once the LISTEN is back. The cache is bounded by entry count
 * (oldest first out); entries are reference-counted so a holder keeps a
 * schema after eviction. A miss is one asynchronous PostgreSQL query; this
 * file never blocks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "registry/internal.h"

#define CACHE_MAX_ENTRIES 8192
#define INITIAL_BUCKETS 256

int32_t ls_registry_schema_id(const ls_registry_schema_t *s)
{
    return s->id;
}

const ls_avro_schema_t *ls_registry_schema_avro(const ls_registry_schema_t *s)
{
    return s->avro;
}

const char *ls_registry_schema_text(const ls_registry_schema_t *s, size_t *len)
{
    return ls_avro_schema_text(s->avro, len);
}

const char *ls_registry_schema_response(const ls_registry_schema_t *s, size_t *len)
{
    if (len != NULL)
        *len = s->response_len;
    return s->response;
}

ls_registry_schema_t *ls_registry_schema_ref(ls_registry_schema_t *s)
{
    s->refs++;
    return s;
}

void ls_registry_schema_unref(ls_registry_schema_t *s)
{
    if (s == NULL || --s->refs > 0)
        return;
    ls_avro_schema_free(s->avro);
    free(s->response);
    free(s);
}

ls_registry_schema_t *ls__registry_schema_new(int32_t id, const char *text, size_t len,
                                              ls_error_t *err)
{
    ls_avro_parse_options_t opts = {.skip_default_validation = true};
    ls_avro_schema_t *avro;
    if (ls_avro_schema_parse(text, len, &opts, &avro, err) != LS_ERR_OK)
        return NULL;
    return ls__registry_schema_wrap(id, avro);
}

ls_registry_schema_t *ls__registry_schema_wrap(int32_t id, ls_avro_schema_t *avro)
{
    size_t len;
    const char *text = ls_avro_schema_text(avro, &len);
    ls_registry_schema_t *s = ls_calloc(1, sizeof(*s));
    s->id = id;
    s->refs = 1;
    s->avro = avro;
    json_t *doc = json_pack("{s:s%}", "schema", text, len);
    s->response = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (s->response == NULL)
        ls_oom(0);
    s->response_len = strlen(s->response);
    return s;
}

/* ---------- the hash ---------- */

void ls__registry_cache_init(ls_registry_t *r)
{
    r->bucket_count = INITIAL_BUCKETS;
    r->buckets = ls_calloc(r->bucket_count, sizeof(*r->buckets));
}

static size_t bucket_of(const ls_registry_t *r, int32_t id)
{
    return ((uint32_t)id * 2654435761u) & (r->bucket_count - 1);
}

static ls_registry_schema_t *find(const ls_registry_t *r, int32_t id)
{
    for (ls_registry_schema_t *s = r->buckets[bucket_of(r, id)]; s != NULL; s = s->hash_next)
        if (s->id == id)
            return s;
    return NULL;
}

static void unlink_entry(ls_registry_t *r, ls_registry_schema_t *s)
{
    ls_registry_schema_t **pp = &r->buckets[bucket_of(r, s->id)];
    while (*pp != s)
        pp = &(*pp)->hash_next;
    *pp = s->hash_next;
    if (s->older != NULL)
        s->older->newer = s->newer;
    else
        r->oldest = s->newer;
    if (s->newer != NULL)
        s->newer->older = s->older;
    else
        r->newest = s->older;
    s->hash_next = s->older = s->newer = NULL;
    s->cached = false;
    r->entries--;
    ls_registry_schema_unref(s);
}

static void grow(ls_registry_t *r)
{
    size_t old_count = r->bucket_count;
    ls_registry_schema_t **old = r->buckets;
    r->bucket_count *= 2;
    r->buckets = ls_calloc(r->bucket_count, sizeof(*r->buckets));
    for (size_t i = 0; i < old_count; i++) {
        ls_registry_schema_t *s = old[i];
        while (s != NULL) {
            ls_registry_schema_t *next = s->hash_next;
            size_t b = bucket_of(r, s->id);
            s->hash_next = r->buckets[b];
            r->buckets[b] = s;
            s = next;
        }
    }
    free(old);
}

ls_registry_schema_t *ls__registry_cache_put(ls_registry_t *r, ls_registry_schema_t *s)
{
    ls_registry_schema_t *existing = find(r, s->id);
    if (existing != NULL)
        return existing;
    if (r->entries >= CACHE_MAX_ENTRIES)
        unlink_entry(r, r->oldest);
    if (r->entries + 1 > r->bucket_count)
        grow(r);
    size_t b = bucket_of(r, s->id);
    s->hash_next = r->buckets[b];
    r->buckets[b] = s;
    s->older = r->newest;
    s->newer = NULL;
    if (r->newest != NULL)
        r->newest->newer = s;
    else
        r->oldest = s;
    r->newest = s;
    s->cached = true;
    s->refs++;
    r->entries++;
    return s;
}

static void clear_all(ls_registry_t *r)
{
    while (r->oldest != NULL)
        unlink_entry(r, r->oldest);
}

void ls__registry_cache_free(ls_registry_t *r)
{
    clear_all(r);
    free(r->buckets);
    r->buckets = NULL;
}

/* Catches a LISTEN that came back after an outage: whatever was evicted
 * meanwhile on other instances was not heard, so start over. */
static void check_listening(ls_registry_t *r)
{
    bool now = ls_pg_listening(r->pg, LS__REGISTRY_CHANNEL);
    if (now && !r->was_listening && r->entries > 0) {
        ls_log(LS_LOG_INFO, "registry",
               "change notifications are back; dropping %zu cached schemas", r->entries);
        r->evict_generation++;
        clear_all(r);
    }
    r->was_listening = now;
}

ls_registry_schema_t *ls_registry_schema_cached(ls_registry_t *r, int32_t id)
{
    check_listening(r);
    ls_registry_schema_t *s = find(r, id);
    if (s != NULL)
        r->hits++;
    return s;
}

void ls_registry_stats(const ls_registry_t *r, ls_registry_stats_t *out)
{
    out->entries = r->entries;
    out->hits = r->hits;
    out->misses = r->misses;
    out->evictions = r->evictions;
}

/* ---------- eviction ---------- */

static void on_announced(void *arg, const ls_error_t *err)
{
    if (err->code != LS_ERR_OK)
        ls_log(LS_LOG_WARN, "registry", "cannot tell other instances about deleted schemas: %s",
               err->message);
}

void ls__registry_evict(ls_registry_t *r, const int32_t *ids, size_t count, bool announce)
{
    r->evict_generation++;
    for (size_t i = 0; i < count; i++) {
        ls_registry_schema_t *s = find(r, ids[i]);
        if (s != NULL) {
            unlink_entry(r, s);
            r->evictions++;
        }
    }
    if (!announce || count == 0)
        return;
    /* NOTIFY payloads must stay under 8000 bytes; past that, everything. */
    char payload[4096];
    size_t used = (size_t)snprintf(payload, sizeof(payload), "evict:");
    for (size_t i = 0; i < count; i++) {
        char one[16];
        int n = snprintf(one, sizeof(one), "%s%d", i ? "," : "", ids[i]);
        if (used + (size_t)n >= sizeof(payload)) {
            snprintf(payload, sizeof(payload), "evict:all");
            break;
        }
        memcpy(payload + used, one, (size_t)n + 1);
        used += (size_t)n;
    }
    ls_error_t err;
    if (ls_pg_notify(r->pg, LS__REGISTRY_CHANNEL, payload, on_announced, r, &err) != LS_ERR_OK)
        on_announced(r, &err);
}

void ls__registry_on_notify(void *arg, const char *channel, const char *payload)
{
    ls_registry_t *r = arg;
    if (strncmp(payload, "evict:", 6) != 0)
        return;
    const char *p = payload + 6;
    if (strcmp(p, "all") == 0) {
        r->evict_generation++;
        r->evictions += r->entries;
        clear_all(r);
        return;
    }
    while (*p != '\0') {
        char *end;
        long id = strtol(p, &end, 10);
        if (end == p)
            break;
        int32_t one = (int32_t)id;
        ls__registry_evict(r, &one, 1, false);
        p = *end == ',' ? end + 1 : end;
    }
}

/* ---------- lookup by id ---------- */

typedef struct {
    ls_registry_t *r;
    int32_t id;
    uint64_t generation;
    ls_registry_schema_cb cb;
    void *arg;
} get_op_t;

static void on_schema_row(void *arg, PGresult *res, const ls_error_t *qerr)
{
    get_op_t *op = arg;
    ls_registry_t *r = op->r;
    ls_registry_error_t err = {.error_code = 0};
    ls_error_clear(&err.error);
    ls_registry_schema_t *s = NULL;
    if (qerr->code != LS_ERR_OK) {
        ls_registry_error_set(&err, LS_REGISTRY_STORE_ERROR, "Error while retrieving schema: %s",
                              qerr->message);
    } else if (PQntuples(res) == 0) {
        ls_registry_error_set(&err, LS_REGISTRY_SCHEMA_NOT_FOUND, "Schema %d not found", op->id);
    } else {
        ls_error_t perr;
        s = ls__registry_schema_new(op->id, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0),
                                    &perr);
        if (s == NULL) {
            ls_registry_error_set(&err, LS_REGISTRY_STORE_ERROR,
                                  "Stored schema %d cannot be parsed: %s", op->id, perr.message);
        } else if (op->generation == r->evict_generation) {
            ls_registry_schema_t *cached = ls__registry_cache_put(r, s);
            ls_registry_schema_unref(s);
            s = ls_registry_schema_ref(cached);
        }
    }
    op->cb(op->arg, s, &err);
    ls_registry_schema_unref(s);
    free(op);
}

ls_err_t ls_registry_schema_get(ls_registry_t *r, int32_t id, ls_registry_schema_cb cb, void *arg,
                                ls_registry_error_t *err)
{
    ls_registry_schema_t *s = ls_registry_schema_cached(r, id);
    if (s != NULL) {
        ls_registry_error_t ok = {.error_code = 0};
        ls_error_clear(&ok.error);
        ls_registry_schema_ref(s);
        cb(arg, s, &ok);
        ls_registry_schema_unref(s);
        return LS_ERR_OK;
    }
    if (id <= 0)
        return ls_registry_error_set(err, LS_REGISTRY_SCHEMA_NOT_FOUND, "Schema %d not found", id);
    if (ls__registry_check_store(r, err) != LS_ERR_OK)
        return err->error.code;
    r->misses++;
    get_op_t *op = ls_calloc(1, sizeof(*op));
    op->r = r;
    op->id = id;
    op->generation = r->evict_generation;
    op->cb = cb;
    op->arg = arg;
    char idtext[16];
    snprintf(idtext, sizeof(idtext), "%d", id);
    const char *params[] = {idtext};
    ls_error_t qerr;
    /* A schema no subject version refers to any more (all permanently
     * deleted) is gone, as in Confluent, although its row and id remain. */
    if (ls_pg_query(r->pg,
                    "SELECT s.schema_text FROM registry_schemas s WHERE s.id = $1::int AND "
                    "EXISTS (SELECT 1 FROM registry_subject_versions v WHERE v.schema_id = s.id)",
                    1, params, on_schema_row, op, &qerr) != LS_ERR_OK) {
        free(op);
        return ls_registry_error_set(err, LS_REGISTRY_STORE_ERROR,
                                     "Error while retrieving schema: %s", qerr.message);
    }
    return LS_ERR_OK;
}
