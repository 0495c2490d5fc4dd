// One rank of tests/distributed_train_test.ts (or, without WORLD_SIZE, the one-process
// reference): two training steps of a small conv net without dropout or batch norm through the
// trainer's own trainStep, one plain and one SGT-masked (saliency, bottom 50% masked, KL), on
// this rank's equal share of a fixed batch of 8; prints the step losses and the final
// parameters as JSON. With HLGM_TEST_SKEW=1, rank 1 nudges one weight before the check;
// HLGM_TEST_STEPS=N runs only the first N steps.
import { Sequential } from "../src/nn/module.ts";
import { Conv2d, Flatten, Linear, ReLU } from "../src/nn/layers.ts";
import { Adadelta } from "../src/optim/adadelta.ts";
import { Saliency } from "../src/saliency/saliency.ts";
import { manualSeed, randn, tensor } from "../src/tensor/create.ts";
import { tidy } from "../src/tensor/engine.ts";
import { distributedEnv } from "../src/tensor/distributed.ts";
import { DataParallel } from "../src/train/distributed.ts";
import type { EpochPlan } from "../src/train/schedule.ts";
import { type StepContext, trainStep } from "../src/train/steps.ts";

const env = distributedEnv();
// a different seed per rank before the broadcast: rank 0's initialisation must win
manualSeed(3 + (env?.rank ?? 0) * 1000);
const model = new Sequential(
  new Conv2d(1, 4, 3),
  new ReLU(),
  new Flatten(),
  new Linear(4 * 6 * 6, 3),
);
const parallel = env ? new DataParallel({ ...env, timeoutMs: 300_000 }, "cpu") : null;
parallel?.broadcastModel(model);
const world = parallel?.worldSize ?? 1;
const rank = parallel?.rank ?? 0;

manualSeed(11); // the same batch everywhere
const x = randn([8, 1, 8, 8]);
const y = tensor(Array.from({ length: 8 }, (_, i) => i % 3), { dtype: "int64" });
const share = 8 / world;
const mine = tensor(Array.from({ length: share }, (_, i) => rank * share + i), { dtype: "int64" });
const xs = x.indexSelect(0, mine);
const ys = y.indexSelect(0, mine);

const ctx: StepContext = {
  model,
  optimizer: new Adadelta(model.parameters(), { lr: 1.0 }),
  lambda: 1.0,
  saliency: new Saliency(model),
  reduction: "mean",
  fill: "zero",
  sync: parallel?.stepSync(),
};
const plans: EpochPlan[] = [
  { phase: "train", mode: "plain", k: null, de: null, episode: null },
  { phase: "sgt", mode: "sgt", k: 0.5, de: null, episode: null },
];
const nSteps = Number(Deno.env.get("HLGM_TEST_STEPS") ?? plans.length);
const losses = plans.slice(0, nSteps).map((plan) => trainStep(ctx, xs, ys, plan));
if (Deno.env.get("HLGM_TEST_SKEW") === "1" && rank === 1) {
  tidy(() => model.parameters()[0].detach().select(0, 0).select(0, 0).select(0, 0).add_(1e-3));
}
let inSync: string = "not checked";
if (parallel) {
  try {
    parallel.checkInSync(model, "after 2 steps");
    inSync = "yes";
  } catch (e) {
    inSync = (e as Error).message;
  }
}
const params = model.parameters().map((p) => Array.from(p.detach().data() as Float32Array));
console.log(JSON.stringify({ rank, world, losses, params, inSync }));
parallel?.destroy();
