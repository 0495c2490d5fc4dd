/**
 * `train --nproc N`: starts N local ranks of data-parallel training as child processes, the way
 * torchrun's `--nproc_per_node N` does: each gets RANK, LOCAL_RANK, WORLD_SIZE,
 * MASTER_ADDR=127.0.0.1 and MASTER_PORT, and its share of the CPU threads. As torchrun's agent,
 * the launcher serves the rendezvous store itself, on a port the system picks and that it holds
 * until the ranks end: no other job can take the port in between (ranks connect as clients). Rank 0's
 * output goes to this terminal as it is (its progress line included); other ranks print only
 * what goes wrong, each line prefixed with its rank. When a rank fails, the others are given
 * a moment to report what they saw, then stopped; the exit code is the failed rank's.
 *
 * @module
 */

import { isStopExitCode, onStopSignals } from "../util/stop_signals.ts";
import { LAUNCHER_STORE_ENV, RendezvousStore } from "../tensor/distributed.ts";

/** What {@link launchLocalRanks} starts. */
export interface LaunchOptions {
  /** The command of one rank: program and arguments (the same for every rank). */
  command: readonly string[];
  /** Ranks to start (at least 2). */
  nproc: number;
  /** CPU threads in all, split evenly between the ranks (at least one each). */
  threads: number;
  /** Environment added for every rank. */
  env?: Record<string, string>;
  /** Where other ranks' stderr lines go (default: this process's stderr). */
  onRankLine?: (rank: number, line: string) => void;
  /**
   * Seconds the other ranks get to end on their own after one failed (default 30): time to see
   * the failure at their next collective, say so and exit, on a loaded machine too.
   */
  graceSeconds?: number;
}

/** How the ranks ended. */
export interface LaunchResult {
  /**
   * 0 when every rank did; else the first failed rank's exit code (128 + signal if killed), or
   * 130/143 when they stopped on Ctrl-C/SIGTERM.
   */
  code: number;
  /** Each rank's exit code and the signal that killed it, if one did. */
  ranks: { rank: number; code: number; signal: string | null }[];
  /** The first rank that failed and how, or null. */
  failure: string | null;
}

/**
 * CPU threads for all the processes hlgm starts together (ranks, sweep workers):
 * HLGM_NUM_THREADS, else the machine's cores.
 */
export function totalThreads(): number {
  const n = Number(Deno.env.get("HLGM_NUM_THREADS") ?? "");
  return Number.isInteger(n) && n > 0 ? n : navigator.hardwareConcurrency || 1;
}

/** A TCP port free on 127.0.0.1 now (the OS picks it). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

async function forwardLines(
  stream: ReadableStream<Uint8Array>,
  line: (text: string) => void,
): Promise<void> {
  let pending = "";
  for await (const text of stream.pipeThrough(new TextDecoderStream())) {
    const parts = (pending + text).split("\n");
    pending = parts.pop() ?? "";
    parts.forEach(line);
  }
  if (pending) line(pending);
}

/**
 * Starts `nproc` ranks of `command` on this machine and waits for them. Ctrl-C (SIGINT) and
 * SIGTERM sent to this process are passed on to every rank: they agree to stop after the same
 * batch and keep the last checkpoint (exit 130/143, not counted as a failure); a second one
 * makes them quit at once.
 */
export async function launchLocalRanks(options: LaunchOptions): Promise<LaunchResult> {
  const { command, nproc } = options;
  if (!Number.isInteger(nproc) || nproc < 2) {
    throw new RangeError(`nproc must be an integer >= 2, got ${nproc}`);
  }
  const threads = Math.max(1, Math.floor(options.threads / nproc));
  using store = RendezvousStore.serve({ worldSize: nproc });
  const line = options.onRankLine ??
    ((rank: number, text: string) => console.error(`rank ${rank}: ${text}`));
  const children = Array.from({ length: nproc }, (_, rank) =>
    new Deno.Command(command[0], {
      args: command.slice(1),
      env: {
        ...options.env,
        RANK: String(rank),
        LOCAL_RANK: String(rank),
        WORLD_SIZE: String(nproc),
        LOCAL_WORLD_SIZE: String(nproc),
        MASTER_ADDR: "127.0.0.1",
        MASTER_PORT: String(store.port),
        [LAUNCHER_STORE_ENV]: "1",
        HLGM_NUM_THREADS: String(threads),
        [LAUNCHER_PIPE]: "1",
      },
      // nothing is written to it: its end (this process gone, even by SIGKILL) stops the rank
      stdin: "piped",
      stdout: rank === 0 ? "inherit" : "null",
      stderr: rank === 0 ? "inherit" : "piped",
      // a session of its own: Ctrl-C at the terminal reaches this process only, which passes
      // it on once (a rank seeing it twice would quit at once)
      detached: true,
    }).spawn());
  const forwarding = children.map((c, rank) =>
    rank === 0 ? Promise.resolve() : forwardLines(c.stderr, (t) => line(rank, t))
  );
  const ended: LaunchResult["ranks"] = [];
  const killAll = () => {
    for (const [rank, c] of children.entries()) {
      if (ended.some((e) => e.rank === rank)) continue;
      try {
        c.kill("SIGKILL");
      } catch { /* already ended */ }
    }
  };
  // the first Ctrl-C/SIGTERM is passed on (the ranks agree to stop after a batch); a second
  // ends them at once: a rank blocked in a collective would not hear it in time
  let signalled = false;
  const stopListening = onStopSignals((sig, count) => {
    if (count > 1) return killAll();
    signalled = true;
    for (const c of children) {
      try {
        c.kill(sig);
      } catch { /* already ended */ }
    }
  });
  // after a failure the others get `graceSeconds` to report what they saw, then are killed
  let killTimer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.all(children.map(async (c, rank) => {
      const s = await c.status;
      ended.push({ rank, code: s.code, signal: s.signal });
      if (s.code !== 0 && !isStopExitCode(s.code) && killTimer === undefined) {
        killTimer = setTimeout(killAll, (options.graceSeconds ?? 30) * 1000);
      }
    }));
    await Promise.all(forwarding);
  } finally {
    clearTimeout(killTimer);
    stopListening();
    for (const c of children) c.stdin.close().catch(() => {});
  }
  ended.sort((a, b) => a.rank - b.rank);
  return { ...outcome(ended, children.map((c) => c.pid), signalled), ranks: ended };
}

/**
 * The launcher's exit code and message from how the ranks ended: a rank killed by a signal is
 * named (nothing else can say what happened to it); else rank 0's failure, which it explained
 * itself; else another rank's; after Ctrl-C/SIGTERM, 130/143 (a stop, not a failure).
 */
function outcome(
  ended: LaunchResult["ranks"],
  pids: number[],
  signalled: boolean,
): { code: number; failure: string | null } {
  const failed = ended.filter((e) => e.code !== 0 && !isStopExitCode(e.code));
  const killed = signalled ? undefined : failed.find((e) => e.signal !== null);
  if (killed) {
    return {
      code: killed.code,
      failure: `rank ${killed.rank} (pid ${pids[killed.rank]}) was killed by ${killed.signal}`,
    };
  }
  const stopped = ended.find((e) => isStopExitCode(e.code))?.code;
  if (signalled) return { code: stopped ?? 130, failure: null }; // a second signal: SIGKILLed
  const first = failed.find((e) => e.rank === 0) ?? failed[0];
  if (!first) return { code: stopped ?? 0, failure: null };
  return {
    code: first.code || 1,
    failure: first.rank === 0 ? null : `rank ${first.rank} exited with code ${first.code}`,
  };
}

/**
 * Set in every rank's environment: its stdin is a pipe from the launcher, whose end means the
 * launcher is gone (see {@link stopWhenLauncherGoes}).
 */
const LAUNCHER_PIPE = "HLGM_LAUNCHER_PIPE";

/**
 * In a rank started by {@link launchLocalRanks}: when the launcher goes away (killed, or its
 * terminal closed), `stop` is called once (the rank then stops as on SIGTERM, with the others).
 */
export function stopWhenLauncherGoes(stop: () => void): void {
  if (Deno.env.get(LAUNCHER_PIPE) !== "1") return;
  (async () => {
    try {
      for await (const _ of Deno.stdin.readable) { /* nothing is ever sent */ }
    } catch { /* closed */ }
    stop();
  })();
}
