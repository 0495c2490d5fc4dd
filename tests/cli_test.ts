import assert from "node:assert/strict";
import type { Command } from "commander";
import { runCli } from "./helpers.ts";

const cli = (...args: string[]) => runCli(args);

Deno.test("cli: --help lists the commands and exits 0", async () => {
  const r = await cli("--help");
  assert.equal(r.code, 0);
  for (const c of ["info", "train", "demo"]) assert.match(r.stdout, new RegExp(`\\b${c}\\b`));
});

Deno.test("cli: unknown command is one line on stderr and exit code 2", async () => {
  const r = await cli("frobnicate");
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim().split("\n").length, 1);
  assert.match(r.stderr, /unknown command 'frobnicate'/);
});

Deno.test("cli: unknown flag is one line on stderr and exit code 2", async () => {
  const r = await cli("info", "--frob");
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim().split("\n").length, 1);
  assert.match(r.stderr, /unknown option '--frob'/);
});

Deno.test("cli: invalid values are rejected with exit code 2 naming the flag", async () => {
  for (
    const [args, pattern] of [
      [["train", "--epochs", "0"], /epochs must be a positive integer/],
      [["train", "--lr", "abc"], /lr must be a positive number/],
      [["train", "--device", "tpu"], /device must be auto, cpu, cuda or cuda:N/],
      [["train", "--dataset", "imagenet"], /dataset must be one of .*imagenet/],
    ] as const
  ) {
    const r = await cli(...args);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, pattern);
  }
});

Deno.test("cli: info --json reports libtorch, CUDA, threads and the shim path", async () => {
  const r = await cli("info", "--json");
  assert.equal(r.code, 0, r.stderr);
  const info = JSON.parse(r.stdout);
  assert.match(info.libtorchVersion, /^\d+\.\d+\.\d+/);
  assert.equal(typeof info.cudaAvailable, "boolean");
  assert.equal(info.threads, navigator.hardwareConcurrency);
  assert.ok(Deno.statSync(info.shimPath).isFile);
});

Deno.test("cli: train on generated data learns above chance and eval agrees", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const device = Deno.env.get("HLGM_TEST_DEVICE") ?? "cpu";
    const r = await cli(
      "train",
      ...["--method", "baseline", "--dataset", "synthetic", "--subset", "1024", "--epochs", "1"],
      ...["--batch-size", "64", "--device", device, "--out", `${dir}/run`],
    );
    assert.equal(r.code, 0, r.stderr);
    const m = r.stdout.match(/max test acc ([\d.]+)%/);
    assert.ok(m, r.stdout);
    assert.ok(Number(m[1]) > 40, `10 classes: expected well above 10%, got ${m[1]}%`);
    const e = await cli("eval", `${dir}/run`, "--json", "--device", device);
    assert.equal(e.code, 0, e.stderr);
    assert.equal((100 * JSON.parse(e.stdout).acc).toFixed(2), m[1]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli: a missing dataset is a clear error with exit code 1", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const r = await cli(
      "train",
      "--dataset",
      "fashion-mnist",
      "--data-dir",
      dir,
      "--out",
      `${dir}/run`,
    );
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      new RegExp(`fashion-mnist not found \\(looked in ${dir}/fashion-mnist\\)`),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli: the installed `hlgm` command runs, and its messages suggest `hlgm ...`", async () => {
  const root = Deno.makeTempDirSync({ prefix: "hlgm-install-" });
  try {
    const repo = new URL("../", import.meta.url).pathname;
    // what `deno task install` runs, into a temporary root instead of ~/.deno
    const install = await new Deno.Command(Deno.execPath(), {
      args: [
        "install",
        "-g",
        "-f",
        "-A",
        "-n",
        "hlgm",
        "--root",
        root,
        "--config",
        "deno.json",
        "cli/hlgm.ts",
      ],
      cwd: repo,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(install.success, new TextDecoder().decode(install.stderr));
    const hlgm = (...args: string[]) =>
      new Deno.Command(`${root}/bin/hlgm`, { args, cwd: root, stdout: "piped", stderr: "piped" })
        .output();
    const help = await hlgm("--help");
    assert.equal(help.code, 0);
    assert.match(new TextDecoder().decode(help.stdout), /^Usage: hlgm /);
    const missing = await hlgm("data", "show", "mnist", "--data-dir", root);
    assert.equal(missing.code, 1);
    assert.match(
      new TextDecoder().decode(missing.stderr),
      /get it with `hlgm data download mnist`/,
    );
    // run from the repository the other way, the suggestion is the command that works there
    const direct = await cli("data", "show", "mnist", "--data-dir", root);
    assert.match(direct.stderr, /get it with `deno run -A cli\/main\.ts data download mnist`/);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("cli: every command's help ends with examples that parse, writes defaults one way, and lists only what it takes", async () => {
  const { program } = await import("../cli/main.ts");
  const root = program();
  const all: Command[] = [];
  const walk = (c: Command) => {
    for (const sub of c.commands) {
      all.push(sub);
      walk(sub);
    }
  };
  walk(root);
  // a hidden command (a sweep's worker) is started by hlgm itself, not typed: no help to check
  const hidden = (c: Command) => (c as unknown as { _hidden?: boolean })._hidden === true;
  assert.ok(all.some((c) => c.name() === "sweep-worker" && hidden(c)), "commander keeps _hidden");
  const leaves = all.filter((c) => c.commands.length === 0 && !hidden(c));
  assert.ok(leaves.length >= 12, `${leaves.length} commands`);
  for (const c of leaves) {
    let help = "";
    c.configureOutput({ writeOut: (s) => (help += s) });
    c.outputHelp();
    const name = c.parent === root ? c.name() : `${c.parent!.name()} ${c.name()}`;
    assert.ok(!help.includes("(default: "), `${name}: defaults are written "(default X)"`);
    const examples = help.split("Examples:\n")[1]?.trim().split("\n").map((l) => l.trim()) ?? [];
    assert.ok(examples.length >= 2, `${name}: at least two examples`);
    for (const example of examples) {
      assert.ok(example.startsWith(`hlgm ${name} `) || example === `hlgm ${name}`, example);
      // the example parses: every flag exists and every value is accepted (nothing runs)
      const parsed = program();
      const stub = (cmd: Command) => {
        cmd.action(() => {});
        cmd.commands.forEach(stub);
      };
      stub(parsed);
      parsed.exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
      parsed.commands.forEach((cmd) => cmd.exitOverride());
      for (const d of parsed.commands) for (const s of d.commands) s.exitOverride();
      await parsed.parseAsync(example.split(" ").slice(1), { from: "user" });
    }
  }
  // compare takes --methods and --seeds, and does not list --method or --seed
  let compareHelp = "";
  const compare = root.commands.find((c) => c.name() === "compare")!;
  compare.configureOutput({ writeOut: (s) => (compareHelp += s) });
  compare.outputHelp();
  assert.ok(!/--method </.test(compareHelp) && !/--seed </.test(compareHelp), compareHelp);
});

Deno.test("cli: mistyped commands and flags get a suggestion; values are echoed as typed", async () => {
  const typo = await cli("trian");
  assert.equal(typo.code, 2);
  assert.equal(typo.stderr, "error: unknown command 'trian' (Did you mean train?)\n");
  const flag = await cli("train", "--epoch", "3");
  assert.equal(flag.stderr, "error: unknown option '--epoch' (Did you mean --epochs?)\n");
  const value = await cli("train", "--epochs", "two");
  assert.equal(value.code, 2);
  assert.match(value.stderr, /^error: .*epochs must be a positive integer, got "two"\n$/);
  const demo = await cli("demo", "--method", "sgt");
  assert.equal(demo.code, 2);
  assert.match(demo.stderr, /unknown option '--method'/);
});
