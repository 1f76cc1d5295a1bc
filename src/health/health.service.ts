import { Injectable } from '@nestjs/common';
import { InjectConnection } from '@nestjs/mongoose';
import { ConnectionStates, type Connection } from 'mongoose';

/** Anything that can say whether it is up (the terminal gateway registers one). */
export abstract class HealthIndicator {
  abstract readonly name: string;
  abstract isUp(): boolean | Promise<boolean>;
}

@Injectable()
export class HealthService {
  private readonly indicators: HealthIndicator[] = [];

  constructor(@InjectConnection() private readonly connection: Connection) {}

  register(indicator: HealthIndicator): void {
    this.indicators.push(indicator);
  }

  async check(): Promise<{ success: boolean; status: string; checks: Record<string, string>; uptimeSeconds: number }> {
    const checks: Record<string, string> = { database: (await this.databaseUp()) ? 'up' : 'down' };
    for (const indicator of this.indicators) {
      let up = false;
      try {
        up = await indicator.isUp();
      } catch {
        up = false;
      }
      checks[indicator.name] = up ? 'up' : 'down';
    }
    const success = Object.values(checks).every((v) => v === 'up');
    return { success, status: success ? 'ok' : 'degraded', checks, uptimeSeconds: Math.round(process.uptime()) };
  }

  private async databaseUp(): Promise<boolean> {
    const db = this.connection.db;
    if (this.connection.readyState !== ConnectionStates.connected || !db) return false;
    try {
      await db.command({ ping: 1 }, { timeoutMS: 2000 });
      return true;
    } catch {
      return false;
    }
  }
}
