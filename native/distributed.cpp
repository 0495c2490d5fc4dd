// Data-parallel collectives over PyTorch's c10d: a TCPStore rendezvous (optionally under a
// PrefixStore), a Gloo process group on the CPU or an NCCL one on CUDA, and the few collectives
// data-parallel training needs: broadcast from a root, all-reduce SUM, and DDP-style bucketed
// gradient averaging (flatten into buckets of at most bucket_bytes, all-reduce each, divide by
// the world size, copy back). DDP's Reducer is not used: its header needs distributed autograd
// headers that Debian's libtorch-dev omits.
//
// native/build.ts defines HLGM_WITH_C10D when libtorch has c10d's headers and Gloo's headers are
// installed (and HLGM_WITH_NCCL for a CUDA libtorch with nccl.h and CUDA's headers); without it
// every entry point is a stub returning NO_C10D, so the shim always builds.
//
// A group is an opaque DistGroup* (not a Box), freed with hlgm_dist_destroy. Collectives block
// the calling thread until every rank took part, an error, or the group's timeout. After a
// failed collective the group is unusable (its peers are out of step): every later call says so.
#include "shim.h"

#include <chrono>
#include <stdexcept>
#include <string>

static const char* const NO_C10D =
    "distributed training needs a libtorch built with distributed support (USE_DISTRIBUTED) and "
    "Gloo's headers (Debian: apt-get install libgloo-dev)";

#if defined(HLGM_WITH_C10D)

#ifndef USE_DISTRIBUTED
#define USE_DISTRIBUTED 1
#endif
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO 1
#endif
#if defined(HLGM_WITH_NCCL) && !defined(USE_C10D_NCCL)
#define USE_C10D_NCCL 1
#endif

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif
#include <torch/cuda.h>

#include <cstdlib>
#include <cstring>

struct DistGroup {
  int rank = 0;
  int world = 1;
  int device = -1;  // -1 cpu (Gloo), N cuda:N (NCCL)
  std::chrono::milliseconds timeout{0};
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> gloo;
#ifdef USE_C10D_NCCL
  c10::intrusive_ptr<c10d::ProcessGroupNCCL> nccl;
#endif
  std::string broken;  // the first collective error; non-empty = unusable
};

// An exception's message; libtorch's without its C++ backtrace.
static std::string message_of(const std::exception& e) {
  const c10::Error* ce = dynamic_cast<const c10::Error*>(&e);
  return ce != nullptr ? ce->what_without_backtrace() : e.what();
}

static std::string where(const DistGroup* g) {
  return "rank " + std::to_string(g->rank) + " of " + std::to_string(g->world);
}

// Calls f with the group's backend (the Gloo or NCCL class; both spell the collectives alike).
template <class F>
static auto with_backend(DistGroup* g, F f) {
#ifdef USE_C10D_NCCL
  if (g->nccl) return f(*g->nccl);
#endif
  return f(*g->gloo);
}

static std::string explain(const std::string& message, const DistGroup* g) {
  auto has = [&](const char* s) { return message.find(s) != std::string::npos; };
  if (has("reset by peer") || has("closed by peer") || has("Broken pipe") || has("Connection closed") ||
      has("Connection refused") || has("EOF")) {
    return " (a peer process exited or its connection broke)";
  }
  if (has("imed out") || has("imeout")) {
    return " (a peer did not take part within the group's timeout of " +
           std::to_string(g->timeout.count()) + " ms)";
  }
  return "";
}

// Runs one collective and waits for it; a failure marks the group unusable.
template <class F>
static void collective(DistGroup* g, F start) {
  if (!g->broken.empty()) {
    throw std::runtime_error(where(g) + ": the process group is unusable after an earlier error (" +
                             g->broken + "); destroy it and start a new one");
  }
  std::string message;
  try {
    c10::intrusive_ptr<c10d::Work> work = start();
    work->wait();
    return;
  } catch (const c10::Error& e) {
    message = e.what_without_backtrace();
  } catch (const std::exception& e) {
    message = e.what();
  }
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  g->broken = message;
  throw std::runtime_error("failed on " + where(g) + ": " + message +
                           explain(message, g));
}

static void check_tensors(DistGroup* g, const std::vector<at::Tensor>& ts) {
  for (size_t i = 0; i < ts.size(); i++) {
    const at::Tensor& t = ts[i];
    std::string which = "tensor " + std::to_string(i);
    if (!t.defined()) throw std::invalid_argument(which + " is undefined");
    if (t.is_sparse()) throw std::invalid_argument(which + " is sparse");
    bool on_cuda = t.is_cuda();
    if (g->device < 0 && on_cuda) {
      throw std::invalid_argument(which + " is on CUDA but the process group was made for the CPU (Gloo)");
    }
    if (g->device >= 0 && (!on_cuda || t.device().index() != g->device)) {
      throw std::invalid_argument(which + " is on " + t.device().str() +
                                  " but the process group was made for cuda:" + std::to_string(g->device));
    }
  }
}

// DDP's bucketing: consecutive tensors of one dtype, at most bucket_bytes per bucket (a bigger
// tensor is a bucket of its own), each bucket flattened into one buffer for `run`, the result
// copied back. A bucket of one contiguous tensor runs on the tensor itself.
template <class F>
static void bucketed(std::vector<at::Tensor>& ts, int64_t bucket_bytes, F run) {
  c10::NoGradGuard no_grad;
  size_t i = 0;
  while (i < ts.size()) {
    size_t j = i + 1;
    int64_t bytes = static_cast<int64_t>(ts[i].nbytes());
    while (j < ts.size() && ts[j].scalar_type() == ts[i].scalar_type() &&
           bytes + static_cast<int64_t>(ts[j].nbytes()) <= bucket_bytes) {
      bytes += static_cast<int64_t>(ts[j].nbytes());
      j++;
    }
    if (j == i + 1 && ts[i].is_contiguous()) {
      run(ts[i]);
    } else {
      std::vector<at::Tensor> parts;
      parts.reserve(j - i);
      for (size_t k = i; k < j; k++) parts.push_back(ts[k].reshape({-1}));
      at::Tensor flat = at::cat(parts);
      run(flat);
      int64_t offset = 0;
      for (size_t k = i; k < j; k++) {
        int64_t n = ts[k].numel();
        ts[k].copy_(flat.narrow(0, offset, n).view(ts[k].sizes()));
        offset += n;
      }
    }
    i = j;
  }
}

static const int64_t WHOLE_LIST = INT64_C(1) << 62;  // one bucket per dtype run

HLGM_EXPORT int32_t hlgm_dist_available() { return 1; }
HLGM_EXPORT int32_t hlgm_dist_nccl_available() {
#ifdef USE_C10D_NCCL
  return 1;
#else
  return 0;
#endif
}

static std::shared_ptr<::gloo::transport::Device> gloo_device(const std::string& master_addr) {
  // As PyTorch does: GLOO_SOCKET_IFNAME picks the interface, else this host's name's address
  // (falling back to the loopback address when it resolves to none). A loopback master means
  // every rank is on this host: bind there, without resolving the host's name.
  const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
  if (ifname != nullptr && ifname[0] != '\0') {
    std::string first(ifname);
    first = first.substr(0, first.find(','));
    return c10d::ProcessGroupGloo::createDeviceForInterface(first);
  }
  if (master_addr.rfind("127.", 0) == 0 || master_addr == "localhost" || master_addr == "::1") {
    return c10d::ProcessGroupGloo::createDeviceForHostname(master_addr);
  }
  return c10d::ProcessGroupGloo::createDefaultDevice();
}

// master_addr:port is the TCPStore; rank 0 serves it unless store_is_client_only (under
// torchrun the agent serves it). A non-empty prefix puts every key under it (PrefixStore).
HLGM_EXPORT char* hlgm_dist_init(const char* master_addr, int32_t port, int32_t rank, int32_t world_size,
                                 const char* prefix, int32_t store_is_client_only, int64_t timeout_ms,
                                 int32_t device, DistGroup** out) {
  PROTECT({
    out[0] = nullptr;
    std::string addr = master_addr == nullptr ? "" : master_addr;
    if (addr.empty()) throw std::invalid_argument("the master address is empty");
    auto bad = [](const std::string& m) { return std::invalid_argument(m); };
    if (port < 1 || port > 65535) throw bad("port " + std::to_string(port) + " is not in 1..65535");
    if (world_size < 1) throw bad("world size " + std::to_string(world_size) + " is not positive");
    if (rank < 0 || rank >= world_size) {
      throw bad("rank " + std::to_string(rank) + " is not in 0.." + std::to_string(world_size - 1));
    }
    if (timeout_ms <= 0) throw bad("timeout " + std::to_string(timeout_ms) + " ms is not positive");
    if (device < -1) throw bad("device code " + std::to_string(device) + " is not -1 (cpu) or a CUDA index");
#ifndef USE_C10D_NCCL
    if (device >= 0) {
      throw std::invalid_argument(
          "a process group on CUDA needs NCCL, and this hlgm shim was built without it (a CUDA libtorch "
          "built with NCCL, plus nccl.h and CUDA's headers when the shim is compiled); use the CPU (Gloo)");
    }
#else
    if (device >= 0 && !torch::cuda::is_available()) {
      throw bad("a process group on cuda:" + std::to_string(device) + " but CUDA is not available");
    }
#endif
    auto g = std::make_unique<DistGroup>();
    g->rank = rank;
    g->world = world_size;
    g->device = device;
    g->timeout = std::chrono::milliseconds(timeout_ms);
    std::string who = where(g.get());

    c10d::TCPStoreOptions so;
    so.port = static_cast<std::uint16_t>(port);
    so.isServer = rank == 0 && store_is_client_only == 0;
    // Every rank counts itself in (as PyTorch's rendezvous does): the server waits for all.
    so.numWorkers = static_cast<std::size_t>(world_size);
    so.waitWorkers = true;
    so.timeout = g->timeout;
    hlgm::use_classic_tcp_store(so, 0);
    try {
      g->store = c10::make_intrusive<c10d::TCPStore>(addr, so);
    } catch (const std::exception& e) {
      std::string m = message_of(e);
      throw std::runtime_error(std::string(so.isServer ? "serving" : "connecting to") +
                               " the rendezvous store at " + addr + ":" + std::to_string(port) + " as " +
                               who + " failed: " + m);
    }
    if (prefix != nullptr && prefix[0] != '\0') {
      g->store = c10::make_intrusive<c10d::PrefixStore>(std::string(prefix), g->store);
    }
    try {
      if (device < 0) {
        auto opts = c10d::ProcessGroupGloo::Options::create(g->timeout);
        opts->devices.push_back(gloo_device(addr));
        g->gloo = c10::make_intrusive<c10d::ProcessGroupGloo>(g->store, rank, world_size, opts);
      } else {
#ifdef USE_C10D_NCCL
        auto opts = c10d::ProcessGroupNCCL::Options::create();
        opts->timeout = g->timeout;
        g->nccl = c10::make_intrusive<c10d::ProcessGroupNCCL>(g->store, rank, world_size, opts);
#endif
      }
    } catch (const std::exception& e) {
      std::string m = message_of(e);
      throw std::runtime_error(std::string("creating the ") + (device < 0 ? "Gloo" : "NCCL") +
                               " process group as " + who + " failed: " + m);
    }
    out[0] = g.release();
  })
}

// A rendezvous store served by a launcher for ranks that all connect as clients (as torchrun's
// agent serves one): port 0 lets the system pick a free port, which the launcher holds from
// then on, so no other process can take it between its choice and the ranks' rendezvous.
struct DistStore {
  c10::intrusive_ptr<c10d::TCPStore> store;
};

// Serves a TCPStore on port (0: any free port; the port bound in port_out[0]) for world_size
// ranks; returns at once (the ranks need not be there yet).
HLGM_EXPORT char* hlgm_dist_store_serve(int32_t port, int32_t world_size, int64_t timeout_ms,
                                        DistStore** out, int32_t* port_out) {
  PROTECT({
    out[0] = nullptr;
    if (port < 0 || port > 65535) throw std::invalid_argument("port " + std::to_string(port) + " is not in 0..65535");
    if (world_size < 1) throw std::invalid_argument("world size " + std::to_string(world_size) + " is not positive");
    if (timeout_ms <= 0) throw std::invalid_argument("timeout " + std::to_string(timeout_ms) + " ms is not positive");
    c10d::TCPStoreOptions so;
    so.port = static_cast<std::uint16_t>(port);
    so.isServer = true;
    so.numWorkers = static_cast<std::size_t>(world_size);
    so.waitWorkers = false;
    so.timeout = std::chrono::milliseconds(timeout_ms);
    hlgm::use_classic_tcp_store(so, 0);
    auto s = std::make_unique<DistStore>();
    try {
      s->store = c10::make_intrusive<c10d::TCPStore>("127.0.0.1", so);
    } catch (const std::exception& e) {
      throw std::runtime_error("serving a rendezvous store on port " + std::to_string(port) +
                               " failed: " + message_of(e));
    }
    port_out[0] = s->store->getPort();
    out[0] = s.release();
  })
}

HLGM_EXPORT void hlgm_dist_store_destroy(DistStore* s) {
  try {
    delete s;
  } catch (...) {
    // nothing more to free
  }
}

HLGM_EXPORT void hlgm_dist_destroy(DistGroup* g) {
  try {
    delete g;
  } catch (...) {
    // a destructor that throws while peers are gone: nothing more to free
  }
}

// Replaces every tensor with the root's (in place); the ranks must pass matching lists.
HLGM_EXPORT char* hlgm_dist_broadcast(DistGroup* g, Box** list, int32_t n, int32_t root) {
  PROTECT({
    if (g == nullptr) throw std::invalid_argument("the process group was destroyed");
    std::vector<at::Tensor> ts = tensors(list, n);
    check_tensors(g, ts);
    if (root < 0 || root >= g->world) {
      throw std::invalid_argument("root " + std::to_string(root) + " is not a rank of 0.." +
                                  std::to_string(g->world - 1));
    }
    // The lists must match across ranks (a mismatch would hang or garble): compare the counts
    // and element totals first, with one small all-reduce (MAX of x and of -x).
    int64_t numel = 0;
    for (const at::Tensor& t : ts) numel += t.numel();
    at::Tensor sig = at::tensor({int64_t{n}, numel, -int64_t{n}, -numel}, at::kLong);
    if (g->device >= 0) sig = sig.to(device_of(g->device));
    collective(g, [&] {
      std::vector<at::Tensor> v{sig};
      c10d::AllreduceOptions o;
      o.reduceOp = c10d::ReduceOp::MAX;
      return with_backend(g, [&](auto& pg) { return pg.allreduce(v, o); });
    });
    sig = sig.cpu();
    const int64_t* s = sig.data_ptr<int64_t>();
    if (s[0] != -s[2] || s[1] != -s[3]) {
      throw std::invalid_argument("the ranks passed different tensor lists (" +
                                  std::to_string(-s[2]) + " to " + std::to_string(s[0]) + " tensors, " +
                                  std::to_string(-s[3]) + " to " + std::to_string(s[1]) +
                                  " elements; this is " + where(g) + " with " + std::to_string(n) + ", " +
                                  std::to_string(numel) + ")");
    }
    bucketed(ts, WHOLE_LIST, [&](at::Tensor& flat) {
      collective(g, [&] {
        std::vector<at::Tensor> v{flat};
        c10d::BroadcastOptions o;
        o.rootRank = root;
        o.rootTensor = 0;
        return with_backend(g, [&](auto& pg) { return pg.broadcast(v, o); });
      });
    });
  })
}

static void all_reduce_sum(DistGroup* g, std::vector<at::Tensor>& ts, int64_t bucket_bytes, bool mean) {
  check_tensors(g, ts);
  bucketed(ts, bucket_bytes, [&](at::Tensor& flat) {
    collective(g, [&] {
      std::vector<at::Tensor> v{flat};
      c10d::AllreduceOptions o;
      o.reduceOp = c10d::ReduceOp::SUM;
      return with_backend(g, [&](auto& pg) { return pg.allreduce(v, o); });
    });
    if (mean) flat.div_(g->world);
  });
}

// Sums every tensor over the ranks, in place (e.g. metric sums).
HLGM_EXPORT char* hlgm_dist_all_reduce_sum(DistGroup* g, Box** list, int32_t n) {
  PROTECT({
    if (g == nullptr) throw std::invalid_argument("the process group was destroyed");
    std::vector<at::Tensor> ts = tensors(list, n);
    all_reduce_sum(g, ts, WHOLE_LIST, false);
  })
}

// Averages gradients over the ranks in place, DDP-style: buckets of at most bucket_bytes.
HLGM_EXPORT char* hlgm_dist_all_reduce_mean(DistGroup* g, Box** list, int32_t n, int64_t bucket_bytes) {
  PROTECT({
    if (g == nullptr) throw std::invalid_argument("the process group was destroyed");
    if (bucket_bytes <= 0) {
      throw std::invalid_argument("bucket size " + std::to_string(bucket_bytes) +
                                  " bytes is not positive");
    }
    std::vector<at::Tensor> ts = tensors(list, n);
    for (const at::Tensor& t : ts) {
      if (t.defined() && !at::isFloatingType(t.scalar_type())) {
        throw std::invalid_argument("gradients must be floating point, got a " +
                                    std::string(c10::toString(t.scalar_type())) + " tensor");
      }
    }
    all_reduce_sum(g, ts, bucket_bytes, true);
  })
}

HLGM_EXPORT char* hlgm_dist_barrier(DistGroup* g) {
  PROTECT({
    if (g == nullptr) throw std::invalid_argument("the process group was destroyed");
    collective(g, [&] {
      c10d::BarrierOptions o;
      if (g->device >= 0) o.device_ids = {static_cast<int64_t>(g->device)};
      return with_backend(g, [&](auto& pg) { return pg.barrier(o); });
    });
  })
}

#else  // no c10d: stubs that say what is missing

struct DistGroup {};

HLGM_EXPORT int32_t hlgm_dist_available() { return 0; }
HLGM_EXPORT int32_t hlgm_dist_nccl_available() { return 0; }
HLGM_EXPORT char* hlgm_dist_init(const char*, int32_t, int32_t, int32_t, const char*, int32_t, int64_t,
                                 int32_t, DistGroup** out) {
  out[0] = nullptr;
  return error_copy(NO_C10D);
}
HLGM_EXPORT void hlgm_dist_destroy(DistGroup* g) { delete g; }
struct DistStore {};
HLGM_EXPORT char* hlgm_dist_store_serve(int32_t, int32_t, int64_t, DistStore** out, int32_t* port_out) {
  out[0] = nullptr;
  port_out[0] = 0;
  return error_copy(NO_C10D);
}
HLGM_EXPORT void hlgm_dist_store_destroy(DistStore* s) { delete s; }
HLGM_EXPORT char* hlgm_dist_broadcast(DistGroup*, Box**, int32_t, int32_t) { return error_copy(NO_C10D); }
HLGM_EXPORT char* hlgm_dist_all_reduce_sum(DistGroup*, Box**, int32_t) { return error_copy(NO_C10D); }
HLGM_EXPORT char* hlgm_dist_all_reduce_mean(DistGroup*, Box**, int32_t, int64_t) {
  return error_copy(NO_C10D);
}
HLGM_EXPORT char* hlgm_dist_barrier(DistGroup*) { return error_copy(NO_C10D); }

#endif

// The message the stubs return, for the TypeScript side's own checks.
HLGM_EXPORT const char* hlgm_dist_unavailable_reason() { return NO_C10D; }
