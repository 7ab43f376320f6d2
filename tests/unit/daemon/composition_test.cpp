// The daemon's pure composition pieces: flag post-processing, interface selection, token files,
// the loopback check, the last-node rule, the flag table (CLI11) and the HA view over a real
// CiStateTable (no heartbeat or sync service: those need sockets).
#include "daemon/composition.h"

#include <gtest/gtest.h>

#include "common/clock.h"
#include "daemon/ha_view.h"
#include "daemon/options.h"

namespace floatlb::daemon {
namespace {

TEST(ParsePeers, NoneEmptyAndLists) {
  EXPECT_TRUE(parsePeers("none")->empty());
  EXPECT_TRUE(parsePeers("")->empty());
  auto two = parsePeers("10.0.0.1, 10.0.0.2,");
  ASSERT_TRUE(two.ok()) << two.error().message;
  EXPECT_EQ(*two, (std::vector<Ip4>{Ip4::fromOctets(10, 0, 0, 1), Ip4::fromOctets(10, 0, 0, 2)}));
  auto bad = parsePeers("10.0.0.1,nope");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "--cluster: bad peer address 'nope'");
}

TEST(SelectInterfaces, SkipsLoopbackAndTheBlacklist) {
  auto r = selectInterfaces({"lo", "eth0", "veth12", "eth1"}, "^veth");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, (std::vector<std::string>{"eth0", "eth1"}));
  EXPECT_EQ(selectInterfaces({"lo", "eth0"}, "")->size(), 1u);
  EXPECT_FALSE(selectInterfaces({"eth0"}, "([").ok());
}

TEST(TokenFile, OneTokenPerLine) {
  auto r = parseTokenFile("# operators\nalpha\n\n  beta  \r\n#gamma\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, (std::vector<std::string>{"alpha", "beta"}));
  EXPECT_FALSE(parseTokenFile("").ok());
  EXPECT_FALSE(parseTokenFile("# only a comment\n\n").ok());
}

TEST(Loopback, Hosts) {
  EXPECT_TRUE(isLoopbackHost("127.0.0.1"));
  EXPECT_TRUE(isLoopbackHost("127.1.2.3"));
  EXPECT_TRUE(isLoopbackHost("localhost"));
  EXPECT_TRUE(isLoopbackHost("::1"));
  EXPECT_FALSE(isLoopbackHost("0.0.0.0"));
  EXPECT_FALSE(isLoopbackHost("10.0.0.1"));
  EXPECT_FALSE(isLoopbackHost("128.0.0.1"));
}

TEST(LastNode, MasterWithoutALivePeer) {
  EXPECT_TRUE(isLastNode(ha::CiState::kMaster, false, false));
  EXPECT_TRUE(isLastNode(ha::CiState::kMaster, true, false));
  EXPECT_FALSE(isLastNode(ha::CiState::kMaster, true, true));
  EXPECT_FALSE(isLastNode(ha::CiState::kBackup, false, false));
}

TEST(Options, EveryFlagSpelling) {
  auto o = parseOptions({"--host=127.0.0.1", "--port", "2222", "--interfaces=eth0,,eth1", "--detach-on-exit",
                         "--cluster=10.0.0.2", "--self=1", "--api-token-file", "/t", "--tls-cert=/c",
                         "--tls-key=/k", "--tls-port=8443", "--cloud=aws"});
  ASSERT_TRUE(o.ok()) << o.error().message;
  EXPECT_EQ(o->host, "127.0.0.1");
  EXPECT_EQ(o->port, 2222);
  EXPECT_EQ(o->interfaces, (std::vector<std::string>{"eth0", "eth1"}));
  EXPECT_TRUE(o->detach_on_exit);
  EXPECT_EQ(o->self, 1);
  EXPECT_EQ(o->api_token_file, "/t");
  EXPECT_EQ(o->tls_port, 8443);
  EXPECT_EQ(o->cloud, "aws");
  EXPECT_TRUE(parseOptions({"-h"})->help);
  EXPECT_TRUE(parseOptions({"--version"})->version);
}

TEST(Options, BadInputIsOneReadableLine) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{{"--port=0"},
                                                                                    {"--port=abc"},
                                                                                    {"--self=2"},
                                                                                    {"--cloud=gcp"},
                                                                                    {"--bogus"},
                                                                                    {"stray"},
                                                                                    {"--port"},
                                                                                    {"--tls-cert=/c"},
                                                                                    {"--tls-port=8443"}}) {
    auto o = parseOptions(args);
    ASSERT_FALSE(o.ok()) << args[0];
    EXPECT_EQ(o.error().message.find('\n'), std::string::npos) << o.error().message;
    EXPECT_FALSE(o.error().message.empty());
  }
  EXPECT_NE(usage().find("--api-token-file"), std::string::npos);
}

TEST(HaServices, CountsTakeoversOutOfSync) {
  FakeClock clock;
  ha::CiStateTable table(clock);
  HaServices view(table, nullptr, nullptr);
  ha::CiInstance ci;
  ci.name = "llb-inst0";
  ci.state = ha::CiState::kMaster;
  EXPECT_FALSE(view.noteTransition(ci, ha::CiState::kNotDefined, false));  // first role, not a takeover
  EXPECT_FALSE(view.noteTransition(ci, ha::CiState::kBackup, true));       // in sync
  EXPECT_TRUE(view.noteTransition(ci, ha::CiState::kBackup, false));
  EXPECT_EQ(view.takeoversOutOfSync(), 1u);
  EXPECT_FALSE(view.bfd().has_value());
  EXPECT_FALSE(view.peers().has_value());
  MetricsWriter w;
  view.appendMetrics(w);
  EXPECT_NE(w.str().find("floatlb_ha_takeovers_out_of_sync_total 1"), std::string::npos) << w.str();
}

TEST(HaServices, WithoutHeartbeatTheStateIsStored) {
  FakeClock clock;
  ha::CiStateTable table(clock);
  HaServices view(table, nullptr, nullptr);
  ASSERT_TRUE(view.requestState({"llb-inst0", ha::CiState::kMaster, Ip4()}).ok());
  EXPECT_EQ(table.state("llb-inst0"), ha::CiState::kMaster);
}

}  // namespace
}  // namespace floatlb::daemon
