/**
 * The build check of the tests that run the built daemon (`dist/`, `bin/vrrpd`): they never build
 * it themselves, so a checkout whose build is missing, or older than `src/`, would test nothing or
 * old code. That is not a reason to skip (tap counts a skipped file as passed, and a local run would
 * look green): it fails the file. Missing privileges or tools stay skips, checked first.
 */
import { resolve } from 'node:path';
import t from 'tap';
import { builtDaemonUnavailable } from '../../src/cli/demo-lab.js';

const REPO_ROOT = resolve(import.meta.dirname, '../..');

/** Where the failure goes: tap's root test by default, a recorder in the check's own test. */
export interface FailSink {
  fail(message: string): unknown;
}

const failed = new Set<string>();

/**
 * For tap's `skip` option: false when the build in `root` is there and not older than `src/`.
 * Otherwise it fails the test file (once per root and process) with the reason and what to run,
 * and returns the reason, so that the test's body does not run against that build.
 */
export function requireBuild(root = REPO_ROOT, sink: FailSink = t): false | string {
  const why = builtDaemonUnavailable(root);
  if (why === false) return false;
  if (!failed.has(root)) {
    failed.add(root);
    sink.fail(`${why} (the tests run the built daemon; they never build it)`);
  }
  return why;
}
