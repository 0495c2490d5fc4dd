import assert from "node:assert/strict";
import { check, lib, TorchError } from "../ffi/mod.ts";
import { arange, memory, randn, tensor } from "../mod.ts";

const device = Deno.env.get("HLGM_TEST_DEVICE") ?? "cpu";

Deno.test("ffi: a libtorch error becomes a TorchError naming the op, without a C++ backtrace", () => {
  const a = tensor([[1, 2, 3]], { device: device as "cpu" });
  const b = tensor([[1, 2]], { device: device as "cpu" });
  try {
    assert.throws(
      () => a.matmul(b),
      (e: unknown) => {
        assert.ok(e instanceof TorchError);
        assert.equal(e.op, "matmul");
        assert.match(e.message, /^matmul: .*shapes cannot be multiplied|^matmul: .*size/);
        assert.doesNotMatch(e.message, /Exception raised from|frame #/);
        return true;
      },
    );
  } finally {
    a.dispose();
    b.dispose();
  }
});

Deno.test("ffi: errors from a nonblocking symbol (run on a worker thread) come back with the call", async () => {
  const t = arange(6, undefined, 1, { dtype: "float32" });
  const tooSmall = new Uint8Array(8);
  try {
    const err = await lib.hlgm_copy_to_host_async(t.handle, tooSmall, 8n);
    assert.throws(() => check(err, "copy"), /copy: host buffer holds 8 bytes, tensor needs 24/);
  } finally {
    t.dispose();
  }
});

Deno.test("ffi: dataAsync equals data and survives disposing the tensor during the copy", async () => {
  const t = randn([64, 64], { device: device as "cpu" });
  const expected = t.data();
  const pending = t.dataAsync();
  t.dispose();
  assert.deepEqual(await pending, expected);
});

Deno.test("ffi: the shim's handle counter matches live tensors", () => {
  const before = memory();
  const ts = Array.from({ length: 5 }, () => randn([3]));
  const mid = memory();
  assert.equal(mid.liveTensors - before.liveTensors, 5);
  assert.equal(mid.nativeHandles - before.nativeHandles, 5);
  assert.equal(mid.bytes - before.bytes, 5 * 3 * 4);
  ts.forEach((t) => t.dispose());
  assert.deepEqual(memory(), before);
});

Deno.test("ffi: libtorch opens on first use: importing the library and its tables needs no shim", async () => {
  const script = `
    const h = await import(${JSON.stringify(new URL("../mod.ts", import.meta.url).href)});
    console.log(h.CONFIG_FIELDS.length, h.MODEL_NAMES.join(","));
    try {
      h.tensor([1, 2]);
      console.log("opened");
    } catch (e) {
      console.log("first use: " + e.message);
    }`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
    env: { HLGM_NATIVE_LIB: "/nonexistent/libhlgm.so" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const [tables, first] = text.trim().split("\n");
  assert.match(tables, /^\d+ shallow-cnn,resnet18,deit-tiny$/);
  assert.match(first, /^first use: cannot open the hlgm shim \/nonexistent\/libhlgm\.so/);
});
