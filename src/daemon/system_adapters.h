// Thin OS adapters the daemon plugs into the pure core: the one-arm source-address resolver and
// the rule file store.
#pragma once

#include <string>

#include "lb/rule_manager.h"
#include "lb/slots.h"

namespace floatlb::daemon {

// Asks the kernel which source address it would use towards `dst` (connect() on a UDP socket,
// then getsockname(); no packet is sent).
class KernelSourceResolver final : public lb::SourceAddressResolver {
 public:
  Result<Ip4> sourceFor(Ip4 dst) override;
};

// Rules as JSON in <dir>/lbconfig.json, written atomically (temp file + fsync + rename) so a
// crash never leaves a half-written file.
class FileRuleStore final : public lb::RuleStore {
 public:
  explicit FileRuleStore(std::string dir);
  Status save(const std::vector<lb::StoredRule>& rules) override;
  Result<std::vector<lb::StoredRule>> load() const;  // empty when the file does not exist
  [[nodiscard]] std::string path() const { return dir_ + "/lbconfig.json"; }

 private:
  std::string dir_;
};

}  // namespace floatlb::daemon
