/**
 * The cascading model-randomisation check (src/metrics/randomisation.ts) against its PyTorch
 * reference (tests/fixtures/faith/randomisation.json, made by
 * tests/fixtures/make_faith_fixtures.py: closed-form replacement weights per layer, Spearman with
 * average ranks, skimage's SSIM written out), and its parts on cases worked out by hand.
 */

import assert from "node:assert/strict";
import { Linear, type Module, type Tensor, tensor, tidy } from "../mod.ts";
import {
  cascadingRandomisation,
  defaultRandomisationLayers,
  reinitialise,
  spearmanRows,
  ssimBatch,
} from "../src/metrics/randomisation.ts";
import { pixelSaliency } from "../src/saliency/pixel_map.ts";
import { Saliency } from "../src/saliency/saliency.ts";
import { closedForm, closedFormModel, parityModels } from "./closed_form.ts";
import { assertClose, device } from "./helpers.ts";

const reference: {
  cases: Record<string, {
    input_shape: number[];
    targets: number[];
    rand_key: number;
    layers: string[];
    spearman: number[][];
    ssim: number[][];
  }>;
} = JSON.parse(
  Deno.readTextFileSync(new URL("./fixtures/faith/randomisation.json", import.meta.url)),
);

for (const [name, c] of Object.entries(reference.cases)) {
  Deno.test(`randomisation: ${name}'s Spearman and SSIM per layer equal PyTorch's, and the weights come back`, () => {
    const model = closedFormModel(name);
    const f = parityModels.formula;
    const keys = new Map(
      parityModels.cases[name].keys.map(([k, , base, scale]) => [k, [base, scale]]),
    );
    // the reference's randomisation: closed-form values, key RAND_KEY + 100 l + j
    const layers = defaultRandomisationLayers(model);
    assert.deepEqual(layers, c.layers);
    const randomize = (path: string, m: Module) =>
      tidy(() => {
        const l = layers.indexOf(path);
        const sd = new Map<string, Tensor>();
        [...m.stateDict()].forEach(([entry, t], j) => {
          const [base, scale] = keys.get(`${path}.${entry}`)!;
          sd.set(
            entry,
            t.dtype === "int64" ? t : closedForm(f, t.shape, c.rand_key + 100 * l + j, base, scale),
          );
        });
        m.loadStateDict(sd);
      });
    const before = tidy(() => model.parameters().map((p) => [...(p.data() as Float32Array)]));
    tidy(() => {
      const x = closedForm(f, c.input_shape, f.inputKey + 1, 0, 1).to(device);
      const saliency = new Saliency(model);
      const explain = (v: Tensor) =>
        tidy(() => pixelSaliency(saliency.attribute(v, { target: c.targets })));
      const got = cascadingRandomisation(model, explain, x, { randomize, ssim: true });
      assert.deepEqual(got.layers, c.layers);
      assertClose(got.spearman.flat(), c.spearman.flat(), {
        atol: 2e-4,
        message: `${name} spearman`,
      });
      assertClose(got.ssim!.flat(), c.ssim.flat(), { atol: 2e-4, message: `${name} ssim` });
    });
    const after = tidy(() => model.parameters().map((p) => [...(p.data() as Float32Array)]));
    assert.deepEqual(after, before, "every weight is the trained model's again");
  });
}

Deno.test("randomisation: Spearman uses average ranks for ties (scipy's rankdata) and 0 for a constant map", () => {
  // a = [1, 2, 2, 3] -> ranks [1, 2.5, 2.5, 4]; b = [10, 30, 20, 40] -> [1, 3, 2, 4]
  // centred: [-1.5, 0, 0, 1.5] and [-1.5, 0.5, -0.5, 1.5]: 4.5 / sqrt(4.5 * 5) = 0.9487
  const a = new Float32Array([1, 2, 2, 3, 5, 5, 5, 5]);
  const b = new Float32Array([10, 30, 20, 40, 1, 2, 3, 4]);
  assertClose(spearmanRows(a, b, 2), [4.5 / Math.sqrt(4.5 * 5), 0], { atol: 1e-12 });
  assertClose(spearmanRows(b, b, 2), [1, 1], { atol: 1e-12 });
  assertClose(spearmanRows(b.subarray(0, 4), new Float32Array([4, 3, 2, 1]), 1), [-0.8], {
    atol: 1e-12,
  });
  assert.throws(() => spearmanRows(a, b.subarray(0, 4), 2), /8 and 4 values for 2 rows/);
});

Deno.test("randomisation: SSIM of a map with itself is 1, with its negation is low, and is scale-free", () => {
  tidy(() => {
    const m = tensor(
      [Array.from(
        { length: 8 },
        (_, i) => Array.from({ length: 8 }, (_, j) => (i * 3 + j * j) % 7),
      )],
      { device },
    );
    assertClose(ssimBatch(m, m), [1], { atol: 1e-5 });
    assertClose(ssimBatch(m, m.mul(5).add(2)), [1], { atol: 1e-5 });
    assert.ok(ssimBatch(m, m.neg())[0] < 0, "an inverted map is anti-correlated");
    assert.throws(() => ssimBatch(m.reshape([1, 4, 16]), m.reshape([1, 4, 16])), /at least 7 x 7/);
  });
});

Deno.test("randomisation: the default re-initialisation redraws weights and biases with PyTorch's bounds and resets norms", () => {
  const model = closedFormModel("resnet18-cifar-stem-32");
  try {
    tidy(() => {
      const fc = model.namedModules().find(([n]) => n === "fc")![1] as Linear;
      const oldW = fc.weight.data() as Float32Array;
      reinitialise(fc);
      const w = fc.weight.data() as Float32Array;
      const bound = 1 / Math.sqrt(fc.inFeatures);
      assert.ok(w.some((v, i) => v !== oldW[i]), "redrawn");
      assert.ok(w.every((v) => Math.abs(v) <= bound), `within 1/sqrt(${fc.inFeatures})`);
      assert.ok(Math.max(...w.map(Math.abs)) > 0.9 * bound, "spread over the bound");
      assert.ok((fc.bias!.data() as Float32Array).every((v) => Math.abs(v) <= bound));
      const bn = model.namedModules().find(([n]) => n === "bn1")![1];
      reinitialise(bn);
      const sd = bn.stateDict();
      assert.ok((sd.get("weight")!.data() as Float32Array).every((v) => v === 1));
      assert.ok((sd.get("bias")!.data() as Float32Array).every((v) => v === 0));
      assert.ok((sd.get("running_mean")!.data() as Float32Array).every((v) => v === 0));
      assert.ok((sd.get("running_var")!.data() as Float32Array).every((v) => v === 1));
    });
  } finally {
    model.dispose();
  }
});

Deno.test("randomisation: a linear model's map follows its weights, so randomising them decorrelates it", () => {
  // f(x) = W x with one output: Saliency = |W|; after re-initialisation the map is |W'|,
  // independent of |W|; a model whose map ignores the weights (explain = |x|) stays at 1
  const model = new Linear(64, 1, { bias: false }).to(device);
  tidy(() => {
    model.weight.setData(
      tensor([Array.from({ length: 64 }, (_, i) => (i - 31.5) / 10)], { device }),
    );
    const x = tensor([Array.from({ length: 64 }, (_, i) => Math.sin(i))], { device });
    const explain = (v: Tensor) => tidy(() => model.weight.mul(v.mul(0).add(1)));
    const got = cascadingRandomisation(model, explain, x, { layers: [""] });
    assert.deepEqual(got.layers, [""]);
    assert.ok(Math.abs(got.spearman[0][0]) < 0.5, `decorrelated: ${got.spearman[0][0]}`);
    const blind = cascadingRandomisation(model, (v) => v.abs(), x, { layers: [""] });
    assertClose(blind.spearman, [[1]], { atol: 1e-12 });
    assert.throws(
      () => cascadingRandomisation(model, explain, x, { layers: ["nope"] }),
      /the model has no layer "nope"/,
    );
  });
  model.dispose();
});
