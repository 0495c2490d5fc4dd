/**
 * Turns the shim's returned error strings into JS exceptions.
 *
 * @module
 */

import { lib } from "./library.ts";

/** An error raised inside libtorch (message without the C++ backtrace). */
export class TorchError extends Error {
  /** The hlgm operation that failed. */
  readonly op: string;
  /** Wraps a libtorch message raised by `op`. */
  constructor(op: string, message: string) {
    super(`${op}: ${message}`);
    this.name = "TorchError";
    this.op = op;
  }
}

/** Throws a TorchError when `err` (a shim call's result) is not null; frees the message. */
export function check(err: Deno.PointerValue, op: string): void {
  if (err === null) return;
  const message = Deno.UnsafePointerView.getCString(err);
  lib.hlgm_free_cstring(err);
  throw new TorchError(op, message);
}
