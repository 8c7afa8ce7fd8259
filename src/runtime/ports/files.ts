/**
 * Files and users as the runtime needs them: track_file reads and watches, the one safe writer
 * every file the runtime writes goes through (DESIGN.md style 11: never follows a link), and the
 * ids a script runs as (for the SIGUSR1 dump).
 */
import type { TimerHandle } from './clock.js';

/** The bits of the file system track_file needs. */
export interface TrackFileIo {
  /** The file's text, or undefined when it cannot be read. */
  read(path: string): string | undefined;
  /** Write `content` through the safe writer; throws an Error saying why it failed. */
  write(path: string, content: string): void;
  /** Call `cb` whenever `path` may have changed (created, written, replaced, removed). */
  watch(path: string, cb: () => void): TimerHandle;
}

export type WriteResult = { readonly ok: true } | { readonly ok: false; readonly error: string; readonly code: string };

/** Replaces files whole, never through a planted link (util/safe-file.ts behind it). */
export interface FileWriter {
  /** Write `content` to a random temp name beside `path` and rename it over `path`, with `mode`. */
  replace(path: string, content: string, mode: number): Promise<WriteResult>;
}

/**
 * The numeric ids a script of `user`/`group` runs as, with the config's defaults applied by the
 * caller (null = the default script user); the daemon's own ids when the default user does not
 * exist.
 */
export type IdResolver = (user: string | null, group: string | null) => { readonly uid: number; readonly gid: number };
