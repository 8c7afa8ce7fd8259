/**
 * The real track_file port (runtime/ports/files.ts TrackFileIo): reads with node's fs, writes
 * init_file values through the safe writer, watches the file's directory with a slow poll behind.
 */
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { TimerHandle } from '../runtime/ports/clock.js';
import type { TrackFileIo } from '../runtime/ports/files.js';
import { replaceFileSync } from '../util/safe-file.js';

/**
 * Mode of a track_file the daemon initialises (init_file): 0644 as vrrpd always wrote it (the
 * unit's umask 022); keepalived's umask 0177 gives 0600.
 */
export const TRACK_FILE_MODE = 0o644;

/** How often a watched track_file is re-read anyway (ms), in case its directory cannot be watched. */
export const TRACK_FILE_POLL_MS = 2000;

export function nodeTrackFiles(): TrackFileIo {
  return {
    read: (p) => {
      try {
        return readFileSync(p, 'utf8');
      } catch {
        return undefined;
      }
    },
    // init_file: replaced through the safe writer, as keepalived's fopen_safe() replaces it
    // (temp + rename), so a link planted at the name is never followed. No fsync: the value is
    // written again at every start, and this runs on the event loop (start and reload).
    write: (p, c) => {
      const r = replaceFileSync(p, c, { mode: TRACK_FILE_MODE, fsync: false });
      if (!r.ok) throw new Error(r.error);
    },
    watch: (p, cb): TimerHandle => {
      // Watch the directory (the file may not exist yet, or be replaced by rename), plus a slow
      // poll in case the directory itself is not watchable.
      let w: FSWatcher | undefined;
      try {
        w = watch(dirname(p), { persistent: false }, (_ev, name) => {
          if (name === null || name === basename(p)) cb();
        });
        w.on('error', () => {});
      } catch {
        w = undefined;
      }
      const poll = setInterval(cb, TRACK_FILE_POLL_MS);
      poll.unref();
      return {
        cancel: () => {
          w?.close();
          clearInterval(poll);
        },
      };
    },
  };
}
