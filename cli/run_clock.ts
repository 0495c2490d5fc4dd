/**
 * How long a run still has to go, for the progress line, the estimate printed once the batch
 * rate is steady, and the time left printed after each epoch: epochs already timed (training,
 * evaluation and checkpoint) by kind (plain or masked), the current epoch from its warm batch
 * rate, and the epochs to come from the schedule's preview (hlgm's switch assumed at its
 * earliest).
 *
 * The first batches of an epoch carry one-time costs (the first kernels, allocations, the
 * loader's start): the rate skips them. A run's very first batch can take longer than ten later
 * ones, so an estimate from it alone was off several times over.
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

/** Batches at the start of each epoch left out of its rate (one-time costs). */
export const SKIPPED_BATCHES = 2;

/** Warm batches needed before the rate may count as steady. */
const MIN_WARM_BATCHES = 4;

/** Steady: the warm rate now and at half as many warm batches differ by at most this share. */
const STEADY_SHARE = 0.1;

type Kind = "plain" | "masked";
const kindOf = (p: Pick<EpochPlan, "mode">): Kind => (p.mode === "plain" ? "plain" : "masked");

/** Estimates the time left of a run. */
export class RunClock {
  readonly #start: RunStart;
  readonly #plans: readonly EpochPlan[];
  readonly #now: () => number;
  readonly #timed: Record<Kind, number[]> = { plain: [], masked: [] };
  #epochStart: number;
  #started: number;
  #batchSeconds: number | null = null;
  #batchKind: Kind = "plain";
  /** The kind of epoch #batchSeconds was measured in. */
  #rateKind: Kind | null = null;
  /** When the current epoch's skipped batches ended, and the warm rates after each batch since. */
  #warmFrom: number | null = null;
  #warmRates: number[] = [];

  /**
   * A clock for a run starting as `start` says, with `plans[e - 1]` the plan of epoch e; `now`
   * gives milliseconds (performance.now, or a test's clock).
   */
  constructor(
    start: RunStart,
    plans: readonly EpochPlan[],
    now: () => number = performance.now.bind(performance),
  ) {
    this.#start = start;
    this.#plans = plans;
    this.#now = now;
    this.#started = this.#epochStart = now();
  }

  /** Seconds since the run (this process's part of it) started. */
  elapsed(): number {
    return (this.#now() - this.#started) / 1000;
  }

  /**
   * After batch `batch` of the current epoch, planned as `plan`. The rate counts the batches
   * after the first SKIPPED_BATCHES of the epoch; until there is one, all of them.
   */
  batch(batch: number, plan: Pick<EpochPlan, "mode">): void {
    const now = this.#now();
    this.#batchKind = kindOf(plan);
    if (batch === SKIPPED_BATCHES) this.#warmFrom = now;
    if (batch > SKIPPED_BATCHES && this.#warmFrom !== null) {
      this.#batchSeconds = (now - this.#warmFrom) / 1000 / (batch - SKIPPED_BATCHES);
      this.#warmRates.push(this.#batchSeconds);
      this.#rateKind = this.#batchKind;
    } else if (this.#warmRates.length === 0 && this.#rateKind !== this.#batchKind) {
      // no warm rate of this kind yet (an earlier epoch's stands until this one has its own)
      this.#batchSeconds = (now - this.#epochStart) / 1000 / batch;
    }
  }

  /**
   * Warm batches of the current epoch whose rate is steady (it moved by at most 10% since half
   * as many were timed, from at least 4), or null while it is not.
   */
  steadyBatches(): number | null {
    const r = this.#warmRates;
    if (r.length < MIN_WARM_BATCHES) return null;
    const now = r[r.length - 1];
    const half = r[Math.ceil(r.length / 2) - 1];
    return Math.abs(now - half) <= STEADY_SHARE * now ? r.length : null;
  }

  /** After an epoch that followed `plan` ended (metrics and checkpoint written). */
  epochDone(plan: Pick<EpochPlan, "mode">): void {
    const now = this.#now();
    this.#timed[kindOf(plan)].push((now - this.#epochStart) / 1000);
    this.#epochStart = now;
    this.#warmFrom = null;
    this.#warmRates = [];
  }

  /** The first epoch this process trains (after a resume, the one after the checkpoint). */
  firstEpoch(): number {
    return this.#start.firstEpoch;
  }

  /** Epochs timed so far (this process's). */
  timedEpochs(): number {
    return this.#timed.plain.length + this.#timed.masked.length;
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
    const rest = this.secondsAfter(epoch);
    return current === null || rest === null ? null : current + rest;
  }

  /** Seconds of the epochs after epoch `epoch` (the time left once it is done). */
  secondsAfter(epoch: number): number | null {
    let total = 0;
    for (let e = epoch + 1; e <= this.#start.epochs; e++) {
      const plan = this.#plans[e - 1];
      const s = this.epochSeconds(plan ? kindOf(plan) : "plain");
      if (s === null) return null;
      total += s;
    }
    return total;
  }

  /** The first epoch the schedule's preview masks in (hlgm: its earliest switch), or null. */
  firstMaskedEpoch(): number | null {
    const i = this.#plans.findIndex((p) => kindOf(p) === "masked");
    return i < 0 ? null : i + 1;
  }

  /** Epochs of this process's part of the run that mask (by the schedule's preview). */
  maskedEpochs(): number {
    return this.#plans.slice(this.#start.firstEpoch - 1, this.#start.epochs)
      .filter((p) => kindOf(p) === "masked").length;
  }
}
