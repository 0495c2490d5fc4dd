/**
 * The convolution self-check. Some libtorch builds compute wrong convolution gradients through
 * oneDNN (MKL-DNN) on some CPUs, silently: Debian 13's PyTorch 2.6 on AVX-512 machines returns
 * input gradients off by up to 8 or NaN, in PyTorch as here. Once per process, before the first
 * convolution, the library runs a tiny conv2d forward + backward in float32 and compares it with
 * float64 (which oneDNN does not handle). When they disagree it turns oneDNN off for the
 * process and says so in one line on stderr; `HLGM_MKLDNN=0|1` forces it off or on instead.
 *
 * @module
 */

import { check, lib } from "../../ffi/mod.ts";

/** Outcome of the convolution self-check, as `info()` reports it. */
export interface KernelCheck {
  /** libtorch was built with oneDNN. */
  onednnBuilt: boolean;
  /** oneDNN is used for this process now. */
  onednnEnabled: boolean;
  /**
   * How that was decided: "check passed", "check failed: oneDNN turned off",
   * "forced by HLGM_MKLDNN=0|1", or "not built with oneDNN".
   */
  decision: string;
  /** Worst relative error of the float32 convolution against float64 (null when not run). */
  error: number | null;
  /** The same with oneDNN off, when the first check failed. */
  errorWithoutOnednn: number | null;
  /** Milliseconds the check took. */
  ms: number;
}

/**
 * Largest relative error (of the largest float64 magnitude) float32 may show. Correct kernels
 * stay near 1e-6; the fault this guards against gives errors of order 1 or NaN.
 */
export const KERNEL_CHECK_TOLERANCE = 1e-3;

/** Env var forcing oneDNN on (1) or off (0) without running the check. */
export const MKLDNN_ENV = "HLGM_MKLDNN";
/** Env var for tests: `1` makes the float32 result wrong while oneDNN is on, like the real fault. */
export const SIMULATE_FAULT_ENV = "HLGM_SIMULATE_ONEDNN_FAULT";

let outcome: KernelCheck | undefined;

function state(): { built: boolean; enabled: boolean } {
  const out = new Int32Array(2);
  lib.hlgm_mkldnn_state(new Uint8Array(out.buffer));
  return { built: out[0] === 1, enabled: out[1] === 1 };
}

function measure(simulate: boolean): number {
  const out = new Float64Array(1);
  check(
    lib.hlgm_conv_check(simulate ? 1 : 0, new Uint8Array(out.buffer)),
    "convolution self-check",
  );
  return out[0];
}

const within = (e: number) => e <= KERNEL_CHECK_TOLERANCE; // false for NaN

function run(): KernelCheck {
  const start = performance.now();
  const forced = Deno.env.get(MKLDNN_ENV);
  const built = state().built;
  const done = (
    decision: string,
    error: number | null = null,
    errorWithoutOnednn: number | null = null,
  ): KernelCheck => ({
    onednnBuilt: built,
    onednnEnabled: built && state().enabled,
    decision,
    error,
    errorWithoutOnednn,
    ms: performance.now() - start,
  });
  if (forced !== undefined && forced !== "") {
    if (forced !== "0" && forced !== "1") {
      throw new Error(`${MKLDNN_ENV} must be 0 (oneDNN off) or 1 (on), got "${forced}"`);
    }
    lib.hlgm_set_mkldnn_enabled(forced === "1" ? 1 : 0);
    return done(`forced by ${MKLDNN_ENV}=${forced}`);
  }
  if (!built) return done("not built with oneDNN");
  const simulate = Deno.env.get(SIMULATE_FAULT_ENV) === "1";
  const error = measure(simulate);
  if (within(error)) return done("check passed", error);
  lib.hlgm_set_mkldnn_enabled(0);
  const without = measure(simulate);
  if (!within(without)) {
    throw new Error(
      `this libtorch computes wrong convolutions on this machine even with oneDNN off ` +
        `(relative error ${without} against float64, ${error} with oneDNN): refusing to train ` +
        `on them. Try another libtorch build (see the README's "Supported libtorch").`,
    );
  }
  const failed = done("check failed: oneDNN turned off", error, without);
  console.error(
    `hlgm: libtorch's oneDNN convolution disagrees with float64 on this machine (relative error ` +
      `${error.toPrecision(3)}); oneDNN is off for this process (${MKLDNN_ENV}=1 forces it on)`,
  );
  return failed;
}

/**
 * Runs the convolution self-check once per process (later calls return the first outcome).
 * conv2d calls it before its first convolution; `info()` reports it.
 */
export function kernelCheck(): KernelCheck {
  outcome ??= run();
  return outcome;
}
