export { DeviceGroupsModule } from './device-groups.module';
export { RosterReaderService, type RosterRead } from './roster-reader.service';
export { GroupPropagationService, PROPAGATION_TYPE, PROPAGATION_REQUESTER } from './group-propagation.service';
export * from './roster-compare';
