/**
 * Optimizers, LR schedules and gradient clipping against PyTorch
 * (tests/fixtures/parity/optim.json, made by tests/fixtures/make_parity_fixtures.py with torch
 * 1.13): SGD, Adadelta, Adam and AdamW over a [5, 3] weight and a [3] bias with given gradients
 * for three steps, the parameters compared after every step; in the "skip" schedule the bias has
 * no gradient in step 2 and must be left alone (state and step count included), as torch does.
 * Interrupting a run with stateDict() / loadStateDict() into a new optimizer changes nothing.
 *
 * HLGM_PARITY_REPORT=1 prints the largest relative errors reached.
 */

import assert from "node:assert/strict";
import {
  Adadelta,
  type AdadeltaOptions,
  Adam,
  type AdamOptions,
  AdamW,
  clipGradNorm,
  CosineAnnealingLR,
  type Optimizer,
  SGD,
  type SGDOptions,
  StepLR,
  type Tensor,
  tensor,
  tidy,
  zeros,
} from "../mod.ts";
import { assertClose, type CloseOptions, device, onCpu } from "./helpers.ts";

interface Encoded {
  shape: number[];
  data: number[];
}

type Step = [Encoded, Encoded | null];

interface OptimCase {
  type: "SGD" | "Adadelta" | "Adam" | "AdamW";
  options: Record<string, unknown>;
  results: Record<string, [Encoded, Encoded][]>;
}

const fixture: {
  torch_version: string;
  params: [Encoded, Encoded];
  grads: Record<string, Step[]>;
  configs: Record<string, OptimCase>;
  schedulers: Record<string, { baseLr: number; lrs: number[] }>;
  clip: {
    grads: [Encoded, Encoded];
    cases: Record<
      string,
      { maxNorm: number; normType: number | "inf"; total: number; grads: [Encoded, Encoded] }
    >;
  };
} = JSON.parse(Deno.readTextFileSync(new URL("./fixtures/parity/optim.json", import.meta.url)));

const REPORT = Deno.env.get("HLGM_PARITY_REPORT") === "1";

// Elementwise float32 updates in torch.optim's op order: agreement to rounding (CPU: the same
// kernels as PyTorch's).
const TOL: CloseOptions = onCpu ? { rtol: 1e-6, atol: 1e-7 } : { rtol: 1e-5, atol: 1e-6 };

function decode(e: Encoded): Tensor {
  return tensor(Float32Array.from(e.data), { shape: e.shape, device });
}

/** Fresh copies of the initial parameters, requiring grad. */
function initialParams(): [Tensor, Tensor] {
  return tidy(() => {
    const [w, b] = fixture.params.map((e) => decode(e).requiresGrad_());
    return [w, b];
  });
}

function makeOptimizer(c: OptimCase, params: Tensor[]): Optimizer {
  switch (c.type) {
    case "SGD":
      return new SGD(params, c.options as unknown as SGDOptions);
    case "Adadelta":
      return new Adadelta(params, c.options as AdadeltaOptions);
    case "Adam":
      return new Adam(params, c.options as AdamOptions);
    case "AdamW":
      return new AdamW(params, c.options as AdamOptions);
  }
}

/** Sets the step's gradients (null: no gradient) and steps. */
function step(opt: Optimizer, [w, b]: Tensor[], [gw, gb]: Step): void {
  tidy(() => {
    w.grad = decode(gw);
    b.grad = gb ? decode(gb) : null;
    opt.step();
  });
}

function values(t: Tensor): number[] {
  return Array.from(t.to("float64").data() as Float64Array);
}

function expectParams(params: Tensor[], expected: [Encoded, Encoded], what: string): void {
  params.forEach((p, i) => {
    const e = expected[i];
    assert.deepEqual(p.shape, e.shape);
    const a = values(p);
    if (REPORT) {
      const rel = Math.max(
        ...a.map((v, j) => Math.abs(v - e.data[j]) / Math.max(Math.abs(e.data[j]), 1e-3)),
      );
      console.log(`  ${what} ${i ? "bias" : "weight"}: max rel err ${rel.toExponential(2)}`);
    }
    assertClose(a, e.data, { ...TOL, message: `${what}, ${i ? "bias" : "weight"}` });
  });
}

Deno.test("optim fixture is present and from PyTorch", () => {
  assert.match(fixture.torch_version, /^1\.13/);
  assert.equal(Object.keys(fixture.configs).length, 19);
  const skip = fixture.grads.skip;
  assert.equal(skip[1][1], null, "the skip schedule has no bias gradient in step 2");
});

for (const [name, c] of Object.entries(fixture.configs)) {
  for (const schedule of ["full", "skip"]) {
    Deno.test(`${name} (${schedule}): parameters after every step match torch.optim.${c.type}`, () => {
      if (REPORT) console.log(`${name} ${schedule}`);
      const params = initialParams();
      const opt = makeOptimizer(c, params);
      try {
        fixture.grads[schedule].forEach((g, i) => {
          const before = schedule === "skip" && i === 1 ? values(params[1]) : null;
          step(opt, params, g);
          if (before) assert.deepEqual(values(params[1]), before, "bias without grad untouched");
          expectParams(params, c.results[schedule][i], `step ${i + 1}`);
        });
      } finally {
        opt.dispose();
        params.forEach((p) => p.dispose());
      }
    });
  }

  Deno.test(`${name}: stateDict -> new optimizer -> loadStateDict resumes exactly`, () => {
    for (const schedule of ["full", "skip"]) {
      for (const cut of [1, 2]) {
        const grads = fixture.grads[schedule];
        // Uninterrupted.
        const a = initialParams();
        const optA = makeOptimizer(c, a);
        // Interrupted after `cut` steps: a new optimizer gets the saved state.
        const b = initialParams();
        const optB1 = makeOptimizer(c, b);
        const optB2 = makeOptimizer(c, b);
        try {
          grads.forEach((g) => step(optA, a, g));
          grads.slice(0, cut).forEach((g) => step(optB1, b, g));
          tidy(() => {
            const state = optB1.stateDict();
            assert.equal(state.type, c.type);
            optB2.loadStateDict(state);
            for (const t of state.tensors.values()) t.dispose(); // optB2 holds copies
          });
          optB1.dispose(); // the new optimizer does not depend on the old one
          grads.slice(cut).forEach((g) => step(optB2, b, g));
          const what = `${schedule}, cut after step ${cut}`;
          assert.deepEqual(values(b[0]), values(a[0]), `${what}: weight`);
          assert.deepEqual(values(b[1]), values(a[1]), `${what}: bias`);
          expectParams(b, c.results[schedule][2], `${what} vs PyTorch`);
          // Saved counters survive too.
          assert.deepEqual(optB2.stateDict().steps, optA.stateDict().steps, `${what}: steps`);
        } finally {
          for (const o of [optA, optB1, optB2]) o.dispose();
          for (const p of [...a, ...b]) p.dispose();
        }
      }
    }
  });
}

Deno.test("Adam's per-parameter step counts skip a parameter without gradient", () => {
  const params = initialParams();
  const opt = new Adam(params);
  try {
    fixture.grads.skip.forEach((g) => step(opt, params, g));
    tidy(() => {
      const state = opt.stateDict();
      assert.deepEqual(state.steps, [3, 2]);
      assert.deepEqual([...state.tensors.keys()].sort(), [
        "0.exp_avg",
        "0.exp_avg_sq",
        "1.exp_avg",
        "1.exp_avg_sq",
      ]);
    });
  } finally {
    opt.dispose();
    params.forEach((p) => p.dispose());
  }
});

Deno.test("loadStateDict rejects another optimizer type or parameter count", () => {
  const params = initialParams();
  const sgd = new SGD(params, { lr: 0.1, momentum: 0.9 });
  const adam = new Adam(params);
  const single = new SGD([params[0]], { lr: 0.1, momentum: 0.9 });
  try {
    step(sgd, params, fixture.grads.full[0]);
    tidy(() => {
      const state = sgd.stateDict();
      assert.throws(() => adam.loadStateDict(state), /SGD, not Adam/);
      assert.throws(() => single.loadStateDict(state), /2 parameters/);
    });
  } finally {
    for (const o of [sgd, adam, single]) o.dispose();
    params.forEach((p) => p.dispose());
  }
});

// ---- LR schedules ----

const SCHEDULERS: Record<string, (opt: SGD) => { step(): void }> = {
  step_lr_3_05: (opt) => new StepLR(opt, 3, 0.5),
  step_lr_1_default_gamma: (opt) => new StepLR(opt, 1),
  cosine_10_min1e3: (opt) => new CosineAnnealingLR(opt, 10, 1e-3),
  cosine_4: (opt) => new CosineAnnealingLR(opt, 4),
};

for (const [name, make] of Object.entries(SCHEDULERS)) {
  Deno.test(`${name}: lr over 10 epochs matches torch.optim.lr_scheduler`, () => {
    const e = fixture.schedulers[name];
    const p = zeros([1], { device });
    const opt = new SGD([p], { lr: e.baseLr });
    try {
      const sched = make(opt);
      const lrs = [opt.lr];
      for (let epoch = 0; epoch < 10; epoch++) {
        sched.step();
        lrs.push(opt.lr);
      }
      assertClose(lrs, e.lrs, { rtol: 1e-12, atol: 1e-15, message: name });
    } finally {
      opt.dispose();
      p.dispose();
    }
  });
}

Deno.test("LR schedules resume from lastEpoch", () => {
  const p = zeros([1], { device });
  const opt = new SGD([p], { lr: 0.1 });
  try {
    const e = fixture.schedulers.cosine_10_min1e3;
    const resumed = new CosineAnnealingLR(opt, 10, 1e-3, 4);
    assertClose([opt.lr], [e.lrs[4]], { rtol: 1e-12 });
    resumed.step();
    assertClose([opt.lr], [e.lrs[5]], { rtol: 1e-12 });
  } finally {
    opt.dispose();
    p.dispose();
  }
});

// ---- clipGradNorm ----

for (const [name, c] of Object.entries(fixture.clip.cases)) {
  Deno.test(`clipGradNorm (${name}) matches torch.nn.utils.clip_grad_norm_`, () => {
    const params = [zeros([4, 3], { device }), zeros([5], { device })];
    try {
      tidy(() => {
        params.forEach((p, i) => {
          p.requiresGrad = true;
          p.grad = decode(fixture.clip.grads[i]);
        });
        const normType = c.normType === "inf" ? Infinity : c.normType;
        const total = clipGradNorm(params, c.maxNorm, normType);
        if (REPORT) console.log(`  total ${total} vs ${c.total}`);
        assertClose([total], [c.total], { rtol: 1e-6, message: "total norm" });
        params.forEach((p, i) => {
          assertClose(values(p.grad!), c.grads[i].data, { ...TOL, message: `grad ${i}` });
        });
      });
    } finally {
      params.forEach((p) => p.dispose());
    }
  });
}

Deno.test("clipGradNorm skips parameters without gradient", () => {
  const a = zeros([2], { device });
  const b = zeros([2], { device });
  try {
    tidy(() => {
      a.requiresGrad = true;
      b.requiresGrad = true;
      a.grad = tensor([3, 4], { device });
      assertClose([clipGradNorm([a, b], 1)], [5], { rtol: 1e-6 });
      assertClose(values(a.grad!), [0.6, 0.8], { rtol: 1e-5 });
      assert.equal(b.grad, null);
    });
  } finally {
    a.dispose();
    b.dispose();
  }
});
