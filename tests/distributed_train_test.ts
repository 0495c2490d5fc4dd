// Data-parallel training on c10d (issue 13), the way users run it: real rank processes on
// 127.0.0.1, one thread each. A synced step equals the one-process step on the whole batch;
// `train --nproc 2` gives the one-process run's schedule with every rank's weights equal (checked
// by the trainer each epoch); a killed rank makes the other exit non-zero naming it, within the
// timeout, and the run resumes (with another number of ranks, too).
import assert from "node:assert/strict";
import { freePort } from "../src/runs/launch.ts";
import { outputIfInstalled, runCli, spawnCli } from "./helpers.ts";

const worker = new URL("./dist_step_worker.ts", import.meta.url).pathname;
const root = Deno.makeTempDirSync({ prefix: "hlgm-dist-" });
globalThis.addEventListener("unload", () => {
  try {
    Deno.removeSync(root, { recursive: true });
  } catch { /* already gone */ }
});

interface StepReport {
  rank: number;
  world: number;
  losses: { loss: number; ce: number; kl: number; correct: number }[];
  params: number[][];
  inSync: string;
}

/** Runs the step worker as `world` ranks (or one plain process for world 0); their reports. */
async function steps(world: number, extra: Record<string, string> = {}): Promise<StepReport[]> {
  const port = String(freePort());
  const outs = await Promise.all(
    Array.from({ length: Math.max(1, world) }, (_, rank) =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", worker],
        env: {
          HLGM_NUM_THREADS: "1",
          ...(world > 0
            ? {
              RANK: String(rank),
              WORLD_SIZE: String(world),
              MASTER_ADDR: "127.0.0.1",
              MASTER_PORT: port,
            }
            : {}),
          ...extra,
        },
        stdout: "piped",
        stderr: "piped",
      }).output()),
  );
  return outs.map((o) => {
    const err = new TextDecoder().decode(o.stderr);
    assert.ok(o.success, err);
    return JSON.parse(new TextDecoder().decode(o.stdout).trim().split("\n").at(-1)!);
  });
}

function maxDiff(a: number[][], b: number[][]): number {
  let d = 0;
  a.forEach((row, i) => row.forEach((v, j) => (d = Math.max(d, Math.abs(v - b[i][j])))));
  return d;
}

Deno.test("a synced step (plain, then SGT-masked) on 2 ranks x half the batch equals one process's step on the whole batch within 1e-6", async () => {
  const [one] = await steps(0);
  const ranks = await steps(2);
  for (const r of ranks) {
    assert.equal(r.inSync, "yes");
    const d = maxDiff(r.params, one.params);
    assert.ok(d < 1e-6, `rank ${r.rank}: weights differ from one process's by ${d}`);
    r.losses.forEach((l, i) => {
      assert.ok(
        Math.abs(l.loss - one.losses[i].loss) < 1e-6,
        `step ${i}: ${l.loss} vs ${one.losses[i].loss}`,
      );
      assert.equal(l.correct, one.losses[i].correct);
    });
  }
  assert.deepEqual(
    ranks[0].params,
    ranks[1].params,
    "the ranks hold the same weights, bit for bit",
  );
  // the steps changed something: the comparison is not between two untouched models
  const [fresh] = await steps(0, { HLGM_TEST_STEPS: "0" });
  assert.ok(maxDiff(fresh.params, one.params) > 1e-3);
});

Deno.test("the per-epoch weight check finds a rank whose weights differ, and says which", async () => {
  const ranks = await steps(2, { HLGM_TEST_SKEW: "1" });
  assert.match(
    ranks[1].inSync,
    /^rank 1's weights differ from rank 0's after 2 steps \(first: 0\.weight\)$/,
  );
  assert.match(
    ranks[0].inSync,
    /^the ranks' weights differ after 2 steps: 1 rank\(s\) hold other weights/,
  );
});

const env = { HLGM_NUM_THREADS: "2", NO_COLOR: "1", HLGM_DATA: "/nonexistent/hlgm-data" };

/** Processes whose command line holds `arg` and whose environment holds `variable` (/proc). */
function pidsOf(arg: string, variable: string): number[] {
  const pids: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const cmd = Deno.readTextFileSync(`/proc/${e.name}/cmdline`).split("\0");
      const environ = Deno.readTextFileSync(`/proc/${e.name}/environ`).split("\0");
      if (cmd.includes(arg) && environ.includes(variable)) pids.push(Number(e.name));
    } catch { /* gone, or not ours */ }
  }
  return pids;
}
const hlgmArgs = [
  ...["--dataset", "synthetic", "--subset", "256", "--device", "cpu", "--batch-size", "64"],
  ...["--method", "hlgm", "--switch-epoch", "1", "--epochs", "3", "--no-tensorboard"],
];
const schedule = (run: string) =>
  Deno.readTextFileSync(`${run}/metrics.jsonl`).trim().split("\n").map((l) => {
    const m = JSON.parse(l);
    return [m.epoch, m.phase, m.mode, m.k, m.episode, m.de];
  });

/** The hlgm run of `hlgmArgs` in one process (trained once). */
let reference: string | null = null;
async function oneRankReference(): Promise<string> {
  if (reference) return reference;
  const run = `${root}/one-rank-reference`;
  const r = await runCli(["train", ...hlgmArgs, "--out", run], env);
  assert.equal(r.code, 0, r.stderr);
  return (reference = run);
}

Deno.test("train --nproc 2: a 3-epoch hlgm run has the one-process run's schedule, rank 0 alone writes and prints, the ranks' weights agree every epoch", async () => {
  const one = await oneRankReference(), two = `${root}/two`;
  const r2 = await runCli(["train", ...hlgmArgs, "--nproc", "2", "--out", two], env);
  assert.equal(r2.code, 0, r2.stderr);
  assert.deepEqual(schedule(two), schedule(one));
  assert.match(r2.stdout, /on cpu \(2 ranks x 1 thread\)/);
  assert.equal(r2.stdout.match(/^epoch \d\/3 /gm)?.length, 3, "one line per epoch: rank 0's");
  assert.equal(r2.stderr.trim(), "", "no rank said anything on stderr");
  // 2 ranks x 32 images = the one-process batch of 64; accuracy close to the one-process run's
  const acc = (run: string) =>
    JSON.parse(Deno.readTextFileSync(`${run}/metrics.jsonl`).trim().split("\n").at(-1)!).test_acc;
  assert.ok(Math.abs(acc(one) - acc(two)) < 0.15, `${acc(one)} vs ${acc(two)}`);
});

Deno.test("BatchNorm (resnet18): the running statistics are rank 0's after every step, so the per-epoch weight check passes and eval sees one model", async () => {
  const run = `${root}/resnet`;
  const r = await runCli([
    ...["train", "--dataset", "synthetic", "--subset", "128", "--device", "cpu"],
    ...["--model", "resnet18", "--batch-size", "32", "--method", "baseline", "--epochs", "1"],
    ...["--no-tensorboard", "--nproc", "2", "--out", run],
  ], env);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(schedule(run).map((s) => s[0]), [1]);
});

Deno.test("the launcher killed (kill -9): its ranks see their pipe from it close and stop as on SIGTERM, keeping the checkpoint; --resume goes on", async () => {
  const run = `${root}/orphans`;
  const args = [
    ...["train", "--dataset", "synthetic", "--subset", "4096", "--device", "cpu"],
    ...["--batch-size", "32", "--method", "baseline", "--epochs", "3", "--no-tensorboard"],
    ...["--out", run, "--nproc", "2"],
  ];
  const child = spawnCli(args, { HLGM_NUM_THREADS: "2" });
  await child.waitFor(/^epoch 1\/3 /);
  child.process.kill("SIGKILL");
  await child.finish(); // rank 0 holds the pipe of the launcher's stdout until it ends
  const t0 = performance.now();
  while (pidsOf(run, "RANK=0").length + pidsOf(run, "RANK=1").length > 0) {
    // they stop after their current batch: seconds, or minutes on a heavily loaded machine
    assert.ok(performance.now() - t0 < 300_000, "the ranks outlived their launcher by 5 min");
    await new Promise((r) => setTimeout(r, 200));
  }
  const last = JSON.parse(Deno.readTextFileSync(`${run}/checkpoints/last.json`)).epoch;
  assert.ok(last >= 1 && last < 3, `last checkpoint ${last}`);
  const again = await runCli(["train", "--resume", run, "--nproc", "2"], env);
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(schedule(run).map((s) => s[0]), [1, 2, 3]);
});

Deno.test("a killed rank: the other exits non-zero within the timeout with one line naming it; the run resumes from its last checkpoint, on 1 rank", async () => {
  const run = `${root}/killed`;
  const args = [
    ...["train", "--dataset", "synthetic", "--subset", "4096", "--device", "cpu"],
    ...["--batch-size", "32", "--method", "baseline", "--epochs", "3", "--no-tensorboard"],
    ...["--dist-timeout", "120", "--out", run],
  ];
  const child = spawnCli([...args, "--nproc", "2"], { HLGM_NUM_THREADS: "2" });
  await child.waitFor(/^epoch 1\/3 /);
  // rank 1: the process of this run whose environment says RANK=1
  const rank1 = pidsOf(run, "RANK=1")[0];
  assert.ok(rank1, "rank 1's process");
  const t0 = performance.now();
  Deno.kill(rank1!, "SIGKILL");
  const r = await child.finish();
  const seconds = (performance.now() - t0) / 1000;
  // the lost connection, not the 120 s timeout, ended it
  assert.ok(seconds < 120, `ended ${seconds.toFixed(1)} s after the kill`);
  assert.notEqual(r.code, 0);
  const errors = r.stderr.split("\n").filter((l) => l.startsWith("error:"));
  assert.ok(
    errors.some((l) => /^error: rank 0 lost rank 1 during .* \(epoch \d+, /.test(l)),
    r.stderr,
  );
  assert.ok(
    errors.some((l) => /^error: rank 1 \(pid \d+\) was killed by SIGKILL$/.test(l)),
    r.stderr,
  );
  const last = JSON.parse(Deno.readTextFileSync(`${run}/checkpoints/last.json`)).epoch;
  assert.ok(last >= 1);
  const again = await runCli(["train", "--resume", run], { ...env, HLGM_NUM_THREADS: "1" });
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(schedule(run).map((s) => s[0]), [1, 2, 3]);
});

Deno.test("train --nproc 2 stopped with Ctrl-C: both ranks stop after the same batch, exit 130 and no error; --resume --nproc 2 finishes the run", async () => {
  const run = `${root}/ctrl-c`;
  const args = [
    ...["train", "--dataset", "synthetic", "--subset", "2048", "--device", "cpu"],
    ...["--batch-size", "32", "--method", "sgt", "--epochs", "2", "--no-tensorboard"],
    ...["--out", run],
  ];
  const child = spawnCli([...args, "--nproc", "2"], { HLGM_NUM_THREADS: "2" });
  await child.waitFor(/^epoch 1\/2 /);
  child.process.kill("SIGINT"); // to the launcher only, as a terminal's Ctrl-C reaches it
  const r = await child.finish();
  assert.equal(r.code, 130, r.stderr);
  assert.match(
    r.stderr,
    /^interrupted in epoch 2, batch \d+; the checkpoint of epoch 1 is kept in .*; continue with .* train --resume /m,
  );
  assert.doesNotMatch(r.stderr, /error/);
  const again = await runCli(["train", "--resume", run, "--nproc", "2"], env);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /^resuming sgt .*; epoch 2 of 2 on cpu \(2 ranks x 1 thread\)/m);
  assert.deepEqual(schedule(run).map((s) => s[0]), [1, 2]);
});

/** `count` copies of `args` run as ranks with the environment `envOf(rank)` adds. */
async function ranks(
  count: number,
  args: string[],
  envOf: (rank: number) => Record<string, string>,
) {
  const main = new URL("../cli/main.ts", import.meta.url).pathname;
  const outs = await Promise.all(
    Array.from({ length: count }, (_, rank) =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", main, ...args],
        env: { ...env, HLGM_NUM_THREADS: "1", ...envOf(rank) },
        stdout: "piped",
        stderr: "piped",
      }).output()),
  );
  return outs.map((o) => ({
    code: o.code,
    stdout: new TextDecoder().decode(o.stdout),
    stderr: new TextDecoder().decode(o.stderr),
  }));
}

Deno.test("the same train command as Slurm's tasks (SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID + MASTER_ADDR/PORT): rank 0 prints and writes", async () => {
  const run = `${root}/slurm`;
  const port = String(freePort());
  const rs = await ranks(2, ["train", ...hlgmArgs, "--out", run], (rank) => ({
    SLURM_PROCID: String(rank),
    SLURM_NTASKS: "2",
    SLURM_LOCALID: String(rank),
    MASTER_ADDR: "127.0.0.1",
    MASTER_PORT: port,
  }));
  for (const r of rs) assert.equal(r.code, 0, r.stderr);
  assert.match(rs[0].stdout, /\(2 ranks x 1 thread\)/);
  assert.equal(rs[1].stdout, "", "rank 1 prints nothing");
  assert.deepEqual(schedule(run).map((s) => s[0]), [1, 2, 3]);
});

Deno.test("bad launcher variables and options: one line naming the variable, exit 2, nothing trained", async () => {
  const run = `${root}/never`;
  const cases: [Record<string, string>, string[], RegExp][] = [
    [
      { WORLD_SIZE: "two", RANK: "0" },
      [],
      /^error: data-parallel training: WORLD_SIZE is "two", expected a positive integer$/,
    ],
    [{ WORLD_SIZE: "2", RANK: "0" }, [], /^error: data-parallel training: MASTER_ADDR is not set/],
    [
      { WORLD_SIZE: "2", RANK: "0", MASTER_ADDR: "127.0.0.1", MASTER_PORT: "1" },
      ["--nproc", "2"],
      /^error: --nproc starts the ranks itself; this process is already rank 0 of 2 .*leave --nproc out$/,
    ],
    [{}, ["--nproc", "0"], /--nproc must be a positive integer, got "0"/],
  ];
  for (const [vars, extra, pattern] of cases) {
    const [r] = await ranks(1, ["train", ...hlgmArgs, ...extra, "--out", run], () => vars);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(r.stderr.trim(), pattern);
  }
  const [noOut] = await ranks(1, ["train", ...hlgmArgs], () => ({
    WORLD_SIZE: "2",
    RANK: "1",
    MASTER_ADDR: "127.0.0.1",
    MASTER_PORT: "29500",
  }));
  assert.equal(noOut.code, 2);
  assert.match(
    noOut.stderr,
    /under a launcher needs --out: every rank must write to the same folder/,
  );
  const [odd] = await ranks(1, [
    "train",
    ...hlgmArgs,
    "--batch-size",
    "63",
    "--nproc",
    "2",
    "--out",
    run,
  ], () => ({}));
  assert.equal(odd.code, 2, odd.stderr);
  assert.match(
    odd.stderr,
    /--batch-size 63 is the global batch: it must be a multiple of --nproc 2/,
  );
  try {
    Deno.statSync(run);
    assert.fail(`${run} was created`);
  } catch (e) {
    assert.ok(e instanceof Deno.errors.NotFound);
  }
});

/**
 * torchrun's arguments before `train`'s: 2 ranks running Deno (no Python). Debian's torchrun 1.13
 * on Python 3.11 needs its output redirected (--redirects 1 --tee 1). Each launch gets its own
 * free port (`extra` names it): the defaults, 29500 and --standalone's 29400, may be held by
 * another job.
 */
function torchrunArgs(extra: string[]): string[] {
  const main = new URL("../cli/main.ts", import.meta.url).pathname;
  return [
    ...["--nproc_per_node", "2", "--redirects", "1", "--tee", "1", ...extra],
    ...["--no_python", Deno.execPath(), "run", "-A", main, "train"],
  ];
}

/**
 * True (and says so) when torchrun failed before starting any rank because its TCPStore asks
 * for libuv: Debian 13's torchrun 2.6 does, in every rendezvous, and Debian's PyTorch is built
 * without it (USE_LIBUV=0 is not read there). torchrun cannot run on that stack at all.
 */
function torchrunCannotStart(out: string): boolean {
  if (!/use_libuv was requested but PyTorch was build without libuv support/.test(out)) {
    return false;
  }
  console.error("torchrun cannot start here (its TCPStore needs libuv, absent): case skipped");
  return true;
}

const torchrun = (await outputIfInstalled("torchrun", {
  args: ["--help"],
  stdout: "null",
  stderr: "null",
}))?.success ?? false;
if (!torchrun) {
  console.error(
    "torchrun is not installed here (PyTorch's launcher; Debian's python3-torch): the two " +
      "torchrun cases are skipped",
  );
}

Deno.test({
  name:
    "the same train command under torchrun --nproc_per_node 2 --no_python: with the agent's store (static rendezvous)",
  ignore: !torchrun,
  async fn() {
    const run = `${root}/torchrun-static`;
    const port = String(freePort());
    const o = await new Deno.Command("torchrun", {
      args: [
        ...torchrunArgs(["--master_addr", "127.0.0.1", "--master_port", port]),
        ...hlgmArgs,
        ...["--out", run],
      ],
      env: { ...env, HLGM_NUM_THREADS: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const out = new TextDecoder().decode(o.stdout) + new TextDecoder().decode(o.stderr);
    if (torchrunCannotStart(out)) return;
    assert.ok(o.success, out);
    assert.match(out, /\[default0\]:training hlgm .*\(2 ranks x 1 thread\)/);
    assert.doesNotMatch(out, /\[default1\]:training/);
    assert.deepEqual(schedule(run), schedule(await oneRankReference()));
  },
});

Deno.test({
  name:
    "under torchrun's c10d rendezvous (--standalone's, on a free port) with --max_restarts 1, a killed rank's restart continues the run from its checkpoint",
  ignore: !torchrun,
  async fn() {
    const run = `${root}/torchrun`;
    const child = new Deno.Command("torchrun", {
      args: [
        // what --standalone does (1.13: always on port 29400), on a port of its own; is_host=1:
        // a port taken is an error, not a store of someone else's to connect to
        ...torchrunArgs([
          ...["--nnodes", "1", "--rdzv_backend", "c10d", "--rdzv_id", crypto.randomUUID()],
          ...["--rdzv_endpoint", `127.0.0.1:${freePort()}`, "--rdzv_conf", "is_host=1"],
          ...["--max_restarts", "1"],
        ]),
        ...["--dataset", "synthetic", "--subset", "4096", "--device", "cpu", "--batch-size", "32"],
        ...["--method", "baseline", "--epochs", "3", "--no-tensorboard", "--out", run],
      ],
      env: { ...env, HLGM_NUM_THREADS: "1" },
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const lines: string[] = [];
    let killed = false;
    const killRank1 = () => pidsOf(run, "RANK=1").forEach((pid) => Deno.kill(pid, "SIGKILL"));
    const read = async (stream: ReadableStream<Uint8Array>) => {
      let pending = "";
      for await (const text of stream.pipeThrough(new TextDecoderStream())) {
        const parts = (pending + text).split("\n");
        pending = parts.pop() ?? "";
        for (const line of parts) {
          lines.push(line);
          if (!killed && /^\[default0\]:epoch 1\/3 /.test(line)) {
            killed = true;
            killRank1();
          }
        }
      }
    };
    const [status] = await Promise.all([child.status, read(child.stdout), read(child.stderr)]);
    const out = lines.join("\n");
    if (torchrunCannotStart(out)) return;
    assert.ok(killed, out);
    assert.equal(status.code, 0, out);
    assert.match(out, /\[default0\]:training baseline .*\(2 ranks x 1 thread\)/);
    assert.match(out, /^error: rank 0 lost rank 1 during /m);
    assert.match(out, /^torchrun restart 1: continuing \S+ after epoch [12]$/m);
    assert.match(out, /\[default0\]:resuming baseline .*(epochs 2-3|epoch 3) of 3/);
    assert.deepEqual(schedule(run).map((s) => s[0]), [1, 2, 3]);
  },
});
