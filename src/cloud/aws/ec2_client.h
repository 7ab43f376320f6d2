// Ec2Client: Ec2Api over the EC2 Query API (SigV4-signed POSTs), with retries (exponential backoff
// + full jitter on throttling, HTTP 5xx and network errors only) and client-side token buckets.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "cloud/aws/credentials.h"
#include "cloud/aws/ec2_api.h"
#include "cloud/aws/http.h"
#include "cloud/aws/query.h"
#include "cloud/aws/retry.h"
#include "common/clock.h"

namespace floatlb::cloud::aws {

struct Ec2ClientOptions {
  std::string endpoint;  // "https://ec2.eu-west-1.amazonaws.com" or "http://127.0.0.1:5000"
  std::string region;
  RetryPolicy retry;
  bool rateLimit = true;
  Duration maxRateLimitWait = std::chrono::seconds(30);
  int maxPages = 50;  // bound for NextToken pagination of Describe* calls
};

// Everything the client needs from the outside; all references must outlive the client.
struct Ec2ClientDeps {
  HttpTransport& http;
  CredentialsProvider& credentials;
  const Clock& clock;
  Sleeper& sleeper;
  RandomSource& random;
};

struct Ec2CallStats {
  uint64_t calls = 0;     // Ec2Api calls
  uint64_t attempts = 0;  // HTTP attempts (calls + retries)
  uint64_t retries = 0;
  uint64_t rateLimitWaits = 0;
};

class Ec2Client final : public Ec2Api {
 public:
  Ec2Client(Ec2ClientOptions options, Ec2ClientDeps deps);

  // Sends one Query API request with signing, rate limiting and retries; returns the 2xx body or
  // the parsed AWS error. Public so tools can issue calls that have no typed method yet.
  AwsResult<std::string> call(const QueryParams& params, bool filtered = true);
  [[nodiscard]] Ec2CallStats stats() const;
  [[nodiscard]] int lastCallAttempts() const override;

  AwsResult<std::vector<NetworkInterface>> describeNetworkInterfaces(const Filters& filters) override;
  AwsResult<NetworkInterface> createNetworkInterface(const CreateNetworkInterfaceRequest& req) override;
  AwsResult<std::string> attachNetworkInterface(const std::string& eni_id, const std::string& instance_id,
                                                int device_index) override;
  AwsStatus detachNetworkInterface(const std::string& attachment_id, bool force) override;
  AwsStatus deleteNetworkInterface(const std::string& eni_id) override;
  AwsStatus modifySourceDestCheck(const std::string& eni_id, bool enabled) override;
  AwsStatus assignPrivateIpAddresses(const std::string& eni_id, const std::vector<std::string>& ips,
                                     bool allow_reassignment) override;
  AwsStatus unassignPrivateIpAddresses(const std::string& eni_id,
                                       const std::vector<std::string>& ips) override;
  AwsResult<std::vector<Subnet>> describeSubnets(const Filters& filters) override;
  AwsResult<Subnet> createSubnet(const CreateSubnetRequest& req) override;
  AwsStatus deleteSubnet(const std::string& subnet_id) override;
  AwsResult<std::vector<RouteTable>> describeRouteTables(const Filters& filters) override;
  AwsResult<RouteTable> createRouteTable(const std::string& vpc_id,
                                         const std::vector<TagSpecification>& tags) override;
  AwsResult<std::string> associateRouteTable(const std::string& route_table_id,
                                             const std::string& subnet_id) override;
  AwsStatus disassociateRouteTable(const std::string& association_id) override;
  AwsStatus deleteRouteTable(const std::string& route_table_id) override;
  AwsStatus createRoute(const std::string& route_table_id, const std::string& destination_cidr,
                        const std::string& gateway_id) override;
  AwsStatus createRouteToInterface(const std::string& route_table_id, const std::string& destination_cidr,
                                   const std::string& eni_id) override;
  AwsStatus replaceRouteToInterface(const std::string& route_table_id, const std::string& destination_cidr,
                                    const std::string& eni_id) override;
  AwsStatus deleteRoute(const std::string& route_table_id, const std::string& destination_cidr) override;
  AwsResult<std::string> associateGatewayRouteTable(const std::string& route_table_id,
                                                    const std::string& gateway_id) override;
  AwsStatus dryRun(const std::string& action,
                   const std::vector<std::pair<std::string, std::string>>& params) override;
  AwsResult<std::vector<Vpc>> describeVpcs(const Filters& filters) override;
  AwsResult<VpcCidrBlockAssociation> associateVpcCidrBlock(const std::string& vpc_id,
                                                           const std::string& cidr) override;
  AwsStatus disassociateVpcCidrBlock(const std::string& association_id) override;
  AwsResult<std::vector<InternetGateway>> describeInternetGateways(const Filters& filters) override;
  AwsResult<std::vector<Address>> describeAddresses(const Filters& filters,
                                                    const std::vector<std::string>& public_ips) override;
  AwsResult<Address> allocateAddress(const std::vector<TagSpecification>& tags) override;
  AwsResult<std::string> associateAddress(const AssociateAddressRequest& req) override;
  AwsStatus disassociateAddress(const std::string& association_id) override;
  AwsStatus createTags(const std::vector<std::string>& resource_ids, const Tags& tags) override;
  AwsResult<std::vector<Instance>> describeInstances(const Filters& filters,
                                                     const std::vector<std::string>& instance_ids) override;
  AwsResult<std::vector<Instance>> runInstances(const RunInstancesRequest& req) override;
  AwsResult<Vpc> createVpc(const std::string& cidr, const std::vector<TagSpecification>& tags) override;
  AwsResult<InternetGateway> createInternetGateway(const std::vector<TagSpecification>& tags) override;
  AwsStatus attachInternetGateway(const std::string& igw_id, const std::string& vpc_id) override;

 private:
  AwsResult<std::string> attemptOnce(const QueryParams& params);
  AwsStatus simple(const QueryParams& params);
  template <class T, class ParseFn>
  AwsResult<std::vector<T>> describeAll(QueryParams params, bool filtered, ParseFn&& parse);

  Ec2ClientOptions opts_;
  Ec2ClientDeps deps_;
  std::string host_header_;
  std::string url_;
  RateLimiter limiter_;
  std::atomic<uint64_t> calls_{0}, attempts_{0}, retries_{0}, rate_waits_{0};
};

}  // namespace floatlb::cloud::aws
