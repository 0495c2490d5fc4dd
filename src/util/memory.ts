/**
 * Up-front memory bounds: a size that would need more memory than the machine has is refused
 * with the estimate before anything is allocated, instead of failing later with an allocator's
 * message ("Array buffer allocation failed").
 *
 * @module
 */

/** Bytes of memory this machine has, or Infinity when it cannot be read (no `sys` permission). */
export function machineMemory(): number {
  try {
    const total = Deno.systemMemoryInfo().total;
    return total > 0 ? total : Infinity;
  } catch {
    return Infinity;
  }
}

/** A byte count in decimal units: "512 B", "3.1 MB", "784 GB", "2.4e+6 PB". */
export function formatBytes(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB", "PB"];
  let v = bytes;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  const digits = v >= 100 || u === 0 ? 0 : 1;
  return `${v >= 1e6 ? v.toExponential(1) : v.toFixed(digits)} ${units[u]}`;
}

/** Raised when a size would need more memory than the machine has. */
export class MemoryBoundError extends RangeError {
  /** The estimate, in bytes. */
  readonly bytes: number;
  /** The machine's memory, in bytes. */
  readonly available: number;
  /** `what needs X, more than this machine's Y of memory`. */
  constructor(what: string, bytes: number, available: number) {
    super(
      `${what} needs ${formatBytes(bytes)}, more than this machine's ${
        formatBytes(available)
      } of memory`,
    );
    this.name = "MemoryBoundError";
    this.bytes = bytes;
    this.available = available;
  }
}

/**
 * Throws a {@link MemoryBoundError} naming `what` and the estimate when `bytes` exceed the
 * machine's memory (`limit`, default {@link machineMemory}).
 */
export function checkMemory(
  bytes: number,
  what: string,
  limit: number = machineMemory(),
): void {
  if (!(bytes <= limit)) throw new MemoryBoundError(what, bytes, limit);
}
