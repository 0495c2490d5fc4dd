// The t distribution and the paired t test behind compare's paired comparisons, against SciPy's
// values (tests/fixtures/student_t.json, made by tests/fixtures/make_student_t.py) and against
// closed forms (t with 1 and 2 degrees of freedom).
import assert from "node:assert/strict";
import {
  incompleteBeta,
  lnGamma,
  median,
  pairedTTest,
  quantileSorted,
  studentTCdf,
  studentTQuantile,
} from "../src/util/stats.ts";

const ref = JSON.parse(
  Deno.readTextFileSync(new URL("./fixtures/student_t.json", import.meta.url)),
);
const near = (got: number, want: number, rel: number, what: string) =>
  assert.ok(
    Math.abs(got - want) <= rel * Math.max(1, Math.abs(want)),
    `${what}: ${got} vs ${want}`,
  );

Deno.test("stats: lnGamma and the incomplete beta function against closed forms", () => {
  near(lnGamma(5), Math.log(24), 1e-12, "ln 4!");
  near(lnGamma(0.5), 0.5 * Math.log(Math.PI), 1e-12, "ln Γ(1/2)");
  near(lnGamma(30), Math.log(8841761993739701954543616000000), 1e-13, "ln 29!");
  // I_x(1, 1) = x; I_x(a, 1) = x^a
  near(incompleteBeta(0.3, 1, 1), 0.3, 1e-12, "I_0.3(1,1)");
  near(incompleteBeta(0.6, 3, 1), 0.216, 1e-12, "I_0.6(3,1)");
});

Deno.test("stats: Student's t quantiles and CDF agree with SciPy and with the closed forms for 1 and 2 df", () => {
  for (const [p, df, want] of ref.quantiles) {
    // SciPy's ppf itself is good to about 1e-9 here (its cdf of ppf(0.9, 30) is 0.9 - 4.7e-10)
    near(studentTQuantile(p, df), want, 1e-8, `ppf(${p}, ${df})`);
  }
  for (const [t, df, want] of ref.cdf) near(studentTCdf(t, df), want, 1e-12, `cdf(${t}, ${df})`);
  // df 1 is Cauchy: F(t) = 1/2 + atan(t)/pi; df 2: F(t) = 1/2 + t / (2 sqrt(2 + t^2))
  for (const t of [-4, -1, 0.3, 2, 9]) {
    near(studentTCdf(t, 1), 0.5 + Math.atan(t) / Math.PI, 1e-12, `cauchy ${t}`);
    near(studentTCdf(t, 2), 0.5 + t / (2 * Math.sqrt(2 + t * t)), 1e-12, `t2 ${t}`);
  }
  assert.equal(studentTQuantile(0.025, 4), -studentTQuantile(0.975, 4));
  assert.throws(() => studentTQuantile(1, 3), /0 < p < 1, got 1/);
});

Deno.test("stats: the paired t test matches scipy.stats.ttest_rel (t, two-sided p, 95% interval)", () => {
  for (const c of ref.paired) {
    const r = pairedTTest(c.a, c.b);
    assert.equal(r.n, c.a.length);
    near(r.t!, c.t, 1e-10, "t");
    near(r.p!, c.p, 1e-10, "p");
    near(r.ci95![0], c.ci95[0], 1e-10, "ci low");
    near(r.ci95![1], c.ci95[1], 1e-10, "ci high");
  }
  // one pair: a mean and nothing more; equal differences: a zero-width interval and no t
  assert.deepEqual(pairedTTest([0.7], [0.6]), {
    n: 1,
    mean: 0.7 - 0.6,
    sd: null,
    ci95: null,
    t: null,
    p: null,
  });
  const same = pairedTTest([2, 3], [1, 2]);
  assert.deepEqual([same.mean, same.ci95, same.t], [1, [1, 1], null]);
  assert.throws(() => pairedTTest([1, 2], [1]), /needs pairs: 2 values against 1/);
});

Deno.test("median and quantiles: numpy's linear interpolation; a value itself where p lands on one", () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.ok(Number.isNaN(median([])));
  assert.equal(median([1, 2, Infinity]), 2, "an infinity beside the middle does not make NaN");
  assert.equal(median([Infinity, Infinity, 1]), Infinity);
  // numpy.quantile([1, 2, 4, 8], [0.25, 0.75]) = [1.75, 5.0]
  assert.equal(quantileSorted([1, 2, 4, 8], 0.25), 1.75);
  assert.equal(quantileSorted([1, 2, 4, 8], 0.75), 5);
  assert.equal(quantileSorted([1, 2, 4, 8], 1), 8);
});
