#include "core/metrics.hpp"

#include <cmath>
#include <cstdio>

namespace bookspace::core {

void append_sample(std::string& out, std::string_view name, std::string_view labels, double value) {
  out += name;
  if (!labels.empty()) {
    out += '{';
    out += labels;
    out += '}';
  }
  char buf[64];
  if (std::isinf(value)) {
    std::snprintf(buf, sizeof buf, " %s\n", value > 0 ? "+Inf" : "-Inf");
  } else if (value == std::floor(value) && std::fabs(value) < 1e15) {
    std::snprintf(buf, sizeof buf, " %.0f\n", value);
  } else {
    std::snprintf(buf, sizeof buf, " %.6g\n", value);
  }
  out += buf;
}

void Histogram::observe(double seconds) {
  std::size_t i = 0;
  while (i < bounds.size() && seconds > bounds[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_us_.fetch_add(static_cast<std::uint64_t>(seconds * 1e6), std::memory_order_relaxed);
}

void Histogram::render(std::string& out, std::string_view name, std::string_view labels) const {
  std::string bucket_name = std::string(name) + "_bucket";
  std::uint64_t cumulative = 0;
  char le[32];
  for (std::size_t i = 0; i <= bounds.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    if (i < bounds.size()) {
      std::snprintf(le, sizeof le, "le=\"%g\"", bounds[i]);
    } else {
      std::snprintf(le, sizeof le, "le=\"+Inf\"");
    }
    std::string l = labels.empty() ? std::string(le) : std::string(labels) + "," + le;
    append_sample(out, bucket_name, l, static_cast<double>(cumulative));
  }
  append_sample(out, std::string(name) + "_sum", labels,
                static_cast<double>(sum_us_.load(std::memory_order_relaxed)) / 1e6);
  append_sample(out, std::string(name) + "_count", labels,
                static_cast<double>(count_.load(std::memory_order_relaxed)));
}

Metrics::Family& Metrics::family(std::string const& name, std::string const& help, std::string const& type) {
  auto [it, inserted] = families_.try_emplace(name);
  if (inserted) {
    it->second.help = help;
    it->second.type = type;
  }
  return it->second;
}

Counter& Metrics::counter(std::string const& name, std::string const& help, std::string const& labels) {
  std::lock_guard lock(mutex_);
  auto& slot = family(name, help, "counter").counters[labels];
  if (!slot) slot = std::make_unique<Counter>();
  return *slot;
}

Histogram& Metrics::histogram(std::string const& name, std::string const& help, std::string const& labels) {
  std::lock_guard lock(mutex_);
  auto& slot = family(name, help, "histogram").histograms[labels];
  if (!slot) slot = std::make_unique<Histogram>();
  return *slot;
}

void Metrics::collector(std::string const& name, std::string const& help, std::string const& type,
                        std::function<void(std::string&)> fn) {
  std::lock_guard lock(mutex_);
  family(name, help, type).collectors.push_back(std::move(fn));
}

std::string Metrics::render() const {
  std::string out;
  out.reserve(16 * 1024);
  std::lock_guard lock(mutex_);
  for (auto const& [name, f] : families_) {
    // One namespace for every family but the standard process_* ones (Prometheus' own names).
    const bool prefixed = !name.starts_with("bookspace_") && !name.starts_with("process_");
    const std::string shown = prefixed ? "bookspace_" + name : name;
    out.append("# HELP ").append(shown).append(" ").append(f.help);
    out.append("\n# TYPE ").append(shown).append(" ").append(f.type).append("\n");
    for (auto const& [labels, c] : f.counters) {
      append_sample(out, shown, labels, static_cast<double>(c->value()));
    }
    for (auto const& [labels, h] : f.histograms) h->render(out, shown, labels);
    for (auto const& fn : f.collectors) {
      if (!prefixed) {
        fn(out);
        continue;
      }
      // A collector writes its samples under the family's own name: each line gets the prefix.
      std::string part;
      fn(part);
      for (std::size_t at = 0; at < part.size();) {
        const auto end = part.find('\n', at);
        const auto line =
            std::string_view(part).substr(at, end == std::string::npos ? std::string::npos : end - at);
        if (!line.empty()) {
          out += "bookspace_";
          out += line;
          out += '\n';
        }
        if (end == std::string::npos) break;
        at = end + 1;
      }
    }
  }
  return out;
}

std::string Metrics::escape(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace bookspace::core
