/**
 * A whole CIFAR-10 epoch of the shallow CNN through the trainer (`train()`, as `hlgm train`
 * runs it: 45,000 training images with crop+flip augmentation, then the 5,000 validation and
 * 10,000 test images scored, and the checkpoint written), per precision and layout: a baseline
 * epoch and a masked one (SGT's bottom-50% masking, the cost of an HLGM denoise epoch; a
 * regularize epoch costs the same). Needs CIFAR-10 (`hlgm data download cifar10`). hlgm only:
 * bench/precision_step.ts compares the step with PyTorch.
 *
 *   deno run -A bench/cifar_epoch.ts [--quick] [--device cpu|cuda]
 *
 * `--quick`: 2,560 training images instead of all. Prints one JSON object.
 *
 * @module
 */

import { type Device, getNumThreads, train } from "../mod.ts";
import { defaultConfig, type TrainConfig } from "../src/train/config.ts";
import { locateDataset } from "../src/data/registry.ts";
import { flag, round } from "./util.ts";

const VARIANTS: [string, Partial<TrainConfig>][] = [
  ["fp32", { precision: "fp32" }],
  ["bf16-mixed", { precision: "bf16-mixed" }],
  ["bf16-mixed+channels-last", { precision: "bf16-mixed", channelsLast: true }],
];

const args = Deno.args;
const quick = args.includes("--quick");
const device = (flag(args, "device") ?? "cpu") as Device;
if (!locateDataset("cifar10")) {
  console.error("cifar_epoch.ts: CIFAR-10 is not here; run `hlgm data download cifar10` first");
  Deno.exit(1);
}
const root = await Deno.makeTempDir({ prefix: "hlgm-bench-epoch-" });
const out: Record<string, unknown> = { device, threads: getNumThreads(), quick };
try {
  for (const method of ["baseline", "sgt"] as const) {
    const rows: Record<string, unknown> = {};
    for (const [label, settings] of VARIANTS) {
      console.error(`[bench] CIFAR-10 epoch: ${method}, ${label}`);
      const config = defaultConfig({
        preset: "shallow-cnn-cifar10",
        method,
        epochs: 1,
        device,
        ...(quick ? { subset: 2560 } : {}),
        ...settings,
      });
      const t0 = performance.now();
      const r = await train(config, `${root}/${method}-${label}`);
      const total = (performance.now() - t0) / 1000;
      if (r.status !== "completed") throw new Error(`${method} ${label}: ${r.message}`);
      const m = r.metrics[0];
      rows[label] = {
        epoch_s: round(total, 1),
        train_s: round(m.seconds, 1),
        test_acc: round(m.test_acc, 4),
      };
    }
    const fp32 = (rows.fp32 as { epoch_s: number }).epoch_s;
    rows.vs_fp32 = Object.fromEntries(
      VARIANTS.slice(1).map(([label]) => [
        label,
        round((rows[label] as { epoch_s: number }).epoch_s / fp32, 3),
      ]),
    );
    out[method === "sgt" ? "masked" : "baseline"] = rows;
  }
  console.log(JSON.stringify(out));
} finally {
  await Deno.remove(root, { recursive: true });
}
