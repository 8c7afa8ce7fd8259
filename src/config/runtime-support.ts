/**
 * What a keepalived.conf can say that vrrpd's runtime cannot run yet: an IPv6 unicast instance
 * without `unicast_src_ip` (vrrpd's IPv6 unicast channel is bound to unicast_src_ip,
 * socket-pool.ts). keepalived 2.2.7 binds to the interface's link-local address then and sends from
 * it; with global peer addresses it hears none of its peer's adverts (sent to its global address),
 * so both nodes become MASTER (watched in a namespace pair, 2026-12-02): setting unicast_src_ip is
 * the fix either way. Such an instance would run wrong without a word, so the loader refuses the
 * config with one named diagnostic per instance.
 * keepalived prints no such line, so the diagnostic is vrrpd's own: bare (line 0, the place is in
 * its text, as for the script notices of completion.ts) and not counted in keepalived's exit code
 * (exitClass `none`), so `keepalived -t`'s lines and code stay comparable; but it is `fatal`, so
 * the config is refused: `vrrpd run` does not start, a reload keeps the running config, and
 * `vrrpd check` prints it and exits non-zero. Pure.
 *
 * When the runtime supports a reason, delete it here (and its test in
 * test/config/runtime-support.test.ts).
 */
import type { Diagnostic } from './diagnostics.js';
import type { DeepReadonly, Origin, VrrpInstance } from './model.js';

/** The words every such diagnostic starts with. */
export const NOT_SUPPORTED_YET = 'not supported by vrrpd yet';

/** Why the runtime cannot run this instance as keepalived would; empty when it can. */
export function unsupportedReasons(i: DeepReadonly<VrrpInstance>): string[] {
  const out: string[] = [];
  if (i.family === 6 && i.unicastPeers.length > 0 && i.unicastSrcIp === null) out.push('IPv6 unicast without unicast_src_ip');
  return out;
}

/** One fatal, uncounted diagnostic per instance the runtime cannot run (see the module comment). */
export function runtimeRefusals(instances: DeepReadonly<VrrpInstance[]>): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const i of instances) {
    const reasons = unsupportedReasons(i);
    if (reasons.length === 0) continue;
    out.push({
      file: '',
      line: 0,
      severity: 'fatal',
      keyword: 'vrrp_instance',
      message: `${NOT_SUPPORTED_YET}: ${reasons.join(', ')} (instance ${i.name}, ${at(i.origin)}) - the daemon would refuse to start`,
      exitClass: 'none',
    });
  }
  return out;
}

function at(o: DeepReadonly<Origin>): string {
  return `${o.file}:${o.line}`;
}
