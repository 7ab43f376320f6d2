// Ec2Model::dumpJson lives in its own TU so nlohmann/json stays out of model.cpp and every header.
#include <nlohmann/json.hpp>

#include "sim/model.h"

namespace floatlb::sim {

std::string Ec2Model::dumpJson() const {
  using nlohmann::json;
  json j;
  j["region"] = config_.region;
  j["account"] = config_.account;
  j["detach_time_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(config_.detach_time).count();
  for (const auto& [id, v] : vpcs_) {
    json cidrs = json::array();
    for (const auto& a : v.cidrs) cidrs.push_back({{"id", a.id}, {"cidr", a.cidr.str()}, {"state", a.state}});
    j["vpcs"].push_back({{"id", id}, {"cidrs", cidrs}, {"tags", v.tags}});
  }
  for (const auto& [id, s] : subnets_) {
    j["subnets"].push_back(
        {{"id", id}, {"vpc", s.vpc_id}, {"az", s.az}, {"cidr", s.cidr.str()}, {"tags", s.tags}});
  }
  for (const auto& [id, r] : route_tables_) {
    json routes = json::array(), assocs = json::array();
    for (const auto& rt : r.routes) {
      routes.push_back({{"dest", rt.dest.str()},
                        {"gateway", rt.gateway_id},
                        {"network_interface", rt.network_interface_id},
                        {"state", routeState(rt)}});
    }
    for (const auto& a : r.associations) {
      assocs.push_back({{"id", a.id}, {"subnet", a.subnet_id}, {"gateway", a.gateway_id}, {"main", a.main}});
    }
    j["route_tables"].push_back({{"id", id}, {"routes", routes}, {"associations", assocs}, {"tags", r.tags}});
  }
  for (const auto& [id, g] : igws_) j["internet_gateways"].push_back({{"id", id}, {"vpc", g.vpc_id}});
  for (const auto& [id, i] : instances_) {
    j["instances"].push_back({{"id", id},
                              {"name", i.name},
                              {"az", i.az},
                              {"subnet", i.subnet_id},
                              {"primary_eni", i.primary_eni}});
  }
  for (const auto& [id, e] : enis_) {
    json ips = json::array();
    for (auto ip : e.ips) ips.push_back(ip.str());
    json att = nullptr;
    if (e.attachment) {
      att = {{"id", e.attachment->id},
             {"instance", e.attachment->instance_id},
             {"device_index", e.attachment->device_index},
             {"status", e.attachment->status}};
    }
    j["network_interfaces"].push_back({{"id", id},
                                       {"subnet", e.subnet_id},
                                       {"az", e.az},
                                       {"mac", e.mac},
                                       {"ips", ips},
                                       {"source_dest_check", e.source_dest_check},
                                       {"attachment", att},
                                       {"tags", e.tags}});
  }
  for (const auto& [id, a] : addresses_) {
    j["addresses"].push_back({{"allocation_id", id},
                              {"public_ip", a.public_ip.str()},
                              {"association_id", a.association_id},
                              {"eni", a.eni_id},
                              {"private_ip", a.association_id.empty() ? "" : a.private_ip.str()}});
  }
  return j.dump(2);
}

}  // namespace floatlb::sim
