/**
 * nn layers against PyTorch (tests/fixtures/parity/layers.json, made by
 * tests/fixtures/make_parity_fixtures.py with torch 1.13): each layer loads PyTorch's state dict
 * (strictly, same keys in the same order), then its output, the gradients of (y * g).sum() with
 * respect to the input and every parameter, and the buffers after a training-mode forward
 * (BatchNorm's running stats and num_batches_tracked) must match.
 *
 * Also: torch.nn's default initialisation in distribution, loadStateDict's strict error,
 * Module.to() keeping parameter identity and train()/eval() reaching every descendant.
 *
 * HLGM_PARITY_REPORT=1 prints the largest errors reached per case.
 */

import assert from "node:assert/strict";
import {
  AdaptiveAvgPool2d,
  BatchNorm2d,
  Conv2d,
  Dropout,
  Flatten,
  GELU,
  grad,
  init,
  LayerNorm,
  Linear,
  manualSeed,
  MaxPool2d,
  Mlp,
  type Module,
  MultiheadSelfAttention,
  ReLU,
  Sequential,
  type Tensor,
  tensor,
  tidy,
  TransformerBlock,
  zeros,
} from "../mod.ts";
import { assertClose, type CloseOptions, device, onCpu } from "./helpers.ts";

interface Encoded {
  shape: number[];
  data: number[];
  dtype?: "int64";
}

interface LayerCase {
  train: boolean;
  state: Record<string, Encoded>;
  x: Encoded;
  g: Encoded;
  y: Encoded;
  grads: Record<string, Encoded>;
  buffers_after?: Record<string, Encoded>;
}

const fixture: { torch_version: string; cases: Record<string, LayerCase> } = JSON.parse(
  Deno.readTextFileSync(new URL("./fixtures/parity/layers.json", import.meta.url)),
);

// CPU: the same libtorch kernels as PyTorch's, so float32 results agree to rounding. CUDA:
// TF32 convolutions/matmuls and other reduction orders.
const TOL: CloseOptions = onCpu ? { rtol: 1e-5, atol: 1e-6 } : { rtol: 1e-2, atol: 5e-3 };

const REPORT = Deno.env.get("HLGM_PARITY_REPORT") === "1";

function decode(e: Encoded, requiresGrad = false): Tensor {
  if (e.dtype === "int64") {
    return tensor(BigInt64Array.from(e.data, BigInt), { shape: e.shape, device });
  }
  return tensor(Float32Array.from(e.data), { shape: e.shape, device, requiresGrad });
}

/** Compares with assertClose; with HLGM_PARITY_REPORT=1 also logs the worst errors. */
function expectClose(actual: Tensor, expected: Encoded, message: string, tol = TOL): void {
  assert.deepEqual(actual.shape, expected.shape, `${message}: shape`);
  const a = Array.from(actual.to("float64").data() as Float64Array);
  if (REPORT) {
    let abs = 0;
    let rel = 0;
    const big = Math.max(...expected.data.map(Math.abs), 0) * 1e-3;
    a.forEach((v, i) => {
      const e = expected.data[i];
      abs = Math.max(abs, Math.abs(v - e));
      if (Math.abs(e) > big) rel = Math.max(rel, Math.abs(v - e) / Math.abs(e));
    });
    console.log(
      `  ${message}: max abs err ${abs.toExponential(2)}, max rel err ${rel.toExponential(2)}`,
    );
  }
  assertClose(a, expected.data, { ...tol, message });
}

/** hlgm layers built like the PyTorch ones of each fixture case. */
const LAYERS: Record<string, () => Module> = {
  linear: () => new Linear(7, 5),
  linear_no_bias_3d: () => new Linear(6, 4, { bias: false }),
  conv2d_s2_p1_g2: () => new Conv2d(4, 6, 3, { stride: 2, padding: 1, groups: 2 }),
  conv2d_rect_no_bias: () =>
    new Conv2d(3, 4, [3, 2], { stride: [1, 2], padding: [1, 0], dilation: [2, 1], bias: false }),
  batchnorm2d_train: () => new BatchNorm2d(3),
  batchnorm2d_train_m03_eps1e3: () => new BatchNorm2d(3, { momentum: 0.3, eps: 1e-3 }),
  batchnorm2d_eval: () => new BatchNorm2d(3),
  layernorm: () => new LayerNorm(8),
  layernorm_2d_eps: () => new LayerNorm([3, 4], { eps: 1e-3 }),
  dropout_eval: () => new Dropout(0.3),
  relu: () => new ReLU(),
  gelu: () => new GELU(),
  gelu_tanh: () => new GELU("tanh"),
  maxpool2d_k3_s2_p1: () => new MaxPool2d(3, { stride: 2, padding: 1 }),
  maxpool2d_k2: () => new MaxPool2d(2),
  adaptiveavgpool2d_2x3: () => new AdaptiveAvgPool2d([2, 3]),
  adaptiveavgpool2d_1: () => new AdaptiveAvgPool2d(1),
  flatten: () => new Flatten(),
  flatten_2_3: () => new Flatten(2, 3),
  sequential_train: () =>
    new Sequential(
      new Conv2d(2, 4, 3, { padding: 1 }),
      new ReLU(),
      new BatchNorm2d(4),
      new MaxPool2d(2),
      new Flatten(),
      new Linear(36, 5),
    ),
  multihead_self_attention: () => new MultiheadSelfAttention(8, 2),
  mlp: () => new Mlp(8, 16),
  transformer_block: () => new TransformerBlock(8, 2),
  batchnorm2d_no_affine_no_stats_eval: () =>
    new BatchNorm2d(3, { affine: false, trackRunningStats: false }),
  layernorm_no_affine: () => new LayerNorm(6, { elementwiseAffine: false }),
  maxpool2d_k2_ceil_dilation: () => new MaxPool2d(2, { stride: 2, dilation: 2, ceilMode: true }),
};

Deno.test("parity fixture is present, small, from PyTorch and covers every layer", () => {
  const size = Deno.statSync(new URL("./fixtures/parity/layers.json", import.meta.url)).size;
  assert.ok(size < 400_000, `layers.json is ${size} bytes`);
  assert.match(fixture.torch_version, /^1\.13/);
  assert.deepEqual(Object.keys(fixture.cases).sort(), Object.keys(LAYERS).sort());
});

for (const [name, make] of Object.entries(LAYERS)) {
  Deno.test({
    name: `${name}: output, input and parameter gradients match PyTorch`,
    fn: () => parityCase(name, make),
  });
}

function parityCase(name: string, make: () => Module): void {
  const c = fixture.cases[name];
  if (REPORT) console.log(name);
  const layer = make().to(device);
  try {
    tidy(() => {
      // Same state-dict keys, in the same order, with the same shapes.
      const own = layer.stateDict();
      assert.deepEqual([...own.keys()], Object.keys(c.state), "state-dict keys");
      for (const [k, t] of own) assert.deepEqual(t.shape, c.state[k].shape, `${k}: shape`);
      const result = layer.loadStateDict(
        new Map(Object.entries(c.state).map(([k, e]) => [k, decode(e)])),
      );
      assert.deepEqual(result, { missingKeys: [], unexpectedKeys: [], shapeMismatches: [] });
      layer.train(c.train);

      const x = decode(c.x, true);
      const y = layer.forward(x);
      expectClose(y, c.y, "output");
      const params = layer.namedParameters();
      assert.deepEqual(
        ["input", ...params.map(([k]) => k)],
        Object.keys(c.grads),
        "parameters (names and order)",
      );
      const grads = grad(y.mul(decode(c.g)).sum(), [x, ...params.map(([, p]) => p)]);
      grads.forEach((g, i) => {
        const key = i === 0 ? "input" : params[i - 1][0];
        assert.ok(g, `gradient of ${key}`);
        expectClose(g, c.grads[key], `d/d ${key}`);
      });

      if (c.buffers_after) {
        const after = layer.stateDict();
        for (const [k, e] of Object.entries(c.buffers_after)) {
          const t = after.get(k)!;
          if (e.dtype === "int64") {
            assert.equal(t.dtype, "int64", `${k}: dtype`);
            assert.deepEqual(Array.from(t.data() as BigInt64Array, Number), e.data, k);
          } else {
            expectClose(t, e, `${k} after the forward`);
          }
        }
      } else {
        // Without a training-mode forward the buffers stay as loaded.
        for (const [k, t] of layer.namedBuffers()) {
          const e = c.state[k];
          const actual = e.dtype === "int64" ? Array.from(t.data() as BigInt64Array, Number) : [
            ...(t.data() as Float32Array),
          ];
          assert.deepEqual(actual, [...(e.dtype ? e.data : Float32Array.from(e.data))], k);
        }
      }
    });
  } finally {
    layer.dispose();
  }
}

Deno.test({
  name: "BatchNorm2d in eval mode leaves num_batches_tracked alone; train mode counts",
  fn: () => {
    const bn = new BatchNorm2d(2).to(device);
    try {
      tidy(() => {
        const x = tensor(Float32Array.from({ length: 16 }, (_, i) => Math.sin(i)), {
          shape: [2, 2, 2, 2],
          device,
        });
        bn.eval().forward(x);
        assert.equal(Number(bn.numBatchesTracked!.item()), 0);
        bn.train().forward(x);
        bn.forward(x);
        assert.equal(Number(bn.numBatchesTracked!.item()), 2);
      });
    } finally {
      bn.dispose();
    }
  },
});

Deno.test("Dropout in training mode changes its input, in eval mode it is the identity", () => {
  const d = new Dropout(0.5);
  tidy(() => {
    manualSeed(3);
    const x = tensor(Float32Array.from({ length: 1000 }, (_, i) => 1 + (i % 7)), { device });
    const train = d.train().forward(x).data() as Float32Array;
    const src = x.data() as Float32Array;
    assert.ok(train.some((v) => v === 0), "some elements dropped");
    assert.ok(train.every((v, i) => v === 0 || Math.abs(v - 2 * src[i]) < 1e-5), "scaled by 2");
    assert.deepEqual(d.eval().forward(x).data(), src);
  });
});

// ---- default initialisation, in distribution ----

interface Stats {
  n: number;
  min: number;
  max: number;
  mean: number;
  std: number;
}

function stats(t: Tensor): Stats {
  const v = t.to("float64").data() as Float64Array;
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (const x of v) {
    if (x < min) min = x;
    if (x > max) max = x;
    sum += x;
  }
  const mean = sum / v.length;
  let sq = 0;
  for (const x of v) sq += (x - mean) ** 2;
  return { n: v.length, min, max, mean, std: Math.sqrt(sq / (v.length - 1)) };
}

/** U(-bound, bound): inside the bounds, reaching near them, std bound/sqrt(3), mean ~0. */
function assertUniform(t: Tensor, bound: number, what: string, stdTol = 0.02): void {
  const s = stats(t);
  assert.ok(s.min >= -bound && s.max <= bound, `${what}: [${s.min}, ${s.max}] in ±${bound}`);
  const reach = s.n > 1000 ? 0.99 : 0.8;
  assert.ok(s.min < -reach * bound && s.max > reach * bound, `${what}: spans ±${bound}`);
  const std = bound / Math.sqrt(3);
  assert.ok(Math.abs(s.std / std - 1) < stdTol, `${what}: std ${s.std} vs ${std}`);
  assert.ok(Math.abs(s.mean) < (5 * std) / Math.sqrt(s.n), `${what}: mean ${s.mean}`);
}

Deno.test("Linear and Conv2d initialise weights and biases as U(±1/sqrt(fan_in))", () => {
  manualSeed(1234);
  const layers = [
    ["Linear(1000, 400)", new Linear(1000, 400, { device }), 1000],
    ["Conv2d(64, 128, 3)", new Conv2d(64, 128, 3, { device }), 64 * 9],
    ["Conv2d(32, 2048, [1, 3], groups 4)", new Conv2d(32, 2048, [1, 3], { groups: 4, device }), 24],
  ] as const;
  try {
    for (const [what, layer, fanIn] of layers) {
      tidy(() => {
        const bound = 1 / Math.sqrt(fanIn);
        assertUniform(layer.weight, bound, `${what} weight`);
        assertUniform(layer.bias!, bound, `${what} bias`, 0.15);
      });
    }
  } finally {
    for (const [, layer] of layers) layer.dispose();
  }
});

Deno.test("BatchNorm2d and LayerNorm start at weight 1, bias 0, running mean 0, var 1", () => {
  const bn = new BatchNorm2d(5, { device });
  const ln = new LayerNorm([2, 3], { device });
  try {
    tidy(() => {
      const sd = new Map<string, Tensor>(bn.stateDict());
      for (const [k, v] of ln.stateDict()) sd.set(`ln.${k}`, v);
      const expect: Record<string, number[]> = {
        "weight": [1, 1, 1, 1, 1],
        "bias": [0, 0, 0, 0, 0],
        "running_mean": [0, 0, 0, 0, 0],
        "running_var": [1, 1, 1, 1, 1],
        "num_batches_tracked": [0],
        "ln.weight": [1, 1, 1, 1, 1, 1],
        "ln.bias": [0, 0, 0, 0, 0, 0],
      };
      assert.deepEqual([...sd.keys()], Object.keys(expect));
      for (const [k, v] of Object.entries(expect)) {
        assert.deepEqual(Array.from(sd.get(k)!.to("float64").data() as Float64Array), v, k);
      }
      assert.equal(sd.get("num_batches_tracked")!.dtype, "int64");
      assert.deepEqual(sd.get("num_batches_tracked")!.shape, []);
      assert.deepEqual(sd.get("ln.weight")!.shape, [2, 3]);
    });
  } finally {
    bn.dispose();
    ln.dispose();
  }
});

Deno.test("init.truncNormal(std 1) is truncated at ±2 with the truncated normal's std", () => {
  manualSeed(99);
  tidy(() => {
    const s = stats(init.truncNormal([200_000], { device }));
    assert.ok(s.min >= -2 && s.max <= 2, `[${s.min}, ${s.max}]`);
    assert.ok(s.min < -1.99 && s.max > 1.99, `reaches the bounds: [${s.min}, ${s.max}]`);
    // Var of N(0,1) truncated to [-2, 2]: 1 - 4 phi(2) / (Phi(2) - Phi(-2)) = 0.77374.
    assert.ok(Math.abs(s.std - Math.sqrt(0.773741)) < 0.005, `std ${s.std}`);
    assert.ok(Math.abs(s.mean) < 0.01, `mean ${s.mean}`);
    // Shifted and scaled, truncated at mean ± 2 std.
    const t = stats(
      init.truncNormal([100_000], { device, std: 0.02, mean: 0.5, a: 0.46, b: 0.54 }),
    );
    assert.ok(
      t.min >= 0.46 && t.max <= 0.54 && t.min < 0.4601 && t.max > 0.5399,
      `[${t.min}, ${t.max}]`,
    );
    assert.ok(Math.abs(t.std / (0.02 * Math.sqrt(0.773741)) - 1) < 0.01, `std: ${t.std}`);
    assert.ok(Math.abs(t.mean - 0.5) < 0.001, `mean .5: ${t.mean}`);
  });
});

// ---- Module behaviour ----

Deno.test("loadStateDict (strict) lists missing, unexpected and mismatched keys in one error", () => {
  const layer = new Sequential(new Linear(3, 2), new ReLU(), new BatchNorm2d(2)).to(device);
  try {
    tidy(() => {
      const before = layer.stateDict().get("0.weight")!.clone();
      const sd = new Map<string, Tensor>([
        ["0.weight", zeros([2, 4])], // wrong shape
        // "0.bias" missing
        ["2.weight", zeros([2])],
        ["2.bias", zeros([2])],
        ["2.running_mean", zeros([2])],
        ["2.running_var", zeros([2])],
        ["2.num_batches_tracked", zeros([], { dtype: "int64" })],
        ["2.extra", zeros([1])], // unexpected
        ["head.weight", zeros([1])], // unexpected
      ]);
      assert.throws(() => layer.loadStateDict(sd), (e: Error) => {
        assert.match(e.message, /missing keys: 0\.bias/);
        assert.match(e.message, /unexpected keys: 2\.extra, head\.weight/);
        assert.match(e.message, /shape mismatches: 0\.weight: expected \[2, 3\], got \[2, 4\]/);
        return true;
      });
      // Nothing was copied.
      assertClose(layer.stateDict().get("0.weight")!, before.toArray(), { rtol: 0, atol: 0 });
      assertClose(layer.stateDict().get("2.weight")!, [1, 1], { rtol: 0, atol: 0 });
      // Non-strict: the matching keys are copied and the rest reported.
      const r = layer.loadStateDict(sd, { strict: false });
      assert.deepEqual(r, {
        missingKeys: ["0.bias"],
        unexpectedKeys: ["2.extra", "head.weight"],
        shapeMismatches: ["0.weight: expected [2, 3], got [2, 4]"],
      });
      assertClose(layer.stateDict().get("2.weight")!, [0, 0], { rtol: 0, atol: 0 });
      assertClose(layer.stateDict().get("0.weight")!, before.toArray(), { rtol: 0, atol: 0 });
    });
  } finally {
    layer.dispose();
  }
});

Deno.test("Module.to keeps parameter and buffer identity (and values)", () => {
  const m = new Sequential(
    new Conv2d(2, 3, 3),
    new BatchNorm2d(3),
    new Flatten(),
    new Linear(3, 2),
  );
  try {
    const params = m.parameters();
    const buffers = m.namedBuffers().map(([, b]) => b);
    const values = tidy(() => params.map((p) => p.toArray()));
    for (const target of ["cpu", device] as const) {
      assert.equal(m.to(target), m, "returns the module");
      const after = m.parameters();
      assert.equal(after.length, params.length);
      after.forEach((p, i) => assert.equal(p, params[i], `parameter ${i} is the same object`));
      m.namedBuffers().forEach(([k, b], i) => assert.equal(b, buffers[i], `buffer ${k}`));
      for (const p of after) {
        if (target === "cpu") assert.equal(p.device, "cpu");
        else assert.ok(p.device.startsWith(target.split(":")[0]), `${p.device} on ${target}`);
        assert.ok(p.requiresGrad, "still requires grad");
        assert.ok(p.isLeaf, "still a leaf");
      }
      tidy(() => params.forEach((p, i) => assert.deepEqual(p.toArray(), values[i])));
    }
    // The moved parameters are the ones the forward uses and the gradients reach.
    tidy(() => {
      const x = tensor(Float32Array.from({ length: 18 }, (_, i) => i / 9), {
        shape: [1, 2, 3, 3],
        device: params[0].device,
      });
      m.eval().forward(x).sum().backward();
      for (const p of params) assert.ok(p.grad, "gradient on the same object");
    });
  } finally {
    m.dispose();
  }
});

Deno.test("train() and eval() reach every descendant", () => {
  const m = new Sequential(
    new Sequential(new Linear(2, 2), new Dropout(0.5)),
    new TransformerBlock(4, 2),
    new BatchNorm2d(1),
  );
  try {
    const all = m.namedModules();
    assert.ok(all.length >= 12, `${all.length} modules`);
    assert.ok(all.every(([, x]) => x.training), "training by default");
    assert.equal(m.eval(), m);
    assert.deepEqual(all.filter(([, x]) => x.training).map(([k]) => k), []);
    m.train();
    assert.deepEqual(all.filter(([, x]) => !x.training).map(([k]) => k), []);
    m.train(false);
    assert.ok(all.every(([, x]) => !x.training));
    // A child switched alone switches its own subtree only.
    (m.at(0) as Sequential).train();
    assert.deepEqual(all.filter(([, x]) => x.training).map(([k]) => k), ["0", "0.0", "0.1"]);
  } finally {
    m.dispose();
  }
});
