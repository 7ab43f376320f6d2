// The routed test VPC of routes_test.cpp and routing_test.cpp: lb1 (AZ-a), lb2 (AZ-b) and the VIP
// subnet in AZ-c, loaded into a zero-latency model on a fake clock.
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "sim/model.h"
#include "sim/topology.h"

namespace floatlb::sim::testing {

inline constexpr const char* kRoutesBlock = "192.168.248.0/24";

inline LoadedTopology loadRoutesWorld(std::unique_ptr<Ec2Model>& model, const Clock& clock, ModelConfig cfg,
                                      std::vector<std::string> eips) {
  model = std::make_unique<Ec2Model>(clock, cfg);
  model->latency().setZero();
  Topology t;
  t.vpc_cidr = "192.168.0.0/16";
  t.subnets = {{"a", "192.168.218.0/24", "ap-northeast-3a"},
               {"b", "192.168.228.0/24", "ap-northeast-3b"},
               {"vip", kRoutesBlock, "ap-northeast-3c"}};
  t.instances = {{"lb1", "a", "192.168.218.60"}, {"lb2", "b", "192.168.228.108"}};
  t.eips = std::move(eips);
  auto loaded = loadTopology(*model, t);
  EXPECT_TRUE(loaded.ok()) << loaded.error().message;
  return loaded.ok() ? loaded.value() : LoadedTopology{};
}

}  // namespace floatlb::sim::testing
