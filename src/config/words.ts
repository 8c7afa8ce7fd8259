/**
 * Tokenisers (docs/keepalived-behaviour.md 1.2). Pure.
 */

/** keepalived's general tokenizer: blanks separate words; only double quotes group (quotes removed). */
export function splitWords(text: string): { words: string[]; unmatchedQuote: boolean } {
  const words: string[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    while (i < n && isBlank(text.charCodeAt(i))) i++;
    if (i >= n) break;
    if (text[i] === '"') {
      const end = text.indexOf('"', i + 1);
      if (end < 0) return { words, unmatchedQuote: true };
      words.push(text.slice(i + 1, end));
      i = end + 1;
    } else {
      const start = i;
      while (i < n && !isBlank(text.charCodeAt(i)) && text[i] !== '"') i++;
      words.push(text.slice(start, i));
    }
  }
  return { words, unmatchedQuote: false };
}

/** space, \t, \n, \v, \f, \r */
export function isBlank(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

export type QuotedResult = { ok: true; words: string[] } | { ok: false; message: string };

/**
 * The shell-like tokenizer of script keywords (`script`, `notify*`, `*_fifo_script`): single and
 * double quotes group, adjacent parts join, backslash escapes `\a \b \E \f \n \r \t \v \NNN \xHH \cC`.
 */
export function splitQuotedEscaped(src: string): QuotedResult {
  const words: string[] = [];
  let i = 0;
  const n = src.length;
  while (i < n) {
    while (i < n && isBlank(src.charCodeAt(i))) i++;
    if (i >= n) break;
    let out = '';
    let quote = '';
    for (;;) {
      if (i >= n) {
        if (quote) return { ok: false, message: `String '${src}': missing terminating ${quote}` };
        break;
      }
      const ch = src[i]!;
      if (ch === '\\') {
        i++;
        if (i >= n) return { ok: false, message: `Missing escape char at end: '${src}'` };
        const e = src[i]!;
        if (e === 'x' && i + 1 < n && isHex(src[i + 1]!)) {
          i++;
          let v = 0;
          while (i < n && isHex(src[i]!)) {
            v = ((v << 4) | parseInt(src[i]!, 16)) & 0xff;
            i++;
          }
          out += String.fromCharCode(v);
        } else if (e === 'c' && i + 1 < n) {
          out += String.fromCharCode(src.charCodeAt(i + 1) & 0x1f);
          i += 2;
        } else if (e >= '0' && e <= '7') {
          let v = 0;
          let k = 0;
          while (k < 3 && i < n && src[i]! >= '0' && src[i]! <= '7') {
            v = ((v << 3) + (src.charCodeAt(i) - 48)) & 0xff;
            i++;
            k++;
          }
          out += String.fromCharCode(v);
        } else {
          out += ESCAPES[e] ?? e;
          i++;
        }
        continue;
      }
      if (quote) {
        if (ch === quote) {
          quote = '';
          i++;
        } else {
          out += ch;
          i++;
        }
        continue;
      }
      if (ch === '"' || ch === "'") {
        quote = ch;
        i++;
        continue;
      }
      if (isBlank(src.charCodeAt(i))) break;
      out += ch;
      i++;
    }
    words.push(out);
  }
  return { ok: true, words };
}

const ESCAPES: Record<string, string> = { a: '\x07', b: '\b', E: '\x1b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

function isHex(c: string): boolean {
  return /^[0-9a-fA-F]$/.test(c);
}
