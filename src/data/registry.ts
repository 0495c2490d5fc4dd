/**
 * Datasets by CLI name: where each is looked for and how it is loaded.
 *
 * Location: `--data-dir` (only there, when given), else `$HLGM_DATA`, else
 * `~/.cache/hlgm/datasets`; each dataset lives in a sub-folder named after it (e.g.
 * `<root>/cifar10/cifar-10-batches-bin`). Fashion-MNIST is also found where Debian's
 * dataset-fashion-mnist installs it (/usr/share/datasets/fashion-mnist).
 *
 * @module
 */

import { syntheticSpec } from "./synthetic.ts";
import { hlgmCommand } from "../util/command.ts";
import { makeCluttered } from "./cluttered.ts";
import { type ImageDataset, subset, subsetIndices } from "./dataset.ts";
import type { DatasetLoadOptions, DatasetSpec } from "./spec.ts";

export type { DatasetLoadOptions, DatasetSpec };
import { findFashionMnist, loadFashionMnist } from "./fashion_mnist.ts";
import {
  cifar100Counts,
  cifar10Counts,
  findCifar10,
  findCifar100,
  loadCifar10,
  loadCifar100,
} from "./cifar.ts";
import { findMnist, idxCounts, loadMnist } from "./mnist.ts";
import { oxfordPetSpec } from "./oxford_pet.ts";
import { entryProblem, probe } from "./files.ts";

/** Roots searched for datasets, in order. */
export function dataRoots(dataDir?: string): string[] {
  if (dataDir) return [dataDir];
  const home = Deno.env.get("HOME") ?? ".";
  return [Deno.env.get("HLGM_DATA"), `${home}/.cache/hlgm/datasets`].filter((r): r is string =>
    !!r
  );
}

const fashionMnist: DatasetSpec = {
  name: "fashion-mnist",
  description: "Fashion-MNIST: 70,000 28x28 grey images of clothing, 10 classes (idx files)",
  hasBoxes: false,
  find: (root) => findFashionMnist(`${root}/fashion-mnist`) ?? findFashionMnist(root),
  extraLocations: ["/usr/share/datasets/fashion-mnist"],
  load: (dir, o) => loadFashionMnist(dir, o.split),
  counts: idxCounts,
};

const clutteredFmnist: DatasetSpec = {
  name: "cluttered-fmnist",
  description: "Fashion-MNIST items on a 64x64 canvas with clutter, exact boxes (generated)",
  hasBoxes: true,
  loadsSubset: true,
  find: fashionMnist.find,
  extraLocations: fashionMnist.extraLocations,
  load: async (dir, o) => {
    const source = await loadFashionMnist(dir, o.split);
    const keep = o.subset &&
      subsetIndices(source.n, o.subset, `cluttered-fmnist's ${splitWords(o.split)}`, dir);
    return makeCluttered(source, { canvas: o.canvas, seed: o.seed, keep });
  },
  counts: idxCounts,
};

const mnist: DatasetSpec = {
  name: "mnist",
  description: "MNIST: 70,000 28x28 grey images of handwritten digits, 10 classes (idx files)",
  hasBoxes: false,
  find: (root) => findMnist(`${root}/mnist`),
  load: (dir, o) => loadMnist(dir, o.split),
  counts: idxCounts,
};

const cifar10: DatasetSpec = {
  name: "cifar10",
  description: "CIFAR-10: 60,000 32x32 colour images, 10 classes (binary version)",
  hasBoxes: false,
  find: (root) => findCifar10(`${root}/cifar10`) ?? findCifar10(`${root}/cifar-10-batches-bin`),
  load: (dir, o) => loadCifar10(dir, o.split),
  counts: cifar10Counts,
};

const cifar100: DatasetSpec = {
  name: "cifar100",
  description: "CIFAR-100: 60,000 32x32 colour images, 100 fine classes (binary version)",
  hasBoxes: false,
  find: (root) => findCifar100(`${root}/cifar100`) ?? findCifar100(`${root}/cifar-100-binary`),
  load: (dir, o) => loadCifar100(dir, o.split),
  counts: cifar100Counts,
};

const cifar100Coarse: DatasetSpec = {
  name: "cifar100-coarse",
  description: "CIFAR-100 with its 20 coarse superclass labels (the cifar100 files)",
  hasBoxes: false,
  find: cifar100.find,
  load: (dir, o) => loadCifar100(dir, o.split, { labels: "coarse" }),
  counts: cifar100Counts,
};

/** Every known dataset (readers add their spec here). */
export const DATASETS: DatasetSpec[] = [
  fashionMnist,
  clutteredFmnist,
  mnist,
  cifar10,
  cifar100,
  cifar100Coarse,
  oxfordPetSpec,
  syntheticSpec,
];

/** The spec for a CLI name, or a clear error listing the known ones. */
export function datasetSpec(name: string): DatasetSpec {
  const spec = DATASETS.find((d) => d.name === name);
  if (!spec) {
    throw new TypeError(
      `unknown dataset "${name}"; expected one of ${DATASETS.map((d) => d.name).join(", ")}`,
    );
  }
  return spec;
}

/** The folder a dataset was found in, searching the roots then its extra locations. */
export function locateDataset(name: string, dataDir?: string): string | undefined {
  const spec = datasetSpec(name);
  for (const root of dataRoots(dataDir)) {
    const dir = spec.find(root);
    if (dir) return dir;
  }
  if (dataDir) return undefined; // a folder named explicitly is the only place to look
  for (const dir of spec.extraLocations ?? []) {
    const found = spec.find(dir.slice(0, dir.lastIndexOf("/"))) ?? spec.find(dir);
    if (found) return found;
  }
  return undefined;
}

/**
 * Why the copy of a dataset in `dir` is incomplete or broken (reading its counts fails: a
 * missing file, a folder in a file's place, an empty split), or null when it reads; datasets
 * without a cheap count are taken as complete.
 */
export async function datasetProblem(name: string, dir: string): Promise<string | null> {
  const spec = datasetSpec(name);
  if (!spec.counts) return null;
  try {
    await spec.counts(dir);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

/** Loads one split of a dataset by name, with a clear error saying where it looked. */
export async function loadDataset(
  name: string,
  options: DatasetLoadOptions,
): Promise<ImageDataset> {
  const spec = datasetSpec(name);
  const dir = locateDataset(name, options.dataDir);
  if (!dir) {
    const places = [
      ...dataRoots(options.dataDir).map((r) => `${r}/${name}`),
      ...(options.dataDir ? [] : spec.extraLocations ?? []),
    ];
    // a folder that is there but unusable (no files of the dataset, a link loop) is named
    const there = places.map(probe).filter((e) => e.kind !== "missing").map((e) =>
      e.kind === "directory"
        ? `${e.path} holds none of its files`
        : entryProblem(e, `${name}'s folder`, "directory")
    );
    throw new Error(
      `${name} not found (looked in ${places.join(", ")}` +
        `${there.length ? `; ${there.join("; ")}` : ""}); get it with ` +
        `\`${hlgmCommand()} data download ${
          name === "cluttered-fmnist" ? "fashion-mnist" : name
        }\``,
    );
  }
  const ds = await spec.load(dir, options);
  if (!options.subset || spec.loadsSubset) return ds;
  const keep = subsetIndices(
    ds.n,
    options.subset,
    `${name}'s ${splitWords(options.split)}`,
    ds.source,
  );
  return keep ? subset(ds, keep) : ds;
}

/** "training split" / "test split", as messages name a split. */
function splitWords(split: "train" | "test"): string {
  return split === "train" ? "training split" : "test split";
}
