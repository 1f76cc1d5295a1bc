import { Injectable } from '@nestjs/common';
import * as argon2 from 'argon2';

/**
 * argon2id with the OWASP baseline (19 MiB, 2 passes, 1 lane): strong enough for passwords while
 * keeping a login cheap on the small servers this runs on.
 */
const OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

@Injectable()
export class PasswordHasher {
  private dummyHash: Promise<string> | undefined;

  hash(plain: string): Promise<string> {
    return argon2.hash(plain, OPTIONS);
  }

  /** False for a wrong password and for a stored value that is not an argon2 hash. */
  async verify(hash: string, plain: string): Promise<boolean> {
    try {
      return await argon2.verify(hash, plain);
    } catch {
      return false;
    }
  }

  /**
   * Spends the time of a real verification when there is no account, so that a login for an unknown
   * name cannot be told apart from a wrong password by its response time. Always false.
   */
  async verifyAgainstNothing(plain: string): Promise<false> {
    this.dummyHash ??= this.hash('no-such-account-placeholder');
    await this.verify(await this.dummyHash, plain);
    return false;
  }
}
