/**
 * What a dataset is to the registry: how it is found and loaded, and the options of a load.
 * Readers (e.g. oxford_pet.ts) describe themselves with it without importing the registry.
 *
 * @module
 */

import type { ImageDataset, SubsetChoice } from "./dataset.ts";

/** Options for loading a split. */
export interface DatasetLoadOptions {
  /** Root folder to look in (only there); else $HLGM_DATA, then ~/.cache/hlgm/datasets. */
  dataDir?: string;
  /** "train" or "test" (Oxford Pet: "trainval" = "train"). */
  split: "train" | "test";
  /** Oxford Pet: decoded images are resized to this square size (default 224). */
  imageSize?: number;
  /** Oxford Pet: which box to use, the pet's trimap box (default) or the head box. */
  box?: "pet" | "head";
  /** Oxford Pet: fail on the first bad image instead of skipping it with a warning. */
  strict?: boolean;
  /** Cluttered Fashion-MNIST: canvas size (default 64). */
  canvas?: number;
  /** Seed of generated datasets (default 0). */
  seed?: number;
  /**
   * Only these images of the split (`--subset`): the result equals
   * `randomSubset(whole split, count, seed)`, and a generated dataset produces no others.
   */
  subset?: SubsetChoice;
}

/** How a dataset is found and loaded. */
export interface DatasetSpec {
  /** CLI name. */
  name: string;
  /** `load` applies DatasetLoadOptions.subset itself (generated data: only those images are made). */
  loadsSubset?: boolean;
  /** One line on what it is. */
  description: string;
  /** Whether it has object boxes (for SIB). */
  hasBoxes: boolean;
  /** The folder holding it under one root, or undefined. */
  find(root: string): string | undefined;
  /** Extra places to look besides the roots (absolute folders). */
  extraLocations?: string[];
  /** Loads one split from the folder `find` returned. */
  load(dir: string, options: DatasetLoadOptions): Promise<ImageDataset>;
  /** Image counts per split read cheaply (headers, file sizes), without loading; optional. */
  counts?(dir: string): Promise<Record<string, number>>;
}

/** "training split" / "test split", as messages name a split. */
export function splitWords(split: "train" | "test"): string {
  return split === "train" ? "training split" : "test split";
}
