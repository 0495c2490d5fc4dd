/**
 * Loader throughput: batches per second of the device-side DataLoader (index_select, float
 * conversion, normalisation, and the training augmentations), for Fashion-MNIST (the real
 * files when installed, else generated images of the same shape) and for a cached Oxford-Pet
 * sized split (224x224 RGB) when one is given with --pet-dir. Prints JSON: images/s and the
 * time to assemble one batch of 256 as a fraction of a shallow-CNN training step measured in
 * the same process.
 *
 *   deno run -A bench/loader.ts [--device cpu|cuda] [--quick]
 *
 * @module
 */

import { flag, median, round } from "./util.ts";
import {
  createModel,
  crossEntropy,
  type Device,
  manualSeed,
  SGD,
  synchronize,
  tidy,
} from "../mod.ts";
import type { ImageDataset } from "../src/data/dataset.ts";
import { DataLoader, type Transforms } from "../src/data/loader.ts";
import { loadDataset, locateDataset } from "../src/data/registry.ts";
import { syntheticImages } from "../src/data/synthetic.ts";

const args = Deno.args;
const device = (flag(args, "device") ?? "cpu") as Device;
const quick = args.includes("--quick");
const batches = quick ? 10 : 60;

function measure(ds: ImageDataset, transforms: Transforms, batchSize = 256) {
  using loader = new DataLoader(ds, { batchSize, device, transforms, dropLast: true });
  const times: number[] = [];
  let epoch = 0;
  let done = 0;
  while (done < batches + 3) {
    const it = loader.epoch(epoch++);
    let t0 = performance.now();
    for (const b of it) {
      synchronize();
      if (done >= 3) times.push(performance.now() - t0); // the first batches warm up
      b.x.dispose();
      b.y.dispose();
      b.boxes?.dispose();
      if (++done >= batches + 3) break;
      t0 = performance.now();
    }
  }
  const ms = median(times);
  return {
    batch: batchSize,
    ms_per_batch: round(ms, 3),
    images_per_s: round((batchSize * 1000) / ms, 0),
  };
}

function stepMs(ds: ImageDataset): number {
  manualSeed(0);
  using loader = new DataLoader(ds, { batchSize: 256, device, dropLast: true });
  const model = createModel("shallow-cnn", {
    inChannels: ds.channels,
    imageSize: ds.height,
    device,
  });
  const opt = new SGD(model.parameters(), { lr: 0.01 });
  const [b] = loader.epoch(0);
  const times: number[] = [];
  for (let i = 0; i < (quick ? 4 : 10); i++) {
    const t0 = performance.now();
    tidy(() => {
      crossEntropy(model.forward(b.x), b.y).backward();
      opt.step();
      opt.zeroGrad();
    });
    synchronize();
    if (i > 0) times.push(performance.now() - t0);
  }
  opt.dispose();
  model.dispose();
  return median(times);
}

const fmnistDir = locateDataset("fashion-mnist");
const fmnist = fmnistDir
  ? await loadDataset("fashion-mnist", { split: "train" })
  : { ...syntheticImages(60000, 1), name: "generated-28x28" };
const plain = measure(fmnist, {});
const augmented = measure(fmnist, { randomCropPadding: 2, horizontalFlip: true });
const step = stepMs(fmnist);
const result: Record<string, unknown> = {
  device,
  fashion_mnist: {
    source: fmnistDir ?? "generated (Fashion-MNIST not installed)",
    normalize: plain,
    crop_flip: augmented,
    shallow_cnn_step_ms: round(step, 2),
    loading_fraction_of_step: round((plain.ms_per_batch ?? 0) / step, 4),
  },
};
const petDir = flag(args, "pet-dir");
if (petDir) {
  const { loadOxfordPet } = await import("../src/data/oxford_pet.ts");
  const t0 = performance.now();
  const pet = await loadOxfordPet(petDir, { split: "train", imageSize: 224 });
  const loadS = (performance.now() - t0) / 1000;
  result.oxford_pet = {
    source: petDir,
    images: pet.n,
    cached_load_s: round(loadS, 3),
    normalize_flip: measure(pet, { horizontalFlip: true }, 64),
  };
}
console.log(JSON.stringify(result)); // one line: bench/run.ts reads the last line
