// MetricsWriter: the one Prometheus text-exposition writer of floatlb (format 0.0.4).
// Every family is declared once with HELP and TYPE; samples may be added in any order and are
// rendered grouped under their family, with label values escaped as the format requires.
// Services expose `appendMetrics(MetricsWriter&)`; the server that owns /metrics renders once.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace floatlb {

enum class MetricType { kCounter, kGauge };

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

class MetricsWriter {
 public:
  // Declares a family. Declaring the same name again is a no-op (the first HELP wins), so
  // several instances of one service may each declare what they write.
  void family(std::string_view name, MetricType type, std::string_view help);

  // Adds a sample to a declared family. A sample for an undeclared family is a programming error
  // and is rendered as an untyped family so that it is visible rather than lost.
  void sample(std::string_view name, const MetricLabels& labels, double value);
  void sample(std::string_view name, double value) { sample(name, {}, value); }

  // The exposition text, families in declaration order.
  [[nodiscard]] std::string str() const;

 private:
  struct Family {
    std::string name;
    std::string type;
    std::string help;
    std::vector<std::string> lines;
  };
  Family& find(std::string_view name);
  std::vector<Family> families_;
};

// Escapes a label value (backslash, double quote, newline), as the text format requires.
std::string escapeLabelValue(std::string_view value);

}  // namespace floatlb
