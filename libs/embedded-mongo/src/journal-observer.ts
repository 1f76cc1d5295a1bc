/**
 * Lets the host process watch the journal (the app's metrics) without this library knowing about
 * it: every fsync reports its duration and the journal's size. Process-wide, like the metrics.
 */
export const journalObserver: { onFsync?: (seconds: number, journalBytes: number) => void } = {};
