/**
 * `vrrpd check -f FILE` (also `vrrpd -t -f FILE`): keepalived -t for vrrpd. Diagnostics on stderr in
 * keepalived's `(FILE: Line N) message` form (or JSON), exit code as keepalived's. No root needed.
 * The file is loaded the way the daemon loads it (a worker thread, config-loader.ts), so a load that
 * a bound stops is reported here exactly as the daemon would log it, and what the daemon cannot run
 * yet is refused here too (src/config/runtime-support.ts).
 */
import { EXIT_OK, exitCodeFor, formatDiagnostic, type Diagnostic } from '../config/diagnostics.js';
import { failureDiagnostic, loadForCheck, loadSummary, type LoadOutcome, type SummaryOutcome } from './config-loader.js';

export interface CheckArgs {
  file: string;
  json: boolean;
  print: 'keepalived' | 'yaml' | 'json' | undefined;
  configId: string | undefined;
  hostChecks: boolean;
  allConfig: boolean;
  /** Fail (EXIT_STRICT) on any keyword vrrpd does not run and on anything keepalived's rules corrected or skipped. */
  strict?: boolean;
}

export interface Io {
  out(s: string): void;
  err(s: string): void;
}

/**
 * `loading`: loadForCheck(a), when the caller started it already (main.ts starts the loader's thread
 * before this module is imported, so the two start in parallel). Without --print only the summary
 * comes back from the loader's thread, not the model.
 */
export async function runCheck(a: CheckArgs, io: Io, loading?: Promise<LoadOutcome | SummaryOutcome>): Promise<number> {
  const out = await (loading ?? loadForCheck(a));
  if (!out.ok) {
    // no model at all: nothing to print
    const d = failureDiagnostic(out);
    report([d], a, io);
    return exitCodeFor([d]);
  }
  const r = 'summary' in out ? out.summary : loadSummary(out.result);
  const shown = r.diagnostics.filter((d) => d.severity !== 'info');
  report(shown, a, io);
  if (a.print) {
    if (!('result' in out)) throw new Error('vrrpd check --print: the load has no model (start it with loadForCheck)');
    // the printers (and the yaml package) are loaded only to print (print-config.ts)
    const { printKeepalived, toJson, toYaml } = await import('./print-config.js');
    const model = out.result.partial;
    if (a.print === 'keepalived') io.out(printKeepalived(model));
    else if (a.print === 'yaml') io.out(toYaml(model));
    else io.out(toJson(model));
  }
  if (!a.json) io.err(verdictLine(r.instances));
  // keepalived's code, unless vrrpd refuses a config keepalived accepts (runtime-support.ts): then 1,
  // as `vrrpd run` exits, so `vrrpd check && vrrpd reload` cannot pass it
  if (r.instances === undefined && r.exitCode === EXIT_OK) return EXIT_REFUSED_BY_VRRPD;
  // --strict: anything shown (a keyword not run, a value corrected or skipped) fails
  if (a.strict === true && r.exitCode === EXIT_OK && shown.length > 0) return EXIT_STRICT;
  return r.exitCode;
}

/** `vrrpd check`'s exit code for a config keepalived -t accepts (exit 0) but vrrpd would not run. */
export const EXIT_REFUSED_BY_VRRPD = 1;
/** `vrrpd check --strict`'s exit code when the config would run but something was reported (above keepalived's codes, 0-8). */
export const EXIT_STRICT = 10;

/** The last line of the text output: whether `vrrpd run` would start this config, with how many instances. */
export function verdictLine(instances: number | undefined): string {
  if (instances === undefined) return 'vrrpd run would refuse this configuration (see above)';
  return `vrrpd run would start this configuration: ${instances} VRRP instance${instances === 1 ? '' : 's'}`;
}

/**
 * The diagnostics: keepalived's lines on stderr; with --json a JSON array on stdout (so that
 * `vrrpd check --json -f F | jq` works), or on stderr when --print puts the config on stdout.
 */
function report(shown: readonly Diagnostic[], a: Pick<CheckArgs, 'json' | 'print'>, io: Io): void {
  if (a.json) {
    const text = JSON.stringify(
      shown.map((d) => ({ file: d.file, line: d.line, severity: d.severity, keyword: d.keyword ?? null, message: d.message })),
      null,
      2,
    );
    if (a.print === undefined) io.out(text);
    else io.err(text);
  } else {
    for (const d of shown) io.err(formatDiagnostic(d));
  }
}
