/**
 * keepalived.conf reader and preprocessor (KEEPALIVED.md 1.1, 1.4, 1.5): physical lines -> logical
 * statements. Comments, `include` (and its strict variants), `@id` conditionals, `$NAME` definitions
 * (multi-line too), `~SEQ`/`~LST` generators and brace splitting all happen here, so the keyword
 * dispatcher only ever sees one statement at a time with `{` and `}` on their own.
 * Pure apart from the injected ConfigHost.
 */
import { posix as path } from 'node:path';
import type { ConfigHost } from './host.js';
import type { Diagnostics, SourceLoc } from './diagnostics.js';
import { splitWords } from './words.js';

/** One logical statement. */
export interface Statement extends SourceLoc {
  /** The processed text: comments removed, definitions substituted, trimmed. Never empty. */
  readonly text: string;
}

/** keepalived reads with fgets() into a 1024-byte buffer: longer lines are split (KEEPALIVED.md 1.1). */
const MAXBUF = 1024;
/** Guard against self-referential definitions (`$A=$A`), which loop keepalived 2.2.7 forever. */
const MAX_SUBSTITUTIONS = 256;
/**
 * Guard against generator explosions (`~SEQ(A,1,100000) ~SEQ(B,1,100000) x` is 10^10 lines, which
 * keepalived would grind through for hours): at most this many lines are produced from one file line.
 */
const MAX_GENERATED_LINES = 100000;
/**
 * keepalived keeps every including file open, so a file that includes itself (`include *`) recurses
 * until open() fails with EMFILE (ulimit -n 1024): `Configuration file 'self.conf' open problem (Too
 * many open files) - skipping` (observed, 2.2.7 -t). vrrpd stops at the same nesting depth.
 */
const MAX_INCLUDE_DEPTH = 1000;
/** Multi-line definitions expanding themselves (`$N=$INST` used inside $INST) would never end either. */
const MAX_MULTILINE_DEPTH = 64;

interface FileFrame {
  /** The name diagnostics use: the `-f` or `include` argument as written (relative to the includer). */
  readonly file: string;
  readonly dir: string;
  readonly chunks: readonly { text: string; endsLine: boolean }[];
  index: number;
  lineNo: number;
}

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
}

export class ConfigReader {
  private readonly frames: FileFrame[] = [];
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
  /** Every file read, in order (main file first). */
  readonly files: string[] = [];

  constructor(private readonly opts: ReaderOptions, mainFile: string) {
    this.rng = seededRandom(opts.host.randomSeed ?? 0x5eed);
    this.installBuiltins();
    const bytes = opts.host.readFile(mainFile);
    if (bytes === undefined) {
      // keepalived 2.2.7 -t prints "Config files missing 'FILE'." here and exits 0 (observed), which lets
      // `keepalived -t && reload` pass without any config; vrrpd uses the same words but refuses: exit 6
      // (KEEPALIVED_EXIT_NO_CONFIG, as for a missing mandatory include).
      opts.diags.report(undefined, 'fatal', `Config files missing '${mainFile}'.`, undefined, 'no-config');
      return;
    }
    this.pushFile(mainFile, bytes);
  }

  /** Where the last statement came from (for diagnostics raised while handling it). */
  get loc(): SourceLoc {
    return this.lastLoc;
  }

  /** Seed ${_RANDOM} (global_defs `random_seed`). */
  setRandomSeed(seed: number): void {
    this.rng = seededRandom(seed);
  }

  /** The next statement, or undefined at the end of the main file. */
  next(): Statement | undefined {
    for (;;) {
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
      return stmt;
    }
  }

  private finishedReported = false;
  private finish(): void {
    if (this.finishedReported) return;
    this.finishedReported = true;
    if (this.blockDepth > 0) this.opts.diags.error(undefined, `There are ${this.blockDepth} missing '}'s or extra '{'s`);
  }

  // ---------------------------------------------------------------- files

  /** `realPath` is what was read; `display` the name keepalived prints (defaults to realPath). */
  private pushFile(realPath: string, bytes: Uint8Array, display = realPath): void {
    this.files.push(realPath);
    this.frames.push({ file: display, dir: path.dirname(realPath), chunks: splitChunks(bytes), index: 0, lineNo: 0 });
  }

  private currentFrame(): FileFrame | undefined {
    return this.frames[this.frames.length - 1];
  }

  /** The next physical chunk of the innermost open file, decommented; pops finished files. */
  private nextFileLine(): { text: string; loc: SourceLoc } | undefined {
    for (;;) {
      const f = this.currentFrame();
      if (!f) return undefined;
      const c = f.chunks[f.index];
      if (!c) {
        this.frames.pop();
        // keepalived frees the ~SEQ list at the end of each file
        this.generators.length = 0;
        if (this.readingDef) this.endMultilineDef();
        continue;
      }
      f.index++;
      if (c.endsLine) f.lineNo++;
      let text = c.text.replace(/[\r\n]+$/, '');
      const loc = { file: f.file, line: f.lineNo };
      if (text === '') {
        if (this.readingDef) this.endMultilineDef();
        continue;
      }
      text = this.decomment(text, loc);
      return { text, loc };
    }
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
      if (this.residue !== undefined) {
        text = this.residue;
        this.residue = undefined;
        loc = this.lastLoc;
      } else if ((this.generators.length > 0 || this.multiline.length > 0) && ++this.generated > MAX_GENERATED_LINES) {
        this.opts.diags.error(this.lastLoc, `More than ${MAX_GENERATED_LINES} lines generated from one line - ignoring the rest`);
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
    for (let pass = 0; pass < MAX_SUBSTITUTIONS; pass++) {
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
      buf = r;
      if (!buf.startsWith('@') && !buf.includes('$')) return buf;
    }
    this.opts.diags.error(loc, `Parameter substitution did not terminate on line '${input}'`);
    return '';
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
   * the substitution does not terminate.
   */
  private substitute(buf: string, loc: SourceLoc): string | undefined | null {
    let out = buf;
    let pos = 0;
    let replaced = false;
    let count = 0;
    while ((pos = out.indexOf('$', pos)) >= 0 && pos + 1 < out.length) {
      const ref = this.findReference(out, pos);
      if (!ref) {
        pos++;
        continue;
      }
      if (++count > MAX_SUBSTITUTIONS) {
        this.opts.diags.error(loc, `Parameter substitution did not terminate on line '${buf}'`);
        return null;
      }
      replaced = true;
      const { def, end, params } = ref;
      let value: string;
      if (def.fn) value = def.fn(params);
      else value = def.value;
      if (def.multiline) {
        const lines = value.split('\n');
        value = lines.shift() ?? '';
        if (lines.length > 0) {
          if (this.multiline.length >= MAX_MULTILINE_DEPTH) {
            this.opts.diags.error(loc, `Parameter substitution did not terminate on line '${buf}'`);
            return null;
          }
          if (this.multiline.length === 0) this.multilineGenDepth = this.generators.length;
          this.multiline.push(lines);
        }
      }
      out = out.slice(0, pos) + value + out.slice(end);
      if (/^[ \t]*~/.test(value)) break;
      // keepalived rescans from the replacement, so values may contain further references
    }
    return replaced ? out : undefined;
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
    if (sub !== undefined) inner = sub;
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
        if (rows.length > 100000) return false;
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
    const frame = this.currentFrame();
    const dir = frame?.dir ?? '.';
    const matches = this.opts.host.glob(pattern, dir);
    const wildcard = /[*?[]/.test(pattern);
    const required = mode.match && (!wildcard || mode.wildcardMatch);
    if (matches.length === 0) {
      if (required) this.opts.diags.report(loc, 'fatal', `Config files missing '${pattern}'.`, kw, 'no-config');
      else this.opts.diags.notice(loc, `Config files missing '${pattern}'.`, kw);
      return true;
    }
    if (mode.braceMatch) {
      for (const alt of expandBraces(pattern)) {
        if (this.opts.host.glob(alt, dir).length === 0)
          this.opts.diags.report(loc, 'fatal', `Config files missing '${alt}'.`, kw, 'no-config');
      }
    }
    // frames are a stack: push in reverse so the first match is read first
    const toRead: { file: string; bytes: Uint8Array; display: string }[] = [];
    for (const m of matches) {
      // keepalived chdir()s to the including file's directory, so it names matches relative to it
      const display = path.isAbsolute(pattern) || dir === '.' ? m : path.relative(dir, m);
      const st = this.opts.host.stat(m);
      if (!st || !st.isFile || st.executable) {
        this.opts.diags.notice(loc, `Configuration file '${display}' is not a regular non-executable file - skipping`, kw);
        continue;
      }
      if (this.frames.length >= MAX_INCLUDE_DEPTH) {
        this.opts.diags.error(loc, `Configuration file '${display}' open problem (Too many open files) - skipping`, kw);
        continue;
      }
      const bytes = this.opts.host.readFile(m);
      if (bytes === undefined) {
        if (mode.read) this.opts.diags.report(loc, 'fatal', `Configuration file '${m}' open problem - skipping`, kw, 'no-config');
        else this.opts.diags.info(loc, `Configuration file '${m}' open problem - skipping`, kw);
        continue;
      }
      toRead.push({ file: m, bytes, display });
    }
    for (let i = toRead.length - 1; i >= 0; i--) this.pushFile(toRead[i]!.file, toRead[i]!.bytes, toRead[i]!.display);
    return true;
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

/** fgets(buf, 1024) semantics: chunks of at most 1023 bytes, or up to and including a newline. */
function splitChunks(bytes: Uint8Array): { text: string; endsLine: boolean }[] {
  const out: { text: string; endsLine: boolean }[] = [];
  const dec = new TextDecoder('utf-8');
  let start = 0;
  const n = bytes.length;
  while (start < n) {
    let end = start;
    const limit = Math.min(n, start + MAXBUF - 1);
    while (end < limit && bytes[end] !== 0x0a) end++;
    const endsLine = end < n && bytes[end] === 0x0a;
    if (endsLine) end++;
    out.push({ text: dec.decode(bytes.subarray(start, end)), endsLine });
    start = end;
  }
  return out;
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

/** `{a,b}` alternatives of a glob pattern (one level), for includeb. */
function expandBraces(p: string): string[] {
  const m = /\{([^{}]*)\}/.exec(p);
  if (!m) return [p];
  return m[1]!.split(',').flatMap((alt) => expandBraces(p.slice(0, m.index) + alt + p.slice(m.index + m[0].length)));
}
