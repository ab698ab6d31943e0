/*
 * s3:// object-store backend. One libcurl multi handle per store, driven by
 * the loop through CURLMOPT_SOCKETFUNCTION (one uv_poll per socket) and
 * CURLMOPT_TIMERFUNCTION (one uv_timer); no curl call ever waits. Every
 * request is signed with SigV4 over the real payload SHA-256 and carries a
 * Content-MD5 when it has a body; hashing bodies above a few hundred KiB runs
 * in uv_queue_work so a 100 MB put never stalls the loop. Requests that fail
 * with 5xx, 429, a timeout or a broken connection are retried with jittered
 * exponential backoff, a bounded number of times; at most max_concurrency
 * requests are in flight per store, the rest wait in a FIFO. Large puts use
 * multipart upload with parallel parts and abort the upload when a part
 * fails. This module never logs, and never puts credentials in an error
 * message.
 */
#include "lake/objstore_internal.h"

#include "core/alloc.h"
#include "lake/s3_xml.h"
#include "lake/sigv4.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Bodies at or below this are hashed on the loop: cheaper than a thread hop. */
#define INLINE_HASH_MAX (256u * 1024u)
/* Largest non-GET response body we accept (a 1000-key list is well below). */
#define MAX_XML_RESPONSE (8u * 1024u * 1024u)
/* Large bodies hashing on the threadpool at once, per store. */
#define MAX_PARALLEL_HASHES 2

typedef struct s3_s s3_t;
typedef struct s3_req_s s3_req_t;

typedef void (*s3_req_done_cb)(s3_req_t *req);

/* One HTTP request, retried as a unit. Owned by whoever submits it; the
 * transport only borrows it between submit and done. */
struct s3_req_s {
    s3_t *s3;
    const char *method; /* static string */
    char *path;         /* encoded, absolute ("/bucket/key" or "/key") */
    char *query;        /* canonical query string, also the real one */
    const uint8_t *body;
    size_t body_len;
    size_t upload_pos;
    const char *content_type; /* static string or NULL */
    char sha256[65];
    char md5_b64[32];
    uint8_t md5[16];
    int has_md5;
    char range[64];
    size_t resp_limit; /* for the response being received */
    size_t body_limit; /* for a 2xx response; error bodies get MAX_XML_RESPONSE */

    unsigned attempt;
    long status;
    CURLcode curl_rc;
    char curl_err[CURL_ERROR_SIZE];
    int too_large;
    uint8_t *resp;
    size_t resp_len, resp_cap;
    char etag[128];
    uint64_t content_length;
    int have_content_length;
    int64_t last_modified;

    CURL *easy;
    struct curl_slist *headers;
    uv_timer_t *retry_timer;
    s3_req_t *next_queued;
    int retryable_200_error; /* CompleteMultipartUpload may report errors in a 200 */

    /* the final outcome, filled before done */
    ls_err_t result;
    ls_error_t error;
    s3_req_done_cb done;
    void *owner;
    size_t part_index;
};

typedef struct {
    uv_poll_t poll;
    curl_socket_t fd;
    s3_t *s3;
} s3_socket_t;

struct s3_s {
    ls_objstore_t *store;
    CURLM *multi;
    uv_timer_t timer;
    char *origin;    /* "http://host:port" as requested */
    char *host;      /* the Host header, signed */
    char *base_path; /* "/bucket" for path style, "" for virtual host */
    unsigned active;
    s3_req_t *queue_head, *queue_tail;           /* waiting for a request slot */
    s3_req_t *hash_queue_head, *hash_queue_tail; /* waiting for a hashing slot */
    unsigned hashing;
    uint64_t rng;
    int closing;
    unsigned open_handles; /* uv handles still to be closed at shutdown */
    ls_sigv4_credentials_t creds;
};

/* Per-operation state. */
typedef struct {
    ls__objstore_op_t *op;
    s3_t *s3;
    /* multipart */
    char *upload_id;
    size_t nparts, next_part, parts_inflight, parts_done;
    struct s3_part {
        char etag[128];
        uint8_t md5[16];
    } * parts;
    int failed;
    ls_err_t fail_code;
    ls_error_t fail_error;
    char *complete_body;
    int verifying; /* Complete said NoSuchUpload after a retry: check with HEAD */
} s3_op_t;

static void req_start(s3_req_t *req);
static void req_submit(s3_req_t *req);
static void check_multi_info(s3_t *s3);

/* ---------------------------------------------------------------------- */
/* hashing */

static void hash_body(s3_req_t *req)
{
    ls_sigv4_sha256_hex(req->body, req->body_len, req->sha256);
    unsigned int n = 16;
    EVP_Digest(req->body, req->body_len, req->md5, &n, EVP_md5(), NULL);
    EVP_EncodeBlock((unsigned char *)req->md5_b64, req->md5, 16);
    req->has_md5 = 1;
}

typedef struct {
    uv_work_t work;
    s3_req_t *req;
} hash_work_t;

static void hash_work_cb(uv_work_t *w)
{
    /* touches only the request, which the loop leaves alone until after_work */
    hash_body(((hash_work_t *)w->data)->req);
}

static void hash_start(s3_req_t *req);

static void hash_after_cb(uv_work_t *w, int status)
{
    hash_work_t *hw = w->data;
    s3_req_t *req = hw->req;
    s3_t *s3 = req->s3;
    free(hw);
    s3->hashing--;
    req_submit(req);
    if (s3->hash_queue_head && s3->hashing < MAX_PARALLEL_HASHES) {
        s3_req_t *next = s3->hash_queue_head;
        s3->hash_queue_head = next->next_queued;
        if (!s3->hash_queue_head)
            s3->hash_queue_tail = NULL;
        next->next_queued = NULL;
        hash_start(next);
    }
}

static void hash_start(s3_req_t *req)
{
    hash_work_t *hw = ls_calloc(1, sizeof(*hw));
    hw->req = req;
    hw->work.data = hw;
    if (uv_queue_work(req->s3->store->loop, &hw->work, hash_work_cb, hash_after_cb) != 0) {
        /* libuv refuses only a NULL work callback; hash here rather than drop it */
        free(hw);
        hash_body(req);
        req_submit(req);
        return;
    }
    req->s3->hashing++;
}

/* Hashes the body (on a worker when large) and then submits the request. At
 * most MAX_PARALLEL_HASHES bodies hash at once: the threadpool is shared with
 * every uv_fs call of the server, and a 100 MB multipart put must not occupy
 * all of it (or every core) at the same time. The operation owning req stays
 * in flight meanwhile, so closing the store waits for these workers too. */
static void hash_and_submit(s3_req_t *req)
{
    s3_t *s3 = req->s3;
    if (req->body_len <= INLINE_HASH_MAX) {
        hash_body(req);
        req_submit(req);
    } else if (s3->hashing < MAX_PARALLEL_HASHES) {
        hash_start(req);
    } else {
        if (s3->hash_queue_tail)
            s3->hash_queue_tail->next_queued = req;
        else
            s3->hash_queue_head = req;
        s3->hash_queue_tail = req;
    }
}

/* ---------------------------------------------------------------------- */
/* request objects */

static s3_req_t *req_new(s3_t *s3, const char *method, const char *key, const ls_sigv4_pair_t *q,
                         size_t nq, s3_req_done_cb done, void *owner)
{
    s3_req_t *req = ls_calloc(1, sizeof(*req));
    req->s3 = s3;
    req->method = method;
    if (key) {
        char *full = ls_asprintf("%s%s", s3->store->prefix, key);
        char *enc = ls_sigv4_uri_encode(full, strlen(full), 1);
        req->path = ls_asprintf("%s/%s", s3->base_path, enc);
        free(full);
        free(enc);
    } else {
        req->path = ls_asprintf("%s/", s3->base_path);
    }
    req->query = ls_sigv4_canonical_query(q, nq);
    memcpy(req->sha256, LS_SIGV4_EMPTY_SHA256, 65);
    req->resp_limit = req->body_limit = MAX_XML_RESPONSE;
    req->done = done;
    req->owner = owner;
    return req;
}

static void maybe_closed(s3_t *s3);

static void retry_timer_closed(uv_handle_t *h)
{
    s3_req_t *req = h->data;
    s3_t *s3 = req->s3;
    free(h);
    free(req);
    s3->open_handles--;
    if (s3->closing)
        maybe_closed(s3);
}

static void req_free(s3_req_t *req)
{
    free(req->path);
    free(req->query);
    free(req->resp);
    if (req->headers)
        curl_slist_free_all(req->headers);
    if (req->easy)
        curl_easy_cleanup(req->easy);
    if (req->retry_timer) {
        /* the request outlives its timer handle by one close callback */
        uv_close((uv_handle_t *)req->retry_timer, retry_timer_closed);
        return;
    }
    free(req);
}

static uint64_t next_random(s3_t *s3)
{
    uint64_t x = s3->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    s3->rng = x;
    return x;
}

/* ---------------------------------------------------------------------- */
/* curl callbacks */

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    s3_req_t *req = userdata;
    size_t n = size * nmemb;
    if (n > req->resp_limit - req->resp_len) {
        req->too_large = 1;
        return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    if (req->resp_len + n > req->resp_cap) {
        size_t cap = req->resp_cap ? req->resp_cap : 4096;
        while (cap < req->resp_len + n)
            cap *= 2;
        if (cap > req->resp_limit)
            cap = req->resp_limit;
        req->resp = ls_realloc(req->resp, cap);
        req->resp_cap = cap;
    }
    memcpy(req->resp + req->resp_len, ptr, n);
    req->resp_len += n;
    return n;
}

static size_t read_cb(char *buf, size_t size, size_t nitems, void *userdata)
{
    s3_req_t *req = userdata;
    size_t n = size * nitems, left = req->body_len - req->upload_pos;
    if (n > left)
        n = left;
    memcpy(buf, req->body + req->upload_pos, n);
    req->upload_pos += n;
    return n;
}

static int seek_cb(void *userdata, curl_off_t offset, int origin)
{
    s3_req_t *req = userdata;
    if (origin != SEEK_SET || offset < 0 || (uint64_t)offset > req->body_len)
        return CURL_SEEKFUNC_CANTSEEK;
    req->upload_pos = (size_t)offset;
    return CURL_SEEKFUNC_OK;
}

static int header_is(const char *line, size_t n, const char *name, const char **value, size_t *vlen)
{
    size_t nl = strlen(name);
    if (n <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
        return 0;
    const char *v = line + nl + 1, *end = line + n;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    *value = v;
    *vlen = (size_t)(end - v);
    return 1;
}

static size_t header_cb(char *buf, size_t size, size_t nitems, void *userdata)
{
    s3_req_t *req = userdata;
    size_t n = size * nitems;
    const char *v;
    size_t vl;
    if (n >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
        /* a new response (after 100 Continue or a redirect): forget the old one */
        req->etag[0] = '\0';
        req->have_content_length = 0;
        req->last_modified = -1;
        const char *sp = memchr(buf, ' ', n);
        int code = sp && (size_t)(sp - buf) + 4 <= n ? atoi(sp + 1) : 0;
        req->resp_limit = code >= 200 && code < 300 ? req->body_limit : MAX_XML_RESPONSE;
    } else if (header_is(buf, n, "etag", &v, &vl)) {
        if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {
            v++;
            vl -= 2;
        }
        snprintf(req->etag, sizeof(req->etag), "%.*s", (int)vl, v);
    } else if (header_is(buf, n, "content-length", &v, &vl)) {
        char tmp[32];
        snprintf(tmp, sizeof(tmp), "%.*s", (int)(vl < 31 ? vl : 31), v);
        char *end;
        unsigned long long cl = strtoull(tmp, &end, 10);
        if (end != tmp && *end == '\0') {
            req->content_length = cl;
            req->have_content_length = 1;
            if (strcmp(req->method, "HEAD") != 0) {
                if (cl > req->resp_limit) {
                    req->too_large = 1;
                    return 0; /* refuse before a byte of the body arrives */
                }
                if (cl > req->resp_cap) {
                    /* one allocation of the announced size instead of doublings */
                    req->resp = ls_realloc(req->resp, (size_t)cl ? (size_t)cl : 1);
                    req->resp_cap = (size_t)cl;
                }
            }
        }
    } else if (header_is(buf, n, "last-modified", &v, &vl)) {
        char tmp[64];
        snprintf(tmp, sizeof(tmp), "%.*s", (int)(vl < 63 ? vl : 63), v);
        req->last_modified = (int64_t)curl_getdate(tmp, NULL);
    }
    return n;
}

static void poll_cb(uv_poll_t *h, int status, int events)
{
    s3_socket_t *sock = h->data;
    s3_t *s3 = sock->s3;
    int flags = 0;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    else {
        if (events & UV_READABLE)
            flags |= CURL_CSELECT_IN;
        if (events & UV_WRITABLE)
            flags |= CURL_CSELECT_OUT;
    }
    int running;
    curl_multi_socket_action(s3->multi, sock->fd, flags, &running);
    check_multi_info(s3);
}

static void socket_closed(uv_handle_t *h)
{
    s3_socket_t *sock = h->data;
    s3_t *s3 = sock->s3;
    free(sock);
    s3->open_handles--;
    if (s3->closing)
        maybe_closed(s3);
}

static int socket_fn(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    s3_t *s3 = userp;
    s3_socket_t *sock = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (sock) {
            curl_multi_assign(s3->multi, fd, NULL);
            uv_poll_stop(&sock->poll);
            uv_close((uv_handle_t *)&sock->poll, socket_closed);
        }
        return 0;
    }
    if (!sock) {
        sock = ls_calloc(1, sizeof(*sock));
        sock->fd = fd;
        sock->s3 = s3;
        if (uv_poll_init_socket(s3->store->loop, &sock->poll, fd) != 0) {
            free(sock);
            return -1;
        }
        sock->poll.data = sock;
        s3->open_handles++;
        curl_multi_assign(s3->multi, fd, sock);
    }
    int events = 0;
    if (what & CURL_POLL_IN)
        events |= UV_READABLE;
    if (what & CURL_POLL_OUT)
        events |= UV_WRITABLE;
    uv_poll_start(&sock->poll, events, poll_cb);
    return 0;
}

static void timeout_cb(uv_timer_t *t)
{
    s3_t *s3 = t->data;
    int running;
    curl_multi_socket_action(s3->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_multi_info(s3);
}

static int timer_fn(CURLM *multi, long timeout_ms, void *userp)
{
    s3_t *s3 = userp;
    if (s3->closing)
        return 0; /* the timer is already closing; cleanup needs no more wakeups */
    if (timeout_ms < 0)
        uv_timer_stop(&s3->timer);
    else
        uv_timer_start(&s3->timer, timeout_cb, (uint64_t)timeout_ms, 0);
    return 0;
}

/* ---------------------------------------------------------------------- */
/* running a request */

static struct curl_slist *add_header(struct curl_slist *l, const char *name, const char *value)
{
    char *line = ls_asprintf("%s: %s", name, value);
    struct curl_slist *n = curl_slist_append(l, line);
    free(line);
    if (!n)
        ls_oom(strlen(name) + strlen(value));
    return n;
}

static void req_start(s3_req_t *req)
{
    s3_t *s3 = req->s3;
    const ls_objstore_options_t *o = &s3->store->opts;
    req->attempt++;
    req->status = 0;
    req->curl_rc = CURLE_OK;
    req->curl_err[0] = '\0';
    req->too_large = 0;
    req->resp_len = 0;
    req->upload_pos = 0;
    req->etag[0] = '\0';
    req->have_content_length = 0;
    req->last_modified = -1;
    if (req->headers) {
        curl_slist_free_all(req->headers);
        req->headers = NULL;
    }
    if (!req->easy) {
        req->easy = curl_easy_init();
        if (!req->easy)
            ls_oom(sizeof(void *));
    } else {
        curl_easy_reset(req->easy);
    }

    char amz_date[17];
    ls_sigv4_amz_date(time(NULL), amz_date);
    ls_sigv4_pair_t hs[8];
    size_t nh = 0;
    hs[nh++] = (ls_sigv4_pair_t){"host", s3->host};
    hs[nh++] = (ls_sigv4_pair_t){"x-amz-date", amz_date};
    hs[nh++] = (ls_sigv4_pair_t){"x-amz-content-sha256", req->sha256};
    if (req->has_md5)
        hs[nh++] = (ls_sigv4_pair_t){"content-md5", req->md5_b64};
    if (req->range[0])
        hs[nh++] = (ls_sigv4_pair_t){"range", req->range};
    if (req->content_type)
        hs[nh++] = (ls_sigv4_pair_t){"content-type", req->content_type};
    if (s3->creds.session_token)
        hs[nh++] = (ls_sigv4_pair_t){"x-amz-security-token", s3->creds.session_token};
    char *auth = ls_sigv4_authorization(&s3->creds, req->method, req->path, req->query, hs, nh,
                                        req->sha256, amz_date);
    struct curl_slist *l = NULL;
    for (size_t i = 0; i < nh; i++)
        l = add_header(l, hs[i].name, hs[i].value);
    l = add_header(l, "authorization", auth);
    /* credentials must not linger in freed memory */
    memset(auth, 0, strlen(auth));
    free(auth);
    l = curl_slist_append(l, "Expect:");
    if (!req->content_type)
        l = curl_slist_append(l, "Content-Type:");
    req->headers = l;

    char *url =
        ls_asprintf("%s%s%s%s", s3->origin, req->path, req->query[0] ? "?" : "", req->query);
    CURL *e = req->easy;
    curl_easy_setopt(e, CURLOPT_URL, url);
    free(url); /* curl copies the URL */
    curl_easy_setopt(e, CURLOPT_PRIVATE, req);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, req->headers);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, req);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, req);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, req->curl_err);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)o->request_timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)(o->request_timeout_ms < 10000 ? o->request_timeout_ms : 10000));
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    if (strcmp(req->method, "PUT") == 0) {
        curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(e, CURLOPT_READFUNCTION, read_cb);
        curl_easy_setopt(e, CURLOPT_READDATA, req);
        curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, seek_cb);
        curl_easy_setopt(e, CURLOPT_SEEKDATA, req);
        curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->body_len);
    } else if (strcmp(req->method, "POST") == 0) {
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body_len ? (const char *)req->body : "");
    } else if (strcmp(req->method, "HEAD") == 0) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else if (strcmp(req->method, "DELETE") == 0) {
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "DELETE");
    }
    s3->active++;
    /* fails only when out of memory (the handle is never already added) */
    if (curl_multi_add_handle(s3->multi, e) != CURLM_OK)
        ls_oom(sizeof(*req));
}

static void pump_queue(s3_t *s3)
{
    while (s3->queue_head && s3->active < s3->store->opts.max_concurrency) {
        s3_req_t *req = s3->queue_head;
        s3->queue_head = req->next_queued;
        if (!s3->queue_head)
            s3->queue_tail = NULL;
        req->next_queued = NULL;
        req_start(req);
    }
}

static void req_submit(s3_req_t *req)
{
    s3_t *s3 = req->s3;
    if (s3->queue_tail)
        s3->queue_tail->next_queued = req;
    else
        s3->queue_head = req;
    s3->queue_tail = req;
    pump_queue(s3);
}

static int curl_retryable(CURLcode rc)
{
    switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_READ_ERROR:
        return 1;
    default:
        return 0;
    }
}

static ls_err_t status_code(long status)
{
    switch (status) {
    case 400:
    case 416:
        return LS_ERR_INVALID_ARGUMENT;
    case 401:
        return LS_ERR_UNAUTHENTICATED;
    case 403:
        return LS_ERR_PERMISSION_DENIED;
    case 404:
        return LS_ERR_NOT_FOUND;
    case 409:
    case 412:
        return LS_ERR_FAILED_PRECONDITION;
    default:
        return status >= 500 || status == 429 ? LS_ERR_UNAVAILABLE : LS_ERR_INTERNAL;
    }
}

static void retry_fire(uv_timer_t *t)
{
    s3_req_t *req = t->data;
    req_submit(req);
}

/* Decides between success, retry and final failure for a finished attempt. */
static void req_finished(s3_req_t *req)
{
    s3_t *s3 = req->s3;
    char code[128] = "", msg[256] = "";
    int retry = 0;
    ls_err_t result = LS_ERR_OK;
    char what[512];
    if (req->curl_rc != CURLE_OK) {
        if (req->too_large) {
            result = LS_ERR_INVALID_ARGUMENT;
            snprintf(what, sizeof(what), "response is larger than the %zu-byte limit",
                     req->body_limit);
        } else {
            result = LS_ERR_UNAVAILABLE;
            retry = curl_retryable(req->curl_rc);
            snprintf(what, sizeof(what), "%s%s%s", curl_easy_strerror(req->curl_rc),
                     req->curl_err[0] ? ": " : "", req->curl_err);
        }
    } else if (req->status >= 200 && req->status < 300) {
        if (req->retryable_200_error &&
            ls_s3_xml_parse_error((const char *)req->resp, req->resp_len, code, sizeof(code), msg,
                                  sizeof(msg))) {
            result = LS_ERR_UNAVAILABLE;
            retry = 1;
            snprintf(what, sizeof(what), "HTTP %ld with error %s: %s", req->status, code, msg);
        }
    } else {
        ls_s3_xml_parse_error((const char *)req->resp, req->resp_len, code, sizeof(code), msg,
                              sizeof(msg));
        result = status_code(req->status);
        retry = req->status >= 500 || req->status == 429 ||
                (req->status == 400 && strcmp(code, "RequestTimeout") == 0);
        if (code[0])
            snprintf(what, sizeof(what), "HTTP %ld %s: %s", req->status, code, msg);
        else
            snprintf(what, sizeof(what), "HTTP %ld", req->status);
    }
    if (retry && req->attempt < s3->store->opts.max_attempts) {
        const ls_objstore_options_t *o = &s3->store->opts;
        uint64_t delay = o->retry_base_ms;
        for (unsigned i = 1; i < req->attempt && delay < o->retry_max_ms; i++)
            delay *= 2;
        if (delay > o->retry_max_ms)
            delay = o->retry_max_ms;
        /* "equal jitter": half fixed so backoff still grows, half random so
         * many clients do not retry in lockstep */
        delay = delay / 2 + next_random(s3) % (delay / 2 + 1);
        if (!req->retry_timer) {
            req->retry_timer = ls_calloc(1, sizeof(*req->retry_timer));
            uv_timer_init(s3->store->loop, req->retry_timer);
            req->retry_timer->data = req;
            s3->open_handles++;
        }
        uv_timer_start(req->retry_timer, retry_fire, delay, 0);
        return;
    }
    req->result = result;
    if (result != LS_ERR_OK) {
        ls_error_set(&req->error, result, "S3 %s %s: %s (after %u attempt%s)", req->method,
                     req->path, what, req->attempt, req->attempt == 1 ? "" : "s");
        if (strcmp(code, "NoSuchUpload") == 0 || strcmp(code, "NoSuchKey") == 0 ||
            strcmp(code, "NoSuchBucket") == 0)
            req->result = req->error.code = LS_ERR_NOT_FOUND;
    }
    req->done(req);
}

static void check_multi_info(s3_t *s3)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(s3->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *e = msg->easy_handle;
        CURLcode rc = msg->data.result;
        s3_req_t *req = NULL;
        curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&req);
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &req->status);
        req->curl_rc = rc;
        curl_multi_remove_handle(s3->multi, e);
        s3->active--;
        req_finished(req);
    }
    pump_queue(s3);
}

/* ---------------------------------------------------------------------- */
/* operations */

static void op_done(s3_op_t *so)
{
    ls__objstore_op_t *op = so->op;
    free(so->upload_id);
    free(so->parts);
    free(so->complete_body);
    free(so);
    ls__objstore_op_finish(op);
}

static void fail_op(s3_op_t *so, s3_req_t *req)
{
    so->op->result.status = req->result;
    so->op->result.error = req->error;
}

static void simple_done(s3_req_t *req)
{
    s3_op_t *so = req->owner;
    ls__objstore_op_t *op = so->op;
    ls_objstore_result_t *r = &op->result;
    r->attempts += req->attempt;
    if (req->result != LS_ERR_OK) {
        if (op->kind == LS__OBJSTORE_DELETE && req->result == LS_ERR_NOT_FOUND &&
            req->status == 404) {
            r->status = LS_ERR_OK; /* deleting a missing object succeeds */
        } else if (op->kind == LS__OBJSTORE_HEAD && req->status == 404) {
            r->status = ls_error_set(&r->error, LS_ERR_NOT_FOUND, "no object %s", op->key);
        } else {
            fail_op(so, req);
        }
        req_free(req);
        op_done(so);
        return;
    }
    r->status = LS_ERR_OK;
    switch (op->kind) {
    case LS__OBJSTORE_PUT:
        r->info.key = ls_strdup(op->key);
        r->info.size = op->len;
        r->info.etag = ls_strdup(req->etag);
        r->info.mtime = (int64_t)time(NULL);
        break;
    case LS__OBJSTORE_GET:
        if (op->ranged && req->status != 206 && op->offset > 0) {
            r->status = ls_error_set(&r->error, LS_ERR_UNAVAILABLE,
                                     "S3 GET %s: server ignored the Range header (HTTP %ld)",
                                     op->key, req->status);
            break;
        }
        if (req->have_content_length && req->content_length != req->resp_len) {
            r->status =
                ls_error_set(&r->error, LS_ERR_UNAVAILABLE, "S3 GET %s: got %zu bytes of %llu",
                             op->key, req->resp_len, (unsigned long long)req->content_length);
            break;
        }
        r->body = req->resp ? req->resp : ls_malloc(1);
        r->body_len = req->resp_len;
        req->resp = NULL;
        break;
    case LS__OBJSTORE_HEAD:
        r->info.key = ls_strdup(op->key);
        r->info.size = req->content_length;
        r->info.etag = ls_strdup(req->etag);
        r->info.mtime = req->last_modified;
        break;
    case LS__OBJSTORE_LIST: {
        ls_error_t err;
        if (ls_s3_xml_parse_list((const char *)req->resp, req->resp_len, so->s3->store->prefix, r,
                                 &err) != LS_ERR_OK)
            r->status = ls_error_set(&r->error, err.code, "S3 list: %s", err.message);
        break;
    }
    case LS__OBJSTORE_DELETE:
        break;
    }
    req_free(req);
    op_done(so);
}

/* multipart ---------------------------------------------------------------- */

/* The text of child in a response whose root element is root_name, as a
 * heap string the caller frees; NULL when the body is not that document. */
static char *response_text(const s3_req_t *req, const char *root_name, const char *child)
{
    ls_s3_xml_node_t *root = NULL;
    ls_error_t err;
    char *text = NULL;
    if (ls_s3_xml_parse((const char *)req->resp, req->resp_len, &root, &err) == LS_ERR_OK &&
        strcmp(root->name, root_name) == 0) {
        const char *t = ls_s3_xml_child_text(root, child);
        text = t ? ls_strdup(t) : NULL;
    }
    ls_s3_xml_free(root);
    return text;
}

static void mp_launch_parts(s3_op_t *so);
static void mp_finish_failed(s3_op_t *so);

static void mp_record_failure(s3_op_t *so, s3_req_t *req)
{
    if (!so->failed) {
        so->failed = 1;
        so->fail_code = req->result;
        so->fail_error = req->error;
    }
}

static void mp_abort_done(s3_req_t *req)
{
    s3_op_t *so = req->owner;
    so->op->result.attempts += req->attempt;
    so->op->result.status = so->fail_code;
    so->op->result.error = so->fail_error;
    if (req->result != LS_ERR_OK && req->result != LS_ERR_NOT_FOUND) {
        size_t n = strlen(so->op->result.error.message);
        snprintf(so->op->result.error.message + n, sizeof(so->op->result.error.message) - n,
                 "; abort of upload also failed: %s", req->error.message);
    }
    req_free(req);
    op_done(so);
}

static void mp_finish_failed(s3_op_t *so)
{
    if (!so->upload_id) {
        so->op->result.status = so->fail_code;
        so->op->result.error = so->fail_error;
        op_done(so);
        return;
    }
    ls_sigv4_pair_t q[] = {{"uploadId", so->upload_id}};
    s3_req_t *req = req_new(so->s3, "DELETE", so->op->key, q, 1, mp_abort_done, so);
    req_submit(req);
}

static void mp_accept_stored(s3_op_t *so, const char *etag, int64_t mtime)
{
    ls__objstore_op_t *op = so->op;
    op->result.status = LS_ERR_OK;
    op->result.info.key = ls_strdup(op->key);
    op->result.info.size = op->len;
    op->result.info.etag = ls_strdup(etag);
    op->result.info.mtime = mtime;
    op_done(so);
}

/* The completion failed and the stored object is not this upload: abort the
 * upload and report the completion's error. */
static void mp_reject_stored(s3_op_t *so, const char *why)
{
    size_t n = strlen(so->fail_error.message);
    snprintf(so->fail_error.message + n, sizeof(so->fail_error.message) - n,
             "; the stored object %s", why);
    mp_finish_failed(so);
}

typedef struct {
    uv_work_t work;
    s3_op_t *so;
    char etag[128];
    int64_t mtime;
    char md5_hex[33];
} verify_work_t;

static void verify_work_cb(uv_work_t *w)
{
    verify_work_t *vw = w->data;
    ls__objstore_op_t *op = vw->so->op; /* only the caller's immutable buffer is read */
    uint8_t md[16];
    unsigned int n = 16;
    EVP_Digest(op->data, op->len, md, &n, EVP_md5(), NULL);
    ls_sigv4_hex(md, 16, vw->md5_hex);
}

static void verify_after_cb(uv_work_t *w, int status)
{
    verify_work_t *vw = w->data;
    s3_op_t *so = vw->so;
    if (status == 0 && strcmp(vw->md5_hex, vw->etag) == 0)
        mp_accept_stored(so, vw->etag, vw->mtime);
    else
        mp_reject_stored(so, "does not have the uploaded content");
    free(vw);
}

/* The completion's outcome is unknown (a response was lost, then retries
 * failed): the HEAD says whether an earlier attempt assembled exactly this
 * upload. AWS reports md5(part md5s)-N; some S3-compatible servers report the
 * plain MD5 of the content, which is checked on a worker. */
static void mp_head_done(s3_req_t *req)
{
    s3_op_t *so = req->owner;
    ls__objstore_op_t *op = so->op;
    op->result.attempts += req->attempt;
    if (req->result != LS_ERR_OK || req->content_length != op->len) {
        req_free(req);
        mp_reject_stored(so, "is missing or has the wrong size");
        return;
    }
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_md5(), NULL);
    for (size_t i = 0; i < so->nparts; i++)
        EVP_DigestUpdate(ctx, so->parts[i].md5, 16);
    uint8_t md[16];
    unsigned int mdlen = 16;
    EVP_DigestFinal_ex(ctx, md, &mdlen);
    EVP_MD_CTX_free(ctx);
    char expected[64];
    ls_sigv4_hex(md, 16, expected);
    snprintf(expected + 32, sizeof(expected) - 32, "-%zu", so->nparts);
    if (strcmp(req->etag, expected) == 0) {
        mp_accept_stored(so, req->etag, req->last_modified);
        req_free(req);
        return;
    }
    if (strlen(req->etag) != 32) {
        req_free(req);
        mp_reject_stored(so, "has an ETag of another upload");
        return;
    }
    verify_work_t *vw = ls_calloc(1, sizeof(*vw));
    vw->so = so;
    vw->work.data = vw;
    snprintf(vw->etag, sizeof(vw->etag), "%s", req->etag);
    vw->mtime = req->last_modified;
    req_free(req);
    if (uv_queue_work(so->s3->store->loop, &vw->work, verify_work_cb, verify_after_cb) != 0) {
        free(vw);
        mp_reject_stored(so, "could not be verified");
    }
}

static void mp_complete_done(s3_req_t *req)
{
    s3_op_t *so = req->owner;
    ls__objstore_op_t *op = so->op;
    op->result.attempts += req->attempt;
    if (req->result != LS_ERR_OK) {
        /* An earlier attempt may have completed the upload with its response
         * lost (curl even resends on a dead reused connection by itself), so
         * later attempts fail (AWS: NoSuchUpload; s3rver: 500). Whatever the
         * error, look at what is stored before giving up. */
        mp_record_failure(so, req);
        req_free(req);
        s3_req_t *head = req_new(so->s3, "HEAD", op->key, NULL, 0, mp_head_done, so);
        req_submit(head);
        return;
    }
    char *etag = response_text(req, "CompleteMultipartUploadResult", "ETag");
    if (!etag) {
        op->result.status =
            ls_error_set(&op->result.error, LS_ERR_UNAVAILABLE,
                         "S3 multipart put %s: unexpected completion response", op->key);
    } else {
        size_t n = strlen(etag);
        int quoted = n >= 2 && etag[0] == '"' && etag[n - 1] == '"';
        op->result.status = LS_ERR_OK;
        op->result.info.key = ls_strdup(op->key);
        op->result.info.size = op->len;
        op->result.info.etag = quoted ? ls_strndup(etag + 1, n - 2) : ls_strdup(etag);
        op->result.info.mtime = (int64_t)time(NULL);
    }
    free(etag);
    req_free(req);
    op_done(so);
}

static void mp_complete(s3_op_t *so)
{
    size_t cap = 128 + so->nparts * 200;
    char *xml = ls_malloc(cap);
    size_t n = (size_t)snprintf(xml, cap, "<CompleteMultipartUpload>");
    for (size_t i = 0; i < so->nparts; i++)
        n += (size_t)snprintf(xml + n, cap - n,
                              "<Part><PartNumber>%zu</PartNumber><ETag>\"%s\"</ETag></Part>", i + 1,
                              so->parts[i].etag);
    n += (size_t)snprintf(xml + n, cap - n, "</CompleteMultipartUpload>");
    so->complete_body = xml;
    ls_sigv4_pair_t q[] = {{"uploadId", so->upload_id}};
    s3_req_t *req = req_new(so->s3, "POST", so->op->key, q, 1, mp_complete_done, so);
    req->body = (const uint8_t *)xml;
    req->body_len = n;
    req->content_type = "application/xml";
    req->retryable_200_error = 1;
    hash_body(req);
    req_submit(req);
}

static void mp_part_done(s3_req_t *req)
{
    s3_op_t *so = req->owner;
    so->op->result.attempts += req->attempt;
    so->parts_inflight--;
    if (req->result != LS_ERR_OK)
        mp_record_failure(so, req);
    else if (!req->etag[0]) {
        req->result = LS_ERR_UNAVAILABLE;
        ls_error_set(&req->error, LS_ERR_UNAVAILABLE, "S3 UploadPart %zu of %s: no ETag",
                     req->part_index + 1, so->op->key);
        mp_record_failure(so, req);
    } else {
        snprintf(so->parts[req->part_index].etag, sizeof(so->parts[0].etag), "%s", req->etag);
        memcpy(so->parts[req->part_index].md5, req->md5, 16);
        so->parts_done++;
    }
    req_free(req);
    if (so->failed) {
        if (so->parts_inflight == 0)
            mp_finish_failed(so);
        return;
    }
    if (so->parts_done == so->nparts)
        mp_complete(so);
    else
        mp_launch_parts(so);
}

static void mp_launch_parts(s3_op_t *so)
{
    const ls_objstore_options_t *o = &so->s3->store->opts;
    ls__objstore_op_t *op = so->op;
    /* a window of parts per upload keeps hashing and memory for requests bounded */
    while (!so->failed && so->next_part < so->nparts && so->parts_inflight < o->max_concurrency) {
        size_t i = so->next_part++;
        char num[24];
        snprintf(num, sizeof(num), "%zu", i + 1);
        ls_sigv4_pair_t q[] = {{"partNumber", num}, {"uploadId", so->upload_id}};
        s3_req_t *req = req_new(so->s3, "PUT", op->key, q, 2, mp_part_done, so);
        req->part_index = i;
        req->body = op->data + i * o->part_size;
        size_t left = op->len - i * o->part_size;
        req->body_len = left < o->part_size ? left : o->part_size;
        so->parts_inflight++;
        hash_and_submit(req);
    }
}

static void mp_create_done(s3_req_t *req)
{
    s3_op_t *so = req->owner;
    so->op->result.attempts += req->attempt;
    if (req->result != LS_ERR_OK) {
        mp_record_failure(so, req);
        req_free(req);
        mp_finish_failed(so);
        return;
    }
    char *id = response_text(req, "InitiateMultipartUploadResult", "UploadId");
    if (!id || !*id || strlen(id) > 1024) {
        free(id);
        so->failed = 1;
        so->fail_code =
            ls_error_set(&so->fail_error, LS_ERR_UNAVAILABLE,
                         "S3 CreateMultipartUpload %s: response has no UploadId", so->op->key);
        req_free(req);
        mp_finish_failed(so);
        return;
    }
    so->upload_id = id;
    req_free(req);
    mp_launch_parts(so);
}

static ls_err_t s3_start(ls__objstore_op_t *op, ls_error_t *err)
{
    ls_objstore_t *store = op->store;
    s3_t *s3 = store->impl;
    s3_op_t *so = ls_calloc(1, sizeof(*so));
    so->op = op;
    so->s3 = s3;
    s3_req_t *req = NULL;
    switch (op->kind) {
    case LS__OBJSTORE_PUT:
        if (op->len > store->opts.multipart_threshold) {
            size_t nparts = (op->len + store->opts.part_size - 1) / store->opts.part_size;
            if (nparts > 10000) {
                free(so);
                return ls_error_set(err, LS_ERR_INVALID_ARGUMENT,
                                    "put of %zu bytes needs %zu parts of %zu (S3 allows 10000)",
                                    op->len, nparts, store->opts.part_size);
            }
            so->nparts = nparts;
            so->parts = ls_calloc(nparts, sizeof(*so->parts));
            ls_sigv4_pair_t q[] = {{"uploads", NULL}};
            req = req_new(s3, "POST", op->key, q, 1, mp_create_done, so);
            break;
        }
        req = req_new(s3, "PUT", op->key, NULL, 0, simple_done, so);
        req->body = op->data;
        req->body_len = op->len;
        hash_and_submit(req);
        return LS_ERR_OK;
    case LS__OBJSTORE_GET:
        req = req_new(s3, "GET", op->key, NULL, 0, simple_done, so);
        req->body_limit = store->opts.max_get_bytes;
        if (op->ranged) {
            snprintf(req->range, sizeof(req->range), "bytes=%llu-%llu",
                     (unsigned long long)op->offset,
                     (unsigned long long)(op->offset + op->length - 1));
            req->body_limit = (size_t)op->length;
        }
        break;
    case LS__OBJSTORE_HEAD:
        req = req_new(s3, "HEAD", op->key, NULL, 0, simple_done, so);
        break;
    case LS__OBJSTORE_DELETE:
        req = req_new(s3, "DELETE", op->key, NULL, 0, simple_done, so);
        break;
    case LS__OBJSTORE_LIST: {
        char *prefix = ls_asprintf("%s%s", store->prefix, op->key);
        char maxk[16];
        snprintf(maxk, sizeof(maxk), "%u", op->max_keys);
        ls_sigv4_pair_t q[4] = {{"list-type", "2"}, {"prefix", prefix}, {"max-keys", maxk}};
        size_t nq = 3;
        if (op->token)
            q[nq++] = (ls_sigv4_pair_t){"continuation-token", op->token};
        req = req_new(s3, "GET", NULL, q, nq, simple_done, so);
        free(prefix);
        break;
    }
    }
    req_submit(req);
    return LS_ERR_OK;
}

/* ---------------------------------------------------------------------- */
/* open and close */

static void maybe_closed(s3_t *s3)
{
    if (s3->open_handles > 0 || s3->multi)
        return;
    ls_objstore_t *store = s3->store;
    free(s3->origin);
    free(s3->host);
    free(s3->base_path);
    free(s3);
    ls__objstore_closed(store);
}

static void main_timer_closed(uv_handle_t *h)
{
    s3_t *s3 = h->data;
    s3->open_handles--;
    /* outside every curl callback now: safe to tear the multi handle down;
     * its cached connections report CURL_POLL_REMOVE, closing their polls */
    curl_multi_cleanup(s3->multi);
    s3->multi = NULL;
    maybe_closed(s3);
}

static void s3_close(ls_objstore_t *store)
{
    s3_t *s3 = store->impl;
    s3->closing = 1;
    uv_timer_stop(&s3->timer);
    uv_close((uv_handle_t *)&s3->timer, main_timer_closed);
}

static ls_err_t s3_init(ls_objstore_t *store, ls_error_t *err)
{
    static int curl_ready;
    if (!curl_ready) {
        /* once, on the loop thread, before any other curl call of ours */
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            return ls_error_set(err, LS_ERR_INTERNAL, "curl_global_init failed");
        curl_ready = 1;
    }
    const ls_objstore_options_t *o = &store->opts;
    char *endpoint = o->endpoint ? ls_strdup(o->endpoint)
                                 : ls_asprintf("https://s3.%s.amazonaws.com", o->region);
    size_t n = strlen(endpoint);
    while (n > 0 && endpoint[n - 1] == '/')
        endpoint[--n] = '\0';
    const char *sep = strstr(endpoint, "://");
    const char *authority = sep ? sep + 3 : endpoint;
    if (!*authority || strchr(authority, '/') || strchr(authority, '?') || strchr(authority, '@')) {
        ls_err_t rc = ls_error_set(err, LS_ERR_INVALID_ARGUMENT,
                                   "endpoint must be scheme://host[:port] without a path");
        free(endpoint);
        return rc;
    }
    int vhost =
        o->addressing == LS_OBJSTORE_ADDRESSING_VHOST ||
        (o->addressing == LS_OBJSTORE_ADDRESSING_AUTO && !o->endpoint && !strchr(store->root, '.'));
    s3_t *s3 = ls_calloc(1, sizeof(*s3));
    s3->store = store;
    if (vhost) {
        s3->host = ls_asprintf("%s.%s", store->root, authority);
        s3->origin = ls_asprintf("%.*s%s", (int)(authority - endpoint), endpoint, s3->host);
        s3->base_path = ls_strdup("");
    } else {
        s3->host = ls_strdup(authority);
        s3->origin = ls_strdup(endpoint);
        s3->base_path = ls_asprintf("/%s", store->root);
    }
    free(endpoint);
    s3->creds = (ls_sigv4_credentials_t){o->access_key_id, o->secret_access_key, o->session_token,
                                         o->region, "s3"};
    s3->rng = uv_hrtime() ^ (uint64_t)(uintptr_t)s3 ^ 0x9e3779b97f4a7c15ull;
    if (!s3->rng)
        s3->rng = 1;
    s3->multi = curl_multi_init();
    if (!s3->multi)
        ls_oom(sizeof(void *));
    curl_multi_setopt(s3->multi, CURLMOPT_SOCKETFUNCTION, socket_fn);
    curl_multi_setopt(s3->multi, CURLMOPT_SOCKETDATA, s3);
    curl_multi_setopt(s3->multi, CURLMOPT_TIMERFUNCTION, timer_fn);
    curl_multi_setopt(s3->multi, CURLMOPT_TIMERDATA, s3);
    curl_multi_setopt(s3->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)o->max_concurrency);
    uv_timer_init(store->loop, &s3->timer);
    s3->timer.data = s3;
    s3->open_handles = 1;
    store->impl = s3;
    return LS_ERR_OK;
}

const char *ls__objstore_s3_origin(const ls_objstore_t *store)
{
    return ((const s3_t *)store->impl)->origin;
}

const char *ls__objstore_s3_host(const ls_objstore_t *store)
{
    return ((const s3_t *)store->impl)->host;
}

const ls__objstore_backend_t ls__objstore_s3_backend = {"s3", s3_init, s3_start, s3_close};
