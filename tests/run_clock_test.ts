// The run's time estimate (cli/run_clock.ts) on a scripted clock: the first batches' one-time
// costs must not drive it, it waits for a steady rate, and it is refined by every epoch timed.
import assert from "node:assert/strict";
import { type EpochPlan, previewSchedule, type RunStart } from "../mod.ts";
import { RunClock, SKIPPED_BATCHES } from "../cli/run_clock.ts";
import { hlgmSchedule } from "./helpers.ts";

const start = (epochs: number, batches = 100): RunStart => ({
  device: "cpu",
  threads: 1,
  ranks: 1,
  images: { train: batches * 10, val: 0, test: 0 },
  shape: [1, 28, 28],
  batches,
  firstEpoch: 1,
  epochs,
  schedule: "",
  warning: null,
  pretrained: null,
});
const plain = (n: number): EpochPlan[] =>
  previewSchedule(hlgmSchedule({ method: "baseline", patience: 2 }), n);

/** A clock whose time (ms) the test moves. */
function scripted() {
  let t = 0;
  return { now: () => t, advance: (seconds: number) => void (t += seconds * 1000) };
}

Deno.test("run clock: a slow first batch (one-time costs) does not drive the estimate", () => {
  const time = scripted();
  const clock = new RunClock(start(5), plain(5), time.now);
  // batch 1 takes 30 s (the first kernels), every later one 1 s: the run is 5 x ~129 s
  time.advance(30);
  clock.batch(1, { mode: "plain" });
  assert.equal(clock.steadyBatches(), null, "one batch is never steady");
  let steadyAt = 0;
  for (let b = 2; b <= 100 && !steadyAt; b++) {
    time.advance(1);
    clock.batch(b, { mode: "plain" });
    steadyAt = clock.steadyBatches() === null ? 0 : b;
  }
  assert.equal(steadyAt, SKIPPED_BATCHES + 4, "steady after 4 warm batches at a constant rate");
  const left = clock.runLeft(1, steadyAt)!;
  // epoch 1: 94 batches left at 1 s; epochs 2-5: 100 batches at the warm rate of 1 s
  assert.ok(Math.abs(left - (94 + 4 * 100)) < 1e-9, `left ${left}`);
  // the old estimate (whole epoch so far / batches) would say 36/6 = 6 s a batch: 2,964 s left
});

Deno.test("run clock: an unsteady rate is not taken; the first epoch's time is the fallback", () => {
  const time = scripted();
  const clock = new RunClock(start(3, 12), plain(3), time.now);
  // warm batches that keep slowing down (1, 2, 3, ... s): never steady
  for (let b = 1; b <= 12; b++) {
    time.advance(b <= SKIPPED_BATCHES ? 1 : b - SKIPPED_BATCHES);
    clock.batch(b, { mode: "plain" });
    assert.equal(clock.steadyBatches(), null, `batch ${b}`);
  }
  time.advance(5); // evaluation and checkpoint
  clock.epochDone({ mode: "plain" });
  const epoch1 = 2 + (10 * 11) / 2 + 5;
  assert.equal(clock.timedEpochs(), 1);
  assert.equal(clock.secondsAfter(1), 2 * epoch1, "the rest from the timed epoch");
  assert.equal(clock.secondsAfter(3), 0);
});

Deno.test("run clock: every epoch timed refines the time left; masked epochs by their own time", () => {
  const time = scripted();
  const plans = previewSchedule(hlgmSchedule({ switchEpoch: 2 }), 6);
  const clock = new RunClock(start(6, 10), plans, time.now);
  assert.equal(clock.firstMaskedEpoch(), 3);
  const epoch = (seconds: number, mode: EpochPlan["mode"]) => {
    for (let b = 1; b <= 10; b++) {
      time.advance(seconds / 10);
      clock.batch(b, { mode });
    }
    clock.epochDone({ mode });
  };
  epoch(10, "plain");
  // 1 plain + 4 masked epochs to come, masked counted at 2.5x the timed plain one
  assert.ok(Math.abs(clock.secondsAfter(1)! - (10 + 4 * 25)) < 1e-9);
  epoch(14, "plain"); // plain epochs average 12 s now
  assert.ok(Math.abs(clock.secondsAfter(2)! - 4 * 30) < 1e-9);
  epoch(40, "regularize"); // a timed masked epoch replaces the 2.5x guess
  assert.ok(Math.abs(clock.secondsAfter(3)! - 3 * 40) < 1e-9);
});
