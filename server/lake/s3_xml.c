/*
 * Bounds-checked XML subset parser for S3 responses (see s3_xml.h). Every
 * read goes through the cursor's remaining length; recursion depth is capped
 * so hostile nesting cannot exhaust the stack; no DTD, so no entity bombs.
 */
#define _GNU_SOURCE /* strptime */
#include "lake/s3_xml.h"

#include "core/alloc.h"
#include "core/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    const char *buf;
    size_t len, pos;
    ls_error_t *err;
    int failed;
} cursor_t;

static int fail(cursor_t *c, const char *why)
{
    if (!c->failed)
        ls_error_set(c->err, LS_ERR_INVALID_ARGUMENT, "malformed XML at byte %zu: %s", c->pos, why);
    c->failed = 1;
    return -1;
}

static int at(cursor_t *c, const char *s)
{
    size_t n = strlen(s);
    return c->len - c->pos >= n && memcmp(c->buf + c->pos, s, n) == 0;
}

static void skip_space(cursor_t *c)
{
    while (c->pos < c->len && (c->buf[c->pos] == ' ' || c->buf[c->pos] == '\t' ||
                               c->buf[c->pos] == '\r' || c->buf[c->pos] == '\n'))
        c->pos++;
}

/* Skips past the next occurrence of end; error when missing. */
static int skip_past(cursor_t *c, const char *end, const char *what)
{
    size_t n = strlen(end);
    while (c->len - c->pos >= n) {
        if (memcmp(c->buf + c->pos, end, n) == 0) {
            c->pos += n;
            return 0;
        }
        c->pos++;
    }
    return fail(c, what);
}

/* Comments and processing instructions may appear almost anywhere. */
static int skip_misc(cursor_t *c)
{
    for (;;) {
        skip_space(c);
        if (at(c, "<?")) {
            if (skip_past(c, "?>", "unterminated processing instruction"))
                return -1;
        } else if (at(c, "<!--")) {
            c->pos += 4;
            if (skip_past(c, "-->", "unterminated comment"))
                return -1;
        } else if (at(c, "<!DOCTYPE") || at(c, "<!doctype")) {
            return fail(c, "DOCTYPE is not accepted");
        } else {
            return 0;
        }
    }
}

static int name_char(char ch, int first)
{
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_' || ch == ':' ||
        (unsigned char)ch >= 0x80)
        return 1;
    return !first && ((ch >= '0' && ch <= '9') || ch == '-' || ch == '.');
}

static int read_name(cursor_t *c, const char **name, size_t *n)
{
    size_t start = c->pos;
    while (c->pos < c->len && name_char(c->buf[c->pos], c->pos == start))
        c->pos++;
    if (c->pos == start)
        return fail(c, "expected a name");
    *name = c->buf + start;
    *n = c->pos - start;
    return 0;
}


static int utf8_encode(unsigned long cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* At '&': decodes one entity reference into t. */
static int read_entity(cursor_t *c, ls_buf_t *t)
{
    size_t start = ++c->pos;
    while (c->pos < c->len && c->buf[c->pos] != ';' && c->pos - start < 12)
        c->pos++;
    if (c->pos >= c->len || c->buf[c->pos] != ';')
        return fail(c, "unterminated entity reference");
    const char *e = c->buf + start;
    size_t n = c->pos - start;
    c->pos++;
    static const struct {
        const char *name;
        char ch;
    } named[] = {{"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}};
    for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
        if (strlen(named[i].name) == n && memcmp(named[i].name, e, n) == 0) {
            ls_buf_append(t, &named[i].ch, 1);
            return 0;
        }
    if (n >= 2 && e[0] == '#') {
        int hex = e[1] == 'x';
        size_t i = hex ? 2 : 1;
        if (i >= n)
            return fail(c, "empty character reference");
        unsigned long cp = 0;
        for (; i < n; i++) {
            char ch = e[i];
            int d = ch >= '0' && ch <= '9'          ? ch - '0'
                    : hex && ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
                    : hex && ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                                    : -1;
            if (d < 0)
                return fail(c, "bad character reference");
            cp = cp * (hex ? 16 : 10) + (unsigned long)d;
            if (cp > 0x10FFFF)
                return fail(c, "character reference out of range");
        }
        if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF))
            return fail(c, "character reference out of range");
        char out[4];
        ls_buf_append(t, out, (size_t)utf8_encode(cp, out));
        return 0;
    }
    return fail(c, "unknown entity");
}

static int parse_element(cursor_t *c, ls_s3_xml_node_t **out, int depth);

static int parse_content(cursor_t *c, ls_s3_xml_node_t *node, ls_buf_t *t, int depth)
{
    ls_s3_xml_node_t **tail = &node->children;
    for (;;) {
        if (c->pos >= c->len)
            return fail(c, "unexpected end inside element");
        char ch = c->buf[c->pos];
        if (ch == '&') {
            if (read_entity(c, t))
                return -1;
        } else if (ch != '<') {
            size_t start = c->pos;
            while (c->pos < c->len && c->buf[c->pos] != '<' && c->buf[c->pos] != '&')
                c->pos++;
            ls_buf_append(t, c->buf + start, c->pos - start);
        } else if (at(c, "</")) {
            return 0;
        } else if (at(c, "<![CDATA[")) {
            c->pos += 9;
            size_t start = c->pos;
            if (skip_past(c, "]]>", "unterminated CDATA"))
                return -1;
            ls_buf_append(t, c->buf + start, c->pos - 3 - start);
        } else if (at(c, "<!--") || at(c, "<?")) {
            if (skip_misc(c))
                return -1;
        } else if (at(c, "<!")) {
            return fail(c, "unexpected declaration");
        } else {
            ls_s3_xml_node_t *child = NULL;
            int rc = parse_element(c, &child, depth + 1);
            /* linked even when it failed, so freeing the root frees it */
            *tail = child;
            if (rc)
                return -1;
            tail = &child->next;
        }
    }
}

static int parse_element(cursor_t *c, ls_s3_xml_node_t **out, int depth)
{
    if (depth > LS_S3_XML_MAX_DEPTH)
        return fail(c, "elements nest too deeply");
    if (c->pos >= c->len || c->buf[c->pos] != '<')
        return fail(c, "expected '<'");
    c->pos++;
    const char *name;
    size_t nlen;
    if (read_name(c, &name, &nlen))
        return -1;
    ls_s3_xml_node_t *node = ls_calloc(1, sizeof(*node));
    node->name = ls_strndup(name, nlen);
    *out = node;
    for (;;) {
        size_t before = c->pos;
        skip_space(c);
        if (c->pos >= c->len)
            return fail(c, "unterminated start tag");
        if (at(c, "/>")) {
            c->pos += 2;
            node->text = ls_strdup("");
            return 0;
        }
        if (c->buf[c->pos] == '>') {
            c->pos++;
            break;
        }
        if (c->pos == before)
            return fail(c, "expected space before attribute");
        const char *an;
        size_t alen;
        if (read_name(c, &an, &alen))
            return -1;
        skip_space(c);
        if (c->pos >= c->len || c->buf[c->pos] != '=')
            return fail(c, "expected '=' after attribute name");
        c->pos++;
        skip_space(c);
        if (c->pos >= c->len || (c->buf[c->pos] != '"' && c->buf[c->pos] != '\''))
            return fail(c, "expected quoted attribute value");
        char q = c->buf[c->pos++];
        while (c->pos < c->len && c->buf[c->pos] != q) {
            if (c->buf[c->pos] == '<')
                return fail(c, "'<' in attribute value");
            c->pos++;
        }
        if (c->pos >= c->len)
            return fail(c, "unterminated attribute value");
        c->pos++;
    }
    ls_buf_t t = LS_BUF_INIT;
    int rc = parse_content(c, node, &t, depth);
    node->text = ls_buf_steal(&t, &node->text_len);
    if (rc)
        return -1;
    c->pos += 2; /* "</" */
    const char *cn;
    size_t clen;
    if (read_name(c, &cn, &clen))
        return -1;
    if (clen != nlen || memcmp(cn, name, nlen) != 0)
        return fail(c, "end tag does not match start tag");
    skip_space(c);
    if (c->pos >= c->len || c->buf[c->pos] != '>')
        return fail(c, "expected '>' after end tag name");
    c->pos++;
    return 0;
}

void ls_s3_xml_free(ls_s3_xml_node_t *n)
{
    while (n) {
        ls_s3_xml_node_t *next = n->next;
        ls_s3_xml_free(n->children);
        free(n->name);
        free(n->text);
        free(n);
        n = next;
    }
}

ls_err_t ls_s3_xml_parse(const char *buf, size_t len, ls_s3_xml_node_t **root, ls_error_t *err)
{
    *root = NULL;
    cursor_t c = {buf, len, 0, err, 0};
    if (!buf)
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "malformed XML: no document");
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
        c.pos = 3;
    ls_s3_xml_node_t *node = NULL;
    if (skip_misc(&c) == 0 && parse_element(&c, &node, 1) == 0 && skip_misc(&c) == 0 &&
        c.pos != c.len)
        fail(&c, "content after the root element");
    if (c.pos >= c.len && !c.failed && !node)
        fail(&c, "no root element");
    if (c.failed) {
        ls_s3_xml_free(node);
        return LS_ERR_INVALID_ARGUMENT;
    }
    *root = node;
    return LS_ERR_OK;
}

const ls_s3_xml_node_t *ls_s3_xml_child(const ls_s3_xml_node_t *n, const char *name)
{
    for (const ls_s3_xml_node_t *ch = n ? n->children : NULL; ch; ch = ch->next)
        if (strcmp(ch->name, name) == 0)
            return ch;
    return NULL;
}

const char *ls_s3_xml_child_text(const ls_s3_xml_node_t *n, const char *name)
{
    const ls_s3_xml_node_t *ch = ls_s3_xml_child(n, name);
    return ch ? ch->text : NULL;
}

int64_t ls_s3_xml_parse_time(const char *s)
{
    struct tm tm = {0};
    char *end = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
    if (!end)
        return -1;
    if (*end == '.') {
        end++;
        while (*end >= '0' && *end <= '9')
            end++;
    }
    if (strcmp(end, "Z") != 0 && strcmp(end, "+00:00") != 0)
        return -1;
    return (int64_t)timegm(&tm);
}

static char *strip_quotes(const char *s)
{
    size_t n = strlen(s);
    if (n >= 2 && s[0] == '"' && s[n - 1] == '"')
        return ls_strndup(s + 1, n - 2);
    return ls_strdup(s);
}

ls_err_t ls_s3_xml_parse_list(const char *buf, size_t len, const char *strip_prefix,
                              ls_objstore_result_t *result, ls_error_t *err)
{
    ls_s3_xml_node_t *root;
    ls_err_t rc = ls_s3_xml_parse(buf, len, &root, err);
    if (rc != LS_ERR_OK)
        return rc;
    size_t plen = strlen(strip_prefix);
    ls_objstore_info_t *entries = NULL;
    size_t count = 0;
    char *token = NULL;
    if (strcmp(root->name, "ListBucketResult") != 0) {
        rc = ls_error_set(err, LS_ERR_INVALID_ARGUMENT,
                          "list response root is <%s>, not <ListBucketResult>", root->name);
        goto fail;
    }
    for (const ls_s3_xml_node_t *ch = root->children; ch; ch = ch->next) {
        if (strcmp(ch->name, "Contents") != 0)
            continue;
        if (count == LS_S3_XML_MAX_LIST_ENTRIES) {
            rc = ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "list response has over %d entries",
                              LS_S3_XML_MAX_LIST_ENTRIES);
            goto fail;
        }
        const char *key = ls_s3_xml_child_text(ch, "Key");
        const char *size = ls_s3_xml_child_text(ch, "Size");
        const char *etag = ls_s3_xml_child_text(ch, "ETag");
        const char *mtime = ls_s3_xml_child_text(ch, "LastModified");
        if (!key || strlen(key) != ls_s3_xml_child(ch, "Key")->text_len ||
            strncmp(key, strip_prefix, plen) != 0 || key[plen] == '\0') {
            rc = ls_error_set(err, LS_ERR_INVALID_ARGUMENT,
                              "list entry %zu has no key under the store prefix", count);
            goto fail;
        }
        char *endp = NULL;
        unsigned long long sz =
            size && *size >= '0' && *size <= '9' ? strtoull(size, &endp, 10) : 0;
        if (!size || !endp || *endp != '\0') {
            rc =
                ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "list entry \"%s\" has a bad Size", key);
            goto fail;
        }
        if (!entries)
            entries = ls_calloc(LS_S3_XML_MAX_LIST_ENTRIES, sizeof(*entries));
        ls_objstore_info_t *e = &entries[count++];
        e->key = ls_strdup(key + plen);
        e->size = sz;
        e->etag = strip_quotes(etag ? etag : "");
        e->mtime = mtime ? ls_s3_xml_parse_time(mtime) : -1;
    }
    const char *truncated = ls_s3_xml_child_text(root, "IsTruncated");
    if (truncated && strcmp(truncated, "true") == 0) {
        const char *next = ls_s3_xml_child_text(root, "NextContinuationToken");
        if (!next || !*next) {
            rc = ls_error_set(err, LS_ERR_INVALID_ARGUMENT,
                              "list response is truncated but has no NextContinuationToken");
            goto fail;
        }
        token = ls_strdup(next);
    }
    ls_s3_xml_free(root);
    result->entries = entries;
    result->entry_count = count;
    result->next_continuation_token = token;
    return LS_ERR_OK;
fail:
    for (size_t i = 0; i < count; i++) {
        free(entries[i].key);
        free(entries[i].etag);
    }
    free(entries);
    ls_s3_xml_free(root);
    return rc;
}

int ls_s3_xml_parse_error(const char *buf, size_t len, char *code, size_t code_size, char *message,
                          size_t message_size)
{
    code[0] = message[0] = '\0';
    ls_s3_xml_node_t *root;
    ls_error_t ignored;
    if (len == 0 || ls_s3_xml_parse(buf, len, &root, &ignored) != LS_ERR_OK)
        return 0;
    int is_error = strcmp(root->name, "Error") == 0;
    if (is_error) {
        const char *c = ls_s3_xml_child_text(root, "Code");
        const char *m = ls_s3_xml_child_text(root, "Message");
        snprintf(code, code_size, "%s", c ? c : "");
        snprintf(message, message_size, "%s", m ? m : "");
    }
    ls_s3_xml_free(root);
    return is_error;
}
