/**
 * Value readers with keepalived's checks and messages (docs/keepalived-behaviour.md 1.6). Each returns undefined
 * after reporting when the value is rejected, so the caller keeps its default. Pure.
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { KeywordCtx } from './dispatch.js';

/** strtoul-like: whole decimal number. Reports `invalid number` / `negative number` / out of range. */
export function readUnsigned(ctx: KeywordCtx, text: string, min: number, max: number): number | undefined {
  const t = text.replace(/^[ \t\n\r\f\v]+/, '');
  if (t.startsWith('-')) {
    ctx.diags.error(ctx.stmt, `negative number '${text}'`, ctx.words[0]);
    return undefined;
  }
  if (!/^\+?\d+$/.test(t)) {
    ctx.diags.error(ctx.stmt, `invalid number '${text}'`, ctx.words[0]);
    return undefined;
  }
  const v = Number(t);
  if (v > 4294967295) {
    ctx.diags.error(ctx.stmt, `number '${text}' outside unsigned integer range`, ctx.words[0]);
    return undefined;
  }
  if (v < min || v > max) {
    ctx.diags.error(ctx.stmt, `number '${text}' outside range [${min}, ${max}]`, ctx.words[0]);
    return undefined;
  }
  return v;
}

/** strtol-like signed whole number. */
export function readInt(ctx: KeywordCtx, text: string, min: number, max: number): number | undefined {
  if (!/^[ \t]*[-+]?\d+$/.test(text)) {
    ctx.diags.error(ctx.stmt, `invalid number '${text}'`, ctx.words[0]);
    return undefined;
  }
  const v = Number(text.trim());
  if (v < -2147483648 || v > 2147483647) {
    ctx.diags.error(ctx.stmt, `number '${text}' outside integer range`, ctx.words[0]);
    return undefined;
  }
  if (v < min || v > max) {
    ctx.diags.error(ctx.stmt, `number '${text}' outside range [${min}, ${max}]`, ctx.words[0]);
    return undefined;
  }
  return v;
}

/**
 * A decimal number of seconds (keepalived's read_timer / read_decimal, microsecond resolution).
 * Returns milliseconds (possibly fractional; callers round where keepalived does).
 */
export function readSeconds(ctx: KeywordCtx, text: string, minSec: number, maxSec: number, sixDecimals = false): number | undefined {
  if (!/^[ \t]*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) {
    ctx.diags.error(ctx.stmt, `invalid number '${text}'`, ctx.words[0]);
    return undefined;
  }
  const v = Number(text);
  if (!Number.isFinite(v)) {
    ctx.diags.error(ctx.stmt, `number '${text}' out of range`, ctx.words[0]);
    return undefined;
  }
  if (v < minSec || v > maxSec) {
    const f = sixDecimals ? (x: number) => x.toFixed(6) : fmtBound;
    ctx.diags.error(ctx.stmt, `number '${text}' outside range [${f(minSec)}, ${f(maxSec)}]`, ctx.words[0]);
    return undefined;
  }
  return Math.round(v * 1e6) / 1e3;
}

/** keepalived prints timer ranges with 6 decimals trimmed (`[0.000001, 4294.967295]`). */
function fmtBound(x: number): string {
  if (Number.isInteger(x)) return String(x);
  return x.toFixed(6).replace(/0+$/, '');
}

/** `<BOOL>`: on|off|true|false|yes|no; no argument = true. */
export function readBool(ctx: KeywordCtx, index = 1): boolean | undefined {
  const w = ctx.words[index];
  if (w === undefined) return true;
  if (w === 'true' || w === 'on' || w === 'yes') return true;
  if (w === 'false' || w === 'off' || w === 'no') return false;
  ctx.diags.error(ctx.stmt, `Invalid ${ctx.words[0]} parameter ${w}`, ctx.words[0]);
  return undefined;
}

export function ipFamily(addr: string): 4 | 6 | undefined {
  if (isIPv4(addr)) return 4;
  if (isIPv6(addr)) return 6;
  return undefined;
}

/**
 * The first 16 bits of a valid IPv6 address (validate with `ipFamily` first): enough to tell a
 * multicast address (ff00::/8) and its scope. 0 when the text starts with `::`.
 */
function ipv6FirstGroup(addr: string): number {
  const head = addr.split(':')[0] ?? '';
  return head === '' ? 0 : parseInt(head, 16);
}

/** An IPv6 multicast address (ff00::/8), as IN6_IS_ADDR_MULTICAST. */
export function isIpv6Multicast(addr: string): boolean {
  return ipFamily(addr) === 6 && ipv6FirstGroup(addr) >> 8 === 0xff;
}

/** An IPv6 link-local multicast address (ffX2::/16), as IN6_IS_ADDR_MC_LINKLOCAL. */
export function isIpv6LinkLocalMulticast(addr: string): boolean {
  return ipFamily(addr) === 6 && (ipv6FirstGroup(addr) & 0xff0f) === 0xff02;
}

/** An IPv6 link-local unicast address (fe80::/10), as IN6_IS_ADDR_LINKLOCAL. */
export function isIpv6LinkLocal(addr: string): boolean {
  return ipFamily(addr) === 6 && (ipv6FirstGroup(addr) & 0xffc0) === 0xfe80;
}
