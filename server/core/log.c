/*
 * JSON-lines logger (see log.h). A line is built in one buffer and appended
 * to a process-wide output buffer; the buffer goes to stderr when it fills,
 * when a timer fires, or at once for warnings and errors, so operators see
 * problems immediately while routine lines cost no syscall each. This module
 * must never block the loop for long: one write(2) of at most the buffer size.
 */
#include "core/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "core/alloc.h"

#define LOG_BUFFER_SIZE (256 * 1024)

static ls_log_level_t min_level = LS_LOG_INFO;
static pthread_mutex_t buffer_lock = PTHREAD_MUTEX_INITIALIZER;
static char out_buffer[LOG_BUFFER_SIZE];
static size_t out_len;
static uv_timer_t flush_timer;
static bool timer_running;

static const char *level_names[] = {"debug", "info", "warn", "error", "fatal"};

bool ls_log_level_parse(const char *s, ls_log_level_t *out)
{
    for (int i = LS_LOG_DEBUG; i <= LS_LOG_ERROR; i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (ls_log_level_t)i;
            return true;
        }
    }
    return false;
}

const char *ls_log_level_name(ls_log_level_t level)
{
    return level <= LS_LOG_FATAL ? level_names[level] : "info";
}

void ls_log_set_level(ls_log_level_t level)
{
    min_level = level;
}

bool ls_log_enabled(ls_log_level_t level)
{
    return level >= min_level;
}

/* Caller holds buffer_lock. */
static void flush_locked(void)
{
    size_t off = 0;
    while (off < out_len) {
        ssize_t n = write(STDERR_FILENO, out_buffer + off, out_len - off);
        if (n <= 0)
            break; /* stderr gone: drop the lines rather than spin */
        off += (size_t)n;
    }
    out_len = 0;
}

void ls_log_flush(void)
{
    pthread_mutex_lock(&buffer_lock);
    flush_locked();
    pthread_mutex_unlock(&buffer_lock);
}

static void append_line(const char *line, size_t len, bool urgent)
{
    pthread_mutex_lock(&buffer_lock);
    if (out_len + len + 1 > sizeof(out_buffer))
        flush_locked();
    if (len + 1 > sizeof(out_buffer)) {
        /* A giant line goes straight out. */
        (void)!write(STDERR_FILENO, line, len);
        (void)!write(STDERR_FILENO, "\n", 1);
    } else {
        memcpy(out_buffer + out_len, line, len);
        out_buffer[out_len + len] = '\n';
        out_len += len + 1;
    }
    if (urgent || !timer_running)
        flush_locked();
    pthread_mutex_unlock(&buffer_lock);
}

void ls_log_raw_line(const char *line, size_t len)
{
    append_line(line, len, false);
}

static void on_flush_timer(uv_timer_t *t)
{
    ls_log_flush();
}

void ls_log_start(uv_loop_t *loop)
{
    uv_timer_init(loop, &flush_timer);
    uv_timer_start(&flush_timer, on_flush_timer, 100, 100);
    uv_unref((uv_handle_t *)&flush_timer);
    timer_running = true;
}

void ls_log_stop(void)
{
    if (!timer_running)
        return;
    ls_log_flush();
    timer_running = false;
    uv_timer_stop(&flush_timer);
    uv_close((uv_handle_t *)&flush_timer, NULL);
}

/* The date-and-seconds part is formatted once per second per thread; the
 * hot path (an access-log line per request) only writes the milliseconds. */
void ls_log_timestamp(char *buf, size_t size)
{
    static __thread time_t cached_sec = -1;
    static __thread char cached[64]; /* "2026-11-22T10:00:00." */
    struct timespec now;
    clock_gettime(CLOCK_REALTIME_COARSE, &now);
    if (now.tv_sec != cached_sec) {
        struct tm tm;
        gmtime_r(&now.tv_sec, &tm);
        strftime(cached, sizeof(cached), "%Y-%m-%dT%H:%M:%S.", &tm);
        cached_sec = now.tv_sec;
    }
    int ms = (int)(now.tv_nsec / 1000000);
    if (size < 25) {
        if (size > 0)
            buf[0] = '\0';
        return;
    }
    memcpy(buf, cached, 20);
    buf[20] = (char)('0' + ms / 100);
    buf[21] = (char)('0' + ms / 10 % 10);
    buf[22] = (char)('0' + ms % 10);
    buf[23] = 'Z';
    buf[24] = '\0';
}

void ls_log_fields(ls_log_level_t level, const char *component, const char *request_id,
                   json_t *fields, const char *fmt, ...)
{
    if (level < min_level) {
        json_decref(fields);
        return;
    }
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);

    char ts[40];
    ls_log_timestamp(ts, sizeof(ts));
    json_t *line = json_object();
    json_object_set_new(line, "ts", json_string(ts));
    json_object_set_new(line, "level", json_string(ls_log_level_name(level)));
    json_object_set_new(line, "component", json_string(component));
    json_object_set_new(line, "msg", json_string(msg));
    if (request_id != NULL)
        json_object_set_new(line, "request_id", json_string(request_id));
    if (fields != NULL) {
        json_object_update_missing(line, fields);
        json_decref(fields);
    }
    char *text = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(line);
    if (text == NULL)
        ls_oom(0);
    append_line(text, strlen(text), level >= LS_LOG_WARN);
    free(text);
}

char *ls_log_redact_dsn(const char *dsn)
{
    /* URI form: postgresql://user:secret@host/db */
    const char *scheme = strstr(dsn, "://");
    if (scheme != NULL) {
        const char *at = strchr(scheme + 3, '@');
        const char *colon = strchr(scheme + 3, ':');
        if (at != NULL && colon != NULL && colon < at)
            return ls_asprintf("%.*s:***%s", (int)(colon - dsn), dsn, at);
        return ls_strdup(dsn);
    }
    /* key=value form: replace the value of password= */
    const char *pw = strstr(dsn, "password=");
    if (pw == NULL)
        return ls_strdup(dsn);
    const char *end = pw + strlen("password=");
    if (*end == '\'') {
        end++;
        while (*end != '\0' && *end != '\'')
            end += (*end == '\\' && end[1] != '\0') ? 2 : 1;
        if (*end == '\'')
            end++;
    } else {
        while (*end != '\0' && *end != ' ')
            end++;
    }
    return ls_asprintf("%.*spassword=***%s", (int)(pw - dsn), dsn, end);
}
