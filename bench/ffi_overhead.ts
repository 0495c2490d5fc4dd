/**
 * FFI overhead per op, in ns:
 * - `noop_ns`: a trivial FFI call (`hlgm_noop(i32) -> i32`), the floor of any call;
 * - `tensor_add_ns`: `a.add(b).dispose()` on 1-element CPU tensors through the Tensor API
 *   (FFI call, handle allocation, Tensor object, scope/registry bookkeeping, free);
 * - `native_add_ns`: the same add + handle allocation + free in a C++ loop
 *   (`hlgm_bench_native_add`);
 * - `overhead_ns` = tensor_add_ns - native_add_ns: what Deno FFI + the JS wrapper add per op.
 *
 * Each figure is the median over `repeats` timed loops of `iterations` ops, after one
 * untimed warmup loop.
 *
 *   deno run -A bench/ffi_overhead.ts [--quick]
 *
 * @module
 */

import { check, lib } from "../ffi/mod.ts";
import { ones } from "../mod.ts";
import { median, round } from "./util.ts";

/** What the FFI benchmark reports (ns per op). */
export interface FfiResult {
  noop_ns: number | null;
  tensor_add_ns: number | null;
  native_add_ns: number | null;
  overhead_ns: number | null;
  iterations: number;
  repeats: number;
}

/** Median over `repeats` runs (after one warmup run) of `run()`, which returns ns per op. */
function medianNs(run: () => number, repeats: number): number {
  run();
  const ns: number[] = [];
  for (let r = 0; r < repeats; r++) ns.push(run());
  return median(ns);
}

/** ns per iteration of a JS loop of `n` iterations, by the JS clock. */
function jsLoop(n: number, body: (i: number) => void): () => number {
  return () => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) body(i);
    return ((performance.now() - t0) * 1e6) / n;
  };
}

/** Runs the three measurements. */
export function measureFfi(quick = false): FfiResult {
  const iterations = quick ? 20_000 : 200_000;
  const repeats = quick ? 3 : 7;

  let sink = 0;
  const noop = medianNs(jsLoop(iterations * 10, (i) => sink += lib.hlgm_noop(i)), repeats);
  if (sink === -1) console.error(sink); // keeps the loop's result alive

  const a = ones([1]);
  const b = ones([1]);
  const tensorAdd = medianNs(jsLoop(iterations, () => a.add(b).dispose()), repeats);
  a.dispose();
  b.dispose();

  const out = new Float64Array(1);
  const outBytes = new Uint8Array(out.buffer);
  const nativeAdd = medianNs(() => {
    check(lib.hlgm_bench_native_add(iterations, outBytes), "bench_native_add");
    return out[0]; // timed by the C++ clock, inside the loop
  }, repeats);

  return {
    noop_ns: round(noop, 1),
    tensor_add_ns: round(tensorAdd, 1),
    native_add_ns: round(nativeAdd, 1),
    overhead_ns: round(tensorAdd - nativeAdd, 1),
    iterations,
    repeats,
  };
}

if (import.meta.main) {
  console.log(JSON.stringify(measureFfi(Deno.args.includes("--quick"))));
}
