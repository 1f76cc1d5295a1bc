// The e2e project's `testTimeout` is not applied to hooks when Jest runs several projects, so an app
// that boots slowly on a busy machine failed its `beforeAll` at Jest's 5 s default. Set it here.
jest.setTimeout(60_000);
