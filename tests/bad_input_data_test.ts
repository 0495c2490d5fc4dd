/**
 * Bad input never passes silently (issue 14, the data and numbers half): every case writes a bad
 * file in its real format (gzipped idx, CIFAR binary records, Oxford Pet's folders and lists,
 * safetensors checkpoints) or passes a bad number, and asserts the error type (library) or the
 * exit code (CLI: 2 for usage errors found before any work, 1 for failures while running),
 * and that the message is one line naming the problem: the file or argument, what was
 * expected and what was found.
 *
 * Run with `HLGM_NUM_THREADS=1` on a busy machine; the data is tiny (40 train, 20 test images).
 *
 * @module
 */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import { encodeCifar } from "../src/data/cifar.ts";
import { cifar10Counts, loadCifar10, loadCifar100 } from "../src/data/cifar.ts";
import { makeCluttered } from "../src/data/cluttered.ts";
import { DataLoader } from "../src/data/loader.ts";
import { encodeIdx } from "../src/data/idx.ts";
import { idxCounts } from "../src/data/fashion_mnist.ts";
import { loadOxfordPet } from "../src/data/oxford_pet.ts";
import { datasetProblem, loadDataset, locateDataset } from "../src/data/registry.ts";
import { downloadDataset } from "../src/data/download.ts";
import { syntheticImages } from "../src/data/synthetic.ts";
import { loadSafetensors, saveSafetensors } from "../src/checkpoint/safetensors.ts";
import { assertFiniteWeights, NonFiniteWeightsError } from "../src/checkpoint/finite.ts";
import { maskBySaliency, maskTopK } from "../src/masking/mask.ts";
import { pointingGame, relevanceMassAccuracy, sib } from "../src/metrics/sib.ts";
import { createModel } from "../src/models/factory.ts";
import { arange, empty, full, randint, randn, tensor, zeros } from "../src/tensor/create.ts";
import { tidy } from "../src/tensor/engine.ts";
import { cat, mseLoss } from "../src/tensor/functional.ts";
import { defaultConfig } from "../src/train/config.ts";
import { loadRun } from "../src/train/load_run.ts";
import { loadSplits } from "../src/train/setup.ts";
import { train } from "../src/train/trainer.ts";
import { machineMemory, MemoryBoundError } from "../src/util/memory.ts";
import { device, NO_DATA, runCli, writeFakeFashionMnist } from "./helpers.ts";

const N_TRAIN = 40;
const N_TEST = 20;

const tmp = Deno.makeTempDirSync({ prefix: "hlgm-bad-input-" });
globalThis.addEventListener("unload", () => Deno.removeSync(tmp, { recursive: true }));
let folders = 0;

/** A fresh folder under the test's temporary root. */
function folder(name: string): string {
  const dir = `${tmp}/${folders++}-${name}`;
  Deno.mkdirSync(dir, { recursive: true });
  return dir;
}

// ---- the bad files, in their real formats

/** A data root with a good fake Fashion-MNIST, then `change` applied to its folder. */
function fmnistRoot(change: (dir: string) => void = () => {}, sub = "fashion-mnist"): string {
  const root = folder("fmnist");
  writeFakeFashionMnist(root, N_TRAIN, N_TEST);
  if (sub !== "fashion-mnist") Deno.renameSync(`${root}/fashion-mnist`, `${root}/${sub}`);
  change(`${root}/${sub}`);
  return root;
}

/** Writes a gzipped idx file of `shape` (zero pixels or labels). */
function writeIdxGz(file: string, shape: number[]): void {
  const n = shape.reduce((a, b) => a * b, 1);
  Deno.writeFileSync(file, gzipSync(encodeIdx(shape, new Uint8Array(n))));
}

const TRAIN_IMAGES = "train-images-idx3-ubyte.gz";
const TRAIN_LABELS = "train-labels-idx1-ubyte.gz";
const TEST_IMAGES = "t10k-images-idx3-ubyte.gz";
const TEST_LABELS = "t10k-labels-idx1-ubyte.gz";

/** A symbolic link loop at `path` (path -> path.other -> path). */
function linkLoop(path: string): void {
  Deno.removeSync(path, { recursive: true });
  Deno.symlinkSync(`${path}.other`, path);
  Deno.symlinkSync(path, `${path}.other`);
}

/** A folder where a file belongs. */
function folderInstead(path: string): void {
  Deno.removeSync(path);
  Deno.mkdirSync(path);
}

/** CIFAR-10 batches of 2 records each, then `change` applied to the batch folder. */
function cifarDir(change: (dir: string) => void = () => {}): string {
  const dir = `${folder("cifar10")}/cifar-10-batches-bin`;
  Deno.mkdirSync(dir);
  const images = new Uint8Array(2 * 3072).map((_, i) => i % 251);
  for (let b = 1; b <= 5; b++) {
    Deno.writeFileSync(`${dir}/data_batch_${b}.bin`, encodeCifar(images, [b, 9 - b]));
  }
  Deno.writeFileSync(`${dir}/test_batch.bin`, encodeCifar(images, [0, 1]));
  change(dir);
  return dir;
}

/** Oxford-IIIT Pet's folders with a train list of `lines` (no photos: checks come first). */
function petDir(lines: string[], change: (dir: string) => void = () => {}): string {
  const dir = folder("pets");
  Deno.mkdirSync(`${dir}/images`);
  Deno.mkdirSync(`${dir}/annotations/trimaps`, { recursive: true });
  Deno.writeTextFileSync(`${dir}/annotations/trainval.txt`, lines.join("\n") + "\n");
  change(dir);
  return dir;
}

/** The fake Fashion-MNIST training split (the cluttered generator's source). */
async function fmnistTrain(): Promise<Awaited<ReturnType<typeof loadDataset>>> {
  return await loadDataset("fashion-mnist", { dataDir: fmnistRoot(), split: "train" });
}

// ---- a finished run whose checkpoint holds NaN (trained once, shared by its cases)

let nanRunPromise: Promise<{ run: string; data: string }> | undefined;

/** A 1-epoch baseline run on cluttered-fmnist whose best checkpoint's conv2.weight is NaN. */
function nanRun(): Promise<{ run: string; data: string }> {
  nanRunPromise ??= (async () => {
    const data = fmnistRoot();
    const run = `${folder("nan-run")}/run`;
    const config = defaultConfig({
      method: "baseline",
      dataset: "cluttered-fmnist",
      dataDir: data,
      epochs: 1,
      batchSize: 64,
      valFraction: 0.1,
      device,
    });
    assert.equal((await train(config, run)).status, "completed");
    const best = JSON.parse(Deno.readTextFileSync(`${run}/checkpoints/best.json`));
    const file = `${run}/checkpoints/${best.weights}`;
    tidy(() => {
      const { tensors } = loadSafetensors(file, { device: "cpu" });
      const w = tensors.get("conv2.weight")!;
      const mask = w.abs().gt(-1); // every element
      tensors.set("conv2.weight", w.maskedFill(mask, NaN));
      saveSafetensors(file, tensors);
    });
    return { run, data };
  })();
  return nanRunPromise;
}

/** A weights file of shallow-cnn (1 channel, 10 classes) with fc1.bias set to +Inf. */
function infPretrained(): string {
  const file = `${folder("pretrained")}/inf.safetensors`;
  const model = createModel("shallow-cnn", { numClasses: 10 });
  tidy(() => {
    const sd = model.stateDict();
    const b = sd.get("fc1.bias")!;
    sd.set("fc1.bias", b.maskedFill(b.abs().gt(-1), Infinity));
    saveSafetensors(file, sd);
  });
  model.dispose();
  return file;
}

// ---- the cases

/** A case that throws: its error's type and a pattern of its (one-line) message. */
interface ThrowCase {
  name: string;
  run: () => unknown;
  type: new (...args: never[]) => Error;
  message: RegExp;
}

const CAP = 4096; // Oxford Pet's largest image size
const PET_IMAGE = 3 * CAP * CAP;

const throwCases: ThrowCase[] = [
  // ---- idx (fashion-mnist, mnist, cluttered-fmnist)
  {
    name: "idx: a split of 0 images names the file and says it is empty",
    run: () =>
      loadDataset("fashion-mnist", {
        dataDir: fmnistRoot((d) => {
          writeIdxGz(`${d}/${TRAIN_IMAGES}`, [0, 28, 28]);
          writeIdxGz(`${d}/${TRAIN_LABELS}`, [0]);
        }),
        split: "train",
      }),
    type: Error,
    message: /train-images-idx3-ubyte\.gz: 0 images \(an empty train split\)/,
  },
  {
    name: "idx: fewer labels than images names both files and both counts",
    run: () =>
      loadDataset("fashion-mnist", {
        dataDir: fmnistRoot((d) => writeIdxGz(`${d}/${TEST_LABELS}`, [N_TEST - 1])),
        split: "test",
      }),
    type: Error,
    message: /t10k-labels-idx1-ubyte\.gz: 19 labels, but \S+t10k-images-idx3-ubyte\.gz holds 20/,
  },
  {
    name: "idx: 14x56 images are refused against fashion-mnist's 28x28",
    run: () =>
      loadDataset("fashion-mnist", {
        dataDir: fmnistRoot((d) => writeIdxGz(`${d}/${TRAIN_IMAGES}`, [N_TRAIN, 14, 56])),
        split: "train",
      }),
    type: Error,
    message: /train-images-idx3-ubyte\.gz: images are 14x56, fashion-mnist's are 28x28$/,
  },
  {
    name: "idx: 1x784 images are refused against 28x28",
    run: () =>
      loadDataset("fashion-mnist", {
        dataDir: fmnistRoot((d) => writeIdxGz(`${d}/${TEST_IMAGES}`, [N_TEST, 1, 784])),
        split: "test",
      }),
    type: Error,
    message: /t10k-images-idx3-ubyte\.gz: images are 1x784, fashion-mnist's are 28x28$/,
  },
  {
    name: "idx: a 2-D [N, 784] images file is refused, saying N x 28 x 28",
    run: () =>
      loadDataset("fashion-mnist", {
        dataDir: fmnistRoot((d) => writeIdxGz(`${d}/${TRAIN_IMAGES}`, [N_TRAIN, 784])),
        split: "train",
      }),
    type: Error,
    message: /holds a \[40, 784\] array, fashion-mnist's images are N x 28 x 28/,
  },
  {
    name: "idx: labels of shape [N, 1] are refused, one label per image expected",
    run: () =>
      loadDataset("fashion-mnist", {
        dataDir: fmnistRoot((d) => writeIdxGz(`${d}/${TEST_LABELS}`, [N_TEST, 1])),
        split: "test",
      }),
    type: Error,
    message: /t10k-labels-idx1-ubyte\.gz: labels are \[20, 1\], expected one label per image/,
  },
  {
    name: "idx: a missing t10k-labels file is named (the dataset is still found)",
    run: () => {
      const root = fmnistRoot((d) => Deno.removeSync(`${d}/${TEST_LABELS}`));
      assert.equal(locateDataset("fashion-mnist", root), `${root}/fashion-mnist`);
      return loadDataset("fashion-mnist", { dataDir: root, split: "test" });
    },
    type: Error,
    message:
      /t10k-labels-idx1-ubyte\.gz: missing, as is t10k-labels-idx1-ubyte \(fashion-mnist's test labels/,
  },
  {
    name: "idx: a folder where the images file belongs is named",
    run: () =>
      loadDataset("fashion-mnist", {
        dataDir: fmnistRoot((d) => folderInstead(`${d}/${TRAIN_IMAGES}`)),
        split: "train",
      }),
    type: Error,
    message: /train-images-idx3-ubyte\.gz: is a folder, expected fashion-mnist's training images/,
  },
  {
    name: "idx: a symbolic link loop in a file's place is named",
    run: () =>
      loadDataset("fashion-mnist", {
        dataDir: fmnistRoot((d) => linkLoop(`${d}/${TEST_IMAGES}`)),
        split: "test",
      }),
    type: Error,
    message: /t10k-images-idx3-ubyte\.gz: a symbolic link loop .*expected fashion-mnist's test/,
  },
  {
    name: "idx: a link to a file that does not exist is named with its target",
    run: () =>
      loadDataset("fashion-mnist", {
        dataDir: fmnistRoot((d) => {
          Deno.removeSync(`${d}/${TRAIN_LABELS}`);
          Deno.symlinkSync("/nonexistent/labels.gz", `${d}/${TRAIN_LABELS}`);
        }),
        split: "train",
      }),
    type: Error,
    message: /train-labels-idx1-ubyte\.gz: a symbolic link to \/nonexistent\/labels\.gz, which/,
  },
  {
    name: "idx: a dataset folder that is a link loop is named, not just 'not found'",
    run: () =>
      loadDataset("fashion-mnist", {
        dataDir: fmnistRoot((d) => linkLoop(d)),
        split: "train",
      }),
    type: Error,
    message: /fashion-mnist\/train-images-idx3-ubyte: a symbolic link loop/,
  },
  {
    name: "mnist: wrong image size is refused against mnist's 28x28",
    run: () =>
      loadDataset("mnist", {
        dataDir: fmnistRoot((d) => writeIdxGz(`${d}/${TEST_IMAGES}`, [N_TEST, 14, 56]), "mnist"),
        split: "test",
      }),
    type: Error,
    message: /mnist\/t10k-images-idx3-ubyte\.gz: images are 14x56, mnist's are 28x28$/,
  },
  {
    name: "cluttered-fmnist: bad fashion-mnist files are named (it builds on them)",
    run: () =>
      loadDataset("cluttered-fmnist", {
        dataDir: fmnistRoot((d) => writeIdxGz(`${d}/${TRAIN_IMAGES}`, [N_TRAIN, 14, 56])),
        split: "train",
      }),
    type: Error,
    message: /train-images-idx3-ubyte\.gz: images are 14x56, fashion-mnist's are 28x28$/,
  },
  {
    name: "idx counts (data list): an empty label file is a problem, not a count of 0",
    run: () =>
      idxCounts(`${fmnistRoot((d) => writeIdxGz(`${d}/${TRAIN_LABELS}`, [0]))}/fashion-mnist`),
    type: Error,
    message: /train-labels-idx1-ubyte\.gz: 0 labels \(an empty train split\)/,
  },
  {
    name: "idx counts (data list, data download): a missing images file makes the copy incomplete",
    run: () =>
      idxCounts(`${fmnistRoot((d) => Deno.removeSync(`${d}/${TRAIN_IMAGES}`))}/fashion-mnist`),
    type: Error,
    message: /train-images-idx3-ubyte\.gz: missing, as is train-images-idx3-ubyte \(the training/,
  },
  // ---- CIFAR binary batches
  {
    name: "cifar10: a missing batch, others present, is named",
    run: () => loadCifar10(cifarDir((d) => Deno.removeSync(`${d}/data_batch_3.bin`)), "train"),
    type: Error,
    message: /cifar-10-batches-bin: missing data_batch_3\.bin \(cifar10 train split\)/,
  },
  {
    name: "cifar10: a folder where test_batch.bin belongs is named",
    run: () => loadCifar10(cifarDir((d) => folderInstead(`${d}/test_batch.bin`)), "test"),
    type: Error,
    message: /test_batch\.bin: is a folder, expected a cifar10 test batch of 3073-byte records/,
  },
  {
    name: "cifar10: a symbolic link loop in a batch's place is named",
    run: () => loadCifar10(cifarDir((d) => linkLoop(`${d}/data_batch_2.bin`)), "train"),
    type: Error,
    message: /data_batch_2\.bin: a symbolic link loop/,
  },
  {
    name: "cifar10 counts: an empty batch is an error, not 0 images",
    run: () =>
      cifar10Counts(cifarDir((d) => Deno.writeFileSync(`${d}/test_batch.bin`, new Uint8Array()))),
    type: Error,
    message: /test_batch\.bin: empty \(no 3073-byte records\)/,
  },
  {
    name: "cifar10: a folder where batches.meta.txt belongs is named",
    run: () => loadCifar10(cifarDir((d) => Deno.mkdirSync(`${d}/batches.meta.txt`)), "test"),
    type: Error,
    message: /batches\.meta\.txt: is a folder, expected a text file of 10 class names/,
  },
  {
    name: "cifar100: a batch of CIFAR-10 records (3073 bytes) is not 3074-byte records",
    run: () => {
      const dir = folder("cifar100");
      const images = new Uint8Array(3 * 3072);
      Deno.writeFileSync(`${dir}/train.bin`, encodeCifar(images, [1, 2, 3]));
      Deno.writeFileSync(`${dir}/test.bin`, encodeCifar(images, [1, 2, 3], [0, 0, 0]));
      return loadCifar100(dir, "train");
    },
    type: Error,
    message: /train\.bin: length 9219 bytes is not a multiple of the 3074-byte record size/,
  },
  // ---- Oxford-IIIT Pet
  {
    name: "oxford-pet: a missing images folder is named",
    run: () =>
      loadOxfordPet(petDir(["Abyssinian_1 1 1 1"], (d) => Deno.removeSync(`${d}/images`)), {
        split: "train",
        cache: false,
      }),
    type: Error,
    message: /\/images: missing \(the folder of the photos/,
  },
  {
    name: "oxford-pet: a folder where trainval.txt belongs is named",
    run: () =>
      loadOxfordPet(
        petDir([], (d) => {
          Deno.removeSync(`${d}/annotations/trainval.txt`);
          Deno.mkdirSync(`${d}/annotations/trainval.txt`);
        }),
        { split: "train", cache: false },
      ),
    type: Error,
    message: /trainval\.txt: is a folder, expected the train split's list of images/,
  },
  {
    name: "oxford-pet: a list of no images is an empty split",
    run: () => loadOxfordPet(petDir(["# only a comment"]), { split: "train", cache: false }),
    type: Error,
    message: /trainval\.txt: lists no images/,
  },
  {
    name: "oxford-pet: images x size beyond the machine's memory is refused before decoding",
    run: () => {
      const n = Math.ceil(machineMemory() / PET_IMAGE) + 1;
      const lines = Array.from({ length: n }, (_, i) => `Abyssinian_${i + 1} 1 1 1`);
      return loadOxfordPet(petDir(lines), { split: "train", imageSize: CAP, cache: false });
    },
    type: MemoryBoundError,
    message: /oxford-pet train: \d+ images decoded at 4096x4096 needs [\d.]+ GB, more than this/,
  },
  // ---- sizes refused up front with the estimate
  {
    name: "library: full([1e9, 1e9]) is refused before allocating, with the estimate",
    run: () => full([1e9, 1e9], 1, { device: "cpu" }),
    type: MemoryBoundError,
    message:
      /^full\(\[1000000000, 1000000000\]\) of float32 needs 4000 PB, more than this machine's [\d.]+ GB of memory$/,
  },
  {
    name: "synthetic: 1e9 generated images need 784 GB: refused with the estimate",
    run: () => syntheticImages(1e9, 0),
    type: MemoryBoundError,
    message: /synthetic: 1000000000 generated 28x28 images needs 784 GB, more than this machine's/,
  },
  {
    name: "cluttered-fmnist: a canvas whose images exceed memory is refused with the estimate",
    run: async () => {
      const source = await fmnistTrain();
      const canvas = Math.ceil(Math.sqrt(machineMemory() / source.n)) + 1;
      return makeCluttered(source, { canvas });
    },
    type: MemoryBoundError,
    message: /cluttered-fmnist train: 40 images on a \d+x\d+ canvas needs .* more than this/,
  },
  {
    name: "--subset beyond the training split is refused (no silent clamp, as random_split)",
    run: () =>
      loadSplits(defaultConfig({ dataset: "fashion-mnist", dataDir: fmnistRoot(), subset: 1000 })),
    type: RangeError,
    message: /subset 1000 is more than the 40 images of fashion-mnist's training split/,
  },
  // ---- saliency maps holding NaN
  {
    name: "SIB: an all-NaN saliency map is refused (it used to score 1.0)",
    run: () =>
      tidy(() =>
        sib(zeros([2, 8, 8], { device }).div(0), tensor([[0, 0, 4, 4], [0, 0, 4, 4]], { device }))
      ),
    type: RangeError,
    message: /^SIB: saliency \[2, 8, 8\] holds 128 NaN of its 128 values \(first in sample 0\)/,
  },
  {
    name: "pointing game: one NaN pixel in the second map is found and named",
    run: () =>
      tidy(() => {
        const s = tensor(Array.from({ length: 32 }, (_, i) => i === 20 ? NaN : i), { device });
        return pointingGame(s.reshape(2, 4, 4), tensor([[0, 0, 2, 2], [0, 0, 2, 2]], { device }));
      }),
    type: RangeError,
    message: /^pointing game: saliency \[2, 4, 4\] holds 1 NaN .*\(first in sample 1\)/,
  },
  {
    name: "relevance mass accuracy: NaN maps are refused",
    run: () =>
      tidy(() =>
        relevanceMassAccuracy(
          zeros([1, 4, 4], { device }).div(0),
          tensor([[0, 0, 2, 2]], { device }),
        )
      ),
    type: RangeError,
    message: /^relevance mass accuracy: saliency \[1, 4, 4\] holds 16 NaN/,
  },
  {
    name: "masking: maskBySaliency refuses a NaN saliency map",
    run: () =>
      tidy(() => {
        const x = zeros([1, 1, 4, 4], { device });
        const s = tensor([[[NaN, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11], [12, 13, 14, 15]]], {
          device,
        });
        return maskBySaliency(x, s, "top", { fraction: 0.25 });
      }),
    type: RangeError,
    message: /^mask: saliency \[1, 4, 4\] holds 1 NaN of its 16 values \(first in sample 0\)/,
  },
  {
    name: "masking: maskTopK (per-feature map) refuses NaN too",
    run: () =>
      tidy(() =>
        maskTopK(zeros([2, 3, 2, 2], { device }), zeros([2, 3, 2, 2], { device }).div(0), {
          count: 1,
        })
      ),
    type: RangeError,
    message: /^mask: saliency \[2, 3, 2, 2\] holds 24 NaN/,
  },
  // ---- index arguments: integers in range, as PyTorch
  {
    name: "select(0, 1.5) is a TypeError, not a silent truncation",
    run: () => tidy(() => zeros([3, 4], { device }).select(0, 1.5)),
    type: TypeError,
    message: /^select: index must be an integer, got 1\.5$/,
  },
  {
    name: "select(0, NaN) is a TypeError, not index -2^63",
    run: () => tidy(() => zeros([3, 4], { device }).select(0, NaN)),
    type: TypeError,
    message: /^select: index must be an integer, got NaN$/,
  },
  {
    name: "select out of range is a RangeError naming the dim, its size and the range",
    run: () => tidy(() => zeros([3, 4], { device }).select(0, 3)),
    type: RangeError,
    message: /^select: index 3 is out of range for dim 0 of size 3 .*expected -3\.\.2/,
  },
  {
    name: "a dim beyond the tensor's is a RangeError (select(2, 0) on a 2-D tensor)",
    run: () => tidy(() => zeros([3, 4], { device }).select(2, 0)),
    type: RangeError,
    message: /^select: dim 2 is out of range for a 2-D tensor \(expected -2\.\.1\)$/,
  },
  {
    name: "narrow past the end is a RangeError naming start, length and size",
    run: () => tidy(() => zeros([3, 4], { device }).narrow(1, 2, 5)),
    type: RangeError,
    message: /^narrow: start 2 \+ length 5 does not fit dim 1 of size 4/,
  },
  {
    name: "narrow with a fractional length is a TypeError",
    run: () => tidy(() => zeros([3, 4], { device }).narrow(0, 0, 1.5)),
    type: TypeError,
    message: /^narrow: length must be an integer, got 1\.5$/,
  },
  {
    name: "slice with step 0 is a RangeError",
    run: () => tidy(() => zeros([3, 4], { device }).slice(1, 0, 4, 0)),
    type: RangeError,
    message: /^slice: step must be a positive integer, got 0$/,
  },
  {
    name: "transpose with a fractional dim is a TypeError naming dim1",
    run: () => tidy(() => zeros([3, 4], { device }).transpose(0, 0.5)),
    type: TypeError,
    message: /^transpose: dim1 must be an integer, got 0\.5$/,
  },
  {
    name: "softmax over a dim the tensor lacks is a RangeError",
    run: () => tidy(() => zeros([3, 4], { device }).softmax(5)),
    type: RangeError,
    message: /^softmax: dim 5 is out of range for a 2-D tensor/,
  },
  {
    name: "topk with k beyond the dim is a RangeError",
    run: () => tidy(() => zeros([4], { device }).topk(9)),
    type: RangeError,
    message: /^topk: k 9 is out of range for dim -1 of size 4$/,
  },
  {
    name: "cat with a fractional dim is a TypeError",
    run: () => tidy(() => cat([zeros([2], { device }), zeros([2], { device })], 0.5)),
    type: TypeError,
    message: /^cat: dim must be an integer, got 0\.5$/,
  },
  {
    name: "DataLoader.batchOf with a fractional index is a TypeError (not truncated)",
    run: () => {
      using loader = new DataLoader(syntheticImages(4, 0), { device });
      return tidy(() => loader.batchOf([0, 1.5]));
    },
    type: TypeError,
    message: /^batchOf: indices\[1\] must be an integer, got 1\.5$/,
  },
  {
    name: "DataLoader.batchOf with -1 is a RangeError (not index 4294967295)",
    run: () => {
      using loader = new DataLoader(syntheticImages(4, 0), { device });
      return tidy(() => loader.batchOf([-1]));
    },
    type: RangeError,
    message: /^batchOf: indices\[0\] = -1 is outside the dataset \(0\.\.3\)$/,
  },
  // ---- weights holding NaN/Inf
  {
    name: "assertFiniteWeights names the first bad tensor and the counts",
    run: () =>
      tidy(() =>
        assertFiniteWeights(
          new Map([
            ["a", tensor([1, 2], { device })],
            ["b", tensor([NaN, Infinity, 1], { device })],
            ["c", tensor([NaN], { device })],
          ]),
          "model.safetensors",
        )
      ),
    type: NonFiniteWeightsError,
    message: /^model\.safetensors has non-finite weights: b holds 1 NaN and 1 infinite of its 3/,
  },
  {
    name: "pretrained weights with Inf are refused when a run starts, naming the tensor",
    run: async () => {
      const out = `${folder("pretrained-run")}/run`;
      const config = defaultConfig({
        method: "baseline",
        dataset: "synthetic",
        subset: 64,
        epochs: 1,
        batchSize: 64,
        device,
        pretrained: infPretrained(),
      });
      try {
        return await train(config, out);
      } finally {
        assert.ok(!exists(out), "no run folder is left");
      }
    },
    type: NonFiniteWeightsError,
    message: /^pretrained \S+inf\.safetensors has non-finite weights: fc1\.bias holds 128 infinite/,
  },
  {
    name: "loadRun refuses a checkpoint whose weights are NaN, naming run, epoch and tensor",
    run: async () => loadRun((await nanRun()).run, { device }),
    type: NonFiniteWeightsError,
    message:
      /run: the best checkpoint \(epoch 1\) has non-finite weights: conv2\.weight holds 18432 NaN/,
  },
];

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

for (const c of throwCases) {
  Deno.test(`bad input: ${c.name}`, async () => {
    let thrown: unknown;
    try {
      await c.run();
    } catch (e) {
      thrown = e;
    }
    assert.ok(thrown instanceof c.type, `expected a ${c.type.name}, got ${String(thrown)}`);
    const message = (thrown as Error).message;
    assert.ok(!message.includes("\n"), `one line: ${JSON.stringify(message)}`);
    assert.match(message, c.message);
  });
}

// ---- a loss whose target would broadcast warns once, with PyTorch's words

Deno.test("bad input: mseLoss of [4, 1] against [4] warns once as PyTorch, same shapes never", () => {
  const warnings: string[] = [];
  const original = console.warn;
  console.warn = (...args: unknown[]) => warnings.push(args.map(String).join(" "));
  try {
    tidy(() => {
      const input = zeros([4, 1], { device });
      const target = zeros([4], { device });
      assert.deepEqual(mseLoss(input, target, "none").shape, [4, 4], "it still broadcasts");
      mseLoss(input, target);
      mseLoss(target, target);
    });
  } finally {
    console.warn = original;
  }
  assert.equal(warnings.length, 1, warnings.join("\n"));
  assert.ok(!warnings[0].includes("\n"));
  assert.equal(
    warnings[0],
    "mseLoss: Using a target size ([4]) that is different to the input size ([4, 1]). This " +
      "will likely lead to incorrect results due to broadcasting. Please ensure they have the " +
      "same size.",
  );
});

// ---- the command line: exit codes and one error line

/** A CLI case: its arguments (maybe built from fixtures), exit code and error line pattern. */
interface CliCase {
  name: string;
  args: () => Promise<string[]> | string[];
  code: 1 | 2;
  message: RegExp;
}

const cliCases: CliCase[] = [
  {
    name: "train --subset 1e9 on the generated set: usage error before any work, with the estimate",
    args: () => ["train", "--dataset", "synthetic", "--subset", "1000000000", "--out", out()],
    code: 2,
    message: /subset 1000000000: 1000000000 generated 28x28 synthetic images needs 784 GB/,
  },
  {
    name: "train --image-size 1000000: usage error with the batch's estimate",
    args: () => [
      "train",
      "--dataset",
      "synthetic",
      "--image-size",
      "1000000",
      "--batch-size",
      "64",
      "--out",
      out(),
    ],
    code: 2,
    message:
      /image-size 1000000: one batch of 64 float32 inputs of 1000000x1000000 pixels \(at least\) needs 256 TB, more than this machine's/,
  },
  {
    name: "data show --scale 1000000: refused with the picture's size, not an allocator message",
    args: () => ["data", "show", "synthetic", "--scale", "1000000", "--out", `${out()}.png`],
    code: 1,
    message: /a \d+x\d+ picture \(4 x 4 panels of 28x28 pixels at scale 1000000\) needs .*PB/,
  },
  {
    name: "train on an empty idx split fails naming the file (it used to train on NaN, exit 0)",
    args: () => [
      "train",
      "--data-dir",
      fmnistRoot((d) => {
        writeIdxGz(`${d}/${TRAIN_IMAGES}`, [0, 28, 28]);
        writeIdxGz(`${d}/${TRAIN_LABELS}`, [0]);
      }),
      "--out",
      out(),
    ],
    code: 1,
    message: /train-images-idx3-ubyte\.gz: 0 images \(an empty train split\)/,
  },
  {
    name: "train on 14x56 idx images fails naming the file and 28x28, not inside the model",
    args: () => [
      "train",
      "--data-dir",
      fmnistRoot((d) => writeIdxGz(`${d}/${TRAIN_IMAGES}`, [N_TRAIN, 14, 56])),
      "--out",
      out(),
    ],
    code: 1,
    message: /train-images-idx3-ubyte\.gz: images are 14x56, fashion-mnist's are 28x28$/,
  },
  {
    name: "train with the t10k labels missing names that file, not 'fashion-mnist not found'",
    args: () => [
      "train",
      "--data-dir",
      fmnistRoot((d) => Deno.removeSync(`${d}/${TEST_LABELS}`)),
      "--out",
      out(),
    ],
    code: 1,
    message: /t10k-labels-idx1-ubyte\.gz: missing, as is t10k-labels-idx1-ubyte/,
  },
  {
    name: "train --subset beyond the training split fails naming both counts",
    args: () => ["train", "--data-dir", fmnistRoot(), "--subset", "1000", "--out", out()],
    code: 1,
    message: /subset 1000 is more than the 40 images of fashion-mnist's training split/,
  },
  {
    name: "data verify: a folder in the test images' place fails naming it",
    args: () => [
      "data",
      "verify",
      "fashion-mnist",
      "--data-dir",
      fmnistRoot((d) => folderInstead(`${d}/${TEST_IMAGES}`)),
    ],
    code: 1,
    message: /failed verification: \S+t10k-images-idx3-ubyte\.gz: is a folder, expected the test/,
  },
  {
    name: "eval of a run with NaN weights is refused naming the tensor",
    args: async () => ["eval", (await nanRun()).run],
    code: 1,
    message: /has non-finite weights: conv2\.weight holds 18432 NaN of its 18432 values/,
  },
  {
    name: "sib of a run with NaN weights is refused (no table, no sib.json)",
    args: async () => ["sib", (await nanRun()).run, "--n", "4", "--out", out()],
    code: 1,
    message: /has non-finite weights: conv2\.weight holds 18432 NaN/,
  },
  {
    name: "saliency of a run with NaN weights is refused (no PNG)",
    args: async () => ["saliency", (await nanRun()).run, "--n", "2", "--out", `${out()}.png`],
    code: 1,
    message: /has non-finite weights: conv2\.weight holds 18432 NaN/,
  },
];

let outs = 0;
/** A path under the temporary root that nothing is at yet. */
function out(): string {
  return `${tmp}/out-${outs++}`;
}

for (const c of cliCases) {
  Deno.test(`bad input (CLI): ${c.name}`, async () => {
    const args = await c.args();
    const r = await runCli(args, { ...NO_DATA, HLGM_NUM_THREADS: "1" });
    const lines = r.stderr.trim().split("\n");
    assert.equal(r.code, c.code, `exit code of hlgm ${args.join(" ")}\n${r.stderr}`);
    assert.equal(lines.filter((l) => l.startsWith("error: ")).length, 1, r.stderr);
    const last = lines.at(-1)!;
    assert.match(last, /^error: /, r.stderr);
    assert.match(last, c.message);
    // nothing half-made is left where the command would have written
    const target = args[args.indexOf("--out") + 1];
    if (args.includes("--out")) assert.ok(!exists(target), `${target} was written`);
  });
}

// ---- a copy with a file missing is incomplete: download fetches it again

Deno.test("bad input: data download re-fetches a fashion-mnist copy that lacks a file", async () => {
  const good = fmnistRoot();
  const files: Record<string, Uint8Array> = {};
  for (const f of [TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS]) {
    files[`/${f}`] = Deno.readFileSync(`${good}/fashion-mnist/${f}`);
  }
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const data = files[new URL(req.url).pathname];
    return data
      ? new Response(data as Uint8Array<ArrayBuffer>)
      : new Response("not found", { status: 404 });
  });
  try {
    const md5 = (b: Uint8Array) => createHash("md5").update(b).digest("hex");
    const sources = Object.entries(files).map(([path, bytes]) => ({
      url: `http://127.0.0.1:${server.addr.port}${path}`,
      md5: md5(bytes),
    }));
    const root = fmnistRoot((d) => Deno.removeSync(`${d}/${TEST_IMAGES}`));
    assert.match(
      (await datasetProblem("fashion-mnist", `${root}/fashion-mnist`))!,
      /t10k-images-idx3-ubyte\.gz: missing/,
    );
    const r = await downloadDataset("fashion-mnist", root, { sources, retryDelayMs: 1 });
    assert.equal(r.alreadyPresent, false, "an incomplete copy is not 'already present'");
    assert.equal((await loadDataset("fashion-mnist", { dataDir: root, split: "test" })).n, N_TEST);
    const again = await downloadDataset("fashion-mnist", root, { sources });
    assert.equal(again.alreadyPresent, true);
  } finally {
    await server.shutdown();
  }
});

Deno.test("bad input: library: zeros, empty, randn, randint and arange beyond memory are refused by name, before allocating", () => {
  const big = Math.ceil(machineMemory() / 8) + 1; // 8-byte elements: just too many
  const cases: [string, () => unknown][] = [
    ["zeros", () => zeros([big], { dtype: "float64", device: "cpu" })],
    ["empty", () => empty([big, 1], { dtype: "float64", device: "cpu" })],
    ["randn", () => randn([1, big], { dtype: "float64", device: "cpu" })],
    ["randint", () => randint(0, 9, [big], { device: "cpu" })],
    ["arange", () => arange(big, undefined, 1, { device: "cpu" })],
  ];
  for (const [op, make] of cases) {
    assert.throws(
      make,
      (e: unknown) =>
        e instanceof MemoryBoundError &&
        new RegExp(`^${op}\\(\\[[\\d, ]+\\]\\) of (float64|int64) needs [\\d.]+ GB, more than`)
          .test(e.message),
      op,
    );
  }
});
