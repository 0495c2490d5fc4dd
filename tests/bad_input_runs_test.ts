// Bad input never passes silently (issue 14, runs and paths): path flags checked before any
// work, run folders whose files are not what hlgm wrote (config.json, last.json, best.json,
// checkpoints, metrics.jsonl), and exit codes a script can trust (2: usage found before work,
// 1: failure while running, a diverged run included). Every failure is ONE line on stderr that
// names the file or flag and the problem. Real `hlgm` child processes on tiny synthetic runs.
import assert from "node:assert/strict";
import { type CliResult, runCli } from "./helpers.ts";
import { loadSafetensors, saveSafetensors } from "../src/checkpoint/safetensors.ts";
import { tidy } from "../src/tensor/engine.ts";
import type { Tensor } from "../src/tensor/tensor.ts";

const env = { HLGM_NUM_THREADS: "1", NO_COLOR: "1", HLGM_DATA: "/nonexistent/hlgm-data" };
const cli = (args: string[]) => runCli(args, env);
/** 64 synthetic images, one batch an epoch: a run of a second or two. */
const data = ["--dataset", "synthetic", "--subset", "64", "--device", "cpu"];
const tiny = [...data, "--method", "baseline"];

const root = Deno.makeTempDirSync({ prefix: "hlgm-bad-input-" });
globalThis.addEventListener("unload", () => {
  try {
    Deno.removeSync(root, { recursive: true });
  } catch { /* already gone */ }
});

/** Asserts the exit code and that stderr is one line matching `pattern`. */
function failsWith(r: CliResult, code: number, pattern: RegExp): void {
  const err = r.stderr.trim();
  assert.equal(r.code, code, `exit ${r.code}, expected ${code}: ${err}`);
  assert.equal(err.split("\n").length, 1, `stderr is one line:\n${err}`);
  assert.match(err, pattern);
}

const exists = (p: string) => {
  try {
    Deno.lstatSync(p);
    return true;
  } catch {
    return false;
  }
};
const metricsEpochs = (run: string) =>
  Deno.readTextFileSync(`${run}/metrics.jsonl`).trim().split("\n").map((l) => JSON.parse(l).epoch);
const readJson = (file: string) => JSON.parse(Deno.readTextFileSync(file));

/** A finished 2-epoch baseline run, trained once; each case works on a copy. */
let template: string | null = null;
async function templateRun(): Promise<string> {
  if (template) return template;
  const run = `${root}/template`;
  const r = await cli(["train", ...tiny, "--epochs", "2", "--out", run]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(metricsEpochs(run), [1, 2]);
  template = run;
  return run;
}
let copies = 0;
/** A fresh copy of the template run. */
async function copyOfRun(): Promise<string> {
  const from = await templateRun();
  const to = `${root}/copy-${++copies}`;
  const out = await new Deno.Command("cp", { args: ["-r", from, to] }).output();
  assert.ok(out.success);
  return to;
}

Deno.test("path flags: every bad --out, --config, --data-dir, --pretrained, --resume exits 2 with one line before any work, writing nothing", async (t) => {
  const dir = `${root}/paths`;
  Deno.mkdirSync(dir);
  const file = `${dir}/a-file`;
  Deno.writeTextFileSync(file, "not a folder\n");
  const write = (name: string, text: string) => {
    Deno.writeTextFileSync(`${dir}/${name}`, text);
    return `${dir}/${name}`;
  };
  const never = `${dir}/never`; // the --out of cases about other flags: never created
  const run = await templateRun();
  const before = [...Deno.readDirSync(run)].map((e) => e.name).sort();
  const runMetrics = Deno.readTextFileSync(`${run}/metrics.jsonl`);
  const cases: [string, string[], RegExp][] = [
    ["--out '' (the filesystem root before)", ["--out", ""], /^error: --out "" is empty/],
    ["--out /", ["--out", "/"], /^error: --out \/ is the filesystem root/],
    ["--out //", ["--out", "//"], /^error: --out \/\/ is the filesystem root/],
    ["--out an existing file", ["--out", file], /--out .*a-file exists and is not a folder$/],
    ["--out below a file", ["--out", `${file}/run`], /--out .*a-file\/run: .*a-file is a file/],
    [
      "--out a folder that holds a run (no --force)",
      ["--out", run],
      /--out .*template already holds a run; .*--resume .*add --force to train over it$/,
    ],
    ["--config ''", ["--config", "", "--out", never], /^error: --config "" is empty/],
    [
      "--config missing",
      ["--config", `${dir}/nothing.json`, "--out", never],
      /--config .*nothing\.json: cannot read/,
    ],
    ["--config a folder", ["--config", dir, "--out", never], /--config .*paths: cannot read/],
    [
      "--config not JSON",
      ["--config", write("bad.json", "{epochs: 2"), "--out", never],
      /--config .*bad\.json: invalid JSON/,
    ],
    [
      "--config an array",
      ["--config", write("array.json", "[1, 2]"), "--out", never],
      /--config .*array\.json: expected a JSON object of settings, got an array/,
    ],
    [
      "--config null",
      ["--config", write("null.json", "null"), "--out", never],
      /--config .*null\.json: expected a JSON object of settings, got null/,
    ],
    [
      '--config {"config": 5}',
      ["--config", write("config5.json", '{"config": 5}'), "--out", never],
      /--config .*config5\.json: unknown setting "config"/,
    ],
    [
      "--config a string where a number goes",
      ["--config", write("epochs.json", '{"epochs": "2"}'), "--out", never],
      /--config .*epochs\.json: "epochs" must be a number, got "2"/,
    ],
    [
      "--config a string where true/false goes",
      ["--config", write("augment.json", '{"augment": "yes"}'), "--out", never],
      /--config .*augment\.json: "augment" must be true or false, got "yes"/,
    ],
    [
      "--data-dir ''",
      ["--data-dir", "", "--out", never],
      /^error: --data-dir must be a folder path, got ""$/,
    ],
    [
      "--data-dir missing",
      ["--data-dir", `${dir}/no-data`, "--out", never],
      /--data-dir .*no-data does not exist$/,
    ],
    [
      "--data-dir a file",
      ["--data-dir", file, "--out", never],
      /--data-dir .*a-file is not a folder/,
    ],
    [
      "--pretrained missing",
      ["--pretrained", `${dir}/w.pth`, "--out", never],
      /--pretrained .*w\.pth does not exist$/,
    ],
    [
      "--pretrained a folder",
      ["--pretrained", dir, "--out", never],
      /--pretrained .* is not a file/,
    ],
    ["--pretrained ''", ["--pretrained", "", "--out", never], /pretrained must be a file path/],
  ];
  for (const [name, args, pattern] of cases) {
    await t.step(`train ${name}`, async () => {
      failsWith(await cli(["train", ...tiny, "--epochs", "1", ...args]), 2, pattern);
      assert.ok(!exists(never), "nothing written");
    });
  }
  const resumeCases: [string, string[], RegExp][] = [
    ["--resume ''", ["--resume", ""], /^error: --resume "" is empty/],
    ["--resume missing", ["--resume", `${dir}/no-run`], /--resume .*no-run: not a run folder/],
    ["--resume a file", ["--resume", file], /--resume .*a-file: not a run folder/],
    ["--resume RUN --out X", ["--resume", run, "--out", never], /it takes no --out$/],
  ];
  for (const [name, args, pattern] of resumeCases) {
    await t.step(`train ${name}`, async () => {
      failsWith(await cli(["train", ...args]), 2, pattern);
      assert.ok(!exists(never), "nothing written");
    });
  }
  await t.step("compare --out '' and sweep --out / exit 2 before anything trains", async () => {
    failsWith(
      await cli(["compare", ...data, "--epochs", "1", "--methods", "baseline", "--out", ""]),
      2,
      /^error: --out "" is empty/,
    );
    failsWith(
      await cli(["sweep", ...tiny, "--epochs", "1", "--grid", "lr=0.1,0.2", "--out", "/"]),
      2,
      /^error: --out \/ is the filesystem root/,
    );
  });
  // nothing of the above wrote into the filesystem root or touched the run
  for (const f of ["/config.json", "/metrics.jsonl", "/checkpoints", "/compare.json"]) {
    assert.ok(!exists(f), `${f} was written`);
  }
  assert.deepEqual([...Deno.readDirSync(run)].map((e) => e.name).sort(), before);
  assert.equal(Deno.readTextFileSync(`${run}/metrics.jsonl`), runMetrics);
});

Deno.test("config.json of a run folder: {} / an array / not JSON / wrong field types exit 2 naming the file and the field (eval, saliency, --resume, report, sib)", async (t) => {
  const good = readJson(`${await templateRun()}/config.json`);
  const folder = (name: string, text: string) => {
    const dir = `${root}/config-${name}`;
    Deno.mkdirSync(dir);
    Deno.writeTextFileSync(`${dir}/config.json`, text);
    return dir;
  };
  const with_ = (change: (j: Record<string, Record<string, unknown>>) => void) => {
    const j = structuredClone(good);
    change(j);
    return JSON.stringify(j);
  };
  const empty = folder("empty", "{}");
  const emptyMessage =
    /config\.json: "config" must be an object .*got nothing; "data" must be an object .*got nothing$/;
  const cases: [string, string[], RegExp][] = [
    ["eval, {}", ["eval", empty], emptyMessage],
    ["saliency, {}", ["saliency", empty, "--out", `${root}/never.png`], emptyMessage],
    [
      "train --resume, {}",
      ["train", "--resume", empty],
      /^error: --resume: .*config\.json: "config" must be/,
    ],
    ["report, {}", ["report", empty, "--no-saliency"], emptyMessage],
    ["sib, {}", ["sib", empty, "--out", `${root}/never-sib`], emptyMessage],
    [
      "eval, an array",
      ["eval", folder("array", "[]")],
      /config\.json: expected a JSON object \(a run's config\), got \[\]$/,
    ],
    [
      "eval, not JSON",
      ["eval", folder("garbage", "garbage\n")],
      /config\.json is not valid JSON \(it begins "garbage"\)$/,
    ],
    [
      "eval, data.shape of 2 numbers",
      ["eval", folder("shape", with_((j) => (j.data.shape = [1, 28] as unknown as never)))],
      /config\.json: "data\.shape" must be 3 positive integers .*got \[1,28\]$/,
    ],
    [
      "eval, data.classes empty",
      ["eval", folder("classes", with_((j) => (j.data.classes = [] as unknown as never)))],
      /config\.json: "data\.classes" must be a non-empty list of class names, got \[\]$/,
    ],
    [
      "eval, config.epochs a string",
      ["eval", folder("epochs", with_((j) => (j.config.epochs = "2")))],
      /config\.json: "config": "epochs" must be a number, got "2"$/,
    ],
    [
      "eval, config with an unknown setting",
      ["eval", folder("unknown", with_((j) => (j.config.bogus = 1)))],
      /config\.json: "config": unknown setting "bogus"$/,
    ],
    [
      "train --resume, config.lr negative",
      ["train", "--resume", folder("lr", with_((j) => (j.config.lr = -1)))],
      /config\.json: "config": lr must be a positive number, got -1$/,
    ],
  ];
  for (const [name, args, pattern] of cases) {
    await t.step(name, async () => {
      failsWith(await cli(args), 2, pattern);
    });
  }
  assert.ok(!exists(`${root}/never.png`) && !exists(`${root}/never-sib`));
});

Deno.test("checkpoints: an unreadable last.json or best.json falls back to the newest checkpoint that loads, saying which; with none that loads it is an error, nothing is lost", async (t) => {
  await t.step(
    "--resume with garbage last.json goes on from epoch 2 (metrics kept, epochs continue)",
    async () => {
      const run = await copyOfRun();
      Deno.writeTextFileSync(`${run}/checkpoints/last.json`, "garbage\n");
      const r = await cli(["train", "--resume", run, "--epochs", "3"]);
      failsWith(
        r,
        0,
        /^warning: .*last\.json is not valid JSON \(it begins "garbage"\); using the newest checkpoint that loads instead: epoch 2 \(epoch-0002\.safetensors\)$/,
      );
      assert.match(r.stdout, /^resuming baseline .*; epoch 3 of 3 on/m);
      assert.deepEqual(metricsEpochs(run), [1, 2, 3]);
      assert.equal(readJson(`${run}/checkpoints/last.json`).epoch, 3);
    },
  );
  await t.step(
    "--resume with a last.json record that is not one (epoch missing) goes on too",
    async () => {
      const run = await copyOfRun();
      const last = readJson(`${run}/checkpoints/last.json`);
      delete last.epoch;
      Deno.writeTextFileSync(`${run}/checkpoints/last.json`, JSON.stringify(last));
      const r = await cli(["train", "--resume", run, "--epochs", "3"]);
      failsWith(
        r,
        0,
        /^warning: .*last\.json is not a checkpoint record \("epoch" must be a positive integer, got nothing\); using .* epoch 2/,
      );
      assert.deepEqual(metricsEpochs(run), [1, 2, 3]);
    },
  );
  await t.step(
    "--resume with a last.json whose fp16 loss scale is not one falls back the same way",
    async () => {
      const run = await copyOfRun();
      const last = readJson(`${run}/checkpoints/last.json`);
      assert.equal(last.gradScaler, null); // an fp32 run keeps no scale
      last.gradScaler = { scale: -1, growthTracker: 0 };
      Deno.writeTextFileSync(`${run}/checkpoints/last.json`, JSON.stringify(last));
      const r = await cli(["train", "--resume", run, "--epochs", "3"]);
      failsWith(
        r,
        0,
        /^warning: .*last\.json is not a checkpoint record \("gradScaler" must be null or \{scale > 0, growthTracker >= 0\}, got \{"scale":-1,"growthTracker":0\}\); using .* epoch 2/,
      );
      assert.deepEqual(metricsEpochs(run), [1, 2, 3]);
    },
  );
  await t.step(
    "last.json naming a missing weights file, and no other checkpoint: exit 1, the run untouched",
    async () => {
      const run = await copyOfRun();
      Deno.removeSync(`${run}/checkpoints/epoch-0002.safetensors`);
      const files = [...Deno.readDirSync(`${run}/checkpoints`)].map((e) => e.name).sort();
      const r = await cli(["train", "--resume", run, "--epochs", "3"]);
      failsWith(
        r,
        1,
        /^error: .*last\.json names epoch-0002\.safetensors, which does not load \(missing\), and no other checkpoint in .* loads; add --force to start .* over/,
      );
      assert.deepEqual(metricsEpochs(run), [1, 2]);
      assert.deepEqual(
        [...Deno.readDirSync(`${run}/checkpoints`)].map((e) => e.name).sort(),
        files,
      );
    },
  );
  await t.step("a truncated state file: --resume exits 1 naming it", async () => {
    const run = await copyOfRun();
    const f = `${run}/checkpoints/epoch-0002.state.safetensors`;
    Deno.truncateSync(f, 1000);
    failsWith(
      await cli(["train", "--resume", run, "--epochs", "3"]),
      1,
      /last\.json names epoch-0002\.state\.safetensors, which does not load \(.*truncated file/,
    );
    assert.deepEqual(metricsEpochs(run), [1, 2]);
  });
  await t.step("a truncated weights file: eval --checkpoint last exits 1 naming it", async () => {
    const run = await copyOfRun();
    const f = `${run}/checkpoints/epoch-0002.safetensors`;
    Deno.truncateSync(f, Deno.statSync(f).size / 2);
    failsWith(
      await cli(["eval", run, "--checkpoint", "last", "--device", "cpu"]),
      1,
      /^error: .*last\.json names epoch-0002\.safetensors, which does not load \(.*truncated file\?\)\), and no other checkpoint/,
    );
  });
  await t.step(
    "garbage best.json: eval uses the best epoch the last checkpoint records and says so",
    async () => {
      const run = await copyOfRun();
      const best = readJson(`${run}/checkpoints/best.json`).epoch;
      Deno.writeTextFileSync(`${run}/checkpoints/best.json`, "{");
      const r = await cli(["eval", run, "--json", "--device", "cpu"]);
      failsWith(
        r,
        0,
        new RegExp(
          `^note: .*best\\.json is not valid JSON \\(it begins "\\{"\\); using epoch ${best}, the best epoch the last checkpoint records$`,
        ),
      );
      assert.equal(JSON.parse(r.stdout).epoch, best);
    },
  );
  await t.step("garbage best.json and last.json: eval still finds the checkpoints", async () => {
    const run = await copyOfRun();
    Deno.writeTextFileSync(`${run}/checkpoints/best.json`, "[]");
    Deno.writeTextFileSync(`${run}/checkpoints/last.json`, "");
    const r = await cli(["eval", run, "--json", "--device", "cpu"]);
    failsWith(r, 0, /^note: .*best\.json is not a checkpoint pointer .*; using epoch 2/);
    assert.equal(JSON.parse(r.stdout).epoch, 2);
  });
  await t.step(
    "garbage best.json is written again at the next checkpoint; the files it named are kept",
    async () => {
      const run = await copyOfRun();
      const best = readJson(`${run}/checkpoints/best.json`);
      Deno.writeTextFileSync(`${run}/checkpoints/best.json`, "garbage");
      const r = await cli(["train", "--resume", run, "--epochs", "3"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, "");
      const now = readJson(`${run}/checkpoints/best.json`);
      assert.ok(now.epoch >= best.epoch, JSON.stringify(now));
      assert.ok(exists(`${run}/checkpoints/${now.weights}`), now.weights);
    },
  );
  await t.step(
    "--resume --force starts a run whose checkpoints all fail over, in its folder",
    async () => {
      const run = await copyOfRun();
      Deno.writeTextFileSync(`${run}/checkpoints/last.json`, "garbage");
      Deno.removeSync(`${run}/checkpoints/epoch-0002.state.safetensors`);
      const r = await cli(["train", "--resume", run, "--force"]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^training baseline /m);
      assert.deepEqual(metricsEpochs(run), [1, 2]);
      assert.equal(readJson(`${run}/checkpoints/last.json`).epoch, 2);
    },
  );
  await t.step("train --out RUN --force trains over a run, removing its old results", async () => {
    const run = await copyOfRun();
    const r = await cli(["train", ...tiny, "--epochs", "1", "--out", run, "--force"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(metricsEpochs(run), [1]);
    assert.ok(!exists(`${run}/checkpoints/epoch-0002.safetensors`));
    assert.equal(readJson(`${run}/config.json`).config.epochs, 1);
  });
});

Deno.test("metrics.jsonl: a bad line before the last is an error naming the file and line; a torn last line is ignored", async (t) => {
  const withMetrics = async (change: (lines: string[]) => string) => {
    const run = await copyOfRun();
    const lines = Deno.readTextFileSync(`${run}/metrics.jsonl`).split("\n");
    Deno.writeTextFileSync(`${run}/metrics.jsonl`, change(lines));
    return run;
  };
  const garbageFirst = (l: string[]) => ["garbage", ...l.slice(1)].join("\n");
  const report = (run: string) => ["report", run, "--no-saliency"];
  const cases: [string, (l: string[]) => string, (run: string) => string[], RegExp][] = [
    [
      "report, garbage first line",
      garbageFirst,
      report,
      /^error: .*metrics\.jsonl: line 1 is not JSON \("garbage"\)/,
    ],
    [
      "train --resume, garbage first line (nothing dropped)",
      garbageFirst,
      (run) => ["train", "--resume", run, "--epochs", "3"],
      /^error: .*metrics\.jsonl: line 1 is not JSON/,
    ],
    [
      "report, a JSON line that is not an epoch's",
      (l) => [l[0], "5", ...l.slice(1)].join("\n"),
      report,
      /^error: .*metrics\.jsonl: line 2: expected an epoch's JSON object, got 5$/,
    ],
    [
      "report, a garbage last line with a newline after it (not a torn write)",
      (l) => [...l.slice(0, -1), "garbage", ""].join("\n"),
      report,
      /^error: .*metrics\.jsonl: line 3 is not JSON/,
    ],
  ];
  for (const [name, change, args, pattern] of cases) {
    await t.step(name, async () => {
      const run = await withMetrics(change);
      const before = Deno.readTextFileSync(`${run}/metrics.jsonl`);
      failsWith(await cli(args(run)), 1, pattern);
      assert.equal(Deno.readTextFileSync(`${run}/metrics.jsonl`), before, "untouched");
      assert.ok(!exists(`${run}/report`), "no report written");
    });
  }
  await t.step(
    "runs --json, a torn last line (a crash mid-append): 2 epochs, nothing on stderr",
    async () => {
      const run = await withMetrics((l) => l.join("\n") + '{"epoch":3,"pha');
      const r = await cli(["runs", run, "--json"]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, "");
      const [listed] = JSON.parse(r.stdout);
      assert.equal(listed.summary.epochs, 2);
      assert.equal(listed.status, "complete");
    },
  );
});

Deno.test("exit codes: a diverged run exits 1 (train), compare and sweep record it and exit 1 unless --keep-going", async (t) => {
  const diverging = [...data, "--epochs", "1", "--batch-size", "16"];
  await t.step("train --lr 1e30 diverges in the first epoch: exit 1, one line", async () => {
    const out = `${root}/diverged`;
    const r = await cli([
      "train",
      ...diverging,
      "--method",
      "baseline",
      "--lr",
      "1e30",
      "--out",
      out,
    ]);
    failsWith(
      r,
      1,
      /^loss became (NaN|Infinity) at epoch 1, batch \d+; stopped\. .*try a lower --lr$/,
    );
    assert.ok(!exists(`${out}/checkpoints/last.json`));
  });
  await t.step(
    "compare --lr 1e30: compare.json records diverged, exit 1; --keep-going exits 0",
    async () => {
      const out = `${root}/compare-diverged`;
      const args = [
        "compare",
        ...diverging,
        "--lr",
        "1e30",
        "--methods",
        "baseline,sgt",
        "--seeds",
        "0",
        "--out",
        out,
      ];
      const r = await cli(args);
      failsWith(
        r,
        1,
        /^2 of 2 runs diverged \(NaN\/Inf loss\): baseline seed 0, sgt seed 0; recorded as "diverged" in .*compare\.json \(--keep-going exits 0\)$/,
      );
      assert.match(r.stdout, /Table II: .*\(diverged: baseline seed 0, sgt seed 0\)/);
      const j = readJson(`${out}/compare.json`);
      assert.deepEqual(j.runs.map((x: { status: string }) => x.status), ["diverged", "diverged"]);
      const again = await cli([...args, "--keep-going"]);
      failsWith(again, 0, /^warning: 2 of 2 runs diverged/);
    },
  );
  await t.step(
    "sweep --grid lr=0.1,1e30: the good run trains, the other is recorded diverged, exit 1; --keep-going exits 0",
    async () => {
      const out = `${root}/sweep-diverged`;
      const args = [
        "sweep",
        ...diverging,
        "--method",
        "baseline",
        "--grid",
        "lr=0.1,1e30",
        "--seeds",
        "0",
        "--out",
        out,
      ];
      const r = await cli(args);
      failsWith(
        r,
        1,
        /^1 run\(s\) did not finish: lr=1e\+30 seed 0 diverged; recorded in .*sweep\.json \(--keep-going exits 0\)$/,
      );
      const status = () =>
        readJson(`${out}/sweep.json`).runs.map((
          x: { cell: string; status: string },
        ) => [x.cell, x.status]);
      assert.deepEqual(status(), [["lr=0.1", "trained"], ["lr=1e+30", "diverged"]]);
      const again = await cli([...args, "--keep-going"]);
      failsWith(again, 0, /^warning: 1 run\(s\) did not finish: lr=1e\+30 seed 0 diverged/);
      assert.deepEqual(status(), [["lr=0.1", "reused"], ["lr=1e+30", "diverged"]]);
    },
  );
});

/** Rewrites the tensors of a safetensors file, `change` given them by name. */
function rewriteTensors(file: string, change: (tensors: Map<string, Tensor>) => void): void {
  tidy(() => {
    const { tensors, metadata } = loadSafetensors(file, { device: "cpu" });
    change(tensors);
    saveSafetensors(file, tensors, metadata);
  });
}

Deno.test("--resume refuses what it cannot continue: NaN weights or optimizer state (naming the file and tensor), data that changed since the run started", async (t) => {
  const lastOf = (run: string) => readJson(`${run}/checkpoints/last.json`);
  await t.step("NaN in conv2.weight of the last checkpoint: exit 1, nothing written", async () => {
    const run = await copyOfRun();
    const file = `${run}/checkpoints/${lastOf(run).weights}`;
    rewriteTensors(file, (ts) => ts.set("conv2.weight", ts.get("conv2.weight")!.mul(NaN)));
    const before = Deno.readTextFileSync(`${run}/metrics.jsonl`);
    const r = await cli(["train", "--resume", run, "--epochs", "3"]);
    failsWith(
      r,
      1,
      /^error: cannot resume: \S+\/checkpoints\/epoch-0002\.safetensors \(epoch 2\) has non-finite weights: conv2\.weight holds 18432 NaN of its 18432 values .*; start the run over with --force$/,
    );
    assert.equal(Deno.readTextFileSync(`${run}/metrics.jsonl`), before);
    assert.equal(lastOf(run).epoch, 2);
  });
  await t.step("Inf in the optimizer state: exit 1 naming the state file and tensor", async () => {
    const run = await copyOfRun();
    const file = `${run}/checkpoints/${lastOf(run).state}`;
    let name = "";
    rewriteTensors(file, (ts) => {
      name = [...ts.keys()].find((k) => k.startsWith("optimizer."))!;
      ts.set(name, ts.get(name)!.add(Infinity));
    });
    const r = await cli(["train", "--resume", run, "--epochs", "3"]);
    failsWith(
      r,
      1,
      new RegExp(
        `^error: cannot resume: \\S+/checkpoints/epoch-0002\\.state\\.safetensors \\(epoch 2\\) has non-finite weights: ${
          name.replaceAll(".", "\\.")
        } holds \\d+ infinite of its \\d+ values`,
      ),
    );
  });
  await t.step(
    "the data changed (config.json records 50 training images, the data gives 58): exit 1 naming the field",
    async () => {
      const run = await copyOfRun();
      const info = readJson(`${run}/config.json`);
      info.data.train = 50;
      Deno.writeTextFileSync(`${run}/config.json`, JSON.stringify(info));
      const r = await cli(["train", "--resume", run, "--epochs", "3"]);
      failsWith(
        r,
        1,
        /^error: cannot resume \S+: its data changed since the run started \(data\.train is 50 in config\.json, the data now gives 58\); restore the data, or start over with --force$/,
      );
      assert.equal(lastOf(run).epoch, 2);
    },
  );
  await t.step("config.json data.test not a count: exit 2 naming the field", async () => {
    const run = await copyOfRun();
    const info = readJson(`${run}/config.json`);
    info.data.test = "512";
    Deno.writeTextFileSync(`${run}/config.json`, JSON.stringify(info));
    failsWith(
      await cli(["eval", run]),
      2,
      /config\.json: "data\.test" must be a positive integer \(images in the split\), got "512"$/,
    );
  });
});

Deno.test("--lambda: beyond float32 is refused before work; 1e30 is a finite loss, trained as asked (not a divergence)", async (t) => {
  await t.step("--lambda 1e39: exit 2 naming the bound", async () => {
    failsWith(
      await cli(["train", ...data, "--method", "sgt", "--lambda", "1e39", "--out", `${root}/l39`]),
      2,
      /lambda must be at most 3\.4028234663852886e\+38 \(float32's largest\), got 1e\+39/,
    );
    assert.ok(!exists(`${root}/l39`));
  });
  await t.step("--lambda 1e30: exit 0, every epoch's loss is CE + 1e30 * KL", async () => {
    const out = `${root}/l30`;
    const r = await cli([
      "train",
      ...data,
      ...["--method", "sgt", "--lambda", "1e30", "--epochs", "2", "--out", out],
    ]);
    assert.equal(r.code, 0, r.stderr);
    const lines = Deno.readTextFileSync(`${out}/metrics.jsonl`).trim().split("\n").map((l) =>
      JSON.parse(l)
    );
    assert.equal(lines.length, 2);
    for (const m of lines) {
      assert.ok(m.train_kl > 0 && Number.isFinite(m.train_loss), JSON.stringify(m));
      const expected = m.train_ce + 1e30 * m.train_kl;
      assert.ok(
        Math.abs(m.train_loss - expected) / expected < 1e-6,
        `${m.train_loss} vs ${expected}`,
      );
    }
  });
});

Deno.test("compare checks every run folder before anything trains: a bad second folder fails at once, the first run is not trained", async () => {
  const out = `${root}/compare-bad-folder`;
  Deno.mkdirSync(`${out}/sgt-seed0`, { recursive: true });
  Deno.writeTextFileSync(`${out}/sgt-seed0/metrics.jsonl`, '{"epoch":1,"test_acc":0.5}\n');
  const r = await cli([
    "compare",
    ...data,
    ...["--epochs", "1", "--methods", "baseline,sgt", "--seeds", "0", "--out", out],
  ]);
  failsWith(r, 1, /sgt-seed0 holds results of a run but no checkpoint to continue from/);
  assert.ok(!exists(`${out}/baseline-seed0`), "baseline was not trained first");
});
