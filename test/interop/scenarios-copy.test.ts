/**
 * The scenario copies under test/interop/scenarios/ are byte-identical to ../shared/scenarios/
 * (when that directory exists), and the address rewrite touches addresses only.
 */
import t from 'tap';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { SCENARIO_DIR, SHARED_SCENARIO_DIR, rewriteAddresses, scenarioText } from './scenarios.js';

t.test('copies match ../shared/scenarios', { skip: existsSync(SHARED_SCENARIO_DIR) ? false : '../shared/scenarios is not present' }, async (t) => {
  for (const f of readdirSync(SCENARIO_DIR)) {
    t.ok(readFileSync(join(SCENARIO_DIR, f)).equals(readFileSync(join(SHARED_SCENARIO_DIR, f))), `${f} is identical`);
  }
});

t.test('address rewrite', async (t) => {
  const text = scenarioText('tencent-havip.keepalived.conf');
  const out = rewriteAddresses(text, { '172.16.0.16': '10.234.5.1', '172.16.0.14': '10.234.5.2', '172.16.0.135': '10.234.5.135' });
  t.match(out, /unicast_src_ip 10\.234\.5\.1 /);
  t.match(out, /^\s+10\.234\.5\.2\s+#/m);
  t.match(out, /^\s+10\.234\.5\.135\s+#/m);
  t.notMatch(out, /172\.16\.0\./);
  t.equal(out.split('\n').length, text.split('\n').length, 'same lines');
  t.equal(rewriteAddresses('1.2.3.45 1.2.3.4 11.2.3.4', { '1.2.3.4': 'X' }), '1.2.3.45 X 11.2.3.4', 'whole addresses only');
});
