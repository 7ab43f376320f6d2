// XML renderers of vpcsim's EC2 resources (the `<item>` bodies of Describe* and Create* answers,
// EC2 API version 2016-11-15). Pure functions of the model's state: the model itself knows no wire.
#pragma once

#include <cstdint>
#include <string>

#include "sim/model.h"

namespace floatlb::sim::render {

std::string vpc(const Ec2Model& m, const Vpc& v);
std::string subnet(const Ec2Model& m, const Subnet& s);
std::string networkInterface(const Ec2Model& m, const Eni& e);
std::string routeTable(const Ec2Model& m, const RouteTable& r);
std::string instance(const Ec2Model& m, const Instance& i);
// One reservation holding `i` (RunInstances / DescribeInstances items).
std::string reservation(const Ec2Model& m, const Instance& i);
std::string address(const Ec2Model& m, const ElasticIp& a);
std::string internetGateway(const Ec2Model& m, const InternetGateway& g);
std::string availabilityZones(const ModelConfig& c);
// `<vpcId/><cidrBlockAssociation>` of Associate/DisassociateVpcCidrBlock.
std::string cidrAssociation(const std::string& vpc_id, const std::string& association_id, const Cidr& cidr,
                            const std::string& state);
// ISO 8601 UTC with milliseconds, as EC2 renders timestamps.
std::string isoTime(int64_t wall_ms);

}  // namespace floatlb::sim::render
