// REST JSON -> floatctl output: columns, ordering, filters and value formatting of loxicmd.
#include "cli/views.h"

#include <gtest/gtest.h>

namespace floatlb::cli {
namespace {

const char* kLbAll = R"({"lbAttr":[
 {"serviceArguments":{"externalIP":"20.0.0.1","port":8080,"protocol":"tcp","sel":1,"mode":2,"name":"b",
   "inactiveTimeOut":240,"monitor":true,"block":3},
  "endpoints":[{"endpointIP":"10.0.0.2","targetPort":80,"weight":1,"state":"active","counter":"5:300"},
               {"endpointIP":"10.0.0.3","targetPort":80,"weight":2,"state":"inactive","counter":"0:0"}]},
 {"serviceArguments":{"externalIP":"20.0.0.1","port":80,"protocol":"udp","name":"a","portMax":90},
  "endpoints":[{"endpointIP":"10.0.0.9","targetPort":53,"weight":1,"state":"active","counter":"1:64"}]},
 {"serviceArguments":{"externalIP":"1.1.1.1","port":1,"protocol":"tcp","snat":true,"name":"hidden"},
  "endpoints":[{"endpointIP":"10.0.0.1","targetPort":1,"weight":1}]}
]})";

TEST(ViewsTest, LoadBalancerDefaultTableSortedByIpPortProto) {
  auto r = renderLoadBalancers(kLbAll, OutputFormat::kTable, "");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(
      *r,
      "|  EXT IP  | PORT  | PROTO | NAME | MARK | SEL  |  MODE   | # OF ENDPOINTS | TIMEOUT | MONITOR |\n"
      "|----------|-------|-------|------|------|------|---------|----------------|---------|---------|\n"
      "| 20.0.0.1 | 80-90 | udp   | a    |    0 | rr   | default |              1 |       0 | Off     |\n"
      "| 20.0.0.1 |  8080 | tcp   | b    |    3 | hash | fullnat |              2 |     240 | On      |\n");
}

TEST(ViewsTest, LoadBalancerWideOneRowPerEndpoint) {
  auto r = renderLoadBalancers(kLbAll, OutputFormat::kWide, "b");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r,
            "|  EXT IP  | SEC IPS | SOURCES | HOST | PORT | PROTO | NAME | MARK | SEL  |  MODE   | ENDPOINT "
            "| EPORT | "
            "WEIGHT |  STATE   | COUNTERS |\n"
            "|----------|---------|---------|------|------|-------|------|------|------|---------|----------|"
            "-------|"
            "--------|----------|----------|\n"
            "| 20.0.0.1 |         |         |      | 8080 | tcp   | b    |    3 | hash | fullnat | 10.0.0.2 "
            "|    80 | "
            "     1 | active   | 5:300    |\n"
            "|          |         |         |      |      |       |      |      |      |         | 10.0.0.3 "
            "|    80 | "
            "     2 | inactive | 0:0      |\n");
}

TEST(ViewsTest, LoadBalancerWideShowsDashStateWithoutMonitor) {
  auto r = renderLoadBalancers(kLbAll, OutputFormat::kWide, "a");
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r->find("| 10.0.0.9 |    53 |      1 | -     | 1:64     |"), std::string::npos) << *r;
}

TEST(ViewsTest, EmptyLoadBalancerListPrintsNothingLikeLoxicmd) {
  auto r = renderLoadBalancers(R"({"lbAttr":[]})", OutputFormat::kTable, "");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "");
}

TEST(ViewsTest, JsonIsPrettyPrintedWithFourSpacesInServerOrder) {
  auto r = renderHaState(R"({"Attr":[{"state":"MASTER","instance":"llb-inst0","sync":null}]})",
                         OutputFormat::kJson);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r,
            "{\n"
            "    \"Attr\": [\n"
            "        {\n"
            "            \"state\": \"MASTER\",\n"
            "            \"instance\": \"llb-inst0\",\n"
            "            \"sync\": null\n"
            "        }\n"
            "    ]\n"
            "}\n");
}

TEST(ViewsTest, HaSortedByInstance) {
  auto r = renderHaState(R"({"Attr":[{"instance":"llb-inst1","state":"BACKUP"},{"instance":"llb-inst0",
                            "state":"MASTER"}]})",
                         OutputFormat::kTable);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r,
            "| INSTANCE  | HASTATE |\n"
            "|-----------|---------|\n"
            "| llb-inst0 | MASTER  |\n"
            "| llb-inst1 | BACKUP  |\n");
}

TEST(ViewsTest, ConntrackColumnsSortAndFilter) {
  const char* body = R"({"ctAttr":[
    {"destinationIP":"192.168.218.10","sourceIP":"124.124.124.250","destinationPort":32403,"sourcePort":51234,
     "protocol":"tcp","ident":"0:0","conntrackState":"est","conntrackAct":"fsnat-x","packets":10,"bytes":800,
     "servName":"svc"},
    {"destinationIP":"124.124.124.250","sourceIP":"3.3.3.3","destinationPort":55002,"sourcePort":51234,
     "protocol":"tcp","ident":"0:0","conntrackState":"est","conntrackAct":"fdnat-y","packets":12,"bytes":880,
     "servName":"svc"},
    {"destinationIP":"1.2.3.4","sourceIP":"3.3.3.3","destinationPort":1,"sourcePort":2,"protocol":"udp",
     "ident":"0:0","conntrackState":"udp-est","conntrackAct":"n/a","packets":1,"bytes":2,"servName":"-"}]})";
  auto r = renderConntrack(body, OutputFormat::kTable, "svc");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(
      *r,
      "| SERVICE NAME |     DESTIP      |      SRCIP      | DPORT | SPORT | PROTO | IDENT | STATE |   ACT   "
      "| "
      "PACKETS | BYTES |\n"
      "|--------------|-----------------|-----------------|-------|-------|-------|-------|-------|---------|"
      "---------|-------|\n"
      "| svc          | 124.124.124.250 | 3.3.3.3         | 55002 | 51234 | tcp   | 0:0   | est   | fdnat-y "
      "| "
      "     12 |   880 |\n"
      "| svc          | 192.168.218.10  | 124.124.124.250 | 32403 | 51234 | tcp   | 0:0   | est   | fsnat-x "
      "| "
      "     10 |   800 |\n");
}

TEST(ViewsTest, EndpointsSortedByHostPortTypeName) {
  const char* body = R"({"Attr":[
    {"hostName":"10.0.0.2","name":"10.0.0.2_tcp_80","probeType":"tcp","probePort":80,"probeDuration":60,
     "inactiveReTries":2,"minDelay":"0s","avgDelay":"0s","maxDelay":"0s","currState":"nok"},
    {"hostName":"10.0.0.1","name":"10.0.0.1_ping_0","probeType":"ping","probePort":0,"probeDuration":10,
     "inactiveReTries":3,"minDelay":"120µs","avgDelay":"1.5ms","maxDelay":"2ms","currState":"ok"}]})";
  auto r = renderEndpoints(body, OutputFormat::kTable);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r,
            "|   HOST   |      NAME       | PTYPE | PORT | DURATION | RETRIES | MINDELAY | AVGDELAY | "
            "MAXDELAY | STATE |\n"
            "|----------|-----------------|-------|------|----------|---------|----------|----------|--------"
            "--|-------|\n"
            "| 10.0.0.1 | 10.0.0.1_ping_0 | ping: |    0 |       10 |       3 | 120µs    | 1.5ms    | 2ms    "
            "  | ok    |\n"
            "| 10.0.0.2 | 10.0.0.2_tcp_80 | tcp:  |   80 |       60 |       2 | 0s       | 0s       | 0s     "
            "  | nok   |\n");
}

TEST(ViewsTest, BfdTableAndWide) {
  const char* body = R"({"Attr":[{"instance":"llb-inst0","remoteIp":"192.168.80.2","sourceIP":"192.168.80.1",
    "port":3784,"interval":100000,"retryCount":3,"state":"BFDUp"}]})";
  auto r = renderBfd(body, OutputFormat::kTable);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r,
            "| INSTANCE  |   REMOTEIP   | STATE |\n"
            "|-----------|--------------|-------|\n"
            "| llb-inst0 | 192.168.80.2 | BFDUp |\n");
  auto w = renderBfd(body, OutputFormat::kWide);
  ASSERT_TRUE(w.ok());
  EXPECT_NE(w->find("| 192.168.80.1 | 3784 | 100000 us |           3 | BFDUp |"), std::string::npos) << *w;
}

TEST(ViewsTest, KeysMatchCaseInsensitivelyLikeGo) {
  auto r = renderHaState(R"({"attr":[{"Instance":"x","STATE":"BACKUP"}]})", OutputFormat::kTable);
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r->find("| x        | BACKUP  |"), std::string::npos) << *r;
}

TEST(ViewsTest, InvalidJsonIsAnError) {
  auto r = renderEndpoints("{not json", OutputFormat::kTable);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("invalid JSON from server"), std::string::npos);
}

TEST(ViewsTest, ErrorLine) {
  EXPECT_EQ(
      errorLine(
          409,
          R"({"code":409,"message":"Resource conflict: Resource already exists OR dependency not found","result":"lbrule-exists error","fields":null})"),
      "Resource conflict: Resource already exists OR dependency not found (lbrule-exists error) (HTTP 409)");
  EXPECT_EQ(errorLine(500, R"({"code":500,"message":"bfd session not running"})"),
            "bfd session not running (HTTP 500)");
  EXPECT_EQ(errorLine(400, R"({"result":"bad port"})"), "bad port (HTTP 400)");
  EXPECT_EQ(errorLine(502, "upstream\nfailed\n"), "upstream failed (HTTP 502)");
  EXPECT_EQ(errorLine(503, ""), "Service Unavailable (HTTP 503)");
  EXPECT_EQ(errorLine(418, ""), "request failed (HTTP 418)");
}

}  // namespace
}  // namespace floatlb::cli

TEST(Views, HaPeersTable) {
  const std::string body =
      R"({"instance":"llb-inst0","state":"MASTER","transitions":2,"epoch":3,"takeoversOutOfSync":0,"peers":[)"
      R"({"peer":"192.168.218.3","sending":true,"receiving":false,"inSync":false,"entriesSent":100,)"
      R"("entriesReceived":0,"entriesSkipped":0,"syncLagMs":1,"heartbeat":{"alive":true,"state":"BACKUP","epoch":3}}]})";
  auto out = floatlb::cli::renderHaPeers(body, floatlb::cli::OutputFormat::kTable);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_NE(out->find("| INSTANCE  | STATE  | EPOCH |     PEER      | PEER STATE |"), std::string::npos) << *out;
  EXPECT_NE(out->find("| llb-inst0 | MASTER |     3 | 192.168.218.3 | BACKUP     | up        | sending | no      |"),
            std::string::npos)
      << *out;
}
