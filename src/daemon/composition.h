// The pure decisions of the daemon's composition root (src/daemon/daemon.cpp), kept apart so
// they are unit-tested (tests/unit/daemon) without sockets, bpf or signals.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/net.h"
#include "common/result.h"
#include "ha/ci_state.h"

namespace floatlb::daemon {

// --cluster: "none", "" or a comma-separated list of peer IPv4 addresses.
Result<std::vector<Ip4>> parsePeers(std::string_view csv);

// Interfaces to serve when --interfaces is not given: every non-loopback interface of `all`
// whose name does not match the --blacklist regex (empty = none). An invalid regex is an error.
Result<std::vector<std::string>> selectInterfaces(const std::vector<std::string>& all,
                                                  const std::string& blacklist);

// --api-token-file: one bearer token per line; blank lines and lines starting with '#' are
// skipped, surrounding whitespace trimmed. No token at all is an error (an empty file would
// silently turn authentication off).
Result<std::vector<std::string>> parseTokenFile(std::string_view text);

// True when `host` only accepts connections from this machine (127.0.0.0/8, ::1, localhost).
bool isLoopbackHost(std::string_view host);

// On shutdown the cloud hook deletes the tagged ENI/subnet only when this node is the last one:
// MASTER and no live peer (without --ka there is no peer to know of).
bool isLastNode(ha::CiState state, bool has_heartbeat, bool peer_alive);

}  // namespace floatlb::daemon
