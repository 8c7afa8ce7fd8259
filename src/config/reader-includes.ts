/**
 * The stack of open files and `include`s (docs/keepalived-behaviour.md 1.5): the main file, each include variant
 * (include, includer, includem, includew, includeb, includea, and -e as includea), matches opened one
 * at a time, cycles found by real path, and the load's bounds on files, bytes, brace alternatives and
 * directory entries (limits.ts). Hands out the physical lines of the innermost file (reader-lines.ts).
 * Pure apart from the injected ConfigHost.
 */
import { posix as path } from 'node:path';
import { countBraceAlternatives, expandBraces } from './braces.js';
import type { ConfigHost } from './host.js';
import type { Diagnostics, SourceLoc } from './diagnostics.js';
import type { LoadLimits, StopAtLimit } from './limits.js';
import { BLANK, COMMENT, decomment, END, nextChunk, type LineCursor } from './reader-lines.js';
import { splitWords } from './words.js';

/**
 * keepalived keeps every including file open, so a file that includes itself through a chain of
 * other files recurses until open() fails with EMFILE (ulimit -n 1024). vrrpd finds cycles by real
 * path instead (see openNextMatch), but still stops a chain of distinct files at this depth.
 */
const MAX_INCLUDE_DEPTH = 1000;

/** One open file, read a physical line at a time (nothing is split or decoded ahead). */
interface FileFrame extends LineCursor {
  readonly kind: 'file';
  /** The name diagnostics use: the `-f` or `include` argument as written (relative to the includer). */
  readonly file: string;
  readonly dir: string;
  /** realpath(3) of the file: an include of a file already on the stack is a cycle. */
  readonly realPath: string;
  /** The bytes to read: the whole file, or up to the last line within the byte budget. */
  readonly bytes: Uint8Array;
  /** The file went on past the byte budget: reaching the end of `bytes` stops the load. */
  readonly overBudget: boolean;
}

/** The matches of one include line, opened one at a time as keepalived does (open_conf_file()). */
interface IncludeFrame {
  readonly kind: 'include';
  readonly kw: string;
  readonly mode: IncludeMode;
  readonly loc: SourceLoc;
  readonly pattern: string;
  readonly dir: string;
  readonly matches: readonly string[];
  next: number;
}

type Frame = FileFrame | IncludeFrame;

type IncludeMode = { read: boolean; match: boolean; wildcardMatch: boolean; braceMatch: boolean };

const INCLUDE_VARIANTS: Record<string, Partial<IncludeMode>> = {
  include: {},
  includer: { read: true },
  includem: { match: true },
  includew: { match: true, wildcardMatch: true },
  includeb: { braceMatch: true },
  includea: { read: true, match: true, wildcardMatch: true, braceMatch: true },
};

/** What {@link IncludeStack.next} hands out from the innermost file. */
export type FileLine =
  /** A line (or a chunk of a long one), decommented. */
  | { readonly kind: 'line'; readonly text: string; readonly loc: SourceLoc }
  /** A line that is only a comment (not decoded); `loc` is where it is. */
  | { readonly kind: 'comment'; readonly loc: SourceLoc }
  /** A line with nothing on it. */
  | { readonly kind: 'blank' }
  /** The innermost file ended (and was closed); reading goes on in the file that included it. */
  | { readonly kind: 'file-end' };

export interface IncludeOptions {
  readonly host: ConfigHost;
  readonly diags: Diagnostics;
  readonly limits: LoadLimits;
  /** Treat every include as `includea` (keepalived's -e/--all-config). */
  readonly allConfig?: boolean;
}

export class IncludeStack {
  private readonly frames: Frame[] = [];
  /** Files opened, bytes read, glob entries left (whole load). */
  private filesOpened = 0;
  private bytesRead = 0;
  private readonly globBudget: { entries: number };
  /** Frames of open files (not include frames), for the depth bound. */
  private openFiles = 0;
  /** A limit stopped the load: nothing more is read. */
  private stopped = false;
  /** Every file read, in order (main file first). */
  readonly files: string[] = [];

  /** `stop` reports a limit and stops the whole load (it calls {@link clear}). */
  constructor(
    private readonly opts: IncludeOptions,
    private readonly stop: StopAtLimit,
  ) {
    this.globBudget = { entries: opts.limits.maxGlobEntries };
  }

  private get limits(): LoadLimits {
    return this.opts.limits;
  }

  /** Open the main file (a regular file only, with `regularOnly`); a fatal diagnostic when it cannot be read. */
  openMain(mainFile: string, regularOnly: boolean): void {
    const opts = this.opts;
    if (regularOnly) {
      const st = opts.host.stat(mainFile);
      if (st && !st.isFile) {
        opts.diags.report(undefined, 'fatal', `Configuration file '${mainFile}' is not a regular file`, undefined, 'no-config');
        return;
      }
    }
    this.filesOpened = 1;
    const bytes = opts.host.readFile(mainFile, { maxBytes: this.limits.maxBytes, regularOnly });
    if (bytes === undefined) {
      // keepalived 2.2.7 -t prints "Config files missing 'FILE'." here and exits 0 (observed), which lets
      // `keepalived -t && reload` pass without any config; vrrpd uses the same words but refuses: exit 6
      // (KEEPALIVED_EXIT_NO_CONFIG, as for a missing mandatory include).
      opts.diags.report(undefined, 'fatal', `Config files missing '${mainFile}'.`, undefined, 'no-config');
      return;
    }
    this.pushFile(mainFile, opts.host.realPath?.(mainFile) ?? canonical(opts.host, mainFile), bytes);
  }

  /** Stop reading (a limit was reached): every file is closed. */
  clear(): void {
    this.stopped = true;
    this.frames.length = 0;
  }

  /** The directory of the innermost open file ('.' when none), for relative includes and ${_PWD}. */
  currentDir(): string {
    return this.currentFrame()?.dir ?? '.';
  }

  /**
   * Open a file read within the byte budget. `path` is what was read (config.files lists it),
   * `display` the name keepalived prints (defaults to path). Bytes past the budget are dropped back
   * to the last whole line; reaching that point stops the load (next()).
   */
  private pushFile(file: string, realPath: string, bytes: Uint8Array, display = file): void {
    const budget = this.limits.maxBytes - this.bytesRead;
    let data = bytes;
    let overBudget = false;
    if (bytes.length > budget) {
      overBudget = true;
      const nl = bytes.subarray(0, Math.max(0, budget)).lastIndexOf(0x0a);
      data = bytes.subarray(0, nl + 1);
    }
    this.bytesRead += data.length;
    this.files.push(file);
    this.openFiles++;
    this.frames.push({
      kind: 'file',
      file: display,
      dir: path.dirname(file),
      realPath,
      bytes: data,
      overBudget,
      pos: 0,
      lineNo: 0,
      nextNewline: -1,
      nextBackslash: -1,
      commentLine: 0,
    });
  }

  /** The innermost open file (an include frame on top is between two of its matches). */
  private currentFrame(): FileFrame | undefined {
    for (let i = this.frames.length - 1; i >= 0; i--) {
      const f = this.frames[i]!;
      if (f.kind === 'file') return f;
    }
    return undefined;
  }

  /**
   * The next physical chunk of the innermost open file; pops finished files (`file-end`) and opens
   * the next match of an include. Undefined at the end of the main file, or once a limit stopped the
   * load. Reaching the end of a file's byte budget stops the load (maxBytes).
   */
  next(): FileLine | undefined {
    for (;;) {
      if (this.stopped) return undefined;
      const f = this.frames[this.frames.length - 1];
      if (!f) return undefined;
      if (f.kind === 'include') {
        this.openNextMatch(f);
        continue;
      }
      const c = nextChunk(f);
      if (c === END) {
        if (f.overBudget) {
          this.stop({ file: f.file, line: f.lineNo + 1 }, 'maxBytes', `Configuration too large: more than ${this.limits.maxBytes} bytes`);
          return undefined;
        }
        this.frames.pop();
        this.openFiles--;
        return { kind: 'file-end' };
      }
      if (c === BLANK) return { kind: 'blank' };
      if (c === COMMENT) return { kind: 'comment', loc: { file: f.file, line: f.commentLine } };
      const loc = { file: f.file, line: f.lineNo };
      return { kind: 'line', text: decomment(c, loc, this.opts.diags), loc };
    }
  }

  /** `include PATTERN` and its strict variants (docs/keepalived-behaviour.md 1.5). Returns true when it was one. */
  tryInclude(text: string, loc: SourceLoc): boolean {
    if (!text.includes('include')) return false;
    const { words } = splitWords(text);
    const kw = words[0];
    if (kw === undefined || !(kw in INCLUDE_VARIANTS) || words.length !== 2) return false;
    const mode: IncludeMode = { read: false, match: false, wildcardMatch: false, braceMatch: false, ...INCLUDE_VARIANTS[kw] };
    if (this.opts.allConfig) Object.assign(mode, INCLUDE_VARIANTS.includea);
    const pattern = words[1]!;
    const dir = this.currentDir();
    const maxAlts = this.limits.maxBraceAlternatives;
    if (countBraceAlternatives(pattern, maxAlts) > maxAlts) {
      this.stop(loc, 'maxBraceAlternatives', `Include pattern '${pattern}' has more than ${maxAlts} brace alternatives`);
      return true;
    }
    const matches = this.glob(pattern, dir, loc);
    if (matches === undefined) return true;
    const wildcard = /[*?[]/.test(pattern);
    const required = mode.match && (!wildcard || mode.wildcardMatch);
    if (matches.length === 0) {
      if (required) this.opts.diags.report(loc, 'fatal', `Config files missing '${pattern}'.`, kw, 'no-config');
      else this.opts.diags.notice(loc, `Config files missing '${pattern}'.`, kw);
      return true;
    }
    if (mode.braceMatch) {
      for (const alt of expandBraces(pattern, maxAlts) ?? []) {
        const m = this.glob(alt, dir, loc);
        if (m === undefined) return true;
        if (m.length === 0) this.opts.diags.report(loc, 'fatal', `Config files missing '${alt}'.`, kw, 'no-config');
      }
    }
    this.frames.push({ kind: 'include', kw, mode, loc, pattern, dir, matches, next: 0 });
    return true;
  }

  /** The host's glob within the load's entry budget; undefined after a limit stopped the load. */
  private glob(pattern: string, dir: string, loc: SourceLoc): readonly string[] | undefined {
    const r = this.opts.host.glob(pattern, dir, { maxAlternatives: this.limits.maxBraceAlternatives, budget: this.globBudget });
    if (!('overflow' in r)) return r;
    if (r.overflow === 'maxBraceAlternatives') {
      this.stop(
        loc,
        'maxBraceAlternatives',
        `Include pattern '${pattern}' has more than ${this.limits.maxBraceAlternatives} brace alternatives`,
      );
    } else {
      this.stop(
        loc,
        'maxGlobEntries',
        `Include pattern '${pattern}' takes the directory entries examined over ${this.limits.maxGlobEntries}`,
      );
    }
    return undefined;
  }

  /**
   * Open the include frame's next match (keepalived's open_conf_file(): checked and opened one at a
   * time, when the previous one is finished), or pop the frame when none is left.
   */
  private openNextMatch(inc: IncludeFrame): void {
    const m = inc.matches[inc.next++];
    if (m === undefined) {
      this.frames.pop();
      return;
    }
    const { kw, loc, mode, pattern, dir } = inc;
    // keepalived chdir()s to the including file's directory, so it names matches relative to it
    const display = path.isAbsolute(pattern) || dir === '.' ? m : path.relative(dir, m);
    const st = this.opts.host.stat(m);
    if (!st || !st.isFile || st.executable) {
      this.opts.diags.notice(loc, `Configuration file '${display}' is not a regular non-executable file - skipping`, kw);
      return;
    }
    const realPath = this.opts.host.realPath?.(m) ?? canonical(this.opts.host, m);
    if (this.frames.some((f) => f.kind === 'file' && f.realPath === realPath)) {
      // keepalived would open it again, and again, until EMFILE (or for ever, with two such files)
      this.opts.diags.error(loc, `Configuration file '${display}' is already being read (include cycle) - skipping`, kw);
      return;
    }
    if (this.openFiles >= MAX_INCLUDE_DEPTH) {
      this.opts.diags.error(loc, `Configuration file '${display}' open problem (Too many open files) - skipping`, kw);
      return;
    }
    if (this.filesOpened >= this.limits.maxFiles) {
      this.stop(
        loc,
        'maxFiles',
        `Too many configuration files: '${display}' would be file ${this.filesOpened + 1}, more than ${this.limits.maxFiles}`,
      );
      return;
    }
    this.filesOpened++;
    const bytes = this.opts.host.readFile(m, { maxBytes: Math.max(0, this.limits.maxBytes - this.bytesRead), regularOnly: true });
    if (bytes === undefined) {
      if (mode.read) this.opts.diags.report(loc, 'fatal', `Configuration file '${m}' open problem - skipping`, kw, 'no-config');
      else this.opts.diags.info(loc, `Configuration file '${m}' open problem - skipping`, kw);
      return;
    }
    this.pushFile(m, realPath, bytes, display);
  }
}

/** A path made absolute and normal, for hosts without realpath (in-memory test hosts). */
function canonical(host: ConfigHost, p: string): string {
  const cwd = host.cwd?.() ?? '/';
  return path.resolve(cwd, p);
}
