export { DevicesModule } from './devices.module';
export {
  DeviceConnectionRegistry,
  type DeviceConnectionEvents,
  type TerminalDisconnectedEvent,
  type TerminalRegisteredEvent,
  type TerminalReplyEvent,
  type TerminalUserReceivedEvent,
} from './device-connection.registry';
export { DevicesService, type TerminalContext } from './devices.service';
export type { DeviceDetailView, DeviceView } from './device.view';
export {
  StoredUsersService,
  ALL_FINGERPRINTS_BACKUPNUM,
  WHOLE_USER_BACKUPNUM,
  type CredentialInput,
  type DeviceUserCredentialView,
  type DeviceUserView,
  type RosterRowInput,
  type UserInput,
} from './stored-users/stored-users.service';
export { TerminalLogsService, type IngestContext, type IngestResult, type LogSource } from './terminal-logs.service';
export { TerminalGateway } from './terminal.gateway';
export { TerminalFieldService } from './terminal-field.service';
export { DOOR_EVENTS, doorEventMeaning } from './door-events';
