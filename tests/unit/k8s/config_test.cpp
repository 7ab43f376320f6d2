#include "k8s/config.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "k8s/yaml_json.h"

namespace floatlb::k8s {
namespace {

// aws eks update-kubeconfig's shape.
const char* kEks = R"(apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==
    server: https://ABC.gr7.ap-northeast-3.eks.amazonaws.com
  name: arn:aws:eks:ap-northeast-3:111122223333:cluster/multi-az-eks
contexts:
- context:
    cluster: arn:aws:eks:ap-northeast-3:111122223333:cluster/multi-az-eks
    user: arn:aws:eks:ap-northeast-3:111122223333:cluster/multi-az-eks
  name: arn:aws:eks:ap-northeast-3:111122223333:cluster/multi-az-eks
current-context: arn:aws:eks:ap-northeast-3:111122223333:cluster/multi-az-eks
kind: Config
preferences: {}
users:
- name: arn:aws:eks:ap-northeast-3:111122223333:cluster/multi-az-eks
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      args:
      - --region
      - ap-northeast-3
      - eks
      - get-token
      - --cluster-name
      - multi-az-eks
      - --output
      - json
      command: aws
      env:
      - name: AWS_PROFILE
        value: "prod"
)";

TEST(Yaml, ScalarsAndQuotes) {
  auto j = yamlToJson("a: true\nb: \"true\"\nc: 42\nd: ~\ne: [x, 'y']\n");
  ASSERT_TRUE(j.ok()) << j.error().message;
  EXPECT_EQ((*j)["a"], true);
  EXPECT_EQ((*j)["b"], "true");
  EXPECT_EQ((*j)["c"], 42);
  EXPECT_TRUE((*j)["d"].is_null());
  EXPECT_EQ((*j)["e"][1], "y");
  EXPECT_FALSE(yamlToJson("a: [1, 2\n").ok());
  EXPECT_FALSE(yamlToJson("a: &x 1\nb: *x\n").ok());
}

TEST(Kubeconfig, EksExecPlugin) {
  auto c = kubeconfigFrom({{kEks, "/home/u/.kube"}}, "");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->server, "https://ABC.gr7.ap-northeast-3.eks.amazonaws.com");
  EXPECT_EQ(c->ca_pem, "-----BEGIN CERTIFICATE-----\n");
  ASSERT_TRUE(c->exec);
  EXPECT_EQ(c->exec->command, "aws");
  ASSERT_EQ(c->exec->args.size(), 8u);
  EXPECT_EQ(c->exec->args[3], "get-token");
  EXPECT_EQ(c->exec->env[0].first, "AWS_PROFILE");
  EXPECT_EQ(c->exec->env[0].second, "prod");
  std::string info = execInfo(*c->exec, *c);
  EXPECT_EQ(
      info,
      R"({"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","spec":{"interactive":false}})");
}

TEST(Kubeconfig, MergedListFirstWinsAndRelativePaths) {
  const char* first = R"(current-context: dev
contexts:
- name: dev
  context: {cluster: c1, user: u1, namespace: team}
users:
- name: u1
  user: {tokenFile: tok}
)";
  const char* second = R"(current-context: other
clusters:
- name: c1
  cluster: {server: "https://10.0.0.1:6443/", insecure-skip-tls-verify: true, certificate-authority: ca.pem}
users:
- name: u1
  user: {token: ignored}
)";
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("kfl-kc-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "ca.pem") << "CA";
  auto c = kubeconfigFrom({{first, "/a"}, {second, dir.string()}}, "");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->server, "https://10.0.0.1:6443");
  EXPECT_TRUE(c->insecure);
  EXPECT_EQ(c->ca_pem, "CA");
  EXPECT_EQ(c->ns, "team");
  EXPECT_EQ(c->token_file, "/a/tok");  // u1 from the first file, relative to it
  EXPECT_EQ(c->token, "");
  EXPECT_FALSE(kubeconfigFrom({{first, "/a"}, {second, dir.string()}}, "nope").ok());
  const char* gcp =
      "current-context: x\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n"
      "clusters: [{name: c, cluster: {server: 'https://h'}}]\n"
      "users: [{name: u, user: {auth-provider: {name: gcp}}}]\n";
  auto g = kubeconfigFrom({{gcp, "/"}}, "");
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.error().message.find("auth-provider is not supported"), std::string::npos);
  // In-cluster.
  std::ofstream(dir / "token") << "sa-token\n";
  std::ofstream(dir / "namespace") << "kube-system";
  auto ic = inClusterConfig({{"KUBERNETES_SERVICE_HOST", "10.100.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}},
                            dir.string());
  std::ofstream(dir / "ca.crt") << "CA2";
  ic = inClusterConfig({{"KUBERNETES_SERVICE_HOST", "10.100.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}},
                       dir.string());
  ASSERT_TRUE(ic.ok()) << ic.error().message;
  EXPECT_EQ(ic->server, "https://10.100.0.1:443");
  EXPECT_EQ(ic->ns, "kube-system");
  EXPECT_FALSE(inClusterConfig({}, dir.string()).ok());
  fs::remove_all(dir);
}

class ScriptedRunner : public ExecRunner {
 public:
  std::vector<std::string> outputs;
  size_t runs = 0;
  std::string last_info;
  Result<std::string> run(const ExecConfig&, const std::string& info) override {
    last_info = info;
    return outputs.at(std::min(runs++, outputs.size() - 1));
  }
};

TEST(ExecCredential, CachedUntil30sBeforeExpiryAndRerunOn401) {
  FakeClock clock;  // wall = 1.7e12 ms + 1000 s
  auto c = kubeconfigFrom({{kEks, "/"}}, "");
  ScriptedRunner runner;
  auto at = [&](int64_t wall_ms) {
    std::time_t t = wall_ms / 1000;
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return std::string(buf);
  };
  int64_t exp = clock.wallMillis() + 15 * 60 * 1000;
  runner.outputs = {
      R"({"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","status":)"
      R"({"expirationTimestamp":")" +
          at(exp) + R"(","token":"k8s-aws-v1.first"}})",
      R"({"kind":"ExecCredential","status":{"token":"k8s-aws-v1.second","expirationTimestamp":")" +
          at(exp + 3600000) + R"("}})"};
  Credentials creds(*c, clock, runner);
  EXPECT_EQ(creds.current()->token, "k8s-aws-v1.first");
  clock.advance(std::chrono::minutes(14));
  EXPECT_EQ(creds.current()->token, "k8s-aws-v1.first");
  EXPECT_EQ(runner.runs, 1u);
  clock.advance(std::chrono::seconds(40));  // within 30 s of expiry
  EXPECT_EQ(creds.current()->token, "k8s-aws-v1.second");
  EXPECT_EQ(runner.runs, 2u);
  creds.invalidate();  // 401
  EXPECT_TRUE(creds.current().ok());
  EXPECT_EQ(runner.runs, 3u);
  EXPECT_NE(runner.last_info.find("ExecCredential"), std::string::npos);
}

TEST(ExecCredential, ParsingAndTimestamps) {
  EXPECT_FALSE(parseExecCredential("{}").ok());
  EXPECT_FALSE(parseExecCredential(R"({"kind":"ExecCredential","status":{}})").ok());
  auto cert = parseExecCredential(
      R"({"kind":"ExecCredential","status":{"clientCertificateData":"C","clientKeyData":"K"}})");
  ASSERT_TRUE(cert.ok());
  EXPECT_FALSE(cert->expiry_wall_ms);
  EXPECT_FALSE(
      parseExecCredential(R"({"kind":"ExecCredential","status":{"token":"t","expirationTimestamp":"soon"}})")
          .ok());
  EXPECT_EQ(parseRfc3339("1970-01-01T00:00:01Z"), 1000);
  EXPECT_EQ(parseRfc3339("2026-12-01T18:59:16+00:00"), parseRfc3339("2026-12-01T18:59:16Z"));
  EXPECT_EQ(*parseRfc3339("2026-12-01T19:59:16.5+01:00"), *parseRfc3339("2026-12-01T18:59:16Z") + 500);
  EXPECT_FALSE(parseRfc3339("2026-13-01T00:00:00Z"));
  EXPECT_EQ(base64Decode("aGVsbG8="), "hello");
  EXPECT_EQ(base64Decode("bad"), "");
}

TEST(ExecCredential, RealProcessGetsExecInfoAndEnv) {
  ExecConfig e;
  e.command = "/bin/sh";
  e.args = {"-c", R"x(printf '{"kind":"ExecCredential","status":{"token":"%s-%s"}}' "$FOO" )x"
                  R"x("$(printf %s "$KUBERNETES_EXEC_INFO" | grep -c ExecCredential)")x"};
  e.env = {{"FOO", "bar"}};
  ProcessExecRunner runner;
  auto out = runner.run(e, R"({"kind":"ExecCredential"})");
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(parseExecCredential(*out)->token, "bar-1");
  e.args = {"-c", "exit 3"};
  EXPECT_FALSE(runner.run(e, "{}").ok());
}

}  // namespace
}  // namespace floatlb::k8s
