// Thin OS adapters the daemon plugs into the pure core: the one-arm source-address resolver and
// the rule file store.
#pragma once

#include <map>
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

// Rules under --config-path as a snapshot plus a journal:
//   lbconfig.json     {"version":1,"rules":[...]} (the format of the previous releases), written
//                     atomically (temp file + fsync + rename);
//   lbconfig.journal  one line per change since the snapshot, appended and fdatasync'ed before
//                     save() returns: "P <rule file with one rule>" or "D <rule id>".
// save() receives the whole table (lb::RuleStore) but writes only what changed since the last
// save, so a change costs one small append + one fdatasync however many rules exist. The
// journal is folded into the snapshot at load and when it grows past kCompactAfter records. A
// torn last line (crash mid-append) was never acknowledged and is ignored.
class FileRuleStore final : public lb::RuleStore {
 public:
  static constexpr size_t kCompactAfter = 4096;

  explicit FileRuleStore(std::string dir);
  ~FileRuleStore() override;
  Status save(const std::vector<lb::StoredRule>& rules) override;
  // Snapshot + journal; empty when nothing was saved yet. Also compacts, so it is not const.
  Result<std::vector<lb::StoredRule>> load();
  [[nodiscard]] std::string path() const { return dir_ + "/lbconfig.json"; }
  [[nodiscard]] std::string journalPath() const { return dir_ + "/lbconfig.journal"; }
  [[nodiscard]] size_t journalRecords() const { return journal_records_; }

 private:
  Status writeSnapshot(const std::vector<lb::StoredRule>& rules);
  Status append(const std::string& text);
  Status openJournal(bool truncate);

  std::string dir_;
  std::map<uint32_t, lb::StoredRule> saved_;  // what snapshot + journal hold
  int journal_fd_ = -1;
  size_t journal_records_ = 0;
};

}  // namespace floatlb::daemon
