/**
 * `vrrpd run`'s command line, and keepalived 2.2.7's (its getopt table in core/main.c): a unit or a
 * script written for keepalived (`keepalived -n -l -D -f FILE`, `--dont-fork`, `-P`...) runs vrrpd
 * unchanged, with or without the word `run`. Each keepalived option is one of:
 *  - acted on: -f, -l, -D, -p/-r (the pid file), -i, -e;
 *  - accepted without effect (vrrpd runs one process in the foreground, logs to stdout/syslog, has
 *    no checker, BFD or SNMP): named together in one warning at start-up;
 *  - refused: -C (checkers only: there is no VRRP to run), -s (a network namespace: start vrrpd in
 *    it instead), -T (genhash).
 * Short options combine as getopt's do (`-nlD`); an option with an optional value takes it only
 * attached (`-gFILE`, `--log-file=FILE`). Anything else is an error with a did-you-mean. Pure.
 */

/** `--metrics-listen`'s value: `HOST:PORT`, `[IPV6]:PORT` or `:PORT` (every address, `::`). */
export function parseListen(s: string): { readonly host: string; readonly port: number } | string {
  const m = /^(?:\[([0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)\]|([^:[\]\s]*)):(\d{1,5})$/.exec(s);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 1 && port <= 65535))
    return `--metrics-listen ${JSON.stringify(s)}: expected HOST:PORT, [IPV6]:PORT or :PORT (port 1-65535), e.g. 127.0.0.1:9650`;
  const host = m[1] ?? m[2] ?? '';
  return { host: host === '' ? '::' : host, port };
}

type Arity = 'none' | 'value' | 'optional';

interface Opt {
  readonly names: readonly string[];
  readonly arity: Arity;
  /** vrrpd's name for it (the map key of the result); undefined = accepted without effect. */
  readonly as?: string;
  /** Refused, with this reason. */
  readonly refused?: string;
}

const OPTS: readonly Opt[] = [
  // vrrpd's own
  { names: ['--control-socket'], arity: 'value', as: '--control-socket' },
  { names: ['--status-socket'], arity: 'value', as: '--status-socket' },
  { names: ['--status-group'], arity: 'value', as: '--status-group' },
  { names: ['--state-dir'], arity: 'value', as: '--state-dir' },
  { names: ['--state-log'], arity: 'value', as: '--state-log' },
  { names: ['--no-state-files'], arity: 'none', as: '--no-state-files' },
  { names: ['--vip-deleted'], arity: 'value', as: '--vip-deleted' },
  { names: ['--pid-file'], arity: 'value', as: '--pid-file' },
  { names: ['--log-format'], arity: 'value', as: '--log-format' },
  { names: ['--metrics-listen'], arity: 'value', as: '--metrics-listen' },
  // keepalived's, acted on
  { names: ['-f', '--use-file'], arity: 'value', as: '-f' },
  { names: ['-l', '--log-console'], arity: 'none', as: '-l' },
  { names: ['-D', '--log-detail'], arity: 'none', as: '-D' },
  { names: ['-r', '--vrrp_pid'], arity: 'value', as: '-r' },
  { names: ['-p', '--pid'], arity: 'value', as: '-p' },
  { names: ['-i', '--config-id'], arity: 'value', as: '-i' },
  { names: ['-e', '--all-config'], arity: 'none', as: '-e' },
  // keepalived's, without effect in vrrpd
  ...(
    [
      [['-P', '--vrrp'], 'none'],
      [['-n', '--dont-fork'], 'none'],
      [['-G', '--no-syslog'], 'none'],
      [['-S', '--log-facility'], 'value'],
      [['-g', '--log-file'], 'optional'],
      [['--flush-log-file'], 'none'],
      [['-u', '--umask'], 'value'],
      [['-X', '--release-vips'], 'none'],
      [['-V', '--dont-release-vrrp'], 'none'],
      [['-I', '--dont-release-ipvs'], 'none'],
      [['-R', '--dont-respawn'], 'none'],
      [['-d', '--dump-conf'], 'none'],
      [['-c', '--checkers_pid'], 'value'],
      [['-b', '--bfd_pid'], 'value'],
      [['-B', '--no_bfd'], 'none'],
      [['--all'], 'none'],
      [['-a', '--address-monitoring'], 'none'],
      [['-x', '--snmp'], 'none'],
      [['-A', '--snmp-agent-socket'], 'value'],
      [['-m', '--core-dump'], 'none'],
      [['-M', '--core-dump-pattern'], 'optional'],
      [['--no-mem-check'], 'none'],
      [['-L', '--mem-check-log'], 'none'],
      [['--perf'], 'optional'],
      [['--debug'], 'optional'],
    ] as const
  ).map(([names, arity]): Opt => ({ names, arity })),
  // keepalived's, refused
  {
    names: ['-C', '--check'],
    arity: 'none',
    refused: "runs only keepalived's checkers (LVS): vrrpd has no checker, and there would be no VRRP to run",
  },
  {
    names: ['-s', '--namespace'],
    arity: 'value',
    refused: 'vrrpd runs in the network namespace it is started in: start it there (`ip netns exec NAME vrrpd run ...`)',
  },
  { names: ['-T', '--genhash'], arity: 'none', refused: "genhash is keepalived's checker tool" },
];

/** Every option `run` takes (the bash completion offers them). */
export const RUN_OPTION_NAMES: readonly string[] = OPTS.filter((o) => o.refused === undefined).flatMap((o) => o.names);

const BY_NAME = new Map<string, Opt>(OPTS.flatMap((o) => o.names.map((n): [string, Opt] => [n, o])));

export interface RunCommandLine {
  /** vrrpd's name of each acted-on option -> its value ('' for a flag). */
  readonly flags: ReadonlyMap<string, string>;
  /** Positional words (the config file, as keepalived's `keepalived FILE` does not take it: vrrpd's own). */
  readonly rest: readonly string[];
  /** The keepalived options given that have no effect in vrrpd, as written. */
  readonly ignored: readonly string[];
}

/** The first option of `vrrpd run` / keepalived's command line, parsed; or the error (exit 2). */
export function parseRunCommandLine(args: readonly string[]): RunCommandLine | { error: string } {
  const flags = new Map<string, string>();
  const rest: string[] = [];
  const ignored: string[] = [];
  const take = (o: Opt, name: string, value: string): string | undefined => {
    if (o.refused !== undefined) return `${name} is not supported by vrrpd: ${o.refused}`;
    if (o.as !== undefined) flags.set(o.as, value);
    else ignored.push(value === '' ? name : `${name} ${value}`);
    return undefined;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('-') || a === '-') {
      rest.push(a);
      continue;
    }
    const words = a.startsWith('--') ? [a] : expandShort(a);
    if (words === null) return { error: unknown(a) };
    for (const [j, w] of words.entries()) {
      const eq = w.startsWith('--') ? w.indexOf('=') : -1;
      const name = eq > 0 ? w.slice(0, eq) : w;
      const o = BY_NAME.get(name);
      if (o === undefined) return { error: unknown(name) };
      let value = eq > 0 ? w.slice(eq + 1) : '';
      if (o.arity === 'value' && eq < 0) {
        // `-fFILE` (attached), else the next word
        const attached = j === words.length - 1 && !a.startsWith('--') && a.length > 2 && words.length === 1 ? a.slice(2) : '';
        if (attached !== '') value = attached;
        else if (i + 1 < args.length) value = args[++i]!;
        else return { error: `${name} needs a value` };
      }
      if (o.arity === 'none' && eq > 0) return { error: `${name} takes no value` };
      const bad = take(o, name, value);
      if (bad !== undefined) return { error: bad };
    }
  }
  return { flags, rest, ignored };
}

/**
 * `-nlD` -> ['-n', '-l', '-D']; `-fFILE` -> ['-f'] (its value is the rest of the word, handled by
 * the caller); `-gFILE` -> ['--log-file=FILE']. null when a letter is no option.
 */
function expandShort(a: string): string[] | null {
  const out: string[] = [];
  for (let k = 1; k < a.length; k++) {
    const name = `-${a[k]}`;
    const o = BY_NAME.get(name);
    if (o === undefined) return null;
    if (o.arity === 'value') return k === 1 ? [name] : null;
    if (o.arity === 'optional') {
      const long = o.names.find((n) => n.startsWith('--'))!;
      out.push(k + 1 < a.length ? `${long}=${a.slice(k + 1)}` : long);
      return out;
    }
    out.push(name);
  }
  return out;
}

function unknown(name: string): string {
  return unknownOptionMessage(name, [...BY_NAME.keys()]);
}

/** `unknown option NAME`, with the closest of `known` (2 edits at most) as a did-you-mean. */
export function unknownOptionMessage(name: string, known: readonly string[]): string {
  const near = known
    .filter((k) => k.length > 2 && editDistance(name, k) <= 2)
    .sort((x, y) => editDistance(name, x) - editDistance(name, y));
  return `unknown option ${name}${near.length > 0 ? ` (did you mean ${near[0]}?)` : ''}`;
}

/** Levenshtein distance (option names are short). */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/** The one start-up warning for options without effect; null when there are none. */
export function ignoredOptionsWarning(ignored: readonly string[]): string | null {
  if (ignored.length === 0) return null;
  return `vrrpd run: keepalived options without effect in vrrpd (one process, in the foreground; no checker, BFD or SNMP): ${ignored.join(' ')}`;
}
