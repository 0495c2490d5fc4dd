/**
 * Mixed precision: libtorch's own autocast (torch.autocast). Inside a scope, ops that gain from
 * lower precision (convolutions, linear layers, matrix products) run in bfloat16 or float16 with
 * their inputs cast on the fly, and ops that need the range (losses, softmax statistics, norms)
 * run in float32, by libtorch's per-device op lists (AutocastCPU / AutocastCUDA dispatch keys),
 * exactly as in PyTorch. Parameters, their gradients and the optimizer's state stay float32.
 *
 * @module
 */

import { check, lib } from "../../ffi/mod.ts";
import { type DType, dtypeCode, dtypeFromCode } from "./dtype.ts";
import { scoped } from "./engine.ts";

/** The low-precision types autocast runs ops in. */
export type AutocastDType = "bfloat16" | "float16";

/** The device types autocast covers. */
export type AutocastDevice = "cpu" | "cuda";

/** Options of {@link autocast} (torch.autocast's arguments). */
export interface AutocastOptions {
  /** Whose ops are cast: tensors on the CPU or on CUDA devices. */
  deviceType: AutocastDevice;
  /**
   * The low precision (default: bfloat16 on the CPU, float16 on CUDA, as torch.autocast).
   * float16 is refused on the CPU, whose autocast runs bfloat16.
   */
  dtype?: AutocastDType;
  /** Cast inside the scope (default true); false turns autocast off within an outer scope. */
  enabled?: boolean;
  /**
   * Keep each weight's cast for the rest of the scope (default true): a weight used twice in a
   * step (HLGM's masked forward) is cast once. The cache is dropped when the outermost scope ends.
   */
  cacheEnabled?: boolean;
}

/** The autocast state of one device type, as libtorch holds it for this thread. */
export interface AutocastState {
  /** Ops on this device type are cast. */
  enabled: boolean;
  /** The type they are cast to. */
  dtype: DType;
  /** Weight casts are cached. */
  cacheEnabled: boolean;
}

const cudaFlag = (d: AutocastDevice) => {
  if (d !== "cpu" && d !== "cuda") {
    throw new TypeError(`autocast deviceType must be "cpu" or "cuda", got ${JSON.stringify(d)}`);
  }
  return d === "cuda" ? 1 : 0;
};

/** The current autocast state of `deviceType` (torch.is_autocast_enabled and friends). */
export function autocastState(deviceType: AutocastDevice): AutocastState {
  const out = new Int32Array(3);
  check(lib.hlgm_autocast_state(cudaFlag(deviceType), new Uint8Array(out.buffer)), "autocast");
  return { enabled: out[0] === 1, dtype: dtypeFromCode(out[1]), cacheEnabled: out[2] === 1 };
}

/**
 * Runs `fn` with autocast set as `options` say (torch.autocast as a scope), then restores the
 * state it found, also when `fn` throws. Call backward outside the scope, as in PyTorch: the
 * backward ops follow the forward's types. `fn` must be synchronous (the state is per thread
 * and per call, as noGrad's).
 */
export function autocast<T>(options: AutocastOptions, fn: () => T): T {
  const cuda = cudaFlag(options.deviceType);
  const dtype = options.dtype ?? (cuda ? "float16" : "bfloat16");
  if (dtype !== "bfloat16" && dtype !== "float16") {
    throw new TypeError(`autocast dtype must be bfloat16 or float16, got ${JSON.stringify(dtype)}`);
  }
  if (!cuda && dtype === "float16") {
    throw new TypeError("autocast on the CPU runs bfloat16; float16 needs deviceType cuda");
  }
  const before = autocastState(options.deviceType);
  const set = (enter: boolean, s: AutocastState) =>
    check(
      lib.hlgm_autocast_set(
        cuda,
        enter ? 1 : 0,
        s.enabled ? 1 : 0,
        dtypeCode(s.dtype),
        s.cacheEnabled ? 1 : 0,
      ),
      "autocast",
    );
  const wanted = {
    enabled: options.enabled ?? true,
    dtype,
    cacheEnabled: options.cacheEnabled ?? true,
  };
  return scoped(() => set(true, wanted), () => set(false, before), fn, "autocast");
}
