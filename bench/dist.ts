/**
 * Data-parallel overhead (c10d): bench/dist_rank.ts run as 2 ranks x 1 thread on 127.0.0.1
 * (Gloo on the CPU; NCCL on CUDA, one GPU per rank) and as 1 process x 2 threads, side by side
 * in one run. On a CPU this measures what the all-reduce costs, not a speed-up: the two
 * processes share the same cores. On the CPU, PyTorch's Gloo all-reduce of the same tensors
 * (bench/dist_allreduce.py) runs beside it when a python with torch is found. Prints one JSON
 * line.
 *
 *   deno run -A bench/dist.ts [--device cpu|cuda] [--quick]
 *
 * @module
 */

import { findPython, flag, round } from "./util.ts";
import { freePort } from "../src/runs/launch.ts";
import { cudaDeviceCount } from "../mod.ts";

const args = Deno.args;
const device = flag(args, "device") ?? "cpu";
const rankScript = new URL("./dist_rank.ts", import.meta.url).pathname;
const passOn = [...(args.includes("--quick") ? ["--quick"] : []), "--device", device];

async function run(env: Record<string, string>[]): Promise<Record<string, unknown>> {
  const outs = await Promise.all(env.map((e) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", rankScript, ...passOn],
      env: e,
      stdout: "piped",
      stderr: "piped",
    }).output()
  ));
  for (const o of outs) {
    if (!o.success) throw new Error(new TextDecoder().decode(o.stderr).trim().split("\n").at(-1));
  }
  return JSON.parse(new TextDecoder().decode(outs[0].stdout).trim().split("\n").at(-1)!);
}

/**
 * PyTorch's Gloo all-reduce of the same tensors (bench/dist_allreduce.py, 2 ranks x 1 thread),
 * and hlgm's time over it; null without a python that imports torch.
 */
async function pytorchAllReduce(
  sizes: Record<string, number[]>,
  hlgm: Record<string, unknown>,
): Promise<Record<string, unknown> | null> {
  const python = await findPython();
  if (!python) return null;
  const file = await Deno.makeTempFile({ suffix: ".json" });
  try {
    await Deno.writeTextFile(file, JSON.stringify(sizes));
    const port = String(freePort());
    const script = new URL("./dist_allreduce.py", import.meta.url).pathname;
    const steps = args.includes("--quick") ? "3" : "10";
    const outs = await Promise.all([0, 1].map((r) =>
      new Deno.Command(python, {
        args: [script, file, steps],
        env: { RANK: String(r), WORLD_SIZE: "2", MASTER_ADDR: "127.0.0.1", MASTER_PORT: port },
        stdout: "piped",
        stderr: "piped",
      }).output()
    ));
    for (const o of outs) {
      if (!o.success) throw new Error(new TextDecoder().decode(o.stderr).trim().split("\n").at(-1));
    }
    const py = JSON.parse(new TextDecoder().decode(outs[0].stdout).trim().split("\n").at(-1)!);
    for (const m of Object.keys(sizes)) {
      const ours = (hlgm[m] as Record<string, number>).allreduce_alone_ms;
      py[m].hlgm_over_pytorch = round(ours / py[m].allreduce_alone_ms, 3);
    }
    return py;
  } finally {
    await Deno.remove(file);
  }
}

if (device.startsWith("cuda") && cudaDeviceCount() < 2) {
  console.log(JSON.stringify({
    skipped: `NCCL needs one GPU per rank; this machine has ${cudaDeviceCount()}`,
  }));
} else {
  const port = String(freePort());
  const rank = (r: number) => ({
    RANK: String(r),
    WORLD_SIZE: "2",
    LOCAL_RANK: String(r),
    MASTER_ADDR: "127.0.0.1",
    MASTER_PORT: port,
    HLGM_NUM_THREADS: "1",
  });
  const two = await run([rank(0), rank(1)]);
  const one = await run([{ HLGM_NUM_THREADS: "2" }]);
  const models = ["shallow_cnn", "resnet18"] as const;
  const sizes: Record<string, number[]> = {};
  for (const m of [...models]) {
    for (const r of [two, one]) {
      const entry = r[m] as Record<string, unknown>;
      sizes[m] = entry.sizes as number[];
      delete entry.sizes; // 62 numbers for ResNet-18: kept out of the report
    }
  }
  console.log(JSON.stringify({
    ranks_2x1_thread: two,
    ranks_1x2_threads: one,
    epoch_ratio_2x1_over_1x2: round((two.epoch_s as number) / (one.epoch_s as number), 3),
    pytorch: device === "cpu" ? await pytorchAllReduce(sizes, two) : null,
  }));
}
