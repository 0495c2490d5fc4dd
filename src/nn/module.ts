/**
 * Module: the base of every layer and model, as torch.nn.Module. Holds named parameters,
 * buffers (running statistics) and child modules; state-dict keys are PyTorch's
 * ("layer1.0.conv1.weight"), so weights move between hlgm and PyTorch both ways.
 *
 * @module
 */

import { Parameter } from "./parameter.ts";
import { zeroGrads } from "../tensor/fused.ts";
import { noGrad } from "../tensor/autograd.ts";
import { type Device, deviceCode, deviceName } from "../tensor/device.ts";
import { keep, tidy } from "../tensor/engine.ts";
import type { MemoryFormat } from "../tensor/memory_format.ts";
import type { Tensor } from "../tensor/tensor.ts";

/** A state dict: tensors by PyTorch key. */
export type StateDict = Map<string, Tensor> | Record<string, Tensor>;

/** What loadStateDict found (strict mode throws instead when any list is non-empty). */
export interface LoadResult {
  /** Keys the module has and the state dict lacks. */
  missingKeys: string[];
  /** Keys the state dict has and the module lacks. */
  unexpectedKeys: string[];
  /** Keys present in both with different shapes ("key: expected [..], got [..]"). */
  shapeMismatches: string[];
}

/** Base class of layers and models. Subclasses register their parts and define `forward`. */
export abstract class Module {
  /** Training mode (dropout active, batch statistics); change with train()/eval(). */
  training = true;
  readonly #params = new Map<string, Parameter>();
  readonly #buffers = new Map<string, Tensor>();
  readonly #nonPersistent = new Set<string>();
  readonly #children = new Map<string, Module>();

  /** The layer's computation. */
  abstract forward(x: Tensor): Tensor;

  /** Registers `data` as a parameter named `name` (it takes over the tensor). */
  protected registerParameter(name: string, data: Tensor, requiresGrad = true): Parameter {
    this.#checkName(name);
    const p = data instanceof Parameter ? data : new Parameter(data, requiresGrad);
    this.#params.set(name, p);
    return p;
  }

  /** Registers a buffer (state that is saved but not trained, e.g. running means). */
  protected registerBuffer(name: string, data: Tensor, persistent = true): Tensor {
    this.#checkName(name);
    keep(data);
    this.#buffers.set(name, data);
    if (!persistent) this.#nonPersistent.add(name);
    return data;
  }

  /** Registers a child module; its parameters get the prefix `name.`. */
  protected registerModule<M extends Module>(name: string, module: M): M {
    this.#checkName(name);
    this.#children.set(name, module);
    return module;
  }

  /** Replaces a registered child (e.g. a new classification head), freeing the old one. */
  protected replaceModule<M extends Module>(name: string, module: M): M {
    const old = this.#children.get(name);
    if (!old) throw new TypeError(`${this.constructor.name} has no child "${name}" to replace`);
    if (old !== module) old.dispose();
    this.#children.set(name, module);
    return module;
  }

  #checkName(name: string): void {
    if (name === "" || name.includes(".")) throw new TypeError(`invalid member name "${name}"`);
    if (this.#params.has(name) || this.#buffers.has(name) || this.#children.has(name)) {
      throw new TypeError(`"${name}" is already registered in ${this.constructor.name}`);
    }
  }

  /** Direct children with their names. */
  namedChildren(): [string, Module][] {
    return [...this.#children];
  }

  /** Direct children. */
  children(): Module[] {
    return [...this.#children.values()];
  }

  /** This module and every descendant, with dotted names ("" for this one). */
  namedModules(prefix = ""): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, child] of this.#children) {
      out.push(...child.namedModules(prefix ? `${prefix}.${name}` : name));
    }
    return out;
  }

  /** Every parameter with its dotted name, in registration order (as PyTorch). */
  namedParameters(): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, p] of m.#params) out.push([prefix ? `${prefix}.${name}` : name, p]);
    }
    return out;
  }

  /** Every parameter. */
  parameters(): Parameter[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Every buffer with its dotted name (persistent ones only unless `all`). */
  namedBuffers(all = true): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, b] of m.#buffers) {
        if (all || !m.#nonPersistent.has(name)) out.push([prefix ? `${prefix}.${name}` : name, b]);
      }
    }
    return out;
  }

  /** Total number of parameter elements. */
  numParameters(): number {
    return this.parameters().reduce((n, p) => n + p.numel(), 0);
  }

  /** Sets training mode on this module and its descendants. */
  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  /** Sets evaluation mode (same as train(false)). */
  eval(): this {
    return this.train(false);
  }

  /** Moves parameters and buffers to `device` in place (objects keep their identity). */
  to(device: Device): this {
    const code = deviceCode(device);
    const target = deviceName(code);
    for (const t of [...this.parameters(), ...this.namedBuffers().map(([, b]) => b)]) {
      if (t.device === target) continue;
      tidy(() => {
        t.setData(t.detach().to(target));
      });
    }
    return this;
  }

  /**
   * Lays out every 4-D parameter and buffer in `format` in place (PyTorch's
   * `model.to(memory_format=torch.channels_last)`): convolution weights, for models fed
   * channels-last inputs. Values, shapes, identities and state-dict order stay the same.
   */
  toMemoryFormat(format: MemoryFormat): this {
    for (const t of [...this.parameters(), ...this.namedBuffers().map(([, b]) => b)]) {
      if (t.shape.length !== 4 || t.isContiguous(format)) continue;
      tidy(() => {
        t.setData(t.detach().contiguous(format));
      });
    }
    return this;
  }

  /** Clears every parameter's gradient (set to none) in one native call. */
  zeroGrad(): void {
    zeroGrads(BigUint64Array.from(this.parameters(), (p) => p.handle));
  }

  /**
   * Parameters and persistent buffers by PyTorch key, as new tensors sharing their storage
   * (detached). Dispose them, or call inside tidy().
   */
  stateDict(): Map<string, Tensor> {
    // PyTorch's order: each module's parameters, then its persistent buffers, then children.
    const out = new Map<string, Tensor>();
    for (const [prefix, m] of this.namedModules()) {
      const key = (name: string) => (prefix ? `${prefix}.${name}` : name);
      for (const [name, p] of m.#params) out.set(key(name), p.detach());
      for (const [name, b] of m.#buffers) {
        if (!m.#nonPersistent.has(name)) out.set(key(name), b.detach());
      }
    }
    return out;
  }

  /**
   * Copies values from a state dict into the parameters and buffers (converting dtype and
   * device as needed). Strict (default): any missing, unexpected or wrongly shaped key throws
   * one error listing them all, and nothing is copied. Non-strict: matching keys are copied,
   * the rest reported.
   */
  loadStateDict(stateDict: StateDict, options: { strict?: boolean } = {}): LoadResult {
    const strict = options.strict ?? true;
    const source = stateDict instanceof Map ? stateDict : new Map(Object.entries(stateDict));
    const own = new Map<string, Tensor>([...this.namedParameters(), ...this.namedBuffers(false)]);
    const result: LoadResult = { missingKeys: [], unexpectedKeys: [], shapeMismatches: [] };
    for (const key of own.keys()) if (!source.has(key)) result.missingKeys.push(key);
    for (const key of source.keys()) if (!own.has(key)) result.unexpectedKeys.push(key);
    for (const [key, t] of own) {
      const s = source.get(key);
      if (s && !sameShape(s.shape, t.shape)) {
        result.shapeMismatches.push(
          `${key}: expected [${t.shape.join(", ")}], got [${s.shape.join(", ")}]`,
        );
      }
    }
    const problems = [
      ...(result.missingKeys.length ? [`missing keys: ${result.missingKeys.join(", ")}`] : []),
      ...(result.unexpectedKeys.length
        ? [`unexpected keys: ${result.unexpectedKeys.join(", ")}`]
        : []),
      ...(result.shapeMismatches.length
        ? [`shape mismatches: ${result.shapeMismatches.join("; ")}`]
        : []),
    ];
    if (strict && problems.length > 0) {
      throw new Error(`loadStateDict(${this.constructor.name}) failed: ${problems.join(" | ")}`);
    }
    noGrad(() => {
      for (const [key, t] of own) {
        const s = source.get(key);
        if (s && sameShape(s.shape, t.shape)) t.copy_(s);
      }
    });
    return result;
  }

  /** Frees every parameter and buffer of this module and its descendants. */
  dispose(): void {
    for (const p of this.parameters()) p.dispose();
    for (const [, b] of this.namedBuffers()) b.dispose();
  }

  /** Same as dispose(), for `using model = ...`. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /** A one-line-per-module summary with parameter counts. */
  toString(): string {
    return this.namedModules()
      .map(([name, m]) => {
        const own = m.#params.size
          ? ` (${[...m.#params.values()].reduce((n, p) => n + p.numel(), 0)} params)`
          : "";
        const depth = name ? name.split(".").length : 0;
        return `${"  ".repeat(depth)}${name || "(root)"}: ${m.constructor.name}${own}`;
      })
      .join("\n");
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Runs children in order (torch.nn.Sequential); children are named "0", "1", ... */
export class Sequential extends Module {
  readonly #layers: Module[];
  /** Builds the chain. */
  constructor(...layers: Module[]) {
    super();
    this.#layers = layers;
    layers.forEach((m, i) => this.registerModule(String(i), m));
  }
  /** The i-th layer. */
  at(i: number): Module {
    return this.#layers[i];
  }
  /** Number of layers. */
  get length(): number {
    return this.#layers.length;
  }
  /** Applies each layer in turn. */
  forward(x: Tensor): Tensor {
    let h = x;
    for (const m of this.#layers) h = m.forward(h);
    return h;
  }
}

/** Passes its input through (torch.nn.Identity). */
export class Identity extends Module {
  /** Returns x unchanged. */
  forward(x: Tensor): Tensor {
    return x;
  }
}
