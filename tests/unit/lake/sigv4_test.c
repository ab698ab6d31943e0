/* SigV4 against AWS's published examples: the S3 developer guide's GET
 * object, PUT object and list examples (secret .../bPxRfiCY...) and the
 * aws-sig-v4-test-suite vanilla cases (secret ...+bPxRfiCY...). */
#include "lake/sigv4.h"
#include "test.h"

#include <stdlib.h>

static const ls_sigv4_credentials_t s3_doc_creds = {
    "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", NULL, "us-east-1", "s3"};
static const ls_sigv4_credentials_t suite_creds = {
    "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL, "us-east-1", "service"};

LS_TEST(s3_get_object_example_matches_canonical_request_string_to_sign_and_signature)
{
    ls_sigv4_pair_t headers[] = {{"Host", "examplebucket.s3.amazonaws.com"},
                                 {"Range", "bytes=0-9"},
                                 {"x-amz-content-sha256", LS_SIGV4_EMPTY_SHA256},
                                 {"x-amz-date", "20130524T000000Z"}};
    char *signed_headers = NULL;
    char *creq = ls_sigv4_canonical_request("GET", "/test.txt", "", headers, 4,
                                            LS_SIGV4_EMPTY_SHA256, &signed_headers);
    LS_CHECK_STR_EQ(creq, "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
                          "x-amz-content-sha256:" LS_SIGV4_EMPTY_SHA256 "\n"
                          "x-amz-date:20130524T000000Z\n\n"
                          "host;range;x-amz-content-sha256;x-amz-date\n" LS_SIGV4_EMPTY_SHA256);
    LS_CHECK_STR_EQ(signed_headers, "host;range;x-amz-content-sha256;x-amz-date");
    char *sts = ls_sigv4_string_to_sign("20130524T000000Z", "us-east-1", "s3", creq);
    LS_CHECK_STR_EQ(sts, "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
                         "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
    char sig[65];
    ls_sigv4_signature(s3_doc_creds.secret_access_key, "20130524T000000Z", "us-east-1", "s3", sts,
                       sig);
    LS_CHECK_STR_EQ(sig, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    char *auth = ls_sigv4_authorization(&s3_doc_creds, "GET", "/test.txt", "", headers, 4,
                                        LS_SIGV4_EMPTY_SHA256, "20130524T000000Z");
    LS_CHECK_STR_EQ(auth,
                    "AWS4-HMAC-SHA256 "
                    "Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
                    "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
                    "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    free(creq);
    free(sts);
    free(signed_headers);
    free(auth);
}

LS_TEST(s3_put_object_example_signs_real_payload_hash_and_encodes_dollar)
{
    const char *body = "Welcome to Amazon S3.";
    char hash[65];
    ls_sigv4_sha256_hex(body, strlen(body), hash);
    LS_CHECK_STR_EQ(hash, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
    char *path = ls_sigv4_uri_encode("/test$file.text", 15, 1);
    LS_CHECK_STR_EQ(path, "/test%24file.text");
    ls_sigv4_pair_t headers[] = {{"Host", "examplebucket.s3.amazonaws.com"},
                                 {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                                 {"x-amz-date", "20130524T000000Z"},
                                 {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
                                 {"x-amz-content-sha256", hash}};
    char *auth = ls_sigv4_authorization(&s3_doc_creds, "PUT", path, "", headers, 5, hash,
                                        "20130524T000000Z");
    LS_CHECK(strstr(auth, "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;"
                          "x-amz-storage-class, ") != NULL);
    LS_CHECK(strstr(auth,
                    "Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd") !=
             NULL);
    free(path);
    free(auth);
}

LS_TEST(s3_list_objects_example_sorts_query_parameters)
{
    ls_sigv4_pair_t params[] = {{"prefix", "J"}, {"max-keys", "2"}};
    char *query = ls_sigv4_canonical_query(params, 2);
    LS_CHECK_STR_EQ(query, "max-keys=2&prefix=J");
    ls_sigv4_pair_t headers[] = {{"host", "examplebucket.s3.amazonaws.com"},
                                 {"x-amz-date", "20130524T000000Z"},
                                 {"x-amz-content-sha256", LS_SIGV4_EMPTY_SHA256}};
    char *auth = ls_sigv4_authorization(&s3_doc_creds, "GET", "/", query, headers, 3,
                                        LS_SIGV4_EMPTY_SHA256, "20130524T000000Z");
    LS_CHECK(strstr(auth,
                    "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7") !=
             NULL);
    free(query);
    free(auth);
}

LS_TEST(test_suite_get_vanilla_and_query_order_signatures)
{
    ls_sigv4_pair_t headers[] = {{"Host", "example.amazonaws.com"},
                                 {"X-Amz-Date", "20150830T123600Z"}};
    char *creq =
        ls_sigv4_canonical_request("GET", "/", "", headers, 2, LS_SIGV4_EMPTY_SHA256, NULL);
    char *sts = ls_sigv4_string_to_sign("20150830T123600Z", "us-east-1", "service", creq);
    LS_CHECK_STR_EQ(sts, "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/"
                         "aws4_request\n"
                         "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
    char *auth = ls_sigv4_authorization(&suite_creds, "GET", "/", "", headers, 2,
                                        LS_SIGV4_EMPTY_SHA256, "20150830T123600Z");
    LS_CHECK_STR_EQ(auth,
                    "AWS4-HMAC-SHA256 "
                    "Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                    "SignedHeaders=host;x-amz-date, "
                    "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
    ls_sigv4_pair_t params[] = {{"Param2", "value2"}, {"Param1", "value1"}};
    char *query = ls_sigv4_canonical_query(params, 2);
    LS_CHECK_STR_EQ(query, "Param1=value1&Param2=value2");
    char *auth2 = ls_sigv4_authorization(&suite_creds, "GET", "/", query, headers, 2,
                                         LS_SIGV4_EMPTY_SHA256, "20150830T123600Z");
    LS_CHECK(strstr(auth2,
                    "Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500") !=
             NULL);
    free(creq);
    free(sts);
    free(auth);
    free(query);
    free(auth2);
}

LS_TEST(header_values_are_trimmed_and_inner_spaces_collapsed)
{
    ls_sigv4_pair_t headers[] = {{"My-Header1", "  a   b   c  "}, {"Host", "h"}};
    char *creq = ls_sigv4_canonical_request("GET", "/", "", headers, 2, "x", NULL);
    LS_CHECK_STR_EQ(creq, "GET\n/\n\nhost:h\nmy-header1:a b c\n\nhost;my-header1\nx");
    free(creq);
}

LS_TEST(uri_encoding_keeps_unreserved_and_escapes_the_rest)
{
    const char *raw = "a b/c+d=e&f~g_h.i-j%\xc3\xa9";
    char *k = ls_sigv4_uri_encode(raw, strlen(raw), 1);
    LS_CHECK_STR_EQ(k, "a%20b/c%2Bd%3De%26f~g_h.i-j%25%C3%A9");
    char *q = ls_sigv4_uri_encode(raw, strlen(raw), 0);
    LS_CHECK_STR_EQ(q, "a%20b%2Fc%2Bd%3De%26f~g_h.i-j%25%C3%A9");
    ls_sigv4_pair_t params[] = {{"uploads", NULL}, {"prefix", "a/b c"}};
    char *query = ls_sigv4_canonical_query(params, 2);
    LS_CHECK_STR_EQ(query, "prefix=a%2Fb%20c&uploads=");
    free(k);
    free(q);
    free(query);
}

LS_TEST(amz_date_formats_utc)
{
    char d[17];
    ls_sigv4_amz_date(1369353600, d); /* 2013-05-24T00:00:00Z */
    LS_CHECK_STR_EQ(d, "20130524T000000Z");
}

LS_TEST_MAIN(LS_T(s3_get_object_example_matches_canonical_request_string_to_sign_and_signature),
             LS_T(s3_put_object_example_signs_real_payload_hash_and_encodes_dollar),
             LS_T(s3_list_objects_example_sorts_query_parameters),
             LS_T(test_suite_get_vanilla_and_query_order_signatures),
             LS_T(header_values_are_trimmed_and_inner_spaces_collapsed),
             LS_T(uri_encoding_keeps_unreserved_and_escapes_the_rest), LS_T(amz_date_formats_utc))
