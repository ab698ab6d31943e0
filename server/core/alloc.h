/*
 * Allocation policy for the whole server, stated once: an allocation that
 * fails aborts the process through ls_oom(). Nothing in lakestream checks
 * malloc's result by hand; it calls these wrappers instead. Sizes that come
 * from outside input (lengths in files, records, requests) must be bounded by
 * the caller *before* they reach an allocation; these wrappers do not guess.
 */
#ifndef LS_CORE_ALLOC_H
#define LS_CORE_ALLOC_H

#include <stddef.h>

/* Logs "out of memory" with the size asked for and aborts. Never returns. */
_Noreturn void ls_oom(size_t size);

/* malloc/calloc/realloc/strdup that never return NULL (for size 0 they return
 * a unique pointer that must still be freed with free()). Callers own the
 * result and release it with free(). Any thread. */
void *ls_malloc(size_t size);
void *ls_calloc(size_t count, size_t size);
void *ls_realloc(void *ptr, size_t size);
char *ls_strdup(const char *s);
char *ls_strndup(const char *s, size_t n);

/* printf into a fresh heap string owned by the caller. */
char *ls_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
