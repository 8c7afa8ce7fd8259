/**
 * Physical lines as keepalived reads them (docs/keepalived-behaviour.md 1.1): fgets() into a 1024-byte buffer (a
 * longer line is cut into chunks), line ends removed, comment-only lines spotted without decoding,
 * and decomment(). Also the UTF-8 length the line limits are counted in. Pure.
 */
import type { Diagnostics, SourceLoc } from './diagnostics.js';

/**
 * keepalived reads with fgets() into a 1024-byte buffer: longer lines are split (docs/keepalived-behaviour.md 1.1),
 * and a substitution that would make a line reach it is not made (replace_param(): "Parameter
 * substitution on line '...' would exceed maximum line length"; the line is used as it stands).
 */
export const MAXBUF = 1024;

/** Where reading one file's bytes has got to (reader-includes.ts keeps one per open file). */
export interface LineCursor {
  /** The bytes to read. */
  readonly bytes: Uint8Array;
  pos: number;
  lineNo: number;
  /** Where the next newline and backslash at or after `pos` are (Infinity: none); -1: not looked yet. */
  nextNewline: number;
  nextBackslash: number;
  /** The line number of the last comment line read. */
  commentLine: number;
}

const decoder = new TextDecoder('utf-8');

/** The UTF-8 length of `s` (keepalived's line limits are in bytes). */
export function utf8Length(s: string): number {
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
export const END = 0;
/** nextChunk(): a blank line (nothing but its line end). */
export const BLANK = 1;
/** nextChunk(): a line that is only a comment (decomment() would give ''). */
export const COMMENT = 2;

/**
 * The frame's next chunk with fgets(buf, 1024) semantics: at most 1023 bytes, or up to and including
 * a newline (one right after 1023 bytes is taken with them); its line end removed. A line whose first
 * non-blank byte is `#` or `!` and that has no backslash (which could continue it) is only reported
 * as COMMENT, without decoding. The next newline and backslash positions are kept on the frame, so a
 * file is scanned once however its lines are cut.
 */
export function nextChunk(f: LineCursor): string | typeof END | typeof BLANK | typeof COMMENT {
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

/**
 * decomment(): strip leading blanks, cut at the first unquoted `!`/`#`, turn `\#`/`\!` outside
 * quotes into literal characters, keep a final `\` (continuation) and strip trailing blanks.
 */
export function decomment(line: string, loc: SourceLoc, diags: Diagnostics): string {
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
  if (quote) diags.error(loc, `Unterminated quote '${cut ? out : s}'`);
  s = out.replace(/[ \t]+$/, '');
  if (cont) s += '\\';
  return s;
}
