/**
 * Datasets by CLI name (each reader's file holds its spec: where it is found, how it loads) and
 * where they are looked for.
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
import { type ImageDataset, subset, subsetIndices } from "./dataset.ts";
import { type DatasetLoadOptions, type DatasetSpec, splitWords } from "./spec.ts";

export type { DatasetLoadOptions, DatasetSpec };
import { fashionMnistSpec } from "./fashion_mnist.ts";
import { clutteredFmnistSpec } from "./cluttered.ts";
import { cifar100CoarseSpec, cifar100Spec, cifar10Spec } from "./cifar.ts";
import { mnistSpec } from "./mnist.ts";
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

/** Every known dataset (readers add their spec here). */
export const DATASETS: DatasetSpec[] = [
  fashionMnistSpec,
  clutteredFmnistSpec,
  mnistSpec,
  cifar10Spec,
  cifar100Spec,
  cifar100CoarseSpec,
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
