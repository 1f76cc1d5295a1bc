import { HttpService } from '@nestjs/axios';
import { Inject, Injectable } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { AxiosError } from 'axios';
import { firstValueFrom } from 'rxjs';
import { forwardingConfig } from '../config/forwarding.config';
import { ForwardPayload, ForwardTarget, isConfirmed, NOT_CONFIRMED } from './forward-payload';

export interface ForwardResult {
  ok: boolean;
  /** HTTP status, when the HR server answered. */
  status?: number;
  /** The HR server's answer (parsed JSON when it was JSON). */
  response?: unknown;
  error?: string;
}

const MAX_RESPONSE_BYTES = 1024 * 1024;
const MAX_STORED_RESPONSE_CHARS = 4096;

/**
 * The HR server client, nothing more: it sends one request and says whether the HR server
 * confirmed it. Which punches, when and how often is the outbox's business.
 */
@Injectable()
export class ForwardingService {
  constructor(
    private readonly http: HttpService,
    @Inject(forwardingConfig.KEY) private readonly cfg: ConfigType<typeof forwardingConfig>,
  ) {}

  isConfigured(target: ForwardTarget): boolean {
    return this.endpoint(target).url !== undefined;
  }

  async send(
    target: ForwardTarget,
    body: ForwardPayload,
    idempotencyKey: string,
    signal?: AbortSignal,
  ): Promise<ForwardResult> {
    const { url, token, variable } = this.endpoint(target);
    if (!url) return { ok: false, error: `${variable} is not configured` };
    const headers: Record<string, string> = { 'Content-Type': 'application/json', 'Idempotency-Key': idempotencyKey };
    if (token) headers.Authorization = `Bearer ${token}`;
    // axios' timeout is a socket idle timer; the signal is the hard deadline for a trickling server.
    const deadline = AbortSignal.timeout(this.cfg.timeoutMs + 250);
    try {
      const res = await firstValueFrom(
        this.http.post<unknown>(url, body, {
          headers,
          timeout: this.cfg.timeoutMs,
          signal: signal ? AbortSignal.any([signal, deadline]) : deadline,
          validateStatus: () => true,
          maxRedirects: 0,
          maxContentLength: MAX_RESPONSE_BYTES,
          responseType: 'json',
        }),
      );
      const response = storableResponse(res.data);
      if (isConfirmed(res.status, res.data, { required: this.cfg.confirmRequired, field: this.cfg.confirmField })) {
        return { ok: true, status: res.status, response };
      }
      return { ok: false, status: res.status, response, error: NOT_CONFIRMED };
    } catch (err) {
      return { ok: false, error: this.transportError(err, deadline) };
    }
  }

  private transportError(err: unknown, deadline: AbortSignal): string {
    if (deadline.aborted) return `timeout of ${this.cfg.timeoutMs}ms exceeded`;
    if (err instanceof AxiosError || err instanceof Error) return err.message || 'Request to the HR server failed';
    return 'Request to the HR server failed';
  }

  private endpoint(target: ForwardTarget): { url?: string; token?: string; variable: string } {
    switch (target) {
      case 'log':
        return { url: this.cfg.logUrl, token: this.cfg.logToken, variable: 'FORWARD_LOG_URL' };
      case 'fingerprint':
        return { url: this.cfg.fingerprintUrl, token: this.cfg.fingerprintToken, variable: 'FORWARD_FINGERPRINT_URL' };
    }
  }
}

/** The answer is kept on the punch for operators; a huge or odd one is cut down, never stored whole. */
function storableResponse(data: unknown): unknown {
  if (data === undefined || data === null || data === '') return null;
  if (typeof data === 'string') return data.slice(0, MAX_STORED_RESPONSE_CHARS);
  try {
    const text = JSON.stringify(data);
    if (text.length <= MAX_STORED_RESPONSE_CHARS) return safeKeys(JSON.parse(text));
    return { truncated: true, text: text.slice(0, MAX_STORED_RESPONSE_CHARS) };
  } catch {
    return null;
  }
}

/** MongoDB refuses `$`-prefixed and dotted field names inside stored documents. */
function safeKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(safeKeys);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) out[key.replace(/^\$/, '_').replace(/\./g, '_')] = safeKeys(v);
  return out;
}
