/*
 * The one home of the allocation-failure policy (see alloc.h): abort loudly.
 * A server that keeps running after a failed allocation corrupts data later in
 * ways nobody can debug; a crash restarts cleanly from durable state.
 */
#include "core/alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Noreturn void ls_oom(size_t size)
{
    fprintf(stderr, "{\"level\":\"fatal\",\"msg\":\"out of memory\",\"size\":%zu}\n", size);
    abort();
}

void *ls_malloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (p == NULL)
        ls_oom(size);
    return p;
}

void *ls_calloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (p == NULL)
        ls_oom(count * size);
    return p;
}

void *ls_realloc(void *ptr, size_t size)
{
    void *p = realloc(ptr, size ? size : 1);
    if (p == NULL)
        ls_oom(size);
    return p;
}

char *ls_strdup(const char *s)
{
    return ls_strndup(s, strlen(s));
}

char *ls_strndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *p = ls_malloc(len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *ls_asprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        ls_oom(0);
    char *p = ls_malloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}
