// Ec2Model: internet gateways, route tables, routes (gateway and network-interface targets) and their
// subnet / gateway (edge) associations, with the validation rules of the VPC user guide
// (docs/vpcsim.md, "Routes"). Forwarding is realised from routingPlan(), a pure function of the
// state that the server hands to the realiser after every call (applied only when it changed).
#include <algorithm>

#include "sim/model.h"

namespace floatlb::sim {

namespace {

ApiError badDest(const std::string& dest) {
  return apiError("InvalidParameterValue",
                  "Value (" + dest +
                      ") for parameter destinationCidrBlock is invalid. This is not a "
                      "valid CIDR block.");
}

}  // namespace

// ---- gateways and route tables ------------------------------------------------------------------
Outcome<std::string> Ec2Model::createInternetGateway(const std::string& vpc_id, const Tags& tags) {
  if (!vpcs_.count(vpc_id)) return notFound("InvalidVpcID.NotFound", "vpc ID", vpc_id);
  InternetGateway g{newId("igw"), vpc_id, tags};
  igws_[g.id] = g;
  return g.id;
}

Outcome<std::string> Ec2Model::createRouteTable(const std::string& vpc_id, const Tags& tags, bool main) {
  auto vit = vpcs_.find(vpc_id);
  if (vit == vpcs_.end()) return notFound("InvalidVpcID.NotFound", "vpc ID", vpc_id);
  RouteTable r;
  r.id = newId("rtb");
  r.vpc_id = vpc_id;
  r.tags = tags;
  for (const auto& a : vit->second.cidrs) r.routes.push_back(Route{a.cidr, "local", ""});
  if (main) r.associations.push_back(RouteTableAssociation{newId("rtbassoc"), "", "", true});
  route_tables_[r.id] = r;
  return r.id;
}

Outcome<std::string> Ec2Model::associateRouteTable(const std::string& rtb_id, const std::string& subnet_id) {
  auto rit = route_tables_.find(rtb_id);
  if (rit == route_tables_.end()) return notFound("InvalidRouteTableID.NotFound", "routeTable ID", rtb_id);
  const Subnet* s = subnet(subnet_id);
  if (!s) return notFound("InvalidSubnetID.NotFound", "subnet ID", subnet_id);
  if (s->vpc_id != rit->second.vpc_id) {
    return apiError("InvalidParameterValue",
                    "Route table " + rtb_id + " and subnet " + subnet_id + " belong to different networks");
  }
  if (isGatewayTable(rit->second)) {
    return apiError(
        "InvalidParameterValue",
        "Route table " + rtb_id + " is associated with a gateway and cannot be associated with a subnet");
  }
  for (const auto& [rid, r] : route_tables_) {
    for (const auto& a : r.associations) {
      if (a.subnet_id == subnet_id) {
        return apiError("Resource.AlreadyAssociated", "the specified association for route table " + rid +
                                                          " conflicts with an existing association");
      }
    }
  }
  RouteTableAssociation a{newId("rtbassoc"), subnet_id, "", false};
  rit->second.associations.push_back(a);
  return a.id;
}

Outcome<std::string> Ec2Model::associateRouteTableWithGateway(const std::string& rtb_id,
                                                              const std::string& gateway_id) {
  auto rit = route_tables_.find(rtb_id);
  if (rit == route_tables_.end()) return notFound("InvalidRouteTableID.NotFound", "routeTable ID", rtb_id);
  RouteTable& rt = rit->second;
  auto g = igws_.find(gateway_id);
  if (g == igws_.end()) return notFound("InvalidGatewayID.NotFound", "gateway ID", gateway_id);
  if (g->second.vpc_id != rt.vpc_id) {
    return apiError("InvalidParameterValue", "route table " + rtb_id + " and network gateway " + gateway_id +
                                                 " belong to different networks");
  }
  for (const auto& [rid, r] : route_tables_) {
    for (const auto& a : r.associations) {
      if (a.gateway_id == gateway_id) {
        return apiError("Resource.AlreadyAssociated", "the specified association for route table " + rid +
                                                          " conflicts with an existing association");
      }
    }
  }
  FLB_TRY(gatewayTableEligible(rt));
  RouteTableAssociation a{newId("rtbassoc"), "", gateway_id, false};
  rt.associations.push_back(a);
  return a.id;
}

ApiStatus Ec2Model::disassociateRouteTable(const std::string& association_id) {
  for (auto& [rid, r] : route_tables_) {
    for (auto it = r.associations.begin(); it != r.associations.end(); ++it) {
      if (it->id != association_id) continue;
      if (it->main) {
        return apiError("InvalidParameterValue",
                        "cannot disassociate the main route table association " + association_id);
      }
      r.associations.erase(it);
      return {};
    }
  }
  return notFound("InvalidAssociationID.NotFound", "association ID", association_id);
}

Outcome<std::string> Ec2Model::replaceRouteTableAssociation(const std::string& association_id,
                                                            const std::string& rtb_id) {
  auto target = route_tables_.find(rtb_id);
  if (target == route_tables_.end()) return notFound("InvalidRouteTableID.NotFound", "routeTable ID", rtb_id);
  for (auto& [rid, r] : route_tables_) {
    auto it = std::find_if(r.associations.begin(), r.associations.end(),
                           [&](const RouteTableAssociation& a) { return a.id == association_id; });
    if (it == r.associations.end()) continue;
    if (r.vpc_id != target->second.vpc_id) {
      return apiError("InvalidParameterValue", "Route table " + rtb_id + " belongs to a different network");
    }
    RouteTableAssociation moved = *it;
    if (!moved.gateway_id.empty()) {
      if (rid != rtb_id) FLB_TRY(gatewayTableEligible(target->second));
    } else if (isGatewayTable(target->second)) {
      return apiError("InvalidParameterValue", "Route table " + rtb_id + " is associated with a gateway");
    }
    r.associations.erase(it);
    moved.id = newId("rtbassoc");
    target->second.associations.push_back(moved);
    return moved.id;
  }
  return notFound("InvalidAssociationID.NotFound", "association ID", association_id);
}

ApiStatus Ec2Model::deleteRouteTable(const std::string& rtb_id) {
  auto it = route_tables_.find(rtb_id);
  if (it == route_tables_.end()) return notFound("InvalidRouteTableID.NotFound", "routeTable ID", rtb_id);
  if (!it->second.associations.empty()) {
    return apiError("DependencyViolation",
                    "The routeTable '" + rtb_id + "' has dependencies and cannot be deleted.");
  }
  route_tables_.erase(it);
  return {};
}

// ---- routes -------------------------------------------------------------------------------------
// A table can become a gateway route table only without subnet associations and with nothing but
// local and network-interface routes inside the VPC (VPC user guide, "Gateway route tables").
ApiStatus Ec2Model::gatewayTableEligible(const RouteTable& rt) const {
  for (const auto& a : rt.associations) {
    if (!a.subnet_id.empty() || a.main) {
      return apiError(
          "InvalidParameterValue",
          "Route table " + rt.id + " is associated with subnets and cannot be a gateway route table");
    }
  }
  for (const auto& r : rt.routes) {
    if (r.gateway_id == "local") continue;
    if (r.network_interface_id.empty() || !insideVpc(rt.vpc_id, r.dest)) {
      return apiError("InvalidParameterValue",
                      "Route table " + rt.id + " contains the route " + r.dest.str() +
                          " whose target or destination is not supported in a gateway route table");
    }
  }
  return {};
}

bool Ec2Model::isGatewayTable(const RouteTable& rt) const {
  return std::any_of(rt.associations.begin(), rt.associations.end(),
                     [](const RouteTableAssociation& a) { return !a.gateway_id.empty(); });
}

bool Ec2Model::insideVpc(const std::string& vpc_id, const Cidr& dest) const {
  const Vpc& v = vpcs_.at(vpc_id);
  return std::any_of(v.cidrs.begin(), v.cidrs.end(), [&](const CidrAssociation& a) {
    return a.cidr.prefixLen() <= dest.prefixLen() && a.cidr.contains(dest.network());
  });
}

bool Ec2Model::isVpcCidr(const std::string& vpc_id, const Cidr& dest) const {
  const Vpc& v = vpcs_.at(vpc_id);
  return std::any_of(v.cidrs.begin(), v.cidrs.end(),
                     [&](const CidrAssociation& a) { return a.cidr == dest; });
}

bool Ec2Model::isSubnetCidr(const std::string& vpc_id, const Cidr& dest) const {
  return std::any_of(subnets_.begin(), subnets_.end(),
                     [&](const auto& kv) { return kv.second.vpc_id == vpc_id && kv.second.cidr == dest; });
}

ApiStatus Ec2Model::validateTarget(const RouteTable& rt, const RouteTarget& t) const {
  int n = (t.gateway_id.empty() ? 0 : 1) + (t.network_interface_id.empty() ? 0 : 1);
  if (n == 0) {
    return apiError("MissingParameter",
                    "The request must contain exactly one of gatewayId, natGatewayId, networkInterfaceId, "
                    "vpcPeeringConnectionId or instanceId");
  }
  if (n > 1) {
    return apiError("InvalidParameterCombination",
                    "The request must contain exactly one of gatewayId or networkInterfaceId");
  }
  if (!t.network_interface_id.empty()) {
    const Eni* e = eni(t.network_interface_id);
    if (!e)
      return notFound("InvalidNetworkInterfaceID.NotFound", "networkInterface ID", t.network_interface_id);
    if (e->vpc_id != rt.vpc_id) {
      return apiError("InvalidParameterValue", "route table " + rt.id + " and interface " +
                                                   t.network_interface_id + " belong to different networks");
    }
    return {};
  }
  if (t.gateway_id == "local") return {};
  auto g = igws_.find(t.gateway_id);
  if (g == igws_.end()) return notFound("InvalidGatewayID.NotFound", "gateway ID", t.gateway_id);
  if (g->second.vpc_id != rt.vpc_id) {
    return apiError("InvalidParameterValue", "route table " + rt.id + " and network gateway " + t.gateway_id +
                                                 " belong to different networks");
  }
  return {};
}

// The destination/target rules of the VPC user guide: a destination inside the VPC ("equal to or
// more specific than" a VPC CIDR) must be an entire subnet CIDR (or the VPC CIDR itself, replacing
// the local route) and target a network interface; a gateway route table holds only local and
// network-interface routes inside the VPC.
ApiStatus Ec2Model::validateRoute(const RouteTable& rt, const Cidr& dest, const RouteTarget& t) const {
  FLB_TRY(validateTarget(rt, t));
  const bool gateway_table = isGatewayTable(rt);
  if (t.gateway_id == "local") {
    if (!isVpcCidr(rt.vpc_id, dest)) {
      return apiError("InvalidParameterValue",
                      "The local target can only be used for the VPC CIDR " + dest.str());
    }
    return {};
  }
  if (gateway_table && t.network_interface_id.empty()) {
    return apiError("InvalidParameterValue", "Route table " + rt.id +
                                                 " is a gateway route table: only local or network interface "
                                                 "targets are supported");
  }
  if (!insideVpc(rt.vpc_id, dest)) {
    if (gateway_table) {
      return apiError("InvalidParameterValue", "The destination " + dest.str() +
                                                   " is outside the VPC: a gateway route table only routes "
                                                   "the VPC CIDR or a subnet CIDR");
    }
    return {};
  }
  if (t.network_interface_id.empty()) {
    return apiError("InvalidParameterValue", "The destination CIDR block " + dest.str() +
                                                 " is equal to or more specific than one of this VPC's CIDR "
                                                 "blocks. This route can target only an interface or an "
                                                 "instance.");
  }
  if (!isVpcCidr(rt.vpc_id, dest) && !isSubnetCidr(rt.vpc_id, dest)) {
    return apiError("InvalidParameterValue", "The destination CIDR block " + dest.str() +
                                                 " does not match the CIDR block of any subnet in the VPC");
  }
  return {};
}

Outcome<Ec2Model::RouteRef> Ec2Model::findRoute(const std::string& rtb_id, const std::string& dest_text) {
  auto it = route_tables_.find(rtb_id);
  if (it == route_tables_.end()) return notFound("InvalidRouteTableID.NotFound", "routeTable ID", rtb_id);
  auto c = Cidr::parse(dest_text, true);
  if (!c.ok()) return badDest(dest_text);
  Cidr dest(c.value().network(), c.value().prefixLen());  // canonicalised, as AWS does
  auto pos = std::find_if(it->second.routes.begin(), it->second.routes.end(),
                          [&](const Route& r) { return r.dest == dest; });
  return RouteRef{&it->second, dest, pos == it->second.routes.end() ? nullptr : &*pos};
}

ApiStatus Ec2Model::createRoute(const std::string& rtb_id, const std::string& dest,
                                const std::string& gateway_id) {
  return createRoute(rtb_id, dest, RouteTarget{gateway_id, ""});
}

ApiStatus Ec2Model::createRoute(const std::string& rtb_id, const std::string& dest_text,
                                const RouteTarget& t) {
  FLB_ASSIGN_OR_RETURN(RouteRef ref, findRoute(rtb_id, dest_text));
  if (t.gateway_id == "local") return apiError("InvalidParameterValue", "CreateRoute cannot target local");
  FLB_TRY(validateRoute(*ref.table, ref.dest, t));
  if (ref.route) {
    return apiError("RouteAlreadyExists", "The route identified by " + ref.dest.str() + " already exists.");
  }
  ref.table->routes.push_back(Route{ref.dest, t.gateway_id, t.network_interface_id});
  return {};
}

ApiStatus Ec2Model::replaceRoute(const std::string& rtb_id, const std::string& dest_text,
                                 const RouteTarget& t) {
  FLB_ASSIGN_OR_RETURN(RouteRef ref, findRoute(rtb_id, dest_text));
  if (!ref.route) {
    return apiError("InvalidRoute.NotFound", "There is no route defined for '" + ref.dest.str() +
                                                 "' in the route table. Use CreateRoute instead.");
  }
  FLB_TRY(validateRoute(*ref.table, ref.dest, t));
  ref.route->gateway_id = t.gateway_id;
  ref.route->network_interface_id = t.network_interface_id;
  return {};
}

ApiStatus Ec2Model::deleteRoute(const std::string& rtb_id, const std::string& dest_text) {
  FLB_ASSIGN_OR_RETURN(RouteRef ref, findRoute(rtb_id, dest_text));
  if (!ref.route) {
    return apiError("InvalidRoute.NotFound",
                    "no route with destination-cidr-block " + ref.dest.str() + " in route table " + rtb_id);
  }
  if (isVpcCidr(ref.table->vpc_id, ref.dest)) {
    return apiError("InvalidParameterValue",
                    "cannot remove local route " + ref.dest.str() + " in route table " + rtb_id);
  }
  std::erase_if(ref.table->routes, [&](const Route& r) { return r.dest == ref.dest; });
  return {};
}

// ---- route state and the routing plan -----------------------------------------------------------
std::string Ec2Model::routeState(const Route& r) const {
  if (r.network_interface_id.empty()) return "active";
  const Eni* e = eni(r.network_interface_id);
  if (!e || !e->attachment || e->attachment->status != "attached") return "blackhole";
  const Instance* i = instance(e->attachment->instance_id);
  return i && i->running ? "active" : "blackhole";
}

const RouteTable* Ec2Model::routeTableOfSubnet(const std::string& subnet_id) const {
  const RouteTable* main = nullptr;
  const Subnet* s = subnet(subnet_id);
  for (const auto& [id, r] : route_tables_) {
    for (const auto& a : r.associations) {
      if (a.subnet_id == subnet_id) return &r;
      if (a.main && s && r.vpc_id == s->vpc_id) main = &r;
    }
  }
  return main;
}

const RouteTable* Ec2Model::gatewayRouteTable(const std::string& gateway_id) const {
  for (const auto& [id, r] : route_tables_) {
    for (const auto& a : r.associations) {
      if (a.gateway_id == gateway_id) return &r;
    }
  }
  return nullptr;
}

PlannedRoute Ec2Model::planRoute(const Route& r) const {
  PlannedRoute p;
  p.dest = r.dest;
  if (r.gateway_id == "local") {
    p.kind = PlannedRoute::Kind::kLocal;
  } else if (!r.network_interface_id.empty()) {
    p.kind = PlannedRoute::Kind::kBlackhole;
    if (routeState(r) == "active") {
      const Eni* e = eni(r.network_interface_id);
      p.kind = PlannedRoute::Kind::kEni;
      p.via = e->ips.front();
      p.via_subnet_seq = subnets_.at(e->subnet_id).seq;
      p.eni_seq = e->seq;
    }
  } else {
    p.kind = PlannedRoute::Kind::kInternet;
  }
  return p;
}

RoutingPlan Ec2Model::routingPlan() const {
  RoutingPlan plan;
  for (const auto& [sid, s] : subnets_) {
    const RouteTable* rt = routeTableOfSubnet(sid);
    auto& routes = plan.subnet_routes[s.seq];
    if (!rt) continue;
    for (const auto& r : rt->routes) routes.push_back(planRoute(r));
  }
  for (const auto& [gid, g] : igws_) {
    if (const RouteTable* rt = gatewayRouteTable(gid)) {
      for (const auto& r : rt->routes) plan.gateway_routes.push_back(planRoute(r));
    }
  }
  for (const auto& [id, e] : enis_) {
    if (!e.attachment || e.attachment->status != "attached") continue;
    RoutingPlan::EniCheck c{e.seq, e.source_dest_check, e.ips};
    plan.enis.push_back(c);
  }
  return plan;
}

}  // namespace floatlb::sim
