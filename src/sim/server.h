// vpcsim's HTTP front: the EC2 Query API (SigV4-verified), IMDSv2 per instance and the JSON admin
// endpoint. Listeners: one in the root namespace (tests, awscli) and optionally one inside the VPC
// router namespace on 169.254.169.254:80 that instances reach through their default route.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "sim/model.h"
#include "sim/realiser.h"

namespace httplib {
class Server;
}

namespace floatlb::sim {

struct ServerConfig {
  std::map<std::string, std::string> credentials = {{"AKIDVPCSIM", "vpcsim-secret-key"}};
  std::string role_name = "vpcsim-instance-role";
  std::string role_access_key = "ASIAVPCSIMROLE";
  std::string role_secret = "vpcsim-role-secret";
  bool verify_signatures = true;
  bool check_clock_skew = true;
};

class SimServer {
 public:
  SimServer(Ec2Model& model, const Clock& clock, Realiser* realiser, ServerConfig config);
  ~SimServer();
  SimServer(const SimServer&) = delete;
  SimServer& operator=(const SimServer&) = delete;

  // Root-namespace listener (EC2 + admin + IMDS with the X-Vpcsim-Instance-Id test header).
  // port 0 = any free port; returns the bound port.
  Result<int> listenRoot(const std::string& host, int port);
  // Listener inside a network namespace (path like /run/netns/<name>), for instances.
  Status listenInNetns(const std::string& netns_path, const std::string& host, int port);
  // Background ticker: completes async transitions every `period` and realises their events.
  void startTicker(std::chrono::milliseconds period);
  void stop();

  // Applies events to the realiser (logged; failures do not fail the API call).
  void realise(const std::vector<RealiseEvent>& events);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace floatlb::sim
