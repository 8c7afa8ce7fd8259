/**
 * vrrpd command line: argv dispatch. The only place that decides exit codes.
 */
import { VERSION } from '../version.js';
import type { Io } from './check.js';
import type { RunArgs } from './run.js';
import { ignoredOptionsWarning, parseListen, parseRunCommandLine, unknownOptionMessage } from './run-args.js';
import { bashCompletion, CHECK_FLAGS, COMMAND_NAMES, DEMO_FLAGS, MANUAL_FLAGS, STATUS_FLAGS } from './completion.js';

// Every command's module is imported only when that command runs: `status` and the other control
// commands must not load io/ (DESIGN.md), and `run` must not pay for what it never uses (check.js
// and status.js bring the `yaml` package: 72 files, ~100 ms of the daemon's start-up).
const loadRun = (): Promise<typeof import('./run.js')> => import('./run.js');
const loadCheck = (): Promise<typeof import('./check.js')> => import('./check.js');
const loadStatus = (): Promise<typeof import('./status.js')> => import('./status.js');
const loadManual = (): Promise<typeof import('./manual.js')> => import('./manual.js');
const loadLoader = (): Promise<typeof import('./config-loader.js')> => import('./config-loader.js');

/** The full usage text (loads every command's module: only for help and errors). */
async function fullUsage(): Promise<string> {
  const [{ RUN_USAGE }, { STATUS_USAGE }, { MANUAL_USAGE }] = await Promise.all([loadRun(), loadStatus(), loadManual()]);
  return usage(RUN_USAGE, STATUS_USAGE, MANUAL_USAGE);
}

const CHECK_USAGE = `  check -f FILE [--json] [--print keepalived|yaml|json] [-i ID] [--no-host-checks] [--strict]
        test a keepalived.conf (also: vrrpd -t -f FILE); exit 0 ok, 5 config errors,
        6 script security or missing required include, 2 missing parameter,
        1 accepted by keepalived but refused by vrrpd (a keyword it does not run, e.g. vrf);
        --strict: 10 when anything is reported (a keyword vrrpd ignores, a value corrected);
        diagnostics on stderr, or with --json as a JSON array on stdout (on stderr when --print
        puts the config on stdout)
`;
const DEMO_USAGE = `  demo [--keep] [--prefix P] [--subnet A.B.C]
        run a throw-away two-node lab (root): election, status, failover and ping gap
`;
const VERSION_USAGE = `  version        print the version (also vrrpd --version, vrrpd -v)
`;
const COMPLETION_USAGE = `  completion bash
        print the bash completion (instances from the running daemon); make install and the
        package put it in bash-completion's directory. Now: source <(vrrpd completion bash)
`;

const usage = (runUsage: string, statusUsage: string, manualUsage: string): string =>
  `usage: vrrpd <command> [options]   (vrrpd <command> --help: that command alone)

commands:
${CHECK_USAGE}${runUsage}${statusUsage}${manualUsage}${DEMO_USAGE}${VERSION_USAGE}${COMPLETION_USAGE}`;

const COMMANDS: ReadonlySet<string> = new Set(COMMAND_NAMES);

/** One command's usage (its module loaded only for its text). */
async function commandUsage(cmd: string): Promise<string> {
  const head = 'usage: vrrpd ';
  if (cmd === 'check') return `${head}${CHECK_USAGE.trimStart()}`;
  if (cmd === 'run') return `${head}${(await loadRun()).RUN_USAGE.trimStart()}`;
  if (cmd === 'status') return `${head}${(await loadStatus()).STATUS_USAGE.trimStart()}`;
  if (cmd === 'demo') return `${head}${DEMO_USAGE.trimStart()}`;
  if (cmd === 'version') return `${head}${VERSION_USAGE.trimStart()}`;
  if (cmd === 'completion') return `${head}${COMPLETION_USAGE.trimStart()}`;
  return `usage: vrrpd\n${(await loadManual()).MANUAL_USAGE}`;
}

/** The first flag not in `known`, as an error with a did-you-mean; undefined when all are known. */
export function unknownFlag(flags: ReadonlyMap<string, string>, known: readonly string[]): string | undefined {
  const bad = [...flags.keys()].find((k) => !known.includes(k));
  return bad === undefined ? undefined : unknownOptionMessage(bad, known);
}

const stdio: Io = {
  out: (s) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`),
  err: (s) => process.stderr.write(s.endsWith('\n') ? s : `${s}\n`),
};

/** Parse `-f FILE`, `--flag`, `--opt VALUE`, `--opt=VALUE`. */
function parseFlags(args: string[], withValue: ReadonlySet<string>): { flags: Map<string, string>; rest: string[]; error?: string } {
  const flags = new Map<string, string>();
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith('-') && a !== '-') {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(0, eq) : a;
      if (withValue.has(name)) {
        const v = eq > 0 ? a.slice(eq + 1) : args[++i];
        if (v === undefined) return { flags, rest, error: `${name} needs a value` };
        flags.set(name, v);
      } else if (eq > 0) flags.set(name, a.slice(eq + 1));
      else flags.set(name, '');
    } else rest.push(a);
  }
  return { flags, rest };
}

/** What the caller has the daemon wait for. */
export interface MainHooks {
  /**
   * Before the daemon's modules load, once the config loader's thread has started (so the two run
   * in parallel): bin/vrrpd's check that the native modules load under this Node. It may exit.
   */
  readonly beforeDaemon?: () => Promise<unknown>;
}

export async function main(argv: string[], io: Io = stdio, hooks: MainHooks = {}): Promise<number> {
  let args = [...argv];
  // keepalived's spelling: vrrpd -t -f FILE / --config-test
  if (args.includes('-t') || args.includes('--config-test')) {
    args = ['check', ...args.filter((a) => a !== '-t' && a !== '--config-test')];
  }
  const signum = args.find((a) => a === '--signum' || a.startsWith('--signum='));
  if (signum !== undefined)
    return signumCommand(signum === '--signum' ? args[args.indexOf(signum) + 1] : signum.slice('--signum='.length), io);
  // keepalived's own command line (`vrrpd -n -l -D -f FILE`): options first, no command word
  if (args[0]?.startsWith('-') === true && !['-h', '--help', '-v', '--version'].includes(args[0])) args = ['run', ...args];
  const cmd = args.shift();
  // `-h`/`--help` after a command prints that command's usage and does nothing else (never a
  // daemon, never a demo lab)
  if (cmd !== undefined && COMMANDS.has(cmd) && (args.includes('-h') || args.includes('--help'))) {
    io.out(await commandUsage(cmd));
    return 0;
  }
  switch (cmd) {
    case 'check':
      return checkCommand(args, io);
    case 'run':
      return runCommand(args, io, hooks);
    case 'status':
      return statusCommand(args, io);
    case 'promote':
    case 'switchover':
    case 'maintenance':
    case 'reload':
      return manualCommand(cmd, args, io);
    case 'demo':
      return demoCommand(args, io);
    case 'completion':
      if (args.length !== 1 || args[0] !== 'bash') {
        io.err(`vrrpd completion: one shell, bash\n${COMPLETION_USAGE}`);
        return 2;
      }
      io.out(bashCompletion());
      return 0;
    case 'version':
    case '--version':
    case '-v':
      io.out(`vrrpd ${VERSION}`);
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      io.out(await fullUsage());
      return cmd === undefined ? 2 : 0;
    default:
      io.err(`vrrpd: unknown command '${cmd}'\n${await fullUsage()}`);
      return 2;
  }
}

/** vrrpd check: parse the flags, then the config check (loaded on use). */
async function checkCommand(args: string[], io: Io): Promise<number> {
  const { flags, rest, error } = parseFlags(args, new Set(['-f', '--use-file', '--print', '-i', '--config-id']));
  if (error) {
    io.err(`vrrpd check: ${error}`);
    return 2;
  }
  const bad = unknownFlag(flags, CHECK_FLAGS);
  if (bad !== undefined) {
    io.err(`vrrpd check: ${bad}\n${CHECK_USAGE}`);
    return 2;
  }
  const file = flags.get('-f') ?? flags.get('--use-file') ?? rest[0] ?? '/etc/keepalived/keepalived.conf';
  const print = flags.get('--print');
  if (print !== undefined && !['keepalived', 'yaml', 'json', ''].includes(print)) {
    io.err(`vrrpd check: --print takes keepalived, yaml or json, not '${print}'`);
    return 2;
  }
  const checkArgs = {
    file,
    json: flags.has('--json'),
    print: print === undefined ? undefined : print === '' ? 'keepalived' : (print as 'keepalived' | 'yaml' | 'json'),
    configId: flags.get('-i') ?? flags.get('--config-id'),
    hostChecks: !flags.has('--no-host-checks'),
    allConfig: flags.has('-e') || flags.has('--all-config'),
    strict: flags.has('--strict'),
  };
  // the loader's thread starts first: it boots while check.js loads here (BENCHMARKS.md, "Footprint")
  const loader = await loadLoader();
  const loading = loader.loadForCheck(checkArgs);
  const { runCheck } = await loadCheck();
  return runCheck(checkArgs, io, loading);
}

/** vrrpd run: parse the flags, then the daemon (loaded on use). */
async function runCommand(args: string[], io: Io, hooks: MainHooks): Promise<number> {
  const parsed = parseRunCommandLine(args);
  if ('error' in parsed) {
    io.err(`vrrpd run: ${parsed.error}`);
    return 2;
  }
  const { flags, rest } = parsed;
  const vipDeleted = flags.get('--vip-deleted') ?? 'restore';
  if (vipDeleted !== 'restore' && vipDeleted !== 'keepalived') {
    io.err(`vrrpd run: --vip-deleted takes restore or keepalived, not '${vipDeleted}'`);
    return 2;
  }
  const logFormat = flags.get('--log-format');
  if (logFormat !== undefined && !['json', 'console', 'journal'].includes(logFormat)) {
    io.err(`vrrpd run: --log-format takes json, console or journal, not '${logFormat}'`);
    return 2;
  }
  const metricsListen = flags.get('--metrics-listen');
  const listen = metricsListen === undefined ? undefined : parseListen(metricsListen);
  if (typeof listen === 'string') {
    io.err(`vrrpd run: ${listen}`);
    return 2;
  }
  const warning = ignoredOptionsWarning(parsed.ignored);
  if (warning !== null) io.err(warning);
  const runArgs: RunArgs = {
    file: flags.get('-f') ?? rest[0] ?? '/etc/keepalived/keepalived.conf',
    logConsole: flags.has('-l'),
    ...(logFormat !== undefined ? { logFormat: logFormat as 'json' | 'console' | 'journal' } : {}),
    logDetail: flags.has('-D'),
    pidFile: flags.get('--pid-file') ?? flags.get('-r') ?? flags.get('-p'),
    controlSocket: flags.get('--control-socket'),
    statusSocket: flags.get('--status-socket'),
    statusGroup: flags.get('--status-group'),
    stateDir: flags.get('--state-dir'),
    stateLog: flags.get('--state-log'),
    stateFiles: !flags.has('--no-state-files'),
    configId: flags.get('-i'),
    allConfig: flags.has('-e'),
    vipDeleted,
    ...(listen !== undefined ? { metricsListen: listen } : {}),
    argv: ['vrrpd', 'run', ...args],
  };
  // the config loader's thread starts first: it boots while the daemon's modules load on this
  // thread (BENCHMARKS.md, "Footprint"); the load is the one runDaemon would start, with its bounds
  const loader = await loadLoader();
  const loading = loader.loadConfigOffThread(loader.daemonLoadRequest(runArgs));
  await hooks.beforeDaemon?.();
  const { runDaemon } = await loadRun();
  return runDaemon(runArgs, io, loading);
}

/** vrrpd status: parse the flags, then ask the daemon (loaded on use). */
async function statusCommand(args: string[], io: Io): Promise<number> {
  const { runStatus, STATUS_USAGE } = await loadStatus();
  const { flags, rest, error } = parseFlags(args, new Set(['--socket', '--control-socket', '--check-master', '-s']));
  if (error) {
    io.err(`vrrpd status: ${error}`);
    return 2;
  }
  const unknown = unknownFlag(flags, STATUS_FLAGS);
  const formats = ['--json', '--yaml', '--names'].filter((f) => flags.has(f));
  if (unknown !== undefined || rest.length > 1 || formats.length > 1) {
    io.err(`vrrpd status: ${unknown ?? (rest.length > 1 ? 'one instance at most' : `${formats.join(' or ')}, not both`)}\n${STATUS_USAGE}`);
    return 2;
  }
  return runStatus(
    {
      socket: flags.get('--socket') ?? flags.get('--control-socket') ?? flags.get('-s'),
      instance: rest[0],
      format: flags.has('--json') ? 'json' : flags.has('--yaml') ? 'yaml' : flags.has('--names') ? 'names' : 'table',
      checkMaster: flags.get('--check-master'),
    },
    io,
  );
}

/** vrrpd promote / switchover / maintenance / reload: parse the flags, then send the request. */
async function manualCommand(cmd: 'promote' | 'switchover' | 'maintenance' | 'reload', args: string[], io: Io): Promise<number> {
  const { MANUAL_USAGE, runManual } = await loadManual();
  const { flags, rest, error } = parseFlags(args, new Set(['--socket', '--control-socket', '-s', '--priority', '--peer-socket', '--for']));
  if (error) {
    io.err(`vrrpd ${cmd}: ${error}`);
    return 2;
  }
  // one name for the socket everywhere (--control-socket, as `run` takes it); --socket and -s stay
  for (const alias of ['-s', '--control-socket']) if (flags.has(alias)) flags.set('--socket', flags.get(alias)!);
  const bad = unknownFlag(flags, MANUAL_FLAGS);
  if (bad !== undefined) {
    io.err(`vrrpd ${cmd}: ${bad}\n${MANUAL_USAGE}`);
    return 2;
  }
  return runManual({ cmd, rest, flags }, io);
}

/** vrrpd demo: parse the flags, then the namespace demo (loaded on use). */
async function demoCommand(args: string[], io: Io): Promise<number> {
  const { runDemo } = await import('./demo.js');
  const { flags, rest, error } = parseFlags(args, new Set(['--prefix', '--subnet']));
  if (error) {
    io.err(`vrrpd demo: ${error}`);
    return 2;
  }
  const bad = unknownFlag(flags, DEMO_FLAGS) ?? (rest.length > 0 ? `unexpected argument '${rest[0]}'` : undefined);
  if (bad !== undefined) {
    io.err(`vrrpd demo: ${bad}\n${DEMO_USAGE}`);
    return 2;
  }
  return runDemo({ keep: flags.has('--keep'), prefix: flags.get('--prefix'), subnet: flags.get('--subnet') }, io);
}

/**
 * keepalived's `--signum=NAME`, which exporters call to learn which signal asks for a dump: the
 * number, as keepalived 2.2.7 prints it (Linux, glibc). STATS_CLEAR is refused: vrrpd does not
 * handle that signal, and sending it would stop the daemon.
 */
function signumCommand(name: string | undefined, io: Io): number {
  const n = name === undefined ? undefined : SIGNUMS[name];
  if (n === undefined) {
    io.err(
      name === 'STATS_CLEAR'
        ? 'Unknown sigfunc STATS_CLEAR (vrrpd keeps no statistics to clear; that signal would stop it)'
        : `Unknown sigfunc ${name ?? ''}`,
    );
    return 1;
  }
  io.out(String(n));
  return 0;
}

/** JSON is SIGRTMIN+2 (36), as SIGJSON in src/runtime/dumps.ts (not imported here: the CLI starts light). */
const SIGNUMS: Readonly<Record<string, number>> = { STOP: 15, RELOAD: 1, DATA: 10, STATS: 12, JSON: 36 };
