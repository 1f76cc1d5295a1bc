import type { IpcMessage } from './procs';

type Handler = (payload: Record<string, unknown>) => Promise<unknown>;

/**
 * The child side of Proc.call: answers each request by type. The process exits when the parent
 * goes away, so a crashed run leaves nothing behind.
 */
export function serveIpc(handlers: Record<string, Handler>): void {
  if (!process.send) throw new Error('this script is started by the benchmark runner (IPC channel missing)');
  process.on('disconnect', () => process.exit(0));
  process.on('message', (m: IpcMessage & Record<string, unknown>) => {
    const handler = handlers[m.type];
    const reply = (r: IpcMessage) => {
      if (process.connected) process.send!(r);
    };
    if (!handler) {
      reply({ id: m.id, type: 'reply', ok: false, error: `unknown request '${m.type}'` });
      return;
    }
    handler(m).then(
      (result) => reply({ id: m.id, type: 'reply', ok: true, result }),
      (err: unknown) =>
        reply({ id: m.id, type: 'reply', ok: false, error: err instanceof Error ? err.stack : String(err) }),
    );
  });
}

let lastProgress = 0;

/** Progress from a child, at most a few times a second. */
export function childProgress(msg: string, force = false): void {
  const now = Date.now();
  if (!force && now - lastProgress < 250) return;
  lastProgress = now;
  if (process.connected) process.send!({ type: 'progress', msg });
}
