#include "k8s/config.h"

#include <openssl/evp.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>

#include "k8s/yaml_json.h"

namespace floatlb::k8s {

namespace {

Error bad(const std::string& m) { return makeError(ErrorCode::kInvalidArgument, m); }

std::string resolvePath(const std::string& dir, const std::string& p) {
  if (p.empty() || p[0] == '/' || dir.empty()) return p;
  return dir + "/" + p;
}

struct Named {
  Json value;
  std::string dir;
};

// name -> entry, first occurrence wins across files.
void collect(const Json& doc, const char* list, const char* inner, const std::string& dir,
             std::map<std::string, Named>& out) {
  const Json* l = member(doc, list);
  if (l == nullptr || !l->is_array()) return;
  for (const auto& e : *l) {
    std::string name = str(member(e, "name"));
    const Json* v = member(e, inner);
    if (name.empty() || v == nullptr) continue;
    out.emplace(name, Named{*v, dir});
  }
}

Result<std::string> pemFrom(const Json& obj, const std::string& dir, const char* data_key, const char* file_key) {
  if (const Json* d = member(obj, data_key); d != nullptr && d->is_string()) {
    std::string pem = base64Decode(d->get<std::string>());
    if (pem.empty()) return bad(std::string(data_key) + " is not valid base64");
    return pem;
  }
  if (const Json* f = member(obj, file_key); f != nullptr && f->is_string()) {
    return readFile(resolvePath(dir, f->get<std::string>()));
  }
  return std::string();
}

int64_t daysFromCivil(int64_t y, unsigned m, unsigned d) {  // Howard Hinnant's algorithm
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

}  // namespace

std::string base64Decode(std::string_view in) {
  std::string s;
  for (char c : in) {
    if (c != '\n' && c != '\r' && c != ' ') s.push_back(c);
  }
  if (s.empty() || s.size() % 4 != 0) return "";
  std::string out(s.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(s.data()),
                          static_cast<int>(s.size()));
  if (n < 0) return "";
  size_t pad = 0;
  if (s.back() == '=') pad = s[s.size() - 2] == '=' ? 2 : 1;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

Result<std::string> readFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return makeError(ErrorCode::kNotFound, "cannot read " + path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::optional<int64_t> parseRfc3339(std::string_view s) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0;
  if (s.size() < 20) return std::nullopt;
  if (std::sscanf(std::string(s.substr(0, 19)).c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &se) != 6) {
    return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return std::nullopt;
  size_t i = 19;
  int64_t ms = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    int digits = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])) != 0) {
      if (digits < 3) ms = ms * 10 + (s[i] - '0');
      ++digits;
      ++i;
    }
    for (; digits < 3; ++digits) ms *= 10;
  }
  int64_t offset_s = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i + 6 <= s.size() && (s[i] == '+' || s[i] == '-')) {
    int oh = 0, om = 0;
    if (std::sscanf(std::string(s.substr(i + 1, 5)).c_str(), "%2d:%2d", &oh, &om) != 2) return std::nullopt;
    offset_s = (s[i] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  int64_t days = daysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  return ((days * 86400 + h * 3600 + mi * 60 + se) - offset_s) * 1000 + ms;
}

Result<RestConfig> kubeconfigFrom(const std::vector<std::pair<std::string, std::string>>& docs,
                                  const std::string& context) {
  std::map<std::string, Named> clusters, users, contexts;
  std::string current;
  for (const auto& [text, dir] : docs) {
    auto doc = yamlToJson(text);
    if (!doc) return doc.error().wrap("kubeconfig");
    if (!doc->is_object()) return bad("kubeconfig: not a mapping");
    collect(*doc, "clusters", "cluster", dir, clusters);
    collect(*doc, "users", "user", dir, users);
    collect(*doc, "contexts", "context", dir, contexts);
    if (current.empty()) current = str(member(*doc, "current-context"));
  }
  std::string ctx_name = context.empty() ? current : context;
  if (ctx_name.empty()) return bad("kubeconfig: no current-context (give --context)");
  auto ctx = contexts.find(ctx_name);
  if (ctx == contexts.end()) return bad("kubeconfig: context " + ctx_name + " not found");
  RestConfig c;
  c.ns = str(member(ctx->second.value, "namespace"), "default");
  std::string cl_name = str(member(ctx->second.value, "cluster"));
  auto cl = clusters.find(cl_name);
  if (cl == clusters.end()) return bad("kubeconfig: cluster " + cl_name + " (context " + ctx_name + ") not found");
  const Json& cj = cl->second.value;
  c.server = str(member(cj, "server"));
  while (!c.server.empty() && c.server.back() == '/') c.server.pop_back();
  if (c.server.empty()) return bad("kubeconfig: cluster " + cl_name + " has no server");
  c.insecure = boolean(member(cj, "insecure-skip-tls-verify")).value_or(false);
  c.tls_server_name = str(member(cj, "tls-server-name"));
  FLB_ASSIGN_OR_RETURN(c.ca_pem, pemFrom(cj, cl->second.dir, "certificate-authority-data", "certificate-authority"));
  std::string user_name = str(member(ctx->second.value, "user"));
  if (user_name.empty()) return c;
  auto u = users.find(user_name);
  if (u == users.end()) return bad("kubeconfig: user " + user_name + " (context " + ctx_name + ") not found");
  const Json& uj = u->second.value;
  if (member(uj, "auth-provider") != nullptr) {
    return bad("kubeconfig: user " + user_name +
               ": auth-provider is not supported (removed from kubectl in 1.26); use an exec plugin");
  }
  if (member(uj, "username") != nullptr || member(uj, "password") != nullptr) {
    return bad("kubeconfig: user " + user_name + ": basic auth is not supported");
  }
  c.token = str(member(uj, "token"));
  if (const Json* tf = member(uj, "tokenFile"); tf != nullptr && tf->is_string()) {
    c.token_file = resolvePath(u->second.dir, tf->get<std::string>());
  }
  FLB_ASSIGN_OR_RETURN(c.client_cert_pem, pemFrom(uj, u->second.dir, "client-certificate-data", "client-certificate"));
  FLB_ASSIGN_OR_RETURN(c.client_key_pem, pemFrom(uj, u->second.dir, "client-key-data", "client-key"));
  if (const Json* ex = member(uj, "exec"); ex != nullptr && ex->is_object()) {
    ExecConfig e;
    e.api_version = str(member(*ex, "apiVersion"), e.api_version);
    if (e.api_version != "client.authentication.k8s.io/v1beta1" && e.api_version != "client.authentication.k8s.io/v1") {
      return bad("kubeconfig: exec apiVersion " + e.api_version + " is not supported (v1beta1, v1)");
    }
    e.command = str(member(*ex, "command"));
    if (e.command.empty()) return bad("kubeconfig: user " + user_name + ": exec has no command");
    if (e.command.find('/') != std::string::npos) e.command = resolvePath(u->second.dir, e.command);
    if (const Json* a = member(*ex, "args"); a != nullptr && a->is_array()) {
      for (const auto& v : *a) {
        if (v.is_string()) e.args.push_back(v.get<std::string>());
      }
    }
    if (const Json* en = member(*ex, "env"); en != nullptr && en->is_array()) {
      for (const auto& v : *en) e.env.emplace_back(str(member(v, "name")), str(member(v, "value")));
    }
    e.provide_cluster_info = boolean(member(*ex, "provideClusterInfo")).value_or(false);
    e.interactive_mode = str(member(*ex, "interactiveMode"), "Never");
    c.exec = e;
  }
  return c;
}

Result<RestConfig> loadKubeconfig(const std::vector<std::string>& files, const std::string& context) {
  std::vector<std::pair<std::string, std::string>> docs;
  for (const auto& f : files) {
    auto text = readFile(f);
    if (!text) {
      if (files.size() > 1) continue;  // missing entries of a $KUBECONFIG list are skipped, like kubectl
      return text.error();
    }
    auto slash = f.rfind('/');
    docs.emplace_back(*text, slash == std::string::npos ? "." : f.substr(0, slash));
  }
  if (docs.empty()) return makeError(ErrorCode::kNotFound, "no readable kubeconfig file");
  return kubeconfigFrom(docs, context);
}

Result<RestConfig> inClusterConfig(const std::map<std::string, std::string>& env, const std::string& sa_dir) {
  auto h = env.find("KUBERNETES_SERVICE_HOST");
  auto p = env.find("KUBERNETES_SERVICE_PORT");
  if (h == env.end() || p == env.end() || h->second.empty()) {
    return makeError(ErrorCode::kNotFound, "not in a cluster: KUBERNETES_SERVICE_HOST/PORT unset");
  }
  RestConfig c;
  std::string host = h->second.find(':') != std::string::npos ? "[" + h->second + "]" : h->second;
  c.server = "https://" + host + ":" + p->second;
  FLB_ASSIGN_OR_RETURN(c.ca_pem, readFile(sa_dir + "/ca.crt"));
  c.token_file = sa_dir + "/token";
  FLB_TRY(readFile(c.token_file));
  auto ns = readFile(sa_dir + "/namespace");
  if (ns) c.ns = *ns;
  while (!c.ns.empty() && (c.ns.back() == '\n' || c.ns.back() == ' ')) c.ns.pop_back();
  return c;
}

Result<RestConfig> resolveConfig(const std::string& kubeconfig, const std::string& context) {
  if (!kubeconfig.empty()) return loadKubeconfig({kubeconfig}, context);
  if (const char* kc = std::getenv("KUBECONFIG"); kc != nullptr && *kc != '\0') {
    std::vector<std::string> files;
    std::string all = kc;
    size_t start = 0;
    while (start <= all.size()) {
      size_t end = all.find(':', start);
      if (end == std::string::npos) end = all.size();
      if (end > start) files.push_back(all.substr(start, end - start));
      start = end + 1;
    }
    return loadKubeconfig(files, context);
  }
  if (const char* home = std::getenv("HOME"); home != nullptr) {
    std::string def = std::string(home) + "/.kube/config";
    if (readFile(def).ok()) return loadKubeconfig({def}, context);
  }
  std::map<std::string, std::string> env;
  for (const char* k : {"KUBERNETES_SERVICE_HOST", "KUBERNETES_SERVICE_PORT"}) {
    if (const char* v = std::getenv(k)) env[k] = v;
  }
  const char* sa = std::getenv("KUBE_FLOATLB_SA_DIR");
  return inClusterConfig(env, sa != nullptr ? sa : "/var/run/secrets/kubernetes.io/serviceaccount");
}

// ---- exec credentials ----

std::string execInfo(const ExecConfig& e, const RestConfig& cluster) {
  Json spec = {{"interactive", false}};
  if (e.api_version == "client.authentication.k8s.io/v1") spec["interactiveMode"] = e.interactive_mode;
  if (e.provide_cluster_info) {
    Json cl = {{"server", cluster.server}};
    if (!cluster.ca_pem.empty()) {
      std::string b64(4 * ((cluster.ca_pem.size() + 2) / 3), '\0');
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()),
                      reinterpret_cast<const unsigned char*>(cluster.ca_pem.data()), static_cast<int>(cluster.ca_pem.size()));
      cl["certificate-authority-data"] = b64;
    }
    spec["cluster"] = cl;
  }
  return dump(Json{{"apiVersion", e.api_version}, {"kind", "ExecCredential"}, {"spec", spec}});
}

Result<ExecCredential> parseExecCredential(std::string_view text) {
  auto j = parseJson(text);
  if (!j || !j->is_object()) return bad("exec plugin output is not a JSON object");
  if (str(member(*j, "kind")) != "ExecCredential") return bad("exec plugin output is not an ExecCredential");
  const Json* st = member(*j, "status");
  if (st == nullptr || !st->is_object()) return bad("ExecCredential has no status");
  ExecCredential c;
  c.token = str(member(*st, "token"));
  c.client_cert_pem = str(member(*st, "clientCertificateData"));
  c.client_key_pem = str(member(*st, "clientKeyData"));
  if (c.token.empty() && (c.client_cert_pem.empty() || c.client_key_pem.empty())) {
    return bad("ExecCredential status has neither a token nor a client certificate and key");
  }
  std::string exp = str(member(*st, "expirationTimestamp"));
  if (!exp.empty()) {
    c.expiry_wall_ms = parseRfc3339(exp);
    if (!c.expiry_wall_ms) return bad("ExecCredential expirationTimestamp '" + exp + "' is not RFC 3339");
  }
  return c;
}

Result<std::string> ProcessExecRunner::run(const ExecConfig& e, const std::string& exec_info) {
  int out[2];
  if (pipe(out) != 0) return makeError(ErrorCode::kIo, "pipe failed");
  pid_t pid = fork();
  if (pid < 0) return makeError(ErrorCode::kIo, "fork failed");
  if (pid == 0) {
    dup2(out[1], 1);
    close(out[0]);
    close(out[1]);
    int devnull = ::open("/dev/null", 0);
    if (devnull >= 0) dup2(devnull, 0);  // interactiveMode Never: no stdin
    for (const auto& [k, v] : e.env) setenv(k.c_str(), v.c_str(), 1);
    setenv("KUBERNETES_EXEC_INFO", exec_info.c_str(), 1);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(e.command.c_str()));
    for (const auto& a : e.args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execvp(e.command.c_str(), argv.data());
    _exit(127);
  }
  close(out[1]);
  std::string data;
  char buf[4096];
  for (;;) {
    ssize_t n = read(out[0], buf, sizeof buf);
    if (n <= 0) break;
    data.append(buf, static_cast<size_t>(n));
    if (data.size() > (1u << 20)) break;
  }
  close(out[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return makeError(ErrorCode::kUnavailable, "exec plugin " + e.command + " failed (status " +
                                                  std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + ")");
  }
  return data;
}

Credentials::Credentials(RestConfig cfg, const Clock& clock, ExecRunner& runner)
    : cfg_(std::move(cfg)), clock_(clock), runner_(runner) {}

void Credentials::invalidate() { cached_.reset(); }

Result<ExecCredential> Credentials::current() {
  if (cfg_.exec) {
    bool fresh = cached_ && (!cached_->expiry_wall_ms || clock_.wallMillis() < *cached_->expiry_wall_ms - 30'000);
    if (!fresh) {
      ++exec_runs_;
      FLB_ASSIGN_OR_RETURN(std::string out, runner_.run(*cfg_.exec, execInfo(*cfg_.exec, cfg_)));
      auto c = parseExecCredential(out);
      if (!c) return c.error().wrap("exec plugin " + cfg_.exec->command);
      cached_ = *c;
    }
    return *cached_;
  }
  if (!cfg_.token_file.empty()) {
    if (!cached_ || clock_.now() - cached_at_ > std::chrono::seconds(60)) {
      FLB_ASSIGN_OR_RETURN(std::string t, readFile(cfg_.token_file));
      while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ')) t.pop_back();
      cached_ = ExecCredential{t, cfg_.client_cert_pem, cfg_.client_key_pem, std::nullopt};
      cached_at_ = clock_.now();
    }
    return *cached_;
  }
  return ExecCredential{cfg_.token, cfg_.client_cert_pem, cfg_.client_key_pem, std::nullopt};
}

}  // namespace floatlb::k8s
