/* Growable buffer (see buf.h); doubling growth, always NUL-terminated. */
#include "core/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

void ls_buf_reserve(ls_buf_t *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    b->data = ls_realloc(b->data, cap);
    b->cap = cap;
}

void ls_buf_append(ls_buf_t *b, const void *data, size_t len)
{
    ls_buf_reserve(b, len);
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void ls_buf_puts(ls_buf_t *b, const char *s)
{
    ls_buf_append(b, s, strlen(s));
}

void ls_buf_printf(ls_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof(small)) {
        ls_buf_append(b, small, (size_t)n);
        return;
    }
    ls_buf_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

char *ls_buf_steal(ls_buf_t *b, size_t *len)
{
    if (b->data == NULL)
        ls_buf_reserve(b, 0), b->data[0] = '\0';
    char *p = b->data;
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

void ls_buf_free(ls_buf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
