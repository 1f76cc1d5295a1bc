import { AsyncLocalStorage } from 'node:async_hooks';

export type LogFields = Record<string, string | number | undefined>;

interface Scope {
  /** Read when a line is written, so that a terminal's sn learnt later (at `reg`) still shows. */
  fields: () => LogFields;
  parent: Scope | undefined;
}

const scopes = new AsyncLocalStorage<Scope>();

/**
 * Runs `fn` so that every log line written inside it, synchronously or after an await, carries
 * `fields` (the terminal's `sn`, the operation's `opId`). Scopes nest: inner fields win.
 */
export function withLogFields<T>(fields: LogFields | (() => LogFields), fn: () => T): T {
  const read = typeof fields === 'function' ? fields : () => fields;
  return scopes.run({ fields: read, parent: scopes.getStore() }, fn);
}

/** The fields of the current scope (the root logger's mixin adds them to each line). */
export function currentLogFields(): LogFields {
  let scope = scopes.getStore();
  if (!scope) return {};
  const chain: Scope[] = [];
  for (; scope; scope = scope.parent) chain.push(scope);
  const out: LogFields = {};
  for (let i = chain.length - 1; i >= 0; i--) {
    for (const [key, value] of Object.entries(chain[i].fields())) if (value !== undefined) out[key] = value;
  }
  return out;
}
