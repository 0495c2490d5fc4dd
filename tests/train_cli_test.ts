// `hlgm train` as a user meets it: the lines before a run, the warning of an unreachable
// switch, --resume without a checkpoint, and the progress line in a real 80-column terminal.
import assert from "node:assert/strict";
import { fitFields, formatDuration } from "../cli/progress.ts";
import { defaultConfig, scheduleOf } from "../src/train/config.ts";
import { describeSchedule, previewSchedule, unreachableSwitch } from "../src/train/schedule.ts";
import { train } from "../src/train/trainer.ts";
import { FLAG_VOCABULARY } from "../cli/flag_vocabulary.ts";
import { LIBRARY_VOCABULARY, SettingError } from "../src/util/vocabulary.ts";
import { RunPlanError } from "../src/train/plan_error.ts";
import { outputIfInstalled, runCli } from "./helpers.ts";

const main = new URL("../cli/main.ts", import.meta.url).pathname;
const cli = (args: string[]) => runCli(args, { HLGM_NUM_THREADS: "2", NO_COLOR: "1" });
const tiny = ["--dataset", "synthetic", "--subset", "600", "--device", "cpu"];

Deno.test("progress fields: the least important go first; durations read as a person writes them", () => {
  const fields = [
    { text: "epoch 3/100", drop: 0 },
    { text: "loss 1.1376", drop: 5 },
    { text: "812 img/s", drop: 8 },
    { text: "run ETA 2h10m", drop: 1 },
  ];
  assert.equal(fitFields(fields, 80), "epoch 3/100 loss 1.1376 812 img/s run ETA 2h10m");
  assert.equal(fitFields(fields, 40), "epoch 3/100 loss 1.1376 run ETA 2h10m");
  assert.equal(fitFields(fields, 30), "epoch 3/100 run ETA 2h10m");
  assert.equal(fitFields(fields, 5), "epoch");
  assert.deepEqual([42, 725, 16320, NaN].map(formatDuration), ["42s", "12m05s", "4h32m", "?"]);
});

Deno.test("progress off a terminal: silent by default; with plainEvery, plain lines with their percentage, no more often than asked", async () => {
  const progress = new URL("../cli/progress.ts", import.meta.url).href;
  const script = `
    import { ProgressLine } from "${progress}";
    const quiet = new ProgressLine({ tty: false });
    quiet.update("never shown", 0.5);
    const every = new ProgressLine({ tty: false, plainEvery: 0 });
    every.update("run a: 1/3 images", 1 / 3);
    every.update([{ text: "run a:", drop: 0 }, { text: "3/3 images", drop: 1 }], 1);
    const rare = new ProgressLine({ tty: false, plainEvery: 3600000 });
    rare.update("too soon", 0.9);
  `;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  assert.equal(
    new TextDecoder().decode(out.stderr),
    "run a: 1/3 images (33%)\nrun a: 3/3 images (100%)\n",
  );
});

Deno.test("schedule: described in words; an hlgm run that cannot switch is named", () => {
  const hlgm = defaultConfig({ method: "hlgm", epochs: 4 });
  assert.match(
    describeSchedule(scheduleOf(hlgm), 4),
    /^hlgm: plain until val_acc stops improving for 20 epochs, then episodes of 5 epochs/,
  );
  assert.match(
    unreachableSwitch(scheduleOf(hlgm), 4)!,
    /earliest plateau switch comes after epoch 21, and the run has 4/,
  );
  // patience 2: plain epochs 1-3 at the earliest, the switch after epoch 3 leaves epoch 4 masked
  assert.equal(unreachableSwitch(scheduleOf({ ...hlgm, patience: 2 }), 4), null);
  assert.equal(unreachableSwitch(scheduleOf({ ...hlgm, patience: 3 }), 4) !== null, true);
  assert.match(
    unreachableSwitch(scheduleOf({ ...hlgm, switchEpoch: 4 }), 4)!,
    /^switchEpoch 4 is not before the last epoch/,
  );
  assert.match(
    unreachableSwitch(scheduleOf({ ...hlgm, switchEpoch: 4 }), 4, FLAG_VOCABULARY)!,
    /^--switch-epoch 4 is not before the last epoch/,
  );
  assert.equal(unreachableSwitch(scheduleOf({ ...hlgm, switchEpoch: 3 }), 4), null);
  // switch-by below the last epoch makes the switch reachable; at or past it, it is named
  assert.equal(unreachableSwitch(scheduleOf({ ...hlgm, patience: 20, switchBy: 3 }), 4), null);
  assert.match(
    unreachableSwitch(scheduleOf({ ...hlgm, patience: 20, switchBy: 4 }), 4)!,
    /lower patience, or a switchBy below 4\)$/,
  );
  assert.equal(unreachableSwitch(scheduleOf({ ...hlgm, method: "baseline" }), 4), null);
  assert.equal(
    describeSchedule(scheduleOf({ ...hlgm, method: "baseline" }), 1),
    "baseline: plain cross-entropy for 1 epoch",
  );
  // the rule agrees with the schedule itself (monitored value flat: the earliest switch)
  for (let patience = 0; patience <= 5; patience++) {
    for (const switchEpoch of [undefined, 1, 3, 6]) {
      for (let epochs = 1; epochs <= 8; epochs++) {
        const c = scheduleOf({ ...hlgm, patience, switchEpoch, epochs });
        const masked = previewSchedule(c, epochs).some((p) => p.mode !== "plain");
        const where = JSON.stringify({ patience, switchEpoch, epochs });
        assert.equal(unreachableSwitch(c, epochs) === null, masked, where);
      }
    }
  }
});

Deno.test("train: the lines before a run name the device used, the data, the schedule; one warning", async () => {
  const root = Deno.makeTempDirSync({ prefix: "hlgm-train-cli-" });
  try {
    const r = await cli(["train", ...tiny, "--epochs", "2", "--out", `${root}/run`]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split("\n");
    assert.match(
      lines[0],
      /^training hlgm on shallow-cnn \/ synthetic: 540 train, 60 val, 512 test images \(1x28x28\), 3 batches of 256; 2 epochs on cpu \(2 threads\), adadelta lr 0\.1, seed 0 -> /,
    );
    assert.match(lines[1], /^schedule: hlgm: plain until val_acc stops improving for 20 epochs/);
    // any duration: a loaded machine's epoch can take minutes
    const duration = String.raw`(\d+s|\d+m\d\ds|\d+h\d\dm)`;
    // 3 batches an epoch: too few warm ones for a steady rate, so the first epoch's time
    assert.match(
      lines[2],
      new RegExp(`^estimate: about ${duration} in all \\(from epoch 1's time\\)$`),
    );
    // then each epoch line says what is left, the last nothing
    assert.match(lines[3], new RegExp(`^epoch 1/2 .* img/s \\| about ${duration} left$`));
    assert.match(lines[4], /^epoch 2\/2 .* img\/s$/);
    const warnings = r.stderr.split("\n").filter((l) => l.startsWith("warning:"));
    assert.equal(warnings.length, 1, r.stderr);
    assert.match(warnings[0], /the run has 2: it is all plain training, the same as baseline/);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("train: --resume of a run with no checkpoint says so (exit 2); --force starts it over; a complete run has nothing to resume", async () => {
  const root = Deno.makeTempDirSync({ prefix: "hlgm-train-cli-" });
  try {
    const done = `${root}/done`;
    assert.equal((await cli(["train", ...tiny, "--epochs", "1", "--out", done])).code, 0);
    const complete = await cli(["train", "--resume", done]);
    assert.equal(complete.code, 0, complete.stderr);
    assert.equal(
      complete.stdout.trim(),
      `${done} is complete (1 of 1 epochs): nothing to resume (\`--epochs N\` with N > 1 extends it)`,
    );
    // a folder whose run stopped before its first checkpoint: config.json only
    const early = `${root}/early`;
    Deno.mkdirSync(early);
    Deno.copyFileSync(`${done}/config.json`, `${early}/config.json`);
    const refused = await cli(["train", "--resume", early]);
    assert.equal(refused.code, 2);
    assert.match(
      refused.stderr,
      /^error: --resume .*early: the run has no checkpoint yet .* add --force to start it over/,
    );
    const forced = await cli(["train", "--resume", early, "--force"]);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, /^training hlgm /);
    assert.match(Deno.readTextFileSync(`${early}/metrics.jsonl`), /"epoch":1/);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("train: in an 80-column terminal the progress line fits and keeps the epoch and the run's ETA", async () => {
  const hasTmux =
    (await outputIfInstalled("tmux", { args: ["-V"], stdout: "null", stderr: "null" }))
      ?.success ?? false;
  assert.ok(hasTmux, "tmux is needed (scripts/test.sh installs it)");
  const root = Deno.makeTempDirSync({ prefix: "hlgm-train-tmux-" });
  const session = `hlgm-test-${Deno.pid}`;
  const tmux = (...args: string[]) =>
    new Deno.Command("tmux", { args, stdout: "piped", stderr: "piped" }).output();
  try {
    const command =
      `HLGM_NUM_THREADS=1 ${Deno.execPath()} run -A ${main} train --device cpu --dataset synthetic ` +
      `--subset 20000 --batch-size 32 --method baseline --epochs 2 --out ${root}/run; sleep 30`;
    const started = await tmux("new-session", "-d", "-s", session, "-x", "80", "-y", "24", command);
    assert.ok(started.success, new TextDecoder().decode(started.stderr));
    let bar = "";
    // start-up takes seconds, or minutes on a loaded machine: 10 minutes only catch a hang
    for (const deadline = Date.now() + 600_000; !bar && Date.now() < deadline;) {
      await new Promise((r) => setTimeout(r, 300));
      const pane = new TextDecoder().decode(
        (await tmux("capture-pane", "-p", "-t", session)).stdout,
      );
      bar = pane.split("\n").find((l) => /^\[[#-]+\] epoch 1\/2 .*run ETA \d/.test(l)) ?? "";
    }
    assert.ok(bar, "a progress line with the run's ETA appeared");
    assert.ok(bar.length <= 80, `${bar.length} columns: ${bar}`);
    assert.match(bar, /^\[[#-]{10}\] epoch 1\/2 batch \d+\/563 .*epoch ETA \S+ run ETA \S+$/);
  } finally {
    await tmux("kill-session", "-t", session);
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("train: --resume RUN --epochs N extends a run to what an uninterrupted N-epoch run gives; other changes are refused, named", async () => {
  const root = Deno.makeTempDirSync({ prefix: "hlgm-extend-" });
  const strip = (run: string) =>
    Deno.readTextFileSync(`${run}/metrics.jsonl`).trim().split("\n").map((l) => {
      const { seconds: _s, images_per_s: _i, ...rest } = JSON.parse(l);
      return rest;
    });
  try {
    const flags = [...tiny, "--switch-epoch", "1", "--episode-size", "2"];
    assert.equal(
      (await cli(["train", ...flags, "--epochs", "4", "--out", `${root}/whole`])).code,
      0,
    );
    assert.equal(
      (await cli(["train", ...flags, "--epochs", "2", "--out", `${root}/short`])).code,
      0,
    );
    const refused = await cli([
      "train",
      "--resume",
      `${root}/short`,
      "--epochs",
      "4",
      "--lr",
      "0.5",
    ]);
    assert.equal(refused.code, 2);
    assert.match(
      refused.stderr,
      /cannot change --lr \(saved 0\.1, given 0\.5\); only --epochs can be raised/,
    );
    const same = await cli(["train", "--resume", `${root}/short`, "--epochs", "2"]);
    assert.equal(same.code, 2);
    assert.match(same.stderr, /already has 2 epochs done; --epochs must be more than that, got 2/);
    const extended = await cli([
      "train",
      "--resume",
      `${root}/short`,
      "--epochs",
      "4",
      "--seed",
      "0",
    ]);
    assert.equal(extended.code, 0, extended.stderr);
    assert.match(extended.stdout, /^resuming hlgm .*; epochs 3-4 of 4 on cpu/m);
    assert.deepEqual(strip(`${root}/short`), strip(`${root}/whole`));
    assert.equal(JSON.parse(Deno.readTextFileSync(`${root}/short/config.json`)).config.epochs, 4);
    const done = await cli(["train", "--resume", `${root}/short`]);
    assert.match(
      done.stdout,
      /is complete \(4 of 4 epochs\): nothing to resume \(`--epochs N` with N > 4 extends it\)/,
    );
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("advice names settings as a library user writes them, and flags under the CLI's words", async () => {
  const hlgm = scheduleOf(defaultConfig({ method: "hlgm", epochs: 4, patience: 20, switchBy: 4 }));
  assert.match(unreachableSwitch(hlgm, 4)!, /lower patience, or a switchBy below 4\)$/);
  assert.match(
    unreachableSwitch(hlgm, 4, FLAG_VOCABULARY)!,
    /lower --patience, or a --switch-by below 4\)$/,
  );
  assert.equal(
    unreachableSwitch(hlgm, 4, LIBRARY_VOCABULARY),
    unreachableSwitch(hlgm, 4),
    "the library's words by default",
  );
  // the engine's errors carry the settings they are about; a folder's advice names train()'s options
  const dir = await Deno.makeTempDir({ prefix: "hlgm-words-" });
  try {
    const config = defaultConfig({ dataset: "synthetic", subset: 64, epochs: 2, batchSize: 32 });
    assert.equal((await train(config, dir)).status, "completed");
    await assert.rejects(
      () => train(config, dir, { resume: true, epochs: 1 }),
      (e: unknown) =>
        e instanceof SettingError && e.settings.join() === "epochs" &&
        /has 2 epochs done; epochs must be more than that, got 1$/.test(e.message) &&
        // the same error, as the CLI prints it
        /has 2 epochs done; --epochs must be more than that, got 1$/.test(
          e.render(FLAG_VOCABULARY),
        ),
    );
    await assert.rejects(
      () => train(config, dir),
      (e: unknown) =>
        e instanceof RunPlanError && new RegExp(
          `already holds a run; continue it with train\\(config, "${dir}", \\{ resume: true \\}\\), ` +
            "choose another run folder, or add the option overwrite: true to train over it$",
        ).test(e.message) &&
        /continue it with `.* train --resume .*`, choose another --out, or add --force to train over it$/
          .test(e.render(FLAG_VOCABULARY)),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
