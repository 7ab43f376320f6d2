// Typed values of the EC2 Query API 2016-11-15 that floatlb uses (takeover sequence + test setup).
// Plain structs, no behaviour: what the XML parser produces and what Ec2Api methods take.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace floatlb::cloud::aws {

inline constexpr const char* kEc2ApiVersion = "2016-11-15";

struct Filter {
  std::string name;  // "tag:floatlbType", "attachment.instance-id", "public-ip", ...
  std::vector<std::string> values;
};
using Filters = std::vector<Filter>;

struct Tag {
  std::string key;
  std::string value;
  bool operator==(const Tag&) const = default;
};
using Tags = std::vector<Tag>;

struct TagSpecification {
  std::string resourceType;  // "subnet", "network-interface", "route-table", "instance", "elastic-ip"
  Tags tags;
};

// Returns the value of tag `key` or nullopt.
std::optional<std::string> findTag(const Tags& tags, const std::string& key);

struct NetworkInterfaceAttachment {
  std::string attachmentId;
  std::string instanceId;
  int deviceIndex = -1;
  std::string status;  // attaching | attached | detaching | detached
};

struct NetworkInterface {
  std::string networkInterfaceId;
  std::string subnetId;
  std::string vpcId;
  std::string availabilityZone;
  std::string description;
  std::string status;  // available | in-use | ...
  std::string macAddress;
  std::string privateIpAddress;                 // primary
  std::vector<std::string> privateIpAddresses;  // all, primary first
  std::string publicIp;                         // of the primary IP (association), "" if none
  std::vector<std::string> groupIds;
  bool sourceDestCheck = true;
  std::optional<NetworkInterfaceAttachment> attachment;
  Tags tags;
};

struct Subnet {
  std::string subnetId;
  std::string vpcId;
  std::string cidrBlock;
  std::string availabilityZone;
  std::string state;
  Tags tags;
};

struct RouteTableAssociation {
  std::string associationId;  // rtbassoc-...
  std::string subnetId;       // empty for the main association
  bool main = false;
  std::string gatewayId;  // edge association (gateway route table): igw-...
};

struct Route {
  std::string destinationCidrBlock;
  std::string gatewayId;
  std::string networkInterfaceId;
  std::string state;
};

struct RouteTable {
  std::string routeTableId;
  std::string vpcId;
  std::vector<RouteTableAssociation> associations;
  std::vector<Route> routes;
  Tags tags;
};

struct VpcCidrBlockAssociation {
  std::string associationId;  // vpc-cidr-assoc-...
  std::string cidrBlock;
  std::string state;  // associating | associated | disassociating | ...
};

struct Vpc {
  std::string vpcId;
  std::string cidrBlock;  // primary
  std::string state;
  std::vector<VpcCidrBlockAssociation> cidrBlockAssociations;
  Tags tags;
};

struct InternetGatewayAttachment {
  std::string vpcId;
  std::string state;
};

struct InternetGateway {
  std::string internetGatewayId;
  std::vector<InternetGatewayAttachment> attachments;
  Tags tags;
};

struct Address {
  std::string publicIp;
  std::string allocationId;
  std::string associationId;  // empty when not associated
  std::string domain;
  std::string instanceId;
  std::string networkInterfaceId;
  std::string privateIpAddress;
  Tags tags;
};

struct InstanceNetworkInterface {
  std::string networkInterfaceId;
  std::string macAddress;
  std::string subnetId;
  std::string privateIpAddress;
  std::string attachmentId;
  int deviceIndex = -1;
};

struct Instance {
  std::string instanceId;
  std::string imageId;
  std::string instanceType;
  std::string state;  // pending | running | ...
  std::string subnetId;
  std::string vpcId;
  std::string availabilityZone;
  std::string privateIpAddress;
  std::vector<InstanceNetworkInterface> networkInterfaces;
  Tags tags;
};

// ---- request parameter bundles for the calls with many optional fields ----

struct CreateSubnetRequest {
  std::string vpcId;
  std::string cidrBlock;
  std::string availabilityZone;
  std::vector<TagSpecification> tagSpecifications;
};

struct CreateNetworkInterfaceRequest {
  std::string subnetId;
  std::string description;
  std::vector<std::string> groupIds;
  std::string privateIpAddress;  // empty: AWS picks
  // Secondary private IPs assigned at creation (PrivateIpAddresses.N, Primary=false): saves the
  // AssignPrivateIpAddresses call on the takeover's critical path.
  std::vector<std::string> secondaryPrivateIps;
  std::string clientToken;  // idempotency token; empty: none sent
  std::vector<TagSpecification> tagSpecifications;
};

struct AssociateAddressRequest {
  std::string allocationId;
  std::string networkInterfaceId;  // either this ...
  std::string instanceId;          // ... or this
  std::string privateIpAddress;
  bool allowReassociation = true;
};

struct RunInstancesRequest {
  std::string imageId;
  std::string instanceType = "t3.micro";
  std::string subnetId;
  std::vector<std::string> groupIds;
  std::string privateIpAddress;
  int minCount = 1;
  int maxCount = 1;
  std::vector<TagSpecification> tagSpecifications;
};

}  // namespace floatlb::cloud::aws
