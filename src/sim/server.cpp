#include "sim/server.h"

#include <fcntl.h>
#include <httplib.h>
#include <sched.h>
#include <unistd.h>

#include <condition_variable>
#include <nlohmann/json.hpp>
#include <random>

#include "common/log.h"
#include "sim/ec2_query.h"
#include "sim/routing.h"
#include "sim/sigv4.h"
#include "sim/xml.h"

namespace floatlb::sim {

namespace {
constexpr const char* kLog = "vpcsim";

std::string randomHex(std::mt19937_64& rng, int n) {
  std::string s;
  static const char* d = "0123456789abcdef";
  for (int i = 0; i < n; ++i) s.push_back(d[rng() & 15]);
  return s;
}
}  // namespace

struct SimServer::Impl {
  Ec2Model& model;
  const Clock& clock;
  Realiser* realiser;
  ServerConfig cfg;
  std::mutex mu;  // guards model, realiser, tokens, rng
  std::mt19937_64 rng{std::random_device{}()};
  struct Token {
    std::string instance_id;
    TimePoint expires;
  };
  std::map<std::string, Token> tokens;
  std::vector<std::unique_ptr<httplib::Server>> servers;
  std::vector<std::thread> threads;
  std::thread ticker;
  std::mutex tick_mu;
  std::condition_variable tick_cv;
  bool stopping = false;
  RoutePropagation routes;

  Impl(Ec2Model& m, const Clock& c, Realiser* r, ServerConfig sc)
      : model(m), clock(c), realiser(r), cfg(std::move(sc)) {}

  void realiseLocked(const std::vector<RealiseEvent>& events) {
    for (const auto& e : events) {
      FLB_INFO(kLog, "realise {}", describeEvent(e));
      if (!realiser) continue;
      auto st = realiser->apply(e);
      if (!st.ok()) FLB_WARN(kLog, "realise failed: {}", st.error().message);
    }
    syncRoutingLocked();
  }

  // The model's routing plan, realised once its propagation delay has passed (the ticker applies
  // changes that come due between calls).
  void syncRoutingLocked() {
    if (!realiser) return;
    routes.setDelay(model.config().route_propagation);
    routes.offer(model.routingPlan(), clock.now());
    if (auto plan = routes.take(clock.now())) {
      auto st = realiser->applyRouting(*plan);
      if (st.ok()) {
        FLB_INFO(kLog, "routing plan realised");
      } else {
        FLB_WARN(kLog, "routing plan failed: {}", st.error().message);
      }
    }
  }

  std::string requestId() {
    auto h = randomHex(rng, 32);
    return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" +
           h.substr(20);
  }

  void handleEc2(const httplib::Request& req, httplib::Response& res) {
    sigv4::Request sr;
    sr.method = req.method;
    sr.path = req.path;
    for (const auto& [k, v] : req.headers) {
      std::string lk = k;
      std::transform(lk.begin(), lk.end(), lk.begin(), [](unsigned char c) { return std::tolower(c); });
      sr.headers[lk] = v;
    }
    sr.body = req.body;
    // httplib folds form bodies into req.params; the signed query string is only the URL's.
    Params params = Params::parseForm(req.body);
    size_t qmark = req.target.find('?');
    if (qmark != std::string::npos) {
      Params query = Params::parseForm(req.target.substr(qmark + 1));
      for (const auto& [k, v] : query.all()) {
        sr.query[k] = v;
        params.set(k, v);
      }
    }
    std::string action = params.getOr("Action", "");
    ApiResponse resp;
    {
      std::lock_guard<std::mutex> lock(mu);
      std::string rid = requestId();
      if (cfg.verify_signatures) {
        auto creds = cfg.credentials;
        creds[cfg.role_access_key] = cfg.role_secret;
        auto st = sigv4::verify(sr, creds, cfg.check_clock_skew ? clock.wallMillis() : 0);
        if (!st.ok()) {
          resp.http_status = st.error().http_status;
          resp.error_code = st.error().code;
          resp.body = xml::errorDocument(st.error().code, st.error().message, rid);
        }
      }
      if (resp.error_code.empty()) {
        resp = model.handle(action, params, rid);
        realiseLocked(resp.events);
      }
    }
    FLB_INFO(kLog, "EC2 {} from {} -> {} {} ({} ms)", action, req.remote_addr, resp.http_status,
             resp.error_code.empty() ? "OK" : resp.error_code, resp.latency_ms);
    if (resp.latency_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(resp.latency_ms));
    res.status = resp.http_status;
    res.set_content(resp.body, "text/xml;charset=UTF-8");
  }

  // ---- IMDSv2 ----
  std::string callerInstance(const httplib::Request& req, bool root_listener) {
    if (root_listener && req.has_header("X-Vpcsim-Instance-Id"))
      return req.get_header_value("X-Vpcsim-Instance-Id");
    auto ip = Ip4::parse(req.remote_addr);
    if (!ip.ok()) return "";
    const Instance* i = model.instanceByPrivateIp(ip.value());
    return i ? i->id : "";
  }

  void imdsToken(const httplib::Request& req, httplib::Response& res, bool root_listener) {
    if (req.has_header("X-Forwarded-For")) {
      res.status = 403;
      res.set_content("Forbidden", "text/plain");
      return;
    }
    int ttl = 0;
    try {
      ttl = std::stoi(req.get_header_value("X-aws-ec2-metadata-token-ttl-seconds"));
    } catch (...) {
      ttl = 0;
    }
    if (ttl < 1 || ttl > 21600) {
      res.status = 400;
      res.set_content("Bad Request", "text/plain");
      return;
    }
    std::lock_guard<std::mutex> lock(mu);
    std::string inst = callerInstance(req, root_listener);
    if (inst.empty()) {
      res.status = 403;
      res.set_content("Forbidden: caller is not a vpcsim instance", "text/plain");
      return;
    }
    std::string tok = "AQAE" + randomHex(rng, 52);
    tokens[tok] = Token{inst, clock.now() + std::chrono::seconds(ttl)};
    res.set_header("X-aws-ec2-metadata-token-ttl-seconds", std::to_string(ttl));
    res.set_content(tok, "text/plain");
  }

  void imdsGet(const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mu);
    auto tok = tokens.find(req.get_header_value("X-aws-ec2-metadata-token"));
    if (tok == tokens.end() || clock.now() >= tok->second.expires) {
      res.status = 401;
      res.set_content("Unauthorized", "text/plain");
      return;
    }
    const Instance* inst = model.instance(tok->second.instance_id);
    if (!inst) {
      res.status = 404;
      return;
    }
    std::string path = req.path;
    std::optional<std::string> body = imdsPath(*inst, path);
    if (!body) {
      res.status = 404;
      res.set_content("Not Found", "text/plain");
      return;
    }
    res.set_content(*body, "text/plain");
  }

  std::optional<std::string> imdsPath(const Instance& inst, std::string path) {
    const std::string kMeta = "/latest/meta-data";
    const std::string kDoc = "/latest/dynamic/instance-identity/document";
    if (path == kDoc) {
      nlohmann::json j = {{"accountId", model.config().account},
                          {"availabilityZone", inst.az},
                          {"instanceId", inst.id},
                          {"region", model.config().region},
                          {"instanceType", inst.instance_type},
                          {"imageId", inst.image_id}};
      for (const Eni* e : model.enisOf(inst.id)) {
        if (e->attachment->device_index == 0) j["privateIp"] = e->ips.front().str();
      }
      return j.dump(2);
    }
    if (path.rfind(kMeta, 0) != 0) return std::nullopt;
    path = path.substr(kMeta.size());
    if (!path.empty() && path.front() == '/') path.erase(0, 1);
    auto enis = model.enisOf(inst.id);
    const Eni* primary = nullptr;
    for (const Eni* e : enis) {
      if (e->attachment->device_index == 0) primary = e;
    }
    if (path.empty())
      return std::string("instance-id\ninstance-type\nlocal-ipv4\nmac\nplacement/\nnetwork/\niam/");
    if (path == "instance-id") return inst.id;
    if (path == "instance-type") return inst.instance_type;
    if (path == "placement/availability-zone") return inst.az;
    if (path == "placement/region") return model.config().region;
    if (path == "placement/" || path == "placement") return std::string("availability-zone\nregion");
    if (path == "mac") return primary ? std::optional<std::string>(primary->mac) : std::nullopt;
    if (path == "local-ipv4")
      return primary ? std::optional<std::string>(primary->ips.front().str()) : std::nullopt;
    if (path == "iam/" || path == "iam") return std::string("security-credentials/");
    if (path == "iam/security-credentials/" || path == "iam/security-credentials") return cfg.role_name;
    if (path == "iam/security-credentials/" + cfg.role_name) {
      int64_t exp_ms = clock.wallMillis() + 6 * 3600 * 1000;
      std::time_t t = static_cast<std::time_t>(exp_ms / 1000);
      std::tm tm{};
      gmtime_r(&t, &tm);
      char buf[32];
      std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
      nlohmann::json j = {{"Code", "Success"},
                          {"LastUpdated", buf},
                          {"Type", "AWS-HMAC"},
                          {"AccessKeyId", cfg.role_access_key},
                          {"SecretAccessKey", cfg.role_secret},
                          {"Token", "vpcsim-session-token"},
                          {"Expiration", buf}};
      return j.dump(2);
    }
    if (path == "network/" || path == "network") return std::string("interfaces/");
    if (path == "network/interfaces/" || path == "network/interfaces") return std::string("macs/");
    const std::string kMacs = "network/interfaces/macs/";
    if (path.rfind(kMacs, 0) != 0) return std::nullopt;
    std::string rest = path.substr(kMacs.size());
    if (rest.empty()) {
      std::string out;
      for (const Eni* e : enis) out += (out.empty() ? "" : "\n") + e->mac + "/";
      return out;
    }
    size_t slash = rest.find('/');
    std::string mac = rest.substr(0, slash);
    std::string key = slash == std::string::npos ? "" : rest.substr(slash + 1);
    const Eni* eni = nullptr;
    for (const Eni* e : enis) {
      if (e->mac == mac) eni = e;
    }
    if (!eni) return std::nullopt;
    const Subnet* s = model.subnet(eni->subnet_id);
    const Vpc* v = model.vpc(eni->vpc_id);
    if (key.empty()) {
      return std::string(
          "device-number\ninterface-id\nlocal-ipv4s\nmac\nowner-id\nsecurity-group-ids\nsubnet-id\n"
          "subnet-ipv4-cidr-block\nvpc-id\nvpc-ipv4-cidr-block\nvpc-ipv4-cidr-blocks");
    }
    if (key == "device-number") return std::to_string(eni->attachment->device_index);
    if (key == "interface-id") return eni->id;
    if (key == "mac") return eni->mac;
    if (key == "owner-id") return model.config().account;
    if (key == "subnet-id") return eni->subnet_id;
    if (key == "vpc-id") return eni->vpc_id;
    if (key == "subnet-ipv4-cidr-block") return s ? s->cidr.str() : "";
    if (key == "vpc-ipv4-cidr-block") return v ? v->cidrs.front().cidr.str() : "";
    if (key == "vpc-ipv4-cidr-blocks") {
      std::string out;
      for (const auto& a : v->cidrs) {
        if (a.state == "associated") out += (out.empty() ? "" : "\n") + a.cidr.str();
      }
      return out;
    }
    if (key == "local-ipv4s") {
      std::string out;
      for (auto ip : eni->ips) out += (out.empty() ? "" : "\n") + ip.str();
      return out;
    }
    if (key == "security-group-ids") {
      std::string out;
      for (const auto& g : eni->groups) out += (out.empty() ? "" : "\n") + g;
      return out;
    }
    return std::nullopt;
  }

  // ---- admin ----
  void admin(const httplib::Request& req, httplib::Response& res) {
    auto reply = [&](int status, const nlohmann::json& j) {
      res.status = status;
      res.set_content(j.dump(2), "application/json");
    };
    nlohmann::json body;
    if (!req.body.empty()) {
      try {
        body = nlohmann::json::parse(req.body);
      } catch (const std::exception& e) {
        return reply(400, {{"error", std::string("bad JSON: ") + e.what()}});
      }
    }
    std::lock_guard<std::mutex> lock(mu);
    const std::string& p = req.path;
    try {
      if (p == "/admin/health") return reply(200, {{"ok", true}});
      if (p == "/admin/state") {
        res.set_content(model.dumpJson(), "application/json");
        return;
      }
      if (p == "/admin/faults" && req.method == "DELETE") {
        model.faults().clear();
        return reply(200, {{"ok", true}});
      }
      if (p == "/admin/faults" && req.method == "POST") {
        FaultRule r;
        r.action = body.value("action", "*");
        r.code = body.value("code", "");
        r.message = body.value("message", r.message);
        r.http_status = body.value("http_status", r.code == "RequestLimitExceeded" ? 503 : 400);
        r.count = body.value("count", -1);
        r.probability = body.value("probability", 1.0);
        r.extra_latency_ms = body.value("latency_ms", int64_t{0});
        model.faults().add(r);
        return reply(200, {{"ok", true}, {"rules", model.faults().rules().size()}});
      }
      if (p == "/admin/faults") {
        nlohmann::json rules = nlohmann::json::array();
        for (const auto& r : model.faults().rules()) {
          rules.push_back({{"action", r.action},
                           {"code", r.code},
                           {"count", r.count},
                           {"probability", r.probability},
                           {"latency_ms", r.extra_latency_ms}});
        }
        return reply(200, rules);
      }
      if (p == "/admin/latency") {
        if (req.method == "POST") {
          std::string mode = body.value("mode", "");
          if (mode == "zero") model.latency().setZero();
          if (mode == "default") model.latency().setDefaults();
          if (body.contains("describe_ms")) model.latency().setDescribeMs(body["describe_ms"].get<int64_t>());
          if (body.contains("mutating_ms")) model.latency().setMutatingMs(body["mutating_ms"].get<int64_t>());
          if (body.contains("per_action")) {
            for (auto& [k, v] : body["per_action"].items()) model.latency().set(k, v.get<int64_t>());
          }
        }
        return reply(200, model.latency().table());
      }
      if (p == "/admin/config") {
        if (req.method == "POST") {
          if (body.contains("detach_ms")) {
            model.config().detach_time = std::chrono::milliseconds(body["detach_ms"].get<int64_t>());
          }
          if (body.contains("cidr_assoc_ms")) {
            model.config().cidr_assoc_time = std::chrono::milliseconds(body["cidr_assoc_ms"].get<int64_t>());
          }
          if (body.contains("route_propagation_ms")) {
            model.config().route_propagation =
                std::chrono::milliseconds(body["route_propagation_ms"].get<int64_t>());
          }
        }
        auto ms = [](Duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); };
        return reply(200, {{"detach_ms", ms(model.config().detach_time)},
                           {"cidr_assoc_ms", ms(model.config().cidr_assoc_time)},
                           {"route_propagation_ms", ms(model.config().route_propagation)}});
      }
      if (p == "/admin/iam") {
        if (req.method == "POST") model.front().setDenied(body.value("deny", std::set<std::string>{}));
        return reply(200, {{"deny", model.front().denied()}});
      }
      if (p == "/admin/throttle") {
        if (req.method == "POST") {
          if (body.contains("enabled")) model.throttler().setEnabled(body["enabled"].get<bool>());
          if (body.contains("buckets")) {
            for (auto& [name, spec] : body["buckets"].items()) {
              model.throttler().configure(
                  name, BucketSpec{spec.at("capacity").get<double>(), spec.at("refill_per_s").get<double>()});
            }
          }
        }
        return reply(200, {{"enabled", model.throttler().enabled()}, {"levels", model.throttler().levels()}});
      }
    } catch (const std::exception& e) {
      return reply(400, {{"error", e.what()}});
    }
    reply(404, {{"error", "unknown admin path " + p}});
  }

  std::unique_ptr<httplib::Server> makeServer(bool root_listener) {
    auto s = std::make_unique<httplib::Server>();
    s->Post("/", [this](const httplib::Request& q, httplib::Response& r) { handleEc2(q, r); });
    s->Get("/", [this](const httplib::Request& q, httplib::Response& r) { handleEc2(q, r); });
    s->Put("/latest/api/token", [this, root_listener](const httplib::Request& q, httplib::Response& r) {
      imdsToken(q, r, root_listener);
    });
    s->Get("/latest/.*", [this](const httplib::Request& q, httplib::Response& r) { imdsGet(q, r); });
    if (root_listener) {
      auto a = [this](const httplib::Request& q, httplib::Response& r) { admin(q, r); };
      s->Get("/admin/.*", a);
      s->Post("/admin/.*", a);
      s->Delete("/admin/.*", a);
    }
    return s;
  }
};

SimServer::SimServer(Ec2Model& model, const Clock& clock, Realiser* realiser, ServerConfig config)
    : impl_(std::make_unique<Impl>(model, clock, realiser, std::move(config))) {}

SimServer::~SimServer() { stop(); }

Result<int> SimServer::listenRoot(const std::string& host, int port) {
  auto s = impl_->makeServer(true);
  int bound = port;
  if (port == 0) {
    bound = s->bind_to_any_port(host);
    if (bound <= 0) return makeError(ErrorCode::kIo, "cannot bind " + host);
  } else if (!s->bind_to_port(host, port)) {
    return makeError(ErrorCode::kIo, "cannot bind " + host + ":" + std::to_string(port));
  }
  httplib::Server* raw = s.get();
  impl_->servers.push_back(std::move(s));
  impl_->threads.emplace_back([raw] { raw->listen_after_bind(); });
  return bound;
}

Status SimServer::listenInNetns(const std::string& netns_path, const std::string& host, int port) {
  auto s = impl_->makeServer(false);
  httplib::Server* raw = s.get();
  std::mutex m;
  std::condition_variable cv;
  bool done = false;
  std::string err;
  impl_->servers.push_back(std::move(s));
  // The thread enters the namespace before binding; the socket stays in that namespace.
  impl_->threads.emplace_back([&, raw, netns_path, host, port] {
    std::string e;
    int fd = open(netns_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) {
      e = "cannot enter " + netns_path;
    } else if (!raw->bind_to_port(host, port)) {
      e = "cannot bind " + host + ":" + std::to_string(port) + " in " + netns_path;
    }
    if (fd >= 0) close(fd);
    {
      std::lock_guard<std::mutex> l(m);
      err = e;
      done = true;
    }
    cv.notify_all();
    if (e.empty()) raw->listen_after_bind();
  });
  std::unique_lock<std::mutex> l(m);
  cv.wait_for(l, std::chrono::seconds(10), [&] { return done; });
  if (!done) return makeError(ErrorCode::kTimeout, "listener in " + netns_path + " did not start");
  if (!err.empty()) return makeError(ErrorCode::kIo, err);
  return okStatus();
}

void SimServer::startTicker(std::chrono::milliseconds period) {
  impl_->ticker = std::thread([this, period] {
    std::unique_lock<std::mutex> l(impl_->tick_mu);
    while (!impl_->stopping) {
      impl_->tick_cv.wait_for(l, period, [this] { return impl_->stopping; });
      if (impl_->stopping) break;
      std::lock_guard<std::mutex> lock(impl_->mu);
      impl_->realiseLocked(impl_->model.tick());  // also realises routing changes that came due
    }
  });
}

void SimServer::realise(const std::vector<RealiseEvent>& events) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->realiseLocked(events);
}

void SimServer::stop() {
  {
    std::lock_guard<std::mutex> l(impl_->tick_mu);
    impl_->stopping = true;
  }
  impl_->tick_cv.notify_all();
  if (impl_->ticker.joinable()) impl_->ticker.join();
  for (auto& s : impl_->servers) s->stop();
  for (auto& t : impl_->threads) {
    if (t.joinable()) t.join();
  }
  impl_->threads.clear();
}

}  // namespace floatlb::sim
