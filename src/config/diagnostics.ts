/**
 * Config diagnostics: every problem found while reading a keepalived.conf, with file, line and keyword.
 * keepalived's classes are kept so `vrrpd check` can exit with keepalived's codes (docs/keepalived-behaviour.md 1.7).
 */

/**
 * - `fatal`: keepalived refuses to run this config (missing VRID, duplicate VRID, missing interface...).
 * - `error`: a value is rejected or corrected (out of range number, invalid IP...).
 * - `warning`: keepalived goes on (unknown keyword, deprecated keyword, ignored entry).
 * - `info`: logged by keepalived at run time but not by `keepalived -t`; not counted.
 */
export type Severity = 'fatal' | 'error' | 'warning' | 'info';

/** What a problem does to `keepalived -t`'s exit code. */
export type ExitClass =
  | 'config' // exit 5
  | 'missing-parameter' // exit 2, parsing stops at once
  | 'security' // exit 6
  | 'no-config' // exit 6 (a required include is missing)
  | 'none'; // not counted (info)

export interface Diagnostic {
  /** Path of the file the problem is in, as it was named (main file or include); '' for post-parse checks. */
  readonly file: string;
  /** 1-based physical line number; 0 when the problem is not tied to a line (post-parse checks). */
  readonly line: number;
  readonly severity: Severity;
  /** The keyword the problem is about, when there is one. */
  readonly keyword?: string;
  /** keepalived-like message text, without the `(FILE: Line N)` prefix. */
  readonly message: string;
  readonly exitClass: ExitClass;
}

/** Exit codes of `keepalived -t` (lib/scheduler.h, observed on 2.2.7). */
export const EXIT_OK = 0;
export const EXIT_MISSING_PARAMETER = 2;
export const EXIT_CONFIG = 5;
export const EXIT_SECURITY = 6;

/** Where a statement came from. */
export interface SourceLoc {
  readonly file: string;
  readonly line: number;
}

/** Thrown (and caught inside the loader) to stop parsing the way keepalived exits on a missing parameter. */
export class MissingParameterStop extends Error {
  constructor(readonly diagnostic: Diagnostic) {
    super(diagnostic.message);
  }
}

/**
 * Collects diagnostics in the order they are found, at most `maxKept` of them (a file of a million
 * unknown keywords would otherwise hold a million messages). Past the bound a diagnostic is only
 * counted in `dropped`, unless it is the first of its exit class or the first fatal one (so the exit
 * code and the refusal are the same as if nothing had been dropped) or reports a limit (`limit()`:
 * those are few, as each takes a large part of another bound to reach).
 */
export class Diagnostics {
  readonly list: Diagnostic[] = [];
  /** Diagnostics found but not kept (over `maxKept`). */
  dropped = 0;
  readonly #classes = new Set<ExitClass>();
  #fatal = false;

  constructor(readonly maxKept = Number.POSITIVE_INFINITY) {}

  add(d: Diagnostic, keep = false): void {
    const first = !this.#classes.has(d.exitClass) || (d.severity === 'fatal' && !this.#fatal);
    if (this.list.length >= this.maxKept && !first && !keep) {
      this.dropped++;
      return;
    }
    this.#classes.add(d.exitClass);
    if (d.severity === 'fatal') this.#fatal = true;
    this.list.push(d);
  }

  report(loc: SourceLoc | undefined, severity: Severity, message: string, keyword?: string, exitClass?: ExitClass): void {
    this.add({
      file: loc?.file ?? '',
      line: loc?.line ?? 0,
      severity,
      message,
      exitClass: exitClass ?? (severity === 'info' ? 'none' : 'config'),
      ...(keyword !== undefined ? { keyword } : {}),
    });
  }

  /** A limit was reached (its message names it): kept even past `maxKept`. */
  limit(loc: SourceLoc | undefined, severity: 'error' | 'fatal', message: string): void {
    this.add({ file: loc?.file ?? '', line: loc?.line ?? 0, severity, message, exitClass: 'config' }, true);
  }

  error(loc: SourceLoc | undefined, message: string, keyword?: string): void {
    this.report(loc, 'error', message, keyword);
  }

  warn(loc: SourceLoc | undefined, message: string, keyword?: string): void {
    this.report(loc, 'warning', message, keyword);
  }

  fatal(loc: SourceLoc | undefined, message: string, keyword?: string): void {
    this.report(loc, 'fatal', message, keyword);
  }

  /** Printed by `keepalived -t` but not counted in its exit code (include notices). */
  notice(loc: SourceLoc | undefined, message: string, keyword?: string): void {
    this.report(loc, 'warning', message, keyword, 'none');
  }

  info(loc: SourceLoc | undefined, message: string, keyword?: string): void {
    this.report(loc, 'info', message, keyword);
  }

  /** keepalived stops parsing at once on a missing parameter and exits 2. */
  missingParameter(loc: SourceLoc, message: string, keyword: string): never {
    const d: Diagnostic = { file: loc.file, line: loc.line, severity: 'fatal', keyword, message, exitClass: 'missing-parameter' };
    this.add(d);
    throw new MissingParameterStop(d);
  }

  get counted(): Diagnostic[] {
    return this.list.filter((d) => d.exitClass !== 'none');
  }

  hasFatal(): boolean {
    return this.list.some((d) => d.severity === 'fatal');
  }
}

/** `keepalived -t`'s exit code for a set of diagnostics. */
export function exitCodeFor(diags: readonly Diagnostic[]): number {
  if (diags.some((d) => d.exitClass === 'missing-parameter')) return EXIT_MISSING_PARAMETER;
  if (diags.some((d) => d.exitClass === 'security' || d.exitClass === 'no-config')) return EXIT_SECURITY;
  if (diags.some((d) => d.exitClass === 'config')) return EXIT_CONFIG;
  return EXIT_OK;
}

/** keepalived's prefix style: `(FILE: Line N) message`, or the bare message for post-parse checks. */
export function formatDiagnostic(d: Diagnostic): string {
  if (d.line > 0) return `(${d.file}: Line ${d.line}) ${d.message}`;
  return d.message;
}
