/*
 * The server's one error enum. Every fallible function returns an ls_err_t;
 * the human-readable detail goes into a caller-provided ls_error_t, never to
 * stderr. The code names are API.md's error codes and map to one HTTP status
 * each, so REST handlers, gRPC services and logs all say the same thing.
 */
#ifndef LS_CORE_ERROR_H
#define LS_CORE_ERROR_H

#include <stddef.h>

/* X(enum suffix, API name, HTTP status, gRPC status code) */
#define LS_ERRORS(X)                                                                               \
    X(OK, "ok", 200, 0)                                                                            \
    X(INVALID_ARGUMENT, "invalid_argument", 400, 3)                                                \
    X(NOT_FOUND, "not_found", 404, 5)                                                              \
    X(ALREADY_EXISTS, "already_exists", 409, 6)                                                    \
    X(FAILED_PRECONDITION, "failed_precondition", 412, 9)                                          \
    X(UNAUTHENTICATED, "unauthenticated", 401, 16)                                                 \
    X(PERMISSION_DENIED, "permission_denied", 403, 7)                                              \
    X(UNAVAILABLE, "unavailable", 503, 14)                                                         \
    X(INTERNAL, "internal", 500, 13)

typedef enum {
#define LS_ERR_ENUM(name, str, http, grpc) LS_ERR_##name,
    LS_ERRORS(LS_ERR_ENUM)
#undef LS_ERR_ENUM
        LS_ERR__COUNT
} ls_err_t;

/* Detail for an error: a message and, optionally, the JSON path of the input
 * field at fault ("$.processors[1].params.radius_arcsec"). Fixed buffers so a
 * caller can keep one on the stack and no error path allocates. */
typedef struct {
    ls_err_t code;
    char message[512];
    char path[256];
} ls_error_t;

/* The API name ("invalid_argument") and HTTP status of a code. */
const char *ls_err_name(ls_err_t code);
int ls_err_http_status(ls_err_t code);
int ls_err_grpc_status(ls_err_t code);

/* Fills err (when not NULL) and returns code, so callers can write
 * `return ls_error_set(err, LS_ERR_NOT_FOUND, "topic %s", name);`. */
ls_err_t ls_error_set(ls_error_t *err, ls_err_t code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Same, with a JSON path to the offending field. */
ls_err_t ls_error_set_path(ls_error_t *err, ls_err_t code, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

void ls_error_clear(ls_error_t *err);

#endif
