/**
 * The statistics a run's inputs are normalised with (its config's `normalization`): the
 * dataset's own per-channel mean and std, or ImageNet's, which ImageNet weights (torchvision's
 * resnet18, timm's DeiT-tiny) expect. Every loader of a run sees its data through
 * {@link withRunNormalization}: the trainer (through setup.ts's loadSplits), eval, SIB and the
 * saliency figures. Imports nothing that loads libtorch.
 *
 * @module
 */

import type { ImageDataset } from "../data/dataset.ts";
import { type NORMALIZATIONS, SETTINGS } from "./config_fields.ts";
import { SettingError } from "../util/vocabulary.ts";

/** One of NORMALIZATIONS. */
export type Normalization = typeof NORMALIZATIONS[number];

/** ImageNet's per-channel mean (RGB, of pixel / 255), as torchvision normalises. */
export const IMAGENET_MEAN: readonly number[] = [0.485, 0.456, 0.406];
/** ImageNet's per-channel standard deviation (RGB, of pixel / 255). */
export const IMAGENET_STD: readonly number[] = [0.229, 0.224, 0.225];

/**
 * A run's normalisation: its config's; "dataset" where the config has none (runs saved before
 * the setting was recorded were normalised with the dataset's statistics, whatever their
 * --pretrained weights).
 */
export function runNormalization(c: { normalization?: Normalization }): Normalization {
  return c.normalization ?? SETTINGS.normalization.absentMeans;
}

/**
 * `ds` as a run's loaders see it: with ImageNet's mean and std when the run normalises with
 * ImageNet's statistics (the images themselves are shared, not copied), else `ds` itself.
 * Throws a RangeError for ImageNet normalisation of data that is not RGB.
 */
export function withRunNormalization(
  c: { normalization?: Normalization },
  ds: ImageDataset,
): ImageDataset {
  if (runNormalization(c) !== "imagenet") return ds;
  if (ds.channels !== 3) {
    throw new SettingError(
      ["normalization"],
      (v) =>
        `normalization imagenet: ImageNet's mean and std are for RGB images, but ${ds.name} ` +
        `images have ${ds.channels} channel${ds.channels === 1 ? "" : "s"}; use ` +
        `${v.settingValue("normalization", "dataset")} (ImageNet weights need RGB data; ` +
        `weights of a ${ds.channels}-channel model take the dataset's statistics)`,
    );
  }
  return { ...ds, mean: IMAGENET_MEAN, std: IMAGENET_STD };
}
