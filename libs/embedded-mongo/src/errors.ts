import type { Doc } from './values';

/** An error answered to the client as `{ ok: 0, code, codeName, errmsg, ...extra }`. */
export class CommandError extends Error {
  constructor(
    readonly code: number,
    readonly codeName: string,
    message: string,
    readonly extra: Doc = {},
  ) {
    super(message);
  }

  toReply(): Doc {
    return { ok: 0, errmsg: this.message, code: this.code, codeName: this.codeName, ...this.extra };
  }

  /** The shape of one entry of `writeErrors`. */
  toWriteError(index: number): Doc {
    return { index, code: this.code, errmsg: this.message, ...this.extra };
  }
}

export const badValue = (msg: string): CommandError => new CommandError(2, 'BadValue', msg);
export const failedToParse = (msg: string): CommandError => new CommandError(9, 'FailedToParse', msg);
export const typeMismatch = (msg: string): CommandError => new CommandError(14, 'TypeMismatch', msg);
export const notFound = (ns: string): CommandError =>
  new CommandError(26, 'NamespaceNotFound', `ns does not exist: ${ns}`);
export const invalidNamespace = (msg: string): CommandError => new CommandError(73, 'InvalidNamespace', msg);

/** Wraps anything thrown by the query engine into a clean client error. */
export function toCommandError(e: unknown): CommandError {
  if (e instanceof CommandError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  return badValue(msg);
}
