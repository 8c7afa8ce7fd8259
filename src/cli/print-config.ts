/**
 * The config printers of `vrrpd check --print`, in a module of their own so check.ts loads them (and
 * the yaml package) only when asked to print: a plain check does not pay for them.
 */
export { printKeepalived } from '../config/print.js';
export { toJson, toYaml } from '../config/yaml.js';
