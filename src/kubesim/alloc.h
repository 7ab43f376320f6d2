// ClusterIP and NodePort allocators as the API server's: random from the upper band of the range, the
// lower band reserved for static requests, collisions and out-of-range requests reported as 422 messages.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <set>
#include <string>

namespace floatlb::kubesim {

class PortAllocator {
 public:
  PortAllocator(int lo = 30000, int hi = 32767) : lo_(lo), hi_(hi) {}
  // "" on success, else the 422 detail ("provided port is already allocated" / "... not in the valid range
  // ...").
  std::string allocate(int port);
  std::optional<int> allocateNext(std::mt19937_64& rng);
  void release(int port) { used_.erase(port); }
  [[nodiscard]] bool used(int port) const { return used_.count(port) > 0; }
  [[nodiscard]] std::string range() const { return std::to_string(lo_) + "-" + std::to_string(hi_); }

 private:
  int lo_, hi_;
  std::set<int> used_;
};

class IpAllocator {
 public:
  explicit IpAllocator(const std::string& cidr = "10.100.0.0/16");
  [[nodiscard]] bool valid() const { return size_ > 0; }
  // "" on success, else the 422 detail.
  std::string allocate(const std::string& ip);
  std::optional<std::string> allocateNext(std::mt19937_64& rng);
  void release(const std::string& ip);
  [[nodiscard]] std::string nth(uint32_t offset) const;  // base + offset
  [[nodiscard]] const std::string& cidr() const { return cidr_; }

 private:
  std::string cidr_;
  uint32_t base_ = 0, size_ = 0;
  std::set<uint32_t> used_;
};

std::optional<uint32_t> parseIpv4(const std::string& s);
std::string formatIpv4(uint32_t ip);

}  // namespace floatlb::kubesim
