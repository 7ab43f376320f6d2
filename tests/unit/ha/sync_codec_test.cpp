#include "ha/sync_codec.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>

using namespace floatlb;
using namespace floatlb::ha;

namespace {
dataplane::CtEntry entry(uint32_t i) {
  dataplane::CtEntry e{};
  e.key.saddr = i;
  e.key.daddr = 0x0a000001;
  e.key.sport = static_cast<uint16_t>(i);
  e.key.dport = 80;
  e.key.proto = 6;
  e.value.nat.daddr = 0x0a000002 + i;
  e.value.state = FLB_CT_ST_EST;
  e.value.timeout_s = 240;
  e.value.packets = i * 3;
  return e;
}
std::vector<SyncMessage> decodeAll(SyncDecoder& d) {
  std::vector<SyncMessage> out;
  for (;;) {
    auto r = d.next();
    EXPECT_TRUE(r.ok()) << r.error().message;
    if (!r.ok() || !r->has_value()) break;
    out.push_back(std::move((*r)->msg));
  }
  return out;
}
}  // namespace

TEST(SyncCodec, RoundTripEveryMessageByteByByte) {
  SyncUpsert up;
  for (uint32_t i = 0; i < 50; ++i) up.entries.push_back(entry(i));
  SyncDelete del{{entry(1).key, entry(2).key}};
  std::vector<SyncMessage> msgs = {
      SyncHello{1, 7, CiState::kMaster}, SyncFullBegin{}, up, SyncFullEnd{50}, del, SyncPing{9}, SyncPong{9}};
  for (std::string key : {"", "k"}) {
    std::string stream;
    for (const auto& m : msgs) stream += encodeSync(m, key);
    SyncDecoder d(key);
    std::vector<SyncMessage> got;
    for (char c : stream) {  // worst case: one byte at a time
      d.feed(std::string_view(&c, 1));
      auto more = decodeAll(d);
      got.insert(got.end(), more.begin(), more.end());
    }
    ASSERT_EQ(got.size(), msgs.size());
    EXPECT_EQ(std::get<SyncHello>(got[0]).epoch, 7u);
    const auto& u = std::get<SyncUpsert>(got[2]);
    ASSERT_EQ(u.entries.size(), 50u);
    EXPECT_EQ(std::memcmp(&u.entries[49], &up.entries[49], sizeof(dataplane::CtEntry)), 0);
    EXPECT_EQ(std::get<SyncFullEnd>(got[3]).count, 50u);
    EXPECT_EQ(std::get<SyncDelete>(got[4]).keys.size(), 2u);
    EXPECT_EQ(std::get<SyncPong>(got[6]).seq, 9u);
    EXPECT_EQ(d.buffered(), 0u);
  }
}

TEST(SyncCodec, CorruptFramesAreRejectedNotCrashed) {
  auto frame = encodeSync(SyncUpsert{{entry(1), entry(2)}}, "");
  {
    SyncDecoder d("");
    auto bad = frame;
    bad[0] = 'x';
    d.feed(bad);
    EXPECT_FALSE(d.next().ok());
  }
  {
    SyncDecoder d("");
    auto bad = frame;
    bad[11] = static_cast<char>(bad[11] + 1);  // length no longer matches the entry count
    bad += "junk";
    d.feed(bad);
    EXPECT_FALSE(d.next().ok());
  }
  {
    SyncDecoder d("");
    auto bad = frame;
    bad[8] = 0x7f;  // absurd payload length
    d.feed(bad);
    EXPECT_FALSE(d.next().ok());
  }
  {
    SyncDecoder d("key");
    auto signed_frame = encodeSync(SyncPing{1}, "key");
    signed_frame[13] ^= 1;
    d.feed(signed_frame);
    EXPECT_EQ(d.next().error().code, ErrorCode::kPermissionDenied);
  }
  {
    SyncDecoder d("key");
    d.feed(encodeSync(SyncPing{1}, ""));
    EXPECT_EQ(d.next().error().code, ErrorCode::kPermissionDenied);
  }
  // Random garbage never crashes and never yields a message with a wrong key.
  std::mt19937 rng(42);
  for (int round = 0; round < 2000; ++round) {
    std::string junk(static_cast<size_t>(rng() % 200), '\0');
    for (auto& c : junk) c = static_cast<char>(rng());
    if (round % 2) junk.replace(0, std::min<size_t>(4, junk.size()), "FLSY");
    SyncDecoder d("");
    d.feed(junk);
    for (int i = 0; i < 4; ++i) {
      auto r = d.next();
      if (!r.ok() || !r->has_value()) break;
    }
  }
  // Truncations of a valid frame only ever ask for more bytes.
  for (size_t n = 0; n < frame.size(); ++n) {
    SyncDecoder d("");
    d.feed(frame.substr(0, n));
    auto r = d.next();
    ASSERT_TRUE(r.ok()) << n;
    EXPECT_FALSE(r->has_value()) << n;
  }
}
