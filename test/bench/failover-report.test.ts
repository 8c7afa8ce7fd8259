/**
 * bench/failover.ts --write: each timing replaces only its own marked section of BENCHMARKS.md.
 * Before, the VRRPv2 advert_int 1 timing rewrote the whole top of the file and kept only marked
 * sections, so the hand-written ones between them (memory over time, the control-socket flood,
 * start-up...) were lost on every re-run.
 */
import t from 'tap';
import { withSection, type DocInput } from '../../bench/failover-report.js';

function input(version: 2 | 3, advertIntS: number, marker: string): DocInput {
  return {
    file: 'unused',
    cmd: 'node build/bench/failover.js',
    argsText: '',
    started: '2026-12-03T00:00:00.000Z',
    timing: { version, advertIntS, versionIn: 'global' },
    prefix: 'vr-x-',
    subnet: '10.0.0',
    vip: '10.0.0.100',
    vrid: 51,
    phaseMs: 500,
    sections: [marker],
    errors: [],
  };
}

const OLD = [
  '# Benchmarks',
  '',
  '<!-- summary:begin -->',
  'SUMMARY',
  '<!-- summary:end -->',
  '',
  '<!-- failover:begin -->',
  'OLD V2 FIGURES',
  '<!-- failover:end -->',
  '',
  '## Memory over time (hand-written)',
  'KEEP ME',
  '',
  '<!-- failover-v3:begin -->',
  'OLD V3 FIGURES',
  '<!-- failover-v3:end -->',
  '',
  '## Start-up',
  'KEEP ME TOO',
  '',
].join('\n');

t.test('the v2 advert_int 1 timing replaces its section in place and keeps the rest', async (t) => {
  const out = withSection(OLD, input(2, 1, 'NEW V2 FIGURES'));
  t.notMatch(out, /OLD V2 FIGURES/);
  t.match(out, /<!-- failover:begin -->\n\n## Failover: vrrpd vs keepalived 2\.2\.7\n[\s\S]*NEW V2 FIGURES[\s\S]*<!-- failover:end -->/);
  for (const kept of ['SUMMARY', 'KEEP ME', 'OLD V3 FIGURES', 'KEEP ME TOO']) t.match(out, kept, `${kept} kept`);
  t.ok(out.indexOf('NEW V2 FIGURES') < out.indexOf('Memory over time'), 'in its old place');
  t.equal(out.match(/<!-- failover:begin -->/g)?.length, 1, 'one section');
});

t.test('a v3 timing replaces only the v3 section; another interval is appended once', async (t) => {
  const v3 = withSection(OLD, input(3, 0.1, 'NEW V3 FIGURES'));
  t.match(v3, 'OLD V2 FIGURES');
  t.notMatch(v3, /OLD V3 FIGURES/);
  t.match(v3, 'KEEP ME TOO');
  const v2at2 = withSection(OLD, input(2, 2, 'V2 AT 2 S'));
  t.ok(v2at2.startsWith(OLD.trimEnd()), 'the old text first, unchanged');
  t.match(v2at2, /<!-- failover-v2-2:begin -->[\s\S]*V2 AT 2 S[\s\S]*<!-- failover-v2-2:end -->\n$/);
  t.equal(withSection(v2at2, input(2, 2, 'AGAIN')).match(/failover-v2-2:begin/g)?.length, 1, 'a re-run replaces it');
});
