/**
 * The estimate `hlgm train` prints before a run ("estimate: about 4m22s in all (from ...)")
 * against the run's measured length: a real `train` child (HLGM on the generated set, 3 epochs
 * with the switch after the first, so plain and masked epochs both count), timed from its first
 * line to its exit. Prints one JSON line; ratio = estimate / measured (1 is exact).
 *
 *   deno run -A bench/estimate.ts [--device cpu|cuda] [--quick]
 *
 * @module
 */

import { flag, round } from "./util.ts";

const args = Deno.args;
const device = flag(args, "device") ?? "cpu";
const quick = args.includes("--quick");
const images = quick ? 3000 : 8000;
const out = Deno.makeTempDirSync({ prefix: "hlgm-bench-estimate-" });

/** Seconds of a duration as cli/progress.ts formatDuration writes it ("1h02m", "4m22s", "38s"). */
function parseDuration(text: string): number {
  const m = text.match(/^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/);
  if (!m || text === "") throw new Error(`not a duration: "${text}"`);
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}

try {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      ...["run", "-A", new URL("../cli/main.ts", import.meta.url).pathname, "train"],
      ...["--dataset", "synthetic", "--subset", String(images), "--batch-size", "64"],
      ...["--method", "hlgm", "--epochs", "3", "--switch-epoch", "1", "--device", device],
      ...["--no-tensorboard", "--out", `${out}/run`],
    ],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "null",
  }).spawn();
  let first: number | null = null;
  let text = "";
  const decoder = new TextDecoder();
  for await (const chunk of child.stdout) {
    first ??= performance.now();
    text += decoder.decode(chunk, { stream: true });
  }
  const status = await child.status;
  const measured = (performance.now() - (first ?? performance.now())) / 1000;
  if (!status.success) throw new Error(`train exited ${status.code}:\n${text}`);
  const line = text.split("\n").find((l) => l.startsWith("estimate: "));
  const m = line?.match(/^estimate: about (\S+) in all \(from ([^;)]+)/);
  if (!m) throw new Error(`no estimate line in:\n${text}`);
  const estimate = parseDuration(m[1]);
  console.log(JSON.stringify({
    device,
    images,
    batch: 64,
    epochs: "3 (1 plain, 2 masked)",
    estimated_from: m[2],
    estimate_s: estimate,
    measured_s: round(measured, 1),
    ratio: round(estimate / measured, 2),
  }));
} finally {
  Deno.removeSync(out, { recursive: true });
}
