import { ObjectId, type Document } from 'mongodb';

/** What varies between the benchmarks' seeded operations; the rest is the product's stored shape. */
export interface SeededOperation {
  sn: string;
  type: string;
  status: string;
  enrollid: number;
  name: string;
  /** `ret` of the terminal's answer stored with a successful operation. */
  ret: string;
  createdAt: Date;
}

/**
 * An operation as the product stores it: pending ones parked far ahead (the dispatcher leaves them
 * alone), finished ones sent and completed 150 ms after they were asked.
 */
export function seededOperation(op: SeededOperation): Document {
  const { createdAt, status } = op;
  const finished = status !== 'pending';
  return {
    _id: new ObjectId(),
    sn: op.sn,
    type: op.type,
    payload: { enrollid: op.enrollid, name: op.name, backupnum: 0 },
    ...(status === 'success' ? { response: { ret: op.ret, result: true } } : {}),
    status,
    attemptCount: finished ? 1 : 0,
    maxAttempts: 5,
    ...(status === 'failed' ? { lastError: 'terminal answered result:false (reason 1)' } : {}),
    nextAttemptAt: status === 'pending' ? new Date(Date.UTC(2099, 0, 1)) : createdAt,
    ...(finished ? { sentAt: createdAt, completedAt: new Date(createdAt.getTime() + 150) } : {}),
    dependsOn: [],
    depsPending: false,
    requestedBy: '000000000000000000000001',
    createdAt,
    updatedAt: createdAt,
  };
}
