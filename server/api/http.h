/*
 * The HTTP front end: h2o 2.2.5 on the server's libuv loop, serving
 * HTTP/1.1 and cleartext HTTP/2 (prior knowledge and Upgrade: h2c), one
 * routing table per listener. Handlers receive an ls_http_req_t and answer
 * it exactly once, at once or later from an async callback; if the client
 * went away meanwhile the answer is dropped safely. This module owns
 * request parsing, the uniform error body of API.md, access logs and
 * per-route metrics; it holds no business rules. Loop thread only.
 */
#ifndef LS_API_HTTP_H
#define LS_API_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <uv.h>

#include "api/router.h"
#include "core/error.h"
#include "core/metrics.h"

typedef struct ls_http_server ls_http_server_t;
typedef struct ls_http_req ls_http_req_t;

/* A handler answers req exactly once (possibly later) with ls_http_respond_*. */
typedef void (*ls_http_handler_t)(ls_http_req_t *req, void *data);

/* How error bodies are shaped on a listener: API.md's
 * {"error":{"code","message","details"}} or Confluent's {"error_code","message"}. */
typedef void (*ls_http_error_writer_t)(ls_http_req_t *req, int status, const ls_error_t *err);

typedef struct {
    const char *name;      /* "http", "registry": used in logs and metric labels */
    const char *addr;      /* HOST:PORT; port 0 picks a free port */
    size_t max_body_bytes; /* larger bodies get 413 */
    int access_log_sample; /* log 1 in N successful requests; 0 none; errors always */
    const char *const *json_content_types; /* accepted body types (NULL: application/json) */
} ls_http_config_t;

/* Creates and binds a listener. On bind failure returns UNAVAILABLE with the
 * address in the message and nothing is left open. The router is filled by
 * the caller with ls_http_route() before requests arrive. */
ls_err_t ls_http_server_start(uv_loop_t *loop, const ls_http_config_t *config,
                              ls_http_server_t **out, ls_error_t *err);

/* Registers a route. flags: LS_HTTP_JSON_BODY makes the server parse the
 * body as JSON before the handler runs (missing/other Content-Type → 415,
 * malformed → 400, both with the error body). */
#define LS_HTTP_JSON_BODY 1u
#define LS_HTTP_OPTIONAL_BODY 2u /* with JSON_BODY: an empty body is allowed (json NULL) */
void ls_http_route(ls_http_server_t *s, const char *method, const char *pattern,
                   ls_http_handler_t handler, void *data, unsigned flags);

/* Replaces the error body writer (default: API.md shape). */
void ls_http_set_error_writer(ls_http_server_t *s, ls_http_error_writer_t writer);

/* The bound address ("127.0.0.1:8080"), valid while the server lives. */
const char *ls_http_server_addr(const ls_http_server_t *s);

/* Appends request counters and latency histograms by route and status. */
void ls_http_collect_metrics(void *server, ls_buf_t *out);

/* Graceful stop, step 1: stop accepting, ask open connections to finish
 * (HTTP/2 GOAWAY, no more keep-alive). Requests in flight still complete. */
void ls_http_server_stop_accepting(ls_http_server_t *s);
/* Requests received and not yet answered. */
int ls_http_server_inflight(const ls_http_server_t *s);
/* Open client connections. */
int ls_http_server_connections(const ls_http_server_t *s);
/* Step 2: frees the server; cb fires once every handle is closed. Open
 * connections are closed first. */
void ls_http_server_close(ls_http_server_t *s, void (*cb)(void *arg), void *arg);

/* ---- request accessors (borrowed values live until the request is answered) ---- */
const char *ls_http_param(const ls_http_req_t *req, const char *name);
/* Query parameter, percent-decoded; NULL if absent. */
const char *ls_http_query(ls_http_req_t *req, const char *name);
/* The parsed JSON body (JSON_BODY routes); borrowed. */
json_t *ls_http_body(const ls_http_req_t *req);
const char *ls_http_request_id(const ls_http_req_t *req);
const char *ls_http_method(const ls_http_req_t *req);
/* Value of request header `name` (lower-case), NULL if absent; borrowed. */
const char *ls_http_header(ls_http_req_t *req, const char *name);
/* The route's opaque data (also passed to the handler). */
void *ls_http_data(const ls_http_req_t *req);
/* True once the client has gone; the eventual answer will be discarded. */
bool ls_http_gone(const ls_http_req_t *req);

/* Added for chain specs sent as YAML: the raw request body of a route
 * registered without LS_HTTP_JSON_BODY (not NUL-terminated; borrowed until
 * the request is answered; "" with *len 0 when empty), and the listener's
 * body limit, which such routes must enforce themselves. */
const char *ls_http_raw_body(const ls_http_req_t *req, size_t *len);
size_t ls_http_max_body_bytes(const ls_http_req_t *req);

/* ---- answers: each frees req; exactly one per request ---- */
/* JSON body (reference stolen; NULL sends no body). */
void ls_http_respond_json(ls_http_req_t *req, int status, json_t *body);
/* Arbitrary bytes, copied. */
void ls_http_respond_bytes(ls_http_req_t *req, int status, const char *content_type,
                           const void *body, size_t len);
/* Static bytes (not copied; must outlive the response, e.g. embedded files). */
void ls_http_respond_static(ls_http_req_t *req, int status, const char *content_type,
                            const void *body, size_t len);
/* The listener's error body for err (status from the error code). */
void ls_http_respond_error(ls_http_req_t *req, const ls_error_t *err);
/* Same with an explicit status. */
void ls_http_respond_error_status(ls_http_req_t *req, int status, const ls_error_t *err);
/* Adds a response header before answering (name lower-case; both copied). */
void ls_http_add_header(ls_http_req_t *req, const char *name, const char *value);

#endif
