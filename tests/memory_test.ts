/**
 * Memory management: dispose, `using`, use-after-dispose errors, tidy scopes (returned values,
 * keep, errors, nesting) and the live-tensor / native-handle / byte counters.
 *
 * Every test here is synchronous, so no FinalizationRegistry callback (which could free tensors
 * leaked by other tests) can run between a test's two memory() readings.
 */

import assert from "node:assert/strict";
import {
  conv2d,
  grad,
  keep,
  memory,
  ones,
  randn,
  stack,
  type Tensor,
  tensor,
  tidy,
  zeros,
} from "../mod.ts";
import { device } from "./helpers.ts";

const DISPOSED = { name: "Error", message: /this Tensor was disposed/ };

Deno.test("dispose frees the handle and updates every counter by exactly one tensor", () => {
  const before = memory();
  const t = zeros([256], { device });
  const during = memory();
  assert.equal(during.liveTensors, before.liveTensors + 1);
  assert.equal(during.nativeHandles, before.nativeHandles + 1);
  assert.equal(during.bytes, before.bytes + 256 * 4);
  assert.equal(t.isDisposed, false);
  t.dispose();
  assert.equal(t.isDisposed, true);
  assert.deepEqual(memory(), before);
});

Deno.test("byte counter: dtype sizes and views count their own elements", () => {
  tidy(() => {
    const before = memory().bytes;
    const f64 = zeros([10], { device, dtype: "float64" });
    assert.equal(memory().bytes, before + 80);
    const i8 = zeros([10], { device, dtype: "uint8" });
    assert.equal(memory().bytes, before + 90);
    const view = f64.narrow(0, 0, 3);
    assert.equal(memory().bytes, before + 90 + 24);
    view.dispose();
    i8.dispose();
    f64.dispose();
    assert.equal(memory().bytes, before);
  });
});

Deno.test("double dispose is harmless and counts once", () => {
  const before = memory();
  const t = ones([3], { device });
  t.dispose();
  t.dispose();
  t[Symbol.dispose]();
  assert.deepEqual(memory(), before);
  assert.equal(t.toString(), "Tensor(disposed)");
});

Deno.test("`using` disposes at the end of the block", () => {
  const before = memory();
  let escaped: Tensor;
  {
    using t = tensor([1, 2, 3], { device });
    using u = t.mul(2);
    escaped = u;
    assert.deepEqual(u.toArray(), [2, 4, 6]);
    assert.equal(memory().liveTensors, before.liveTensors + 2);
  }
  assert.equal(escaped.isDisposed, true);
  assert.deepEqual(memory(), before);
});

Deno.test("`using` disposes even when the block throws", () => {
  const before = memory();
  let inner: Tensor | undefined;
  assert.throws(() => {
    using t = tensor([1], { device });
    inner = t;
    throw new Error("boom");
  }, /boom/);
  assert.equal(inner!.isDisposed, true);
  assert.deepEqual(memory(), before);
});

Deno.test("use after dispose throws a JS Error for metadata, host reads, ops and arguments", () => {
  const before = memory();
  const x = tensor([[1, 2], [3, 4]], { device, requiresGrad: true });
  const w = ones([1, 1, 1, 1], { device });
  x.dispose();
  w.dispose();
  tidy(() => {
    const other = tensor([[1, 1], [1, 1]], { device });
    assert.throws(() => x.handle, DISPOSED);
    assert.throws(() => x.shape, DISPOSED);
    assert.throws(() => x.dtype, DISPOSED);
    assert.throws(() => x.toArray(), DISPOSED);
    assert.throws(() => x.data(), DISPOSED);
    assert.throws(() => x.item(), DISPOSED);
    assert.throws(() => x.add(1), DISPOSED);
    assert.throws(() => x.matmul(other), DISPOSED);
    assert.throws(() => x.sum(), DISPOSED);
    assert.throws(() => x.reshape(4), DISPOSED);
    assert.throws(() => x.to("float64"), DISPOSED);
    assert.throws(() => x.requiresGrad, DISPOSED);
    assert.throws(() => x.grad, DISPOSED);
    assert.throws(() => x.backward(), DISPOSED);
    assert.throws(() => x.add_(1), DISPOSED);
    // as an argument
    assert.throws(() => other.add(x), DISPOSED);
    assert.throws(() => other.copy_(x), DISPOSED);
    assert.throws(() => stack([other, x]), DISPOSED);
    assert.throws(() => conv2d(other.reshape(1, 1, 2, 2), w), DISPOSED);
    assert.throws(() => grad(other.sum(), x), DISPOSED);
    // the process still works
    assert.deepEqual(other.add(1).toArray(), [[2, 2], [2, 2]]);
  });
  assert.deepEqual(memory(), before);
});

Deno.test("tidy frees intermediates and keeps the returned tensor", () => {
  const before = memory();
  const kept: Tensor[] = [];
  const result = tidy(() => {
    const a = tensor([1, 2, 3], { device });
    const b = a.mul(2);
    const c = b.add(1);
    kept.push(a, b);
    assert.equal(memory().liveTensors, before.liveTensors + 3);
    assert.equal(memory().scopeDepth, before.scopeDepth + 1);
    return c;
  });
  assert.equal(kept[0].isDisposed, true);
  assert.equal(kept[1].isDisposed, true);
  assert.equal(result.isDisposed, false);
  assert.deepEqual(result.toArray(), [3, 5, 7]);
  assert.equal(memory().liveTensors, before.liveTensors + 1);
  assert.equal(memory().nativeHandles, before.nativeHandles + 1);
  assert.equal(memory().scopeDepth, before.scopeDepth);
  result.dispose();
  assert.deepEqual(memory(), before);
});

Deno.test("tidy returns a large array of numbers (searched without spreading it onto the stack)", () => {
  const before = memory();
  const values = tidy(() => {
    const t = tensor([1, 2, 3], { device }).mul(2);
    return { all: Array.from({ length: 2_000_000 }, (_, i) => i % 7), t: [t.sum().item()] };
  });
  assert.equal(values.all.length, 2_000_000);
  assert.deepEqual(values.t, [12]);
  assert.deepEqual(memory(), before);
});

Deno.test("tidy searches arrays, nested objects, Maps and Sets in the returned value", () => {
  const before = memory();
  const made: Tensor[] = [];
  const mk = (v: number) => {
    const t = tensor([v], { device });
    made.push(t);
    return t;
  };
  const out = tidy(() => {
    mk(0); // dropped
    const values = { a: [mk(1), { b: mk(2), c: [[mk(3)]] }], n: 5, s: "x" };
    const m = new Map([["k", mk(4)]]);
    const s = new Set([mk(5)]);
    const pair = randn([2, 3], { device }).max(1); // { values, indices }: both kept
    mk(6); // dropped
    return { values, m, s, pair };
  });
  assert.deepEqual(made.map((t) => t.isDisposed), [true, false, false, false, false, false, true]);
  assert.equal(out.pair.values.isDisposed, false);
  assert.equal(out.pair.indices.isDisposed, false);
  assert.equal((out.values.a[0] as Tensor).isDisposed, false);
  assert.deepEqual((out.values.a[1] as { c: Tensor[][] }).c[0][0].toArray(), [3]);
  assert.deepEqual(out.m.get("k")!.toArray(), [4]);
  assert.equal(memory().liveTensors, before.liveTensors + 7);
  for (const t of made) t.dispose();
  out.pair.values.dispose();
  out.pair.indices.dispose();
  assert.deepEqual(memory(), before);
});

Deno.test("keep() makes a tensor survive its tidy scope (and enclosing ones)", () => {
  const before = memory();
  let kept: Tensor | undefined;
  let dropped: Tensor | undefined;
  tidy(() => {
    tidy(() => {
      kept = keep(tensor([1, 2], { device }).mul(3));
      dropped = tensor([0], { device });
    });
    assert.equal(dropped!.isDisposed, true);
    assert.equal(kept!.isDisposed, false);
  });
  assert.equal(kept!.isDisposed, false);
  assert.deepEqual(kept!.toArray(), [3, 6]);
  assert.equal(memory().liveTensors, before.liveTensors + 1);
  kept!.dispose();
  assert.deepEqual(memory(), before);
});

Deno.test("tensors created outside a scope are not freed by it", () => {
  const outside = tensor([1, 2], { device });
  const before = memory();
  const r = tidy(() => {
    outside.mul(2);
    return outside; // returning an outer tensor is fine too
  });
  assert.equal(r, outside);
  assert.equal(outside.isDisposed, false);
  assert.deepEqual(memory(), before);
  outside.dispose();
});

Deno.test("tidy frees everything made inside when the function throws", () => {
  const before = memory();
  const made: Tensor[] = [];
  assert.throws(
    () =>
      tidy(() => {
        made.push(tensor([1, 2, 3], { device }));
        made.push(made[0].exp());
        made.push(keep(made[1].add(1))); // keep still survives: the caller owns it
        throw new RangeError("inside tidy");
      }),
    RangeError,
  );
  assert.equal(made[0].isDisposed, true);
  assert.equal(made[1].isDisposed, true);
  assert.equal(made[2].isDisposed, false);
  made[2].dispose();
  assert.deepEqual(memory(), before);
  // and when libtorch throws inside
  assert.throws(
    () => tidy(() => tensor([1, 2], { device }).add(tensor([1, 2, 3], { device }))),
    { name: "TorchError" },
  );
  assert.deepEqual(memory(), before);
});

Deno.test("nested tidy: returned tensors move to the parent scope and are freed with it", () => {
  const before = memory();
  let innerResult: Tensor | undefined;
  let innerTemp: Tensor | undefined;
  const outerResult = tidy(() => {
    innerResult = tidy(() => {
      assert.equal(memory().scopeDepth, before.scopeDepth + 2);
      innerTemp = tensor([1, 2], { device });
      return innerTemp.add(1);
    });
    assert.equal(innerTemp!.isDisposed, true);
    assert.equal(innerResult.isDisposed, false, "alive in the parent scope");
    return innerResult.mul(10); // innerResult itself is not returned
  });
  assert.equal(innerResult!.isDisposed, true, "freed when the parent scope ended");
  assert.deepEqual(outerResult.toArray(), [20, 30]);
  outerResult.dispose();
  assert.deepEqual(memory(), before);
  // Returned through two levels, it survives both.
  const deep = tidy(() => tidy(() => tidy(() => ones([2], { device }))));
  assert.equal(deep.isDisposed, false);
  assert.equal(memory().liveTensors, before.liveTensors + 1);
  deep.dispose();
  assert.deepEqual(memory(), before);
});

Deno.test("tidy rejects async functions and frees what they made synchronously", () => {
  const before = memory();
  let made: Tensor | undefined;
  assert.throws(
    () =>
      tidy(() => {
        made = tensor([1], { device });
        return Promise.resolve(made);
      }),
    { name: "TypeError", message: /async/ },
  );
  assert.equal(made!.isDisposed, true);
  assert.deepEqual(memory(), before);
});

Deno.test("failing ops do not leak native handles", () => {
  const a = tensor([1, 2, 3], { device });
  const b = tensor([1, 2], { device });
  const before = memory();
  for (let i = 0; i < 20; i++) {
    assert.throws(() => a.add(b), { name: "TorchError" });
    assert.throws(() => a.reshape(2, 2), { name: "TorchError" });
    assert.throws(() => a.matmul(b), { name: "TorchError" });
    assert.throws(() => a.select(0, 5), RangeError); // refused before libtorch
  }
  assert.deepEqual(memory(), before);
  a.dispose();
  b.dispose();
});

Deno.test("gradients and grad() results are tracked and freed by tidy", () => {
  const before = memory();
  const x = tensor([1, 2, 3], { device, requiresGrad: true });
  tidy(() => {
    x.square().sum().backward();
    const g1 = x.grad!;
    const g2 = x.grad!; // each read is a new handle onto the same gradient
    assert.notEqual(g1, g2);
    assert.deepEqual(g1.toArray(), [2, 4, 6]);
    grad(x.exp().sum(), x);
  });
  assert.equal(memory().liveTensors, before.liveTensors + 1);
  assert.equal(memory().nativeHandles, before.nativeHandles + 1);
  x.zeroGrad();
  x.dispose();
  assert.deepEqual(memory(), before);
});

Deno.test("11,000 ops in 1,000 tidy scopes return liveTensors and nativeHandles to the start", () => {
  const w = randn([8, 8], { device, requiresGrad: true });
  const acc = zeros([8], { device });
  const start = memory();
  for (let i = 0; i < 1000; i++) {
    tidy(() => {
      const x = randn([4, 8], { device }); // 1
      const h = x.matmul(w).relu(); // 2, 3
      const y = h.softmax(1).add(1e-6).log(); // 4, 5, 6
      const loss = y.mean(); // 7
      const [g] = grad(loss, w); // 8
      const m = g!.max(0); // 9 (values and indices)
      acc.add_(m.values.mul(1e-3)); // 10, 11 (in place)
    });
    if (i % 250 === 0) {
      const now = memory();
      assert.equal(now.liveTensors, start.liveTensors, `live tensors after scope ${i}`);
      assert.equal(now.nativeHandles, start.nativeHandles, `native handles after scope ${i}`);
    }
  }
  const end = memory();
  assert.equal(end.liveTensors, start.liveTensors);
  assert.equal(end.nativeHandles, start.nativeHandles);
  assert.equal(end.bytes, start.bytes);
  assert.equal(end.scopeDepth, start.scopeDepth);
  // The work really happened: acc accumulated 1,000 non-zero contributions.
  assert.ok((acc.abs().sum().item() as number) > 0);
  assert.ok(acc.isfinite().all().item() === 1);
  w.dispose();
  acc.dispose();
});

Deno.test("metadata read before dispose is not served after it", () => {
  const t = tensor([1, 2, 3], { device });
  assert.deepEqual(t.shape, [3]);
  t.dispose();
  assert.throws(() => t.shape, /disposed/);
  assert.throws(() => t.dtype, /disposed/);
  assert.throws(() => t.numel(), /disposed/);
});
