/**
 * What SIB scores when not told otherwise: the one place `sib`, `compare`, `sweep` and the
 * library read these defaults from (imports nothing heavy, so `--help` shows them without
 * libtorch).
 *
 * The paper scores SIB like this (Section V): "Each model, post-training, was employed to
 * generate saliency maps for all images in the test set, from which we computed SIB(1) and
 * SIB(5) metrics."
 *
 * @module
 */

import type { CheckpointRule } from "../run_folder/checkpoint_rules.ts";

/**
 * Test images SIB scores: "all", every test image that has a box (the paper's "all images in
 * the test set"). A number draws that many of them with a seed (faster, for quick looks).
 */
export const DEFAULT_SIB_N: number | "all" = "all";

/**
 * The checkpoint SIB scores: best-after-switch, the best validation accuracy among the masked
 * epochs. It never picks a model from before HLGM's switch (HLGM's `best` can be one: a
 * baseline model), it picks every method the same way (by validation accuracy; a run that never
 * masked, such as the baseline, takes its best and says so), and it never looks at the test
 * set. `last`, the model at the end of training, is the paper's literal "post-training".
 */
export const DEFAULT_SIB_CHECKPOINT: CheckpointRule = "best-after-switch";

/** Why DEFAULT_SIB_CHECKPOINT is the default, in the words `--help` and the README use. */
export const SIB_CHECKPOINT_WHY = "best-after-switch never scores HLGM on a model from before " +
  "its switch (its best can be one: a baseline model) and picks every method by validation " +
  `accuracy; last is the paper's literal "post-training"`;
