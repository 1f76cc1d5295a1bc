import { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiError } from '@app/common';
import type { AuthUser } from './auth-user';
import type { CredentialStampsService } from './credential-stamps.service';
import { JwtAuthGuard } from './jwt-auth.guard';
import { Role } from './role.enum';

function contextWith(authorization?: string): ExecutionContext {
  const headers = authorization === undefined ? {} : { authorization };
  return { switchToHttp: () => ({ getRequest: () => ({ headers }) }) } as unknown as ExecutionContext;
}

function refusal(fn: () => unknown): { status: number; body: unknown } {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return { status: err.getStatus(), body: err.getResponse() };
    throw err;
  }
  throw new Error('expected a refusal');
}

class TokenExpiredError extends Error {
  override name = 'TokenExpiredError';
}

describe('JwtAuthGuard.handleRequest', () => {
  const guard = new JwtAuthGuard({} as CredentialStampsService, new Reflector());
  const user: AuthUser = { sub: 'a1', role: Role.Admin, owner: 'a1' };

  it('passes the verified user on', () => {
    expect(guard.handleRequest(null, user, undefined, contextWith('Bearer x.y.z'))).toBe(user);
  });

  it.each([
    ['no header', undefined],
    ['an empty header', ''],
    ['another scheme', 'Basic YWRtaW46YWRtaW4='],
    ['a bare Bearer', 'Bearer '],
  ])('says the token is missing for %s', (_case, header) => {
    expect(refusal(() => guard.handleRequest(null, false, new Error('No auth token'), contextWith(header)))).toEqual({
      status: 401,
      body: { success: false, error: 'unauthorized', message: 'Missing bearer token' },
    });
  });

  it('says when the token has expired', () => {
    const info = new TokenExpiredError('jwt expired');
    expect(refusal(() => guard.handleRequest(null, false, info, contextWith('Bearer a.b.c')))).toEqual({
      status: 401,
      body: { success: false, error: 'unauthorized', message: 'Token expired' },
    });
  });

  it('answers "Invalid token" to a bad signature, a payload of the wrong shape or a strategy error', () => {
    const expected = { status: 401, body: { success: false, error: 'unauthorized', message: 'Invalid token' } };
    const ctx = contextWith('bearer a.b.c');
    expect(refusal(() => guard.handleRequest(null, false, new Error('invalid signature'), ctx))).toEqual(expected);
    expect(refusal(() => guard.handleRequest(null, null, undefined, ctx))).toEqual(expected);
    expect(refusal(() => guard.handleRequest(new Error('boom'), user, undefined, ctx))).toEqual(expected);
  });

  it('lets an HTTP error of the strategy through unchanged', () => {
    const err = new ApiError(403, 'forbidden', 'nope');
    expect(refusal(() => guard.handleRequest(err, false, undefined, contextWith('Bearer a.b.c')))).toEqual({
      status: 403,
      body: { success: false, error: 'forbidden', message: 'nope' },
    });
  });
});
