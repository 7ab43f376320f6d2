// The vpcsim EC2 model: pure EC2 semantics (VPCs, subnets, route tables, IGWs, instances, ENIs,
// Elastic IPs, tags) with AWS's error codes and asynchronous transitions driven by an injected Clock.
// No I/O and no wire format: every mutation returns "realisation events" that the realiser
// (realiser.h) applies to Linux namespaces. The EC2 Query API (decoding, throttling, faults,
// latency, XML) is Ec2QueryFront (ec2_query.h); each model owns one, reachable through handle().
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/net.h"
#include "sim/api_types.h"
#include "sim/policy.h"

namespace floatlb::sim {

// ---- routing as the realiser needs it -------------------------------------------------------------
// One route of a route table, resolved: where packets for `dest` go.
struct PlannedRoute {
  enum class Kind { kLocal, kInternet, kEni, kBlackhole };
  Cidr dest;
  Kind kind = Kind::kLocal;
  Ip4 via;                 // kEni: the target ENI's primary private IP
  int via_subnet_seq = 0;  // kEni: the subnet (bridge) of the target ENI
  int eni_seq = 0;         // kEni: the target ENI (its veth in the router namespace)
  bool operator==(const PlannedRoute&) const = default;
};

struct RoutingPlan {
  std::map<int, std::vector<PlannedRoute>> subnet_routes;  // subnet seq -> routes of its table
  std::vector<PlannedRoute> gateway_routes;                // the IGW's edge-associated table (ingress)
  struct EniCheck {
    int eni_seq = 0;
    bool source_dest_check = true;
    std::vector<Ip4> ips;  // the addresses the ENI owns
    bool operator==(const EniCheck&) const = default;
  };
  std::vector<EniCheck> enis;  // attached ENIs
  bool operator==(const RoutingPlan&) const = default;
};

// ---- realisation events -------------------------------------------------------------------------
struct RealiseEvent {
  enum class Kind {
    kSubnetCreated,        // subnet_id, subnet_seq, cidr, gateway
    kSubnetDeleted,        // subnet_id, subnet_seq
    kInstanceLaunched,     // instance_id, instance_name
    kEniAttached,          // eni_id, eni_seq, instance_*, device_index, mac, subnet_seq, ips, configure
    kEniDetached,          // eni_id, eni_seq, instance_*, device_index, subnet_seq, ips
    kPrivateIpAssigned,    // eni_id, mac, subnet_seq, ip, attached
    kPrivateIpUnassigned,  // eni_id, subnet_seq, ip
    kEipAssociated,        // public_ip, ip (private)
    kEipDisassociated,     // public_ip, ip (private)
  };
  Kind kind;
  std::string subnet_id, eni_id, instance_id, instance_name, mac, public_ip;
  int subnet_seq = 0, eni_seq = 0, device_index = 0;
  Cidr cidr;
  Ip4 gateway, ip;
  std::vector<Ip4> ips;
  bool attached = false;
  bool configure = false;  // device 0 at launch: the "DHCP" configures address and default route
};
const char* eventKindName(RealiseEvent::Kind k);
std::string describeEvent(const RealiseEvent& e);

// ---- resources ----------------------------------------------------------------------------------
struct CidrAssociation {
  std::string id;  // vpc-cidr-assoc-...
  Cidr cidr;
  std::string state;  // associating | associated | disassociating
  TimePoint transition_at;
  bool primary = false;
};

struct Vpc {
  std::string id;
  std::vector<CidrAssociation> cidrs;
  Tags tags;
};

struct Subnet {
  std::string id, vpc_id, az;
  Cidr cidr;
  int seq = 0;
  Tags tags;
};

struct Route {
  Cidr dest;
  std::string gateway_id;            // "local" or igw-...; "" for a network-interface route
  std::string network_interface_id;  // eni-... (kept when the ENI is deleted: the route is a blackhole)
};

// Exactly one target of CreateRoute/ReplaceRoute ("local" only for ReplaceRoute of the VPC CIDR).
struct RouteTarget {
  std::string gateway_id;
  std::string network_interface_id;
};

struct RouteTableAssociation {
  std::string id;          // rtbassoc-...
  std::string subnet_id;   // a subnet association
  std::string gateway_id;  // an edge association with an internet gateway (a gateway route table)
  bool main = false;
};

struct RouteTable {
  std::string id, vpc_id;
  std::vector<Route> routes;
  std::vector<RouteTableAssociation> associations;
  Tags tags;
};

struct InternetGateway {
  std::string id, vpc_id;
  Tags tags;
};

struct EniAttachment {
  std::string id;  // eni-attach-...
  std::string instance_id;
  int device_index = 0;
  std::string status;  // attached | detaching
  TimePoint detach_done_at;
  int64_t attach_wall_ms = 0;
};

struct Eni {
  std::string id, subnet_id, vpc_id, az, description, mac;
  int seq = 0;
  std::vector<std::string> groups;
  std::vector<Ip4> ips;  // [0] = primary private IP
  bool source_dest_check = true;
  std::optional<EniAttachment> attachment;
  Tags tags;
};

struct Instance {
  std::string id, name, az, subnet_id, vpc_id, image_id, instance_type;
  std::string primary_eni;
  int seq = 0;
  bool running = true;  // false: "down" (admin), routes to its ENIs are blackholes
  Tags tags;
};

struct ElasticIp {
  std::string allocation_id;
  Ip4 public_ip;
  std::string association_id, eni_id;  // empty when not associated
  Ip4 private_ip;
  Tags tags;
};

struct ModelConfig {
  std::string region = "ap-northeast-3";
  std::string account = "123456789012";
  std::vector<std::string> azs = {"ap-northeast-3a", "ap-northeast-3b", "ap-northeast-3c"};
  Cidr eip_pool = Cidr(Ip4::fromOctets(198, 18, 100, 0), 24);
  Duration detach_time = std::chrono::seconds(2);      // attachment "detaching" -> gone
  Duration cidr_assoc_time = std::chrono::seconds(1);  // VPC CIDR "associating" -> "associated"
  // API change -> routes/source-dest check in effect (routing.h; no AWS figure: docs/vpcsim.md)
  Duration route_propagation = std::chrono::milliseconds(100);
  uint64_t seed = 1;
};

// The answer to one API call.
struct ApiResponse {
  int http_status = 200;
  std::string body;        // XML
  std::string error_code;  // "" on success
  std::vector<RealiseEvent> events;
  int64_t latency_ms = 0;  // how long the server should wait before answering
};

class Ec2QueryFront;

class Ec2Model {
 public:
  Ec2Model(const Clock& clock, ModelConfig config);
  ~Ec2Model();
  Ec2Model(const Ec2Model&) = delete;
  Ec2Model& operator=(const Ec2Model&) = delete;

  // The EC2 Query API through this model's front (ec2_query.h): throttling, fault injection,
  // dispatch, XML rendering. `request_id` goes into the response. Calls tick() first.
  ApiResponse handle(const std::string& action, const Params& params, const std::string& request_id);
  // The front's request policies.
  Throttler& throttler();
  FaultInjector& faults();
  LatencyModel& latency();
  Ec2QueryFront& front() { return *front_; }

  // Completes due asynchronous transitions (detaches, CIDR associations) and returns their events.
  std::vector<RealiseEvent> tick();

  // ---- typed operations (used by handle() and by the topology loader; no throttling) ----
  Outcome<std::string> createVpc(const Cidr& cidr, const Tags& tags);
  Outcome<std::string> associateVpcCidr(const std::string& vpc_id, const std::string& cidr_text);
  Outcome<std::string> disassociateVpcCidr(const std::string& association_id);
  Outcome<std::string> createSubnet(const std::string& vpc_id, const std::string& cidr_text,
                                    const std::string& az, const Tags& tags, std::vector<RealiseEvent>* ev);
  ApiStatus deleteSubnet(const std::string& subnet_id, std::vector<RealiseEvent>* ev);
  Outcome<std::string> createInternetGateway(const std::string& vpc_id, const Tags& tags);
  Outcome<std::string> createRouteTable(const std::string& vpc_id, const Tags& tags, bool main = false);
  Outcome<std::string> associateRouteTable(const std::string& rtb_id, const std::string& subnet_id);
  // Edge association (ingress routing): at most one table per gateway (Resource.AlreadyAssociated).
  Outcome<std::string> associateRouteTableWithGateway(const std::string& rtb_id,
                                                      const std::string& gateway_id);
  ApiStatus disassociateRouteTable(const std::string& association_id);
  // Returns the new association id (also moves the main association).
  Outcome<std::string> replaceRouteTableAssociation(const std::string& association_id,
                                                    const std::string& rtb_id);
  ApiStatus deleteRouteTable(const std::string& rtb_id);
  ApiStatus createRoute(const std::string& rtb_id, const std::string& dest, const std::string& gateway_id);
  ApiStatus createRoute(const std::string& rtb_id, const std::string& dest, const RouteTarget& target);
  ApiStatus replaceRoute(const std::string& rtb_id, const std::string& dest, const RouteTarget& target);
  ApiStatus deleteRoute(const std::string& rtb_id, const std::string& dest);
  std::string createSecurityGroup(const std::string& vpc_id, const std::string& name);
  Outcome<std::string> runInstance(const std::string& subnet_id, std::optional<Ip4> private_ip,
                                   const std::vector<std::string>& groups, const Tags& tags,
                                   std::vector<RealiseEvent>* ev);
  // `secondary_ips`: PrivateIpAddresses.N with Primary=false (assigned at creation, all or nothing).
  Outcome<std::string> createNetworkInterface(const std::string& subnet_id, std::optional<Ip4> primary_ip,
                                              const std::vector<std::string>& groups,
                                              const std::string& description, const Tags& tags,
                                              const std::vector<Ip4>& secondary_ips = {});
  Outcome<std::string> attachNetworkInterface(const std::string& eni_id, const std::string& instance_id,
                                              int device_index, std::vector<RealiseEvent>* ev);
  ApiStatus detachNetworkInterface(const std::string& attachment_id, bool force);
  ApiStatus deleteNetworkInterface(const std::string& eni_id, std::vector<RealiseEvent>* ev);
  ApiStatus setSourceDestCheck(const std::string& eni_id, bool value);
  // Admin/test: an instance "down" (or up again); routes targeting its ENIs become blackholes.
  ApiStatus setInstanceRunning(const std::string& instance_id, bool running);
  ApiStatus setEniDescription(const std::string& eni_id, const std::string& description);
  // InvalidGroup.NotFound unless every group exists.
  ApiStatus setEniGroups(const std::string& eni_id, const std::vector<std::string>& groups);
  ApiStatus assignPrivateIps(const std::string& eni_id, const std::vector<std::string>& ips,
                             int secondary_count, bool allow_reassignment, std::vector<RealiseEvent>* ev,
                             std::vector<Ip4>* assigned);
  ApiStatus unassignPrivateIps(const std::string& eni_id, const std::vector<std::string>& ips,
                               std::vector<RealiseEvent>* ev);
  Outcome<std::string> allocateAddress(const Tags& tags);
  ApiStatus releaseAddress(const std::string& allocation_id);
  // Returns the association id.
  Outcome<std::string> associateAddress(const std::string& allocation_id, const std::string& eni_id,
                                        const std::string& instance_id, std::optional<Ip4> private_ip,
                                        bool allow_reassociation, std::vector<RealiseEvent>* ev);
  ApiStatus disassociateAddress(const std::string& association_id, std::vector<RealiseEvent>* ev);
  ApiStatus createTags(const std::vector<std::string>& resource_ids, const Tags& tags);

  // ---- queries (IMDS, tests, state dump) ----
  [[nodiscard]] const Instance* instance(const std::string& id) const;
  [[nodiscard]] const Eni* eni(const std::string& id) const;
  [[nodiscard]] const Subnet* subnet(const std::string& id) const;
  [[nodiscard]] const Vpc* vpc(const std::string& id) const;
  [[nodiscard]] const ElasticIp* address(const std::string& allocation_id) const;
  [[nodiscard]] const ElasticIp* addressByPublicIp(const std::string& public_ip) const;
  [[nodiscard]] const RouteTable* routeTable(const std::string& id) const;
  // The table a subnet uses: its explicit association, else the VPC's main table.
  [[nodiscard]] const RouteTable* routeTableOfSubnet(const std::string& subnet_id) const;
  // The table edge-associated with an internet gateway, or nullptr.
  [[nodiscard]] const RouteTable* gatewayRouteTable(const std::string& gateway_id) const;
  // "active" or "blackhole" (the target ENI is gone, detached or its instance down).
  [[nodiscard]] std::string routeState(const Route& r) const;
  [[nodiscard]] RoutingPlan routingPlan() const;
  // The instance owning `ip` through an attached ENI (IMDS caller identification).
  [[nodiscard]] const Instance* instanceByPrivateIp(Ip4 ip) const;
  [[nodiscard]] const Instance* instanceByName(const std::string& name) const;
  // ENIs attached (status attached) to an instance, by device index.
  [[nodiscard]] std::vector<const Eni*> enisOf(const std::string& instance_id) const;
  [[nodiscard]] std::string dumpJson() const;
  // Whole collections by id (Describe*, renderers, state dump).
  [[nodiscard]] const std::map<std::string, Vpc>& vpcs() const { return vpcs_; }
  [[nodiscard]] const std::map<std::string, Subnet>& subnets() const { return subnets_; }
  [[nodiscard]] const std::map<std::string, RouteTable>& routeTables() const { return route_tables_; }
  [[nodiscard]] const std::map<std::string, InternetGateway>& internetGateways() const { return igws_; }
  [[nodiscard]] const std::map<std::string, Eni>& enis() const { return enis_; }
  [[nodiscard]] const std::map<std::string, Instance>& instances() const { return instances_; }
  [[nodiscard]] const std::map<std::string, ElasticIp>& addresses() const { return addresses_; }

  ModelConfig& config() { return config_; }
  [[nodiscard]] const ModelConfig& config() const { return config_; }

 private:
  std::string newId(const std::string& prefix);
  std::string newMac(int seq) const;
  Outcome<Ip4> allocateIp(const Subnet& s, const std::vector<Ip4>& skip = {}) const;
  // InvalidParameterValue unless ip is a usable (non-reserved) address of s.
  ApiStatus requireInSubnet(const Subnet& s, Ip4 ip) const;
  // ... and InvalidIPAddress.InUse when an ENI already holds it.
  ApiStatus requireFreeInSubnet(const Subnet& s, Ip4 ip) const;
  [[nodiscard]] bool ipReserved(const Subnet& s, Ip4 ip) const;
  [[nodiscard]] std::string ipOwner(Ip4 ip) const;  // ENI id or ""
  RealiseEvent eniEvent(RealiseEvent::Kind k, const Eni& e) const;
  void finishDetach(Eni& e, std::vector<RealiseEvent>* ev);
  struct RouteRef {
    RouteTable* table;
    Cidr dest;     // canonicalised
    Route* route;  // nullptr when the table has no route for dest
  };
  Outcome<RouteRef> findRoute(const std::string& rtb_id, const std::string& dest_text);
  ApiStatus validateTarget(const RouteTable& rt, const RouteTarget& t) const;
  ApiStatus validateRoute(const RouteTable& rt, const Cidr& dest, const RouteTarget& t) const;
  ApiStatus gatewayTableEligible(const RouteTable& rt) const;
  [[nodiscard]] bool isGatewayTable(const RouteTable& rt) const;
  [[nodiscard]] bool insideVpc(const std::string& vpc_id, const Cidr& dest) const;
  [[nodiscard]] bool isVpcCidr(const std::string& vpc_id, const Cidr& dest) const;
  [[nodiscard]] bool isSubnetCidr(const std::string& vpc_id, const Cidr& dest) const;
  [[nodiscard]] PlannedRoute planRoute(const Route& r) const;
  // Clears an Elastic IP's association (EipDisassociated event).
  void dropAssociation(ElasticIp& a, std::vector<RealiseEvent>* ev);
  Eni* findEni(const std::string& id);
  Tags* tagsOf(const std::string& resource_id);

  const Clock& clock_;
  ModelConfig config_;
  uint64_t id_counter_ = 0;
  int seq_counter_ = 0;
  std::map<std::string, Vpc> vpcs_;
  std::map<std::string, Subnet> subnets_;
  std::map<std::string, RouteTable> route_tables_;
  std::map<std::string, InternetGateway> igws_;
  std::map<std::string, Eni> enis_;
  std::map<std::string, Instance> instances_;
  std::map<std::string, ElasticIp> addresses_;
  std::map<std::string, std::string> security_groups_;  // id -> vpc
  std::unique_ptr<Ec2QueryFront> front_;                // constructed last: it holds a reference to *this
};

}  // namespace floatlb::sim
