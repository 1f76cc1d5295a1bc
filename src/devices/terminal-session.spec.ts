import { Logger } from '@nestjs/common';
import { WebSocket } from 'ws';
import { FrameRateLimiter } from './frame-rate-limiter';
import { TerminalSession } from './terminal-session';

/** A socket stand-in: records how it was ended. */
function fakeSocket() {
  return {
    readyState: WebSocket.OPEN as number,
    bufferedAmount: 0,
    closed: undefined as { code: number; text: string } | undefined,
    terminated: false,
    close(code: number, text: string) {
      this.closed = { code, text };
    },
    terminate() {
      this.terminated = true;
      this.readyState = WebSocket.CLOSED;
    },
    send: jest.fn(),
    ping: jest.fn(),
    once: jest.fn(),
    off: jest.fn(),
  };
}

function session(ws = fakeSocket()) {
  const limiter = new FrameRateLimiter({ ratePerSecond: 10, windowMs: 1000, floodDrops: 5 });
  const logger = { log: jest.fn(), warn: jest.fn(), error: jest.fn() } as unknown as Logger;
  return { ws, s: new TerminalSession(ws as unknown as WebSocket, '10.0.0.9', '/pub/chat', limiter, logger) };
}

describe('TerminalSession state (changed only through its methods)', () => {
  it('binds a serial once: a socket never changes terminal', () => {
    const { s } = session();
    expect(s.sn).toBeUndefined();
    s.bind('ZX1');
    s.bind('ZX1');
    expect(s.sn).toBe('ZX1');
    expect(() => s.bind('ZX2')).toThrow(/cannot become ZX2/);
  });

  it('replace(): the earlier socket is released as "replaced", cut, and named among the superseded', () => {
    const older = session();
    const old = older.s;
    const newer = session().s;
    newer.replace(old);
    const newest = session().s;
    newest.replace(newer);
    expect(old.released).toBe(true);
    expect(old.closeReason).toBe('replaced');
    expect(older.ws.terminated).toBe(true);
    expect(newest.supersedes).toEqual([newer.id, old.id]);
    expect(old.supersedes).toEqual([]);
  });

  it('release() reports once', () => {
    const { s } = session();
    expect(s.release()).toBe(true);
    expect(s.release()).toBe(false);
    expect(s.released).toBe(true);
  });

  it('close / terminate record their reason; noteCloseReason keeps an earlier one', () => {
    const a = session();
    a.s.noteCloseReason('socket_error');
    a.s.noteCloseReason('frame_too_large');
    expect(a.s.closeReason).toBe('socket_error');
    a.s.close('flood', 1008, 'frame rate limit');
    expect(a.s.closeReason).toBe('flood');
    expect(a.ws.closed).toEqual({ code: 1008, text: 'frame rate limit' });
    const b = session();
    b.s.terminate('liveness_timeout');
    expect(b.s.closeReason).toBe('liveness_timeout');
    expect(b.ws.terminated).toBe(true);
  });

  it('lastSeenDue: only registered, unreleased sockets showing new life, at most once per interval', () => {
    const { s } = session();
    const t0 = Date.now();
    s.lastLifeAt = t0 + 10;
    expect(s.lastSeenDue(t0 + 100_000, 1000)).toBe(false); // not registered
    s.bind('ZX1');
    s.registered();
    expect(s.ready).toBe(true);
    // The registration wrote lastSeenAt from this life: nothing new yet.
    expect(s.lastSeenDue(Date.now() + 5000, 1000)).toBe(false);
    s.noteLife(Date.now() + 6000);
    expect(s.lastSeenDue(Date.now() + 500, 1000)).toBe(false); // within the interval
    expect(s.lastSeenDue(Date.now() + 7000, 1000)).toBe(true);
    expect(s.lastSeenDue(Date.now() + 9000, 1000)).toBe(false); // no life since
    s.noteLife(Date.now() + 10_000);
    s.release();
    expect(s.lastSeenDue(Date.now() + 20_000, 1000)).toBe(false); // released
  });

  it('runs requests in order and keeps no promise chain once idle', async () => {
    const { s } = session();
    const order: number[] = [];
    s.enqueue(async () => {
      await new Promise((r) => setTimeout(r, 5));
      order.push(1);
    });
    s.enqueue(async () => {
      order.push(2);
    });
    await s.idle();
    expect(order).toEqual([1, 2]);
    await new Promise((r) => setImmediate(r));
    expect((s as unknown as { chain?: unknown }).chain).toBeUndefined();
  });
});
