#include "sim/routing.h"

namespace floatlb::sim {

namespace {

std::string routeSpec(const PlannedRoute& r) {
  const std::string dest = r.dest.str();
  switch (r.kind) {
    case PlannedRoute::Kind::kLocal:
    case PlannedRoute::Kind::kInternet:
      // The main table has the connected route of every subnet bridge and of igw0.
      return "throw " + dest;
    case PlannedRoute::Kind::kEni:
      return dest + " via " + r.via.str() + " dev br" + std::to_string(r.via_subnet_seq) + " onlink";
    case PlannedRoute::Kind::kBlackhole:
      return "blackhole " + dest;
  }
  return "blackhole " + dest;
}

std::map<std::string, std::string> tableOf(const std::vector<PlannedRoute>& routes) {
  std::map<std::string, std::string> t;
  for (const auto& r : routes) t[r.dest.str()] = routeSpec(r);
  return t;
}

}  // namespace

KernelRouting kernelRouting(const RoutingPlan& plan, const std::string& igw_dev) {
  KernelRouting k;
  for (const auto& [seq, routes] : plan.subnet_routes) {
    if (routes.empty()) continue;  // no table at all: the main table routes it
    const int table = kSubnetTableBase + seq;
    auto t = tableOf(routes);
    if (!t.count("0.0.0.0/0")) t["0.0.0.0/0"] = "blackhole 0.0.0.0/0";
    k.tables[table] = std::move(t);
    k.rules[table] = "iif br" + std::to_string(seq) + " lookup " + std::to_string(table);
  }
  if (!plan.gateway_routes.empty()) {
    // No default: what the gateway table does not match is routed by the VPC's local route.
    k.tables[kGatewayTable] = tableOf(plan.gateway_routes);
    k.rules[kGatewayTable] = "iif " + igw_dev + " lookup " + std::to_string(kGatewayTable);
  }
  return k;
}

std::vector<std::string> routingBatch(const KernelRouting& from, const KernelRouting& to) {
  std::vector<std::string> out;
  for (const auto& [pref, rule] : from.rules) {
    auto it = to.rules.find(pref);
    if (it == to.rules.end() || it->second != rule) out.push_back("rule del pref " + std::to_string(pref));
  }
  for (const auto& [table, routes] : to.tables) {
    const auto old = from.tables.find(table);
    const std::string t = std::to_string(table);
    for (const auto& [dest, spec] : routes) {
      if (old != from.tables.end()) {
        auto o = old->second.find(dest);
        if (o != old->second.end() && o->second == spec) continue;
      }
      out.push_back("route replace table " + t + " " + spec);
    }
  }
  for (const auto& [table, routes] : from.tables) {
    const auto now = to.tables.find(table);
    for (const auto& [dest, spec] : routes) {
      if (now == to.tables.end() || !now->second.count(dest)) {
        out.push_back("route del table " + std::to_string(table) + " " + spec);
      }
    }
  }
  for (const auto& [pref, rule] : to.rules) {
    auto it = from.rules.find(pref);
    if (it == from.rules.end() || it->second != rule) {
      out.push_back("rule add " + rule + " pref " + std::to_string(pref));
    }
  }
  return out;
}

std::string sourceDestCheckRules(const RoutingPlan& plan) {
  std::string pre, post;
  for (const auto& c : plan.enis) {
    if (!c.source_dest_check || c.ips.empty()) continue;
    std::string owned;
    for (Ip4 ip : c.ips) owned += (owned.empty() ? "" : ", ") + ip.str();
    const std::string port = "\"ve" + std::to_string(c.eni_seq) + "\"";
    pre += "    iifname " + port + " ip saddr != { " + owned + " } counter drop\n";
    post += "    oifname " + port + " ip daddr != { " + owned + " } counter drop\n";
  }
  return "table bridge vpcsim_sdc {}\ndelete table bridge vpcsim_sdc\ntable bridge vpcsim_sdc {\n"
         "  chain sent { type filter hook prerouting priority filter; policy accept;\n" +
         pre +
         "  }\n"
         "  chain received { type filter hook postrouting priority filter; policy accept;\n" +
         post + "  }\n}\n";
}

void RoutePropagation::offer(const RoutingPlan& plan, TimePoint now) {
  if (offered_ && *offered_ == plan) return;
  offered_ = plan;
  queue_.emplace_back(now + delay_, plan);
}

std::optional<RoutingPlan> RoutePropagation::take(TimePoint now) {
  std::optional<RoutingPlan> due;
  while (!queue_.empty() && queue_.front().first <= now) {
    due = std::move(queue_.front().second);
    queue_.pop_front();
  }
  return due;
}

}  // namespace floatlb::sim
