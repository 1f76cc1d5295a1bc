import { SERVER_COMMANDS } from '@app/device-protocol';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { embeddedDatabaseMemory } from '../database/embedded-database';

/**
 * The process's metric families, created once (several Nest apps in one test process share them;
 * a real deployment runs one app per process). Values that live in the database are refreshed at
 * scrape time by MetricsService; everything else is counted where it happens, through hooks.ts.
 */
export const registry = new Registry();

// Event-loop lag, heap, GC, CPU, open handles: prom-client's standard process families.
collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 20 });

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export const families = {
  terminalSockets: new Gauge({
    name: 'timmy_terminal_sockets',
    help: 'Open terminal WebSocket connections on this instance (registered or not)',
    registers: [registry],
  }),
  terminalsOnline: new Gauge({
    name: 'timmy_terminals_online',
    help: 'Terminals registered on this instance and ready for commands',
    registers: [registry],
  }),
  framesIn: new Counter({
    name: 'timmy_terminal_frames_received_total',
    help: 'Frames received from terminals, by cmd (requests) or ret (replies); unknown names count as "other"',
    labelNames: ['cmd'],
    registers: [registry],
  }),
  framesOut: new Counter({
    name: 'timmy_terminal_frames_sent_total',
    help: 'Frames sent to terminals, by cmd (commands) or ret (answers to their requests)',
    labelNames: ['cmd'],
    registers: [registry],
  }),
  punches: new Counter({
    name: 'timmy_punches_total',
    help: 'Attendance records received, by source and outcome (stored, duplicate, rejected)',
    labelNames: ['source', 'outcome'],
    registers: [registry],
  }),
  terminalAck: new Histogram({
    name: 'timmy_terminal_ack_seconds',
    help: 'From a terminal request frame (sendlog, senduser, reg...) arriving to its answer being sent, queueing included',
    labelNames: ['cmd'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  }),
  operations: new Gauge({
    name: 'timmy_operations',
    help: 'Operations stored, by status and type (read from the database, at most every METRICS_DB_REFRESH)',
    labelNames: ['status', 'type'],
    registers: [registry],
  }),
  operationsFinished: new Counter({
    name: 'timmy_operations_finished_total',
    help: 'Operations this instance finished, by type and final status',
    labelNames: ['type', 'status'],
    registers: [registry],
  }),
  queueDepth: new Gauge({
    name: 'timmy_operation_queue_depth',
    help: 'Pending operations (all terminals, all instances)',
    registers: [registry],
  }),
  queueOldest: new Gauge({
    name: 'timmy_operation_queue_oldest_pending_seconds',
    help: 'Age of the oldest pending operation (0 when none)',
    registers: [registry],
  }),
  dispatch: new Histogram({
    name: 'timmy_operation_dispatch_seconds',
    help: 'From an operation being due (created, or its retry backoff ended) to this instance claiming it for sending',
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  }),
  forwardBacklog: new Gauge({
    name: 'timmy_forward_backlog',
    help: 'Punches not yet confirmed by the HR server',
    registers: [registry],
  }),
  forwardBacklogOldest: new Gauge({
    name: 'timmy_forward_backlog_oldest_seconds',
    help: 'Age of the oldest punch not yet confirmed by the HR server (0 when none)',
    registers: [registry],
  }),
  forwardAttempts: new Counter({
    name: 'timmy_forward_attempts_total',
    help: 'Requests to the HR server, by target (log, fingerprint) and outcome (delivered, refused, error, not_configured)',
    labelNames: ['target', 'outcome'],
    registers: [registry],
  }),
  httpDuration: new Histogram({
    name: 'timmy_http_request_duration_seconds',
    help: 'HTTP requests, by method, route pattern and status',
    labelNames: ['method', 'route', 'status'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  }),
  journalFsync: new Histogram({
    name: 'timmy_embedded_journal_fsync_seconds',
    help: 'fsync of the embedded database journal (in-process embedded database only)',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [registry],
  }),
  journalBytes: new Gauge({
    name: 'timmy_embedded_journal_bytes',
    help: 'Size of the embedded database journal since its last compaction (in-process embedded database only)',
    registers: [registry],
  }),
  terminalConnections: new Gauge({
    name: 'timmy_terminal_connections',
    help: 'Gateway admission: connections accepted since start, shed at once with close 1013 (too many still registering), and accepted but not registered yet',
    labelNames: ['state'] as const,
    registers: [registry],
  }),
  punchFramesWaiting: new Gauge({
    name: 'timmy_punch_frames_waiting',
    help: 'Terminal frames whose punches wait for their turn to be stored (PUNCH_STORE_CONCURRENCY)',
    registers: [registry],
  }),
  embeddedMemoryRatio: new Gauge({
    name: 'timmy_embedded_memory_ratio',
    help: 'Share of its memory budget the in-process embedded database uses (warns at 0.8, refuses writes at 0.95)',
    registers: [registry],
    collect() {
      const status = embeddedDatabaseMemory();
      if (status) this.set(status.ratio);
    },
  }),
  embeddedMemoryBytes: new Gauge({
    name: 'timmy_embedded_memory_bytes',
    help: 'Memory of the in-process embedded database: used, and its budget (EMBEDDED_DB_MAX_MEMORY)',
    labelNames: ['kind'] as const,
    registers: [registry],
    collect() {
      const status = embeddedDatabaseMemory();
      if (!status) return;
      this.set({ kind: 'used' }, status.usedBytes);
      this.set({ kind: 'limit' }, status.limitBytes);
    },
  }),
  embeddedWritesRefused: new Gauge({
    name: 'timmy_embedded_writes_refused',
    help: 'Writes the in-process embedded database refused for lack of memory since the process started',
    registers: [registry],
    collect() {
      const status = embeddedDatabaseMemory();
      if (status) this.set(status.refusedWrites);
    },
  }),
};

const KNOWN_FRAME_NAMES = new Set<string>([
  'reg',
  'sendlog',
  'senduser',
  'sendqrcode',
  'invalid',
  ...(SERVER_COMMANDS as readonly string[]),
]);

/** Frame names come from terminals: only known ones become labels, so a terminal cannot grow the series. */
export function frameLabel(name: unknown): string {
  return typeof name === 'string' && KNOWN_FRAME_NAMES.has(name) ? name : 'other';
}
