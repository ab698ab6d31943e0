/* Row to JSON for CDC sources (see row.h). */
#include "cdc/row.h"

#include <string.h>

#include "cdc/watermark.h"

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when invalid. */
static size_t utf8_sequence(const unsigned char *s, size_t left)
{
    unsigned char c = s[0];
    size_t n;
    unsigned int cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (left < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

void ls_cdc_json_string(ls_buf_t *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    ls_buf_reserve(out, len + 2);
    ls_buf_append(out, "\"", 1);
    size_t run = 0; /* start of bytes copied verbatim */
    size_t i = 0;
    while (i < len) {
        unsigned char c = p[i];
        const char *esc = NULL;
        char ubuf[7];
        size_t step = 1;
        if (c == '"')
            esc = "\\\"";
        else if (c == '\\')
            esc = "\\\\";
        else if (c == '\n')
            esc = "\\n";
        else if (c == '\r')
            esc = "\\r";
        else if (c == '\t')
            esc = "\\t";
        else if (c < 0x20) {
            memcpy(ubuf, "\\u00", 4);
            ubuf[4] = hex[c >> 4];
            ubuf[5] = hex[c & 15];
            ubuf[6] = '\0';
            esc = ubuf;
        } else if (c >= 0x80) {
            step = utf8_sequence(p + i, len - i);
            if (step == 0) {
                esc = "\xef\xbf\xbd"; /* U+FFFD */
                step = 1;
            }
        }
        if (esc != NULL) {
            ls_buf_append(out, s + run, i - run);
            ls_buf_puts(out, esc);
            run = i + step;
        }
        i += step;
    }
    ls_buf_append(out, s + run, len - run);
    ls_buf_append(out, "\"", 1);
}

bool ls_cdc_numeric_is_exact_double(const char *s)
{
    const char *p = s;
    if (*p == '-' || *p == '+')
        p++;
    int digits = 0;
    bool leading = true, seen_digit = false, seen_dot = false;
    for (; *p; p++) {
        if (*p >= '0' && *p <= '9') {
            seen_digit = true;
            if (leading && *p == '0')
                continue;
            leading = false;
            digits++;
        } else if (*p == '.' && !seen_dot) {
            seen_dot = true;
        } else {
            return false; /* NaN, Infinity, exponent, garbage */
        }
    }
    return seen_digit && digits <= 15;
}

static bool is_special_float(const char *s)
{
    return strcmp(s, "NaN") == 0 || strcmp(s, "Infinity") == 0 || strcmp(s, "-Infinity") == 0;
}

void ls_cdc_value_json(ls_buf_t *out, ls_cdc_kind_t kind, const char *text, size_t len,
                       bool is_null)
{
    if (is_null) {
        ls_buf_append(out, "null", 4);
        return;
    }
    switch (kind) {
    case LS_CDC_KIND_INTEGER:
        ls_buf_append(out, text, len);
        return;
    case LS_CDC_KIND_FLOAT:
        if (is_special_float(text))
            ls_cdc_json_string(out, text, len);
        else
            ls_buf_append(out, text, len);
        return;
    case LS_CDC_KIND_NUMERIC:
        if (ls_cdc_numeric_is_exact_double(text))
            ls_buf_append(out, text, len);
        else
            ls_cdc_json_string(out, text, len);
        return;
    case LS_CDC_KIND_BOOL:
        ls_buf_puts(out, text[0] == 't' ? "true" : "false");
        return;
    case LS_CDC_KIND_JSON:
        ls_buf_append(out, text, len);
        return;
    case LS_CDC_KIND_TIMESTAMP:
    case LS_CDC_KIND_TIMESTAMPTZ: {
        char iso[64];
        if (len < sizeof(iso)) {
            memcpy(iso, text, len + 1);
            ls_cdc_trim_zero_fraction(iso);
            ls_cdc_json_string(out, iso, strlen(iso));
            return;
        }
        ls_cdc_json_string(out, text, len);
        return;
    }
    case LS_CDC_KIND_DATE:
    case LS_CDC_KIND_STRING:
    default:
        ls_cdc_json_string(out, text, len);
        return;
    }
}
