// The convolution self-check (src/tensor/kernel_check.ts), the way a user meets it: a fresh
// process whose oneDNN is made to disagree (HLGM_SIMULATE_ONEDNN_FAULT=1 corrupts the float32
// input gradient only while oneDNN is on, as the real fault does), and HLGM_MKLDNN forcing.
import assert from "node:assert/strict";
import {
  KEPT_PASS_ROUNDS,
  KERNEL_CHECK_ROUNDS,
  KERNEL_CHECK_TOLERANCE,
  kernelCheck,
} from "../mod.ts";

const main = new URL("../cli/main.ts", import.meta.url).pathname;
const modUrl = new URL("../mod.ts", import.meta.url).href;

async function deno(args: string[], env: Record<string, string>) {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    // HLGM_MKLDNN of the test's own environment (a CI setting) would skip the check
    env: { NO_COLOR: "1", HLGM_MKLDNN: "", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

async function infoJson(env: Record<string, string>) {
  const r = await deno(["run", "-A", main, "info", "--json"], env);
  assert.equal(r.code, 0, r.stderr);
  return { check: JSON.parse(r.stdout).kernelCheck, stderr: r.stderr.trim() };
}

const LINE =
  /^hlgm: libtorch's oneDNN convolution disagrees with float64 on this machine \(relative error (NaN|[0-9.e+]+) in check [0-9]+ of [0-9]+(, after an earlier verdict had passed it)?\); oneDNN is off for hlgm on this machine and libtorch build \(kept in .*kernel-check-[0-9a-f]{16}\.json\) \(HLGM_MKLDNN=1 forces it on\)$/;

/** A fresh folder for kept verdicts: the first process there decides. */
const verdictDir = () => Deno.makeTempDirSync({ prefix: "hlgm-kernel-check-" });

Deno.test("kernel check: this process's convolutions agree with float64, or oneDNN was turned off", () => {
  const k = kernelCheck();
  assert.equal(kernelCheck(), k, "runs once per process");
  if (Deno.env.get("HLGM_MKLDNN")) {
    assert.match(k.decision, /^forced by HLGM_MKLDNN=[01]$/);
  } else if (!k.onednnBuilt) {
    assert.equal(k.decision, "not built with oneDNN");
  } else if (k.decision === "check passed") {
    assert.ok(k.error !== null && k.error <= KERNEL_CHECK_TOLERANCE, String(k.error));
    assert.equal(k.onednnEnabled, true);
    const want = k.kept ? KEPT_PASS_ROUNDS : KERNEL_CHECK_ROUNDS;
    assert.equal(k.rounds, want, `passed after ${k.rounds} checks`);
  } else {
    // a machine where oneDNN is wrong (now or in an earlier process): the float32 path
    // without oneDNN must be right
    assert.equal(k.decision, "check failed: oneDNN turned off");
    assert.equal(k.onednnEnabled, false);
    if (!k.kept) assert.ok(k.errorWithoutOnednn! <= KERNEL_CHECK_TOLERANCE);
  }
});

Deno.test("kernel check: a disagreeing oneDNN is turned off with one line, once per machine; later processes keep the verdict silently", async () => {
  const dir = verdictDir();
  const env = { HLGM_SIMULATE_ONEDNN_FAULT: "1", HLGM_KERNEL_CHECK_DIR: dir };
  const { check, stderr } = await infoJson(env);
  if (!check.onednnBuilt) {
    assert.equal(check.decision, "not built with oneDNN");
    return;
  }
  assert.match(stderr, LINE);
  assert.equal(check.decision, "check failed: oneDNN turned off");
  assert.equal(check.onednnEnabled, false);
  assert.equal(check.kept, false);
  assert.equal(check.rounds, 1, "the simulated fault shows in the first check");
  // the simulated error (8), or NaN (JSON's null) where the real fault struck first
  assert.ok(check.error === null || check.error > 1, `simulated error ${check.error}`);
  assert.ok(check.errorWithoutOnednn <= KERNEL_CHECK_TOLERANCE, String(check.errorWithoutOnednn));
  assert.ok(check.verdictFile.startsWith(`${dir}/kernel-check-`), check.verdictFile);
  const kept = JSON.parse(Deno.readTextFileSync(check.verdictFile));
  assert.equal(kept.onednn, false);

  const again = await infoJson(env);
  assert.equal(again.stderr, "", "said once, by the process that decided");
  assert.equal(again.check.kept, true);
  assert.equal(again.check.rounds, 0);
  assert.equal(again.check.onednnEnabled, false);
  assert.equal(again.check.decision, "check failed: oneDNN turned off");

  const text = await deno(["run", "-A", main, "info"], env);
  assert.match(
    text.stdout,
    /^oneDNN +off \(check failed: oneDNN turned off, conv error .* with oneDNN, .* without; verdict kept in .*kernel-check-[0-9a-f]{16}\.json\)$/m,
  );
});

Deno.test("kernel check: a kept 'off' is final; a kept 'on' is checked again briefly", async () => {
  const dir = verdictDir();
  const first = await infoJson({ HLGM_KERNEL_CHECK_DIR: dir });
  if (!first.check.onednnBuilt) return;
  const file = first.check.verdictFile;
  const v = JSON.parse(Deno.readTextFileSync(file));
  // off: no check at all, whatever this machine's oneDNN does
  Deno.writeTextFileSync(file, JSON.stringify({ ...v, onednn: false }));
  const off = await infoJson({ HLGM_KERNEL_CHECK_DIR: dir });
  assert.deepEqual(
    [off.check.kept, off.check.rounds, off.check.onednnEnabled, off.stderr],
    [true, 0, false, ""],
  );
  // on: this process checks again; where oneDNN is right it keeps it on, silently
  Deno.writeTextFileSync(file, JSON.stringify({ ...v, onednn: true }));
  const on = await infoJson({ HLGM_KERNEL_CHECK_DIR: dir });
  const now = JSON.parse(Deno.readTextFileSync(file)).onednn;
  assert.equal(on.check.onednnEnabled, now, "the process follows the verdict kept after it");
  if (now) {
    assert.deepEqual([on.check.kept, on.check.rounds, on.stderr], [true, KEPT_PASS_ROUNDS, ""]);
  } else {
    assert.match(on.stderr, LINE); // a machine whose oneDNN is wrong showed it again
  }
});

Deno.test("kernel check: a failure in any process overrules a kept 'on', for good", async () => {
  const dir = verdictDir();
  const env = { HLGM_SIMULATE_ONEDNN_FAULT: "1", HLGM_KERNEL_CHECK_DIR: dir };
  const first = await infoJson(env);
  if (!first.check.onednnBuilt) return;
  const file = first.check.verdictFile;
  const v = JSON.parse(Deno.readTextFileSync(file));
  Deno.writeTextFileSync(file, JSON.stringify({ ...v, onednn: true })); // as if one had passed
  const later = await infoJson(env);
  assert.equal(later.check.onednnEnabled, false);
  assert.equal(later.check.kept, false);
  assert.match(later.stderr, /after an earlier verdict had passed it/);
  assert.match(later.stderr, LINE);
  assert.equal(
    JSON.parse(Deno.readTextFileSync(file)).onednn,
    false,
    "the kept verdict is off now",
  );
});

Deno.test("kernel check: processes that start together all end with oneDNN off, one verdict file", async () => {
  const dir = verdictDir();
  const env = { HLGM_SIMULATE_ONEDNN_FAULT: "1", HLGM_KERNEL_CHECK_DIR: dir };
  const all = await Promise.all([1, 2, 3].map(() => infoJson(env)));
  if (!all[0].check.onednnBuilt) return;
  for (const r of all) assert.equal(r.check.onednnEnabled, false);
  // each process that saw the fault itself says so; one that found the verdict kept is silent
  const lines = all.map((r) => r.stderr).filter((s) => s !== "");
  assert.ok(lines.length >= 1, "the first to decide said so");
  for (const l of lines) assert.match(l, LINE);
  const files = [...Deno.readDirSync(dir)].map((e) => e.name);
  assert.equal(files.length, 1, `one verdict file, no temporary left: ${files}`);
  assert.equal(JSON.parse(Deno.readTextFileSync(`${dir}/${files[0]}`)).onednn, false);
});

Deno.test("kernel check: after turning oneDNN off, training convolutions get correct gradients", async () => {
  // conv2d (the first call runs the check) and its input gradient against float64, twice:
  // one stderr line for the process, however many convolutions follow.
  const script = `
    import { conv2d, grad, tensor, tidy } from "${modUrl}";
    const xs = Array.from({ length: 2 * 3 * 6 * 6 }, (_, i) => Math.sin(i * 0.37));
    const ws = Array.from({ length: 4 * 3 * 3 * 3 }, (_, i) => Math.cos(i * 0.11));
    const worst = [];
    for (let round = 0; round < 2; round++) {
      worst.push(tidy(() => {
        const gx = (dtype) => {
          const x = tensor(xs, { dtype }).reshape([2, 3, 6, 6]).requiresGrad_();
          const w = tensor(ws, { dtype }).reshape([4, 3, 3, 3]);
          const y = conv2d(x, w, { padding: 1 });
          return Array.from(grad(y.square().sum(), x)[0].data(), Number);
        };
        const a = gx("float32"), b = gx("float64");
        return Math.max(...a.map((v, i) => Math.abs(v - b[i]) / 10));
      }));
    }
    console.log(JSON.stringify(worst));
  `;
  const r = await deno(["eval", script], {
    HLGM_SIMULATE_ONEDNN_FAULT: "1",
    HLGM_KERNEL_CHECK_DIR: verdictDir(),
  });
  assert.equal(r.code, 0, r.stderr);
  const worst: number[] = JSON.parse(r.stdout);
  for (const e of worst) assert.ok(e < 1e-4, `relative gradient error ${e}`);
  const lines = r.stderr.trim().split("\n").filter((l) => l !== "");
  assert.ok(lines.length <= 1, r.stderr);
  if (lines.length === 1) assert.match(lines[0], LINE);
});
Deno.test("kernel check: HLGM_MKLDNN=0|1 forces oneDNN without checking; other values are refused", async () => {
  const off = await infoJson({ HLGM_MKLDNN: "0", HLGM_SIMULATE_ONEDNN_FAULT: "1" });
  assert.equal(off.check.decision, "forced by HLGM_MKLDNN=0");
  assert.equal(off.check.onednnEnabled, false);
  assert.equal(off.check.error, null);
  assert.equal(off.stderr, "");
  const on = await infoJson({ HLGM_MKLDNN: "1", HLGM_SIMULATE_ONEDNN_FAULT: "1" });
  assert.equal(on.check.decision, "forced by HLGM_MKLDNN=1");
  assert.equal(on.check.onednnEnabled, on.check.onednnBuilt);
  assert.equal(on.stderr, "");
  const bad = await deno(["run", "-A", main, "info"], { HLGM_MKLDNN: "yes" });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /HLGM_MKLDNN must be 0 \(oneDNN off\) or 1 \(on\), got "yes"/);
});
