import { Injectable } from '@nestjs/common';
import type { PageWindow, Slice } from '@app/common';
import { DevicesService } from './devices.service';
import { DoorEventRecord, DoorEventsRepository } from './door-events.repository';
import { DeviceUserView, StoredUsersService } from './stored-users/stored-users.service';
import { RejectedLogView, TerminalFieldService } from './terminal-field.service';

/**
 * The per-terminal listings of the devices API (door events, stored users, rejected log records):
 * each is `null` when no terminal has registered with this serial, so the route can answer 404.
 */
@Injectable()
export class TerminalRecordsService {
  constructor(
    private readonly devices: DevicesService,
    private readonly doorEvents: DoorEventsRepository,
    private readonly storedUsers: StoredUsersService,
    private readonly field: TerminalFieldService,
  ) {}

  async doorEventsOf(sn: string, window: PageWindow): Promise<Slice<DoorEventRecord> | null> {
    if (!(await this.isKnown(sn))) return null;
    return this.doorEvents.listBySn(sn, window.skip, window.limit);
  }

  async storedUsersOf(sn: string, window: PageWindow): Promise<Slice<DeviceUserView> | null> {
    if (!(await this.isKnown(sn))) return null;
    return this.storedUsers.page(sn, window.skip, window.limit);
  }

  async rejectedLogsOf(sn: string, window: PageWindow): Promise<Slice<RejectedLogView> | null> {
    if (!(await this.isKnown(sn))) return null;
    return this.field.rejectedPage(sn, window.page, window.limit);
  }

  private async isKnown(sn: string): Promise<boolean> {
    return (await this.devices.findRecord(sn)) !== null;
  }
}
