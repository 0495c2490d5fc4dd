// One writer per run folder (issue 20), the way users meet it: two real `hlgm` processes on one
// folder. The first is held at a known point (halfway through writing an epoch's metrics line,
// by the HLGM_TEST_PAUSE_WRITE hook) while the second tries; then let go (HLGM_TEST_PAUSE_UNTIL)
// or killed with SIGKILL. Readers (runs, eval) answer while it is held, without blocking.
import assert from "node:assert/strict";
import { runCli, spawnCli } from "./helpers.ts";
import {
  LOCK_FILE,
  lockRunFolder,
  NO_FLOCK_ENV,
  RunFolderBusyError,
  runFolderWriter,
} from "../src/run_folder/run_lock.ts";

const env = { HLGM_NUM_THREADS: "1", NO_COLOR: "1", HLGM_DATA: "/nonexistent/hlgm-data" };
const data = ["--dataset", "synthetic", "--subset", "64", "--device", "cpu", "--no-tensorboard"];
const args = [...data, "--method", "baseline", "--epochs", "3"];

const root = Deno.makeTempDirSync({ prefix: "hlgm-lock-" });
globalThis.addEventListener("unload", () => {
  try {
    Deno.removeSync(root, { recursive: true });
  } catch { /* already gone */ }
});

const exists = (p: string) => {
  try {
    Deno.statSync(p);
    return true;
  } catch {
    return false;
  }
};

/** metrics.jsonl without the timing columns. */
const metricsOf = (run: string) =>
  Deno.readTextFileSync(`${run}/metrics.jsonl`).trim().split("\n").map((l) => {
    const { seconds: _s, images_per_s: _i, ...rest } = JSON.parse(l);
    return rest;
  });

/** `FOLDER is being written by pid PID since HH:MM; wait for it or use another --out`. */
const busy = (folder: string, pid: number) =>
  new RegExp(
    `^error: ${folder.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")} is being written by pid ${pid} ` +
      // the date shows too when the lock was taken on another day (a test crossing midnight)
      `since (\\d{4}-\\d\\d-\\d\\d )?\\d\\d:\\d\\d; wait for it or use another --out$`,
  );

/**
 * Starts `hlgm ARGS` held halfway through its `nth` metrics.jsonl write (a new run first writes
 * it empty, so its 3rd is epoch 2's line); resolves once held: when it says so, or (a sweep, whose workers' stderr it keeps) when `heldAt` says the file
 * is half written.
 */
async function held(
  cliArgs: string[],
  nth: number,
  extraEnv: Record<string, string> = {},
  heldAt?: () => boolean,
) {
  const go = `${root}/go-${crypto.randomUUID()}`;
  const child = spawnCli(cliArgs, {
    ...env,
    ...extraEnv,
    HLGM_TEST_PAUSE_WRITE: `^metrics\\.jsonl$@${nth}`,
    HLGM_TEST_PAUSE_UNTIL: go,
  });
  const letGo = () => Deno.writeTextFileSync(go, "");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      letGo();
      reject(new Error(`not held after 10 minutes: hlgm ${cliArgs.join(" ")}`));
    }, 600_000); // only a hang: start-up alone can take minutes on a loaded machine
  });
  const ready = heldAt
    ? (async () => {
      while (!heldAt()) await new Promise((r) => setTimeout(r, 50));
    })()
    : child.waitFor(/^hlgm-test: paused writing/);
  try {
    await Promise.race([ready, timeout]);
  } finally {
    clearTimeout(timer);
  }
  return { child, pid: child.process.pid, letGo };
}

/** The run, never contended. */
let reference: string | null = null;
async function referenceRun(): Promise<string> {
  if (reference) return reference;
  const run = `${root}/reference`;
  const r = await runCli(["train", ...args, "--out", run], env);
  assert.equal(r.code, 0, r.stderr);
  return (reference = run);
}

async function assertSameAsReference(run: string): Promise<void> {
  const ref = await referenceRun();
  assert.deepEqual(metricsOf(run), metricsOf(ref));
  for (const f of ["epoch-0003.safetensors", "last.json"]) {
    assert.deepEqual(
      Deno.readFileSync(`${run}/checkpoints/${f}`),
      Deno.readFileSync(`${ref}/checkpoints/${f}`),
      `${f} differs from the uncontended run's`,
    );
  }
}

Deno.test("two train commands on one --out: the second is refused naming the owner, the first ends as if alone", async () => {
  const run = `${root}/twice`;
  const first = await held(["train", ...args, "--out", run], 3);
  try {
    const second = await runCli(["train", ...args, "--out", run], env);
    assert.equal(second.code, 1, second.stderr);
    assert.match(second.stderr.trim(), busy(run, first.pid));
    // nor may anyone resume it, or train over it with --force, while it trains
    const resume = await runCli(["train", "--resume", run], env);
    assert.equal(resume.code, 1, resume.stderr);
    assert.match(resume.stderr.trim(), busy(run, first.pid));
    const force = await runCli(["train", ...args, "--force", "--out", run], env);
    assert.equal(force.code, 1, force.stderr);
    assert.match(force.stderr.trim(), busy(run, first.pid));

    // readers answer at once and read what is saved: epoch 1 (epoch 2's line is half written)
    const list = await runCli(["runs", root, "--json"], env);
    assert.equal(list.code, 0, list.stderr);
    const row = JSON.parse(list.stdout).find((r: { name: string }) => r.name === "twice");
    assert.match(row.status, new RegExp(`^being written by pid ${first.pid} since \\d\\d:\\d\\d$`));
    assert.equal(row.writer.pid, first.pid);
    assert.equal(row.summary.epochs, 1, "the half-written line of epoch 2 is not read");
    const ev = await runCli(["eval", run, "--checkpoint", "last"], env);
    assert.equal(ev.code, 0, ev.stderr);
    assert.match(
      ev.stderr,
      new RegExp(
        `^note: .*twice is being written by pid ${first.pid} since \\d\\d:\\d\\d; ` +
          `reading what it has saved so far$`,
        "m",
      ),
    );
    assert.match(ev.stdout, /\(last checkpoint, epoch 1\)/);
  } finally {
    first.letGo();
  }
  const r = await first.child.finish();
  assert.equal(r.code, 0, r.stderr);
  await assertSameAsReference(run);
  assert.equal(runFolderWriter(run), null, "nobody writes it once it ended");
});

Deno.test("a writer killed with SIGKILL leaves no lock behind: --resume continues at once", async () => {
  const run = `${root}/killed`;
  const first = await held(["train", ...args, "--out", run], 3);
  first.child.process.kill("SIGKILL");
  await first.child.finish();
  assert.ok(exists(`${run}/${LOCK_FILE}`), "the lock file stays; the OS dropped the lock");
  assert.equal(runFolderWriter(run), null);
  const r = await runCli(["train", "--resume", run], env);
  assert.equal(r.code, 0, r.stderr);
  await assertSameAsReference(run);
});

Deno.test("a resume in progress refuses a new train over its folder (the other order)", async () => {
  const run = `${root}/resuming`;
  const r1 = await runCli(["train", ...args, "--epochs", "1", "--out", run], env);
  assert.equal(r1.code, 0, r1.stderr);
  const resuming = await held(["train", "--resume", run, "--epochs", "3"], 1);
  try {
    const fresh = await runCli(["train", ...args, "--force", "--out", run], env);
    assert.equal(fresh.code, 1, fresh.stderr);
    assert.match(fresh.stderr.trim(), busy(run, resuming.pid));
  } finally {
    resuming.letGo();
  }
  const r = await resuming.child.finish();
  assert.equal(r.code, 0, r.stderr);
  await assertSameAsReference(run);
});

Deno.test("compare, sweep and demo: a second one over the same --out is refused while the first runs", async (t) => {
  await t.step("demo", async () => {
    // this test process holds the folder, as a running demo would: a demo over it stops at once
    const out = `${root}/demo`;
    const lock = lockRunFolder(out, "demo");
    try {
      const demo = await runCli(["demo", "--subset", "64", "--epochs", "2", "--out", out], env);
      assert.equal(demo.code, 1, demo.stderr);
      assert.match(demo.stderr.trim(), busy(out, Deno.pid));
      assert.deepEqual([...Deno.readDirSync(out)].map((e) => e.name), [LOCK_FILE], "nothing run");
    } finally {
      lock.release();
    }
  });
  await t.step("compare", async () => {
    const out = `${root}/compare`;
    const cmp = ["compare", ...data, "--epochs", "1", "--methods", "baseline", "--seeds", "0"];
    const first = await held([...cmp, "--out", out], 1);
    try {
      const second = await runCli([...cmp, "--out", out], env);
      assert.equal(second.code, 1, second.stderr);
      assert.match(second.stderr.trim(), busy(out, first.pid));
      // its run folder is locked by the same process, for training
      const run = runFolderWriter(`${out}/baseline-seed0`);
      assert.equal(run?.pid, first.pid);
      assert.equal(run?.what, "train");
    } finally {
      first.letGo();
    }
    const r = await first.child.finish();
    assert.equal(r.code, 0, r.stderr);
  });
  await t.step("sweep", async () => {
    const out = `${root}/sweep`;
    const sw = [
      ...["sweep", ...data, "--method", "baseline", "--epochs", "1", "--grid", "lr=0.1,0.2"],
      ...["--seeds", "0"],
    ];
    // a worker is held halfway through its first line: the file is there, without a newline
    const halfWritten = () =>
      ["lr=0.1", "lr=0.2"].some((c) => {
        try {
          const t = Deno.readTextFileSync(`${out}/${c}/seed0/metrics.jsonl`);
          return t.length > 0 && !t.endsWith("\n");
        } catch {
          return false;
        }
      });
    const first = await held([...sw, "--out", out], 2, {}, halfWritten);
    try {
      const second = await runCli([...sw, "--out", out], env);
      assert.equal(second.code, 1, second.stderr);
      assert.match(second.stderr.trim(), busy(out, first.pid));
      // the worker that paused holds its own run folder
      const cells = [...Deno.readDirSync(out)].filter((e) => e.isDirectory).map((e) => e.name);
      const writers = cells.map((c) => runFolderWriter(`${out}/${c}/seed0`)).filter((w) => w);
      assert.ok(writers.some((w) => w!.pid !== first.pid && w!.what === "train"), cells.join());
    } finally {
      first.letGo();
    }
    const r = await first.child.finish();
    assert.equal(r.code, 0, r.stderr);
  });
});

Deno.test("without file locks (a lock file naming its owner): refused while the owner lives, taken over once it is gone", async () => {
  const noFlock = { [NO_FLOCK_ENV]: "1" };
  const run = `${root}/no-flock`;
  const first = await held(["train", ...args, "--out", run], 3, noFlock);
  const second = await runCli(["train", "--resume", run], { ...env, ...noFlock });
  assert.equal(second.code, 1, second.stderr);
  assert.match(second.stderr.trim(), busy(run, first.pid));
  first.child.process.kill("SIGKILL");
  await first.child.finish();
  const owner = JSON.parse(Deno.readTextFileSync(`${run}/${LOCK_FILE}`));
  assert.equal(owner.pid, first.pid, "the dead owner's file is still there");
  const r = await runCli(["train", "--resume", run], { ...env, ...noFlock });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(!exists(`${run}/${LOCK_FILE}`), "released: the lock file is removed");
  await assertSameAsReference(run);
  assert.deepEqual(
    [...Deno.readDirSync(run)].map((e) => e.name).filter((n) => n.startsWith(LOCK_FILE)),
    [],
    "no temporary or stale lock file left",
  );

  // a lock file naming nobody (empty: left by a writer with file locks) is no lock
  Deno.writeTextFileSync(`${run}/${LOCK_FILE}`, "");
  const extended = await runCli(["train", "--resume", run, "--epochs", "4"], {
    ...env,
    ...noFlock,
  });
  assert.equal(extended.code, 0, extended.stderr);

  // a lock file naming a live process of this host is respected
  // alive until killed below, however long the command takes to start on a loaded machine
  const sleeper = new Deno.Command("sleep", { args: ["infinity"] }).spawn();
  try {
    Deno.writeTextFileSync(
      `${run}/${LOCK_FILE}`,
      JSON.stringify({
        pid: sleeper.pid,
        host: Deno.hostname(),
        since: new Date().toISOString(),
        what: "train",
      }),
    );
    const refused = await runCli(["train", "--resume", run, "--epochs", "5"], {
      ...env,
      ...noFlock,
    });
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr.trim(), busy(run, sleeper.pid));
  } finally {
    sleeper.kill("SIGKILL");
    await sleeper.status;
  }
});

Deno.test("lockRunFolder in one process: holds nest, an unused folder it made goes", () => {
  const dir = `${root}/in-process/run`;
  const a = lockRunFolder(dir, "train");
  const b = lockRunFolder(dir, "train"); // the trainer inside a command that holds it
  assert.equal(runFolderWriter(dir)?.pid, Deno.pid);
  b.release();
  assert.equal(runFolderWriter(dir)?.pid, Deno.pid, "still held by the outer hold");
  a.release();
  assert.equal(runFolderWriter(dir), null);
  assert.ok(!exists(dir), "the folder the lock made, with nothing written, is removed");

  Deno.mkdirSync(dir, { recursive: true });
  const c = lockRunFolder(dir, "train");
  c.release();
  assert.ok(exists(dir), "a folder that was there stays");
  // an owner the lock file does not name (a writer that has not yet recorded itself)
  assert.equal(
    new RunFolderBusyError(dir, null).message,
    `${dir} is being written by another process; wait for it or use another run folder`,
  );
});
