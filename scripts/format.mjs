// Prettier over the project's TypeScript and JavaScript: `node scripts/format.mjs` lists the
// files it would change and exits 1 if there are any; `--write` rewrites them.
//
// AssemblyScript puts decorators on functions and `declare`s (`@inline`, `@external(...)`),
// which no TypeScript parser accepts. Each decorator at the start of a line is hidden in a
// block comment for the parser and put back after printing; prettier never reflows comments.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as prettier from 'prettier';

const ROOT = join(import.meta.dirname, '..');
const SOURCES = /\.(ts|mts|mjs|js|cjs)$/;

const DECORATOR = /^(\s*)(@\w+(?:\([^)\n]*\))?)(?=\s)/gm;
const MASKED = /\/\*=(@\w+(?:\([^)\n]*\))?)\*\//g;

/** `text` as prettier prints it, with AssemblyScript's decorators where they stood. */
export async function formatted(text, filepath) {
  const options = { ...(await prettier.resolveConfig(filepath)), filepath };
  const masked = text.replace(DECORATOR, (_, indent, decorator) => `${indent}/*=${decorator}*/`);
  return (await prettier.format(masked, options)).replace(MASKED, '$1');
}

/** The tracked source files, less what .prettierignore names. */
export function sourceFiles() {
  const tracked = execFileSync('git', ['ls-files', '-co', '--exclude-standard'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return tracked.split('\n').filter((f) => SOURCES.test(f) && existsSync(join(ROOT, f)));
}

async function main() {
  const write = process.argv.includes('--write');
  const changed = [];
  const unparsed = [];
  for (const file of sourceFiles()) {
    const path = join(ROOT, file);
    const info = await prettier.getFileInfo(path, { ignorePath: join(ROOT, '.prettierignore') });
    if (info.ignored) continue;
    const text = readFileSync(path, 'utf8');
    let out;
    try {
      out = await formatted(text, path);
    } catch (error) {
      unparsed.push(`${file}: ${String(error.message).split('\n')[0]}`);
      continue;
    }
    if (out === text) continue;
    changed.push(file);
    if (write) writeFileSync(path, out);
  }
  for (const file of changed) console.log(write ? `formatted ${file}` : `not formatted: ${file}`);
  for (const line of unparsed) console.log(`cannot parse: ${line}`);
  if (unparsed.length) process.exitCode = 1;
  if (!write && changed.length) {
    console.log(`${changed.length} file(s) differ from prettier's output: run node scripts/format.mjs --write`);
    process.exitCode = 1;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
