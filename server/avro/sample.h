/*
 * Deterministic pseudo-random values for a schema, as JSON in decoder.h's
 * mapping: test data, benchmarks and demo producers use it to make records
 * of any schema (VQE results, alerts) without hand-written fixtures. Not for
 * anything that needs real randomness. No global state; any thread.
 */
#ifndef LS_AVRO_SAMPLE_H
#define LS_AVRO_SAMPLE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "avro/schema.h"

typedef struct {
    uint64_t seed;       /* same seed, same value */
    size_t array_items;  /* items per array/map (default 3 when 0) */
    size_t bytes_length; /* length of bytes values (default 8 when 0) */
    double null_ratio;   /* probability that a nullable union is null (0..1) */
} ls_avro_sample_options_t;

/* A new JSON value (caller owns) valid for schema node. Recursive types stop
 * at the first null/empty alternative after a few levels. */
json_t *ls_avro_sample_value(const ls_avro_node_t *node, const ls_avro_sample_options_t *options);

#endif
