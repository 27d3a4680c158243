#!/usr/bin/env node
/**
 * A content digest of the sources the build compiles: every file under src/ and
 * actors/, by path and bytes (sha256). `npm run build` writes it to
 * dist/source-digest.txt; the tests that run the built package (test/helpers.ts,
 * assertBuildIsCurrent) recompute it to tell whether dist/ is current. Content,
 * not mtimes: a fresh clone has arbitrary mtimes, and a no-op edit changes
 * nothing that matters.
 *
 *   node scripts/source-digest.mjs          prints the digest of the sources now
 *   node scripts/source-digest.mjs --write  writes it to dist/source-digest.txt
 *
 * Plain Node, no dependencies. Only our own tests read the digest: a package
 * installed from the registry has neither this script nor tsconfig.build.json,
 * and never builds.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const repoRoot = path.resolve(import.meta.dirname, '..');

/** The folders the build compiles (tsconfig.build.json "include"). */
export const SOURCE_DIRS = ['src', 'actors'];

/** Where the build writes the digest, relative to the repository root. */
export const DIGEST_FILE = 'dist/source-digest.txt';

/** Repository-relative, '/'-separated paths of the regular files under `dir`. */
function filesUnder(root, dir) {
  const found = [];
  for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const relative = `${dir}/${entry.name}`;
    if (entry.isDirectory()) found.push(...filesUnder(root, relative));
    else if (entry.isFile()) found.push(relative);
  }
  return found;
}

/** The sha256, in hex, of every source file's path and bytes, in path order. */
export function sourceDigest(root = repoRoot) {
  const files = SOURCE_DIRS.flatMap((dir) => filesUnder(root, dir)).sort((a, b) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  const hash = createHash('sha256');
  for (const file of files) {
    const bytes = readFileSync(path.join(root, file));
    // Path and length framed by NULs, so that no two file sets hash the same stream.
    hash.update(`${file}\0${bytes.length}\0`);
    hash.update(bytes);
  }
  return hash.digest('hex');
}

/** Writes the digest of the sources now to dist/source-digest.txt. */
export function writeSourceDigest(root = repoRoot) {
  const digest = sourceDigest(root);
  const file = path.join(root, DIGEST_FILE);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${digest}\n`);
  return digest;
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === import.meta.filename) {
  const args = process.argv.slice(2);
  if (args.length === 0) {
    console.log(sourceDigest());
  } else if (args.length === 1 && args[0] === '--write') {
    writeSourceDigest();
  } else {
    console.error('usage: node scripts/source-digest.mjs [--write]');
    process.exitCode = 2;
  }
}
