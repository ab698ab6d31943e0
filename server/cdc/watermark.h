/*
 * The arithmetic of a CDC source's composite watermark (timestamp, key):
 * where the horizon of safely readable rows lies, how far the watermark may
 * advance once the broker acknowledged part of a batch, and the ISO-8601
 * text of a microsecond timestamp. Kept pure so the rules that decide
 * whether a row can be lost or repeated are unit-tested on their own; it
 * must never do I/O. Any thread.
 */
#ifndef LS_CDC_WATERMARK_H
#define LS_CDC_WATERMARK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* No open write transaction was seen. */
#define LS_CDC_NO_OPEN_TX INT64_MAX

/* The exclusive upper bound (microseconds since the epoch) of row timestamps
 * a poll may emit: a still-open write transaction that started at T may yet
 * commit rows stamped T or later (DEFAULT now() is the transaction start),
 * so the bound is min(clock, oldest open write transaction start) minus the
 * safety delay, which covers clock skew between writers and the database and
 * transactions that read longer than the delay before their first write. */
int64_t ls_cdc_horizon_us(int64_t clock_us, int64_t oldest_open_tx_us, int64_t safety_delay_ms);

/* Delivery outcome of one produced record. */
typedef enum { LS_CDC_PENDING = 0, LS_CDC_ACKED, LS_CDC_FAILED } ls_cdc_delivery_t;

/* The number of records, from the first, that the broker acknowledged with
 * no failed or pending record before them: the watermark may advance to the
 * last of these and no further (at-least-once; later acknowledged records
 * are sent again by the next poll). */
size_t ls_cdc_acked_prefix(const uint8_t *outcomes, size_t n);

/* Formats microseconds since the epoch as "2025-01-15T12:24:00Z" or, with a
 * fraction, "2025-01-15T12:24:00.123456Z". buf >= 40 bytes. */
void ls_cdc_format_us(int64_t us, char *buf, size_t size);

/* Drops a ".000000" fraction from the ISO text our SQL produces, in place, so
 * whole seconds read like the reference design's messages. */
void ls_cdc_trim_zero_fraction(char *iso);

#endif
