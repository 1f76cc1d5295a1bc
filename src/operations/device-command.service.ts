import { Inject, Injectable } from '@nestjs/common';
import { ApiError } from '@app/common';
import { OperationExecutors } from './executors/operation-executors';
import { TERMINAL_DIRECTORY, TERMINAL_LINK, TerminalDirectory, TerminalLink } from './operation-ports';
import { OperationView } from './operation.view';
import { OperationWaitsService } from './operation-waits.service';
import { OperationsService } from './operations.service';

/** The generic command route's use case: any protocol command, checked, queued, optionally waited for. */
@Injectable()
export class DeviceCommandService {
  constructor(
    private readonly operations: OperationsService,
    private readonly waits: OperationWaitsService,
    private readonly executors: OperationExecutors,
    @Inject(TERMINAL_LINK) private readonly link: TerminalLink,
    @Inject(TERMINAL_DIRECTORY) private readonly terminals: TerminalDirectory,
  ) {}

  /**
   * `cmd` and `payload` are checked before anything is stored. With `wait`, like enqueueAndWait;
   * without, queued for any terminal that has registered once.
   */
  async submit(
    sn: string,
    cmd: string,
    payload: Record<string, unknown>,
    opts: { wait: boolean; requestedBy?: string },
  ): Promise<OperationView> {
    if (!this.executors.knows(cmd)) throw new ApiError(400, 'unknown_command', `"${cmd}" is not a terminal command`);
    const problem = this.executors.validate({ type: cmd, payload });
    if (problem) throw new ApiError(400, 'invalid_payload', problem);
    const requester = opts.requestedBy ? { requestedBy: opts.requestedBy } : {};
    if (opts.wait) return this.waits.enqueueAndWait(sn, cmd, payload, requester);
    if (!this.link.isConnected(sn) && !(await this.terminals.context(sn)).known) {
      throw new ApiError(404, 'device_not_found', `No terminal with sn ${sn} has registered`);
    }
    return this.operations.enqueue(sn, cmd, payload, requester);
  }
}
