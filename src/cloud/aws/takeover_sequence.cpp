#include "cloud/aws/takeover_sequence.h"

#include "common/log.h"
#include "common/net.h"

namespace floatlb::cloud::aws {
namespace {

class Runner {
 public:
  Runner(Ec2Api& ec2, bool dry_run, TakeoverOutcome& out) : ec2_(ec2), dry_(dry_run), out_(out) {}

  // Records a read-only step (always executed).
  void read(const std::string& action, const std::string& target, const std::string& result) {
    out_.steps.push_back(TakeoverStep{action, target, true, result});
    FLB_INFO("takeover", "{} {} -> {}", action, target, result);
  }
  // Runs a mutation unless dry-run; returns true if it ran successfully.
  template <class Fn>
  Status mutate(const std::string& action, const std::string& target, Fn&& fn,
                std::string* produced = nullptr) {
    if (dry_) {
      out_.steps.push_back(TakeoverStep{action, target, false, "(dry-run)"});
      FLB_INFO("takeover", "[dry-run] would {} {}", action, target);
      if (produced != nullptr) *produced = "<" + action + ">";
      return okStatus();
    }
    auto r = fn();
    TakeoverStep step{action, target, true, ""};
    if (!r.ok()) {
      step.result = r.error().str();
      out_.steps.push_back(step);
      FLB_WARN("takeover", "{} {} failed: {}", action, target, step.result);
      return r.error().toError();
    }
    if constexpr (!std::is_same_v<std::decay_t<decltype(r)>, AwsStatus>) {
      if (produced != nullptr) *produced = extractId(r.value());
      step.result = produced != nullptr ? *produced : "ok";
    } else {
      step.result = "ok";
    }
    out_.steps.push_back(step);
    FLB_INFO("takeover", "{} {} -> {}", action, target, step.result);
    return okStatus();
  }

 private:
  static std::string extractId(const std::string& s) { return s; }
  static std::string extractId(const Subnet& s) { return s.subnetId; }
  static std::string extractId(const RouteTable& r) { return r.routeTableId; }
  static std::string extractId(const NetworkInterface& e) {
    return e.networkInterfaceId + " " + e.privateIpAddress;
  }
  static std::string extractId(const VpcCidrBlockAssociation& a) { return a.associationId; }

  Ec2Api& ec2_;
  bool dry_;
  TakeoverOutcome& out_;
};

TagSpecification tagSpec(const TakeoverParams& p, const std::string& type, const std::string& what) {
  return TagSpecification{type, {{p.tagKey, "floatlb-" + what + p.instanceTag}}};
}

Filters tagFilter(const TakeoverParams& p, const std::string& what) {
  return {{"tag:" + p.tagKey, {"floatlb-" + what + p.instanceTag}}};
}

}  // namespace

Result<TakeoverOutcome> runTakeoverSequence(Ec2Api& ec2, const TakeoverParams& p, bool dry_run,
                                            const std::function<void()>& pause) {
  TakeoverOutcome out;
  Runner run(ec2, dry_run, out);

  // 1. Existing floatlb ENIs (normally on the old master in the other AZ): force-detach and delete.
  std::vector<std::string> old_subnets;
  auto enis = ec2.describeNetworkInterfaces(tagFilter(p, "eni"));
  if (enis.ok() && !enis->empty()) {
    run.read("DescribeNetworkInterfaces", "tag eni", std::to_string(enis->size()) + " ENI(s)");
    for (const NetworkInterface& e : *enis) {
      old_subnets.push_back(e.subnetId);
      if (e.attachment) {
        FLB_TRY(run.mutate("DetachNetworkInterface", e.attachment->attachmentId,
                           [&] { return ec2.detachNetworkInterface(e.attachment->attachmentId, true); }));
      }
      Status deleted = makeError(ErrorCode::kInternal, "no attempt");
      const int attempts = std::max(1, p.deleteEniAttempts);
      for (int i = 0; i < attempts; ++i) {
        deleted = run.mutate("DeleteNetworkInterface", e.networkInterfaceId,
                             [&] { return ec2.deleteNetworkInterface(e.networkInterfaceId); });
        if (deleted.ok()) break;
        if (pause && i + 1 < attempts) pause();
      }
      FLB_TRY(deleted);
    }
  } else {
    run.read("DescribeNetworkInterfaces", "tag eni", enis.ok() ? "none" : enis.error().str());
    auto subnets = ec2.describeSubnets(tagFilter(p, "subnet"));
    if (!subnets.ok()) return subnets.error().toError();
    run.read("DescribeSubnets", "tag subnet", std::to_string(subnets->size()) + " subnet(s)");
    for (const Subnet& s : *subnets) old_subnets.push_back(s.subnetId);
  }
  // 3. Their subnets.
  for (const std::string& s : old_subnets) {
    FLB_TRY(run.mutate("DeleteSubnet", s, [&] { return ec2.deleteSubnet(s); }));
  }
  // 4. Our route tables: disassociate and delete.
  auto rts = ec2.describeRouteTables(tagFilter(p, "routetable"));
  if (!rts.ok()) return rts.error().toError();
  run.read("DescribeRouteTables", "tag routetable", std::to_string(rts->size()) + " table(s)");
  for (const RouteTable& rt : *rts) {
    for (const RouteTableAssociation& a : rt.associations) {
      if (a.subnetId.empty()) continue;
      FLB_TRY(run.mutate("DisassociateRouteTable", a.associationId,
                         [&] { return ec2.disassociateRouteTable(a.associationId); }));
    }
    FLB_TRY(run.mutate("DeleteRouteTable", rt.routeTableId,
                       [&] { return ec2.deleteRouteTable(rt.routeTableId); }));
  }
  // 5./6. The VIP CIDR block as a secondary CIDR of our VPC.
  auto vpcs = ec2.describeVpcs({{"cidr-block-association.cidr-block", {p.cidrBlock}}});
  if (!vpcs.ok()) return vpcs.error().toError();
  run.read("DescribeVpcs", p.cidrBlock, std::to_string(vpcs->size()) + " VPC(s)");
  bool associated_here = false;
  for (const Vpc& v : *vpcs) {
    for (const VpcCidrBlockAssociation& a : v.cidrBlockAssociations) {
      if (a.cidrBlock != p.cidrBlock || a.state != "associated") continue;
      if (v.vpcId == p.vpcId) {
        associated_here = true;
      } else {
        FLB_TRY(run.mutate("DisassociateVpcCidrBlock", a.associationId,
                           [&] { return ec2.disassociateVpcCidrBlock(a.associationId); }));
      }
    }
  }
  if (!associated_here) {
    // A block inside one of our VPC's CIDRs (e.g. the primary 192.168.0.0/16) needs no association;
    // AWS would reject it as overlapping.
    auto block = Cidr::parse(p.cidrBlock);
    auto mine = ec2.describeVpcs({{"vpc-id", {p.vpcId}}});
    if (!mine.ok()) return mine.error().toError();
    for (const Vpc& v : *mine) {
      for (const VpcCidrBlockAssociation& a : v.cidrBlockAssociations) {
        auto c = Cidr::parse(a.cidrBlock);
        if (v.vpcId == p.vpcId && a.state == "associated" && block.ok() && c.ok() &&
            c->prefixLen() <= block->prefixLen() && c->contains(block->network())) {
          associated_here = true;
          run.read("DescribeVpcs", p.vpcId, p.cidrBlock + " inside " + a.cidrBlock);
        }
      }
    }
  }
  if (!associated_here) {
    FLB_TRY(run.mutate("AssociateVpcCidrBlock", p.vpcId + " " + p.cidrBlock,
                       [&] { return ec2.associateVpcCidrBlock(p.vpcId, p.cidrBlock); }));
  }
  // 8. The VIP subnet in our AZ.
  FLB_TRY(run.mutate(
      "CreateSubnet", p.cidrBlock + " in " + p.availabilityZone,
      [&] {
        return ec2.createSubnet({p.vpcId, p.cidrBlock, p.availabilityZone, {tagSpec(p, "subnet", "subnet")}});
      },
      &out.subnetId));
  // 9. Route table with a default route to the VPC's internet gateway.
  FLB_TRY(run.mutate(
      "CreateRouteTable", p.vpcId,
      [&] { return ec2.createRouteTable(p.vpcId, {tagSpec(p, "route-table", "routetable")}); },
      &out.routeTableId));
  std::string rt_assoc;
  FLB_TRY(run.mutate(
      "AssociateRouteTable", out.routeTableId + " " + out.subnetId,
      [&] { return ec2.associateRouteTable(out.routeTableId, out.subnetId); }, &rt_assoc));
  auto igws = ec2.describeInternetGateways({{"attachment.vpc-id", {p.vpcId}}});
  if (!igws.ok()) return igws.error().toError();
  if (igws->empty() && !dry_run)
    return makeError(ErrorCode::kNotFound, "no internet gateway attached to " + p.vpcId);
  const std::string igw = igws->empty() ? "<no IGW!>" : igws->front().internetGatewayId;
  run.read("DescribeInternetGateways", p.vpcId, igw);
  FLB_TRY(run.mutate("CreateRoute", out.routeTableId + " 0.0.0.0/0 -> " + igw,
                     [&] { return ec2.createRoute(out.routeTableId, "0.0.0.0/0", igw); }));
  // 11.-13. Our ENI in the new subnet, attached at device index 1, source/dest check off.
  std::string eni_desc;
  FLB_TRY(run.mutate(
      "CreateNetworkInterface", out.subnetId,
      [&] {
        CreateNetworkInterfaceRequest req;
        req.subnetId = out.subnetId;
        req.description = "floatlb-eni";
        req.groupIds = p.securityGroupIds;
        req.tagSpecifications = {tagSpec(p, "network-interface", "eni")};
        return ec2.createNetworkInterface(req);
      },
      &eni_desc));
  out.eniId = eni_desc.substr(0, eni_desc.find(' '));
  if (eni_desc.find(' ') != std::string::npos) out.eniPrivateIp = eni_desc.substr(eni_desc.find(' ') + 1);
  std::string attachment;
  FLB_TRY(run.mutate(
      "AttachNetworkInterface", out.eniId + " -> " + p.instanceId,
      [&] { return ec2.attachNetworkInterface(out.eniId, p.instanceId, p.deviceIndex); }, &attachment));
  FLB_TRY(run.mutate("ModifyNetworkInterfaceAttribute", out.eniId + " SourceDestCheck=false",
                     [&] { return ec2.modifySourceDestCheck(out.eniId, false); }));
  // Per VIP: move the private IP onto our ENI, then the Elastic IP onto that private IP.
  for (const TakeoverVip& v : p.vips) {
    FLB_TRY(run.mutate("AssignPrivateIpAddresses", out.eniId + " " + v.privateIp,
                       [&] { return ec2.assignPrivateIpAddresses(out.eniId, {v.privateIp}, true); }));
    if (v.publicIp.empty()) continue;
    auto addrs = ec2.describeAddresses({{"public-ip", {v.publicIp}}}, {});
    if (!addrs.ok()) return addrs.error().toError();
    if (addrs->empty()) return makeError(ErrorCode::kNotFound, "Elastic IP " + v.publicIp + " not found");
    const Address a = addrs->front();
    run.read("DescribeAddresses", v.publicIp, a.allocationId);
    std::string assoc;
    FLB_TRY(run.mutate(
        "AssociateAddress", a.allocationId + " -> " + out.eniId + "/" + v.privateIp,
        [&] {
          return ec2.associateAddress({a.allocationId, out.eniId, "", v.privateIp, true});
        },
        &assoc));
    out.eipAssociationIds.push_back(assoc);
  }
  return out;
}

}  // namespace floatlb::cloud::aws
