/*
 * The topics service: the one place that validates, creates, lists and
 * deletes topics, for the REST API, gRPC and the dashboard alike. State is a
 * row per topic in PostgreSQL plus the topic in Kafka; reads are served from
 * an in-memory copy refreshed on every change (and on NOTIFY from other
 * instances sharing the database), so listing never costs a database round
 * trip. A rejected request changes nothing. Loop thread only.
 */
#ifndef LS_SERVICES_TOPICS_H
#define LS_SERVICES_TOPICS_H

#include <jansson.h>
#include <stdbool.h>

#include "core/error.h"
#include "kafka/kafka.h"
#include "registry/registry.h"
#include "store/pg.h"

typedef struct ls_topics ls_topics_t;

ls_topics_t *ls_topics_new(ls_pg_t *pg, ls_kafka_t *kafka);
void ls_topics_free(ls_topics_t *t);

/* The schema registry that value_subject must exist in (borrowed; outlives
 * t). Without one, value_subject is not checked. */
void ls_topics_set_registry(ls_topics_t *t, ls_registry_t *registry);

/* Loads the rows into memory and starts listening for changes made by other
 * instances; cb reports the outcome (retry on UNAVAILABLE). */
ls_err_t ls_topics_load(ls_topics_t *t, void (*cb)(void *arg, const ls_error_t *err), void *arg,
                        ls_error_t *err);
bool ls_topics_loaded(const ls_topics_t *t);
size_t ls_topics_count(const ls_topics_t *t);

/* Kafka's topic-name rule: [a-zA-Z0-9._-]{1,249}, not "." or "..". */
bool ls_topic_name_valid(const char *name);

/* The cached JSON text of {"items":[...],"next_page_token":null}, sorted by
 * name. Borrowed; valid until the next change. */
const char *ls_topics_list_text(ls_topics_t *t, size_t *len);

/* Result callback: `topic` is a new reference the callee may keep (NULL on error). */
typedef void (*ls_topics_cb)(void *arg, json_t *topic, const ls_error_t *err);

/* Validates a create request body ({"name","partitions","replication_factor",
 * "config","value_subject"}), checks that value_subject has a live version in
 * the registry (else FAILED_PRECONDITION, through cb), then records the topic
 * and creates it in Kafka.
 * Synchronous errors (validation, duplicate, dependency down) → no callback. */
ls_err_t ls_topics_create(ls_topics_t *t, const json_t *body, ls_topics_cb cb, void *arg,
                          ls_error_t *err);

/* The topic with per-partition low/high offsets read from the broker. */
ls_err_t ls_topics_get(ls_topics_t *t, const char *name, ls_topics_cb cb, void *arg,
                       ls_error_t *err);

/* Deletes the topic from Kafka and from the catalog. */
ls_err_t ls_topics_delete(ls_topics_t *t, const char *name, ls_topics_cb cb, void *arg,
                          ls_error_t *err);

#endif
