/**
 * Generators (docs/keepalived-behaviour.md 1.4): `~SEQ(var, [start,] [step,] end) text`, `~SEQx(...)` and
 * `~LST(...)` repeat the rest of their line once per value, with the variable defined to it. Each
 * generator's values are bounded (maxGeneratedLines). keepalived forgets them at the end of each
 * file. Pure.
 */
import type { SourceLoc } from './diagnostics.js';
import type { LoadLimits } from './limits.js';

interface Generator {
  readonly vars: readonly string[];
  /** Value tuples, one per expansion; `next` is the next one to use (an index: shift() is O(n)). */
  readonly rows: string[][];
  next: number;
  readonly text: string;
}

/** Substitution of definitions in a generator's arguments (reader-definitions.ts). */
export type Substitute = (buf: string, loc: SourceLoc) => { text: string; full: boolean } | undefined | null;

export class Generators {
  private readonly list: Generator[] = [];

  constructor(private readonly limits: LoadLimits) {}

  /** How many generators are active. */
  get depth(): number {
    return this.list.length;
  }

  /** Forget every generator (end of a file, or a bound reached). */
  clear(): void {
    this.list.length = 0;
  }

  /**
   * The innermost generator's next line: its variables are defined to the next values (`define`),
   * and it is dropped after its last. Only when {@link depth} > 0.
   */
  nextLine(define: (name: string, value: string) => void): string {
    const g = this.list[this.list.length - 1]!;
    const row = g.rows[g.next++]!;
    g.vars.forEach((v, i) => define(v, row[i] ?? ''));
    if (g.next >= g.rows.length) this.list.pop();
    return g.text;
  }

  /**
   * `~SEQ(var, [start,] [step,] end) text`, `~SEQx(...)` (hex), `~LST(var, v1, ...) text` and
   * `~LST({a,b}, {1,2}, ...) text`. Returns false when malformed.
   */
  add(buf: string, loc: SourceLoc, substitute: Substitute): boolean {
    const isSeq = buf.startsWith('~SEQ');
    let p = 4;
    const hex = isSeq && buf[p] === 'x';
    if (hex) p++;
    const open = buf.indexOf('(', p);
    if (open < 0 || buf.slice(p, open).trim() !== '') return false;
    const close = findClose(buf, open);
    if (close < 0) return false;
    let inner = buf.slice(open + 1, close);
    const text = buf.slice(close + 1).replace(/^[ \t]+/, '');
    const sub = substitute(inner, loc);
    if (sub === null) return true;
    if (sub !== undefined) inner = sub.text;
    if (isSeq) {
      const parts = inner.split(',').map((x) => x.trim());
      const v = parts.shift();
      if (!v || parts.length < 1 || parts.length > 3) return false;
      const nums = parts.map((x) => parseCLong(x));
      if (nums.some((x) => x === undefined)) return false;
      let start: number, step: number, end: number;
      if (nums.length === 1) {
        end = nums[0]!;
        step = end < 1 ? -1 : 1;
        start = end < 0 ? -1 : 1;
      } else if (nums.length === 2) {
        start = nums[0]!;
        end = nums[1]!;
        step = start <= end ? 1 : -1;
      } else {
        start = nums[0]!;
        step = nums[1]!;
        end = nums[2]!;
        if (step === 0 || (start < end && step < 0) || (start > end && step > 0)) return false;
      }
      if (hex && (start < 0 || end < 0)) return false;
      const rows: string[][] = [];
      for (let x = start; step > 0 ? x <= end : x >= end; x += step) {
        rows.push([hex ? x.toString(16) : String(x)]);
        if (rows.length > this.limits.maxGeneratedLines) return false;
      }
      if (rows.length === 0) return true;
      this.list.push({ vars: [v], rows, text, next: 0 });
      return true;
    }
    // ~LST
    if (inner.trim().startsWith('{')) {
      const groups = [...inner.matchAll(/\{([^}]*)\}/g)].map((g) => g[1]!.split(',').map((x) => x.trim()));
      const vars = groups.shift();
      if (!vars || vars.length === 0 || vars.some((x) => x === '')) return false;
      if (groups.length === 0) return true;
      this.list.push({ vars, rows: groups, text, next: 0 });
      return true;
    }
    const parts = inner.split(',').map((x) => x.trim());
    const v = parts.shift();
    if (!v) return false;
    if (parts.length === 0) return true;
    this.list.push({ vars: [v], rows: parts.map((x) => [x]), text, next: 0 });
    return true;
  }
}

function findClose(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    if (s[i] === '(') depth++;
    else if (s[i] === ')' && --depth === 0) return i;
  }
  return -1;
}

/** strtol(x, NULL, 0)-like: decimal, 0x hex, leading 0 octal; undefined when not a whole number. */
function parseCLong(x: string): number | undefined {
  if (/^[-+]?0[xX][0-9a-fA-F]+$/.test(x)) return parseInt(x, 16);
  if (/^[-+]?0[0-7]+$/.test(x)) return parseInt(x, 8);
  if (/^[-+]?\d+$/.test(x)) return parseInt(x, 10);
  return undefined;
}
