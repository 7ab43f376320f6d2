// Topology files (JSON): the VPC, subnets, instances and Elastic IPs vpcsim starts with.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/result.h"
#include "sim/model.h"

namespace floatlb::sim {

struct TopologySubnet {
  std::string name, cidr, az;
};
struct TopologyInstance {
  std::string name, subnet, ip;  // subnet = a TopologySubnet name; ip may be empty (auto)
  // A public IPv4 address on the primary ENI (what "auto-assign public IP" gives an instance): an
  // Elastic IP named "<name>-public", associated with the primary private IP at load.
  bool public_ip = false;
};
struct Topology {
  std::string region = "ap-northeast-3";
  std::vector<std::string> azs;
  std::string vpc_name = "vpc", vpc_cidr;
  std::vector<TopologySubnet> subnets;
  std::vector<TopologyInstance> instances;
  std::vector<std::string> eips;  // names (Name tag)
  std::string eip_pool = "198.18.100.0/24";
  std::string inet_link = "198.18.0.0/24", igw_ip = "198.18.0.1", client_ip = "198.18.0.2";
  // The main route table gets 0.0.0.0/0 -> the IGW ("public subnets", as in the seed's VPC, whose
  // instances have public IPs); false: only the local route.
  bool public_subnets = true;
};

Result<Topology> parseTopology(const std::string& json_text);

// What loading produced: names -> ids, for the env file.
struct LoadedTopology {
  std::string vpc_id, igw_id, main_route_table;
  std::map<std::string, std::string> subnets, instances, eips;  // name -> id
  std::vector<RealiseEvent> events;
};
Result<LoadedTopology> loadTopology(Ec2Model& model, const Topology& t);

}  // namespace floatlb::sim
