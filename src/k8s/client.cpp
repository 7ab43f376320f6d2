#include "k8s/client.h"

#include <curl/curl.h>

#include <thread>

#include "common/log.h"

namespace floatlb::k8s {

namespace {

struct Transfer {
  std::string body;
  const std::function<bool(std::string_view)>* on_data = nullptr;
  const std::atomic<bool>* stop = nullptr;
  bool aborted = false;
  Duration retry_after{};
};

size_t onHeader(char* ptr, size_t size, size_t n, void* ud) {
  if (auto d = retryAfterHeader(std::string_view(ptr, size * n)))
    static_cast<Transfer*>(ud)->retry_after = *d;
  return size * n;
}

size_t onWrite(char* ptr, size_t size, size_t n, void* ud) {
  auto* t = static_cast<Transfer*>(ud);
  size_t len = size * n;
  if (t->on_data != nullptr) {
    if (!(*t->on_data)(std::string_view(ptr, len))) {
      t->aborted = true;
      return 0;
    }
    return len;
  }
  if (t->body.size() + len > (64u << 20)) return 0;
  t->body.append(ptr, len);
  return len;
}

int onProgress(void* ud, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(ud);
  if (t->stop != nullptr && t->stop->load()) {
    t->aborted = true;
    return 1;
  }
  return 0;
}

struct CurlInit {
  CurlInit() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

void sleepUntil(const Clock& clock, TimePoint until, const std::atomic<bool>& stop) {
  while (!stop.load() && clock.now() < until) {
    auto left = until - clock.now();
    std::this_thread::sleep_for(std::min<Duration>(left, std::chrono::milliseconds(100)));
  }
}

}  // namespace

ApiClient::ApiClient(RestConfig cfg, const Clock& clock, ExecRunner& runner, std::string user_agent)
    : cfg_(cfg), clock_(clock), creds_(std::move(cfg), clock, runner), ua_(std::move(user_agent)) {
  static CurlInit init;
}

ApiClient::~ApiClient() {
  for (void* h : pool_) curl_easy_cleanup(static_cast<CURL*>(h));
}

int ApiClient::execRuns() {
  std::lock_guard<std::mutex> l(creds_mu_);
  return creds_.execRuns();
}

void* ApiClient::handle() {
  {
    std::lock_guard<std::mutex> l(pool_mu_);
    if (!pool_.empty()) {
      void* h = pool_.back();
      pool_.pop_back();
      return h;
    }
  }
  return curl_easy_init();
}

void ApiClient::giveBack(void* h) {
  std::lock_guard<std::mutex> l(pool_mu_);
  pool_.push_back(h);
}

HttpResponse ApiClient::perform(void* vh, const std::string& method, const std::string& path,
                                const std::string& body, const std::string& content_type, Duration timeout,
                                const std::function<bool(std::string_view)>* on_data, Duration stall,
                                const std::atomic<bool>* stop) {
  CURL* h = static_cast<CURL*>(vh);
  curl_easy_reset(h);
  ++requests_;
  std::string url = cfg_.server + path;
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(h, CURLOPT_USERAGENT, ua_.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
  if (on_data == nullptr) {
    curl_easy_setopt(
        h, CURLOPT_TIMEOUT_MS,
        static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count()));
  } else {
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME,
                     static_cast<long>(std::chrono::duration_cast<std::chrono::seconds>(stall).count()));
  }
  if (method != "GET" && method != "DELETE") {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  } else if (method == "GET") {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  }
  curl_slist* hdrs = nullptr;
  hdrs = curl_slist_append(hdrs, "Accept: application/json");
  if (!body.empty()) hdrs = curl_slist_append(hdrs, ("Content-Type: " + content_type).c_str());
  std::string auth;
  if (cfg_.tls()) {
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, cfg_.insecure ? 0L : 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, cfg_.insecure ? 0L : 2L);
    curl_blob ca{const_cast<char*>(cfg_.ca_pem.data()), cfg_.ca_pem.size(), CURL_BLOB_COPY};
    if (!cfg_.ca_pem.empty()) curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &ca);
    Result<ExecCredential> cred = [&] {
      std::lock_guard<std::mutex> l(creds_mu_);
      return creds_.current();
    }();
    if (!cred) {
      curl_slist_free_all(hdrs);
      return {0, "", "credentials: " + cred.error().message};
    }
    if (!cred->token.empty()) {
      auth = "Authorization: Bearer " + cred->token;
      hdrs = curl_slist_append(hdrs, auth.c_str());
    }
    curl_blob cert{const_cast<char*>(cred->client_cert_pem.data()), cred->client_cert_pem.size(),
                   CURL_BLOB_COPY};
    curl_blob key{const_cast<char*>(cred->client_key_pem.data()), cred->client_key_pem.size(),
                  CURL_BLOB_COPY};
    if (!cred->client_cert_pem.empty() && !cred->client_key_pem.empty()) {
      curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &cert);
      curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
      curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &key);
      curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
    }
  } else if (!warned_plain_.exchange(true)) {  // like kubectl: credentials are only ever sent over TLS
    FLB_WARN("k8s", "{} is plain http: no credentials are sent", cfg_.server);
  }
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
  Transfer t;
  t.on_data = on_data;
  t.stop = stop;
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, onWrite);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, onHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &t);
  if (stop != nullptr) {
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, onProgress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, &t);
  }
  CURLcode rc = curl_easy_perform(h);
  curl_slist_free_all(hdrs);
  HttpResponse r;
  long code = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
  r.code = static_cast<int>(code);
  r.body = std::move(t.body);
  r.retry_after = t.retry_after;
  gate_.observe(r.code, r.retry_after, clock_.now());
  if (rc != CURLE_OK && !t.aborted) {
    r.error = curl_easy_strerror(rc);
    if (on_data == nullptr || r.code == 0) r.code = 0;
  }
  return r;
}

HttpResponse ApiClient::request(const std::string& method, const std::string& path, const std::string& body,
                                const std::string& content_type, Duration timeout) {
  if (Duration wait = gate_.remaining(clock_.now()); wait > Duration::zero()) {
    return {429, "", "throttled: the API server asked to retry later (Retry-After)", wait};
  }
  void* h = handle();
  HttpResponse r = perform(h, method, path, body, content_type, timeout, nullptr, Duration::zero(), nullptr);
  if (r.code == 401 && cfg_.tls()) {
    {
      std::lock_guard<std::mutex> l(creds_mu_);
      creds_.invalidate();
    }
    r = perform(h, method, path, body, content_type, timeout, nullptr, Duration::zero(), nullptr);
  }
  giveBack(h);
  return r;
}

HttpResponse ApiClient::stream(const std::string& path, const std::function<bool(std::string_view)>& on_data,
                               Duration stall, const std::atomic<bool>& stop) {
  void* h = handle();
  int attempts = 0;
  HttpResponse r;
  for (;;) {
    // Buffer the body of an error answer (not a stream) so that a 401 can be retried.
    bool is_stream = false;
    std::string early;
    std::function<bool(std::string_view)> sink = [&](std::string_view d) {
      long code = 0;
      curl_easy_getinfo(static_cast<CURL*>(h), CURLINFO_RESPONSE_CODE, &code);
      if (code == 200) {
        is_stream = true;
        return on_data(d);
      }
      early.append(d);
      return early.size() < (1u << 20);
    };
    r = perform(h, "GET", path, "", "", Duration::zero(), &sink, stall, &stop);
    if (!is_stream) r.body = early;
    if (r.code == 401 && cfg_.tls() && attempts++ == 0) {
      std::lock_guard<std::mutex> l(creds_mu_);
      creds_.invalidate();
      continue;
    }
    break;
  }
  giveBack(h);
  return r;
}

void runInformer(ApiClient& api, const std::string& resource_path, const Clock& clock,
                 const std::function<void(std::vector<Delta>&, bool synced)>& sink,
                 const std::atomic<bool>& stop, uint32_t seed) {
  Reflector ref(clock, seed);
  bool announced = false;
  while (!stop.load()) {
    InformerRequest req = ref.next();
    std::vector<Delta> out;
    if (req.kind == InformerRequest::kWait) {
      sleepUntil(clock, req.until, stop);
      continue;
    }
    std::string url = resource_path + "?" + req.query();
    if (req.kind == InformerRequest::kList) {
      HttpResponse r = api.request("GET", url);
      auto body = parseJson(r.body);
      if (r.code != 200) FLB_WARN("k8s", "LIST {}: {} {}", resource_path, r.code, r.error);
      ref.onList(r.code == 200 && !body ? 0 : r.code, body ? *body : Json(), out, r.retry_after);
    } else {
      WatchDecoder dec;
      bool bad = false;
      std::vector<Delta> batch;
      HttpResponse r = api.stream(
          url,
          [&](std::string_view d) {
            std::vector<WatchEvent> evs;
            Status st = dec.feed(d, evs);
            for (const auto& e : evs) {
              std::vector<Delta> ds;
              ref.onWatchEvent(e, ds);
              if (!ds.empty()) sink(ds, false);
            }
            if (!st.ok()) {
              FLB_WARN("k8s", "watch {}: {}", resource_path, st.error().message);
              bad = true;
              return false;
            }
            return true;
          },
          ref.stallTimeout(), stop);
      WatchEnd why = bad ? WatchEnd::kDecodeError : (r.error.empty() ? WatchEnd::kClean : WatchEnd::kReset);
      if (r.code != 200 && r.code != 0) {
        // The request itself failed; an ERROR Status body may carry a 410.
        auto j = parseJson(r.body);
        FLB_WARN("k8s", "WATCH {}: HTTP {}", resource_path, r.code);
        ref.onWatchEnd(why, r.code, r.retry_after);
      } else if (r.code == 0) {
        ref.onWatchEnd(WatchEnd::kReset, 0);
      } else {
        ref.onWatchEnd(why, 200);
      }
    }
    if (!out.empty() || (ref.synced() && !announced)) {
      sink(out, ref.synced() && !announced);
      announced = announced || ref.synced();
    }
  }
}

void runLeaderElection(ApiClient& api, LeaderConfig cfg, const Clock& clock,
                       const std::function<void(bool)>& on_change, const std::atomic<bool>& stop) {
  LeaderElector el(cfg, clock);
  std::string path = "/apis/coordination.k8s.io/v1/namespaces/" + cfg.ns + "/leases";
  bool was = false;
  while (!stop.load()) {
    HttpResponse g = api.request("GET", path + "/" + cfg.name);
    if (g.code == 200 || g.code == 404) {
      std::optional<Json> obs;
      if (g.code == 200) obs = parseJson(g.body);
      LeaseWrite w = el.plan(obs);
      if (w.kind == LeaseWrite::kCreate) {
        HttpResponse p = api.request("POST", path, dump(w.lease));
        el.onResult(p.code == 201 || p.code == 200);
      } else if (w.kind == LeaseWrite::kUpdate) {
        HttpResponse p = api.request("PUT", path + "/" + cfg.name, dump(w.lease));
        el.onResult(p.code == 200);
      } else {
        el.tick();
      }
    } else {
      el.tick();
    }
    if (el.leader() != was) {
      was = el.leader();
      FLB_INFO("k8s", "leader election: {} (holder {})", was ? "acquired the Lease" : "not the leader",
               el.holder());
      on_change(was);
    }
    sleepUntil(clock, clock.now() + (was ? cfg.retry : cfg.retry), stop);
  }
  if (was) {
    HttpResponse g =
        api.request("GET", path + "/" + cfg.name, "", "application/json", std::chrono::seconds(3));
    auto obs = parseJson(g.body);
    if (g.code == 200 && obs) {
      if (auto rel = el.release(*obs))
        api.request("PUT", path + "/" + cfg.name, dump(*rel), "application/json", std::chrono::seconds(3));
    }
    on_change(false);
  }
}

}  // namespace floatlb::k8s
