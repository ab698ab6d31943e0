/*
 * h2o glue (see http.h). One h2o handler at "/" hands every request to our
 * router; the request context lives on the heap, not in h2o's pool, so an
 * async handler can outlive the client: a small shared slot in h2o's pool
 * points at the context and is cleared from both sides, whichever goes
 * first. Per-request work on the fast path is a route match, two counters
 * and a histogram bucket; access-log lines are buffered by core/log.
 */
#include "api/http.h"

#include <h2o.h>
#include <h2o/socket/uv-binding.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/config.h"
#include "core/json.h"
#include "core/log.h"

struct ls_http_server {
    uv_loop_t *loop;
    char *name;
    char addr[96];
    size_t max_body_bytes;
    int access_log_sample;
    uint64_t access_log_counter;
    char **json_types;
    h2o_globalconf_t globalconf;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept_ctx;
    uv_tcp_t listener;
    bool listener_open; /* the listener handle is initialised and not yet closed */
    ls_router_t router;
    ls_route_stats_t unmatched;
    ls_http_error_writer_t error_writer;
    int inflight;
    int connections;
    uint64_t request_seq;
    uint32_t instance_tag;
    bool closing;
    void (*close_cb)(void *arg);
    void *close_arg;
    uv_timer_t close_timer;
};

typedef struct {
    h2o_handler_t super;
    ls_http_server_t *server;
} root_handler_t;

typedef struct {
    ls_route_t *route;
    unsigned flags;
    void *data;
} route_data_t;

struct ls_http_req {
    ls_http_server_t *server;
    h2o_req_t *h2o;            /* NULL once h2o disposed the request */
    struct ls_http_req **slot; /* the shared slot in h2o's pool, NULL once cleared */
    ls_route_stats_t *stats;
    const char *route_label;
    void *data;
    json_t *body;
    ls_router_params_t params;
    char *query_copy; /* decoded query parameters: "k\0v\0k\0v\0" */
    size_t query_len;
    bool query_parsed;
    char request_id[40];
    uint64_t start_ns;
    struct {
        char *name, *value;
    } extra_headers[8];
    int extra_header_count;
};

/* ---------- request lifetime ---------- */

static void on_pool_dispose(void *p)
{
    ls_http_req_t **slot = p;
    if (*slot != NULL) {
        (*slot)->h2o = NULL;
        (*slot)->slot = NULL;
    }
}

static void req_free(ls_http_req_t *req)
{
    req->server->inflight--;
    json_decref(req->body);
    free(req->query_copy);
    for (int i = 0; i < req->extra_header_count; i++) {
        free(req->extra_headers[i].name);
        free(req->extra_headers[i].value);
    }
    free(req);
}

static const char *reason_phrase(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 412:
        return "Precondition Failed";
    case 413:
        return "Payload Too Large";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Entity";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    default:
        return "Status";
    }
}

static void access_log(ls_http_req_t *req, int status, double seconds)
{
    ls_http_server_t *s = req->server;
    if (status < 400) {
        if (s->access_log_sample <= 0 || !ls_log_enabled(LS_LOG_INFO))
            return;
        if (s->access_log_counter++ % (uint64_t)s->access_log_sample != 0)
            return;
    }
    h2o_req_t *r = req->h2o;
    char ts[40];
    ls_log_timestamp(ts, sizeof(ts));
    char line[1024];
    int n = snprintf(line, sizeof(line),
                     "{\"ts\":\"%s\",\"level\":\"%s\",\"component\":\"access\",\"listener\":\"%s\","
                     "\"request_id\":\"%s\",\"method\":\"%.*s\",\"route\":\"%s\",\"status\":%d,"
                     "\"duration_ms\":%.3f,\"proto\":\"%s\"}",
                     ts, status >= 500 ? "error" : (status >= 400 ? "warn" : "info"), s->name,
                     req->request_id, r ? (int)(r->method.len > 16 ? 16 : r->method.len) : 0,
                     r ? r->method.base : "", req->route_label, status, seconds * 1000.0,
                     r && r->version >= 0x200 ? "h2" : "http/1.1");
    if (n > 0)
        ls_log_raw_line(line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

static void finish(ls_http_req_t *req, int status, const char *content_type, const void *body,
                   size_t len)
{
    double seconds = (double)(uv_hrtime() - req->start_ns) / 1e9;
    req->stats->by_class[status / 100 < 6 ? status / 100 : 5]++;
    ls_histogram_observe(&req->stats->latency, seconds);
    access_log(req, status, seconds);
    h2o_req_t *r = req->h2o;
    if (r != NULL) {
        *req->slot = NULL; /* h2o may dispose the pool after this; detach first */
        r->res.status = status;
        r->res.reason = reason_phrase(status);
        h2o_add_header_by_str(&r->pool, &r->res.headers, H2O_STRLIT("x-request-id"), 0, NULL,
                              req->request_id, strlen(req->request_id));
        for (int i = 0; i < req->extra_header_count; i++) {
            const char *name = h2o_strdup(&r->pool, req->extra_headers[i].name, SIZE_MAX).base;
            const char *value = h2o_strdup(&r->pool, req->extra_headers[i].value, SIZE_MAX).base;
            h2o_add_header_by_str(&r->pool, &r->res.headers, name, strlen(name), 1, NULL, value,
                                  strlen(value));
        }
        if (content_type != NULL)
            h2o_add_header(&r->pool, &r->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, content_type,
                           strlen(content_type));
        if (status == 204 || body == NULL)
            h2o_send_inline(r, "", 0);
        else
            h2o_send_inline(r, body, len);
    }
    req_free(req);
}

/* ---------- default error body (API.md) ---------- */

static void api_error_writer(ls_http_req_t *req, int status, const ls_error_t *err)
{
    json_t *e = json_object();
    json_object_set_new(e, "code", json_string(ls_err_name(err->code)));
    json_object_set_new(e, "message", json_string(err->message));
    json_t *details = json_array();
    if (err->path[0] != '\0')
        json_array_append_new(details, json_pack("{s:s}", "field", err->path));
    json_object_set_new(e, "details", details);
    ls_http_respond_json(req, status, json_pack("{s:o}", "error", e));
}

/* ---------- answers ---------- */

void ls_http_respond_json(ls_http_req_t *req, int status, json_t *body)
{
    if (body == NULL) {
        finish(req, status, NULL, NULL, 0);
        return;
    }
    char *text = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(body);
    if (text == NULL)
        ls_oom(0);
    finish(req, status, "application/json", text, strlen(text));
    free(text);
}

void ls_http_respond_bytes(ls_http_req_t *req, int status, const char *content_type,
                           const void *body, size_t len)
{
    finish(req, status, content_type, body, len);
}

void ls_http_respond_static(ls_http_req_t *req, int status, const char *content_type,
                            const void *body, size_t len)
{
    finish(req, status, content_type, body, len);
}

void ls_http_respond_error_status(ls_http_req_t *req, int status, const ls_error_t *err)
{
    req->server->error_writer(req, status, err);
}

void ls_http_respond_error(ls_http_req_t *req, const ls_error_t *err)
{
    ls_http_respond_error_status(req, ls_err_http_status(err->code), err);
}

void ls_http_add_header(ls_http_req_t *req, const char *name, const char *value)
{
    if (req->extra_header_count ==
        (int)(sizeof(req->extra_headers) / sizeof(req->extra_headers[0])))
        return;
    req->extra_headers[req->extra_header_count].name = ls_strdup(name);
    req->extra_headers[req->extra_header_count].value = ls_strdup(value);
    req->extra_header_count++;
}

/* ---------- accessors ---------- */

const char *ls_http_param(const ls_http_req_t *req, const char *name)
{
    return ls_router_param(&req->params, name);
}

json_t *ls_http_body(const ls_http_req_t *req)
{
    return req->body;
}

const char *ls_http_request_id(const ls_http_req_t *req)
{
    return req->request_id;
}

void *ls_http_data(const ls_http_req_t *req)
{
    return req->data;
}

bool ls_http_gone(const ls_http_req_t *req)
{
    return req->h2o == NULL;
}

const char *ls_http_method(const ls_http_req_t *req)
{
    return req->h2o != NULL
               ? h2o_strdup(&req->h2o->pool, req->h2o->method.base, req->h2o->method.len).base
               : "";
}

const char *ls_http_header(ls_http_req_t *req, const char *name)
{
    h2o_req_t *r = req->h2o;
    if (r == NULL)
        return NULL;
    ssize_t i = h2o_find_header_by_str(&r->headers, name, strlen(name), -1);
    if (i < 0)
        return NULL;
    h2o_iovec_t v = r->headers.entries[i].value;
    return h2o_strdup(&r->pool, v.base, v.len).base;
}

static void parse_query(ls_http_req_t *req)
{
    req->query_parsed = true;
    h2o_req_t *r = req->h2o;
    if (r == NULL || r->query_at == SIZE_MAX)
        return;
    const char *q = r->path.base + r->query_at + 1;
    size_t qlen = r->path.len - r->query_at - 1;
    req->query_copy = ls_malloc(qlen * 2 + 2);
    size_t out = 0;
    size_t pos = 0;
    while (pos < qlen) {
        const char *amp = memchr(q + pos, '&', qlen - pos);
        size_t len = amp ? (size_t)(amp - (q + pos)) : qlen - pos;
        const char *eq = memchr(q + pos, '=', len);
        size_t klen = eq ? (size_t)(eq - (q + pos)) : len;
        const char *v = eq ? eq + 1 : q + pos + len;
        size_t vlen = eq ? len - klen - 1 : 0;
        /* '+' means space in query strings; decode it first in a scratch copy. */
        char kbuf[256], vraw[4096];
        if (klen < sizeof(kbuf) && vlen < sizeof(vraw)) {
            memcpy(vraw, v, vlen);
            for (size_t i = 0; i < vlen; i++)
                if (vraw[i] == '+')
                    vraw[i] = ' ';
            int kd = ls_url_decode(q + pos, klen, kbuf, sizeof(kbuf));
            int vd =
                ls_url_decode(vraw, vlen, req->query_copy + out + (size_t)(kd < 0 ? 0 : kd) + 1,
                              qlen * 2 + 2 - out - (size_t)(kd < 0 ? 0 : kd) - 1);
            if (kd >= 0 && vd >= 0) {
                memcpy(req->query_copy + out, kbuf, (size_t)kd + 1);
                out += (size_t)kd + 1 + (size_t)vd + 1;
            }
        }
        pos += len + 1;
    }
    req->query_len = out;
}

const char *ls_http_query(ls_http_req_t *req, const char *name)
{
    if (!req->query_parsed)
        parse_query(req);
    size_t pos = 0;
    while (pos < req->query_len) {
        const char *k = req->query_copy + pos;
        const char *v = k + strlen(k) + 1;
        if (strcmp(k, name) == 0)
            return v;
        pos = (size_t)(v - req->query_copy) + strlen(v) + 1;
    }
    return NULL;
}

/* ---------- dispatch ---------- */

static bool content_type_accepted(ls_http_server_t *s, h2o_req_t *r)
{
    ssize_t i = h2o_find_header(&r->headers, H2O_TOKEN_CONTENT_TYPE, -1);
    if (i < 0)
        return false;
    h2o_iovec_t v = r->headers.entries[i].value;
    size_t len = v.len;
    const char *semi = memchr(v.base, ';', v.len);
    if (semi != NULL)
        len = (size_t)(semi - v.base);
    while (len > 0 && v.base[len - 1] == ' ')
        len--;
    for (char **t = s->json_types; *t != NULL; t++)
        if (strlen(*t) == len && strncasecmp(*t, v.base, len) == 0)
            return true;
    return false;
}

static void respond_simple_error(ls_http_req_t *req, int status, ls_err_t code, const char *msg)
{
    ls_error_t err;
    ls_error_set(&err, code, "%s", msg);
    ls_http_respond_error_status(req, status, &err);
}

static int on_req(h2o_handler_t *self, h2o_req_t *r)
{
    ls_http_server_t *s = ((root_handler_t *)self)->server;
    /* Not calloc: the parameter buffers are large and filled by the router;
     * only the header fields need zeroing. */
    ls_http_req_t *req = ls_malloc(sizeof(*req));
    memset(req, 0, offsetof(ls_http_req_t, params));
    req->params.count = 0;
    memset(&req->query_copy, 0, sizeof(*req) - offsetof(ls_http_req_t, query_copy));
    req->server = s;
    req->h2o = r;
    req->start_ns = uv_hrtime();
    req->stats = &s->unmatched;
    req->route_label = "unmatched";
    s->inflight++;
    req->slot = h2o_mem_alloc_shared(&r->pool, sizeof(*req->slot), on_pool_dispose);
    *req->slot = req;

    ssize_t rid = h2o_find_header_by_str(&r->headers, H2O_STRLIT("x-request-id"), -1);
    if (rid >= 0 && r->headers.entries[rid].value.len > 0 &&
        r->headers.entries[rid].value.len < sizeof(req->request_id)) {
        size_t n = r->headers.entries[rid].value.len;
        for (size_t i = 0; i < n; i++) {
            char c = r->headers.entries[rid].value.base[i];
            req->request_id[i] = (c >= 0x21 && c <= 0x7e && c != '"' && c != '\\') ? c : '_';
        }
        req->request_id[n] = '\0';
    } else {
        snprintf(req->request_id, sizeof(req->request_id), "%08x-%012llx", s->instance_tag,
                 (unsigned long long)++s->request_seq);
    }

    size_t path_len = r->path_normalized.len;
    ls_route_t *route = NULL;
    char allow[64];
    ls_route_result_t m =
        ls_router_match(&s->router, r->method.base, r->method.len, r->path_normalized.base,
                        path_len, &route, &req->params, allow, sizeof(allow));
    if (m == LS_ROUTE_NOT_FOUND) {
        char msg[300];
        snprintf(msg, sizeof(msg), "no route for %.*s %.*s",
                 (int)(r->method.len > 16 ? 16 : r->method.len), r->method.base,
                 (int)(path_len > 200 ? 200 : path_len), r->path_normalized.base);
        respond_simple_error(req, 404, LS_ERR_NOT_FOUND, msg);
        return 0;
    }
    if (m == LS_ROUTE_BAD_PATH) {
        respond_simple_error(req, 400, LS_ERR_INVALID_ARGUMENT,
                             "the path has an invalid escape or an over-long segment");
        return 0;
    }
    if (m == LS_ROUTE_METHOD_NOT_ALLOWED) {
        ls_http_add_header(req, "allow", allow);
        char msg[128];
        snprintf(msg, sizeof(msg), "method not allowed here; allowed: %s", allow);
        respond_simple_error(req, 405, LS_ERR_INVALID_ARGUMENT, msg);
        return 0;
    }
    route_data_t *rd = route->data;
    req->stats = &route->stats;
    req->route_label = route->pattern;
    req->data = rd->data;

    if (rd->flags & LS_HTTP_JSON_BODY) {
        size_t len = r->entity.base != NULL ? r->entity.len : 0;
        if (len > s->max_body_bytes) {
            char msg[128];
            snprintf(msg, sizeof(msg), "request body of %zu bytes exceeds the limit of %zu", len,
                     s->max_body_bytes);
            respond_simple_error(req, 413, LS_ERR_INVALID_ARGUMENT, msg);
            return 0;
        }
        if (len == 0 && (rd->flags & LS_HTTP_OPTIONAL_BODY)) {
            req->body = NULL;
        } else if (!content_type_accepted(s, r)) {
            respond_simple_error(req, 415, LS_ERR_INVALID_ARGUMENT,
                                 "Content-Type must be application/json");
            return 0;
        } else {
            json_error_t jerr;
            req->body = json_loadb(r->entity.base ? r->entity.base : "", len,
                                   JSON_REJECT_DUPLICATES, &jerr);
            if (req->body == NULL) {
                ls_error_t err;
                ls_error_set(&err, LS_ERR_INVALID_ARGUMENT,
                             "malformed JSON body at line %d column %d: %s", jerr.line, jerr.column,
                             jerr.text);
                ls_http_respond_error_status(req, 400, &err);
                return 0;
            }
        }
    }
    ((ls_http_handler_t)route->handler)(req, req->data);
    return 0;
}

/* ---------- listener ---------- */

/* A client connection's handle. h2o takes over handle->data, so the server
 * pointer lives beside the handle instead. */
typedef struct {
    uv_tcp_t tcp;
    ls_http_server_t *server;
} client_conn_t;

static void on_conn_close(uv_handle_t *h)
{
    client_conn_t *conn = (client_conn_t *)h;
    conn->server->connections--;
    free(conn);
}

static void on_accept(uv_stream_t *listener, int status)
{
    ls_http_server_t *s = listener->data;
    if (status != 0 || s->closing)
        return;
    client_conn_t *conn = ls_calloc(1, sizeof(*conn));
    conn->server = s;
    uv_tcp_init(s->loop, &conn->tcp);
    s->connections++;
    if (uv_accept(listener, (uv_stream_t *)&conn->tcp) != 0) {
        uv_close((uv_handle_t *)&conn->tcp, on_conn_close);
        return;
    }
    uv_tcp_nodelay(&conn->tcp, 1);
    h2o_socket_t *sock = h2o_uv_socket_create((uv_stream_t *)&conn->tcp, on_conn_close);
    h2o_accept(&s->accept_ctx, sock);
}

ls_err_t ls_http_server_start(uv_loop_t *loop, const ls_http_config_t *config,
                              ls_http_server_t **out, ls_error_t *err)
{
    char host[256];
    int port;
    if (ls_config_parse_addr(config->addr, host, sizeof(host), &port, err) != LS_ERR_OK)
        return err ? err->code : LS_ERR_INVALID_ARGUMENT;
    struct sockaddr_storage sa;
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)&sa) != 0 &&
        uv_ip6_addr(host, port, (struct sockaddr_in6 *)&sa) != 0)
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT,
                            "%s listener: \"%s\" is not a numeric IPv4/IPv6 address", config->name,
                            host);

    ls_http_server_t *s = ls_calloc(1, sizeof(*s));
    s->loop = loop;
    s->name = ls_strdup(config->name);
    s->max_body_bytes = config->max_body_bytes;
    s->access_log_sample = config->access_log_sample;
    s->error_writer = api_error_writer;
    s->instance_tag = (uint32_t)(uv_hrtime() ^ (uint64_t)getpid() << 16);
    static const char *const default_types[] = {"application/json", NULL};
    const char *const *types =
        config->json_content_types ? config->json_content_types : default_types;
    size_t nt = 0;
    while (types[nt] != NULL)
        nt++;
    s->json_types = ls_calloc(nt + 1, sizeof(char *));
    for (size_t i = 0; i < nt; i++)
        s->json_types[i] = ls_strdup(types[i]);
    ls_router_init(&s->router);

    h2o_config_init(&s->globalconf);
    /* h2o answers bodies above its own limit with a bare 413 before we see
     * them; keep its limit above ours so most oversized bodies get our JSON
     * error, while still bounding what h2o buffers. */
    s->globalconf.max_request_entity_size = config->max_body_bytes + 1024 * 1024;
    s->globalconf.server_name = h2o_iovec_init(H2O_STRLIT("lakestreamd"));
    s->globalconf.http2.graceful_shutdown_timeout = 2000;
    h2o_hostconf_t *hostconf =
        h2o_config_register_host(&s->globalconf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *pathconf = h2o_config_register_path(hostconf, "/", 0);
    root_handler_t *handler = (root_handler_t *)h2o_create_handler(pathconf, sizeof(*handler));
    handler->super.on_req = on_req;
    handler->server = s;
    h2o_context_init(&s->ctx, loop, &s->globalconf);
    s->accept_ctx.ctx = &s->ctx;
    s->accept_ctx.hosts = s->globalconf.hosts;

    uv_tcp_init(loop, &s->listener);
    s->listener.data = s;
    s->listener_open = true;
    int rc = uv_tcp_bind(&s->listener, (struct sockaddr *)&sa, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&s->listener, 511, on_accept);
    if (rc != 0) {
        ls_error_set(err, LS_ERR_UNAVAILABLE, "%s listener cannot bind %s: %s", config->name,
                     config->addr, uv_strerror(rc));
        /* Tear down what we built; the listener handle closes in the loop. */
        ls_http_server_close(s, NULL, NULL);
        return LS_ERR_UNAVAILABLE;
    }
    struct sockaddr_storage bound;
    int blen = sizeof(bound);
    uv_tcp_getsockname(&s->listener, (struct sockaddr *)&bound, &blen);
    char ip[64];
    if (bound.ss_family == AF_INET6) {
        uv_ip6_name((struct sockaddr_in6 *)&bound, ip, sizeof(ip));
        snprintf(s->addr, sizeof(s->addr), "[%s]:%d", ip,
                 ntohs(((struct sockaddr_in6 *)&bound)->sin6_port));
    } else {
        uv_ip4_name((struct sockaddr_in *)&bound, ip, sizeof(ip));
        snprintf(s->addr, sizeof(s->addr), "%s:%d", ip,
                 ntohs(((struct sockaddr_in *)&bound)->sin_port));
    }
    *out = s;
    return LS_ERR_OK;
}

void ls_http_route(ls_http_server_t *s, const char *method, const char *pattern,
                   ls_http_handler_t handler, void *data, unsigned flags)
{
    route_data_t *rd = ls_calloc(1, sizeof(*rd));
    ls_route_t *route = ls_router_add(&s->router, method, pattern, (void *)handler, rd);
    if (route == NULL) {
        ls_log(LS_LOG_FATAL, "http", "invalid route pattern %s", pattern);
        abort();
    }
    rd->route = route;
    rd->flags = flags;
    rd->data = data;
}

void ls_http_set_error_writer(ls_http_server_t *s, ls_http_error_writer_t writer)
{
    s->error_writer = writer;
}

const char *ls_http_server_addr(const ls_http_server_t *s)
{
    return s->addr;
}

int ls_http_server_inflight(const ls_http_server_t *s)
{
    return s->inflight;
}

int ls_http_server_connections(const ls_http_server_t *s)
{
    return s->connections;
}

static void write_route_metrics(ls_buf_t *out, const ls_http_server_t *s, const char *label,
                                const ls_route_stats_t *st, const char *method, bool histogram)
{
    static const char *classes[] = {"0xx", "1xx", "2xx", "3xx", "4xx", "5xx"};
    char labels[512];
    if (!histogram) {
        for (int c = 1; c < 6; c++) {
            if (st->by_class[c] == 0)
                continue;
            snprintf(labels, sizeof(labels),
                     "listener=\"%s\",method=\"%s\",route=\"%s\",status=\"%s\"", s->name, method,
                     label, classes[c]);
            ls_metrics_sample(out, "lakestream_http_requests_total", labels,
                              (double)st->by_class[c]);
        }
        return;
    }
    if (st->latency.count == 0)
        return;
    snprintf(labels, sizeof(labels), "listener=\"%s\",method=\"%s\",route=\"%s\"", s->name, method,
             label);
    ls_metrics_histogram(out, "lakestream_http_request_duration_seconds", labels, &st->latency);
}

void ls_http_collect_metrics(void *server, ls_buf_t *out)
{
    ls_http_server_t *s = server;
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 0)
            ls_metrics_header(out, "lakestream_http_requests_total", "counter",
                              "HTTP requests answered, by route and status class");
        else
            ls_metrics_header(out, "lakestream_http_request_duration_seconds", "histogram",
                              "HTTP request latency by route");
        for (size_t i = 0; i < s->router.count; i++) {
            ls_route_t *r = s->router.routes[i];
            write_route_metrics(out, s, r->pattern, &r->stats, r->method, pass == 1);
        }
        write_route_metrics(out, s, "unmatched", &s->unmatched, "any", pass == 1);
    }
    ls_metrics_header(out, "lakestream_http_connections", "gauge", "Open client connections");
    char labels[64];
    snprintf(labels, sizeof(labels), "listener=\"%s\"", s->name);
    ls_metrics_sample(out, "lakestream_http_connections", labels, s->connections);
    ls_metrics_header(out, "lakestream_http_inflight_requests", "gauge",
                      "Requests received and not yet answered");
    ls_metrics_sample(out, "lakestream_http_inflight_requests", labels, s->inflight);
}

static void on_listener_closed(uv_handle_t *h)
{
    (void)h;
}

static void close_listener(ls_http_server_t *s)
{
    if (s->listener_open) {
        s->listener_open = false;
        uv_close((uv_handle_t *)&s->listener, on_listener_closed);
    }
}

void ls_http_server_stop_accepting(ls_http_server_t *s)
{
    if (s->closing)
        return;
    s->closing = true;
    close_listener(s);
    h2o_context_request_shutdown(&s->ctx);
}

static void free_server(ls_http_server_t *s)
{
    /* h2o's HTTP/2 shutdown arms a GOAWAY re-send timer on the context;
     * disposing the context requires every timeout list to be empty. */
    if (h2o_timeout_is_linked(&s->ctx.http2._graceful_shutdown_timeout))
        h2o_timeout_unlink(&s->ctx.http2._graceful_shutdown_timeout);
    for (size_t i = 0; i < s->router.count; i++)
        free(s->router.routes[i]->data);
    ls_router_free(&s->router);
    h2o_context_dispose(&s->ctx);
    h2o_config_dispose(&s->globalconf);
    for (char **t = s->json_types; *t != NULL; t++)
        free(*t);
    free(s->json_types);
    free(s->name);
    void (*cb)(void *) = s->close_cb;
    void *arg = s->close_arg;
    free(s);
    if (cb != NULL)
        cb(arg);
}

static void on_close_timer_closed(uv_handle_t *h)
{
    free_server(h->data);
}

/* Waits for h2o to finish its connections (they close on their own after
 * the shutdown request, or when clients leave), then frees. */
static void on_close_poll(uv_timer_t *t)
{
    ls_http_server_t *s = t->data;
    if (s->inflight > 0)
        return;
    if (s->connections > 0) {
        /* No request is running: expire h2o's idle timers now so keep-alive
         * HTTP/1.1 connections and idle HTTP/2 sessions close instead of
         * lingering until their normal timeouts. */
        s->ctx.http1.req_timeout.timeout = 0;
        s->ctx.http2.idle_timeout.timeout = 0;
        h2o_timeout_run(s->loop, &s->ctx.http1.req_timeout, h2o_now(s->loop));
        h2o_timeout_run(s->loop, &s->ctx.http2.idle_timeout, h2o_now(s->loop));
        return;
    }
    uv_timer_stop(t);
    uv_close((uv_handle_t *)t, on_close_timer_closed);
}

void ls_http_server_close(ls_http_server_t *s, void (*cb)(void *arg), void *arg)
{
    s->close_cb = cb;
    s->close_arg = arg;
    ls_http_server_stop_accepting(s);
    close_listener(s);
    uv_timer_init(s->loop, &s->close_timer);
    s->close_timer.data = s;
    uv_timer_start(&s->close_timer, on_close_poll, 0, 5);
}

/* ---------- raw bodies (added for chain specs sent as YAML) ---------- */

const char *ls_http_raw_body(const ls_http_req_t *req, size_t *len)
{
    if (req->h2o == NULL || req->h2o->entity.base == NULL) {
        *len = 0;
        return "";
    }
    *len = req->h2o->entity.len;
    return req->h2o->entity.base;
}

size_t ls_http_max_body_bytes(const ls_http_req_t *req)
{
    return req->server->max_body_bytes;
}
