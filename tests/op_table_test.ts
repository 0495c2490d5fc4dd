// The one op table (ffi/op_table.ts): the C++ switches are generated from it and current, codes
// are positions (no gaps, one op each), and every op is used by the tensor layer (no dead codes).
import assert from "node:assert/strict";
import { OP_FAMILIES } from "../ffi/op_table.ts";
import { BINARY, UNARY } from "../ffi/ops.ts";
import { opDispatchHeader } from "../scripts/gen-ops.ts";

const read = (path: string) => Deno.readTextFileSync(new URL(path, import.meta.url));

Deno.test("op table: native/op_dispatch.h is what scripts/gen-ops.ts makes of it", () => {
  assert.equal(
    read("../native/op_dispatch.h"),
    opDispatchHeader(),
    "run deno run -A scripts/gen-ops.ts",
  );
});

Deno.test("op table: every op has one code, in order, and a C++ form; the C++ cases agree", () => {
  const header = read("../native/op_dispatch.h");
  for (const [family, f] of Object.entries(OP_FAMILIES)) {
    const forms = f.forms as Record<string, unknown>;
    Object.entries(f.ops as Record<string, Record<string, string>>).forEach(
      ([name, impl], code) => {
        const used = Object.keys(impl);
        assert.ok(used.length > 0, `${family}.${name} has no C++`);
        for (const form of used) {
          assert.ok(form in forms, `${family}.${name}: unknown form ${form}`);
        }
        assert.equal(
          header.split("\n").filter((l) => l.endsWith(`// ${name}`) && l.includes(`case ${code}:`))
            .length >= used.length,
          true,
          `${family}.${name} = ${code} in the header`,
        );
      },
    );
  }
  assert.equal(UNARY.neg, 0);
  assert.equal(BINARY.fill, Object.keys(OP_FAMILIES.BINARY.ops).indexOf("fill"));
  assert.notEqual(BINARY.copy, BINARY.fill, "copy_ and fill_ are two ops");
});

Deno.test("op table: every op is used by src/tensor (no dead codes)", () => {
  const dir = new URL("../src/tensor/", import.meta.url);
  const source = [...Deno.readDirSync(dir)].filter((e) => e.name.endsWith(".ts"))
    .map((e) => Deno.readTextFileSync(new URL(e.name, dir))).join("\n");
  const unused: string[] = [];
  for (const [family, f] of Object.entries(OP_FAMILIES)) {
    for (const name of Object.keys(f.ops)) {
      const uses = [`${family}.${name}`, `"${name}"`];
      if (!uses.some((u) => source.includes(u))) unused.push(`${family}.${name}`);
    }
  }
  assert.deepEqual(unused, []);
});
