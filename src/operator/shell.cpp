#include "operator/shell.h"

#include <curl/curl.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "common/log.h"
#include "common/metrics.h"
#include "common/strings.h"
#include "common/version.h"
#include "http/server.h"
#include "k8s/client.h"
#include "operator/controller.h"
#include "operator/lb_queue.h"

namespace floatlb::kube {

namespace {

using k8s::ApiClient;
using k8s::HttpResponse;
using k8s::Json;

// The bearer token for the instances: the first line of the file that is neither blank nor a
// '#' comment ("" when unreadable: the instance then answers 401, which is logged).
std::string readLbToken(const std::string& file) {
  if (file.empty()) return "";
  auto text = k8s::readFile(file);
  if (!text) {
    FLB_WARN("operator", "--loxi-token-file {}: {}", file, text.error().message);
    return "";
  }
  for (const auto& line : splitList(*text, '\n')) {
    const std::string& t = line;
    if (!t.empty() && t[0] != '#') return t;
  }
  return "";
}

// HTTP(S) to the floatlb instances over libcurl: one keep-alive handle per instance, CA
// verification (--loxi-cacert), the bearer token (--loxi-token-file, re-read once on a 401), and
// the server's Retry-After. Each instance's handle is used by that instance's worker only.
class CurlLb final : public LbTransport {
 public:
  CurlLb(std::vector<std::string> urls, const Options& o)
      : urls_(std::move(urls)),
        cacert_(o.loxi_cacert),
        token_file_(o.loxi_token_file),
        token_(readLbToken(o.loxi_token_file)) {
    for (size_t i = 0; i < urls_.size(); ++i) handles_.push_back(curl_easy_init());
  }
  ~CurlLb() override {
    for (CURL* h : handles_) curl_easy_cleanup(h);
  }
  HttpReply request(size_t i, const std::string& method, const std::string& path, const std::string& body,
                    Duration timeout) override {
    std::string token = currentToken();
    HttpReply rep = perform(i, method, path, body, timeout, token);
    if (rep.code == 401 && !token_file_.empty()) {
      std::string fresh = readLbToken(token_file_);
      if (fresh != token) {
        setToken(fresh);
        rep = perform(i, method, path, body, timeout, fresh);
      }
    }
    return rep;
  }

 private:
  std::string currentToken() {
    std::lock_guard<std::mutex> l(mu_);
    return token_;
  }
  void setToken(std::string t) {
    std::lock_guard<std::mutex> l(mu_);
    token_ = std::move(t);
  }
  HttpReply perform(size_t i, const std::string& method, const std::string& path, const std::string& body,
                    Duration timeout, const std::string& token) {
    CURL* h = handles_.at(i);
    curl_easy_reset(h);
    std::string url = urls_[i] + path;
    std::string out;
    HttpReply rep;
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(
        h, CURLOPT_TIMEOUT_MS,
        static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count()));
    if (!cacert_.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, cacert_.c_str());
    curl_slist* hdrs = curl_slist_append(nullptr, "Content-Type: application/json");
    hdrs = curl_slist_append(hdrs, "Expect:");
    std::string auth = "Authorization: Bearer " + token;
    if (!token.empty()) hdrs = curl_slist_append(hdrs, auth.c_str());
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
    curl_easy_setopt(
        h, CURLOPT_HEADERFUNCTION, +[](char* p, size_t s, size_t n, void* ud) {
          std::string line(p, s * n);
          if (auto d = k8s::retryAfterHeader(line)) static_cast<HttpReply*>(ud)->retry_after = *d;
          return s * n;
        });
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &rep);
    CURLcode rc = curl_easy_perform(h);
    curl_slist_free_all(hdrs);
    long code = 0;
    if (rc == CURLE_OK) {
      curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    } else if (!warned_.exchange(true)) {
      FLB_WARN("operator", "{}: {}", urls_[i], curl_easy_strerror(rc));
    }
    rep.code = static_cast<int>(code);
    rep.body = std::move(out);
    return rep;
  }

  std::vector<std::string> urls_;
  std::string cacert_, token_file_;
  std::mutex mu_;
  std::string token_;
  std::vector<CURL*> handles_;
  std::atomic<bool> warned_{false};
};

// One worker thread per floatlb instance: drains that instance's LbOpQueue in order on its own
// keep-alive connection, so a slow or dead instance delays only its own ops, and answers go back
// to the controller's thread through `done`. After a request gets no answer, the rest of the
// queue is answered "no answer" at once (not one timeout each) until a probe succeeds. A 429/503
// Retry-After pauses the instance's worker for that long (at most 30 s).
class LbWorkers {
 public:
  LbWorkers(const Options& o, std::function<void(LbResult)> done, const std::atomic<bool>& stop)
      : lb_(o.loxi_urls, o), done_(std::move(done)), stop_(stop) {
    for (size_t i = 0; i < o.loxi_urls.size(); ++i) workers_.push_back(std::make_unique<Worker>());
    for (size_t i = 0; i < workers_.size(); ++i) workers_[i]->thread = std::thread([this, i] { run(i); });
  }
  ~LbWorkers() {
    for (auto& w : workers_) {
      {
        std::lock_guard<std::mutex> l(w->mu);
        w->quit = true;
      }
      w->cv.notify_all();
    }
    for (auto& w : workers_) w->thread.join();
  }
  void submit(LbOp op) {
    Worker& w = *workers_.at(op.instance);
    {
      std::lock_guard<std::mutex> l(w.mu);
      w.q.push(std::move(op));
    }
    w.cv.notify_one();
  }
  [[nodiscard]] uint64_t coalesced() {
    uint64_t n = 0;
    for (auto& w : workers_) {
      std::lock_guard<std::mutex> l(w->mu);
      n += w->q.coalesced();
    }
    return n;
  }

 private:
  struct Worker {
    std::mutex mu;
    std::condition_variable cv;
    LbOpQueue q;
    bool quit = false;
    bool unreachable = false;
    std::thread thread;
  };
  void run(size_t i) {
    Worker& w = *workers_[i];
    while (true) {
      LbOp op;
      {
        std::unique_lock<std::mutex> l(w.mu);
        w.cv.wait(l, [&] { return w.quit || !w.q.empty(); });
        if (w.quit) return;
        op = std::move(*w.q.pop());
      }
      if (w.unreachable && op.kind != LbOp::kProbe) {
        done_({std::move(op), HttpReply{}});
        continue;
      }
      HttpReply rep = lb_.request(i, op.method, op.path, op.body, op.timeout);
      w.unreachable = rep.code == 0;
      Duration pause = (rep.code == 429 || rep.code == 503)
                           ? std::min<Duration>(rep.retry_after, std::chrono::seconds(30))
                           : Duration::zero();
      done_({std::move(op), std::move(rep)});
      if (pause > Duration::zero()) {
        std::unique_lock<std::mutex> l(w.mu);
        w.cv.wait_for(l, pause, [&] { return w.quit || stop_.load(); });
      }
    }
  }
  CurlLb lb_;
  std::function<void(LbResult)> done_;
  const std::atomic<bool>& stop_;
  std::vector<std::unique_ptr<Worker>> workers_;
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
  Duration retryAfter() override { return api_.throttledFor(); }

 private:
  static std::string svc(const std::string& ns, const std::string& name) {
    return "/api/v1/namespaces/" + ns + "/services/" + name;
  }
  ApiClient& api_;
};

// The Kubernetes writers: `n` threads over the one (thread-safe) ApiClient, so the API's round
// trip (10-30 ms on EKS) is paid in parallel, not once per Service in turn. Ops with the same key
// never run concurrently and keep their order; answers go back through `done`.
class KubeWriters {
 public:
  KubeWriters(KubeWriter& w, size_t n, std::function<void(KubeResult)> done) : w_(w), done_(std::move(done)) {
    for (size_t i = 0; i < n; ++i) threads_.emplace_back([this] { run(); });
  }
  ~KubeWriters() {
    {
      std::lock_guard<std::mutex> l(mu_);
      quit_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }
  void submit(KubeOp op) {
    {
      std::lock_guard<std::mutex> l(mu_);
      q_.push_back(std::move(op));
    }
    cv_.notify_one();
  }

 private:
  void run() {
    std::unique_lock<std::mutex> l(mu_);
    while (true) {
      auto it = q_.end();
      cv_.wait(l, [&] {
        if (quit_) return true;
        it = pick();
        return it != q_.end();
      });
      if (quit_) return;
      KubeOp op = std::move(*it);
      q_.erase(it);
      busy_.insert(op.key);
      l.unlock();
      std::string key = op.key;
      done_(performKubeOp(w_, std::move(op)));
      l.lock();
      busy_.erase(key);
      cv_.notify_all();
    }
  }
  // The first runnable op, finalizer edits before status writes before Events (a Service's first
  // rule waits for its finalizer); a key that is busy or has an earlier op queued is not runnable.
  std::deque<KubeOp>::iterator pick() {
    auto best = q_.end();
    int best_rank = 3;
    std::set<std::string> ahead;
    for (auto it = q_.begin(); it != q_.end(); ++it) {
      bool runnable = busy_.count(it->key) == 0 && ahead.count(it->key) == 0;
      ahead.insert(it->key);
      if (!runnable) continue;
      int rank = it->kind == KubeOp::kAddFinalizer || it->kind == KubeOp::kRemoveFinalizer ? 0
                 : it->kind == KubeOp::kStatus                                             ? 1
                                                                                           : 2;
      if (rank < best_rank) {
        best = it;
        best_rank = rank;
        if (rank == 0) break;
      }
    }
    return best;
  }
  KubeWriter& w_;
  std::function<void(KubeResult)> done_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<KubeOp> q_;
  std::set<std::string> busy_;
  bool quit_ = false;
  std::vector<std::thread> threads_;
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
  CurlLb lb(o.loxi_urls, o);  // role calls, on the controller's thread
  Controller ctl(o, clock, lb);
  Inbox inbox;
  LbWorkers workers(
      o, [&](LbResult r) { inbox.post([r = std::move(r)](Controller& c) { c.lbDone(r); }); }, stop);
  KubeWriters kube_writers(
      writer, 4, [&](KubeResult r) { inbox.post([r = std::move(r)](Controller& c) { c.kubeDone(r); }); });
  std::atomic<int> synced{0};
  std::atomic<bool> healthy{false};
  if (o.leader_elect) ctl.setLeader(false);

  std::mutex metrics_mu;
  std::string metrics_text;
  http::Options ho;
  auto colon = o.http_bind.rfind(':');
  ho.host = colon == std::string::npos ? "" : o.http_bind.substr(0, colon);
  if (ho.host.empty()) ho.host = "0.0.0.0";
  ho.port = static_cast<uint16_t>(std::atoi(o.http_bind.substr(colon + 1).c_str()));
  ho.threads = 1;
  ho.max_body = 4096;
  auto http = http::Server::start(
      ho,
      [&](const http::Request& req) {
        http::Response res;
        res.content_type = "text/plain";
        if (req.method != "GET") {
          res.status = 405;
          res.body = "method not allowed\n";
        } else if (req.path == "/healthz") {
          res.status = healthy ? 200 : 503;
          res.body = healthy ? "ok\n" : "informers not synced\n";
        } else if (req.path == "/metrics") {
          std::lock_guard<std::mutex> l(metrics_mu);
          res.content_type = "text/plain; version=0.0.4";
          res.body = metrics_text;
        } else {
          res.status = 404;
          res.body = "not found\n";
        }
        return res;
      },
      [](int, const std::string& message) { return message + "\n"; });
  if (!http) {
    FLB_ERROR("operator", "--http-bind {}: cannot listen: {}", o.http_bind, http.error().message);
    return 2;
  }

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

  while (!stop.load()) {
    inbox.drain(ctl);
    TimePoint next = ctl.step();
    for (auto& op : ctl.takeLbOps()) workers.submit(std::move(op));
    for (auto& op : ctl.takeKubeOps()) kube_writers.submit(std::move(op));
    {
      MetricsWriter w;
      ctl.appendMetrics(w);
      w.family("kube_floatlb_api_requests_total", MetricType::kCounter, "requests to the Kubernetes API");
      w.sample("kube_floatlb_api_requests_total",
               static_cast<double>(writes.requests() + svc_api.requests() + slice_api.requests() +
                                   node_api.requests() + lease_api.requests()));
      w.family("kube_floatlb_api_throttled_total", MetricType::kCounter,
               "Kubernetes API answers 429 (Retry-After honoured before the next request)");
      w.sample("kube_floatlb_api_throttled_total",
               static_cast<double>(writes.throttled() + svc_api.throttled() + slice_api.throttled() +
                                   node_api.throttled() + lease_api.throttled()));
      w.family("kube_floatlb_lb_coalesced_total", MetricType::kCounter,
               "queued instance requests replaced by a newer one for the same rule");
      w.sample("kube_floatlb_lb_coalesced_total", static_cast<double>(workers.coalesced()));
      std::lock_guard<std::mutex> l(metrics_mu);
      metrics_text = w.str();
    }
    inbox.waitUntil(next, clock, stop);
  }
  FLB_INFO("operator", "stopping");
  (*http)->stop();
  for (auto& t : threads) t.join();
  return 0;
}

}  // namespace floatlb::kube
