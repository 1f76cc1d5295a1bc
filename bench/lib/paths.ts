import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** dist/bench (compiled benchmarks); this file is dist/bench/lib/paths.js at run time. */
export const DIST_BENCH = resolve(__dirname, '..');
/** The repository root (three levels above dist/bench/lib). */
export const REPO_ROOT = resolve(__dirname, '..', '..', '..');
export const PRODUCT_MAIN = join(REPO_ROOT, 'dist', 'src', 'main.js');
/** How `npm start` (and the Docker image) starts the product: through its launcher, with its node settings. */
export const PRODUCT_LAUNCHER = join(REPO_ROOT, 'scripts', 'launch.js');
export const RESULTS_DIR = join(REPO_ROOT, 'bench', 'results');

const tempDirs: string[] = [];

/** A fresh temporary directory, removed when the run ends (see removeTempDirs). */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `timmy-bench-${prefix}-`));
  tempDirs.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}
