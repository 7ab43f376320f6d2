#include "common/metrics.h"

#include <cmath>
#include <cstdio>

namespace floatlb {

namespace {

// HELP text escapes only backslash and newline.
std::string escapeHelp(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string formatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  // Integers (counters, gauges of counts) print without an exponent or a fraction.
  if (v == std::floor(v) && std::fabs(v) < 9.007199254740992e15) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%lld", static_cast<long long>(v));
    return buf;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.9g", v);
  return buf;
}

}  // namespace

std::string escapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

MetricsWriter::Family& MetricsWriter::find(std::string_view name) {
  for (auto& f : families_)
    if (f.name == name) return f;
  families_.push_back(Family{std::string(name), "untyped", "", {}});
  return families_.back();
}

void MetricsWriter::family(std::string_view name, MetricType type, std::string_view help) {
  for (const auto& f : families_)
    if (f.name == name) return;
  families_.push_back(
      Family{std::string(name), type == MetricType::kCounter ? "counter" : "gauge", escapeHelp(help), {}});
}

void MetricsWriter::sample(std::string_view name, const MetricLabels& labels, double value) {
  std::string line(name);
  if (!labels.empty()) {
    line += '{';
    bool first = true;
    for (const auto& [k, v] : labels) {
      if (!first) line += ',';
      first = false;
      line += k;
      line += "=\"";
      line += escapeLabelValue(v);
      line += '"';
    }
    line += '}';
  }
  line += ' ';
  line += formatValue(value);
  find(name).lines.push_back(std::move(line));
}

std::string MetricsWriter::str() const {
  std::string out;
  for (const auto& f : families_) {
    if (!f.help.empty()) out += "# HELP " + f.name + " " + f.help + "\n";
    out += "# TYPE " + f.name + " " + f.type + "\n";
    for (const auto& l : f.lines) {
      out += l;
      out += '\n';
    }
  }
  return out;
}

}  // namespace floatlb
