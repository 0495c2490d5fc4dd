/**
 * Ctrl-C (SIGINT) and SIGTERM during long commands (`train`, `compare`, `sib`, `demo`): the
 * first signal asks the work to stop after the current batch, keeping what is already written
 * (checkpoints and metrics are written atomically); a second exits at once. The exit code is
 * 128 + the signal's number: 130 for Ctrl-C, 143 for SIGTERM.
 *
 * @module
 */

import type { ProgressLine } from "./progress.ts";
import { onStopSignals, STOP_EXIT_CODES, type StopSignal } from "../src/util/stop_signals.ts";

/** The signal that stopped the work, if any. */
export type { StopSignal };

/** What the work sees: whether to stop, and why. */
export interface Interrupt {
  /** True once a signal came: stop after the current batch. */
  stopping: () => boolean;
  /** The signal that came first, if one did. */
  signal: () => StopSignal | null;
}

/** The exit code for a stop by `signal` (130 for SIGINT, 143 for SIGTERM). */
function exitCodeFor(signal: StopSignal): number {
  return STOP_EXIT_CODES[signal];
}

/**
 * Runs `work` with listeners for SIGINT and SIGTERM. On the first signal the progress line is
 * ended and one line says what happens; `work` sees `stopping()` turn true. A second signal
 * exits at once. When the work returns after a signal, the process exit code is set to the
 * signal's (130 or 143); the caller prints where things stand. `quiet`: no line about the
 * first signal (a rank of data-parallel training other than rank 0).
 */
export async function withInterrupt<T>(
  progress: ProgressLine,
  work: (interrupt: Interrupt) => Promise<T>,
  { quiet = false }: { quiet?: boolean } = {},
): Promise<T> {
  let first: StopSignal | null = null;
  const stopListening = onStopSignals((sig, count) => {
    if (count > 1) {
      progress.done();
      console.error("stopped at once");
      Deno.exit(exitCodeFor(sig));
    }
    first = sig;
    progress.done();
    const name = sig === "SIGINT" ? "Ctrl-C" : sig;
    if (quiet) return; // another process (rank 0 of data-parallel training) says it
    console.error(
      `${name}: stopping once the current batch, and any checkpoint due, is done ` +
        `(${name} again quits at once)...`,
    );
  });
  try {
    return await work({ stopping: () => first !== null, signal: () => first });
  } finally {
    stopListening();
    progress.done();
    if (first !== null) Deno.exitCode = exitCodeFor(first);
  }
}
