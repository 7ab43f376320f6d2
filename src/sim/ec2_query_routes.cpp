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

void Ec2QueryFront::addRouteHandlers() {
  auto& H = handlers_;
  H["DescribeRouteTables"] = [this](const Params& p, auto*) -> Outcome<std::string> {
    static const DescribeSpec kSpec{
        "RouteTableId",
        "InvalidRouteTableID.NotFound",
        "routeTable ID",
        {"route-table-id", "vpc-id", "association.subnet-id", "association.route-table-association-id",
         "association.main", "route.gateway-id", "route.destination-cidr-block"}};
    auto fields = [](const RouteTable& r, const std::string& n) -> Vals {
      std::vector<std::string> out;
      if (n == "route-table-id") return std::vector<std::string>{r.id};
      if (n == "vpc-id") return std::vector<std::string>{r.vpc_id};
      for (const auto& a : r.associations) {
        if (n == "association.subnet-id" && !a.subnet_id.empty()) out.push_back(a.subnet_id);
        if (n == "association.route-table-association-id") out.push_back(a.id);
        if (n == "association.main") out.push_back(a.main ? "true" : "false");
      }
      for (const auto& rt : r.routes) {
        if (n == "route.gateway-id") out.push_back(rt.gateway_id);
        if (n == "route.destination-cidr-block") out.push_back(rt.dest.str());
      }
      return out;
    };
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
    FLB_ASSIGN_OR_RETURN(auto sub, required(p, "SubnetId"));
    FLB_ASSIGN_OR_RETURN(auto id, m_.associateRouteTable(rtb, sub));
    return el("associationId", id) + raw("associationState", el("state", "associated"));
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
    FLB_ASSIGN_OR_RETURN(auto gw, required(p, "GatewayId"));
    FLB_TRY(m_.createRoute(id, dest, gw));
    return query::trueXml();
  };
}

}  // namespace floatlb::sim
