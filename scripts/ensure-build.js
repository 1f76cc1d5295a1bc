// Builds dist/ when it is missing or older than any source file, so `npm start` works on a fresh clone.
const { execSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const marker = path.join(root, 'dist', 'src', 'main.js');

function newestMtime(dir) {
  let newest = 0;
  if (!fs.existsSync(dir)) return newest;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(full));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(full).mtimeMs);
  }
  return newest;
}

const built = fs.existsSync(marker) ? fs.statSync(marker).mtimeMs : 0;
const sources = Math.max(
  ...['src', 'libs', 'bench'].map((d) => newestMtime(path.join(root, d))),
  ...['tsconfig.json', 'tsconfig.build.json', 'package.json'].map((f) => fs.statSync(path.join(root, f)).mtimeMs),
);
if (built < sources) {
  // Said on stderr, so that stdout stays the app's own (JSON) log.
  const say = (line) => process.stderr.write(`[timmy] ${line}\n`);
  say(
    built === 0
      ? 'first start: compiling TypeScript into dist/ (about 20-30 s, once; later starts skip it)...'
      : 'sources changed since the last build: compiling TypeScript into dist/ (about 20-30 s)...',
  );
  const started = Date.now();
  try {
    execSync('npx nest build', { cwd: root, stdio: 'inherit' });
  } catch {
    say('build failed (compiler output above): fix the error, or run `npm run build` to see it again.');
    process.exit(1);
  }
  // nest build keeps file mtimes of its own; touch the marker so the next start skips the build.
  const now = new Date();
  fs.utimesSync(marker, now, now);
  say(`build done in ${Math.round((Date.now() - started) / 1000)} s; starting.`);
}
