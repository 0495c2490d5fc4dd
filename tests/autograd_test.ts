/**
 * Autograd: requiresGrad, backward, gradient accumulation, grad() against analytic and
 * finite-difference derivatives, retained and higher-order graphs, noGrad, detach, allowUnused.
 */

import assert from "node:assert/strict";
import {
  enableGrad,
  grad,
  isGradEnabled,
  noGrad,
  ones,
  randn,
  type Tensor,
  tensor,
  tidy,
} from "../mod.ts";
import { assertClose, device } from "./helpers.ts";

const leaf = (data: number[] | number[][], dtype: "float32" | "float64" = "float32") =>
  tensor(data, { device, dtype, requiresGrad: true });

Deno.test("requiresGrad: set at creation, propagated to results, isLeaf", () => {
  tidy(() => {
    const x = leaf([1, 2, 3]);
    const c = tensor([1, 1, 1], { device });
    assert.equal(x.requiresGrad, true);
    assert.equal(x.isLeaf, true);
    assert.equal(c.requiresGrad, false);
    const y = x.mul(c).add(1);
    assert.equal(y.requiresGrad, true);
    assert.equal(y.isLeaf, false);
    assert.equal(c.add(1).requiresGrad, false);
    c.requiresGrad = true;
    assert.equal(c.requiresGrad, true);
    assert.equal(c.requiresGrad_(false), c);
    assert.equal(c.requiresGrad, false);
    assert.equal(randn([2], { device, requiresGrad: true }).requiresGrad, true);
    assert.equal(ones([2], { device, requiresGrad: true }).requiresGrad, true);
    assert.equal(x.grad, null, "no gradient before backward");
  });
});

Deno.test("only floating tensors can require grad", () => {
  tidy(() => {
    const i = tensor([1, 2], { device, dtype: "int64" });
    assert.throws(() => {
      i.requiresGrad = true;
    }, { name: "TorchError", message: /^requiresGrad: .*floating point/ });
    assert.equal(i.requiresGrad, false);
    const b = tensor([true], { device });
    assert.throws(() => b.requiresGrad_(), { name: "TorchError" });
  });
});

Deno.test("backward of a scalar fills leaf .grad with the analytic gradient", () => {
  tidy(() => {
    const x = leaf([1, -2, 3]);
    const w = leaf([0.5, 0.25, 2]);
    // L = sum(w * x^2) -> dL/dx = 2 w x, dL/dw = x^2
    x.square().mul(w).sum().backward();
    assertClose(x.grad!.toArray(), [1, -1, 12]);
    assertClose(w.grad!.toArray(), [1, 4, 9]);
    assert.equal(x.grad!.requiresGrad, false);
    assert.deepEqual(x.grad!.shape, [3]);
  });
});

Deno.test("backward of a non-scalar needs an explicit gradient, which weights the result", () => {
  tidy(() => {
    const x = leaf([1, 2, 3]);
    const y = x.mul(x).mul(3); // dy_i/dx_i = 6 x_i
    assert.throws(() => y.backward(undefined, { retainGraph: true }), {
      name: "TorchError",
      message: /^backward: grad can be implicitly created only for scalar outputs/,
    });
    y.backward(tensor([1, 0.5, -2], { device }));
    assertClose(x.grad!.toArray(), [6, 6, -36]);
  });
});

Deno.test(".grad accumulates over two backward calls; zeroGrad clears it", () => {
  tidy(() => {
    const x = leaf([1, 2]);
    x.mul(3).sum().backward();
    assertClose(x.grad!.toArray(), [3, 3]);
    x.square().sum().backward();
    assertClose(x.grad!.toArray(), [5, 7]); // 3 + 2x
    x.zeroGrad();
    assert.equal(x.grad, null);
    x.mul(-1).sum().backward();
    assertClose(x.grad!.toArray(), [-1, -1]);
    // .grad can be replaced and cleared through the setter
    x.grad = tensor([10, 20], { device });
    assertClose(x.grad!.toArray(), [10, 20]);
    x.sum().backward();
    assertClose(x.grad!.toArray(), [11, 21]);
    x.grad = null;
    assert.equal(x.grad, null);
  });
});

Deno.test("grad(outputs, inputs) matches analytic partial derivatives", () => {
  tidy(() => {
    const xv = [0.3, -1.2, 2.0];
    const yv = [1.5, 0.7, -0.4];
    const x = leaf(xv);
    const y = leaf(yv);
    // f = sum(sin(x) * y + exp(x * y))
    const f = x.sin().mul(y).add(x.mul(y).exp()).sum();
    const [gx, gy] = grad(f, [x, y]);
    assertClose(
      gx!.toArray(),
      xv.map((a, i) => Math.cos(a) * yv[i] + yv[i] * Math.exp(a * yv[i])),
      {
        rtol: 1e-5,
      },
    );
    assertClose(gy!.toArray(), xv.map((a, i) => Math.sin(a) + a * Math.exp(a * yv[i])), {
      rtol: 1e-5,
    });
    assert.equal(x.grad, null, "grad() does not touch .grad");
    assert.equal(y.grad, null);
  });
});

Deno.test("grad() through matmul, softmax and log: analytic gradient of cross-entropy", () => {
  tidy(() => {
    const logits = leaf([[2, 1, 0.1], [0.5, 2.5, -1]]);
    const target = tensor([[1, 0, 0], [0, 0, 1]], { device });
    // L = -sum(target * log_softmax(logits)) / N -> dL/dz = (softmax(z) - target) / N
    const loss = logits.logSoftmax(1).mul(target).sum().neg().div(2);
    const [g] = grad(loss, logits);
    const sm = (row: number[]) => {
      const e = row.map(Math.exp);
      const s = e.reduce((a, b) => a + b);
      return e.map((v) => v / s);
    };
    const rows = [[2, 1, 0.1], [0.5, 2.5, -1]];
    const tg = [[1, 0, 0], [0, 0, 1]];
    assertClose(g!.toArray(), rows.map((r, i) => sm(r).map((p, j) => (p - tg[i][j]) / 2)));
  });
});

Deno.test("grad() with gradOutputs weights each output", () => {
  tidy(() => {
    const x = leaf([1, 2, 3]);
    const y1 = x.mul(2); // vector
    const y2 = x.square().sum(); // scalar
    const [g] = grad([y1, y2], x, { gradOutputs: [tensor([1, 0, -1], { device }), null] });
    assertClose(g!.toArray(), [2 + 2, 0 + 4, -2 + 6]);
    assert.throws(() => grad([y1], x, { gradOutputs: [] }), RangeError);
  });
});

// f(v) = sum(tanh(A v) * v) + (v . v)^1.5 in float64, checked by central differences.
function fd(a: number[][], v: number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    let av = 0;
    for (let j = 0; j < v.length; j++) av += a[i][j] * v[j];
    s += Math.tanh(av) * v[i];
  }
  return s + Math.pow(v.reduce((acc, x) => acc + x * x, 0), 1.5);
}

Deno.test("grad() agrees with a float64 central finite-difference check", () => {
  tidy(() => {
    const a = [[0.2, -0.5, 1.0], [0.7, 0.1, -0.3], [-0.4, 0.9, 0.6]];
    const v0 = [0.3, -0.8, 0.5];
    const A = tensor(a, { device, dtype: "float64" });
    const v = leaf(v0, "float64");
    const f = A.matmul(v).tanh().mul(v).sum().add(v.square().sum().pow(1.5));
    assertClose(f.item(), fd(a, v0), { rtol: 1e-12 });
    const [g] = grad(f, v);
    assert.equal(g!.dtype, "float64");
    const h = 1e-6;
    const numeric = v0.map((_, i) => {
      const plus = v0.slice();
      const minus = v0.slice();
      plus[i] += h;
      minus[i] -= h;
      return (fd(a, plus) - fd(a, minus)) / (2 * h);
    });
    assertClose(g!.toArray(), numeric, { rtol: 1e-7, atol: 1e-8 });
  });
});

Deno.test("a second backward without retainGraph throws a clear TorchError", () => {
  tidy(() => {
    const x = leaf([1, 2]);
    const y = x.exp().sum();
    y.backward();
    assert.throws(() => y.backward(), {
      name: "TorchError",
      message: /^backward: Trying to backward through the graph a second time/,
    });
    // The process is fine afterwards.
    assertClose(x.grad!.toArray(), [Math.E, Math.E ** 2]);
    const z = x.exp().sum();
    const [g] = grad(z, x);
    assertClose(g!.toArray(), [Math.E, Math.E ** 2]);
    assert.throws(() => grad(z, x), { name: "TorchError", message: /^grad: .*second time/ });
  });
});

Deno.test("retainGraph allows a second backward that accumulates again", () => {
  tidy(() => {
    const x = leaf([1, 2]);
    const y = x.exp().sum();
    y.backward(undefined, { retainGraph: true });
    y.backward();
    assertClose(x.grad!.toArray(), [2 * Math.E, 2 * Math.E ** 2], { rtol: 1e-6 });
    const z = x.square().sum();
    grad(z, x, { retainGraph: true });
    const [g] = grad(z, x);
    assertClose(g!.toArray(), [2, 4]);
  });
});

Deno.test("createGraph: the second derivative of x^3 is 6x", () => {
  tidy(() => {
    const xv = [-1.5, 0.5, 2];
    const x = leaf(xv);
    const y = x.pow(3).sum();
    const [g] = grad(y, x, { createGraph: true });
    assert.equal(g!.requiresGrad, true, "first derivative is itself differentiable");
    assertClose(g!.toArray(), xv.map((v) => 3 * v * v));
    const [g2] = grad(g!.sum(), x);
    assertClose(g2!.toArray(), xv.map((v) => 6 * v));
    // Same through backward(createGraph) then backward on the gradient.
    const x2 = leaf(xv);
    x2.pow(3).sum().backward(undefined, { createGraph: true });
    const first = x2.grad!;
    assert.equal(first.requiresGrad, true);
    const [second] = grad(first.sum(), x2);
    assertClose(second!.toArray(), xv.map((v) => 6 * v));
    x2.grad = null; // break the parameter <-> gradient reference cycle createGraph makes
    // Without createGraph the gradient is a constant.
    const [plain] = grad(leaf(xv).pow(3).sum(), x2, { allowUnused: true });
    assert.equal(plain, null);
  });
});

Deno.test("noGrad: results do not require grad; grad mode is restored", () => {
  tidy(() => {
    const x = leaf([1, 2]);
    assert.equal(isGradEnabled(), true);
    const y = noGrad(() => {
      assert.equal(isGradEnabled(), false);
      const inner = enableGrad(() => {
        assert.equal(isGradEnabled(), true);
        return x.mul(2);
      });
      assert.equal(inner.requiresGrad, true);
      assert.equal(isGradEnabled(), false);
      return x.mul(3).add(1);
    });
    assert.equal(y.requiresGrad, false);
    assert.deepEqual(y.toArray(), [4, 7]);
    assert.equal(isGradEnabled(), true);
    assert.equal(x.mul(3).requiresGrad, true);
    // In-place updates of a leaf are allowed under noGrad (as an optimizer step does).
    noGrad(() => x.sub_(tensor([0.5, 0.5], { device })));
    assert.deepEqual(x.toArray(), [0.5, 1.5]);
    assert.equal(x.requiresGrad, true);
    assert.throws(() => x.sub_(tensor([0.5, 0.5], { device })), { name: "TorchError" });
  });
});

Deno.test("noGrad restores grad mode after the function throws", () => {
  tidy(() => {
    assert.throws(
      () =>
        noGrad(() => {
          assert.equal(isGradEnabled(), false);
          throw new Error("boom");
        }),
      /boom/,
    );
    assert.equal(isGradEnabled(), true);
    const x = leaf([1, 2]);
    assert.equal(x.mul(2).requiresGrad, true);
    // Also when libtorch throws inside.
    assert.throws(() => noGrad(() => x.add(tensor([1, 2, 3], { device }))), {
      name: "TorchError",
    });
    assert.equal(isGradEnabled(), true);
    // And enableGrad inside noGrad restores "off".
    noGrad(() => {
      assert.throws(() =>
        enableGrad(() => {
          throw new Error("inner");
        })
      );
      assert.equal(isGradEnabled(), false);
    });
    assert.equal(isGradEnabled(), true);
  });
});

Deno.test("noGrad/enableGrad reject async functions", async () => {
  let err: unknown;
  try {
    noGrad(() => Promise.resolve(1) as unknown as number);
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof TypeError);
  assert.equal(isGradEnabled(), true);
  await Promise.resolve();
});

Deno.test("detach shares storage but cuts the graph", () => {
  tidy(() => {
    const x = leaf([1, 2, 3]);
    const d = x.detach();
    assert.equal(d.requiresGrad, false);
    assert.equal(d.isLeaf, true);
    assert.deepEqual(d.toArray(), [1, 2, 3]);
    // y = x * detach(x): gradient treats the detached factor as a constant -> dy/dx = x
    const [g] = grad(x.mul(d).sum(), x);
    assertClose(g!.toArray(), [1, 2, 3]);
    // shared storage: writes through the detached tensor are visible in x
    d.mul_(2);
    assert.deepEqual(x.toArray(), [2, 4, 6]);
    // A graph made only of detached values does not reach x.
    assert.throws(() => grad(d.mul(2).sum(), x), { name: "TorchError" });
  });
});

Deno.test("allowUnused returns null for inputs the outputs do not depend on", () => {
  tidy(() => {
    const x = leaf([1, 2]);
    const z = leaf([5, 6]);
    const y = x.square().sum();
    assert.throws(() => grad(y, [x, z], { retainGraph: true }), {
      name: "TorchError",
      message: /^grad: input 1 \(of 2\) was not used to compute the outputs/,
    });
    const [gx, gz] = grad(y, [x, z], { allowUnused: true });
    assertClose(gx!.toArray(), [2, 4]);
    assert.equal(gz, null);
  });
});

Deno.test("gradients flow through shape ops, indexing and reductions", () => {
  tidy(() => {
    const x = leaf([[1, 2, 3], [4, 5, 6]]);
    // y = sum over column 1 and row 0 picks; max over rows picks the argmax
    const picked = x.select(1, 1).sum().add(x.narrow(0, 0, 1).sum());
    const mx = x.max(1).values.sum();
    const t: Tensor = x.transpose(0, 1).reshape(6).mul(tensor([1, 2, 3, 4, 5, 6], { device }))
      .sum();
    const [g] = grad(picked.add(mx).add(t), x);
    // picked: [[1,2,1],[0,1,0]]; max: [[0,0,1],[0,0,1]]; t: x^T flattened weights ->
    // x[0][0]*1 + x[1][0]*2 + x[0][1]*3 + x[1][1]*4 + x[0][2]*5 + x[1][2]*6
    assertClose(g!.toArray(), [[1 + 0 + 1, 2 + 0 + 3, 1 + 1 + 5], [
      0 + 0 + 2,
      1 + 0 + 4,
      0 + 1 + 6,
    ]]);
  });
});

Deno.test("requiresGrad = false on a non-leaf tensor is an error, as in PyTorch", () => {
  tidy(() => {
    const x = tensor([1, 2], { device, requiresGrad: true });
    const y = x.mul(2);
    assert.throws(() => {
      y.requiresGrad = false;
    }, /only be turned off on leaf tensors; use detach\(\)/);
    assert.equal(y.requiresGrad, true);
    x.requiresGrad = false; // a leaf may
    assert.equal(x.requiresGrad, false);
  });
});
