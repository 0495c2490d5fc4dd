/**
 * Memory management: scopes like TensorFlow.js's engine. Every tensor made while a `tidy`
 * scope is open belongs to the innermost scope; when the scope ends, every tensor it owns is
 * freed except those the function returned (searched through arrays, plain objects, Maps and
 * Sets) and those passed to `keep`. A FinalizationRegistry frees leaked handles as a backstop
 * only: it does not run often enough in a synchronous training loop to bound memory.
 *
 * @module
 */

import { lib } from "../../ffi/mod.ts";

/** Something the engine tracks: a tensor, seen through what scopes need. */
export interface Tracked {
  /** Frees the native handle (idempotent). */
  dispose(): void;
  /** The scope that owns it, if any (managed by the engine). */
  scope?: Set<Tracked>;
}

const scopes: Set<Tracked>[] = [];
let live = 0;

const registry = new FinalizationRegistry<bigint>((handle) => {
  live--;
  lib.hlgm_free(handle);
});

/** Registers a new tensor: counted, owned by the innermost scope, freed if garbage collected. */
export function track(t: Tracked, handle: bigint): void {
  live++;
  registry.register(t, handle, t);
  const scope = scopes[scopes.length - 1];
  if (scope) {
    scope.add(t);
    t.scope = scope;
  }
}

/** Forgets a tensor whose handle was just freed. */
export function untrack(t: Tracked): void {
  live--;
  registry.unregister(t);
  t.scope?.delete(t);
  t.scope = undefined;
}

/** Marks a tensor as owned by the caller: no enclosing `tidy` scope will free it. Returns it. */
export function keep<T extends Tracked>(t: T): T {
  t.scope?.delete(t);
  t.scope = undefined;
  return t;
}

function collect(value: unknown, isTracked: (v: unknown) => v is Tracked, out: Set<Tracked>) {
  const seen = new Set<unknown>();
  const stack = [value];
  // one push per object (spreading a returned array of a million numbers overflowed the stack)
  const add = (items: Iterable<unknown>) => {
    for (const item of items) if (item !== null && typeof item === "object") stack.push(item);
  };
  while (stack.length > 0) {
    const v = stack.pop();
    if (v === null || typeof v !== "object" || seen.has(v)) continue;
    seen.add(v);
    if (isTracked(v)) out.add(v);
    else if (Array.isArray(v)) add(v);
    else if (v instanceof Map) {
      add(v.keys());
      add(v.values());
    } else if (v instanceof Set) add(v);
    else if (Object.getPrototypeOf(v) === Object.prototype) add(Object.values(v));
  }
}

let isTrackedFn: (v: unknown) => v is Tracked = (_v): _v is Tracked => false;

/** Tells the engine how to recognise tensors in returned values (set by the Tensor module). */
export function setTrackedPredicate(fn: (v: unknown) => v is Tracked): void {
  isTrackedFn = fn;
}

/**
 * Runs `fn` in a new scope and frees every tensor created inside it, except what `fn`
 * returns and what it `keep()`s. Returned tensors move to the enclosing scope. If `fn`
 * throws, everything created inside is freed and the error propagates.
 *
 * @example
 * ```ts
 * const loss = tidy(() => model(x).sub(y).square().mean()); // intermediates are freed
 * ```
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Tracked>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
    if (result instanceof Promise) {
      throw new TypeError("tidy() cannot track async functions: await outside and tidy each step");
    }
  } catch (e) {
    scopes.pop();
    for (const t of [...scope]) t.dispose();
    throw e;
  }
  scopes.pop();
  const kept = new Set<Tracked>();
  collect(result, isTrackedFn, kept);
  const parent = scopes[scopes.length - 1];
  for (const t of [...scope]) {
    if (kept.has(t)) {
      t.scope = parent;
      parent?.add(t);
    } else {
      t.dispose();
    }
  }
  return result;
}

/**
 * Runs `fn` between `enter()` and `exit()` (exit also when `fn` throws): a per-thread libtorch
 * state as a scope (grad mode, autocast). `fn` must be synchronous, or the state would cover
 * whatever else runs before its promise settles; `what` names the scope in that error.
 */
export function scoped<T>(enter: () => void, exit: () => void, fn: () => T, what: string): T {
  enter();
  try {
    const result = fn();
    if (result instanceof Promise) {
      throw new TypeError(`${what} takes a synchronous function (its state is per call)`);
    }
    return result;
  } finally {
    exit();
  }
}

/** Live-memory counters. */
export interface MemoryInfo {
  /** Tensors created and not yet disposed (JS objects holding a native handle). */
  liveTensors: number;
  /** Bytes held by live native handles (views of one storage count once each). */
  bytes: number;
  /** Native handles alive in the shim (equals liveTensors unless handles leaked). */
  nativeHandles: number;
  /** Depth of open tidy scopes. */
  scopeDepth: number;
  /** CPU blocks of 1 MiB and more in use by tensors (the caching allocator's, by size class). */
  cpuLargeBytes: number;
  /** Freed large CPU blocks the cache keeps for reuse ({@link releaseCachedMemory} frees them). */
  cpuCachedBytes: number;
  /** Most `cpuLargeBytes` since the process started or the last `memory({ resetPeak: true })`. */
  cpuPeakLargeBytes: number;
}

/** Current live-tensor and byte counts; `resetPeak` starts a new `cpuPeakLargeBytes`. */
export function memory(options: { resetPeak?: boolean } = {}): MemoryInfo {
  const cache = new BigInt64Array(3);
  lib.hlgm_cpu_cache_stats(options.resetPeak ? 1 : 0, cache);
  return {
    liveTensors: live,
    bytes: Number(lib.hlgm_live_bytes()),
    nativeHandles: Number(lib.hlgm_live_handles()),
    scopeDepth: scopes.length,
    cpuLargeBytes: Number(cache[0]),
    cpuCachedBytes: Number(cache[1]),
    cpuPeakLargeBytes: Number(cache[2]),
  };
}

/**
 * Frees the large CPU blocks the caching allocator keeps for reuse, as `torch.cuda.empty_cache()`
 * does on a GPU: all of them, or with `{ unusedOnly: true }` those no allocation took since the
 * previous call (the trainer calls it so at each epoch's end, keeping what every step reuses).
 */
export function releaseCachedMemory(options: { unusedOnly?: boolean } = {}): void {
  lib.hlgm_cpu_cache_trim(options.unusedOnly ? 0 : 1);
}
