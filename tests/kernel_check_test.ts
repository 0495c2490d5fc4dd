// The convolution self-check (src/tensor/kernel_check.ts), the way a user meets it: a fresh
// process whose oneDNN is made to disagree (HLGM_SIMULATE_ONEDNN_FAULT=1 corrupts the float32
// input gradient only while oneDNN is on, as the real fault does), and HLGM_MKLDNN forcing.
import assert from "node:assert/strict";
import { KERNEL_CHECK_TOLERANCE, kernelCheck } from "../mod.ts";

const main = new URL("../cli/main.ts", import.meta.url).pathname;
const modUrl = new URL("../mod.ts", import.meta.url).href;

async function deno(args: string[], env: Record<string, string>) {
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    env: { NO_COLOR: "1", ...env },
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
  /^hlgm: libtorch's oneDNN convolution disagrees with float64 on this machine \(relative error [0-9.e+]+\); oneDNN is off for this process \(HLGM_MKLDNN=1 forces it on\)$/;

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
  } else {
    // a machine with the real fault: the float32 path without oneDNN must be right
    assert.equal(k.decision, "check failed: oneDNN turned off");
    assert.equal(k.onednnEnabled, false);
    assert.ok(k.errorWithoutOnednn! <= KERNEL_CHECK_TOLERANCE);
  }
});

Deno.test("kernel check: a disagreeing oneDNN is turned off with one line on stderr, and info shows it", async () => {
  const { check, stderr } = await infoJson({ HLGM_SIMULATE_ONEDNN_FAULT: "1" });
  if (!check.onednnBuilt) {
    assert.equal(check.decision, "not built with oneDNN");
    return;
  }
  assert.match(stderr, LINE);
  assert.equal(check.decision, "check failed: oneDNN turned off");
  assert.equal(check.onednnEnabled, false);
  assert.ok(check.error > 1, `simulated error ${check.error}`);
  assert.ok(check.errorWithoutOnednn <= KERNEL_CHECK_TOLERANCE, String(check.errorWithoutOnednn));

  const text = await deno(["run", "-A", main, "info"], { HLGM_SIMULATE_ONEDNN_FAULT: "1" });
  assert.match(
    text.stdout,
    /^oneDNN +off \(check failed: oneDNN turned off, conv error .* with oneDNN, .* without\)$/m,
  );
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
  const r = await deno(["eval", script], { HLGM_SIMULATE_ONEDNN_FAULT: "1" });
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
