/*
 * Avro binary decoding and encoding on our schema model. Three tools:
 *  - the extractor: a program compiled once from (writer schema, optional
 *    reader schema, wanted field paths) that decodes a record body touching
 *    only the wanted fields and skipping the rest without allocating; the
 *    chain engine runs it per record (DESIGN.md: avro-c's generic API is too
 *    slow for the alert rates);
 *  - a full decoder to JSON (jansson) with writer -> reader resolution, for
 *    sinks that need the whole record;
 *  - an encoder from JSON to Avro binary, for producers and tests.
 * Malformed input (truncation, trailing bytes, bad varints, invalid union
 * indexes, negative or absurd lengths, invalid UTF-8 in strings when decoding
 * to JSON) yields LS_ERR_INVALID_ARGUMENT and never a crash or an allocation
 * sized by the input. Compiled programs are immutable: one may be used by
 * many threads at once. No I/O, no global state.
 *
 * JSON value mapping (decode and encode): null, booleans, numbers as usual
 * (int/long as JSON integers, float/double as reals; NaN and infinities as
 * the strings "NaN", "Infinity", "-Infinity"); string as a JSON string;
 * bytes and fixed as a string whose code points 0-255 are the bytes (the
 * Avro JSON convention); enum as its symbol; array, map and record as JSON
 * arrays and objects; a union value is the branch's value, not wrapped.
 * Logical types keep their underlying representation.
 */
#ifndef LS_AVRO_DECODER_H
#define LS_AVRO_DECODER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "avro/binary.h"
#include "avro/schema.h"
#include "core/error.h"

/* Upper bound on items of zero-byte types (null, empty record) in one
 * array/map, which would otherwise let a 10-byte input spin for 2^63 turns. */
#define LS_AVRO_MAX_EMPTY_ITEMS (1u << 20)

/* Skips one value of type writer starting at *p; on success *p points after
 * it. Error on malformed or truncated input. Recursion bounded by
 * LS_AVRO_MAX_DEPTH. */
ls_err_t ls_avro_skip(const ls_avro_node_t *writer, const uint8_t **p, const uint8_t *end,
                      ls_error_t *err);

/* ---- extractor ---- */

typedef enum {
    LS_AVRO_SLOT_NULL = 0, /* null value, or absent (a null union branch on the path) */
    LS_AVRO_SLOT_BOOLEAN,
    LS_AVRO_SLOT_INT,    /* v.i */
    LS_AVRO_SLOT_LONG,   /* v.i */
    LS_AVRO_SLOT_FLOAT,  /* v.d */
    LS_AVRO_SLOT_DOUBLE, /* v.d */
    LS_AVRO_SLOT_STRING, /* v.bytes: not NUL-terminated, not UTF-8 checked */
    LS_AVRO_SLOT_BYTES,  /* v.bytes (bytes and fixed) */
    LS_AVRO_SLOT_ENUM,   /* v.i = reader symbol index, v.bytes = symbol name */
} ls_avro_slot_kind_t;

typedef struct {
    ls_avro_slot_kind_t kind;
    union {
        bool b;
        int64_t i;
        double d;
    } v;
    struct {
        const uint8_t *ptr;
        size_t len;
    } bytes;
} ls_avro_slot_t;

typedef struct ls_avro_extractor ls_avro_extractor_t;

/* Compiles an extractor. paths are dot-separated field names from the root
 * record ("candidate.ra", "objectId"), named per the reader schema when one
 * is given (reader may be NULL: the writer is the reader). A path may pass
 * through unions with one record branch (nullable nested records); a null
 * branch makes the slots below it NULL. The path must end at a scalar
 * (primitive, enum or fixed, or a union of those). With a reader, writer ->
 * reader resolution applies (promotions, aliases, enum mapping, defaults for
 * fields the writer lacks) and the schemas must be compatible.
 * Slot i receives paths[i]. Errors: unknown field, path through an
 * array/map, non-scalar leaf, incompatible schemas (LS_ERR_INVALID_ARGUMENT,
 * err->path = the offending path). Both schemas must outlive the extractor
 * (enum symbols and default strings point into them). Any thread. */
ls_err_t ls_avro_extractor_compile(const ls_avro_node_t *writer, const ls_avro_node_t *reader,
                                   const char *const *paths, size_t path_count,
                                   ls_avro_extractor_t **out, ls_error_t *err);

/* Decodes one record body of exactly len bytes into slots[path_count].
 * String/bytes slots borrow from body. Trailing bytes are an error. No
 * allocation. Any thread, concurrently. */
ls_err_t ls_avro_extractor_run(const ls_avro_extractor_t *x, const uint8_t *body, size_t len,
                               ls_avro_slot_t *slots, ls_error_t *err);

size_t ls_avro_extractor_slot_count(const ls_avro_extractor_t *x);

void ls_avro_extractor_free(ls_avro_extractor_t *x);

/* ---- full decode to JSON ---- */

typedef struct ls_avro_json_decoder ls_avro_json_decoder_t;

/* Prepares decoding of writer data as reader (reader NULL = writer). Fails
 * with LS_ERR_INVALID_ARGUMENT and the first compatibility reason when the
 * reader cannot read the writer. Schemas must outlive the decoder. */
ls_err_t ls_avro_json_decoder_new(const ls_avro_node_t *writer, const ls_avro_node_t *reader,
                                  ls_avro_json_decoder_t **out, ls_error_t *err);

/* Decodes one value of exactly len bytes into a new JSON value (*out owned
 * by the caller; json_decref). Trailing bytes are an error. Any thread. */
ls_err_t ls_avro_json_decode(const ls_avro_json_decoder_t *d, const uint8_t *body, size_t len,
                             json_t **out, ls_error_t *err);

/* Same, decoding one value from *p and advancing it (for containers). */
ls_err_t ls_avro_json_decode_next(const ls_avro_json_decoder_t *d, const uint8_t **p,
                                  const uint8_t *end, json_t **out, ls_error_t *err);

void ls_avro_json_decoder_free(ls_avro_json_decoder_t *d);

/* ---- encoder ---- */

/* Appends the Avro binary encoding of value (JSON mapping above) as type
 * schema to out. A union takes the first branch the JSON value fits. Errors
 * name the JSON path of the value that does not fit ("$.candidate.ra");
 * out may then hold a partial encoding (caller truncates to its old len). */
ls_err_t ls_avro_encode_json(const ls_avro_node_t *schema, json_t *value, ls_avro_buf_t *out,
                             ls_error_t *err);

#endif
