/**
 * Ctrl-C during long commands (`train`, `compare`): the first asks the work to stop after the
 * current batch (its checkpoint kept), a second exits at once with 130.
 *
 * @module
 */

import type { ProgressLine } from "./progress.ts";

/**
 * Runs `work` with a SIGINT listener; `work` receives `stopping()`, true once Ctrl-C was
 * pressed, to check between batches. The progress line is ended before the message.
 */
export async function withInterrupt<T>(
  progress: ProgressLine,
  work: (stopping: () => boolean) => Promise<T>,
): Promise<T> {
  let stop = false;
  const onSignal = () => {
    if (stop) Deno.exit(130);
    stop = true;
    progress.done();
    console.error("stopping after this batch (Ctrl-C again to quit at once)...");
  };
  Deno.addSignalListener("SIGINT", onSignal);
  try {
    return await work(() => stop);
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    progress.done();
  }
}
