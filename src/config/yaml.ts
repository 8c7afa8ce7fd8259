/**
 * The model as YAML or JSON, both ways, so configuration tools can generate vrrpd configs.
 * Reading fills omitted keys with keepalived's defaults and rejects unknown keys and wrong types
 * with the path of the offending value. keepalived text -> model -> YAML -> model is lossless.
 */
import { parse, stringify } from 'yaml';
import {
  defaultGlobalDefs,
  defaultInstance,
  deepFreeze,
  type Config,
  type DeepReadonly,
  type FrozenConfig,
  type VrrpInstance,
} from './model.js';

export function toYaml(c: DeepReadonly<Config>): string {
  return stringify(c, { lineWidth: 0 });
}

export function toJson(c: DeepReadonly<Config>): string {
  return JSON.stringify(c, null, 2);
}

export class ModelError extends Error {}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Check `v` against the shape of `proto` (same JSON type; null allowed where proto is null). */
function conform(v: unknown, proto: unknown, at: string, loose: Set<string>): void {
  if (proto === null || loose.has(at.replace(/\[\d+\]/g, '[]'))) return;
  if (Array.isArray(proto)) {
    if (!Array.isArray(v)) throw new ModelError(`${at}: expected a list`);
    return;
  }
  if (typeof proto === 'object') {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ModelError(`${at}: expected a mapping`);
    for (const k of Object.keys(v)) {
      if (!(k in proto)) throw new ModelError(`${at}.${k}: unknown key`);
      conform((v as Record<string, unknown>)[k], (proto as Record<string, unknown>)[k], `${at}.${k}`, loose);
    }
    return;
  }
  if (typeof v !== typeof proto) throw new ModelError(`${at}: expected ${typeof proto}, got ${v === null ? 'null' : typeof v}`);
}

const LOOSE = new Set(['$.instances[].notify', '$.syncGroups[].notify']);

/** Build a model from parsed YAML/JSON data. Throws ModelError naming the path of a bad value. */
export function modelFromData(data: unknown): FrozenConfig {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new ModelError('$: expected a mapping');
  const d = data as Record<string, Json>;
  const known = [
    'file',
    'files',
    'global',
    'instances',
    'scripts',
    'trackFiles',
    'trackProcesses',
    'syncGroups',
    'staticIpaddress',
    'staticRoutes',
    'staticRules',
  ];
  for (const k of Object.keys(d)) if (!known.includes(k)) throw new ModelError(`$.${k}: unknown key`);
  const global = { ...defaultGlobalDefs(), ...((d.global as object) ?? {}) };
  conform(global, defaultGlobalDefs(), '$.global', LOOSE);
  if (d.instances !== undefined && d.instances !== null && !Array.isArray(d.instances))
    throw new ModelError('$.instances: expected a list');
  const instances = ((d.instances as Json[]) ?? []).map((raw, n) => {
    const r = raw as Record<string, Json>;
    if (typeof r !== 'object' || r === null || Array.isArray(r) || typeof r.name !== 'string')
      throw new ModelError(`$.instances[${n}].name: expected string`);
    const base = defaultInstance(r.name, global, { file: '', line: 0 });
    const inst: VrrpInstance = { ...base, ...(r as object) };
    conform(inst, base, `$.instances[${n}]`, LOOSE);
    if (!Number.isInteger(inst.virtualRouterId) || inst.virtualRouterId < 1 || inst.virtualRouterId > 255)
      throw new ModelError(`$.instances[${n}].virtualRouterId: must be 1..255`);
    if (!Number.isInteger(inst.priority) || inst.priority < 1 || inst.priority > 255)
      throw new ModelError(`$.instances[${n}].priority: must be 1..255`);
    return inst;
  });
  const list = (k: string): unknown[] => {
    const v = d[k];
    if (v === undefined) return [];
    if (!Array.isArray(v)) throw new ModelError(`$.${k}: expected a list`);
    return v;
  };
  const c: Config = {
    file: typeof d.file === 'string' ? d.file : '',
    files: list('files') as string[],
    global,
    instances,
    scripts: list('scripts') as Config['scripts'],
    trackFiles: list('trackFiles') as Config['trackFiles'],
    trackProcesses: list('trackProcesses') as Config['trackProcesses'],
    syncGroups: list('syncGroups') as Config['syncGroups'],
    staticIpaddress: list('staticIpaddress') as Config['staticIpaddress'],
    staticRoutes: list('staticRoutes') as Config['staticRoutes'],
    staticRules: list('staticRules') as Config['staticRules'],
  };
  return deepFreeze(c);
}

export function fromYaml(text: string): FrozenConfig {
  return modelFromData(parse(text));
}
