/*
 * Route matching (see router.h). Linear over the routes: the table has a
 * few dozen entries and each comparison stops at the first differing
 * segment, which measured faster than building a trie at this size.
 */
#include "api/router.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

void ls_router_init(ls_router_t *r)
{
    r->routes = NULL;
    r->count = 0;
}

static void route_free(ls_route_t *route)
{
    for (int i = 0; i < route->segment_count; i++) {
        free(route->segments[i].prefix);
        free(route->segments[i].suffix);
        free(route->segments[i].param);
    }
    free(route->method);
    free(route->pattern);
    free(route);
}

void ls_router_free(ls_router_t *r)
{
    for (size_t i = 0; i < r->count; i++)
        route_free(r->routes[i]);
    free(r->routes);
    r->routes = NULL;
    r->count = 0;
}

ls_route_t *ls_router_add(ls_router_t *r, const char *method, const char *pattern, void *handler,
                          void *data)
{
    if (pattern[0] != '/')
        return NULL;
    ls_route_t *route = ls_calloc(1, sizeof(*route));
    route->method = ls_strdup(method);
    route->pattern = ls_strdup(pattern);
    route->handler = handler;
    route->data = data;
    const char *p = pattern + 1;
    bool root = *p == '\0';
    while (!root) {
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (route->segment_count == LS_ROUTER_MAX_SEGMENTS) {
            route_free(route);
            return NULL;
        }
        int i = route->segment_count++;
        const char *open = memchr(p, '{', len);
        const char *close = open ? memchr(open, '}', len - (size_t)(open - p)) : NULL;
        if (open != NULL && close != NULL) {
            route->segments[i].prefix = ls_strndup(p, (size_t)(open - p));
            route->segments[i].param = ls_strndup(open + 1, (size_t)(close - open - 1));
            route->segments[i].suffix = ls_strndup(close + 1, len - (size_t)(close + 1 - p));
        } else {
            route->segments[i].prefix = ls_strndup(p, len);
        }
        if (end == NULL)
            break;
        p = end + 1;
    }
    r->routes = ls_realloc(r->routes, (r->count + 1) * sizeof(*r->routes));
    r->routes[r->count++] = route;
    return route;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int ls_url_decode(const char *src, size_t len, char *dst, size_t dst_size)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = src[i];
        if (c == '%') {
            if (i + 2 >= len)
                return -1;
            int h = hexval(src[i + 1]), l = hexval(src[i + 2]);
            if (h < 0 || l < 0)
                return -1;
            c = (char)(h * 16 + l);
            if (c == '\0')
                return -1;
            i += 2;
        }
        if (o + 1 >= dst_size)
            return -1;
        dst[o++] = c;
    }
    dst[o] = '\0';
    return (int)o;
}

typedef enum { SEG_MATCH, SEG_NO_MATCH, SEG_BAD } seg_result_t;

/* Matches one path segment against one pattern segment. */
static seg_result_t match_segment(const ls_route_t *route, int i, const char *s, size_t len,
                                  ls_router_params_t *params)
{
    const char *prefix = route->segments[i].prefix;
    size_t plen = strlen(prefix);
    if (route->segments[i].param == NULL)
        return plen == len && memcmp(prefix, s, len) == 0 ? SEG_MATCH : SEG_NO_MATCH;
    const char *suffix = route->segments[i].suffix;
    size_t slen = strlen(suffix);
    if (len < plen + slen + 1 || memcmp(s, prefix, plen) != 0 ||
        memcmp(s + len - slen, suffix, slen) != 0)
        return SEG_NO_MATCH;
    if (params == NULL)
        return SEG_MATCH;
    int k = params->count;
    if (k == LS_ROUTER_MAX_PARAMS)
        return SEG_BAD;
    if (ls_url_decode(s + plen, len - plen - slen, params->values[k], sizeof(params->values[k])) <
        0)
        return SEG_BAD;
    params->names[k] = route->segments[i].param;
    params->count++;
    return SEG_MATCH;
}

static seg_result_t match_path(const ls_route_t *route, const char *path, size_t path_len,
                               ls_router_params_t *params)
{
    if (params != NULL)
        params->count = 0;
    if (path_len == 0 || path[0] != '/')
        return SEG_NO_MATCH;
    size_t pos = 1;
    int seg = 0;
    if (path_len == 1)
        return route->segment_count == 0 ? SEG_MATCH : SEG_NO_MATCH;
    for (;;) {
        const char *s = path + pos;
        const char *end = memchr(s, '/', path_len - pos);
        size_t len = end ? (size_t)(end - s) : path_len - pos;
        if (seg >= route->segment_count)
            return SEG_NO_MATCH;
        seg_result_t r = match_segment(route, seg, s, len, params);
        if (r != SEG_MATCH)
            return r;
        seg++;
        if (end == NULL)
            break;
        pos += len + 1;
    }
    return seg == route->segment_count ? SEG_MATCH : SEG_NO_MATCH;
}

ls_route_result_t ls_router_match(const ls_router_t *r, const char *method, size_t method_len,
                                  const char *path, size_t path_len, ls_route_t **route,
                                  ls_router_params_t *params, char *allow, size_t allow_size)
{
    bool path_known = false;
    if (allow != NULL && allow_size > 0)
        allow[0] = '\0';
    for (size_t i = 0; i < r->count; i++) {
        ls_route_t *rt = r->routes[i];
        bool method_ok =
            strlen(rt->method) == method_len && memcmp(rt->method, method, method_len) == 0;
        seg_result_t m = match_path(rt, path, path_len, method_ok ? params : NULL);
        if (m == SEG_BAD)
            return LS_ROUTE_BAD_PATH;
        if (m != SEG_MATCH)
            continue;
        if (method_ok) {
            *route = rt;
            return LS_ROUTE_FOUND;
        }
        if (allow != NULL && strstr(allow, rt->method) == NULL) {
            size_t used = strlen(allow);
            snprintf(allow + used, allow_size - used, "%s%s", used ? ", " : "", rt->method);
        }
        path_known = true;
    }
    return path_known ? LS_ROUTE_METHOD_NOT_ALLOWED : LS_ROUTE_NOT_FOUND;
}

const char *ls_router_param(const ls_router_params_t *params, const char *name)
{
    for (int i = 0; i < params->count; i++)
        if (strcmp(params->names[i], name) == 0)
            return params->values[i];
    return NULL;
}
