// FileRuleStore: snapshot + journal. Every save is durable on its own, a new store sees exactly
// what was saved, a torn last record is ignored, and the journal is folded into the snapshot.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "daemon/system_adapters.h"

namespace floatlb::daemon {
namespace {

lb::StoredRule rule(uint32_t id, uint16_t port) {
  lb::StoredRule r;
  r.rule_id = id;
  r.spec.key.external_ip = Ip4::fromOctets(198, 18, 0, 1);
  r.spec.key.port = port;
  r.spec.key.proto = L4Proto::kTcp;
  r.spec.name = "r" + std::to_string(id);
  lb::Endpoint ep;
  ep.ip = Ip4::fromOctets(10, 0, 0, 2);
  ep.target_port = 8080;
  ep.weight = 1;
  r.spec.endpoints.push_back(ep);
  return r;
}

class RuleStoreTest : public ::testing::Test {
 protected:
  std::string dir = (std::filesystem::temp_directory_path() / ("flb-store-" + std::to_string(::getpid()))).string();
  void TearDown() override { std::filesystem::remove_all(dir); }
  std::vector<lb::StoredRule> reload() {
    FileRuleStore fresh(dir);
    auto r = fresh.load();
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? *r : std::vector<lb::StoredRule>{};
  }
  static size_t lines(const std::string& path) {
    std::ifstream in(path);
    size_t n = 0;
    for (std::string l; std::getline(in, l);) ++n;
    return n;
  }
};

TEST_F(RuleStoreTest, EachSaveAppendsOnlyTheChange) {
  FileRuleStore store(dir);
  ASSERT_TRUE(store.load()->empty());
  std::vector<lb::StoredRule> table;
  for (uint32_t i = 1; i <= 50; ++i) {
    table.push_back(rule(i, static_cast<uint16_t>(1000 + i)));
    ASSERT_TRUE(store.save(table).ok());
  }
  EXPECT_EQ(lines(store.journalPath()), 50u);  // one record per create, not the whole table
  table[10].spec.name = "renamed";
  table.erase(table.begin() + 20);
  ASSERT_TRUE(store.save(table).ok());
  EXPECT_EQ(lines(store.journalPath()), 52u);
  ASSERT_TRUE(store.save(table).ok());  // nothing changed: nothing written
  EXPECT_EQ(lines(store.journalPath()), 52u);
  auto back = reload();
  ASSERT_EQ(back.size(), 49u);
  for (size_t i = 0; i < back.size(); ++i) {
    // The codec fills defaults the helper leaves out: compare what the rule is, not every default.
    EXPECT_EQ(back[i].rule_id, table[i].rule_id);
    EXPECT_TRUE(back[i].spec.key == table[i].spec.key) << i;
    EXPECT_EQ(back[i].spec.name, table[i].spec.name);
    EXPECT_TRUE(back[i].spec.endpoints == table[i].spec.endpoints) << i;
  }
  EXPECT_EQ(lines(store.journalPath()), 0u);  // load folded the journal into the snapshot
}

TEST_F(RuleStoreTest, TornLastRecordIsIgnored) {
  {
    FileRuleStore store(dir);
    ASSERT_TRUE(store.load().ok());
    ASSERT_TRUE(store.save({rule(1, 80)}).ok());
  }
  {
    std::ofstream j(dir + "/lbconfig.journal", std::ios::app);
    j << "P {\"version\":1,\"rules\":[{\"ruleId\":2";  // a crash in the middle of an append
  }
  auto back = reload();
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].rule_id, 1u);
}

TEST_F(RuleStoreTest, GarbageInTheMiddleIsAnError) {
  {
    FileRuleStore store(dir);
    ASSERT_TRUE(store.load().ok());
    ASSERT_TRUE(store.save({rule(1, 80)}).ok());
  }
  {
    std::ofstream j(dir + "/lbconfig.journal", std::ios::app);
    j << "X nonsense\n";
  }
  FileRuleStore fresh(dir);
  auto r = fresh.load();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("lbconfig.journal:2"), std::string::npos) << r.error().message;
}

TEST_F(RuleStoreTest, CompactsIntoTheSnapshot) {
  FileRuleStore store(dir);
  ASSERT_TRUE(store.load().ok());
  std::vector<lb::StoredRule> table = {rule(1, 80)};
  for (size_t i = 0; i <= FileRuleStore::kCompactAfter; ++i) {
    table[0].spec.key.port = static_cast<uint16_t>(1 + i % 60000);
    ASSERT_TRUE(store.save(table).ok());
  }
  EXPECT_LT(store.journalRecords(), 2u);
  auto back = reload();
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].spec.key.port, table[0].spec.key.port);
}

}  // namespace
}  // namespace floatlb::daemon
