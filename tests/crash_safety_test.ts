// Crash safety as a user meets it (issue 14): a real `hlgm train` child killed with SIGKILL
// halfway through each file a checkpoint writes, and a full disk (a small tmpfs), then
// `--resume`: the run ends byte-identical to one never interrupted, and nothing is left behind.
// The kill point comes from the HLGM_TEST_PAUSE_WRITE hook (src/util/write_pause.ts): the
// writer stops halfway through the named file, says so, and waits for the signal.
import assert from "node:assert/strict";
import { outputIfInstalled, runCli, spawnCli } from "./helpers.ts";

const env = { HLGM_NUM_THREADS: "1", NO_COLOR: "1", HLGM_DATA: "/nonexistent/hlgm-data" };
/** HLGM switching after epoch 1: epochs 2-3 mask, so the schedule state and both best rules are saved. */
const args = [
  ...["--dataset", "synthetic", "--subset", "64", "--device", "cpu", "--no-tensorboard"],
  ...["--method", "hlgm", "--switch-epoch", "1", "--epochs", "3"],
];

const root = Deno.makeTempDirSync({ prefix: "hlgm-crash-" });
globalThis.addEventListener("unload", () => {
  try {
    Deno.removeSync(root, { recursive: true });
  } catch { /* already gone */ }
});

/** metrics.jsonl without the timing columns (the only values a re-run may change). */
const metricsOf = (run: string) =>
  Deno.readTextFileSync(`${run}/metrics.jsonl`).trim().split("\n").map((l) => {
    const { seconds: _s, images_per_s: _i, ...rest } = JSON.parse(l);
    return rest;
  });
const filesIn = (dir: string) => [...Deno.readDirSync(dir)].map((e) => e.name).sort();

/** The same run, never interrupted. */
let reference: string | null = null;
async function referenceRun(): Promise<string> {
  if (reference) return reference;
  const run = `${root}/reference`;
  const r = await runCli(["train", ...args, "--out", run], env);
  assert.equal(r.code, 0, r.stderr);
  reference = run;
  return run;
}

/** Asserts `run` finished exactly as the reference did, with no temporary file left. */
async function assertSameAsReference(run: string): Promise<void> {
  const ref = await referenceRun();
  assert.deepEqual(metricsOf(run), metricsOf(ref));
  assert.deepEqual(filesIn(`${run}/checkpoints`), filesIn(`${ref}/checkpoints`));
  for (const f of filesIn(`${ref}/checkpoints`).filter((f) => f.endsWith(".safetensors"))) {
    assert.deepEqual(
      Deno.readFileSync(`${run}/checkpoints/${f}`),
      Deno.readFileSync(`${ref}/checkpoints/${f}`),
      `${f} differs from the uninterrupted run's`,
    );
  }
  // the switch's checkpoint is kept whole, to fork from, however the run was interrupted (a kill
  // after its last.json and before its copy: the resume makes it)
  const kept = filesIn(`${ref}/checkpoints/kept`);
  assert.deepEqual(filesIn(`${run}/checkpoints/kept`), kept);
  for (const k of kept) {
    for (const f of filesIn(`${ref}/checkpoints/kept/${k}`).filter((f) => f.startsWith(k))) {
      assert.deepEqual(
        Deno.readFileSync(`${run}/checkpoints/kept/${k}/${f}`),
        Deno.readFileSync(`${ref}/checkpoints/kept/${k}/${f}`),
        `kept/${k}/${f} differs from the uninterrupted run's`,
      );
    }
  }
  for (const f of ["best.json", "best-after-switch.json"]) {
    assert.deepEqual(
      JSON.parse(Deno.readTextFileSync(`${run}/checkpoints/${f}`)),
      JSON.parse(Deno.readTextFileSync(`${ref}/checkpoints/${f}`)),
    );
  }
  assert.deepEqual(filesIn(run).filter((f) => f.endsWith(".tmp")), []);
}

// [the write to stop in (PATTERN@N: the N-th matching write), what was being written then]
const killPoints: [string, string][] = [
  ["config\\.json$", "config.json as the run starts"],
  ["metrics\\.jsonl$@3", "epoch 2's metrics line (1: the empty file, 2: epoch 1)"],
  ["metrics\\.csv$@3", "metrics.csv after epoch 2"],
  ["epoch-0002\\.safetensors$", "epoch 2's weights"],
  ["epoch-0002\\.state\\.safetensors$", "epoch 2's optimizer and RNG state"],
  ["last\\.json$@2", "last.json naming epoch 2 (the commit point)"],
  ["^best\\.json$@1", "best.json naming epoch 1 (after its last.json)"],
  ["best-after-switch\\.json$@1", "best-after-switch.json naming epoch 2"],
];

Deno.test("kill -9 halfway through each file a checkpoint writes: --resume ends byte-identical to an uninterrupted run", async (t) => {
  await referenceRun();
  let n = 0;
  for (const [pattern, what] of killPoints) {
    await t.step(what, async () => {
      const run = `${root}/killed-${++n}`;
      const child = spawnCli(["train", ...args, "--out", run], {
        ...env,
        HLGM_TEST_PAUSE_WRITE: pattern,
      });
      await child.waitFor(/^hlgm-test: paused writing /);
      child.process.kill("SIGKILL");
      const killed = await child.finish();
      assert.equal(killed.code, 137, killed.stderr);
      const tmp = filesIn(`${run}`).concat(
        (() => {
          try {
            return filesIn(`${run}/checkpoints`);
          } catch {
            return [];
          }
        })(),
      ).filter((f) => f.endsWith(".tmp"));
      if (pattern.startsWith("metrics\\.jsonl")) {
        // appended in place: half a line, which --resume drops
        assert.equal(tmp.length, 0, `${tmp}`);
        assert.ok(!Deno.readTextFileSync(`${run}/metrics.jsonl`).endsWith("\n"), "a torn line");
      } else assert.equal(tmp.length, 1, `one cut write left behind: ${tmp}`);
      // before config.json exists there is no run to resume: the same command starts it again
      const again = pattern.startsWith("config")
        ? await runCli(["train", ...args, "--out", run], env)
        : await runCli(["train", "--resume", run], env);
      assert.equal(again.code, 0, again.stderr);
      await assertSameAsReference(run);
    });
  }
});

/** Runs `script` as root of a new mount namespace (its tmpfs mounts vanish with it). */
async function inMountNamespace(script: string): Promise<{ code: number; out: string }> {
  const r = await outputIfInstalled("unshare", {
    args: ["-rm", "bash", "-c", script],
    env: { ...env, PATH: Deno.env.get("PATH") ?? "" },
    stdout: "piped",
    stderr: "piped",
  }).catch((e) => ({ code: -1, stdout: new Uint8Array(), stderr: String(e) })) ??
    { code: -1, stdout: new Uint8Array(), stderr: "unshare is not installed" };
  const dec = (b: Uint8Array | string) => typeof b === "string" ? b : new TextDecoder().decode(b);
  return { code: r.code, out: dec(r.stdout) + dec(r.stderr) };
}

const probe = await inMountNamespace(
  `d=$(mktemp -d) && mount -t tmpfs -o size=1m tmpfs "$d" && echo mounted`,
);
const canMount = probe.code === 0 && probe.out.includes("mounted");
if (!canMount) {
  console.error(
    `crash_safety_test: no tmpfs in a user namespace here, full-disk case ignored: ${probe.out.trim()}`,
  );
}

Deno.test({
  name:
    "a full disk during epoch 2's checkpoint: exit 1 naming the file and what is kept, epoch 1 intact, --resume after making room ends as an uninterrupted run",
  ignore: !canMount,
  async fn() {
    await referenceRun();
    const main = new URL("../cli/main.ts", import.meta.url).pathname;
    const keep = `${root}/full-disk`;
    const deno = `"${Deno.execPath()}" run -A "${main}"`;
    // 20 MB: config, metrics, epoch 1 (4.8 MB weights + 9.6 MB state) and epoch 2's weights fit,
    // epoch 2's state does not. The run is copied out before the namespace (and tmpfs) ends.
    const script = `
      set -u
      d=$(mktemp -d); mount -t tmpfs -o size=20m tmpfs "$d" || exit 99
      ${deno} train ${args.join(" ")} --out "$d/run"; echo "first-exit=$?"
      cat "$d/run/checkpoints/last.json" > "${root}/full-disk-last.json"
      ls -a "$d/run/checkpoints" > "${root}/full-disk-files.txt"
      mount -o remount,size=64m tmpfs "$d"
      ${deno} train --resume "$d/run"; echo "resume-exit=$?"
      cp -r "$d/run" "${keep}"`;
    const r = await inMountNamespace(script);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /first-exit=1\n/);
    const errors = r.out.split("\n").filter((l) => l.startsWith("error:"));
    assert.equal(errors.length, 1, r.out);
    assert.match(
      errors[0],
      /^error: \S+\/run\/checkpoints\/epoch-0002\.state\.safetensors: write failed: No space left on device \(os error 28\); epoch 2 was not saved, the epoch 1 checkpoint is kept: make room and continue with `.* train --resume \S+\/run`$/,
    );
    assert.equal(JSON.parse(Deno.readTextFileSync(`${root}/full-disk-last.json`)).epoch, 1);
    const left = Deno.readTextFileSync(`${root}/full-disk-files.txt`).split("\n");
    assert.ok(left.includes("epoch-0001.state.safetensors"), left.join(" "));
    assert.deepEqual(left.filter((f) => f.endsWith(".tmp")), [], "the cut write was removed");
    assert.match(r.out, /resume-exit=0\n/);
    await assertSameAsReference(keep);
  },
});
