/**
 * Faithfulness metrics (deletion and insertion, MoRF/LeRF and AOPC, infidelity, sensitivity-max) against their PyTorch reference (tests/fixtures/faith/, made by
 * tests/fixtures/make_faith_fixtures.py with the models and closed-form weights of
 * tests/fixtures/parity/models.json), and their definitions on cases small enough to work out by
 * hand.
 */

import assert from "node:assert/strict";
import { noGrad, type Tensor, tensor, tidy } from "../mod.ts";
import { perturbationCurve, substrateOf } from "../src/metrics/deletion.ts";
import { regionPerturbation } from "../src/metrics/aopc.ts";
import { infidelity } from "../src/metrics/infidelity.ts";
import { sensitivityMax } from "../src/metrics/sensitivity.ts";
import { Saliency } from "../src/saliency/saliency.ts";
import { cat } from "../src/tensor/functional.ts";
import { closedForm, closedFormModel, parityModels } from "./closed_form.ts";
import { assertClose, device } from "./helpers.ts";

interface RunCase {
  mode: "deletion" | "insertion";
  substrate: "zero" | "blur" | "mean";
  steps: number;
  fractions: number[];
  curves: number[][];
  auc: number[];
}
const reference: {
  cases: Record<string, {
    input_shape: number[];
    saliency: number[][][];
    targets: number[];
    runs: RunCase[];
  }>;
} = JSON.parse(Deno.readTextFileSync(new URL("./fixtures/faith/deletion.json", import.meta.url)));
const models = parityModels;

for (const [name, c] of Object.entries(reference.cases)) {
  Deno.test(`deletion and insertion: ${name}'s curves and AUCs equal PyTorch's (ties by position, every substrate, 1 to 50 steps)`, () => {
    const model = closedFormModel(name);
    const forward = (x: Tensor) => model.forward(x);
    tidy(() => {
      const x = closedForm(models.formula, c.input_shape, models.formula.inputKey + 1, 0, 1)
        .to(device);
      const saliency = tensor(c.saliency, { device });
      const target = tensor(c.targets, { dtype: "int64", device });
      for (const run of c.runs) {
        const got = noGrad(() =>
          perturbationCurve(forward, x, saliency, target, {
            mode: run.mode,
            substrate: run.substrate,
            steps: run.steps,
          })
        );
        const what = `${name} ${run.mode} ${run.substrate} ${run.steps} steps`;
        assert.deepEqual(got.fractions, run.fractions, what);
        assertClose(got.curves.flat(), run.curves.flat(), {
          rtol: 1e-4,
          atol: 1e-6,
          message: what,
        });
        assertClose(got.auc, run.auc, { rtol: 1e-4, atol: 1e-6, message: what });
      }
    });
  });
}

Deno.test("deletion and insertion: a model that reads one pixel gives the curve the definition does", () => {
  // logits (v, 0) from the value v of pixel (0, 1) of a 2 x 2 image: p(class 0) = sigmoid(v)
  const forward = (x: Tensor) =>
    tidy(() => {
      const v = x.reshape([x.shape[0], 4]).select(1, 1).unsqueeze(1);
      return cat([v, v.mul(0)], 1);
    });
  const x = tensor([[[[1, 3], [2, 4]]]], { device }); // pixel (0, 1) holds 3
  const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
  const target = tensor([0], { dtype: "int64", device });
  // values 4 > 3 = 3 > 1: pixel 1 is ranked second, before pixel 2 (the tie goes by position)
  const saliency = tensor([[[4, 3], [3, 1]]], { device });
  const one = perturbationCurve(forward, x, saliency, target, { steps: 4 });
  assert.deepEqual(one.fractions, [0, 0.25, 0.5, 0.75, 1]);
  assertClose(one.curves[0], [sigmoid(3), sigmoid(3), 0.5, 0.5, 0.5], { rtol: 1e-6 });
  // ranked third: removed one step later
  const third = tensor([[[4, 3], [3.5, 1]]], { device });
  const late = perturbationCurve(forward, x, third, target, { steps: 4 });
  assertClose(late.curves[0], [sigmoid(3), sigmoid(3), sigmoid(3), 0.5, 0.5], { rtol: 1e-6 });
  // two steps of two pixels: removed in the first; the trapezoid over k / K
  const two = perturbationCurve(forward, x, saliency, target, { steps: 2 });
  assertClose(two.curves[0], [sigmoid(3), 0.5, 0.5], { rtol: 1e-6 });
  assertClose(two.auc, [(sigmoid(3) / 2 + 0.5 + 0.25) / 2], { rtol: 1e-6 });
  // insertion from the mean (2.5): pixel 1 is put back in the first of two steps
  const ins = perturbationCurve(forward, x, saliency, target, {
    mode: "insertion",
    substrate: "mean",
    steps: 2,
  });
  assertClose(ins.curves[0], [sigmoid(2.5), sigmoid(3), sigmoid(3)], { rtol: 1e-6 });
});

Deno.test("deletion and insertion: the blur substrate is a normalised 11 x 11 Gaussian (sigma 5) with zero padding", () => {
  tidy(() => {
    // a constant image far from the border stays constant; at the corner it keeps the share of
    // the kernel inside the image
    const x = tensor(Array.from({ length: 2 }, () => Array(32).fill(Array(32).fill(1))), {
      device,
    }).reshape([1, 2, 32, 32]);
    const b = substrateOf(x, "blur");
    assertClose([b.select(2, 16).select(2, 16).data()[0] as number], [1], { rtol: 1e-6 });
    const g = Array.from({ length: 11 }, (_, i) => Math.exp(-((i - 5) ** 2) / 50));
    const total = g.reduce((s, v) => s + v, 0);
    const inside = g.slice(5).reduce((s, v) => s + v, 0) / total; // one side of the 1-D kernel
    const corner = b.select(2, 0).select(2, 0).data() as Float32Array;
    assertClose([...corner], [inside * inside, inside * inside], { rtol: 1e-5 });
  });
});

Deno.test("deletion and insertion: shapes that do not fit are refused, naming them", () => {
  const forward = (x: Tensor) => x.reshape([x.shape[0], -1]);
  tidy(() => {
    const x = tensor([[[[1, 2], [3, 4]]]], { device });
    const t = tensor([0], { dtype: "int64", device });
    assert.throws(
      () => perturbationCurve(forward, x, tensor([[1, 2, 3, 4]], { device }), t),
      /saliency must be \(N, H, W\) = \[1,2,2\]/,
    );
    assert.throws(
      () => perturbationCurve(forward, x, tensor([[[1, 2], [3, 4]]], { device }), t, { steps: 0 }),
      /steps must be a positive integer, got 0/,
    );
  });
});

const aopcReference: {
  cases: Record<string, {
    input_shape: number[];
    saliency: number[][][];
    targets: number[];
    noise_key: number;
    runs: {
      order: "morf" | "lerf";
      patch: number;
      regions: number;
      curves: number[][];
      aopc: number[];
    }[];
  }>;
} = JSON.parse(Deno.readTextFileSync(new URL("./fixtures/faith/aopc.json", import.meta.url)));

for (const [name, c] of Object.entries(aopcReference.cases)) {
  Deno.test(`MoRF, LeRF and AOPC: ${name}'s curves equal PyTorch's (patches of 4 and 8, every region or some)`, () => {
    const model = closedFormModel(name);
    tidy(() => {
      const f = models.formula;
      const x = closedForm(f, c.input_shape, f.inputKey + 1, 0, 1).to(device);
      const noise = closedForm(f, c.input_shape, c.noise_key, 0, 1).to(device);
      const saliency = tensor(c.saliency, { device });
      const target = tensor(c.targets, { dtype: "int64", device });
      for (const run of c.runs) {
        const got = regionPerturbation((v) => model.forward(v), x, saliency, target, {
          order: run.order,
          patch: run.patch,
          regions: run.regions,
          noise,
        });
        const what = `${name} ${run.order} patch ${run.patch}, ${run.regions} regions`;
        assertClose(got.curves.flat(), run.curves.flat(), {
          rtol: 1e-4,
          atol: 1e-6,
          message: what,
        });
        assertClose(got.aopc, run.aopc, { rtol: 1e-3, atol: 1e-6, message: what });
      }
    });
  });
}

Deno.test("MoRF and LeRF: regions ranked by their sums, ties by position; AOPC is the mean drop over L + 1 points", () => {
  // logits (v, 0) from pixel (0, 3) of a 4 x 4 image, which lies in the top-right 2 x 2 region
  const forward = (x: Tensor) =>
    tidy(() => {
      const v = x.reshape([x.shape[0], 16]).select(1, 3).unsqueeze(1);
      return cat([v, v.mul(0)], 1);
    });
  const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
  const x = tensor([[Array.from({ length: 4 }, () => [2, 2, 2, 2])]], { device }); // all 2
  const noise = x.mul(0); // perturbed pixels become 0
  const target = tensor([0], { dtype: "int64", device });
  // region sums: top-left 4, top-right 3, bottom-left 3, bottom-right 1
  const saliency = tensor([[[1, 1, 1, 1], [1, 1, 1, 0], [1, 1, 0, 0], [1, 0, 0, 1]]], { device });
  const morf = regionPerturbation(forward, x, saliency, target, { patch: 2, noise });
  // MoRF: top-left, then top-right (tied with bottom-left, first by position): pixel 3 at k = 2
  const a = sigmoid(2), z = 0.5;
  assertClose(morf.curves[0], [a, a, z, z, z], { rtol: 1e-6 });
  assertClose(morf.aopc, [(0 + 0 + 3 * (a - z)) / 5], { rtol: 1e-6 });
  // LeRF: bottom-right, then top-right (3 = 3, first by position), so also at k = 2
  const lerf = regionPerturbation(forward, x, saliency, target, {
    patch: 2,
    noise,
    order: "lerf",
    regions: 3,
  });
  assertClose(lerf.curves[0], [a, a, z, z], { rtol: 1e-6 });
  assert.throws(
    () => regionPerturbation(forward, x, saliency, target, { patch: 3 }),
    /patch must be a whole divisor of the image's 4 x 4, got 3/,
  );
  assert.throws(
    () => regionPerturbation(forward, x, saliency, target, { patch: 2, regions: 5 }),
    /regions must be 1 to 4 \(the 2 x 2 regions\), got 5/,
  );
});

const infidelityReference: {
  cases: Record<string, {
    input_shape: number[];
    saliency: number[][][];
    targets: number[];
    attr_key: number;
    perturb_key: number;
    samples: number;
    runs: { attribution: "pixel-map" | "full"; normalize: boolean; infidelity: number[] }[];
  }>;
} = JSON.parse(
  Deno.readTextFileSync(new URL("./fixtures/faith/infidelity.json", import.meta.url)),
);

for (const [name, c] of Object.entries(infidelityReference.cases)) {
  Deno.test(`infidelity: ${name} equals the reference (Captum's definition; pixel map and full attribution; normalize off and on)`, () => {
    const model = closedFormModel(name);
    tidy(() => {
      const f = models.formula;
      const x = closedForm(f, c.input_shape, f.inputKey + 1, 0, 1).to(device);
      const full = closedForm(f, c.input_shape, c.attr_key, 0, 0.1).to(device);
      const perturbations = closedForm(f, [c.samples, ...c.input_shape], c.perturb_key, 0, 0.01)
        .to(device);
      const saliency = tensor(c.saliency, { device });
      const target = tensor(c.targets, { dtype: "int64", device });
      for (const run of c.runs) {
        const got = infidelity(
          (v) => model.forward(v),
          x,
          run.attribution === "full" ? full : saliency,
          target,
          { perturbations, normalize: run.normalize },
        );
        // normalised, what is left after fitting the scale is a small difference of large
        // sums: a looser relative tolerance (a wrong formula is off by orders of magnitude)
        assertClose(got, run.infidelity, {
          rtol: run.normalize ? 2e-2 : 1e-4,
          atol: 0,
          message: `${name} ${run.attribution} normalize ${run.normalize}`,
        });
      }
    });
  });
}

Deno.test("infidelity: an attribution that is the linear model's gradient has none; a scaled one has none once normalised", () => {
  // f(x) = sum(w * x) for class 0: f(x) - f(x - I) = sum(w * I) exactly
  tidy(() => {
    const wts = tensor([[[[1, -2], [0.5, 3]]]], { device });
    const forward = (x: Tensor) =>
      tidy(() => {
        const v = x.mul(wts).reshape([x.shape[0], -1]).sum(1).unsqueeze(1);
        return cat([v, v.mul(0)], 1);
      });
    const x = tensor([[[[0.2, 0.4], [0.6, 0.8]]]], { device });
    const target = tensor([0], { dtype: "int64", device });
    const perturbations = tensor([[[[[0.1, 0], [0, 0]]]], [[[[0, 0.2], [0, 0.1]]]]], { device });
    const exact = infidelity(forward, x, wts, target, { perturbations });
    assertClose(exact, [0], { atol: 1e-12 });
    const doubled = infidelity(forward, x, wts.mul(2), target, { perturbations });
    // u = 2 d: (2d - d)^2 = d^2, d = 0.1 and -0.4 + 0.3 = -0.1
    assertClose(doubled, [(0.01 + 0.01) / 2], { rtol: 1e-5 });
    assertClose(infidelity(forward, x, wts.mul(2), target, { perturbations, normalize: true }), [
      0,
    ], { atol: 1e-12 });
    assert.throws(
      () => infidelity(forward, x, tensor([1, 2], { device }), target),
      /attribution must be the inputs' shape \[1,1,2,2\] or a pixel map \[1,2,2\], got \[2\]/,
    );
  });
});

const sensitivityReference: {
  cases: Record<string, {
    input_shape: number[];
    targets: number[];
    delta_key: number;
    samples: number;
    sensitivity: number[];
  }>;
} = JSON.parse(
  Deno.readTextFileSync(new URL("./fixtures/faith/sensitivity.json", import.meta.url)),
);

for (const [name, c] of Object.entries(sensitivityReference.cases)) {
  Deno.test(`sensitivity-max: ${name}'s Saliency equals the reference (Captum's definition)`, () => {
    const model = closedFormModel(name);
    tidy(() => {
      const f = models.formula;
      const x = closedForm(f, c.input_shape, f.inputKey + 1, 0, 1).to(device);
      const deltas = closedForm(f, [c.samples, ...c.input_shape], c.delta_key, 0, 0.02)
        .to(device);
      const saliency = new Saliency(model);
      const got = sensitivityMax(
        (v) => saliency.attribute(v, { target: c.targets }),
        x,
        { deltas },
      );
      assertClose(got, c.sensitivity, { rtol: 1e-3, atol: 1e-6, message: name });
    });
  });
}

Deno.test("sensitivity-max: the largest relative change over the deltas; a constant explanation has none", () => {
  tidy(() => {
    const x = tensor([[[[1, 2], [3, 4]]]], { device });
    const deltas = tensor([[[[[0.1, 0], [0, 0]]]], [[[[0, 0], [0, -0.3]]]]], { device });
    // e(x) = x: ||delta|| / ||x|| = 0.3 / sqrt(30) at most
    assertClose(sensitivityMax((v) => v, x, { deltas }), [0.3 / Math.sqrt(30)], { rtol: 1e-5 });
    assertClose(sensitivityMax((v) => v.mul(0).add(1), x, { deltas }), [0], { atol: 0 });
    // an explanation of 0 divides by 1 (Captum's guard)
    assertClose(sensitivityMax((v) => v.sub(x), x, { deltas }), [0.3], { rtol: 1e-5 });
  });
});
