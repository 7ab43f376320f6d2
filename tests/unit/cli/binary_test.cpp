// Runs the real floatctl binary against a tiny in-process httplib server (127.0.0.1, ephemeral port)
// that answers canned JSON, and checks stdout/stderr/exit code end to end.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

namespace {

struct Output {
  int code = -1;
  std::string out;
  std::string err;
};

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Runs floatctl with `args` (shell-quoted by the caller), capturing stdout and stderr to files.
Output runFloatctl(const std::string& args) {
  char dir_template[] = "/tmp/floatctl_test_XXXXXX";
  const char* dir = mkdtemp(dir_template);
  if (dir == nullptr) return {};
  std::string out_path = std::string(dir) + "/out", err_path = std::string(dir) + "/err";
  std::string cmd =
      std::string("timeout 20 ") + FLOATCTL_BIN + " " + args + " >" + out_path + " 2>" + err_path;
  int status = std::system(cmd.c_str());
  Output o;
  o.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  o.out = slurp(out_path);
  o.err = slurp(err_path);
  std::remove(out_path.c_str());
  std::remove(err_path.c_str());
  rmdir(dir);
  return o;
}

class BinaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_.Get("/netlox/v1/config/cistate/all", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(R"({"Attr":[{"instance":"llb-inst0","state":"MASTER","vip":"0.0.0.0","sync":null}]})",
                      "application/json");
    });
    server_.Post(
        "/netlox/v1/config/loadbalancer", [this](const httplib::Request& req, httplib::Response& res) {
          last_body_ = req.body;
          res.status = 409;
          res.set_content(R"({"code":409,"message":"Resource conflict","result":"lbrule-exists error"})",
                          "application/json");
        });
    port_ = server_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!server_.is_running() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));  // polling a condition with a deadline
    }
    ASSERT_TRUE(server_.is_running());
  }
  void TearDown() override {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }

  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::string last_body_;
};

TEST_F(BinaryTest, GetHaRendersTable) {
  Output o = runFloatctl("-p " + std::to_string(port_) + " get ha");
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.out,
            "| INSTANCE  | HASTATE |\n"
            "|-----------|---------|\n"
            "| llb-inst0 | MASTER  |\n");
  EXPECT_EQ(o.err, "");
}

TEST_F(BinaryTest, CreateConflictIsReportedOnStderr) {
  Output o = runFloatctl("--apiserver=127.0.0.1 --port=" + std::to_string(port_) +
                         " create lb 192.168.248.1 --tcp=80:8080 --endpoints=192.168.218.10:1");
  EXPECT_EQ(o.code, 1);
  EXPECT_EQ(o.err, "floatctl: Resource conflict (lbrule-exists error) (HTTP 409)\n");
  EXPECT_NE(last_body_.find(R"("externalIP":"192.168.248.1")"), std::string::npos) << last_body_;
}

TEST_F(BinaryTest, UnknownPathGivesHttp404) {
  Output o = runFloatctl("-p " + std::to_string(port_) + " get ep");
  EXPECT_EQ(o.code, 1);
  EXPECT_NE(o.err.find("(HTTP 404)"), std::string::npos) << o.err;
}

TEST(BinaryNoServerTest, ConnectionRefused) {
  // A port with no listener: bind an ephemeral TCP port without listen(), read it, close it.
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  int port = ntohs(addr.sin_port);
  close(fd);
  Output o = runFloatctl("-p " + std::to_string(port) + " -t 2 get lb");
  EXPECT_EQ(o.code, 1);
  EXPECT_EQ(o.err, "floatctl: cannot reach floatlb at http://127.0.0.1:" + std::to_string(port) +
                       ": Connection refused\n");
}

TEST(BinaryNoServerTest, BadFlagExitsTwo) {
  Output o = runFloatctl("get lb --nope");
  EXPECT_EQ(o.code, 2);
  EXPECT_NE(o.err.find("usage: floatctl get lb"), std::string::npos) << o.err;
}

}  // namespace
