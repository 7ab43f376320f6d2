// Fakes for the REST API and the daemon's composition pieces: a rule store that records what it
// was given (and can be told to fail), a fixed source-address resolver, HA/cloud views and an
// endpoint-health table in memory. With dataplane::InMemoryDatapath they make a whole ApiRouter
// run in a unit test without sockets or bpf.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "api/router.h"
#include "api/views.h"
#include "common/clock.h"
#include "dataplane/in_memory_datapath.h"
#include "ha/ci_state.h"
#include "lb/rule_manager.h"

namespace floatlb::testing {

class RecordingRuleStore final : public lb::RuleStore {
 public:
  Status save(const std::vector<lb::StoredRule>& rules) override {
    ++saves;
    if (fail_next) {
      fail_next = false;
      return makeError(ErrorCode::kIo, "disk full (fake)");
    }
    last = rules;
    return okStatus();
  }
  std::vector<lb::StoredRule> last;
  int saves = 0;
  bool fail_next = false;
};

class FixedResolver final : public lb::SourceAddressResolver {
 public:
  Result<Ip4> sourceFor(Ip4) override { return Ip4::fromOctets(10, 0, 0, 1); }
};

class FakeHaView final : public api::HaView {
 public:
  std::optional<api::BfdSnapshot> bfd() const override { return bfd_snapshot; }
  std::optional<api::HaPeersSnapshot> peers() const override { return peers_snapshot; }
  Status requestState(const api::CiStateRequest& request) override {
    requests.push_back(request);
    return request_result;
  }
  void appendMetrics(MetricsWriter& out) const override {
    out.family("fake_ha_metric", MetricType::kGauge, "A metric from the fake HA view.");
    out.sample("fake_ha_metric", {{"peer", "a\"b"}}, 1);
  }
  std::optional<api::BfdSnapshot> bfd_snapshot;
  std::optional<api::HaPeersSnapshot> peers_snapshot;
  std::vector<api::CiStateRequest> requests;
  Status request_result = okStatus();
};

class FakeCloudView final : public api::CloudView {
 public:
  std::string timelineJson() const override { return timeline; }
  void appendMetrics(MetricsWriter& out) const override {
    out.family("fake_cloud_takeovers_total", MetricType::kCounter, "Takeovers (fake).");
    out.sample("fake_cloud_takeovers_total", 3);
  }
  std::string timeline = "{}";
};

class FakeEndpointHealth final : public api::EndpointHealthApi {
 public:
  std::vector<api::EndpointRow> rows() override { return table; }
  Status addManual(const lb::ProbeConfig& cfg) override {
    added.push_back(cfg);
    return okStatus();
  }
  Status removeManual(Ip4 ip, const std::string& type, uint16_t port) override {
    removed.push_back(ip.str() + "/" + type + "/" + std::to_string(port));
    return okStatus();
  }
  std::vector<api::EndpointRow> table;
  std::vector<lb::ProbeConfig> added;
  std::vector<std::string> removed;
};

// Everything an ApiRouter needs, in memory.
struct ApiWorld {
  FakeClock clock;
  dataplane::InMemoryDatapath datapath;
  FixedResolver resolver;
  RecordingRuleStore store;
  lb::RuleManager rules{datapath, resolver, &store};
  ha::CiStateTable cistate{clock};
  FakeHaView ha;
  FakeCloudView cloud;
  FakeEndpointHealth health;

  [[nodiscard]] api::ApiDeps deps(bool with_views = true) {
    api::ApiDeps d;
    d.rules = &rules;
    d.datapath = &datapath;
    d.cistate = &cistate;
    d.health = &health;
    if (with_views) {
      d.ha = &ha;
      d.cloud = &cloud;
    }
    d.build_info = "floatlb-test";
    return d;
  }
};

}  // namespace floatlb::testing
