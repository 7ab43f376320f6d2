// main() of the bpf tier: needs root (exit 77 = ctest SKIP only when not root) and runs every test inside
// a private network + mount namespace, so tc attachments, veths and bpffs mounts made by the
// tests vanish with the process even if it crashes.
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
  if (geteuid() != 0) {
    std::printf("SKIP: the bpf tier loads eBPF programs and needs root\n");
    return 77;
  }
  if (unshare(CLONE_NEWNET | CLONE_NEWNS) != 0) {  // as root this is a broken machine, not a skip
    std::printf("FAIL: cannot create private namespaces as root: %s\n", std::strerror(errno));
    return 1;
  }
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    std::printf("cannot make / private: %s\n", std::strerror(errno));
    return 1;
  }
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
