/**
 * One rank of tests/distributed_test.ts: reads RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT
 * (distributedEnv), joins a Gloo process group on the CPU and runs one scenario, printing one
 * `RESULT <json>` line on stdout. On an error it prints one line `dist_worker rank R: <message>`
 * on stderr and exits 1.
 *
 *   deno run -A tests/dist_worker.ts collectives|loop [timeoutMs]
 *
 * Every rank first opens libtorch (which takes seconds on a loaded machine), prints `READY` and
 * waits for a line on stdin before it joins: the test starts the rendezvous of every rank at
 * once, so the group's timeout measures the collectives, not how long each process took to start.
 *
 * - collectives: broadcast, allReduceSum, bucketed gradient means, a small model's averaged
 *   gradient against its full-batch one, and the time of an all-reduce of 1.2M floats;
 * - loop: all-reduces (and prints `ITER n`) until a collective fails; its error line ends with
 *   `| failed after N ms`, how long the failing call took.
 * - peer: rank 1 of one group after another, for a test whose own process is rank 0: for each
 *   line `JOIN <port> <timeoutMs>` on stdin it joins, all-reduces (printing `ITER n`) until a
 *   collective fails, prints `LEFT <message>`, destroys the group and waits for the next line.
 *
 * @module
 */

import {
  arange,
  conv2d,
  crossEntropy,
  distributedEnv,
  linear,
  manualSeed,
  ProcessGroup,
  type ProcessGroupOptions,
  randint,
  randn,
  relu,
  type Tensor,
  tensor,
  tidy,
  zeros,
} from "../mod.ts";

let rank = -1;
/** The group this process is in, destroyed before it exits (on an error too). */
let group: ProcessGroup | undefined;

function fail(e: unknown): never {
  const message = e instanceof Error ? e.message : String(e);
  console.error(`dist_worker rank ${rank}: ${message.replaceAll("\n", " ")}`);
  group?.destroy();
  Deno.exit(1);
}

/** stdin's lines, one at a time. */
async function* stdinLines(): AsyncGenerator<string> {
  let pending = "";
  for await (const text of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
    const parts = (pending + text).split("\n");
    pending = parts.pop() ?? "";
    yield* parts;
  }
}

/** All-reduces until a collective fails; returns its error and how long that call took. */
async function allReduceUntilFailure(pg: ProcessGroup): Promise<{ error: Error; took: number }> {
  const t = zeros([1000]);
  try {
    for (let i = 0;; i++) {
      const t0 = performance.now();
      try {
        pg.allReduceSum([t]);
      } catch (e) {
        return { error: e as Error, took: performance.now() - t0 };
      }
      console.log(`ITER ${i}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    t.dispose();
  }
}

/** Rank 1 of each group the test asks it to join (mode peer). */
async function peer(env: ProcessGroupOptions, lines: AsyncGenerator<string>) {
  for await (const line of lines) {
    const [command, port, timeoutMs] = line.split(" ");
    if (command !== "JOIN") throw new Error(`unknown command ${JSON.stringify(line)}`);
    group = ProcessGroup.init({
      ...env,
      masterPort: Number(port),
      timeoutMs: Number(timeoutMs),
    });
    const { error } = await allReduceUntilFailure(group);
    console.log(`LEFT ${error.message.replaceAll("\n", " ")}`);
    group.destroy();
  }
}

function values(t: Tensor): number[] {
  return Array.from(t.data() as ArrayLike<number | bigint>, Number);
}

/** Every rank's tensors: distinct per rank, known to the test. */
function broadcastCase(pg: ProcessGroup) {
  const r = pg.rank;
  return tidy(() => {
    const a = arange(12, undefined, 1, { dtype: "float32" }).mul(r + 1).add(r).reshape(3, 4);
    const b = arange(5).add(10 * r); // int64
    const c = tensor([r + 0.5], { dtype: "float64" });
    pg.broadcast([a, b, c]); // from rank 0
    const d = tensor([r, r, r], { dtype: "float32" });
    pg.broadcast([d], 1); // from rank 1
    return { a: values(a), b: values(b), c: values(c), d: values(d) };
  });
}

function sumCase(pg: ProcessGroup) {
  const r = pg.rank;
  return tidy(() => {
    const x = arange(7, undefined, 1, { dtype: "float64" }).mul(0.5).add(r);
    const n = tensor([r + 1, 100 * r, -3], { dtype: "int64" });
    const s = tensor([[r * 2.25]], { dtype: "float32" });
    pg.allReduceSum([x, n, s]);
    return { x: values(x), n: values(n), s: values(s) };
  });
}

/** Gradient-like tensors of several sizes; element j of tensor i on rank r: (r+1)*(i+1) + j/4. */
export const MEAN_SHAPES = [[1000], [3, 5], [257], [64, 64], [5, 3], [1]];

function meanCase(pg: ProcessGroup) {
  const r = pg.rank;
  return tidy(() => {
    const ts = MEAN_SHAPES.map((shape, i) => {
      const n = shape.reduce((a, b) => a * b, 1);
      return arange(n, undefined, 1, { dtype: "float32" }).mul(0.25).add((r + 1) * (i + 1))
        .reshape(shape);
    });
    // a non-contiguous view: the mean must land in the viewed tensor's storage
    const base = ts[4].clone().reshape(3, 5).contiguous();
    const view = base.transpose(0, 1); // [5, 3] over base's storage
    ts[4] = view;
    pg.allReduceMeanGradients(ts, 1024); // 1 KiB buckets: several buckets, [64, 64] alone
    return { tensors: ts.map(values), base: values(base) };
  });
}

/**
 * A small conv + linear classifier in float64: every rank computes the gradient of its half of
 * a batch of 8, averages it over the ranks, and compares with the full batch's gradient
 * computed locally. Rank 1 starts from other weights: the broadcast makes them rank 0's.
 */
function gradientCase(pg: ProcessGroup) {
  return tidy(() => {
    const opts = { dtype: "float64" as const, requiresGrad: true };
    manualSeed(pg.rank === 0 ? 1 : 2);
    const params = [
      randn([4, 1, 3, 3], opts),
      randn([4], opts),
      randn([3, 4 * 6 * 6], opts),
      randn([3], opts),
    ];
    pg.broadcast(params);
    manualSeed(7); // the same batch on every rank
    const x = randn([8, 1, 8, 8], { dtype: "float64" });
    const y = randint(0, 3, [8]);
    const loss = (xb: Tensor, yb: Tensor) => {
      const h = relu(conv2d(xb, params[0], { bias: params[1] })).flatten(1);
      return crossEntropy(linear(h, params[2], params[3]), yb);
    };
    const gradsOf = (xb: Tensor, yb: Tensor) => {
      for (const p of params) p.grad = null;
      loss(xb, yb).backward();
      return params.map((p) => p.grad!);
    };
    const full = gradsOf(x, y).map((g) => g.clone());
    const half = 8 / pg.worldSize;
    const mine = gradsOf(x.narrow(0, pg.rank * half, half), y.narrow(0, pg.rank * half, half));
    pg.allReduceMeanGradients(mine, 256); // small buckets
    let worst = 0;
    for (let i = 0; i < params.length; i++) {
      const d = mine[i].sub(full[i]).abs().max().item();
      worst = Math.max(worst, d);
    }
    const weights = values(params[2]).slice(0, 4);
    const fullNorm = full.reduce((s, g) => s + g.square().sum().item(), 0);
    return { worst, weights, fullNorm };
  });
}

function timeAllReduce(pg: ProcessGroup) {
  return tidy(() => {
    const g = randn([1_200_000]);
    const times: number[] = [];
    for (let i = 0; i < 12; i++) {
      pg.barrier();
      const t0 = performance.now();
      pg.allReduceMeanGradients([g]);
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    return { medianMs: times[Math.floor(times.length / 2)], minMs: times[0] };
  });
}

/** Ranks passing different lists to broadcast: refused on every rank; the group still works. */
function mismatchCase(pg: ProcessGroup) {
  return tidy(() => {
    const list = pg.rank === 0 ? [zeros([4]), zeros([2])] : [zeros([4])];
    let error = "";
    try {
      pg.broadcast(list);
    } catch (e) {
      error = (e as Error).message;
    }
    pg.barrier();
    return { error };
  });
}

async function main() {
  const [mode = "collectives", timeoutArg = "30000"] = Deno.args;
  try {
    const env = distributedEnv();
    if (!env) throw new Error("no RANK/WORLD_SIZE in the environment");
    rank = env.rank;
    zeros([1]).dispose(); // libtorch opened before the rendezvous
    console.log("READY");
    const lines = stdinLines();
    if (mode === "peer") return await peer(env, lines);
    await lines.next(); // the test's go-ahead
    const pg = group = ProcessGroup.init({ ...env, timeoutMs: Number(timeoutArg) });
    if (mode === "collectives") {
      const result = {
        rank: pg.rank,
        worldSize: pg.worldSize,
        broadcast: broadcastCase(pg),
        sum: sumCase(pg),
        mean: meanCase(pg),
        gradient: gradientCase(pg),
        allReduce: timeAllReduce(pg),
        mismatch: mismatchCase(pg),
      };
      pg.barrier();
      pg.destroy();
      console.log(`RESULT ${JSON.stringify(result)}`);
    } else if (mode === "loop") {
      const { error, took } = await allReduceUntilFailure(pg);
      // the group is unusable from now on: the next call says so
      let next = "succeeded";
      try {
        pg.barrier();
      } catch (e2) {
        next = (e2 as Error).message;
      }
      throw new Error(`${error.message} | next call: ${next} | failed after ${took.toFixed(0)} ms`);
    } else {
      throw new Error(`unknown mode ${mode}`);
    }
  } catch (e) {
    fail(e);
  }
}

if (import.meta.main) await main();
