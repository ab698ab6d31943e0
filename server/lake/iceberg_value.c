/*
 * Iceberg primitive types, value serializations, murmur3 and partition
 * transforms (see iceberg_value.h). Everything here is a pure function of its
 * arguments; nothing allocates except the JSON helpers' documented outputs.
 */
#include "lake/iceberg_value.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

static const struct {
    const char *name;
    ls_parquet_type_t type;
} PRIMITIVES[] = {
    {"boolean", LS_PARQUET_BOOLEAN},
    {"int", LS_PARQUET_INT32},
    {"long", LS_PARQUET_INT64},
    {"float", LS_PARQUET_FLOAT},
    {"double", LS_PARQUET_DOUBLE},
    {"date", LS_PARQUET_DATE},
    {"time", LS_PARQUET_TIME},
    {"timestamp", LS_PARQUET_TIMESTAMP},
    {"timestamptz", LS_PARQUET_TIMESTAMPTZ},
    {"string", LS_PARQUET_STRING},
    {"uuid", LS_PARQUET_UUID},
    {"binary", LS_PARQUET_BINARY},
};

ls_err_t ls_iceberg_type_parse(const char *s, ls_iceberg_type_t *out, ls_error_t *err)
{
    memset(out, 0, sizeof *out);
    if (s == NULL)
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "type must be a string");
    for (size_t i = 0; i < sizeof PRIMITIVES / sizeof PRIMITIVES[0]; i++)
        if (strcmp(s, PRIMITIVES[i].name) == 0) {
            out->type = PRIMITIVES[i].type;
            return LS_ERR_OK;
        }
    int p = 0, sc = 0, n = 0;
    if (sscanf(s, "decimal(%d , %d)%n", &p, &sc, &n) == 2 && s[n] == '\0') {
        if (p < 1 || p > 38 || sc < 0 || sc > p)
            return ls_error_set(err, LS_ERR_INVALID_ARGUMENT,
                                "decimal precision must be 1..38 and scale 0..precision: %s", s);
        out->type = LS_PARQUET_DECIMAL;
        out->precision = p;
        out->scale = sc;
        return LS_ERR_OK;
    }
    n = 0;
    if (sscanf(s, "fixed[%d]%n", &p, &n) == 1 && s[n] == '\0') {
        if (p < 1 || p > 65536)
            return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "fixed length must be 1..65536: %s",
                                s);
        out->type = LS_PARQUET_FIXED;
        out->precision = p;
        return LS_ERR_OK;
    }
    return ls_error_set(err, LS_ERR_INVALID_ARGUMENT,
                        "unknown or non-primitive Iceberg type \"%s\"", s);
}

const char *ls_iceberg_type_format(const ls_iceberg_type_t *t, char *buf, size_t size)
{
    if (t->type == LS_PARQUET_DECIMAL)
        snprintf(buf, size, "decimal(%d, %d)", t->precision, t->scale);
    else if (t->type == LS_PARQUET_FIXED)
        snprintf(buf, size, "fixed[%d]", t->precision);
    else {
        snprintf(buf, size, "?");
        for (size_t i = 0; i < sizeof PRIMITIVES / sizeof PRIMITIVES[0]; i++)
            if (PRIMITIVES[i].type == t->type)
                snprintf(buf, size, "%s", PRIMITIVES[i].name);
    }
    return buf;
}

/* ---- binary ---- */

static void put_le(ls_buf_t *out, uint64_t v, int n)
{
    uint8_t b[8];
    for (int i = 0; i < n; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    ls_buf_append(out, b, (size_t)n);
}

static uint64_t get_le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* Minimal big-endian two's complement bytes of x (Java BigInteger.toByteArray). */
static size_t decimal_bytes(__int128 x, uint8_t out[16])
{
    uint8_t full[16];
    unsigned __int128 u = (unsigned __int128)x;
    for (int i = 15; i >= 0; i--) {
        full[i] = (uint8_t)u;
        u >>= 8;
    }
    int start = 0;
    while (start < 15) {
        bool redundant = (full[start] == 0x00 && (full[start + 1] & 0x80) == 0) ||
                         (full[start] == 0xff && (full[start + 1] & 0x80) != 0);
        if (!redundant)
            break;
        start++;
    }
    memcpy(out, full + start, (size_t)(16 - start));
    return (size_t)(16 - start);
}

void ls_iceberg_value_to_bytes(const ls_parquet_value_t *v, ls_buf_t *out)
{
    switch (v->type) {
    case LS_PARQUET_BOOLEAN: {
        uint8_t b = v->v.b ? 1 : 0;
        ls_buf_append(out, &b, 1);
        return;
    }
    case LS_PARQUET_INT32:
    case LS_PARQUET_DATE:
        put_le(out, (uint32_t)v->v.i32, 4);
        return;
    case LS_PARQUET_INT64:
    case LS_PARQUET_TIME:
    case LS_PARQUET_TIMESTAMP:
    case LS_PARQUET_TIMESTAMPTZ:
        put_le(out, (uint64_t)v->v.i64, 8);
        return;
    case LS_PARQUET_FLOAT: {
        uint32_t u;
        memcpy(&u, &v->v.f, 4);
        put_le(out, u, 4);
        return;
    }
    case LS_PARQUET_DOUBLE: {
        uint64_t u;
        memcpy(&u, &v->v.d, 8);
        put_le(out, u, 8);
        return;
    }
    case LS_PARQUET_DECIMAL: {
        uint8_t b[16];
        size_t n = decimal_bytes(v->v.dec, b);
        ls_buf_append(out, b, n);
        return;
    }
    default:
        ls_buf_append(out, v->v.bytes.ptr, v->v.bytes.len);
        return;
    }
}

ls_err_t ls_iceberg_value_from_bytes(const ls_iceberg_type_t *t, const uint8_t *p, size_t len,
                                     ls_parquet_value_t *out, ls_error_t *err)
{
    memset(out, 0, sizeof *out);
    out->type = t->type;
    size_t want = 0;
    switch (t->type) {
    case LS_PARQUET_BOOLEAN:
        want = 1;
        break;
    case LS_PARQUET_INT32:
    case LS_PARQUET_DATE:
    case LS_PARQUET_FLOAT:
        want = 4;
        break;
    case LS_PARQUET_INT64:
    case LS_PARQUET_TIME:
    case LS_PARQUET_TIMESTAMP:
    case LS_PARQUET_TIMESTAMPTZ:
    case LS_PARQUET_DOUBLE:
        want = 8;
        break;
    case LS_PARQUET_UUID:
        want = 16;
        break;
    case LS_PARQUET_FIXED:
        want = (size_t)t->precision;
        break;
    default:
        break;
    }
    if (want != 0 && len != want)
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT,
                            "serialized value has %zu bytes, its type needs %zu", len, want);
    switch (t->type) {
    case LS_PARQUET_BOOLEAN:
        out->v.b = p[0] != 0;
        break;
    case LS_PARQUET_INT32:
    case LS_PARQUET_DATE:
        out->v.i32 = (int32_t)(uint32_t)get_le(p, 4);
        break;
    case LS_PARQUET_INT64:
    case LS_PARQUET_TIME:
    case LS_PARQUET_TIMESTAMP:
    case LS_PARQUET_TIMESTAMPTZ:
        out->v.i64 = (int64_t)get_le(p, 8);
        break;
    case LS_PARQUET_FLOAT: {
        uint32_t u = (uint32_t)get_le(p, 4);
        memcpy(&out->v.f, &u, 4);
        break;
    }
    case LS_PARQUET_DOUBLE: {
        uint64_t u = get_le(p, 8);
        memcpy(&out->v.d, &u, 8);
        break;
    }
    case LS_PARQUET_DECIMAL: {
        if (len < 1 || len > 16)
            return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "decimal of %zu bytes", len);
        unsigned __int128 u = (p[0] & 0x80) ? ~(unsigned __int128)0 : 0;
        for (size_t i = 0; i < len; i++)
            u = (u << 8) | p[i];
        out->v.dec = (__int128)u;
        break;
    }
    default:
        out->v.bytes.ptr = p;
        out->v.bytes.len = len;
        break;
    }
    return LS_ERR_OK;
}

/* ---- civil dates ---- */

/* Howard Hinnant's days_from_civil / civil_from_days: exact for the proleptic Gregorian
 * calendar, including dates before 1970 (floor semantics everywhere). */
int32_t ls_iceberg_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (int32_t)(era * 146097 + (int64_t)doe - 719468);
}

void ls_iceberg_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yy + (*m <= 2);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

/* ---- JSON ---- */

static const char HEX[] = "0123456789abcdef";

static json_t *hex_json(const uint8_t *p, size_t n)
{
    char *s = ls_malloc(n * 2 + 1);
    for (size_t i = 0; i < n; i++) {
        s[2 * i] = HEX[p[i] >> 4];
        s[2 * i + 1] = HEX[p[i] & 15];
    }
    s[2 * n] = '\0';
    json_t *j = json_string(s);
    free(s);
    return j;
}

static void format_time_of_day(char *buf, size_t size, int64_t micros)
{
    int64_t secs = micros / 1000000, frac = micros % 1000000;
    snprintf(buf, size, "%02d:%02d:%02d.%06d", (int)(secs / 3600), (int)(secs / 60 % 60),
             (int)(secs % 60), (int)frac);
}

static void format_date(char *buf, size_t size, int64_t days)
{
    int64_t y;
    unsigned m, d;
    ls_iceberg_civil_from_days(days, &y, &m, &d);
    snprintf(buf, size, "%04" PRId64 "-%02u-%02u", y, m, d);
}

static json_t *float_json(double d, bool is_float)
{
    if (isnan(d))
        return json_string("NaN");
    if (isinf(d))
        return json_string(d > 0 ? "Infinity" : "-Infinity");
    if (is_float) {
        /* shortest text that round-trips the float, so 0.1f is 0.1 not 0.100000001 */
        char buf[32];
        snprintf(buf, sizeof buf, "%.9g", d);
        for (int prec = 6; prec <= 9; prec++) {
            snprintf(buf, sizeof buf, "%.*g", prec, d);
            if ((float)strtod(buf, NULL) == (float)d)
                break;
        }
        return json_real(strtod(buf, NULL));
    }
    return json_real(d);
}

static void decimal_string(__int128 v, int scale, char *buf, size_t size)
{
    char digits[64];
    int n = 0;
    bool neg = v < 0;
    unsigned __int128 u = neg ? -(unsigned __int128)v : (unsigned __int128)v;
    do {
        digits[n++] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u != 0);
    while (n <= scale)
        digits[n++] = '0';
    size_t o = 0;
    if (neg && o + 1 < size)
        buf[o++] = '-';
    for (int i = n - 1; i >= 0 && o + 2 < size; i--) {
        buf[o++] = digits[i];
        if (i == scale && scale > 0)
            buf[o++] = '.';
    }
    buf[o] = '\0';
}

json_t *ls_iceberg_value_to_json(const ls_iceberg_type_t *t, const ls_parquet_value_t *v)
{
    char buf[96], tbuf[32];
    switch (t->type) {
    case LS_PARQUET_BOOLEAN:
        return json_boolean(v->v.b);
    case LS_PARQUET_INT32:
        return json_integer(v->v.i32);
    case LS_PARQUET_INT64:
        return json_integer(v->v.i64);
    case LS_PARQUET_FLOAT:
        return float_json(v->v.f, true);
    case LS_PARQUET_DOUBLE:
        return float_json(v->v.d, false);
    case LS_PARQUET_DATE:
        format_date(buf, sizeof buf, v->v.i32);
        return json_string(buf);
    case LS_PARQUET_TIME:
        format_time_of_day(buf, sizeof buf, v->v.i64);
        return json_string(buf);
    case LS_PARQUET_TIMESTAMP:
    case LS_PARQUET_TIMESTAMPTZ: {
        int64_t days = floor_div(v->v.i64, 86400000000LL);
        format_date(buf, sizeof buf, days);
        format_time_of_day(tbuf, sizeof tbuf, v->v.i64 - days * 86400000000LL);
        size_t l = strlen(buf);
        snprintf(buf + l, sizeof buf - l, "T%s%s", tbuf,
                 t->type == LS_PARQUET_TIMESTAMPTZ ? "+00:00" : "");
        return json_string(buf);
    }
    case LS_PARQUET_STRING:
        return json_stringn((const char *)v->v.bytes.ptr, v->v.bytes.len);
    case LS_PARQUET_UUID: {
        const uint8_t *p = v->v.bytes.ptr;
        size_t o = 0;
        for (int i = 0; i < 16; i++) {
            if (i == 4 || i == 6 || i == 8 || i == 10)
                buf[o++] = '-';
            buf[o++] = HEX[p[i] >> 4];
            buf[o++] = HEX[p[i] & 15];
        }
        buf[o] = '\0';
        return json_string(buf);
    }
    case LS_PARQUET_DECIMAL:
        decimal_string(v->v.dec, t->scale, buf, sizeof buf);
        return json_string(buf);
    default:
        return hex_json(v->v.bytes.ptr, v->v.bytes.len);
    }
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* "YYYY-MM-DD" at *s; advances. */
static bool parse_date(const char **s, int64_t *days)
{
    int y, m, d, n = 0;
    if (sscanf(*s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10 || m < 1 || m > 12 || d < 1 ||
        d > 31)
        return false;
    *days = ls_iceberg_days_from_civil(y, (unsigned)m, (unsigned)d);
    *s += n;
    return true;
}

/* "HH:MM[:SS[.ffffff]]" at *s; advances. */
static bool parse_time(const char **s, int64_t *micros)
{
    const char *p = *s;
    int h, mi, sec = 0, n = 0;
    if (sscanf(p, "%2d:%2d%n", &h, &mi, &n) != 2 || n != 5 || h > 23 || mi > 59 || h < 0 || mi < 0)
        return false;
    p += n;
    int64_t frac = 0;
    if (*p == ':') {
        if (!isdigit((unsigned char)p[1]) || !isdigit((unsigned char)p[2]))
            return false;
        sec = (p[1] - '0') * 10 + (p[2] - '0');
        if (sec > 59)
            return false;
        p += 3;
        if (*p == '.') {
            p++;
            int digits = 0;
            while (isdigit((unsigned char)*p)) {
                if (digits < 6) {
                    frac = frac * 10 + (*p - '0');
                    digits++;
                }
                p++;
            }
            if (digits == 0)
                return false;
            while (digits++ < 6)
                frac *= 10;
        }
    }
    *micros = ((int64_t)h * 3600 + mi * 60 + sec) * 1000000 + frac;
    *s = p;
    return true;
}

static ls_err_t bad_json(ls_error_t *err, const char *path, const ls_iceberg_type_t *t)
{
    char tb[40];
    return ls_error_set_path(err, LS_ERR_INVALID_ARGUMENT, path, "%s: not a valid %s value", path,
                             ls_iceberg_type_format(t, tb, sizeof tb));
}

static bool parse_decimal_text(const char *s, int scale, __int128 *out)
{
    bool neg = false;
    if (*s == '-' || *s == '+')
        neg = *s++ == '-';
    __int128 v = 0;
    int digits = 0, frac = -1;
    for (; *s; s++) {
        if (*s == '.' && frac < 0) {
            frac = 0;
            continue;
        }
        if (!isdigit((unsigned char)*s) || ++digits > 38)
            return false;
        if (frac >= 0 && ++frac > scale)
            return false;
        v = v * 10 + (*s - '0');
    }
    if (digits == 0)
        return false;
    for (int i = frac < 0 ? 0 : frac; i < scale; i++)
        v *= 10;
    *out = neg ? -v : v;
    return true;
}

static bool decimal_fits(__int128 v, int precision)
{
    __int128 lim = 1;
    for (int i = 0; i < precision; i++)
        lim *= 10;
    return v < lim && v > -lim;
}

ls_err_t ls_iceberg_value_from_json(const ls_iceberg_type_t *t, const json_t *j, const char *path,
                                    ls_parquet_value_t *out, uint8_t **store, ls_error_t *err)
{
    memset(out, 0, sizeof *out);
    *store = NULL;
    out->type = t->type;
    const char *s = json_is_string(j) ? json_string_value(j) : NULL;
    switch (t->type) {
    case LS_PARQUET_BOOLEAN:
        if (!json_is_boolean(j))
            return bad_json(err, path, t);
        out->v.b = json_is_true(j);
        return LS_ERR_OK;
    case LS_PARQUET_INT32:
        if (!json_is_integer(j) || json_integer_value(j) < INT32_MIN ||
            json_integer_value(j) > INT32_MAX)
            return bad_json(err, path, t);
        out->v.i32 = (int32_t)json_integer_value(j);
        return LS_ERR_OK;
    case LS_PARQUET_INT64:
        if (!json_is_integer(j))
            return bad_json(err, path, t);
        out->v.i64 = json_integer_value(j);
        return LS_ERR_OK;
    case LS_PARQUET_FLOAT:
    case LS_PARQUET_DOUBLE: {
        double d;
        if (json_is_number(j))
            d = json_number_value(j);
        else if (s != NULL && strcmp(s, "NaN") == 0)
            d = NAN;
        else if (s != NULL && strcmp(s, "Infinity") == 0)
            d = INFINITY;
        else if (s != NULL && strcmp(s, "-Infinity") == 0)
            d = -INFINITY;
        else
            return bad_json(err, path, t);
        if (t->type == LS_PARQUET_FLOAT)
            out->v.f = (float)d;
        else
            out->v.d = d;
        return LS_ERR_OK;
    }
    case LS_PARQUET_DATE: {
        int64_t days;
        if (json_is_integer(j)) {
            days = json_integer_value(j);
        } else if (s == NULL || !parse_date(&s, &days) || *s != '\0')
            return bad_json(err, path, t);
        if (days < INT32_MIN || days > INT32_MAX)
            return bad_json(err, path, t);
        out->v.i32 = (int32_t)days;
        return LS_ERR_OK;
    }
    case LS_PARQUET_TIME: {
        if (json_is_integer(j)) {
            out->v.i64 = json_integer_value(j);
            if (out->v.i64 < 0 || out->v.i64 >= 86400000000LL)
                return bad_json(err, path, t);
            return LS_ERR_OK;
        }
        if (s == NULL || !parse_time(&s, &out->v.i64) || *s != '\0')
            return bad_json(err, path, t);
        return LS_ERR_OK;
    }
    case LS_PARQUET_TIMESTAMP:
    case LS_PARQUET_TIMESTAMPTZ: {
        if (json_is_integer(j)) {
            out->v.i64 = json_integer_value(j);
            return LS_ERR_OK;
        }
        int64_t days, micros = 0;
        if (s == NULL || !parse_date(&s, &days))
            return bad_json(err, path, t);
        if (*s == 'T' || *s == ' ') {
            s++;
            if (!parse_time(&s, &micros))
                return bad_json(err, path, t);
        }
        int64_t offset_min = 0;
        if (*s == 'Z') {
            s++;
        } else if (*s == '+' || *s == '-') {
            int sign = *s == '-' ? -1 : 1, hh, mm, n = 0;
            if (sscanf(s + 1, "%2d:%2d%n", &hh, &mm, &n) != 2 || n != 5)
                return bad_json(err, path, t);
            offset_min = sign * (hh * 60 + mm);
            s += 1 + n;
        }
        if (*s != '\0')
            return bad_json(err, path, t);
        out->v.i64 = days * 86400000000LL + micros - offset_min * 60000000LL;
        return LS_ERR_OK;
    }
    case LS_PARQUET_STRING:
        if (s == NULL)
            return bad_json(err, path, t);
        out->v.bytes.len = json_string_length(j);
        *store = ls_malloc(out->v.bytes.len + 1);
        memcpy(*store, s, out->v.bytes.len + 1);
        out->v.bytes.ptr = *store;
        return LS_ERR_OK;
    case LS_PARQUET_UUID: {
        if (s == NULL || strlen(s) != 36)
            return bad_json(err, path, t);
        uint8_t *b = ls_malloc(16);
        int k = 0;
        for (int i = 0; i < 36; i++) {
            if (i == 8 || i == 13 || i == 18 || i == 23) {
                if (s[i] != '-')
                    k = -100;
                continue;
            }
            int hi = hexval(s[i]), lo = hexval(s[i + 1]);
            if (hi < 0 || lo < 0 || k < 0 || k >= 16) {
                k = -100;
                break;
            }
            b[k++] = (uint8_t)(hi * 16 + lo);
            i++;
        }
        if (k != 16) {
            free(b);
            return bad_json(err, path, t);
        }
        *store = b;
        out->v.bytes.ptr = b;
        out->v.bytes.len = 16;
        return LS_ERR_OK;
    }
    case LS_PARQUET_DECIMAL: {
        __int128 v;
        if (json_is_integer(j)) {
            v = json_integer_value(j);
            for (int i = 0; i < t->scale; i++)
                v *= 10;
        } else if (json_is_real(j) || s != NULL) {
            char tmp[64];
            if (s == NULL) {
                snprintf(tmp, sizeof tmp, "%.*f", t->scale, json_real_value(j));
                s = tmp;
            }
            if (!parse_decimal_text(s, t->scale, &v))
                return bad_json(err, path, t);
        } else
            return bad_json(err, path, t);
        if (!decimal_fits(v, t->precision))
            return bad_json(err, path, t);
        out->v.dec = v;
        return LS_ERR_OK;
    }
    default: { /* binary, fixed: hex */
        if (s == NULL)
            return bad_json(err, path, t);
        size_t n = strlen(s);
        if (n % 2 != 0 || (t->type == LS_PARQUET_FIXED && n / 2 != (size_t)t->precision))
            return bad_json(err, path, t);
        uint8_t *b = ls_malloc(n / 2 + 1);
        for (size_t i = 0; i < n / 2; i++) {
            int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
            if (hi < 0 || lo < 0) {
                free(b);
                return bad_json(err, path, t);
            }
            b[i] = (uint8_t)(hi * 16 + lo);
        }
        *store = b;
        out->v.bytes.ptr = b;
        out->v.bytes.len = n / 2;
        return LS_ERR_OK;
    }
    }
}

/* ---- order ---- */

static int cmp_double(double a, double b)
{
    if (isnan(a) || isnan(b))
        return isnan(a) - isnan(b);
    return (a > b) - (a < b);
}

int ls_iceberg_value_compare(const ls_parquet_value_t *a, const ls_parquet_value_t *b)
{
    switch (a->type) {
    case LS_PARQUET_BOOLEAN:
        return (int)a->v.b - (int)b->v.b;
    case LS_PARQUET_INT32:
    case LS_PARQUET_DATE:
        return (a->v.i32 > b->v.i32) - (a->v.i32 < b->v.i32);
    case LS_PARQUET_INT64:
    case LS_PARQUET_TIME:
    case LS_PARQUET_TIMESTAMP:
    case LS_PARQUET_TIMESTAMPTZ:
        return (a->v.i64 > b->v.i64) - (a->v.i64 < b->v.i64);
    case LS_PARQUET_FLOAT:
        return cmp_double(a->v.f, b->v.f);
    case LS_PARQUET_DOUBLE:
        return cmp_double(a->v.d, b->v.d);
    case LS_PARQUET_DECIMAL:
        return (a->v.dec > b->v.dec) - (a->v.dec < b->v.dec);
    default: {
        size_t n = a->v.bytes.len < b->v.bytes.len ? a->v.bytes.len : b->v.bytes.len;
        int c = n ? memcmp(a->v.bytes.ptr, b->v.bytes.ptr, n) : 0;
        if (c != 0)
            return c;
        return (a->v.bytes.len > b->v.bytes.len) - (a->v.bytes.len < b->v.bytes.len);
    }
    }
}

/* ---- murmur3 ---- */

static uint32_t rotl32(uint32_t x, int r)
{
    return (x << r) | (x >> (32 - r));
}

int32_t ls_iceberg_murmur3(const void *data, size_t len)
{
    const uint8_t *p = data;
    const uint32_t c1 = 0xcc9e2d51, c2 = 0x1b873593;
    uint32_t h = 0;
    size_t nblocks = len / 4;
    for (size_t i = 0; i < nblocks; i++) {
        uint32_t k = (uint32_t)get_le(p + 4 * i, 4);
        k *= c1;
        k = rotl32(k, 15);
        k *= c2;
        h ^= k;
        h = rotl32(h, 13);
        h = h * 5 + 0xe6546b64;
    }
    const uint8_t *tail = p + nblocks * 4;
    uint32_t k = 0;
    switch (len & 3) {
    case 3:
        k ^= (uint32_t)tail[2] << 16;
        /* fall through */
    case 2:
        k ^= (uint32_t)tail[1] << 8;
        /* fall through */
    case 1:
        k ^= tail[0];
        k *= c1;
        k = rotl32(k, 15);
        k *= c2;
        h ^= k;
    }
    h ^= (uint32_t)len;
    h ^= h >> 16;
    h *= 0x85ebca6b;
    h ^= h >> 13;
    h *= 0xc2b2ae35;
    h ^= h >> 16;
    return (int32_t)h;
}

bool ls_iceberg_hash(const ls_parquet_value_t *v, int32_t *out)
{
    uint8_t b[16];
    switch (v->type) {
    case LS_PARQUET_INT32:
    case LS_PARQUET_DATE: {
        uint64_t x = (uint64_t)(int64_t)v->v.i32;
        for (int i = 0; i < 8; i++)
            b[i] = (uint8_t)(x >> (8 * i));
        *out = ls_iceberg_murmur3(b, 8);
        return true;
    }
    case LS_PARQUET_INT64:
    case LS_PARQUET_TIME:
    case LS_PARQUET_TIMESTAMP:
    case LS_PARQUET_TIMESTAMPTZ: {
        uint64_t x = (uint64_t)v->v.i64;
        for (int i = 0; i < 8; i++)
            b[i] = (uint8_t)(x >> (8 * i));
        *out = ls_iceberg_murmur3(b, 8);
        return true;
    }
    case LS_PARQUET_DECIMAL: {
        size_t n = decimal_bytes(v->v.dec, b);
        *out = ls_iceberg_murmur3(b, n);
        return true;
    }
    case LS_PARQUET_STRING:
    case LS_PARQUET_BINARY:
    case LS_PARQUET_FIXED:
    case LS_PARQUET_UUID:
        *out = ls_iceberg_murmur3(v->v.bytes.ptr, v->v.bytes.len);
        return true;
    default:
        return false;
    }
}

/* ---- transforms ---- */

ls_err_t ls_iceberg_transform_parse(const char *s, ls_iceberg_transform_t *out, ls_error_t *err)
{
    static const struct {
        const char *name;
        ls_iceberg_transform_kind_t kind;
    } simple[] = {{"identity", LS_ICEBERG_IDENTITY}, {"year", LS_ICEBERG_YEAR},
                  {"month", LS_ICEBERG_MONTH},       {"day", LS_ICEBERG_DAY},
                  {"hour", LS_ICEBERG_HOUR},         {"void", LS_ICEBERG_VOID}};
    out->param = 0;
    if (s == NULL)
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "transform must be a string");
    for (size_t i = 0; i < sizeof simple / sizeof simple[0]; i++)
        if (strcmp(s, simple[i].name) == 0) {
            out->kind = simple[i].kind;
            return LS_ERR_OK;
        }
    int n = 0, w = 0;
    if (sscanf(s, "bucket[%d]%n", &w, &n) == 1 && s[n] == '\0' && w > 0) {
        out->kind = LS_ICEBERG_BUCKET;
        out->param = w;
        return LS_ERR_OK;
    }
    n = 0;
    if (sscanf(s, "truncate[%d]%n", &w, &n) == 1 && s[n] == '\0' && w > 0) {
        out->kind = LS_ICEBERG_TRUNCATE;
        out->param = w;
        return LS_ERR_OK;
    }
    return ls_error_set(err, LS_ERR_INVALID_ARGUMENT,
                        "unknown transform \"%s\" (identity, year, month, day, hour, bucket[N], "
                        "truncate[W], void)",
                        s);
}

const char *ls_iceberg_transform_format(const ls_iceberg_transform_t *t, char *buf, size_t size)
{
    static const char *names[] = {"identity", "year",   "month",    "day",
                                  "hour",     "bucket", "truncate", "void"};
    if (t->kind == LS_ICEBERG_BUCKET || t->kind == LS_ICEBERG_TRUNCATE)
        snprintf(buf, size, "%s[%d]", names[t->kind], (int)t->param);
    else
        snprintf(buf, size, "%s", names[t->kind]);
    return buf;
}

ls_err_t ls_iceberg_transform_result_type(const ls_iceberg_transform_t *t,
                                          const ls_iceberg_type_t *src, ls_iceberg_type_t *out,
                                          ls_error_t *err)
{
    ls_parquet_type_t ty = src->type;
    bool temporal_date =
        ty == LS_PARQUET_DATE || ty == LS_PARQUET_TIMESTAMP || ty == LS_PARQUET_TIMESTAMPTZ;
    bool ok = true;
    memset(out, 0, sizeof *out);
    switch (t->kind) {
    case LS_ICEBERG_IDENTITY:
    case LS_ICEBERG_VOID:
        *out = *src;
        break;
    case LS_ICEBERG_YEAR:
    case LS_ICEBERG_MONTH:
        ok = temporal_date;
        out->type = LS_PARQUET_INT32;
        break;
    case LS_ICEBERG_DAY:
        ok = temporal_date;
        out->type = LS_PARQUET_DATE;
        break;
    case LS_ICEBERG_HOUR:
        ok = ty == LS_PARQUET_TIMESTAMP || ty == LS_PARQUET_TIMESTAMPTZ;
        out->type = LS_PARQUET_INT32;
        break;
    case LS_ICEBERG_BUCKET:
        ok = ty != LS_PARQUET_BOOLEAN && ty != LS_PARQUET_FLOAT && ty != LS_PARQUET_DOUBLE;
        out->type = LS_PARQUET_INT32;
        break;
    case LS_ICEBERG_TRUNCATE:
        ok = ty == LS_PARQUET_INT32 || ty == LS_PARQUET_INT64 || ty == LS_PARQUET_DECIMAL ||
             ty == LS_PARQUET_STRING || ty == LS_PARQUET_BINARY;
        *out = *src;
        break;
    }
    if (!ok) {
        char tb[24], sb[40];
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "transform %s does not apply to %s",
                            ls_iceberg_transform_format(t, tb, sizeof tb),
                            ls_iceberg_type_format(src, sb, sizeof sb));
    }
    return LS_ERR_OK;
}

/* Micros of a date or timestamp value, for the time transforms. */
static int64_t to_micros(const ls_parquet_value_t *v)
{
    return v->type == LS_PARQUET_DATE ? (int64_t)v->v.i32 * 86400000000LL : v->v.i64;
}

bool ls_iceberg_transform_apply(const ls_iceberg_transform_t *t, const ls_parquet_value_t *in,
                                ls_parquet_value_t *out)
{
    memset(out, 0, sizeof *out);
    switch (t->kind) {
    case LS_ICEBERG_VOID:
        return false;
    case LS_ICEBERG_IDENTITY:
        *out = *in;
        return true;
    case LS_ICEBERG_YEAR:
    case LS_ICEBERG_MONTH: {
        int64_t y;
        unsigned m, d;
        ls_iceberg_civil_from_days(floor_div(to_micros(in), 86400000000LL), &y, &m, &d);
        out->type = LS_PARQUET_INT32;
        out->v.i32 =
            (int32_t)(t->kind == LS_ICEBERG_YEAR ? y - 1970 : (y - 1970) * 12 + (int64_t)m - 1);
        return true;
    }
    case LS_ICEBERG_DAY:
        out->type = LS_PARQUET_DATE;
        out->v.i32 = (int32_t)floor_div(to_micros(in), 86400000000LL);
        return true;
    case LS_ICEBERG_HOUR:
        out->type = LS_PARQUET_INT32;
        out->v.i32 = (int32_t)floor_div(in->v.i64, 3600000000LL);
        return true;
    case LS_ICEBERG_BUCKET: {
        int32_t h = 0;
        ls_iceberg_hash(in, &h);
        out->type = LS_PARQUET_INT32;
        out->v.i32 = (int32_t)((uint32_t)(h & INT32_MAX) % (uint32_t)t->param);
        return true;
    }
    case LS_ICEBERG_TRUNCATE: {
        int64_t w = t->param;
        *out = *in;
        if (in->type == LS_PARQUET_INT32)
            out->v.i32 = (int32_t)(in->v.i32 - (((in->v.i32 % w) + w) % w));
        else if (in->type == LS_PARQUET_INT64)
            out->v.i64 = in->v.i64 - (((in->v.i64 % w) + w) % w);
        else if (in->type == LS_PARQUET_DECIMAL)
            out->v.dec = in->v.dec - (((in->v.dec % w) + w) % w);
        else if (in->type == LS_PARQUET_STRING) {
            /* W code points, not bytes: never split a UTF-8 sequence */
            size_t i = 0, cps = 0;
            const uint8_t *p = in->v.bytes.ptr;
            while (i < in->v.bytes.len && cps < (size_t)w) {
                i++;
                while (i < in->v.bytes.len && (p[i] & 0xc0) == 0x80)
                    i++;
                cps++;
            }
            out->v.bytes.len = i;
        } else if (in->v.bytes.len > (size_t)w)
            out->v.bytes.len = (size_t)w;
        return true;
    }
    }
    return false;
}
