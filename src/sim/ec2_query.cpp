#include "sim/ec2_query.h"

#include <memory>

#include "sim/ec2_render.h"
#include "sim/query_decode.h"
#include "sim/xml.h"

namespace floatlb::sim {

using query::DescribeSpec;
using query::required;
using query::Vals;
using xml::el;
using xml::raw;

namespace query {

ApiStatus checkFilterNames(const std::vector<Filter>& filters, const std::set<std::string>& allowed) {
  for (const auto& f : filters) {
    if (f.name.rfind("tag:", 0) == 0 || f.name == "tag-key" || allowed.count(f.name)) continue;
    return apiError("InvalidParameterValue", "The filter '" + f.name + "' is invalid");
  }
  return {};
}

bool matchesFilters(const std::vector<Filter>& filters, const Tags& tags,
                    const std::function<Vals(const std::string&)>& fields) {
  for (const auto& f : filters) {
    std::vector<std::string> have;
    if (f.name.rfind("tag:", 0) == 0) {
      auto it = tags.find(f.name.substr(4));
      if (it != tags.end()) have.push_back(it->second);
    } else if (f.name == "tag-key") {
      for (const auto& [k, v] : tags) have.push_back(k);
    } else {
      have = fields(f.name).value_or(std::vector<std::string>{});
    }
    bool any = false;
    for (const auto& want : f.values) {
      for (const auto& h : have) any = any || globMatch(want, h);
    }
    if (!any) return false;
  }
  return true;
}

}  // namespace query

// ---- Ec2Model's built-in front (SimServer, the unit tests and sim_world.h call model.handle()) ----
Ec2Model::Ec2Model(const Clock& clock, ModelConfig config)
    : clock_(clock),
      config_(std::move(config)),
      front_(std::make_unique<Ec2QueryFront>(*this, clock, config_.seed)) {}
Ec2Model::~Ec2Model() = default;
ApiResponse Ec2Model::handle(const std::string& action, const Params& params, const std::string& request_id) {
  return front_->handle(action, params, request_id);
}
Throttler& Ec2Model::throttler() { return front_->throttler(); }
FaultInjector& Ec2Model::faults() { return front_->faults(); }
LatencyModel& Ec2Model::latency() { return front_->latency(); }

// ---- the front ----------------------------------------------------------------------------------
Ec2QueryFront::Ec2QueryFront(Ec2Model& model, const Clock& clock, uint64_t seed)
    : m_(model), throttler_(clock), faults_(seed) {
  addVpcHandlers();
  addRouteHandlers();
  addInstanceHandlers();
  addEniHandlers();
  addEniAddressHandlers();
  addAddressHandlers();
}

ApiResponse Ec2QueryFront::handle(const std::string& action, const Params& params,
                                  const std::string& request_id) {
  ApiResponse resp;
  resp.events = m_.tick();
  auto fail = [&](const ApiError& e) {
    resp.http_status = e.http_status;
    resp.error_code = e.code;
    resp.body = xml::errorDocument(e.code, e.message, request_id);
    return resp;
  };
  if (action.empty()) return fail(apiError("MissingAction", "The request must contain the parameter Action"));
  auto h = handlers_.find(action);
  if (h == handlers_.end()) {
    return fail(apiError("InvalidAction", "The action " + action + " is not valid for this web service."));
  }
  bool unfiltered = true;
  for (const auto& [k, v] : params.all()) {
    if (k != "Action" && k != "Version" && k != "DryRun") unfiltered = false;
  }
  FaultDecision fault = faults_.decide(action);
  resp.latency_ms = latency_.latencyMs(action) + fault.extra_latency_ms;
  auto admitted = throttler_.admit(action, unfiltered);
  if (!admitted.ok()) return fail(admitted.error());
  if (fault.error) return fail(*fault.error);
  // EC2 API reference, common parameter DryRun: "If you have the required permissions, the error
  // response is DryRunOperation. Otherwise, it is UnauthorizedOperation."
  if (denied_.count(action)) {
    return fail(apiError("UnauthorizedOperation", "You are not authorized to perform this operation.", 403));
  }
  if (params.flag("DryRun")) {
    return fail(apiError("DryRunOperation", "Request would have succeeded, but DryRun flag is set.", 412));
  }
  std::vector<RealiseEvent> events;
  auto out = h->second(params, &events);
  if (!out.ok()) return fail(out.error());
  resp.body = xml::successDocument(action, request_id, out.value());
  resp.events.insert(resp.events.end(), events.begin(), events.end());
  return resp;
}

// ---- VPCs and subnets ---------------------------------------------------------------------------
void Ec2QueryFront::addVpcHandlers() {
  auto& H = handlers_;
  H["DescribeVpcs"] = [this](const Params& p, auto*) -> Outcome<std::string> {
    static const DescribeSpec kSpec{
        "VpcId",
        "InvalidVpcID.NotFound",
        "vpc ID",
        {"vpc-id", "cidr", "cidr-block-association.cidr-block", "cidr-block-association.state",
         "cidr-block-association.association-id", "state", "owner-id", "is-default"}};
    auto fields = [](const Vpc& v, const std::string& n) -> Vals {
      std::vector<std::string> out;
      if (n == "vpc-id") return std::vector<std::string>{v.id};
      if (n == "cidr") return std::vector<std::string>{v.cidrs.front().cidr.str()};
      if (n == "state") return std::vector<std::string>{"available"};
      if (n == "is-default") return std::vector<std::string>{"false"};
      for (const auto& a : v.cidrs) {
        if (n == "cidr-block-association.cidr-block") out.push_back(a.cidr.str());
        if (n == "cidr-block-association.state") out.push_back(a.state);
        if (n == "cidr-block-association.association-id") out.push_back(a.id);
      }
      return out;
    };
    FLB_ASSIGN_OR_RETURN(auto items, query::describe(p, kSpec, m_.vpcs(), fields,
                                                     [this](const Vpc& v) { return render::vpc(m_, v); }));
    return raw("vpcSet", items);
  };
  H["AssociateVpcCidrBlock"] = [this](const Params& p, auto*) -> Outcome<std::string> {
    FLB_ASSIGN_OR_RETURN(auto vpc_id, required(p, "VpcId"));
    FLB_ASSIGN_OR_RETURN(auto cidr, required(p, "CidrBlock"));
    FLB_ASSIGN_OR_RETURN(auto id, m_.associateVpcCidr(vpc_id, cidr));
    for (const auto& a : m_.vpc(vpc_id)->cidrs) {
      if (a.id == id) return render::cidrAssociation(vpc_id, a.id, a.cidr, a.state);
    }
    return apiError("InternalError", "association vanished", 500);
  };
  H["DisassociateVpcCidrBlock"] = [this](const Params& p, auto*) -> Outcome<std::string> {
    FLB_ASSIGN_OR_RETURN(auto assoc, required(p, "AssociationId"));
    Cidr cidr;
    for (const auto& [vid, v] : m_.vpcs()) {
      for (const auto& a : v.cidrs) {
        if (a.id == assoc) cidr = a.cidr;
      }
    }
    FLB_ASSIGN_OR_RETURN(auto vid, m_.disassociateVpcCidr(assoc));
    return render::cidrAssociation(vid, assoc, cidr, "disassociating");
  };
  H["DescribeSubnets"] = [this](const Params& p, auto*) -> Outcome<std::string> {
    static const DescribeSpec kSpec{"SubnetId",
                                    "InvalidSubnetID.NotFound",
                                    "subnet ID",
                                    {"subnet-id", "vpc-id", "availability-zone", "cidr-block", "cidr",
                                     "cidrBlock", "state", "default-for-az", "owner-id"}};
    auto fields = [](const Subnet& s, const std::string& n) -> Vals {
      if (n == "subnet-id") return std::vector<std::string>{s.id};
      if (n == "vpc-id") return std::vector<std::string>{s.vpc_id};
      if (n == "availability-zone") return std::vector<std::string>{s.az};
      if (n == "cidr-block" || n == "cidr" || n == "cidrBlock") return std::vector<std::string>{s.cidr.str()};
      if (n == "state") return std::vector<std::string>{"available"};
      if (n == "default-for-az") return std::vector<std::string>{"false"};
      return std::nullopt;
    };
    FLB_ASSIGN_OR_RETURN(auto items, query::describe(p, kSpec, m_.subnets(), fields, [this](const Subnet& s) {
                           return render::subnet(m_, s);
                         }));
    return raw("subnetSet", items);
  };
  H["CreateSubnet"] = [this](const Params& p, auto* ev) -> Outcome<std::string> {
    FLB_ASSIGN_OR_RETURN(auto vpc_id, required(p, "VpcId"));
    FLB_ASSIGN_OR_RETURN(auto cidr, required(p, "CidrBlock"));
    FLB_ASSIGN_OR_RETURN(auto id, m_.createSubnet(vpc_id, cidr, p.getOr("AvailabilityZone", ""),
                                                  parseTagSpecs(p, "subnet"), ev));
    return raw("subnet", render::subnet(m_, *m_.subnet(id)));
  };
  H["DeleteSubnet"] = [this](const Params& p, auto* ev) -> Outcome<std::string> {
    FLB_ASSIGN_OR_RETURN(auto id, required(p, "SubnetId"));
    FLB_TRY(m_.deleteSubnet(id, ev));
    return query::trueXml();
  };
  H["DescribeInternetGateways"] = [this](const Params& p, auto*) -> Outcome<std::string> {
    static const DescribeSpec kSpec{
        "InternetGatewayId",
        "InvalidInternetGatewayID.NotFound",
        "internetGateway ID",
        {"internet-gateway-id", "attachment.vpc-id", "attachment.state", "owner-id"}};
    auto fields = [](const InternetGateway& g, const std::string& n) -> Vals {
      if (n == "internet-gateway-id") return std::vector<std::string>{g.id};
      if (n == "attachment.vpc-id") return std::vector<std::string>{g.vpc_id};
      if (n == "attachment.state") return std::vector<std::string>{"available"};
      return std::nullopt;
    };
    FLB_ASSIGN_OR_RETURN(auto items, query::describe(p, kSpec, m_.internetGateways(), fields,
                                                     [this](const InternetGateway& g) {
                                                       return render::internetGateway(m_, g);
                                                     }));
    return raw("internetGatewaySet", items);
  };
  H["DescribeAvailabilityZones"] = [this](const Params&, auto*) -> Outcome<std::string> {
    return render::availabilityZones(m_.config());
  };
  H["CreateTags"] = [this](const Params& p, auto*) -> Outcome<std::string> {
    FLB_TRY(m_.createTags(p.list("ResourceId"), parseTags(p, "Tag")));
    return query::trueXml();
  };
}

}  // namespace floatlb::sim
