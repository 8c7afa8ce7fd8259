/**
 * The result of a host operation (DESIGN.md style 5): network and kernel failures are values
 * carrying errno and syscall, never exceptions. The runtime warns, then retries or goes to FAULT;
 * src/io builds these (io/io-error.ts), fakes build them by hand.
 */

export interface IoError {
  readonly kind: 'IoError';
  /** The failing call, e.g. `setsockopt(SO_BINDTODEVICE)`, `sendto`, `RTM_NEWADDR`. */
  readonly syscall: string;
  /** errno as a number when known (e.g. 19 for ENODEV). */
  readonly errno: number | undefined;
  /** Symbolic errno, e.g. `ENODEV`, when known. */
  readonly code: string | undefined;
  /** Human text (strerror or the library's message). */
  readonly message: string;
  /** Interface concerned, when there is one. */
  readonly ifname?: string | undefined;
}

export type IoResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: IoError };
