/**
 * Shared scratch buffers for calling the shim from the main thread (synchronous symbols
 * only: a `nonblocking` call must bring its own buffers).
 *
 * @module
 */

import { check } from "../../ffi/mod.ts";

const outBytes = new Uint8Array(8 * 8);
/** Output handles written by the last call (read right after it). */
export const OUT: BigUint64Array = new BigUint64Array(outBytes.buffer);
/** `OUT` as the byte buffer passed to the shim. */
export const OUT_BUF: Uint8Array = outBytes;

const intBytes = new Uint8Array(64 * 8);
const intView = new BigInt64Array(intBytes.buffer);

/** Writes an int list into the shared scratch buffer (valid until the next call). */
export function intList(values: readonly number[], what = "dimension list"): Uint8Array {
  if (values.length > 64) throw new RangeError(`${what} is too long (${values.length} > 64)`);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isSafeInteger(v)) {
      throw new TypeError(`${what} must hold integers, got ${JSON.stringify(values)}`);
    }
    intView[i] = BigInt(v);
  }
  return intBytes;
}

/** A fresh buffer of handles (for tensor lists). */
export function handleList(handles: readonly bigint[]): BigUint64Array {
  return BigUint64Array.from(handles);
}

/** Throws on a shim error, else returns the first output handle. */
export function out1(err: Deno.PointerValue, op: string): bigint {
  check(err, op);
  return OUT[0];
}

/** Throws on a shim error, else returns the first two output handles. */
export function out2(err: Deno.PointerValue, op: string): [bigint, bigint] {
  check(err, op);
  return [OUT[0], OUT[1]];
}

/** Normalises `number | number[] | undefined` to a list. */
export function dimList(dim: number | readonly number[] | undefined): number[] {
  if (dim === undefined) return [];
  return typeof dim === "number" ? [dim] : [...dim];
}
