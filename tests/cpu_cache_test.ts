/**
 * The shim's caching CPU allocator (native/cpu_cache.cpp): large blocks are reused by size
 * class, counted in memory(), and released by releaseCachedMemory(); HLGM_MALLOC=default turns
 * it off. CPU only: CUDA memory is libtorch's own caching allocator.
 *
 * Every test is synchronous (no FinalizationRegistry callback runs between two readings) and
 * starts from an empty cache.
 */

import assert from "node:assert/strict";
import { fromBytes, memory, ones, releaseCachedMemory, zeros } from "../mod.ts";

const MIB = 1 << 20;
const cpu = { device: "cpu" } as const;

Deno.test("cpu cache: a freed large block is kept, reused by the next request, and released", () => {
  releaseCachedMemory();
  const start = memory();
  assert.equal(start.cpuCachedBytes, 0);
  const a = zeros([MIB], cpu); // 4 MiB of float32
  const held = memory();
  assert.equal(held.cpuLargeBytes - start.cpuLargeBytes, 4 * MIB);
  a.dispose();
  assert.equal(memory().cpuCachedBytes, 4 * MIB);
  assert.equal(memory().cpuLargeBytes, start.cpuLargeBytes);
  // the same size again takes the kept block, and its values are the new tensor's
  const b = ones([MIB], cpu);
  assert.equal(memory().cpuCachedBytes, 0);
  const sum = b.sum();
  assert.equal(sum.item(), MIB);
  sum.dispose();
  b.dispose();
  releaseCachedMemory();
  assert.equal(memory().cpuCachedBytes, 0);
});

Deno.test("cpu cache: sizes are rounded to 8 classes per power of two; small tensors stay with malloc", () => {
  releaseCachedMemory();
  const start = memory();
  const small = zeros([1000], cpu); // 4 kB: c10's own allocator
  assert.equal(memory().cpuLargeBytes, start.cpuLargeBytes);
  // 5,000,000 bytes lie in [4 MiB, 8 MiB): classes of 512 KiB, so 5,242,880 bytes
  const odd = fromBytes(new Uint8Array(5_000_000), "uint8", [5_000_000], cpu);
  assert.equal(memory().cpuLargeBytes - start.cpuLargeBytes, 10 * 512 * 1024);
  // a request up to half the kept block's size takes it instead of mapping a new one
  odd.dispose();
  const smaller = zeros([(3 * MIB) / 4], cpu); // 3 MiB: its own class is 3 MiB
  assert.equal(memory().cpuCachedBytes, 0);
  assert.equal(memory().cpuLargeBytes - start.cpuLargeBytes, 10 * 512 * 1024);
  smaller.dispose();
  small.dispose();
  releaseCachedMemory();
});

Deno.test("cpu cache: releasing unused blocks keeps those freed since the last release", () => {
  releaseCachedMemory();
  zeros([MIB], cpu).dispose();
  releaseCachedMemory({ unusedOnly: true }); // freed in this period: kept
  assert.equal(memory().cpuCachedBytes, 4 * MIB);
  releaseCachedMemory({ unusedOnly: true }); // no request took it since: released
  assert.equal(memory().cpuCachedBytes, 0);
  // a block taken and freed again in the period survives the next release
  zeros([MIB], cpu).dispose();
  releaseCachedMemory({ unusedOnly: true });
  zeros([MIB], cpu).dispose();
  releaseCachedMemory({ unusedOnly: true });
  assert.equal(memory().cpuCachedBytes, 4 * MIB);
  releaseCachedMemory();
});

Deno.test("cpu cache: idle blocks stay within twice the most bytes live since the last release", () => {
  releaseCachedMemory();
  const freed = (floats: number) => zeros([floats], cpu).dispose();
  freed(2 * MIB); // 8 MiB: the period's peak, so at most 16 MiB stay idle
  assert.equal(memory().cpuCachedBytes, 8 * MIB);
  // too small for the 8 MiB block (it serves requests of half its size and more): new mappings
  freed(MIB / 2); // 2 MiB
  freed((3 * MIB) / 4); // 3 MiB: 13 MiB idle
  assert.equal(memory().cpuCachedBytes, 13 * MIB);
  freed((7 * MIB) / 8); // 3.5 MiB would make 16.5 MiB idle: it goes back to the system
  assert.equal(memory().cpuCachedBytes, 13 * MIB);
  releaseCachedMemory();
});

Deno.test("cpu cache: the peak counts the most large bytes held at once, and resets", () => {
  releaseCachedMemory();
  const base = memory({ resetPeak: true }).cpuLargeBytes;
  const a = zeros([MIB], cpu);
  const b = zeros([2 * MIB], cpu);
  a.dispose();
  b.dispose();
  const c = zeros([MIB], cpu);
  assert.equal(memory().cpuPeakLargeBytes - base, 12 * MIB);
  assert.equal(memory({ resetPeak: true }).cpuPeakLargeBytes - base, 12 * MIB);
  assert.equal(memory().cpuPeakLargeBytes - base, 4 * MIB); // from what is live now
  c.dispose();
  releaseCachedMemory();
});

Deno.test("cpu cache: HLGM_MALLOC=default leaves every block to c10's allocator", async () => {
  const script = `
    import { memory, zeros } from "${new URL("../mod.ts", import.meta.url).href}";
    const t = zeros([1 << 20], { device: "cpu" });
    const m = memory();
    t.dispose();
    console.log(JSON.stringify([m.cpuLargeBytes, memory().cpuCachedBytes]));`;
  for (const [mode, large] of [["default", 0], ["", 4 * MIB]] as const) {
    const r = await new Deno.Command(Deno.execPath(), {
      args: ["eval", script],
      env: { HLGM_MALLOC: mode },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = (b: Uint8Array) => new TextDecoder().decode(b);
    assert.equal(r.code, 0, text(r.stderr));
    assert.deepEqual(JSON.parse(text(r.stdout).trim()), [large, large]);
  }
});
