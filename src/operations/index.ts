export { OperationsModule } from './operations.module';
export { OperationsService, type EnqueueOptions } from './operations.service';
export { OperationWaitsService } from './operation-waits.service';
export { ParentOperationsService } from './parent-operations.service';
export {
  OperationQueriesService,
  type ListOperationsQuery,
  type OperationPage,
  type OperationStats,
} from './operation-queries.service';
export { deviceOffline, deviceTimeout } from './operation-errors';
export { OperationEvents, type OperationEventMap } from './operation-events';
export { type OperationRecord, type OperationView } from './operation.view';
export { OperationStatus, OPERATION_STATUSES, FINISHED_STATUSES } from './schemas/operation.schema';
export { DEPENDENCY_FAILED } from './operation-dependencies';
export { OperationDrainService } from './operation-drain.service';
export { QueueStatsService, type QueueStats } from './queue-stats.service';
export { ParentReconciler } from './parent-reconciler';
export type { RosterRow } from './operation-ports';
export {
  credentialKey,
  unreadCredentials,
  userListResultOf,
  type UserListInfoFailure,
  type UserListResult,
} from './executors/user-list.result';
