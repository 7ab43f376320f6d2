// The Query-API front's route-table calls (see ec2_query.h).
#include "sim/ec2_query.h"
#include "sim/ec2_render.h"
#include "sim/query_decode.h"
#include "sim/xml.h"

namespace floatlb::sim {

using query::DescribeSpec;
using query::required;
using query::Vals;
using xml::el;
using xml::raw;

namespace {

// GatewayId / NetworkInterfaceId / LocalTarget=true of CreateRoute and ReplaceRoute.
RouteTarget routeTarget(const Params& p) {
  RouteTarget t{p.getOr("GatewayId", ""), p.getOr("NetworkInterfaceId", "")};
  if (p.flag("LocalTarget")) t.gateway_id = "local";
  return t;
}

Vals routeTableField(const Ec2Model& m, const RouteTable& r, const std::string& n) {
  std::vector<std::string> out;
  if (n == "route-table-id") return std::vector<std::string>{r.id};
  if (n == "vpc-id") return std::vector<std::string>{r.vpc_id};
  for (const auto& a : r.associations) {
    if (n == "association.subnet-id" && !a.subnet_id.empty()) out.push_back(a.subnet_id);
    if (n == "association.gateway-id" && !a.gateway_id.empty()) out.push_back(a.gateway_id);
    if (n == "association.route-table-association-id") out.push_back(a.id);
    if (n == "association.main") out.push_back(a.main ? "true" : "false");
  }
  for (const auto& rt : r.routes) {
    if (n == "route.gateway-id" && !rt.gateway_id.empty()) out.push_back(rt.gateway_id);
    if (n == "route.network-interface-id" && !rt.network_interface_id.empty()) {
      out.push_back(rt.network_interface_id);
    }
    if (n == "route.destination-cidr-block") out.push_back(rt.dest.str());
    if (n == "route.state") out.push_back(m.routeState(rt));
  }
  return out;
}

std::string associationState(const std::string& id) {
  return el("associationId", id) + raw("associationState", el("state", "associated"));
}

}  // namespace

void Ec2QueryFront::addRouteHandlers() {
  auto& H = handlers_;
  H["DescribeRouteTables"] = [this](const Params& p, auto*) -> Outcome<std::string> {
    static const DescribeSpec kSpec{
        "RouteTableId",
        "InvalidRouteTableID.NotFound",
        "routeTable ID",
        {"route-table-id", "vpc-id", "association.subnet-id", "association.gateway-id",
         "association.route-table-association-id", "association.main", "route.gateway-id",
         "route.network-interface-id", "route.destination-cidr-block", "route.state"}};
    auto fields = [this](const RouteTable& r, const std::string& n) { return routeTableField(m_, r, n); };
    FLB_ASSIGN_OR_RETURN(auto items,
                         query::describe(p, kSpec, m_.routeTables(), fields,
                                         [this](const RouteTable& r) { return render::routeTable(m_, r); }));
    return raw("routeTableSet", items);
  };
  H["CreateRouteTable"] = [this](const Params& p, auto*) -> Outcome<std::string> {
    FLB_ASSIGN_OR_RETURN(auto vpc_id, required(p, "VpcId"));
    FLB_ASSIGN_OR_RETURN(auto id, m_.createRouteTable(vpc_id, parseTagSpecs(p, "route-table")));
    return raw("routeTable", render::routeTable(m_, *m_.routeTable(id)));
  };
  H["AssociateRouteTable"] = [this](const Params& p, auto*) -> Outcome<std::string> {
    FLB_ASSIGN_OR_RETURN(auto rtb, required(p, "RouteTableId"));
    auto sub = p.getOr("SubnetId", "");
    auto gw = p.getOr("GatewayId", "");
    if (!sub.empty() && !gw.empty()) {
      return apiError("InvalidParameterCombination", "Specify either a subnet ID or a gateway ID, not both");
    }
    if (sub.empty() && gw.empty()) return query::missing("SubnetId");
    if (!gw.empty()) {
      FLB_ASSIGN_OR_RETURN(auto id, m_.associateRouteTableWithGateway(rtb, gw));
      return associationState(id);
    }
    FLB_ASSIGN_OR_RETURN(auto id, m_.associateRouteTable(rtb, sub));
    return associationState(id);
  };
  H["ReplaceRouteTableAssociation"] = [this](const Params& p, auto*) -> Outcome<std::string> {
    FLB_ASSIGN_OR_RETURN(auto assoc, required(p, "AssociationId"));
    FLB_ASSIGN_OR_RETURN(auto rtb, required(p, "RouteTableId"));
    FLB_ASSIGN_OR_RETURN(auto id, m_.replaceRouteTableAssociation(assoc, rtb));
    return el("newAssociationId", id) + raw("associationState", el("state", "associated"));
  };
  H["DisassociateRouteTable"] = [this](const Params& p, auto*) -> Outcome<std::string> {
    FLB_ASSIGN_OR_RETURN(auto id, required(p, "AssociationId"));
    FLB_TRY(m_.disassociateRouteTable(id));
    return query::trueXml();
  };
  H["DeleteRouteTable"] = [this](const Params& p, auto*) -> Outcome<std::string> {
    FLB_ASSIGN_OR_RETURN(auto id, required(p, "RouteTableId"));
    FLB_TRY(m_.deleteRouteTable(id));
    return query::trueXml();
  };
  H["CreateRoute"] = [this](const Params& p, auto*) -> Outcome<std::string> {
    FLB_ASSIGN_OR_RETURN(auto id, required(p, "RouteTableId"));
    FLB_ASSIGN_OR_RETURN(auto dest, required(p, "DestinationCidrBlock"));
    FLB_TRY(m_.createRoute(id, dest, routeTarget(p)));
    return query::trueXml();
  };
  H["ReplaceRoute"] = [this](const Params& p, auto*) -> Outcome<std::string> {
    FLB_ASSIGN_OR_RETURN(auto id, required(p, "RouteTableId"));
    FLB_ASSIGN_OR_RETURN(auto dest, required(p, "DestinationCidrBlock"));
    FLB_TRY(m_.replaceRoute(id, dest, routeTarget(p)));
    return query::trueXml();
  };
  H["DeleteRoute"] = [this](const Params& p, auto*) -> Outcome<std::string> {
    FLB_ASSIGN_OR_RETURN(auto id, required(p, "RouteTableId"));
    FLB_ASSIGN_OR_RETURN(auto dest, required(p, "DestinationCidrBlock"));
    FLB_TRY(m_.deleteRoute(id, dest));
    return query::trueXml();
  };
}

}  // namespace floatlb::sim
