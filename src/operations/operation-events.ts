import { Injectable } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import { OperationRecord } from './operation.view';

export interface OperationEventMap {
  /** An operation reached success, failed or canceled (as written by this instance). */
  finished: [OperationRecord];
  /** A terminal has an operation that may be sent now. */
  ready: [string];
}

/** In-process notifications between the queue's parts; the database stays the source of truth. */
@Injectable()
export class OperationEvents extends EventEmitter<OperationEventMap> {
  constructor() {
    super();
    // Every waiting HTTP request listens for a moment.
    this.setMaxListeners(0);
  }
}
