/*
 * Avro Parsing Canonical Form and the CRC-64-AVRO (Rabin) fingerprint. The
 * registry uses them for schema identity: two schemas that differ only in
 * docs, aliases, defaults, attribute order, namespaces spelled differently or
 * whitespace have the same canonical form. Pure functions on the schema model
 * (avro/schema.h); no I/O, no global mutable state, any thread.
 */
#ifndef LS_REGISTRY_CANONICAL_H
#define LS_REGISTRY_CANONICAL_H

#include <stddef.h>
#include <stdint.h>

#include "avro/schema.h"
#include "core/error.h"

/* The Parsing Canonical Form of the schema rooted at node (spec
 * transformations PRIMITIVES, FULLNAMES, STRIP, ORDER, STRINGS, INTEGERS,
 * WHITESPACE). Returns a NUL-terminated heap string the caller frees. A named
 * type is written in full at its first occurrence and by fullname after, so
 * recursive schemas terminate. */
char *ls_registry_canonical_form(const ls_avro_node_t *node);

/* CRC-64-AVRO of len bytes (the spec's 64-bit Rabin fingerprint). */
uint64_t ls_registry_fingerprint64(const void *data, size_t len);

/* Convenience for the registry: parses schema text (defaults validated),
 * returns its canonical form in *canonical (caller frees; may be NULL if not
 * wanted) and its fingerprint in *fingerprint (may be NULL). On an invalid
 * schema returns LS_ERR_INVALID_ARGUMENT with the parser's message. */
ls_err_t ls_registry_canonical_from_text(const char *text, size_t len, char **canonical,
                                         uint64_t *fingerprint, ls_error_t *err);

#endif
