// CPU tensor memory: large blocks are cached by size class, as PyTorch's CUDA allocator caches
// device memory. Why not glibc: by default it unmaps a large freed block and faults it in again
// on the next step (4 KiB at a time: a step here ran 5x slower); told to keep freed memory
// (M_MMAP_MAX 0, a high trim threshold), it fragments its heap instead: the demo's HLGM step
// peaks at 456 MB of live memory, yet the heap grew to between 0.7 and 3 GB from run to run.
// Here every large block is its own mapping; a freed one waits in its class's list and serves
// the next request of that class (a training step asks for the same sizes every step). A trim
// (the trainer's, at each epoch end) unmaps the blocks that no request took since the last trim.
// Idle blocks never exceed twice the most live bytes since the last trim. Small blocks (under
// 1 MiB) stay with c10's allocator. HLGM_MALLOC=default turns this off.
#include "shim.h"

#include <sys/mman.h>

#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <map>
#include <unordered_map>
#include <vector>

namespace {

constexpr size_t kPage = 4096;
constexpr size_t kLarge = size_t{1} << 20;

// Rounds a large request up to its class: 8 classes per power of two (at most 12.5% more
// address space; pages never touched are never resident, so the rounding costs no memory).
size_t size_class(size_t n) {
  size_t pow = size_t{1} << (63 - __builtin_clzll(n));
  size_t step = std::max(pow / 8, kPage);
  return (n + step - 1) / step * step;
}

// A block: one mapping of its class's size.
struct Block {
  size_t size;  // the class size
};

void unmap_block(void* p, Block b) { munmap(p, b.size); }

struct Cached {
  void* ptr;
  Block block;
  uint64_t generation;  // the trim period in which it was freed
};

struct Cache {
  std::mutex lock;
  std::unordered_map<void*, Block> live;                // block -> its class
  std::map<size_t, std::vector<Cached>> idle;           // class size -> freed blocks
  uint64_t generation = 0;
  int64_t live_bytes = 0, idle_bytes = 0, peak_bytes = 0;
  // the most live bytes since the last trim: the idle blocks kept stay within twice it, so a
  // program that never trims (sib, a report, a library user) holds at most three times its peak
  // (within once, a channels-last step's mix of sizes unmapped and faulted in blocks every step)
  int64_t period_peak = 0;
};

Cache& cache() {
  static Cache* c = new Cache();  // never destroyed: tensors may be freed during exit
  return *c;
}

void unmap_idle(Cache& c, bool all) {
  for (auto it = c.idle.begin(); it != c.idle.end();) {
    auto& blocks = it->second;
    size_t kept = 0;
    for (auto& b : blocks) {
      if (!all && b.generation == c.generation) {
        blocks[kept++] = b;
      } else {
        unmap_block(b.ptr, b.block);
        c.idle_bytes -= static_cast<int64_t>(it->first);
      }
    }
    blocks.resize(kept);
    it = blocks.empty() ? c.idle.erase(it) : std::next(it);
  }
}

// Records a block handed out (the caller holds the lock).
void mark_live(Cache& c, void* p, Block b) {
  size_t size = b.size;
  c.live[p] = b;
  c.live_bytes += static_cast<int64_t>(size);
  c.peak_bytes = std::max(c.peak_bytes, c.live_bytes);
  c.period_peak = std::max(c.period_peak, c.live_bytes);
}

void* take(size_t size) {
  Cache& c = cache();
  {
    std::lock_guard<std::mutex> g(c.lock);
    // the smallest idle block of this class or a larger one up to twice the size: a step's
    // sizes differ from pass to pass (the saliency's, the masked batch's), exact classes alone
    // kept 1.8x the peak live bytes
    auto it = c.idle.lower_bound(size);
    if (it != c.idle.end() && it->first <= 2 * size) {
      Cached b = it->second.back();
      it->second.pop_back();
      if (it->second.empty()) c.idle.erase(it);
      c.idle_bytes -= static_cast<int64_t>(b.block.size);
      mark_live(c, b.ptr, b.block);
      return b.ptr;
    }
  }
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    // the idle blocks of other classes may be what stands in the way
    {
      std::lock_guard<std::mutex> g(c.lock);
      unmap_idle(c, true);
    }
    p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    TORCH_CHECK(p != MAP_FAILED, "CPU out of memory: could not allocate ", size, " bytes (",
                std::strerror(errno), ")");
  }
  std::lock_guard<std::mutex> g(c.lock);
  try {
    mark_live(c, p, Block{size});
  } catch (...) {  // the map could not grow: the block is not handed out
    munmap(p, size);
    throw;
  }
  return p;
}

void give_back(void* p) {
  Cache& c = cache();
  std::lock_guard<std::mutex> g(c.lock);
  auto it = c.live.find(p);
  if (it == c.live.end()) {  // not a large block: c10's own (raw_deleter's callers mix them)
    c10::free_cpu(p);
    return;
  }
  Block b = it->second;
  size_t size = b.size;
  c.live.erase(it);
  c.live_bytes -= static_cast<int64_t>(size);
  if (c.idle_bytes + static_cast<int64_t>(size) > 2 * c.period_peak) {
    unmap_block(p, b);  // idle beyond twice the period's peak: not worth keeping
    return;
  }
  try {
    c.idle[size].push_back({p, b, c.generation});
  } catch (...) {  // a deleter must not throw: give the block back to the system instead
    unmap_block(p, b);
    return;
  }
  c.idle_bytes += static_cast<int64_t>(size);
}

class CachingCpuAllocator final : public c10::Allocator {
 public:
  explicit CachingCpuAllocator(c10::Allocator* fallback) : fallback_(fallback) {}

  HLGM_ALLOCATOR_METHODS(make)

  c10::DeleterFnPtr raw_deleter() const override { return &give_back; }

 private:
  c10::DataPtr make(size_t n) const {
    if (n < kLarge) return fallback_->allocate(n);
    void* p = take(size_class(n));
    return {p, p, &give_back, c10::Device(c10::DeviceType::CPU)};
  }

  c10::Allocator* fallback_;
};

__attribute__((constructor)) void install_caching_allocator() {
  const char* mode = std::getenv("HLGM_MALLOC");
  if (mode != nullptr && std::strcmp(mode, "default") == 0) return;
  // never destroyed: c10 and the storages still hold it while the process exits
  static auto* allocator = new CachingCpuAllocator(c10::GetCPUAllocator());
  c10::SetCPUAllocator(allocator, /*priority=*/1);
}

}  // namespace

// Unmaps the idle blocks: all of them (all 1), or those no request took since the last trim.
HLGM_EXPORT void hlgm_cpu_cache_trim(int32_t all) {
  Cache& c = cache();
  std::lock_guard<std::mutex> g(c.lock);
  unmap_idle(c, all != 0);
  c.generation++;
  c.period_peak = c.live_bytes;
}

// out = [live bytes, idle bytes, peak live bytes since the last reset] of the large blocks;
// reset 1 starts a new peak from the live bytes.
HLGM_EXPORT void hlgm_cpu_cache_stats(int32_t reset, int64_t* out) {
  Cache& c = cache();
  std::lock_guard<std::mutex> g(c.lock);
  out[0] = c.live_bytes;
  out[1] = c.idle_bytes;
  out[2] = c.peak_bytes;
  if (reset) c.peak_bytes = c.live_bytes;
}
