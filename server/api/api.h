/*
 * REST resources: each api/<resource>.c translates HTTP to its service in
 * services/ and back, and registers its routes here. No business rule
 * lives in a handler.
 */
#ifndef LS_API_API_H
#define LS_API_API_H

#include "api/http.h"
#include "services/app.h"

void ls_api_health_routes(ls_app_t *app, ls_http_server_t *http);
void ls_api_topics_routes(ls_app_t *app, ls_http_server_t *http);
void ls_api_sources_routes(ls_app_t *app, ls_http_server_t *http);
void ls_api_tables_routes(ls_app_t *app, ls_http_server_t *http);
void ls_api_iceberg_rest_routes(ls_app_t *app, ls_http_server_t *http);
void ls_api_chains_routes(ls_app_t *app, ls_http_server_t *http); /* chains */

#endif
