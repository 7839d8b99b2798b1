#include "http/openapi.hpp"

#include <boost/json/array.hpp>

namespace bookspace::http::openapi {

namespace json = boost::json;

json::object ref(std::string_view schema) {
  return {{"$ref", "#/components/schemas/" + std::string(schema)}};
}

json::object json_response(std::string_view description, json::value schema) {
  return {{"description", description}, {"content", {{"application/json", {{"schema", std::move(schema)}}}}}};
}

json::object empty_response(std::string_view description) {
  return {{"description", description}};
}

json::object operation(std::string_view summary, json::object responses, json::value request) {
  json::object op{{"summary", summary}, {"responses", std::move(responses)}};
  if (!request.is_null()) {
    op["requestBody"] = {{"required", true},
                         {"content", {{"application/json", {{"schema", std::move(request)}}}}}};
  }
  return op;
}

json::object object(json::object properties, std::initializer_list<std::string_view> required) {
  json::array names;
  for (auto r : required) names.emplace_back(r);
  json::object schema{
      {"type", "object"}, {"properties", std::move(properties)}, {"additionalProperties", false}};
  if (!names.empty()) schema["required"] = std::move(names);
  return schema;
}

json::object list_of(json::value item) {
  return object(
      {{"items", {{"type", "array"}, {"items", std::move(item)}}}, {"next_cursor", nullable_string()}},
      {"items", "next_cursor"});
}

json::object string() {
  return {{"type", "string"}};
}
json::object nullable_string() {
  return {{"type", "string"}, {"nullable", true}};
}
json::object date_time() {
  return {{"type", "string"}, {"format", "date-time"}};
}
json::object nullable_date_time() {
  return {{"type", "string"}, {"format", "date-time"}, {"nullable", true}};
}
json::object integer() {
  return {{"type", "integer"}};
}
json::object boolean() {
  return {{"type", "boolean"}};
}
json::object enumeration(std::initializer_list<std::string_view> values) {
  json::array v;
  for (auto s : values) v.emplace_back(s);
  return {{"type", "string"}, {"enum", std::move(v)}};
}

json::object param(std::string_view name, std::string_view in, json::object schema,
                   std::string_view description) {
  json::object p{{"name", name}, {"in", in}, {"description", description}, {"schema", std::move(schema)}};
  if (in == "path") p["required"] = true;
  return p;
}

json::object required(json::object p) {
  p["required"] = true;
  return p;
}

json::object with_params(json::object operation, std::initializer_list<json::object> params) {
  json::array list;
  for (auto const& p : params) list.push_back(p);
  operation["parameters"] = std::move(list);
  return operation;
}

json::object limit_param() {
  return param("limit", "query", {{"type", "integer"}, {"minimum", 1}, {"maximum", 100}}, "Page size (20).");
}

json::object cursor_param() {
  return param("cursor", "query", string(), "next_cursor of the previous page.");
}

json::object list_operation(json::object operation, std::initializer_list<json::object> more) {
  json::array list{limit_param(), cursor_param()};
  for (auto const& p : more) list.push_back(p);
  operation["parameters"] = std::move(list);
  return operation;
}

json::object with_problems(json::object operation, std::initializer_list<std::string_view> statuses) {
  auto& responses = operation["responses"];
  if (!responses.is_object()) responses = json::object{};
  for (auto status : statuses) responses.as_object()[status] = {{"$ref", "#/components/responses/Problem"}};
  return operation;
}

json::object with_headers(json::object response, std::initializer_list<std::string_view> names) {
  auto& headers = response["headers"];
  if (!headers.is_object()) headers = json::object{};
  for (auto name : names) headers.as_object()[name] = {{"$ref", "#/components/headers/" + std::string(name)}};
  return response;
}

json::object binary_response(std::string_view description) {
  return {{"description", description},
          {"content", {{"*/*", {{"schema", {{"type", "string"}, {"format", "binary"}}}}}}}};
}

json::object with_optional_body(json::object operation, json::value schema) {
  operation["requestBody"] = {{"required", false},
                              {"content", {{"application/json", {{"schema", std::move(schema)}}}}}};
  return operation;
}

RouteOptions documented(json::object operation, RouteOptions options) {
  options.openapi = std::move(operation);
  return options;
}

}  // namespace bookspace::http::openapi
