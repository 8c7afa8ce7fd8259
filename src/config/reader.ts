/**
 * keepalived.conf reader and preprocessor (docs/keepalived-behaviour.md 1.1, 1.4, 1.5): physical lines -> logical
 * statements. Comments, `include` (and its strict variants), `@id` conditionals, `$NAME` definitions
 * (multi-line too), `~SEQ`/`~LST` generators and brace splitting all happen here, so the keyword
 * dispatcher only ever sees one statement at a time with `{` and `}` on their own.
 *
 * The reader coordinates three parts: the file and include stack (reader-includes.ts, physical lines
 * from reader-lines.ts), definitions and substitution (reader-definitions.ts) and generators
 * (reader-generators.ts). It chooses where the next line comes from, applies `@id`, counts lines
 * and stops every part when a bound (limits.ts) is reached.
 * Pure apart from the injected ConfigHost.
 */
import { assertNever } from '../util/assert-never.js';
import type { ConfigHost } from './host.js';
import type { Diagnostic, Diagnostics, SourceLoc } from './diagnostics.js';
import { DEFAULT_LOAD_LIMITS, LIMIT_NAMES, type LoadLimits } from './limits.js';
import { Definitions } from './reader-definitions.js';
import { Generators } from './reader-generators.js';
import { IncludeStack } from './reader-includes.js';

/** One logical statement. */
export interface Statement extends SourceLoc {
  /** The processed text: comments removed, definitions substituted, trimmed. Never empty. */
  readonly text: string;
}

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
  private readonly includes: IncludeStack;
  private readonly defs: Definitions;
  private readonly generators: Generators;
  private residue: string | undefined;
  /** Lines produced by generators and multi-line definitions since the last file line. */
  private generated = 0;
  private blockDepth = 0;
  private lastLoc: SourceLoc = { file: '', line: 0 };
  private readonly limits: LoadLimits;
  /** Lines produced (whole load). */
  private lines = 0;
  /** Where the last comment line skipped since a line was handed out is (see commentLoc()). */
  private skippedComment: SourceLoc | undefined;
  /** The limit that stopped the reader: it hands out nothing more. */
  private limitReached: Diagnostic | undefined;

  constructor(
    private readonly opts: ReaderOptions,
    mainFile: string,
  ) {
    const limits = opts.limits ?? DEFAULT_LOAD_LIMITS;
    this.limits = limits;
    const stop = this.stopAtLimit.bind(this);
    this.generators = new Generators(limits);
    this.includes = new IncludeStack({ host: opts.host, diags: opts.diags, limits, allConfig: opts.allConfig }, stop);
    this.defs = new Definitions(
      { host: opts.host, diags: opts.diags, limits },
      { dir: () => this.includes.currentDir(), generatorDepth: () => this.generators.depth, stop },
    );
    this.includes.openMain(mainFile, opts.mainRegularOnly === true);
  }

  /** Every file read, in order (main file first). */
  get files(): string[] {
    return this.includes.files;
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
    this.defs.seed(seed);
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
    if (this.blockDepth > 0 && this.limitReached === undefined)
      this.opts.diags.error(undefined, `There are ${this.blockDepth} missing '}'s or extra '{'s`);
  }

  /** Report a limit (fatal: the config is refused) and stop every part of the reader. */
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
    this.includes.clear();
    this.generators.clear();
    this.defs.clearPending();
    this.residue = undefined;
  }

  /**
   * The next line of the files, decommented. Lines that are only a comment are skipped (they would
   * decomment to ''), unless a multi-line definition is being read (a comment line ends it). The
   * end of a file forgets its generators and ends a multi-line definition; so does a blank line.
   */
  private nextFileLine(): { text: string; loc: SourceLoc } | undefined {
    for (;;) {
      const l = this.includes.next();
      if (l === undefined) {
        if (this.limitReached === undefined) this.commentLoc();
        return undefined;
      }
      switch (l.kind) {
        case 'file-end':
          this.commentLoc();
          // keepalived frees the ~SEQ list at the end of each file
          this.generators.clear();
          this.defs.endMultiline();
          continue;
        case 'blank':
          this.defs.endMultiline();
          continue;
        case 'comment':
          if (!this.defs.reading) {
            this.skippedComment = l.loc;
            continue;
          }
          this.skippedComment = undefined;
          return { text: '', loc: l.loc };
        case 'line':
          this.skippedComment = undefined;
          return l;
        default:
          return assertNever(l, 'file line');
      }
    }
  }

  /**
   * A skipped comment line is where the reader last was (`loc` at the end of input, where blocks
   * left open are closed): record it before leaving its file.
   */
  private commentLoc(): void {
    const c = this.skippedComment;
    if (c === undefined) return;
    this.skippedComment = undefined;
    this.lastLoc = c;
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
      } else if ((this.generators.depth > 0 || this.defs.hasPending) && ++this.generated > this.limits.maxGeneratedLines) {
        this.opts.diags.limit(
          this.lastLoc,
          'error',
          `More than ${this.limits.maxGeneratedLines} lines generated from one line (${LIMIT_NAMES.maxGeneratedLines}) - ignoring the rest`,
        );
        this.generators.clear();
        this.defs.clearPending();
        continue;
      } else if (this.generators.depth > this.defs.pendingGeneratorDepth) {
        text = this.generators.nextLine((name, value) => this.defs.define(name, value));
        loc = this.lastLoc;
      } else if (this.defs.hasPending) {
        text = this.defs.nextPending();
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
      if (!rest) this.defs.startLine();
      // comment lines (text '') are bounded by the bytes read; they do not count as lines
      if ((text !== '' || !fromFile) && ++this.lines > this.limits.maxLines) {
        this.stopAtLimit(loc, 'maxLines', `Configuration too long: more than ${this.limits.maxLines} lines`);
        return undefined;
      }

      if (this.defs.reading && fromFile) {
        this.defs.continueMultiline(text);
        continue;
      }
      if (text === '') continue;

      if (fromFile && this.includes.tryInclude(text, loc)) continue;

      const processed = this.preprocess(text, loc);
      if (processed === '') continue;
      return { text: processed, loc };
    }
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
      if (buf.startsWith('$') && this.defs.tryDefinition(buf)) return '';
      if (buf.startsWith('~SEQ') || buf.startsWith('~LST')) {
        if (!this.generators.add(buf, loc, (b, l) => this.defs.substitute(b, l)))
          this.opts.diags.error(loc, `Invalid ${buf.slice(0, 4)} specification '${buf}'`);
        return '';
      }
      if (buf.startsWith('~')) return buf;
      if (!buf.includes('$')) return buf;
      const r = this.defs.substitute(buf, loc);
      if (r === undefined) return buf;
      // runaway (self-referential) definition: reported once by substitute(), the line is dropped
      if (r === null) return '';
      // keepalived stops substituting at its line length and uses the line as it stands
      if (r.full) return r.text;
      buf = r.text;
      if (!buf.startsWith('@') && !buf.includes('$')) return buf;
    }
    this.defs.runaway(loc, input);
    return '';
  }

  /** Split off the first `{` or `}` not inside double quotes (docs/keepalived-behaviour.md 1.1 step 6). */
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
      const rest = text
        .slice(1)
        .replace(/^[ \t]+/, '')
        .replace(/[ \t]+$/, '');
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
