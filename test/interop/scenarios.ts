/**
 * The example deployments of test/fixtures/deployments (the cloud guides' HAVIP and SNAT pairs,
 * written by the project: configs and hook scripts), read by the interop and hook tests.
 * Not a test file.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const DEPLOYMENTS_DIR = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/deployments');

export function scenarioText(name: string): string {
  return readFileSync(join(DEPLOYMENTS_DIR, name), 'utf8');
}

/**
 * The scenario file with its IPv4 addresses rewritten to the lab's (whole addresses only, never a
 * prefix of a longer one). Nothing else changes: the lab's interface is eth0 like the vendors'.
 */
export function rewriteAddresses(text: string, map: Record<string, string>): string {
  let out = text;
  for (const [from, to] of Object.entries(map)) {
    out = out.replace(new RegExp(`(?<![\\d.])${from.replace(/\./g, '\\.')}(?![\\d.])`, 'g'), to);
  }
  return out;
}
