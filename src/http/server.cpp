#include "http/server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace floatlb::http {

namespace {

using SteadyTime = std::chrono::steady_clock::time_point;

struct ConnState {
  int fd = -1;
  SteadyTime ready_since;  // accepted, or the previous response was sent
  bool handling = false;   // a complete request is being answered
  bool shut = false;
};

struct RequestState {
  std::string body;
  size_t reserved = 0;  // bytes taken from the global body budget
  bool too_big = false;
  bool over_budget = false;
};

Result<int> listenSocket(const std::string& host, uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  const std::string h = host == "localhost" ? "127.0.0.1" : host;
  if (::inet_pton(AF_INET, h.c_str(), &sa.sin_addr) != 1)
    return makeError(ErrorCode::kInvalidArgument, "listen address '" + host + "' is not an IPv4 address");
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return makeError(ErrorCode::kIo, std::string("socket: ") + std::strerror(errno));
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || ::listen(fd, 1024) != 0) {
    int err = errno;
    ::close(fd);
    return makeError(ErrorCode::kUnavailable, "cannot listen on " + host + ":" + std::to_string(port) + " (" +
                                                  std::strerror(err) + ")");
  }
  return fd;
}

std::string lower(const char* s) {
  std::string out(s ? s : "");
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

struct Server::Impl {
  Options opt;
  Handler handler;
  ErrorBody error_body;
  int listen_fd = -1;
  uint16_t port = 0;
  MHD_Daemon* daemon = nullptr;

  mutable std::mutex mu;  // conns
  std::unordered_map<MHD_Connection*, ConnState> conns;
  std::atomic<size_t> body_bytes{0};
  std::atomic<uint64_t> connections_total{0}, deadline_closed{0}, requests{0}, rejected_body{0};

  std::mutex stop_mu;
  std::condition_variable stop_cv;
  bool stopping = false;
  std::thread sweeper;

  MHD_Result reply(MHD_Connection* c, const Response& r) {
    MHD_Response* resp = MHD_create_response_from_buffer(r.body.size(), const_cast<char*>(r.body.data()),
                                                         MHD_RESPMEM_MUST_COPY);
    if (resp == nullptr) return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", r.content_type.c_str());
    for (const auto& [k, v] : r.headers) MHD_add_response_header(resp, k.c_str(), v.c_str());
    MHD_Result ok = MHD_queue_response(c, static_cast<unsigned>(r.status), resp);
    MHD_destroy_response(resp);
    return ok;
  }

  MHD_Result replyError(MHD_Connection* c, int status, const std::string& message) {
    Response r;
    r.status = status;
    r.body = error_body ? error_body(status, message) : message;
    return reply(c, r);
  }

  MHD_Result onRequest(MHD_Connection* c, const char* url, const char* method, const char* upload_data,
                       size_t* upload_data_size, void** con_cls) {
    auto* st = static_cast<RequestState*>(*con_cls);
    if (st == nullptr) {
      st = new RequestState();
      *con_cls = st;
      const char* cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
      if (cl != nullptr) {
        const unsigned long long n = std::strtoull(cl, nullptr, 10);
        if (n > opt.max_body) {
          st->too_big = true;
        } else if (n > 0) {
          const size_t prev = body_bytes.fetch_add(n);
          if (prev + n > opt.max_body_total) {
            body_bytes.fetch_sub(n);
            st->over_budget = true;
          } else {
            st->reserved = n;
            st->body.reserve(n);
          }
        }
      }
      if (st->too_big || st->over_budget) {
        ++rejected_body;
        // Answer before the body is read; MHD closes the connection afterwards.
        return st->too_big
                   ? replyError(c, 413, "request body larger than " + std::to_string(opt.max_body) + " bytes")
                   : replyError(c, 503, "server busy: too many request bodies in flight");
      }
      return MHD_YES;
    }
    if (*upload_data_size > 0) {
      if (!st->too_big && st->body.size() + *upload_data_size <= std::max(st->reserved, opt.max_body)) {
        st->body.append(upload_data, *upload_data_size);
      } else {
        st->too_big = true;
      }
      *upload_data_size = 0;
      return MHD_YES;
    }
    if (st->too_big) {
      ++rejected_body;
      return replyError(c, 413, "request body larger than " + std::to_string(opt.max_body) + " bytes");
    }
    {
      std::lock_guard l(mu);
      if (auto it = conns.find(c); it != conns.end()) it->second.handling = true;
    }
    Request req;
    req.method = method;
    req.path = url;
    MHD_get_connection_values(
        c, MHD_GET_ARGUMENT_KIND,
        [](void* cls, MHD_ValueKind, const char* k, const char* v) -> MHD_Result {
          (*static_cast<std::map<std::string, std::string>*>(cls))[k ? k : ""] = v ? v : "";
          return MHD_YES;
        },
        &req.query);
    MHD_get_connection_values(
        c, MHD_HEADER_KIND,
        [](void* cls, MHD_ValueKind, const char* k, const char* v) -> MHD_Result {
          (*static_cast<std::map<std::string, std::string>*>(cls))[lower(k)] = v ? v : "";
          return MHD_YES;
        },
        &req.headers);
    if (const auto* info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        info != nullptr && info->client_addr != nullptr && info->client_addr->sa_family == AF_INET) {
      char buf[INET_ADDRSTRLEN] = {};
      ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(info->client_addr)->sin_addr, buf,
                  sizeof buf);
      req.peer = buf;
    }
    req.body = std::move(st->body);
    ++requests;
    return reply(c, handler(req));
  }

  void onCompleted(MHD_Connection* c, void** con_cls) {
    auto* st = static_cast<RequestState*>(*con_cls);
    if (st != nullptr) {
      if (st->reserved) body_bytes.fetch_sub(st->reserved);
      delete st;
      *con_cls = nullptr;
    }
    std::lock_guard l(mu);
    if (auto it = conns.find(c); it != conns.end()) {
      it->second.handling = false;
      it->second.ready_since = std::chrono::steady_clock::now();
    }
  }

  void onConnection(MHD_Connection* c, MHD_ConnectionNotificationCode code) {
    std::lock_guard l(mu);
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
      ConnState s;
      if (const auto* info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD))
        s.fd = info->connect_fd;
      s.ready_since = std::chrono::steady_clock::now();
      conns[c] = s;
      ++connections_total;
    } else {
      conns.erase(c);  // before MHD closes the socket: the sweeper never touches a reused fd
    }
  }

  // Shuts down connections that did not deliver a whole request in time; MHD then sees the
  // socket end and frees the connection on its own thread.
  void sweep() {
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard l(mu);
    for (auto& [c, s] : conns) {
      if (s.handling || s.shut || s.fd < 0) continue;
      if (now - s.ready_since > opt.request_deadline) {
        ::shutdown(s.fd, SHUT_RDWR);
        s.shut = true;
        ++deadline_closed;
      }
    }
  }

  Result<MHD_Daemon*> startDaemon(int fd, const std::string& cert, const std::string& key) {
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC;
    if (!cert.empty()) {
      if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
        return makeError(ErrorCode::kUnavailable, "this libmicrohttpd has no TLS support");
      flags |= MHD_USE_TLS;
    }
    std::vector<MHD_OptionItem> items = {
        {MHD_OPTION_LISTEN_SOCKET, fd, nullptr},
        {MHD_OPTION_THREAD_POOL_SIZE, static_cast<intptr_t>(std::max(1u, opt.threads)), nullptr},
        {MHD_OPTION_CONNECTION_LIMIT, static_cast<intptr_t>(opt.max_connections), nullptr},
        {MHD_OPTION_PER_IP_CONNECTION_LIMIT, static_cast<intptr_t>(opt.per_source_limit), nullptr},
        {MHD_OPTION_CONNECTION_TIMEOUT, static_cast<intptr_t>(opt.idle_timeout.count()), nullptr},
        {MHD_OPTION_CONNECTION_MEMORY_LIMIT, static_cast<intptr_t>(opt.connection_memory), nullptr},
        {MHD_OPTION_NOTIFY_CONNECTION,
         reinterpret_cast<intptr_t>(
             +[](void* cls, MHD_Connection* c, void**, MHD_ConnectionNotificationCode code) {
               static_cast<Impl*>(cls)->onConnection(c, code);
             }),
         this},
        {MHD_OPTION_NOTIFY_COMPLETED,
         reinterpret_cast<intptr_t>(
             +[](void* cls, MHD_Connection* c, void** con_cls, MHD_RequestTerminationCode) {
               static_cast<Impl*>(cls)->onCompleted(c, con_cls);
             }),
         this},
    };
    if (!cert.empty()) {
      items.push_back({MHD_OPTION_HTTPS_MEM_CERT, 0, const_cast<char*>(cert.c_str())});
      items.push_back({MHD_OPTION_HTTPS_MEM_KEY, 0, const_cast<char*>(key.c_str())});
    }
    items.push_back({MHD_OPTION_END, 0, nullptr});
    MHD_Daemon* d = MHD_start_daemon(
        flags, 0, nullptr, nullptr,
        [](void* cls, MHD_Connection* c, const char* url, const char* method, const char*,
           const char* upload_data, size_t* upload_data_size, void** con_cls) -> MHD_Result {
          return static_cast<Impl*>(cls)->onRequest(c, url, method, upload_data, upload_data_size, con_cls);
        },
        this, MHD_OPTION_ARRAY, items.data(), MHD_OPTION_END);
    if (d == nullptr) {
      return makeError(ErrorCode::kUnavailable,
                       cert.empty()
                           ? "cannot start the HTTP server"
                           : "cannot start the HTTPS server (is the certificate/key pair valid PEM?)");
    }
    return d;
  }
};

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { stop(); }

Result<std::unique_ptr<Server>> Server::start(Options options, Handler handler, ErrorBody error_body) {
  auto impl = std::make_unique<Impl>();
  impl->opt = std::move(options);
  impl->handler = std::move(handler);
  impl->error_body = std::move(error_body);
  FLB_ASSIGN_OR_RETURN(impl->listen_fd, listenSocket(impl->opt.host, impl->opt.port));
  sockaddr_in bound{};
  socklen_t len = sizeof bound;
  ::getsockname(impl->listen_fd, reinterpret_cast<sockaddr*>(&bound), &len);
  impl->port = ntohs(bound.sin_port);
  auto d = impl->startDaemon(impl->listen_fd, impl->opt.tls_cert_pem, impl->opt.tls_key_pem);
  if (!d) {
    ::close(impl->listen_fd);
    return d.error();
  }
  impl->daemon = *d;
  Impl* raw = impl.get();
  impl->sweeper = std::thread([raw] {
    std::unique_lock l(raw->stop_mu);
    while (!raw->stop_cv.wait_for(l, std::chrono::milliseconds(100), [raw] { return raw->stopping; })) {
      l.unlock();
      raw->sweep();
      l.lock();
    }
  });
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

uint16_t Server::port() const { return impl_->port; }
bool Server::tls() const { return !impl_->opt.tls_cert_pem.empty(); }

Stats Server::stats() const {
  Stats s;
  {
    std::lock_guard l(impl_->mu);
    s.connections_open = impl_->conns.size();
  }
  s.connections_total = impl_->connections_total.load();
  s.deadline_closed = impl_->deadline_closed.load();
  s.requests = impl_->requests.load();
  s.rejected_body = impl_->rejected_body.load();
  s.body_bytes_in_flight = impl_->body_bytes.load();
  return s;
}

Status Server::reloadTls(const std::string& cert_pem, const std::string& key_pem) {
  if (!impl_->daemon) return makeError(ErrorCode::kUnavailable, "server is stopped");
  if (cert_pem.empty() || key_pem.empty())
    return makeError(ErrorCode::kInvalidArgument, "empty certificate or key");
  // The new daemon accepts on a duplicate of the socket before the old one lets go of it, so no
  // connection attempt is refused during the swap.
  int fd = ::dup(impl_->listen_fd);
  if (fd < 0) return makeError(ErrorCode::kIo, std::string("dup: ") + std::strerror(errno));
  auto d = impl_->startDaemon(fd, cert_pem, key_pem);
  if (!d) {
    ::close(fd);
    return d.error();
  }
  MHD_Daemon* old = impl_->daemon;
  impl_->daemon = *d;
  MHD_quiesce_daemon(old);
  MHD_stop_daemon(old);
  ::close(impl_->listen_fd);
  impl_->listen_fd = fd;
  impl_->opt.tls_cert_pem = cert_pem;
  impl_->opt.tls_key_pem = key_pem;
  return okStatus();
}

void Server::stop() {
  if (!impl_) return;
  {
    std::lock_guard l(impl_->stop_mu);
    impl_->stopping = true;
  }
  impl_->stop_cv.notify_all();
  if (impl_->sweeper.joinable()) impl_->sweeper.join();
  if (impl_->daemon) {
    MHD_quiesce_daemon(impl_->daemon);
    MHD_stop_daemon(impl_->daemon);
    impl_->daemon = nullptr;
  }
  if (impl_->listen_fd >= 0) {
    ::close(impl_->listen_fd);
    impl_->listen_fd = -1;
  }
}

}  // namespace floatlb::http
