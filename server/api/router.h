/*
 * The routing table: patterns such as "/api/v1/topics/{name}" or
 * "/api/v1/chains/{name}:pause" matched segment by segment, with path
 * parameters percent-decoded. Independent of the HTTP library so it can be
 * unit-tested and shared by the REST and registry listeners. A segment holds
 * at most one parameter, optionally with a literal prefix and suffix.
 * Loop thread (no internal locking); matching allocates nothing.
 */
#ifndef LS_API_ROUTER_H
#define LS_API_ROUTER_H

#include <stddef.h>
#include <stdint.h>

#include "core/metrics.h"

#define LS_ROUTER_MAX_PARAMS 8
#define LS_ROUTER_MAX_SEGMENTS 16
#define LS_ROUTER_PARAM_MAX 512 /* longest decoded parameter value */

typedef struct ls_route ls_route_t;

/* Statistics kept on the route itself so the hot path never looks them up. */
typedef struct {
    uint64_t by_class[6]; /* index status/100: 1xx..5xx */
    ls_histogram_t latency;
} ls_route_stats_t;

struct ls_route {
    char *method;  /* "GET", ... */
    char *pattern; /* as registered; also the metrics label */
    void *handler; /* opaque to the router */
    void *data;    /* opaque to the router */
    int segment_count;
    struct {
        char *prefix; /* literal text before the parameter (or the whole segment) */
        char *suffix; /* literal text after the parameter */
        char *param;  /* NULL for a literal segment */
    } segments[LS_ROUTER_MAX_SEGMENTS];
    ls_route_stats_t stats;
};

typedef struct {
    int count;
    const char *names[LS_ROUTER_MAX_PARAMS]; /* borrowed from the route */
    char values[LS_ROUTER_MAX_PARAMS][LS_ROUTER_PARAM_MAX + 1];
} ls_router_params_t;

typedef struct {
    ls_route_t **routes;
    size_t count;
} ls_router_t;

typedef enum {
    LS_ROUTE_FOUND,
    LS_ROUTE_NOT_FOUND,
    LS_ROUTE_METHOD_NOT_ALLOWED,
    LS_ROUTE_BAD_PATH, /* undecodable escape or over-long parameter */
} ls_route_result_t;

void ls_router_init(ls_router_t *r);
void ls_router_free(ls_router_t *r);

/* Adds a route; pattern must start with '/'. Returns the route (owned by the
 * router) or NULL for an invalid pattern. Routes are tried in order. */
ls_route_t *ls_router_add(ls_router_t *r, const char *method, const char *pattern, void *handler,
                          void *data);

/* Matches method and path (without query string). On LS_ROUTE_FOUND *route
 * and params are set. On LS_ROUTE_METHOD_NOT_ALLOWED `allow` (size >= 64)
 * lists the methods the path accepts ("GET, DELETE"). */
ls_route_result_t ls_router_match(const ls_router_t *r, const char *method, size_t method_len,
                                  const char *path, size_t path_len, ls_route_t **route,
                                  ls_router_params_t *params, char *allow, size_t allow_size);

/* The value of parameter `name`, or NULL. Borrowed from params. */
const char *ls_router_param(const ls_router_params_t *params, const char *name);

/* Percent-decodes src[0..len) into dst (size dst_size incl. NUL). Returns the
 * decoded length or -1 on a bad escape, an embedded NUL or overflow. */
int ls_url_decode(const char *src, size_t len, char *dst, size_t dst_size);

#endif
