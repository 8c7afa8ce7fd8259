/**
 * The RSS slope of a soak (issue 10: "is the memory creep linear, or does it level off?"):
 * least squares over the samples after warm-up, with a step allowed at each heap snapshot (writing
 * a snapshot allocates, and the allocator keeps some of it: a jump in RSS that is not a leak), and
 * the slope's standard error, so "within measurement noise" can be told from a trend. Pure.
 */

export interface RssSample {
  /** ms since the soak started. */
  readonly ms: number;
  readonly mib: number;
}

export interface RssFit {
  /** MiB per minute. NaN with fewer than (parameters + 1) samples. */
  readonly slopeMiBPerMin: number;
  /** Standard error of the slope (MiB/min): a slope within ~2 of these is noise. */
  readonly slopeStdErr: number;
  /** Samples used. */
  readonly n: number;
  /** Residual standard deviation (MiB). */
  readonly residualMiB: number;
  /** The RSS step fitted at each snapshot (MiB). */
  readonly steps: readonly number[];
}

/** Solve A x = b (A square, small) by Gaussian elimination with partial pivoting; null if singular. */
function solve(a: number[][], b: number[]): number[] | null {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]!]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[p]![c]!)) p = r;
    if (Math.abs(m[p]![c]!) < 1e-12) return null;
    [m[c], m[p]] = [m[p]!, m[c]!];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r]![c]! / m[c]![c]!;
      for (let k = c; k <= n; k++) m[r]![k]! -= f * m[c]![k]!;
    }
  }
  return m.map((row, i) => row[n]! / row[i]!);
}

/**
 * Fit `mib = a + slope * minutes + sum(step_k * [ms >= atMs_k])` over the samples from `fromMs`,
 * leaving out each step's `settleMs` (the snapshot being written). Steps with no sample after
 * them are dropped.
 */
export function rssFit(
  samples: readonly RssSample[],
  o: { fromMs?: number; steps?: readonly { atMs: number; settleMs: number }[] } = {},
): RssFit {
  const from = o.fromMs ?? 0;
  const allSteps = o.steps ?? [];
  const use = samples.filter(
    (s) => Number.isFinite(s.mib) && s.ms >= from && !allSteps.some((st) => s.ms >= st.atMs && s.ms < st.atMs + st.settleMs),
  );
  const steps = allSteps.filter((st) => use.some((s) => s.ms >= st.atMs) && use.some((s) => s.ms < st.atMs));
  const row = (s: RssSample): number[] => [1, s.ms / 60_000, ...steps.map((st) => (s.ms >= st.atMs ? 1 : 0))];
  const p = 2 + steps.length;
  const nan: RssFit = { slopeMiBPerMin: Number.NaN, slopeStdErr: Number.NaN, n: use.length, residualMiB: Number.NaN, steps: [] };
  if (use.length <= p) return nan;
  const xtx = Array.from({ length: p }, () => new Array<number>(p).fill(0));
  const xty = new Array<number>(p).fill(0);
  for (const s of use) {
    const x = row(s);
    for (let i = 0; i < p; i++) {
      xty[i]! += x[i]! * s.mib;
      for (let j = 0; j < p; j++) xtx[i]![j]! += x[i]! * x[j]!;
    }
  }
  const beta = solve(xtx, xty);
  if (beta === null) return nan;
  let rss = 0;
  for (const s of use) {
    const x = row(s);
    const fit = x.reduce((a, v, i) => a + v * beta[i]!, 0);
    rss += (s.mib - fit) ** 2;
  }
  const sigma2 = rss / (use.length - p);
  // Var(slope) = sigma^2 * (X'X)^-1 [1][1]: solve X'X v = e1.
  const e1 = new Array<number>(p).fill(0);
  e1[1] = 1;
  const inv = solve(xtx, e1);
  return {
    slopeMiBPerMin: beta[1]!,
    slopeStdErr: inv === null ? Number.NaN : Math.sqrt(Math.max(0, sigma2 * inv[1]!)),
    n: use.length,
    residualMiB: Math.sqrt(sigma2),
    steps: beta.slice(2),
  };
}
