#include "common/metrics.h"

#include <gtest/gtest.h>

namespace floatlb {
namespace {

TEST(MetricsWriter, GroupsSamplesUnderOneFamilyHeader) {
  MetricsWriter w;
  w.family("a_total", MetricType::kCounter, "Things counted.");
  w.family("b", MetricType::kGauge, "A level.");
  w.sample("a_total", {{"x", "1"}}, 3);
  w.sample("b", 0.5);
  w.sample("a_total", {{"x", "2"}}, 4);
  EXPECT_EQ(w.str(),
            "# HELP a_total Things counted.\n# TYPE a_total counter\na_total{x=\"1\"} 3\na_total{x=\"2\"} 4\n"
            "# HELP b A level.\n# TYPE b gauge\nb 0.5\n");
}

TEST(MetricsWriter, SecondDeclarationIsIgnored) {
  MetricsWriter w;
  w.family("a", MetricType::kGauge, "first");
  w.family("a", MetricType::kCounter, "second");
  w.sample("a", 1);
  EXPECT_EQ(w.str(), "# HELP a first\n# TYPE a gauge\na 1\n");
}

TEST(MetricsWriter, EscapesLabelValuesAndHelp) {
  MetricsWriter w;
  w.family("a", MetricType::kGauge, "line\\one\ntwo");
  w.sample("a", {{"name", "q\"b\\s\nn"}}, 1);
  EXPECT_EQ(w.str(), "# HELP a line\\\\one\\ntwo\n# TYPE a gauge\na{name=\"q\\\"b\\\\s\\nn\"} 1\n");
}

TEST(MetricsWriter, UndeclaredFamilyIsRenderedUntyped) {
  MetricsWriter w;
  w.sample("stray", 2);
  EXPECT_EQ(w.str(), "# TYPE stray untyped\nstray 2\n");
}

TEST(MetricsWriter, FormatsLargeIntegersAndFractions) {
  MetricsWriter w;
  w.family("a", MetricType::kCounter, "h");
  w.sample("a", 18446744073.0);
  w.sample("a", {{"k", "v"}}, 0.125);
  EXPECT_EQ(w.str(), "# HELP a h\n# TYPE a counter\na 18446744073\na{k=\"v\"} 0.125\n");
}

}  // namespace
}  // namespace floatlb
