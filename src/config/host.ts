/**
 * What the config loader needs from the machine. The loader itself is pure; `nodeConfigHost()` in
 * host-node.ts gives the real one, tests give in-memory ones.
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

export interface ConfigHost {
  /** File bytes, or undefined when it cannot be read. */
  readFile(path: string): Uint8Array | undefined;
  /** glob(3) with GLOB_BRACE, relative patterns resolved against `cwd`; sorted; [] when nothing matches. */
  glob(pattern: string, cwd: string): string[];
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
