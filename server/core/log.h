/*
 * Structured logging: one JSON object per line on stderr
 * ({"ts":"2026-11-22T10:00:00.123Z","level":"info","component":"http","msg":"...",...}).
 * Lines are buffered and written in batches (every 100 ms from a loop timer,
 * at once for warn and above), so logging per request does not cost a
 * syscall per line. Never log secrets (passwords in DSNs, S3 keys): use
 * ls_log_redact_dsn() for connection strings. Loop thread, except that
 * ls_log() may also be called from worker threads (a mutex guards the buffer).
 */
#ifndef LS_CORE_LOG_H
#define LS_CORE_LOG_H

#include <jansson.h>
#include <stdbool.h>
#include <uv.h>

typedef enum { LS_LOG_DEBUG, LS_LOG_INFO, LS_LOG_WARN, LS_LOG_ERROR, LS_LOG_FATAL } ls_log_level_t;

/* Parses "debug|info|warn|error"; returns false for anything else. */
bool ls_log_level_parse(const char *s, ls_log_level_t *out);
const char *ls_log_level_name(ls_log_level_t level);

void ls_log_set_level(ls_log_level_t level);
bool ls_log_enabled(ls_log_level_t level);

/* Starts the flush timer on loop (optional: without it every line is written
 * at once). ls_log_stop() flushes and closes the timer (its close completes
 * in the loop like any handle). */
void ls_log_start(uv_loop_t *loop);
void ls_log_stop(void);
void ls_log_flush(void);

/* Logs msg (printf format) with optional extra fields. `fields` is a JSON
 * object whose members are added to the line; the reference is stolen (may
 * be NULL). `request_id` may be NULL. */
void ls_log_fields(ls_log_level_t level, const char *component, const char *request_id,
                   json_t *fields, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#define ls_log(level, component, ...) ls_log_fields(level, component, NULL, NULL, __VA_ARGS__)

/* Appends a preformatted JSON line (without the newline) to the buffer; for
 * hot paths such as the access log that format their own line. */
void ls_log_raw_line(const char *line, size_t len);

/* Copies a libpq DSN or URI with any password replaced by "***". Caller frees. */
char *ls_log_redact_dsn(const char *dsn);

/* Formats the current UTC time as RFC 3339 with milliseconds into buf (>= 32 bytes). */
void ls_log_timestamp(char *buf, size_t size);

#endif
