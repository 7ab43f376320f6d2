#include "ha/heartbeat.h"

#include <gtest/gtest.h>

using namespace floatlb;
using namespace floatlb::ha;

TEST(Heartbeat, RoundTripPlainAndAuthenticated) {
  Heartbeat hb;
  hb.view = PeerView{7, CiState::kMaster, 0x0102030405060708ull, true};
  hb.interval_us = 50000;
  hb.multiplier = 4;
  hb.seq = 99;
  for (std::string key : {"", "s3cret"}) {
    auto bytes = encodeHeartbeat(hb, key);
    EXPECT_EQ(bytes.size(), key.empty() ? kHeartbeatSize : kHeartbeatAuthSize);
    auto back = decodeHeartbeat(bytes, key);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(back->view.node_id, 7u);
    EXPECT_EQ(back->view.role, CiState::kMaster);
    EXPECT_EQ(back->view.epoch, 0x0102030405060708ull);
    EXPECT_TRUE(back->view.yielding);
    EXPECT_EQ(back->interval_us, 50000u);
    EXPECT_EQ(back->multiplier, 4);
    EXPECT_EQ(back->seq, 99u);
  }
}

TEST(Heartbeat, RejectsTruncatedCorruptAndForged) {
  Heartbeat hb;
  hb.view.role = CiState::kBackup;
  auto plain = encodeHeartbeat(hb, "");
  auto signed_ = encodeHeartbeat(hb, "k1");
  EXPECT_FALSE(decodeHeartbeat(plain.substr(0, 31), "").ok());
  EXPECT_FALSE(decodeHeartbeat("", "").ok());
  auto bad_magic = plain;
  bad_magic[0] = 'X';
  EXPECT_FALSE(decodeHeartbeat(bad_magic, "").ok());
  auto bad_role = plain;
  bad_role[6] = 9;
  EXPECT_FALSE(decodeHeartbeat(bad_role, "").ok());
  EXPECT_EQ(decodeHeartbeat(signed_, "k2").error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(decodeHeartbeat(plain, "k1").error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(decodeHeartbeat(signed_, "").error().code, ErrorCode::kPermissionDenied);
  auto tampered = signed_;
  tampered[16] ^= 1;  // epoch changed after signing
  EXPECT_FALSE(decodeHeartbeat(tampered, "k1").ok());
  // Every truncation of a valid packet fails cleanly.
  for (size_t n = 0; n < signed_.size(); ++n)
    EXPECT_FALSE(decodeHeartbeat(signed_.substr(0, n), "k1").ok()) << n;
}
