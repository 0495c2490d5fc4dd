/**
 * A small pool of module workers for CPU-bound per-item work (image decoding): tasks are
 * handed out in order, two in flight per worker so reading files overlaps decoding, and
 * results are passed to a callback as they arrive.
 *
 * @module
 */

/** Runs `tasks` on `count` workers started from `url`. */
export function runInWorkers<T, R>(
  url: URL,
  tasks: readonly T[],
  count: number,
  /** Called for each result; return false to stop handing out tasks (in-flight ones finish). */
  onResult: (result: R) => boolean | void,
): Promise<void> {
  const n = Math.max(1, Math.min(count, tasks.length));
  const workers: Worker[] = [];
  return new Promise<void>((resolve, reject) => {
    let next = 0;
    let inFlight = 0;
    let stopped = false;
    let settled = false;
    const finish = (error?: Error) => {
      if (settled) return;
      settled = true;
      for (const w of workers) w.terminate();
      if (error) reject(error);
      else resolve();
    };
    const feed = (w: Worker) => {
      if (stopped || next >= tasks.length) return;
      inFlight++;
      w.postMessage(tasks[next++]);
    };
    for (let i = 0; i < n; i++) {
      let w: Worker;
      try {
        w = new Worker(url.href, { type: "module" });
      } catch (e) {
        finish(new Error(`cannot start a decode worker (${(e as Error).message})`));
        return;
      }
      workers.push(w);
      w.onmessage = (e: MessageEvent<R>) => {
        inFlight--;
        let more: boolean | void;
        try {
          more = onResult(e.data);
        } catch (err) {
          finish(err as Error);
          return;
        }
        if (more === false) stopped = true;
        feed(w);
        if (inFlight === 0 && (stopped || next >= tasks.length)) finish();
      };
      w.onerror = (e: ErrorEvent) => {
        e.preventDefault();
        finish(new Error(`decode worker failed: ${e.message}`));
      };
      w.onmessageerror = () => finish(new Error("decode worker sent an unreadable message"));
    }
    for (let round = 0; round < 2; round++) for (const w of workers) feed(w);
    if (inFlight === 0) finish();
  });
}
