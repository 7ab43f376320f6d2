// Command line -> REST requests (method, path, JSON body) through a fake transport, plus exit codes
// and error rendering.
#include <gtest/gtest.h>

#include <deque>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/floatctl.h"

namespace floatlb::cli {
namespace {

struct FakeServer {
  std::vector<HttpRequest> requests;
  std::deque<Result<HttpResponse>> answers;  // popped per request; default 200 {"result":"Success"}
  ServerAddress seen;
};

class FakeTransport final : public Transport {
 public:
  explicit FakeTransport(FakeServer* s) : s_(s) {}
  Result<HttpResponse> send(const HttpRequest& req) override {
    s_->requests.push_back(req);
    if (s_->answers.empty()) return HttpResponse{200, R"({"result":"Success"})"};
    auto a = s_->answers.front();
    s_->answers.pop_front();
    return a;
  }

 private:
  FakeServer* s_;
};

struct CliRun {
  int code;
  std::string out;
  std::string err;
};

CliRun run(FakeServer& server, const std::vector<std::string>& args) {
  std::ostringstream out, err;
  int code = runFloatctl(
      args,
      [&](const ServerAddress& a) {
        server.seen = a;
        return std::make_unique<FakeTransport>(&server);
      },
      out, err);
  return {code, out.str(), err.str()};
}

nlohmann::json body(const HttpRequest& r) { return nlohmann::json::parse(r.body); }

TEST(CommandTest, GetCommandsAndAliasesHitTheRightPaths) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"get", "lb"}, "/netlox/v1/config/loadbalancer/all"},
      {{"get", "loadbalancer"}, "/netlox/v1/config/loadbalancer/all"},
      {{"get", "lbs"}, "/netlox/v1/config/loadbalancer/all"},
      {{"get", "ct"}, "/netlox/v1/config/conntrack/all"},
      {{"get", "conntrack"}, "/netlox/v1/config/conntrack/all"},
      {{"get", "cts"}, "/netlox/v1/config/conntrack/all"},
      {{"get", "ha"}, "/netlox/v1/config/cistate/all"},
      {{"get", "hastate"}, "/netlox/v1/config/cistate/all"},
      {{"get", "ep"}, "/netlox/v1/config/endpoint/all"},
      {{"get", "endpoint"}, "/netlox/v1/config/endpoint/all"},
      {{"get", "bfd"}, "/netlox/v1/config/bfd/all"},
  };
  for (const auto& [args, path] : cases) {
    FakeServer s;
    s.answers.push_back(HttpResponse{200, R"({"lbAttr":[],"ctAttr":[],"Attr":[]})"});
    CliRun r = run(s, args);
    EXPECT_EQ(r.code, kExitOk) << args[1] << ": " << r.err;
    ASSERT_EQ(s.requests.size(), 1u) << args[1];
    EXPECT_EQ(s.requests[0], (HttpRequest{"GET", path, ""})) << args[1];
  }
}

TEST(CommandTest, GlobalFlagsSelectServerAndOutput) {
  FakeServer s;
  s.answers.push_back(HttpResponse{200, R"({"Attr":[{"instance":"llb-inst0","state":"MASTER"}]})"});
  CliRun r = run(s, {"-s", "10.1.2.3", "get", "ha", "--port=2222", "-t", "3", "-o", "json"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(s.seen.host, "10.1.2.3");
  EXPECT_EQ(s.seen.port, 2222);
  EXPECT_EQ(s.seen.timeout, std::chrono::seconds(3));
  EXPECT_EQ(r.out,
            "{\n    \"Attr\": [\n        {\n            \"instance\": \"llb-inst0\",\n"
            "            \"state\": \"MASTER\"\n        }\n    ]\n}\n");
}

TEST(CommandTest, DefaultsAreLoxicmdDefaults) {
  FakeServer s;
  s.answers.push_back(HttpResponse{200, R"({"Attr":[]})"});
  ASSERT_EQ(run(s, {"get", "ha"}).code, kExitOk);
  EXPECT_EQ(s.seen.host, "127.0.0.1");
  EXPECT_EQ(s.seen.port, 11111);
  EXPECT_EQ(s.seen.timeout, std::chrono::seconds(10));
}

TEST(CommandTest, CreateLbMapsEveryFlagToTheRestBody) {
  FakeServer s;
  CliRun r =
      run(s, {"create", "lb", "192.168.248.10", "--tcp=80:8080,443:8443", "--udp=53:5353",
              "--endpoints=192.168.218.10:1,192.168.228.10:2", "--select=hash", "--mode=fullnat",
              "--name=web:llb-inst0", "--inatimeout=30", "--mark=7", "--monitor", "--privateIP=10.0.0.5"});
  ASSERT_EQ(r.code, kExitOk) << r.err;
  ASSERT_EQ(s.requests.size(), 3u);
  for (const auto& req : s.requests) {
    EXPECT_EQ(req.method, "POST");
    EXPECT_EQ(req.path, "/netlox/v1/config/loadbalancer");
  }
  const auto expected0 = nlohmann::json::parse(R"({
    "serviceArguments":{"externalIP":"192.168.248.10","privateIP":"10.0.0.5","port":80,"protocol":"tcp","sel":1,
      "mode":2,"inactiveTimeOut":30,"block":7,"monitor":true,"name":"web:llb-inst0","oper":0},
    "endpoints":[{"endpointIP":"192.168.218.10","targetPort":8080,"weight":1},
                 {"endpointIP":"192.168.228.10","targetPort":8080,"weight":2}]})");
  EXPECT_EQ(body(s.requests[0]), expected0);
  EXPECT_EQ(body(s.requests[1])["serviceArguments"]["port"], 443);
  EXPECT_EQ(body(s.requests[1])["endpoints"][1]["targetPort"], 8443);
  EXPECT_EQ(body(s.requests[2])["serviceArguments"]["protocol"], "udp");
  EXPECT_EQ(body(s.requests[2])["serviceArguments"]["port"], 53);
  EXPECT_EQ(body(s.requests[2])["endpoints"][0]["targetPort"], 5353);
}

TEST(CommandTest, CreateLbDefaultsAndAttachDetach) {
  FakeServer s;
  ASSERT_EQ(run(s, {"create", "lb", "1.2.3.4", "--tcp=80:80", "--endpoints=10.0.0.1:1"}).code, kExitOk);
  ASSERT_EQ(s.requests.size(), 1u);
  auto svc = body(s.requests[0])["serviceArguments"];
  EXPECT_EQ(svc["sel"], 0);
  EXPECT_EQ(svc["mode"], 0);
  EXPECT_EQ(svc["monitor"], false);
  EXPECT_EQ(svc["oper"], 0);
  EXPECT_FALSE(svc.contains("name"));
  EXPECT_FALSE(svc.contains("privateIP"));

  ASSERT_EQ(run(s, {"create", "lb", "1.2.3.4", "--tcp=80:80", "--endpoints=10.0.0.1:1", "--attachEP"}).code,
            kExitOk);
  EXPECT_EQ(body(s.requests[1])["serviceArguments"]["oper"], 1);
  ASSERT_EQ(run(s, {"create", "lb", "1.2.3.4", "--tcp=80:80", "--endpoints=10.0.0.1:1", "--detachEP"}).code,
            kExitOk);
  EXPECT_EQ(body(s.requests[2])["serviceArguments"]["oper"], 2);
}

TEST(CommandTest, DeleteLbByPortsAndByName) {
  FakeServer s;
  ASSERT_EQ(run(s, {"delete", "lb", "192.168.248.10", "--tcp=80,443", "--udp=53", "--mark=2"}).code, kExitOk);
  ASSERT_EQ(s.requests.size(), 3u);
  EXPECT_EQ(
      s.requests[0],
      (HttpRequest{"DELETE",
                   "/netlox/v1/config/loadbalancer/externalipaddress/192.168.248.10/port/80/protocol/tcp"
                   "?block=2&bgp=false",
                   ""}));
  EXPECT_EQ(s.requests[1].path,
            "/netlox/v1/config/loadbalancer/externalipaddress/192.168.248.10/port/443/protocol/"
            "tcp?block=2&bgp=false");
  EXPECT_EQ(s.requests[2].path,
            "/netlox/v1/config/loadbalancer/externalipaddress/192.168.248.10/port/53/protocol/"
            "udp?block=2&bgp=false");

  FakeServer n;
  ASSERT_EQ(run(n, {"delete", "lb", "--name=default_web:llb-inst0"}).code, kExitOk);
  ASSERT_EQ(n.requests.size(), 1u);
  EXPECT_EQ(n.requests[0],
            (HttpRequest{"DELETE", "/netlox/v1/config/loadbalancer/name/default_web:llb-inst0", ""}));
}

TEST(CommandTest, BadCommandLinesExitTwoWithUsageAndSendNothing) {
  const std::vector<std::vector<std::string>> bad = {
      {},
      {"frobnicate"},
      {"get", "nothing"},
      {"get", "lb", "--bogus"},
      {"get", "ha", "--tcp=80"},  // a flag of another command
      {"get", "lb", "-o", "yaml"},
      {"get", "lb", "extra"},
      {"-p", "99999", "get", "lb"},
      {"create", "lb", "1.2.3.4", "--endpoints=10.0.0.1:1"},                   // no port
      {"create", "lb", "1.2.3.4", "--tcp=80", "--endpoints=10.0.0.1:1"},       // no target
      {"create", "lb", "1.2.3.4", "--tcp=80:80"},                              // no endpoints
      {"create", "lb", "1.2.3.4", "--tcp=80:80", "--endpoints=10.0.0.1"},      // no weight
      {"create", "lb", "1.2.3.4", "--tcp=80:80", "--endpoints=10.0.0.1:300"},  // weight range
      {"create", "lb", "1.2.3.999", "--tcp=80:80", "--endpoints=10.0.0.1:1"},  // bad IP
      {"create", "lb", "1.2.3.4", "--tcp=80:80", "--endpoints=10.0.0.1:1", "--select=random"},
      {"create", "lb", "1.2.3.4", "--tcp=80:80", "--endpoints=10.0.0.1:1", "--mode=dsr"},
      {"create", "lb", "1.2.3.4", "--tcp=80:80", "--endpoints=10.0.0.1:1", "--attachEP", "--detachEP"},
      {"delete", "lb", "1.2.3.4"},
      {"delete", "lb", "1.2.3.4", "--name=x"},
  };
  for (const auto& args : bad) {
    FakeServer s;
    CliRun r = run(s, args);
    std::string joined;
    for (const auto& a : args) joined += a + " ";
    EXPECT_EQ(r.code, kExitUsage) << joined;
    EXPECT_TRUE(s.requests.empty()) << joined;
    EXPECT_NE(r.err.find("usage: floatctl"), std::string::npos) << joined << "\n" << r.err;
  }
}

TEST(CommandTest, ServerErrorPrintsMessageOnOneLineAndExitsOne) {
  FakeServer s;
  s.answers.push_back(
      HttpResponse{409, R"({"code":409,"message":"Resource conflict","result":"lbrule-exists error"})"});
  CliRun r = run(s, {"create", "lb", "1.2.3.4", "--tcp=80:80,81:81", "--endpoints=10.0.0.1:1"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_EQ(r.err, "floatctl: Resource conflict (lbrule-exists error) (HTTP 409)\n");
  EXPECT_EQ(s.requests.size(), 1u) << "must stop at the first failure";
  EXPECT_EQ(r.out, "");
}

TEST(CommandTest, BfdNotRunningIsReportedAndExitsOne) {
  FakeServer s;
  s.answers.push_back(HttpResponse{500, R"({"code":500,"message":"bfd session not running"})"});
  CliRun r = run(s, {"get", "bfd"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_EQ(r.err, "floatctl: bfd session not running (HTTP 500)\n");
}

TEST(CommandTest, SuccessWithErrorResultIsAFailure) {
  FakeServer s;
  s.answers.push_back(
      HttpResponse{200, R"({"result":"Error: Only Hash Selection criteria allowed for DSR mode"})"});
  CliRun r = run(s, {"create", "lb", "1.2.3.4", "--tcp=80:80", "--endpoints=10.0.0.1:1"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_EQ(r.err, "floatctl: Error: Only Hash Selection criteria allowed for DSR mode\n");
}

TEST(CommandTest, TransportFailureSaysCannotReach) {
  FakeServer s;
  s.answers.push_back(makeError(ErrorCode::kUnavailable, "Connection refused"));
  CliRun r = run(s, {"-s", "10.9.9.9", "-p", "1234", "get", "lb"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_EQ(r.err, "floatctl: cannot reach floatlb at http://10.9.9.9:1234: Connection refused\n");
}

TEST(CommandTest, GarbageFromServerIsAnErrorNotACrash) {
  FakeServer s;
  s.answers.push_back(HttpResponse{200, "<html>"});
  CliRun r = run(s, {"get", "lb"});
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_NE(r.err.find("invalid JSON from server"), std::string::npos);
}

TEST(CommandTest, VersionAndHelp) {
  FakeServer s;
  CliRun v = run(s, {"version"});
  EXPECT_EQ(v.code, kExitOk);
  EXPECT_EQ(v.out.rfind("floatctl version ", 0), 0u);
  CliRun h = run(s, {"--help"});
  EXPECT_EQ(h.code, kExitOk);
  EXPECT_NE(h.out.find("floatctl create lb IP"), std::string::npos);
  EXPECT_TRUE(s.requests.empty());
}

}  // namespace
}  // namespace floatlb::cli
