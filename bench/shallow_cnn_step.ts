/**
 * One shallow-CNN training step in hlgm, timed: batch of random 1x28x28 images and random
 * labels, `createModel("shallow-cnn")` in train mode (dropout on), forward + cross-entropy +
 * backward + `SGD.step()` (lr 0.01) + `SGD.zeroGrad()` (one fused native call each), each
 * step inside `tidy`. bench/shallow_cnn_step.py is the same step in PyTorch.
 *
 * Prints one JSON object on stdout. Run it in its own process: the shim reads HLGM_MALLOC
 * when it loads, so `HLGM_MALLOC=default deno run -A bench/shallow_cnn_step.ts` measures
 * glibc's default malloc behaviour.
 *
 *   deno run -A bench/shallow_cnn_step.ts [--device cpu|cuda|cuda:N] [--steps 20]
 *     [--warmup 3] [--batch 256] [--threads N]
 *
 * @module
 */

import {
  createModel,
  crossEntropy,
  type Device,
  getNumThreads,
  info,
  manualSeed,
  memory,
  randint,
  randn,
  setDefaultDevice,
  setNumThreads,
  SGD,
  synchronize,
  tidy,
} from "../mod.ts";
import { flag, median, peakRssBytes } from "./util.ts";

/** What one run reports. */
export interface StepResult {
  impl: "hlgm";
  device: string;
  batch: number;
  steps: number;
  warmup: number;
  threads: number;
  malloc: string;
  ms_per_step: number;
  ms_min: number;
  ms_mean: number;
  times_ms: number[];
  peak_rss_bytes: number | null;
  live_tensors_after: number;
  libtorch: string;
  libtorch_lib_dir: string | null;
}

/** Runs the timed loop and returns its numbers. */
export function runShallowCnnStep(opts: {
  device: string;
  steps: number;
  warmup: number;
  batch: number;
  threads?: number;
}): StepResult {
  setDefaultDevice(opts.device); // throws a clear error for an unavailable CUDA device
  if (opts.threads) setNumThreads(opts.threads);
  manualSeed(0);
  const device = opts.device as Device;
  const model = createModel("shallow-cnn", { inChannels: 1, imageSize: 28, device }).train();
  const opt = new SGD(model.parameters(), { lr: 0.01 });
  const x = randn([opts.batch, 1, 28, 28], { device });
  const y = randint(0, 10, [opts.batch], { device });

  const step = () =>
    tidy(() => {
      const loss = crossEntropy(model.forward(x), y);
      loss.backward();
      opt.step();
      opt.zeroGrad();
    });

  const times: number[] = [];
  synchronize();
  for (let i = 0; i < opts.warmup + opts.steps; i++) {
    const t0 = performance.now();
    step();
    synchronize();
    const dt = performance.now() - t0;
    if (i >= opts.warmup) times.push(dt);
  }
  const result: StepResult = {
    impl: "hlgm",
    device: opts.device,
    batch: opts.batch,
    steps: opts.steps,
    warmup: opts.warmup,
    threads: getNumThreads(),
    malloc: Deno.env.get("HLGM_MALLOC") === "default" ? "default" : "hlgm",
    ms_per_step: median(times),
    ms_min: Math.min(...times),
    ms_mean: times.reduce((a, b) => a + b, 0) / times.length,
    times_ms: times.map((t) => Math.round(t * 100) / 100),
    peak_rss_bytes: peakRssBytes(),
    live_tensors_after: 0,
    libtorch: info().libtorchVersion,
    libtorch_lib_dir: info().libtorchLibDir ?? null,
  };
  opt.dispose();
  model.dispose();
  for (const t of [x, y]) t.dispose();
  result.live_tensors_after = memory().liveTensors;
  return result;
}

if (import.meta.main) {
  try {
    const threads = flag(Deno.args, "threads");
    const result = runShallowCnnStep({
      device: flag(Deno.args, "device") ?? "cpu",
      steps: Number(flag(Deno.args, "steps") ?? 20),
      warmup: Number(flag(Deno.args, "warmup") ?? 3),
      batch: Number(flag(Deno.args, "batch") ?? 256),
      threads: threads ? Number(threads) : undefined,
    });
    console.log(JSON.stringify(result));
  } catch (e) {
    console.error(`shallow_cnn_step.ts: ${(e as Error).message}`);
    Deno.exit(1);
  }
}
