#include "app/ops_routes.hpp"

namespace bookspace::embedded {
std::string_view docs_page();  // src/app/docs_page.html, compiled in (cmake: bookspace_embed_text)
}

namespace bookspace::app {

// Self-contained (no CDN): the page fetches /openapi.json and renders every operation with a
// form to try it. Kept small on purpose; any OpenAPI viewer can also read /openapi.json.
std::string_view docs_page_html() {
  return embedded::docs_page();
}

}  // namespace bookspace::app
