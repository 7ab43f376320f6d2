// Thin OS adapters the daemon plugs into the pure core: the one-arm source-address resolver and
// the rule file store.
#pragma once

#include <atomic>
#include <map>
#include <string>

#include "common/group_commit.h"
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
//   lbconfig.journal  one line per change since the snapshot: "P <rule file with one rule>" or
//                     "D <rule id>", appended and fdatasync'ed before waitDurable() returns.
// Changes arrive one by one (lb::RuleStore) and are written by GroupCommit: changes queued while
// a sync is in flight share the next write + fdatasync, so a change costs one small append and
// at most one sync however many rules exist. The journal is folded into the snapshot at load and
// when it grows past kCompactAfter records. A torn last line (crash mid-append) was never
// acknowledged and is ignored. After a failed write or sync every later change fails too (the
// file's state is unknown): restarting the daemon reloads what is durable.
class FileRuleStore final : public lb::RuleStore {
 public:
  static constexpr size_t kCompactAfter = 4096;

  explicit FileRuleStore(std::string dir);
  ~FileRuleStore() override;
  Result<uint64_t> enqueue(std::vector<lb::RuleChange> changes) override;
  Status waitDurable(uint64_t ticket) override;
  // Snapshot + journal; empty when nothing was saved yet. Also compacts, so it is not const.
  // Call before the first change.
  Result<std::vector<lb::StoredRule>> load();
  [[nodiscard]] std::string path() const { return dir_ + "/lbconfig.json"; }
  [[nodiscard]] std::string journalPath() const { return dir_ + "/lbconfig.journal"; }
  [[nodiscard]] size_t journalRecords() const { return journal_records_.load(); }
  [[nodiscard]] uint64_t syncs() const { return commits_.flushes(); }

 private:
  Status flush(std::vector<lb::RuleChange>& batch);  // GroupCommit's flusher: one at a time
  Status writeSnapshot(const std::map<uint32_t, lb::StoredRule>& rules);
  Status append(const std::string& text);
  Status openJournal(bool truncate);

  std::string dir_;
  std::map<uint32_t, lb::StoredRule> saved_;  // what snapshot + journal hold (flusher or load() only)
  int journal_fd_ = -1;
  std::atomic<size_t> journal_records_{0};
  GroupCommit<lb::RuleChange> commits_;
};

}  // namespace floatlb::daemon
