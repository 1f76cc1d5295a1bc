/** What the deadlines need of a socket. */
export interface RegistrationCandidate {
  readonly ready: boolean;
  readonly open: boolean;
}

/**
 * WS_REG_TIMEOUT for every socket with one timer: each socket's deadline is its connection time
 * plus the same timeout, so sockets wait in connection order and the timer is set for the oldest.
 * A socket that has registered or closed by its deadline is simply let go; one still open and not
 * registered is handed to `expire`.
 */
export class RegistrationDeadlines<T extends RegistrationCandidate> {
  /** Insertion order = connection order = deadline order. */
  private readonly waiting = new Map<T, number>();
  private timer: NodeJS.Timeout | undefined;
  private armedFor = Infinity;

  constructor(
    private readonly timeoutMs: number,
    private readonly expire: (socket: T) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** Starts the socket's registration deadline (now + timeout). */
  add(socket: T): void {
    const deadline = this.now() + this.timeoutMs;
    this.waiting.set(socket, deadline);
    if (deadline < this.armedFor) this.arm(deadline);
  }

  /** The socket closed: it no longer needs its deadline. */
  remove(socket: T): void {
    this.waiting.delete(socket);
  }

  get size(): number {
    return this.waiting.size;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedFor = Infinity;
    this.waiting.clear();
  }

  private arm(at: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.armedFor = at;
    this.timer = setTimeout(() => this.fire(), Math.max(0, at - this.now()));
    this.timer.unref();
  }

  private fire(): void {
    this.timer = undefined;
    this.armedFor = Infinity;
    const now = this.now();
    for (const [socket, deadline] of this.waiting) {
      if (deadline > now) {
        this.arm(deadline);
        return;
      }
      this.waiting.delete(socket);
      if (!socket.ready && socket.open) this.expire(socket);
    }
  }
}
