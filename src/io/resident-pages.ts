/**
 * Hand back the clean pages of read-only file mappings (issue 16, resident memory).
 *
 * Why: most of a Node process's resident set is not its own memory but pages of the node binary
 * (and of libstdc++, libc, the native addons) that it has read: the whole of V8, the bootstrap,
 * the parser and both compilers are touched while the daemon starts and the config loader's thread
 * boots, and those pages stay mapped for the life of the process although a running daemon uses a
 * fraction of them (BENCHMARKS.md, "Resident memory": 40 MiB of /usr/bin/node resident in a daemon
 * with one instance, 11-15 MiB of it back in use a minute after a drop). keepalived's VRRP child has the same
 * property by construction: it is forked, and maps only the file pages it touches after the fork.
 *
 * How: madvise(MADV_DONTNEED) on each private, non-writable mapping of a regular file that holds no
 * anonymous (copy-on-write) page, read from /proc/self/smaps. Such a page is the file's content: the
 * kernel unmaps it, keeps it in the page cache (other Node processes share it), and maps it again on
 * the next access (a minor fault). A mapping that was ever written (relocations, RELRO) holds
 * anonymous pages and is left alone: dropping those would lose the writes. This lowers VmRSS
 * (RssFile), not what the host's memory holds: the page cache is the kernel's to reclaim anyway.
 */
import { readFileSync } from 'node:fs';
import { lazyLibc } from '../util/libc.js';

const MADV_DONTNEED = 4;

export interface FileMapping {
  readonly start: bigint;
  readonly end: bigint;
  /** Resident KiB when read. */
  readonly rssKiB: number;
}

interface Header {
  start: bigint;
  end: bigint;
  ok: boolean;
  rss: number;
  anon: number;
}

/** The mappings of `smaps` (the text of /proc/PID/smaps) whose resident pages can be dropped safely. */
export function droppableMappings(smaps: string): FileMapping[] {
  const out: FileMapping[] = [];
  let cur: Header | undefined;
  const flush = (): void => {
    if (cur?.ok === true && cur.anon === 0 && cur.rss > 0) out.push({ start: cur.start, end: cur.end, rssKiB: cur.rss });
  };
  for (const line of smaps.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) ([-rwxsp]{4}) [0-9a-f]+ [0-9a-f]+:[0-9a-f]+ (\d+)\s*(.*)$/.exec(line);
    if (m) {
      flush();
      const perms = m[3]!;
      const path = m[5]!;
      // private, not writable, a regular file (not a device, a memfd, [vdso] or anonymous memory)
      const ok =
        perms[1] === '-' &&
        perms[3] === 'p' &&
        m[4] !== '0' &&
        path.startsWith('/') &&
        !path.startsWith('/dev/') &&
        !path.startsWith('/memfd:');
      cur = { start: BigInt(`0x${m[1]!}`), end: BigInt(`0x${m[2]!}`), ok, rss: 0, anon: 0 };
      continue;
    }
    if (cur === undefined) continue;
    const f = /^(Rss|Anonymous|Private_Dirty|Locked):\s+(\d+) kB/.exec(line);
    if (f === null) continue;
    const kib = Number(f[2]);
    if (f[1] === 'Rss') cur.rss = kib;
    // a written page (copy on write) or a locked one: the whole mapping stays
    else if (kib > 0) cur.anon += kib;
  }
  flush();
  return out;
}

export interface DropResult {
  readonly mappings: number;
  /** Resident KiB of the mappings handed back (what VmRSS loses at once). */
  readonly kib: number;
}

type Madvise = (addr: bigint, len: number, advice: number) => number;
const loadMadvise = lazyLibc<Madvise>(({ lib }) => lib.func('int madvise(uintptr_t addr, size_t len, int advice)') as Madvise);

/**
 * Drop this process's clean file pages (above). Null when it cannot (no koffi, off the main thread,
 * no /proc): nothing was changed. Takes ~3 ms; the pages the process still uses come back on use.
 */
export function dropCleanFilePages(): DropResult | null {
  const advise = loadMadvise();
  if (advise === null) return null;
  let text: string;
  try {
    text = readFileSync('/proc/self/smaps', 'utf8');
  } catch {
    return null;
  }
  let mappings = 0;
  let kib = 0;
  for (const m of droppableMappings(text)) {
    if (advise(m.start, Number(m.end - m.start), MADV_DONTNEED) !== 0) continue;
    mappings++;
    kib += m.rssKiB;
  }
  return { mappings, kib };
}

type MallocTrim = (pad: number) => number;
const loadMallocTrim = lazyLibc<MallocTrim>(({ lib }) => lib.func('int malloc_trim(size_t pad)') as MallocTrim);

/**
 * Hand malloc's free pages back to the kernel (glibc's malloc_trim(0): the free memory at the top
 * of each arena, and the whole free pages inside it). Why: the main arena's high-water mark only
 * rises. In two-hour soaks it stepped up by 0.25-0.5 MiB at a time after the first hour, in free
 * memory that a long-lived allocation above it kept from shrinking; with a trim after each periodic
 * collection it stayed within 3.7-5.4 MiB where it reached 6.3 without (BENCHMARKS.md, "Memory over
 * time"). True when memory was released, null when it cannot be called (no koffi, off the main
 * thread); well under a millisecond for the daemon's few MiB.
 */
export function trimMalloc(): boolean | null {
  const trim = loadMallocTrim();
  return trim === null ? null : trim(0) === 1;
}
