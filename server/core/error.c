/* Names and status mappings of ls_err_t, generated from the one X-macro list. */
#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    int http;
    int grpc;
} error_table[] = {
#define LS_ERR_ROW(name, str, http, grpc) {str, http, grpc},
    LS_ERRORS(LS_ERR_ROW)
#undef LS_ERR_ROW
};

const char *ls_err_name(ls_err_t code)
{
    return (unsigned)code < LS_ERR__COUNT ? error_table[code].name : "internal";
}

int ls_err_http_status(ls_err_t code)
{
    return (unsigned)code < LS_ERR__COUNT ? error_table[code].http : 500;
}

int ls_err_grpc_status(ls_err_t code)
{
    return (unsigned)code < LS_ERR__COUNT ? error_table[code].grpc : 13;
}

static ls_err_t error_vset(ls_error_t *err, ls_err_t code, const char *path, const char *fmt,
                           va_list ap)
{
    if (err == NULL)
        return code;
    err->code = code;
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    snprintf(err->path, sizeof(err->path), "%s", path ? path : "");
    return code;
}

ls_err_t ls_error_set(ls_error_t *err, ls_err_t code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_vset(err, code, NULL, fmt, ap);
    va_end(ap);
    return code;
}

ls_err_t ls_error_set_path(ls_error_t *err, ls_err_t code, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_vset(err, code, path, fmt, ap);
    va_end(ap);
    return code;
}

void ls_error_clear(ls_error_t *err)
{
    if (err == NULL)
        return;
    memset(err, 0, sizeof(*err));
}
