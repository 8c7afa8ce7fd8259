/**
 * The loader's named bounds. keepalived has none of these: it recurses through include cycles until
 * open() fails with EMFILE, expands brace patterns and multi-line definitions without limit and keeps
 * every byte it read. A config file is root's input, but one that a mistake (a `conf.d/*.conf`
 * including itself) or a less trusted writer (a templating pipeline, an include directory another
 * user can write) produces must end loading quickly with an error that names the bound, never hang
 * the loader or grow memory until the host suffers.
 *
 * Each limit is far above any real config: the 1,000-instance benchmark config (bench/
 * config-parse.ts) is 573 KiB, 26,743 lines and one file, and loads with every limit at 1/30 or less.
 * Every message that reports a limit names it (`MAX_CONFIG_BYTES`...) and the file and line where it
 * was reached. Pure.
 */
import type { SourceLoc } from './diagnostics.js';

export interface LoadLimits {
  /** Files opened for reading: the main file and every include match (each time it is read). */
  readonly maxFiles: number;
  /** Bytes read from all files together. */
  readonly maxBytes: number;
  /**
   * Lines the preprocessor produces: each file line that is not blank or a comment, every line a
   * generator (`~SEQ`/`~LST`) or a multi-line definition produces, and the rest of a line after a
   * `{` or `}` (processed as a line of its own, and substitution can make such rests without end).
   * Blank and comment lines cost only bytes and are bounded by `maxBytes`.
   */
  readonly maxLines: number;
  /** Brace alternatives in one include pattern (`{a,b}{c,d}` has 4), counted before any is built. */
  readonly maxBraceAlternatives: number;
  /** Directory entries (and literal paths) all include patterns together may examine (`/*\/*\/*` walks the disk). */
  readonly maxGlobEntries: number;
  /** Lines generated from one file line (`~SEQ(A,1,100000) ~SEQ(B,1,100000) x` is 10^10). */
  readonly maxGeneratedLines: number;
  /** Definition substitutions in one line (`$A=$A` loops keepalived 2.2.7 for ever). */
  readonly maxSubstitutions: number;
  /** Definition substitutions in the whole load (a million lines of `$A` with `$A=$A` would be slow, not endless). */
  readonly maxSubstitutionsTotal: number;
  /** Diagnostics kept (one per line of a 1,000,000-line file would be hundreds of MB); the rest are counted. */
  readonly maxDiagnostics: number;
}

/** Files read per load (a conf.d of one file per instance at 1,000 instances is 1,001). */
export const MAX_CONFIG_FILES = 10_000;
/** 32 MiB read per load (the benchmark config is 573 KiB; a 15 MB file of comments loads). */
export const MAX_CONFIG_BYTES = 32 * 1024 * 1024;
/** 1,000,000 lines per load (the benchmark config is 26,743). */
export const MAX_CONFIG_LINES = 1_000_000;
/** 1,024 alternatives per include pattern. */
export const MAX_BRACE_ALTERNATIVES = 1024;
/** 100,000 directory entries examined per load. */
export const MAX_GLOB_ENTRIES = 100_000;
/** 100,000 lines generated from one file line. */
export const MAX_GENERATED_LINES = 100_000;
/**
 * 1,024 substitutions per line. A substitution that lengthens the line stops at keepalived's
 * 1,023-byte line (as keepalived's does), so only references that loop without growing (`$A=$A`,
 * which keepalived 2.2.7 never leaves) get this far.
 */
export const MAX_SUBSTITUTIONS = 1024;
/**
 * 200,000 substitutions per load (a 1,000-instance config templated with ten definitions per instance
 * makes 10,000). A substitution on a line near keepalived's 1,023-byte maximum costs a few µs, so
 * this bounds the time substitution can take to about a second.
 */
export const MAX_TOTAL_SUBSTITUTIONS = 200_000;
/** 10,000 diagnostics kept per load. */
export const MAX_DIAGNOSTICS = 10_000;

export const DEFAULT_LOAD_LIMITS: LoadLimits = Object.freeze({
  maxFiles: MAX_CONFIG_FILES,
  maxBytes: MAX_CONFIG_BYTES,
  maxLines: MAX_CONFIG_LINES,
  maxBraceAlternatives: MAX_BRACE_ALTERNATIVES,
  maxGlobEntries: MAX_GLOB_ENTRIES,
  maxGeneratedLines: MAX_GENERATED_LINES,
  maxSubstitutions: MAX_SUBSTITUTIONS,
  maxSubstitutionsTotal: MAX_TOTAL_SUBSTITUTIONS,
  maxDiagnostics: MAX_DIAGNOSTICS,
});

/** The constant's name for each limit, as messages print it. */
export const LIMIT_NAMES: Readonly<Record<keyof LoadLimits, string>> = Object.freeze({
  maxFiles: 'MAX_CONFIG_FILES',
  maxBytes: 'MAX_CONFIG_BYTES',
  maxLines: 'MAX_CONFIG_LINES',
  maxBraceAlternatives: 'MAX_BRACE_ALTERNATIVES',
  maxGlobEntries: 'MAX_GLOB_ENTRIES',
  maxGeneratedLines: 'MAX_GENERATED_LINES',
  maxSubstitutions: 'MAX_SUBSTITUTIONS',
  maxSubstitutionsTotal: 'MAX_TOTAL_SUBSTITUTIONS',
  maxDiagnostics: 'MAX_DIAGNOSTICS',
});

/** Defaults with some limits replaced (tests use small ones); every value must be a positive integer. */
export function loadLimits(over: Partial<LoadLimits> = {}): LoadLimits {
  const out = { ...DEFAULT_LOAD_LIMITS, ...over };
  for (const [k, v] of Object.entries(out)) {
    if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`load limit ${k} must be a positive integer, not ${String(v)}`);
  }
  return out;
}

/**
 * Report that a limit was reached (a fatal diagnostic naming the limit, at `loc`) and stop the load:
 * the reader's parts call it, the reader stops all of them.
 */
export type StopAtLimit = (loc: SourceLoc | undefined, limit: keyof LoadLimits, what: string) => void;
