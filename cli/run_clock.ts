/**
 * How long a run still has to go, for the progress line and the estimate printed after the
 * first batches: epochs already timed (training, evaluation and checkpoint) by kind (plain or
 * masked), the current epoch from its batch rate, and the epochs to come from the schedule's
 * preview (hlgm's plateau switch assumed at its earliest).
 *
 * @module
 */

import type { EpochPlan } from "../src/train/schedule.ts";
import type { RunStart } from "../src/train/trainer.ts";

/**
 * A masked epoch (sgt, regularize, denoise: saliency and a second forward pass per batch)
 * against a plain one, until both were timed: bench/README.md measured 2.4-2.9 for HLGM on CPU.
 */
export const MASKED_EPOCH_COST = 2.5;

/** Evaluating an image against training on it (forward only, no optimizer). */
const EVAL_COST = 0.35;

type Kind = "plain" | "masked";
const kindOf = (p: Pick<EpochPlan, "mode">): Kind => (p.mode === "plain" ? "plain" : "masked");

/** Estimates the time left of a run. */
export class RunClock {
  readonly #start: RunStart;
  readonly #plans: readonly EpochPlan[];
  readonly #timed: Record<Kind, number[]> = { plain: [], masked: [] };
  #epochStart = performance.now();
  #started = performance.now();
  #batchSeconds: number | null = null;
  #batchKind: Kind = "plain";

  /** A clock for a run starting as `start` says, with `plans[e - 1]` the plan of epoch e. */
  constructor(start: RunStart, plans: readonly EpochPlan[]) {
    this.#start = start;
    this.#plans = plans;
  }

  /** Seconds since the run (this process's part of it) started. */
  elapsed(): number {
    return (performance.now() - this.#started) / 1000;
  }

  /** After batch `batch` of the current epoch, planned as `plan`. */
  batch(batch: number, plan: Pick<EpochPlan, "mode">): void {
    this.#batchSeconds = (performance.now() - this.#epochStart) / 1000 / batch;
    this.#batchKind = kindOf(plan);
  }

  /** After an epoch that followed `plan` ended (metrics and checkpoint written). */
  epochDone(plan: Pick<EpochPlan, "mode">): void {
    const now = performance.now();
    this.#timed[kindOf(plan)].push((now - this.#epochStart) / 1000);
    this.#epochStart = now;
  }

  /** Seconds an epoch of `kind` takes: timed ones, else from the batch rate. */
  epochSeconds(kind: Kind): number | null {
    const timed = this.#timed[kind];
    if (timed.length) return timed.reduce((a, b) => a + b, 0) / timed.length;
    const other = this.#timed[kind === "plain" ? "masked" : "plain"];
    const factor = (k: Kind) => (k === "masked" ? MASKED_EPOCH_COST : 1);
    if (other.length) {
      const mean = other.reduce((a, b) => a + b, 0) / other.length;
      return (mean * factor(kind)) / factor(kind === "plain" ? "masked" : "plain");
    }
    if (this.#batchSeconds === null) return null;
    const { batches, images } = this.#start;
    const perImage = this.#batchSeconds / Math.max(1, images.train / batches);
    const plainTrain = (batches * this.#batchSeconds) / factor(this.#batchKind);
    const evaluation = (images.val + images.test) * (perImage / factor(this.#batchKind)) *
      EVAL_COST;
    return plainTrain * factor(kind) + evaluation; // masking costs in training, not evaluation
  }

  /** Seconds left in the current epoch after `batch` batches (with its evaluation). */
  epochLeft(batch: number): number | null {
    if (this.#batchSeconds === null) return null;
    const whole = this.epochSeconds(this.#batchKind);
    const trainLeft = (this.#start.batches - batch) * this.#batchSeconds;
    const trainAll = this.#start.batches * this.#batchSeconds;
    const evalTime = whole === null ? 0 : Math.max(0, whole - trainAll);
    return trainLeft + evalTime;
  }

  /** Seconds left in the run, during epoch `epoch` after `batch` batches. */
  runLeft(epoch: number, batch: number): number | null {
    const current = this.epochLeft(batch);
    if (current === null) return null;
    let total = current;
    for (let e = epoch + 1; e <= this.#start.epochs; e++) {
      const plan = this.#plans[e - 1];
      const s = this.epochSeconds(plan ? kindOf(plan) : "plain");
      if (s === null) return null;
      total += s;
    }
    return total;
  }

  /** Epochs of this process's part of the run that mask (by the schedule's preview). */
  maskedEpochs(): number {
    return this.#plans.slice(this.#start.firstEpoch - 1, this.#start.epochs)
      .filter((p) => kindOf(p) === "masked").length;
  }
}
