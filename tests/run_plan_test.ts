// The planner: what each intent makes of each kind of run folder (empty, a run with no
// checkpoint, a stopped run, a finished run, one with other settings, one whose checkpoints do
// not load), on real folders the trainer wrote; and that planning writes nothing.
import assert from "node:assert/strict";
import { defaultConfig, type TrainConfig } from "../src/train/config.ts";
import { planRun, type RunPlan, RunPlanError, type RunRefusal } from "../src/train/run_plan.ts";
import { train, trainPlan } from "../src/train/trainer.ts";
import { SettingError } from "../src/util/vocabulary.ts";

const config = (settings: Partial<TrainConfig> = {}) =>
  defaultConfig({
    dataset: "synthetic",
    subset: 64,
    batchSize: 32,
    epochs: 2,
    device: "cpu",
    ...settings,
  });

/** Every file below `dir` with its size and modification time: what planning must not touch. */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(d)];
    } catch {
      return;
    }
    for (const e of entries) {
      const p = `${d}/${e.name}`;
      if (e.isDirectory) walk(p);
      else {
        const s = Deno.statSync(p);
        out.push(`${p} ${s.size} ${s.mtime?.getTime()}`);
      }
    }
  };
  walk(dir);
  return out.sort();
}

/** planRun, checked to have written nothing. */
function plan(dir: string, request: Parameters<typeof planRun>[1]): RunPlan {
  const before = snapshot(dir);
  try {
    return planRun(dir, request);
  } finally {
    assert.deepEqual(snapshot(dir), before, "planning wrote nothing");
  }
}

/** The refusal planRun throws for `request` in `dir` (failing when it plans instead). */
function refusal(dir: string, request: Parameters<typeof planRun>[1]): RunPlanError {
  try {
    const p = plan(dir, request);
    assert.fail(`expected a refusal, got the plan ${p.action}`);
  } catch (e) {
    assert.ok(e instanceof RunPlanError, String(e));
    return e;
  }
}

const refused = (e: RunPlanError, why: RunRefusal, message: RegExp) => {
  assert.equal(e.refusal, why);
  assert.match(e.message, message);
};

Deno.test("planner: every intent on every kind of run folder, planned without writing", async () => {
  const root = Deno.makeTempDirSync({ prefix: "hlgm-plan-" });
  try {
    const empty = `${root}/empty`;
    // an empty (or missing) folder: new, reuse and restart start a run; resume has nothing
    for (const intent of ["new", "reuse", "restart"] as const) {
      const p = plan(empty, { intent, config: config() });
      assert.equal(p.action, "start");
      assert.equal(p.action === "start" && p.overwrite, false);
    }
    refused(refusal(empty, { intent: "resume" }), "not-a-run", /empty: not a run folder/);

    // a finished run of 2 epochs
    const done = `${root}/done`;
    assert.equal((await train(config(), done)).status, "completed");
    refused(
      refusal(done, { intent: "new", config: config() }),
      "holds-run",
      /done already holds a run; continue it with train\(config, ".*done", \{ resume: true \}\), choose another run folder, or add the option overwrite: true to train over it$/,
    );
    const over = plan(done, { intent: "new", config: config(), overwrite: true });
    assert.deepEqual([over.action, over.action === "start" && over.overwrite], ["start", true]);
    for (const intent of ["resume", "reuse", "restart"] as const) {
      const p = plan(done, { intent, config: config() });
      assert.equal(p.action, "reuse", intent);
      assert.equal(p.action === "reuse" && p.epoch, 2);
    }
    // resume: only epochs may change, and only upwards
    const extend = plan(done, { intent: "resume", settings: { epochs: 3, seed: 0 } });
    assert.equal(extend.action, "resume");
    if (extend.action === "resume") {
      assert.deepEqual([extend.last.epoch, extend.config.epochs, extend.extended], [2, 3, true]);
    }
    assert.throws(
      () => plan(done, { intent: "resume", settings: { epochs: 2 } }),
      (e: unknown) =>
        e instanceof SettingError && e.settings.join() === "epochs" &&
        /already has 2 epochs done; epochs must be more than that, got 2$/.test(e.message),
    );
    assert.throws(
      () => plan(done, { intent: "resume", settings: { lr: 0.5, epochs: 3 } }),
      (e: unknown) =>
        e instanceof SettingError && e.settings.join() === "lr" &&
        /cannot change lr \(saved 0\.1, given 0\.5\); only epochs can be raised$/.test(e.message),
    );
    // reuse with other settings: refused, naming each difference (the device aside)
    refused(
      refusal(done, { intent: "reuse", config: config({ lambda: 2, device: "auto" }) }),
      "other-settings",
      /holds a run with other settings \(lambda 1 vs 2\); remove it or choose another run folder$/,
    );

    // a stopped run: 1 of 2 epochs, interrupted after the first
    const stopped = `${root}/stopped`;
    let epochs = 0;
    const r = await train(config(), stopped, {
      onEpoch: () => epochs++,
      shouldStop: () => epochs >= 1,
    });
    assert.equal(r.status, "interrupted");
    for (const intent of ["resume", "reuse", "restart"] as const) {
      const p = plan(stopped, { intent, config: config() });
      assert.equal(p.action, "resume", intent);
      assert.equal(p.action === "resume" && p.last.epoch, 1);
    }
    // carried out, the plan trains the second epoch only
    const resumed = await trainPlan(plan(stopped, { intent: "reuse", config: config() }));
    assert.deepEqual(resumed.metrics.map((m) => m.epoch), [1, 2]);

    // config.json and nothing else (stopped before its first checkpoint)
    const early = `${root}/early`;
    Deno.mkdirSync(early);
    Deno.copyFileSync(`${done}/config.json`, `${early}/config.json`);
    refused(
      refusal(early, { intent: "resume" }),
      "no-checkpoint",
      /early: the run has no checkpoint yet .* add the option overwrite: true to start it over/,
    );
    // an impossible epoch count is refused before a start over could clear anything
    assert.throws(
      () => plan(early, { intent: "resume", overwrite: true, settings: { epochs: 0 } }),
      (e: unknown) =>
        e instanceof SettingError && e.settings.join() === "epochs" &&
        /epochs must be a positive whole number of epochs, got 0$/.test(e.message),
    );
    const fresh = plan(early, { intent: "resume", overwrite: true });
    assert.deepEqual([fresh.action, fresh.config.epochs], ["start", 2]);
    assert.equal(plan(early, { intent: "reuse", config: config() }).action, "start");

    // results but no checkpoint file that loads: resume says so; restart starts over
    const broken = `${root}/broken`;
    Deno.mkdirSync(`${broken}/checkpoints`, { recursive: true });
    Deno.copyFileSync(`${done}/config.json`, `${broken}/config.json`);
    Deno.copyFileSync(`${done}/metrics.jsonl`, `${broken}/metrics.jsonl`);
    Deno.writeTextFileSync(`${broken}/checkpoints/last.json`, "{not json");
    refused(
      refusal(broken, { intent: "resume" }),
      "unusable-checkpoint",
      /last\.json .*; add the option overwrite: true to start .*broken over with its saved settings$/,
    );
    refused(
      refusal(broken, { intent: "reuse", config: config() }),
      "unusable-checkpoint",
      /last\.json .*; remove .*broken or choose another run folder$/,
    );
    const again = plan(broken, { intent: "restart", config: config() });
    assert.deepEqual([again.action, again.action === "start" && again.overwrite], ["start", true]);
    Deno.removeSync(`${broken}/checkpoints/last.json`);
    refused(
      refusal(broken, { intent: "reuse", config: config() }),
      "no-checkpoint",
      /holds results of a run but no checkpoint to continue from .*; remove it or choose another run folder$/,
    );
    refused(
      refusal(broken, { intent: "resume" }),
      "no-checkpoint",
      /holds results of a run but no checkpoint to continue from/,
    );
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});
