#include "http/openapi_document.hpp"

#include "core/error.hpp"
#include "http/router.hpp"

#include <boost/json/array.hpp>

#include <cctype>

namespace bookspace::http {

namespace json = boost::json;

namespace {

/// "documents", "api_keys": a path segment as part of an operationId.
std::string id_part(std::string_view segment) {
  std::string out;
  for (char c : segment) {
    if (std::isalnum(static_cast<unsigned char>(c)))
      out += c;
    else if (!out.empty() && out.back() != '_')
      out += '_';
  }
  while (!out.empty() && out.back() == '_') out.pop_back();
  return out;
}

bool is_list(json::object const& operation) {
  auto const* responses = operation.if_contains("responses");
  if (!responses || !responses->is_object()) return false;
  auto const* ok = responses->as_object().if_contains("200");
  if (!ok) return false;
  auto const* schema = ok->as_object().if_contains("content");
  if (!schema) return false;
  auto const* body = schema->as_object().if_contains("application/json");
  if (!body || !body->as_object().contains("schema")) return false;
  auto const& sch = body->as_object().at("schema");
  auto const* props = sch.is_object() ? sch.as_object().if_contains("properties") : nullptr;
  return props && props->as_object().contains("items") && props->as_object().contains("next_cursor");
}

/// A stable operationId from the path and method, for client generators: the literal segments
/// after /api/v1 joined with dots, then what the method does — `documents.list`,
/// `documents.create`, `documents.get`, `documents.versions.get`, `trash.restore` (a POST to a
/// path without a GET is an action named by its last segment), `auth.api_keys.delete`.
std::string operation_id(Route const& route, json::object const& operation, http::Router const& router) {
  std::vector<std::string> parts;
  std::size_t first = 0;
  if (route.segments.size() >= 2 && route.segments[0] == "api" && route.segments[1] == "v1") first = 2;
  for (std::size_t i = first; i < route.segments.size(); ++i) {
    auto const& seg = route.segments[i];
    if (!seg.empty() && seg.front() == '{') continue;
    if (auto part = id_part(seg); !part.empty()) parts.push_back(std::move(part));
  }
  const bool item =
      !route.segments.empty() && !route.segments.back().empty() && route.segments.back().front() == '{';
  std::string verb;
  switch (route.method) {
    case Method::get:
      verb = !item && is_list(operation) ? "list" : "get";
      break;
    case Method::post: {
      bool collection = false;
      for (auto const& other : router.routes()) {
        collection = collection || (other.pattern == route.pattern && other.method == Method::get);
      }
      verb = collection ? "create" : "";
      break;
    }
    case Method::put:
      verb = "put";
      break;
    case Method::patch:
      verb = "update";
      break;
    case Method::del:
      verb = "delete";
      break;
    default:
      verb = std::string(to_string(route.method));
  }
  std::string id;
  for (auto const& part : parts) id += (id.empty() ? "" : ".") + part;
  if (!verb.empty()) id += (id.empty() ? "" : ".") + verb;
  return id;
}

/// The problem+json answers a route can give, from what it declares: every route can get a
/// 400 (an undecodable query string at least), 401 where credentials count, 404 for a path
/// with ids, 413/415 for a JSON body, 409/422 with Idempotency-Key, 429 with a rate limit.
void add_problem_responses(Route const& route, json::object& responses) {
  auto add = [&responses](char const* status) {
    if (!responses.contains(status)) responses[status] = {{"$ref", "#/components/responses/Problem"}};
  };
  add("400");
  if (route.options.auth != Auth::none) add("401");
  bool has_id = false;
  for (auto const& seg : route.segments) has_id = has_id || (!seg.empty() && seg.front() == '{');
  if (has_id) add("404");
  const bool body =
      route.method == Method::post || route.method == Method::put || route.method == Method::patch;
  if (body) add("413");
  if (body && route.options.json_body) add("415");
  if (route.options.idempotent) {
    add("409");
    add("422");
  }
  if (route.options.rate_limit) add("429");
}

json::object header_components() {
  auto h = [](std::string_view description, std::string_view type = "string") {
    return json::object{{"description", description}, {"schema", {{"type", type}}}};
  };
  return {
      {"X-Request-Id",
       h("The request's id (the client's own, when sane): quote it when reporting a problem.")},
      {"Retry-After", h("Seconds to wait before trying again.", "integer")},
      {"WWW-Authenticate", h("`Bearer` (RFC 6750): the credential is missing or not valid.")},
      {"RateLimit-Limit", h("Requests the policy allows per window.", "integer")},
      {"RateLimit-Remaining", h("Requests left in this window.", "integer")},
      {"RateLimit-Reset", h("Seconds until the window resets.", "integer")},
      {"ETag", h("The representation's version (a document's `\"<version>\"`, a file's `\"<sha256>\"`).")},
      {"Location", h("Where the resource just made lives.")},
      {"Idempotent-Replayed", h("`true`: the first response to this Idempotency-Key, replayed.")},
      {"Content-Range", h("`bytes a-b/size` (206), `bytes */size` (416).")},
      {"Content-Disposition", h("`attachment; filename=\"…\"; filename*=UTF-8''…`.")},
      {"Accept-Ranges", h("`bytes`.")},
      {"X-Content-Type-Options", h("`nosniff`.")},
      {"Cache-Control", h("How long a cache may keep the answer.")},
      {"BookSpace-File-Id", h("The File a completed resumable upload became.")},
      {"Tus-Resumable", h("The tus version spoken: `1.0.0`.")},
      {"Tus-Version", h("The tus versions supported.")},
      {"Tus-Extension", h("The tus extensions supported.")},
      {"Tus-Max-Size", h("The largest upload accepted, in bytes.", "integer")},
      {"Upload-Offset", h("Bytes of the upload received and stored.", "integer")},
      {"Upload-Length", h("The upload's size in bytes.", "integer")},
      {"Upload-Metadata", h("The upload's metadata as sent.")},
      {"Upload-Expires", h("When an unfinished upload is removed (HTTP date).")},
  };
}

json::object header_refs(std::initializer_list<std::string_view> names) {
  json::object out;
  for (auto n : names) out[n] = {{"$ref", "#/components/headers/" + std::string(n)}};
  return out;
}

json::object problem_response(std::string_view description, std::initializer_list<std::string_view> headers) {
  return {
      {"description", description},
      {"headers", header_refs(headers)},
      {"content", {{"application/problem+json", {{"schema", {{"$ref", "#/components/schemas/Problem"}}}}}}}};
}

/// Every response says which request it answers (X-Request-Id); a problem that asks the client to
/// come back says when (Retry-After), a 401 how to authenticate; an idempotent route's success may
/// be a replay. Shared problem responses go to components.responses.
void document_headers(Route const& route, json::object& responses) {
  responses.emplace("503", json::object{{"$ref", "#/components/responses/ProblemRetry"}});
  for (auto& [status, response] : responses) {
    auto& r = response.as_object();
    if (auto const* ref = r.if_contains("$ref")) {
      if (*ref != "#/components/responses/Problem") continue;
      if (status == "401") r["$ref"] = "#/components/responses/Unauthorized";
      if (status == "429") r["$ref"] = "#/components/responses/TooManyRequests";
      if (status == "503" || status == "507") r["$ref"] = "#/components/responses/ProblemRetry";
      continue;
    }
    auto& headers = r["headers"];
    if (!headers.is_object()) headers = json::object{};
    headers.as_object()["X-Request-Id"] = {{"$ref", "#/components/headers/X-Request-Id"}};
    if (route.options.idempotent && status.starts_with("2"))
      headers.as_object()["Idempotent-Replayed"] = {{"$ref", "#/components/headers/Idempotent-Replayed"}};
  }
}

json::array error_codes() {
  json::array codes;
  for (int i = 0; i <= static_cast<int>(core::ErrorCode::internal); ++i)
    codes.emplace_back(core::to_string(static_cast<core::ErrorCode>(i)));
  return codes;
}

/// The kernel's own schemas: Problem (its `code` an enum of every error code), Health, Readiness.
json::object kernel_schemas() {
  json::object schemas{
      {"Problem",
       {{"type", "object"},
        {"required", json::array{"type", "title", "status", "code", "request_id"}},
        {"properties",
         {{"type", {{"type", "string"}}},
          {"title", {{"type", "string"}}},
          {"status", {{"type", "integer"}}},
          {"detail", {{"type", "string"}}},
          {"code", {{"type", "string"}, {"enum", error_codes()}}},
          {"request_id", {{"type", "string"}}},
          {"errors",
           {{"type", "array"},
            {"items",
             {{"type", "object"},
              {"properties", {{"field", {{"type", "string"}}}, {"message", {{"type", "string"}}}}}}}}}}}}},
      {"Health", {{"type", "object"}, {"properties", {{"status", {{"type", "string"}, {"enum", {"ok"}}}}}}}},
      {"Readiness",
       {{"type", "object"},
        {"properties",
         {{"status", {{"type", "string"}, {"enum", {"ready", "not_ready"}}}},
          {"checks",
           {{"type", "object"},
            {"properties",
             {{"database", {{"type", "string"}}},
              {"migrations", {{"type", "string"}}},
              {"draining", {{"type", "boolean"}}}}}}}}}}}};
  return schemas;
}

/// The operation's path parameters (those the template names and the route did not document),
/// Idempotency-Key on idempotent routes, and its security: bearer, none, or either.
void add_parameters_and_security(Route const& route, json::object& operation) {
  json::array parameters =
      operation.contains("parameters") ? operation["parameters"].as_array() : json::array{};
  for (auto const& seg : route.segments) {
    if (seg.size() < 3 || seg.front() != '{') continue;
    std::string name = seg.substr(1, seg.size() - 2);
    bool listed = false;
    for (auto const& prm : parameters) {
      listed = listed || (prm.as_object().at("name") == name.c_str() && prm.as_object().at("in") == "path");
    }
    if (!listed) {
      parameters.push_back(
          {{"name", name}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}});
    }
  }
  if (route.options.idempotent) {
    parameters.push_back(
        {{"name", "Idempotency-Key"},
         {"in", "header"},
         {"required", false},
         {"description",
          "Same key and body within 24 h: the first response is replayed (Idempotent-Replayed: "
          "true); another body: 422; while the first runs: 409."},
         {"schema", {{"type", "string"}, {"maxLength", 255}}}});
  }
  if (!parameters.empty()) operation["parameters"] = std::move(parameters);
  if (route.options.auth == Auth::required) {
    operation["security"] = json::array{json::object{{"bearer", json::array{}}}};
  } else if (route.options.auth == Auth::none) {
    operation["security"] = json::array{};
  } else if (route.options.auth == Auth::optional) {
    // Anonymous (a signed link, say) or with a bearer credential.
    operation["security"] = json::array{json::object{}, json::object{{"bearer", json::array{}}}};
  }
}

}  // namespace

json::object build_openapi(Router const& router, json::object const& module_schemas) {
  json::object schemas = kernel_schemas();
  for (auto const& [k, v] : module_schemas) schemas[k] = v;

  json::object paths;
  for (auto const& route : router.routes()) {
    if (route.options.auth == Auth::service) continue;  // between processes, not for clients
    json::object operation =
        route.options.openapi.is_object() ? route.options.openapi.as_object() : json::object{};
    if (!operation.contains("tags")) operation["tags"] = json::array{route.module};
    if (!operation.contains("responses")) operation["responses"] = json::object{};
    if (!operation.contains("operationId")) operation["operationId"] = operation_id(route, operation, router);
    auto& responses = operation["responses"].as_object();
    add_problem_responses(route, responses);
    if (!responses.contains("default"))
      responses["default"] = problem_response("An error (problem+json).", {});
    document_headers(route, responses);
    add_parameters_and_security(route, operation);
    std::string method(to_string(route.method));
    for (auto& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto& path_item = paths[route.pattern];
    if (!path_item.is_object()) path_item = json::object{};
    path_item.as_object()[method] = std::move(operation);
  }

  return {
      {"openapi", "3.0.3"},
      {"info",
       {{"title", "BookSpace API"},
        {"version", BOOKSPACE_VERSION},
        {"description", "Self-hosted document management. Errors are application/problem+json."},
        {"license", {{"name", "MIT"}, {"url", "https://opensource.org/licenses/MIT"}}}}},
      {"servers", json::array{json::object{{"url", "/"}}}},
      {"paths", std::move(paths)},
      {"components",
       {{"schemas", std::move(schemas)},
        {"headers", header_components()},
        {"responses",
         {{"Problem",
           problem_response("An error (RFC 9457 problem+json; `code` says which).", {"X-Request-Id"})},
          {"Unauthorized", problem_response("No valid credential (`unauthorized`, `invalid_credentials`).",
                                            {"X-Request-Id", "WWW-Authenticate"})},
          {"TooManyRequests",
           problem_response(
               "Rate limited (`rate_limited`): Retry-After says when to try again.",
               {"X-Request-Id", "Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"})},
          {"ProblemRetry",
           problem_response(
               "Not now: overloaded or the database unreachable (503), the disk full (507; a quota "
               "exceeded has no Retry-After). Retry-After says when to try again.",
               {"X-Request-Id", "Retry-After"})}}},
        {"securitySchemes", {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}}}}}},
      {"security", json::array{json::object{{"bearer", json::array{}}}}}};
}

}  // namespace bookspace::http
