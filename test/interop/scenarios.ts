/**
 * The vendor scenarios of ../shared/scenarios (copied verbatim into test/interop/scenarios/ so the
 * interop tests run from a bare clone; scenarios-copy.test.ts checks the copies against
 * ../shared when it is present). Not a test file.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SCENARIO_DIR = join(dirname(fileURLToPath(import.meta.url)), 'scenarios');
export const SHARED_SCENARIO_DIR = join(dirname(fileURLToPath(import.meta.url)), '../../../shared/scenarios');

export function scenarioText(name: string): string {
  return readFileSync(join(SCENARIO_DIR, name), 'utf8');
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
