/**
 * Data-parallel overhead (c10d): bench/dist_rank.ts run as 2 ranks x 1 thread on 127.0.0.1
 * (Gloo on the CPU; NCCL on CUDA, one GPU per rank) and as 1 process x 2 threads, side by side
 * in one run. On a CPU this measures what the all-reduce costs, not a speed-up: the two
 * processes share the same cores. Prints one JSON line.
 *
 *   deno run -A bench/dist.ts [--device cpu|cuda] [--quick]
 *
 * @module
 */

import { flag, round } from "./util.ts";
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
  console.log(JSON.stringify({
    ranks_2x1_thread: two,
    ranks_1x2_threads: one,
    epoch_ratio_2x1_over_1x2: round((two.epoch_s as number) / (one.epoch_s as number), 3),
  }));
}
