import { currentLogFields, withLogFields } from './log-context';

describe('withLogFields', () => {
  it('gives nested scopes their fields across awaits, inner ones winning, read when logged', async () => {
    const session: { sn?: string } = {};
    const seen: Record<string, unknown>[] = [];
    await withLogFields(
      () => ({ sn: session.sn }),
      async () => {
        seen.push(currentLogFields());
        session.sn = 'ZX1';
        await new Promise((r) => setTimeout(r, 1));
        seen.push(currentLogFields());
        await withLogFields({ opId: 'op1', sn: 'ZX2' }, async () => {
          await Promise.resolve();
          seen.push(currentLogFields());
        });
        seen.push(currentLogFields());
      },
    );
    seen.push(currentLogFields());
    expect(seen).toEqual([{}, { sn: 'ZX1' }, { sn: 'ZX2', opId: 'op1' }, { sn: 'ZX1' }, {}]);
  });
});
