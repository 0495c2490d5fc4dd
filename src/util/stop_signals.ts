/**
 * The signals that ask long work to stop (Ctrl-C's SIGINT and SIGTERM), in one place: the CLI's
 * interrupt handling, the local rank launcher and the sweep's workers all listen through it.
 *
 * @module
 */

/** A signal that asks the work to stop. */
export type StopSignal = "SIGINT" | "SIGTERM";

/** The exit code of a process stopped by each signal: 128 + the signal's number. */
export const STOP_EXIT_CODES: Readonly<Record<StopSignal, number>> = { SIGINT: 130, SIGTERM: 143 };

/** Whether `code` is the exit code of a process that stopped when asked. */
export function isStopExitCode(code: number): boolean {
  return Object.values(STOP_EXIT_CODES).includes(code);
}

/**
 * Calls `onSignal(signal, count)` for every SIGINT and SIGTERM this process receives, `count`
 * numbering them (both kinds together) from 1; returns the function that stops listening.
 */
export function onStopSignals(onSignal: (signal: StopSignal, count: number) => void): () => void {
  let count = 0;
  const listeners = (Object.keys(STOP_EXIT_CODES) as StopSignal[]).map((sig) => {
    const listener = () => onSignal(sig, ++count);
    Deno.addSignalListener(sig, listener);
    return [sig, listener] as const;
  });
  return () => {
    for (const [sig, listener] of listeners) Deno.removeSignalListener(sig, listener);
  };
}
