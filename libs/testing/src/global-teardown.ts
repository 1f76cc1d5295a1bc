export default async function globalTeardown(): Promise<void> {
  await globalThis.__TIMMY_TEST_DB__?.stop();
  globalThis.__TIMMY_TEST_DB__ = undefined;
}
