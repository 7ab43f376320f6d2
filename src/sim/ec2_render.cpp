#include "sim/ec2_render.h"

#include <fmt/core.h>

#include <algorithm>
#include <ctime>

#include "sim/xml.h"

namespace floatlb::sim::render {

using xml::el;
using xml::raw;

std::string isoTime(int64_t wall_ms) {
  std::time_t t = static_cast<std::time_t>(wall_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03d}Z", buf, static_cast<int>(wall_ms % 1000));
}

std::string cidrAssociation(const std::string& vpc_id, const std::string& association_id, const Cidr& cidr,
                            const std::string& state) {
  return el("vpcId", vpc_id) +
         raw("cidrBlockAssociation", el("associationId", association_id) + el("cidrBlock", cidr.str()) +
                                         raw("cidrBlockState", el("state", state)));
}

std::string vpc(const Ec2Model& m, const Vpc& v) {
  std::string assocs;
  for (const auto& a : v.cidrs) {
    assocs += raw("item", el("cidrBlock", a.cidr.str()) + el("associationId", a.id) +
                              raw("cidrBlockState", el("state", a.state)));
  }
  return el("vpcId", v.id) + el("ownerId", m.config().account) + el("state", "available") +
         el("cidrBlock", v.cidrs.front().cidr.str()) + raw("cidrBlockAssociationSet", assocs) +
         el("dhcpOptionsId", "dopt-0vpcsim") + el("instanceTenancy", "default") + el("isDefault", false) +
         xml::tagSet(v.tags);
}

std::string subnet(const Ec2Model& m, const Subnet& s) {
  const ModelConfig& c = m.config();
  int used = 0;
  for (const auto& [id, e] : m.enis()) {
    if (e.subnet_id == s.id) used += static_cast<int>(e.ips.size());
  }
  int zone_index = static_cast<int>(std::find(c.azs.begin(), c.azs.end(), s.az) - c.azs.begin());
  return el("subnetId", s.id) +
         el("subnetArn", "arn:aws:ec2:" + c.region + ":" + c.account + ":subnet/" + s.id) +
         el("state", "available") + el("ownerId", c.account) + el("vpcId", s.vpc_id) +
         el("cidrBlock", s.cidr.str()) + raw("ipv6CidrBlockAssociationSet", "") +
         el("availableIpAddressCount", static_cast<int>(s.cidr.size()) - 5 - used) +
         el("availabilityZone", s.az) + el("availabilityZoneId", fmt::format("apne3-az{}", zone_index + 1)) +
         el("defaultForAz", false) + el("mapPublicIpOnLaunch", false) +
         el("assignIpv6AddressOnCreation", false) + xml::tagSet(s.tags);
}

namespace {

// The <association> of an ENI private IP that holds an Elastic IP ("" when none).
std::string ipAssociation(const Ec2Model& m, const Eni& e, Ip4 ip) {
  for (const auto& [aid, a] : m.addresses()) {
    if (a.eni_id == e.id && a.private_ip == ip) {
      return raw("association", el("publicIp", a.public_ip.str()) + el("publicDnsName", "") +
                                    el("ipOwnerId", m.config().account) +
                                    el("allocationId", a.allocation_id) +
                                    el("associationId", a.association_id));
    }
  }
  return "";
}

std::string eniAttachment(const Ec2Model& m, const EniAttachment& a) {
  return raw("attachment", el("attachmentId", a.id) + el("instanceId", a.instance_id) +
                               el("instanceOwnerId", m.config().account) + el("deviceIndex", a.device_index) +
                               el("networkCardIndex", 0) + el("status", a.status) +
                               el("attachTime", isoTime(a.attach_wall_ms)) +
                               el("deleteOnTermination", a.device_index == 0));
}

}  // namespace

std::string networkInterface(const Ec2Model& m, const Eni& e) {
  std::string groups;
  for (const auto& g : e.groups)
    groups += raw("item", el("groupId", g) + el("groupName", g.empty() ? "" : "default"));
  std::string ips;
  for (size_t n = 0; n < e.ips.size(); ++n) {
    ips += raw("item", el("privateIpAddress", e.ips[n].str()) + el("primary", n == 0) +
                           ipAssociation(m, e, e.ips[n]));
  }
  return el("networkInterfaceId", e.id) + el("subnetId", e.subnet_id) + el("vpcId", e.vpc_id) +
         el("availabilityZone", e.az) + el("description", e.description) + el("ownerId", m.config().account) +
         el("requesterManaged", false) + el("status", e.attachment ? "in-use" : "available") +
         el("macAddress", e.mac) + el("privateIpAddress", e.ips.front().str()) +
         el("sourceDestCheck", e.source_dest_check) + raw("groupSet", groups) +
         (e.attachment ? eniAttachment(m, *e.attachment) : "") + ipAssociation(m, e, e.ips.front()) +
         xml::tagSet(e.tags) + raw("privateIpAddressesSet", ips) + raw("ipv6AddressesSet", "") +
         el("interfaceType", "interface");
}

namespace {

// One <item> of a routeSet: the target (gateway or network interface, with the instance it is
// attached to), state (active | blackhole) and origin.
std::string routeItem(const Ec2Model& m, const Route& rt) {
  std::string target;
  if (!rt.network_interface_id.empty()) {
    const Eni* e = m.eni(rt.network_interface_id);
    if (e && e->attachment) {
      target += el("instanceId", e->attachment->instance_id) + el("instanceOwnerId", m.config().account);
    }
    target += el("networkInterfaceId", rt.network_interface_id);
  } else {
    target = el("gatewayId", rt.gateway_id);
  }
  const bool local = rt.gateway_id == "local";
  return el("destinationCidrBlock", rt.dest.str()) + target + el("state", m.routeState(rt)) +
         el("origin", local ? "CreateRouteTable" : "CreateRoute");
}

}  // namespace

std::string routeTable(const Ec2Model& m, const RouteTable& r) {
  std::string routes, assocs;
  for (const auto& rt : r.routes) routes += raw("item", routeItem(m, rt));
  for (const auto& a : r.associations) {
    assocs += raw("item", el("routeTableAssociationId", a.id) + el("routeTableId", r.id) +
                              (a.subnet_id.empty() ? "" : el("subnetId", a.subnet_id)) +
                              (a.gateway_id.empty() ? "" : el("gatewayId", a.gateway_id)) +
                              el("main", a.main) + raw("associationState", el("state", "associated")));
  }
  return el("routeTableId", r.id) + el("vpcId", r.vpc_id) + el("ownerId", m.config().account) +
         raw("routeSet", routes) + raw("associationSet", assocs) + raw("propagatingVgwSet", "") +
         xml::tagSet(r.tags);
}

std::string instance(const Ec2Model& m, const Instance& i) {
  std::string enis;
  const Eni* primary = m.eni(i.primary_eni);
  for (const Eni* e : m.enisOf(i.id)) enis += raw("item", networkInterface(m, *e));
  const std::string primary_ip = primary ? primary->ips.front().str() : "";
  return el("instanceId", i.id) + el("imageId", i.image_id) +
         raw("instanceState", el("code", 16) + el("name", "running")) +
         el("privateDnsName",
            primary ? "ip-" + primary_ip + "." + m.config().region + ".compute.internal" : "") +
         el("instanceType", i.instance_type) +
         raw("placement", el("availabilityZone", i.az) + el("tenancy", "default")) +
         el("subnetId", i.subnet_id) + el("vpcId", i.vpc_id) + el("privateIpAddress", primary_ip) +
         el("sourceDestCheck", primary ? primary->source_dest_check : true) +
         raw("networkInterfaceSet", enis) + xml::tagSet(i.tags);
}

std::string reservation(const Ec2Model& m, const Instance& i) {
  return el("reservationId", "r-" + i.id.substr(2)) + el("ownerId", m.config().account) +
         raw("groupSet", "") + raw("instancesSet", raw("item", instance(m, i)));
}

std::string address(const Ec2Model& m, const ElasticIp& a) {
  std::string assoc;
  if (!a.association_id.empty()) {
    const Eni* e = m.eni(a.eni_id);
    std::string inst = e && e->attachment ? e->attachment->instance_id : "";
    assoc = (inst.empty() ? "" : el("instanceId", inst)) + el("associationId", a.association_id) +
            el("networkInterfaceId", a.eni_id) + el("networkInterfaceOwnerId", m.config().account) +
            el("privateIpAddress", a.private_ip.str());
  }
  return el("publicIp", a.public_ip.str()) + el("allocationId", a.allocation_id) + el("domain", "vpc") +
         assoc + el("networkBorderGroup", m.config().region) + el("publicIpv4Pool", "amazon") +
         xml::tagSet(a.tags);
}

std::string internetGateway(const Ec2Model& m, const InternetGateway& g) {
  return el("internetGatewayId", g.id) +
         raw("attachmentSet", raw("item", el("vpcId", g.vpc_id) + el("state", "available"))) +
         el("ownerId", m.config().account) + xml::tagSet(g.tags);
}

std::string availabilityZones(const ModelConfig& c) {
  std::string items;
  for (size_t n = 0; n < c.azs.size(); ++n) {
    items +=
        raw("item", el("zoneName", c.azs[n]) + el("zoneState", "available") + el("regionName", c.region) +
                        el("zoneId", fmt::format("apne3-az{}", n + 1)) + el("zoneType", "availability-zone"));
  }
  return raw("availabilityZoneInfo", items);
}

}  // namespace floatlb::sim::render
