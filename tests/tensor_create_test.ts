/**
 * Tensor creation: from JS data and typed arrays, metadata, host copies, conversions,
 * filled/range/random constructors, seeding and RNG state, and creation errors.
 */

import assert from "node:assert/strict";
import {
  arange,
  cudaAvailable,
  type DType,
  full,
  getRngState,
  manualSeed,
  ones,
  rand,
  randint,
  randn,
  setRngState,
  tensor,
  tidy,
  uniform,
  zeros,
} from "../mod.ts";
import { device, onCpu } from "./helpers.ts";

// ---- from JS data ----

Deno.test("tensor() from nested number arrays is float32 with the inferred shape", () => {
  tidy(() => {
    const t = tensor([[1, 2, 3], [4, 5, 6]], { device });
    assert.deepEqual(t.shape, [2, 3]);
    assert.equal(t.dtype, "float32");
    assert.equal(t.device, device === "cuda" ? "cuda:0" : device);
    assert.equal(t.ndim, 2);
    assert.equal(t.dim(), 2);
    assert.equal(t.numel(), 6);
    assert.equal(t.size(0), 2);
    assert.equal(t.size(-1), 3);
    assert.deepEqual(t.size(), [2, 3]);
    assert.throws(() => t.size(2), RangeError);
    assert.deepEqual(t.toArray(), [[1, 2, 3], [4, 5, 6]]);
    assert.ok(t.data() instanceof Float32Array);
    assert.deepEqual(Array.from(t.data() as Float32Array), [1, 2, 3, 4, 5, 6]);
  });
});

Deno.test("tensor() from a 3-D nested array keeps row-major order", () => {
  tidy(() => {
    const data = [[[1, 2], [3, 4]], [[5, 6], [7, 8]], [[9, 10], [11, 12]]];
    const t = tensor(data, { device });
    assert.deepEqual(t.shape, [3, 2, 2]);
    assert.deepEqual(t.toArray(), data);
    assert.deepEqual(t.select(0, 2).select(0, 1).toArray(), [11, 12]);
    assert.deepEqual(t.select(0, 2).select(1, 0).toArray(), [9, 11]);
  });
});

Deno.test("tensor() from a number is 0-d; item() reads it", () => {
  tidy(() => {
    const t = tensor(2.5, { device });
    assert.deepEqual(t.shape, []);
    assert.equal(t.ndim, 0);
    assert.equal(t.numel(), 1);
    assert.equal(t.item(), 2.5);
    assert.equal(t.toArray(), 2.5);
  });
});

Deno.test("tensor() of an empty array has shape [0] and no elements", () => {
  tidy(() => {
    const t = tensor([], { device });
    assert.deepEqual(t.shape, [0]);
    assert.equal(t.numel(), 0);
    assert.deepEqual(t.toArray(), []);
    assert.equal(t.data().length, 0);
  });
});

Deno.test("tensor() of booleans is bool; toArray gives booleans, data() 0/1 bytes", () => {
  tidy(() => {
    const t = tensor([[true, false], [false, true]], { device });
    assert.equal(t.dtype, "bool");
    assert.deepEqual(t.toArray(), [[true, false], [false, true]]);
    const d = t.data();
    assert.ok(d instanceof Uint8Array);
    assert.deepEqual(Array.from(d), [1, 0, 0, 1]);
    assert.equal(t.sum().item(), 2);
  });
});

Deno.test("tensor() with an explicit dtype converts numbers (int64 truncates toward zero)", () => {
  tidy(() => {
    const i = tensor([1.9, -1.9, 3], { dtype: "int64", device });
    assert.equal(i.dtype, "int64");
    assert.deepEqual(i.toArray(), [1, -1, 3]);
    const d = tensor([0.1, 0.2], { dtype: "float64", device });
    assert.equal(d.dtype, "float64");
    assert.deepEqual(d.toArray(), [0.1, 0.2]); // exact in float64
    const f = tensor([0.1], { device });
    assert.equal(f.toArray().toString(), String(Math.fround(0.1)));
    const u = tensor([0, 255, 7], { dtype: "uint8", device });
    assert.deepEqual(u.toArray(), [0, 255, 7]);
    const b = tensor([0, 2, -1], { dtype: "bool", device });
    assert.deepEqual(b.toArray(), [false, true, true]);
  });
});

Deno.test("tensor() reshapes flat data with options.shape", () => {
  tidy(() => {
    const t = tensor([1, 2, 3, 4, 5, 6], { shape: [3, 2], device });
    assert.deepEqual(t.shape, [3, 2]);
    assert.deepEqual(t.toArray(), [[1, 2], [3, 4], [5, 6]]);
  });
});

// ---- from typed arrays ----

Deno.test("tensor() from Float32Array keeps float32 and the exact bits", () => {
  tidy(() => {
    const src = new Float32Array([0.1, -2.5, 1e-30, 3.4e38, -0, 7]);
    const t = tensor(src, { shape: [2, 3], device });
    assert.equal(t.dtype, "float32");
    assert.deepEqual(t.shape, [2, 3]);
    const back = t.data() as Float32Array;
    assert.ok(back instanceof Float32Array);
    assert.deepEqual(Array.from(back), Array.from(src));
    assert.ok(Object.is(back[4], -0), "negative zero survives the round trip");
    src[0] = 99; // the tensor owns a copy
    assert.equal((t.data() as Float32Array)[0], Math.fround(0.1));
  });
});

Deno.test("tensor() from Float64Array is float64", () => {
  tidy(() => {
    const src = new Float64Array([Math.PI, Math.E, 1 / 3]);
    const t = tensor(src, { device });
    assert.equal(t.dtype, "float64");
    assert.deepEqual(t.shape, [3]);
    assert.deepEqual(Array.from(t.data() as Float64Array), [Math.PI, Math.E, 1 / 3]);
    assert.equal(t.select(0, 0).item(), Math.PI);
  });
});

Deno.test("tensor() from BigInt64Array is int64 and exact beyond 2^53 via data()", () => {
  tidy(() => {
    const big = 9007199254740993n; // 2^53 + 1, not representable as a double
    const t = tensor(new BigInt64Array([1n, -2n, big, -(2n ** 62n)]), { device });
    assert.equal(t.dtype, "int64");
    const back = t.data();
    assert.ok(back instanceof BigInt64Array);
    assert.deepEqual(Array.from(back), [1n, -2n, big, -(2n ** 62n)]);
    assert.deepEqual(t.narrow(0, 0, 2).toArray(), [1, -2]);
  });
});

Deno.test("tensor() from Int32Array is int32", () => {
  tidy(() => {
    const t = tensor(new Int32Array([-2147483648, 0, 2147483647, 5]), { shape: [2, 2], device });
    assert.equal(t.dtype, "int32");
    assert.ok(t.data() instanceof Int32Array);
    assert.deepEqual(t.toArray(), [[-2147483648, 0], [2147483647, 5]]);
  });
});

Deno.test("tensor() from Uint8Array is uint8; with dtype bool it is bool", () => {
  tidy(() => {
    const bytes = new Uint8Array([0, 1, 200, 255]);
    const u = tensor(bytes, { device });
    assert.equal(u.dtype, "uint8");
    assert.deepEqual(u.toArray(), [0, 1, 200, 255]);
    const b = tensor(new Uint8Array([1, 0, 0, 1]), { dtype: "bool", shape: [2, 2], device });
    assert.equal(b.dtype, "bool");
    assert.deepEqual(b.toArray(), [[true, false], [false, true]]);
    assert.deepEqual(b.logicalNot().toArray(), [[false, true], [true, false]]);
  });
});

Deno.test("tensor() from a typed subarray copies only the view's elements", () => {
  tidy(() => {
    const whole = new Float32Array([10, 11, 12, 13, 14, 15]);
    const t = tensor(whole.subarray(2, 5), { device });
    assert.deepEqual(t.toArray(), [12, 13, 14]);
  });
});

Deno.test("tensor() converts a typed array to another dtype when asked", () => {
  tidy(() => {
    const t = tensor(new Float32Array([1.5, -2.7, 3]), { dtype: "int64", device });
    assert.equal(t.dtype, "int64");
    assert.deepEqual(t.toArray(), [1, -2, 3]);
    const h = tensor(new Float32Array([1.5, 2, -3]), { dtype: "float16", device });
    assert.equal(h.dtype, "float16");
    assert.deepEqual(h.toArray(), [1.5, 2, -3]);
    assert.ok(h.data() instanceof Float32Array, "half data() comes back as float32");
  });
});

// ---- conversions ----

Deno.test("to(dtype) converts values and keeps the device", () => {
  tidy(() => {
    const x = tensor([1.7, -1.7, 0.5], { device });
    const i = x.to("int32");
    assert.equal(i.dtype, "int32");
    assert.deepEqual(i.toArray(), [1, -1, 0]);
    assert.equal(i.device, x.device);
    const d = x.to("float64");
    assert.equal(d.dtype, "float64");
    assert.deepEqual(d.toArray(), [Math.fround(1.7), Math.fround(-1.7), 0.5]);
    const b = x.to("bool");
    assert.deepEqual(b.toArray(), [true, true, true]);
    assert.deepEqual(x.long().toArray(), [1, -1, 0]);
    assert.equal(x.to("int64").float().dtype, "float32");
    const both = x.to({ device: "cpu", dtype: "float64" });
    assert.equal(both.device, "cpu");
    assert.equal(both.dtype, "float64");
  });
});

Deno.test("to(device) copies to the CPU and back to the test device", () => {
  tidy(() => {
    const x = tensor([[1, 2], [3, 4]], { device });
    const c = x.to("cpu");
    assert.equal(c.device, "cpu");
    assert.deepEqual(c.toArray(), [[1, 2], [3, 4]]);
    assert.deepEqual(x.cpu().toArray(), [[1, 2], [3, 4]]);
    const back = c.to(device);
    assert.equal(back.device, x.device);
    assert.deepEqual(back.toArray(), [[1, 2], [3, 4]]);
  });
});

Deno.test("to({ copy: true }) makes independent storage even for the same dtype", () => {
  tidy(() => {
    const x = tensor([1, 2, 3], { device });
    const copy = x.to({ dtype: "float32", copy: true });
    copy.fill_(0);
    assert.deepEqual(x.toArray(), [1, 2, 3], "copy: true must not alias");
    assert.deepEqual(copy.toArray(), [0, 0, 0]);
  });
});

// ---- filled and range constructors ----

Deno.test("zeros/ones/full fill values with the requested dtype", () => {
  tidy(() => {
    const z = zeros([2, 3], { device });
    assert.equal(z.dtype, "float32");
    assert.deepEqual(z.toArray(), [[0, 0, 0], [0, 0, 0]]);
    const o = ones([3], { dtype: "int64", device });
    assert.equal(o.dtype, "int64");
    assert.deepEqual(o.toArray(), [1, 1, 1]);
    const f = full([2, 2], -1.5, { device });
    assert.deepEqual(f.toArray(), [[-1.5, -1.5], [-1.5, -1.5]]);
    const fb = full([2], 1, { dtype: "bool", device });
    assert.deepEqual(fb.toArray(), [true, true]);
    const s = zeros([], { device });
    assert.deepEqual(s.shape, []);
    assert.equal(s.item(), 0);
    const e = ones([0, 4], { device });
    assert.deepEqual(e.shape, [0, 4]);
    assert.equal(e.numel(), 0);
  });
});

Deno.test("arange infers int64 for integer arguments and float32 otherwise", () => {
  tidy(() => {
    const a = arange(5, undefined, 1, { device });
    assert.equal(a.dtype, "int64");
    assert.deepEqual(a.toArray(), [0, 1, 2, 3, 4]);
    const b = arange(2, 8, 2, { device });
    assert.equal(b.dtype, "int64");
    assert.deepEqual(b.toArray(), [2, 4, 6]);
    const c = arange(0, 1, 0.25, { device });
    assert.equal(c.dtype, "float32");
    assert.deepEqual(c.toArray(), [0, 0.25, 0.5, 0.75]);
    const d = arange(0.5, 3, 1, { device });
    assert.equal(d.dtype, "float32");
    assert.deepEqual(d.toArray(), [0.5, 1.5, 2.5]);
    const down = arange(5, 0, -2, { device });
    assert.deepEqual(down.toArray(), [5, 3, 1]);
    const f = arange(4, undefined, 1, { dtype: "float64", device });
    assert.equal(f.dtype, "float64");
    assert.deepEqual(f.toArray(), [0, 1, 2, 3]);
    assert.throws(() => arange(0, 5, 0), RangeError);
  });
});

// ---- random ----

function stats(values: ArrayLike<number>): { mean: number; std: number; min: number; max: number } {
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    sum += values[i];
    min = Math.min(min, values[i]);
    max = Math.max(max, values[i]);
  }
  const mean = sum / values.length;
  let sq = 0;
  for (let i = 0; i < values.length; i++) sq += (values[i] - mean) ** 2;
  return { mean, std: Math.sqrt(sq / (values.length - 1)), min, max };
}

const N = 100_000;

Deno.test("rand: float32 in [0, 1) with mean 1/2 and std 1/sqrt(12)", () => {
  tidy(() => {
    manualSeed(1);
    const r = rand([N], { device });
    assert.equal(r.dtype, "float32");
    assert.deepEqual(r.shape, [N]);
    const s = stats(r.data() as Float32Array);
    assert.ok(s.min >= 0 && s.max < 1, `range [${s.min}, ${s.max}]`);
    assert.ok(Math.abs(s.mean - 0.5) < 0.01, `mean ${s.mean}`);
    assert.ok(Math.abs(s.std - 1 / Math.sqrt(12)) < 0.01, `std ${s.std}`);
    const r64 = rand([10], { dtype: "float64", device });
    assert.equal(r64.dtype, "float64");
  });
});

Deno.test("randn: mean 0, std 1, symmetric tails", () => {
  tidy(() => {
    manualSeed(2);
    const r = randn([N], { device });
    const data = r.data() as Float32Array;
    const s = stats(data);
    assert.ok(Math.abs(s.mean) < 0.02, `mean ${s.mean}`);
    assert.ok(Math.abs(s.std - 1) < 0.02, `std ${s.std}`);
    let within1 = 0;
    for (const v of data) if (Math.abs(v) < 1) within1++;
    assert.ok(Math.abs(within1 / N - 0.6827) < 0.01, `P(|z|<1) = ${within1 / N}`);
    assert.ok(s.min < -3 && s.max > 3, "tails reach beyond 3 sigma");
  });
});

Deno.test("uniform: samples in [low, high) with mean (low+high)/2", () => {
  tidy(() => {
    manualSeed(3);
    const u = uniform([N], -3, 5, { device });
    const s = stats(u.data() as Float32Array);
    assert.ok(s.min >= -3 && s.max < 5, `range [${s.min}, ${s.max}]`);
    assert.ok(s.min < -2.9 && s.max > 4.9, "covers the interval");
    assert.ok(Math.abs(s.mean - 1) < 0.05, `mean ${s.mean}`);
    assert.ok(Math.abs(s.std - 8 / Math.sqrt(12)) < 0.05, `std ${s.std}`);
    assert.throws(() => uniform([2], 1, 0, { device }), RangeError);
  });
});

Deno.test("randint: int64 in [low, high), every value hit roughly equally", () => {
  tidy(() => {
    manualSeed(4);
    const r = randint(-2, 3, [N], { device });
    assert.equal(r.dtype, "int64");
    const counts = new Map<number, number>();
    for (const v of r.data() as BigInt64Array) {
      counts.set(Number(v), (counts.get(Number(v)) ?? 0) + 1);
    }
    assert.deepEqual([...counts.keys()].sort((a, b) => a - b), [-2, -1, 0, 1, 2]);
    for (const [v, c] of counts) {
      assert.ok(Math.abs(c / N - 0.2) < 0.01, `value ${v} has frequency ${c / N}`);
    }
    const i32 = randint(0, 10, [5], { dtype: "int32", device });
    assert.equal(i32.dtype, "int32");
    assert.throws(() => randint(3, 3, [2], { device }), RangeError);
    assert.throws(() => randint(0, 1.5, [2], { device }), RangeError);
  });
});

Deno.test("manualSeed makes rand/randn/randint/uniform reproducible", () => {
  tidy(() => {
    const draw = () => [
      Array.from(rand([5], { device }).data() as Float32Array),
      Array.from(randn([5], { device }).data() as Float32Array),
      Array.from(randint(0, 1000, [5], { device }).data() as BigInt64Array, Number),
      Array.from(uniform([5], -1, 1, { device }).data() as Float32Array),
    ];
    manualSeed(1234);
    const first = draw();
    manualSeed(1234);
    const second = draw();
    assert.deepEqual(second, first);
    manualSeed(1235);
    const other = draw();
    assert.notDeepEqual(other[0], first[0]);
    // Successive draws under one seed differ.
    assert.notDeepEqual(first[0], first[3]);
    assert.throws(() => manualSeed(-1), RangeError);
    assert.throws(() => manualSeed(1.5), RangeError);
  });
});

Deno.test("getRngState/setRngState resume the CPU generator exactly", () => {
  // The state is the CPU generator's (documented), so this test samples on the CPU.
  tidy(() => {
    manualSeed(7);
    rand([3], { device: "cpu" }); // advance a little
    const state = getRngState();
    assert.equal(state.dtype, "uint8");
    assert.equal(state.device, "cpu");
    assert.ok(state.numel() > 0);
    const a = Array.from(randn([8], { device: "cpu" }).data() as Float32Array);
    const b = Array.from(randn([8], { device: "cpu" }).data() as Float32Array);
    assert.notDeepEqual(a, b);
    setRngState(state);
    const a2 = Array.from(randn([8], { device: "cpu" }).data() as Float32Array);
    assert.deepEqual(a2, a);
    // The saved tensor is unchanged by further sampling, so it can be restored twice.
    setRngState(state);
    assert.deepEqual(Array.from(randn([8], { device: "cpu" }).data() as Float32Array), a);
  });
});

// ---- errors ----

Deno.test("ragged nested arrays throw a TypeError naming the depth", () => {
  assert.throws(() => tensor([[1, 2], [3]], { device }), {
    name: "TypeError",
    message: /ragged.*depth 1/,
  });
  assert.throws(() => tensor([1, [2, 3]] as unknown as number[], { device }), TypeError);
  assert.throws(() => tensor([[1, 2], 3] as unknown as number[][], { device }), /ragged/);
  assert.throws(() => tensor(["a", "b"] as unknown as number[], { device }), TypeError);
});

Deno.test("a shape that does not match the data, or is invalid, throws a RangeError", () => {
  assert.throws(() => tensor([1, 2, 3], { shape: [2, 2], device }), {
    name: "RangeError",
    message: /needs 4 elements, data has 3/,
  });
  assert.throws(() => tensor(new Float32Array(6), { shape: [4, 2], device }), RangeError);
  assert.throws(() => zeros([2, -1], { device }), RangeError);
  assert.throws(() => ones([1.5], { device }), RangeError);
  assert.throws(() => full([NaN], 0, { device }), RangeError);
  assert.throws(() => rand([-3], { device }), RangeError);
  tidy(() => {
    const t = tensor([1, 2, 3, 4], { device });
    assert.throws(() => t.reshape(3, 2), /reshape/);
    assert.throws(() => t.view(5), /view/);
  });
});

Deno.test("an unknown dtype throws a TypeError from the filled constructors", () => {
  assert.throws(() => zeros([2], { dtype: "float128" as DType, device }), {
    name: "TypeError",
    message: /unknown dtype "float128"/,
  });
  assert.throws(() => full([2], 1, { dtype: "complex" as DType, device }), /unknown dtype/);
  tidy(() => {
    const t = tensor([1], { device });
    assert.throws(() => t.to({ dtype: "int4" as DType }), /unknown dtype "int4"/);
  });
});

Deno.test({
  name: "tensor() with an unknown dtype says 'unknown dtype'",
  fn() {
    assert.throws(() => tensor([1, 2], { dtype: "foo" as DType, device }), {
      name: "TypeError",
      message: /unknown dtype "foo"/,
    });
  },
});

Deno.test("tensor() with an unknown dtype throws a TypeError naming it", () => {
  assert.throws(() => tensor([1, 2], { dtype: "foo" as DType, device }), {
    name: "TypeError",
    message: /foo/,
  });
});

Deno.test("an unknown device name throws a TypeError listing the valid names", () => {
  assert.throws(() => zeros([2], { device: "tpu" as "cpu" }), {
    name: "TypeError",
    message: /unknown device "tpu".*"cpu"/,
  });
  assert.throws(() => tensor([1], { device: "cuda:x" as "cpu" }), /unknown device/);
  assert.throws(() => tensor([1], { device: "CPU" as "cpu" }), /unknown device/);
  tidy(() => {
    const t = tensor([1], { device });
    assert.throws(() => t.to("gpu" as "cpu"), /unknown device "gpu"/);
  });
});

Deno.test({
  name: "asking for CUDA without a GPU throws a clear Error (CPU runs only)",
  ignore: !onCpu || cudaAvailable(),
  fn() {
    assert.throws(() => zeros([2], { device: "cuda" }), {
      message: /device cuda requested, but the loaded libtorch has no CUDA or sees no GPU/,
    });
    assert.throws(() => rand([2], { device: "cuda:1" }), /no CUDA or sees no GPU/);
    tidy(() => {
      const t = tensor([1, 2], { device });
      assert.throws(() => t.to("cuda"), /no CUDA/);
      // "auto" falls back to the CPU.
      assert.equal(t.to("auto").device, "cpu");
      assert.equal(zeros([1], { device: "auto" }).device, "cpu");
    });
  },
});

Deno.test({
  name: "a CUDA index past the visible devices throws (CUDA runs only)",
  ignore: !cudaAvailable(),
  fn() {
    assert.throws(() => zeros([1], { device: "cuda:99" }), /only \d+ CUDA device/);
  },
});

Deno.test("item() on a multi-element tensor throws a TorchError, not a crash", () => {
  tidy(() => {
    const t = tensor([1, 2], { device });
    assert.throws(() => t.item(), { name: "TorchError", message: /^item: / });
  });
});

Deno.test("bool tensors from numbers: any non-zero (and NaN) is true, as in PyTorch", () => {
  const t = tensor([0, 2, -1, 0.5, NaN], { dtype: "bool", device });
  try {
    assert.deepEqual(t.toArray(), [false, true, true, true, true]);
  } finally {
    t.dispose();
  }
});

Deno.test("getRngState/setRngState of the test device's generator: its own stream, resumed exactly", () => {
  // on CUDA (HLGM_TEST_DEVICE=cuda) the device's generator, not the CPU's: a CUDA run's random
  // fills and flips draw from it, so a checkpoint keeps it too
  tidy(() => {
    manualSeed(11);
    rand([5], { device });
    const cpu = getRngState();
    const state = getRngState(device);
    const a = Array.from(rand([8], { device }).data() as Float32Array);
    setRngState(state, device);
    assert.deepEqual(Array.from(rand([8], { device }).data() as Float32Array), a);
    if (!onCpu) {
      // drawing on the GPU leaves the CPU's stream where it was
      assert.deepEqual(
        Array.from(getRngState().data() as Uint8Array),
        Array.from(cpu.data() as Uint8Array),
      );
    }
  });
});
