#include "http/router.hpp"

#include <algorithm>

#include <boost/url/decode_view.hpp>
#include <boost/url/pct_string_view.hpp>

#include <stdexcept>

namespace bookspace::http {

bool split_path(std::string_view path, std::vector<std::string_view>& out) {
  out.clear();
  if (path.empty() || path.front() != '/') return false;
  if (path.size() == 1) return true;
  std::size_t start = 1;
  for (;;) {
    std::size_t slash = path.find('/', start);
    out.push_back(path.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return true;
}

void Router::add(Method method, std::string const& pattern, Handler handler, RouteOptions options) {
  if (options.stream_body && options.json_body)
    throw std::invalid_argument("a stream_body route needs json_body = false: " + pattern);
  Route route{method, pattern, module_, std::move(handler), std::move(options), {}};
  std::vector<std::string_view> parts;
  if (!split_path(pattern, parts)) throw std::invalid_argument("route must start with /: " + pattern);
  for (auto part : parts) {
    if (part.empty()) throw std::invalid_argument("empty segment in route " + pattern);
    route.segments.emplace_back(part);
  }
  auto shape = [](std::vector<std::string> const& segments) {
    std::vector<std::string> out;
    out.reserve(segments.size());
    for (auto const& s : segments) out.push_back(s.starts_with('{') ? "{}" : s);
    return out;
  };
  for (auto const& r : routes_) {
    if (r.method == method && shape(r.segments) == shape(route.segments)) {
      throw std::invalid_argument("route registered twice: " + std::string(to_string(method)) + " " +
                                  pattern);
    }
  }
  routes_.push_back(std::move(route));
  auto const& added = routes_.back();
  if (by_length_.size() <= added.segments.size()) by_length_.resize(added.segments.size() + 1);
  by_length_[added.segments.size()].push_back(&added);
}

namespace {

bool is_param(std::string const& segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

bool decode_segment(std::string_view raw, std::string& out) {
  auto pct = boost::urls::make_pct_string_view(raw);
  if (!pct) return false;
  out.clear();
  for (char c : pct->decode()) out.push_back(c);
  return true;
}

bool matches(Route const& route, std::vector<std::string_view> const& parts,
             std::vector<std::pair<std::string, std::string>>* params) {
  if (route.segments.size() != parts.size()) return false;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    auto const& seg = route.segments[i];
    if (is_param(seg)) {
      if (parts[i].empty()) return false;
      continue;
    }
    if (seg != parts[i]) return false;
  }
  if (params) {
    params->clear();
    for (std::size_t i = 0; i < parts.size(); ++i) {
      auto const& seg = route.segments[i];
      if (!is_param(seg)) continue;
      std::string value;
      if (!decode_segment(parts[i], value)) return false;
      params->emplace_back(seg.substr(1, seg.size() - 2), std::move(value));
    }
  }
  return true;
}

}  // namespace

Router::Match Router::match(Method method, std::string_view path) const {
  Match m;
  std::vector<std::string_view> parts;
  if (!split_path(path, parts)) return m;
  // Of the routes that match, the one with the most literal segments wins ("/files/usage" over
  // "/files/{id}"), then the first registered.
  auto literals = [](Route const& r) {
    return std::count_if(r.segments.begin(), r.segments.end(),
                         [](auto const& seg) { return !seg.starts_with('{'); });
  };
  Route const* get_route = nullptr;
  Route const* best = nullptr;
  std::vector<Method> allowed;
  if (parts.size() >= by_length_.size()) return m;
  for (Route const* candidate : by_length_[parts.size()]) {
    auto const& route = *candidate;
    if (!matches(route, parts, nullptr)) continue;
    allowed.push_back(route.method);
    if (!m.sibling) m.sibling = &route;
    if (route.method == method && (!best || literals(route) > literals(*best))) best = &route;
    if (route.method == Method::get && (!get_route || literals(route) > literals(*get_route)))
      get_route = &route;
  }
  if (best) {
    if (!matches(*best, parts, &m.params)) return m;  // undecodable parameter
    m.outcome = Outcome::found;
    m.route = best;
    return m;
  }
  if (method == Method::head && get_route) {
    if (!matches(*get_route, parts, &m.params)) return m;
    m.outcome = Outcome::found;
    m.route = get_route;
    return m;
  }
  if (allowed.empty()) return m;
  m.outcome = Outcome::method_not_allowed;
  bool has_get = false;
  for (Method a : allowed) has_get = has_get || a == Method::get;
  if (has_get) allowed.push_back(Method::head);
  allowed.push_back(Method::options);
  // Each method once, though several routes (a literal and a template) or an explicit HEAD or
  // OPTIONS route may offer it.
  std::vector<Method> listed;
  for (Method a : allowed) {
    if (std::find(listed.begin(), listed.end(), a) != listed.end()) continue;
    listed.push_back(a);
    if (!m.allow.empty()) m.allow += ", ";
    m.allow += to_string(a);
  }
  return m;
}

}  // namespace bookspace::http
