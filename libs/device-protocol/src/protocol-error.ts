/** Thrown by the strict builders when a payload cannot be turned into a valid frame. */
export class ProtocolError extends Error {
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}
