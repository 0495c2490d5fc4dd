/**
 * Functional ops against PyTorch reference values (tests/fixtures/nn_functional.json, made by
 * tests/fixtures/make_nn_fixtures.py with torch 1.13), plus dropout's statistical checks.
 */

import assert from "node:assert/strict";
import {
  adaptiveAvgPool2d,
  avgPool2d,
  batchNorm,
  conv2d,
  crossEntropy,
  dropout,
  gelu,
  grad,
  interpolate,
  klDiv,
  layerNorm,
  logSoftmax,
  manualSeed,
  maxPool2d,
  nllLoss,
  ones,
  randn,
  relu,
  softmax,
  type Tensor,
  tensor,
  tidy,
} from "../mod.ts";
import { assertClose, type CloseOptions, device, onCpu } from "./helpers.ts";

interface Encoded {
  shape: number[];
  data: number[];
  dtype?: "int64";
}
interface Case {
  params?: Record<string, number | number[]>;
  inputs: Record<string, Encoded>;
  outputs: Record<string, Encoded>;
}

const fixture: { torch_version: string; cases: Record<string, Case> } = JSON.parse(
  Deno.readTextFileSync(new URL("./fixtures/nn_functional.json", import.meta.url)),
);

// CPU libtorch matches PyTorch's CPU kernels closely. CUDA kernels (TF32 convolutions on
// Ampere and later, different reduction orders) need looser bounds.
const TOL: CloseOptions = onCpu ? { rtol: 1e-5, atol: 1e-6 } : { rtol: 1e-3, atol: 1e-4 };
const CONV_TOL: CloseOptions = onCpu ? TOL : { rtol: 1e-2, atol: 5e-3 };

function caseOf(name: string): Case {
  const c = fixture.cases[name];
  assert.ok(c, `fixture case ${name} is missing; rerun tests/fixtures/make_nn_fixtures.py`);
  return c;
}

/** Rebuilds a fixture input on the test device. */
function input(c: Case, name: string, requiresGrad = false): Tensor {
  const e = c.inputs[name];
  assert.ok(e, `fixture input ${name} is missing`);
  if (e.dtype === "int64") {
    return tensor(BigInt64Array.from(e.data, BigInt), { shape: e.shape, device });
  }
  return tensor(Float32Array.from(e.data), { shape: e.shape, device, requiresGrad });
}

/** Asserts a tensor equals a fixture output in shape and values. */
function expectOutput(actual: Tensor, c: Case, name: string, tol: CloseOptions = TOL): void {
  const e = c.outputs[name];
  assert.ok(e, `fixture output ${name} is missing`);
  assert.deepEqual(actual.shape, e.shape, `${name}: shape`);
  assertClose(actual.data() as Float32Array, Float32Array.from(e.data), {
    ...tol,
    message: name,
  });
}

Deno.test("fixture file is present, small and from PyTorch", () => {
  const size = Deno.statSync(new URL("./fixtures/nn_functional.json", import.meta.url)).size;
  assert.ok(size < 200_000, `fixture is ${size} bytes`);
  assert.match(fixture.torch_version, /^\d+\.\d+/);
  assert.ok(Object.keys(fixture.cases).length >= 12);
});

// ---- convolution ----

for (const name of ["conv2d_basic", "conv2d_strided_grouped"]) {
  Deno.test(`conv2d matches PyTorch, with input and weight gradients (${name})`, () => {
    tidy(() => {
      const c = caseOf(name);
      const p = c.params ?? {};
      const x = input(c, "x", true);
      const w = input(c, "w", true);
      const b = c.inputs.b ? input(c, "b") : null;
      const pair = (v: number | number[] | undefined) =>
        v === undefined ? undefined : typeof v === "number" ? v : [v[0], v[1]] as [number, number];
      const out = conv2d(x, w, {
        bias: b,
        stride: pair(p.stride),
        padding: pair(p.padding),
        dilation: pair(p.dilation),
        groups: p.groups as number | undefined,
      });
      expectOutput(out, c, "out", CONV_TOL);
      const [gx, gw] = grad(out.mul(input(c, "g")).sum(), [x, w]);
      expectOutput(gx!, c, "grad_x", CONV_TOL);
      expectOutput(gw!, c, "grad_w", CONV_TOL);
    });
  });
}

Deno.test("conv2d rejects mismatched channels with a TorchError", () => {
  tidy(() => {
    const x = ones([1, 3, 5, 5], { device });
    const w = ones([2, 4, 3, 3], { device });
    assert.throws(() => conv2d(x, w), { name: "TorchError", message: /^conv2d: / });
  });
});

// ---- pooling ----

Deno.test("maxPool2d matches PyTorch (kernel, stride, padding, ceil mode, dilation)", () => {
  tidy(() => {
    const c = caseOf("max_pool2d");
    const x = input(c, "x");
    expectOutput(maxPool2d(x, 2), c, "k2");
    expectOutput(maxPool2d(x, 3, { stride: 2, padding: 1 }), c, "k3_s2_p1");
    expectOutput(maxPool2d(x, 2, { ceilMode: true }), c, "k2_ceil");
    expectOutput(maxPool2d(x, 3, { stride: 1, dilation: 2 }), c, "k3_s1_d2");
  });
});

Deno.test("avgPool2d matches PyTorch (padding counted or not, ceil mode, rectangular)", () => {
  tidy(() => {
    const c = caseOf("avg_pool2d");
    const x = input(c, "x");
    expectOutput(avgPool2d(x, 2), c, "k2");
    expectOutput(avgPool2d(x, 3, { stride: 2, padding: 1 }), c, "k3_s2_p1");
    expectOutput(
      avgPool2d(x, 3, { stride: 2, padding: 1, countIncludePad: false }),
      c,
      "k3_s2_p1_exclude_pad",
    );
    expectOutput(avgPool2d(x, 2, { ceilMode: true }), c, "k2_ceil");
    expectOutput(avgPool2d(x, [2, 3], { stride: [1, 2] }), c, "k_2x3_s_1x2");
  });
});

Deno.test("adaptiveAvgPool2d matches PyTorch for uneven, global and upsampling sizes", () => {
  tidy(() => {
    const c = caseOf("adaptive_avg_pool2d");
    const x = input(c, "x");
    expectOutput(adaptiveAvgPool2d(x, [3, 2]), c, "o3x2");
    expectOutput(adaptiveAvgPool2d(x, 1), c, "o1");
    expectOutput(adaptiveAvgPool2d(x, 4), c, "o4");
  });
});

Deno.test("pooling hand check: 2x2 max and average of a 4x4 ramp", () => {
  tidy(() => {
    const x = tensor(Array.from({ length: 16 }, (_, i) => i), { shape: [1, 1, 4, 4], device });
    assert.deepEqual(maxPool2d(x, 2).toArray(), [[[[5, 7], [13, 15]]]]);
    assert.deepEqual(avgPool2d(x, 2).toArray(), [[[[2.5, 4.5], [10.5, 12.5]]]]);
    assert.deepEqual(adaptiveAvgPool2d(x, 1).toArray(), [[[[7.5]]]]);
  });
});

// ---- normalisation ----

Deno.test("batchNorm in training matches PyTorch and updates the running stats in place", () => {
  tidy(() => {
    const c = caseOf("batch_norm");
    const x = input(c, "x");
    const rm = input(c, "running_mean");
    const rv = input(c, "running_var");
    const out = batchNorm(x, rm, rv, {
      weight: input(c, "weight"),
      bias: input(c, "bias"),
      training: true,
      momentum: 0.1,
      eps: 1e-5,
    });
    expectOutput(out, c, "train");
    expectOutput(rm, c, "train_running_mean");
    expectOutput(rv, c, "train_running_var"); // uses the unbiased batch variance
    // In training the output is normalised per channel: mean ~bias, std ~|weight|.
    const rm2 = input(c, "running_mean");
    const rv2 = input(c, "running_var");
    const plain = batchNorm(x, rm2, rv2, { training: true, momentum: 0.3, eps: 1e-3 });
    expectOutput(plain, c, "train_m03_eps1e3_noaffine");
    expectOutput(rm2, c, "train_m03_running_mean");
    expectOutput(rv2, c, "train_m03_running_var");
    assertClose(plain.mean([0, 2, 3]).toArray(), [0, 0, 0], { atol: 1e-5 });
  });
});

Deno.test("batchNorm in eval uses the running stats and leaves them unchanged", () => {
  tidy(() => {
    const c = caseOf("batch_norm");
    const rm = input(c, "running_mean");
    const rv = input(c, "running_var");
    const out = batchNorm(input(c, "x"), rm, rv, {
      weight: input(c, "weight"),
      bias: input(c, "bias"),
      eps: 1e-5,
    });
    expectOutput(out, c, "eval");
    const exact = { rtol: 0, atol: 0 };
    assertClose(rm.data() as Float32Array, Float32Array.from(c.inputs.running_mean.data), exact);
    assertClose(rv.data() as Float32Array, Float32Array.from(c.inputs.running_var.data), exact);
  });
});

Deno.test("layerNorm matches PyTorch (affine, several trailing dims, eps)", () => {
  tidy(() => {
    const c = caseOf("layer_norm");
    const x = input(c, "x");
    expectOutput(
      layerNorm(x, [4], { weight: input(c, "weight"), bias: input(c, "bias") }),
      c,
      "last_affine",
    );
    const plain = layerNorm(x, [3, 4]);
    expectOutput(plain, c, "last2_plain");
    expectOutput(layerNorm(x, [4], { eps: 0.1 }), c, "last_eps01");
    assertClose(plain.mean([1, 2]).toArray(), [0, 0], { atol: 1e-5 });
    assertClose(plain.var([1, 2], false).toArray(), [1, 1], { rtol: 1e-3 });
  });
});

// ---- dropout ----

Deno.test("dropout with p = 0 and in eval mode is the identity", () => {
  tidy(() => {
    const x = randn([64, 32], { device });
    const expected = x.data() as Float32Array;
    assertClose(dropout(x, 0).data() as Float32Array, expected, { rtol: 0, atol: 0 });
    assertClose(dropout(x, 0.5, false).data() as Float32Array, expected, { rtol: 0, atol: 0 });
    assertClose(dropout(x, 0.9, false).data() as Float32Array, expected, { rtol: 0, atol: 0 });
    assertClose(dropout(x, 1).toArray(), zeros(64, 32), { rtol: 0, atol: 0 });
    assert.throws(() => dropout(x, 1.5), RangeError);
    assert.throws(() => dropout(x, -0.1), RangeError);
  });
});

function zeros(r: number, c: number): number[][] {
  return Array.from({ length: r }, () => new Array(c).fill(0));
}

Deno.test("dropout in training zeroes about p of the elements and preserves the mean", () => {
  tidy(() => {
    manualSeed(11);
    const n = 200_000;
    const p = 0.3;
    const x = ones([n], { device });
    const y = dropout(x, p, true).data() as Float32Array;
    let zeroed = 0;
    let sum = 0;
    for (const v of y) {
      if (v === 0) zeroed++;
      else assert.ok(Math.abs(v - 1 / (1 - p)) < 1e-6, `kept values are scaled: ${v}`);
      sum += v;
    }
    assert.ok(Math.abs(zeroed / n - p) < 0.005, `zeroed fraction ${zeroed / n}`);
    assert.ok(Math.abs(sum / n - 1) < 0.01, `mean ${sum / n}`);
    // Two draws differ.
    const a = dropout(x.narrow(0, 0, 1000), 0.5).data() as Float32Array;
    const b = dropout(x.narrow(0, 0, 1000), 0.5).data() as Float32Array;
    assert.notDeepEqual(Array.from(a), Array.from(b));
  });
});

// ---- activations ----

Deno.test("relu and gelu (exact and tanh approximation) match PyTorch", () => {
  tidy(() => {
    const c = caseOf("activations");
    const x = input(c, "x");
    expectOutput(relu(x), c, "relu");
    expectOutput(gelu(x), c, "gelu");
    expectOutput(gelu(x, "none"), c, "gelu");
    expectOutput(gelu(x, "tanh"), c, "gelu_tanh");
    // The two GELUs differ somewhere (so the approximate flag reaches libtorch).
    const diff = gelu(x).sub(gelu(x, "tanh")).abs().amax().item();
    assert.ok(diff > 1e-5, `exact and tanh GELU differ by ${diff}`);
  });
});

Deno.test("softmax and logSoftmax match PyTorch along several dims", () => {
  tidy(() => {
    const c = caseOf("softmax");
    const x = input(c, "x");
    expectOutput(softmax(x, 1), c, "softmax_1");
    expectOutput(x.softmax(-1), c, "softmax_last");
    expectOutput(logSoftmax(x, 0), c, "log_softmax_0");
    expectOutput(x.logSoftmax(-1), c, "log_softmax_last");
    assertClose(softmax(x, 1).sum(1).toArray(), [[1, 1, 1, 1], [1, 1, 1, 1]], { rtol: 1e-6 });
  });
});

// ---- losses ----

Deno.test("crossEntropy matches PyTorch for each reduction, weights, ignoreIndex and smoothing", () => {
  tidy(() => {
    const c = caseOf("cross_entropy");
    const logits = input(c, "logits");
    const target = input(c, "target");
    const weight = input(c, "weight");
    expectOutput(crossEntropy(logits, target), c, "mean");
    expectOutput(crossEntropy(logits, target, { reduction: "sum" }), c, "sum");
    expectOutput(crossEntropy(logits, target, { reduction: "none" }), c, "none");
    expectOutput(crossEntropy(logits, target, { labelSmoothing: 0.1 }), c, "smooth01");
    expectOutput(
      crossEntropy(logits, target, { labelSmoothing: 0.3, reduction: "sum" }),
      c,
      "smooth03_sum",
    );
    expectOutput(crossEntropy(logits, target, { weight }), c, "weight");
    expectOutput(
      crossEntropy(logits, target, { weight, labelSmoothing: 0.2 }),
      c,
      "weight_smooth02",
    );
    expectOutput(crossEntropy(logits, input(c, "target_ignore")), c, "ignore");
    assert.throws(() => crossEntropy(logits, target, { labelSmoothing: 1.5 }), RangeError);
  });
});

Deno.test("crossEntropy gradients w.r.t. the logits match PyTorch", () => {
  tidy(() => {
    const c = caseOf("cross_entropy");
    const target = input(c, "target");
    const weight = input(c, "weight");
    const cases: [string, Parameters<typeof crossEntropy>[2], Tensor?][] = [
      ["grad_mean", {}],
      ["grad_sum", { reduction: "sum" }],
      ["grad_smooth01", { labelSmoothing: 0.1 }],
      ["grad_smooth03_sum", { labelSmoothing: 0.3, reduction: "sum" }],
      ["grad_weight", { weight }],
      ["grad_weight_smooth02", { weight, labelSmoothing: 0.2 }],
      ["grad_ignore", {}, input(c, "target_ignore")],
    ];
    for (const [name, options, tgt] of cases) {
      const logits = input(c, "logits", true);
      const [g] = grad(crossEntropy(logits, tgt ?? target, options), logits);
      expectOutput(g!, c, name);
    }
    // Spatial (N, C, H, W) logits with (N, H, W) targets.
    const logits4 = input(c, "logits4", true);
    const loss4 = crossEntropy(logits4, input(c, "target4"), { labelSmoothing: 0.05 });
    expectOutput(loss4, c, "spatial_smooth005");
    expectOutput(grad(loss4, logits4)[0]!, c, "grad_spatial_smooth005");
  });
});

Deno.test("nllLoss matches PyTorch (mean, sum, none, weight, ignoreIndex)", () => {
  tidy(() => {
    const c = caseOf("nll_loss");
    const logp = input(c, "logp");
    const target = input(c, "target");
    expectOutput(nllLoss(logp, target), c, "mean");
    expectOutput(nllLoss(logp, target, { reduction: "sum" }), c, "sum");
    expectOutput(nllLoss(logp, target, { reduction: "none" }), c, "none");
    expectOutput(nllLoss(logp, target, { weight: input(c, "weight") }), c, "weight");
    expectOutput(nllLoss(logp, input(c, "target_ignore")), c, "ignore");
    // crossEntropy(x) == nllLoss(logSoftmax(x))
    const ce = crossEntropy(logp, target).item();
    assertClose(ce, nllLoss(logp.logSoftmax(1), target).item(), TOL);
  });
});

Deno.test("klDiv matches PyTorch; batchmean equals sum / N", () => {
  tidy(() => {
    const c = caseOf("kl_div");
    const inp = input(c, "input");
    const tgt = input(c, "target");
    const batchmean = klDiv(inp, tgt, { reduction: "batchmean" });
    expectOutput(batchmean, c, "batchmean");
    expectOutput(klDiv(inp, tgt, { reduction: "sum" }), c, "sum");
    expectOutput(klDiv(inp, tgt), c, "mean");
    expectOutput(klDiv(inp, tgt, { reduction: "none" }), c, "none");
    expectOutput(
      klDiv(inp, input(c, "target_log"), { reduction: "batchmean", logTarget: true }),
      c,
      "log_target_batchmean",
    );
    const n = inp.shape[0];
    const sum = klDiv(inp, tgt, { reduction: "sum" }).item();
    assertClose(batchmean.item(), sum / n, { rtol: 1e-6 });
    assert.ok(batchmean.item() > 0, "KL of different distributions is positive");
    assertClose(klDiv(inp, inp.exp(), { reduction: "batchmean" }).item(), 0, { atol: 1e-6 });
  });
});

// ---- resampling ----

Deno.test("interpolate nearest matches PyTorch (up, down, scaleFactor 2)", () => {
  tidy(() => {
    const c = caseOf("interpolate");
    const x = input(c, "x");
    expectOutput(interpolate(x, { size: [7, 9] }), c, "nearest_7x9");
    expectOutput(interpolate(x, { size: [2, 3], mode: "nearest" }), c, "nearest_2x3");
    expectOutput(interpolate(x, { scaleFactor: 2 }), c, "nearest_scale2");
  });
});

Deno.test("interpolate bilinear matches PyTorch (alignCorners off and on, scaleFactor 2)", () => {
  tidy(() => {
    const c = caseOf("interpolate");
    const x = input(c, "x");
    expectOutput(interpolate(x, { size: [7, 9], mode: "bilinear" }), c, "bilinear_7x9");
    expectOutput(
      interpolate(x, { size: [7, 9], mode: "bilinear", alignCorners: true }),
      c,
      "bilinear_7x9_align",
    );
    expectOutput(interpolate(x, { size: 3, mode: "bilinear" }), c, "bilinear_3x3");
    expectOutput(interpolate(x, { scaleFactor: 2, mode: "bilinear" }), c, "bilinear_scale2");
    assert.throws(() => interpolate(x, {}), TypeError);
    assert.throws(
      () => interpolate(x, { size: 2, mode: "bicubic" as "bilinear" }),
      /unknown interpolate mode/,
    );
    assert.throws(() => interpolate(x.select(0, 0), { size: 2 }), /4-D/);
  });
});

Deno.test({
  name: "interpolate bilinear with scaleFactor 1.5 matches PyTorch",
  fn() {
    tidy(() => {
      const c = caseOf("interpolate");
      const x = input(c, "x");
      expectOutput(
        interpolate(x, { scaleFactor: 1.5, mode: "bilinear" }),
        c,
        "bilinear_scale1_5",
      );
    });
  },
});
