// Replay protection (replay.h): the pure guard, the codecs' stamps, and the two services on
// loopback (127.0.0.1 and 127.0.0.2): a replayed heartbeat and a replayed sync stream are
// rejected and counted, a restarted peer (larger boot epoch) is accepted, and a backup whose
// master is gone still takes over while a recorded heartbeat of that master is replayed to it.
#include "ha/replay.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <thread>

#include "common/file.h"
#include "common/socket.h"
#include "ha/heartbeat.h"
#include "ha/heartbeat_service.h"
#include "ha/sync_codec.h"
#include "ha/sync_service.h"
#include "support/locked_datapath.h"

namespace floatlb::ha {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const Ip4 kNodeA = Ip4::fromOctets(127, 0, 0, 1);
const Ip4 kNodeB = Ip4::fromOctets(127, 0, 0, 2);
const std::string kKey = "replay-test-key";

template <class Pred>
bool waitUntil(Pred pred, milliseconds limit = milliseconds(5000)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return pred();
}

// A free port on loopback (bound to port 0, read back, closed).
uint16_t freePort(int type) {
  auto fd = bindSocket(type, kNodeA, 0, "probe");
  EXPECT_TRUE(fd.ok());
  sockaddr_in sa{};
  socklen_t len = sizeof sa;
  ::getsockname(*fd, reinterpret_cast<sockaddr*>(&sa), &len);
  ::close(*fd);
  return ntohs(sa.sin_port);
}

TEST(ReplayGuardTest, NewerAcceptedOlderAndEqualRejectedRestartAccepted) {
  FakeClock clock;
  ReplayGuard g;
  EXPECT_EQ(g.check({100, 1}, clock.now(), "x").verdict, ReplayGuard::Verdict::kAccepted) << "first message";
  EXPECT_TRUE(g.check({100, 2}, clock.now(), "x").accepted());
  EXPECT_TRUE(g.check({100, 7}, clock.now(), "x").accepted()) << "gaps are fine (lost datagrams)";
  EXPECT_FALSE(g.check({100, 7}, clock.now(), "x").accepted()) << "the same message again";
  EXPECT_FALSE(g.check({100, 3}, clock.now(), "x").accepted()) << "an older one";
  EXPECT_EQ(g.check({200, 1}, clock.now(), "x").verdict, ReplayGuard::Verdict::kRestarted);
  EXPECT_FALSE(g.check({100, 8}, clock.now(), "x").accepted()) << "the previous life's messages are now old";
  EXPECT_TRUE(g.check({200, 2}, clock.now(), "x").accepted());
  EXPECT_EQ(g.rejected(), 3u);
  EXPECT_EQ(g.restarts(), 1u);
  EXPECT_EQ(*g.newest(), (Stamp{200, 2}));
}

TEST(ReplayGuardTest, LogsOncePerBurst) {
  FakeClock clock;
  ReplayGuard g(seconds(5));
  ASSERT_TRUE(g.check({1, 10}, clock.now(), "heartbeat from p").accepted());
  auto first = g.check({1, 5}, clock.now(), "heartbeat from p");
  ASSERT_TRUE(first.log.has_value());
  EXPECT_NE(first.log->find("heartbeat from p"), std::string::npos) << *first.log;
  int logged = 0;
  for (int i = 0; i < 50; ++i) {
    clock.advance(milliseconds(100));
    if (g.check({1, 5}, clock.now(), "heartbeat from p").log) ++logged;
  }
  EXPECT_EQ(logged, 0) << "one line per burst";
  clock.advance(seconds(5));
  auto next = g.check({1, 5}, clock.now(), "heartbeat from p");
  ASSERT_TRUE(next.log.has_value()) << "a quiet gap ends the burst";
  EXPECT_NE(next.log->find("51 in the previous burst"), std::string::npos) << *next.log;
}

TEST(ReplayStampTest, HeartbeatAndSyncFramesCarryTheirStampUnderTheHmac) {
  Heartbeat hb;
  hb.view.role = CiState::kMaster;
  hb.seq = 42;
  hb.boot = 0x1122334455667788ull;
  auto bytes = encodeHeartbeat(hb, kKey);
  auto back = decodeHeartbeat(bytes, kKey);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->stamp(), (Stamp{0x1122334455667788ull, 42}));
  bytes[35] ^= 1;  // boot changed after signing: a replay cannot be dressed up as a restart
  EXPECT_EQ(decodeHeartbeat(bytes, kKey).error().code, ErrorCode::kPermissionDenied);

  auto frame = encodeSync(SyncPing{1}, kKey, SyncStamp{Stamp{7, 9}, true});
  SyncDecoder d(kKey);
  d.feed(frame);
  auto f = d.next();
  ASSERT_TRUE(f.ok() && f->has_value());
  EXPECT_EQ((*f)->stamp.stamp, (Stamp{7, 9}));
  EXPECT_TRUE((*f)->stamp.reply);
  for (size_t at : {6u, 13u, 21u}) {  // reply flag, boot, seq: all signed
    auto bad = frame;
    bad[at] ^= 1;
    SyncDecoder d2(kKey);
    d2.feed(bad);
    EXPECT_FALSE(d2.next().ok()) << at;
  }
}

// ---- HeartbeatService on loopback: node 0 on 127.0.0.1, its "peer" is the test on 127.0.0.2.

class HeartbeatReplayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    port = freePort(SOCK_DGRAM);
    KaConfig cfg;
    cfg.remote = kNodeB;
    cfg.source = kNodeA;
    cfg.port = port;
    cfg.interval_us = 20000;  // detect time 60 ms
    cfg.key = kKey;
    svc = std::make_unique<HeartbeatService>(cfg, 5, "inst0", table, clock);
    auto fd = bindSocket(SOCK_DGRAM, kNodeB, port, "test peer");
    ASSERT_TRUE(fd.ok()) << fd.error().message;
    peer_fd = *fd;
  }
  void TearDown() override {
    svc->stop();
    if (peer_fd >= 0) ::close(peer_fd);
  }
  void send(const std::string& bytes) const {
    auto to = sockAddr(kNodeA, port);
    ASSERT_EQ(::sendto(peer_fd, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to),
              static_cast<ssize_t>(bytes.size()));
  }
  static std::string masterHeartbeat(uint64_t boot, uint64_t seq) {
    Heartbeat hb;
    hb.view = PeerView{1, CiState::kMaster, 3, false};
    hb.interval_us = 20000;
    hb.boot = boot;
    hb.seq = seq;
    return encodeHeartbeat(hb, kKey);
  }
  bool countsReach(uint64_t received, uint64_t replayed) const {
    return waitUntil([&] {
      auto s = svc->stats();
      return s.received >= received && s.replayed >= replayed;
    });
  }

  SteadyClock clock;
  CiStateTable table{clock};
  uint16_t port = 0;
  std::unique_ptr<HeartbeatService> svc;
  int peer_fd = -1;
};

TEST_F(HeartbeatReplayTest, ReplayedRejectedAndCountedRestartedPeerAccepted) {
  ASSERT_TRUE(svc->start().ok());
  // The service's own heartbeats arrive at the test's socket, stamped with its boot epoch.
  pollfd p{peer_fd, POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 2000), 1);
  char buf[128];
  ssize_t n = ::recv(peer_fd, buf, sizeof buf, 0);
  auto own = decodeHeartbeat(std::string_view(buf, static_cast<size_t>(n)), kKey);
  ASSERT_TRUE(own.ok()) << own.error().message;
  EXPECT_EQ(own->boot, processBootEpoch());
  EXPECT_GE(own->seq, 1u);

  const uint64_t boot = 1'000'000;
  const auto first = masterHeartbeat(boot, 1);
  send(first);
  ASSERT_TRUE(countsReach(1, 0));
  send(first);  // replayed
  ASSERT_TRUE(countsReach(1, 1));
  send(masterHeartbeat(boot, 2));
  ASSERT_TRUE(countsReach(2, 1));
  send(masterHeartbeat(boot - 1, 100));  // an older life of the peer
  ASSERT_TRUE(countsReach(2, 2));
  send(masterHeartbeat(boot + 1, 1));  // the peer restarted: sequence starts over
  ASSERT_TRUE(countsReach(3, 2));
  auto s = svc->stats();
  EXPECT_EQ(s.received, 3u);
  EXPECT_EQ(s.replayed, 2u);
  EXPECT_EQ(s.peer_restarts, 1u);
  EXPECT_EQ(s.rejected, 0u) << "replays are authentic: counted apart from undecodable packets";

  MetricsWriter w;
  svc->appendMetrics(w);
  EXPECT_NE(w.str().find("floatlb_ha_heartbeats_replayed_total 2\n"), std::string::npos) << w.str();
  EXPECT_NE(w.str().find("# TYPE floatlb_ha_heartbeats_replayed_total counter"), std::string::npos);
}

TEST_F(HeartbeatReplayTest, BackupTakesOverWhileTheDeadMastersHeartbeatIsReplayed) {
  ASSERT_TRUE(svc->start().ok());
  const auto recorded = masterHeartbeat(2'000'000, 1);
  send(recorded);
  ASSERT_TRUE(waitUntil([&] { return table.state("inst0") == CiState::kBackup; }))
      << "hearing a MASTER makes a starting node BACKUP";
  // The master is gone; an attacker replays its heartbeat every 10 ms (twice the rate it was sent).
  bool took_over = false;
  const auto deadline = std::chrono::steady_clock::now() + seconds(3);
  while (!took_over && std::chrono::steady_clock::now() < deadline) {
    send(recorded);
    std::this_thread::sleep_for(milliseconds(10));  // the attacker's send rate, not a wait
    took_over = table.state("inst0") == CiState::kMaster;
  }
  EXPECT_TRUE(took_over) << "replays held the backup off";
  EXPECT_GE(svc->stats().replayed, 5u);
}

// The HA epoch survives a restart through KaConfig::epoch_file (written before a transition is
// published), so a restarted node resumes from the highest term it knew.
TEST(HeartbeatEpochFile, ResumesFromTheSavedEpochAndSavesTheNextTerm) {
  char dir_tmpl[] = "/tmp/flb-epoch-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_tmpl), nullptr);
  const std::string dir = dir_tmpl;
  const std::string file = dir + "/ha.epoch";
  ASSERT_TRUE(writeFileAtomic(file, "7\n").ok());
  SteadyClock clock;
  CiStateTable table{clock};
  KaConfig cfg;
  cfg.remote = kNodeB;
  cfg.source = kNodeA;
  cfg.port = freePort(SOCK_DGRAM);
  cfg.interval_us = 20000;  // startup hold 100 ms
  cfg.key = kKey;
  cfg.epoch_file = file;
  {
    HeartbeatService svc(cfg, 5, "inst0", table, clock);
    EXPECT_EQ(svc.stats().epoch, 7u) << "resumed before the first heartbeat goes out";
    ASSERT_TRUE(svc.start().ok());
    ASSERT_TRUE(waitUntil([&] { return table.state("inst0") == CiState::kMaster; })) << "lone node";
    EXPECT_EQ(svc.stats().epoch, 8u);
    auto saved = readFileIfExists(file);
    ASSERT_TRUE(saved.ok() && saved->has_value());
    EXPECT_EQ(**saved, "8\n") << "the new term is on disk by the time it is published";
    svc.stop();
  }
  ASSERT_TRUE(writeFileAtomic(file, "garbage").ok());
  HeartbeatService fresh(cfg, 5, "inst1", table, clock);
  EXPECT_EQ(fresh.stats().epoch, 0u) << "an unreadable epoch file is ignored (logged), never fatal";
  std::filesystem::remove_all(dir);
}

// ---- SyncService on loopback: the BACKUP listens on 127.0.0.2; the test is the master (127.0.0.1).

class SyncReplayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    port = freePort(SOCK_STREAM);
    svc_key.vip = Ip4::fromOctets(198, 18, 0, 10).networkOrder();
    svc_key.port = htons(80);
    svc_key.proto = IPPROTO_TCP;
    flb_svc s{};
    s.rule_id = 4;
    ASSERT_TRUE(dp.upsertService(svc_key, s).ok());
    ASSERT_TRUE(table.set("inst0", CiState::kBackup, Ip4()).ok());
    SyncConfig cfg;
    cfg.peers = {kNodeA};
    cfg.node_id = 1;
    cfg.port = port;
    cfg.listen = kNodeB;
    cfg.key = kKey;
    svc = std::make_unique<SyncService>(cfg, dp, table, "inst0", clock);
    ASSERT_TRUE(svc->start().ok());
  }
  void TearDown() override { svc->stop(); }

  dataplane::CtEntry entry(uint32_t i) const {
    dataplane::CtEntry e{};
    e.key.saddr = i;
    e.key.daddr = svc_key.vip;
    e.key.sport = static_cast<uint16_t>(i);
    e.key.dport = svc_key.port;
    e.key.proto = IPPROTO_TCP;
    e.value.state = FLB_CT_ST_EST;
    e.value.svc = svc_key;
    return e;
  }
  // A master's connection: HELLO, a full sync of `e`, all stamped (boot, 1..4).
  std::string fullSyncStream(uint64_t boot, const dataplane::CtEntry& e) const {
    std::string out;
    uint64_t seq = 0;
    for (const SyncMessage& m : std::vector<SyncMessage>{SyncHello{7, 0, CiState::kMaster}, SyncFullBegin{},
                                                         SyncUpsert{{e}}, SyncFullEnd{1}}) {
      out += encodeSync(m, kKey, SyncStamp{Stamp{boot, ++seq}, false});
    }
    return out;
  }
  // Connects from 127.0.0.1 (the configured peer), sends `bytes`, and keeps the connection
  // open until `done` holds (the service has acted on it), then closes.
  template <class Pred>
  bool sendStream(const std::string& bytes, Pred done) const {
    auto fd = bindSocket(SOCK_STREAM, kNodeA, 0, "test master");
    if (!fd.ok()) return false;
    auto to = sockAddr(kNodeB, port);
    bool ok = ::connect(*fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0 &&
              ::send(*fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
    ok = ok && waitUntil(done);
    ::close(*fd);
    return ok;
  }
  SyncPeerStats peerStats() const { return svc->stats().at(0); }
  bool holds(const dataplane::CtEntry& e) {
    return dp.lookupConntrack(e.key).valueOr(std::nullopt).has_value();
  }

  SteadyClock clock;
  CiStateTable table{clock};
  testing::LockedDatapath dp;
  flb_svc_key svc_key{};
  uint16_t port = 0;
  std::unique_ptr<SyncService> svc;
};

TEST_F(SyncReplayTest, ReplayedStreamRejectedAndCountedRestartedPeerAccepted) {
  const auto a = entry(1);
  const auto recorded = fullSyncStream(5'000, a);
  ASSERT_TRUE(sendStream(recorded, [&] { return peerStats().in_sync; }));
  EXPECT_TRUE(holds(a));
  EXPECT_EQ(peerStats().entries_received, 1u);

  // The connection went away and the entry was deleted since (the master closed it). The
  // recorded stream, replayed on a new connection, must not bring it back.
  ASSERT_TRUE(waitUntil([&] { return !peerStats().receiving; }));
  ASSERT_TRUE(dp.deleteConntrack(a.key).ok());
  ASSERT_TRUE(sendStream(recorded, [&] { return peerStats().replays_rejected >= 1; }));
  EXPECT_FALSE(holds(a)) << "a replayed full sync reinstalled a closed connection";
  EXPECT_EQ(peerStats().entries_received, 1u);
  EXPECT_FALSE(peerStats().in_sync);

  // The master restarted: a larger boot epoch, its sequence starts over at 1.
  const auto b = entry(2);
  ASSERT_TRUE(sendStream(fullSyncStream(6'000, b), [&] { return peerStats().in_sync; }));
  EXPECT_TRUE(holds(b));
  EXPECT_EQ(peerStats().entries_received, 2u);
  EXPECT_EQ(peerStats().replays_rejected, 1u) << "the replayed connection is dropped at its first frame";

  MetricsWriter w;
  svc->appendMetrics(w);
  EXPECT_NE(w.str().find("floatlb_sync_replays_rejected_total{peer=\"127.0.0.1\"} 1\n"), std::string::npos)
      << w.str();
}

TEST_F(SyncReplayTest, AReplyFrameOnADataConnectionIsRefused) {
  // A PONG the backup once sent (reply direction) cannot be fed back to it as data.
  std::string bytes = encodeSync(SyncHello{7, 0, CiState::kMaster}, kKey, SyncStamp{Stamp{9'000, 1}, true});
  ASSERT_TRUE(sendStream(bytes, [&] { return true; }));
  ASSERT_TRUE(sendStream(fullSyncStream(9'000, entry(3)), [&] { return peerStats().in_sync; }))
      << "the refused frame did not advance the peer's stamp";
  EXPECT_EQ(peerStats().replays_rejected, 0u);
}

// The master reconnects after every failover: each inbound connection's receiver thread is
// joined when it ends, so a long-lived BACKUP does not accumulate finished threads (a soak of 60
// failovers grew RSS by ~20 kB per failover before this).
TEST_F(SyncReplayTest, ReceiverThreadsAreReapedAfterReconnects) {
  for (uint64_t boot = 1; boot <= 20; ++boot) {
    const auto e = entry(static_cast<uint32_t>(boot));
    ASSERT_TRUE(sendStream(fullSyncStream(10'000 + boot, e), [&] { return holds(e); })) << boot;
  }
  EXPECT_TRUE(waitUntil([&] { return svc->receiverThreads() == 0; }))
      << svc->receiverThreads() << " receiver threads left after 20 closed connections";
}

}  // namespace
}  // namespace floatlb::ha
