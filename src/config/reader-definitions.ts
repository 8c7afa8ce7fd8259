/**
 * Definitions (docs/keepalived-behaviour.md 1.4): `$NAME=VALUE`, multi-line definitions (a value ending in `\`
 * goes on over the next lines), the built-ins (${_PWD}, ${_INSTANCE}, ${_RANDOM [min max]}, ${_HASH},
 * ${_BANG}) and substitution with keepalived's line length, plus the bounds on substitutions per
 * line and per load and on nested multi-line expansions. A multi-line definition used on a line
 * expands to several lines: they are handed out one at a time from here. Pure apart from the
 * injected ConfigHost.
 */
import { posix as path } from 'node:path';
import type { ConfigHost } from './host.js';
import type { Diagnostics, SourceLoc } from './diagnostics.js';
import { LIMIT_NAMES, type LoadLimits, type StopAtLimit } from './limits.js';
import { MAXBUF, utf8Length } from './reader-lines.js';

/** Multi-line definitions expanding themselves (`$N=$INST` used inside $INST) would never end either. */
const MAX_MULTILINE_DEPTH = 64;

interface Definition {
  value: string;
  multiline: boolean;
  /** Built-in definitions computed at use; `params` is the text after the name inside ${...}. */
  fn?: (params: number[]) => string;
  maxParams?: number;
}

export interface DefinitionOptions {
  readonly host: ConfigHost;
  readonly diags: Diagnostics;
  readonly limits: LoadLimits;
}

/** What definitions need from the rest of the reader. */
export interface DefinitionHooks {
  /** The directory of the file being read (${_PWD}). */
  dir(): string;
  /** How many generators are active (a multi-line expansion started now is above them). */
  generatorDepth(): number;
  /** Report a limit and stop the load. */
  stop: StopAtLimit;
}

export class Definitions {
  private readonly defs = new Map<string, Definition>();
  /** Pending lines of a multi-line definition being expanded (a stack for nesting). */
  private readonly multiline: string[][] = [];
  private multilineGenDepth = 0;
  /** The multi-line definition being read, while its lines end with `\`. */
  private readingDef: Definition | undefined;
  private rng: () => number;
  /** Substitutions made in the whole load. */
  private substitutions = 0;
  /**
   * Substitutions made in the current line, including the rests split off it at braces: a rest is
   * preprocessed again (as keepalived does), and `$A=${A}${A}` makes braces that split off ever more
   * rest (keepalived 2.2.7 hangs on it), so one budget covers the line and all its rests.
   */
  private lineSubstitutions = 0;

  constructor(
    private readonly opts: DefinitionOptions,
    private readonly hooks: DefinitionHooks,
  ) {
    this.rng = seededRandom(opts.host.randomSeed ?? 0x5eed);
    this.installBuiltins();
  }

  private get limits(): LoadLimits {
    return this.opts.limits;
  }

  /** Seed ${_RANDOM} (global_defs `random_seed`). */
  seed(seed: number): void {
    this.rng = seededRandom(seed);
  }

  /** A new line starts (not the rest of one split at a brace): its substitution budget starts again. */
  startLine(): void {
    this.lineSubstitutions = 0;
  }

  /** A multi-line definition is being read: the file's next lines are its value. */
  get reading(): boolean {
    return this.readingDef !== undefined;
  }

  /** A file line while {@link reading}: added to the value; a line not ending in `\` is the last. */
  continueMultiline(text: string): void {
    const d = this.readingDef!;
    let more = false;
    if (text.endsWith('\\')) {
      text = text.slice(0, -1).replace(/[ \t]+$/, '');
      more = true;
    }
    if (text !== '') d.value = d.value === '' ? text : `${d.value}\n${text}`;
    if (!more) this.endMultiline();
  }

  /** End the multi-line definition being read (a blank or comment line, or the end of its file). */
  endMultiline(): void {
    const d = this.readingDef;
    this.readingDef = undefined;
    if (d && d.value === '') d.multiline = false;
  }

  // ---------------------------------------------------------------- pending lines of an expansion

  /** Lines of a multi-line expansion are waiting to be handed out. */
  get hasPending(): boolean {
    return this.multiline.length > 0;
  }

  /** How many generators were active when the pending expansion started (newer ones go first). */
  get pendingGeneratorDepth(): number {
    return this.multilineGenDepth;
  }

  /** The next pending line of the innermost expansion. Only when {@link hasPending}. */
  nextPending(): string {
    const lines = this.multiline[this.multiline.length - 1]!;
    const text = lines.shift()!;
    if (lines.length === 0) {
      this.multiline.pop();
      if (this.multiline.length === 0) this.multilineGenDepth = 0;
    }
    return text;
  }

  /** Drop every pending line (a bound was reached). */
  clearPending(): void {
    this.multiline.length = 0;
    this.multilineGenDepth = 0;
  }

  // ---------------------------------------------------------------- definitions and substitution

  /** Report a line whose substitution does not terminate (more than maxSubstitutions). */
  runaway(loc: SourceLoc, line: string): void {
    const max = this.limits.maxSubstitutions;
    this.opts.diags.limit(
      loc,
      'error',
      `Parameter substitution did not terminate on line '${line}' (more than ${max} substitutions, ${LIMIT_NAMES.maxSubstitutions})`,
    );
  }

  /** `$NAME=VALUE` (docs/keepalived-behaviour.md 1.4); returns false when the line is not a definition. */
  tryDefinition(buf: string): boolean {
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

  /** Set a one-line definition (a generator's variable). */
  define(name: string, value: string): void {
    this.defs.set(name, { value, multiline: false });
  }

  /**
   * Replace `$NAME` (followed by blank, `,`, `)` or end) and `${NAME}` / `${NAME params}`. Undefined
   * names stay verbatim. Returns undefined when nothing was replaced, null (after reporting it) when
   * the substitution does not terminate or the load's substitution budget is spent; `full` when the
   * next replacement would have made the line reach keepalived's MAXBUF (the text is as far as it got).
   */
  substitute(buf: string, loc: SourceLoc): { text: string; full: boolean } | undefined | null {
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
        this.hooks.stop(loc, 'maxSubstitutionsTotal', `Too many parameter substitutions: more than ${this.limits.maxSubstitutionsTotal}`);
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
        if (this.multiline.length === 0) this.multilineGenDepth = this.hooks.generatorDepth();
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
        const dir = this.hooks.dir();
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
