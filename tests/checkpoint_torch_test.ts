/**
 * PyTorch checkpoints (torch.save's ZIP format): state dicts, wrappers, views that share a
 * storage, non-contiguous and expanded tensors, every dtype, protocol 2 and 4 pickles, the
 * 2.x untyped-storage layout, ZIP64 and deflated archives; refusal of malicious pickles and
 * big-endian files; clear errors (never a crash or a hang) for truncated or damaged files.
 *
 * Fixtures: tests/fixtures/checkpoint/make_checkpoint_fixtures.py (PyTorch 1.13).
 */

import assert from "node:assert/strict";
import { deflateRawSync } from "node:zlib";
import {
  CheckpointError,
  loadTorchFile,
  loadTorchObject,
  PickleDict,
} from "../src/checkpoint/mod.ts";
import { openSource } from "../src/checkpoint/io.ts";
import { crc32, crc32js, ZipReader } from "../src/checkpoint/zip.ts";
import { unpickle, type UnpickleHooks } from "../src/checkpoint/pickle.ts";
import { type Device, type DType, memory, Tensor, zeros } from "../mod.ts";

const device = (Deno.env.get("HLGM_TEST_DEVICE") ?? "cpu") as Device;
/** The device name tensors report for `device` ("cuda" reads "cuda:0", "auto" resolves). */
const deviceName = (() => {
  const t = zeros([1], { device });
  try {
    return t.device;
  } finally {
    t.dispose();
  }
})();
const FIXTURES = new URL("./fixtures/checkpoint/", import.meta.url);
const fixture = (name: string) => new URL(name, FIXTURES);
const PWNED = "/tmp/hlgm_checkpoint_pwned";

interface Expected {
  dtype: DType;
  shape: number[];
  values: (number | string | boolean)[];
}
const EXPECTED = JSON.parse(
  Deno.readTextFileSync(fixture("torch_expected.json")),
) as Record<string, Record<string, Expected>>;

function assertTensor(t: Tensor, e: Expected, name: string): void {
  assert.ok(t instanceof Tensor, `${name}: not a Tensor`);
  assert.equal(t.dtype, e.dtype, `${name}: dtype`);
  assert.deepEqual([...t.shape], e.shape, `${name}: shape`);
  assert.equal(t.device, deviceName, `${name}: device`);
  const got = Array.from(t.data() as ArrayLike<number | bigint>, (v) => String(v));
  const want = e.values.map((v) =>
    e.dtype === "bool" ? (v ? "1" : "0") : e.dtype === "int64" ? String(v) : String(Number(v))
  );
  assert.deepEqual(got, want, `${name}: values`);
}

function assertMatches(m: Map<string, Tensor>, expected: Record<string, Expected>, what: string) {
  assert.deepEqual([...m.keys()], Object.keys(expected), `${what}: names in file order`);
  for (const [name, e] of Object.entries(expected)) {
    assertTensor(m.get(name)!, e, `${what} ${name}`);
  }
}

function disposeAll(m: Map<string, Tensor>): void {
  for (const t of m.values()) t.dispose();
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

/** The entries of a ZIP archive, in order. */
function unzip(bytes: Uint8Array): [string, Uint8Array][] {
  const z = new ZipReader(openSource(bytes));
  return z.names.map((n) => [n, z.read(n).slice()]);
}

/** A ZIP archive, stored or deflated, optionally with every size and offset in ZIP64 fields. */
function makeZip(
  entries: [string, Uint8Array][],
  options: { deflate?: boolean; zip64?: boolean } = {},
): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let at = 0;
  const z64 = options.zip64 ?? false;
  const push = (b: Uint8Array) => {
    parts.push(b);
    at += b.length;
  };
  for (const [name, data] of entries) {
    const nameBytes = new TextEncoder().encode(name);
    const body = options.deflate ? new Uint8Array(deflateRawSync(data)) : data;
    const method = options.deflate ? 8 : 0;
    const crc = crc32(data);
    const offset = at;
    const local = new DataView(new ArrayBuffer(30 + nameBytes.length + (z64 ? 20 : 0)));
    local.setUint32(0, 0x04034b50, true);
    local.setUint16(4, z64 ? 45 : 20, true);
    local.setUint16(8, method, true);
    local.setUint16(12, 0x21, true);
    local.setUint32(14, crc, true);
    local.setUint32(18, z64 ? 0xffffffff : body.length, true);
    local.setUint32(22, z64 ? 0xffffffff : data.length, true);
    local.setUint16(26, nameBytes.length, true);
    local.setUint16(28, z64 ? 20 : 0, true);
    new Uint8Array(local.buffer).set(nameBytes, 30);
    if (z64) {
      const x = 30 + nameBytes.length;
      local.setUint16(x, 1, true);
      local.setUint16(x + 2, 16, true);
      local.setBigUint64(x + 4, BigInt(data.length), true);
      local.setBigUint64(x + 12, BigInt(body.length), true);
    }
    push(new Uint8Array(local.buffer));
    push(body);
    const c = new DataView(new ArrayBuffer(46 + nameBytes.length + (z64 ? 28 : 0)));
    c.setUint32(0, 0x02014b50, true);
    c.setUint16(4, 45, true);
    c.setUint16(6, z64 ? 45 : 20, true);
    c.setUint16(10, method, true);
    c.setUint16(14, 0x21, true);
    c.setUint32(16, crc, true);
    c.setUint32(20, z64 ? 0xffffffff : body.length, true);
    c.setUint32(24, z64 ? 0xffffffff : data.length, true);
    c.setUint16(28, nameBytes.length, true);
    c.setUint16(30, z64 ? 28 : 0, true);
    c.setUint32(42, z64 ? 0xffffffff : offset, true);
    new Uint8Array(c.buffer).set(nameBytes, 46);
    if (z64) {
      const x = 46 + nameBytes.length;
      c.setUint16(x, 1, true);
      c.setUint16(x + 2, 24, true);
      c.setBigUint64(x + 4, BigInt(data.length), true);
      c.setBigUint64(x + 12, BigInt(body.length), true);
      c.setBigUint64(x + 20, BigInt(offset), true);
    }
    central.push(new Uint8Array(c.buffer));
  }
  const cdOffset = at;
  for (const c of central) push(c);
  const cdSize = at - cdOffset;
  if (z64) {
    const e = new DataView(new ArrayBuffer(56));
    const z64At = at;
    e.setUint32(0, 0x06064b50, true);
    e.setBigUint64(4, 44n, true);
    e.setUint16(12, 45, true);
    e.setUint16(14, 45, true);
    e.setBigUint64(24, BigInt(entries.length), true);
    e.setBigUint64(32, BigInt(entries.length), true);
    e.setBigUint64(40, BigInt(cdSize), true);
    e.setBigUint64(48, BigInt(cdOffset), true);
    push(new Uint8Array(e.buffer));
    const loc = new DataView(new ArrayBuffer(20));
    loc.setUint32(0, 0x07064b50, true);
    loc.setBigUint64(8, BigInt(z64At), true);
    loc.setUint32(16, 1, true);
    push(new Uint8Array(loc.buffer));
  }
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true);
  end.setUint16(8, z64 ? 0xffff : entries.length, true);
  end.setUint16(10, z64 ? 0xffff : entries.length, true);
  end.setUint32(12, z64 ? 0xffffffff : cdSize, true);
  end.setUint32(16, z64 ? 0xffffffff : cdOffset, true);
  push(new Uint8Array(end.buffer));
  const out = new Uint8Array(at);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

// ---- a tiny pickle assembler for hand-made cases ----

const enc = new TextEncoder();
/** Concatenates opcodes: numbers are bytes, strings are Latin-1 text. */
function pk(...parts: (number | string | Uint8Array)[]): Uint8Array {
  const bytes: number[] = [];
  for (const p of parts) {
    if (typeof p === "number") bytes.push(p);
    else if (typeof p === "string") { for (const ch of p) bytes.push(ch.charCodeAt(0)); }
    else bytes.push(...p);
  }
  return new Uint8Array(bytes);
}
/** BINUNICODE */
function str(s: string): Uint8Array {
  const b = enc.encode(s);
  return pk("X", b.length & 0xff, (b.length >> 8) & 0xff, 0, 0, b);
}
/** A float32 tensor of `n` elements on storage "0" (offset 0, contiguous), as torch.save writes. */
function tensorOps(n: number): Uint8Array {
  return pk(
    "ctorch._utils\n_rebuild_tensor_v2\n((",
    str("storage"),
    "ctorch\nFloatStorage\n",
    str("0"),
    str("cpu"),
    "K",
    n,
    "tQK\x00K",
    n,
    "\x85K\x01\x85\x89ccollections\nOrderedDict\n)RtR",
  );
}
/** A checkpoint archive around a pickle, with storage "0" holding `storage`. */
function checkpoint(pkl: Uint8Array, storage = new Float32Array([1, 2, 3, 4])): Uint8Array {
  return makeZip([
    ["archive/data.pkl", pkl],
    ["archive/data/0", new Uint8Array(storage.buffer)],
    ["archive/version", enc.encode("3\n")],
  ]);
}

// ---- tests ----

Deno.test("torch: a Conv/BatchNorm/Linear state dict loads with names, dtypes, values", () => {
  const m = loadTorchFile(fixture("state_dict.pt"), { device });
  try {
    assertMatches(m, EXPECTED["state_dict.pt"], "state_dict.pt");
    assert.equal(m.get("1.num_batches_tracked")!.item(), 1);
    assert.equal(m.get("0.weight")!.requiresGrad, false);
  } finally {
    disposeAll(m);
  }
});

Deno.test("torch: a training checkpoint gives its state dict; the raw structure is there too", () => {
  const m = loadTorchFile(fixture("wrapped.pt"), { device });
  try {
    assertMatches(m, EXPECTED["state_dict.pt"], "wrapped.pt");
  } finally {
    disposeAll(m);
  }
  const opt = loadTorchFile(fixture("wrapped.pt"), { device, key: "optimizer" });
  try {
    assert.deepEqual([...opt.keys()], ["state.0.exp_avg"]);
    assertTensor(opt.get("state.0.exp_avg")!, EXPECTED.wrapped_opt_state.exp_avg, "exp_avg");
  } finally {
    disposeAll(opt);
  }
  assertFails(
    () => loadTorchFile(fixture("wrapped.pt"), { key: "ema" }),
    /no entry "ema" at the top level \(it has "state_dict", "epoch", /,
  );

  const live = memory().liveTensors;
  const root = loadTorchObject(fixture("wrapped.pt"), { device }) as PickleDict;
  assert.ok(root instanceof PickleDict && !root.ordered);
  assert.equal(root.get("epoch"), 3);
  assert.equal(root.get("best"), 0.875);
  assert.equal(root.get("name"), "run-1");
  assert.deepEqual(root.get("tags"), ["a", "b"]);
  assert.ok(!Object.isFrozen(root.get("tags")), "a list is a plain array");
  assert.deepEqual(root.get("shape"), [1, 2]);
  assert.ok(Object.isFrozen(root.get("shape")), "a tuple is a frozen array");
  assert.equal(root.get("big"), 2n ** 62n + 1n);
  assert.equal(root.get("neg"), -7);
  assert.equal(root.get("none"), null);
  assert.equal(root.get("flag"), true);
  assert.deepEqual(root.get("raw"), new Uint8Array([0, 255, 97, 98]));
  const sd = root.get("state_dict") as PickleDict;
  assert.ok(sd.ordered, "a state dict is an OrderedDict");
  const meta = sd.attributes._metadata as PickleDict;
  assert.equal((meta.get("") as PickleDict).get("version"), 1);
  assert.equal((meta.get("1") as PickleDict).get("version"), 2);
  assertTensor(sd.get("3.bias") as Tensor, EXPECTED["state_dict.pt"]["3.bias"], "3.bias");
  const optimizer = root.get("optimizer") as PickleDict;
  assert.equal(optimizer.get("lr"), 0.1);
  const state0 = (optimizer.get("state") as PickleDict).get(0) as PickleDict;
  assertTensor(state0.get("exp_avg") as Tensor, EXPECTED.wrapped_opt_state.exp_avg, "exp_avg");
  assert.equal(memory().liveTensors, live + 10, "10 tensors were made");
  for (const t of sd.values()) (t as Tensor).dispose();
  (state0.get("exp_avg") as Tensor).dispose();
  assert.equal(memory().liveTensors, live);
});

Deno.test("torch: views sharing a storage, offsets, strides, stride 0 and all dtypes", () => {
  const m = loadTorchFile(fixture("views.pt"), { device });
  try {
    assertMatches(m, EXPECTED["views.pt"], "views.pt");
    assert.deepEqual(m.get("c")!.toArray(), [[0, 5], [1, 6], [2, 7], [3, 8], [4, 9]]);
    assert.deepEqual(m.get("e")!.toArray(), [[1, 2, 3], [6, 7, 8]]);
    assert.deepEqual(m.get("f")!.toArray(), [[1, 2], [1, 2], [1, 2]]);
    // every name owns its tensor: tied names are not aliases once loaded
    assert.notEqual(m.get("b"), m.get("tied"));
    m.get("b")!.add_(100);
    assert.deepEqual(m.get("a")!.toArray(), [2, 3, 4, 5]);
    assert.deepEqual(m.get("tied")!.toArray(), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  } finally {
    disposeAll(m);
  }
  // loadTorchObject keeps Python's object identity: the same tensor under two names
  const root = loadTorchObject(fixture("views.pt"), { device }) as PickleDict;
  try {
    assert.equal(root.get("b"), root.get("tied"));
    assertTensor(root.get("d") as Tensor, EXPECTED["views.pt"].d, "d");
  } finally {
    for (const t of new Set(root.values())) (t as Tensor).dispose();
  }
});

Deno.test("torch: a bare nn.Parameter loads as one tensor that requires grad", () => {
  const m = loadTorchFile(fixture("parameter.pt"), { device });
  try {
    assertMatches(m, EXPECTED["parameter.pt"], "parameter.pt");
    assert.equal(m.get("")!.requiresGrad, true);
  } finally {
    disposeAll(m);
  }
  const t = loadTorchObject(fixture("parameter.pt"), { device }) as Tensor;
  assert.ok(t instanceof Tensor);
  assert.deepEqual(t.toArray(), [[1, 2], [3, 4]]);
  t.dispose();
});

Deno.test("torch: protocol 4 pickles and PyTorch 2.x untyped storages (_rebuild_tensor_v3)", () => {
  for (const file of ["protocol4.pt", "v3_untyped.pt"]) {
    const m = loadTorchFile(fixture(file), { device });
    try {
      assertMatches(m, EXPECTED[file], file);
    } finally {
      disposeAll(m);
    }
  }
});

Deno.test("torch: malicious pickles are refused, naming the global, and nothing runs", () => {
  try {
    Deno.removeSync(PWNED);
  } catch { /* absent */ }
  const live = memory().liveTensors;
  const cases: [string, RegExp[]][] = [
    ["malicious.pt", [/refusing to load the global "posix\.system"/, /never runs code/]],
    ["malicious_eval.pt", [/refusing to load the global "builtins\.eval"/]],
    ["malicious_class.pt", [/refusing to load the global "__main__\.Foo"/, /state_dict\(\)/]],
  ];
  for (const [file, patterns] of cases) {
    const path = fixture(file).pathname;
    assertFails(
      () => loadTorchFile(fixture(file)),
      new RegExp(`^${path}: `),
      /data\.pkl: byte \d+/,
      ...patterns,
    );
    assertFails(() => loadTorchObject(fixture(file)), ...patterns);
  }
  assert.equal(memory().liveTensors, live, "no tensor was left behind");
  assert.throws(() => Deno.statSync(PWNED), Deno.errors.NotFound, "the payload never ran");
});

Deno.test("torch: big-endian, legacy, TorchScript and non-checkpoint files are refused", () => {
  assertFails(() => loadTorchFile(fixture("big_endian.pt")), /saved on a big-endian machine/);
  assertFails(() => loadTorchFile(pk("\x80\x02\x8a\x0a")), /legacy \(pre-1\.6/);
  assertFails(() => loadTorchFile(enc.encode("hello, world")), /not a PyTorch checkpoint/);
  assertFails(() => loadTorchFile(new Uint8Array(0)), /not a PyTorch checkpoint/);
  const script = makeZip([["m/constants.pkl", pk("\x80\x02).")], ["m/code/m.py", enc.encode("")]]);
  assertFails(() => loadTorchFile(script), /TorchScript archive/);
  const flat = makeZip([["data.pkl", pk("\x80\x02}.")]]);
  assertFails(() => loadTorchFile(flat), /entries are not in a folder/);
  assertFails(
    () => loadTorchFile("/nonexistent/model.pt"),
    /^\/nonexistent\/model\.pt: cannot open/,
  );
});

Deno.test("torch: truncated archives give clear errors at every cut, never a crash", () => {
  const good = Deno.readFileSync(fixture("state_dict.pt"));
  const live = memory().liveTensors;
  let zipErrors = 0;
  for (let cut = 0; cut < good.length; cut += 37) {
    const e = assertFails(() => loadTorchFile(good.subarray(0, cut)), /^<bytes>: /);
    if (/end-of-central-directory record/.test(e.message)) zipErrors++;
  }
  assert.ok(zipErrors > 50, "most cuts lose the end of the central directory");
  // the end record kept but the data cut out of the middle
  const tail = good.subarray(good.length - 200);
  const holed = new Uint8Array(good.length - 1000);
  holed.set(good.subarray(0, holed.length - 200));
  holed.set(tail, holed.length - 200);
  assertFails(() => loadTorchFile(holed), /corrupt ZIP|beyond the end|truncated/);
  assert.equal(memory().liveTensors, live);
});

Deno.test("torch: damaged bytes are caught by the CRC or the structure checks", () => {
  const good = Deno.readFileSync(fixture("views.pt"));
  const entries = unzip(good);
  const dataAt = (name: string) => {
    const z = new ZipReader(openSource(good));
    const e = z.entries.get(name)!;
    const dv = new DataView(good.buffer, good.byteOffset + e.localOffset);
    return e.localOffset + 30 + dv.getUint16(26, true) + dv.getUint16(28, true);
  };
  const storage = entries.find(([n]) => n.endsWith("/data/0"))![0];
  const bad = good.slice();
  bad[dataAt(storage) + 5] ^= 0x40;
  assertFails(() => loadTorchFile(bad), new RegExp(`CRC-32 of "${storage}"`));
  // a storage shorter than the pickle says
  const short = makeZip(entries.map(([n, d]) => [n, n === storage ? d.subarray(0, 8) : d]));
  assertFails(
    () => loadTorchFile(short),
    /storage "0" has 8 bytes, but the pickle says 10 float32/,
  );
  // a storage that is missing
  const missing = makeZip(entries.filter(([n]) => n !== storage));
  assertFails(() => loadTorchFile(missing), /storage "0" is missing from the archive/);
  // random damage anywhere in the archive (headers, directory, data)
  let seed = 777;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const live = memory().liveTensors;
  let refused = 0;
  for (let i = 0; i < 300; i++) {
    const damaged = good.slice();
    for (let k = 0, n = 1 + rand(3); k < n; k++) damaged[rand(damaged.length)] = rand(256);
    try {
      disposeAll(loadTorchFile(damaged));
    } catch (e) {
      assert.ok(e instanceof CheckpointError, `iteration ${i}: ${e}`);
      refused++;
    }
  }
  assert.ok(refused > 100, `most damage is detected (${refused} of 300)`);
  assert.equal(memory().liveTensors, live);
});

Deno.test("torch: deflated and ZIP64 archives load the same tensors", () => {
  const good = Deno.readFileSync(fixture("views.pt"));
  const entries = unzip(good);
  const reference = loadTorchFile(good, { device });
  try {
    for (const options of [{ deflate: true }, { zip64: true }, { deflate: true, zip64: true }]) {
      const m = loadTorchFile(makeZip(entries, options), { device });
      try {
        assert.deepEqual([...m.keys()], [...reference.keys()]);
        for (const [name, t] of m) {
          assert.deepEqual(
            t.bytes(),
            reference.get(name)!.bytes(),
            `${JSON.stringify(options)} ${name}`,
          );
        }
      } finally {
        disposeAll(m);
      }
    }
  } finally {
    disposeAll(reference);
  }
  const check = enc.encode("123456789");
  assert.equal(crc32(check), 0xcbf43926);
  assert.equal(crc32js(check), 0xcbf43926);
  const noise = Uint8Array.from({ length: 5000 }, (_, i) => (i * 7919) % 251);
  assert.equal(crc32js(noise), crc32(noise));
});

Deno.test("torch: contiguous tensors with an offset, strided reads past the storage are refused", () => {
  // x = storage[1:3] (offset 1), then views whose last element lies beyond the storage
  const view = (offset: number, size: number, stride: number) =>
    pk(
      "\x80\x02}(",
      str("x"),
      "ctorch._utils\n_rebuild_tensor_v2\n((",
      str("storage"),
      "ctorch\nFloatStorage\n",
      str("0"),
      str("cpu"),
      "K\x04tQK",
      offset,
      "K",
      size,
      "\x85K",
      stride,
      "\x85\x89ccollections\nOrderedDict\n)RtRu.",
    );
  const m = loadTorchFile(checkpoint(view(1, 2, 1)), { device });
  assert.deepEqual(m.get("x")!.toArray(), [2, 3]);
  disposeAll(m);
  const s = loadTorchFile(checkpoint(view(1, 2, 2)), { device });
  assert.deepEqual(s.get("x")!.toArray(), [2, 4]);
  disposeAll(s);
  assertFails(
    () => loadTorchFile(checkpoint(view(2, 2, 2))),
    /tensor "x" \(offset 2, size \[2\], stride \[2\]\) reads element 4 of a storage of 4 float32/,
  );
  assertFails(() => loadTorchFile(checkpoint(view(4, 1, 1))), /reads element 4 of a storage/);
});

Deno.test("torch: cycles, shared sub-objects and deep nesting neither hang nor overflow", () => {
  // a list that contains itself, next to a tensor
  const cyclic = pk("\x80\x02}(", str("loop"), "]q\x00h\x00a", str("w"), tensorOps(4), "u.");
  const m = loadTorchFile(checkpoint(cyclic), { device });
  assert.deepEqual([...m.keys()], ["w"]);
  disposeAll(m);
  const root = loadTorchObject(checkpoint(cyclic), { device }) as PickleDict;
  const loop = root.get("loop") as unknown[];
  assert.equal(loop[0], loop);
  (root.get("w") as Tensor).dispose();
  // 64 levels of tuples holding the level below twice: 2^64 paths, 64 objects
  const levels: (number | string | Uint8Array)[] = ["\x80\x02", tensorOps(4), "q\x00"];
  for (let i = 0; i < 64; i++) levels.push("h", i, "h", i, "\x86q", i + 1);
  levels.push(".");
  const laughs = loadTorchFile(checkpoint(pk(...levels)), { device });
  // each container is visited once (its first path); the bottom tuple holds the tensor twice
  const path = Array(63).fill(0).join(".");
  assert.deepEqual([...laughs.keys()], [`${path}.0`, `${path}.1`]);
  disposeAll(laughs);
  const obj = loadTorchObject(checkpoint(pk(...levels)), { device }) as unknown[];
  assert.equal(obj[0], obj[1], "shared objects stay shared");
  let leaf: unknown = obj;
  while (Array.isArray(leaf)) leaf = leaf[0];
  (leaf as Tensor).dispose();
  // 1500 nested lists
  const deep: (number | string)[] = ["\x80\x02"];
  for (let i = 0; i < 1500; i++) deep.push("]");
  for (let i = 0; i < 1499; i++) deep.push("a");
  deep.push(".");
  assertFails(() => loadTorchObject(checkpoint(pk(...deep))), /nests deeper than 1000 levels/);
  assertFails(() => loadTorchFile(checkpoint(pk(...deep))), /nests deeper than 1000 levels/);
});

Deno.test("torch: refused opcodes, damaged pickles and bad rebuild arguments", () => {
  const cases: [Uint8Array, RegExp][] = [
    [
      pk("\x80\x02", "(ios\nsystem\n", str("x"), "."),
      /opcode 0x69 INST \(builds an arbitrary object\)/,
    ],
    [pk("\x80\x02(", "cos\nsystem\n", str("x"), "o."), /refusing to load the global "os\.system"/],
    [
      pk("\x80\x02", "cbuiltins\ngetattr\n", "."),
      /refusing to load the global "builtins\.getattr"/,
    ],
    [
      pk("\x80\x02", "ctorch\nComplexFloatStorage\n."),
      /"torch\.ComplexFloatStorage" \(complex or quantized\) is not supported/,
    ],
    [pk("\x80\x02}"), /ended without a STOP opcode/],
    [pk("\x80\x02h\x05."), /memo entry 5 was never stored/],
    [pk("\x80\x02s."), /stack underflow/],
    [pk("\x80\x02X\xff\xff\x00\x00ab."), /truncated pickle: BINUNICODE needs 65535 bytes/],
    [pk("\x80\x02\xff."), /unknown pickle opcode 0xff/],
    [pk("\x80\x09}."), /unsupported pickle protocol 9/],
    [
      pk("\x80\x02ccollections\nOrderedDict\n", str("a"), "\x85R."),
      /OrderedDict\(items\) needs \(key, value\) pairs|takes no or one/,
    ],
    [
      pk("\x80\x02ctorch._utils\n_rebuild_tensor_v2\n", str("a"), "\x85R."),
      /_rebuild_tensor_v2 takes 6 or 7 arguments, got 1/,
    ],
    [pk("\x80\x02ctorch\nFloatStorage\n)R."), /"torch\.FloatStorage" cannot be called/],
    [
      pk("\x80\x02(", str("module"), "ctorch\nFloatStorage\n", str("0"), str("cpu"), "K\x01tQ."),
      /only persistent ids of the form \('storage'/,
    ],
    [pk("\x80\x02]", str("x"), "b."), /BUILD .* only allowed on dicts/],
    [pk("\x80\x02}", str("x"), "a."), /APPEND on something that is not a list/],
  ];
  for (const [pkl, pattern] of cases) {
    assertFails(() => loadTorchObject(checkpoint(pkl)), /data\.pkl: byte \d+: /, pattern);
  }
  // values decode exactly: LONG1 beyond 2^53, negative BININT, BINFLOAT, BINBYTES, MEMOIZE
  const values = pk(
    "\x80\x04\x95\x00\x00\x00\x00\x00\x00\x00\x00](",
    "\x8a\x09\x01\x00\x00\x00\x00\x00\x00\x00\x01", // 2^64 + 1
    "\x8a\x01\xff", // -1
    "J\xfe\xff\xff\xff", // -2
    "G\x40\x09\x21\xfb\x54\x44\x2d\x18", // pi
    "C\x02\x00\x01", // b"\x00\x01"
    "\x8c\x03abc\x94", // "abc", memoized as 0
    "h\x00",
    "\x88N",
    "e.",
  );
  assert.deepEqual(loadTorchObject(checkpoint(values)), [
    2n ** 64n + 1n,
    -1,
    -2,
    Math.PI,
    new Uint8Array([0, 1]),
    "abc",
    "abc",
    true,
    null,
  ]);
});

Deno.test("torch: random damage to data.pkl gives a CheckpointError or a valid load, never a crash", () => {
  const entries = unzip(Deno.readFileSync(fixture("wrapped.pt")));
  const pklIndex = entries.findIndex(([n]) => n.endsWith("/data.pkl"));
  const pkl = entries[pklIndex][1];
  let seed = 12345;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const live = memory().liveTensors;
  let refused = 0;
  for (let i = 0; i < 300; i++) {
    const damaged = pkl.slice();
    for (let k = 0, n = 1 + rand(4); k < n; k++) damaged[rand(damaged.length)] = rand(256);
    const cut = rand(5) === 0 ? damaged.subarray(0, rand(damaged.length)) : damaged;
    const zip = makeZip(entries.map(([n, d], j) => [n, j === pklIndex ? cut : d]));
    try {
      const m = loadTorchFile(zip);
      disposeAll(m);
    } catch (e) {
      assert.ok(e instanceof CheckpointError, `iteration ${i}: ${e}`);
      refused++;
    }
  }
  assert.ok(refused > 100, `most damage is detected (${refused} of 300)`);
  assert.equal(memory().liveTensors, live);
});

Deno.test("torch: the unpickler hands every import to the hooks", () => {
  const seen: string[] = [];
  const hooks: UnpickleHooks = {
    findGlobal: (m, n) => {
      seen.push(`${m}.${n}`);
      throw new Error(`no ${m}.${n}`);
    },
    call: () => null,
    newObject: () => null,
    build: () => {},
    persistentLoad: () => null,
  };
  assert.throws(
    () => unpickle(pk("\x80\x04", "\x8c\x08builtins\x8c\x04exec\x93."), hooks),
    /byte 18: no builtins\.exec/,
  );
  assert.deepEqual(seen, ["builtins.exec"]);
});
