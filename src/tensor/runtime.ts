/**
 * Facts about the loaded libtorch and process-wide settings (threads).
 *
 * @module
 */

import { check, lib, loadLibrary } from "../../ffi/mod.ts";
import { VERSION } from "../version.ts";
import { cudaAvailable, cudaDeviceCount, getDefaultDevice } from "./device.ts";
import { type KernelCheck, kernelCheck } from "./kernel_check.ts";

/** What `info()` reports. */
export interface Info {
  /** hlgm's version. */
  version: string;
  /** libtorch's version (from the library itself). */
  libtorchVersion: string;
  /** Whether CUDA can be used (a CUDA libtorch and at least one GPU). */
  cudaAvailable: boolean;
  /** Number of visible CUDA devices. */
  cudaDeviceCount: number;
  /** libtorch intra-op threads. */
  threads: number;
  /** Path of the loaded shim. */
  shimPath: string;
  /** Where libtorch was found ("LIBTORCH", "pytorch", "system"), when known. */
  libtorchSource?: string;
  /** libtorch's lib folder, when known. */
  libtorchLibDir?: string;
  /** Device used when none is given. */
  defaultDevice: string;
  /** The convolution self-check's outcome: whether oneDNN is used, and why. */
  kernelCheck: KernelCheck;
}

export { VERSION };

/** The libtorch version, CUDA availability, thread count and shim location. */
export function info(): Info {
  const loaded = loadLibrary();
  const versionPtr = lib.hlgm_torch_version();
  return {
    version: VERSION,
    libtorchVersion: versionPtr === null
      ? "unknown"
      : Deno.UnsafePointerView.getCString(versionPtr),
    cudaAvailable: cudaAvailable(),
    cudaDeviceCount: cudaDeviceCount(),
    threads: lib.hlgm_get_num_threads(),
    shimPath: loaded.path,
    libtorchSource: loaded.libtorch?.source,
    libtorchLibDir: loaded.libtorch?.libDir,
    defaultDevice: getDefaultDevice(),
    kernelCheck: kernelCheck(),
  };
}

/** Sets libtorch's intra-op thread count (the default is the number of cores). */
export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(`thread count must be a positive integer, got ${n}`);
  }
  lib.hlgm_set_num_threads(n);
}

/** libtorch's intra-op thread count. */
export function getNumThreads(): number {
  return lib.hlgm_get_num_threads();
}

/** Waits for queued CUDA work on `device` (all devices by default); no-op without CUDA. */
export function synchronize(device = -1): void {
  check(lib.hlgm_cuda_synchronize(device), "synchronize");
}
