// REST answer (JSON text) -> what floatctl prints. Pure functions: no I/O, no nlohmann in this header.
// Column sets, ordering and value formatting follow loxicmd (see docs/floatctl.md).
#pragma once

#include <string>

#include "common/result.h"

namespace floatlb::cli {

enum class OutputFormat { kTable, kWide, kJson };

// `-o json`: the REST JSON pretty-printed with a 4-space indent, key order preserved, plus "\n".
Result<std::string> prettyJson(const std::string& body);

// GET /config/loadbalancer/all ({"lbAttr":[...]}). serv_name filters on the rule name (table views).
Result<std::string> renderLoadBalancers(const std::string& body, OutputFormat format,
                                        const std::string& serv_name);
// GET /config/conntrack/all ({"ctAttr":[...]}).
Result<std::string> renderConntrack(const std::string& body, OutputFormat format,
                                    const std::string& serv_name);
// GET /config/cistate/all ({"Attr":[...]}).
Result<std::string> renderHaState(const std::string& body, OutputFormat format);
// GET /config/endpoint/all ({"Attr":[...]}).
Result<std::string> renderEndpoints(const std::string& body, OutputFormat format);
// GET /config/bfd/all ({"Attr":[...]}).
Result<std::string> renderBfd(const std::string& body, OutputFormat format);
// GET /config/ha/peers (floatlb): one row per HA peer — role, heartbeat and sync status.
Result<std::string> renderHaPeers(const std::string& body, OutputFormat format);

// One readable line for a non-2xx answer: the server's "message" (plus "result" when it adds
// information), else the raw body, else the reason phrase; always ends with " (HTTP <status>)".
std::string errorLine(int status, const std::string& body);

}  // namespace floatlb::cli
