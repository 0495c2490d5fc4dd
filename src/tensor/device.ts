/**
 * Device names: "cpu", "cuda", "cuda:N" and "auto" (CUDA when this libtorch has it and a GPU
 * is present, else CPU).
 *
 * @module
 */

import { lib } from "../../ffi/mod.ts";
import { SettingError } from "../util/vocabulary.ts";

/** A device name as accepted by hlgm. */
export type Device = "auto" | "cpu" | "cuda" | `cuda:${number}`;

/** Whether the loaded libtorch can use CUDA and sees at least one GPU. */
export function cudaAvailable(): boolean {
  return lib.hlgm_cuda_available() === 1 && lib.hlgm_cuda_device_count() > 0;
}

/** Number of CUDA devices the loaded libtorch sees (0 for a CPU-only build). */
export function cudaDeviceCount(): number {
  return lib.hlgm_cuda_available() === 1 ? lib.hlgm_cuda_device_count() : 0;
}

let defaultDevice = -1;

/**
 * Parses a device name into the shim's code (-1 cpu, N cuda:N), checking that it exists.
 * Throws a clear error for unknown names or CUDA devices this libtorch cannot reach.
 */
export function deviceCode(device: Device | string): number {
  if (device === "cpu") return -1;
  if (device === "auto") return cudaAvailable() ? 0 : -1;
  const m = /^cuda(?::(\d+))?$/.exec(device);
  if (!m) {
    throw new TypeError(`unknown device "${device}"; expected "auto", "cpu", "cuda" or "cuda:N"`);
  }
  const index = m[1] === undefined ? 0 : Number(m[1]);
  const count = cudaDeviceCount();
  if (count === 0) {
    throw new SettingError(
      ["device"],
      (v) =>
        `device ${device} requested, but the loaded libtorch has no CUDA or sees no GPU; ` +
        `use ${v.settingValue("device", "cpu")}, or build against a CUDA libtorch ` +
        "(README: Using a CUDA libtorch)",
    );
  }
  if (index >= count) {
    throw new Error(`device ${device} requested, but only ${count} CUDA device(s) are visible`);
  }
  return index;
}

/** The device name for a shim code. */
export function deviceName(code: number): "cpu" | `cuda:${number}` {
  return code < 0 ? "cpu" : `cuda:${code}`;
}

/** Sets the device that creation functions use when no device is given (default "cpu"). */
export function setDefaultDevice(device: Device | string): void {
  defaultDevice = deviceCode(device);
}

/** The device creation functions use when none is given. */
export function getDefaultDevice(): "cpu" | `cuda:${number}` {
  return deviceName(defaultDevice);
}

/** Shim code of the default device. */
export function defaultDeviceCode(): number {
  return defaultDevice;
}
