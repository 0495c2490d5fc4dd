/**
 * Tensor operations against hand-computed values: arithmetic with broadcasting, comparisons,
 * elementwise math, reductions, shape ops, joins, indexing, matmul, sorting and in-place ops.
 */

import assert from "node:assert/strict";
import { arange, cat, full, oneHot, stack, type Tensor, tensor, tidy, where } from "../mod.ts";
import { assertClose, device, onCpu } from "./helpers.ts";

const t = (data: Parameters<typeof tensor>[0], dtype?: "int64" | "float64" | "bool") =>
  tensor(data, { device, dtype });

// ---- arithmetic and broadcasting ----

Deno.test("add/sub/mul/div broadcast a row over a matrix", () => {
  tidy(() => {
    const a = t([[1, 2, 3], [4, 5, 6]]);
    const row = t([10, 20, 30]);
    const col = t([[1], [2]]);
    assert.deepEqual(a.add(row).toArray(), [[11, 22, 33], [14, 25, 36]]);
    assert.deepEqual(a.sub(col).toArray(), [[0, 1, 2], [2, 3, 4]]);
    assert.deepEqual(a.mul(col).toArray(), [[1, 2, 3], [8, 10, 12]]);
    assert.deepEqual(row.div(a).toArray(), [[10, 10, 10], [2.5, 4, 5]]);
    // [2,1] op [3] -> [2,3]
    assert.deepEqual(col.mul(row).toArray(), [[10, 20, 30], [20, 40, 60]]);
    assert.deepEqual(col.add(row).shape, [2, 3]);
  });
});

Deno.test("add/sub with alpha, scalars, rsub and neg", () => {
  tidy(() => {
    const a = t([1, 2, 3]);
    const b = t([10, 20, 30]);
    assert.deepEqual(a.add(b, 0.5).toArray(), [6, 12, 18]);
    assert.deepEqual(a.sub(b, 2).toArray(), [-19, -38, -57]);
    assert.deepEqual(a.add(1, 3).toArray(), [4, 5, 6]);
    assert.deepEqual(a.sub(1).toArray(), [0, 1, 2]);
    assert.deepEqual(a.mul(-2).toArray(), [-2, -4, -6]);
    assert.deepEqual(a.div(4).toArray(), [0.25, 0.5, 0.75]);
    assert.deepEqual(a.rsub(10).toArray(), [9, 8, 7]);
    assert.deepEqual(a.neg().toArray(), [-1, -2, -3]);
  });
});

Deno.test("integer arithmetic keeps int64; true division promotes to float32", () => {
  tidy(() => {
    const a = t([7, -7, 9], "int64");
    const b = t([2, 2, 3], "int64");
    const s = a.add(b);
    assert.equal(s.dtype, "int64");
    assert.deepEqual(s.toArray(), [9, -5, 12]);
    const q = a.div(b);
    assert.equal(q.dtype, "float32");
    assert.deepEqual(q.toArray(), [3.5, -3.5, 3]);
    assert.deepEqual(a.floorDivide(b).toArray(), [3, -4, 3]);
    assert.deepEqual(a.floorDivide(2).toArray(), [3, -4, 4]);
    assert.deepEqual(t([7, -7, 9]).floorDivide(2.5).toArray(), [2, -3, 3]);
    assert.deepEqual(a.remainder(b).toArray(), [1, 1, 0]); // Python-style sign
    assert.deepEqual(a.remainder(5).toArray(), [2, 3, 4]);
    // int64 with a float tensor promotes to float32
    assert.equal(a.mul(t([0.5, 0.5, 0.5])).dtype, "float32");
  });
});

Deno.test({
  name: "floorDivide of an int64 tensor by a fractional scalar promotes like PyTorch",
  fn() {
    tidy(() => {
      const r = t([7, -7], "int64").floorDivide(2.5);
      assert.equal(r.dtype, "float32");
      assert.deepEqual(r.toArray(), [2, -3]);
    });
  },
});

Deno.test("maximum/minimum broadcast elementwise", () => {
  tidy(() => {
    const a = t([[1, 5], [7, -2]]);
    const b = t([3, 0]);
    assert.deepEqual(a.maximum(b).toArray(), [[3, 5], [7, 0]]);
    assert.deepEqual(a.minimum(b).toArray(), [[1, 0], [3, -2]]);
  });
});

Deno.test("comparisons return bool tensors, with tensors and scalars", () => {
  tidy(() => {
    const a = t([1, 2, 3, 4]);
    const b = t([4, 2, 1, 4]);
    assert.equal(a.eq(b).dtype, "bool");
    assert.deepEqual(a.eq(b).toArray(), [false, true, false, true]);
    assert.deepEqual(a.ne(b).toArray(), [true, false, true, false]);
    assert.deepEqual(a.lt(b).toArray(), [true, false, false, false]);
    assert.deepEqual(a.le(b).toArray(), [true, true, false, true]);
    assert.deepEqual(a.gt(b).toArray(), [false, false, true, false]);
    assert.deepEqual(a.ge(b).toArray(), [false, true, true, true]);
    assert.deepEqual(a.gt(2).toArray(), [false, false, true, true]);
    assert.deepEqual(a.eq(3).toArray(), [false, false, true, false]);
    const m = a.gt(1).logicalAnd(a.lt(4));
    assert.deepEqual(m.toArray(), [false, true, true, false]);
    assert.deepEqual(a.lt(2).logicalOr(a.gt(3)).toArray(), [true, false, false, true]);
    assert.deepEqual(m.logicalNot().toArray(), [true, false, false, true]);
    // broadcast comparison [2,1] vs [3]
    assert.deepEqual(t([[1], [3]]).lt(t([0, 2, 4])).toArray(), [
      [false, true, true],
      [false, false, true],
    ]);
  });
});

Deno.test("where picks from a or b, broadcasting the condition", () => {
  tidy(() => {
    const cond = t([[true, false, true], [false, false, true]]);
    const a = t([[1, 2, 3], [4, 5, 6]]);
    const b = t([[-1, -2, -3], [-4, -5, -6]]);
    assert.deepEqual(where(cond, a, b).toArray(), [[1, -2, 3], [-4, -5, 6]]);
    assert.deepEqual(a.where(cond, b).toArray(), [[1, -2, 3], [-4, -5, 6]]);
    const rowCond = t([true, false, true]);
    assert.deepEqual(where(rowCond, a, t([0])).toArray(), [[1, 0, 3], [4, 0, 6]]);
    const x = t([-2, 0.5, 3]);
    assert.deepEqual(where(x.gt(0), x, x.mul(0.1)).toArray(), [
      Math.fround(-0.2),
      0.5,
      3,
    ]);
  });
});

Deno.test("clamp with both, only min, only max bounds", () => {
  tidy(() => {
    const x = t([-3, -0.5, 0, 0.5, 3]);
    assert.deepEqual(x.clamp(-1, 1).toArray(), [-1, -0.5, 0, 0.5, 1]);
    assert.deepEqual(x.clamp(0).toArray(), [0, 0, 0, 0.5, 3]);
    assert.deepEqual(x.clamp(null, 0).toArray(), [-3, -0.5, 0, 0, 0]);
    assert.deepEqual(x.clamp(undefined, 2).toArray(), [-3, -0.5, 0, 0.5, 2]);
    assert.deepEqual(x.toArray(), [-3, -0.5, 0, 0.5, 3], "clamp is out of place");
    const y = t([-3, 0, 3]);
    assert.equal(y.clamp_(-1, 2), y);
    assert.deepEqual(y.toArray(), [-1, 0, 2]);
  });
});

Deno.test("exp/log/abs/sqrt/pow and friends match Math", () => {
  tidy(() => {
    const v = [0.25, 1, 2, 4];
    const x = t(v);
    assertClose(x.exp().toArray(), v.map(Math.exp));
    assertClose(x.log().toArray(), v.map(Math.log));
    assertClose(x.sqrt().toArray(), [0.5, 1, Math.SQRT2, 2]);
    assertClose(x.rsqrt().toArray(), [2, 1, Math.SQRT1_2, 0.5]);
    assertClose(x.pow(2).toArray(), [0.0625, 1, 4, 16]);
    assertClose(x.pow(0.5).toArray(), [0.5, 1, Math.SQRT2, 2]);
    assertClose(x.pow(t([2, 3, 3, 0.5])).toArray(), [0.0625, 1, 8, 2]);
    assertClose(x.square().toArray(), [0.0625, 1, 4, 16]);
    assertClose(x.reciprocal().toArray(), [4, 1, 0.5, 0.25]);
    assertClose(x.log1p().toArray(), v.map(Math.log1p));
    assertClose(x.sin().toArray(), v.map(Math.sin));
    assertClose(x.cos().toArray(), v.map(Math.cos));
    assertClose(x.tanh().toArray(), v.map(Math.tanh));
    assertClose(x.sigmoid().toArray(), v.map((z) => 1 / (1 + Math.exp(-z))));
    const s = t([-2.5, -0.5, 0, 1.5, 2.5]);
    assert.deepEqual(s.abs().toArray(), [2.5, 0.5, 0, 1.5, 2.5]);
    assert.deepEqual(s.sign().toArray(), [-1, -1, 0, 1, 1]);
    assert.deepEqual(s.floor().toArray(), [-3, -1, 0, 1, 2]);
    assert.deepEqual(s.ceil().toArray(), [-2, -0, 0, 2, 3]);
    assert.deepEqual(s.round().toArray(), [-2, -0, 0, 2, 2]); // half to even
    assert.deepEqual(s.relu().toArray(), [0, 0, 0, 1.5, 2.5]);
  });
});

Deno.test("log of 0 and negatives, sqrt of negatives: -inf and NaN, detected by isnan/isfinite", () => {
  tidy(() => {
    const x = t([0, -1, 1]);
    const l = x.log();
    assertClose(l.toArray(), [-Infinity, NaN, 0]);
    assert.deepEqual(l.isnan().toArray(), [false, true, false]);
    assert.deepEqual(l.isfinite().toArray(), [false, false, true]);
    assert.deepEqual(x.sqrt().isnan().toArray(), [false, true, false]);
  });
});

// ---- reductions ----

const M = [[1, 5, 3], [4, 2, 6]];

Deno.test("sum and mean over all, one, several and negative dims, with keepdim", () => {
  tidy(() => {
    const a = t(M);
    assert.equal(a.sum().item(), 21);
    assert.deepEqual(a.sum().shape, []);
    assert.equal(a.mean().item(), 3.5);
    assert.deepEqual(a.sum(0).toArray(), [5, 7, 9]);
    assert.deepEqual(a.sum(1).toArray(), [9, 12]);
    assert.deepEqual(a.sum(-1).toArray(), [9, 12]);
    assert.deepEqual(a.sum(1, true).toArray(), [[9], [12]]);
    assert.deepEqual(a.sum([0, 1]).toArray(), 21);
    assert.deepEqual(a.sum([0, 1], true).toArray(), [[21]]);
    assert.deepEqual(a.mean(0).toArray(), [2.5, 3.5, 4.5]);
    assert.deepEqual(a.mean(1, true).toArray(), [[3], [4]]);
    const b = t([[[1, 2], [3, 4]], [[5, 6], [7, 8]]]);
    assert.deepEqual(b.sum([0, 2]).toArray(), [14, 22]);
    assert.deepEqual(b.mean([1, 2], true).shape, [2, 1, 1]);
    assert.deepEqual(b.mean([1, 2]).toArray(), [2.5, 6.5]);
    // int64 sums stay integral
    const i = t([[1, 2], [3, 4]], "int64");
    assert.equal(i.sum().dtype, "int64");
    assert.equal(i.sum().item(), 10);
  });
});

Deno.test("prod, amax, amin, logsumexp, all, any over dims", () => {
  tidy(() => {
    const a = t(M);
    assert.equal(a.prod().item(), 720);
    assert.deepEqual(a.prod(1).toArray(), [15, 48]);
    assert.deepEqual(a.amax(0).toArray(), [4, 5, 6]);
    assert.deepEqual(a.amin(1, true).toArray(), [[1], [2]]);
    assert.equal(a.amax().item(), 6);
    assertClose(
      a.logsumexp(1).toArray(),
      M.map((r) => Math.log(r.reduce((s, v) => s + Math.exp(v), 0))),
    );
    const b = t([[true, false], [true, true]]);
    assert.deepEqual(b.all(1).toArray(), [false, true]);
    assert.deepEqual(b.any(0).toArray(), [true, true]);
    assert.equal(b.all().item(), 0);
    assert.equal(b.any().item(), 1);
  });
});

Deno.test("max/min with a dim return values and int64 indices; without one, a scalar", () => {
  tidy(() => {
    const a = t(M);
    assert.equal(a.max().item(), 6);
    assert.equal(a.min().item(), 1);
    const mx = a.max(1);
    assert.deepEqual(mx.values.toArray(), [5, 6]);
    assert.deepEqual(mx.indices.toArray(), [1, 2]);
    assert.equal(mx.indices.dtype, "int64");
    const mn = a.min(0);
    assert.deepEqual(mn.values.toArray(), [1, 2, 3]);
    assert.deepEqual(mn.indices.toArray(), [0, 1, 0]);
    const k = a.max(0, true);
    assert.deepEqual(k.values.toArray(), [[4, 5, 6]]);
    assert.deepEqual(k.indices.toArray(), [[1, 0, 1]]);
    assert.deepEqual(a.min(-1, true).indices.toArray(), [[0], [1]]);
  });
});

Deno.test("argmax/argmin over a dim and over the flattened tensor", () => {
  tidy(() => {
    const a = t(M);
    assert.equal(a.argmax().item(), 5);
    assert.equal(a.argmin().item(), 0);
    assert.deepEqual(a.argmax().shape, []);
    assert.deepEqual(a.argmax(1).toArray(), [1, 2]);
    assert.deepEqual(a.argmin(0).toArray(), [0, 1, 0]);
    assert.deepEqual(a.argmax(1, true).toArray(), [[1], [2]]);
    assert.equal(a.argmax(1).dtype, "int64");
  });
});

Deno.test("std and var are unbiased by default; biased on request", () => {
  tidy(() => {
    const x = t([2, 4, 4, 4, 5, 5, 7, 9]);
    // mean 5, sum of squared deviations 32
    assertClose(x.var().item(), 32 / 7);
    assertClose(x.std().item(), Math.sqrt(32 / 7));
    assertClose(x.var(undefined, false).item(), 4);
    assertClose(x.std(undefined, false).item(), 2);
    const a = t([[1, 2, 3], [2, 4, 9]]);
    assertClose(a.var(1).toArray(), [1, 13]);
    assertClose(a.std(1, true, true).toArray(), [[1], [Math.sqrt(13)]]);
    assertClose(a.var(0, false).toArray(), [0.25, 1, 9]);
    assertClose(a.var([0, 1]).item(), (1 + 4 + 9 + 4 + 16 + 81 - 21 * 21 / 6) / 5);
  });
});

// ---- shape ----

Deno.test("reshape/view accept varargs, arrays and -1", () => {
  tidy(() => {
    const a = tensor([0, 1, 2, 3, 4, 5], { device });
    assert.deepEqual(a.reshape(2, 3).toArray(), [[0, 1, 2], [3, 4, 5]]);
    assert.deepEqual(a.reshape([3, -1]).toArray(), [[0, 1], [2, 3], [4, 5]]);
    assert.deepEqual(a.view(-1, 2).shape, [3, 2]);
    assert.deepEqual(a.view([1, 6]).toArray(), [[0, 1, 2, 3, 4, 5]]);
    // view shares storage
    const v = a.view(2, 3);
    v.fill_(7);
    assert.deepEqual(a.toArray(), [7, 7, 7, 7, 7, 7]);
  });
});

Deno.test("permute/transpose reorder dims; view of a transposed tensor fails, reshape works", () => {
  tidy(() => {
    const a = t([[[1, 2], [3, 4], [5, 6]]]); // [1, 3, 2]
    const p = a.permute(2, 0, 1);
    assert.deepEqual(p.shape, [2, 1, 3]);
    assert.deepEqual(p.toArray(), [[[1, 3, 5]], [[2, 4, 6]]]);
    const m = t([[1, 2, 3], [4, 5, 6]]);
    const tr = m.transpose(0, 1);
    assert.deepEqual(tr.toArray(), [[1, 4], [2, 5], [3, 6]]);
    assert.deepEqual(m.transpose(-1, -2).toArray(), [[1, 4], [2, 5], [3, 6]]);
    assert.throws(() => tr.view(6), { name: "TorchError", message: /^view: / });
    assert.deepEqual(tr.reshape(6).toArray(), [1, 4, 2, 5, 3, 6]);
    assert.deepEqual(tr.contiguous().view(6).toArray(), [1, 4, 2, 5, 3, 6]);
  });
});

Deno.test("flatten/squeeze/unsqueeze/expand/repeat/flip", () => {
  tidy(() => {
    const a = t([[[1, 2], [3, 4]], [[5, 6], [7, 8]]]); // [2,2,2]
    assert.deepEqual(a.flatten().toArray(), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual(a.flatten(1).shape, [2, 4]);
    assert.deepEqual(a.flatten(0, 1).toArray(), [[1, 2], [3, 4], [5, 6], [7, 8]]);
    const s = t([[[1], [2]]]); // [1,2,1]
    assert.deepEqual(s.squeeze().shape, [2]);
    assert.deepEqual(s.squeeze().toArray(), [1, 2]);
    assert.deepEqual(s.squeeze(0).shape, [2, 1]);
    assert.deepEqual(s.squeeze(-1).shape, [1, 2]);
    assert.deepEqual(s.squeeze(1).shape, [1, 2, 1], "squeezing a non-1 dim is a no-op");
    const v = t([1, 2, 3]);
    assert.deepEqual(v.unsqueeze(0).toArray(), [[1, 2, 3]]);
    assert.deepEqual(v.unsqueeze(1).toArray(), [[1], [2], [3]]);
    assert.deepEqual(v.unsqueeze(-1).shape, [3, 1]);
    assert.deepEqual(v.unsqueeze(0).expand(2, -1).toArray(), [[1, 2, 3], [1, 2, 3]]);
    assert.deepEqual(v.repeat(2).toArray(), [1, 2, 3, 1, 2, 3]);
    assert.deepEqual(v.unsqueeze(0).repeat([2, 1]).toArray(), [[1, 2, 3], [1, 2, 3]]);
    assert.deepEqual(v.flip(0).toArray(), [3, 2, 1]);
    assert.deepEqual(t([[1, 2], [3, 4]]).flip(0, 1).toArray(), [[4, 3], [2, 1]]);
  });
});

// ---- joins ----

Deno.test("cat joins along an existing dim; stack along a new one", () => {
  tidy(() => {
    const a = t([[1, 2], [3, 4]]);
    const b = t([[5, 6]]);
    assert.deepEqual(cat([a, b]).toArray(), [[1, 2], [3, 4], [5, 6]]);
    assert.deepEqual(cat([a, t([[9], [9]])], 1).toArray(), [[1, 2, 9], [3, 4, 9]]);
    assert.deepEqual(cat([a, a], -1).shape, [2, 4]);
    const x = t([1, 2]);
    const y = t([3, 4]);
    assert.deepEqual(stack([x, y]).toArray(), [[1, 2], [3, 4]]);
    assert.deepEqual(stack([x, y], 1).toArray(), [[1, 3], [2, 4]]);
    assert.deepEqual(stack([a, a], 2).shape, [2, 2, 2]);
    assert.throws(() => cat([a, t([1, 2, 3])]), { name: "TorchError", message: /^cat: / });
    assert.throws(() => stack([x, t([1, 2, 3])]), { name: "TorchError", message: /^stack: / });
  });
});

// ---- indexing ----

Deno.test("narrow/slice/select take views with negative indices and steps", () => {
  tidy(() => {
    const a = t([[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]);
    assert.deepEqual(a.narrow(1, 1, 3).toArray(), [[1, 2, 3], [6, 7, 8]]);
    assert.deepEqual(a.narrow(0, 1, 1).toArray(), [[5, 6, 7, 8, 9]]);
    assert.deepEqual(a.slice(1, 2).toArray(), [[2, 3, 4], [7, 8, 9]]);
    assert.deepEqual(a.slice(1, 0, 5, 2).toArray(), [[0, 2, 4], [5, 7, 9]]);
    assert.deepEqual(a.slice(1, -2).toArray(), [[3, 4], [8, 9]]);
    assert.deepEqual(a.slice(1, 1, -1).toArray(), [[1, 2, 3], [6, 7, 8]]);
    assert.deepEqual(a.slice(0, 0, 100).shape, [2, 5], "end is clamped");
    assert.deepEqual(a.select(0, 1).toArray(), [5, 6, 7, 8, 9]);
    assert.deepEqual(a.select(1, -1).toArray(), [4, 9]);
    // views share storage with the base tensor
    a.narrow(1, 0, 2).fill_(-1);
    assert.deepEqual(a.select(0, 0).toArray(), [-1, -1, 2, 3, 4]);
    // out-of-range indices are refused before libtorch, as RangeErrors naming the op
    assert.throws(() => a.select(0, 2), { name: "RangeError", message: /^select: index 2 / });
    assert.throws(() => a.narrow(1, 3, 3), { name: "RangeError", message: /^narrow: / });
  });
});

Deno.test("indexSelect/gather/scatter/maskedFill/maskedSelect", () => {
  tidy(() => {
    const a = t([[1, 2, 3], [4, 5, 6], [7, 8, 9]]);
    const idx = t([2, 0], "int64");
    assert.deepEqual(a.indexSelect(0, idx).toArray(), [[7, 8, 9], [1, 2, 3]]);
    assert.deepEqual(a.indexSelect(1, idx).toArray(), [[3, 1], [6, 4], [9, 7]]);
    const g = t([[0, 0], [2, 1], [1, 2]], "int64");
    assert.deepEqual(a.gather(1, g).toArray(), [[1, 1], [6, 5], [8, 9]]);
    assert.deepEqual(a.gather(0, t([[2, 1, 0]], "int64")).toArray(), [[7, 5, 3]]);
    const z = tensor([[0, 0, 0], [0, 0, 0]], { device });
    const s = z.scatter(1, t([[2], [0]], "int64"), t([[5], [6]]));
    assert.deepEqual(s.toArray(), [[0, 0, 5], [6, 0, 0]]);
    assert.deepEqual(z.toArray(), [[0, 0, 0], [0, 0, 0]], "scatter is out of place");
    assert.deepEqual(z.scatter(1, t([[0, 1], [2, 2]], "int64"), 1).toArray(), [
      [1, 1, 0],
      [0, 0, 1],
    ]);
    const mask = a.gt(5);
    assert.deepEqual(a.maskedFill(mask, 0).toArray(), [[1, 2, 3], [4, 5, 0], [0, 0, 0]]);
    assert.deepEqual(a.maskedFill(t([true, false, false]), -1).toArray(), [
      [-1, 2, 3],
      [-1, 5, 6],
      [-1, 8, 9],
    ]);
    assert.deepEqual(a.maskedSelect(mask).toArray(), [6, 7, 8, 9]);
    if (onCpu) {
      // On CUDA an out-of-range index is a device-side assert that poisons the context.
      assert.throws(() => a.indexSelect(0, t([3], "int64")), {
        name: "TorchError",
        message: /^indexSelect: index out of range/,
      });
    }
  });
});

// ---- matmul ----

Deno.test("matmul: matrix-matrix, matrix-vector, vector-vector and batched broadcast", () => {
  tidy(() => {
    const a = t([[1, 2], [3, 4], [5, 6]]); // [3,2]
    const b = t([[1, 0, -1], [2, 1, 0]]); // [2,3]
    assert.deepEqual(a.matmul(b).toArray(), [[5, 2, -1], [11, 4, -3], [17, 6, -5]]);
    assert.deepEqual(b.matmul(a).toArray(), [[-4, -4], [5, 8]]);
    assert.deepEqual(a.matmul(t([1, -1])).toArray(), [-1, -1, -1]);
    assert.equal(t([1, 2, 3]).matmul(t([4, 5, 6])).item(), 32);
    const batch = stack([a, a.mul(2)]); // [2,3,2]
    const r = batch.matmul(t([[1], [1]])); // [2,3,1]
    assert.deepEqual(r.toArray(), [[[3], [7], [11]], [[6], [14], [22]]]);
    assert.throws(() => a.matmul(a), { name: "TorchError", message: /^matmul: / });
  });
});

// ---- sort / topk / oneHot ----

Deno.test("sort ascending and descending, along rows; stable keeps the order of ties", () => {
  tidy(() => {
    const x = t([3, 1, 2, 1, 3, 0]);
    const up = x.sort(-1, false, true);
    assert.deepEqual(up.values.toArray(), [0, 1, 1, 2, 3, 3]);
    assert.deepEqual(up.indices.toArray(), [5, 1, 3, 2, 0, 4]);
    const down = x.sort(0, true, true);
    assert.deepEqual(down.values.toArray(), [3, 3, 2, 1, 1, 0]);
    assert.deepEqual(down.indices.toArray(), [0, 4, 2, 1, 3, 5]);
    // Many ties: a stable sort must return indices in increasing order within each group.
    const n = 200;
    const ties = tensor(Array.from({ length: n }, (_, i) => i % 3), { device });
    const s = ties.sort(0, false, true).indices.toArray() as number[];
    const expected = [0, 1, 2].flatMap((v) =>
      Array.from({ length: n }, (_, i) => i).filter((i) => i % 3 === v)
    );
    assert.deepEqual(s, expected);
    const m = t([[3, 1, 2], [0, 5, 4]]);
    assert.deepEqual(m.sort().values.toArray(), [[1, 2, 3], [0, 4, 5]]);
    assert.deepEqual(m.sort(0, true).values.toArray(), [[3, 5, 4], [0, 1, 2]]);
    assert.equal(m.sort().indices.dtype, "int64");
  });
});

Deno.test("topk returns the k largest or smallest with indices", () => {
  tidy(() => {
    const x = t([[1, 9, 3, 7], [8, 2, 6, 4]]);
    const top = x.topk(2);
    assert.deepEqual(top.values.toArray(), [[9, 7], [8, 6]]);
    assert.deepEqual(top.indices.toArray(), [[1, 3], [0, 2]]);
    const low = x.topk(1, 1, false);
    assert.deepEqual(low.values.toArray(), [[1], [2]]);
    assert.deepEqual(low.indices.toArray(), [[0], [1]]);
    const col = x.topk(1, 0);
    assert.deepEqual(col.values.toArray(), [[8, 9, 6, 7]]);
    assert.deepEqual(col.indices.toArray(), [[1, 0, 1, 0]]);
    assert.throws(() => x.topk(5), { name: "RangeError", message: /^topk: k 5 / });
  });
});

Deno.test("oneHot encodes int64 labels, inferring or fixing the class count", () => {
  tidy(() => {
    const y = t([2, 0, 1], "int64");
    const o = y.oneHot();
    assert.equal(o.dtype, "int64");
    assert.deepEqual(o.toArray(), [[0, 0, 1], [1, 0, 0], [0, 1, 0]]);
    assert.deepEqual(oneHot(y, 4).toArray(), [[0, 0, 1, 0], [1, 0, 0, 0], [0, 1, 0, 0]]);
    assert.deepEqual(oneHot(t([[1], [0]], "int64"), 2).shape, [2, 1, 2]);
    if (onCpu) {
      // libtorch skips this check on CUDA (an out-of-range class is a device-side assert there).
      assert.throws(() => y.oneHot(2), { name: "TorchError", message: /^oneHot: / });
    }
  });
});

// ---- in place ----

Deno.test("add_/sub_ with alpha, mul_, div_ modify in place and return this", () => {
  tidy(() => {
    const x = t([1, 2, 3]);
    const y = t([10, 20, 30]);
    const r = x.add_(y, 0.1);
    assert.equal(r, x);
    assertClose(x.toArray(), [2, 4, 6]);
    x.add_(y);
    assertClose(x.toArray(), [12, 24, 36]);
    x.add_(1, 2);
    assertClose(x.toArray(), [14, 26, 38]);
    x.sub_(y, 0.5);
    assertClose(x.toArray(), [9, 16, 23]);
    x.sub_(1);
    assertClose(x.toArray(), [8, 15, 22]);
    assert.equal(x.mul_(t([1, 2, 0.5])), x);
    assertClose(x.toArray(), [8, 30, 11]);
    x.mul_(2);
    assertClose(x.toArray(), [16, 60, 22]);
    x.div_(4);
    assertClose(x.toArray(), [4, 15, 5.5]);
    x.div_(t([2, 3, 11]));
    assertClose(x.toArray(), [2, 5, 0.5]);
    // broadcast into the destination
    const m = t([[1, 1], [1, 1]]);
    m.add_(t([1, 2]));
    assert.deepEqual(m.toArray(), [[2, 3], [2, 3]]);
  });
});

Deno.test("copy_ (broadcast, converted), fill_ and zero_", () => {
  tidy(() => {
    const x = t([[1, 2], [3, 4]]);
    assert.equal(x.copy_(t([9, 8])), x);
    assert.deepEqual(x.toArray(), [[9, 8], [9, 8]]);
    x.copy_(t([[1, 2], [3, 4]], "int64"));
    assert.equal(x.dtype, "float32");
    assert.deepEqual(x.toArray(), [[1, 2], [3, 4]]);
    assert.equal(x.fill_(2.5), x);
    assert.deepEqual(x.toArray(), [[2.5, 2.5], [2.5, 2.5]]);
    assert.equal(x.zero_(), x);
    assert.deepEqual(x.toArray(), [[0, 0], [0, 0]]);
    const i = t([1, 2], "int64").fill_(7);
    assert.deepEqual(i.toArray(), [7, 7]);
  });
});

Deno.test("addcmul_ and addcdiv_ add value * a * b and value * a / b", () => {
  tidy(() => {
    const x = t([1, 1, 1]);
    const a = t([1, 2, 3]);
    const b = t([4, 5, 6]);
    assert.equal(x.addcmul_(a, b), x);
    assert.deepEqual(x.toArray(), [5, 11, 19]);
    x.addcmul_(a, b, -0.5);
    assert.deepEqual(x.toArray(), [3, 6, 10]);
    const y = t([0, 0, 0]);
    assert.equal(y.addcdiv_(a, b, 2), y);
    assertClose(y.toArray(), [0.5, 0.8, 1]);
    y.addcdiv_(b, a);
    assertClose(y.toArray(), [4.5, 3.3, 3]);
  });
});

Deno.test("in-place ops on a view write through to the base tensor", () => {
  tidy(() => {
    const base = t([[1, 2, 3], [4, 5, 6]]);
    const row = base.select(0, 1);
    row.mul_(10);
    base.slice(1, 0, 1).zero_();
    assert.deepEqual(base.toArray(), [[0, 2, 3], [0, 50, 60]]);
  });
});

Deno.test("shape errors surface as TorchError with the op name", () => {
  tidy(() => {
    const a: Tensor = t([1, 2, 3]);
    const b = t([1, 2]);
    assert.throws(() => a.add(b), { name: "TorchError", message: /^add: / });
    assert.throws(() => a.mul_(b), { name: "TorchError", message: /^mul_: / });
    assert.throws(() => a.sum(3), { name: "TorchError", message: /^sum: / });
    assert.throws(() => a.permute(0, 0), { name: "TorchError", message: /^permute: / });
  });
});

Deno.test("number operands keep integer tensors integer, as Python ints do in PyTorch", () => {
  tidy(() => {
    const a = arange(0, 5, 1, { dtype: "int64", device });
    assert.equal(a.add(3).dtype, "int64");
    assert.deepEqual(a.mul(2).toArray(), [0, 2, 4, 6, 8]);
    assert.equal(a.add(0.5).dtype, "float32");
    assert.equal(a.div(2).dtype, "float32");
    assert.deepEqual(a.floorDivide(2).toArray(), [0, 0, 1, 1, 2]);
    assert.equal(a.floorDivide(2).dtype, "int64");
    const counter = full([], 0, { dtype: "int64", device });
    counter.add_(1).add_(1);
    assert.equal(counter.item(), 2);
    assert.equal(counter.dtype, "int64");
  });
});
