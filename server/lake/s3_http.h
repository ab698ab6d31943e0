/*
 * The HTTP side of the s3:// backend: one libcurl multi handle per store,
 * driven by the loop through CURLMOPT_SOCKETFUNCTION (a uv_poll per socket)
 * and CURLMOPT_TIMERFUNCTION (one uv_timer), so no curl call ever waits.
 * Every request is signed with SigV4 over its real payload SHA-256 and
 * carries Content-MD5 when it has a body; bodies above a few hundred KiB are
 * hashed on the threadpool, a bounded number at a time. Attempts that fail
 * with 5xx, 429, RequestTimeout, a timeout or a broken connection are retried
 * with jittered exponential backoff up to max_attempts; at most
 * max_concurrency requests are on the wire per store, the rest wait in FIFO
 * order. It knows nothing of objects or multipart uploads (s3.c does) and
 * never logs or puts a credential into a message. Loop thread only.
 */
#ifndef LS_LAKE_S3_HTTP_H
#define LS_LAKE_S3_HTTP_H

#include "lake/objstore_internal.h"
#include "lake/sigv4.h"

#include <curl/curl.h>

typedef struct ls_s3_http_s ls_s3_http_t;
typedef struct ls_s3_req_s ls_s3_req_t;

typedef void (*ls_s3_req_done_cb)(ls_s3_req_t *req);

/* One HTTP request, retried as a unit. Created by ls_s3_req_new and owned by
 * the caller, which sets the optional inputs before submitting; the transport
 * borrows it from submit until it calls done (once, on the loop), after
 * which the caller reads the outputs and frees it with ls_s3_req_free. */
struct ls_s3_req_s {
    /* inputs */
    ls_s3_http_t *s3;
    const char *method;  /* static string */
    char *path;          /* encoded, absolute ("/bucket/key" or "/key") */
    char *query;         /* canonical query string, also the real one */
    const uint8_t *body; /* borrowed until done */
    size_t body_len;
    size_t upload_pos;
    const char *content_type; /* static string or NULL */
    char sha256[65];
    char md5_b64[32];
    uint8_t md5[16];
    int has_md5;
    char range[64];
    size_t resp_limit;       /* for the response being received */
    size_t body_limit;       /* for a 2xx response; error bodies get MAX_XML_RESPONSE */
    int retryable_200_error; /* CompleteMultipartUpload may report errors in a 200 */
    ls_s3_req_done_cb done;
    void *owner;       /* for the caller */
    size_t part_index; /* for the caller */

    /* outputs of the last attempt */
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
    /* the final outcome: OK, or the error with S3's Code/Message */
    ls_err_t result;
    ls_error_t error;

    /* transport state */
    CURL *easy;
    struct curl_slist *headers;
    uv_timer_t *retry_timer;
    ls_s3_req_t *next_queued;
};

/* Sets up the transport for store (its options, bucket and loop): resolves
 * endpoint and addressing, creates the multi handle and its timer. No I/O.
 * INVALID_ARGUMENT for an endpoint that is not scheme://host[:port]. */
ls_err_t ls_s3_http_new(ls_objstore_t *store, ls_s3_http_t **out, ls_error_t *err);

/* Closes every handle (the caller has no request outstanding) and frees the
 * transport; cb fires afterwards, from a later loop iteration. */
void ls_s3_http_close(ls_s3_http_t *http, void (*cb)(void *data), void *data);

/* The origin ("http://bucket.host:port") and signed Host header requests go
 * to. Borrowed from http. */
const char *ls_s3_http_origin(const ls_s3_http_t *http);
const char *ls_s3_http_host(const ls_s3_http_t *http);

/* A request for key (relative to the store prefix; NULL for the bucket
 * itself) with the given query parameters (copied). Owned by the caller. */
ls_s3_req_t *ls_s3_req_new(ls_s3_http_t *http, const char *method, const char *key,
                           const ls_sigv4_pair_t *params, size_t nparams, ls_s3_req_done_cb done,
                           void *owner);

/* Frees a request that is not submitted (or whose done has fired). */
void ls_s3_req_free(ls_s3_req_t *req);

/* Hashes the body on the loop (small bodies only) into sha256/md5. */
void ls_s3_req_hash_body(ls_s3_req_t *req);

/* Queues a request whose body is hashed (or empty); done fires once. */
void ls_s3_req_submit(ls_s3_req_t *req);

/* Hashes the body (on a worker when large), then submits. */
void ls_s3_req_hash_and_submit(ls_s3_req_t *req);

#endif
