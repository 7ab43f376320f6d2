#include "cloud/aws/ec2_client.h"

#include "cloud/aws/ec2_xml.h"
#include "cloud/aws/sigv4.h"
#include "common/log.h"

namespace floatlb::cloud::aws {
namespace {

constexpr const char* kContentType = "application/x-www-form-urlencoded; charset=utf-8";

// Lifts a parser's Result<T> into AwsResult<T> (parse failures have no AWS code).
template <class T>
AwsResult<T> lift(Result<T> r, const std::string& action) {
  if (r.ok()) return std::move(r).value();
  return AwsError{r.error().code, "", r.error().message, "", 200, action};
}

AwsStatus liftStatus(const Status& s, const std::string& action) {
  if (s.ok()) return {};
  return AwsError{s.error().code, "", s.error().message, "", 200, action};
}

}  // namespace

Ec2Client::Ec2Client(Ec2ClientOptions options, Ec2ClientDeps deps)
    : opts_(std::move(options)), deps_(deps), limiter_(deps.clock) {
  if (auto u = parseUrl(opts_.endpoint); u.ok()) {
    host_header_ = u->hostHeader;
    url_ = u->scheme + "://" + u->hostHeader + u->path;
  }
}

Ec2CallStats Ec2Client::stats() const {
  return Ec2CallStats{calls_.load(), attempts_.load(), retries_.load(), rate_waits_.load()};
}

AwsResult<std::string> Ec2Client::attemptOnce(const QueryParams& params) {
  const std::string& action = params.action();
  Result<Credentials> creds = deps_.credentials.get();
  if (!creds.ok()) return AwsError{creds.error().code, "", creds.error().message, "", 0, action};

  HttpRequest req;
  req.method = "POST";
  req.url = url_;
  req.body = params.encode();
  req.timeout = opts_.retry.callTimeout;
  req.headers = {{"Content-Type", kContentType}, {"Host", host_header_}};

  SigningInput in;
  in.method = "POST";
  in.host = host_header_;
  in.path = "/";
  in.headers = {{"Content-Type", kContentType}};
  in.payload = req.body;
  in.region = opts_.region;
  in.service = "ec2";
  in.amzDate = amzDate(deps_.clock.wallMillis() / 1000);
  Signature sig = signV4(in, *creds);
  for (auto& h : sig.headersToAdd) req.headers.push_back(std::move(h));

  attempts_.fetch_add(1);
  Result<HttpResponse> resp = deps_.http.send(req);
  if (!resp.ok()) return transportError(resp.error(), action);
  if (resp->status >= 200 && resp->status < 300) return std::move(resp->body);
  AwsError err = parseErrorResponse(resp->body, resp->status, action);
  if (err.code == "ExpiredToken" || err.code == "RequestExpired" || err.code == "AuthFailure") {
    deps_.credentials.invalidate();
  }
  return err;
}

namespace {
thread_local int t_last_attempts = 0;  // per thread: concurrent callers each see their own call
}  // namespace

int Ec2Client::lastCallAttempts() const { return t_last_attempts; }

AwsResult<std::string> Ec2Client::call(const QueryParams& params, bool filtered) {
  const std::string& action = params.action();
  calls_.fetch_add(1);
  t_last_attempts = 0;
  if (url_.empty()) {
    return AwsError{
        ErrorCode::kInvalidArgument, "", "bad EC2 endpoint URL '" + opts_.endpoint + "'", "", 0, action};
  }
  const ApiCategory cat = categorize(action, filtered);
  const int max_attempts = std::max(1, opts_.retry.maxAttempts);
  for (int attempt = 1;; ++attempt) {
    if (opts_.rateLimit) {
      if (limiter_.available(cat) < 1.0) rate_waits_.fetch_add(1);
      if (!limiter_.acquire(cat, deps_.sleeper, opts_.maxRateLimitWait)) {
        return AwsError{
            ErrorCode::kResourceExhausted,
            "",
            std::string("client-side rate limit (") + categoryName(cat) + ") still empty after waiting",
            "",
            0,
            action};
      }
    }
    t_last_attempts = attempt;
    AwsResult<std::string> r = attemptOnce(params);
    if (r.ok()) return r;
    if (!r.error().isRetryable() || attempt >= max_attempts) {
      if (attempt > 1 && r.error().isRetryable()) {
        AwsError e = r.error();
        e.message += " (gave up after " + std::to_string(attempt) + " attempts)";
        return e;
      }
      return r;
    }
    Duration d = backoffDelay(opts_.retry, attempt, deps_.random);
    FLB_DEBUG("ec2", "{} attempt {} failed ({}); retrying in {} ms", action, attempt, r.error().str(),
              std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
    retries_.fetch_add(1);
    deps_.sleeper.sleepFor(d);
  }
}

AwsStatus Ec2Client::simple(const QueryParams& params) {
  AwsResult<std::string> r = call(params);
  if (!r.ok()) return r.error();
  return liftStatus(parseReturnTrue(*r, params.action()), params.action());
}

template <class T, class ParseFn>
AwsResult<std::vector<T>> Ec2Client::describeAll(QueryParams params, bool filtered, ParseFn&& parse) {
  std::vector<T> all;
  std::string token;
  for (int page = 0; page < std::max(1, opts_.maxPages); ++page) {
    QueryParams p = params;
    if (!token.empty()) p.set("NextToken", token);
    AwsResult<std::string> body = call(p, filtered);
    if (!body.ok()) return body.error();
    Result<Page<T>> parsed = parse(*body);
    if (!parsed.ok()) return lift<std::vector<T>>(parsed.error(), params.action());
    for (auto& item : parsed->items) all.push_back(std::move(item));
    token = parsed->nextToken;
    if (token.empty()) return all;
  }
  return AwsError{ErrorCode::kResourceExhausted, "", "more than maxPages pages", "", 0, params.action()};
}

AwsResult<std::vector<NetworkInterface>> Ec2Client::describeNetworkInterfaces(const Filters& filters) {
  QueryParams p("DescribeNetworkInterfaces");
  p.setFilters(filters);
  return describeAll<NetworkInterface>(p, !filters.empty(), parseDescribeNetworkInterfaces);
}

AwsResult<NetworkInterface> Ec2Client::createNetworkInterface(const CreateNetworkInterfaceRequest& req) {
  QueryParams p("CreateNetworkInterface");
  p.set("SubnetId", req.subnetId)
      .setOptional("Description", req.description)
      .setOptional("PrivateIpAddress", req.privateIpAddress)
      .setList("SecurityGroupId", req.groupIds)
      .setTagSpecifications(req.tagSpecifications)
      .setOptional("ClientToken", req.clientToken);
  for (size_t i = 0; i < req.secondaryPrivateIps.size(); ++i) {
    const std::string key = "PrivateIpAddresses." + std::to_string(i + 1);
    p.set(key + ".PrivateIpAddress", req.secondaryPrivateIps[i]).setBool(key + ".Primary", false);
  }
  AwsResult<std::string> r = call(p);
  if (!r.ok()) return r.error();
  return lift(parseCreateNetworkInterface(*r), p.action());
}

AwsResult<std::string> Ec2Client::attachNetworkInterface(const std::string& eni_id,
                                                         const std::string& instance_id, int device_index) {
  QueryParams p("AttachNetworkInterface");
  p.set("NetworkInterfaceId", eni_id).set("InstanceId", instance_id).setInt("DeviceIndex", device_index);
  AwsResult<std::string> r = call(p);
  if (!r.ok()) return r.error();
  return lift(parseAttachNetworkInterface(*r), p.action());
}

AwsStatus Ec2Client::detachNetworkInterface(const std::string& attachment_id, bool force) {
  QueryParams p("DetachNetworkInterface");
  p.set("AttachmentId", attachment_id);
  if (force) p.setBool("Force", true);
  return simple(p);
}

AwsStatus Ec2Client::deleteNetworkInterface(const std::string& eni_id) {
  return simple(QueryParams("DeleteNetworkInterface").set("NetworkInterfaceId", eni_id));
}

AwsStatus Ec2Client::modifySourceDestCheck(const std::string& eni_id, bool enabled) {
  return simple(QueryParams("ModifyNetworkInterfaceAttribute")
                    .set("NetworkInterfaceId", eni_id)
                    .setBool("SourceDestCheck.Value", enabled));
}

AwsStatus Ec2Client::assignPrivateIpAddresses(const std::string& eni_id, const std::vector<std::string>& ips,
                                              bool allow_reassignment) {
  QueryParams p("AssignPrivateIpAddresses");
  p.set("NetworkInterfaceId", eni_id).setList("PrivateIpAddress", ips);
  if (allow_reassignment) p.setBool("AllowReassignment", true);
  return simple(p);
}

AwsStatus Ec2Client::unassignPrivateIpAddresses(const std::string& eni_id,
                                                const std::vector<std::string>& ips) {
  return simple(QueryParams("UnassignPrivateIpAddresses")
                    .set("NetworkInterfaceId", eni_id)
                    .setList("PrivateIpAddress", ips));
}

AwsResult<std::vector<Subnet>> Ec2Client::describeSubnets(const Filters& filters) {
  QueryParams p("DescribeSubnets");
  p.setFilters(filters);
  return describeAll<Subnet>(p, !filters.empty(), parseDescribeSubnets);
}

AwsResult<Subnet> Ec2Client::createSubnet(const CreateSubnetRequest& req) {
  QueryParams p("CreateSubnet");
  p.set("VpcId", req.vpcId)
      .set("CidrBlock", req.cidrBlock)
      .setOptional("AvailabilityZone", req.availabilityZone)
      .setTagSpecifications(req.tagSpecifications);
  AwsResult<std::string> r = call(p);
  if (!r.ok()) return r.error();
  return lift(parseCreateSubnet(*r), p.action());
}

AwsStatus Ec2Client::deleteSubnet(const std::string& subnet_id) {
  return simple(QueryParams("DeleteSubnet").set("SubnetId", subnet_id));
}

AwsResult<std::vector<RouteTable>> Ec2Client::describeRouteTables(const Filters& filters) {
  QueryParams p("DescribeRouteTables");
  p.setFilters(filters);
  return describeAll<RouteTable>(p, !filters.empty(), parseDescribeRouteTables);
}

AwsResult<RouteTable> Ec2Client::createRouteTable(const std::string& vpc_id,
                                                  const std::vector<TagSpecification>& tags) {
  QueryParams p("CreateRouteTable");
  p.set("VpcId", vpc_id).setTagSpecifications(tags);
  AwsResult<std::string> r = call(p);
  if (!r.ok()) return r.error();
  return lift(parseCreateRouteTable(*r), p.action());
}

AwsResult<std::string> Ec2Client::associateRouteTable(const std::string& route_table_id,
                                                      const std::string& subnet_id) {
  QueryParams p("AssociateRouteTable");
  p.set("RouteTableId", route_table_id).set("SubnetId", subnet_id);
  AwsResult<std::string> r = call(p);
  if (!r.ok()) return r.error();
  return lift(parseAssociateRouteTable(*r), p.action());
}

AwsStatus Ec2Client::disassociateRouteTable(const std::string& association_id) {
  return simple(QueryParams("DisassociateRouteTable").set("AssociationId", association_id));
}

AwsStatus Ec2Client::deleteRouteTable(const std::string& route_table_id) {
  return simple(QueryParams("DeleteRouteTable").set("RouteTableId", route_table_id));
}

AwsStatus Ec2Client::createRoute(const std::string& route_table_id, const std::string& destination_cidr,
                                 const std::string& gateway_id) {
  return simple(QueryParams("CreateRoute")
                    .set("RouteTableId", route_table_id)
                    .set("DestinationCidrBlock", destination_cidr)
                    .set("GatewayId", gateway_id));
}

AwsStatus Ec2Client::createRouteToInterface(const std::string& route_table_id,
                                            const std::string& destination_cidr, const std::string& eni_id) {
  return simple(QueryParams("CreateRoute")
                    .set("RouteTableId", route_table_id)
                    .set("DestinationCidrBlock", destination_cidr)
                    .set("NetworkInterfaceId", eni_id));
}

AwsStatus Ec2Client::replaceRouteToInterface(const std::string& route_table_id,
                                             const std::string& destination_cidr, const std::string& eni_id) {
  return simple(QueryParams("ReplaceRoute")
                    .set("RouteTableId", route_table_id)
                    .set("DestinationCidrBlock", destination_cidr)
                    .set("NetworkInterfaceId", eni_id));
}

AwsStatus Ec2Client::deleteRoute(const std::string& route_table_id, const std::string& destination_cidr) {
  return simple(QueryParams("DeleteRoute")
                    .set("RouteTableId", route_table_id)
                    .set("DestinationCidrBlock", destination_cidr));
}

AwsResult<std::string> Ec2Client::associateGatewayRouteTable(const std::string& route_table_id,
                                                             const std::string& gateway_id) {
  QueryParams p("AssociateRouteTable");
  p.set("RouteTableId", route_table_id).set("GatewayId", gateway_id);
  AwsResult<std::string> r = call(p);
  if (!r.ok()) return r.error();
  return lift(parseAssociateRouteTable(*r), p.action());
}

AwsStatus Ec2Client::dryRun(const std::string& action,
                            const std::vector<std::pair<std::string, std::string>>& params) {
  QueryParams p(action);
  for (const auto& [k, v] : params) p.set(k, v);
  p.setBool("DryRun", true);
  AwsResult<std::string> r = call(p);
  if (r.ok()) {
    return AwsError{
        ErrorCode::kInternal, "DryRunIgnored", action + " answered without checking DryRun", "", 200, action};
  }
  if (r.error().is("DryRunOperation")) return AwsStatus();
  return r.error();
}

AwsResult<std::vector<Vpc>> Ec2Client::describeVpcs(const Filters& filters) {
  QueryParams p("DescribeVpcs");
  p.setFilters(filters);
  return describeAll<Vpc>(p, !filters.empty(), parseDescribeVpcs);
}

AwsResult<VpcCidrBlockAssociation> Ec2Client::associateVpcCidrBlock(const std::string& vpc_id,
                                                                    const std::string& cidr) {
  QueryParams p("AssociateVpcCidrBlock");
  p.set("VpcId", vpc_id).set("CidrBlock", cidr);
  AwsResult<std::string> r = call(p);
  if (!r.ok()) return r.error();
  return lift(parseAssociateVpcCidrBlock(*r), p.action());
}

AwsStatus Ec2Client::disassociateVpcCidrBlock(const std::string& association_id) {
  QueryParams p("DisassociateVpcCidrBlock");
  p.set("AssociationId", association_id);
  AwsResult<std::string> r = call(p);
  if (!r.ok()) return r.error();
  Result<std::string> rid = parseRequestId(*r, p.action());
  if (!rid.ok()) return liftStatus(rid.error(), p.action());
  return {};
}

AwsResult<std::vector<InternetGateway>> Ec2Client::describeInternetGateways(const Filters& filters) {
  QueryParams p("DescribeInternetGateways");
  p.setFilters(filters);
  return describeAll<InternetGateway>(p, !filters.empty(), parseDescribeInternetGateways);
}

AwsResult<std::vector<Address>> Ec2Client::describeAddresses(const Filters& filters,
                                                             const std::vector<std::string>& public_ips) {
  QueryParams p("DescribeAddresses");
  p.setList("PublicIp", public_ips).setFilters(filters);
  // DescribeAddresses is not paginated.
  AwsResult<std::string> r = call(p);
  if (!r.ok()) return r.error();
  auto page = parseDescribeAddresses(*r);
  if (!page.ok()) return lift<std::vector<Address>>(page.error(), p.action());
  return std::move(page->items);
}

AwsResult<Address> Ec2Client::allocateAddress(const std::vector<TagSpecification>& tags) {
  QueryParams p("AllocateAddress");
  p.set("Domain", "vpc").setTagSpecifications(tags);
  AwsResult<std::string> r = call(p);
  if (!r.ok()) return r.error();
  return lift(parseAllocateAddress(*r), p.action());
}

AwsResult<std::string> Ec2Client::associateAddress(const AssociateAddressRequest& req) {
  QueryParams p("AssociateAddress");
  p.set("AllocationId", req.allocationId)
      .setOptional("NetworkInterfaceId", req.networkInterfaceId)
      .setOptional("InstanceId", req.instanceId)
      .setOptional("PrivateIpAddress", req.privateIpAddress)
      .setBool("AllowReassociation", req.allowReassociation);
  AwsResult<std::string> r = call(p);
  if (!r.ok()) return r.error();
  return lift(parseAssociateAddress(*r), p.action());
}

AwsStatus Ec2Client::disassociateAddress(const std::string& association_id) {
  return simple(QueryParams("DisassociateAddress").set("AssociationId", association_id));
}

AwsStatus Ec2Client::createTags(const std::vector<std::string>& resource_ids, const Tags& tags) {
  return simple(QueryParams("CreateTags").setList("ResourceId", resource_ids).setTags("Tag", tags));
}

AwsResult<std::vector<Instance>> Ec2Client::describeInstances(const Filters& filters,
                                                              const std::vector<std::string>& instance_ids) {
  QueryParams p("DescribeInstances");
  p.setList("InstanceId", instance_ids).setFilters(filters);
  return describeAll<Instance>(p, !filters.empty() || !instance_ids.empty(), parseDescribeInstances);
}

AwsResult<std::vector<Instance>> Ec2Client::runInstances(const RunInstancesRequest& req) {
  QueryParams p("RunInstances");
  p.set("ImageId", req.imageId)
      .set("InstanceType", req.instanceType)
      .setInt("MinCount", req.minCount)
      .setInt("MaxCount", req.maxCount)
      .setOptional("SubnetId", req.subnetId)
      .setOptional("PrivateIpAddress", req.privateIpAddress)
      .setList("SecurityGroupId", req.groupIds)
      .setTagSpecifications(req.tagSpecifications);
  AwsResult<std::string> r = call(p);
  if (!r.ok()) return r.error();
  return lift(parseRunInstances(*r), p.action());
}

AwsResult<Vpc> Ec2Client::createVpc(const std::string& cidr, const std::vector<TagSpecification>& tags) {
  QueryParams p("CreateVpc");
  p.set("CidrBlock", cidr).setTagSpecifications(tags);
  AwsResult<std::string> r = call(p);
  if (!r.ok()) return r.error();
  return lift(parseCreateVpc(*r), p.action());
}

AwsResult<InternetGateway> Ec2Client::createInternetGateway(const std::vector<TagSpecification>& tags) {
  QueryParams p("CreateInternetGateway");
  p.setTagSpecifications(tags);
  AwsResult<std::string> r = call(p);
  if (!r.ok()) return r.error();
  return lift(parseCreateInternetGateway(*r), p.action());
}

AwsStatus Ec2Client::attachInternetGateway(const std::string& igw_id, const std::string& vpc_id) {
  return simple(QueryParams("AttachInternetGateway").set("InternetGatewayId", igw_id).set("VpcId", vpc_id));
}

}  // namespace floatlb::cloud::aws
