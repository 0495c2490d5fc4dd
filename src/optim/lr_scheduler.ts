/**
 * Learning-rate schedules with torch.optim.lr_scheduler's semantics: call `step()` once per
 * epoch after the optimizer steps. Each schedule is a pure function of the epoch count, so a
 * resumed run recreates it from `lastEpoch`.
 *
 * @module
 */

import type { Optimizer } from "./optimizer.ts";

/** Common scheduler interface. */
export interface LRScheduler {
  /** Epochs stepped so far. */
  lastEpoch: number;
  /** Advances one epoch and sets the optimizer's lr. */
  step(): void;
  /** The lr for the current epoch. */
  getLr(): number;
}

/**
 * What every schedule shares: the optimizer's lr when it was made (the base lr), the epochs
 * stepped, and `step()`; a schedule says only its lr for `lastEpoch` ({@link getLr}).
 */
export abstract class EpochLRScheduler implements LRScheduler {
  /** Epochs stepped so far. */
  lastEpoch: number;
  /** The optimizer's lr when the schedule was made. */
  protected readonly baseLr: number;
  /** Takes the optimizer's current lr as the base lr (a subclass then sets the epoch's). */
  constructor(readonly optimizer: Optimizer, lastEpoch: number) {
    this.baseLr = optimizer.lr;
    this.lastEpoch = lastEpoch;
  }
  /** The lr for the current epoch. */
  abstract getLr(): number;
  /** Next epoch. */
  step(): void {
    this.lastEpoch++;
    this.optimizer.lr = this.getLr();
  }
}

/** Multiplies the lr by `gamma` every `stepSize` epochs (torch StepLR). */
export class StepLR extends EpochLRScheduler {
  /** Starts at the optimizer's current lr (or continues from `lastEpoch`). */
  constructor(
    optimizer: Optimizer,
    readonly stepSize: number,
    readonly gamma = 0.1,
    lastEpoch = 0,
  ) {
    super(optimizer, lastEpoch);
    if (!Number.isInteger(stepSize) || stepSize < 1) {
      throw new RangeError(`stepSize must be a positive integer, got ${stepSize}`);
    }
    optimizer.lr = this.getLr();
  }
  /** base_lr * gamma ** floor(epoch / stepSize) */
  getLr(): number {
    return this.baseLr * this.gamma ** Math.floor(this.lastEpoch / this.stepSize);
  }
}

/** Cosine decay from the base lr to `etaMin` over `tMax` epochs (torch CosineAnnealingLR). */
export class CosineAnnealingLR extends EpochLRScheduler {
  /** Starts at the optimizer's current lr (or continues from `lastEpoch`). */
  constructor(
    optimizer: Optimizer,
    readonly tMax: number,
    readonly etaMin = 0,
    lastEpoch = 0,
  ) {
    super(optimizer, lastEpoch);
    if (!(tMax > 0)) throw new RangeError(`tMax must be positive, got ${tMax}`);
    optimizer.lr = this.getLr();
  }
  /** eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / tMax)) / 2 */
  getLr(): number {
    return this.etaMin +
      ((this.baseLr - this.etaMin) * (1 + Math.cos((Math.PI * this.lastEpoch) / this.tMax))) / 2;
  }
}
