/**
 * Deletion and insertion (20 steps each, zero and blur substrates: src/metrics/deletion.ts's
 * defaults) of the shallow CNN on N CIFAR-sized images (random pixels, maps and labels: the cost
 * does not depend on them), in batches of 500 on the device, in hlgm and in PyTorch
 * (bench/faith.py, the same definition), each in its own process with the same thread count.
 * PyTorch runs twice: with glibc's default malloc and with the kept-malloc settings (its fastest
 * here). Prints one JSON line: seconds of each, images per second and the ratios hlgm / PyTorch.
 *
 *   deno run -A bench/faith.ts [--device cpu|cuda] [--quick] [--images N]
 *
 * @module
 */

import { findPython, flag, round } from "./util.ts";
import {
  createModel,
  type Device,
  getNumThreads,
  manualSeed,
  noGrad,
  rand,
  randint,
  synchronize,
  tidy,
} from "../mod.ts";
import { perturbationCurve } from "../src/metrics/deletion.ts";

const args = Deno.args;
const device = (flag(args, "device") ?? "cpu") as Device;
const images = Number(flag(args, "images") ?? (args.includes("--quick") ? 1000 : 10000));
const batch = 500;

manualSeed(0);
const model = createModel("shallow-cnn", { inChannels: 3, imageSize: 32, numClasses: 10 })
  .to(device).eval();
const x = rand([images, 3, 32, 32], { device });
const sal = rand([images, 32, 32], { device });
const y = randint(0, 10, [images], { device });
const forward = (v: typeof x) => model.forward(v);

const t0 = performance.now();
let aucSum = 0;
noGrad(() => {
  for (let s = 0; s < images; s += batch) {
    const n = Math.min(batch, images - s);
    tidy(() => {
      const xb = x.narrow(0, s, n), mb = sal.narrow(0, s, n), yb = y.narrow(0, s, n);
      for (const mode of ["deletion", "insertion"] as const) {
        aucSum += perturbationCurve(forward, xb, mb, yb, { mode, steps: 20 }).auc
          .reduce((a, v) => a + v, 0);
      }
    });
  }
});
synchronize();
const hlgmSeconds = (performance.now() - t0) / 1000;

// PyTorch with glibc's default malloc, and with the kept-malloc settings that are its fastest
// CPU setting here (bench/run.ts's KEPT_MALLOC: the default unmaps and faults in every batch)
const KEPT_MALLOC = {
  MALLOC_MMAP_MAX_: "0",
  MALLOC_TRIM_THRESHOLD_: String(1 << 30),
  MALLOC_TOP_PAD_: String(64 << 20),
};
const python = await findPython();
async function pytorchRun(vars: Record<string, string>): Promise<Record<string, unknown> | string> {
  if (!python) return "no python with torch";
  const here = new URL("./faith.py", import.meta.url).pathname;
  const out = await new Deno.Command(python, {
    args: [
      here,
      "--images",
      String(images),
      "--batch",
      String(batch),
      "--threads",
      String(getNumThreads()),
      "--device",
      device,
    ],
    env: vars,
    stdout: "piped",
    stderr: "inherit",
  }).output();
  return out.success
    ? JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").pop()!)
    : `failed (exit ${out.code})`;
}
const ptDefault = await pytorchRun({});
const ptKept = await pytorchRun(KEPT_MALLOC);
const secondsOf = (r: Record<string, unknown> | string) =>
  typeof r === "object" ? r.seconds as number : null;
const ratio = (r: Record<string, unknown> | string) => {
  const s = secondsOf(r);
  return s ? round(hlgmSeconds / s, 3) : null;
};
console.log(JSON.stringify({
  what: "deletion + insertion AUC, 20 steps each, shallow CNN, 3x32x32",
  device,
  images,
  batch,
  threads: getNumThreads(),
  hlgm_seconds: round(hlgmSeconds),
  hlgm_images_per_s: round(images / hlgmSeconds, 1),
  pytorch_default_seconds: round(secondsOf(ptDefault)),
  pytorch_kept_malloc_seconds: round(secondsOf(ptKept)),
  ratio_vs_pytorch_default: ratio(ptDefault),
  ratio_vs_pytorch_kept_malloc: ratio(ptKept),
  // the same random data on both sides (one libtorch generator, one seed): equal sums say both
  // computed the same curves
  hlgm_auc_sum: round(aucSum, 4),
  pytorch: { default_malloc: ptDefault, kept_malloc: ptKept, kept_malloc_env: KEPT_MALLOC },
}));
model.dispose();
