/*
 * Confluent framing (see framing.h). The schema id is read as Confluent's
 * Java client writes it: a signed 32-bit big-endian int; negative ids do not
 * exist in a registry, so they are rejected here rather than looked up.
 */
#include "avro/framing.h"

#include <string.h>

#include "core/alloc.h"

ls_err_t ls_avro_frame_decode(const void *buf, size_t len, int32_t *schema_id, const uint8_t **body,
                              size_t *body_len, ls_error_t *err)
{
    const uint8_t *p = buf;
    if (!p || len < LS_AVRO_FRAME_HEADER_SIZE)
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT,
                            "framed Avro message too short: %zu bytes, the header alone is 5", len);
    if (p[0] != LS_AVRO_FRAME_MAGIC)
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT,
                            "unknown magic byte 0x%02x (expected 0x00)", p[0]);
    uint32_t id = ((uint32_t)p[1] << 24) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 8) | p[4];
    if (id > INT32_MAX)
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "negative schema id %d in framed message",
                            (int32_t)id);
    *schema_id = (int32_t)id;
    *body = p + LS_AVRO_FRAME_HEADER_SIZE;
    *body_len = len - LS_AVRO_FRAME_HEADER_SIZE;
    return LS_ERR_OK;
}

void ls_avro_frame_write_header(uint8_t out[LS_AVRO_FRAME_HEADER_SIZE], int32_t schema_id)
{
    uint32_t id = (uint32_t)schema_id;
    out[0] = LS_AVRO_FRAME_MAGIC;
    out[1] = (uint8_t)(id >> 24);
    out[2] = (uint8_t)(id >> 16);
    out[3] = (uint8_t)(id >> 8);
    out[4] = (uint8_t)id;
}

uint8_t *ls_avro_frame_encode(int32_t schema_id, const void *body, size_t body_len, size_t *out_len)
{
    uint8_t *out = ls_malloc(LS_AVRO_FRAME_HEADER_SIZE + body_len);
    ls_avro_frame_write_header(out, schema_id);
    if (body_len)
        memcpy(out + LS_AVRO_FRAME_HEADER_SIZE, body, body_len);
    *out_len = LS_AVRO_FRAME_HEADER_SIZE + body_len;
    return out;
}
