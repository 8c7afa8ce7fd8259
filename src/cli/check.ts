/**
 * `vrrpd check -f FILE` (also `vrrpd -t -f FILE`): keepalived -t for vrrpd. Diagnostics on stderr in
 * keepalived's `(FILE: Line N) message` form (or JSON), exit code as keepalived's. No root needed.
 */
import { formatDiagnostic } from '../config/diagnostics.js';
import { nodeConfigHost } from '../config/host-node.js';
import { loadConfig } from '../config/load.js';
import { printKeepalived } from '../config/print.js';
import { toJson, toYaml } from '../config/yaml.js';

export interface CheckArgs {
  file: string;
  json: boolean;
  print: 'keepalived' | 'yaml' | 'json' | undefined;
  configId: string | undefined;
  hostChecks: boolean;
  allConfig: boolean;
}

export interface Io {
  out(s: string): void;
  err(s: string): void;
}

export function runCheck(a: CheckArgs, io: Io): number {
  const host = nodeConfigHost({ hostChecks: a.hostChecks, ...(a.configId !== undefined ? { configId: a.configId } : {}) });
  const r = loadConfig(a.file, host, { allConfig: a.allConfig });
  const shown = r.diagnostics.filter((d) => d.severity !== 'info');
  if (a.json) {
    io.err(JSON.stringify(shown.map((d) => ({ file: d.file, line: d.line, severity: d.severity, keyword: d.keyword ?? null, message: d.message })), null, 2));
  } else {
    for (const d of shown) io.err(formatDiagnostic(d));
  }
  if (a.print) {
    const model = r.partial;
    if (a.print === 'keepalived') io.out(printKeepalived(model));
    else if (a.print === 'yaml') io.out(toYaml(model));
    else io.out(toJson(model));
  }
  return r.exitCode;
}
