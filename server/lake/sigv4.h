/*
 * AWS Signature Version 4 for S3 requests: URI encoding, the canonical
 * request, the string to sign, the signing key and the Authorization header.
 * Pure functions over strings with no I/O and no global state, so they run on
 * any thread and are tested against AWS's published examples. This module
 * never logs or stores a secret; callers pass it in and it only leaves as an
 * HMAC. It never hashes payloads itself: the caller supplies the payload's
 * SHA-256 (computed off the loop for large bodies).
 */
#ifndef LS_LAKE_SIGV4_H
#define LS_LAKE_SIGV4_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* The SHA-256 of an empty payload, hex. */
#define LS_SIGV4_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* One header or query parameter, unencoded. Borrowed strings. */
typedef struct {
    const char *name;
    const char *value;
} ls_sigv4_pair_t;

/* What a request is signed with. Borrowed strings; session_token may be NULL. */
typedef struct {
    const char *access_key_id;
    const char *secret_access_key;
    const char *session_token;
    const char *region;
    const char *service; /* "s3" */
} ls_sigv4_credentials_t;

/* Percent-encodes s (len bytes) the way SigV4 wants: unreserved characters
 * (A-Z a-z 0-9 - _ . ~) stay, every other byte becomes %XX (upper-case hex);
 * '/' stays when keep_slash is non-zero (object key paths). Returns a heap
 * string owned by the caller (free()). Any thread. */
char *ls_sigv4_uri_encode(const char *s, size_t len, int keep_slash);

/* The canonical query string: each name and value URI-encoded (slashes
 * encoded too), sorted by encoded name then value, joined "n=v&n=v". A NULL
 * value is encoded as an empty one ("uploads="). The result also serves as the
 * request's real query string so what is signed is what is sent. Heap string
 * owned by the caller. Any thread. */
char *ls_sigv4_canonical_query(const ls_sigv4_pair_t *params, size_t count);

/* The canonical request (method, encoded path, canonical query, canonical
 * headers, signed headers, payload hash joined by newlines). Header names
 * are lower-cased and values trimmed with inner runs of spaces collapsed;
 * every header given is signed. When signed_headers is not NULL it receives
 * the "a;b;c" list (heap string owned by the caller). Returns a heap string
 * owned by the caller. Any thread. */
char *ls_sigv4_canonical_request(const char *method, const char *encoded_path,
                                 const char *canonical_query, const ls_sigv4_pair_t *headers,
                                 size_t header_count, const char *payload_sha256_hex,
                                 char **signed_headers);

/* "AWS4-HMAC-SHA256\n<amz_date>\n<scope>\n<hex sha256(canonical_request)>",
 * where scope is "<yyyymmdd>/<region>/<service>/aws4_request". Heap string
 * owned by the caller. Any thread. */
char *ls_sigv4_string_to_sign(const char *amz_date, const char *region, const char *service,
                              const char *canonical_request);

/* The hex signature of string_to_sign under the key derived from secret,
 * the date part of amz_date (first 8 characters), region and service. out
 * receives 64 hex digits and a NUL. Any thread. */
void ls_sigv4_signature(const char *secret_access_key, const char *amz_date, const char *region,
                        const char *service, const char *string_to_sign, char out[65]);

/* Signs one request and returns the Authorization header value
 * ("AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...").
 * headers must already contain every header to sign, including host,
 * x-amz-date and x-amz-content-sha256 (and x-amz-security-token when a session
 * token is used). Heap string owned by the caller. Any thread. */
char *ls_sigv4_authorization(const ls_sigv4_credentials_t *creds, const char *method,
                             const char *encoded_path, const char *canonical_query,
                             const ls_sigv4_pair_t *headers, size_t header_count,
                             const char *payload_sha256_hex, const char *amz_date);

/* Formats t (UTC) as "YYYYMMDDTHHMMSSZ". Any thread. */
void ls_sigv4_amz_date(time_t t, char out[17]);

/* Hex SHA-256 and raw digests over a buffer. Any thread; callers run them on
 * a worker for large buffers. */
void ls_sigv4_sha256_hex(const void *data, size_t len, char out[65]);
void ls_sigv4_hex(const uint8_t *bytes, size_t len, char *out);

#endif
