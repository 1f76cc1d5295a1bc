import { Injectable } from '@nestjs/common';
import { LogPullExecutor } from './log-pull.executor';
import { OperationExecutor, OperationSpec } from './operation-executor';
import { SingleCommandExecutor, wireCommandOf } from './single-command.executor';
import { UserListExecutor } from './user-list.executor';

/** Picks the executor of an operation type: paged types have their own, every other command is one exchange. */
@Injectable()
export class OperationExecutors {
  private readonly byType: ReadonlyMap<string, OperationExecutor>;

  constructor(
    private readonly single: SingleCommandExecutor,
    userList: UserListExecutor,
    logPull: LogPullExecutor,
  ) {
    this.byType = new Map<string, OperationExecutor>([
      ['getuserlist', userList],
      ['getnewlog', logPull],
      ['getalllog', logPull],
    ]);
  }

  forOperation(spec: Pick<OperationSpec, 'type' | 'wireCmd'>): OperationExecutor {
    // An explicit wire command is always a single exchange of that command.
    if (spec.wireCmd !== undefined) return this.single;
    return this.byType.get(spec.type) ?? this.single;
  }

  /** Whether an operation of this type can be sent at all. */
  knows(type: string, wireCmd?: string): boolean {
    return wireCommandOf({ type, wireCmd }) !== undefined;
  }

  /** A problem with the payload (the operation would fail when sent), or undefined. */
  validate(spec: OperationSpec): string | undefined {
    return this.forOperation(spec).validate(spec);
  }
}
