/**
 * Loss scaling for float16 training (torch.amp.GradScaler): float16 gradients underflow to zero
 * below 6e-8, so the loss is multiplied by a large scale before backward and the gradients are
 * divided by it before the step. A step whose gradients hold an Inf or NaN (the scale was too
 * large) is skipped and the scale halves; after `growthInterval` good steps in a row it doubles.
 *
 * @module
 */

import { noGrad } from "../tensor/autograd.ts";
import { tidy } from "../tensor/engine.ts";
import { stack } from "../tensor/functional.ts";
import type { Tensor } from "../tensor/tensor.ts";
import type { Optimizer } from "./optimizer.ts";

/** Options of {@link GradScaler} (torch's defaults). */
export interface GradScalerOptions {
  /** The first scale (default 2^16). */
  initScale?: number;
  /** Factor the scale grows by after `growthInterval` good steps (default 2). */
  growthFactor?: number;
  /** Factor the scale shrinks by after a step with Inf/NaN gradients (default 0.5). */
  backoffFactor?: number;
  /** Good steps in a row before the scale grows (default 2000). */
  growthInterval?: number;
}

/** The scaler's state, as a checkpoint keeps it (torch's `scaler.state_dict()` keys). */
export interface GradScalerState {
  /** The current scale. */
  scale: number;
  /** Good steps since the scale last changed. */
  growthTracker: number;
}

/** Loss scaling with dynamic scale (see the module's description). */
export class GradScaler {
  #scale: number;
  #tracker = 0;
  #unscaled = false;
  #foundInf = false;
  readonly #growth: number;
  readonly #backoff: number;
  readonly #interval: number;

  /** A scaler with torch.amp.GradScaler's defaults unless `options` say otherwise. */
  constructor(options: GradScalerOptions = {}) {
    this.#scale = options.initScale ?? 65536;
    this.#growth = options.growthFactor ?? 2;
    this.#backoff = options.backoffFactor ?? 0.5;
    this.#interval = options.growthInterval ?? 2000;
    if (!(this.#scale > 0 && Number.isFinite(this.#scale))) {
      throw new RangeError(`GradScaler initScale must be a positive number, got ${this.#scale}`);
    }
    if (!(this.#growth > 1)) {
      throw new RangeError(`GradScaler growthFactor must be > 1, got ${this.#growth}`);
    }
    if (!(this.#backoff > 0 && this.#backoff < 1)) {
      throw new RangeError(`GradScaler backoffFactor must be in (0, 1), got ${this.#backoff}`);
    }
    if (!(Number.isInteger(this.#interval) && this.#interval >= 1)) {
      throw new RangeError(
        `GradScaler growthInterval must be a positive integer, got ${this.#interval}`,
      );
    }
  }

  /** The current scale. */
  get scale(): number {
    return this.#scale;
  }

  /** The loss times the scale: call backward on this. */
  scaleLoss(loss: Tensor): Tensor {
    this.#unscaled = false;
    return loss.mul(this.#scale);
  }

  /**
   * Divides the optimizer's gradients by the scale in place and notes whether any is Inf or
   * NaN (once per step; `step` calls it when it was not called, e.g. before clipping).
   */
  unscale(optimizer: Optimizer): void {
    if (this.#unscaled) return;
    const inv = 1 / this.#scale;
    // one host read for all the gradients (a device sync on CUDA), not one per parameter
    this.#foundInf = tidy(() =>
      noGrad(() => {
        const finite = optimizer.params.flatMap((p) => {
          const g = p.grad;
          return g ? [g.mul_(inv).isfinite().all()] : [];
        });
        return finite.length > 0 && !stack(finite).all().item();
      })
    );
    this.#unscaled = true;
  }

  /** Unscales if needed, then steps unless a gradient was Inf or NaN; true when it stepped. */
  step(optimizer: Optimizer): boolean {
    this.unscale(optimizer);
    if (this.#foundInf) return false;
    optimizer.step();
    return true;
  }

  /**
   * Counts this step as an overflow without stepping, as when a NaN/Inf loss left the gradients
   * finite: {@link update} then lowers the scale.
   */
  skip(): void {
    this.#unscaled = true;
    this.#foundInf = true;
  }

  /** Adjusts the scale after a step: halves it after Inf/NaN, doubles it after a good streak. */
  update(): void {
    if (this.#foundInf) {
      this.#scale *= this.#backoff;
      this.#tracker = 0;
    } else if (++this.#tracker >= this.#interval) {
      this.#scale *= this.#growth;
      this.#tracker = 0;
    }
    this.#unscaled = false;
    this.#foundInf = false;
  }

  /** The state to keep in a checkpoint. */
  stateDict(): GradScalerState {
    return { scale: this.#scale, growthTracker: this.#tracker };
  }

  /** Restores a kept state. */
  loadStateDict(state: GradScalerState): void {
    if (!(state.scale > 0 && Number.isFinite(state.scale))) {
      throw new RangeError(`GradScaler state: scale must be a positive number, got ${state.scale}`);
    }
    this.#scale = state.scale;
    this.#tracker = state.growthTracker;
  }
}
