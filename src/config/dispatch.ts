/**
 * Keyword dispatch over the statement stream, with keepalived's block rules (docs/keepalived-behaviour.md 1.3):
 * block keywords need `{` (same or next line), unknown keywords are reported and their `{ ... }` is
 * NOT skipped (its lines are read as keywords of the enclosing block and its `}` closes that block),
 * inactive root keywords (LVS, BFD...) are skipped silently with their whole block, a missing
 * parameter stops everything. Pure.
 */
import type { Diagnostics, SourceLoc } from './diagnostics.js';
import type { Statement, StatementSource } from './reader.js';
import { splitWords } from './words.js';

export interface KeywordCtx {
  readonly diags: Diagnostics;
  readonly stmt: Statement;
  /** The statement's words (keepalived's alloc_strvec). */
  readonly words: readonly string[];
  /** Word `i`; a missing one stops parsing like keepalived's null_strvec (exit 2). */
  word(i: number): string;
  /** Words of each line of a value block `{ ... }` that follows this keyword. */
  readValueBlock(): { words: string[]; stmt: Statement }[];
  /** Skip the rest of the current block (keepalived's skip_block). */
  skipBlock(needBlockStart: boolean): void;
}

export interface Keyword {
  readonly name: string;
  readonly handler?: (ctx: KeywordCtx) => void;
  /** Sub-keywords: this keyword opens a block. */
  readonly sub?: readonly Keyword[];
  /** Called when the block closes normally, with the location of its closing `}`. */
  readonly close?: (closeLoc: SourceLoc) => void;
  /** Parsed by another keepalived process (LVS, BFD): skipped silently with its block. */
  readonly inactive?: boolean;
}

/** Sees every known keyword read (inactive ones too), with the block it is in ('' = top level). */
export type KeywordObserver = (block: string, words: readonly string[], stmt: Statement) => void;

export class Dispatcher {
  private level = 0;
  /** The keywords of the blocks the reader is in, outermost first. */
  private readonly blocks: string[] = [];
  /** -1: waiting for the `{` of a skipped block; >0: depth inside a skipped block. */
  private skip = 0;
  private readonly tables = new Map<readonly Keyword[], Map<string, Keyword>>();

  constructor(
    private readonly reader: StatementSource,
    private readonly diags: Diagnostics,
    private readonly observe?: KeywordObserver,
  ) {}

  run(root: readonly Keyword[]): void {
    this.stream(root, false);
  }

  private lookup(keywords: readonly Keyword[], name: string): Keyword | undefined {
    let t = this.tables.get(keywords);
    if (!t) {
      t = new Map(keywords.map((k) => [k.name, k]));
      this.tables.set(keywords, t);
    }
    return t.get(name);
  }

  private words(stmt: Statement): string[] {
    const r = splitWords(stmt.text);
    if (r.unmatchedQuote) this.diags.error(stmt, `Unmatched quote: '${stmt.text}'`);
    return r.words;
  }

  /** process_stream(): returns true when the block ended because it was skipped. */
  private stream(keywords: readonly Keyword[], needBob: boolean): boolean {
    let stmt: Statement | undefined;
    while ((stmt = this.reader.next())) {
      const words = this.words(stmt);
      const first = words[0];
      if (first === undefined) continue;

      if (this.skip === -1) {
        if (first === '{') {
          this.skip = 1;
          needBob = false;
          continue;
        }
        // the skipped keyword had no block after all
        this.skip = 0;
      }
      if (this.skip > 0) {
        for (const w of words) {
          if (w === '{') this.skip++;
          else if (w === '}' && --this.skip === 0) break;
        }
        if (first === '}' && this.skip === 0 && this.level > 0) return true;
        continue;
      }

      if (needBob) {
        needBob = false;
        if (first === '{' && this.level > 0) continue;
        this.diags.error(stmt, "Missing '{' at beginning of configuration block");
      } else if (first === '{') {
        this.diags.error(stmt, "Unexpected '{' - ignoring");
        continue;
      }

      if (first === '}' && this.level > 0) return false;

      const kw = this.lookup(keywords, first);
      if (!kw) {
        this.diags.warn(stmt, `Unknown keyword '${first}'`, first);
        continue;
      }
      this.observe?.(this.blocks[this.blocks.length - 1] ?? '', words, stmt);
      if (kw.inactive) {
        this.skip = words[words.length - 1] === '{' ? 1 : -1;
        continue;
      }
      let bobNeeded = false;
      let w = words;
      if (kw.sub) {
        if (w[w.length - 1] === '{') w = w.slice(0, -1);
        else bobNeeded = true;
      }
      if (kw.handler) kw.handler(this.ctx(stmt, w));
      if (kw.sub) {
        this.level++;
        this.blocks.push(kw.name);
        const skipped = this.stream(kw.sub, bobNeeded);
        this.blocks.pop();
        this.level--;
        if (!skipped && kw.close) kw.close(this.reader.loc);
      }
    }
    return false;
  }

  private ctx(stmt: Statement, words: readonly string[]): KeywordCtx {
    const diags = this.diags;
    return {
      diags,
      stmt,
      words,
      word: (i: number) => {
        const w = words[i];
        if (w !== undefined) return w;
        const prev = words[i - 1];
        const msg =
          i > 0 && prev !== undefined
            ? `*** Configuration line starting \`${words[0] ?? '***MISSING ***'}\` is missing a parameter after keyword \`${prev}\` at word position ${i + 1}`
            : `*** Configuration line starting \`${words[0] ?? '***MISSING ***'}\` is missing a parameter at word position ${i + 1}`;
        return diags.missingParameter(stmt, msg, words[0] ?? '');
      },
      readValueBlock: () => this.valueBlock(stmt, words),
      skipBlock: (needBlockStart: boolean) => {
        this.skip = needBlockStart ? -1 : 1;
      },
    };
  }

  /** alloc_value_block(): every line until `}` is one entry. */
  private valueBlock(owner: Statement, ownerWords: readonly string[]): { words: string[]; stmt: Statement }[] {
    const out: { words: string[]; stmt: Statement }[] = [];
    if (ownerWords.length > 1) {
      this.diags.error(owner, `Block ${ownerWords[0]} has extra parameters ${ownerWords[1]} ...`, ownerWords[0]);
    }
    let needBob = true;
    let stmt: Statement | undefined;
    while ((stmt = this.reader.next())) {
      let words = this.words(stmt);
      if (words.length === 0) continue;
      if (needBob) {
        needBob = false;
        if (words[0] === '{') {
          if (words.length === 1) continue;
          words = words.slice(1);
        } else {
          this.diags.info(stmt, `'{' missing from beginning of block ${ownerWords[0]}`, ownerWords[0]);
        }
      }
      let hadEob = false;
      if (words[words.length - 1] === '}') {
        if (words.length === 1) break;
        hadEob = true;
        words = words.slice(0, -1);
      }
      out.push({ words, stmt });
      if (hadEob) break;
    }
    return out;
  }
}
