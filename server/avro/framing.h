/*
 * Confluent wire framing of Kafka record values and keys: one magic byte 0x00,
 * the schema id as a 4-byte big-endian integer, then the Avro binary body.
 * Pure functions on caller buffers: no allocation except in
 * ls_avro_frame_encode, no I/O, any thread. Never trusts the input length.
 */
#ifndef LS_AVRO_FRAMING_H
#define LS_AVRO_FRAMING_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define LS_AVRO_FRAME_MAGIC 0x00
#define LS_AVRO_FRAME_HEADER_SIZE 5

/* Splits a framed message. On success *schema_id is the id and *body /
 * *body_len borrow the bytes after the header (they live as long as buf).
 * Errors (LS_ERR_INVALID_ARGUMENT): buffer shorter than 5 bytes, magic byte
 * other than 0, negative schema id. Outputs untouched on error. */
ls_err_t ls_avro_frame_decode(const void *buf, size_t len, int32_t *schema_id, const uint8_t **body,
                              size_t *body_len, ls_error_t *err);

/* Writes the 5-byte header for schema_id (>= 0) into out. */
void ls_avro_frame_write_header(uint8_t out[LS_AVRO_FRAME_HEADER_SIZE], int32_t schema_id);

/* Header + body in a new heap buffer of *out_len bytes (caller frees). */
uint8_t *ls_avro_frame_encode(int32_t schema_id, const void *body, size_t body_len,
                              size_t *out_len);

#endif
