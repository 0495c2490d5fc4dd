/**
 * docs/results.md's CIFAR-10 tables are the scripts' output on the committed records: every
 * table each script prints appears in the page, cell for cell (the page is `deno fmt`ed, so
 * the padding differs). A number typed or edited by hand, or records that changed without the
 * page, fail here.
 */
import assert from "node:assert/strict";

const root = new URL("../", import.meta.url).pathname;

/** The Markdown tables of a text, each as rows of trimmed cells (the separator row dropped). */
function tables(text: string): string[][][] {
  const out: string[][][] = [];
  let current: string[][] = [];
  for (const line of [...text.split("\n"), ""]) {
    const l = line.trim();
    if (l.startsWith("|")) {
      const cells = l.replace(/^\||\|$/g, "").split("|").map((c) => c.trim());
      if (!cells.every((c) => /^:?-+:?$/.test(c))) current.push(cells);
    } else if (current.length) {
      out.push(current);
      current = [];
    }
  }
  return out;
}

async function scriptTables(
  script: string,
  records: string,
  more: readonly string[],
): Promise<string[][][]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${root}scripts/${script}`, `${root}${records}`, ...more],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return tables(new TextDecoder().decode(out.stdout));
}

const page = tables(Deno.readTextFileSync(`${root}docs/results.md`));
const key = (t: string[][]) => JSON.stringify(t);
const inPage = new Set(page.map(key));

for (
  const [script, records, ...more] of [
    ["plateau-results.ts", "docs/results/cifar10-plateau"],
    ["faith-results.ts", "docs/results/cifar10-plateau"],
    ["faith-results.ts", "docs/results/cluttered-faith", "--arms", "baseline,hlgm"],
    ["results-tables.ts", "docs/results/cifar10-cpu"],
  ]
) {
  Deno.test(`results page: every table of ${script} on ${records} is in docs/results.md`, async () => {
    const printed = await scriptTables(script, records, more);
    assert.ok(printed.length >= 2, `${script} printed ${printed.length} tables`);
    const missing = printed.filter((t) => !inPage.has(key(t))).map((t) => t[0].join(" | "));
    assert.deepEqual(missing, []);
  });
}
