/**
 * Brace expansion as glob(3) does it with GLOB_BRACE (docs/keepalived-behaviour.md 1.5: keepalived globs include
 * patterns with it): the first unescaped `{` with a well-formed group is split at its top-level
 * commas, each alternative is put back between the prefix and the rest, and every result is expanded
 * again, in order; an ill-formed group leaves the whole pattern literal. Alternatives multiply
 * (`{a,b}` thirty times is 2^30 patterns), so they are counted first, without building any, and
 * built only under the caller's cap. Pure.
 */

/** Where the first brace group of `p` is, or undefined when `p` has none that is well-formed. */
function firstGroup(p: string): { open: number; alts: [number, number][]; close: number } | undefined {
  let open = -1;
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '\\' && i + 1 < p.length) i++;
    else if (p[i] === '{') {
      open = i;
      break;
    }
  }
  if (open < 0) return undefined;
  const alts: [number, number][] = [];
  let start = open + 1;
  let depth = 0;
  for (let i = start; i < p.length; i++) {
    const c = p[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '{') depth++;
    else if (c === '}' && depth > 0) depth--;
    else if (depth === 0 && (c === ',' || c === '}')) {
      alts.push([start, i]);
      if (c === '}') return { open, alts, close: i };
      start = i + 1;
    }
  }
  return undefined;
}

/**
 * How many patterns `p` expands to, or `limit + 1` as soon as it is known to be more than `limit`.
 * Counting is memoized on the text from the first group on (alternatives that differ only before
 * it expand alike), so `{a,b}` thirty times takes thirty steps; `maxSteps` bounds the work of
 * patterns crafted to defeat that (they count as over the limit).
 */
export function countBraceAlternatives(p: string, limit: number, maxSteps = 100_000): number {
  const memo = new Map<string, number>();
  let steps = 0;
  const over = limit + 1;
  const count = (s: string): number => {
    if (++steps > maxSteps) return over;
    const g = firstGroup(s);
    if (!g) return 1;
    const rest = s.slice(g.close + 1);
    let total = 0;
    for (const [a, b] of g.alts) {
      const next = s.slice(a, b) + rest;
      const key = keyFrom(next);
      let n = memo.get(key);
      if (n === undefined) {
        n = count(next);
        memo.set(key, n);
      }
      total += n;
      if (total > limit) return over;
    }
    return total;
  };
  return Math.min(count(p), over);
}

/** The part of `s` that decides its expansion count: from the first unescaped `{` on. */
function keyFrom(s: string): string {
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\' && i + 1 < s.length) i++;
    else if (s[i] === '{') return s.slice(i);
  }
  return '';
}

/**
 * Every pattern `p` expands to, in glob(3)'s order, or undefined when there would be more than
 * `limit` (nothing is built then).
 */
export function expandBraces(p: string, limit: number): string[] | undefined {
  if (countBraceAlternatives(p, limit) > limit) return undefined;
  const out: string[] = [];
  const expand = (s: string): void => {
    const g = firstGroup(s);
    if (!g) {
      out.push(s);
      return;
    }
    const prefix = s.slice(0, g.open);
    const rest = s.slice(g.close + 1);
    for (const [a, b] of g.alts) expand(prefix + s.slice(a, b) + rest);
  };
  expand(p);
  return out;
}
