// Differential test against the real keepalived 2.2.7: rx-oracle.py injected each frame of
// test/fixtures/adverts/rx-checks.txt into keepalived (config rx-oracle.conf) and recorded the line
// it logged. decodeAdvert must reach the same verdict with the same wording (minus "(VI_x) ").
import t from 'tap';
import { readFileSync } from 'node:fs';
import { peekVrid } from '../../src/protocol/advert.js';
import { decodeAdvert, type AdvertExpectations } from '../../src/protocol/advert-checks.js';

// rx-oracle.conf, as the instances' receive expectations (BACKUP/MASTER both check addresses)
const instances: Record<number, { name: string; exp: AdvertExpectations }> = {
  51: {
    name: 'VI_M',
    exp: { adverIntSec: 1, authType: 1, authPass: 'secret', vips: ['10.231.0.100', '10.231.0.101'], checkVips: true, unicast: false },
  },
  60: {
    name: 'VI_U',
    exp: {
      adverIntSec: 1,
      authType: 0,
      vips: ['10.231.0.150'],
      checkVips: true,
      unicast: true,
      // min_ttl/max_ttl imply check_unicast_src
      checkUnicastSrc: true,
      unicastPeers: [{ ip: '10.231.0.2', minTtl: 250, maxTtl: 255 }],
    },
  },
};

interface Case {
  name: string;
  logged: string;
  frame: Buffer;
}

const cases: Case[] = [];
{
  let name = '';
  let logged = '';
  for (const raw of readFileSync(new URL('../fixtures/adverts/rx-checks.txt', import.meta.url), 'utf8').split('\n')) {
    const line = raw.trim();
    if (line.startsWith('# case: ')) name = line.slice(8);
    else if (line.startsWith('# keepalived: ')) logged = line.slice(14);
    else if (line !== '' && !line.startsWith('#')) cases.push({ name, logged, frame: Buffer.from(line, 'hex') });
  }
}

// lines keepalived logs when it *accepted* the advert and acted on it
const ACCEPTED = /^\(accepted: nothing logged\)$|Master received advert from|received lower priority/;

t.test('decodeAdvert agrees with keepalived 2.2.7 on every crafted frame', async (t) => {
  t.ok(cases.length >= 20, `${cases.length} recorded cases`);
  for (const c of cases) {
    const ip = c.frame.subarray(14);
    const vrid = peekVrid(ip) ?? 51; // undemuxable frames: the verdict does not depend on the instance
    const inst = instances[vrid];
    if (inst === undefined) {
      t.fail(`${c.name}: unexpected VRID ${vrid}`);
      continue;
    }
    const r = decodeAdvert(ip, inst.exp);
    if (ACCEPTED.test(c.logged)) {
      t.ok(r.ok, `${c.name}: accepted (${r.ok ? '' : r.detail})`);
    } else {
      const want = c.logged.replace(`(${inst.name}) `, '');
      t.equal(r.ok ? '(accepted)' : r.detail, want, `${c.name}: ${r.ok ? 'accepted' : r.reason}`);
    }
  }
});
