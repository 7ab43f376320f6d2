#include "sim/topology.h"

#include <nlohmann/json.hpp>

namespace floatlb::sim {

Result<Topology> parseTopology(const std::string& text) {
  try {
    auto j = nlohmann::json::parse(text);
    Topology t;
    t.region = j.value("region", t.region);
    t.azs = j.value("azs", std::vector<std::string>{t.region + "a", t.region + "b", t.region + "c"});
    t.vpc_name = j.at("vpc").value("name", t.vpc_name);
    t.vpc_cidr = j.at("vpc").at("cidr").get<std::string>();
    for (const auto& s : j.at("subnets")) {
      t.subnets.push_back(
          {s.at("name").get<std::string>(), s.at("cidr").get<std::string>(), s.at("az").get<std::string>()});
    }
    for (const auto& i : j.value("instances", nlohmann::json::array())) {
      t.instances.push_back({i.at("name").get<std::string>(), i.at("subnet").get<std::string>(),
                             i.value("ip", ""), i.value("public_ip", false)});
    }
    for (const auto& e : j.value("eips", nlohmann::json::array()))
      t.eips.push_back(e.at("name").get<std::string>());
    t.eip_pool = j.value("eip_pool", t.eip_pool);
    t.public_subnets = j.value("public_subnets", t.public_subnets);
    if (j.contains("internet")) {
      t.inet_link = j["internet"].value("link", t.inet_link);
      t.igw_ip = j["internet"].value("igw_ip", t.igw_ip);
      t.client_ip = j["internet"].value("client_ip", t.client_ip);
    }
    for (const auto& i : t.instances) {
      if (i.name.empty() || i.name.size() > 20 ||
          i.name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") != std::string::npos) {
        return makeError(ErrorCode::kInvalidArgument,
                         "instance name '" + i.name + "' must be [a-z0-9-]{1,20}");
      }
    }
    return t;
  } catch (const std::exception& e) {
    return makeError(ErrorCode::kInvalidArgument, std::string("topology: ") + e.what());
  }
}

static Error fromApi(const ApiError& e, const std::string& what) {
  return makeError(ErrorCode::kInvalidArgument, what + ": " + e.code + ": " + e.message);
}

Result<LoadedTopology> loadTopology(Ec2Model& model, const Topology& t) {
  LoadedTopology out;
  auto cidr = Cidr::parse(t.vpc_cidr);
  if (!cidr.ok()) return cidr.error().wrap("vpc cidr");
  auto vpc = model.createVpc(cidr.value(), {{"Name", t.vpc_name}});
  if (!vpc.ok()) return fromApi(vpc.error(), "vpc");
  out.vpc_id = vpc.value();
  auto igw = model.createInternetGateway(out.vpc_id, {{"Name", t.vpc_name + "-igw"}});
  if (!igw.ok()) return fromApi(igw.error(), "igw");
  out.igw_id = igw.value();
  for (const auto& [id, rt] : model.routeTables()) {
    for (const auto& a : rt.associations) {
      if (a.main && rt.vpc_id == out.vpc_id) out.main_route_table = id;
    }
  }
  if (t.public_subnets) {
    auto st = model.createRoute(out.main_route_table, "0.0.0.0/0", out.igw_id);
    if (!st.ok()) return fromApi(st.error(), "main route table");
  }
  for (const auto& s : t.subnets) {
    auto id = model.createSubnet(out.vpc_id, s.cidr, s.az, {{"Name", s.name}}, &out.events);
    if (!id.ok()) return fromApi(id.error(), "subnet " + s.name);
    out.subnets[s.name] = id.value();
  }
  for (const auto& i : t.instances) {
    auto sub = out.subnets.find(i.subnet);
    if (sub == out.subnets.end()) {
      return makeError(ErrorCode::kInvalidArgument, "instance " + i.name + ": unknown subnet " + i.subnet);
    }
    std::optional<Ip4> ip;
    if (!i.ip.empty()) {
      auto r = Ip4::parse(i.ip);
      if (!r.ok()) return r.error().wrap("instance " + i.name);
      ip = r.value();
    }
    auto id = model.runInstance(sub->second, ip, {}, {{"Name", i.name}}, &out.events);
    if (!id.ok()) return fromApi(id.error(), "instance " + i.name);
    out.instances[i.name] = id.value();
  }
  for (const auto& e : t.eips) {
    auto id = model.allocateAddress({{"Name", e}});
    if (!id.ok()) return fromApi(id.error(), "eip " + e);
    out.eips[e] = id.value();
  }
  for (const auto& i : t.instances) {  // after the named EIPs, which keep their pool addresses
    if (!i.public_ip) continue;
    auto id = model.allocateAddress({{"Name", i.name + "-public"}});
    if (!id.ok()) return fromApi(id.error(), "public IP of " + i.name);
    const Instance* inst = model.instance(out.instances.at(i.name));
    auto assoc = model.associateAddress(id.value(), inst->primary_eni, "", std::nullopt, false, &out.events);
    if (!assoc.ok()) return fromApi(assoc.error(), "public IP of " + i.name);
  }
  return out;
}

}  // namespace floatlb::sim
