/**
 * The optimizer base: parameters, per-parameter state tensors held for the fused native
 * update, and state dicts for exact resumption. Subclasses hold the update rule's options and
 * make one native call per step.
 *
 * @module
 */

import { type FusedState, zeroGrads } from "../tensor/fused.ts";
import { keep } from "../tensor/engine.ts";
import { Tensor } from "../tensor/tensor.ts";

/** An optimizer's saved state: JSON-able options and counters, plus state tensors by name. */
export interface OptimizerState {
  /** The optimizer's class ("SGD", "Adadelta", "Adam", "AdamW"). */
  type: string;
  /** Its hyper-parameters (lr, momentum, ...). */
  options: Record<string, number | boolean>;
  /** Per-parameter step counts (Adam/AdamW; zeros otherwise). */
  steps: number[];
  /** State tensors keyed "<param index>.<name>" (torch's state[i][name]). */
  tensors: Map<string, Tensor>;
}

/** Base class of the optimizers. */
export abstract class Optimizer {
  /** The parameters it updates. */
  readonly params: readonly Tensor[];
  /** Learning rate (schedulers change it). */
  abstract lr: number;
  /** Native handles of the parameters, in order. */
  protected readonly handles: BigUint64Array;
  /** Native handles of the state tensors (slot kind k of parameter i at k * n + i; 0 = none). */
  protected readonly slots: BigUint64Array;
  /** Per-parameter step counts (Adam). */
  protected readonly steps: Float64Array;
  readonly #slotNames: readonly string[];
  readonly #owned: (Tensor | undefined)[];

  /** `slotNames`: the per-parameter state tensors of the update rule, in native slot order. */
  protected constructor(params: Iterable<Tensor>, slotNames: readonly string[]) {
    this.params = [...params];
    if (this.params.length === 0) throw new RangeError("optimizer got an empty parameter list");
    this.handles = BigUint64Array.from(this.params, (p) => p.handle);
    this.#slotNames = slotNames;
    this.slots = new BigUint64Array(Math.max(1, slotNames.length) * this.params.length);
    this.#owned = new Array(this.slots.length);
    this.steps = new Float64Array(this.params.length);
  }

  /** Applies one update to every parameter that has a gradient. */
  abstract step(): void;

  /** Buffers as passed to the shim, after checking that no parameter was disposed. */
  protected buffers(): FusedState {
    for (const p of this.params) {
      if (p.isDisposed) {
        throw new Error("an optimizer parameter was disposed; create a new optimizer");
      }
    }
    return {
      params: new Uint8Array(this.handles.buffer),
      n: this.params.length,
      slots: new Uint8Array(this.slots.buffer),
      steps: new Uint8Array(this.steps.buffer),
    };
  }

  /** Takes ownership of state tensors the native step created (first steps only). */
  protected adoptSlots(): void {
    for (let i = 0; i < this.slots.length; i++) {
      if (this.slots[i] !== 0n && this.#owned[i] === undefined) {
        this.#owned[i] = keep(new Tensor(this.slots[i]));
      }
    }
  }

  /** Clears the gradients of all parameters (set to none) in one native call. */
  zeroGrad(): void {
    this.buffers(); // checks that no parameter was disposed
    zeroGrads(this.handles);
  }

  /** Hyper-parameters for the state dict. */
  protected abstract options(): Record<string, number | boolean>;

  /** Copies of the state (dispose the tensors when done, or call inside tidy). */
  stateDict(): OptimizerState {
    const tensors = new Map<string, Tensor>();
    const n = this.params.length;
    this.#slotNames.forEach((name, k) => {
      for (let i = 0; i < n; i++) {
        const t = this.#owned[k * n + i];
        if (t) tensors.set(`${i}.${name}`, t.clone());
      }
    });
    return {
      type: this.constructor.name,
      options: this.options(),
      steps: Array.from(this.steps),
      tensors,
    };
  }

  /** Restores state saved by stateDict() of the same optimizer type over the same parameters. */
  loadStateDict(state: OptimizerState): void {
    if (state.type !== this.constructor.name) {
      throw new Error(`optimizer state is for ${state.type}, not ${this.constructor.name}`);
    }
    const n = this.params.length;
    if (state.steps.length !== n) {
      throw new Error(`optimizer state has ${state.steps.length} parameters, this optimizer ${n}`);
    }
    this.disposeState();
    this.steps.set(state.steps);
    this.#slotNames.forEach((name, k) => {
      for (let i = 0; i < n; i++) {
        const t = state.tensors.get(`${i}.${name}`);
        if (!t) continue;
        if (t.shape.join() !== this.params[i].shape.join()) {
          throw new Error(
            `optimizer state ${i}.${name} has shape [${t.shape}], parameter [${
              this.params[i].shape
            }]`,
          );
        }
        const copy = keep(
          t.to({ device: this.params[i].device, dtype: this.params[i].dtype, copy: true }),
        );
        this.#owned[k * n + i] = copy;
        this.slots[k * n + i] = copy.handle;
      }
    });
    this.setOptions(state.options);
  }

  /** Applies saved hyper-parameters. */
  protected abstract setOptions(options: Record<string, number | boolean>): void;

  /** Frees the state tensors (the parameters are not touched). */
  disposeState(): void {
    for (let i = 0; i < this.slots.length; i++) {
      this.#owned[i]?.dispose();
      this.#owned[i] = undefined;
      this.slots[i] = 0n;
    }
    this.steps.fill(0);
  }

  /** Same as disposeState(). */
  dispose(): void {
    this.disposeState();
  }
}

/** Reads a number option, checking it. */
export function num(value: number | undefined, fallback: number, name: string, min = 0): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v < min) {
    throw new RangeError(`${name} must be a number >= ${min}, got ${v}`);
  }
  return v;
}
