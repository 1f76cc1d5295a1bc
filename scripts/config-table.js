// Prints the README's configuration table from .env.example (the single list of variables).
const fs = require('node:fs');
const path = require('node:path');

const lines = fs.readFileSync(path.join(__dirname, '..', '.env.example'), 'utf8').split('\n');
const rows = [];
let section = '';
let comment = [];
for (const line of lines) {
  const header = /^# ---- (.+) ----$/.exec(line);
  if (header) {
    section = header[1];
    comment = [];
    continue;
  }
  if (line.startsWith('#')) {
    comment.push(line.replace(/^#\s?/, ''));
    continue;
  }
  const variable = /^([A-Z0-9_]+)=(.*)$/.exec(line);
  if (variable && section) {
    rows.push(`| \`${variable[1]}\` | ${variable[2] ? `\`${variable[2]}\`` : '(unset)'} | ${section} | ${comment.join(' ').replace(/\|/g, '\\|')} |`);
    if (!lines[lines.indexOf(line) + 1]?.match(/^[A-Z]/)) comment = [];
    continue;
  }
  comment = [];
}
const table = '| variable | default | area | meaning |\n| --- | --- | --- | --- |\n' + rows.join('\n');
if (process.argv.includes('--write')) {
  // Replaces the table between the markers in README.md.
  const readme = path.join(__dirname, '..', 'README.md');
  const text = fs.readFileSync(readme, 'utf8');
  const start = '<!-- config-table:start -->';
  const end = '<!-- config-table:end -->';
  const before = text.slice(0, text.indexOf(start) + start.length);
  const after = text.slice(text.indexOf(end));
  fs.writeFileSync(readme, `${before}\n${table}\n${after}`);
} else {
  console.log(table);
}
