// The layering rules that can be checked mechanically, on the real module graph (`deno info`).
import assert from "node:assert/strict";
import functionLength, { MAX_FUNCTION_LINES } from "../lint/function_length.ts";

const root = new URL("../", import.meta.url).href;

/** Local module -> the local modules it imports (static imports, types included). */
async function moduleGraph(entries: string[]): Promise<Map<string, string[]>> {
  const graph = new Map<string, string[]>();
  for (const entry of entries) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", entry],
      cwd: new URL(root).pathname,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    const info = JSON.parse(new TextDecoder().decode(out.stdout));
    for (const m of info.modules) {
      if (!m.specifier?.startsWith(root)) continue;
      const deps = (m.dependencies ?? [])
        .flatMap((d: { code?: { specifier?: string }; type?: { specifier?: string } }) => [
          d.code?.specifier,
          d.type?.specifier,
        ])
        .filter((s: string | undefined): s is string => !!s && s.startsWith(root));
      graph.set(m.specifier.slice(root.length), deps.map((s: string) => s.slice(root.length)));
    }
  }
  return graph;
}

/** Every cycle found by depth-first search, as paths. */
function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (m: string) => {
    state.set(m, "open");
    stack.push(m);
    for (const d of graph.get(m) ?? []) {
      if (state.get(d) === "open") found.push([...stack.slice(stack.indexOf(d)), d]);
      else if (!state.has(d)) visit(d);
    }
    stack.pop();
    state.set(m, "done");
  };
  for (const m of graph.keys()) if (!state.has(m)) visit(m);
  return found;
}

Deno.test("architecture: no import cycles between the project's modules", async () => {
  const graph = await moduleGraph(["mod.ts", "cli/main.ts", "bench/run.ts"]);
  assert.ok(graph.size > 50, `module graph has ${graph.size} modules`);
  const found = cycles(graph);
  assert.deepEqual(found.map((c) => c.join(" -> ")), []);
});

Deno.test("architecture: layers import downwards only (data draws nothing, algorithms never import train/ or runs/, report/ only renders, commands import no command, only src/tensor/ calls ffi/, only ffi/ reaches native/)", async () => {
  const graph = await moduleGraph(["mod.ts", "cli/main.ts"]);
  const bad: string[] = [];
  for (const [m, deps] of graph) {
    for (const d of deps) {
      if (m.startsWith("src/data/") && d.startsWith("src/report/")) bad.push(`${m} -> ${d}`);
      if (m.startsWith("src/") && d.startsWith("cli/")) bad.push(`${m} -> ${d}`);
      // algorithms never reach up into the engine or the application layer
      const algorithm = ["src/metrics/", "src/saliency/", "src/masking/"].some((l) =>
        m.startsWith(l)
      );
      if (algorithm && (d.startsWith("src/train/") || d.startsWith("src/runs/"))) {
        bad.push(`${m} -> ${d}`);
      }
      // report/ renders what it is handed: it loads no run, model or dataset and trains nothing
      // (types of a run's files and of datasets, SIB's pixel count and the names of the
      // faithfulness scores are all it reads)
      const renderInputs = [
        "src/report/",
        "src/util/",
        "src/metrics/sib.ts",
        "src/metrics/faith_names.ts",
        "src/metrics/boxes.ts",
        "src/run_folder/",
        "src/data/dataset.ts",
      ];
      if (m.startsWith("src/report/") && !renderInputs.some((p) => d.startsWith(p))) {
        bad.push(`${m} -> ${d}`);
      }
      // a command parses, calls and prints: helpers shared by commands live in cli/, not in a
      // command (demo alone runs other commands in turn)
      if (
        m.startsWith("cli/commands/") && d.startsWith("cli/commands/") &&
        m !== "cli/commands/demo.ts"
      ) {
        bad.push(`${m} -> ${d}`);
      }
      // the run folder (its files, checkpoint store, records, lock) sits below the engine and
      // does not know the settings: the engine hands it config.json's check (run_records.ts)
      if (m.startsWith("src/run_folder/")) {
        const above = ["src/train/", "src/runs/", "src/report/", "cli/"].some((l) =>
          d.startsWith(l)
        );
        if (above) bad.push(`${m} -> ${d}`);
      }
      // only the tensor layer reaches the shim (fused native steps included)
      const outside = !m.startsWith("src/tensor/") && !m.startsWith("ffi/");
      if (outside && d.startsWith("ffi/") && m !== "mod.ts") bad.push(`${m} -> ${d}`);
      // native/ (the C++ and its build) is reached through ffi/ only: a cache path or a name
      // list it holds lives in src/util/ instead
      if (d.startsWith("native/") && !m.startsWith("ffi/") && !m.startsWith("native/")) {
        bad.push(`${m} -> ${d}`);
      }
    }
  }
  assert.deepEqual(bad, []);
  assert.ok(
    ![...graph.keys()].some((m) => m === "src/data/grid.ts"),
    "the grid renderer is in report/",
  );
});

Deno.test("architecture: one planner decides what becomes of a run folder: nothing else asks for its checkpoint or results to decide, and only the trainer clears them", async () => {
  const asks = /\.(lastCheckpoint|readLast|hasResults)\(/;
  const clears = /\.(clearResults|removeCutWrites)\(/;
  const found: string[] = [];
  for (const top of ["src", "cli"]) {
    for await (const file of walkTs(new URL(top + "/", root))) {
      const path = file.pathname.slice(new URL(root).pathname.length);
      if (path.startsWith("src/run_folder/")) continue;
      const text = await Deno.readTextFile(file);
      // the planner: run_plan.ts, and fork_plan.ts for a fork's source and folder
      const planner = ["src/train/run_plan.ts", "src/train/fork_plan.ts"].includes(path);
      if (asks.test(text) && !planner) found.push(`${path} asks`);
      if (clears.test(text) && path !== "src/train/trainer.ts") found.push(`${path} clears`);
    }
  }
  assert.deepEqual(found, []);
  // and every command that trains in a folder goes through it
  for (
    const caller of [
      "cli/commands/train.ts",
      "cli/commands/demo.ts",
      "src/runs/run_jobs.ts",
      "src/train/trainer.ts",
    ]
  ) {
    const text = await Deno.readTextFile(new URL(caller, root));
    assert.match(text, /\bplanRun\(/, `${caller} plans through planRun`);
  }
  for (const caller of ["src/runs/compare.ts", "src/runs/sweep.ts", "src/runs/sweep_worker.ts"]) {
    const text = await Deno.readTextFile(new URL(caller, root));
    assert.match(text, /\b(planJob|runJob)\(/, `${caller} plans through planJob`);
    assert.doesNotMatch(text, /\btrain\(/, `${caller} trains a plan, not a config`);
  }
});

Deno.test("architecture: no dead exports: every function, constant and class src/, cli/ and ffi/ export is used by another module", async () => {
  const files = new Map<string, string>();
  for (const top of ["src", "cli", "ffi", "native", "bench", "scripts", "tests", "lint"]) {
    for await (const file of walkTs(new URL(top + "/", root))) {
      files.set(file.pathname.slice(new URL(root).pathname.length), await Deno.readTextFile(file));
    }
  }
  files.set("mod.ts", await Deno.readTextFile(new URL("mod.ts", root)));
  const words = new Map([...files].map(([f, text]) => [f, new Set(text.match(/\w+/g) ?? [])]));
  const dead: string[] = [];
  for (const [file, text] of files) {
    if (!/^(src|cli|ffi)\//.test(file)) continue;
    const declared =
      /^export (?:async )?(?:function\*?|const|let|enum|(?:abstract )?class) (\w+)/gm;
    for (const m of text.matchAll(declared)) {
      const used = [...words].some(([other, w]) => other !== file && w.has(m[1]));
      if (!used) dead.push(`${file}: ${m[1]}`);
    }
  }
  assert.deepEqual(dead, []);
});

Deno.test("architecture: the function-length rule reports a function over 120 lines, not one of 120", () => {
  const fn = (lines: number) =>
    `export function f(): number {\n${"  let a = 1;\n".repeat(lines - 3)}  return a;\n}\n`;
  const lengths = (source: string) =>
    Deno.lint.runPlugin(functionLength, "/ci/tests/hlgm/src/x.ts", source).map((d) => d.message);
  assert.deepEqual(lengths(fn(MAX_FUNCTION_LINES)), []);
  assert.deepEqual(lengths(fn(MAX_FUNCTION_LINES + 1)), [
    `this function spans ${MAX_FUNCTION_LINES + 1} lines, over ${MAX_FUNCTION_LINES}`,
  ]);
  // arrow functions and methods' function expressions count too; tests are not checked
  const arrow = `const g = () => {\n${"  f();\n".repeat(MAX_FUNCTION_LINES)}};\n`;
  assert.equal(lengths(arrow).length, 1);
  const method = `class C {\n  m() {\n${"    f();\n".repeat(MAX_FUNCTION_LINES)}  }\n}\n`;
  assert.equal(lengths(method).length, 1);
  assert.deepEqual(
    Deno.lint.runPlugin(
      functionLength,
      new URL("x_test.ts", import.meta.url).pathname,
      fn(MAX_FUNCTION_LINES + 1),
    ),
    [],
  );
});

Deno.test("architecture: the functions exempt from the length rule are the known ones", async () => {
  // the pickle VM stays one switch, read as the protocol's table
  const known = ["src/checkpoint/pickle.ts"];
  const found: string[] = [];
  const rootFiles = [...Deno.readDirSync(new URL(root))]
    .filter((e) => e.isFile && e.name.endsWith(".ts"))
    .map((e) => new URL(e.name, root));
  for (const file of rootFiles) {
    const text = await Deno.readTextFile(file);
    if (/deno-lint-ignore(-file)?\b.*hlgm\/max-function-lines/.test(text)) found.push(file.href);
  }
  for (const top of ["src", "cli", "ffi", "native", "bench", "scripts", "lint"]) {
    for await (const file of walkTs(new URL(top + "/", root))) {
      const text = await Deno.readTextFile(file);
      // any ignore naming the rule, a whole-file one included
      const ignores = text.split("\n").filter((line) =>
        /deno-lint-ignore(-file)?\b.*hlgm\/max-function-lines/.test(line) &&
        !line.trim().startsWith("*")
      );
      for (const _ of ignores) found.push(file.pathname.slice(new URL(root).pathname.length));
    }
  }
  assert.deepEqual(found.sort(), known);
});

/** Every .ts file below `dir`. */
async function* walkTs(dir: URL): AsyncGenerator<URL> {
  for await (const e of Deno.readDir(dir)) {
    const url = new URL(e.name + (e.isDirectory ? "/" : ""), dir);
    if (e.isDirectory) yield* walkTs(url);
    else if (e.name.endsWith(".ts")) yield url;
  }
}

/** `text` without its comments (line and block), so only code and strings remain. */
function withoutComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`\\])\/\/.*$/gm, "$1");
}

Deno.test("architecture: src/ spells no CLI flag (advice is text in any vocabulary, rendered by cli/), and holds no process-wide vocabulary", async () => {
  const { program } = await import("../cli/main.ts");
  // every long option of every hlgm command, as the CLI spells it
  const flags = new Set<string>();
  const walk = (c: import("commander").Command) => {
    for (const o of c.options) if (o.long) flags.add(o.long);
    for (const sub of c.commands) walk(sub);
  };
  walk(program());
  assert.ok(flags.has("--force") && flags.has("--batch-size"), "the walk found the flags");
  const found: string[] = [];
  const mutable: string[] = [];
  for await (const file of walkTs(new URL("src/", root))) {
    const name = file.pathname.slice(new URL(root).pathname.length);
    const code = withoutComments(await Deno.readTextFile(file));
    for (const m of code.matchAll(/--[a-z][a-z0-9-]*/g)) {
      if (flags.has(m[0])) found.push(`${name}: ${m[0]}`);
    }
    // a vocabulary set at run time (the CLI's installed into the library) is gone for good
    if (/^(export )?let \w+: Vocabulary/m.test(code)) mutable.push(name);
  }
  assert.deepEqual(found, []);
  assert.deepEqual(mutable, []);
});
