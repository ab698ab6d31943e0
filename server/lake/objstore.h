/*
 * The object store every lakestream file goes through: one asynchronous
 * interface over a local directory (file:///abs/dir) or an S3 bucket
 * (s3://bucket/prefix, AWS or any S3-compatible endpoint). All operations
 * run on the libuv loop thread and never block it: file I/O and hashing run
 * on the threadpool, HTTP runs on one libcurl multi handle driven by uv_poll
 * and uv_timer. A store never exposes a partially written object: file puts
 * rename a fully written, fsynced temp file into place; S3 puts are atomic by
 * protocol. A store never logs credentials.
 *
 * Contract (libuv's): a call that returns an error fails synchronously and
 * its callback never fires; otherwise the callback fires exactly once, on the
 * loop, never from inside the call itself.
 *
 * Keys are relative to the store's root (directory or bucket prefix), use '/'
 * as separator and must be 1..1024 bytes of valid UTF-8 without control
 * characters or backslashes, made of 1..255-byte segments that are not "."
 * or ".." and do not start with ".lstmp." (reserved for temp files).
 */
#ifndef LS_LAKE_OBJSTORE_H
#define LS_LAKE_OBJSTORE_H

#include "core/error.h"

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct ls_objstore_s ls_objstore_t;

#define LS_OBJSTORE_MAX_KEY 1024

/* Options for ls_objstore_open. Zero/NULL fields take the documented
 * default, so `ls_objstore_options_t o = {0};` is valid. Strings are copied by
 * open. Options that only make sense for S3 are ignored by file://. */
typedef struct {
    const char *region;            /* NULL: $AWS_REGION, else "us-east-1" */
    const char *endpoint;          /* "http://127.0.0.1:9000"; NULL: $LAKESTREAM_S3_ENDPOINT,
                                      else https://s3.<region>.amazonaws.com */
    int addressing;                /* LS_OBJSTORE_ADDRESSING_* */
    const char *access_key_id;     /* NULL: $AWS_ACCESS_KEY_ID */
    const char *secret_access_key; /* NULL: $AWS_SECRET_ACCESS_KEY */
    const char *session_token;     /* NULL: $AWS_SESSION_TOKEN (may be unset) */
    size_t part_size;              /* multipart part size; 0: 8 MiB; S3 needs >= 5 MiB */
    size_t multipart_threshold;    /* puts larger than this use multipart; 0: part_size */
    unsigned max_concurrency;      /* HTTP requests in flight per store; 0: 16 */
    unsigned max_attempts;         /* tries per HTTP request (1 = no retry); 0: 5 */
    unsigned retry_base_ms;        /* first backoff; doubles per retry, jittered; 0: 100 */
    unsigned retry_max_ms;         /* backoff cap; 0: 5000 */
    unsigned request_timeout_ms;   /* whole-request timeout per attempt; 0: 120000 */
    size_t max_get_bytes;          /* largest object/range a get may return; 0: 1 GiB */
} ls_objstore_options_t;

enum {
    LS_OBJSTORE_ADDRESSING_AUTO = 0, /* path style with a custom endpoint, else virtual host */
    LS_OBJSTORE_ADDRESSING_PATH = 1, /* http://endpoint/bucket/key */
    LS_OBJSTORE_ADDRESSING_VHOST = 2 /* http://bucket.endpoint/key */
};

/* What a head or list reports about one object. */
typedef struct {
    char *key;     /* relative to the store root */
    uint64_t size; /* bytes */
    char *etag;    /* opaque, without quotes; changes when the content is rewritten */
    int64_t mtime; /* seconds since the epoch (UTC) */
} ls_objstore_info_t;

/* The result handed to every completion callback. It is borrowed: valid only
 * for the callback's duration, freed by the store after the callback returns.
 * A receiver that wants to keep the get body calls ls_objstore_result_take_body
 * and then owns the returned buffer (free()). */
typedef struct {
    ls_err_t status;               /* LS_ERR_OK or the failure's code */
    ls_error_t error;              /* detail when status != OK (S3's Code/Message included) */
    const char *key;               /* the key the operation was for ("" for list) */
    uint8_t *body;                 /* get: the bytes read */
    size_t body_len;               /* get: their count */
    ls_objstore_info_t info;       /* put: key, size, etag; head: all fields */
    ls_objstore_info_t *entries;   /* list: objects in key order */
    size_t entry_count;            /* list */
    char *next_continuation_token; /* list: NULL when this was the last page */
    unsigned attempts; /* s3: HTTP attempts spent (retries + 1, summed over parts); file: 0 */
} ls_objstore_result_t;

typedef void (*ls_objstore_cb)(ls_objstore_result_t *result, void *data);
typedef void (*ls_objstore_close_cb)(void *data);

/* Opens a store for url ("file:///abs/dir" or "s3://bucket[/prefix]") on
 * loop. Does no I/O: a missing bucket shows up as the first operation's
 * error; file puts create missing directories (the root included) and a list
 * of a missing root is empty. opts may be NULL.
 * On success *out is owned by the caller until ls_objstore_close. Errors:
 * INVALID_ARGUMENT for a bad URL or options (message says which),
 * UNAUTHENTICATED when s3:// has no credentials. Loop thread. */
ls_err_t ls_objstore_open(uv_loop_t *loop, const char *url, const ls_objstore_options_t *opts,
                          ls_objstore_t **out, ls_error_t *err);

/* Stores data[0..len) under key, replacing any object there. The buffer is
 * borrowed, not copied: the caller keeps it alive and unchanged until the
 * callback fires (a 100 MB object is never duplicated). Puts above the
 * multipart threshold on S3 upload parts in parallel and abort the upload on
 * failure. On success result->info has the key, size and etag (and, for s3,
 * the local completion time as mtime; head reports the server's). Sync errors:
 * INVALID_ARGUMENT (bad key), FAILED_PRECONDITION (store closing). Loop. */
ls_err_t ls_objstore_put(ls_objstore_t *store, const char *key, const void *data, size_t len,
                         ls_objstore_cb cb, void *cb_data, ls_error_t *err);

/* Reads a whole object (result->body/body_len). NOT_FOUND when missing;
 * INVALID_ARGUMENT (async) when it exceeds max_get_bytes. Loop. */
ls_err_t ls_objstore_get(ls_objstore_t *store, const char *key, ls_objstore_cb cb, void *cb_data,
                         ls_error_t *err);

/* Reads length bytes from offset (fewer when the object ends first). An
 * offset at or past the end gives INVALID_ARGUMENT (S3's 416). length must be
 * 1..max_get_bytes (sync INVALID_ARGUMENT otherwise). Loop. */
ls_err_t ls_objstore_get_range(ls_objstore_t *store, const char *key, uint64_t offset,
                               uint64_t length, ls_objstore_cb cb, void *cb_data, ls_error_t *err);

/* Size, etag and mtime of an object in result->info. NOT_FOUND when missing.
 * Loop. */
ls_err_t ls_objstore_head(ls_objstore_t *store, const char *key, ls_objstore_cb cb, void *cb_data,
                          ls_error_t *err);

/* One page (at most max_keys, 1..1000; 0 means 1000) of the objects whose key
 * starts with prefix ("" for all), in byte order of key. continuation_token
 * is NULL for the first page, else the previous page's
 * next_continuation_token (copied by the call). Temp files are never listed.
 * Loop. */
ls_err_t ls_objstore_list(ls_objstore_t *store, const char *prefix, const char *continuation_token,
                          unsigned max_keys, ls_objstore_cb cb, void *cb_data, ls_error_t *err);

/* Deletes an object; deleting a missing object succeeds (S3 semantics).
 * Loop. */
ls_err_t ls_objstore_delete(ls_objstore_t *store, const char *key, ls_objstore_cb cb, void *cb_data,
                            ls_error_t *err);

/* Stops accepting operations (they fail synchronously with
 * FAILED_PRECONDITION), lets the ones in flight finish (their callbacks still
 * fire, retries included), then closes every handle and frees the store; cb
 * (may be NULL) fires after that, on the loop. Call once. Loop. */
void ls_objstore_close(ls_objstore_t *store, ls_objstore_close_cb cb, void *cb_data);

/* Takes ownership of a get result's body: returns it (caller frees with
 * free()) and leaves result->body NULL so the store does not free it. */
uint8_t *ls_objstore_result_take_body(ls_objstore_result_t *result);

/* Checks a key against the rules above. INVALID_ARGUMENT with the reason. */
ls_err_t ls_objstore_check_key(const char *key, ls_error_t *err);

/* "file" or "s3". */
const char *ls_objstore_scheme(const ls_objstore_t *store);

#endif
