// scripts/lib/crash_report.sh, which the test runner calls after the suite: a process that dies
// of a signal is named, its core's backtrace is printed (where the kernel writes cores into the
// working folder and gdb is installed) and the core is removed; a clean exit prints nothing.
import assert from "node:assert/strict";

const lib = new URL("../scripts/lib/crash_report.sh", import.meta.url).pathname;

/** Runs `body` in bash with the crash-report functions loaded, in a fresh folder. */
async function bash(body: string): Promise<{ code: number; out: string; dir: string }> {
  const dir = Deno.makeTempDirSync({ prefix: "hlgm-crash-" });
  const o = await new Deno.Command("bash", {
    args: ["-c", `source "${lib}"; cd "${dir}"; ${body}`],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(o.stdout) + new TextDecoder().decode(o.stderr);
  return { code: o.code, out, dir };
}

function coresIn(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => /^core(\.\d+)?$/.test(n));
}

const corePattern = (() => {
  try {
    return Deno.readTextFileSync("/proc/sys/kernel/core_pattern").trim();
  } catch {
    return "";
  }
})();
const hasGdb = new Deno.Command("bash", { args: ["-c", "command -v gdb"] }).outputSync().success;

Deno.test("crash report: a process killed by SIGSEGV is named, its core's backtrace shown and the core removed", async () => {
  // the child stops itself first, so the signal finds `sleep` itself, never the subshell
  const { out, dir } = await bash(`
    marker="$(crash_marker)"
    (ulimit -c unlimited 2>/dev/null; kill -STOP $BASHPID; exec sleep 60) &
    pid=$!
    while [ "$(ps -o stat= -p $pid | cut -c1)" != T ]; do sleep 0.05; done
    kill -CONT $pid
    while [ "$(ps -o comm= -p $pid)" != sleep ]; do sleep 0.05; done
    kill -SEGV $pid
    wait $pid
    crash_report $? "$(command -v sleep)" "$PWD" "$marker"
    [ -e "$marker" ] && echo "marker left behind"
    true`);
  try {
    assert.match(out, /==== native crash: the test process died of SIGSEGV/);
    assert.match(out, /==== end of the crash report/);
    assert.doesNotMatch(out, /marker left behind/);
    if (corePattern === "core" && hasGdb) {
      assert.match(out, /backtrace of .*core/);
      assert.match(out, /#0 /, out);
    } else {
      console.log(
        `  (core_pattern "${corePattern}", gdb ${
          hasGdb ? "present" : "absent"
        }: backtrace not checked)`,
      );
    }
    assert.deepEqual(coresIn(dir), [], "the core was removed");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("crash report: a clean or failing exit prints nothing and removes only new cores", async () => {
  const { out, dir } = await bash(`
    touch core.1
    sleep 0.01
    marker="$(crash_marker)"
    touch -d '+1 second' core.2
    crash_report 0 /bin/true "$PWD" "$marker"
    crash_report 1 /bin/true "$PWD" "$(crash_marker)"
    ls`);
  try {
    assert.doesNotMatch(out, /native crash/);
    assert.deepEqual(coresIn(dir).sort(), ["core.1"], "an older core is not the run's: left alone");
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
