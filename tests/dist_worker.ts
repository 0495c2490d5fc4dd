/**
 * One rank of tests/distributed_test.ts: reads RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT
 * (distributedEnv), joins a Gloo process group on the CPU and runs one scenario, printing one
 * `RESULT <json>` line on stdout. On an error it prints one line `dist_worker rank R: <message>`
 * on stderr and exits 1.
 *
 *   deno run -A tests/dist_worker.ts collectives|loop [timeoutMs]
 *
 * - collectives: broadcast, allReduceSum, bucketed gradient means, a small model's averaged
 *   gradient against its full-batch one, and the time of an all-reduce of 1.2M floats;
 * - loop: all-reduces (and prints `ITER n`) until a collective fails.
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
  randint,
  randn,
  relu,
  type Tensor,
  tensor,
  tidy,
  zeros,
} from "../mod.ts";

let rank = -1;

function fail(e: unknown): never {
  const message = e instanceof Error ? e.message : String(e);
  console.error(`dist_worker rank ${rank}: ${message.replaceAll("\n", " ")}`);
  Deno.exit(1);
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
    const pg = ProcessGroup.init({ ...env, timeoutMs: Number(timeoutArg) });
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
      const t = zeros([1000]);
      for (let i = 0;; i++) {
        try {
          pg.allReduceSum([t]);
        } catch (e) {
          // the group is unusable from now on: the next call says so
          let next = "succeeded";
          try {
            pg.barrier();
          } catch (e2) {
            next = (e2 as Error).message;
          }
          throw new Error(`${(e as Error).message} | next call: ${next}`);
        }
        console.log(`ITER ${i}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    } else {
      throw new Error(`unknown mode ${mode}`);
    }
  } catch (e) {
    fail(e);
  }
}

if (import.meta.main) await main();
