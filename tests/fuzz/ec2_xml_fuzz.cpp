// libFuzzer target for the EC2 client's XML response parsers (what an EC2 endpoint, or anything
// on the path to it, sends back). The first byte picks the parser; the rest is the body.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "cloud/aws/ec2_xml.h"

using namespace floatlb::cloud::aws;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view xml(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 21) {
    case 0:
      (void)parseErrorResponse(xml, 400, "DescribeSubnets");
      break;
    case 1:
      (void)parseRequestId(xml, "DeleteSubnet");
      break;
    case 2:
      (void)parseReturnTrue(xml, "DeleteSubnet");
      break;
    case 3:
      (void)parseDescribeNetworkInterfaces(xml);
      break;
    case 4:
      (void)parseDescribeSubnets(xml);
      break;
    case 5:
      (void)parseDescribeRouteTables(xml);
      break;
    case 6:
      (void)parseDescribeVpcs(xml);
      break;
    case 7:
      (void)parseDescribeInternetGateways(xml);
      break;
    case 8:
      (void)parseDescribeAddresses(xml);
      break;
    case 9:
      (void)parseDescribeInstances(xml);
      break;
    case 10:
      (void)parseCreateSubnet(xml);
      break;
    case 11:
      (void)parseCreateRouteTable(xml);
      break;
    case 12:
      (void)parseAssociateRouteTable(xml);
      break;
    case 13:
      (void)parseCreateNetworkInterface(xml);
      break;
    case 14:
      (void)parseAttachNetworkInterface(xml);
      break;
    case 15:
      (void)parseAssociateVpcCidrBlock(xml);
      break;
    case 16:
      (void)parseAssociateAddress(xml);
      break;
    case 17:
      (void)parseAllocateAddress(xml);
      break;
    case 18:
      (void)parseRunInstances(xml);
      break;
    case 19:
      (void)parseCreateVpc(xml);
      break;
    case 20:
      (void)parseCreateInternetGateway(xml);
      break;
  }
  return 0;
}
