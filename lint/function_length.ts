/**
 * A `deno lint` plugin (deno.json's lint.plugins): rule `hlgm/max-function-lines` reports a
 * function, method or arrow function longer than {@link MAX_FUNCTION_LINES} lines, counted from its
 * first line to its last. A long function hides what it decides; split it, or say in a
 * `deno-lint-ignore hlgm/max-function-lines` comment why it cannot be (the pickle VM's opcode
 * switch). Tests are not checked: a test's body is a table of steps. tests/architecture_test.ts
 * lists the exemptions.
 *
 * @module
 */

/** This project's tests/ folder, as lint names its files. */
const TESTS = new URL("../tests/", import.meta.url).pathname;

/** The most lines a function may span. */
export const MAX_FUNCTION_LINES = 120;

/** The plugin `deno lint` loads. */
const plugin: Deno.lint.Plugin = {
  name: "hlgm",
  rules: {
    "max-function-lines": {
      create(context) {
        // a test's body is a table of steps, read one step at a time (tests/ of this project,
        // not a folder of that name above it)
        if (context.filename.startsWith(TESTS)) return {};
        const text = context.sourceCode.text;
        // line starts, for a binary search from an offset to its line
        const starts = [0];
        for (let i = 0; i < text.length; i++) if (text[i] === "\n") starts.push(i + 1);
        const lineOf = (offset: number) => {
          let lo = 0, hi = starts.length - 1;
          while (lo < hi) {
            const mid = (lo + hi + 1) >> 1;
            if (starts[mid] <= offset) lo = mid;
            else hi = mid - 1;
          }
          return lo + 1;
        };
        const check = (node: Deno.lint.Node) => {
          const lines = lineOf(node.range[1]) - lineOf(node.range[0]) + 1;
          if (lines > MAX_FUNCTION_LINES) {
            context.report({
              node,
              message: `this function spans ${lines} lines, over ${MAX_FUNCTION_LINES}`,
              hint: "split it into functions that each decide one thing",
            });
          }
        };
        return {
          FunctionDeclaration: check,
          FunctionExpression: check,
          ArrowFunctionExpression: check,
        };
      },
    },
  },
};

export default plugin;
