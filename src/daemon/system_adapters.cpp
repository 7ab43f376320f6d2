#include "daemon/system_adapters.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "api/json_codec.h"
#include "common/file.h"
#include "common/log.h"

namespace floatlb::daemon {

Result<Ip4> KernelSourceResolver::sourceFor(Ip4 dst) {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return makeError(ErrorCode::kIo, std::string("socket: ") + std::strerror(errno));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(9);
  sa.sin_addr.s_addr = dst.networkOrder();
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    int err = errno;
    ::close(fd);
    return makeError(ErrorCode::kUnavailable, "no route to " + dst.str() + ": " + std::strerror(err));
  }
  sockaddr_in local{};
  socklen_t len = sizeof local;
  int rc = ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len);
  ::close(fd);
  if (rc != 0) return makeError(ErrorCode::kIo, std::string("getsockname: ") + std::strerror(errno));
  return Ip4::fromNetwork(local.sin_addr.s_addr);
}

FileRuleStore::FileRuleStore(std::string dir)
    : dir_(std::move(dir)), commits_([this](std::vector<lb::RuleChange>& batch) { return flush(batch); }) {
  while (dir_.size() > 1 && dir_.back() == '/') dir_.pop_back();
}

FileRuleStore::~FileRuleStore() {
  if (journal_fd_ >= 0) ::close(journal_fd_);
}

Result<uint64_t> FileRuleStore::enqueue(std::vector<lb::RuleChange> changes) {
  return commits_.enqueue(std::move(changes));
}

Status FileRuleStore::waitDurable(uint64_t ticket) { return commits_.wait(ticket); }

Status FileRuleStore::writeSnapshot(const std::map<uint32_t, lb::StoredRule>& rules) {
  std::vector<lb::StoredRule> list;
  list.reserve(rules.size());
  for (const auto& [id, r] : rules) list.push_back(r);
  return writeFileAtomic(path(), api::encodeRuleFile(list));
}

Status FileRuleStore::openJournal(bool truncate) {
  if (journal_fd_ >= 0) ::close(journal_fd_);
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec) return makeError(ErrorCode::kIo, "creating " + dir_ + ": " + ec.message());
  journal_fd_ = ::open(journalPath().c_str(),
                       O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (truncate ? O_TRUNC : 0), 0600);
  if (journal_fd_ < 0)
    return makeError(ErrorCode::kIo, "opening " + journalPath() + ": " + std::strerror(errno));
  // The journal's directory entry must be durable before records in it are acknowledged.
  int dfd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  if (truncate) journal_records_ = 0;
  return okStatus();
}

Status FileRuleStore::append(const std::string& text) {
  if (journal_fd_ < 0) FLB_TRY(openJournal(false));
  FLB_TRY(writeAll(journal_fd_, text, journalPath()));
  if (::fdatasync(journal_fd_) != 0)
    return makeError(ErrorCode::kIo, "flushing " + journalPath() + ": " + std::strerror(errno));
  return okStatus();
}

namespace {

void applyChanges(const std::vector<lb::RuleChange>& batch, std::map<uint32_t, lb::StoredRule>& state) {
  for (const auto& c : batch) {
    if (c.spec) {
      state.insert_or_assign(c.rule_id, lb::StoredRule{c.rule_id, *c.spec});
    } else {
      state.erase(c.rule_id);
    }
  }
}

}  // namespace

Status FileRuleStore::flush(std::vector<lb::RuleChange>& batch) {
  if (batch.empty()) return okStatus();
  if (journal_records_ + batch.size() > kCompactAfter) {
    // Fold everything into a new snapshot, then start an empty journal.
    auto next = saved_;
    applyChanges(batch, next);
    FLB_TRY(writeSnapshot(next));
    FLB_TRY(openJournal(true));
    saved_ = std::move(next);
    return okStatus();
  }
  std::string records;
  for (const auto& c : batch) {
    if (c.spec) {
      records += "P " + api::encodeRuleFile({lb::StoredRule{c.rule_id, *c.spec}}, /*one_line=*/true) + "\n";
    } else {
      records += "D " + std::to_string(c.rule_id) + "\n";
    }
  }
  FLB_TRY(append(records));
  journal_records_ += batch.size();
  applyChanges(batch, saved_);
  return okStatus();
}

Result<std::vector<lb::StoredRule>> FileRuleStore::load() {
  FLB_ASSIGN_OR_RETURN(auto snapshot, readFileIfExists(path()));
  std::map<uint32_t, lb::StoredRule> state;
  if (snapshot) {
    auto rules = api::parseRuleFile(*snapshot);
    if (!rules) return rules.error().wrap(path());
    for (auto& r : *rules) state[r.rule_id] = std::move(r);
  }
  FLB_ASSIGN_OR_RETURN(auto journal_text, readFileIfExists(journalPath()));
  const std::string journal = journal_text.value_or("");
  size_t line_no = 0, applied = 0;
  for (size_t start = 0; start < journal.size();) {
    const size_t end = journal.find('\n', start);
    ++line_no;
    if (end == std::string::npos) {
      FLB_WARN("lb", "{}: ignoring a torn last record (line {}, never acknowledged)", journalPath(), line_no);
      break;
    }
    const std::string_view line(journal.data() + start, end - start);
    start = end + 1;
    const std::string where = journalPath() + ":" + std::to_string(line_no);
    if (line.size() > 2 && line.substr(0, 2) == "P ") {
      auto rules = api::parseRuleFile(line.substr(2));
      if (!rules) return rules.error().wrap(where);
      for (auto& r : *rules) state[r.rule_id] = std::move(r);
    } else if (line.size() > 2 && line.substr(0, 2) == "D ") {
      state.erase(static_cast<uint32_t>(std::strtoul(std::string(line.substr(2)).c_str(), nullptr, 10)));
    } else {
      return makeError(ErrorCode::kIo, where + ": not a journal record");
    }
    ++applied;
  }
  std::vector<lb::StoredRule> out;
  out.reserve(state.size());
  for (auto& [id, r] : state) out.push_back(r);
  if (applied > 0 || !journal.empty()) {
    FLB_TRY(writeSnapshot(state));
    FLB_TRY(openJournal(true));
    FLB_INFO("lb", "folded {} journal records into {}", applied, path());
  }
  saved_ = std::move(state);
  return out;
}

}  // namespace floatlb::daemon
