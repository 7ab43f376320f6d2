// Typed views over libbpf maps: BpfMap<K, V> for plain maps and PerCpuMap<K, V> for PERCPU
// arrays. Every call goes through libbpf's size-checked bpf_map__* functions, so a K/V that does
// not match the map's BTF sizes fails with an Error instead of corrupting memory.
#pragma once

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "common/result.h"

namespace floatlb::dataplane {

inline Error bpfError(const char* what, const char* map, int err) {
  return makeError(ErrorCode::kIo,
                   std::string(what) + " " + (map ? map : "?") + ": " + std::strerror(err < 0 ? -err : err));
}

template <class K, class V>
class BpfMap {
  static_assert(std::is_trivially_copyable_v<K> && std::is_trivially_copyable_v<V>);

 public:
  BpfMap() = default;
  explicit BpfMap(bpf_map* map) : map_(map) {}

  [[nodiscard]] bool valid() const { return map_ != nullptr; }
  [[nodiscard]] const char* name() const { return map_ ? bpf_map__name(map_) : "(none)"; }
  [[nodiscard]] uint32_t maxEntries() const { return bpf_map__max_entries(map_); }

  Status update(const K& key, const V& value, uint64_t flags = BPF_ANY) {
    int rc = bpf_map__update_elem(map_, &key, sizeof(K), &value, sizeof(V), flags);
    if (rc != 0) return bpfError("update", name(), rc);
    return okStatus();
  }

  Result<std::optional<V>> lookup(const K& key) const {
    V value{};
    int rc = bpf_map__lookup_elem(map_, &key, sizeof(K), &value, sizeof(V), 0);
    if (rc == -ENOENT) return std::optional<V>();
    if (rc != 0) return bpfError("lookup", name(), rc);
    return std::optional<V>(value);
  }

  // true if the key existed.
  Result<bool> erase(const K& key) {
    int rc = bpf_map__delete_elem(map_, &key, sizeof(K), 0);
    if (rc == -ENOENT) return false;
    if (rc != 0) return bpfError("delete", name(), rc);
    return true;
  }

  // Calls fn(key, value) for every entry. Iteration is bounded by 2 * max_entries steps (a hash
  // map restarts from its first key when the current one is deleted concurrently).
  template <class F>
  Status forEach(F&& fn) const {
    K key{};
    K next{};
    const K* prev = nullptr;
    const uint64_t limit = 2ull * bpf_map__max_entries(map_) + 1;
    for (uint64_t i = 0; i < limit; ++i) {
      int rc = bpf_map__get_next_key(map_, prev, &next, sizeof(K));
      if (rc == -ENOENT) return okStatus();
      if (rc != 0) return bpfError("get_next_key", name(), rc);
      V value{};
      rc = bpf_map__lookup_elem(map_, &next, sizeof(K), &value, sizeof(V), 0);
      if (rc == 0)
        fn(next, value);
      else if (rc != -ENOENT)
        return bpfError("lookup", name(), rc);
      key = next;
      prev = &key;
    }
    return okStatus();
  }

 private:
  bpf_map* map_ = nullptr;
};

// PERCPU_ARRAY / PERCPU_HASH: one V per possible CPU.
template <class K, class V>
class PerCpuMap {
  static_assert(std::is_trivially_copyable_v<V> && sizeof(V) % 8 == 0, "per-CPU values are 8-byte strided");

 public:
  PerCpuMap() = default;
  explicit PerCpuMap(bpf_map* map) : map_(map), ncpus_(libbpf_num_possible_cpus()) {}

  [[nodiscard]] const char* name() const { return map_ ? bpf_map__name(map_) : "(none)"; }

  Result<std::vector<V>> lookupAll(const K& key) const {
    if (ncpus_ <= 0) return bpfError("num_possible_cpus", name(), ncpus_);
    std::vector<V> values(static_cast<size_t>(ncpus_));
    int rc = bpf_map__lookup_elem(map_, &key, sizeof(K), values.data(), sizeof(V) * values.size(), 0);
    if (rc != 0) return bpfError("lookup", name(), rc);
    return values;
  }

  // Sum over CPUs: add(total, one_cpu_value) is called per CPU, starting from V{}.
  template <class Add>
  Result<V> sum(const K& key, Add&& add) const {
    FLB_ASSIGN_OR_RETURN(auto all, lookupAll(key));
    V total{};
    for (const V& v : all) add(total, v);
    return total;
  }

  Status updateAll(const K& key, const V& value) {
    if (ncpus_ <= 0) return bpfError("num_possible_cpus", name(), ncpus_);
    std::vector<V> values(static_cast<size_t>(ncpus_), value);
    int rc = bpf_map__update_elem(map_, &key, sizeof(K), values.data(), sizeof(V) * values.size(), BPF_ANY);
    if (rc != 0) return bpfError("update", name(), rc);
    return okStatus();
  }

 private:
  bpf_map* map_ = nullptr;
  int ncpus_ = 0;
};

}  // namespace floatlb::dataplane
