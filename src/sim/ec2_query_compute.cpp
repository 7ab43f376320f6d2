// The Query-API front's instance, network-interface and Elastic IP calls (see ec2_query.h).
#include <algorithm>

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

// The primary and secondary addresses of CreateNetworkInterface (PrivateIpAddress and
// PrivateIpAddresses.N.{PrivateIpAddress,Primary}).
struct EniAddresses {
  std::optional<Ip4> primary;
  std::vector<Ip4> secondaries;
};

Outcome<EniAddresses> decodeEniAddresses(const Params& p) {
  EniAddresses out;
  FLB_ASSIGN_OR_RETURN(out.primary, query::optionalIp(p, "PrivateIpAddress"));
  for (const auto& spec : p.groups("PrivateIpAddresses")) {
    FLB_ASSIGN_OR_RETURN(auto text, required(spec, "PrivateIpAddress"));
    FLB_ASSIGN_OR_RETURN(Ip4 ip, query::parseIp(text));
    if (spec.getOr("Primary", "false") != "true") {
      out.secondaries.push_back(ip);
      continue;
    }
    if (out.primary && *out.primary != ip) {
      return apiError("InvalidParameterCombination", "Only one primary private IP address can be specified.");
    }
    out.primary = ip;
  }
  return out;
}

Vals eniField(const Ec2Model& m, const Eni& e, const std::string& n) {
  using V = std::vector<std::string>;
  if (n == "network-interface-id") return V{e.id};
  if (n == "subnet-id") return V{e.subnet_id};
  if (n == "vpc-id") return V{e.vpc_id};
  if (n == "availability-zone") return V{e.az};
  if (n == "status") return V{e.attachment ? "in-use" : "available"};
  if (n == "description") return V{e.description};
  if (n == "mac-address") return V{e.mac};
  if (n == "group-id") return e.groups;
  if (n == "source-dest-check") return V{e.source_dest_check ? "true" : "false"};
  if (n == "private-ip-address") return V{e.ips.front().str()};
  if (n == "addresses.private-ip-address") {
    V out;
    for (auto ip : e.ips) out.push_back(ip.str());
    return out;
  }
  if (n.rfind("attachment.", 0) == 0) {
    if (!e.attachment) return V{};
    if (n == "attachment.instance-id") return V{e.attachment->instance_id};
    if (n == "attachment.attachment-id") return V{e.attachment->id};
    if (n == "attachment.status") return V{e.attachment->status};
    if (n == "attachment.device-index") return V{std::to_string(e.attachment->device_index)};
  }
  V out;
  for (const auto& [aid, a] : m.addresses()) {
    if (a.eni_id != e.id) continue;
    if (n == "association.public-ip") out.push_back(a.public_ip.str());
    if (n == "association.allocation-id") out.push_back(a.allocation_id);
  }
  return out;
}

Vals addressField(const Ec2Model& m, const ElasticIp& a, const std::string& n) {
  using V = std::vector<std::string>;
  if (n == "public-ip") return V{a.public_ip.str()};
  if (n == "allocation-id") return V{a.allocation_id};
  if (n == "domain") return V{"vpc"};
  if (n == "network-border-group") return V{m.config().region};
  if (a.association_id.empty()) return V{};
  if (n == "association-id") return V{a.association_id};
  if (n == "network-interface-id") return V{a.eni_id};
  if (n == "private-ip-address") return V{a.private_ip.str()};
  if (n == "instance-id") {
    const Eni* e = m.eni(a.eni_id);
    if (e && e->attachment) return V{e->attachment->instance_id};
  }
  return V{};
}

}  // namespace

void Ec2QueryFront::addInstanceHandlers() {
  auto& H = handlers_;
  H["RunInstances"] = [this](const Params& p, auto* ev) -> Outcome<std::string> {
    FLB_ASSIGN_OR_RETURN(auto sub, required(p, "SubnetId"));
    if (p.getOr("MinCount", "1") != "1" || p.getOr("MaxCount", "1") != "1") {
      return apiError("InvalidParameterValue",
                      "vpcsim launches exactly one instance per call (MinCount=MaxCount=1)");
    }
    FLB_ASSIGN_OR_RETURN(auto ip, query::optionalIp(p, "PrivateIpAddress"));
    FLB_ASSIGN_OR_RETURN(
        auto id, m_.runInstance(sub, ip, p.list("SecurityGroupId"), parseTagSpecs(p, "instance"), ev));
    return render::reservation(m_, *m_.instance(id));
  };
  H["DescribeInstances"] = [this](const Params& p, auto*) -> Outcome<std::string> {
    static const DescribeSpec kSpec{
        "InstanceId",
        "InvalidInstanceID.NotFound",
        "instance ID",
        {"instance-id", "availability-zone", "subnet-id", "vpc-id", "private-ip-address",
         "instance-state-name", "network-interface.network-interface-id", "instance-type"}};
    auto fields = [this](const Instance& i, const std::string& n) -> Vals {
      if (n == "instance-id") return std::vector<std::string>{i.id};
      if (n == "availability-zone") return std::vector<std::string>{i.az};
      if (n == "subnet-id") return std::vector<std::string>{i.subnet_id};
      if (n == "vpc-id") return std::vector<std::string>{i.vpc_id};
      if (n == "instance-state-name") return std::vector<std::string>{"running"};
      if (n == "instance-type") return std::vector<std::string>{i.instance_type};
      std::vector<std::string> out;
      for (const Eni* e : m_.enisOf(i.id)) {
        if (n == "network-interface.network-interface-id") out.push_back(e->id);
        if (n == "private-ip-address" && e->attachment->device_index == 0)
          out.push_back(e->ips.front().str());
      }
      return out;
    };
    FLB_ASSIGN_OR_RETURN(auto items,
                         query::describe(p, kSpec, m_.instances(), fields,
                                         [this](const Instance& i) { return render::reservation(m_, i); }));
    return raw("reservationSet", items);
  };
}

void Ec2QueryFront::addEniHandlers() {
  auto& H = handlers_;
  H["DescribeNetworkInterfaces"] = [this](const Params& p, auto*) -> Outcome<std::string> {
    static const DescribeSpec kSpec{
        "NetworkInterfaceId",
        "InvalidNetworkInterfaceID.NotFound",
        "networkInterface ID",
        {"network-interface-id", "subnet-id", "vpc-id", "availability-zone", "attachment.instance-id",
         "attachment.attachment-id", "attachment.status", "attachment.device-index", "status", "description",
         "private-ip-address", "addresses.private-ip-address", "mac-address", "group-id", "source-dest-check",
         "association.public-ip", "association.allocation-id"}};
    auto fields = [this](const Eni& e, const std::string& n) { return eniField(m_, e, n); };
    FLB_ASSIGN_OR_RETURN(auto items, query::describe(p, kSpec, m_.enis(), fields, [this](const Eni& e) {
                           return render::networkInterface(m_, e);
                         }));
    return raw("networkInterfaceSet", items);
  };
  H["CreateNetworkInterface"] = [this](const Params& p, auto*) -> Outcome<std::string> {
    FLB_ASSIGN_OR_RETURN(auto sub, required(p, "SubnetId"));
    FLB_ASSIGN_OR_RETURN(auto addrs, decodeEniAddresses(p));
    FLB_ASSIGN_OR_RETURN(
        auto id,
        m_.createNetworkInterface(sub, addrs.primary, p.list("SecurityGroupId"), p.getOr("Description", ""),
                                  parseTagSpecs(p, "network-interface"), addrs.secondaries));
    return raw("networkInterface", render::networkInterface(m_, *m_.eni(id)));
  };
  H["AttachNetworkInterface"] = [this](const Params& p, auto* ev) -> Outcome<std::string> {
    FLB_ASSIGN_OR_RETURN(auto eni_id, required(p, "NetworkInterfaceId"));
    FLB_ASSIGN_OR_RETURN(auto inst, required(p, "InstanceId"));
    FLB_ASSIGN_OR_RETURN(auto dev, required(p, "DeviceIndex"));
    int idx = -1;
    try {
      idx = std::stoi(dev);
    } catch (...) {
      return apiError("InvalidParameterValue", "Invalid value '" + dev + "' for deviceIndex.");
    }
    FLB_ASSIGN_OR_RETURN(auto id, m_.attachNetworkInterface(eni_id, inst, idx, ev));
    return el("attachmentId", id) + el("networkCardIndex", 0);
  };
  H["DetachNetworkInterface"] = [this](const Params& p, auto*) -> Outcome<std::string> {
    FLB_ASSIGN_OR_RETURN(auto id, required(p, "AttachmentId"));
    FLB_TRY(m_.detachNetworkInterface(id, p.flag("Force")));
    return query::trueXml();
  };
  H["DeleteNetworkInterface"] = [this](const Params& p, auto* ev) -> Outcome<std::string> {
    FLB_ASSIGN_OR_RETURN(auto id, required(p, "NetworkInterfaceId"));
    if (id.rfind("eni-", 0) != 0) {
      return apiError("InvalidNetworkInterfaceId.Malformed",
                      "Invalid id: \"" + id + "\" (expecting \"eni-...\")");
    }
    FLB_TRY(m_.deleteNetworkInterface(id, ev));
    return query::trueXml();
  };
  H["ModifyNetworkInterfaceAttribute"] = [this](const Params& p, auto*) -> Outcome<std::string> {
    FLB_ASSIGN_OR_RETURN(auto id, required(p, "NetworkInterfaceId"));
    if (!m_.eni(id)) return query::notFound("InvalidNetworkInterfaceID.NotFound", "networkInterface ID", id);
    if (p.get("SourceDestCheck.Value")) {
      FLB_TRY(m_.setSourceDestCheck(id, p.flag("SourceDestCheck.Value")));
    } else if (auto d = p.get("Description.Value")) {
      FLB_TRY(m_.setEniDescription(id, *d));
    } else if (!p.list("SecurityGroupId").empty()) {
      FLB_TRY(m_.setEniGroups(id, p.list("SecurityGroupId")));
    } else {
      return apiError("MissingParameter", "You must specify exactly one attribute to modify");
    }
    return query::trueXml();
  };
}

void Ec2QueryFront::addEniAddressHandlers() {
  auto& H = handlers_;
  H["AssignPrivateIpAddresses"] = [this](const Params& p, auto* ev) -> Outcome<std::string> {
    FLB_ASSIGN_OR_RETURN(auto id, required(p, "NetworkInterfaceId"));
    int count = 0;
    if (auto c = p.get("SecondaryPrivateIpAddressCount")) count = std::atoi(c->c_str());
    std::vector<Ip4> assigned;
    FLB_TRY(m_.assignPrivateIps(id, p.list("PrivateIpAddress"), count, p.flag("AllowReassignment"), ev,
                                &assigned));
    std::string items;
    for (auto ip : assigned) items += raw("item", el("privateIpAddress", ip.str()));
    return el("return", true) + el("networkInterfaceId", id) + raw("assignedPrivateIpAddressesSet", items);
  };
  H["UnassignPrivateIpAddresses"] = [this](const Params& p, auto* ev) -> Outcome<std::string> {
    FLB_ASSIGN_OR_RETURN(auto id, required(p, "NetworkInterfaceId"));
    FLB_TRY(m_.unassignPrivateIps(id, p.list("PrivateIpAddress"), ev));
    return query::trueXml();
  };
}

void Ec2QueryFront::addAddressHandlers() {
  auto& H = handlers_;
  H["AllocateAddress"] = [this](const Params& p, auto*) -> Outcome<std::string> {
    FLB_ASSIGN_OR_RETURN(auto id, m_.allocateAddress(parseTagSpecs(p, "elastic-ip")));
    const ElasticIp& a = *m_.address(id);
    return el("publicIp", a.public_ip.str()) + el("domain", "vpc") + el("allocationId", a.allocation_id) +
           el("publicIpv4Pool", "amazon") + el("networkBorderGroup", m_.config().region);
  };
  H["ReleaseAddress"] = [this](const Params& p, auto*) -> Outcome<std::string> {
    FLB_ASSIGN_OR_RETURN(auto id, required(p, "AllocationId"));
    FLB_TRY(m_.releaseAddress(id));
    return query::trueXml();
  };
  H["DescribeAddresses"] = [this](const Params& p, auto*) -> Outcome<std::string> {
    static const DescribeSpec kSpec{"AllocationId",
                                    "InvalidAllocationID.NotFound",
                                    "allocation ID",
                                    {"public-ip", "allocation-id", "association-id", "network-interface-id",
                                     "private-ip-address", "instance-id", "domain", "network-border-group"}};
    const std::vector<std::string> ips = p.list("PublicIp");
    for (const auto& ip : ips) {
      if (!m_.addressByPublicIp(ip))
        return apiError("InvalidAddress.NotFound", "Address '" + ip + "' not found.");
    }
    auto fields = [this](const ElasticIp& a, const std::string& n) { return addressField(m_, a, n); };
    FLB_ASSIGN_OR_RETURN(
        std::string items,
        query::describe(p, kSpec, m_.addresses(), fields, [&ips, this](const ElasticIp& a) {
          if (!ips.empty() && std::find(ips.begin(), ips.end(), a.public_ip.str()) == ips.end()) {
            return std::string();
          }
          return render::address(m_, a);
        }));
    // Drop the empty <item></item> of addresses filtered out by PublicIp.N.
    for (size_t pos; (pos = items.find("<item></item>")) != std::string::npos;) items.erase(pos, 13);
    return raw("addressesSet", items);
  };
  H["AssociateAddress"] = [this](const Params& p, auto* ev) -> Outcome<std::string> {
    std::string alloc = p.getOr("AllocationId", "");
    if (alloc.empty()) {
      auto pub = p.get("PublicIp");
      if (!pub) return query::missing("AllocationId");
      const ElasticIp* a = m_.addressByPublicIp(*pub);
      if (!a) return apiError("InvalidAddress.NotFound", "Address '" + *pub + "' not found.");
      alloc = a->allocation_id;
    }
    FLB_ASSIGN_OR_RETURN(auto ip, query::optionalIp(p, "PrivateIpAddress"));
    FLB_ASSIGN_OR_RETURN(
        auto id, m_.associateAddress(alloc, p.getOr("NetworkInterfaceId", ""), p.getOr("InstanceId", ""), ip,
                                     p.flag("AllowReassociation"), ev));
    return el("return", true) + el("associationId", id);
  };
  H["DisassociateAddress"] = [this](const Params& p, auto* ev) -> Outcome<std::string> {
    FLB_ASSIGN_OR_RETURN(auto id, required(p, "AssociationId"));
    FLB_TRY(m_.disassociateAddress(id, ev));
    return query::trueXml();
  };
}

}  // namespace floatlb::sim
