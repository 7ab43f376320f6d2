// EC2 XML response parsing (pure; pugixml stays inside ec2_xml.cpp). Each parser takes the full
// response body of one Action and returns the typed result, or an Error (kInternal) if the XML is
// malformed or not the expected response element.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cloud/aws/aws_error.h"
#include "cloud/aws/ec2_types.h"
#include "common/result.h"

namespace floatlb::cloud::aws {

template <class T>
struct Page {
  std::vector<T> items;
  std::string nextToken;  // empty on the last page
};

// <Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response>; also accepts
// the generic <ErrorResponse><Error>..</Error><RequestId/></ErrorResponse> shape. The AwsError gets
// code/message/requestId filled; kind is classified from the code and http_status.
AwsError parseErrorResponse(std::string_view xml, int http_status, std::string action);

// Checks the body is <{action}Response> and returns its <requestId>.
Result<std::string> parseRequestId(std::string_view xml, std::string_view action);
// For calls whose only payload is <return>true</return>: Error if return is false.
Status parseReturnTrue(std::string_view xml, std::string_view action);

Result<Page<NetworkInterface>> parseDescribeNetworkInterfaces(std::string_view xml);
Result<Page<Subnet>> parseDescribeSubnets(std::string_view xml);
Result<Page<RouteTable>> parseDescribeRouteTables(std::string_view xml);
Result<Page<Vpc>> parseDescribeVpcs(std::string_view xml);
Result<Page<InternetGateway>> parseDescribeInternetGateways(std::string_view xml);
Result<Page<Address>> parseDescribeAddresses(std::string_view xml);
Result<Page<Instance>> parseDescribeInstances(std::string_view xml);  // flattens reservations

Result<Subnet> parseCreateSubnet(std::string_view xml);
Result<RouteTable> parseCreateRouteTable(std::string_view xml);
Result<std::string> parseAssociateRouteTable(std::string_view xml);  // associationId
Result<NetworkInterface> parseCreateNetworkInterface(std::string_view xml);
Result<std::string> parseAttachNetworkInterface(std::string_view xml);  // attachmentId
Result<VpcCidrBlockAssociation> parseAssociateVpcCidrBlock(std::string_view xml);
Result<std::string> parseAssociateAddress(std::string_view xml);  // associationId
Result<Address> parseAllocateAddress(std::string_view xml);
Result<std::vector<Instance>> parseRunInstances(std::string_view xml);
Result<Vpc> parseCreateVpc(std::string_view xml);
Result<InternetGateway> parseCreateInternetGateway(std::string_view xml);

}  // namespace floatlb::cloud::aws
