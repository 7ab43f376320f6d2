// VIP ownership on the host: the MASTER of an HA instance holds each VIP of that instance as a
// /32 on `lo` (so the kernel answers ARP for it on every interface) and announces it with
// gratuitous ARP; BACKUP, FAULT and STOP release it. NOT_DEFINED (no HA) leaves the host alone.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/net.h"
#include "common/result.h"
#include "ha/ci_state.h"

namespace floatlb::ha {

// The OS operations behind VipManager (netlink + AF_PACKET in production, a fake in tests).
class AddressOps {
 public:
  virtual ~AddressOps() = default;
  virtual Status addLoopbackAddress(Ip4 ip) = 0;  // idempotent
  virtual Status delLoopbackAddress(Ip4 ip) = 0;  // idempotent
  virtual Status announce(Ip4 ip) = 0;            // gratuitous ARP on every up, non-loopback interface
};

class NetlinkAddressOps final : public AddressOps {
 public:
  Status addLoopbackAddress(Ip4 ip) override;
  Status delLoopbackAddress(Ip4 ip) override;
  Status announce(Ip4 ip) override;
};

struct VipBinding {
  Ip4 vip;
  std::string instance;
  auto operator<=>(const VipBinding&) const = default;
};

class VipManager {
 public:
  using VipSource = std::function<std::vector<VipBinding>()>;
  VipManager(AddressOps& ops, const CiStateTable& table, VipSource source, const Clock& clock,
             Duration reannounce = std::chrono::seconds(10));

  // Brings the host in line with the table: claims/releases VIPs, re-announces held VIPs when due.
  // Call on every state change and periodically (new rules add VIPs). Returns VIPs newly claimed.
  std::vector<Ip4> reconcile();
  [[nodiscard]] std::set<Ip4> held() const;

 private:
  AddressOps& ops_;
  const CiStateTable& table_;
  VipSource source_;
  const Clock& clock_;
  Duration reannounce_;
  mutable std::mutex mu_;
  std::map<Ip4, TimePoint> held_;  // VIP -> last announcement
};

}  // namespace floatlb::ha
