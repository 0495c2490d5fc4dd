/**
 * Long synchronous loops (training, evaluation, SIB) give the event loop a turn now and then,
 * so signal listeners (Ctrl-C), timers and I/O run while they work.
 *
 * @module
 */

/** Lets timers, I/O and signal listeners run: one macrotask turn of the event loop. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Yields to the event loop when `everyMs` have passed since it last did. */
export class Yielder {
  #last = performance.now();
  /** Milliseconds between turns (default 100: a tenth of a second to notice Ctrl-C). */
  readonly everyMs: number;

  /** A yielder that gives the event loop a turn every `everyMs` milliseconds of work. */
  constructor(everyMs = 100) {
    this.everyMs = everyMs;
  }

  /** Call between steps of work: resolves at once, or after a turn of the event loop. */
  async tick(): Promise<void> {
    if (performance.now() - this.#last < this.everyMs) return;
    await yieldToEventLoop();
    this.#last = performance.now();
  }
}

/** Work stopped on request (Ctrl-C, SIGTERM, a `shouldStop` hook); its message says where. */
export class InterruptedError extends Error {
  /** An InterruptedError with a message saying where the work stands. */
  constructor(message: string) {
    super(message);
    this.name = "InterruptedError";
  }
}
