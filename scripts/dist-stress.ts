/**
 * The distributed tests (tests/distributed_test.ts) run again and again in this one process, the
 * way `deno test` runs them beside every other test file, with busy processes beside it: a race
 * in native state that outlives a test (Gloo's threads, sockets, the store) shows here as a
 * crash of this process, or as a failed round.
 *
 *   ulimit -c unlimited   # a crash leaves ./core for gdb
 *   deno run -A scripts/dist-stress.ts [--rounds 50] [--busy 2] [--filter REGEX]
 *
 * Prints a line per failed test and ends with `dist-stress: R rounds, P passed, F failed` (exit 1
 * when any failed).
 *
 * @module
 */

import { parseArgs } from "node:util";

interface Registered {
  name: string;
  fn: () => unknown;
  ignore?: boolean;
}

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "50" },
    busy: { type: "string", default: "2" },
    filter: { type: "string" },
  },
});
const rounds = Number(values.rounds);
const busyCount = Number(values.busy);
for (const [flag, n] of [["--rounds", rounds], ["--busy", busyCount]] as const) {
  if (!Number.isInteger(n) || n < 0) {
    console.error(`dist-stress: ${flag} must be a non-negative integer, got ${n}`);
    Deno.exit(2);
  }
}
const filter = values.filter ? new RegExp(values.filter) : null;

// collect the file's tests instead of registering them with a test runner
const tests: Registered[] = [];
Object.assign(Deno, {
  test: (a: string | Registered, b?: () => unknown) => {
    tests.push(typeof a === "string" ? { name: a, fn: b! } : a);
  },
});
await import("../tests/distributed_test.ts");
const chosen = tests.filter((t) => !t.ignore && (!filter || filter.test(t.name)));

const busy = Array.from(
  { length: busyCount },
  () => new Deno.Command("sh", { args: ["-c", "while :; do :; done"] }).spawn(),
);
let passed = 0;
let failed = 0;
try {
  for (let round = 1; round <= rounds; round++) {
    for (const t of chosen) {
      try {
        await t.fn();
        passed++;
      } catch (e) {
        failed++;
        console.log(`round ${round}: FAILED ${t.name}: ${(e as Error).message.split("\n")[0]}`);
      }
    }
    const load = Deno.readTextFileSync("/proc/loadavg").split(" ")[0];
    console.log(`round ${round} of ${rounds}: ${passed} passed, ${failed} failed (load ${load})`);
  }
} finally {
  for (const b of busy) b.kill("SIGKILL");
  await Promise.all(busy.map((b) => b.status));
}
console.log(`dist-stress: ${rounds} rounds, ${passed} passed, ${failed} failed`);
if (failed > 0) Deno.exit(1);
