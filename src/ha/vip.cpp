#include "ha/vip.h"

// <net/if.h> before the linux/ headers: glibc's definitions then suppress the kernel's duplicates.
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <linux/if_packet.h>
#include <linux/rtnetlink.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/log.h"
#include "common/netlink.h"

namespace floatlb::ha {

namespace {

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  [[nodiscard]] int get() const { return fd_; }

 private:
  int fd_;
};

Error sysError(const std::string& what) {
  return makeError(ErrorCode::kIo, what + ": " + std::strerror(errno));
}

// One RTM_NEWADDR/RTM_DELADDR request for ip/32 on lo (idempotent both ways).
Status addrRequest(uint16_t type, Ip4 ip) {
  const bool add = type == RTM_NEWADDR;
  netlink::Request req(type, add ? NLM_F_CREATE | NLM_F_REPLACE : 0);
  ifaddrmsg ifa{};
  ifa.ifa_family = AF_INET;
  ifa.ifa_prefixlen = 32;
  ifa.ifa_scope = RT_SCOPE_HOST;
  ifa.ifa_index = if_nametoindex("lo");
  if (ifa.ifa_index == 0) return sysError("if_nametoindex(lo)");
  req.body(ifa);
  req.attrIp(IFA_LOCAL, ip);
  req.attrIp(IFA_ADDRESS, ip);
  return req.send(std::string(add ? "adding " : "removing ") + ip.str() + "/32 on lo",
                  {add ? EEXIST : EADDRNOTAVAIL});
}

// Gratuitous ARP (request and reply form, as different stacks honour different ones) on one
// interface: sender = target = ip, from the interface's MAC to broadcast.
Status garp(const std::string& ifname, Ip4 ip) {
  Fd fd(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ARP)));
  if (fd.get() < 0) return sysError("packet socket");
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
  if (::ioctl(fd.get(), SIOCGIFHWADDR, &ifr) != 0) return sysError("SIOCGIFHWADDR " + ifname);
  unsigned char mac[6];
  std::memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
  sockaddr_ll dst{};
  dst.sll_family = AF_PACKET;
  dst.sll_ifindex = static_cast<int>(if_nametoindex(ifname.c_str()));
  dst.sll_halen = 6;
  std::memset(dst.sll_addr, 0xff, 6);
  const uint32_t be = ip.networkOrder();
  for (uint16_t op : {uint16_t{ARPOP_REQUEST}, uint16_t{ARPOP_REPLY}}) {
    unsigned char frame[42] = {};
    std::memset(frame, 0xff, 6);
    std::memcpy(frame + 6, mac, 6);
    frame[12] = 0x08;
    frame[13] = 0x06;
    unsigned char* arp = frame + 14;
    arp[0] = 0;
    arp[1] = 1;  // ethernet
    arp[2] = 0x08;
    arp[3] = 0x00;
    arp[4] = 6;
    arp[5] = 4;
    arp[6] = static_cast<unsigned char>(op >> 8);
    arp[7] = static_cast<unsigned char>(op & 0xff);
    std::memcpy(arp + 8, mac, 6);
    std::memcpy(arp + 14, &be, 4);
    std::memset(arp + 18, op == ARPOP_REPLY ? 0xff : 0x00, 6);
    std::memcpy(arp + 24, &be, 4);
    if (::sendto(fd.get(), frame, sizeof frame, 0, reinterpret_cast<sockaddr*>(&dst), sizeof dst) < 0) {
      return sysError("sending gratuitous ARP on " + ifname);
    }
  }
  return okStatus();
}

}  // namespace

Status NetlinkAddressOps::addLoopbackAddress(Ip4 ip) { return addrRequest(RTM_NEWADDR, ip); }
Status NetlinkAddressOps::delLoopbackAddress(Ip4 ip) { return addrRequest(RTM_DELADDR, ip); }

Status NetlinkAddressOps::announce(Ip4 ip) {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return sysError("getifaddrs");
  std::set<std::string> names;
  for (auto* p = list; p; p = p->ifa_next) {
    if (p->ifa_addr && p->ifa_addr->sa_family == AF_INET && (p->ifa_flags & IFF_UP) &&
        !(p->ifa_flags & IFF_LOOPBACK)) {
      names.insert(p->ifa_name);
    }
  }
  ::freeifaddrs(list);
  Status result;
  for (const auto& n : names) {
    if (auto s = garp(n, ip); !s.ok()) result = s;
  }
  return result;
}

VipManager::VipManager(AddressOps& ops, const CiStateTable& table, VipSource source, const Clock& clock,
                       Duration reannounce)
    : ops_(ops), table_(table), source_(std::move(source)), clock_(clock), reannounce_(reannounce) {}

std::vector<Ip4> VipManager::reconcile() {
  std::lock_guard lock(mu_);
  std::set<Ip4> want, release;
  for (const auto& b : source_()) {
    CiState st = table_.state(b.instance);
    if (st == CiState::kMaster)
      want.insert(b.vip);
    else if (st != CiState::kNotDefined)
      release.insert(b.vip);
  }
  std::vector<Ip4> claimed;
  const auto now = clock_.now();
  for (Ip4 vip : want) {
    auto it = held_.find(vip);
    if (it == held_.end()) {
      if (auto s = ops_.addLoopbackAddress(vip); !s.ok()) {
        FLB_ERROR("ha", "claiming VIP {}: {}", vip.str(), s.error().message);
        continue;
      }
      held_[vip] = now;
      claimed.push_back(vip);
      if (auto s = ops_.announce(vip); !s.ok())
        FLB_WARN("ha", "announcing VIP {}: {}", vip.str(), s.error().message);
      FLB_INFO("ha", "claimed VIP {}", vip.str());
    } else if (now - it->second >= reannounce_) {
      it->second = now;
      (void)ops_.announce(vip);
    }
  }
  // A VIP of a non-master instance may still be on lo from an earlier run: remove it (held ones
  // are released just below, once).
  for (Ip4 vip : release) {
    if (!want.count(vip) && !held_.count(vip)) (void)ops_.delLoopbackAddress(vip);
  }
  for (auto it = held_.begin(); it != held_.end();) {
    if (want.count(it->first)) {
      ++it;
      continue;
    }
    if (auto s = ops_.delLoopbackAddress(it->first); !s.ok()) {
      FLB_ERROR("ha", "releasing VIP {}: {}", it->first.str(), s.error().message);
      ++it;
      continue;
    }
    FLB_INFO("ha", "released VIP {}", it->first.str());
    it = held_.erase(it);
  }
  return claimed;
}

std::set<Ip4> VipManager::held() const {
  std::lock_guard lock(mu_);
  std::set<Ip4> out;
  for (const auto& [ip, t] : held_) out.insert(ip);
  return out;
}

}  // namespace floatlb::ha
