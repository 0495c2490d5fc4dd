/**
 * One rank of bench/dist.ts (or, without WORLD_SIZE, one process): for the shallow CNN and
 * ResNet-18 (bench/model_step.ts's set-ups), the time of a forward + backward on this rank's
 * share of the batch and of the bucketed gradient all-reduce that follows it (in the step: with
 * the wait for the slower rank; alone: all ranks entering together); then one plain
 * epoch of the shallow CNN through the trainer's step (Adadelta, global batch 256) on synthetic
 * images. Prints one JSON line (rank 0; the others print nothing).
 *
 *   deno run -A bench/dist_rank.ts [--device cpu|cuda] [--quick]
 *
 * @module
 */

import { flag, median, round } from "./util.ts";
import { MODEL_CONFIGS } from "./model_step.ts";
import { shallowCnnEpochSeconds } from "./epoch_time.ts";
import {
  createModel,
  crossEntropy,
  type Device,
  manualSeed,
  randint,
  randn,
  synchronize,
  tidy,
} from "../mod.ts";
import { syntheticImages } from "../src/data/synthetic.ts";
import { distributedEnv } from "../src/tensor/distributed.ts";
import { DataParallel } from "../src/train/distributed.ts";
import type { EpochPlan } from "../src/train/mod.ts";

const args = Deno.args;
const quick = args.includes("--quick");
let device = (flag(args, "device") ?? "cpu") as Device;
const env = distributedEnv();
if (env && device.startsWith("cuda")) device = `cuda:${env.localRank}` as Device;
const parallel = env ? new DataParallel({ ...env, timeoutMs: 120_000 }, device) : null;
const world = parallel?.worldSize ?? 1;
const steps = quick ? 3 : 10;

/** Forward + backward and the gradient all-reduce of one model, medians over `steps`. */
function modelTimes(name: "shallow-cnn" | "resnet18", globalBatch: number) {
  manualSeed(0);
  const { options, input } = MODEL_CONFIGS[name];
  const model = createModel(name, { ...options, device });
  parallel?.broadcastModel(model);
  const batch = globalBatch / world;
  const x = randn([batch, ...input], { device });
  const y = randint(0, 10, [batch], { device });
  const params = model.parameters();
  const compute: number[] = [], reduce: number[] = [];
  for (let i = 0; i < steps + 1; i++) {
    tidy(() => {
      for (const p of params) p.zeroGrad();
      synchronize();
      const t0 = performance.now();
      crossEntropy(model.forward(x), y).backward();
      synchronize();
      const t1 = performance.now();
      const grads = params.map((p) => p.grad!);
      parallel?.group.allReduceMeanGradients(grads);
      synchronize();
      const t2 = performance.now();
      if (i > 0) { // the first is a warm-up
        compute.push(t1 - t0);
        reduce.push(t2 - t1);
      }
    });
  }
  // the all-reduce alone: every rank enters it together (after a barrier), so no rank's wait
  // for a slower one's backward is counted; the figure PyTorch's is compared with
  const alone: number[] = [];
  tidy(() => {
    const grads = params.map((p) => p.grad!);
    for (let i = 0; i < steps + 1; i++) {
      parallel?.group.barrier();
      const t0 = performance.now();
      parallel?.group.allReduceMeanGradients(grads);
      synchronize();
      if (i > 0) alone.push(performance.now() - t0);
    }
  });
  const sizes = params.map((p) => p.numel());
  model.dispose();
  const c = median(compute), r = median(reduce);
  return {
    floats: sizes.reduce((a, b) => a + b, 0),
    sizes,
    batch_per_rank: batch,
    step_ms: round(c),
    allreduce_in_step_ms: round(r),
    allreduce_share: round(r / (c + r), 3),
    allreduce_alone_ms: round(median(alone)),
  };
}

/** One plain epoch of the shallow CNN (bench/epoch_time.ts), in seconds. */
function epochSeconds(): number {
  manualSeed(0);
  const data = syntheticImages(quick ? 1024 : 5120, 1);
  const plan: EpochPlan = { phase: "train", mode: "plain", k: null, de: null, episode: null };
  return shallowCnnEpochSeconds(data, plan, device, parallel);
}

const result = {
  ranks: world,
  device,
  shallow_cnn: modelTimes("shallow-cnn", 256),
  resnet18: modelTimes("resnet18", quick ? 16 : 64),
  epoch_s: round(epochSeconds(), 3),
};
parallel?.destroy();
if ((parallel?.rank ?? 0) === 0) console.log(JSON.stringify(result));
