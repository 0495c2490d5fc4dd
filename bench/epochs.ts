/**
 * Epoch time of HLGM's masked epochs against baseline epochs on the same data: a masked step
 * costs about 3 forward + 3 backward passes (saliency, f(X), f(X~)) against 1 + 1, so the
 * ratio should be near 3 and not above. Prints one JSON line.
 *
 *   deno run -A bench/epochs.ts [--device cpu|cuda] [--quick]
 *
 * @module
 */

import { flag, round } from "./util.ts";
import { type Device, manualSeed } from "../mod.ts";
import { shallowCnnEpochSeconds } from "./epoch_time.ts";
import { loadDataset, locateDataset } from "../src/data/registry.ts";
import { randomSubset } from "../src/data/dataset.ts";
import { syntheticImages } from "../src/data/synthetic.ts";
import type { EpochPlan } from "../src/train/mod.ts";

const args = Deno.args;
const device = (flag(args, "device") ?? "cpu") as Device;
const images = args.includes("--quick") ? 1280 : 5120;
manualSeed(0);
const fmnist = locateDataset("fashion-mnist");
const all = fmnist
  ? await loadDataset("fashion-mnist", { split: "train" })
  : syntheticImages(images, 1);
const data = randomSubset(all, images, 0);

const epochSeconds = (plan: EpochPlan) => shallowCnnEpochSeconds(data, plan, device);

const plain = epochSeconds({ phase: "train", mode: "plain", k: null, de: null, episode: null });
const regularize = epochSeconds({ phase: "sgt", mode: "regularize", k: 0.2, de: 1, episode: 0 });
const denoise = epochSeconds({ phase: "sgt", mode: "denoise", k: 0.5, de: 1, episode: 0 });
console.log(JSON.stringify({
  device,
  images,
  batch: 256,
  baseline_epoch_s: round(plain, 2),
  hlgm_regularize_epoch_s: round(regularize, 2),
  hlgm_denoise_epoch_s: round(denoise, 2),
  ratio_regularize: round(regularize / plain, 2),
  ratio_denoise: round(denoise / plain, 2),
}));
