/*
 * The `where` predicate language: a SQL-style boolean expression over record
 * field paths, compiled once into a tree evaluated per record without
 * allocation or string lookups. Supports comparisons (= == != <> < <= > >=),
 * AND / OR / NOT, parentheses, [NOT] IN (...), [NOT] BETWEEN a AND b,
 * IS [NOT] NULL and [NOT] LIKE with % and _. Literals: numbers, 'strings'
 * ('' escapes a quote), TRUE, FALSE, NULL. Keywords are case-insensitive.
 * SQL's three-valued logic: a comparison involving NULL (or values of
 * different types) is UNKNOWN, NOT UNKNOWN is UNKNOWN, and a record passes
 * only when the whole predicate is TRUE. No I/O, no global state; a compiled
 * predicate is immutable (any thread).
 */
#ifndef LS_CHAINS_PREDICATE_H
#define LS_CHAINS_PREDICATE_H

#include <lakestream/processor.h>
#include <stddef.h>

#include "core/error.h"

#define LS_PREDICATE_MAX_LEN 65536
#define LS_PREDICATE_MAX_DEPTH 64
#define LS_PREDICATE_MAX_IN 10000

typedef struct ls_predicate ls_predicate_t;

/* Maps a field path to the handle its value will have in the field array
 * given to ls_predicate_eval; a negative handle rejects the path. */
typedef ls_field_t (*ls_predicate_field_fn)(void *arg, const char *path);

/* Compiles text. Errors (INVALID_ARGUMENT) say what was expected and the
 * 1-based character position ("at position 17: expected ')'"). *out is
 * owned by the caller (ls_predicate_free). */
ls_err_t ls_predicate_compile(const char *text, ls_predicate_field_fn field, void *arg,
                              ls_predicate_t **out, ls_error_t *err);

enum { LS_PRED_FALSE = 0, LS_PRED_TRUE = 1, LS_PRED_UNKNOWN = 2 };

/* Evaluates against fields[field handle]; handles beyond n read as NULL. */
int ls_predicate_eval(const ls_predicate_t *p, const ls_value_t *fields, size_t n);

void ls_predicate_free(ls_predicate_t *p);

#endif
