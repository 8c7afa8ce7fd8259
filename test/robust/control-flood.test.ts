/**
 * Control-socket flood, CI form (issue 10 acceptance; bench/control-flood.ts, lab `vr-cft-`,
 * 10.237.21.0/24): a vrrpd MASTER and a vrrpd BACKUP with 10 instances (advert_int 1); on the
 * master's control socket, per round, one connection pipelining bursts of 10,000 `status`
 * requests and 1,000 connections that send nothing; three rounds of one burst each (20 s: the
 * socket answers 500 requests a second) after an 8 s quiet window.
 * The numbers are the acceptance's own; `npm run bench` has a longer quiet window.
 * Asserted: no takeover on the backup (its state and counters, and no advert of its own on the
 * wire), the master never left MASTER, its RSS bounded and not climbing from round to round,
 * every advert there and the advert jitter p99 under a CI bound (50 ms beside the rest of the
 * suite on 2 cores, as the scale test does; the 5 ms goal is measured by the bench on a quiet
 * machine and recorded in BENCHMARKS.md), every burst of 10,000 answered, the excess connections
 * refused with a line, and the idle ones closed by the daemon's idle timeout within the round.
 */
import t from 'tap';
import { netnsSkip } from '../support/netns.js';
import { requireBuild } from '../daemon/helpers.js';
import { floodSummary, floodTable, rssBounded, runFlood, RSS_GROWTH_MIB, RSS_LEVEL_MIB } from '../../bench/control-flood.js';

/** A quarter of the advert interval: far below the seconds-long stalls of an unbounded control socket. */
const FLOOD_JITTER_P99_MAX_MS = 250;

t.test(
  '10,000 pipelined status requests and 1,000 idle connections on the master',
  { skip: netnsSkip() || requireBuild(), timeout: 240_000 },
  async (t) => {
    const r = await runFlood({
      instances: 10,
      requests: 10_000,
      idle: 1000,
      quietS: 8,
      floodS: 15,
      rounds: 3,
      prefix: 'vr-cft-',
      subnet: '10.237.21',
      log: (s) => t.comment(s.slice(0, 300)),
    });
    t.comment(`\n${floodTable(r)}\n${floodSummary(r)}`);
    t.equal(r.backup.becameMasterDelta, 0, 'the backup never became MASTER (counter)');
    t.same(r.backup.statesSeen, ['BACKUP'], 'the backup was BACKUP at every poll');
    t.equal(r.flood.backupAdverts, 0, 'no advert from the backup on the wire');
    t.equal(r.master.releasedMasterDelta, 0, 'the master never left MASTER');
    t.ok(r.master.running, 'the master is still running');
    t.equal(r.flood.jitter.missed, 0, 'no advert missing during the flood');
    t.ok(r.flood.jitter.intervals >= 180, `${r.flood.jitter.intervals} advert intervals measured under the flood`);
    // The bound tells the two designs apart on a busy machine too: before the fix the flood held the
    // event loop for seconds (p50 993 ms, p99 998 ms, 270 adverts missing); a shared CI machine
    // adds tens of ms to the quiet figure itself (22.8 ms quiet, 94.2 ms flood, seen at load 6).
    // The 5 ms goal is the benchmark's, on a quiet machine (BENCHMARKS.md).
    t.ok(
      r.flood.jitter.p99 <= FLOOD_JITTER_P99_MAX_MS,
      `advert jitter p99 under the flood ${r.flood.jitter.p99.toFixed(2)} ms <= ${FLOOD_JITTER_P99_MAX_MS} ms (quiet: ${r.quiet.jitter.p99.toFixed(2)} ms; bench goal 5 ms on a quiet machine)`,
    );
    t.ok(
      rssBounded(r),
      `RSS bounded: before ${r.rssMiB.before.toFixed(1)} MiB, peaks ${r.rssMiB.peakPerRound.map((x) => x.toFixed(1)).join(' / ')} MiB (< +${RSS_GROWTH_MIB} MiB), last round's peak within ${RSS_LEVEL_MIB} MiB of the first's (median per round ${r.rssMiB.medianPerRound.map((x) => x.toFixed(1)).join(' / ')} MiB)`,
    );
    t.ok(r.flood.bursts >= 3 && r.flood.replies >= 30_000, `${r.flood.replies} replies in ${r.flood.bursts} bursts of 10,000`);
    t.equal(r.flood.errorReplies, 0, 'every reply a status');
    t.equal(r.flood.floodConnectionLost, null, 'the flood connection was served to the end');
    t.ok(
      r.flood.idleConnected - r.flood.idleRefused <= 3 * 32,
      `of 3 x 1,000 idle connections ${r.flood.idleConnected} connected, ${r.flood.idleRefused} of them refused with a line: at most 32 per round kept (MAX_CONNECTIONS, one taken by the flood); ${r.flood.idleConnectErrors} failed to connect (listen backlog)`,
    );
    t.ok(r.flood.idleRefused >= 2500, 'most refused with a line');
    t.match(r.flood.idleRefusal ?? '', /too many connections \(32 open, MAX_CONNECTIONS\)/);
    t.equal(r.flood.idleOpenAtEnd, 0, 'the accepted idle connections were closed by the idle timeout (10 s) within the round');
  },
);
