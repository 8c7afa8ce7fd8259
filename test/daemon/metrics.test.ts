/**
 * `--metrics-listen` on a real pair (prefix vd-metr-, subnet 10.233.30.0/24): both nodes serve
 * /metrics, scraped from a client namespace with Node's HTTP client and read with a strict parser
 * of the text format. The election and a crash failover show in the metrics; a scraper pulling 20
 * times a second leaves the master's adverts on time (interval jitter measured from a capture).
 */
import t from 'tap';
import { Lab, netnsSkip, sleep } from '../support/netns.js';
import { parseExposition, type Exposition } from '../support/prom-text.js';
import { adverts, requireBuild, confText, instanceConf, startVrrpd, waitState } from './helpers.js';

const VIP = '10.233.30.100';
const PORT = 9650;
/** CI bound on the advert interval's deviation from 1 s while scraped (the suite runs beside it on 2 cores). */
const SCRAPED_JITTER_MAX_MS = 100;

/** A scrape from host `from` of `to`'s /metrics, by Node's fetch inside the client namespace. */
async function scrape(lab: Lab, from: string, to: string): Promise<Exposition> {
  const url = `http://${lab.host(to).ip}:${PORT}/metrics`;
  const js = `fetch(${JSON.stringify(url)}).then(async (r) => { if (r.status !== 200) process.exit(3); process.stdout.write(await r.text()); })`;
  const r = await lab.exec(from, [process.execPath, '-e', js], { timeoutMs: 10_000 });
  return parseExposition(r.stdout);
}

/** Scrapes `url` every 50 ms for `ms`; prints {ok, bad} at the end. */
const SCRAPER = `
const [url, ms] = process.argv.slice(1);
const end = Date.now() + Number(ms);
let ok = 0, bad = 0;
const tick = async () => {
  try { const r = await fetch(url); await r.text(); r.status === 200 ? ok++ : bad++; } catch { bad++; }
  if (Date.now() < end) setTimeout(tick, 50); else console.log(JSON.stringify({ ok, bad }));
};
tick();
`;

/** Deviations (ms) of `src`'s advert intervals from 1 s between `fromMs` and `toMs`. */
function deviations(frames: Parameters<typeof adverts>[0], src: string, fromMs: number, toMs: number): number[] {
  const times = adverts(frames)
    .filter((a) => a.src === src && a.priority > 0 && a.tMs >= fromMs && a.tMs <= toMs)
    .map((a) => a.tMs);
  return times.slice(1).map((x, i) => Math.abs(x - times[i]! - 1000));
}

t.test(
  'metrics of a pair: election, scraping at 20/s, crash failover',
  { skip: netnsSkip() || requireBuild(), timeout: 90_000 },
  async (t) => {
    const lab = await Lab.create(t, { prefix: 'vd-metr-', subnet: '10.233.30', hosts: ['a', 'b', 'c'] });
    const conf = (prio: number): string => confText('n', instanceConf({ priority: prio, vips: [`${VIP}/24`] }));
    const cap = await lab.capture('c', { filter: 'ip proto 112' });
    const a = await startVrrpd(lab, 'a', conf(150), ['--metrics-listen', `:${PORT}`]);
    const b = await startVrrpd(lab, 'b', conf(100), ['--metrics-listen', `:${PORT}`]);
    t.match(a.proc.output, /Metrics at http:\/\/\[::\]:9650\/metrics/);

    await waitState(a, 'MASTER', 8000);
    await waitState(b, 'BACKUP', 1000);
    const ma = await scrape(lab, 'c', 'a');
    t.equal(ma.value('vrrpd_instance_state', { instance: 'VI_1', state: 'MASTER' }), 1, 'a: MASTER');
    t.equal(ma.value('keepalived_vrrp_state', { iname: 'VI_1', ip_address: VIP }), 2, "a: MASTER in the keepalived exporter's terms");
    t.equal(ma.value('vrrpd_vip_present', { instance: 'VI_1', address: VIP }), 1, 'a holds the VIP');
    t.ok(ma.value('vrrpd_adverts_sent_total', { instance: 'VI_1' }) >= 1, 'a sends adverts');
    const mb = await scrape(lab, 'c', 'b');
    t.equal(mb.value('vrrpd_instance_state', { instance: 'VI_1', state: 'BACKUP' }), 1, 'b: BACKUP');
    t.ok(mb.value('vrrpd_adverts_received_total', { instance: 'VI_1' }) >= 1, 'b hears a');

    // a quiet window, then the same window with a scraper on a at 20 scrapes a second
    const quietFrom = performance.timeOrigin + performance.now();
    await sleep(6000);
    const scrapeFrom = performance.timeOrigin + performance.now();
    const scraper = lab.spawn('c', [process.execPath, '-e', SCRAPER, `http://${lab.host('a').ip}:${PORT}/metrics`, '10000']);
    await scraper.waitFor(/"ok"/, 20_000);
    const scrapeTo = performance.timeOrigin + performance.now();
    const counts = JSON.parse(/\{.*\}/.exec(scraper.output)![0]) as { ok: number; bad: number };
    t.ok(counts.ok >= 150 && counts.bad === 0, `${counts.ok} scrapes answered in 10 s, ${counts.bad} failed`);

    await t.test('crash failover shows in the backup metrics', async (t) => {
      await a.proc.kill('SIGKILL', 3000);
      await waitState(b, 'MASTER', 6000);
      const m = await scrape(lab, 'c', 'b');
      t.equal(m.value('vrrpd_instance_state', { instance: 'VI_1', state: 'MASTER' }), 1);
      t.equal(m.value('vrrpd_transitions_total', { instance: 'VI_1', from: 'BACKUP', to: 'MASTER', cause: 'master_down' }), 1);
      t.equal(m.value('keepalived_become_master_total', { iname: 'VI_1' }), 1);
      t.equal(m.value('vrrpd_vip_present', { instance: 'VI_1', address: VIP }), 1, 'b holds the VIP');
    });

    const frames = (await cap.stop()).frames;
    const src = lab.host('a').ip;
    const quiet = deviations(frames, src, quietFrom, scrapeFrom);
    const scraped = deviations(frames, src, scrapeFrom, scrapeTo);
    const max = (xs: number[]): number => xs.reduce((m, x) => Math.max(m, x), 0);
    t.comment(
      `advert interval deviation from 1 s: quiet max ${max(quiet).toFixed(2)} ms (${quiet.length}), scraped max ${max(scraped).toFixed(2)} ms (${scraped.length})`,
    );
    t.ok(scraped.length >= 8, `${scraped.length} advert intervals while scraped`);
    t.ok(
      max(scraped) <= SCRAPED_JITTER_MAX_MS,
      `every interval within ${SCRAPED_JITTER_MAX_MS} ms of 1 s while scraped (max ${max(scraped).toFixed(2)} ms)`,
    );
  },
);
