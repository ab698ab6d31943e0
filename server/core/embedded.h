/*
 * Files compiled into the binary (the SQL migrations, schemas/openapi.yaml,
 * the Avro schemas and the dashboard under web/), generated at build time by cmake/embed.cmake.
 * Read-only, static lifetime, usable from any thread.
 */
#ifndef LS_CORE_EMBEDDED_H
#define LS_CORE_EMBEDDED_H

#include <stddef.h>

typedef struct {
    const char *path;          /* relative to the source root, e.g. "schemas/sql/0001_init.sql" */
    const unsigned char *data; /* NUL-terminated for convenience; len excludes the NUL */
    size_t len;
} ls_embedded_file_t;

/* Terminated by an entry whose path is NULL; sorted by path. */
extern const ls_embedded_file_t ls_embedded_files[];

/* The file at exactly `path`, or NULL. */
const ls_embedded_file_t *ls_embedded_find(const char *path);

#endif
