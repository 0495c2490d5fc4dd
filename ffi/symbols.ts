/**
 * The shim's symbol table: one entry per exported C function (native/*.cpp), with its C
 * signature. Handles (`Box*`) cross as `usize` bigints; lists and outputs as `buffer`s;
 * every fallible call returns a `char*` error that is null on success.
 *
 * @module
 */

const H = "usize"; // Box* handle (bigint; 0n = null)
const B = "buffer"; // pointer to caller memory (typed array)
const ERR = "pointer"; // char* error or null
const G = "usize"; // DistGroup* process group handle (bigint)

/** Deno FFI description of libhlgm. */
export const symbols = {
  // core.cpp
  hlgm_free: { parameters: [H], result: "void" }, // void (Box*)
  hlgm_free_cstring: { parameters: ["pointer"], result: "void" }, // void (char*)
  hlgm_live_handles: { parameters: [], result: "i64" }, // int64_t ()
  hlgm_live_bytes: { parameters: [], result: "i64" }, // int64_t ()
  hlgm_torch_version: { parameters: [], result: "pointer" }, // const char* ()
  hlgm_cuda_available: { parameters: [], result: "i32" }, // int32_t ()
  hlgm_cuda_device_count: { parameters: [], result: "i32" }, // int32_t ()
  hlgm_set_num_threads: { parameters: ["i32"], result: "void" }, // void (int32_t)
  hlgm_get_num_threads: { parameters: [], result: "i32" }, // int32_t ()
  hlgm_cuda_synchronize: { parameters: ["i32"], result: ERR }, // (int32_t device)
  hlgm_meta: { parameters: [H, B], result: ERR }, // (Box*, int64_t* out)
  // (const void* data, int32_t dtype, const int64_t* shape, int32_t ndim, int32_t device, Box** out)
  hlgm_from_data: { parameters: [B, "i32", B, "i32", "i32", B], result: ERR },
  hlgm_copy_to_host: { parameters: [H, B, "i64"], result: ERR }, // (Box*, void* dst, int64_t nbytes)
  // The same copy run on a Deno worker thread (errors still come back with the call).
  hlgm_copy_to_host_async: {
    name: "hlgm_copy_to_host",
    parameters: [H, B, "i64"],
    result: ERR,
    nonblocking: true,
  },
  hlgm_item: { parameters: [H, B], result: ERR }, // (Box*, double* out)
  // (const int64_t* shape, int32_t ndim, double value, int32_t dtype, int32_t device, Box** out)
  hlgm_full: { parameters: [B, "i32", "f64", "i32", "i32", B], result: ERR },
  // (const int64_t* shape, int32_t ndim, int32_t dtype, int32_t device, Box** out)
  hlgm_empty: { parameters: [B, "i32", "i32", "i32", B], result: ERR },
  // (double start, double end, double step, int32_t dtype, int32_t device, Box** out)
  hlgm_arange: { parameters: ["f64", "f64", "f64", "i32", "i32", B], result: ERR },
  // (int32_t kind, const int64_t* shape, int32_t ndim, double lo, double hi, int32_t dtype,
  //  int32_t device, Box** out)
  hlgm_random: { parameters: ["i32", B, "i32", "f64", "f64", "i32", "i32", B], result: ERR },
  // (Box*, int32_t device, int32_t dtype, int32_t copy, Box** out)
  hlgm_to: { parameters: [H, "i32", "i32", "i32", B], result: ERR },
  hlgm_manual_seed: { parameters: ["f64"], result: ERR }, // (double seed)
  hlgm_get_rng_state: { parameters: ["i32", B], result: ERR }, // (int32_t device, Box** out)
  hlgm_set_rng_state: { parameters: ["i32", H], result: ERR }, // (int32_t device, Box* state)
  hlgm_set_grad_enabled: { parameters: ["i32"], result: "void" }, // void (int32_t)
  hlgm_is_grad_enabled: { parameters: [], result: "i32" }, // int32_t ()
  hlgm_set_requires_grad: { parameters: [H, "i32"], result: ERR }, // (Box*, int32_t)
  hlgm_get_grad: { parameters: [H, B], result: ERR }, // (Box*, Box** out)
  hlgm_set_grad: { parameters: [H, H], result: ERR }, // (Box*, Box* grad_or_null)
  // (Box*, Box* grad_or_null, int32_t retain_graph, int32_t create_graph)
  hlgm_backward: { parameters: [H, H, "i32", "i32"], result: ERR },
  // (Box** outputs, Box** grad_outputs, int32_t n_outputs, Box** inputs, int32_t n_inputs,
  //  int32_t retain_graph, int32_t create_graph, int32_t allow_unused, Box** out)
  hlgm_autograd_grad: {
    parameters: [B, B, "i32", B, "i32", "i32", "i32", "i32", B],
    result: ERR,
  },
  hlgm_detach: { parameters: [H, B], result: ERR }, // (Box*, Box** out)
  hlgm_set_data: { parameters: [H, H], result: ERR }, // (Box* dst, Box* src)
  hlgm_bench_native_add: { parameters: ["i32", B], result: ERR }, // (int32_t n, double* ns)
  hlgm_noop: { parameters: ["i32"], result: "i32" }, // int32_t (int32_t)

  // ops.cpp
  hlgm_unary: { parameters: ["i32", H, B], result: ERR }, // (int32_t op, Box*, Box** out)
  hlgm_unary_: { parameters: ["i32", H], result: ERR }, // (int32_t op, Box*)
  hlgm_binary: { parameters: ["i32", H, H, B], result: ERR }, // (int32_t op, Box*, Box*, Box** out)
  // (int32_t op, Box*, double, Box** out)
  hlgm_binary_scalar: { parameters: ["i32", H, "f64", B], result: ERR },
  hlgm_binary_: { parameters: ["i32", H, H], result: ERR }, // (int32_t op, Box*, Box*)
  hlgm_binary_scalar_: { parameters: ["i32", H, "f64"], result: ERR }, // (int32_t op, Box*, double)
  // (Box* a, Box* b, double alpha, Box** out_or_null)
  hlgm_add_scaled: { parameters: [H, H, "f64", B], result: ERR },
  // (int32_t op, Box* a, Box* b, Box* c, double value)
  hlgm_addc_: { parameters: ["i32", H, H, H, "f64"], result: ERR },
  hlgm_where: { parameters: [H, H, H, B], result: ERR }, // (Box* cond, Box* a, Box* b, Box** out)
  // (Box*, double lo, int32_t has_lo, double hi, int32_t has_hi, Box** out)
  hlgm_clamp: { parameters: [H, "f64", "i32", "f64", "i32", B], result: ERR },
  // (int32_t op, Box*, const int64_t* dims, int32_t ndims, int32_t keepdim, Box** out)
  hlgm_reduce: { parameters: ["i32", H, B, "i32", "i32", B], result: ERR },
  // (int32_t op, Box*, const int64_t* dims, int32_t ndims, int32_t unbiased, int32_t keepdim,
  //  Box** out)
  hlgm_std_var: { parameters: ["i32", H, B, "i32", "i32", "i32", B], result: ERR },
  // (int32_t op, Box*, int32_t dim, int32_t keepdim, Box** out[2])
  hlgm_max_min_dim: { parameters: ["i32", H, "i32", "i32", B], result: ERR },
  // (int32_t op, Box*, int32_t dim, int32_t has_dim, int32_t keepdim, Box** out)
  hlgm_arg_max_min: { parameters: ["i32", H, "i32", "i32", "i32", B], result: ERR },
  // (int32_t op, Box*, const int64_t* sizes, int32_t n, Box** out)
  hlgm_shape_op: { parameters: ["i32", H, B, "i32", B], result: ERR },
  hlgm_transpose: { parameters: [H, "i32", "i32", B], result: ERR }, // (Box*, int32_t, int32_t, Box**)
  hlgm_flatten: { parameters: [H, "i32", "i32", B], result: ERR }, // (Box*, int32_t, int32_t, Box**)
  // (Box*, int32_t dim, int32_t has_dim, Box** out)
  hlgm_squeeze: { parameters: [H, "i32", "i32", B], result: ERR },
  hlgm_unsqueeze: { parameters: [H, "i32", B], result: ERR }, // (Box*, int32_t dim, Box** out)
  // (Box*, int32_t dim, double start, double end, double step, Box** out)
  hlgm_slice: { parameters: [H, "i32", "f64", "f64", "f64", B], result: ERR },
  // (Box*, int32_t dim, double start, double length, Box** out)
  hlgm_narrow: { parameters: [H, "i32", "f64", "f64", B], result: ERR },
  hlgm_select: { parameters: [H, "i32", "f64", B], result: ERR }, // (Box*, int32_t dim, double, Box**)
  // (int32_t op, Box** list, int32_t n, int32_t dim, Box** out)
  hlgm_join: { parameters: ["i32", B, "i32", "i32", B], result: ERR },
  // (Box*, int32_t dim, Box* index, Box** out)
  hlgm_index_select: { parameters: [H, "i32", H, B], result: ERR },
  hlgm_gather: { parameters: [H, "i32", H, B], result: ERR }, // (Box*, int32_t dim, Box* index, Box**)
  // (Box*, int32_t dim, Box* index, Box* src_or_null, double value, Box** out)
  hlgm_scatter: { parameters: [H, "i32", H, H, "f64", B], result: ERR },
  hlgm_masked_fill: { parameters: [H, H, "f64", B], result: ERR }, // (Box*, Box* mask, double, Box**)
  hlgm_masked_select: { parameters: [H, H, B], result: ERR }, // (Box*, Box* mask, Box** out)
  hlgm_one_hot: { parameters: [H, "i32", B], result: ERR }, // (Box*, int32_t classes, Box** out)
  // (Box*, int32_t dim, int32_t descending, int32_t stable, Box** out[2])
  hlgm_sort: { parameters: [H, "i32", "i32", "i32", B], result: ERR },
  // (Box*, int32_t k, int32_t dim, int32_t largest, int32_t sorted, Box** out[2])
  hlgm_topk: { parameters: [H, "i32", "i32", "i32", "i32", B], result: ERR },

  // nn.cpp
  hlgm_linear: { parameters: [H, H, H, B], result: ERR }, // (Box* x, Box* w, Box* b_or_null, Box**)
  // (Box* x, Box* w, Box* b_or_null, const int64_t* geometry[6], int32_t groups, Box** out)
  hlgm_conv2d: { parameters: [H, H, H, B, "i32", B], result: ERR },
  // (Box*, const int64_t* geometry[8], int32_t ceil_mode, Box** out)
  hlgm_max_pool2d: { parameters: [H, B, "i32", B], result: ERR },
  // (Box*, const int64_t* geometry[6], int32_t ceil_mode, int32_t count_include_pad, Box** out)
  hlgm_avg_pool2d: { parameters: [H, B, "i32", "i32", B], result: ERR },
  hlgm_adaptive_avg_pool2d: { parameters: [H, B, B], result: ERR }, // (Box*, const int64_t* size[2], Box**)
  // (Box* x, Box* w, Box* b, Box* running_mean, Box* running_var, int32_t training,
  //  double momentum, double eps, Box** out)
  hlgm_batch_norm: { parameters: [H, H, H, H, H, "i32", "f64", "f64", B], result: ERR },
  // (Box* x, const int64_t* shape, int32_t ndim, Box* w, Box* b, double eps, Box** out)
  hlgm_layer_norm: { parameters: [H, B, "i32", H, H, "f64", B], result: ERR },
  hlgm_dropout: { parameters: [H, "f64", "i32", B], result: ERR }, // (Box*, double p, int32_t train, Box**)
  hlgm_gelu: { parameters: [H, "i32", B], result: ERR }, // (Box*, int32_t tanh, Box** out)
  hlgm_softmax: { parameters: ["i32", H, "i32", B], result: ERR }, // (int32_t op, Box*, int32_t dim, Box**)
  // (Box* x, Box* target, Box* weight, int32_t reduction, int32_t ignore_index,
  //  double label_smoothing, Box** out)
  hlgm_cross_entropy: { parameters: [H, H, H, "i32", "i32", "f64", B], result: ERR },
  // (Box* x, Box* target, Box* weight, int32_t reduction, int32_t ignore_index, Box** out)
  hlgm_nll_loss: { parameters: [H, H, H, "i32", "i32", B], result: ERR },
  // (Box* x, Box* target, int32_t reduction, int32_t log_target, Box** out)
  hlgm_kl_div: { parameters: [H, H, "i32", "i32", B], result: ERR },
  hlgm_mse_loss: { parameters: [H, H, "i32", B], result: ERR }, // (Box*, Box*, int32_t reduction, Box**)
  // (Box*, int32_t mode, const int64_t* size[2], double scale_h, double scale_w,
  //  int32_t align_corners, Box** out)
  hlgm_interpolate: { parameters: [H, "i32", B, "f64", "f64", "i32", B], result: ERR },

  // optim.cpp
  // (Box** params, int32_t n, Box** state[n], double lr, double momentum, double dampening,
  //  double weight_decay, int32_t nesterov, int32_t maximize)
  hlgm_sgd_step: {
    parameters: [B, "i32", B, "f64", "f64", "f64", "f64", "i32", "i32"],
    result: ERR,
  },
  // (Box** params, int32_t n, Box** state[2n], double lr, double rho, double eps,
  //  double weight_decay, int32_t maximize)
  hlgm_adadelta_step: { parameters: [B, "i32", B, "f64", "f64", "f64", "f64", "i32"], result: ERR },
  // (Box** params, int32_t n, Box** state[3n], double* steps[n], double lr, double beta1,
  //  double beta2, double eps, double weight_decay, int32_t decoupled, int32_t amsgrad,
  //  int32_t maximize)
  hlgm_adam_step: {
    parameters: [B, "i32", B, B, "f64", "f64", "f64", "f64", "f64", "i32", "i32", "i32"],
    result: ERR,
  },
  // (Box** params, int32_t n, double max_norm, double norm_type, double* total_norm)
  hlgm_clip_grad_norm: { parameters: [B, "i32", "f64", "f64", B], result: ERR },
  hlgm_zero_grads: { parameters: [B, "i32"], result: ERR }, // (Box** params, int32_t n)

  // masking.cpp
  // (Box* x, Box* saliency, int32_t k, int32_t top, int32_t fill, double value,
  //  int32_t per_channel, Box** out[2])
  hlgm_mask_by_saliency: {
    parameters: [H, H, "i32", "i32", "i32", "f64", "i32", B],
    result: ERR,
  },

  // selfcheck.cpp
  // (int32_t simulate_fault, double* out[1]): worst relative error of float32 conv vs float64
  hlgm_conv_check: { parameters: ["i32", B], result: ERR },
  hlgm_mkldnn_state: { parameters: [B], result: "void" }, // void (int32_t* out[2])
  hlgm_set_mkldnn_enabled: { parameters: ["i32"], result: "void" }, // void (int32_t on)

  // amp.cpp
  hlgm_autocast_state: { parameters: ["i32", B], result: ERR }, // (int32_t cuda, int32_t* out[3])
  // (int32_t cuda, int32_t enter, int32_t enabled, int32_t dtype, int32_t cache_enabled)
  hlgm_autocast_set: { parameters: ["i32", "i32", "i32", "i32", "i32"], result: ERR },
  hlgm_memory_format: { parameters: [H, "i32", B], result: ERR }, // (Box*, int32_t format, Box** out)
  hlgm_is_memory_format: { parameters: [H, "i32", B], result: ERR }, // (Box*, int32_t format, int32_t* out)

  // cpu_cache.cpp
  hlgm_cpu_cache_trim: { parameters: ["i32"], result: "void" }, // void (int32_t all)
  hlgm_cpu_cache_stats: { parameters: ["i32", B], result: "void" }, // void (int32_t reset, int64_t* out[3])

  // distributed.cpp (a process group is an opaque DistGroup*, not a Box: G below)
  hlgm_dist_available: { parameters: [], result: "i32" }, // int32_t (): 1 with c10d + Gloo
  hlgm_dist_nccl_available: { parameters: [], result: "i32" }, // int32_t (): 1 with NCCL too
  hlgm_dist_unavailable_reason: { parameters: [], result: "pointer" }, // const char* ()
  // (const char* master_addr, int32_t port, int32_t rank, int32_t world_size, const char* prefix,
  //  int32_t store_is_client_only, int64_t timeout_ms, int32_t device, DistGroup** out)
  hlgm_dist_init: { parameters: [B, "i32", "i32", "i32", B, "i32", "i64", "i32", B], result: ERR },
  hlgm_dist_destroy: { parameters: [G], result: "void" }, // void (DistGroup*)
  // (int32_t port, int32_t world_size, int64_t timeout_ms, DistStore** out, int32_t* port_out)
  hlgm_dist_store_serve: { parameters: ["i32", "i32", "i64", B, B], result: ERR },
  hlgm_dist_store_destroy: { parameters: [G], result: "void" }, // void (DistStore*)
  // (DistGroup*, Box** tensors, int32_t n, int32_t root)
  hlgm_dist_broadcast: { parameters: [G, B, "i32", "i32"], result: ERR },
  hlgm_dist_all_reduce_sum: { parameters: [G, B, "i32"], result: ERR }, // (DistGroup*, Box**, int32_t n)
  // (DistGroup*, Box** tensors, int32_t n, int64_t bucket_bytes)
  hlgm_dist_all_reduce_mean: { parameters: [G, B, "i32", "i64"], result: ERR },
  hlgm_dist_barrier: { parameters: [G], result: ERR }, // (DistGroup*)
} as const satisfies Deno.ForeignLibraryInterface;

/** The opened library's symbol functions. */
export type Symbols = Deno.DynamicLibrary<typeof symbols>["symbols"];
