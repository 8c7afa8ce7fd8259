/**
 * What the failover and fast-advert benchmarks share beyond test/support/vrrp-harness.ts: the VRRP
 * version and advert interval of a lab config (VRRPv2 with PASS auth, or VRRPv3 with a centisecond
 * interval and no auth), the protocol's timer bounds for them, and an incremental reader of the
 * wire watcher's tcpdump text that knows VRRPv3 adverts too (tcpdump 4.99 prints
 * `VRRPv3, Advertisement, vrid 51, prio 100, intvl 10cs, length 12`).
 */
import {
  keepalivedConf,
  parseTcpdumpText,
  type InstanceConf,
  type WireAdvert,
  type WireGarp,
  type WireView,
} from '../test/support/vrrp-harness.js';
import type { NsProcess } from '../test/support/lab-types.js';

export type VrrpVersion = 2 | 3;

export interface Timing {
  version: VrrpVersion;
  /** advert_int in seconds as written in the config (v2: whole seconds; v3: 0.01 to 40.95). */
  advertIntS: number;
  /** v3 only: `vrrp_version 3` in global_defs, or `version 3` in the instance. */
  versionIn: 'global' | 'instance';
}

/** advert_int in milliseconds. */
export const advertMs = (t: Timing): number => Math.round(t.advertIntS * 1000);

/** Why `s` is not an advert_int keepalived accepts for this version, or null. */
export function badAdvertInt(version: VrrpVersion, s: number): string | null {
  if (!Number.isFinite(s)) return 'advert_int must be a number of seconds';
  if (version === 2) return Number.isInteger(s) && s >= 1 && s <= 255 ? null : 'VRRPv2 advert_int is 1 to 255 whole seconds';
  const cs = Math.round(s * 100);
  return Math.abs(cs - s * 100) < 1e-6 && cs >= 1 && cs <= 4095 ? null : 'VRRPv3 advert_int is 0.01 to 40.95 s in steps of 0.01';
}

/**
 * Skew_Time at `priority`: RFC 3768 (v2) (256 - Priority) / 256 s, whatever the interval;
 * RFC 5798 (v3) (256 - Priority) * Master_Adver_Interval / 256.
 */
export function skewMs(t: Timing, priority: number): number {
  return t.version === 2 ? ((256 - priority) * 1000) / 256 : ((256 - priority) * advertMs(t)) / 256;
}

/** Master_Down_Interval = 3 * advert interval + Skew_Time (both RFCs). */
export function masterDownMs(t: Timing, priority: number): number {
  return 3 * advertMs(t) + skewMs(t, priority);
}

/** `advert_int 0.1, VRRPv3 (vrrp_version 3 in global_defs), no auth` or `advert_int 1, VRRPv2, PASS auth`. */
export function describe(t: Timing): string {
  if (t.version === 2) return `VRRPv2, PASS auth, advert_int ${t.advertIntS}`;
  const where = t.versionIn === 'global' ? '`vrrp_version 3` in global_defs' : '`version 3` in the instance';
  return `VRRPv3 (${where}), no auth, advert_int ${t.advertIntS}`;
}

/**
 * A lab keepalived.conf (read unchanged by vrrpd) for this timing: v2 gets `auth_type PASS` with
 * `authPass`; v3 gets no authentication block at all (keepalived ignores auth under v3).
 */
export function timedConf(routerId: string, inst: Omit<InstanceConf, 'advertInt' | 'authPass'>, t: Timing, authPass: string): string {
  const extra = [...(inst.extra ?? [])];
  const globals: string[] = [];
  if (t.version === 3) (t.versionIn === 'global' ? globals : extra).push(t.versionIn === 'global' ? 'vrrp_version 3' : 'version 3');
  return keepalivedConf(
    routerId,
    { ...inst, advertInt: t.advertIntS, ...(t.version === 2 ? { authPass } : {}), ...(extra.length ? { extra } : {}) },
    globals,
  );
}

const ADVERT_RE =
  /^(\d+\.\d+) (\S+) > \S+, ethertype IPv4 \(0x0800\), length \d+: (\S+) > (\S+): VRRPv([23]), Advertisement, vrid (\d+), prio (\d+)(?:, authtype (\S+))?, intvl (\d+)(s|cs)/;

/** One tcpdump line as a VRRPv2 or v3 advert (intvl in seconds, auth '' under v3), or undefined. */
export function parseAdvertLine(line: string): WireAdvert | undefined {
  const m = ADVERT_RE.exec(line);
  if (!m) return undefined;
  return {
    ms: Number(m[1]) * 1000,
    srcMac: m[2]!,
    src: m[3]!,
    dst: m[4]!,
    vrid: Number(m[6]),
    prio: Number(m[7]),
    auth: m[8] ?? '',
    intvl: m[10] === 'cs' ? Number(m[9]) / 100 : Number(m[9]),
  };
}

/**
 * The wire watcher's output as adverts (v2 and v3) and gratuitous ARPs, parsed once per line as it
 * arrives: the failover rounds poll this every 2 ms, and at a 100 ms interval the text grows fast.
 */
export function wireReader(proc: Pick<NsProcess, 'stdout'>): () => WireView {
  let done = 0;
  const adverts: WireAdvert[] = [];
  const garps: WireGarp[] = [];
  return () => {
    const text = proc.stdout;
    const end = text.lastIndexOf('\n') + 1;
    if (end > done) {
      for (const line of text.slice(done, end).split('\n')) {
        const adv = parseAdvertLine(line);
        if (adv) adverts.push(adv);
        else garps.push(...parseTcpdumpText(line).garps);
      }
      done = end;
    }
    return { adverts, garps }; // callers only read them
  };
}
