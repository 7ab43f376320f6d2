#include "operator/shell.h"

#include <curl/curl.h>
#include <fmt/ranges.h>
#include <httplib.h>
#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <random>
#include <thread>

#include "common/log.h"
#include "common/metrics.h"
#include "common/version.h"
#include "k8s/client.h"
#include "operator/controller.h"

namespace floatlb::kube {

namespace {

using k8s::ApiClient;
using k8s::HttpResponse;
using k8s::Json;

// Plain HTTP(S) to the floatlb instances, one keep-alive handle per instance (single caller).
class CurlLb final : public LbTransport {
 public:
  explicit CurlLb(std::vector<std::string> urls) : urls_(std::move(urls)) {
    for (size_t i = 0; i < urls_.size(); ++i) handles_.push_back(curl_easy_init());
  }
  ~CurlLb() override {
    for (CURL* h : handles_) curl_easy_cleanup(h);
  }
  HttpReply request(size_t i, const std::string& method, const std::string& path, const std::string& body,
                    Duration timeout) override {
    CURL* h = handles_.at(i);
    curl_easy_reset(h);
    std::string url = urls_[i] + path;
    std::string out;
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(
        h, CURLOPT_TIMEOUT_MS,
        static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count()));
    curl_slist* hdrs = curl_slist_append(nullptr, "Content-Type: application/json");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    if (method == "POST") {
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.c_str());
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    }
    curl_easy_setopt(
        h, CURLOPT_WRITEFUNCTION, +[](char* p, size_t s, size_t n, void* ud) {
          static_cast<std::string*>(ud)->append(p, s * n);
          return s * n;
        });
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &out);
    CURLcode rc = curl_easy_perform(h);
    curl_slist_free_all(hdrs);
    long code = 0;
    if (rc == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    return {static_cast<int>(code), out};
  }

 private:
  std::vector<std::string> urls_;
  std::vector<CURL*> handles_;
};

Status fromHttp(const HttpResponse& r, const std::string& what) {
  if (r.code >= 200 && r.code < 300) return okStatus();
  std::string msg = r.error;
  if (auto j = k8s::parseJson(r.body)) msg = k8s::str(k8s::member(*j, "message"), r.body);
  ErrorCode code = r.code == 409                    ? ErrorCode::kConflict
                   : r.code == 404                  ? ErrorCode::kNotFound
                   : r.code == 422 || r.code == 400 ? ErrorCode::kInvalidArgument
                                                    : ErrorCode::kUnavailable;
  return makeError(code, what + ": HTTP " + std::to_string(r.code) + " " + msg);
}

class ApiWriter final : public KubeWriter {
 public:
  explicit ApiWriter(ApiClient& api) : api_(api) {}
  Result<Json> getService(const std::string& ns, const std::string& name) override {
    HttpResponse r = api_.request("GET", svc(ns, name));
    FLB_TRY(fromHttp(r, "GET service " + ns + "/" + name));
    auto j = k8s::parseJson(r.body);
    if (!j) return makeError(ErrorCode::kInternal, "GET service: unreadable JSON");
    return *j;
  }
  Status updateService(const Json& obj) override {
    std::string ns = k8s::str(k8s::path(obj, {"metadata", "namespace"}));
    std::string name = k8s::str(k8s::path(obj, {"metadata", "name"}));
    return fromHttp(api_.request("PUT", svc(ns, name), k8s::dump(obj)), "PUT service " + ns + "/" + name);
  }
  Status patchServiceStatus(const std::string& ns, const std::string& name, const Json& patch) override {
    return fromHttp(
        api_.request("PATCH", svc(ns, name) + "/status", k8s::dump(patch), "application/merge-patch+json"),
        "PATCH status " + ns + "/" + name);
  }
  Status createEvent(const std::string& ns, const Json& ev) override {
    return fromHttp(api_.request("POST", "/api/v1/namespaces/" + ns + "/events", k8s::dump(ev)),
                    "POST event");
  }
  Status patchEvent(const std::string& ns, const std::string& name, const Json& patch) override {
    return fromHttp(api_.request("PATCH", "/api/v1/namespaces/" + ns + "/events/" + name, k8s::dump(patch),
                                 "application/merge-patch+json"),
                    "PATCH event");
  }

 private:
  static std::string svc(const std::string& ns, const std::string& name) {
    return "/api/v1/namespaces/" + ns + "/services/" + name;
  }
  ApiClient& api_;
};

// Work for the controller from other threads, run on the controller's thread.
class Inbox {
 public:
  void post(std::function<void(Controller&)> f) {
    {
      std::lock_guard<std::mutex> l(mu_);
      q_.push_back(std::move(f));
    }
    cv_.notify_one();
  }
  void drain(Controller& c) {
    std::deque<std::function<void(Controller&)>> q;
    {
      std::lock_guard<std::mutex> l(mu_);
      q.swap(q_);
    }
    for (auto& f : q) f(c);
  }
  void waitUntil(TimePoint until, const Clock& clock, const std::atomic<bool>& stop) {
    std::unique_lock<std::mutex> l(mu_);
    auto d = until - clock.now();
    if (d > std::chrono::seconds(1)) d = std::chrono::seconds(1);  // stop is checked at least every second
    if (d <= Duration::zero()) return;
    cv_.wait_for(l, d, [&] { return !q_.empty() || stop.load(); });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void(Controller&)>> q_;
};

std::string identity() {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  std::random_device rd;
  char id[40];
  std::snprintf(id, sizeof id, "%08x%08x", rd(), rd());
  return std::string(host) + "_" + id;
}

}  // namespace

int runOperator(const Options& o, const std::atomic<bool>& stop) {
  SteadyClock clock;
  auto cfg = k8s::resolveConfig(o.kubeconfig, o.context);
  if (!cfg) {
    FLB_ERROR("operator", "no Kubernetes API configuration: {}", cfg.error().message);
    return 2;
  }
  FLB_INFO("operator", "API server {}; floatlb instances: {}", cfg->server, fmt::join(o.loxi_urls, ", "));
  k8s::ProcessExecRunner runner;
  std::string ua = std::string("kube-floatlb/") + projectVersion() + " (linux/amd64)";
  // One client per long-lived stream plus one for writes: curl handles are not shared across threads.
  ApiClient writes(*cfg, clock, runner, ua);
  ApiClient svc_api(*cfg, clock, runner, ua), slice_api(*cfg, clock, runner, ua),
      node_api(*cfg, clock, runner, ua), lease_api(*cfg, clock, runner, ua);
  ApiWriter writer(writes);
  CurlLb lb(o.loxi_urls);
  Controller ctl(o, clock, writer, lb);
  Inbox inbox;
  std::atomic<int> synced{0};
  std::atomic<bool> healthy{false};
  if (o.leader_elect) ctl.setLeader(false);

  auto informer = [&](ApiClient& api, std::string path, int kind, uint32_t seed) {
    return std::thread([&, path, kind, seed] {
      k8s::runInformer(
          api, path, clock,
          [&, kind](std::vector<k8s::Delta>& ds, bool first_sync) {
            auto batch = std::make_shared<std::vector<k8s::Delta>>(std::move(ds));
            inbox.post([batch, kind](Controller& c) {
              for (auto& d : *batch) {
                bool del = d.kind == k8s::Delta::kDelete;
                if (kind == 0) del ? c.serviceDeleted(d.key) : c.serviceChanged(d.object);
                if (kind == 1) del ? c.sliceDeleted(d.key) : c.sliceChanged(d.object);
                if (kind == 2) del ? c.nodeDeleted(d.key) : c.nodeChanged(d.object);
              }
            });
            if (first_sync && ++synced == 3) {
              inbox.post([&](Controller& c) {
                c.setSynced();
                healthy = true;
              });
            }
          },
          stop, seed);
    });
  };
  std::vector<std::thread> threads;
  threads.push_back(informer(svc_api, "/api/v1/services", 0, 11));
  threads.push_back(informer(slice_api, "/apis/discovery.k8s.io/v1/endpointslices", 1, 12));
  threads.push_back(informer(node_api, "/api/v1/nodes", 2, 13));
  if (o.leader_elect) {
    k8s::LeaderConfig lc;
    lc.ns = o.leader_elect_namespace;
    lc.name = o.leader_elect_name;
    lc.identity = identity();
    FLB_INFO("operator", "leader election on Lease {}/{} as {}", lc.ns, lc.name, lc.identity);
    threads.emplace_back([&, lc] {
      k8s::runLeaderElection(
          lease_api, lc, clock,
          [&](bool leader) { inbox.post([leader](Controller& c) { c.setLeader(leader); }); }, stop);
    });
  }

  std::mutex metrics_mu;
  std::string metrics_text;
  httplib::Server http;
  http.Get("/healthz", [&](const httplib::Request&, httplib::Response& res) {
    res.status = healthy ? 200 : 503;
    res.set_content(healthy ? "ok\n" : "informers not synced\n", "text/plain");
  });
  http.Get("/metrics", [&](const httplib::Request&, httplib::Response& res) {
    std::lock_guard<std::mutex> l(metrics_mu);
    res.set_content(metrics_text, "text/plain; version=0.0.4");
  });
  std::string host = o.http_bind.substr(0, o.http_bind.rfind(':'));
  int port = std::atoi(o.http_bind.substr(o.http_bind.rfind(':') + 1).c_str());
  if (host.empty()) host = "0.0.0.0";
  if (!http.bind_to_port(host, port)) {
    FLB_ERROR("operator", "--http-bind {}: cannot listen", o.http_bind);
    return 2;
  }
  std::thread http_thread([&] { http.listen_after_bind(); });

  while (!stop.load()) {
    inbox.drain(ctl);
    TimePoint next = ctl.step();
    {
      MetricsWriter w;
      ctl.appendMetrics(w);
      w.family("kube_floatlb_api_requests_total", MetricType::kCounter, "requests to the Kubernetes API");
      w.sample("kube_floatlb_api_requests_total",
               static_cast<double>(writes.requests() + svc_api.requests() + slice_api.requests() +
                                   node_api.requests() + lease_api.requests()));
      std::lock_guard<std::mutex> l(metrics_mu);
      metrics_text = w.str();
    }
    inbox.waitUntil(next, clock, stop);
  }
  FLB_INFO("operator", "stopping");
  http.stop();
  http_thread.join();
  for (auto& t : threads) t.join();
  return 0;
}

}  // namespace floatlb::kube
