#include "dataplane/datapath.h"

namespace floatlb::dataplane {

const char* statName(flb_stat stat) {
  switch (stat) {
    case FLB_STAT_RX:
      return "rx";
    case FLB_STAT_PASS:
      return "pass";
    case FLB_STAT_CT_HIT:
      return "ct_hit";
    case FLB_STAT_NEW_FLOW:
      return "new_flow";
    case FLB_STAT_NO_ENDPOINT:
      return "no_endpoint";
    case FLB_STAT_CT_FULL:
      return "ct_full";
    case FLB_STAT_SNAT_PORT_BUSY:
      return "snat_port_busy";
    case FLB_STAT_FIB_REDIRECT:
      return "fib_redirect";
    case FLB_STAT_FIB_NEIGH:
      return "fib_neigh";
    case FLB_STAT_FIB_KERNEL:
      return "fib_kernel";
    case FLB_STAT_MIDSTREAM_PICKUP:
      return "midstream_pickup";
    case FLB_STAT_FRAGMENT:
      return "fragment";
    case FLB_STAT_EVENT_LOST:
      return "event_lost";
    case FLB_STAT_MAX:
      break;
  }
  return "unknown";
}

}  // namespace floatlb::dataplane
