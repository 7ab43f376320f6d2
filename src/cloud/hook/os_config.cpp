#include "cloud/hook/os_config.h"

#include <ifaddrs.h>
#include <linux/fib_rules.h>
#include <linux/if_packet.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>

#include "common/log.h"
#include "common/netlink.h"

namespace floatlb::cloud {

namespace {

Error sysError(const std::string& what, int err) {
  return makeError(ErrorCode::kIo, what + ": " + std::strerror(err));
}

std::string macText(const unsigned char* a, int len) {
  std::string out;
  char b[4];
  for (int i = 0; i < len; ++i) {
    std::snprintf(b, sizeof b, i ? ":%02x" : "%02x", a[i]);
    out += b;
  }
  return out;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

class NetlinkConfigurator final : public InterfaceConfigurator {
 public:
  NetlinkConfigurator(uint32_t table, uint32_t prio) : table_(table), prio_(prio) {}

  Result<std::string> waitForLink(const std::string& mac, Duration timeout) override {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    auto wait = std::chrono::milliseconds(50);
    for (int i = 0; i < 10000; ++i) {
      if (auto name = findByMac(lower(mac)); !name.empty()) return name;
      if (std::chrono::steady_clock::now() + wait > deadline) break;
      std::this_thread::sleep_for(wait);  // polling the kernel's link list; bounded by the deadline
      wait = std::min(wait * 2, std::chrono::milliseconds(500));
    }
    return makeError(ErrorCode::kTimeout, "no interface with MAC " + mac + " appeared");
  }

  Status configure(const std::string& ifname, const EniOsConfig& c) override {
    const int index = static_cast<int>(::if_nametoindex(ifname.c_str()));
    if (index == 0) return sysError("interface " + ifname, errno);
    {  // link up
      netlink::Request m(RTM_NEWLINK, 0);
      ifinfomsg ifi{};
      ifi.ifi_family = AF_UNSPEC;
      ifi.ifi_index = index;
      ifi.ifi_flags = IFF_UP;
      ifi.ifi_change = IFF_UP;
      m.body(ifi);
      FLB_TRY(m.send("set " + ifname + " up"));
    }
    {  // address/prefix
      netlink::Request m(RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE);
      ifaddrmsg ifa{};
      ifa.ifa_family = AF_INET;
      ifa.ifa_prefixlen = c.subnet.prefixLen();
      ifa.ifa_scope = RT_SCOPE_UNIVERSE;
      ifa.ifa_index = static_cast<uint32_t>(index);
      m.body(ifa);
      m.attrIp(IFA_LOCAL, c.address);
      m.attrIp(IFA_ADDRESS, c.address);
      FLB_TRY(m.send("add " + c.address.str() + " to " + ifname, {EEXIST}));
    }
    FLB_TRY(route(index, c.subnet.network(), c.subnet.prefixLen(), std::nullopt, c.address));
    FLB_TRY(route(index, Ip4(), 0, c.subnet.at(1), c.address));
    std::vector<Ip4> sources = c.sources;
    sources.push_back(c.address);
    for (Ip4 src : sources) FLB_TRY(rule(RTM_NEWRULE, src));
    return okStatus();
  }

  Status release(const std::string& ifname, const EniOsConfig& c) override {
    std::vector<Ip4> sources = c.sources;
    sources.push_back(c.address);
    for (Ip4 src : sources) FLB_TRY(rule(RTM_DELRULE, src));
    const int index = static_cast<int>(::if_nametoindex(ifname.c_str()));
    if (index == 0) return okStatus();  // the link is gone with the ENI
    netlink::Request m(RTM_DELADDR, 0);
    ifaddrmsg ifa{};
    ifa.ifa_family = AF_INET;
    ifa.ifa_prefixlen = c.subnet.prefixLen();
    ifa.ifa_index = static_cast<uint32_t>(index);
    m.body(ifa);
    m.attrIp(IFA_LOCAL, c.address);
    return m.send("remove " + c.address.str() + " from " + ifname, {EADDRNOTAVAIL});
  }

 private:
  static std::string findByMac(const std::string& mac) {
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0) return {};
    std::string found;
    for (auto* p = list; p; p = p->ifa_next) {
      if (!p->ifa_addr || p->ifa_addr->sa_family != AF_PACKET) continue;
      auto* ll = reinterpret_cast<sockaddr_ll*>(p->ifa_addr);
      if (macText(ll->sll_addr, ll->sll_halen) == mac) {
        found = p->ifa_name;
        break;
      }
    }
    ::freeifaddrs(list);
    return found;
  }

  Status route(int index, Ip4 dst, uint8_t len, std::optional<Ip4> gw, Ip4 prefsrc) {
    netlink::Request m(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE);
    rtmsg rt{};
    rt.rtm_family = AF_INET;
    rt.rtm_dst_len = len;
    rt.rtm_table = RT_TABLE_UNSPEC;
    rt.rtm_protocol = RTPROT_STATIC;
    rt.rtm_scope = gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
    rt.rtm_type = RTN_UNICAST;
    m.body(rt);
    if (len > 0) m.attrIp(RTA_DST, dst);
    if (gw) m.attrIp(RTA_GATEWAY, *gw);
    m.attrIp(RTA_PREFSRC, prefsrc);
    m.attrU32(RTA_OIF, static_cast<uint32_t>(index));
    m.attrU32(RTA_TABLE, table_);
    return m.send("route " + (gw ? "default via " + gw->str() : dst.str() + "/" + std::to_string(len)) +
                  " table " + std::to_string(table_));
  }

  Status rule(uint16_t type, Ip4 src) {
    netlink::Request m(type, type == RTM_NEWRULE ? NLM_F_CREATE | NLM_F_EXCL : 0);
    fib_rule_hdr h{};
    h.family = AF_INET;
    h.src_len = 32;
    h.action = FR_ACT_TO_TBL;
    m.body(h);
    m.attrIp(FRA_SRC, src);
    m.attrU32(FRA_TABLE, table_);
    m.attrU32(FRA_PRIORITY, prio_);
    return m.send(std::string(type == RTM_NEWRULE ? "add" : "delete") + " rule from " + src.str(),
                  {type == RTM_NEWRULE ? EEXIST : ENOENT});
  }

  uint32_t table_;
  uint32_t prio_;
};

}  // namespace

std::unique_ptr<InterfaceConfigurator> makeNetlinkConfigurator(uint32_t table, uint32_t rule_priority) {
  return std::make_unique<NetlinkConfigurator>(table, rule_priority);
}

}  // namespace floatlb::cloud
