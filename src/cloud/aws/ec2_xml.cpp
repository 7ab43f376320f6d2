#include "cloud/aws/ec2_xml.h"

#include <cstdlib>
#include <pugixml.hpp>

namespace floatlb::cloud::aws {
namespace {

using pugi::xml_node;

// Parses `xml` and returns its root element if it is named `expected` (or any name if empty).
Result<xml_node> loadRoot(pugi::xml_document& doc, std::string_view xml, const std::string& expected) {
  pugi::xml_parse_result pr = doc.load_buffer(xml.data(), xml.size());
  if (!pr)
    return makeError(ErrorCode::kInternal, std::string("EC2 response is not XML: ") + pr.description());
  xml_node root = doc.document_element();
  if (!expected.empty() && expected != root.name()) {
    return makeError(ErrorCode::kInternal,
                     "EC2 response: expected <" + expected + ">, got <" + std::string(root.name()) + ">");
  }
  return root;
}

std::string text(xml_node n, const char* child) { return n.child(child).text().as_string(); }
bool boolText(xml_node n, const char* child, bool dflt) {
  xml_node c = n.child(child);
  return c ? c.text().as_bool(dflt) : dflt;
}
int intText(xml_node n, const char* child, int dflt) {
  xml_node c = n.child(child);
  return c ? c.text().as_int(dflt) : dflt;
}

// Calls fn(item) for each <item> of the child set named `set`.
template <class Fn>
void eachItem(xml_node parent, const char* set, Fn&& fn) {
  for (xml_node it : parent.child(set).children("item")) fn(it);
}

Tags parseTags(xml_node n) {
  Tags tags;
  eachItem(n, "tagSet", [&](xml_node it) { tags.push_back(Tag{text(it, "key"), text(it, "value")}); });
  return tags;
}

NetworkInterface parseEni(xml_node n) {
  NetworkInterface e;
  e.networkInterfaceId = text(n, "networkInterfaceId");
  e.subnetId = text(n, "subnetId");
  e.vpcId = text(n, "vpcId");
  e.availabilityZone = text(n, "availabilityZone");
  e.description = text(n, "description");
  e.status = text(n, "status");
  e.publicIp = text(n.child("association"), "publicIp");
  e.macAddress = text(n, "macAddress");
  e.privateIpAddress = text(n, "privateIpAddress");
  e.sourceDestCheck = boolText(n, "sourceDestCheck", true);
  eachItem(n, "groupSet", [&](xml_node it) { e.groupIds.push_back(text(it, "groupId")); });
  // Primary first, as AWS lists it; fall back to the primary field if the set is absent.
  eachItem(n, "privateIpAddressesSet", [&](xml_node it) {
    std::string ip = text(it, "privateIpAddress");
    if (boolText(it, "primary", false)) {
      e.privateIpAddresses.insert(e.privateIpAddresses.begin(), ip);
    } else {
      e.privateIpAddresses.push_back(ip);
    }
  });
  if (e.privateIpAddresses.empty() && !e.privateIpAddress.empty())
    e.privateIpAddresses.push_back(e.privateIpAddress);
  if (xml_node a = n.child("attachment"); a && !text(a, "attachmentId").empty()) {
    e.attachment = NetworkInterfaceAttachment{text(a, "attachmentId"), text(a, "instanceId"),
                                              intText(a, "deviceIndex", -1), text(a, "status")};
  }
  e.tags = parseTags(n);
  return e;
}

Subnet parseSubnet(xml_node n) {
  return Subnet{text(n, "subnetId"),         text(n, "vpcId"), text(n, "cidrBlock"),
                text(n, "availabilityZone"), text(n, "state"), parseTags(n)};
}

RouteTable parseRouteTable(xml_node n) {
  RouteTable r;
  r.routeTableId = text(n, "routeTableId");
  r.vpcId = text(n, "vpcId");
  eachItem(n, "associationSet", [&](xml_node it) {
    r.associations.push_back(RouteTableAssociation{text(it, "routeTableAssociationId"), text(it, "subnetId"),
                                                   boolText(it, "main", false), text(it, "gatewayId")});
  });
  eachItem(n, "routeSet", [&](xml_node it) {
    r.routes.push_back(Route{text(it, "destinationCidrBlock"), text(it, "gatewayId"),
                             text(it, "networkInterfaceId"), text(it, "state")});
  });
  r.tags = parseTags(n);
  return r;
}

VpcCidrBlockAssociation parseCidrAssoc(xml_node n) {
  return VpcCidrBlockAssociation{text(n, "associationId"), text(n, "cidrBlock"),
                                 n.child("cidrBlockState").child("state").text().as_string()};
}

Vpc parseVpc(xml_node n) {
  Vpc v;
  v.vpcId = text(n, "vpcId");
  v.cidrBlock = text(n, "cidrBlock");
  v.state = text(n, "state");
  eachItem(n, "cidrBlockAssociationSet",
           [&](xml_node it) { v.cidrBlockAssociations.push_back(parseCidrAssoc(it)); });
  v.tags = parseTags(n);
  return v;
}

InternetGateway parseIgw(xml_node n) {
  InternetGateway g;
  g.internetGatewayId = text(n, "internetGatewayId");
  eachItem(n, "attachmentSet", [&](xml_node it) {
    g.attachments.push_back(InternetGatewayAttachment{text(it, "vpcId"), text(it, "state")});
  });
  g.tags = parseTags(n);
  return g;
}

Address parseAddress(xml_node n) {
  return Address{
      text(n, "publicIp"),   text(n, "allocationId"),       text(n, "associationId"),    text(n, "domain"),
      text(n, "instanceId"), text(n, "networkInterfaceId"), text(n, "privateIpAddress"), parseTags(n)};
}

Instance parseInstance(xml_node n) {
  Instance i;
  i.instanceId = text(n, "instanceId");
  i.imageId = text(n, "imageId");
  i.instanceType = text(n, "instanceType");
  i.state = n.child("instanceState").child("name").text().as_string();
  i.subnetId = text(n, "subnetId");
  i.vpcId = text(n, "vpcId");
  i.availabilityZone = n.child("placement").child("availabilityZone").text().as_string();
  i.privateIpAddress = text(n, "privateIpAddress");
  eachItem(n, "networkInterfaceSet", [&](xml_node it) {
    xml_node a = it.child("attachment");
    i.networkInterfaces.push_back(InstanceNetworkInterface{
        text(it, "networkInterfaceId"), text(it, "macAddress"), text(it, "subnetId"),
        text(it, "privateIpAddress"), text(a, "attachmentId"), intText(a, "deviceIndex", -1)});
  });
  i.tags = parseTags(n);
  return i;
}

template <class T, class Fn>
Result<Page<T>> parseSet(std::string_view xml, const char* action, const char* set, Fn&& fn) {
  pugi::xml_document doc;
  FLB_ASSIGN_OR_RETURN(xml_node root, loadRoot(doc, xml, std::string(action) + "Response"));
  Page<T> page;
  eachItem(root, set, [&](xml_node it) { page.items.push_back(fn(it)); });
  page.nextToken = text(root, "nextToken");
  return page;
}

template <class T, class Fn>
Result<T> parseOne(std::string_view xml, const char* action, const char* elem, Fn&& fn) {
  pugi::xml_document doc;
  FLB_ASSIGN_OR_RETURN(xml_node root, loadRoot(doc, xml, std::string(action) + "Response"));
  xml_node n = root.child(elem);
  if (!n) return makeError(ErrorCode::kInternal, std::string(action) + " response has no <" + elem + ">");
  return fn(n);
}

Result<std::string> parseField(std::string_view xml, const char* action, const char* field) {
  return parseOne<std::string>(xml, action, field, [](xml_node n) -> Result<std::string> {
    std::string v = n.text().as_string();
    if (v.empty()) return makeError(ErrorCode::kInternal, std::string("empty <") + n.name() + ">");
    return v;
  });
}

}  // namespace

AwsError parseErrorResponse(std::string_view xml, int http_status, std::string action) {
  AwsError e;
  e.httpStatus = http_status;
  e.action = std::move(action);
  pugi::xml_document doc;
  if (doc.load_buffer(xml.data(), xml.size())) {
    xml_node root = doc.document_element();
    xml_node err = root.child("Errors").child("Error");  // EC2 shape
    if (!err) err = root.child("Error");                 // generic Query shape
    if (!err && std::string_view(root.name()) == "Error") err = root;
    e.code = text(err, "Code");
    e.message = text(err, "Message");
    e.requestId = text(root, "RequestID");
    if (e.requestId.empty()) e.requestId = text(root, "RequestId");
  }
  if (e.code.empty()) {
    e.message = "HTTP " + std::to_string(http_status) + " without an EC2 error document" +
                (xml.empty() ? std::string() : ": " + std::string(xml.substr(0, 200)));
  }
  e.kind = classifyAwsCode(e.code, http_status);
  return e;
}

Result<std::string> parseRequestId(std::string_view xml, std::string_view action) {
  pugi::xml_document doc;
  FLB_ASSIGN_OR_RETURN(xml_node root, loadRoot(doc, xml, std::string(action) + "Response"));
  return std::string(text(root, "requestId"));
}

Status parseReturnTrue(std::string_view xml, std::string_view action) {
  pugi::xml_document doc;
  FLB_ASSIGN_OR_RETURN(xml_node root, loadRoot(doc, xml, std::string(action) + "Response"));
  xml_node r = root.child("return");
  // A few calls (e.g. DeleteNetworkInterface in some emulators) omit <return>; absence is success.
  if (r && !r.text().as_bool(false)) {
    return makeError(ErrorCode::kInternal, std::string(action) + " returned false");
  }
  return okStatus();
}

Result<Page<NetworkInterface>> parseDescribeNetworkInterfaces(std::string_view xml) {
  return parseSet<NetworkInterface>(xml, "DescribeNetworkInterfaces", "networkInterfaceSet", parseEni);
}
Result<Page<Subnet>> parseDescribeSubnets(std::string_view xml) {
  return parseSet<Subnet>(xml, "DescribeSubnets", "subnetSet", parseSubnet);
}
Result<Page<RouteTable>> parseDescribeRouteTables(std::string_view xml) {
  return parseSet<RouteTable>(xml, "DescribeRouteTables", "routeTableSet", parseRouteTable);
}
Result<Page<Vpc>> parseDescribeVpcs(std::string_view xml) {
  return parseSet<Vpc>(xml, "DescribeVpcs", "vpcSet", parseVpc);
}
Result<Page<InternetGateway>> parseDescribeInternetGateways(std::string_view xml) {
  return parseSet<InternetGateway>(xml, "DescribeInternetGateways", "internetGatewaySet", parseIgw);
}
Result<Page<Address>> parseDescribeAddresses(std::string_view xml) {
  return parseSet<Address>(xml, "DescribeAddresses", "addressesSet", parseAddress);
}

Result<Page<Instance>> parseDescribeInstances(std::string_view xml) {
  pugi::xml_document doc;
  FLB_ASSIGN_OR_RETURN(xml_node root, loadRoot(doc, xml, "DescribeInstancesResponse"));
  Page<Instance> page;
  eachItem(root, "reservationSet", [&](xml_node res) {
    eachItem(res, "instancesSet", [&](xml_node it) { page.items.push_back(parseInstance(it)); });
  });
  page.nextToken = text(root, "nextToken");
  return page;
}

Result<Subnet> parseCreateSubnet(std::string_view xml) {
  return parseOne<Subnet>(xml, "CreateSubnet", "subnet",
                          [](xml_node n) -> Result<Subnet> { return parseSubnet(n); });
}
Result<RouteTable> parseCreateRouteTable(std::string_view xml) {
  return parseOne<RouteTable>(xml, "CreateRouteTable", "routeTable",
                              [](xml_node n) -> Result<RouteTable> { return parseRouteTable(n); });
}
Result<std::string> parseAssociateRouteTable(std::string_view xml) {
  return parseField(xml, "AssociateRouteTable", "associationId");
}
Result<NetworkInterface> parseCreateNetworkInterface(std::string_view xml) {
  return parseOne<NetworkInterface>(xml, "CreateNetworkInterface", "networkInterface",
                                    [](xml_node n) -> Result<NetworkInterface> { return parseEni(n); });
}
Result<std::string> parseAttachNetworkInterface(std::string_view xml) {
  return parseField(xml, "AttachNetworkInterface", "attachmentId");
}
Result<VpcCidrBlockAssociation> parseAssociateVpcCidrBlock(std::string_view xml) {
  return parseOne<VpcCidrBlockAssociation>(
      xml, "AssociateVpcCidrBlock", "cidrBlockAssociation",
      [](xml_node n) -> Result<VpcCidrBlockAssociation> { return parseCidrAssoc(n); });
}
Result<std::string> parseAssociateAddress(std::string_view xml) {
  return parseField(xml, "AssociateAddress", "associationId");
}
Result<Address> parseAllocateAddress(std::string_view xml) {
  pugi::xml_document doc;
  FLB_ASSIGN_OR_RETURN(xml_node root, loadRoot(doc, xml, "AllocateAddressResponse"));
  Address a = parseAddress(root);
  if (a.allocationId.empty())
    return makeError(ErrorCode::kInternal, "AllocateAddress response has no allocationId");
  return a;
}
Result<std::vector<Instance>> parseRunInstances(std::string_view xml) {
  pugi::xml_document doc;
  FLB_ASSIGN_OR_RETURN(xml_node root, loadRoot(doc, xml, "RunInstancesResponse"));
  std::vector<Instance> out;
  eachItem(root, "instancesSet", [&](xml_node it) { out.push_back(parseInstance(it)); });
  if (out.empty()) return makeError(ErrorCode::kInternal, "RunInstances response has no instances");
  return out;
}
Result<Vpc> parseCreateVpc(std::string_view xml) {
  return parseOne<Vpc>(xml, "CreateVpc", "vpc", [](xml_node n) -> Result<Vpc> { return parseVpc(n); });
}
Result<InternetGateway> parseCreateInternetGateway(std::string_view xml) {
  return parseOne<InternetGateway>(xml, "CreateInternetGateway", "internetGateway",
                                   [](xml_node n) -> Result<InternetGateway> { return parseIgw(n); });
}

}  // namespace floatlb::cloud::aws
