/* Lookup over the build-generated table of embedded files (core/embedded.h). */
#include "core/embedded.h"

#include <string.h>

const ls_embedded_file_t *ls_embedded_find(const char *path)
{
    for (const ls_embedded_file_t *f = ls_embedded_files; f->path != NULL; f++)
        if (strcmp(f->path, path) == 0)
            return f;
    return NULL;
}
