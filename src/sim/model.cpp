#include "sim/model.h"

#include <fmt/core.h>

#include <algorithm>
#include <ctime>
#include <set>

#include "sim/xml.h"

namespace floatlb::sim {

using xml::el;
using xml::raw;

namespace {

constexpr int kMaxIpsPerEni = 6;  // t3.medium (the seed's instance type): 6 IPv4 per interface

uint64_t mix64(uint64_t x) {  // splitmix64 finalizer: ids look random but are deterministic
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::string isoTime(int64_t wall_ms) {
  std::time_t t = static_cast<std::time_t>(wall_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03d}Z", buf, static_cast<int>(wall_ms % 1000));
}

ApiError missing(const std::string& name) {
  return apiError("MissingParameter", "The request must contain the parameter " + name);
}

ApiError notFound(const std::string& code, const std::string& what, const std::string& id) {
  return apiError(code, "The " + what + " '" + id + "' does not exist");
}

Outcome<std::string> required(const Params& p, const std::string& name) {
  auto v = p.get(name);
  if (!v || v->empty()) return missing(name);
  return *v;
}

Outcome<Ip4> parseIp(const std::string& text) {
  auto r = Ip4::parse(text);
  if (!r.ok()) return apiError("InvalidParameterValue", "Invalid IPv4 address: " + text);
  return r.value();
}

// Filter evaluation: `fields(name)` returns the values of a resource's field (nullopt = unknown).
using FieldFn = std::function<std::optional<std::vector<std::string>>(const std::string&)>;

ApiStatus checkFilterNames(const std::vector<Filter>& filters, const std::set<std::string>& allowed) {
  for (const auto& f : filters) {
    if (f.name.rfind("tag:", 0) == 0 || f.name == "tag-key" || allowed.count(f.name)) continue;
    return apiError("InvalidParameterValue", "The filter '" + f.name + "' is invalid");
  }
  return {};
}

bool matchesFilters(const std::vector<Filter>& filters, const Tags& tags, const FieldFn& fields) {
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

Ec2Model::Ec2Model(const Clock& clock, ModelConfig config)
    : clock_(clock), config_(std::move(config)), throttler_(clock), faults_(config_.seed) {
  registerHandlers();
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

// ---- instances and ENIs -------------------------------------------------------------------------
Outcome<std::string> Ec2Model::runInstance(const std::string& subnet_id, std::optional<Ip4> private_ip,
                                           const std::vector<std::string>& groups, const Tags& tags,
                                           std::vector<RealiseEvent>* ev) {
  const Subnet* s = subnet(subnet_id);
  if (!s) return notFound("InvalidSubnetID.NotFound", "subnet ID", subnet_id);
  auto eni_id = createNetworkInterface(subnet_id, private_ip, groups, "Primary network interface", {});
  if (!eni_id.ok()) return eni_id.error();
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
  i.primary_eni = eni_id.value();
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
    auto a = allocateIp(*s, secondary_ips);
    if (!a.ok()) return a.error();
    ip = a.value();
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
    auto ip = parseIp(text);
    if (!ip.ok()) return ip.error();
    FLB_TRY(requireInSubnet(s, ip.value()));
    std::string owner = ipOwner(ip.value());
    if (!owner.empty() && owner != eni_id) {
      if (enis_.at(owner).ips.front() == ip.value()) {
        return apiError(
            "InvalidParameterValue",
            "Address " + text + " is the primary private IP address of " + owner + " and cannot move");
      }
      if (!allow_reassignment) {
        // Without AllowReassignment EC2 refuses an address that is assigned elsewhere.
        return apiError("InvalidParameterValue", "Address " + text + " is in use.");
      }
    }
    if (owner != eni_id) wanted.push_back(ip.value());
  }
  if (static_cast<int>(e->ips.size() + wanted.size()) + std::max(secondary_count, 0) > kMaxIpsPerEni) {
    return apiError("PrivateIpAddressLimitExceeded", "Number of private addresses will exceed limit.");
  }
  for (int n = 0; n < secondary_count; ++n) {
    auto ip = allocateIp(s);
    if (!ip.ok()) return ip.error();
    e->ips.push_back(ip.value());  // reserve it so the next allocation skips it
    wanted.push_back(ip.value());
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
    auto ip = parseIp(text);
    if (!ip.ok()) return ip.error();
    auto pos = std::find(e->ips.begin(), e->ips.end(), ip.value());
    if (pos == e->ips.end()) {
      return apiError("InvalidParameterValue",
                      "Some of the specified addresses are not assigned to interface " + eni_id);
    }
    if (pos == e->ips.begin()) {
      return apiError("InvalidParameterValue",
                      "The primary private IP address " + text + " cannot be unassigned");
    }
    drop.push_back(ip.value());
  }
  for (Ip4 ip : drop) {
    std::erase(e->ips, ip);
    for (auto& [aid, a] : addresses_) {
      if (a.eni_id == eni_id && a.private_ip == ip) {
        if (ev) {
          RealiseEvent d{RealiseEvent::Kind::kEipDisassociated};
          d.public_ip = a.public_ip.str();
          d.ip = ip;
          ev->push_back(d);
        }
        a.association_id.clear();
        a.eni_id.clear();
        a.private_ip = Ip4();
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
      if (ev) {
        RealiseEvent d{RealiseEvent::Kind::kEipDisassociated};
        d.public_ip = other.public_ip.str();
        d.ip = other.private_ip;
        ev->push_back(d);
      }
      other.association_id.clear();
      other.eni_id.clear();
      other.private_ip = Ip4();
    }
  }
  if (!a.association_id.empty() && ev) {
    RealiseEvent d{RealiseEvent::Kind::kEipDisassociated};
    d.public_ip = a.public_ip.str();
    d.ip = a.private_ip;
    ev->push_back(d);
  }
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
    if (ev) {
      RealiseEvent d{RealiseEvent::Kind::kEipDisassociated};
      d.public_ip = a.public_ip.str();
      d.ip = a.private_ip;
      ev->push_back(d);
    }
    a.association_id.clear();
    a.eni_id.clear();
    a.private_ip = Ip4();
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

// ---- XML renderers ------------------------------------------------------------------------------
std::string Ec2Model::vpcXml(const Vpc& v) const {
  std::string assocs;
  for (const auto& a : v.cidrs) {
    assocs += raw("item", el("cidrBlock", a.cidr.str()) + el("associationId", a.id) +
                              raw("cidrBlockState", el("state", a.state)));
  }
  return el("vpcId", v.id) + el("ownerId", config_.account) + el("state", "available") +
         el("cidrBlock", v.cidrs.front().cidr.str()) + raw("cidrBlockAssociationSet", assocs) +
         el("dhcpOptionsId", "dopt-0vpcsim") + el("instanceTenancy", "default") + el("isDefault", false) +
         xml::tagSet(v.tags);
}

std::string Ec2Model::subnetXml(const Subnet& s) const {
  int used = 0;
  for (const auto& [id, e] : enis_) {
    if (e.subnet_id == s.id) used += static_cast<int>(e.ips.size());
  }
  int zone_index =
      static_cast<int>(std::find(config_.azs.begin(), config_.azs.end(), s.az) - config_.azs.begin());
  return el("subnetId", s.id) +
         el("subnetArn", "arn:aws:ec2:" + config_.region + ":" + config_.account + ":subnet/" + s.id) +
         el("state", "available") + el("ownerId", config_.account) + el("vpcId", s.vpc_id) +
         el("cidrBlock", s.cidr.str()) + raw("ipv6CidrBlockAssociationSet", "") +
         el("availableIpAddressCount", static_cast<int>(s.cidr.size()) - 5 - used) +
         el("availabilityZone", s.az) + el("availabilityZoneId", fmt::format("apne3-az{}", zone_index + 1)) +
         el("defaultForAz", false) + el("mapPublicIpOnLaunch", false) +
         el("assignIpv6AddressOnCreation", false) + xml::tagSet(s.tags);
}

std::string Ec2Model::eniXml(const Eni& e) const {
  auto assocXml = [&](Ip4 ip) -> std::string {
    for (const auto& [aid, a] : addresses_) {
      if (a.eni_id == e.id && a.private_ip == ip) {
        return raw("association", el("publicIp", a.public_ip.str()) + el("publicDnsName", "") +
                                      el("ipOwnerId", config_.account) + el("allocationId", a.allocation_id) +
                                      el("associationId", a.association_id));
      }
    }
    return "";
  };
  std::string groups;
  for (const auto& g : e.groups)
    groups += raw("item", el("groupId", g) + el("groupName", g == "" ? "" : "default"));
  std::string attach;
  if (e.attachment) {
    attach = raw("attachment",
                 el("attachmentId", e.attachment->id) + el("instanceId", e.attachment->instance_id) +
                     el("instanceOwnerId", config_.account) + el("deviceIndex", e.attachment->device_index) +
                     el("networkCardIndex", 0) + el("status", e.attachment->status) +
                     el("attachTime", isoTime(e.attachment->attach_wall_ms)) +
                     el("deleteOnTermination", e.attachment->device_index == 0));
  }
  std::string ips;
  for (size_t n = 0; n < e.ips.size(); ++n) {
    ips += raw("item", el("privateIpAddress", e.ips[n].str()) + el("primary", n == 0) + assocXml(e.ips[n]));
  }
  return el("networkInterfaceId", e.id) + el("subnetId", e.subnet_id) + el("vpcId", e.vpc_id) +
         el("availabilityZone", e.az) + el("description", e.description) + el("ownerId", config_.account) +
         el("requesterManaged", false) + el("status", e.attachment ? "in-use" : "available") +
         el("macAddress", e.mac) + el("privateIpAddress", e.ips.front().str()) +
         el("sourceDestCheck", e.source_dest_check) + raw("groupSet", groups) + attach +
         assocXml(e.ips.front()) + xml::tagSet(e.tags) + raw("privateIpAddressesSet", ips) +
         raw("ipv6AddressesSet", "") + el("interfaceType", "interface");
}

std::string Ec2Model::routeTableXml(const RouteTable& r) const {
  std::string routes, assocs;
  for (const auto& rt : r.routes) {
    routes += raw("item", el("destinationCidrBlock", rt.dest.str()) + el("gatewayId", rt.gateway_id) +
                              el("state", "active") +
                              el("origin", rt.gateway_id == "local" ? "CreateRouteTable" : "CreateRoute"));
  }
  for (const auto& a : r.associations) {
    assocs += raw("item", el("routeTableAssociationId", a.id) + el("routeTableId", r.id) +
                              (a.subnet_id.empty() ? "" : el("subnetId", a.subnet_id)) + el("main", a.main) +
                              raw("associationState", el("state", "associated")));
  }
  return el("routeTableId", r.id) + el("vpcId", r.vpc_id) + el("ownerId", config_.account) +
         raw("routeSet", routes) + raw("associationSet", assocs) + raw("propagatingVgwSet", "") +
         xml::tagSet(r.tags);
}

std::string Ec2Model::instanceXml(const Instance& i) const {
  std::string enis;
  const Eni* primary = eni(i.primary_eni);
  for (const Eni* e : enisOf(i.id)) enis += raw("item", eniXml(*e));
  return el("instanceId", i.id) + el("imageId", i.image_id) +
         raw("instanceState", el("code", 16) + el("name", "running")) +
         el("privateDnsName",
            primary ? "ip-" + primary->ips.front().str() + "." + config_.region + ".compute.internal" : "") +
         el("instanceType", i.instance_type) +
         raw("placement", el("availabilityZone", i.az) + el("tenancy", "default")) +
         el("subnetId", i.subnet_id) + el("vpcId", i.vpc_id) +
         el("privateIpAddress", primary ? primary->ips.front().str() : "") +
         el("sourceDestCheck", primary ? primary->source_dest_check : true) +
         raw("networkInterfaceSet", enis) + xml::tagSet(i.tags);
}

std::string Ec2Model::addressXml(const ElasticIp& a) const {
  std::string assoc;
  if (!a.association_id.empty()) {
    const Eni* e = eni(a.eni_id);
    std::string inst = e && e->attachment ? e->attachment->instance_id : "";
    assoc = (inst.empty() ? "" : el("instanceId", inst)) + el("associationId", a.association_id) +
            el("networkInterfaceId", a.eni_id) + el("networkInterfaceOwnerId", config_.account) +
            el("privateIpAddress", a.private_ip.str());
  }
  return el("publicIp", a.public_ip.str()) + el("allocationId", a.allocation_id) + el("domain", "vpc") +
         assoc + el("networkBorderGroup", config_.region) + el("publicIpv4Pool", "amazon") +
         xml::tagSet(a.tags);
}

// ---- the Query API ------------------------------------------------------------------------------
ApiResponse Ec2Model::handle(const std::string& action, const Params& params, const std::string& request_id) {
  ApiResponse resp;
  resp.events = tick();
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
  std::vector<RealiseEvent> events;
  auto out = h->second(params, &events);
  if (!out.ok()) return fail(out.error());
  resp.body = xml::successDocument(action, request_id, out.value());
  resp.events.insert(resp.events.end(), events.begin(), events.end());
  return resp;
}

void Ec2Model::registerHandlers() {
  auto& H = handlers_;
  const std::string kTrue = el("return", true);

  // Generic describe: ids (with a not-found code), filters, item renderer.
  auto describe = [this](const Params& p, const std::string& id_key, const std::string& nf_code,
                         const std::string& nf_what, const std::set<std::string>& filter_names,
                         auto& collection, auto fields, auto render) -> Outcome<std::string> {
    auto filters = parseFilters(p);
    FLB_TRY(checkFilterNames(filters, filter_names));
    auto ids = p.list(id_key);
    for (const auto& id : ids) {
      if (!collection.count(id)) return notFound(nf_code, nf_what, id);
    }
    std::string items;
    for (const auto& [id, obj] : collection) {
      if (!ids.empty() && std::find(ids.begin(), ids.end(), id) == ids.end()) continue;
      FieldFn fn = [&](const std::string& n) { return fields(obj, n); };
      if (!matchesFilters(filters, obj.tags, fn)) continue;
      items += raw("item", render(obj));
    }
    return items;
  };
  using Vals = std::optional<std::vector<std::string>>;

  H["DescribeVpcs"] = [=, this](const Params& p, auto*) -> Outcome<std::string> {
    auto r = describe(
        p, "VpcId", "InvalidVpcID.NotFound", "vpc ID",
        {"vpc-id", "cidr", "cidr-block-association.cidr-block", "cidr-block-association.state",
         "cidr-block-association.association-id", "state", "owner-id", "is-default"},
        vpcs_,
        [](const Vpc& v, const std::string& n) -> Vals {
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
        },
        [this](const Vpc& v) { return vpcXml(v); });
    if (!r.ok()) return r.error();
    return raw("vpcSet", r.value());
  };
  H["AssociateVpcCidrBlock"] = [this](const Params& p, auto*) -> Outcome<std::string> {
    auto vpc_id = required(p, "VpcId");
    if (!vpc_id.ok()) return vpc_id.error();
    auto cidr = required(p, "CidrBlock");
    if (!cidr.ok()) return cidr.error();
    auto id = associateVpcCidr(vpc_id.value(), cidr.value());
    if (!id.ok()) return id.error();
    for (const auto& a : vpcs_.at(vpc_id.value()).cidrs) {
      if (a.id == id.value()) {
        return el("vpcId", vpc_id.value()) +
               raw("cidrBlockAssociation", el("associationId", a.id) + el("cidrBlock", a.cidr.str()) +
                                               raw("cidrBlockState", el("state", a.state)));
      }
    }
    return apiError("InternalError", "association vanished", 500);
  };
  H["DisassociateVpcCidrBlock"] = [this](const Params& p, auto*) -> Outcome<std::string> {
    auto assoc = required(p, "AssociationId");
    if (!assoc.ok()) return assoc.error();
    std::string cidr;
    for (const auto& [vid, v] : vpcs_) {
      for (const auto& a : v.cidrs) {
        if (a.id == assoc.value()) cidr = a.cidr.str();
      }
    }
    auto vid = disassociateVpcCidr(assoc.value());
    if (!vid.ok()) return vid.error();
    return el("vpcId", vid.value()) +
           raw("cidrBlockAssociation", el("associationId", assoc.value()) + el("cidrBlock", cidr) +
                                           raw("cidrBlockState", el("state", "disassociating")));
  };
  H["DescribeSubnets"] = [=, this](const Params& p, auto*) -> Outcome<std::string> {
    auto r = describe(
        p, "SubnetId", "InvalidSubnetID.NotFound", "subnet ID",
        {"subnet-id", "vpc-id", "availability-zone", "cidr-block", "cidr", "cidrBlock", "state",
         "default-for-az", "owner-id"},
        subnets_,
        [](const Subnet& s, const std::string& n) -> Vals {
          if (n == "subnet-id") return std::vector<std::string>{s.id};
          if (n == "vpc-id") return std::vector<std::string>{s.vpc_id};
          if (n == "availability-zone") return std::vector<std::string>{s.az};
          if (n == "cidr-block" || n == "cidr" || n == "cidrBlock") {
            return std::vector<std::string>{s.cidr.str()};
          }
          if (n == "state") return std::vector<std::string>{"available"};
          if (n == "default-for-az") return std::vector<std::string>{"false"};
          return std::nullopt;
        },
        [this](const Subnet& s) { return subnetXml(s); });
    if (!r.ok()) return r.error();
    return raw("subnetSet", r.value());
  };
  H["CreateSubnet"] = [this](const Params& p, auto* ev) -> Outcome<std::string> {
    auto vpc_id = required(p, "VpcId");
    if (!vpc_id.ok()) return vpc_id.error();
    auto cidr = required(p, "CidrBlock");
    if (!cidr.ok()) return cidr.error();
    auto id = createSubnet(vpc_id.value(), cidr.value(), p.getOr("AvailabilityZone", ""),
                           parseTagSpecs(p, "subnet"), ev);
    if (!id.ok()) return id.error();
    return raw("subnet", subnetXml(subnets_.at(id.value())));
  };
  H["DeleteSubnet"] = [=, this](const Params& p, auto* ev) -> Outcome<std::string> {
    auto id = required(p, "SubnetId");
    if (!id.ok()) return id.error();
    FLB_TRY(deleteSubnet(id.value(), ev));
    return kTrue;
  };
  H["DescribeRouteTables"] = [=, this](const Params& p, auto*) -> Outcome<std::string> {
    auto r = describe(
        p, "RouteTableId", "InvalidRouteTableID.NotFound", "routeTable ID",
        {"route-table-id", "vpc-id", "association.subnet-id", "association.route-table-association-id",
         "association.main", "route.gateway-id", "route.destination-cidr-block"},
        route_tables_,
        [](const RouteTable& r, const std::string& n) -> Vals {
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
        },
        [this](const RouteTable& r) { return routeTableXml(r); });
    if (!r.ok()) return r.error();
    return raw("routeTableSet", r.value());
  };
  H["CreateRouteTable"] = [this](const Params& p, auto*) -> Outcome<std::string> {
    auto vpc_id = required(p, "VpcId");
    if (!vpc_id.ok()) return vpc_id.error();
    auto id = createRouteTable(vpc_id.value(), parseTagSpecs(p, "route-table"));
    if (!id.ok()) return id.error();
    return raw("routeTable", routeTableXml(route_tables_.at(id.value())));
  };
  H["AssociateRouteTable"] = [this](const Params& p, auto*) -> Outcome<std::string> {
    auto rtb = required(p, "RouteTableId");
    if (!rtb.ok()) return rtb.error();
    auto sub = required(p, "SubnetId");
    if (!sub.ok()) return sub.error();
    auto id = associateRouteTable(rtb.value(), sub.value());
    if (!id.ok()) return id.error();
    return el("associationId", id.value()) + raw("associationState", el("state", "associated"));
  };
  H["DisassociateRouteTable"] = [=, this](const Params& p, auto*) -> Outcome<std::string> {
    auto id = required(p, "AssociationId");
    if (!id.ok()) return id.error();
    FLB_TRY(disassociateRouteTable(id.value()));
    return kTrue;
  };
  H["DeleteRouteTable"] = [=, this](const Params& p, auto*) -> Outcome<std::string> {
    auto id = required(p, "RouteTableId");
    if (!id.ok()) return id.error();
    FLB_TRY(deleteRouteTable(id.value()));
    return kTrue;
  };
  H["CreateRoute"] = [=, this](const Params& p, auto*) -> Outcome<std::string> {
    auto id = required(p, "RouteTableId");
    if (!id.ok()) return id.error();
    auto dest = required(p, "DestinationCidrBlock");
    if (!dest.ok()) return dest.error();
    auto gw = required(p, "GatewayId");
    if (!gw.ok()) return gw.error();
    FLB_TRY(createRoute(id.value(), dest.value(), gw.value()));
    return kTrue;
  };
  H["DescribeInternetGateways"] = [=, this](const Params& p, auto*) -> Outcome<std::string> {
    auto r = describe(
        p, "InternetGatewayId", "InvalidInternetGatewayID.NotFound", "internetGateway ID",
        {"internet-gateway-id", "attachment.vpc-id", "attachment.state", "owner-id"}, igws_,
        [](const InternetGateway& g, const std::string& n) -> Vals {
          if (n == "internet-gateway-id") return std::vector<std::string>{g.id};
          if (n == "attachment.vpc-id") return std::vector<std::string>{g.vpc_id};
          if (n == "attachment.state") return std::vector<std::string>{"available"};
          return std::nullopt;
        },
        [this](const InternetGateway& g) {
          return el("internetGatewayId", g.id) +
                 raw("attachmentSet", raw("item", el("vpcId", g.vpc_id) + el("state", "available"))) +
                 el("ownerId", config_.account) + xml::tagSet(g.tags);
        });
    if (!r.ok()) return r.error();
    return raw("internetGatewaySet", r.value());
  };
  H["DescribeAvailabilityZones"] = [this](const Params&, auto*) -> Outcome<std::string> {
    std::string items;
    for (size_t n = 0; n < config_.azs.size(); ++n) {
      items +=
          raw("item", el("zoneName", config_.azs[n]) + el("zoneState", "available") +
                          el("regionName", config_.region) + el("zoneId", fmt::format("apne3-az{}", n + 1)) +
                          el("zoneType", "availability-zone"));
    }
    return raw("availabilityZoneInfo", items);
  };
  H["RunInstances"] = [this](const Params& p, auto* ev) -> Outcome<std::string> {
    auto sub = required(p, "SubnetId");
    if (!sub.ok()) return sub.error();
    if (p.getOr("MinCount", "1") != "1" || p.getOr("MaxCount", "1") != "1") {
      return apiError("InvalidParameterValue",
                      "vpcsim launches exactly one instance per call (MinCount=MaxCount=1)");
    }
    std::optional<Ip4> ip;
    if (auto t = p.get("PrivateIpAddress")) {
      auto r = parseIp(*t);
      if (!r.ok()) return r.error();
      ip = r.value();
    }
    auto id = runInstance(sub.value(), ip, p.list("SecurityGroupId"), parseTagSpecs(p, "instance"), ev);
    if (!id.ok()) return id.error();
    return el("reservationId", "r-" + id.value().substr(2)) + el("ownerId", config_.account) +
           raw("groupSet", "") + raw("instancesSet", raw("item", instanceXml(instances_.at(id.value()))));
  };
  H["DescribeInstances"] = [=, this](const Params& p, auto*) -> Outcome<std::string> {
    auto r = describe(
        p, "InstanceId", "InvalidInstanceID.NotFound", "instance ID",
        {"instance-id", "availability-zone", "subnet-id", "vpc-id", "private-ip-address",
         "instance-state-name", "network-interface.network-interface-id", "instance-type"},
        instances_,
        [this](const Instance& i, const std::string& n) -> Vals {
          if (n == "instance-id") return std::vector<std::string>{i.id};
          if (n == "availability-zone") return std::vector<std::string>{i.az};
          if (n == "subnet-id") return std::vector<std::string>{i.subnet_id};
          if (n == "vpc-id") return std::vector<std::string>{i.vpc_id};
          if (n == "instance-state-name") return std::vector<std::string>{"running"};
          if (n == "instance-type") return std::vector<std::string>{i.instance_type};
          std::vector<std::string> out;
          for (const Eni* e : enisOf(i.id)) {
            if (n == "network-interface.network-interface-id") out.push_back(e->id);
            if (n == "private-ip-address" && e->attachment->device_index == 0) {
              out.push_back(e->ips.front().str());
            }
          }
          return out;
        },
        [this](const Instance& i) {
          return el("reservationId", "r-" + i.id.substr(2)) + el("ownerId", config_.account) +
                 raw("groupSet", "") + raw("instancesSet", raw("item", instanceXml(i)));
        });
    if (!r.ok()) return r.error();
    return raw("reservationSet", r.value());
  };
  H["DescribeNetworkInterfaces"] = [=, this](const Params& p, auto*) -> Outcome<std::string> {
    auto r = describe(
        p, "NetworkInterfaceId", "InvalidNetworkInterfaceID.NotFound", "networkInterface ID",
        {"network-interface-id", "subnet-id", "vpc-id", "availability-zone", "attachment.instance-id",
         "attachment.attachment-id", "attachment.status", "attachment.device-index", "status", "description",
         "private-ip-address", "addresses.private-ip-address", "mac-address", "group-id", "source-dest-check",
         "association.public-ip", "association.allocation-id"},
        enis_,
        [this](const Eni& e, const std::string& n) -> Vals {
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
          for (const auto& [aid, a] : addresses_) {
            if (a.eni_id != e.id) continue;
            if (n == "association.public-ip") out.push_back(a.public_ip.str());
            if (n == "association.allocation-id") out.push_back(a.allocation_id);
          }
          return out;
        },
        [this](const Eni& e) { return eniXml(e); });
    if (!r.ok()) return r.error();
    return raw("networkInterfaceSet", r.value());
  };
  H["CreateNetworkInterface"] = [this](const Params& p, auto*) -> Outcome<std::string> {
    auto sub = required(p, "SubnetId");
    if (!sub.ok()) return sub.error();
    std::optional<Ip4> ip;
    if (auto t = p.get("PrivateIpAddress")) {
      auto r = parseIp(*t);
      if (!r.ok()) return r.error();
      ip = r.value();
    }
    std::vector<Ip4> secondaries;
    for (const auto& spec : p.groups("PrivateIpAddresses")) {
      auto text = required(spec, "PrivateIpAddress");
      if (!text.ok()) return text.error();
      auto r = parseIp(text.value());
      if (!r.ok()) return r.error();
      if (spec.getOr("Primary", "false") == "true") {
        if (ip && *ip != r.value()) {
          return apiError("InvalidParameterCombination",
                          "Only one primary private IP address can be specified.");
        }
        ip = r.value();
      } else {
        secondaries.push_back(r.value());
      }
    }
    auto id = createNetworkInterface(sub.value(), ip, p.list("SecurityGroupId"), p.getOr("Description", ""),
                                     parseTagSpecs(p, "network-interface"), secondaries);
    if (!id.ok()) return id.error();
    return raw("networkInterface", eniXml(enis_.at(id.value())));
  };
  H["AttachNetworkInterface"] = [this](const Params& p, auto* ev) -> Outcome<std::string> {
    auto eni_id = required(p, "NetworkInterfaceId");
    if (!eni_id.ok()) return eni_id.error();
    auto inst = required(p, "InstanceId");
    if (!inst.ok()) return inst.error();
    auto dev = required(p, "DeviceIndex");
    if (!dev.ok()) return dev.error();
    int idx = -1;
    try {
      idx = std::stoi(dev.value());
    } catch (...) {
      return apiError("InvalidParameterValue", "Invalid value '" + dev.value() + "' for deviceIndex.");
    }
    auto id = attachNetworkInterface(eni_id.value(), inst.value(), idx, ev);
    if (!id.ok()) return id.error();
    return el("attachmentId", id.value()) + el("networkCardIndex", 0);
  };
  H["DetachNetworkInterface"] = [=, this](const Params& p, auto*) -> Outcome<std::string> {
    auto id = required(p, "AttachmentId");
    if (!id.ok()) return id.error();
    FLB_TRY(detachNetworkInterface(id.value(), p.flag("Force")));
    return kTrue;
  };
  H["DeleteNetworkInterface"] = [=, this](const Params& p, auto* ev) -> Outcome<std::string> {
    auto id = required(p, "NetworkInterfaceId");
    if (!id.ok()) return id.error();
    if (id.value().rfind("eni-", 0) != 0) {
      return apiError("InvalidNetworkInterfaceId.Malformed",
                      "Invalid id: \"" + id.value() + "\" (expecting \"eni-...\")");
    }
    FLB_TRY(deleteNetworkInterface(id.value(), ev));
    return kTrue;
  };
  H["ModifyNetworkInterfaceAttribute"] = [=, this](const Params& p, auto*) -> Outcome<std::string> {
    auto id = required(p, "NetworkInterfaceId");
    if (!id.ok()) return id.error();
    Eni* e = findEni(id.value());
    if (!e) return notFound("InvalidNetworkInterfaceID.NotFound", "networkInterface ID", id.value());
    if (auto v = p.get("SourceDestCheck.Value")) {
      FLB_TRY(setSourceDestCheck(id.value(), p.flag("SourceDestCheck.Value")));
    } else if (auto d = p.get("Description.Value")) {
      e->description = *d;
    } else if (!p.list("SecurityGroupId").empty()) {
      for (const auto& g : p.list("SecurityGroupId")) {
        if (!security_groups_.count(g)) return notFound("InvalidGroup.NotFound", "security group", g);
      }
      e->groups = p.list("SecurityGroupId");
    } else {
      return apiError("MissingParameter", "You must specify exactly one attribute to modify");
    }
    return kTrue;
  };
  H["AssignPrivateIpAddresses"] = [this](const Params& p, auto* ev) -> Outcome<std::string> {
    auto id = required(p, "NetworkInterfaceId");
    if (!id.ok()) return id.error();
    int count = 0;
    if (auto c = p.get("SecondaryPrivateIpAddressCount")) count = std::atoi(c->c_str());
    std::vector<Ip4> assigned;
    FLB_TRY(assignPrivateIps(id.value(), p.list("PrivateIpAddress"), count, p.flag("AllowReassignment"), ev,
                             &assigned));
    std::string items;
    for (auto ip : assigned) items += raw("item", el("privateIpAddress", ip.str()));
    return el("return", true) + el("networkInterfaceId", id.value()) +
           raw("assignedPrivateIpAddressesSet", items);
  };
  H["UnassignPrivateIpAddresses"] = [=, this](const Params& p, auto* ev) -> Outcome<std::string> {
    auto id = required(p, "NetworkInterfaceId");
    if (!id.ok()) return id.error();
    FLB_TRY(unassignPrivateIps(id.value(), p.list("PrivateIpAddress"), ev));
    return kTrue;
  };
  H["AllocateAddress"] = [this](const Params& p, auto*) -> Outcome<std::string> {
    auto id = allocateAddress(parseTagSpecs(p, "elastic-ip"));
    if (!id.ok()) return id.error();
    const ElasticIp& a = addresses_.at(id.value());
    return el("publicIp", a.public_ip.str()) + el("domain", "vpc") + el("allocationId", a.allocation_id) +
           el("publicIpv4Pool", "amazon") + el("networkBorderGroup", config_.region);
  };
  H["ReleaseAddress"] = [=, this](const Params& p, auto*) -> Outcome<std::string> {
    auto id = required(p, "AllocationId");
    if (!id.ok()) return id.error();
    FLB_TRY(releaseAddress(id.value()));
    return kTrue;
  };
  H["DescribeAddresses"] = [=, this](const Params& p, auto*) -> Outcome<std::string> {
    for (const auto& ip : p.list("PublicIp")) {
      bool found = false;
      for (const auto& [id, a] : addresses_) found = found || a.public_ip.str() == ip;
      if (!found) return apiError("InvalidAddress.NotFound", "Address '" + ip + "' not found.");
    }
    Params q = p;
    std::vector<std::string> ips = p.list("PublicIp");
    auto r = describe(
        q, "AllocationId", "InvalidAllocationID.NotFound", "allocation ID",
        {"public-ip", "allocation-id", "association-id", "network-interface-id", "private-ip-address",
         "instance-id", "domain", "network-border-group"},
        addresses_,
        [this](const ElasticIp& a, const std::string& n) -> Vals {
          using V = std::vector<std::string>;
          if (n == "public-ip") return V{a.public_ip.str()};
          if (n == "allocation-id") return V{a.allocation_id};
          if (n == "domain") return V{"vpc"};
          if (n == "network-border-group") return V{config_.region};
          if (a.association_id.empty()) return V{};
          if (n == "association-id") return V{a.association_id};
          if (n == "network-interface-id") return V{a.eni_id};
          if (n == "private-ip-address") return V{a.private_ip.str()};
          if (n == "instance-id") {
            const Eni* e = eni(a.eni_id);
            if (e && e->attachment) return V{e->attachment->instance_id};
          }
          return V{};
        },
        [&ips, this](const ElasticIp& a) {
          if (!ips.empty() && std::find(ips.begin(), ips.end(), a.public_ip.str()) == ips.end()) {
            return std::string();
          }
          return addressXml(a);
        });
    if (!r.ok()) return r.error();
    std::string items = r.value();
    // Drop the empty <item></item> of addresses filtered out by PublicIp.N.
    for (size_t pos; (pos = items.find("<item></item>")) != std::string::npos;) items.erase(pos, 13);
    return raw("addressesSet", items);
  };
  H["AssociateAddress"] = [this](const Params& p, auto* ev) -> Outcome<std::string> {
    std::string alloc = p.getOr("AllocationId", "");
    if (alloc.empty()) {
      auto pub = p.get("PublicIp");
      if (!pub) return missing("AllocationId");
      for (const auto& [id, a] : addresses_) {
        if (a.public_ip.str() == *pub) alloc = id;
      }
      if (alloc.empty()) return apiError("InvalidAddress.NotFound", "Address '" + *pub + "' not found.");
    }
    std::optional<Ip4> ip;
    if (auto t = p.get("PrivateIpAddress")) {
      auto r = parseIp(*t);
      if (!r.ok()) return r.error();
      ip = r.value();
    }
    auto id = associateAddress(alloc, p.getOr("NetworkInterfaceId", ""), p.getOr("InstanceId", ""), ip,
                               p.flag("AllowReassociation"), ev);
    if (!id.ok()) return id.error();
    return el("return", true) + el("associationId", id.value());
  };
  H["DisassociateAddress"] = [=, this](const Params& p, auto* ev) -> Outcome<std::string> {
    auto id = required(p, "AssociationId");
    if (!id.ok()) return id.error();
    FLB_TRY(disassociateAddress(id.value(), ev));
    return kTrue;
  };
  H["CreateTags"] = [=, this](const Params& p, auto*) -> Outcome<std::string> {
    FLB_TRY(createTags(p.list("ResourceId"), parseTags(p, "Tag")));
    return kTrue;
  };
}

}  // namespace floatlb::sim
