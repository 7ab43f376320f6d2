// floatctl: the loxicmd-compatible command line over the floatlb REST API.
// runFloatctl() is the whole program minus main(): it parses argv, maps the command to REST
// requests sent through a Transport (a fake one in tests), renders the answers and returns the exit
// code: 0 success, 1 server/transport error, 2 bad command line.
#pragma once

#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "cli/transport.h"

namespace floatlb::cli {

using TransportFactory = std::function<std::unique_ptr<Transport>(const ServerAddress&)>;

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// args excludes the program name.
int runFloatctl(const std::vector<std::string>& args, const TransportFactory& factory, std::ostream& out,
                std::ostream& err);

}  // namespace floatlb::cli
