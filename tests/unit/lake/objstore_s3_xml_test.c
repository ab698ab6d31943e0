/* The S3 XML parser on real-shaped ListObjectsV2, multipart and error
 * documents, and on malformed input (truncation, mismatched tags, bad
 * entities, DOCTYPE, hostile nesting, bad sizes), which must give a clear
 * error and never crash. */
#include "lake/s3_xml.h"
#include "test.h"

#include <stdlib.h>

static const char list_page[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
    "<Name>bucket</Name><Prefix>pre/</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>"
    "<IsTruncated>true</IsTruncated>"
    "<Contents><Key>pre/a&amp;b "
    "&lt;1&gt;</Key><LastModified>2009-10-12T17:50:30.000Z</LastModified>"
    "<ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag><Size>434234</Size>"
    "<StorageClass>STANDARD</StorageClass></Contents>\n"
    "<Contents><Key>pre/dir/caf&#xE9;&#233;</Key><LastModified>2020-01-01T00:00:00Z</LastModified>"
    "<ETag>\"abc-2\"</ETag><Size>0</Size></Contents>"
    "<!-- a comment --><NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM="
    "</NextContinuationToken></ListBucketResult>";

LS_TEST(list_objects_v2_page_is_read_with_prefix_stripped_and_entities_decoded)
{
    ls_objstore_result_t r = {0};
    ls_error_t err;
    LS_REQUIRE(ls_s3_xml_parse_list(list_page, strlen(list_page), "pre/", &r, &err) == LS_ERR_OK);
    LS_CHECK_INT_EQ(r.entry_count, 2);
    LS_CHECK_STR_EQ(r.entries[0].key, "a&b <1>");
    LS_CHECK_INT_EQ(r.entries[0].size, 434234);
    LS_CHECK_STR_EQ(r.entries[0].etag, "fba9dede5f27731c9771645a39863328");
    LS_CHECK_INT_EQ(r.entries[0].mtime, 1255369830);
    LS_CHECK_STR_EQ(r.entries[1].key, "dir/caf\xc3\xa9\xc3\xa9");
    LS_CHECK_STR_EQ(r.entries[1].etag, "abc-2");
    LS_CHECK_INT_EQ(r.entries[1].size, 0);
    LS_CHECK_INT_EQ(r.entries[1].mtime, 1577836800);
    LS_CHECK_STR_EQ(r.next_continuation_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
    for (size_t i = 0; i < r.entry_count; i++) {
        free(r.entries[i].key);
        free(r.entries[i].etag);
    }
    free(r.entries);
    free(r.next_continuation_token);
}

LS_TEST(last_page_has_no_token_and_empty_listing_is_empty)
{
    const char *doc = "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>";
    ls_objstore_result_t r = {0};
    ls_error_t err;
    LS_CHECK_INT_EQ(ls_s3_xml_parse_list(doc, strlen(doc), "", &r, &err), LS_ERR_OK);
    LS_CHECK_INT_EQ(r.entry_count, 0);
    LS_CHECK(r.next_continuation_token == NULL);
}

LS_TEST(error_body_gives_code_and_message)
{
    const char *doc = "<?xml version=\"1.0\"?><Error><Code>SlowDown</Code>"
                      "<Message>Please reduce your request rate.</Message>"
                      "<RequestId>x</RequestId></Error>";
    char code[64], msg[256];
    LS_CHECK_INT_EQ(ls_s3_xml_parse_error(doc, strlen(doc), code, sizeof(code), msg, sizeof(msg)),
                    1);
    LS_CHECK_STR_EQ(code, "SlowDown");
    LS_CHECK_STR_EQ(msg, "Please reduce your request rate.");
    LS_CHECK_INT_EQ(ls_s3_xml_parse_error("<html/>", 7, code, sizeof(code), msg, sizeof(msg)), 0);
    LS_CHECK_INT_EQ(ls_s3_xml_parse_error("garbage", 7, code, sizeof(code), msg, sizeof(msg)), 0);
    LS_CHECK_STR_EQ(code, "");
}

LS_TEST(multipart_documents_with_attributes_and_cdata)
{
    const char *doc = "<InitiateMultipartUploadResult xmlns='http://s3'>\r\n <Bucket>b</Bucket>"
                      "<Key>k</Key><UploadId><![CDATA[VXBsb2FkIElE<&>]]></UploadId>"
                      "</InitiateMultipartUploadResult >";
    ls_s3_xml_node_t *root;
    ls_error_t err;
    LS_REQUIRE(ls_s3_xml_parse(doc, strlen(doc), &root, &err) == LS_ERR_OK);
    LS_CHECK_STR_EQ(root->name, "InitiateMultipartUploadResult");
    LS_CHECK_STR_EQ(ls_s3_xml_child_text(root, "UploadId"), "VXBsb2FkIElE<&>");
    LS_CHECK(ls_s3_xml_child_text(root, "Missing") == NULL);
    ls_s3_xml_free(root);
}

LS_TEST(malformed_documents_are_rejected_with_the_offset)
{
    const char *bad[] = {
        "",
        "   ",
        "<a>",
        "<a></b>",
        "<a><b></a></b>",
        "<a>x &bogus; y</a>",
        "<a>x & y</a>",
        "<a>&#xD800;</a>",
        "<a>&#0;</a>",
        "<a>&#x110000;</a>",
        "<a attr=noquote></a>",
        "<a attr=\"unterminated></a>",
        "<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>",
        "<a></a><b></b>",
        "<a></a>trailing",
        "<a><!-- unterminated </a>",
        "<a><![CDATA[ unterminated </a>",
        "<1a></1a>",
        "<a",
        "<a/",
        "< a></a>",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ls_s3_xml_node_t *root = (ls_s3_xml_node_t *)1;
        ls_error_t err;
        ls_err_t rc = ls_s3_xml_parse(bad[i], strlen(bad[i]), &root, &err);
        if (rc != LS_ERR_INVALID_ARGUMENT)
            fprintf(stderr, "accepted bad document %zu: %s\n", i, bad[i]);
        LS_CHECK_INT_EQ(rc, LS_ERR_INVALID_ARGUMENT);
        LS_CHECK(root == NULL);
        LS_CHECK(strstr(err.message, "malformed XML") != NULL);
    }
    /* a buffer that is not NUL-terminated is never read past its length */
    char *exact = malloc(7);
    memcpy(exact, "<a></a>", 7);
    ls_s3_xml_node_t *root;
    ls_error_t err;
    LS_CHECK_INT_EQ(ls_s3_xml_parse(exact, 7, &root, &err), LS_ERR_OK);
    ls_s3_xml_free(root);
    LS_CHECK_INT_EQ(ls_s3_xml_parse(exact, 6, &root, &err), LS_ERR_INVALID_ARGUMENT);
    free(exact);
}

LS_TEST(deep_nesting_is_refused_without_exhausting_the_stack)
{
    size_t depth = 100000;
    char *doc = malloc(depth * 7 + 1);
    size_t n = 0;
    for (size_t i = 0; i < depth; i++)
        n += (size_t)sprintf(doc + n, "<a>");
    for (size_t i = 0; i < depth; i++)
        n += (size_t)sprintf(doc + n, "</a>");
    ls_s3_xml_node_t *root;
    ls_error_t err;
    LS_CHECK_INT_EQ(ls_s3_xml_parse(doc, n, &root, &err), LS_ERR_INVALID_ARGUMENT);
    LS_CHECK(strstr(err.message, "too deeply") != NULL);
    free(doc);
}

LS_TEST(list_with_bad_fields_is_rejected)
{
    const char *docs[] = {
        "<Error><Code>x</Code></Error>",
        "<ListBucketResult><Contents><Size>1</Size></Contents></ListBucketResult>",
        "<ListBucketResult><Contents><Key>pre/a</Key><Size>-1</Size></Contents></ListBucketResult>",
        "<ListBucketResult><Contents><Key>pre/a</Key><Size>12x</Size></Contents></"
        "ListBucketResult>",
        "<ListBucketResult><Contents><Key>other/a</Key><Size>1</Size></Contents></"
        "ListBucketResult>",
        "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>",
        "<ListBucketResult><Contents><Key>pre/a</Key><Size>1</Size></Contents>",
    };
    for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        ls_objstore_result_t r = {0};
        ls_error_t err;
        LS_CHECK_INT_EQ(ls_s3_xml_parse_list(docs[i], strlen(docs[i]), "pre/", &r, &err),
                        LS_ERR_INVALID_ARGUMENT);
        LS_CHECK(r.entries == NULL && r.entry_count == 0);
    }
    /* more entries than S3 ever returns in one page */
    size_t cap = 1001 * 64 + 64;
    char *doc = malloc(cap);
    size_t n = (size_t)sprintf(doc, "<ListBucketResult>");
    for (int i = 0; i < 1001; i++)
        n += (size_t)sprintf(doc + n, "<Contents><Key>pre/%d</Key><Size>1</Size></Contents>", i);
    n += (size_t)sprintf(doc + n, "</ListBucketResult>");
    ls_objstore_result_t r = {0};
    ls_error_t err;
    LS_CHECK_INT_EQ(ls_s3_xml_parse_list(doc, n, "pre/", &r, &err), LS_ERR_INVALID_ARGUMENT);
    LS_CHECK(strstr(err.message, "over 1000") != NULL);
    free(doc);
}

LS_TEST(timestamps_parse_as_utc)
{
    LS_CHECK_INT_EQ(ls_s3_xml_parse_time("1970-01-01T00:00:01.000Z"), 1);
    LS_CHECK_INT_EQ(ls_s3_xml_parse_time("2009-10-12T17:50:30Z"), 1255369830);
    LS_CHECK_INT_EQ(ls_s3_xml_parse_time("2009-10-12 17:50:30"), -1);
    LS_CHECK_INT_EQ(ls_s3_xml_parse_time("2009-10-12T17:50:30+02:00"), -1);
}

LS_TEST_MAIN(LS_T(list_objects_v2_page_is_read_with_prefix_stripped_and_entities_decoded),
             LS_T(last_page_has_no_token_and_empty_listing_is_empty),
             LS_T(error_body_gives_code_and_message),
             LS_T(multipart_documents_with_attributes_and_cdata),
             LS_T(malformed_documents_are_rejected_with_the_offset),
             LS_T(deep_nesting_is_refused_without_exhausting_the_stack),
             LS_T(list_with_bad_fields_is_rejected), LS_T(timestamps_parse_as_utc))
