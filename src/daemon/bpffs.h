// bpffs at the pin directory: the datapath pins its maps there, so it must be a bpf filesystem.
#pragma once

#include <string>

#include "common/result.h"

namespace floatlb::daemon {

// Makes sure `pin_dir` lies on a bpffs. When it lies under /sys/fs/bpf and nothing is mounted
// there, mounts bpffs at /sys/fs/bpf (as other eBPF daemons do). Otherwise an error that says
// exactly what to run.
Status ensureBpffs(const std::string& pin_dir);

}  // namespace floatlb::daemon
