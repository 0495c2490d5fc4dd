/**
 * Forward + backward of one model in hlgm, timed: `createModel(name)` in train mode, a batch
 * of random images and labels (made once, on the device), each step: clear the gradients
 * (set to none, one native call), forward, cross-entropy, backward to every parameter; no
 * optimizer step; inside `tidy`. bench/model_step.py is the same step in PyTorch.
 *
 * The models and their inputs (as the project's benchmark specifies them):
 * - `shallow-cnn`: 1x28x28, 10 classes;
 * - `resnet18`: 3x32x32 with the CIFAR stem (3x3/1 conv1, no max pool), 10 classes;
 * - `deit-tiny`: 3x32x32 with 4x4 patches, 10 classes.
 *
 * Prints one JSON object on stdout, with the parameter count and every parameter's name and
 * shape (bench/run.ts checks them against PyTorch's).
 *
 *   deno run -A bench/model_step.ts --model shallow-cnn|resnet18|deit-tiny
 *     [--device cpu|cuda|cuda:N] [--steps 5] [--warmup 2] [--batch 64] [--threads N]
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
  type ModelOptions,
  randint,
  randn,
  setDefaultDevice,
  setNumThreads,
  synchronize,
  tidy,
} from "../mod.ts";
import { cpuMs, flag, median, peakRssBytes } from "./util.ts";

/** Each benchmarked model's options and input shape (C, H, W). */
export const MODEL_CONFIGS: Record<string, { options: ModelOptions; input: number[] }> = {
  "shallow-cnn": { options: { numClasses: 10, inChannels: 1, imageSize: 28 }, input: [1, 28, 28] },
  "resnet18": {
    options: { numClasses: 10, inChannels: 3, imageSize: 32, cifarStem: true },
    input: [3, 32, 32],
  },
  "deit-tiny": {
    options: { numClasses: 10, inChannels: 3, imageSize: 32, patchSize: 4 },
    input: [3, 32, 32],
  },
};

/** What one run reports. */
export interface ModelStepResult {
  impl: "hlgm";
  model: string;
  device: string;
  batch: number;
  steps: number;
  warmup: number;
  threads: number;
  ms_per_step: number;
  cpu_ms_per_step: number;
  ms_min: number;
  ms_mean: number;
  times_ms: number[];
  params: number;
  param_shapes: [string, number[]][];
  peak_rss_bytes: number | null;
  live_tensors_after: number;
}

/** Runs the timed loop for `model` and returns its numbers. */
export function runModelStep(opts: {
  model: string;
  device: string;
  steps: number;
  warmup: number;
  batch: number;
  threads?: number;
}): ModelStepResult {
  const config = MODEL_CONFIGS[opts.model];
  if (!config) {
    throw new TypeError(
      `unknown model "${opts.model}"; expected one of ${Object.keys(MODEL_CONFIGS).join(", ")}`,
    );
  }
  setDefaultDevice(opts.device); // throws a clear error for an unavailable CUDA device
  if (opts.threads) setNumThreads(opts.threads);
  manualSeed(0);
  const device = opts.device as Device;
  const model = createModel(opts.model, { ...config.options, device }).train();
  const classes = config.options.numClasses!;
  const x = randn([opts.batch, ...config.input], { device });
  const y = randint(0, classes, [opts.batch], { device });

  const step = () =>
    tidy(() => {
      model.zeroGrad();
      crossEntropy(model.forward(x), y).backward();
    });

  const times: number[] = [];
  const cpuTimes: number[] = [];
  synchronize();
  for (let i = 0; i < opts.warmup + opts.steps; i++) {
    const c0 = cpuMs();
    const t0 = performance.now();
    step();
    synchronize();
    const dt = performance.now() - t0;
    if (i >= opts.warmup) {
      times.push(dt);
      cpuTimes.push(cpuMs() - c0);
    }
  }
  const missing = tidy(() => model.parameters().filter((p) => p.grad === null).length);
  if (missing > 0) throw new Error(`${missing} parameters got no gradient`);
  const result: ModelStepResult = {
    impl: "hlgm",
    model: opts.model,
    device: opts.device,
    batch: opts.batch,
    steps: opts.steps,
    warmup: opts.warmup,
    threads: getNumThreads(),
    ms_per_step: median(times),
    cpu_ms_per_step: median(cpuTimes),
    ms_min: Math.min(...times),
    ms_mean: times.reduce((a, b) => a + b, 0) / times.length,
    times_ms: times.map((t) => Math.round(t * 100) / 100),
    params: model.numParameters(),
    param_shapes: model.namedParameters().map(([name, p]) => [name, [...p.shape]]),
    peak_rss_bytes: peakRssBytes(),
    live_tensors_after: 0,
  };
  model.dispose();
  for (const t of [x, y]) t.dispose();
  result.live_tensors_after = memory().liveTensors;
  return result;
}

if (import.meta.main) {
  try {
    const threads = flag(Deno.args, "threads");
    const result = runModelStep({
      model: flag(Deno.args, "model") ?? "shallow-cnn",
      device: flag(Deno.args, "device") ?? "cpu",
      steps: Number(flag(Deno.args, "steps") ?? 5),
      warmup: Number(flag(Deno.args, "warmup") ?? 2),
      batch: Number(flag(Deno.args, "batch") ?? 64),
      threads: threads ? Number(threads) : undefined,
    });
    console.log(JSON.stringify({ ...result, libtorch: info().libtorchVersion }));
  } catch (e) {
    console.error(`model_step.ts: ${(e as Error).message}`);
    Deno.exit(1);
  }
}
