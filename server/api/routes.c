/* The REST route table of the main listener: one line per resource. */
#include "api/api.h"

void ls_api_register_routes(ls_app_t *app, ls_http_server_t *http)
{
    ls_api_health_routes(app, http);
    ls_api_topics_routes(app, http);
    ls_api_sources_routes(app, http);
    ls_api_chains_routes(app, http);
    ls_api_tables_routes(app, http);
    ls_api_iceberg_rest_routes(app, http);
}
