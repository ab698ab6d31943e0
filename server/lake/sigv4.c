/*
 * AWS Signature Version 4 (see sigv4.h). Builds every string with a small
 * growable buffer; never logs, never keeps the secret beyond one call.
 */
#include "lake/sigv4.h"

#include "core/alloc.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

/* Strings are built with core/buf; an empty result is still a heap string. */
static char *sbuf_finish(ls_buf_t *b)
{
    return ls_buf_steal(b, NULL);
}

void ls_sigv4_hex(const uint8_t *bytes, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    out[2 * len] = '\0';
}

void ls_sigv4_sha256_hex(const void *data, size_t len, char out[65])
{
    uint8_t md[32];
    unsigned int mdlen = 0;
    EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
    ls_sigv4_hex(md, 32, out);
}

static void hmac_sha256(const void *key, size_t keylen, const char *msg, uint8_t out[32])
{
    unsigned int outlen = 32;
    HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg, strlen(msg), out, &outlen);
}

char *ls_sigv4_uri_encode(const char *s, size_t len, int keep_slash)
{
    static const char digits[] = "0123456789ABCDEF";
    ls_buf_t b = LS_BUF_INIT;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
            (keep_slash && c == '/')) {
            char ch = (char)c;
            ls_buf_append(&b, &ch, 1);
        } else {
            char esc[3] = {'%', digits[c >> 4], digits[c & 15]};
            ls_buf_append(&b, esc, 3);
        }
    }
    return sbuf_finish(&b);
}

typedef struct {
    char *name;
    char *value;
} owned_pair_t;

static int cmp_pair(const void *a, const void *b)
{
    const owned_pair_t *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->value, y->value);
}

char *ls_sigv4_canonical_query(const ls_sigv4_pair_t *params, size_t count)
{
    owned_pair_t *enc = ls_calloc(count ? count : 1, sizeof(*enc));
    for (size_t i = 0; i < count; i++) {
        const char *v = params[i].value ? params[i].value : "";
        enc[i].name = ls_sigv4_uri_encode(params[i].name, strlen(params[i].name), 0);
        enc[i].value = ls_sigv4_uri_encode(v, strlen(v), 0);
    }
    qsort(enc, count, sizeof(*enc), cmp_pair);
    ls_buf_t b = LS_BUF_INIT;
    for (size_t i = 0; i < count; i++) {
        if (i)
            ls_buf_append(&b, "&", 1);
        ls_buf_puts(&b, enc[i].name);
        ls_buf_append(&b, "=", 1);
        ls_buf_puts(&b, enc[i].value);
        free(enc[i].name);
        free(enc[i].value);
    }
    free(enc);
    return sbuf_finish(&b);
}

/* Lower-cased name and trimmed, space-collapsed value (SigV4 "Trimall"). */
static void canonical_header(const ls_sigv4_pair_t *h, owned_pair_t *out)
{
    out->name = ls_strdup(h->name);
    for (char *p = out->name; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    const char *v = h->value ? h->value : "";
    ls_buf_t b = LS_BUF_INIT;
    while (*v == ' ' || *v == '\t')
        v++;
    int pending_space = 0;
    for (; *v; v++) {
        if (*v == ' ' || *v == '\t') {
            pending_space = 1;
            continue;
        }
        if (pending_space && b.len)
            ls_buf_append(&b, " ", 1);
        pending_space = 0;
        ls_buf_append(&b, v, 1);
    }
    out->value = sbuf_finish(&b);
}

char *ls_sigv4_canonical_request(const char *method, const char *encoded_path,
                                 const char *canonical_query, const ls_sigv4_pair_t *headers,
                                 size_t header_count, const char *payload_sha256_hex,
                                 char **signed_headers)
{
    owned_pair_t *hs = ls_calloc(header_count ? header_count : 1, sizeof(*hs));
    for (size_t i = 0; i < header_count; i++)
        canonical_header(&headers[i], &hs[i]);
    qsort(hs, header_count, sizeof(*hs), cmp_pair);

    ls_buf_t b = LS_BUF_INIT, sh = LS_BUF_INIT;
    ls_buf_puts(&b, method);
    ls_buf_append(&b, "\n", 1);
    ls_buf_puts(&b, encoded_path && *encoded_path ? encoded_path : "/");
    ls_buf_append(&b, "\n", 1);
    ls_buf_puts(&b, canonical_query ? canonical_query : "");
    ls_buf_append(&b, "\n", 1);
    for (size_t i = 0; i < header_count; i++) {
        ls_buf_puts(&b, hs[i].name);
        ls_buf_append(&b, ":", 1);
        ls_buf_puts(&b, hs[i].value);
        ls_buf_append(&b, "\n", 1);
        if (i)
            ls_buf_append(&sh, ";", 1);
        ls_buf_puts(&sh, hs[i].name);
        free(hs[i].name);
        free(hs[i].value);
    }
    free(hs);
    ls_buf_append(&b, "\n", 1);
    char *shs = sbuf_finish(&sh);
    ls_buf_puts(&b, shs);
    ls_buf_append(&b, "\n", 1);
    ls_buf_puts(&b, payload_sha256_hex);
    if (signed_headers)
        *signed_headers = shs;
    else
        free(shs);
    return sbuf_finish(&b);
}

char *ls_sigv4_string_to_sign(const char *amz_date, const char *region, const char *service,
                              const char *canonical_request)
{
    char hash[65];
    ls_sigv4_sha256_hex(canonical_request, strlen(canonical_request), hash);
    return ls_asprintf("AWS4-HMAC-SHA256\n%s\n%.8s/%s/%s/aws4_request\n%s", amz_date, amz_date,
                       region, service, hash);
}

void ls_sigv4_signature(const char *secret_access_key, const char *amz_date, const char *region,
                        const char *service, const char *string_to_sign, char out[65])
{
    char date[9];
    snprintf(date, sizeof(date), "%.8s", amz_date);
    char *k0 = ls_asprintf("AWS4%s", secret_access_key);
    uint8_t k1[32], k2[32], k3[32], k4[32], sig[32];
    hmac_sha256(k0, strlen(k0), date, k1);
    /* the derived secret must not outlive this call */
    OPENSSL_cleanse(k0, strlen(k0));
    free(k0);
    hmac_sha256(k1, 32, region, k2);
    hmac_sha256(k2, 32, service, k3);
    hmac_sha256(k3, 32, "aws4_request", k4);
    hmac_sha256(k4, 32, string_to_sign, sig);
    ls_sigv4_hex(sig, 32, out);
    OPENSSL_cleanse(k1, 32);
    OPENSSL_cleanse(k4, 32);
}

char *ls_sigv4_authorization(const ls_sigv4_credentials_t *creds, const char *method,
                             const char *encoded_path, const char *canonical_query,
                             const ls_sigv4_pair_t *headers, size_t header_count,
                             const char *payload_sha256_hex, const char *amz_date)
{
    char *signed_headers = NULL;
    char *creq = ls_sigv4_canonical_request(method, encoded_path, canonical_query, headers,
                                            header_count, payload_sha256_hex, &signed_headers);
    char *sts = ls_sigv4_string_to_sign(amz_date, creds->region, creds->service, creq);
    char sig[65];
    ls_sigv4_signature(creds->secret_access_key, amz_date, creds->region, creds->service, sts, sig);
    char *auth = ls_asprintf(
        "AWS4-HMAC-SHA256 Credential=%s/%.8s/%s/%s/aws4_request, SignedHeaders=%s, Signature=%s",
        creds->access_key_id, amz_date, creds->region, creds->service, signed_headers, sig);
    free(creq);
    free(sts);
    free(signed_headers);
    return auth;
}

void ls_sigv4_amz_date(time_t t, char out[17])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}
