// The connection state machine the BPF program runs (bpf/include/floatlb/ct_state.h).
#include "floatlb/ct_state.h"

#include <gtest/gtest.h>

namespace {

constexpr __u8 kFwd = FLB_CT_DIR_FWD;
constexpr __u8 kRev = FLB_CT_DIR_REV;
constexpr __u8 kSyn = FLB_TCPF_SYN, kAck = FLB_TCPF_ACK, kFin = FLB_TCPF_FIN, kRst = FLB_TCPF_RST;

TEST(CtState, InitialStateFromFirstPacket) {
  EXPECT_EQ(flb_tcp_initial(kSyn), FLB_CT_ST_SYN_SENT);
  EXPECT_EQ(flb_tcp_initial(kAck), FLB_CT_ST_EST);  // mid-stream pickup
  EXPECT_EQ(flb_tcp_initial(kSyn | kAck), FLB_CT_ST_EST);
}

TEST(CtState, ThreeWayHandshake) {
  flb_ct_step s = flb_tcp_next(FLB_CT_ST_SYN_SENT, 0, kRev, kSyn | kAck);
  EXPECT_EQ(s.state, FLB_CT_ST_SYN_RECV);
  EXPECT_EQ(s.event, 0);
  s = flb_tcp_next(s.state, s.flags, kFwd, kAck);
  EXPECT_EQ(s.state, FLB_CT_ST_EST);
  EXPECT_EQ(s.event, FLB_EV_CT_EST);
  s = flb_tcp_next(s.state, s.flags, kFwd, kAck);  // data: no change, no event
  EXPECT_EQ(s.state, FLB_CT_ST_EST);
  EXPECT_EQ(s.event, 0);
}

TEST(CtState, SynAckFromClientSideDoesNotAdvance) {
  EXPECT_EQ(flb_tcp_next(FLB_CT_ST_SYN_SENT, 0, kFwd, kSyn | kAck).state, FLB_CT_ST_SYN_SENT);
  EXPECT_EQ(flb_tcp_next(FLB_CT_ST_SYN_RECV, 0, kRev, kAck).state, FLB_CT_ST_SYN_RECV);
}

TEST(CtState, FinFromBothSidesCloses) {
  flb_ct_step s = flb_tcp_next(FLB_CT_ST_EST, 0, kRev, kFin | kAck);
  EXPECT_EQ(s.state, FLB_CT_ST_FIN_WAIT);
  EXPECT_EQ(s.flags, FLB_CT_F_FIN_REV);
  EXPECT_EQ(s.event, 0);
  s = flb_tcp_next(s.state, s.flags, kRev, kFin | kAck);  // retransmitted FIN: still one side
  EXPECT_EQ(s.state, FLB_CT_ST_FIN_WAIT);
  s = flb_tcp_next(s.state, s.flags, kFwd, kFin | kAck);
  EXPECT_EQ(s.state, FLB_CT_ST_TIME_WAIT);
  EXPECT_EQ(s.event, FLB_EV_CT_CLOSED);
  s = flb_tcp_next(s.state, s.flags, kFwd, kAck);
  EXPECT_EQ(s.state, FLB_CT_ST_TIME_WAIT);
  EXPECT_EQ(s.event, 0);
}

TEST(CtState, RstClosesOnceAndKeepsSyncedFlag) {
  flb_ct_step s = flb_tcp_next(FLB_CT_ST_EST, FLB_CT_F_SYNCED, kFwd, kRst);
  EXPECT_EQ(s.state, FLB_CT_ST_CLOSED);
  EXPECT_EQ(s.event, FLB_EV_CT_CLOSED);
  EXPECT_EQ(s.flags, FLB_CT_F_SYNCED);
  EXPECT_EQ(flb_tcp_next(FLB_CT_ST_CLOSED, 0, kRev, kRst).event, 0);
  EXPECT_EQ(flb_tcp_next(FLB_CT_ST_TIME_WAIT, 0, kRev, kRst).event, 0);
}

TEST(CtState, NewSynReopensFinishedTuple) {
  flb_ct_step s = flb_tcp_next(FLB_CT_ST_TIME_WAIT, FLB_CT_F_FIN_FWD | FLB_CT_F_FIN_REV, kFwd, kSyn);
  EXPECT_EQ(s.state, FLB_CT_ST_SYN_SENT);
  EXPECT_EQ(s.flags, 0);
}

TEST(CtState, UdpEstablishedOnFirstReply) {
  EXPECT_EQ(flb_udp_next(FLB_CT_ST_NEW, 0, kFwd).state, FLB_CT_ST_NEW);
  flb_ct_step s = flb_udp_next(FLB_CT_ST_NEW, 0, kRev);
  EXPECT_EQ(s.state, FLB_CT_ST_EST);
  EXPECT_EQ(s.event, FLB_EV_CT_EST);
  EXPECT_EQ(flb_udp_next(FLB_CT_ST_EST, 0, kRev).event, 0);
}

}  // namespace
