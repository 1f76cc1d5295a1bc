import { PasswordHasher } from './password-hasher.service';

describe('PasswordHasher', () => {
  const hasher = new PasswordHasher();

  it('hashes with argon2id and verifies only the right password', async () => {
    const hash = await hasher.hash('correct horse');
    expect(hash.startsWith('$argon2id$')).toBe(true);
    expect(hash).not.toContain('correct horse');
    await expect(hasher.verify(hash, 'correct horse')).resolves.toBe(true);
    await expect(hasher.verify(hash, 'correct horsE')).resolves.toBe(false);
  });

  it('salts: the same password gives different hashes', async () => {
    expect(await hasher.hash('same password')).not.toBe(await hasher.hash('same password'));
  });

  it('treats a stored value that is not an argon2 hash as a wrong password', async () => {
    await expect(hasher.verify('plain-text-password', 'plain-text-password')).resolves.toBe(false);
    await expect(hasher.verify('', 'x')).resolves.toBe(false);
  });

  it('verifyAgainstNothing is always false, also for the placeholder itself', async () => {
    await expect(hasher.verifyAgainstNothing('anything')).resolves.toBe(false);
    await expect(hasher.verifyAgainstNothing('no-such-account-placeholder')).resolves.toBe(false);
  });
});
