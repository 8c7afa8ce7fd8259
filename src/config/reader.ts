/**
 * keepalived.conf reader and preprocessor (KEEPALIVED.md 1.1, 1.4, 1.5): physical lines -> logical
 * statements. Comments, `include` (and its strict variants), `@id` conditionals, `$NAME` definitions
 * (multi-line too), `~SEQ`/`~LST` generators and brace splitting all happen here, so the keyword
 * dispatcher only ever sees one statement at a time with `{` and `}` on their own.
 * Pure apart from the injected ConfigHost.
 */
import { posix as path } from 'node:path';
import { countBraceAlternatives, expandBraces } from './braces.js';
import type { ConfigHost } from './host.js';
import type { Diagnostic, Diagnostics, SourceLoc } from './diagnostics.js';
import { DEFAULT_LOAD_LIMITS, LIMIT_NAMES, type LoadLimits } from './limits.js';
import { splitWords } from './words.js';

/** One logical statement. */
export interface Statement extends SourceLoc {
  /** The processed text: comments removed, definitions substituted, trimmed. Never empty. */
  readonly text: string;
}

/**
 * keepalived reads with fgets() into a 1024-byte buffer: longer lines are split (KEEPALIVED.md 1.1),
 * and a substitution that would make a line reach it is not made (replace_param(): "Parameter
 * substitution on line '...' would exceed maximum line length"; the line is used as it stands).
 */
const MAXBUF = 1024;
/**
 * keepalived keeps every including file open, so a file that includes itself through a chain of
 * other files recurses until open() fails with EMFILE (ulimit -n 1024). vrrpd finds cycles by real
 * path instead (see openNextMatch), but still stops a chain of distinct files at this depth.
 */
const MAX_INCLUDE_DEPTH = 1000;
/** Multi-line definitions expanding themselves (`$N=$INST` used inside $INST) would never end either. */
const MAX_MULTILINE_DEPTH = 64;

/** One open file, read a physical line at a time (nothing is split or decoded ahead). */
interface FileFrame {
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
  pos: number;
  lineNo: number;
  /** Where the next newline and backslash at or after `pos` are (Infinity: none); -1: not looked yet. */
  nextNewline: number;
  nextBackslash: number;
  /** The line number of the last comment line read. */
  commentLine: number;
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

interface Definition {
  value: string;
  multiline: boolean;
  /** Built-in definitions computed at use; `params` is the text after the name inside ${...}. */
  fn?: (params: number[]) => string;
  maxParams?: number;
}

interface Generator {
  readonly vars: readonly string[];
  /** Value tuples, one per expansion; `next` is the next one to use (an index: shift() is O(n)). */
  readonly rows: string[][];
  next: number;
  readonly text: string;
}

type IncludeMode = { read: boolean; match: boolean; wildcardMatch: boolean; braceMatch: boolean };

const INCLUDE_VARIANTS: Record<string, Partial<IncludeMode>> = {
  include: {},
  includer: { read: true },
  includem: { match: true },
  includew: { match: true, wildcardMatch: true },
  includeb: { braceMatch: true },
  includea: { read: true, match: true, wildcardMatch: true, braceMatch: true },
};

export interface ReaderOptions {
  readonly host: ConfigHost;
  readonly diags: Diagnostics;
  /** Treat every include as `includea` (keepalived's -e/--all-config). */
  readonly allConfig?: boolean;
  /** Default DEFAULT_LOAD_LIMITS. */
  readonly limits?: LoadLimits;
  /** The main file must be a regular file too (the daemon; `check` also reads a pipe). */
  readonly mainRegularOnly?: boolean;
  /** Every statement handed out is appended here (for a second dispatch over the same stream). */
  readonly record?: Statement[];
}

/** What the keyword dispatcher reads: statements and where the last one came from. */
export interface StatementSource {
  next(): Statement | undefined;
  readonly loc: SourceLoc;
}

/** Statements recorded from a ConfigReader, handed out again in the same order. */
export class StatementReplay implements StatementSource {
  #i = 0;
  #loc: SourceLoc = { file: '', line: 0 };
  constructor(private readonly stmts: readonly Statement[]) {}
  next(): Statement | undefined {
    const s = this.stmts[this.#i++];
    if (s) this.#loc = { file: s.file, line: s.line };
    return s;
  }
  get loc(): SourceLoc {
    return this.#loc;
  }
}

export class ConfigReader implements StatementSource {
  private readonly frames: Frame[] = [];
  private residue: string | undefined;
  private readonly defs = new Map<string, Definition>();
  private readonly generators: Generator[] = [];
  /** Pending lines of a multi-line definition being expanded (a stack for nesting). */
  private readonly multiline: string[][] = [];
  private multilineGenDepth = 0;
  /** Lines produced by generators and multi-line definitions since the last file line. */
  private generated = 0;
  /** The multi-line definition being read, while its lines end with `\`. */
  private readingDef: Definition | undefined;
  private blockDepth = 0;
  private lastLoc: SourceLoc = { file: '', line: 0 };
  private rng: () => number;
  private readonly limits: LoadLimits;
  /** Files opened, bytes read, lines produced, substitutions made, glob entries left (whole load). */
  private filesOpened = 0;
  private bytesRead = 0;
  private lines = 0;
  private substitutions = 0;
  /**
   * Substitutions made in the current line, including the rests split off it at braces: a rest is
   * preprocessed again (as keepalived does), and `$A=${A}${A}` makes braces that split off ever more
   * rest (keepalived 2.2.7 hangs on it), so one budget covers the line and all its rests.
   */
  private lineSubstitutions = 0;
  private readonly globBudget: { entries: number };
  /** Frames of open files (not include frames), for the depth bound. */
  private openFiles = 0;
  /** The file of the last comment line skipped since a line was handed out (see commentLoc()). */
  private skippedComment: FileFrame | undefined;
  /** The limit that stopped the reader: it hands out nothing more. */
  private limitReached: Diagnostic | undefined;
  /** Every file read, in order (main file first). */
  readonly files: string[] = [];

  constructor(private readonly opts: ReaderOptions, mainFile: string) {
    this.limits = opts.limits ?? DEFAULT_LOAD_LIMITS;
    this.globBudget = { entries: this.limits.maxGlobEntries };
    this.rng = seededRandom(opts.host.randomSeed ?? 0x5eed);
    this.installBuiltins();
    const regularOnly = opts.mainRegularOnly === true;
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

  /** The diagnostic of the limit that stopped the reader, if one did. */
  get stoppedBy(): Diagnostic | undefined {
    return this.limitReached;
  }

  /** Where the last statement came from (for diagnostics raised while handling it). */
  get loc(): SourceLoc {
    return this.lastLoc;
  }

  /** Seed ${_RANDOM} (global_defs `random_seed`). */
  setRandomSeed(seed: number): void {
    this.rng = seededRandom(seed);
  }

  /** The next statement, or undefined at the end of the main file or once a limit stopped reading. */
  next(): Statement | undefined {
    for (;;) {
      if (this.limitReached !== undefined) return undefined;
      const raw = this.nextProcessedLine();
      if (raw === undefined) {
        this.finish();
        return undefined;
      }
      const stmt = this.splitBraces(raw);
      if (stmt === undefined) continue;
      if (stmt.text === '{') this.blockDepth++;
      else if (stmt.text === '}') {
        if (this.blockDepth-- < 1) {
          this.opts.diags.error(stmt, "Extra '}' found");
          this.blockDepth = 0;
        }
      }
      this.lastLoc = { file: stmt.file, line: stmt.line };
      this.opts.record?.push(stmt);
      return stmt;
    }
  }

  private finishedReported = false;
  private finish(): void {
    if (this.finishedReported) return;
    this.finishedReported = true;
    if (this.blockDepth > 0 && this.limitReached === undefined) this.opts.diags.error(undefined, `There are ${this.blockDepth} missing '}'s or extra '{'s`);
  }

  // ---------------------------------------------------------------- files

  /**
   * Open a file read within the byte budget. `path` is what was read (config.files lists it),
   * `display` the name keepalived prints (defaults to path). Bytes past the budget are dropped back
   * to the last whole line; reaching that point stops the load (nextFileLine).
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
    this.frames.push({ kind: 'file', file: display, dir: path.dirname(file), realPath, bytes: data, overBudget, pos: 0, lineNo: 0, nextNewline: -1, nextBackslash: -1, commentLine: 0 });
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
   * The next physical chunk of the innermost open file, decommented; pops finished files. Lines that
   * are only a comment are skipped here without being decoded (they would decomment to ''), unless a
   * multi-line definition is being read (a comment line ends it).
   */
  private nextFileLine(): { text: string; loc: SourceLoc } | undefined {
    for (;;) {
      if (this.limitReached !== undefined) return undefined;
      const f = this.frames[this.frames.length - 1];
      if (!f) {
        this.commentLoc();
        return undefined;
      }
      if (f.kind === 'include') {
        this.openNextMatch(f);
        continue;
      }
      const c = nextChunk(f);
      if (c === END) {
        if (f.overBudget) {
          this.stopAtLimit({ file: f.file, line: f.lineNo + 1 }, 'maxBytes', `Configuration too large: more than ${this.limits.maxBytes} bytes`);
          return undefined;
        }
        this.commentLoc();
        this.frames.pop();
        this.openFiles--;
        // keepalived frees the ~SEQ list at the end of each file
        this.generators.length = 0;
        if (this.readingDef) this.endMultilineDef();
        continue;
      }
      if (c === BLANK) {
        if (this.readingDef) this.endMultilineDef();
        continue;
      }
      if (c === COMMENT && !this.readingDef) {
        this.skippedComment = f;
        continue;
      }
      this.skippedComment = undefined;
      const loc = { file: f.file, line: f.lineNo };
      return { text: c === COMMENT ? '' : this.decomment(c, loc), loc };
    }
  }

  /**
   * A skipped comment line is where the reader last was (`loc` at the end of input, where blocks
   * left open are closed): record it before leaving its file.
   */
  private commentLoc(): void {
    const f = this.skippedComment;
    if (f === undefined) return;
    this.skippedComment = undefined;
    this.lastLoc = { file: f.file, line: f.commentLine };
  }

  /** Report a limit (fatal: the config is refused) and stop reading. */
  private stopAtLimit(loc: SourceLoc | undefined, limit: keyof LoadLimits, what: string): void {
    const d: Diagnostic = {
      file: loc?.file ?? '',
      line: loc?.line ?? 0,
      severity: 'fatal',
      exitClass: 'config',
      message: `${what} (${LIMIT_NAMES[limit]}) - configuration refused`,
    };
    this.opts.diags.add(d, true);
    this.limitReached = d;
    this.frames.length = 0;
    this.generators.length = 0;
    this.multiline.length = 0;
    this.residue = undefined;
  }

  private endMultilineDef(): void {
    const d = this.readingDef;
    this.readingDef = undefined;
    if (d && d.value === '') d.multiline = false;
  }

  /**
   * decomment(): strip leading blanks, cut at the first unquoted `!`/`#`, turn `\#`/`\!` outside
   * quotes into literal characters, keep a final `\` (continuation) and strip trailing blanks.
   */
  private decomment(line: string, loc: SourceLoc): string {
    let s = line.replace(/^[ \t]+/, '');
    // nothing to cut, unquote or continue: most lines
    if (!/["\\#!]/.test(s)) return s.replace(/[ \t]+$/, '');
    let out = '';
    let quote = false;
    let cont = false;
    let cut = false;
    for (let i = 0; i < s.length; i++) {
      const ch = s[i]!;
      if (cut) {
        // after a comment start only quotes are still counted (keepalived keeps scanning)
        if (ch === '\\') {
          if (i + 1 < s.length) {
            i++;
            continue;
          }
          cont = true;
          break;
        }
        continue;
      }
      if (ch === '"') {
        quote = !quote;
        out += ch;
        continue;
      }
      if (ch === '\\') {
        if (i + 1 < s.length) {
          const nx = s[i + 1]!;
          if (!quote && (nx === '#' || nx === '!')) {
            out += nx;
          } else {
            out += ch + nx;
          }
          i++;
          continue;
        }
        cont = true;
        break;
      }
      if (!quote && (ch === '!' || ch === '#')) {
        cut = true;
        continue;
      }
      out += ch;
    }
    if (quote) this.opts.diags.error(loc, `Unterminated quote '${cut ? out : s}'`);
    s = out.replace(/[ \t]+$/, '');
    if (cont) s += '\\';
    return s;
  }

  // ---------------------------------------------------------------- preprocessing

  /** read_line(): the next non-empty processed line, before brace splitting. */
  private nextProcessedLine(): { text: string; loc: SourceLoc } | undefined {
    for (;;) {
      let text: string;
      let loc: SourceLoc;
      let fromFile = false;
      let rest = false;
      if (this.residue !== undefined) {
        // the rest of a line after a brace is preprocessed again (as keepalived does): it counts
        rest = true;
        text = this.residue;
        this.residue = undefined;
        loc = this.lastLoc;
      } else if ((this.generators.length > 0 || this.multiline.length > 0) && ++this.generated > this.limits.maxGeneratedLines) {
        this.opts.diags.limit(this.lastLoc, 'error', `More than ${this.limits.maxGeneratedLines} lines generated from one line (${LIMIT_NAMES.maxGeneratedLines}) - ignoring the rest`);
        this.generators.length = 0;
        this.multiline.length = 0;
        this.multilineGenDepth = 0;
        continue;
      } else if (this.generators.length > this.multilineGenDepth) {
        const g = this.generators[this.generators.length - 1]!;
        const row = g.rows[g.next++]!;
        g.vars.forEach((v, i) => this.setDef(v, row[i] ?? ''));
        if (g.next >= g.rows.length) this.generators.pop();
        text = g.text;
        loc = this.lastLoc;
      } else if (this.multiline.length > 0) {
        const lines = this.multiline[this.multiline.length - 1]!;
        text = lines.shift()!;
        if (lines.length === 0) {
          this.multiline.pop();
          if (this.multiline.length === 0) this.multilineGenDepth = 0;
        }
        loc = this.lastLoc;
      } else {
        const l = this.nextFileLine();
        if (!l) return undefined;
        text = l.text;
        loc = l.loc;
        fromFile = true;
        this.generated = 0;
      }
      this.lastLoc = loc;
      if (!rest) this.lineSubstitutions = 0;
      // comment lines (text '') are bounded by the bytes read; they do not count as lines
      if ((text !== '' || !fromFile) && ++this.lines > this.limits.maxLines) {
        this.stopAtLimit(loc, 'maxLines', `Configuration too long: more than ${this.limits.maxLines} lines`);
        return undefined;
      }

      if (this.readingDef && fromFile) {
        this.continueMultilineDef(text);
        continue;
      }
      if (text === '') continue;

      if (fromFile && this.tryInclude(text, loc)) continue;

      const processed = this.preprocess(text, loc);
      if (processed === '') continue;
      return { text: processed, loc };
    }
  }

  private continueMultilineDef(text: string): void {
    const d = this.readingDef!;
    let more = false;
    if (text.endsWith('\\')) {
      text = text.slice(0, -1).replace(/[ \t]+$/, '');
      more = true;
    }
    if (text !== '') d.value = d.value === '' ? text : `${d.value}\n${text}`;
    if (!more) this.endMultilineDef();
  }

  /** @id conditionals, definitions, generators and substitution; '' when the line vanishes. */
  private preprocess(input: string, loc: SourceLoc): string {
    let buf = input;
    for (let pass = 0; pass < this.limits.maxSubstitutions; pass++) {
      if (buf.startsWith('@')) {
        const rev = buf[1] === '^';
        const ofs = rev ? 2 : 1;
        const m = /[ \t]/.exec(buf.slice(ofs));
        if (!m) return '';
        const id = buf.slice(ofs, ofs + m.index);
        const matches = this.opts.host.configId !== undefined && id === this.opts.host.configId;
        if (matches === rev) return '';
        buf = buf.slice(ofs + m.index).replace(/^[ \t]+/, '');
      }
      if (buf.startsWith('$') && this.tryDefinition(buf)) return '';
      if (buf.startsWith('~SEQ') || buf.startsWith('~LST')) {
        if (!this.addGenerator(buf, loc)) this.opts.diags.error(loc, `Invalid ${buf.slice(0, 4)} specification '${buf}'`);
        return '';
      }
      if (buf.startsWith('~')) return buf;
      if (!buf.includes('$')) return buf;
      const r = this.substitute(buf, loc);
      if (r === undefined) return buf;
      // runaway (self-referential) definition: reported once by substitute(), the line is dropped
      if (r === null) return '';
      // keepalived stops substituting at its line length and uses the line as it stands
      if (r.full) return r.text;
      buf = r.text;
      if (!buf.startsWith('@') && !buf.includes('$')) return buf;
    }
    this.runaway(loc, input);
    return '';
  }

  private runaway(loc: SourceLoc, line: string): void {
    const max = this.limits.maxSubstitutions;
    this.opts.diags.limit(loc, 'error', `Parameter substitution did not terminate on line '${line}' (more than ${max} substitutions, ${LIMIT_NAMES.maxSubstitutions})`);
  }

  /** `$NAME=VALUE` (KEEPALIVED.md 1.4); returns false when the line is not a definition. */
  private tryDefinition(buf: string): boolean {
    const m = /^\$([A-Za-z_][A-Za-z0-9_]*)[ \t]*=[ \t]*(.*)$/s.exec(buf);
    if (!m) return false;
    const name = m[1]!;
    let value = m[2]!;
    let multiline = false;
    if (value.endsWith('\\')) {
      multiline = true;
      value = value.slice(0, -1).replace(/[ \t]+$/, '');
    }
    const def: Definition = { value, multiline };
    this.defs.set(name, def);
    if (multiline) this.readingDef = def;
    return true;
  }

  private setDef(name: string, value: string): void {
    this.defs.set(name, { value, multiline: false });
  }

  /**
   * Replace `$NAME` (followed by blank, `,`, `)` or end) and `${NAME}` / `${NAME params}`. Undefined
   * names stay verbatim. Returns undefined when nothing was replaced, null (after reporting it) when
   * the substitution does not terminate or the load's substitution budget is spent; `full` when the
   * next replacement would have made the line reach keepalived's MAXBUF (the text is as far as it got).
   */
  private substitute(buf: string, loc: SourceLoc): { text: string; full: boolean } | undefined | null {
    let out = buf;
    let outBytes = utf8Length(buf);
    let pos = 0;
    let replaced = false;
    while ((pos = out.indexOf('$', pos)) >= 0 && pos + 1 < out.length) {
      const ref = this.findReference(out, pos);
      if (!ref) {
        pos++;
        continue;
      }
      if (++this.lineSubstitutions > this.limits.maxSubstitutions) {
        this.runaway(loc, buf);
        return null;
      }
      if (++this.substitutions > this.limits.maxSubstitutionsTotal) {
        this.stopAtLimit(loc, 'maxSubstitutionsTotal', `Too many parameter substitutions: more than ${this.limits.maxSubstitutionsTotal}`);
        return null;
      }
      const { def, end, params } = ref;
      let value: string;
      if (def.fn) value = def.fn(params);
      else value = def.value;
      let more: string[] = [];
      if (def.multiline) {
        more = value.split('\n');
        value = more.shift() ?? '';
      }
      // a reference is ASCII, so its length in characters is its length in bytes
      const bytes = outBytes - (end - pos) + utf8Length(value);
      if (bytes >= MAXBUF) {
        this.opts.diags.info(loc, `Parameter substitution on line '${out}' would exceed maximum line length`);
        return { text: out, full: true };
      }
      outBytes = bytes;
      replaced = true;
      if (more.length > 0) {
        if (this.multiline.length >= MAX_MULTILINE_DEPTH) {
          this.runaway(loc, buf);
          return null;
        }
        if (this.multiline.length === 0) this.multilineGenDepth = this.generators.length;
        this.multiline.push(more);
      }
      out = out.slice(0, pos) + value + out.slice(end);
      if (/^[ \t]*~/.test(value)) break;
      // keepalived rescans from the replacement, so values may contain further references
    }
    return replaced ? { text: out, full: false } : undefined;
  }

  private findReference(s: string, dollar: number): { def: Definition; end: number; params: number[] } | undefined {
    let i = dollar + 1;
    const braces = s[i] === '{';
    if (braces) i++;
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(i));
    if (!m) return undefined;
    const name = m[0];
    let j = i + name.length;
    let params: number[] = [];
    if (braces) {
      const rest = /^((?: +\d+)*)\}/.exec(s.slice(j));
      if (!rest) return undefined;
      params = rest[1]!.trim() === '' ? [] : rest[1]!.trim().split(/ +/).map(Number);
      j += rest[0].length;
    } else {
      const c = s[j];
      if (c !== undefined && c !== ' ' && c !== '\t' && c !== ',' && c !== ')') return undefined;
    }
    const def = this.defs.get(name);
    if (!def) return undefined;
    if (params.length > 0 && !def.maxParams) return undefined;
    // a multi-line definition may only be used alone at the end of its line
    if (def.multiline && j !== s.length) return undefined;
    return { def, end: j, params };
  }

  private installBuiltins(): void {
    // keepalived chdir()s into each file's directory and expands ${_PWD} with getcwd(): absolute
    this.defs.set('_PWD', {
      value: '',
      multiline: false,
      fn: () => {
        const dir = this.currentFrame()?.dir ?? '.';
        const cwd = this.opts.host.cwd?.();
        return cwd === undefined ? dir : path.resolve(cwd, dir);
      },
    });
    this.defs.set('_INSTANCE', { value: '', multiline: false, fn: () => this.opts.host.configId ?? '' });
    this.defs.set('_RANDOM', {
      value: '',
      multiline: false,
      maxParams: 2,
      fn: (p) => {
        const min = p[0] ?? 0;
        const max = p[1] ?? 32767;
        return String(min + Math.floor(this.rng() * (max - min + 1)));
      },
    });
    this.defs.set('_HASH', { value: '#', multiline: false });
    this.defs.set('_BANG', { value: '!', multiline: false });
  }

  /**
   * `~SEQ(var, [start,] [step,] end) text`, `~SEQx(...)` (hex), `~LST(var, v1, ...) text` and
   * `~LST({a,b}, {1,2}, ...) text`. Returns false when malformed.
   */
  private addGenerator(buf: string, loc: SourceLoc): boolean {
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
    const sub = this.substitute(inner, loc);
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
      this.generators.push({ vars: [v], rows, text, next: 0 });
      return true;
    }
    // ~LST
    if (inner.trim().startsWith('{')) {
      const groups = [...inner.matchAll(/\{([^}]*)\}/g)].map((g) => g[1]!.split(',').map((x) => x.trim()));
      const vars = groups.shift();
      if (!vars || vars.length === 0 || vars.some((x) => x === '')) return false;
      if (groups.length === 0) return true;
      this.generators.push({ vars, rows: groups, text, next: 0 });
      return true;
    }
    const parts = inner.split(',').map((x) => x.trim());
    const v = parts.shift();
    if (!v) return false;
    if (parts.length === 0) return true;
    this.generators.push({ vars: [v], rows: parts.map((x) => [x]), text, next: 0 });
    return true;
  }

  /** `include PATTERN` and its strict variants (KEEPALIVED.md 1.5). Returns true when it was one. */
  private tryInclude(text: string, loc: SourceLoc): boolean {
    if (!text.includes('include')) return false;
    const { words } = splitWords(text);
    const kw = words[0];
    if (kw === undefined || !(kw in INCLUDE_VARIANTS) || words.length !== 2) return false;
    const mode: IncludeMode = { read: false, match: false, wildcardMatch: false, braceMatch: false, ...INCLUDE_VARIANTS[kw] };
    if (this.opts.allConfig) Object.assign(mode, INCLUDE_VARIANTS.includea);
    const pattern = words[1]!;
    const dir = this.currentFrame()?.dir ?? '.';
    const maxAlts = this.limits.maxBraceAlternatives;
    if (countBraceAlternatives(pattern, maxAlts) > maxAlts) {
      this.stopAtLimit(loc, 'maxBraceAlternatives', `Include pattern '${pattern}' has more than ${maxAlts} brace alternatives`);
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
      this.stopAtLimit(loc, 'maxBraceAlternatives', `Include pattern '${pattern}' has more than ${this.limits.maxBraceAlternatives} brace alternatives`);
    } else {
      this.stopAtLimit(loc, 'maxGlobEntries', `Include pattern '${pattern}' takes the directory entries examined over ${this.limits.maxGlobEntries}`);
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
      this.stopAtLimit(loc, 'maxFiles', `Too many configuration files: '${display}' would be file ${this.filesOpened + 1}, more than ${this.limits.maxFiles}`);
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

  /** Split off the first `{` or `}` not inside double quotes (KEEPALIVED.md 1.1 step 6). */
  private splitBraces(l: { text: string; loc: SourceLoc }): Statement | undefined {
    let text = l.text;
    let at = -1;
    if (text[0] === '{' || text[0] === '}') at = 0;
    else {
      let inQuote = false;
      for (let i = 0; i < text.length; i++) {
        const ch = text[i];
        if (ch === '"') inQuote = !inQuote;
        else if (!inQuote && (ch === '{' || ch === '}')) {
          at = i;
          break;
        }
      }
    }
    if (at === 0) {
      const rest = text.slice(1).replace(/^[ \t]+/, '').replace(/[ \t]+$/, '');
      if (rest !== '') this.residue = rest;
      text = text[0]!;
    } else if (at > 0) {
      this.residue = text.slice(at).replace(/[ \t]+$/, '');
      text = text.slice(0, at);
    }
    text = text.replace(/[ \t]+$/, '');
    if (text === '') return undefined;
    return { text, file: l.loc.file, line: l.loc.line };
  }
}

/** mulberry32: a small deterministic PRNG in [0, 1) for ${_RANDOM}, so a seeded config reads the same twice. */
function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const decoder = new TextDecoder('utf-8');

/** The UTF-8 length of `s` (keepalived's line limits are in bytes). */
function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** nextChunk(): the frame has no more bytes. */
const END = 0;
/** nextChunk(): a blank line (nothing but its line end). */
const BLANK = 1;
/** nextChunk(): a line that is only a comment (decomment() would give ''). */
const COMMENT = 2;

/**
 * The frame's next chunk with fgets(buf, 1024) semantics: at most 1023 bytes, or up to and including
 * a newline (one right after 1023 bytes is taken with them); its line end removed. A line whose first
 * non-blank byte is `#` or `!` and that has no backslash (which could continue it) is only reported
 * as COMMENT, without decoding. The next newline and backslash positions are kept on the frame, so a
 * file is scanned once however its lines are cut.
 */
function nextChunk(f: FileFrame): string | typeof END | typeof BLANK | typeof COMMENT {
  const bytes = f.bytes;
  const n = bytes.length;
  const start = f.pos;
  if (start >= n) return END;
  if (f.nextNewline < start) {
    const i = bytes.indexOf(0x0a, start);
    f.nextNewline = i < 0 ? Number.POSITIVE_INFINITY : i;
  }
  const limit = Math.min(n, start + MAXBUF - 1);
  const endsLine = f.nextNewline <= limit;
  const end = endsLine ? f.nextNewline + 1 : limit;
  f.pos = end;
  if (endsLine) f.lineNo++;
  let stop = end;
  while (stop > start && (bytes[stop - 1] === 0x0a || bytes[stop - 1] === 0x0d)) stop--;
  if (stop === start) return BLANK;
  let first = start;
  while (first < stop && (bytes[first] === 0x20 || bytes[first] === 0x09)) first++;
  const lead = first < stop ? bytes[first] : undefined;
  if (lead === 0x23 || lead === 0x21) {
    if (f.nextBackslash < first) {
      const i = bytes.indexOf(0x5c, first);
      f.nextBackslash = i < 0 ? Number.POSITIVE_INFINITY : i;
    }
    if (f.nextBackslash >= stop) {
      f.commentLine = f.lineNo;
      return COMMENT;
    }
  }
  return decoder.decode(bytes.subarray(start, stop));
}

/** A path made absolute and normal, for hosts without realpath (in-memory test hosts). */
function canonical(host: ConfigHost, p: string): string {
  const cwd = host.cwd?.() ?? '/';
  return path.resolve(cwd, p);
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
