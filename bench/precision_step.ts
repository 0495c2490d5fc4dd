/**
 * One training step of the trainer (`trainStep`, src/train/steps.ts) in a chosen precision and
 * layout, timed: the shallow CNN (3x32x32, batch 256, Adadelta lr 1.0) or the CIFAR-stem
 * ResNet-18 (3x32x32, batch 64, SGD lr 0.01 momentum 0.9), random images and labels made once,
 * on the device. `--step plain` is a baseline step (forward, cross-entropy, backward, update);
 * `--step masked` is HLGM's denoise step (saliency of the true label in eval mode, the 50% least
 * salient pixels filled at random, CE + KL through both forwards). bench/precision_step.py is
 * the same step in PyTorch.
 *
 *   deno run -A bench/precision_step.ts --model shallow-cnn|resnet18 [--step plain|masked]
 *     [--precision fp32|bf16-mixed|fp16-mixed] [--channels-last] [--device cpu|cuda]
 *     [--steps 5] [--warmup 2] [--batch N] [--threads N]
 *
 * Prints one JSON object on stdout.
 *
 * @module
 */

import {
  Adadelta,
  createModel,
  type Device,
  getNumThreads,
  info,
  manualSeed,
  randint,
  randn,
  Saliency,
  setDefaultDevice,
  setNumThreads,
  SGD,
  synchronize,
} from "../mod.ts";
import { type EpochPlan, stepPrecision, trainStep } from "../src/train/mod.ts";
import type { TrainConfig } from "../src/train/config.ts";
import { cpuMs, flag, median, peakRssBytes } from "./util.ts";

/** The benchmarked models: options, batch and optimizer (the paper's Table I choices). */
export const PRECISION_MODELS = {
  "shallow-cnn": { batch: 256, options: { inChannels: 3, imageSize: 32, numClasses: 10 } },
  "resnet18": {
    batch: 64,
    options: { inChannels: 3, imageSize: 32, numClasses: 10, cifarStem: true },
  },
} as const;

/** The plans of the two steps. */
export const STEP_PLANS: Record<"plain" | "masked", EpochPlan> = {
  plain: { phase: "train", mode: "plain", k: null, de: null, episode: null },
  masked: { phase: "sgt", mode: "denoise", k: 0.5, de: 1, episode: 0 },
};

if (import.meta.main) {
  try {
    const args = Deno.args;
    const name = (flag(args, "model") ?? "shallow-cnn") as keyof typeof PRECISION_MODELS;
    const spec = PRECISION_MODELS[name];
    if (!spec) throw new TypeError(`unknown model "${name}"`);
    const stepName = (flag(args, "step") ?? "plain") as "plain" | "masked";
    const plan = STEP_PLANS[stepName];
    if (!plan) throw new TypeError(`unknown step "${stepName}" (plain or masked)`);
    const precisionName = (flag(args, "precision") ?? "fp32") as NonNullable<
      TrainConfig["precision"]
    >;
    const channelsLast = args.includes("--channels-last");
    const device = (flag(args, "device") ?? "cpu") as Device;
    const steps = Number(flag(args, "steps") ?? 5);
    const warmup = Number(flag(args, "warmup") ?? 2);
    const batch = Number(flag(args, "batch") ?? spec.batch);
    const threads = flag(args, "threads");
    setDefaultDevice(device);
    if (threads) setNumThreads(Number(threads));
    manualSeed(0);
    const precision = stepPrecision({ precision: precisionName, channelsLast }, device);
    const model = createModel(name, { ...spec.options, device }).train();
    if (channelsLast) model.toMemoryFormat("channels-last");
    const optimizer = name === "shallow-cnn"
      ? new Adadelta(model.parameters(), { lr: 1.0 })
      : new SGD(model.parameters(), { lr: 0.01, momentum: 0.9 });
    const ctx = {
      model,
      optimizer,
      lambda: 1,
      saliency: new Saliency(model),
      reduction: "mean" as const,
      fill: "random" as const,
      precision,
    };
    const x = randn([batch, 3, 32, 32], { device });
    const y = randint(0, 10, [batch], { device });
    const times: number[] = [], cpu: number[] = [];
    synchronize();
    for (let i = 0; i < warmup + steps; i++) {
      const c0 = cpuMs(), t0 = performance.now();
      const r = trainStep(ctx, x, y, plan);
      synchronize();
      if (!Number.isFinite(r.loss)) throw new Error(`loss ${r.loss} at step ${i + 1}`);
      if (i >= warmup) {
        times.push(performance.now() - t0);
        cpu.push(cpuMs() - c0);
      }
    }
    console.log(JSON.stringify({
      impl: "hlgm",
      model: name,
      step: stepName,
      precision: precisionName,
      channels_last: channelsLast,
      device,
      batch,
      steps,
      warmup,
      threads: getNumThreads(),
      ms_per_step: median(times),
      cpu_ms_per_step: median(cpu),
      times_ms: times.map((t) => Math.round(t * 100) / 100),
      peak_rss_bytes: peakRssBytes(),
      onednn: info().kernelCheck.onednnEnabled,
      libtorch: info().libtorchVersion,
    }));
  } catch (e) {
    console.error(`precision_step.ts: ${(e as Error).message}`);
    Deno.exit(1);
  }
}
