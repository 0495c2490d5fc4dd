/**
 * The closed-form weights and inputs the model fixtures use (tests/fixtures/make_parity_fixtures.py
 * sets them in PyTorch; the fixtures do not store weights), and the gradient summaries they
 * compare: shared by tests/models_test.ts, tests/amp_test.ts and the faithfulness tests.
 */

import assert from "node:assert/strict";
import { arange, createModel, full, type Model, type Tensor, tidy, zeros } from "../mod.ts";
import { device } from "./helpers.ts";

/** The formula's constants, as the fixture records them. */
export interface ClosedFormula {
  prime: number;
  freq: number;
  keyPhase: number;
  keyMult: number;
  inputKey: number;
}

/** int64 scalar tensor (scalar arithmetic on int64 tensors with JS numbers promotes to float). */
function int64(v: number): Tensor {
  return full([], v, { dtype: "int64" });
}

/** base + scale * sin(freq * ((i * (i + keyMult k + 1)) mod prime) + keyPhase k), as float32. */
export function closedForm(
  formula: ClosedFormula,
  shape: readonly number[],
  k: number,
  base: number,
  scale: number,
): Tensor {
  const { prime, freq, keyPhase, keyMult } = formula;
  return tidy(() => {
    const n = shape.reduce((a, b) => a * b, 1);
    const i = arange(0, n, 1, { dtype: "int64" });
    const h = i.mul(i.add(int64(keyMult * k + 1))).remainder(int64(prime));
    assert.equal(h.dtype, "int64");
    return h.to("float64").mul(freq).add(keyPhase * k).sin().mul(scale).add(base).to("float32")
      .reshape(shape);
  });
}

/** Loads the closed-form state (the fixture's [key, shape, base, scale] list) strictly. */
export function loadClosedForm(
  formula: ClosedFormula,
  model: Model,
  keys: readonly [string, number[], number, number][],
): void {
  tidy(() => {
    const own = model.stateDict();
    const sd = new Map<string, Tensor>();
    keys.forEach(([name, shape, base, scale], k) => {
      sd.set(
        name,
        own.get(name)?.dtype === "int64"
          ? zeros(shape, { dtype: "int64" })
          : closedForm(formula, shape, k, base, scale),
      );
    });
    model.loadStateDict(sd);
  });
}

/** tests/fixtures/parity/models.json: the formula, and per model its options and state keys. */
export const parityModels: {
  formula: ClosedFormula;
  cases: Record<string, {
    options: { name: string } & Record<string, unknown>;
    keys: [string, number[], number, number][];
  }>;
} = JSON.parse(
  Deno.readTextFileSync(new URL("./fixtures/parity/models.json", import.meta.url)),
);

/** The parity fixtures' model `name` with its closed-form weights, on the test device, in eval mode. */
export function closedFormModel(name: string): Model {
  const m = parityModels.cases[name];
  const { name: modelName, ...options } = m.options;
  const model: Model = createModel(modelName, options).to(device);
  loadClosedForm(parityModels.formula, model, m.keys);
  model.eval();
  return model;
}

function sampleIndices(n: number): number[] {
  const idx = [0, Math.floor(n / 7), Math.floor(n / 3), Math.floor((2 * n) / 3), n - 1];
  return [...new Set(idx)].sort((a, b) => a - b);
}

/** [sum, sum |t|, max |t|, t at the sample indices], in float64. */
export function summary(t: Tensor): number[] {
  return tidy(() => {
    const d = t.to("float64").flatten();
    const abs = d.abs();
    return [
      d.sum().item(),
      abs.sum().item(),
      abs.max().item(),
      ...sampleIndices(d.numel()).map((i) => d.select(0, i).item()),
    ];
  });
}

/**
 * The worst error of a summary relative to the tensor's own scale: the sum against sum |g|,
 * sum |g| and max |g| relatively, the sampled elements against max |g|.
 */
export function summaryError(actual: number[], expected: number[], what: string): number {
  assert.equal(actual.length, expected.length, `${what}: summary length`);
  const [, absSum, maxAbs] = expected;
  const tiny = 1e-30;
  return Math.max(...actual.map((a, i) => {
    const scale = i === 0 || i === 1 ? absSum : maxAbs;
    return Math.abs(a - expected[i]) / (scale + tiny);
  }));
}
