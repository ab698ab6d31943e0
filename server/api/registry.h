/*
 * The schema registry's REST listener: Confluent's Schema Registry API
 * translated onto registry/registry.h. Holds no rule of its own.
 */
#ifndef LS_API_REGISTRY_H
#define LS_API_REGISTRY_H

#include "api/http.h"
#include "registry/registry.h"

/* Body types the registry listener accepts (Confluent's and plain JSON). */
extern const char *const ls_api_registry_content_types[];

/* Installs Confluent's error body on http and registers every registry
 * route over registry (borrowed; must outlive the listener). */
void ls_api_registry_routes(ls_registry_t *registry, ls_http_server_t *http);

#endif
