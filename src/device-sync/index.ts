export { DeviceSyncModule } from './device-sync.module';
