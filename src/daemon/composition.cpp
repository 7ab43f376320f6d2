#include "daemon/composition.h"

#include <regex>

#include "common/strings.h"

namespace floatlb::daemon {

Result<std::vector<Ip4>> parsePeers(std::string_view csv) {
  std::vector<Ip4> out;
  if (csv == "none") return out;
  for (const auto& item : splitList(csv)) {
    auto ip = Ip4::parse(item);
    if (!ip) return makeError(ErrorCode::kInvalidArgument, "--cluster: bad peer address '" + item + "'");
    out.push_back(*ip);
  }
  return out;
}

Result<std::vector<std::string>> selectInterfaces(const std::vector<std::string>& all,
                                                  const std::string& blacklist) {
  std::optional<std::regex> deny;
  if (!blacklist.empty()) {
    try {
      deny.emplace(blacklist);
    } catch (const std::regex_error& e) {
      return makeError(ErrorCode::kInvalidArgument,
                       "--blacklist: invalid regex '" + blacklist + "': " + e.what());
    }
  }
  std::vector<std::string> out;
  for (const auto& name : all) {
    if (name == "lo") continue;
    if (deny && std::regex_search(name, *deny)) continue;
    out.push_back(name);
  }
  return out;
}

Result<std::vector<std::string>> parseTokenFile(std::string_view text) {
  std::vector<std::string> out;
  for (const auto& line : splitList(text, '\n')) {
    std::string_view t = line;
    while (!t.empty() && (t.back() == '\r' || t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
    if (t.empty() || t.front() == '#') continue;
    out.emplace_back(t);
  }
  if (out.empty()) return makeError(ErrorCode::kInvalidArgument, "no token in the file (one token per line)");
  return out;
}

bool isLoopbackHost(std::string_view host) {
  if (host == "localhost" || host == "::1" || host == "[::1]") return true;
  auto ip = Ip4::parse(host);
  return ip.ok() && (ip->hostOrder() >> 24) == 127;
}

bool isLastNode(ha::CiState state, bool has_heartbeat, bool peer_alive) {
  return state == ha::CiState::kMaster && (!has_heartbeat || !peer_alive);
}

}  // namespace floatlb::daemon
