/**
 * Tiny trained runs for the tests that score runs (sib, faith): one epoch of the baseline on a
 * 256-image subset of the fake Fashion-MNIST that tests/helpers.ts writes.
 */

import assert from "node:assert/strict";
import { defaultConfig } from "../src/train/config.ts";
import { train } from "../src/train/trainer.ts";
import { device } from "./helpers.ts";

/** Trains a one-epoch run on the fake (cluttered) data; returns its folder. */
export async function tinyClutteredRun(
  root: string,
  dataDir: string,
  name: string,
  seed: number,
  dataset = "cluttered-fmnist",
): Promise<string> {
  const out = `${root}/${name}`;
  const r = await train(
    defaultConfig({
      method: "baseline",
      dataset,
      dataDir,
      subset: 256,
      epochs: 1,
      batchSize: 64,
      device,
      seed,
    }),
    out,
  );
  assert.equal(r.status, "completed");
  return out;
}
