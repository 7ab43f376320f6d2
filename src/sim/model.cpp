#include "sim/model.h"

#include <fmt/core.h>

#include <algorithm>
#include <set>

namespace floatlb::sim {

namespace {

constexpr int kMaxIpsPerEni = 6;  // t3.medium (the seed's instance type): 6 IPv4 per interface

uint64_t mix64(uint64_t x) {  // splitmix64 finalizer: ids look random but are deterministic
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

const char* eventKindName(RealiseEvent::Kind k) {
  switch (k) {
    case RealiseEvent::Kind::kSubnetCreated:
      return "SubnetCreated";
    case RealiseEvent::Kind::kSubnetDeleted:
      return "SubnetDeleted";
    case RealiseEvent::Kind::kInstanceLaunched:
      return "InstanceLaunched";
    case RealiseEvent::Kind::kEniAttached:
      return "EniAttached";
    case RealiseEvent::Kind::kEniDetached:
      return "EniDetached";
    case RealiseEvent::Kind::kPrivateIpAssigned:
      return "PrivateIpAssigned";
    case RealiseEvent::Kind::kPrivateIpUnassigned:
      return "PrivateIpUnassigned";
    case RealiseEvent::Kind::kEipAssociated:
      return "EipAssociated";
    case RealiseEvent::Kind::kEipDisassociated:
      return "EipDisassociated";
  }
  return "?";
}

std::string describeEvent(const RealiseEvent& e) {
  std::string ips;
  for (auto ip : e.ips) ips += (ips.empty() ? "" : ",") + ip.str();
  return fmt::format("{} subnet={} eni={} instance={} dev={} mac={} ip={} ips=[{}] eip={}",
                     eventKindName(e.kind), e.subnet_id, e.eni_id, e.instance_id, e.device_index, e.mac,
                     e.ip.str(), ips, e.public_ip);
}

std::string Ec2Model::newId(const std::string& prefix) {
  ++id_counter_;
  return fmt::format("{}-0{:016x}", prefix, mix64(id_counter_ ^ (config_.seed << 32)));
}

std::string Ec2Model::newMac(int seq) const {
  // 0a: locally administered unicast, like real EC2 ENI MACs.
  return fmt::format("0a:f1:{:02x}:{:02x}:{:02x}:{:02x}", (config_.seed >> 8) & 0xff, (seq >> 16) & 0xff,
                     (seq >> 8) & 0xff, seq & 0xff);
}

// ---- lookup helpers -----------------------------------------------------------------------------
const Instance* Ec2Model::instance(const std::string& id) const {
  auto it = instances_.find(id);
  return it == instances_.end() ? nullptr : &it->second;
}
const Eni* Ec2Model::eni(const std::string& id) const {
  auto it = enis_.find(id);
  return it == enis_.end() ? nullptr : &it->second;
}
Eni* Ec2Model::findEni(const std::string& id) {
  auto it = enis_.find(id);
  return it == enis_.end() ? nullptr : &it->second;
}
const Subnet* Ec2Model::subnet(const std::string& id) const {
  auto it = subnets_.find(id);
  return it == subnets_.end() ? nullptr : &it->second;
}
const Vpc* Ec2Model::vpc(const std::string& id) const {
  auto it = vpcs_.find(id);
  return it == vpcs_.end() ? nullptr : &it->second;
}
const ElasticIp* Ec2Model::address(const std::string& allocation_id) const {
  auto it = addresses_.find(allocation_id);
  return it == addresses_.end() ? nullptr : &it->second;
}
const ElasticIp* Ec2Model::addressByPublicIp(const std::string& public_ip) const {
  for (const auto& [id, a] : addresses_) {
    if (a.public_ip.str() == public_ip) return &a;
  }
  return nullptr;
}
const RouteTable* Ec2Model::routeTable(const std::string& id) const {
  auto it = route_tables_.find(id);
  return it == route_tables_.end() ? nullptr : &it->second;
}
const Instance* Ec2Model::instanceByName(const std::string& name) const {
  for (const auto& [id, i] : instances_) {
    if (i.name == name) return &i;
  }
  return nullptr;
}

std::string Ec2Model::ipOwner(Ip4 ip) const {
  for (const auto& [id, e] : enis_) {
    if (std::find(e.ips.begin(), e.ips.end(), ip) != e.ips.end()) return id;
  }
  return "";
}

const Instance* Ec2Model::instanceByPrivateIp(Ip4 ip) const {
  std::string owner = ipOwner(ip);
  if (owner.empty()) return nullptr;
  const Eni& e = enis_.at(owner);
  if (!e.attachment || e.attachment->status != "attached") return nullptr;
  return instance(e.attachment->instance_id);
}

std::vector<const Eni*> Ec2Model::enisOf(const std::string& instance_id) const {
  std::vector<const Eni*> out;
  for (const auto& [id, e] : enis_) {
    if (e.attachment && e.attachment->instance_id == instance_id && e.attachment->status == "attached") {
      out.push_back(&e);
    }
  }
  std::sort(out.begin(), out.end(), [](const Eni* a, const Eni* b) {
    return a->attachment->device_index < b->attachment->device_index;
  });
  return out;
}

Tags* Ec2Model::tagsOf(const std::string& id) {
  if (auto it = vpcs_.find(id); it != vpcs_.end()) return &it->second.tags;
  if (auto it = subnets_.find(id); it != subnets_.end()) return &it->second.tags;
  if (auto it = route_tables_.find(id); it != route_tables_.end()) return &it->second.tags;
  if (auto it = igws_.find(id); it != igws_.end()) return &it->second.tags;
  if (auto it = enis_.find(id); it != enis_.end()) return &it->second.tags;
  if (auto it = instances_.find(id); it != instances_.end()) return &it->second.tags;
  if (auto it = addresses_.find(id); it != addresses_.end()) return &it->second.tags;
  return nullptr;
}

bool Ec2Model::ipReserved(const Subnet& s, Ip4 ip) const {
  uint64_t off = ip.hostOrder() - s.cidr.network().hostOrder();
  return off < 4 || off == s.cidr.size() - 1;  // AWS reserves the first four and the last address
}

ApiStatus Ec2Model::requireInSubnet(const Subnet& s, Ip4 ip) const {
  if (s.cidr.contains(ip) && !ipReserved(s, ip)) return {};
  return apiError("InvalidParameterValue",
                  "Address " + ip.str() + " does not fall within the subnet's address range");
}

ApiStatus Ec2Model::requireFreeInSubnet(const Subnet& s, Ip4 ip) const {
  FLB_TRY(requireInSubnet(s, ip));
  if (!ipOwner(ip).empty())
    return apiError("InvalidIPAddress.InUse", "The specified address is already in use.");
  return {};
}

Outcome<Ip4> Ec2Model::allocateIp(const Subnet& s, const std::vector<Ip4>& skip) const {
  for (uint64_t n = 4; n + 1 < s.cidr.size(); ++n) {
    Ip4 ip = s.cidr.at(n);
    if (ipOwner(ip).empty() && std::find(skip.begin(), skip.end(), ip) == skip.end()) return ip;
  }
  return apiError("InsufficientFreeAddressesInSubnet", "There are not enough free addresses in subnet '" +
                                                           s.id +
                                                           "' to satisfy the requested number "
                                                           "of instances.");
}

RealiseEvent Ec2Model::eniEvent(RealiseEvent::Kind k, const Eni& e) const {
  RealiseEvent ev{k};
  ev.eni_id = e.id;
  ev.eni_seq = e.seq;
  ev.mac = e.mac;
  ev.subnet_id = e.subnet_id;
  const Subnet& s = subnets_.at(e.subnet_id);
  ev.subnet_seq = s.seq;
  ev.cidr = s.cidr;
  ev.gateway = s.cidr.at(1);
  ev.ips = e.ips;
  if (e.attachment) {
    ev.instance_id = e.attachment->instance_id;
    ev.device_index = e.attachment->device_index;
    if (const Instance* i = instance(e.attachment->instance_id)) ev.instance_name = i->name;
  }
  return ev;
}

// ---- VPC ----------------------------------------------------------------------------------------
Outcome<std::string> Ec2Model::createVpc(const Cidr& cidr, const Tags& tags) {
  Vpc v;
  v.id = newId("vpc");
  v.cidrs.push_back(CidrAssociation{newId("vpc-cidr-assoc"), cidr, "associated", clock_.now(), true});
  v.tags = tags;
  vpcs_[v.id] = v;
  FLB_TRY(createRouteTable(v.id, {}, /*main=*/true));
  createSecurityGroup(v.id, "default");
  return v.id;
}

std::string Ec2Model::createSecurityGroup(const std::string& vpc_id, const std::string& /*name*/) {
  std::string id = newId("sg");
  security_groups_[id] = vpc_id;
  return id;
}

Outcome<std::string> Ec2Model::associateVpcCidr(const std::string& vpc_id, const std::string& cidr_text) {
  auto vit = vpcs_.find(vpc_id);
  if (vit == vpcs_.end()) return notFound("InvalidVpcID.NotFound", "vpc ID", vpc_id);
  auto c = Cidr::parse(cidr_text, true);
  if (!c.ok())
    return apiError("InvalidParameterValue", "Value (" + cidr_text + ") for parameter cidrBlock is invalid.");
  Cidr cidr(c.value().network(), c.value().prefixLen());
  if (cidr.prefixLen() < 16 || cidr.prefixLen() > 28) {
    return apiError("InvalidVpc.Range", "The CIDR '" + cidr_text + "' is invalid.");
  }
  Vpc& v = vit->second;
  if (v.cidrs.size() >= 5)
    return apiError("CidrLimitExceeded",
                    "This network '" + vpc_id + "' has met its maximum number of allowed CIDRs: 5");
  for (const auto& a : v.cidrs) {
    if (a.cidr.overlaps(cidr)) {
      return apiError("VpcCidrConflict",
                      "The CIDR '" + cidr.str() + "' conflicts with another CIDR in this VPC");
    }
  }
  CidrAssociation a{newId("vpc-cidr-assoc"), cidr, "associating", clock_.now() + config_.cidr_assoc_time,
                    false};
  if (config_.cidr_assoc_time.count() <= 0) a.state = "associated";
  v.cidrs.push_back(a);
  return a.id;
}

Outcome<std::string> Ec2Model::disassociateVpcCidr(const std::string& association_id) {
  for (auto& [vid, v] : vpcs_) {
    for (auto& a : v.cidrs) {
      if (a.id != association_id) continue;
      if (a.primary) {
        return apiError("OperationNotPermitted", "The vpc CIDR block with association ID " + association_id +
                                                     " may not be disassociated. It is the primary IPv4 CIDR "
                                                     "block of the VPC");
      }
      for (const auto& [sid, s] : subnets_) {
        if (s.vpc_id == vid && a.cidr.overlaps(s.cidr)) {
          return apiError("DependencyViolation", "The vpc CIDR block " + a.cidr.str() +
                                                     " has dependencies and cannot be disassociated.");
        }
      }
      if (a.state == "disassociating") return vid;
      a.state = "disassociating";
      a.transition_at = clock_.now() + config_.cidr_assoc_time;
      if (config_.cidr_assoc_time.count() <= 0) {
        std::erase_if(v.cidrs, [&](const CidrAssociation& x) { return x.id == association_id; });
      }
      return vid;
    }
  }
  return apiError("InvalidVpcCidrBlockAssociationID.NotFound",
                  "The vpc CIDR block association ID '" + association_id + "' does not exist");
}

// ---- subnets ------------------------------------------------------------------------------------
Outcome<std::string> Ec2Model::createSubnet(const std::string& vpc_id, const std::string& cidr_text,
                                            const std::string& az_in, const Tags& tags,
                                            std::vector<RealiseEvent>* ev) {
  auto vit = vpcs_.find(vpc_id);
  if (vit == vpcs_.end()) return notFound("InvalidVpcID.NotFound", "vpc ID", vpc_id);
  auto c = Cidr::parse(cidr_text, true);
  if (!c.ok()) {
    return apiError(
        "InvalidParameterValue",
        "Value (" + cidr_text + ") for parameter cidrBlock is invalid. This is not a valid CIDR block.");
  }
  Cidr cidr(c.value().network(), c.value().prefixLen());  // canonicalised, as AWS does
  std::string az = az_in.empty() ? config_.azs.front() : az_in;
  if (std::find(config_.azs.begin(), config_.azs.end(), az) == config_.azs.end()) {
    std::string list;
    for (const auto& a : config_.azs) list += (list.empty() ? "" : ", ") + a;
    return apiError("InvalidParameterValue",
                    "Value (" + az +
                        ") for parameter availabilityZone is invalid. Subnets can "
                        "currently only be created in the following availability zones: " +
                        list + ".");
  }
  if (cidr.prefixLen() < 16 || cidr.prefixLen() > 28) {
    return apiError("InvalidSubnet.Range", "The CIDR '" + cidr_text + "' is invalid.");
  }
  bool inside = false;
  for (const auto& a : vit->second.cidrs) {
    if (a.state == "associated" && a.cidr.prefixLen() <= cidr.prefixLen() &&
        a.cidr.contains(cidr.network())) {
      inside = true;
    }
  }
  if (!inside) return apiError("InvalidSubnet.Range", "The CIDR '" + cidr_text + "' is invalid.");
  for (const auto& [sid, s] : subnets_) {
    if (s.vpc_id == vpc_id && s.cidr.overlaps(cidr)) {
      return apiError("InvalidSubnet.Conflict",
                      "The CIDR '" + cidr.str() + "' conflicts with another subnet");
    }
  }
  Subnet s;
  s.id = newId("subnet");
  s.vpc_id = vpc_id;
  s.az = az;
  s.cidr = cidr;
  s.seq = ++seq_counter_;
  s.tags = tags;
  subnets_[s.id] = s;
  if (ev) {
    RealiseEvent e{RealiseEvent::Kind::kSubnetCreated};
    e.subnet_id = s.id;
    e.subnet_seq = s.seq;
    e.cidr = s.cidr;
    e.gateway = s.cidr.at(1);
    ev->push_back(e);
  }
  return s.id;
}

ApiStatus Ec2Model::deleteSubnet(const std::string& subnet_id, std::vector<RealiseEvent>* ev) {
  auto it = subnets_.find(subnet_id);
  if (it == subnets_.end()) return notFound("InvalidSubnetID.NotFound", "subnet ID", subnet_id);
  for (const auto& [id, e] : enis_) {
    if (e.subnet_id == subnet_id) {
      return apiError("DependencyViolation",
                      "The subnet '" + subnet_id + "' has dependencies and cannot be deleted.");
    }
  }
  for (auto& [rid, r] : route_tables_) {
    std::erase_if(r.associations, [&](const RouteTableAssociation& a) { return a.subnet_id == subnet_id; });
  }
  if (ev) {
    RealiseEvent e{RealiseEvent::Kind::kSubnetDeleted};
    e.subnet_id = subnet_id;
    e.subnet_seq = it->second.seq;
    e.cidr = it->second.cidr;
    ev->push_back(e);
  }
  subnets_.erase(it);
  return {};
}

// ---- instances and ENIs -------------------------------------------------------------------------
Outcome<std::string> Ec2Model::runInstance(const std::string& subnet_id, std::optional<Ip4> private_ip,
                                           const std::vector<std::string>& groups, const Tags& tags,
                                           std::vector<RealiseEvent>* ev) {
  const Subnet* s = subnet(subnet_id);
  if (!s) return notFound("InvalidSubnetID.NotFound", "subnet ID", subnet_id);
  FLB_ASSIGN_OR_RETURN(std::string eni_id, createNetworkInterface(subnet_id, private_ip, groups,
                                                                  "Primary network interface", {}));
  Instance i;
  i.id = newId("i");
  i.seq = ++seq_counter_;
  auto name = tags.find("Name");
  i.name = name != tags.end() ? name->second : fmt::format("i{}", i.seq);
  i.az = s->az;
  i.subnet_id = subnet_id;
  i.vpc_id = s->vpc_id;
  i.image_id = "ami-0vpcsim0000000000";
  i.instance_type = "t3.medium";
  i.primary_eni = eni_id;
  i.tags = tags;
  instances_[i.id] = i;
  if (ev) {
    RealiseEvent e{RealiseEvent::Kind::kInstanceLaunched};
    e.instance_id = i.id;
    e.instance_name = i.name;
    ev->push_back(e);
  }
  Eni& eni = enis_.at(i.primary_eni);
  eni.attachment = EniAttachment{newId("eni-attach"), i.id, 0, "attached", {}, clock_.wallMillis()};
  if (ev) {
    RealiseEvent e = eniEvent(RealiseEvent::Kind::kEniAttached, eni);
    e.configure = true;
    ev->push_back(e);
  }
  return i.id;
}

Outcome<std::string> Ec2Model::createNetworkInterface(const std::string& subnet_id,
                                                      std::optional<Ip4> primary_ip,
                                                      const std::vector<std::string>& groups_in,
                                                      const std::string& description, const Tags& tags,
                                                      const std::vector<Ip4>& secondary_ips) {
  const Subnet* s = subnet(subnet_id);
  if (!s) return notFound("InvalidSubnetID.NotFound", "subnet ID", subnet_id);
  std::set<Ip4> requested;
  if (primary_ip) requested.insert(*primary_ip);
  for (Ip4 want : secondary_ips) {
    FLB_TRY(requireFreeInSubnet(*s, want));
    if (!requested.insert(want).second) {
      return apiError("InvalidParameterValue", "Address " + want.str() + " is specified more than once");
    }
  }
  if (static_cast<int>(secondary_ips.size()) + 1 > kMaxIpsPerEni) {
    return apiError("PrivateIpAddressLimitExceeded", "Number of private addresses will exceed limit.");
  }
  std::vector<std::string> groups = groups_in;
  for (const auto& g : groups) {
    auto it = security_groups_.find(g);
    if (it == security_groups_.end() || it->second != s->vpc_id) {
      return apiError("InvalidGroup.NotFound",
                      "The security group '" + g + "' does not exist in VPC '" + s->vpc_id + "'");
    }
  }
  if (groups.empty()) {
    for (const auto& [id, vpc] : security_groups_) {
      if (vpc == s->vpc_id) {
        groups.push_back(id);
        break;
      }
    }
  }
  Ip4 ip;
  if (primary_ip) {
    FLB_TRY(requireFreeInSubnet(*s, *primary_ip));
    ip = *primary_ip;
  } else {
    FLB_ASSIGN_OR_RETURN(ip, allocateIp(*s, secondary_ips));
  }
  Eni e;
  e.id = newId("eni");
  e.seq = ++seq_counter_;
  e.subnet_id = subnet_id;
  e.vpc_id = s->vpc_id;
  e.az = s->az;
  e.description = description;
  e.mac = newMac(e.seq);
  e.groups = groups;
  e.ips = {ip};
  e.ips.insert(e.ips.end(), secondary_ips.begin(), secondary_ips.end());
  e.tags = tags;
  enis_[e.id] = e;
  return e.id;
}

Outcome<std::string> Ec2Model::attachNetworkInterface(const std::string& eni_id,
                                                      const std::string& instance_id, int device_index,
                                                      std::vector<RealiseEvent>* ev) {
  Eni* e = findEni(eni_id);
  if (!e) return notFound("InvalidNetworkInterfaceID.NotFound", "networkInterface ID", eni_id);
  const Instance* inst = instance(instance_id);
  if (!inst) return notFound("InvalidInstanceID.NotFound", "instance ID", instance_id);
  if (e->attachment) {
    return apiError("InvalidNetworkInterface.InUse", "Interface: [" + eni_id + "] in use.");
  }
  if (e->az != inst->az) {
    // Real EC2 refuses cross-AZ attachment (VPC FAQ); the message mirrors the observed one.
    return apiError("InvalidParameterCombination",
                    "You may not attach a network interface to an instance if they are not in the same "
                    "availability zone");
  }
  if (e->vpc_id != inst->vpc_id) {
    return apiError("InvalidParameterCombination",
                    "The network interface and the instance are in different VPCs");
  }
  if (device_index < 0 || device_index > 2) {  // t3.medium: 3 network interfaces
    return apiError("InvalidParameterValue",
                    fmt::format("Invalid value '{}' for deviceIndex.", device_index));
  }
  for (const auto& [id, other] : enis_) {
    if (other.attachment && other.attachment->instance_id == instance_id &&
        other.attachment->device_index == device_index) {
      return apiError("InvalidParameterValue",
                      fmt::format("Instance '{}' already has an interface attached at "
                                  "device index '{}'.",
                                  instance_id, device_index));
    }
  }
  e->attachment =
      EniAttachment{newId("eni-attach"), instance_id, device_index, "attached", {}, clock_.wallMillis()};
  if (ev) ev->push_back(eniEvent(RealiseEvent::Kind::kEniAttached, *e));
  return e->attachment->id;
}

void Ec2Model::dropAssociation(ElasticIp& a, std::vector<RealiseEvent>* ev) {
  if (ev) {
    RealiseEvent d{RealiseEvent::Kind::kEipDisassociated};
    d.public_ip = a.public_ip.str();
    d.ip = a.private_ip;
    ev->push_back(d);
  }
  a.association_id.clear();
  a.eni_id.clear();
  a.private_ip = Ip4();
}

void Ec2Model::finishDetach(Eni& e, std::vector<RealiseEvent>* ev) {
  if (ev) ev->push_back(eniEvent(RealiseEvent::Kind::kEniDetached, e));
  e.attachment.reset();
}

ApiStatus Ec2Model::detachNetworkInterface(const std::string& attachment_id, bool /*force*/) {
  for (auto& [id, e] : enis_) {
    if (!e.attachment || e.attachment->id != attachment_id) continue;
    if (e.attachment->device_index == 0) {
      return apiError("OperationNotPermitted", "The network interface at device index 0 cannot be detached.");
    }
    if (e.attachment->status == "detaching") return {};  // repeated detach: idempotent
    e.attachment->status = "detaching";
    e.attachment->detach_done_at = clock_.now() + config_.detach_time;
    return {};
  }
  return notFound("InvalidAttachmentID.NotFound", "attachment ID", attachment_id);
}

ApiStatus Ec2Model::deleteNetworkInterface(const std::string& eni_id, std::vector<RealiseEvent>* ev) {
  Eni* e = findEni(eni_id);
  if (!e) return notFound("InvalidNetworkInterfaceID.NotFound", "networkInterface ID", eni_id);
  if (e->attachment) {
    return apiError("InvalidNetworkInterface.InUse",
                    "The network interface '" + eni_id + "' is currently in use.");
  }
  for (auto& [aid, a] : addresses_) {
    if (a.eni_id == eni_id) {
      dropAssociation(a, ev);
    }
  }
  enis_.erase(eni_id);
  return {};
}

ApiStatus Ec2Model::setSourceDestCheck(const std::string& eni_id, bool value) {
  Eni* e = findEni(eni_id);
  if (!e) return notFound("InvalidNetworkInterfaceID.NotFound", "networkInterface ID", eni_id);
  e->source_dest_check = value;
  return {};
}

ApiStatus Ec2Model::setInstanceRunning(const std::string& instance_id, bool running) {
  auto it = instances_.find(instance_id);
  if (it == instances_.end()) return notFound("InvalidInstanceID.NotFound", "instance ID", instance_id);
  it->second.running = running;
  return {};
}

ApiStatus Ec2Model::setEniDescription(const std::string& eni_id, const std::string& description) {
  Eni* e = findEni(eni_id);
  if (!e) return notFound("InvalidNetworkInterfaceID.NotFound", "networkInterface ID", eni_id);
  e->description = description;
  return {};
}

ApiStatus Ec2Model::setEniGroups(const std::string& eni_id, const std::vector<std::string>& groups) {
  Eni* e = findEni(eni_id);
  if (!e) return notFound("InvalidNetworkInterfaceID.NotFound", "networkInterface ID", eni_id);
  for (const auto& g : groups) {
    if (!security_groups_.count(g)) return notFound("InvalidGroup.NotFound", "security group", g);
  }
  e->groups = groups;
  return {};
}

ApiStatus Ec2Model::assignPrivateIps(const std::string& eni_id, const std::vector<std::string>& ips,
                                     int secondary_count, bool allow_reassignment,
                                     std::vector<RealiseEvent>* ev, std::vector<Ip4>* assigned) {
  Eni* e = findEni(eni_id);
  if (!e) return notFound("InvalidNetworkInterfaceID.NotFound", "networkInterface ID", eni_id);
  if (ips.empty() && secondary_count <= 0) {
    return apiError("MissingParameter",
                    "Either 'privateIpAddresses' or 'secondaryPrivateIpAddressCount' must be specified.");
  }
  const Subnet& s = subnets_.at(e->subnet_id);
  // Validate everything first: the call is all-or-nothing.
  std::vector<Ip4> wanted;
  for (const auto& text : ips) {
    FLB_ASSIGN_OR_RETURN(Ip4 ip, parseIp(text));
    FLB_TRY(requireInSubnet(s, ip));
    std::string owner = ipOwner(ip);
    if (!owner.empty() && owner != eni_id) {
      if (enis_.at(owner).ips.front() == ip) {
        return apiError(
            "InvalidParameterValue",
            "Address " + text + " is the primary private IP address of " + owner + " and cannot move");
      }
      if (!allow_reassignment) {
        // Without AllowReassignment EC2 refuses an address that is assigned elsewhere.
        return apiError("InvalidParameterValue", "Address " + text + " is in use.");
      }
    }
    if (owner != eni_id) wanted.push_back(ip);
  }
  if (static_cast<int>(e->ips.size() + wanted.size()) + std::max(secondary_count, 0) > kMaxIpsPerEni) {
    return apiError("PrivateIpAddressLimitExceeded", "Number of private addresses will exceed limit.");
  }
  for (int n = 0; n < secondary_count; ++n) {
    FLB_ASSIGN_OR_RETURN(Ip4 ip, allocateIp(s));
    e->ips.push_back(ip);  // reserve it so the next allocation skips it
    wanted.push_back(ip);
  }
  e->ips.resize(e->ips.size() - static_cast<size_t>(std::max(secondary_count, 0)));
  for (Ip4 ip : wanted) {
    std::string owner = ipOwner(ip);
    if (!owner.empty()) {
      Eni& old = enis_.at(owner);
      std::erase(old.ips, ip);
      if (ev) {
        RealiseEvent u = eniEvent(RealiseEvent::Kind::kPrivateIpUnassigned, old);
        u.ip = ip;
        ev->push_back(u);
      }
    }
    e->ips.push_back(ip);
    // An Elastic IP bound to this private IP moves with it (EC2 API reference).
    for (auto& [aid, a] : addresses_) {
      if (!a.association_id.empty() && a.private_ip == ip) a.eni_id = eni_id;
    }
    if (ev) {
      RealiseEvent r = eniEvent(RealiseEvent::Kind::kPrivateIpAssigned, *e);
      r.ip = ip;
      r.attached = e->attachment.has_value() && e->attachment->status == "attached";
      ev->push_back(r);
    }
    if (assigned) assigned->push_back(ip);
  }
  return {};
}

ApiStatus Ec2Model::unassignPrivateIps(const std::string& eni_id, const std::vector<std::string>& ips,
                                       std::vector<RealiseEvent>* ev) {
  Eni* e = findEni(eni_id);
  if (!e) return notFound("InvalidNetworkInterfaceID.NotFound", "networkInterface ID", eni_id);
  if (ips.empty()) return missing("privateIpAddress");
  std::vector<Ip4> drop;
  for (const auto& text : ips) {
    FLB_ASSIGN_OR_RETURN(Ip4 ip, parseIp(text));
    auto pos = std::find(e->ips.begin(), e->ips.end(), ip);
    if (pos == e->ips.end()) {
      return apiError("InvalidParameterValue",
                      "Some of the specified addresses are not assigned to interface " + eni_id);
    }
    if (pos == e->ips.begin()) {
      return apiError("InvalidParameterValue",
                      "The primary private IP address " + text + " cannot be unassigned");
    }
    drop.push_back(ip);
  }
  for (Ip4 ip : drop) {
    std::erase(e->ips, ip);
    for (auto& [aid, a] : addresses_) {
      if (a.eni_id == eni_id && a.private_ip == ip) {
        dropAssociation(a, ev);
      }
    }
    if (ev) {
      RealiseEvent u = eniEvent(RealiseEvent::Kind::kPrivateIpUnassigned, *e);
      u.ip = ip;
      ev->push_back(u);
    }
  }
  return {};
}

// ---- Elastic IPs --------------------------------------------------------------------------------
Outcome<std::string> Ec2Model::allocateAddress(const Tags& tags) {
  for (uint64_t n = 10; n + 1 < config_.eip_pool.size(); ++n) {
    Ip4 ip = config_.eip_pool.at(n);
    bool used = false;
    for (const auto& [id, a] : addresses_) used = used || a.public_ip == ip;
    if (used) continue;
    ElasticIp a;
    a.allocation_id = newId("eipalloc");
    a.public_ip = ip;
    a.tags = tags;
    addresses_[a.allocation_id] = a;
    return a.allocation_id;
  }
  return apiError("AddressLimitExceeded", "The maximum number of addresses has been reached.");
}

ApiStatus Ec2Model::releaseAddress(const std::string& allocation_id) {
  auto it = addresses_.find(allocation_id);
  if (it == addresses_.end()) return notFound("InvalidAllocationID.NotFound", "allocation ID", allocation_id);
  if (!it->second.association_id.empty()) {
    return apiError("InvalidIPAddress.InUse", "Address " + it->second.public_ip.str() + " is in use.");
  }
  addresses_.erase(it);
  return {};
}

Outcome<std::string> Ec2Model::associateAddress(const std::string& allocation_id,
                                                const std::string& eni_id_in, const std::string& instance_id,
                                                std::optional<Ip4> private_ip, bool allow_reassociation,
                                                std::vector<RealiseEvent>* ev) {
  auto ait = addresses_.find(allocation_id);
  if (ait == addresses_.end())
    return notFound("InvalidAllocationID.NotFound", "allocation ID", allocation_id);
  std::string eni_id = eni_id_in;
  if (eni_id.empty() && instance_id.empty()) {
    return apiError("MissingParameter", "Either instance ID or network interface ID must be specified");
  }
  if (!eni_id.empty() && !instance_id.empty()) {
    return apiError("InvalidParameterCombination",
                    "Specify either an instance ID or a network interface ID, not both");
  }
  if (!instance_id.empty()) {
    if (!instance(instance_id)) return notFound("InvalidInstanceID.NotFound", "instance ID", instance_id);
    auto enis = enisOf(instance_id);
    if (enis.size() != 1) {
      return apiError("InvalidInstanceID",
                      "There are multiple interfaces attached to instance '" + instance_id +
                          "'. Please specify an interface ID for the operation instead.");
    }
    eni_id = enis.front()->id;
  }
  const Eni* e = eni(eni_id);
  if (!e) return notFound("InvalidNetworkInterfaceID.NotFound", "networkInterface ID", eni_id);
  Ip4 target = private_ip.value_or(e->ips.front());
  if (std::find(e->ips.begin(), e->ips.end(), target) == e->ips.end()) {
    return apiError("InvalidParameterValue", "The specified private IP address " + target.str() +
                                                 " is not assigned to network interface " + eni_id);
  }
  ElasticIp& a = ait->second;
  if (!a.association_id.empty() && a.eni_id == eni_id && a.private_ip == target) return a.association_id;
  if (!a.association_id.empty() && !allow_reassociation) {
    return apiError(
        "Resource.AlreadyAssociated",
        "resource " + allocation_id + " is already associated with associate-id " + a.association_id);
  }
  for (auto& [oid, other] : addresses_) {
    if (oid != allocation_id && !other.association_id.empty() && other.private_ip == target) {
      if (!allow_reassociation) {
        return apiError(
            "Resource.AlreadyAssociated",
            "private IP " + target.str() + " is already associated with " + other.public_ip.str());
      }
      dropAssociation(other, ev);
    }
  }
  if (!a.association_id.empty()) dropAssociation(a, ev);
  a.association_id = newId("eipassoc");
  a.eni_id = eni_id;
  a.private_ip = target;
  if (ev) {
    RealiseEvent r{RealiseEvent::Kind::kEipAssociated};
    r.public_ip = a.public_ip.str();
    r.ip = target;
    r.eni_id = eni_id;
    ev->push_back(r);
  }
  return a.association_id;
}

ApiStatus Ec2Model::disassociateAddress(const std::string& association_id, std::vector<RealiseEvent>* ev) {
  for (auto& [aid, a] : addresses_) {
    if (a.association_id != association_id || association_id.empty()) continue;
    dropAssociation(a, ev);
    return {};
  }
  return notFound("InvalidAssociationID.NotFound", "association ID", association_id);
}

ApiStatus Ec2Model::createTags(const std::vector<std::string>& resource_ids, const Tags& tags) {
  if (resource_ids.empty()) return missing("resourceIdSet");
  for (const auto& id : resource_ids) {
    if (!tagsOf(id)) {
      std::string prefix = id.substr(0, id.rfind('-'));
      static const std::map<std::string, std::string> kCodes = {{"vpc", "InvalidVpcID.NotFound"},
                                                                {"subnet", "InvalidSubnetID.NotFound"},
                                                                {"rtb", "InvalidRouteTableID.NotFound"},
                                                                {"igw", "InvalidInternetGatewayID.NotFound"},
                                                                {"eni", "InvalidNetworkInterfaceID.NotFound"},
                                                                {"i", "InvalidInstanceID.NotFound"},
                                                                {"eipalloc", "InvalidAllocationID.NotFound"}};
      auto c = kCodes.find(prefix);
      return apiError(c != kCodes.end() ? c->second : "InvalidID", "The ID '" + id + "' does not exist");
    }
  }
  for (const auto& id : resource_ids) {
    for (const auto& [k, v] : tags) (*tagsOf(id))[k] = v;
  }
  return {};
}

// ---- async transitions --------------------------------------------------------------------------
std::vector<RealiseEvent> Ec2Model::tick() {
  std::vector<RealiseEvent> ev;
  TimePoint now = clock_.now();
  for (auto& [id, e] : enis_) {
    if (e.attachment && e.attachment->status == "detaching" && now >= e.attachment->detach_done_at) {
      finishDetach(e, &ev);
    }
  }
  for (auto& [vid, v] : vpcs_) {
    for (auto& a : v.cidrs) {
      if (a.state == "associating" && now >= a.transition_at) a.state = "associated";
    }
    std::erase_if(v.cidrs, [&](const CidrAssociation& a) {
      return a.state == "disassociating" && now >= a.transition_at;
    });
  }
  return ev;
}

}  // namespace floatlb::sim
