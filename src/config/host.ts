/**
 * What the config loader needs from the machine. The loader itself is pure; `nodeConfigHost()` in
 * src/host/config-host.ts gives the real one (outside this folder: config imports no Node I/O),
 * tests give in-memory ones.
 */
import type { ScriptFs } from './script-check.js';
import type { UserDb } from './script-user.js';

export interface FileStat {
  readonly isFile: boolean;
  /** Any x bit set (keepalived skips executable config files). */
  readonly executable: boolean;
}

export interface InterfaceFacts {
  readonly name: string;
  readonly loopback: boolean;
  readonly multicast: boolean;
}

/** Bounds a glob must keep to (the reader counts brace alternatives itself before it asks). */
export interface GlobLimits {
  /** Brace alternatives of the pattern (LoadLimits.maxBraceAlternatives). */
  readonly maxAlternatives: number;
  /**
   * What is left of the load's budget of directory entries (LoadLimits.maxGlobEntries): the host
   * takes one for each entry it examines and each literal path it looks up, and stops at zero.
   */
  readonly budget: { entries: number };
}

/** A glob that stopped at a bound: which one (a LoadLimits key). */
export interface GlobOverflow {
  readonly overflow: 'maxBraceAlternatives' | 'maxGlobEntries';
}

export interface ReadOptions {
  /**
   * Read at most this many bytes; a longer file gives exactly `maxBytes + 1` (so the caller sees it
   * is over its budget without the host holding the rest).
   */
  readonly maxBytes?: number;
  /**
   * Only a regular file (includes; the daemon's main file): anything else (a FIFO, a device) gives
   * undefined. Without it such a file is read too (`check -f /dev/stdin`), never by a read that blocks.
   */
  readonly regularOnly?: boolean;
}

export interface ConfigHost {
  /** File bytes, or undefined when it cannot be read. */
  readFile(path: string, opts?: ReadOptions): Uint8Array | undefined;
  /**
   * glob(3) with GLOB_BRACE, relative patterns resolved against `cwd`: each brace alternative's
   * matches sorted, in alternative order; [] when nothing matches; a GlobOverflow at a bound.
   */
  glob(pattern: string, cwd: string, limits?: GlobLimits): readonly string[] | GlobOverflow;
  /** realpath(3): the file's canonical path (include cycles are found by it); undefined when it fails. */
  realPath?(path: string): string | undefined;
  stat(path: string): FileStat | undefined;
  /** Interfaces of the running host; undefined = don't check (pure parsing, e.g. YAML generation). */
  interfaces?(): ReadonlyMap<string, InterfaceFacts> | undefined;
  /**
   * The file system scripts are checked against (keepalived's check_script_secure(), see
   * script-check.ts); absent = scripts are not checked (`--no-host-checks`, pure parsing).
   */
  readonly scriptFs?: ScriptFs;
  /**
   * The user database script users are looked up in (script-user.ts); absent = users are not
   * checked and every name is taken as valid.
   */
  readonly users?: UserDb;
  /** The working directory relative paths are resolved against (`${_PWD}` is absolute in keepalived). */
  cwd?(): string;
  /** keepalived's config id (`-i`), default: host name up to the first dot. */
  readonly configId?: string;
  /** Seed for ${_RANDOM}; deterministic when given. */
  readonly randomSeed?: number;
}
