#include "kubesim/http.h"

#include <fcntl.h>
#include <httplib.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <deque>
#include <fstream>
#include <thread>

#include "common/log.h"
#include "kubesim/status.h"
#include "kubesim/table.h"

namespace floatlb::kubesim {

namespace {
constexpr const char* kLog = "kubesim";

json adminBody(const httplib::Request& req) {
  json b = json::parse(req.body.empty() ? "{}" : req.body, nullptr, false);
  return b.is_object() ? b : json::object();
}
}  // namespace

struct KubeHttpServer::Impl {
  ApiServer& api;
  const Clock& clock;
  HttpConfig cfg;
  std::vector<std::unique_ptr<httplib::Server>> servers;
  std::vector<std::thread> threads;
  std::atomic<bool> stopping{false};
  std::mutex mu;  // request log, pause, tokens
  std::deque<json> requests;
  uint64_t requestSeq = 0;
  int64_t pausedUntil = 0;
  bool pauseHang = false;
  std::ofstream log;

  Impl(ApiServer& a, const Clock& c, HttpConfig h) : api(a), clock(c), cfg(std::move(h)) {
    if (!cfg.logFile.empty()) log.open(cfg.logFile, std::ios::app);
  }

  void logRequest(const httplib::Request& req, int code, bool tls) {
    std::string query;
    for (const auto& [k, v] : req.params) query += (query.empty() ? "" : "&") + k + "=" + v;
    json e = {{"seq", 0},
              {"time", microTime(clock.wallMillis())},
              {"method", req.method},
              {"path", req.path},
              {"query", query},
              {"userAgent", req.get_header_value("User-Agent")},
              {"accept", req.get_header_value("Accept")},
              {"contentType", req.get_header_value("Content-Type")},
              {"code", code},
              {"tls", tls}};
    std::lock_guard<std::mutex> l(mu);
    e["seq"] = ++requestSeq;
    if (log.is_open()) log << e.dump() << "\n" << std::flush;
    requests.push_back(std::move(e));
    while (requests.size() > 20000) requests.pop_front();
  }

  static bool tokenOk(const std::string& file, const std::string& header) {
    const std::string pre = "Bearer ";
    if (header.rfind(pre, 0) != 0) return false;
    std::string tok = header.substr(pre.size());
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line)) {
      std::string t = line.substr(0, line.find(','));
      if (!t.empty() && t == tok) return true;
    }
    return false;
  }

  void serveApi(const httplib::Request& req, httplib::Response& res, bool tls, const std::string& tokens) {
    if (tls && !tokenOk(tokens, req.get_header_value("Authorization"))) {
      json st = statusOf(apiError(401, "Unauthorized", "Unauthorized"));
      res.status = 401;
      res.set_content(st.dump(), "application/json");
      logRequest(req, 401, tls);
      return;
    }
    {
      std::unique_lock<std::mutex> l(mu);
      int64_t until = pausedUntil;
      bool hang = pauseHang;
      l.unlock();
      if (clock.wallMillis() < until) {
        if (hang) {
          for (int i = 0; i < 600 && clock.wallMillis() < until && !stopping; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        } else {
          json st = statusOf(
              apiError(503, "ServiceUnavailable", "the server is currently unable to handle the request"));
          res.status = 503;
          res.set_content(st.dump(), "application/json");
          logRequest(req, 503, tls);
          return;
        }
      }
    }
    Request r;
    r.method = req.method;
    r.path = req.path;
    for (const auto& [k, v] : req.params) r.query.emplace(k, v);
    r.accept = req.get_header_value("Accept");
    r.contentType = req.get_header_value("Content-Type");
    r.userAgent = req.get_header_value("User-Agent");
    r.body = req.body;
    Response out;
    try {
      out = api.handle(r);
    } catch (const std::exception& e) {  // nlohmann type errors on odd input: a 500 Status, never a crash
      json st = statusOf(apiError(500, "InternalError", std::string("Internal error occurred: ") + e.what()));
      out.code = 500;
      out.body = st.dump();
    }
    for (const auto& [k, v] : out.headers) res.set_header(k, v);
    res.status = out.code;
    logRequest(req, out.code, tls);
    if (!out.watch) {
      res.set_content(out.body, out.contentType);
      return;
    }
    // Watch: chunked, one event per line; not "application/json" exactly so httplib does not gzip it
    // (its compressor would hold events back until a buffer fills).
    auto cursor = out.watch;
    int limit = cursor->timeoutSeconds > 0 ? cursor->timeoutSeconds : cfg.maxWatchSeconds;
    int64_t deadline = clock.wallMillis() + limit * 1000LL;
    auto lastSent = std::make_shared<int64_t>(clock.wallMillis());
    std::string ct = cursor->table ? out.contentType : "application/json;stream=watch";
    res.set_chunked_content_provider(ct, [this, cursor, deadline, lastSent](size_t, httplib::DataSink& sink) {
      while (!stopping) {
        if (sink.is_writable && !sink.is_writable()) return false;
        int64_t now = clock.wallMillis();
        if (now >= deadline) {
          if (cursor->bookmarks) {
            std::string b = api.bookmarkLine(*cursor);
            sink.write(b.data(), b.size());
          }
          sink.done();
          return true;
        }
        std::string data;
        auto wait = std::chrono::milliseconds(std::min<int64_t>(500, deadline - now));
        auto step = api.pollWatch(*cursor, wait, data);
        if (step == ApiServer::WatchStep::kReset) return false;
        if (!data.empty()) {
          if (!sink.write(data.data(), data.size())) return false;
          *lastSent = clock.wallMillis();
          return true;
        }
        if (step == ApiServer::WatchStep::kEnd) {
          sink.done();
          return true;
        }
        if (cursor->bookmarks && clock.wallMillis() - *lastSent >= cfg.bookmarkIntervalMs) {
          std::string b = api.bookmarkLine(*cursor);
          *lastSent = clock.wallMillis();
          return sink.write(b.data(), b.size());
        }
      }
      sink.done();
      return true;
    });
  }

  void serveAdmin(const httplib::Request& req, httplib::Response& res) {
    std::string sub = req.path.substr(std::string("/kubesim/admin").size());
    json body = adminBody(req);
    json reply = {{"ok", true}};
    int code = 200;
    if (sub == "/state" && req.method == "GET") {
      reply = api.state();
    } else if (sub == "/watch/drop" && req.method == "POST") {
      api.dropWatches(body.value("mode", "reset") == "reset");
    } else if (sub == "/compact" && req.method == "POST") {
      api.compact();
    } else if (sub == "/faults" && req.method == "POST") {
      api.addFault(body.value("verb", ""), body.value("resource", ""), body.value("code", 500),
                   body.value("count", 1));
    } else if (sub == "/pause" && req.method == "POST") {
      std::lock_guard<std::mutex> l(mu);
      pausedUntil = clock.wallMillis() + static_cast<int64_t>(body.value("seconds", 0.0) * 1000);
      pauseHang = body.value("mode", "503") == "hang";
    } else if (sub == "/node" && req.method == "POST") {
      auto st = api.setNodeState(body.value("name", ""), body.value("state", "up") != "down");
      if (!st.ok()) {
        code = 404;
        reply = {{"error", statusOf(st.error()).value("message", "")}};
      }
    } else if (sub == "/requests" && req.method == "GET") {
      uint64_t since =
          req.has_param("since") ? std::strtoull(req.get_param_value("since").c_str(), nullptr, 10) : 0;
      std::lock_guard<std::mutex> l(mu);
      reply = json::array();
      for (const auto& e : requests)
        if (e["seq"].get<uint64_t>() > since) reply.push_back(e);
    } else if (sub == "/requests" && req.method == "DELETE") {
      std::lock_guard<std::mutex> l(mu);
      requests.clear();
    } else if (sub == "/tick" && req.method == "POST") {
      api.tick();
    } else {
      code = 404;
      reply = {{"error", "unknown admin endpoint " + req.method + " " + req.path}};
    }
    res.status = code;
    res.set_content(reply.dump(), "application/json");
  }

  void install(httplib::Server& s, bool tls, const std::string& tokens) {
    s.new_task_queue = [] { return new httplib::ThreadPool(128); };
    s.set_keep_alive_max_count(1000);
    // Without it every keep-alive answer waits for the client's delayed ACK (~40 ms, Nagle).
    s.set_tcp_nodelay(true);
    s.set_read_timeout(std::chrono::seconds(60));
    auto h = [this, tls, tokens](const httplib::Request& req, httplib::Response& res) {
      if (!tls && req.path.rfind("/kubesim/admin/", 0) == 0) {
        serveAdmin(req, res);
        return;
      }
      serveApi(req, res, tls, tokens);
      // As kube-apiserver (APIResponseCompression): gzip for answers of 128 KiB and more, nothing else
      // (no brotli, no compressed watch streams). cpp-httplib picks the encoding from the request after
      // the handler; the request object is the server's own, not const.
      auto& mreq = const_cast<httplib::Request&>(req);  // NOLINT(cppcoreguidelines-pro-type-const-cast)
      bool gzip = req.get_header_value("Accept-Encoding").find("gzip") != std::string::npos;
      mreq.headers.erase("Accept-Encoding");
      if (gzip && res.body.size() >= 128 * 1024) mreq.headers.emplace("Accept-Encoding", "gzip");
    };
    s.Get(".*", h);
    s.Post(".*", h);
    s.Put(".*", h);
    s.Patch(".*", h);
    s.Delete(".*", h);
    s.Options(".*", h);
  }

  Result<int> start(std::unique_ptr<httplib::Server> s, const std::string& host, int port) {
    int bound = port == 0 ? s->bind_to_any_port(host) : (s->bind_to_port(host, port) ? port : -1);
    if (bound <= 0)
      return makeError(ErrorCode::kIo, "kubesim: cannot bind " + host + ":" + std::to_string(port));
    httplib::Server* raw = s.get();
    servers.push_back(std::move(s));
    threads.emplace_back([raw] { raw->listen_after_bind(); });
    return bound;
  }
};

KubeHttpServer::KubeHttpServer(ApiServer& api, const Clock& clock, HttpConfig cfg)
    : impl_(std::make_unique<Impl>(api, clock, std::move(cfg))) {}

KubeHttpServer::~KubeHttpServer() { stop(); }

Result<int> KubeHttpServer::listenPlain(const std::string& host, int port) {
  auto s = std::make_unique<httplib::Server>();
  impl_->install(*s, false, "");
  return impl_->start(std::move(s), host, port);
}

Result<int> KubeHttpServer::listenTls(const std::string& host, int port, const std::string& certFile,
                                      const std::string& keyFile, const std::string& tokensFile) {
  auto s = std::make_unique<httplib::SSLServer>(certFile.c_str(), keyFile.c_str());
  if (!s->is_valid())
    return makeError(ErrorCode::kInvalidArgument, "kubesim: bad TLS certificate/key " + certFile);
  impl_->install(*s, true, tokensFile);
  return impl_->start(std::move(s), host, port);
}

Result<int> KubeHttpServer::listenTlsInNetns(const std::string& netnsPath, const std::string& host, int port,
                                             const std::string& certFile, const std::string& keyFile,
                                             const std::string& tokensFile) {
  // The socket is created inside the namespace by a short-lived thread; serving continues from it.
  Result<int> result = makeError(ErrorCode::kInternal, "not started");
  std::thread t([&] {
    int fd = open(netnsPath.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) {
      if (fd >= 0) close(fd);
      result = makeError(ErrorCode::kIo, "kubesim: cannot enter " + netnsPath);
      return;
    }
    close(fd);
    auto s = std::make_unique<httplib::SSLServer>(certFile.c_str(), keyFile.c_str());
    impl_->install(*s, true, tokensFile);
    int bound = s->bind_to_port(host, port) ? port : -1;
    if (bound <= 0) {
      result = makeError(ErrorCode::kIo, "kubesim: cannot bind " + host + " in " + netnsPath);
      return;
    }
    result = bound;
    httplib::Server* raw = s.get();
    impl_->servers.push_back(std::move(s));
    impl_->threads.emplace_back([raw] { raw->listen_after_bind(); });
  });
  t.join();
  return result;
}

void KubeHttpServer::startTicker(std::chrono::milliseconds period) {
  impl_->threads.emplace_back([this, period] {
    while (!impl_->stopping) {
      impl_->api.tick();
      for (auto left = period; left.count() > 0 && !impl_->stopping; left -= std::chrono::milliseconds(50))
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
}

void KubeHttpServer::stop() {
  if (impl_->stopping.exchange(true)) return;
  impl_->api.dropWatches(false);
  for (auto& s : impl_->servers) s->stop();
  for (auto& t : impl_->threads)
    if (t.joinable()) t.join();
  impl_->threads.clear();
  impl_->servers.clear();
  FLB_INFO(kLog, "stopped");
}

}  // namespace floatlb::kubesim
