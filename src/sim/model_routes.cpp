// Ec2Model: internet gateways, route tables, routes and their associations (model.h).
#include "sim/model.h"

namespace floatlb::sim {

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
  for (const auto& a : vit->second.cidrs) r.routes.push_back(Route{a.cidr, "local"});
  if (main) r.associations.push_back(RouteTableAssociation{newId("rtbassoc"), "", true});
  route_tables_[r.id] = r;
  return r.id;
}

Outcome<std::string> Ec2Model::associateRouteTable(const std::string& rtb_id, const std::string& subnet_id) {
  auto rit = route_tables_.find(rtb_id);
  if (rit == route_tables_.end()) return notFound("InvalidRouteTableID.NotFound", "routeTable ID", rtb_id);
  if (!subnets_.count(subnet_id)) return notFound("InvalidSubnetID.NotFound", "subnet ID", subnet_id);
  for (const auto& [rid, r] : route_tables_) {
    for (const auto& a : r.associations) {
      if (a.subnet_id == subnet_id) {
        return apiError("Resource.AlreadyAssociated", "the specified association for route table " + rid +
                                                          " conflicts with an existing association");
      }
    }
  }
  RouteTableAssociation a{newId("rtbassoc"), subnet_id, false};
  rit->second.associations.push_back(a);
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

ApiStatus Ec2Model::createRoute(const std::string& rtb_id, const std::string& dest,
                                const std::string& gateway_id) {
  auto it = route_tables_.find(rtb_id);
  if (it == route_tables_.end()) return notFound("InvalidRouteTableID.NotFound", "routeTable ID", rtb_id);
  auto c = Cidr::parse(dest);
  if (!c.ok())
    return apiError("InvalidParameterValue",
                    "Value (" + dest + ") for parameter destinationCidrBlock is invalid.");
  auto g = igws_.find(gateway_id);
  if (g == igws_.end()) return notFound("InvalidGatewayID.NotFound", "gateway ID", gateway_id);
  if (g->second.vpc_id != it->second.vpc_id) {
    return apiError("InvalidParameterValue", "route table " + rtb_id + " and network gateway " + gateway_id +
                                                 " belong to different networks");
  }
  for (const auto& r : it->second.routes) {
    if (r.dest == c.value()) {
      return apiError("RouteAlreadyExists", "The route identified by " + dest + " already exists.");
    }
  }
  it->second.routes.push_back(Route{c.value(), gateway_id});
  return {};
}

}  // namespace floatlb::sim
