/*
 * The s3:// backend's HTTP transport (see s3_http.h): curl multi on the
 * loop, SigV4 signing, off-loop hashing, bounded concurrency and retries.
 */
#include "lake/s3_http.h"

#include "core/alloc.h"
#include "lake/s3_xml.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Bodies at or below this are hashed on the loop: cheaper than a thread hop. */
#define INLINE_HASH_MAX (256u * 1024u)
/* Largest non-2xx or non-GET response body we accept (a 1000-key list is
 * well below). */
#define MAX_XML_RESPONSE (8u * 1024u * 1024u)
/* Large bodies hashing on the threadpool at once, per store. */
#define MAX_PARALLEL_HASHES 2

typedef struct {
    uv_poll_t poll;
    curl_socket_t fd;
    ls_s3_http_t *s3;
} s3_socket_t;

struct ls_s3_http_s {
    ls_objstore_t *store;
    CURLM *multi;
    uv_timer_t timer;
    char *origin;    /* "http://host:port" as requested */
    char *host;      /* the Host header, signed */
    char *base_path; /* "/bucket" for path style, "" for virtual host */
    unsigned active;
    ls_s3_req_t *queue_head, *queue_tail;           /* waiting for a request slot */
    ls_s3_req_t *hash_queue_head, *hash_queue_tail; /* waiting for a hashing slot */
    unsigned hashing;
    uint64_t rng;
    int closing;
    unsigned open_handles; /* uv handles still to be closed at shutdown */
    ls_sigv4_credentials_t creds;
    void (*close_cb)(void *data);
    void *close_data;
};

static void req_start(ls_s3_req_t *req);
void ls_s3_req_submit(ls_s3_req_t *req);
static void check_multi_info(ls_s3_http_t *s3);

/* ---------------------------------------------------------------------- */
/* hashing */

void ls_s3_req_hash_body(ls_s3_req_t *req)
{
    ls_sigv4_sha256_hex(req->body, req->body_len, req->sha256);
    unsigned int n = 16;
    EVP_Digest(req->body, req->body_len, req->md5, &n, EVP_md5(), NULL);
    EVP_EncodeBlock((unsigned char *)req->md5_b64, req->md5, 16);
    req->has_md5 = 1;
}

typedef struct {
    uv_work_t work;
    ls_s3_req_t *req;
} hash_work_t;

static void hash_work_cb(uv_work_t *w)
{
    /* touches only the request, which the loop leaves alone until after_work */
    ls_s3_req_hash_body(((hash_work_t *)w->data)->req);
}

static void hash_start(ls_s3_req_t *req);

static void hash_after_cb(uv_work_t *w, int status)
{
    hash_work_t *hw = w->data;
    ls_s3_req_t *req = hw->req;
    ls_s3_http_t *s3 = req->s3;
    free(hw);
    s3->hashing--;
    ls_s3_req_submit(req);
    if (s3->hash_queue_head && s3->hashing < MAX_PARALLEL_HASHES) {
        ls_s3_req_t *next = s3->hash_queue_head;
        s3->hash_queue_head = next->next_queued;
        if (!s3->hash_queue_head)
            s3->hash_queue_tail = NULL;
        next->next_queued = NULL;
        hash_start(next);
    }
}

static void hash_start(ls_s3_req_t *req)
{
    hash_work_t *hw = ls_calloc(1, sizeof(*hw));
    hw->req = req;
    hw->work.data = hw;
    if (uv_queue_work(req->s3->store->loop, &hw->work, hash_work_cb, hash_after_cb) != 0) {
        /* libuv refuses only a NULL work callback; hash here rather than drop it */
        free(hw);
        ls_s3_req_hash_body(req);
        ls_s3_req_submit(req);
        return;
    }
    req->s3->hashing++;
}

/* Hashes the body (on a worker when large) and then submits the request. At
 * most MAX_PARALLEL_HASHES bodies hash at once: the threadpool is shared with
 * every uv_fs call of the server, and a 100 MB multipart put must not occupy
 * all of it (or every core) at the same time. The operation owning req stays
 * in flight meanwhile, so closing the store waits for these workers too. */
void ls_s3_req_hash_and_submit(ls_s3_req_t *req)
{
    ls_s3_http_t *s3 = req->s3;
    if (req->body_len <= INLINE_HASH_MAX) {
        ls_s3_req_hash_body(req);
        ls_s3_req_submit(req);
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

ls_s3_req_t *ls_s3_req_new(ls_s3_http_t *s3, const char *method, const char *key,
                           const ls_sigv4_pair_t *q, size_t nq, ls_s3_req_done_cb done, void *owner)
{
    ls_s3_req_t *req = ls_calloc(1, sizeof(*req));
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

static void maybe_closed(ls_s3_http_t *s3);

static void retry_timer_closed(uv_handle_t *h)
{
    ls_s3_req_t *req = h->data;
    ls_s3_http_t *s3 = req->s3;
    free(h);
    free(req);
    s3->open_handles--;
    if (s3->closing)
        maybe_closed(s3);
}

void ls_s3_req_free(ls_s3_req_t *req)
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

static uint64_t next_random(ls_s3_http_t *s3)
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
    ls_s3_req_t *req = userdata;
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
    ls_s3_req_t *req = userdata;
    size_t n = size * nitems, left = req->body_len - req->upload_pos;
    if (n > left)
        n = left;
    memcpy(buf, req->body + req->upload_pos, n);
    req->upload_pos += n;
    return n;
}

static int seek_cb(void *userdata, curl_off_t offset, int origin)
{
    ls_s3_req_t *req = userdata;
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
    ls_s3_req_t *req = userdata;
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
    ls_s3_http_t *s3 = sock->s3;
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
    ls_s3_http_t *s3 = sock->s3;
    free(sock);
    s3->open_handles--;
    if (s3->closing)
        maybe_closed(s3);
}

static int socket_fn(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    ls_s3_http_t *s3 = userp;
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
    ls_s3_http_t *s3 = t->data;
    int running;
    curl_multi_socket_action(s3->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_multi_info(s3);
}

static int timer_fn(CURLM *multi, long timeout_ms, void *userp)
{
    ls_s3_http_t *s3 = userp;
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

static void req_start(ls_s3_req_t *req)
{
    ls_s3_http_t *s3 = req->s3;
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

static void pump_queue(ls_s3_http_t *s3)
{
    while (s3->queue_head && s3->active < s3->store->opts.max_concurrency) {
        ls_s3_req_t *req = s3->queue_head;
        s3->queue_head = req->next_queued;
        if (!s3->queue_head)
            s3->queue_tail = NULL;
        req->next_queued = NULL;
        req_start(req);
    }
}

void ls_s3_req_submit(ls_s3_req_t *req)
{
    ls_s3_http_t *s3 = req->s3;
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
    ls_s3_req_t *req = t->data;
    ls_s3_req_submit(req);
}

/* Decides between success, retry and final failure for a finished attempt. */
static void req_finished(ls_s3_req_t *req)
{
    ls_s3_http_t *s3 = req->s3;
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

static void check_multi_info(ls_s3_http_t *s3)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(s3->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *e = msg->easy_handle;
        CURLcode rc = msg->data.result;
        ls_s3_req_t *req = NULL;
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
/* open and close */

static void maybe_closed(ls_s3_http_t *s3)
{
    if (s3->open_handles > 0 || s3->multi)
        return;
    void (*cb)(void *) = s3->close_cb;
    void *data = s3->close_data;
    free(s3->origin);
    free(s3->host);
    free(s3->base_path);
    free(s3);
    cb(data);
}

static void main_timer_closed(uv_handle_t *h)
{
    ls_s3_http_t *s3 = h->data;
    s3->open_handles--;
    /* outside every curl callback now: safe to tear the multi handle down;
     * its cached connections report CURL_POLL_REMOVE, closing their polls */
    curl_multi_cleanup(s3->multi);
    s3->multi = NULL;
    maybe_closed(s3);
}

void ls_s3_http_close(ls_s3_http_t *s3, void (*cb)(void *data), void *data)
{
    s3->closing = 1;
    s3->close_cb = cb;
    s3->close_data = data;
    uv_timer_stop(&s3->timer);
    uv_close((uv_handle_t *)&s3->timer, main_timer_closed);
}

ls_err_t ls_s3_http_new(ls_objstore_t *store, ls_s3_http_t **out, ls_error_t *err)
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
    ls_s3_http_t *s3 = ls_calloc(1, sizeof(*s3));
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
    *out = s3;
    return LS_ERR_OK;
}

const char *ls_s3_http_origin(const ls_s3_http_t *http)
{
    return http->origin;
}

const char *ls_s3_http_host(const ls_s3_http_t *http)
{
    return http->host;
}
