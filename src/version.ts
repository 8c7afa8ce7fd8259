/** The daemon's version, reported by `vrrpd --version` and `vrrpd status`. */
export const VERSION = '0.1.0';
