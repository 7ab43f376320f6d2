// Ec2Api: the typed EC2 operations floatlb needs, as an interface so the takeover planner and the HA
// logic can be unit-tested against a fake. Ec2Client (ec2_client.h) is the real implementation.
// Every method returns AwsResult: on failure the AwsError carries the AWS error code.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "cloud/aws/aws_error.h"
#include "cloud/aws/ec2_types.h"

namespace floatlb::cloud::aws {

class Ec2Api {
 public:
  virtual ~Ec2Api() = default;

  // HTTP attempts (1 + retries after throttling/5xx) of the calling thread's most recent call;
  // the takeover timeline reports it. Fakes without retries answer 1.
  [[nodiscard]] virtual int lastCallAttempts() const { return 1; }

  // --- ENIs ---
  virtual AwsResult<std::vector<NetworkInterface>> describeNetworkInterfaces(const Filters& filters) = 0;
  virtual AwsResult<NetworkInterface> createNetworkInterface(const CreateNetworkInterfaceRequest& req) = 0;
  // Returns the attachment id (eni-attach-...).
  virtual AwsResult<std::string> attachNetworkInterface(const std::string& eni_id,
                                                        const std::string& instance_id, int device_index) = 0;
  virtual AwsStatus detachNetworkInterface(const std::string& attachment_id, bool force) = 0;
  virtual AwsStatus deleteNetworkInterface(const std::string& eni_id) = 0;
  // ModifyNetworkInterfaceAttribute SourceDestCheck.Value=...
  virtual AwsStatus modifySourceDestCheck(const std::string& eni_id, bool enabled) = 0;
  virtual AwsStatus assignPrivateIpAddresses(const std::string& eni_id, const std::vector<std::string>& ips,
                                             bool allow_reassignment) = 0;
  virtual AwsStatus unassignPrivateIpAddresses(const std::string& eni_id,
                                               const std::vector<std::string>& ips) = 0;

  // --- subnets, route tables, VPC CIDRs, IGWs ---
  virtual AwsResult<std::vector<Subnet>> describeSubnets(const Filters& filters) = 0;
  virtual AwsResult<Subnet> createSubnet(const CreateSubnetRequest& req) = 0;
  virtual AwsStatus deleteSubnet(const std::string& subnet_id) = 0;
  virtual AwsResult<std::vector<RouteTable>> describeRouteTables(const Filters& filters) = 0;
  virtual AwsResult<RouteTable> createRouteTable(const std::string& vpc_id,
                                                 const std::vector<TagSpecification>& tags) = 0;
  // Returns the association id (rtbassoc-...).
  virtual AwsResult<std::string> associateRouteTable(const std::string& route_table_id,
                                                     const std::string& subnet_id) = 0;
  virtual AwsStatus disassociateRouteTable(const std::string& association_id) = 0;
  virtual AwsStatus deleteRouteTable(const std::string& route_table_id) = 0;
  virtual AwsStatus createRoute(const std::string& route_table_id, const std::string& destination_cidr,
                                const std::string& gateway_id) = 0;
  // --- routes to an ENI and gateway route tables (routed mode) ---
  // CreateRoute/ReplaceRoute with NetworkInterfaceId (a more-specific route or a gateway table's).
  virtual AwsStatus createRouteToInterface(const std::string& route_table_id,
                                           const std::string& destination_cidr,
                                           const std::string& eni_id) = 0;
  virtual AwsStatus replaceRouteToInterface(const std::string& route_table_id,
                                            const std::string& destination_cidr,
                                            const std::string& eni_id) = 0;
  virtual AwsStatus deleteRoute(const std::string& route_table_id, const std::string& destination_cidr) = 0;
  // AssociateRouteTable GatewayId= (edge association with the internet gateway); the association id.
  virtual AwsResult<std::string> associateGatewayRouteTable(const std::string& route_table_id,
                                                            const std::string& gateway_id) = 0;
  // Sends `params` with DryRun=true: ok when AWS answers DryRunOperation (the caller may make the
  // call), the AwsError otherwise (UnauthorizedOperation: the role lacks it).
  virtual AwsStatus dryRun(const std::string& action,
                           const std::vector<std::pair<std::string, std::string>>& params) = 0;

  virtual AwsResult<std::vector<Vpc>> describeVpcs(const Filters& filters) = 0;
  virtual AwsResult<VpcCidrBlockAssociation> associateVpcCidrBlock(const std::string& vpc_id,
                                                                   const std::string& cidr) = 0;
  virtual AwsStatus disassociateVpcCidrBlock(const std::string& association_id) = 0;
  virtual AwsResult<std::vector<InternetGateway>> describeInternetGateways(const Filters& filters) = 0;

  // --- Elastic IPs ---
  virtual AwsResult<std::vector<Address>> describeAddresses(const Filters& filters,
                                                            const std::vector<std::string>& public_ips) = 0;
  virtual AwsResult<Address> allocateAddress(const std::vector<TagSpecification>& tags) = 0;
  // Returns the association id (eipassoc-...).
  virtual AwsResult<std::string> associateAddress(const AssociateAddressRequest& req) = 0;
  virtual AwsStatus disassociateAddress(const std::string& association_id) = 0;

  // --- misc ---
  virtual AwsStatus createTags(const std::vector<std::string>& resource_ids, const Tags& tags) = 0;
  virtual AwsResult<std::vector<Instance>> describeInstances(
      const Filters& filters, const std::vector<std::string>& instance_ids) = 0;
  virtual AwsResult<std::vector<Instance>> runInstances(const RunInstancesRequest& req) = 0;

  // --- test-bed setup (vpcsim / moto) ---
  virtual AwsResult<Vpc> createVpc(const std::string& cidr, const std::vector<TagSpecification>& tags) = 0;
  virtual AwsResult<InternetGateway> createInternetGateway(const std::vector<TagSpecification>& tags) = 0;
  virtual AwsStatus attachInternetGateway(const std::string& igw_id, const std::string& vpc_id) = 0;
};

}  // namespace floatlb::cloud::aws
