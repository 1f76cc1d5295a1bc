import { createSecretKey } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { authConfig } from '../config/auth.config';
import type { AuthUser } from './auth-user';
import { JWT_ALGORITHM } from './token.service';
import { toAuthUser } from './jwt-payload';

export const JWT_STRATEGY = 'jwt';

@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, JWT_STRATEGY) {
  constructor(@Inject(authConfig.KEY) cfg: ConfigType<typeof authConfig>) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      // A KeyObject, not the string: given a string, jsonwebtoken first tries (and fails) to parse it
      // as a public key on every request, a measurable share of each API call's CPU.
      secretOrKey: createSecretKey(Buffer.from(cfg.jwtSecret, 'utf8')) as unknown as string,
      // Only the algorithm we sign with: `alg: none` and any other algorithm are refused.
      algorithms: [JWT_ALGORITHM],
      ignoreExpiration: false,
    });
  }

  validate(payload: unknown): AuthUser | null {
    return toAuthUser(payload);
  }
}
