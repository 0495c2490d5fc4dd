/**
 * Data-parallel collectives (src/tensor/distributed.ts over native/distributed.cpp): two real
 * ranks (tests/dist_worker.ts, one libtorch thread each) on 127.0.0.1 run broadcast,
 * all-reduce SUM, bucketed gradient means and a model's averaged gradient; a killed rank and a
 * stopped (silent) rank make the survivor fail with an error instead of hanging; and
 * distributedEnv's parsing of launcher variables.
 */

import assert from "node:assert/strict";
import {
  cudaDeviceCount,
  distributedAvailable,
  distributedEnv,
  distributedUnavailableReason,
  LAUNCHER_STORE_ENV,
  ncclAvailable,
  ProcessGroup,
  RendezvousStore,
} from "../mod.ts";
import { MEAN_SHAPES } from "./dist_worker.ts";
import { freePort } from "../src/runs/launch.ts";

const WORKER = new URL("./dist_worker.ts", import.meta.url).pathname;
const decoder = new TextDecoder();

/** This machine's shim must have c10d: fail (never skip) when it does not, saying why. */
function requireC10d(): void {
  assert.ok(
    distributedAvailable(),
    `the hlgm shim was built without c10d: ${distributedUnavailableReason()}`,
  );
}

/**
 * How long a step may take before the test calls it a hang. Generous: on a loaded machine
 * starting Deno and libtorch alone can take a minute; what is timed is measured by the ranks.
 */
const HANG_MS = 300_000;

interface Rank {
  child: Deno.ChildProcess;
  stdout: string[];
  stderr: string[];
  /** Resolves with the exit status once both streams are read. */
  done: Promise<Deno.CommandStatus>;
  /** Resolves when a stdout line matches. */
  waitFor(re: RegExp): Promise<string>;
}

function spawnRank(rank: number, world: number, port: number, args: string[]): Rank {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", WORKER, ...args],
    env: {
      RANK: String(rank),
      WORLD_SIZE: String(world),
      LOCAL_RANK: String(rank),
      MASTER_ADDR: "127.0.0.1",
      MASTER_PORT: String(port),
      HLGM_NUM_THREADS: "1",
      NO_COLOR: "1",
    },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdout: string[] = [];
  const stderr: string[] = [];
  const waiters: { re: RegExp; resolve: (line: string) => void }[] = [];
  const pump = async (stream: ReadableStream<Uint8Array>, lines: string[], watch: boolean) => {
    let rest = "";
    for await (const chunk of stream) {
      const parts = (rest + decoder.decode(chunk, { stream: true })).split("\n");
      rest = parts.pop()!;
      for (const line of parts) {
        lines.push(line);
        if (!watch) continue;
        for (const w of waiters.filter((w) => w.re.test(line))) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
    if (rest !== "") lines.push(rest);
  };
  const streams = Promise.all([
    pump(child.stdout, stdout, true),
    pump(child.stderr, stderr, false),
  ]);
  const done = streams.then(() => child.status);
  return {
    child,
    stdout,
    stderr,
    done,
    waitFor(re) {
      const seen = stdout.find((l) => re.test(l));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve) => waiters.push({ re, resolve }));
    },
  };
}

/**
 * Starts the ranks' rendezvous together: waits until every rank has opened libtorch (READY),
 * then lets them all join at once.
 */
async function go(ranks: Rank[]): Promise<void> {
  await within(Promise.all(ranks.map((r) => r.waitFor(/^READY$/))), HANG_MS, "READY", ranks);
  const line = new TextEncoder().encode("GO\n");
  for (const r of ranks) {
    const w = r.child.stdin.getWriter();
    await w.write(line);
    await w.close();
  }
}

/** Waits for `p`, failing after `ms` (and killing the ranks, so nothing is left running). */
async function within<T>(p: Promise<T>, ms: number, what: string, ranks: Rank[]): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      for (const r of ranks) {
        try {
          r.child.kill("SIGKILL");
        } catch { /* already gone */ }
      }
      const logs = ranks.map((r, i) => `rank ${i}: ${[...r.stdout, ...r.stderr].join(" | ")}`);
      reject(new Error(`${what} did not finish within ${ms} ms\n${logs.join("\n")}`));
    }, ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function result(r: Rank, status: Deno.CommandStatus, i: number) {
  assert.equal(status.code, 0, `rank ${i} failed: ${r.stderr.join("\n")}`);
  const line = r.stdout.find((l) => l.startsWith("RESULT "));
  assert.ok(line, `rank ${i} printed no RESULT line: ${r.stdout.join("\n")}`);
  return JSON.parse(line.slice("RESULT ".length));
}

const range = (n: number) => Array.from({ length: n }, (_, j) => j);

Deno.test({
  name: "distributed: two ranks broadcast, all-reduce, average bucketed gradients exactly",
  sanitizeResources: false,
  async fn() {
    requireC10d();
    const port = freePort();
    const ranks = [0, 1].map((r) => spawnRank(r, 2, port, ["collectives", "60000"]));
    await go(ranks);
    const statuses = await within(
      Promise.all(ranks.map((r) => r.done)),
      HANG_MS,
      "collectives",
      ranks,
    );
    const [r0, r1] = ranks.map((r, i) => result(r, statuses[i], i));
    assert.deepEqual([r0.rank, r1.rank, r0.worldSize], [0, 1, 2]);

    // (a) broadcast: rank 0's values everywhere (and rank 1's for the root-1 call)
    for (const r of [r0, r1]) {
      assert.deepEqual(r.broadcast.a, range(12));
      assert.deepEqual(r.broadcast.b, range(5));
      assert.deepEqual(r.broadcast.c, [0.5]);
      assert.deepEqual(r.broadcast.d, [1, 1, 1]);
    }
    // (b) exact sums, float and integer
    for (const r of [r0, r1]) {
      assert.deepEqual(r.sum.x, range(7).map((j) => 2 * j * 0.5 + 1));
      assert.deepEqual(r.sum.n, [3, 100, -6]);
      assert.deepEqual(r.sum.s, [2.25]);
    }
    // (c) bucketed mean over tensors of several sizes: ((1 + 2) (i + 1) + 2 j / 4) / 2
    for (const r of [r0, r1]) {
      MEAN_SHAPES.forEach((shape, i) => {
        const n = shape.reduce((a, b) => a * b, 1);
        let want = range(n).map((j) => (3 * (i + 1) + 2 * j * 0.25) / 2);
        // tensor 4 was a transposed view of a [3, 5] tensor: its values read in [5, 3] order
        if (i === 4) {
          assert.deepEqual(r.mean.base, want, "the view's storage holds the mean");
          want = range(15).map((k) => want[(k % 3) * 5 + Math.floor(k / 3)]);
        }
        assert.deepEqual(r.mean.tensors[i], want, `tensor ${i} ${JSON.stringify(shape)}`);
      });
    }
    // (d) half batches averaged over 2 ranks = the full batch's gradient
    for (const r of [r0, r1]) {
      assert.ok(r.gradient.worst <= 1e-6, `worst difference ${r.gradient.worst}`);
      assert.ok(r.gradient.fullNorm > 1e-6, "the gradient is not trivially zero");
    }
    assert.deepEqual(r1.gradient.weights, r0.gradient.weights, "rank 1 got rank 0's weights");
    // different lists are refused on every rank, before any data moves; the group still works
    for (const r of [r0, r1]) {
      assert.match(
        r.mismatch.error,
        /^broadcast: the ranks passed different tensor lists \(1 to 2 tensors, 4 to 6 elements; this is rank [01] of 2/,
      );
    }
    console.log(
      `all-reduce mean of 1.2M float32 between 2 ranks: median ${
        r0.allReduce.medianMs.toFixed(2)
      } ms, min ${r0.allReduce.minMs.toFixed(2)} ms`,
    );
  },
});

/**
 * Starts a 2-rank loop, lets it run, then does `hurt` to rank 1; rank 0 must fail, not hang.
 * Returns rank 0's error line and how long its failing call took (measured by rank 0 itself).
 */
async function survivorFails(hurt: (r: Rank) => void, timeoutMs: number) {
  requireC10d();
  const port = freePort();
  const ranks = [0, 1].map((r) => spawnRank(r, 2, port, ["loop", String(timeoutMs)]));
  try {
    await go(ranks);
    await within(Promise.all(ranks.map((r) => r.waitFor(/^ITER 3$/))), HANG_MS, "the loop", ranks);
    hurt(ranks[1]);
    const status = await within(ranks[0].done, HANG_MS, "rank 0's failure", ranks);
    assert.notEqual(status.code, 0, "rank 0 exited non-zero");
    // one line from the worker (libtorch may print warnings of its own before it)
    const lines = ranks[0].stderr.filter((l) => l.startsWith("dist_worker"));
    assert.equal(lines.length, 1, `one line: ${ranks[0].stderr.join("\n")}`);
    assert.equal(ranks[0].stderr.at(-1), lines[0]);
    const took = Number(lines[0].match(/\| failed after (\d+) ms$/)?.[1]);
    assert.ok(Number.isFinite(took), lines[0]);
    return { line: lines[0], took };
  } finally {
    for (const r of ranks) {
      try {
        r.child.kill("SIGKILL");
      } catch { /* already gone */ }
    }
    await Promise.all(ranks.map((r) => r.done));
  }
}

Deno.test({
  name: "distributed: a killed rank makes the other's next collective fail quickly, not hang",
  sanitizeResources: false,
  async fn() {
    // a minute's timeout: a failure well within it came from the closed connection
    const { line, took } = await survivorFails((r) => r.child.kill("SIGKILL"), 60_000);
    assert.match(line, /^dist_worker rank 0: allReduceSum: failed on rank 0 of 2: /);
    assert.match(line, /peer|closed|reset/i);
    assert.doesNotMatch(line, /timeout|timed out/i);
    assert.match(
      line,
      /\| next call: barrier: rank 0 of 2: the process group is unusable after an earlier error/,
    );
    assert.ok(took < 30_000, `the failing call took ${took} ms`);
  },
});

Deno.test({
  name: "distributed: a silent (stopped) rank makes the other fail after the group's timeout",
  sanitizeResources: false,
  async fn() {
    const { line, took } = await survivorFails((r) => r.child.kill("SIGSTOP"), 5000);
    assert.match(line, /^dist_worker rank 0: allReduceSum: failed on rank 0 of 2: /);
    assert.match(line, /timeout of 5000 ms|timed out/i);
    // not before the timeout; after it, only as late as the machine's load delays the wake-up
    assert.ok(took >= 4900 && took < 65_000, `the failing call took ${took} ms`);
  },
});

Deno.test("distributed: bad options are refused before any connection", () => {
  requireC10d();
  const base = { rank: 0, worldSize: 2, masterAddr: "127.0.0.1", masterPort: 29500 };
  assert.throws(
    () => ProcessGroup.init({ ...base, rank: 2 }),
    /rank is 2, expected an integer 0\.\.1/,
  );
  assert.throws(() => ProcessGroup.init({ ...base, worldSize: 0 }), /worldSize is 0/);
  assert.throws(() => ProcessGroup.init({ ...base, masterPort: 70000 }), /masterPort is 70000/);
  assert.throws(() => ProcessGroup.init({ ...base, masterAddr: "" }), /masterAddr is empty/);
  assert.throws(() => ProcessGroup.init({ ...base, timeoutMs: 0 }), /timeoutMs is 0/);
});

Deno.test("distributed: a world of one needs no peers; destroy is idempotent", async () => {
  requireC10d();
  const { tensor, tidy } = await import("../mod.ts");
  const pg = ProcessGroup.init({
    rank: 0,
    worldSize: 1,
    masterAddr: "127.0.0.1",
    masterPort: freePort(),
    timeoutMs: 10_000,
  });
  try {
    tidy(() => {
      const t = tensor([1, 2, 3]);
      pg.allReduceSum([t]);
      pg.allReduceMeanGradients([t], 4);
      pg.broadcast([t]);
      pg.barrier();
      assert.deepEqual(Array.from(t.data() as Float32Array), [1, 2, 3]);
      assert.throws(
        () => pg.allReduceMeanGradients([tensor([1, 2], { dtype: "int64" })]),
        /^TorchError: allReduceMeanGradients: gradients must be floating point, got a Long tensor$/,
      );
      assert.throws(() => pg.broadcast([t], 1), /root is 1, expected an integer 0\.\.0/);
    });
  } finally {
    pg.destroy();
    pg.destroy();
  }
  assert.equal(pg.destroyed, true);
  assert.throws(() => pg.barrier(), /the process group was destroyed/);
});

/**
 * The sequence that can leave native state behind, repeated in this one process: this process
 * is rank 0 and a child is rank 1; the child is killed (its connections close) or stopped (the
 * collective times out); the broken group is then destroyed, destroyed twice, used again and
 * destroyed, or left alone while new groups start (a world of one, and the next pair), and the
 * groups left alone are destroyed at the end. A crash here takes the whole test process down.
 */
Deno.test({
  name:
    "distributed: broken groups (killed or stopped peer) destroyed, re-destroyed or left alone while new groups start, in one process",
  sanitizeResources: false,
  async fn() {
    requireC10d();
    const { zeros } = await import("../mod.ts");
    const leftAlone: ProcessGroup[] = [];
    let peer: Rank | undefined;
    const newPeer = async () => {
      const r = spawnRank(1, 2, 1, ["peer"]);
      await within(r.waitFor(/^READY$/), HANG_MS, "the peer's READY", [r]);
      return r;
    };
    const say = async (r: Rank, line: string) => {
      const w = r.child.stdin.getWriter();
      await w.write(new TextEncoder().encode(`${line}\n`));
      w.releaseLock();
    };
    const actions = ["destroy", "destroy twice", "use again, then destroy", "leave alone"];
    try {
      for (let i = 0; i < 8; i++) {
        const kill = i % 2 === 0;
        peer ??= await newPeer();
        const timeoutMs = kill ? 60_000 : 4000; // the stopped peer: the rendezvous must fit too
        const port = freePort();
        await say(peer, `JOIN ${port} ${timeoutMs}`);
        const pg = ProcessGroup.init({
          rank: 0,
          worldSize: 2,
          masterAddr: "127.0.0.1",
          masterPort: port,
          timeoutMs,
        });
        const t = zeros([1000]);
        let error = "";
        try {
          for (let k = 0; k < 3; k++) pg.allReduceSum([t]); // the peer's loop is in step
          peer.child.kill(kill ? "SIGKILL" : "SIGSTOP");
          for (let k = 0; k < 10_000 && error === ""; k++) {
            try {
              pg.allReduceSum([t]);
            } catch (e) {
              error = (e as Error).message;
            }
          }
        } finally {
          t.dispose();
        }
        assert.match(error, kill ? /peer|closed|reset/i : /timeout of 4000 ms|timed out/i);
        const action = actions[Math.floor(i / 2) % actions.length];
        if (action === "destroy") pg.destroy();
        else if (action === "destroy twice") {
          pg.destroy();
          pg.destroy();
        } else if (action === "use again, then destroy") {
          assert.throws(() => pg.barrier(), /unusable after an earlier error/);
          pg.destroy();
        } else leftAlone.push(pg);
        assert.equal(pg.destroyed, action !== "leave alone");
        if (kill) {
          await peer.done;
          peer = undefined;
        } else {
          // woken up, the peer finds its group broken too and waits for the next JOIN
          peer.child.kill("SIGCONT");
          await within(peer.waitFor(/^LEFT /), HANG_MS, "the peer's LEFT", [peer]);
          peer.stdout.length = 0;
        }
        // a world of one beside what is left
        const one = ProcessGroup.init({
          rank: 0,
          worldSize: 1,
          masterAddr: "127.0.0.1",
          masterPort: freePort(),
          timeoutMs: 10_000,
        });
        const x = zeros([3]);
        one.allReduceSum([x]);
        one.barrier();
        x.dispose();
        one.destroy();
      }
    } finally {
      for (const pg of leftAlone) pg.destroy();
      if (peer) {
        peer.child.kill("SIGKILL");
        await peer.done;
      }
    }
    assert.equal(leftAlone.length, 2);
  },
});

Deno.test("RendezvousStore: served on a port the system picks, held until closed; ranks join as clients", () => {
  requireC10d();
  const store = RendezvousStore.serve({ worldSize: 1, timeoutMs: 10_000 });
  try {
    assert.ok(store.port >= 1 && store.port <= 65535, `port ${store.port}`);
    // the port is taken while the store is served: another store, or a rank 0 serving its own
    assert.throws(
      () => RendezvousStore.serve({ worldSize: 1, port: store.port }),
      new RegExp(
        `^TorchError: RendezvousStore.serve: serving a rendezvous store on port ${store.port} failed: .*Address already in use`,
      ),
    );
    const base = { rank: 0, worldSize: 1, masterAddr: "127.0.0.1", masterPort: store.port };
    assert.throws(
      () => ProcessGroup.init({ ...base, timeoutMs: 10_000 }),
      new RegExp(
        `serving the rendezvous store at 127\\.0\\.0\\.1:${store.port} as rank 0 of 1 failed: .*Address already in use`,
      ),
    );
    // a rank that connects as a client (the launcher serves) joins and runs collectives
    const pg = ProcessGroup.init({ ...base, timeoutMs: 10_000, storeClientOnly: true });
    pg.barrier();
    pg.destroy();
  } finally {
    store.close();
    store.close();
  }
  assert.equal(store.closed, true);
  assert.throws(() => RendezvousStore.serve({ worldSize: 0 }), /worldSize is 0/);
  assert.throws(() => RendezvousStore.serve({ worldSize: 1, port: 70000 }), /port is 70000/);
});

// (f) launcher variables

const torchrunEnv = {
  RANK: "1",
  WORLD_SIZE: "4",
  LOCAL_RANK: "1",
  MASTER_ADDR: "node0",
  MASTER_PORT: "29500",
  TORCHELASTIC_USE_AGENT_STORE: "True",
  TORCHELASTIC_RESTART_COUNT: "2",
};

Deno.test("distributedEnv: torchrun's variables (the agent serves the store)", () => {
  assert.deepEqual(distributedEnv(torchrunEnv), {
    launcher: "torchrun",
    rank: 1,
    worldSize: 4,
    localRank: 1,
    masterAddr: "node0",
    masterPort: 29500,
    prefix: "/worker/attempt_2",
    storeClientOnly: true,
  });
  const { TORCHELASTIC_RESTART_COUNT: _, ...noCount } = torchrunEnv;
  assert.throws(() => distributedEnv(noCount), /^Error: TORCHELASTIC_RESTART_COUNT is not set/);
  assert.throws(
    () => distributedEnv({ ...torchrunEnv, TORCHELASTIC_RESTART_COUNT: "-1" }),
    /TORCHELASTIC_RESTART_COUNT is "-1", expected a non-negative integer/,
  );
});

Deno.test("distributedEnv: RANK and WORLD_SIZE set by hand (rank 0 serves the store)", () => {
  const env = { RANK: "0", WORLD_SIZE: "2", MASTER_ADDR: "10.0.0.1", MASTER_PORT: "1234" };
  assert.deepEqual(distributedEnv(env), {
    launcher: "env",
    rank: 0,
    worldSize: 2,
    localRank: 0,
    masterAddr: "10.0.0.1",
    masterPort: 1234,
    prefix: "",
    storeClientOnly: false,
  });
  const bad: [Record<string, string>, RegExp][] = [
    [{ ...env, WORLD_SIZE: "x" }, /^WORLD_SIZE is "x", expected a positive integer$/],
    [{ ...env, WORLD_SIZE: "0" }, /^WORLD_SIZE is "0", expected a positive integer$/],
    [{ ...env, WORLD_SIZE: "1.5" }, /^WORLD_SIZE is "1.5", expected a positive integer$/],
    [{ ...env, RANK: "2" }, /^RANK is 2, expected 0\.\.1 \(WORLD_SIZE is 2\)$/],
    [{ ...env, RANK: "-1" }, /^RANK is "-1", expected a non-negative integer$/],
    [{ ...env, RANK: "" }, /^RANK is not set$/],
    [{ RANK: "0", MASTER_ADDR: "h", MASTER_PORT: "1" }, /^WORLD_SIZE is not set$/],
    [{ ...env, MASTER_ADDR: " " }, /^MASTER_ADDR is not set \(RANK and WORLD_SIZE are\)/],
    [{ ...env, MASTER_PORT: "" }, /^MASTER_PORT is not set/],
    [{ ...env, MASTER_PORT: "65536" }, /^MASTER_PORT is "65536", expected .* up to 65535$/],
    [{ ...env, MASTER_PORT: "http" }, /^MASTER_PORT is "http"/],
    [{ ...env, LOCAL_RANK: "a" }, /^LOCAL_RANK is "a"/],
  ];
  for (const [e, re] of bad) {
    assert.throws(() => distributedEnv(e), (err: Error) => re.test(err.message), JSON.stringify(e));
  }
  // hlgm's --nproc launcher serves the store: every rank connects as a client
  assert.deepEqual(distributedEnv({ ...env, RANK: "1", [LAUNCHER_STORE_ENV]: "1" }), {
    launcher: "hlgm",
    rank: 1,
    worldSize: 2,
    localRank: 1,
    masterAddr: "10.0.0.1",
    masterPort: 1234,
    prefix: "",
    storeClientOnly: true,
  });
  // LOCAL_RANK defaults to the rank; TORCHELASTIC_USE_AGENT_STORE other than "True" is ignored
  const e2 = distributedEnv({ ...env, RANK: "1", TORCHELASTIC_USE_AGENT_STORE: "False" });
  assert.equal(e2?.localRank, 1);
  assert.equal(e2?.launcher, "env");
  assert.equal(e2?.storeClientOnly, false);
});

Deno.test("distributedEnv: Slurm's variables, MASTER_ADDR and MASTER_PORT still required", () => {
  const slurm = { SLURM_PROCID: "3", SLURM_NTASKS: "8", SLURM_LOCALID: "1" };
  assert.deepEqual(distributedEnv({ ...slurm, MASTER_ADDR: "n1", MASTER_PORT: "29400" }), {
    launcher: "slurm",
    rank: 3,
    worldSize: 8,
    localRank: 1,
    masterAddr: "n1",
    masterPort: 29400,
    prefix: "",
    storeClientOnly: false,
  });
  assert.throws(() => distributedEnv(slurm), /^Error: MASTER_ADDR is not set \(SLURM_PROCID/);
  assert.throws(
    () => distributedEnv({ ...slurm, MASTER_ADDR: "n1" }),
    /^Error: MASTER_PORT is not set/,
  );
  assert.throws(
    () => distributedEnv({ ...slurm, SLURM_NTASKS: "two", MASTER_ADDR: "n1", MASTER_PORT: "1" }),
    /SLURM_NTASKS is "two", expected a positive integer/,
  );
  assert.throws(
    () => distributedEnv({ ...slurm, SLURM_PROCID: "8", MASTER_ADDR: "n1", MASTER_PORT: "1" }),
    /SLURM_PROCID is 8, expected 0\.\.7 \(SLURM_NTASKS is 8\)/,
  );
  // RANK/WORLD_SIZE win over Slurm's
  assert.equal(
    distributedEnv({ ...slurm, RANK: "0", WORLD_SIZE: "2", MASTER_ADDR: "a", MASTER_PORT: "1" })
      ?.worldSize,
    2,
  );
});

Deno.test("distributedEnv: a single process (nothing set, or a one-task Slurm job) is undefined", () => {
  assert.equal(distributedEnv({}), undefined);
  assert.equal(distributedEnv({ HOME: "/root" }), undefined);
  assert.equal(distributedEnv({ SLURM_PROCID: "0", SLURM_NTASKS: "1" }), undefined);
});

Deno.test({
  name: "distributed: NCCL on cuda:0, a world of one (runs where the shim has NCCL and a GPU)",
  ignore: !(ncclAvailable() && cudaDeviceCount() > 0),
  async fn() {
    const { tensor, tidy } = await import("../mod.ts");
    const pg = ProcessGroup.init({
      rank: 0,
      worldSize: 1,
      masterAddr: "127.0.0.1",
      masterPort: freePort(),
      timeoutMs: 30_000,
      device: "cuda:0",
    });
    try {
      tidy(() => {
        const t = tensor([1, 2, 3], { device: "cuda:0" });
        const g = tensor([4, 6], { device: "cuda:0" });
        pg.allReduceSum([t]);
        pg.allReduceMeanGradients([t, g], 8);
        pg.broadcast([t, g]);
        pg.barrier();
        assert.deepEqual(Array.from(t.data() as Float32Array), [1, 2, 3]);
        assert.deepEqual(Array.from(g.data() as Float32Array), [4, 6]);
      });
    } finally {
      pg.destroy();
    }
  },
});
