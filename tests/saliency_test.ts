import assert from "node:assert/strict";
import {
  Conv2d,
  createModel,
  Flatten,
  GradCAM,
  InputXGradient,
  IntegratedGradients,
  integrationRule,
  Linear,
  manualSeed,
  memory,
  Module,
  noGrad,
  NoiseTunnel,
  pixelSaliency,
  randn,
  Saliency,
  Sequential,
  type Tensor,
  tensor,
  tidy,
} from "../mod.ts";
import { assertClose, device } from "./helpers.ts";

/** logits = W x (x flattened): d logit_t / d x = W[t]. */
function linearModel(inFeatures: number, classes: number): Sequential {
  return new Sequential(new Flatten(), new Linear(inFeatures, classes, { device })).eval();
}

/** A smooth non-linear model for completeness checks. */
class Smooth extends Module {
  readonly fc = this.registerModule("fc", new Linear(12, 3, { device }));
  forward(x: Tensor): Tensor {
    return this.fc.forward(x.flatten(1).tanh().mul(2)).sigmoid().mul(5);
  }
}

Deno.test("Saliency of a linear model is |W[target]|, per sample, model mode restored", () => {
  tidy(() => {
    manualSeed(1);
    const model = linearModel(12, 4);
    model.train();
    const w = (model.at(1) as Linear).weight;
    const x = randn([3, 3, 2, 2], { device });
    const target = [2, 0, 3];
    const attr = new Saliency(model).attribute(x, { target });
    assert.equal(model.training, true, "the model's mode is restored");
    assert.deepEqual(attr.shape, [3, 3, 2, 2]);
    target.forEach((t, i) =>
      assertClose(
        attr.select(0, i).flatten().toArray() as number[],
        w.select(0, t).abs().toArray() as number[],
        { rtol: 1e-6 },
      )
    );
    const signed = new Saliency(model).attribute(x, { target, abs: false });
    assertClose(
      signed.select(0, 1).flatten().toArray() as number[],
      w.select(0, 0).toArray() as number[],
      { rtol: 1e-6 },
    );
    const ixg = new InputXGradient(model).attribute(x, {
      target: tensor(target, { dtype: "int64", device }),
    });
    assertClose(ixg.toArray() as number[], x.mul(signed).toArray() as number[], { rtol: 1e-6 });
    model.dispose();
  });
});

Deno.test("IntegratedGradients: completeness sum(attr) = f(x) - f(baseline) for every rule", () => {
  tidy(() => {
    manualSeed(2);
    const model = new Smooth();
    const x = randn([4, 3, 2, 2], { device });
    const target = [0, 1, 2, 1];
    const ig = new IntegratedGradients(model);
    for (const method of ["gausslegendre", "riemann_middle", "riemann_trapezoid"] as const) {
      const attr = ig.attribute(x, { target, nSteps: 64, method });
      const delta = ig.convergenceDelta(attr, x, { target }).abs().max().item();
      assert.ok(delta < 2e-3, `${method}: completeness gap ${delta}`);
    }
    // a linear model is integrated exactly by any rule: attr = (x - b) * W[t]
    const lin = linearModel(12, 3);
    const w = (lin.at(1) as Linear).weight;
    const a = new IntegratedGradients(lin).attribute(x, {
      target,
      nSteps: 5,
      method: "riemann_left",
      baselines: 0.5,
    });
    target.forEach((t, i) =>
      assertClose(
        a.select(0, i).flatten().toArray() as number[],
        x.select(0, i).flatten().sub(0.5).mul(w.select(0, t)).toArray() as number[],
        { rtol: 1e-5, atol: 1e-6 },
      )
    );
    model.dispose();
    lin.dispose();
  });
});

Deno.test("IntegratedGradients: internalBatchSize changes memory use, not the result", () => {
  tidy(() => {
    manualSeed(3);
    const model = new Smooth();
    const x = randn([5, 3, 2, 2], { device });
    const ig = new IntegratedGradients(model);
    const full = ig.attribute(x, { target: 1, nSteps: 20 });
    for (const ibs of [1, 3, 7, 40]) {
      const part = ig.attribute(x, { target: 1, nSteps: 20, internalBatchSize: ibs });
      assertClose(part.toArray() as number[], full.toArray() as number[], {
        rtol: 1e-5,
        atol: 1e-7,
      });
    }
    model.dispose();
  });
});

Deno.test("integration rules: Gauss-Legendre nodes integrate polynomials exactly", () => {
  const { alphas, weights } = integrationRule(5, "gausslegendre");
  // int_0^1 t^k dt = 1/(k+1), exact for k <= 9 with 5 nodes
  for (let k = 0; k <= 9; k++) {
    const q = alphas.reduce((s, a, i) => s + weights[i] * a ** k, 0);
    assert.ok(Math.abs(q - 1 / (k + 1)) < 1e-12, `t^${k}: ${q}`);
  }
  assert.deepEqual(integrationRule(4, "riemann_left").alphas, [0, 0.25, 0.5, 0.75]);
  assert.deepEqual(integrationRule(3, "riemann_trapezoid").weights, [0.25, 0.5, 0.25]);
});

Deno.test("NoiseTunnel: stdevs 0 equals the plain method; smoothgrad averages noisy maps", () => {
  tidy(() => {
    manualSeed(4);
    const model = new Smooth();
    const x = randn([2, 3, 2, 2], { device });
    const plain = new Saliency(model).attribute(x, { target: [1, 2] });
    const nt = new NoiseTunnel(new Saliency(model));
    const same = nt.attribute(x, { target: [1, 2], stdevs: 0, nSamples: 3 });
    assertClose(same.toArray() as number[], plain.toArray() as number[], { rtol: 1e-6 });
    const vg = nt.attribute(x, { target: [1, 2], stdevs: 0, nSamples: 3, ntType: "vargrad" });
    assert.ok(vg.abs().max().item() < 1e-6, "variance over identical samples is 0");
    const noisy = nt.attribute(x, {
      target: [1, 2],
      stdevs: 0.5,
      nSamples: 8,
      nSamplesBatchSize: 3,
    });
    assert.deepEqual(noisy.shape, plain.shape);
    assert.ok(noisy.sub(plain).abs().max().item() > 1e-4, "noise changes the map");
    model.dispose();
  });
});

Deno.test("GradCAM on a tiny CNN equals the hand computation", () => {
  tidy(() => {
    manualSeed(5);
    const conv = new Conv2d(1, 2, 3, { device, padding: 1 });
    const model = new Sequential(conv, new Flatten(), new Linear(2 * 4 * 4, 3, { device }));
    const x = randn([2, 1, 4, 4], { device });
    const cam = new GradCAM(model, "0").attribute(x, { target: [0, 2], upsample: false });
    assert.deepEqual(cam.shape, [2, 1, 4, 4]);
    // by hand: A = conv(x); dlogit_t/dA = W[t] reshaped (2, 4, 4); alpha_k = mean; cam = sum_k alpha_k A_k
    const a = noGrad(() => conv.forward(x));
    const w = (model.at(2) as Linear).weight;
    [0, 2].forEach((t, i) => {
      const g = w.select(0, t).reshape(2, 4, 4);
      const alpha = g.mean([1, 2], true);
      const expected = alpha.mul(a.select(0, i)).sum(0);
      assertClose(
        cam.select(0, i).select(0, 0).toArray() as number[],
        expected.toArray() as number[],
        { rtol: 1e-5, atol: 1e-6 },
      );
    });
    const up = new GradCAM(model, "0").attribute(x, { target: 1, relu: true });
    assert.ok(up.min().item() >= 0);
    assert.throws(() => new GradCAM(model, "nope"), /no layer "nope"/);
    model.dispose();
  });
});

Deno.test("pixelSaliency reduces channels by mean, sum or max of |attr|", () => {
  tidy(() => {
    const a = tensor([[[[1, -2]], [[-3, 4]]]], { device }); // (1, 2, 1, 2)
    assert.deepEqual(pixelSaliency(a).toArray(), [[[2, 3]]]);
    assert.deepEqual(pixelSaliency(a, { reduction: "sum" }).toArray(), [[[4, 6]]]);
    assert.deepEqual(pixelSaliency(a, { reduction: "max" }).toArray(), [[[3, 4]]]);
    assert.deepEqual(pixelSaliency(a, { abs: false, reduction: "sum" }).toArray(), [[[-2, 2]]]);
  });
});

Deno.test("saliency on the shallow CNN runs batched with the model's device and mode", () => {
  tidy(() => {
    const model = createModel("shallow-cnn").to(device).train();
    const x = randn([8, 1, 28, 28], { device });
    const s = pixelSaliency(new Saliency(model).attribute(x, { target: 3 }));
    assert.deepEqual(s.shape, [8, 28, 28]);
    assert.equal(s.device, x.device);
    assert.equal(model.training, true);
    model.dispose();
  });
});

Deno.test("GradCAM on the library's models: the captured layer outlives the model's own tidy, and is freed after", () => {
  for (
    const [name, layer, options] of [
      ["shallow-cnn", "conv2", { inChannels: 1, imageSize: 28 }],
      ["resnet18", "layer4", { inChannels: 3, imageSize: 32, cifarStem: true }],
    ] as const
  ) {
    manualSeed(1);
    const model = createModel(name, { ...options, numClasses: 10, device });
    const x = randn([2, options.inChannels, options.imageSize, options.imageSize], { device });
    const before = memory().liveTensors;
    const cam = new GradCAM(model, layer).attribute(x, { target: [1, 3] });
    assert.deepEqual(cam.shape, [2, 1, options.imageSize, options.imageSize], name);
    const [abs, sum] = tidy(() => [cam.abs().sum().item(), cam.sum().item()]);
    assert.ok(abs > 0 && Number.isFinite(sum), name);
    cam.dispose();
    assert.equal(memory().liveTensors, before, `${name}: no tensor left behind`);
    x.dispose();
    model.dispose();
  }
});
