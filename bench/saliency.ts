/**
 * Saliency, masking and SIB costs, printed as one JSON line:
 * - saliency + pixel map + SIB (5 x values) images/s over 10,000 cluttered Fashion-MNIST test
 *   images (64x64) with the shallow CNN, in batches of 500 on the device;
 * - the fused top/bottom-k masking of a batch of 256 Fashion-MNIST-sized images against a
 *   shallow-CNN training step on the same batch (the mask must be a small fraction of it);
 * - peak memory (VmHWM) of IntegratedGradients (50 steps, 32 images) with and without an
 *   internalBatchSize, each in its own process so the high-water marks are separate.
 *
 *   deno run -A bench/saliency.ts [--device cpu|cuda] [--quick]
 *
 * @module
 */

import { flag, median, peakRssBytes, round } from "./util.ts";
import {
  createModel,
  crossEntropy,
  type Device,
  IntegratedGradients,
  manualSeed,
  maskBySaliency,
  pixelSaliency,
  randint,
  randn,
  Saliency,
  SGD,
  sib,
  synchronize,
  tidy,
} from "../mod.ts";
import { makeCluttered } from "../src/data/cluttered.ts";
import { DataLoader } from "../src/data/loader.ts";
import { loadDataset, locateDataset } from "../src/data/registry.ts";
import { syntheticImages } from "../src/data/synthetic.ts";

const args = Deno.args;
const device = (flag(args, "device") ?? "cpu") as Device;
const quick = args.includes("--quick");
manualSeed(0);

const igOnly = flag(args, "ig-only");
if (igOnly !== undefined) {
  // child process: one IntegratedGradients call, then the peak RSS
  const model = createModel("shallow-cnn", { device });
  const x = randn([32, 1, 28, 28], { device });
  const ibs = igOnly === "all" ? undefined : Number(igOnly);
  const before = peakRssBytes() ?? 0;
  tidy(() =>
    new IntegratedGradients(model).attribute(x, { target: 3, nSteps: 50, internalBatchSize: ibs })
  );
  synchronize();
  console.log(
    JSON.stringify({
      internal_batch_size: ibs ?? 32 * 50,
      peak_rss_mb: round((peakRssBytes() ?? 0) / 2 ** 20, 1),
      rss_before_mb: round(before / 2 ** 20, 1),
    }),
  );
  Deno.exit(0);
}

// 1. saliency + SIB throughput over cluttered Fashion-MNIST
const fmnist = locateDataset("fashion-mnist");
const source = fmnist
  ? await loadDataset("fashion-mnist", { split: "test" })
  : { ...syntheticImages(10000, 5), split: "test" };
const cluttered = makeCluttered(source, { count: quick ? 2000 : 10000 });
const model = createModel("shallow-cnn", { imageSize: 64, device }).eval();
const saliency = new Saliency(model);
const loader = new DataLoader(cluttered, { batchSize: 500, shuffle: false, device });
let t0 = performance.now();
let images = 0;
for (const b of loader.epoch(0, false)) {
  tidy(() => {
    const maps = pixelSaliency(saliency.attribute(b.x, { target: b.y }));
    sib(maps, b.boxes!);
    images += b.indices.length;
  });
  b.x.dispose();
  b.y.dispose();
  b.boxes?.dispose();
}
synchronize();
const sibSeconds = (performance.now() - t0) / 1000;
loader.dispose();
model.dispose();

// 2. masking vs a training step, batch 256 of 1x28x28
const net = createModel("shallow-cnn", { device });
const opt = new SGD(net.parameters(), { lr: 0.01 });
const x = randn([256, 1, 28, 28], { device });
const y = randint(0, 10, [256], { device });
const map = randn([256, 28, 28], { device }).abs();
const maskTimes: number[] = [];
const stepTimes: number[] = [];
for (let i = 0; i < (quick ? 5 : 20); i++) {
  t0 = performance.now();
  tidy(() => maskBySaliency(x, map, i % 2 ? "top" : "bottom", { fraction: 0.5 }));
  synchronize();
  maskTimes.push(performance.now() - t0);
  t0 = performance.now();
  tidy(() => {
    crossEntropy(net.train().forward(x), y).backward();
    opt.step();
    opt.zeroGrad();
  });
  synchronize();
  stepTimes.push(performance.now() - t0);
}
const maskMs = median(maskTimes.slice(1));
const stepMs = median(stepTimes.slice(1));

// 3. IntegratedGradients peak memory, each setting in its own process
async function igPeak(ibs: string) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(import.meta.url).pathname, "--ig-only", ibs, "--device", device],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  return JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
}
const igAll = await igPeak("all");
const ig64 = await igPeak("64");

console.log(JSON.stringify({
  device,
  sib: {
    source: fmnist ? `cluttered from ${fmnist}` : "cluttered from generated images",
    images,
    canvas: 64,
    seconds: round(sibSeconds, 2),
    images_per_s: round(images / sibSeconds, 0),
  },
  masking: {
    batch: 256,
    mask_ms: round(maskMs, 3),
    train_step_ms: round(stepMs, 2),
    fraction_of_step: round(maskMs / stepMs, 4),
  },
  integrated_gradients_peak_rss_mb: { all_at_once: igAll, internal_batch_64: ig64 },
}));
