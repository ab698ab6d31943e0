/*
 * A growable byte buffer for building responses, log lines and metric text.
 * Owns its memory; ls_buf_free releases it. Any thread (not shared).
 */
#ifndef LS_CORE_BUF_H
#define LS_CORE_BUF_H

#include <stddef.h>

typedef struct {
    char *data; /* always NUL-terminated when non-NULL */
    size_t len;
    size_t cap;
} ls_buf_t;

#define LS_BUF_INIT                                                                                \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

void ls_buf_reserve(ls_buf_t *b, size_t extra);
void ls_buf_append(ls_buf_t *b, const void *data, size_t len);
void ls_buf_puts(ls_buf_t *b, const char *s);
void ls_buf_printf(ls_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hands the bytes to the caller (free() them) and resets the buffer. */
char *ls_buf_steal(ls_buf_t *b, size_t *len);
void ls_buf_free(ls_buf_t *b);

#endif
