/**
 * Mixed precision and channels-last (issue 23): the autocast scope against libtorch's own state,
 * bf16 autocast of the shallow CNN and ResNet-18 against PyTorch's autocast on the same
 * closed-form weights (tests/fixtures/parity/amp_bf16.json, made by
 * tests/fixtures/make_amp_fixtures.py with PyTorch 1.13), the channels-last layout, the gradient
 * scaler, the precision settings, and a short training run in bf16-mixed against fp32.
 *
 * Tolerances. bfloat16 keeps 8 significant bits: PyTorch's own bf16 logits are 0.5% (shallow
 * CNN) and 1.1% (ResNet-18) of the largest logit from float64. Different kernels (oneDNN or
 * libtorch's reference ones, another libtorch) round differently, so hlgm is judged against the
 * float64 truth with room for that rounding: its logits within max(3 x PyTorch's error, 2%) of
 * the largest logit, the loss within 2% of it; the gradient summaries' errors from float64
 * (relative to each gradient's scale) at most twice PyTorch's bf16 ones, in their median (+1%)
 * and their worst (float32 agrees to 2e-5: models_test.ts). And
 * hlgm's logits must be further from float64 than float32 rounding ever is (1e-4 of the scale):
 * autocast really ran in bf16.
 */

import assert from "node:assert/strict";
import {
  autocast,
  autocastState,
  configProblems,
  createModel,
  crossEntropy,
  defaultConfig,
  F,
  grad,
  GradScaler,
  info,
  type Model,
  type ModelOptions,
  type Parameter,
  randn,
  Saliency,
  SGD,
  tensor,
  tidy,
  train,
} from "../mod.ts";
import { loadSafetensors } from "../src/checkpoint/safetensors.ts";
import { trainStep } from "../src/train/steps.ts";
import { FP32 } from "../src/train/precision.ts";
import {
  closedForm,
  type ClosedFormula,
  loadClosedForm,
  summary,
  summaryError,
} from "./closed_form.ts";
import { device, onCpu, runCli } from "./helpers.ts";
import { median } from "../src/util/stats.ts";
import { openRunDir } from "../src/train/run_records.ts";

interface Result {
  logits_dtype: string;
  logits: number[];
  loss: number;
  input_grad: number[];
  grads: Record<string, number[]>;
}

interface AmpCase {
  options: ModelOptions & { name: string };
  input_shape: number[];
  labels: number[];
  keys: [string, number[], number, number][];
  train: boolean;
  bf16: Result;
  bf16_channels_last: Result;
  float64: Result;
}

const fixture: {
  torch_version: string;
  formula: ClosedFormula;
  cases: Record<string, AmpCase>;
} = JSON.parse(
  Deno.readTextFileSync(new URL("./fixtures/parity/amp_bf16.json", import.meta.url)),
);

const REPORT = Deno.env.get("HLGM_PARITY_REPORT") === "1";
const deviceType = onCpu ? "cpu" : "cuda";
const maxAbs = (v: readonly number[]) => Math.max(...v.map(Math.abs));
const worstDiff = (a: readonly number[], b: readonly number[]) =>
  Math.max(...a.map((v, i) => Math.abs(v - b[i])));

Deno.test("autocast: libtorch's state is set inside the scope and restored after, also on a throw", () => {
  assert.equal(autocastState("cpu").enabled, false);
  autocast({ deviceType: "cpu" }, () => {
    assert.deepEqual(autocastState("cpu"), {
      enabled: true,
      dtype: "bfloat16",
      cacheEnabled: true,
    });
    autocast({ deviceType: "cpu", enabled: false }, () => {
      assert.equal(autocastState("cpu").enabled, false);
    });
    assert.equal(autocastState("cpu").enabled, true);
  });
  assert.equal(autocastState("cpu").enabled, false);
  assert.throws(() =>
    autocast({ deviceType: "cpu" }, () => {
      throw new Error("inside");
    }), /inside/);
  assert.equal(autocastState("cpu").enabled, false);
  assert.throws(
    () => autocast({ deviceType: "cpu", dtype: "float16" }, () => 0),
    /CPU runs bfloat16; float16 needs deviceType cuda/,
  );
  assert.throws(
    // deno-lint-ignore no-explicit-any
    () => autocast({ deviceType: "tpu" as any }, () => 0),
    /deviceType must be "cpu" or "cuda"/,
  );
  assert.throws(
    () => autocast({ deviceType: "cpu" }, () => Promise.resolve(1)),
    /synchronous function/,
  );
  assert.equal(autocastState("cpu").enabled, false);
});

Deno.test("autocast: convolutions and linear layers run in bf16, cross-entropy in float32 (libtorch's op lists)", () => {
  tidy(() => {
    const x = randn([2, 3, 8, 8], { device });
    const w = randn([4, 3, 3, 3], { device });
    autocast({ deviceType }, () => {
      const y = F.conv2d(x, w);
      assert.equal(y.dtype, onCpu ? "bfloat16" : "float16");
      const logits = F.linear(y.flatten(1), randn([5, y.flatten(1).shape[1]], { device }));
      assert.equal(logits.dtype, onCpu ? "bfloat16" : "float16");
      const loss = crossEntropy(logits, tensor([1, 3], { dtype: "int64", device }));
      assert.equal(loss.dtype, "float32");
    });
    assert.equal(F.conv2d(x, w).dtype, "float32");
  });
});

function createFor(c: AmpCase, channelsLast: boolean): Model {
  const { name, ...options } = c.options;
  const model = createModel(name, options).to(device);
  loadClosedForm(fixture.formula, model, c.keys);
  if (channelsLast) model.toMemoryFormat("channels-last");
  return model;
}

/** logits, loss and gradient summaries of the case under bf16 autocast, as the script does. */
function runCase(c: AmpCase, channelsLast: boolean): Result {
  const model = createFor(c, channelsLast);
  try {
    model.train(c.train);
    return tidy(() => {
      let x = closedForm(fixture.formula, c.input_shape, fixture.formula.inputKey, 0, 1).to(
        device,
      );
      if (channelsLast) x = x.contiguous("channels-last");
      x.requiresGrad = true;
      const labels = tensor(c.labels, { dtype: "int64", device });
      const { logits, loss } = autocast({ deviceType, dtype: "bfloat16" }, () => {
        const logits = model.forward(x);
        return { logits, loss: crossEntropy(logits, labels) };
      });
      const params = model.namedParameters();
      const grads = grad(loss, [x, ...params.map(([, p]) => p)]);
      return {
        logits_dtype: logits.dtype,
        logits: Array.from(logits.to("float64").data() as Float64Array),
        loss: loss.item(),
        input_grad: summary(grads[0]!),
        grads: Object.fromEntries(params.map(([k], i) => [k, summary(grads[i + 1]!)])),
      };
    });
  } finally {
    model.dispose();
  }
}

/**
 * Without oneDNN (not built in, HLGM_MKLDNN=0, or turned off by the kernel check, as on Debian
 * 13's libtorch on AVX-512 BF16 machines) the plain layout's bf16 convolutions take libtorch's
 * reference kernels, which are less accurate: ResNet-18's logits 9.8% of their scale from float64
 * against PyTorch's 1.4% through oneDNN, the shallow CNN's gradients 3x further (libtorch 1.13
 * with oneDNN off, measured). The bounds widen by 4x there; order-1 faults and NaN still fail.
 */
const loose = (channelsLast: boolean) =>
  onCpu && !channelsLast && !info().kernelCheck.onednnEnabled ? 4 : 1;

function judge(name: string, c: AmpCase, got: Result, channelsLast: boolean): void {
  const pytorch = channelsLast ? c.bf16_channels_last : c.bf16;
  const k = loose(channelsLast);
  assert.equal(got.logits_dtype, "bfloat16", `${name}: logits dtype`);
  const scale = maxAbs(c.float64.logits);
  const pytorchErr = worstDiff(pytorch.logits, c.float64.logits) / scale;
  const err = worstDiff(got.logits, c.float64.logits) / scale;
  if (REPORT) {
    console.log(`  logits ${err} (PyTorch ${pytorchErr}); loss ${got.loss} vs ${c.float64.loss}`);
  }
  const allowed = k * Math.max(3 * pytorchErr, 0.02);
  assert.ok(
    err <= allowed,
    `${name}: bf16 logits ${err.toExponential(2)} of the scale from float64, allowed ` +
      `${allowed.toExponential(2)} (PyTorch's bf16: ${pytorchErr.toExponential(2)})`,
  );
  assert.ok(err > 1e-4, `${name}: logits ${err} from float64: float32's rounding, not bf16's`);
  const lossErr = Math.abs(got.loss - c.float64.loss) / Math.abs(c.float64.loss);
  assert.ok(lossErr <= k * 0.02, `${name}: loss ${got.loss} vs float64 ${c.float64.loss}`);
  // gradients: their summaries against float64, as a whole against PyTorch's own bf16 errors
  // (one tensor's bf16 error is luck: PyTorch's range from 1% to 40% of the scale over
  // ResNet-18's tensors, and other kernels are lucky on other tensors)
  const mine: number[] = [], theirs: number[] = [];
  const add = (what: string, a: number[], bf16: number[], f64: number[]) => {
    mine.push(summaryError(a, f64, what));
    theirs.push(summaryError(bf16, f64, what));
    if (REPORT) console.log(`  ${what}: ${mine.at(-1)} (PyTorch ${theirs.at(-1)})`);
  };
  add("d loss / d input", got.input_grad, pytorch.input_grad, c.float64.input_grad);
  assert.deepEqual(Object.keys(got.grads), Object.keys(pytorch.grads), "parameter names");
  for (const [k, s] of Object.entries(pytorch.grads)) {
    add(`d loss / d ${k}`, got.grads[k], s, c.float64.grads[k]);
  }
  assert.ok(mine.every(Number.isFinite), `${name}: a gradient is not finite`);
  const m = median(mine), t = median(theirs);
  if (REPORT) {
    console.log(
      `  median ${m} (PyTorch ${t}), worst ${Math.max(...mine)} (${Math.max(...theirs)})`,
    );
  }
  assert.ok(
    m <= k * (2 * t + 0.01),
    `${name}: median gradient error ${m.toExponential(2)} of the scale, PyTorch's ${
      t.toExponential(2)
    }`,
  );
  const worstMine = Math.max(...mine), worstTheirs = Math.max(...theirs);
  assert.ok(
    worstMine <= k * 2 * worstTheirs,
    `${name}: worst gradient error ${worstMine.toExponential(2)}, PyTorch's ${
      worstTheirs.toExponential(2)
    }`,
  );
}

Deno.test("amp fixture is present and from PyTorch 1.13's bf16 autocast", () => {
  assert.match(fixture.torch_version, /^1\.13/);
  assert.deepEqual(Object.keys(fixture.cases), ["shallow-cnn-32x32x3", "resnet18-cifar-stem-32"]);
  for (const c of Object.values(fixture.cases)) assert.equal(c.bf16.logits_dtype, "bfloat16");
});

for (const [name, c] of Object.entries(fixture.cases)) {
  for (const channelsLast of [false, true]) {
    Deno.test({
      name: `${name}${channelsLast ? " (channels-last)" : ""}: bf16 autocast logits, loss and ` +
        `every gradient agree with PyTorch's autocast`,
      ignore: !onCpu, // CUDA's bf16 kernels are other kernels; the GPU script runs them as well
      fn: () => judge(name, c, runCase(c, channelsLast), channelsLast),
    });
  }
}

Deno.test("channels-last: same values as the plain layout in float32; the layout is kept", () => {
  const c = fixture.cases["resnet18-cifar-stem-32"];
  const run = (channelsLast: boolean) => {
    const model = createFor(c, channelsLast);
    try {
      const conv = model.namedParameters().find(([k]) => k === "conv1.weight")![1] as Parameter;
      assert.equal(conv.isContiguous("channels-last"), channelsLast);
      model.eval();
      return tidy(() => {
        let x = closedForm(fixture.formula, c.input_shape, fixture.formula.inputKey, 0, 1)
          .to(device);
        if (channelsLast) x = x.contiguous("channels-last");
        assert.equal(x.isContiguous("channels-last"), channelsLast);
        return Array.from(model.forward(x).data() as Float32Array);
      });
    } finally {
      model.dispose();
    }
  };
  const plain = run(false), nhwc = run(true);
  assert.ok(worstDiff(plain, nhwc) <= 1e-4 * maxAbs(plain), `${plain} vs ${nhwc}`);
});

Deno.test("GradScaler: scales the loss, unscales the gradients, skips a step on Inf and backs off", () => {
  tidy(() => {
    const p = tensor([1, 2]);
    p.requiresGrad = true;
    const opt = new SGD([p], { lr: 0.5 });
    const scaler = new GradScaler({ initScale: 8, growthInterval: 2 });
    const step = (gradient: number[]) => {
      const loss = p.mul(tensor(gradient)).sum();
      const scaled = scaler.scaleLoss(loss);
      assert.equal(scaled.item(), loss.item() * scaler.scale);
      opt.zeroGrad();
      scaled.backward();
      const stepped = scaler.step(opt);
      scaler.update();
      return stepped;
    };
    assert.equal(step([1, 1]), true);
    assert.deepEqual(Array.from(p.detach().data() as Float32Array), [0.5, 1.5]); // unscaled: 1
    assert.equal(scaler.scale, 8);
    assert.equal(step([2, 0]), true); // second good step in a row: the scale doubles
    assert.deepEqual(Array.from(p.detach().data() as Float32Array), [-0.5, 1.5]);
    assert.equal(scaler.scale, 16);
    assert.equal(step([Infinity, 1]), false); // skipped: the weights are unchanged
    assert.deepEqual(Array.from(p.detach().data() as Float32Array), [-0.5, 1.5]);
    assert.equal(scaler.scale, 8);
    assert.deepEqual(scaler.stateDict(), { scale: 8, growthTracker: 0 });
  });
  assert.throws(() => new GradScaler({ backoffFactor: 1 }), /backoffFactor must be in \(0, 1\)/);
});

Deno.test("trainStep with a loss scaler: a NaN loss skips the step and halves the scale, as torch's loop does", () => {
  tidy(() => {
    const model = createModel("shallow-cnn", {
      numClasses: 3,
      inChannels: 1,
      imageSize: 8,
      device,
    });
    const optimizer = new SGD(model.parameters(), { lr: 0.1 });
    const scaler = new GradScaler({ initScale: 1024 });
    const ctx = {
      model,
      optimizer,
      lambda: 1,
      saliency: new Saliency(model),
      reduction: "mean",
      fill: "zero",
      precision: { ...FP32, scaler },
    } as const;
    const plain = { phase: "train", mode: "plain", k: null, de: null, episode: null } as const;
    const y = tensor([0, 1, 2, 0], { dtype: "int64", device });
    const weights = () =>
      model.parameters().map((p) => Array.from(p.detach().data() as Float32Array));
    const before = weights();
    const bad = randn([4, 1, 8, 8], { device }).mul(NaN);
    const skipped = trainStep(ctx, bad, y, plain);
    assert.ok(Number.isNaN(skipped.loss));
    assert.deepEqual(weights(), before, "a skipped step leaves the weights as they were");
    assert.equal(scaler.scale, 512);
    const good = trainStep(ctx, randn([4, 1, 8, 8], { device }), y, plain);
    assert.ok(Number.isFinite(good.loss));
    assert.notDeepEqual(weights(), before, "the next good step trains");
    assert.deepEqual(scaler.stateDict(), { scale: 512, growthTracker: 1 });
    optimizer.dispose();
  });
});

Deno.test("precision settings: fp16-mixed is refused on the CPU, channels-last for deit-tiny", async () => {
  assert.deepEqual(configProblems(defaultConfig({ precision: "bf16-mixed", device: "cpu" })), []);
  assert.ok(
    configProblems(defaultConfig({ precision: "fp16-mixed", device: "cpu" }))
      .some((p) => /fp16-mixed needs a CUDA device.*on the CPU use bf16-mixed/.test(p)),
  );
  assert.ok(
    configProblems(defaultConfig({ model: "deit-tiny", channelsLast: true }))
      .some((p) => /channelsLast applies to the convolutional models/.test(p)),
  );
  assert.ok(
    configProblems(defaultConfig({ precision: "bf16" as "bf16-mixed" }))
      .some((p) => /precision must be one of fp32, bf16-mixed, fp16-mixed, got "bf16"/.test(p)),
  );
  const r = await runCli([
    "train",
    "--dataset",
    "synthetic",
    "--precision",
    "fp16-mixed",
    "--device",
    "cpu",
    "--out",
    await Deno.makeTempDir(),
  ]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /fp16-mixed needs a CUDA device/);
});

// the CPU trains bf16-mixed; CUDA (scripts/cuda-check.sh runs the suite with --device cuda) both
const LOW: ("bf16-mixed" | "fp16-mixed")[] = onCpu ? ["bf16-mixed"] : ["bf16-mixed", "fp16-mixed"];

for (const low of LOW) {
  Deno.test({
    name:
      `train: ${low} channels-last ends within 5 points of fp32; weights, state and checkpoints stay float32`,
    fn: async () => {
      const root = await Deno.makeTempDir({ prefix: "hlgm-amp-" });
      try {
        const run = async (precision: "fp32" | typeof low) => {
          const config = defaultConfig({
            method: "hlgm",
            dataset: "synthetic",
            subset: 768,
            epochs: 4,
            batchSize: 64,
            switchEpoch: 2,
            episodeSize: 2,
            device,
            precision,
            channelsLast: precision !== "fp32",
          });
          const r = await train(config, `${root}/${precision}`);
          assert.equal(r.status, "completed", String(r.message));
          return r.metrics.at(-1)!;
        };
        const fp32 = await run("fp32"), mixed = await run(low);
        // the same data, seed and schedule: the masked epochs ran, in low precision the whole way
        assert.deepEqual(mixed.mode, "denoise");
        assert.ok(
          Math.abs(mixed.test_acc - fp32.test_acc) <= 0.05,
          `final test accuracy: ${low} ${mixed.test_acc}, fp32 ${fp32.test_acc}`,
        );
        assert.notEqual(mixed.train_loss, fp32.train_loss, `${low} computed like fp32`);
        const dir = openRunDir(`${root}/${low}`);
        assert.equal(dir.readInfo()!.config.precision, low);
        const last = dir.checkpoints.readLast()!;
        // fp16's loss scale is kept for a resume (torch's scaler.state_dict()); bf16 has none
        if (low === "fp16-mixed") assert.ok(last.gradScaler && last.gradScaler.scale > 0);
        else assert.equal(last.gradScaler, null);
        for (const file of [last.weights, last.state]) {
          const { tensors } = loadSafetensors(`${dir.checkpoints.folder}/${file}`, {
            device: "cpu",
          });
          for (const [k, t] of tensors) {
            if (t.dtype.startsWith("float")) assert.equal(t.dtype, "float32", `${file}: ${k}`);
            t.dispose();
          }
        }
      } finally {
        await Deno.remove(root, { recursive: true });
      }
    },
  });
}
