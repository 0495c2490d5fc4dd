/**
 * safetensors: round trips of every dtype, byte-exact agreement with the reference writer
 * (fixtures written by huggingface/safetensors from the same values), loading the Python-made
 * fixtures, validation of damaged files and atomic writes.
 *
 * Fixtures: tests/fixtures/checkpoint/make_checkpoint_fixtures.py.
 */

import assert from "node:assert/strict";
import {
  CheckpointError,
  decodeSafetensors,
  encodeSafetensors,
  loadSafetensors,
  readSafetensorsHeader,
  saveSafetensors,
} from "../src/checkpoint/mod.ts";
import { type Device, type DType, fromBytes, memory, type Tensor, tensor, zeros } from "../mod.ts";

const device = (Deno.env.get("HLGM_TEST_DEVICE") ?? "cpu") as Device;
const FIXTURES = new URL("./fixtures/checkpoint/", import.meta.url);
const fixture = (name: string) => new URL(name, FIXTURES);
/** The device name tensors report for `device` ("cuda" reads "cuda:0", "auto" resolves). */
const deviceName = (() => {
  const t = zeros([1], { device });
  try {
    return t.device;
  } finally {
    t.dispose();
  }
})();

interface Expected {
  dtype: DType;
  shape: number[];
  values: (number | string | boolean)[];
}
const EXPECTED = JSON.parse(
  Deno.readTextFileSync(fixture("safetensors_expected.json")),
) as Record<string, { tensors: Record<string, Expected>; metadata: Record<string, string> | null }>;

/** A tensor with the expected values (int64 given as strings, exact). */
function build(e: Expected): Tensor {
  if (e.dtype === "int64") {
    return tensor(BigInt64Array.from(e.values, (v) => BigInt(v as string)), {
      shape: e.shape,
      device,
    });
  }
  if (e.dtype === "bool") {
    return tensor(Uint8Array.from(e.values, (v) => (v ? 1 : 0)), {
      shape: e.shape,
      dtype: "bool",
      device,
    });
  }
  return tensor(e.values as number[], { shape: e.shape, dtype: e.dtype, device });
}

/** Asserts a tensor's dtype, shape, device and exact values. */
function assertTensor(t: Tensor, e: Expected, name: string): void {
  assert.equal(t.dtype, e.dtype, `${name}: dtype`);
  assert.deepEqual([...t.shape], e.shape, `${name}: shape`);
  assert.equal(t.device, deviceName, `${name}: device`);
  const data = t.data();
  const got = Array.from(data as ArrayLike<number | bigint>, (v) => String(v));
  const want = e.values.map((v) =>
    e.dtype === "bool" ? (v ? "1" : "0") : e.dtype === "int64" ? String(v) : String(Number(v))
  );
  assert.deepEqual(got, want, `${name}: values`);
}

function disposeAll(m: Map<string, Tensor>): void {
  for (const t of m.values()) t.dispose();
}

function withTempDir(fn: (dir: string) => void): void {
  const dir = Deno.makeTempDirSync({ prefix: "hlgm-st-" });
  try {
    fn(dir);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

/** Asserts that `fn` throws a CheckpointError whose message matches every pattern. */
function assertFails(fn: () => unknown, ...patterns: RegExp[]): CheckpointError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof CheckpointError, `expected a CheckpointError, got ${caught}`);
  for (const p of patterns) assert.match(caught.message, p);
  return caught;
}

/** A safetensors file from a header (object or raw text) and data bytes, unvalidated. */
function craft(header: unknown, data: Uint8Array | number = 0, pad = true): Uint8Array {
  let json = new TextEncoder().encode(typeof header === "string" ? header : JSON.stringify(header));
  if (pad && json.length % 8) {
    const padded = new Uint8Array(Math.ceil(json.length / 8) * 8).fill(0x20);
    padded.set(json);
    json = padded;
  }
  const body = typeof data === "number" ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + json.length + body.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(body, 8 + json.length);
  return out;
}

const ALL_DTYPES: [DType, number[]][] = [
  ["float32", [1.5, -2.25, 2 ** -30, 2 ** 100]],
  ["float64", [Math.PI, -1e-300, 1e300, 0.1]],
  ["float16", [0.5, -65504, 6.103515625e-5, 1]],
  ["bfloat16", [1, -3.140625, 256, 0.0078125]],
  ["int64", [0, -1, 2 ** 52, -(2 ** 40)]],
  ["int32", [-2147483648, 2147483647, 0, 9]],
  ["int16", [-32768, 32767, 1, -1]],
  ["int8", [-128, 127, 3, -3]],
  ["uint8", [0, 255, 128, 7]],
  ["bool", [1, 0, 0, 1]],
];

Deno.test("safetensors: every dtype round-trips bit for bit, in memory and through a file", () => {
  const tensors = new Map<string, Tensor>();
  for (const [dtype, values] of ALL_DTYPES) {
    tensors.set(`t.${dtype}`, tensor(values, { dtype, shape: [2, 2], device }));
  }
  const meta = { "format": "pt", "ünï": "cödé ✓" };
  const bytes = encodeSafetensors(tensors, meta);
  const decoded = decodeSafetensors(bytes, { device });
  withTempDir((dir) => {
    const path = `${dir}/all.safetensors`;
    saveSafetensors(path, tensors, meta);
    assert.deepEqual(Deno.readFileSync(path), bytes, "file bytes equal the in-memory encoding");
    const loaded = loadSafetensors(path, { device });
    try {
      for (const got of [decoded, loaded]) {
        assert.deepEqual(got.metadata, meta);
        assert.equal(got.tensors.size, ALL_DTYPES.length);
        for (const [dtype, values] of ALL_DTYPES) {
          const name = `t.${dtype}`;
          const t = got.tensors.get(name)!;
          assert.equal(t.dtype, dtype, name);
          assert.deepEqual([...t.shape], [2, 2], name);
          assert.deepEqual(t.bytes(), tensors.get(name)!.bytes(), `${name} bytes`);
          assert.deepEqual(Array.from(t.data() as ArrayLike<number | bigint>, Number), values);
        }
      }
    } finally {
      disposeAll(loaded.tensors);
    }
  });
  disposeAll(decoded.tensors);
  disposeAll(tensors);
});

Deno.test("safetensors: bytes equal the reference writer's for the same tensors", () => {
  for (const file of ["reference.safetensors", "no_metadata.safetensors"]) {
    const spec = EXPECTED[file];
    const tensors = new Map<string, Tensor>();
    for (const [name, e] of Object.entries(spec.tensors)) tensors.set(name, build(e));
    try {
      const want = Deno.readFileSync(fixture(file));
      const got = encodeSafetensors(tensors, spec.metadata ?? undefined);
      assert.equal(got.length, want.length, `${file}: length`);
      const n = Number(new DataView(want.buffer).getBigUint64(0, true));
      const td = new TextDecoder();
      assert.equal(td.decode(got.subarray(8, 8 + n)), td.decode(want.subarray(8, 8 + n)), file);
      assert.deepEqual(got, want, `${file}: byte for byte`);
      withTempDir((dir) => {
        saveSafetensors(
          `${dir}/x.safetensors`,
          Object.fromEntries(tensors),
          spec.metadata ?? undefined,
        );
        assert.deepEqual(Deno.readFileSync(`${dir}/x.safetensors`), want, `${file}: saved file`);
      });
    } finally {
      disposeAll(tensors);
    }
  }
});

Deno.test("safetensors: the Python-written fixtures load with names, dtypes, values, metadata", () => {
  for (
    const file of ["reference.safetensors", "no_metadata.safetensors", "multi_metadata.safetensors"]
  ) {
    const spec = EXPECTED[file];
    const { tensors, metadata } = loadSafetensors(fixture(file), { device });
    try {
      assert.deepEqual(metadata, spec.metadata ?? {}, `${file}: metadata`);
      assert.deepEqual([...tensors.keys()].sort(), Object.keys(spec.tensors).sort(), file);
      for (const [name, e] of Object.entries(spec.tensors)) {
        assertTensor(tensors.get(name)!, e, `${file} ${name}`);
      }
    } finally {
      disposeAll(tensors);
    }
  }
});

Deno.test("safetensors: readSafetensorsHeader gives file order, offsets and padding", () => {
  const h = readSafetensorsHeader(fixture("reference.safetensors"));
  assert.equal(h.headerLength % 8, 0);
  assert.equal(h.hasMetadata, true);
  const names = [...h.tensors.keys()];
  // dtype alignment descending (I64, F64, F32, I32, BF16, F16, I16, I8, U8, BOOL), then name
  assert.deepEqual(names.slice(0, 4), ["long", "B", "a.weight", "empty"]);
  assert.deepEqual(names.slice(-2), ["ctrl\u0001", "mask"]);
  let at = 0;
  for (const e of h.tensors.values()) {
    assert.equal(e.dataOffsets[0], at);
    at = e.dataOffsets[1];
  }
  const size = Deno.statSync(fixture("reference.safetensors")).size;
  assert.equal(8 + h.headerLength + at, size);
  assert.equal(readSafetensorsHeader(fixture("no_metadata.safetensors")).hasMetadata, false);
});

Deno.test("safetensors: names sort by UTF-8 bytes within a dtype, like the reference", () => {
  // UTF-16 order would put U+1F600 (a surrogate pair, 0xD83D...) before U+FF61; UTF-8 order
  // (EF BD A1 < F0 9F 98 80) puts U+FF61 first.
  const ts = {
    "\u{1F600}": tensor([1], { device }),
    "\uFF61": tensor([2], { device }),
    "Z": tensor([3], { device }),
    "a": tensor([4], { dtype: "int64", device }),
  };
  try {
    const h = readSafetensorsHeader(encodeSafetensors(ts));
    assert.deepEqual([...h.tensors.keys()], ["a", "Z", "\uFF61", "\u{1F600}"]);
  } finally {
    for (const t of Object.values(ts)) t.dispose();
  }
});

Deno.test("safetensors: non-contiguous and 0-d inputs are written row-major", () => {
  const base = tensor([[1, 2, 3], [4, 5, 6]], { device });
  const tr = base.transpose(0, 1);
  const scalar = tensor(7, { dtype: "int32", device });
  try {
    const { tensors } = decodeSafetensors(encodeSafetensors({ tr, scalar }), { device });
    assert.deepEqual(tensors.get("tr")!.toArray(), [[1, 4], [2, 5], [3, 6]]);
    assert.deepEqual([...tensors.get("scalar")!.shape], []);
    assert.equal(tensors.get("scalar")!.item(), 7);
    disposeAll(tensors);
  } finally {
    base.dispose();
    tr.dispose();
    scalar.dispose();
  }
});

Deno.test("safetensors: truncated files give clear errors at every cut", () => {
  const good = Deno.readFileSync(fixture("reference.safetensors"));
  const n = Number(new DataView(good.buffer).getBigUint64(0, true));
  const cuts = [0, 3, 7, 8, 9, 20, 8 + n - 1, 8 + n, 8 + n + 1, good.length - 1];
  for (const cut of cuts) {
    const e = assertFails(() => decodeSafetensors(good.subarray(0, cut)), /^<bytes>: /);
    if (cut < 8) assert.match(e.message, /too short/);
    else if (cut < 8 + n) assert.match(e.message, /header length \d+ exceeds/);
    else assert.match(e.message, /beyond the \d+ data bytes|truncated/);
  }
  // and from a file: the message names the path
  withTempDir((dir) => {
    const path = `${dir}/cut.safetensors`;
    Deno.writeFileSync(path, good.subarray(0, good.length - 5));
    assertFails(() => loadSafetensors(path), new RegExp(`^${path}: `), /truncated/);
  });
});

Deno.test("safetensors: bad header lengths, JSON and UTF-8 are reported", () => {
  const huge = new Uint8Array(16);
  new DataView(huge.buffer).setBigUint64(0, 0xffffffffffffffffn, true);
  assertFails(() => decodeSafetensors(huge), /header length 18446744073709551615 exceeds/);
  const long = craft({}, 0);
  new DataView(long.buffer).setBigUint64(0, 1000n, true);
  assertFails(() => decodeSafetensors(long), /header length 1000 exceeds the 8 bytes/);
  assertFails(() => decodeSafetensors(craft("{not json")), /not valid JSON/);
  assertFails(() => decodeSafetensors(craft("[1, 2, 3]")), /not an object/);
  const badUtf8 = craft("{}      ");
  badUtf8[9] = 0xff;
  assertFails(() => decodeSafetensors(badUtf8), /not valid UTF-8/);
  assertFails(() => decodeSafetensors(craft({ __metadata__: { a: 1 } })), /"a" is not a string/);
  assertFails(
    () => decodeSafetensors(craft({ __metadata__: [] })),
    /__metadata__ is not an object/,
  );
  // an empty file (header "{}") is valid
  const empty = decodeSafetensors(craft({}));
  assert.equal(empty.tensors.size, 0);
  assert.deepEqual(empty.metadata, {});
});

Deno.test("safetensors: bad dtypes, shapes and offsets are reported with the tensor name", () => {
  const t = (dtype: string, shape: unknown, offs: unknown) => ({
    dtype,
    shape,
    data_offsets: offs,
  });
  const cases: [unknown, number, RegExp][] = [
    [{ w: t("F33", [2], [0, 8]) }, 8, /tensor "w": unknown dtype "F33"/],
    [{ w: t("U16", [2], [0, 4]) }, 4, /"w": dtype U16 is valid safetensors but not supported/],
    [
      { w: t("F32", [3], [0, 8]) },
      8,
      /"w": shape \[3\] of F32 needs 12 bytes but data_offsets \[0, 8\] span 8/,
    ],
    [{ w: t("F32", [-2], [0, 8]) }, 8, /"w": shape \[-2\] is not a list of non-negative integers/],
    [{ w: t("F32", [2], [0]) }, 8, /"w": data_offsets \[0\] is not a pair/],
    [{ w: t("F32", [0], [8, 0]) }, 8, /"w": data_offsets \[8, 0\] end before they begin/],
    [{ w: { shape: [2], data_offsets: [0, 8] } }, 8, /"w": dtype is missing/],
    [{ w: 5 }, 8, /"w": entry is not an object/],
    [
      { w: t("F32", [2], [0, 8]), v: t("F32", [2], [4, 12]) },
      12,
      /"v" \(bytes 4..12\) overlaps tensor "w"/,
    ],
    [
      { w: t("F32", [2], [0, 8]), v: t("F32", [1], [12, 16]) },
      16,
      /bytes 8..12 of the data buffer belong to no tensor/,
    ],
    [{ w: t("F32", [2], [0, 8]) }, 12, /cover 8 data bytes but the file has 12/],
    [{ w: t("F32", [2], [8, 16]) }, 8, /"w": data_offsets \[8, 16\] lie beyond the 8 data bytes/],
    [{ w: t("F32", [2 ** 40, 2 ** 40], [0, 8]) }, 8, /needs \d+ bytes but/],
  ];
  for (const [header, dataLen, pattern] of cases) {
    assertFails(() => decodeSafetensors(craft(header, dataLen)), pattern);
  }
  // duplicate JSON keys: the last one wins, the first one's bytes then belong to no tensor
  const dup = '{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},' +
    '"w":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}';
  assertFails(
    () => decodeSafetensors(craft(dup, 8)),
    /bytes 0..4 of the data buffer belong to no tensor/,
  );
});

Deno.test("safetensors: unpadded headers and any tensor order in the file are accepted", () => {
  const data = new Uint8Array(new Float32Array([1, 2, 3]).buffer);
  const header = {
    b: { dtype: "F32", shape: [2], data_offsets: [4, 12] },
    a: { dtype: "F32", shape: [], data_offsets: [0, 4] },
  };
  const { tensors } = decodeSafetensors(craft(header, data, false), { device });
  try {
    assert.deepEqual([...tensors.keys()], ["a", "b"]);
    assert.equal(tensors.get("a")!.item(), 1);
    assert.deepEqual(tensors.get("b")!.toArray(), [2, 3]);
  } finally {
    disposeAll(tensors);
  }
});

Deno.test("safetensors: a failed save leaves the previous file intact and no temp file", () => {
  withTempDir((dir) => {
    const path = `${dir}/model.safetensors`;
    const a = tensor([1, 2, 3], { device });
    const b = tensor([4, 5], { device });
    saveSafetensors(path, { a, b }, { v: "1" });
    const before = Deno.readFileSync(path);

    // 1. a tensor fails while its bytes are being written (after the temp file exists)
    const failing = tensor([9, 9, 9, 9], { device });
    failing.bytes = () => {
      throw new Error("device lost");
    };
    assertFails(() => saveSafetensors(path, { a, z: failing }, { v: "2" }), /device lost/);
    assert.deepEqual(Deno.readFileSync(path), before);

    // 2. a tensor disposed before the save
    const gone = tensor([1], { device });
    gone.dispose();
    assertFails(() => saveSafetensors(path, { a, gone }), /"gone": this Tensor was disposed/);
    assert.deepEqual(Deno.readFileSync(path), before);

    // 3. invalid names and metadata are refused before anything is written
    assertFails(() => saveSafetensors(path, { __metadata__: a }), /reserved/);
    assertFails(
      () => saveSafetensors(path, { a }, { n: 3 as unknown as string }),
      /metadata value of "n" must be a string/,
    );
    assertFails(() => saveSafetensors(path, { "bad\uD800": a }), /lone UTF-16 surrogate/);
    assert.deepEqual(Deno.readFileSync(path), before);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["model.safetensors"]);

    // 4. a folder that does not exist
    assertFails(() => saveSafetensors(`${dir}/missing/x.safetensors`, { a }), /write failed/);

    // and a successful save replaces the file
    saveSafetensors(path, { a }, { v: "3" });
    const { tensors, metadata } = loadSafetensors(path, { device });
    assert.deepEqual(metadata, { v: "3" });
    assert.deepEqual(tensors.get("a")!.toArray(), [1, 2, 3]);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["model.safetensors"]);
    disposeAll(tensors);
    for (const t of [a, b, failing]) t.dispose();
  });
});

Deno.test("safetensors: loading errors name the file; failed loads leave no tensors", () => {
  assertFails(
    () => loadSafetensors("/nonexistent/x.safetensors"),
    /^\/nonexistent\/x.safetensors: cannot open/,
  );
  // decoding bytes that sit inside a larger buffer (non-zero byteOffset)
  const t = fromBytes(new Uint8Array([1, 0, 0, 0]), "int32", [1], { device });
  const inner = encodeSafetensors({ t });
  const outer = new Uint8Array(inner.length + 3);
  outer.set(inner, 3);
  const { tensors } = decodeSafetensors(outer.subarray(3), { device });
  assert.equal(tensors.get("t")!.item(), 1);
  disposeAll(tensors);
  t.dispose();
  // a load that fails while creating tensors (an unknown device) frees what it made
  const live = memory().liveTensors;
  assert.throws(
    () => decodeSafetensors(inner, { device: "tpu" as Device }),
    /unknown device "tpu"/,
  );
  assert.equal(memory().liveTensors, live);
});
