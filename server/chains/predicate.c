/*
 * Predicate compiler and evaluator (see predicate.h): a hand-written lexer
 * and recursive-descent parser producing a small node tree. Depth, text
 * length and IN-list size are bounded so no input can exhaust the stack or
 * memory.
 */
#include "chains/predicate.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"

typedef enum {
    N_AND,
    N_OR,
    N_NOT,
    N_CMP,
    N_IN,
    N_BETWEEN,
    N_ISNULL,
    N_LIKE,
    N_FIELD,
    N_CONST
} node_kind_t;

typedef enum { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE } cmp_op_t;

typedef struct node node_t;
struct node {
    node_kind_t kind;
    cmp_op_t op;
    bool negate;       /* NOT IN, NOT BETWEEN, IS NOT NULL, NOT LIKE */
    node_t *a, *b, *c; /* children / operands */
    node_t **list;     /* IN list */
    size_t list_len;
    ls_field_t field;
    ls_value_t value; /* N_CONST; strings point into owned */
    char *owned;
};

struct ls_predicate {
    node_t *root;
};

/* ---------- lexer ---------- */

typedef enum {
    T_END,
    T_IDENT, /* field path or keyword */
    T_NUMBER,
    T_STRING,
    T_LPAREN,
    T_RPAREN,
    T_COMMA,
    T_OP
} tok_kind_t;

typedef struct {
    tok_kind_t kind;
    size_t pos; /* 0-based start */
    const char *start;
    size_t len;
    cmp_op_t op;
} tok_t;

typedef struct {
    const char *text;
    size_t len, i;
    tok_t tok;
    ls_predicate_field_fn field;
    void *arg;
    ls_error_t *err;
    bool failed;
} parser_t;

static void fail(parser_t *p, size_t pos, const char *what)
{
    if (p->failed)
        return;
    p->failed = true;
    if (p->tok.kind == T_END && pos >= p->len)
        ls_error_set(p->err, LS_ERR_INVALID_ARGUMENT, "at position %zu: %s, found end of input",
                     pos + 1, what);
    else
        ls_error_set(p->err, LS_ERR_INVALID_ARGUMENT, "at position %zu: %s, found \"%.*s\"",
                     pos + 1, what, (int)(p->tok.len > 40 ? 40 : p->tok.len), p->tok.start);
}

static void lex(parser_t *p)
{
    while (p->i < p->len && isspace((unsigned char)p->text[p->i]))
        p->i++;
    tok_t *t = &p->tok;
    t->pos = p->i;
    t->start = p->text + p->i;
    t->len = 0;
    if (p->i >= p->len) {
        t->kind = T_END;
        return;
    }
    char c = p->text[p->i];
    const char *s = p->text + p->i;
    if (c == '(' || c == ')' || c == ',') {
        t->kind = c == '(' ? T_LPAREN : c == ')' ? T_RPAREN : T_COMMA;
        t->len = 1;
    } else if (c == '=' || c == '<' || c == '>' || c == '!') {
        t->kind = T_OP;
        if (s[0] == '=' && p->i + 1 < p->len && s[1] == '=')
            t->op = OP_EQ, t->len = 2;
        else if (s[0] == '=')
            t->op = OP_EQ, t->len = 1;
        else if (s[0] == '!' && p->i + 1 < p->len && s[1] == '=')
            t->op = OP_NE, t->len = 2;
        else if (s[0] == '<' && p->i + 1 < p->len && s[1] == '>')
            t->op = OP_NE, t->len = 2;
        else if (s[0] == '<' && p->i + 1 < p->len && s[1] == '=')
            t->op = OP_LE, t->len = 2;
        else if (s[0] == '>' && p->i + 1 < p->len && s[1] == '=')
            t->op = OP_GE, t->len = 2;
        else if (s[0] == '<')
            t->op = OP_LT, t->len = 1;
        else if (s[0] == '>')
            t->op = OP_GT, t->len = 1;
        else {
            t->len = 1;
            t->kind = T_END;
            fail(p, t->pos, "unexpected character '!'");
            return;
        }
    } else if (c == '\'') {
        size_t j = p->i + 1;
        for (;;) {
            if (j >= p->len) {
                t->len = p->len - p->i;
                fail(p, t->pos, "unterminated string literal");
                t->kind = T_END;
                return;
            }
            if (p->text[j] == '\'') {
                if (j + 1 < p->len && p->text[j + 1] == '\'') {
                    j += 2;
                    continue;
                }
                break;
            }
            j++;
        }
        t->kind = T_STRING;
        t->len = j + 1 - p->i;
    } else if (isdigit((unsigned char)c) || c == '.' || c == '-' || c == '+') {
        size_t j = p->i + 1;
        while (j < p->len && (isalnum((unsigned char)p->text[j]) || p->text[j] == '.' ||
                              ((p->text[j] == '-' || p->text[j] == '+') &&
                               (p->text[j - 1] == 'e' || p->text[j - 1] == 'E'))))
            j++;
        t->kind = T_NUMBER;
        t->len = j - p->i;
    } else if (isalpha((unsigned char)c) || c == '_') {
        size_t j = p->i + 1;
        while (j < p->len &&
               (isalnum((unsigned char)p->text[j]) || p->text[j] == '_' || p->text[j] == '.'))
            j++;
        t->kind = T_IDENT;
        t->len = j - p->i;
    } else {
        t->len = 1;
        t->kind = T_END;
        fail(p, t->pos, "unexpected character");
        return;
    }
    p->i += t->len;
}

static bool is_kw(const tok_t *t, const char *kw)
{
    return t->kind == T_IDENT && strlen(kw) == t->len && strncasecmp(t->start, kw, t->len) == 0;
}

static bool is_reserved(const tok_t *t)
{
    static const char *const kws[] = {"AND",  "OR",   "NOT",  "IN",    "BETWEEN", "IS",
                                      "NULL", "LIKE", "TRUE", "FALSE", NULL};
    for (int i = 0; kws[i]; i++)
        if (is_kw(t, kws[i]))
            return true;
    return false;
}

/* ---------- tree ---------- */

static node_t *new_node(node_kind_t k)
{
    node_t *n = ls_calloc(1, sizeof(*n));
    n->kind = k;
    return n;
}

static void free_node(node_t *n)
{
    if (n == NULL)
        return;
    free_node(n->a);
    free_node(n->b);
    free_node(n->c);
    for (size_t i = 0; i < n->list_len; i++)
        free_node(n->list[i]);
    free(n->list);
    free(n->owned);
    free(n);
}

/* ---------- parser ---------- */

static node_t *parse_or(parser_t *p, int depth);

static node_t *parse_operand(parser_t *p)
{
    tok_t t = p->tok;
    if (t.kind == T_NUMBER) {
        char buf[64];
        if (t.len >= sizeof(buf)) {
            fail(p, t.pos, "number too long");
            return NULL;
        }
        memcpy(buf, t.start, t.len);
        buf[t.len] = '\0';
        node_t *n = new_node(N_CONST);
        char *end;
        errno = 0;
        long long ll = strtoll(buf, &end, 10);
        if (*end == '\0' && errno == 0) {
            n->value.kind = LS_VALUE_INT;
            n->value.v.i = ll;
        } else {
            errno = 0;
            double d = strtod(buf, &end);
            if (*end != '\0' || errno != 0 || !isfinite(d)) {
                free_node(n);
                fail(p, t.pos, "invalid number");
                return NULL;
            }
            n->value.kind = LS_VALUE_DOUBLE;
            n->value.v.d = d;
        }
        lex(p);
        return n;
    }
    if (t.kind == T_STRING) {
        node_t *n = new_node(N_CONST);
        n->owned = ls_malloc(t.len);
        size_t o = 0;
        for (size_t i = 1; i + 1 < t.len; i++) {
            n->owned[o++] = t.start[i];
            if (t.start[i] == '\'')
                i++; /* '' → ' */
        }
        n->value.kind = LS_VALUE_STRING;
        n->value.ptr = (const uint8_t *)n->owned;
        n->value.len = o;
        lex(p);
        return n;
    }
    if (is_kw(&t, "TRUE") || is_kw(&t, "FALSE") || is_kw(&t, "NULL")) {
        node_t *n = new_node(N_CONST);
        if (is_kw(&t, "NULL")) {
            n->value.kind = LS_VALUE_NULL;
        } else {
            n->value.kind = LS_VALUE_BOOL;
            n->value.v.b = is_kw(&t, "TRUE");
        }
        lex(p);
        return n;
    }
    if (t.kind == T_IDENT && !is_reserved(&t)) {
        char path[256];
        bool ok = t.len < sizeof(path) && t.start[t.len - 1] != '.';
        for (size_t i = 1; ok && i < t.len; i++)
            if (t.start[i] == '.' && t.start[i - 1] == '.')
                ok = false;
        if (!ok) {
            fail(p, t.pos, "invalid field path");
            return NULL;
        }
        memcpy(path, t.start, t.len);
        path[t.len] = '\0';
        ls_field_t f = p->field(p->arg, path);
        if (f < 0) {
            fail(p, t.pos, "unknown field");
            return NULL;
        }
        node_t *n = new_node(N_FIELD);
        n->field = f;
        lex(p);
        return n;
    }
    fail(p, t.pos, "expected a field path or a literal");
    return NULL;
}

static bool expect_kw(parser_t *p, const char *kw, const char *what)
{
    if (!is_kw(&p->tok, kw)) {
        fail(p, p->tok.pos, what);
        return false;
    }
    lex(p);
    return true;
}

static node_t *parse_predicate(parser_t *p, int depth)
{
    if (depth > LS_PREDICATE_MAX_DEPTH) {
        fail(p, p->tok.pos, "expression nested too deeply");
        return NULL;
    }
    if (p->tok.kind == T_LPAREN) {
        lex(p);
        node_t *n = parse_or(p, depth + 1);
        if (n == NULL)
            return NULL;
        if (p->tok.kind != T_RPAREN) {
            fail(p, p->tok.pos, "expected ')'");
            free_node(n);
            return NULL;
        }
        lex(p);
        return n;
    }
    node_t *left = parse_operand(p);
    if (left == NULL)
        return NULL;
    if (p->tok.kind == T_OP) {
        node_t *n = new_node(N_CMP);
        n->op = p->tok.op;
        n->a = left;
        lex(p);
        n->b = parse_operand(p);
        if (n->b == NULL) {
            free_node(n);
            return NULL;
        }
        return n;
    }
    if (is_kw(&p->tok, "IS")) {
        lex(p);
        node_t *n = new_node(N_ISNULL);
        n->a = left;
        if (is_kw(&p->tok, "NOT")) {
            n->negate = true;
            lex(p);
        }
        if (!expect_kw(p, "NULL", "expected NULL or NOT NULL after IS")) {
            free_node(n);
            return NULL;
        }
        return n;
    }
    bool negate = false;
    if (is_kw(&p->tok, "NOT")) {
        negate = true;
        lex(p);
    }
    if (is_kw(&p->tok, "IN")) {
        lex(p);
        node_t *n = new_node(N_IN);
        n->a = left;
        n->negate = negate;
        if (p->tok.kind != T_LPAREN) {
            fail(p, p->tok.pos, "expected '(' after IN");
            free_node(n);
            return NULL;
        }
        lex(p);
        size_t cap = 0;
        for (;;) {
            if (n->list_len >= LS_PREDICATE_MAX_IN) {
                fail(p, p->tok.pos, "IN list too long");
                free_node(n);
                return NULL;
            }
            node_t *v = parse_operand(p);
            if (v == NULL) {
                free_node(n);
                return NULL;
            }
            if (n->list_len == cap) {
                cap = cap ? cap * 2 : 8;
                n->list = ls_realloc(n->list, cap * sizeof(*n->list));
            }
            n->list[n->list_len++] = v;
            if (p->tok.kind == T_COMMA) {
                lex(p);
                continue;
            }
            if (p->tok.kind == T_RPAREN) {
                lex(p);
                return n;
            }
            fail(p, p->tok.pos, "expected ',' or ')' in IN list");
            free_node(n);
            return NULL;
        }
    }
    if (is_kw(&p->tok, "BETWEEN")) {
        lex(p);
        node_t *n = new_node(N_BETWEEN);
        n->a = left;
        n->negate = negate;
        n->b = parse_operand(p);
        if (n->b == NULL || !expect_kw(p, "AND", "expected AND in BETWEEN") ||
            (n->c = parse_operand(p)) == NULL) {
            free_node(n);
            return NULL;
        }
        return n;
    }
    if (is_kw(&p->tok, "LIKE")) {
        lex(p);
        node_t *n = new_node(N_LIKE);
        n->a = left;
        n->negate = negate;
        if (p->tok.kind != T_STRING) {
            fail(p, p->tok.pos, "expected a 'pattern' string after LIKE");
            free_node(n);
            return NULL;
        }
        n->b = parse_operand(p);
        return n;
    }
    if (negate) {
        fail(p, p->tok.pos, "expected IN, BETWEEN or LIKE after NOT");
        free_node(left);
        return NULL;
    }
    /* A bare operand: a boolean field or literal. */
    return left;
}

static node_t *parse_not(parser_t *p, int depth)
{
    if (depth > LS_PREDICATE_MAX_DEPTH) {
        fail(p, p->tok.pos, "expression nested too deeply");
        return NULL;
    }
    if (is_kw(&p->tok, "NOT")) {
        lex(p);
        node_t *inner = parse_not(p, depth + 1);
        if (inner == NULL)
            return NULL;
        node_t *n = new_node(N_NOT);
        n->a = inner;
        return n;
    }
    return parse_predicate(p, depth);
}

static node_t *parse_and(parser_t *p, int depth)
{
    node_t *left = parse_not(p, depth);
    while (left != NULL && is_kw(&p->tok, "AND")) {
        lex(p);
        node_t *right = parse_not(p, depth);
        if (right == NULL) {
            free_node(left);
            return NULL;
        }
        node_t *n = new_node(N_AND);
        n->a = left;
        n->b = right;
        left = n;
    }
    return left;
}

static node_t *parse_or(parser_t *p, int depth)
{
    node_t *left = parse_and(p, depth);
    while (left != NULL && is_kw(&p->tok, "OR")) {
        lex(p);
        node_t *right = parse_and(p, depth);
        if (right == NULL) {
            free_node(left);
            return NULL;
        }
        node_t *n = new_node(N_OR);
        n->a = left;
        n->b = right;
        left = n;
    }
    return left;
}

ls_err_t ls_predicate_compile(const char *text, ls_predicate_field_fn field, void *arg,
                              ls_predicate_t **out, ls_error_t *err)
{
    size_t len = strnlen(text, LS_PREDICATE_MAX_LEN + 1);
    if (len > LS_PREDICATE_MAX_LEN)
        return ls_error_set(err, LS_ERR_INVALID_ARGUMENT, "predicate longer than %d characters",
                            LS_PREDICATE_MAX_LEN);
    parser_t p = {.text = text, .len = len, .field = field, .arg = arg, .err = err};
    lex(&p);
    if (p.failed)
        return LS_ERR_INVALID_ARGUMENT;
    if (p.tok.kind == T_END) {
        fail(&p, 0, "expected an expression");
        return LS_ERR_INVALID_ARGUMENT;
    }
    node_t *root = parse_or(&p, 0);
    if (root != NULL && !p.failed && p.tok.kind != T_END)
        fail(&p, p.tok.pos, "expected AND, OR or the end of the predicate");
    if (p.failed) {
        free_node(root);
        return LS_ERR_INVALID_ARGUMENT;
    }
    ls_predicate_t *pr = ls_malloc(sizeof(*pr));
    pr->root = root;
    *out = pr;
    return LS_ERR_OK;
}

void ls_predicate_free(ls_predicate_t *p)
{
    if (p == NULL)
        return;
    free_node(p->root);
    free(p);
}

/* ---------- evaluation ---------- */

static const ls_value_t null_value = {.kind = LS_VALUE_NULL};

static const ls_value_t *operand(const node_t *n, const ls_value_t *fields, size_t nf)
{
    if (n->kind == N_CONST)
        return &n->value;
    if (n->kind == N_FIELD)
        return (size_t)n->field < nf ? &fields[n->field] : &null_value;
    return &null_value;
}

/* -2 = incomparable (NULL or different types), else <0, 0, >0. */
static int compare(const ls_value_t *x, const ls_value_t *y)
{
    if (x->kind == LS_VALUE_NULL || y->kind == LS_VALUE_NULL)
        return -2;
    bool xn = x->kind == LS_VALUE_INT || x->kind == LS_VALUE_DOUBLE;
    bool yn = y->kind == LS_VALUE_INT || y->kind == LS_VALUE_DOUBLE;
    if (xn && yn) {
        if (x->kind == LS_VALUE_INT && y->kind == LS_VALUE_INT)
            return x->v.i < y->v.i ? -1 : x->v.i > y->v.i;
        double a = x->kind == LS_VALUE_INT ? (double)x->v.i : x->v.d;
        double b = y->kind == LS_VALUE_INT ? (double)y->v.i : y->v.d;
        if (isnan(a) || isnan(b))
            return -2;
        return a < b ? -1 : a > b;
    }
    bool xs = x->kind == LS_VALUE_STRING || x->kind == LS_VALUE_BYTES;
    bool ys = y->kind == LS_VALUE_STRING || y->kind == LS_VALUE_BYTES;
    if (xs && ys) {
        size_t m = x->len < y->len ? x->len : y->len;
        int c = m ? memcmp(x->ptr, y->ptr, m) : 0;
        if (c != 0)
            return c < 0 ? -1 : 1;
        return x->len < y->len ? -1 : x->len > y->len;
    }
    if (x->kind == LS_VALUE_BOOL && y->kind == LS_VALUE_BOOL)
        return (int)x->v.b - (int)y->v.b;
    return -2;
}

static bool like(const uint8_t *s, size_t sn, const uint8_t *pat, size_t pn)
{
    size_t si = 0, pi = 0, star_p = (size_t)-1, star_s = 0;
    while (si < sn) {
        if (pi < pn && (pat[pi] == '_' || pat[pi] == s[si])) {
            si++;
            pi++;
        } else if (pi < pn && pat[pi] == '%') {
            star_p = pi++;
            star_s = si;
        } else if (star_p != (size_t)-1) {
            pi = star_p + 1;
            si = ++star_s;
        } else {
            return false;
        }
    }
    while (pi < pn && pat[pi] == '%')
        pi++;
    return pi == pn;
}

static int negate3(int v, bool negate)
{
    if (!negate || v == LS_PRED_UNKNOWN)
        return v;
    return v == LS_PRED_TRUE ? LS_PRED_FALSE : LS_PRED_TRUE;
}

static int eval(const node_t *n, const ls_value_t *f, size_t nf)
{
    switch (n->kind) {
    case N_AND: {
        int a = eval(n->a, f, nf);
        if (a == LS_PRED_FALSE)
            return LS_PRED_FALSE;
        int b = eval(n->b, f, nf);
        if (b == LS_PRED_FALSE)
            return LS_PRED_FALSE;
        return a == LS_PRED_TRUE && b == LS_PRED_TRUE ? LS_PRED_TRUE : LS_PRED_UNKNOWN;
    }
    case N_OR: {
        int a = eval(n->a, f, nf);
        if (a == LS_PRED_TRUE)
            return LS_PRED_TRUE;
        int b = eval(n->b, f, nf);
        if (b == LS_PRED_TRUE)
            return LS_PRED_TRUE;
        return a == LS_PRED_FALSE && b == LS_PRED_FALSE ? LS_PRED_FALSE : LS_PRED_UNKNOWN;
    }
    case N_NOT:
        return negate3(eval(n->a, f, nf), true);
    case N_CMP: {
        int c = compare(operand(n->a, f, nf), operand(n->b, f, nf));
        if (c == -2)
            return LS_PRED_UNKNOWN;
        bool r = false;
        switch (n->op) {
        case OP_EQ:
            r = c == 0;
            break;
        case OP_NE:
            r = c != 0;
            break;
        case OP_LT:
            r = c < 0;
            break;
        case OP_LE:
            r = c <= 0;
            break;
        case OP_GT:
            r = c > 0;
            break;
        case OP_GE:
            r = c >= 0;
            break;
        }
        return r ? LS_PRED_TRUE : LS_PRED_FALSE;
    }
    case N_IN: {
        const ls_value_t *x = operand(n->a, f, nf);
        if (x->kind == LS_VALUE_NULL)
            return LS_PRED_UNKNOWN;
        bool unknown = false;
        for (size_t i = 0; i < n->list_len; i++) {
            int c = compare(x, operand(n->list[i], f, nf));
            if (c == 0)
                return negate3(LS_PRED_TRUE, n->negate);
            if (c == -2)
                unknown = true;
        }
        return negate3(unknown ? LS_PRED_UNKNOWN : LS_PRED_FALSE, n->negate);
    }
    case N_BETWEEN: {
        const ls_value_t *x = operand(n->a, f, nf);
        int lo = compare(x, operand(n->b, f, nf)), hi = compare(x, operand(n->c, f, nf));
        int a = lo == -2 ? LS_PRED_UNKNOWN : lo >= 0 ? LS_PRED_TRUE : LS_PRED_FALSE;
        int b = hi == -2 ? LS_PRED_UNKNOWN : hi <= 0 ? LS_PRED_TRUE : LS_PRED_FALSE;
        int r = (a == LS_PRED_FALSE || b == LS_PRED_FALSE) ? LS_PRED_FALSE
                : (a == LS_PRED_TRUE && b == LS_PRED_TRUE) ? LS_PRED_TRUE
                                                           : LS_PRED_UNKNOWN;
        return negate3(r, n->negate);
    }
    case N_ISNULL: {
        bool isnull = operand(n->a, f, nf)->kind == LS_VALUE_NULL;
        return (isnull != n->negate) ? LS_PRED_TRUE : LS_PRED_FALSE;
    }
    case N_LIKE: {
        const ls_value_t *x = operand(n->a, f, nf);
        if (x->kind == LS_VALUE_NULL)
            return LS_PRED_UNKNOWN;
        if (x->kind != LS_VALUE_STRING && x->kind != LS_VALUE_BYTES)
            return LS_PRED_UNKNOWN;
        const ls_value_t *pat = &n->b->value;
        return negate3(like(x->ptr, x->len, pat->ptr, pat->len) ? LS_PRED_TRUE : LS_PRED_FALSE,
                       n->negate);
    }
    case N_FIELD:
    case N_CONST: {
        const ls_value_t *x = operand(n, f, nf);
        if (x->kind == LS_VALUE_BOOL)
            return x->v.b ? LS_PRED_TRUE : LS_PRED_FALSE;
        return LS_PRED_UNKNOWN;
    }
    }
    return LS_PRED_UNKNOWN;
}

int ls_predicate_eval(const ls_predicate_t *p, const ls_value_t *fields, size_t n)
{
    return eval(p->root, fields, n);
}
