import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A small TCP balancer, as in front of several instances' terminal gateways: connections go round
 * robin to the backends; a backend that refuses (a dead instance) is skipped for the next one.
 * `routed` records where each accepted connection went.
 */
export class TcpBalancer {
  readonly routed: number[] = [];
  private server?: Server;
  private next = 0;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly backends: number[]) {}

  async start(): Promise<number> {
    this.server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    return typeof address === 'object' && address ? address.port : 0;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private accept(client: Socket): void {
    this.sockets.add(client);
    client.once('close', () => this.sockets.delete(client));
    client.pause();
    const first = this.next++ % this.backends.length;
    const attempt = (tries: number): void => {
      if (tries >= this.backends.length) {
        client.destroy();
        return;
      }
      const port = this.backends[(first + tries) % this.backends.length];
      const upstream = connect(port, '127.0.0.1');
      let connected = false;
      upstream.once('error', () => {
        if (!connected) attempt(tries + 1);
      });
      upstream.once('connect', () => {
        connected = true;
        this.sockets.add(upstream);
        this.routed.push(port);
        upstream.once('close', () => {
          this.sockets.delete(upstream);
          client.destroy();
        });
        client.once('close', () => upstream.destroy());
        upstream.on('error', () => upstream.destroy());
        client.on('error', () => client.destroy());
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
    };
    attempt(0);
  }
}
