#!/usr/bin/env node
/**
 * The layering rules of src/, checked on the import statements of its files
 * (part of `npm run lint`):
 *
 *   ioredis         only files under src/transport/ import 'ioredis';
 *   deep-import     a file in one folder of src/ imports another folder only
 *                   through that folder's index.ts ('../core/index.js'); the
 *                   files directly in src/ (index.ts, internal.ts, errors.ts)
 *                   are no folder and anyone may import them, and src/index.ts,
 *                   the curated public API, may import deep paths;
 *   outer-layer     files under src/cli/ and src/redis-ipc/ import other
 *                   folders only through src/internal.ts, src/index.ts or
 *                   src/errors.ts, never a folder directly;
 *   file-length     no file in src/ is over 500 lines.
 *
 *   node scripts/check-layers.mjs [repository root]
 *
 * Prints one line per violation, `path:line: what is wrong — what to do`, and
 * exits 1 if there is any. Plain Node, no dependencies: imports are found by a
 * small tokenizer that skips comments, template literals and regular
 * expressions, so that code quoted in a string is not taken for an import.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

const MAX_LINES = 500;
/** Folders whose files reach other folders only through the files directly in src/. */
const OUTER_LAYERS = ['cli', 'redis-ipc'];
/** The files directly in src/ that outer layers import instead of folders. */
const OUTER_LAYER_GATEWAYS = ['src/internal.ts', 'src/index.ts', 'src/errors.ts'];
const CODE_FILE = /\.(?:[cm]?ts|tsx|[cm]?js|jsx)$/;

/** Repository-relative, '/'-separated paths of the regular files under `dir`, sorted. */
function filesUnder(root, dir) {
  const found = [];
  for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const relative = `${dir}/${entry.name}`;
    if (entry.isDirectory()) found.push(...filesUnder(root, relative));
    else if (entry.isFile()) found.push(relative);
  }
  return found.sort();
}

const KEYWORDS_BEFORE_EXPRESSION = new Set([
  'return',
  'typeof',
  'instanceof',
  'in',
  'of',
  'new',
  'delete',
  'void',
  'throw',
  'case',
  'do',
  'else',
  'yield',
  'await',
]);

/**
 * The tokens of a JavaScript or TypeScript source that matter for finding
 * imports: identifiers, punctuation and string literals (with their value and
 * line). Comments, template literal text, regular expressions and numbers are
 * skipped; `${…}` inside templates is tokenized like any code.
 */
export function tokenize(source) {
  const tokens = [];
  /** For each open `{`: whether it opened a template substitution `${`. */
  const braces = [];
  let line = 1;
  let i = 0;
  const n = source.length;

  const previousAllowsRegex = () => {
    const last = tokens[tokens.length - 1];
    if (last === undefined) return true;
    if (last.kind === 'string') return false;
    if (last.kind === 'name') return KEYWORDS_BEFORE_EXPRESSION.has(last.value);
    return ![')', ']', '}'].includes(last.value);
  };

  /** Skips template text from `i` (just after a backtick or a closing `}` of `${`). */
  const skipTemplateText = () => {
    while (i < n) {
      const c = source[i];
      if (c === '\\') {
        if (source[i + 1] === '\n') line++;
        i += 2;
      } else if (c === '`') {
        i++;
        tokens.push({ kind: 'punct', value: '`', line });
        return;
      } else if (c === '$' && source[i + 1] === '{') {
        i += 2;
        braces.push(true);
        tokens.push({ kind: 'punct', value: '${', line });
        return;
      } else {
        if (c === '\n') line++;
        i++;
      }
    }
  };

  while (i < n) {
    const c = source[i];
    const next = source[i + 1];
    if (c === '\n') {
      line++;
      i++;
    } else if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v') {
      i++;
    } else if (c === '/' && next === '/') {
      while (i < n && source[i] !== '\n') i++;
    } else if (c === '/' && next === '*') {
      const end = source.indexOf('*/', i + 2);
      const stop = end === -1 ? n : end + 2;
      for (let j = i; j < stop; j++) if (source[j] === '\n') line++;
      i = stop;
    } else if (c === "'" || c === '"') {
      const startLine = line;
      let value = '';
      i++;
      while (i < n && source[i] !== c && source[i] !== '\n') {
        if (source[i] === '\\') {
          value += source[i + 1] ?? '';
          if (source[i + 1] === '\n') line++;
          i += 2;
        } else {
          value += source[i];
          i++;
        }
      }
      if (source[i] === c) i++;
      tokens.push({ kind: 'string', value, line: startLine });
    } else if (c === '`') {
      i++;
      skipTemplateText();
    } else if (c === '/' && previousAllowsRegex()) {
      // A regular expression literal: up to the unescaped `/` outside a class.
      let inClass = false;
      i++;
      while (i < n && source[i] !== '\n') {
        const r = source[i];
        if (r === '\\') i++;
        else if (r === '[') inClass = true;
        else if (r === ']') inClass = false;
        else if (r === '/' && !inClass) break;
        i++;
      }
      if (source[i] === '/') i++;
      while (i < n && /[a-z]/i.test(source[i])) i++;
      tokens.push({ kind: 'regex', value: '', line });
    } else if (/[A-Za-z_$\u0080-\uffff]/.test(c)) {
      let j = i + 1;
      while (j < n && /[\w$\u0080-\uffff]/.test(source[j])) j++;
      tokens.push({ kind: 'name', value: source.slice(i, j), line });
      i = j;
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(next ?? ''))) {
      let j = i + 1;
      while (j < n && /[\w.]/.test(source[j])) j++;
      tokens.push({ kind: 'number', value: source.slice(i, j), line });
      i = j;
    } else if (c === '{') {
      braces.push(false);
      tokens.push({ kind: 'punct', value: '{', line });
      i++;
    } else if (c === '}') {
      i++;
      if (braces.pop() === true) skipTemplateText();
      else tokens.push({ kind: 'punct', value: '}', line });
    } else if (c === '.' && next === '.' && source[i + 2] === '.') {
      tokens.push({ kind: 'punct', value: '...', line });
      i += 3;
    } else {
      tokens.push({ kind: 'punct', value: c, line });
      i++;
    }
  }
  return tokens;
}

/**
 * The module specifiers a source imports, with their line: `import … from 's'`,
 * `import 's'`, `export … from 's'`, `import('s')` (also in types) and
 * `require('s')`.
 */
export function importsOf(source) {
  const tokens = tokenize(source);
  const found = [];
  const is = (k, value) => tokens[k]?.kind === 'punct' && tokens[k].value === value;
  const stringAt = (k) => (tokens[k]?.kind === 'string' ? tokens[k] : undefined);
  for (let k = 0; k < tokens.length; k++) {
    const token = tokens[k];
    if (token.kind !== 'name' || is(k - 1, '.')) continue;
    let specifier;
    if (token.value === 'from') {
      // Only a declaration has a string right after `from` (not `Array.from('…')`).
      specifier = stringAt(k + 1);
    } else if (token.value === 'import') {
      specifier = stringAt(k + 1) ?? (is(k + 1, '(') ? stringAt(k + 2) : undefined);
    } else if (token.value === 'require' && is(k + 1, '(')) {
      specifier = stringAt(k + 2);
    }
    if (specifier !== undefined) found.push({ specifier: specifier.value, line: specifier.line });
  }
  return found;
}

/** The source file a relative specifier names: `./x.js` is `./x.ts` when that is what exists. */
function resolveRelative(files, from, specifier) {
  const target = path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier));
  if (files.has(target)) return target;
  const swapped = target.replace(/\.([cm]?)js(x?)$/, '.$1ts$2');
  if (files.has(swapped)) return swapped;
  return target;
}

/** The folder of src/ a path is in ('core' for src/core/a/b.ts), or undefined for src/x.ts and outside src/. */
function folderOf(file) {
  const parts = file.split('/');
  return parts[0] === 'src' && parts.length > 2 ? parts[1] : undefined;
}

/** All violations of the layering rules in `root`, each `{ file, line, rule, message }`. */
export function checkLayers(root) {
  const all = filesUnder(root, 'src');
  const files = new Set(all);
  const violations = [];
  const report = (file, line, rule, message) => violations.push({ file, line, rule, message });

  for (const file of all) {
    const source = readFileSync(path.join(root, file), 'utf8');

    const lines = source.split('\n').length - (source.endsWith('\n') ? 1 : 0);
    if (lines > MAX_LINES) {
      report(
        file,
        MAX_LINES + 1,
        'file-length',
        `${lines} lines, over the limit of ${MAX_LINES}: split it into smaller modules of its folder`,
      );
    }

    if (!CODE_FILE.test(file)) continue;
    const ownFolder = folderOf(file);
    for (const { specifier, line } of importsOf(source)) {
      if (specifier === 'ioredis' || specifier.startsWith('ioredis/')) {
        if (ownFolder !== 'transport') {
          report(
            file,
            line,
            'ioredis',
            `imports '${specifier}': only src/transport/ may use ioredis; ` +
              'put what this needs behind the Transport interface of src/transport/index.ts',
          );
        }
        continue;
      }
      if (!specifier.startsWith('./') && !specifier.startsWith('../')) continue;

      const target = resolveRelative(files, file, specifier);
      const targetFolder = folderOf(target);
      if (targetFolder === undefined || targetFolder === ownFolder) continue;
      const targetIndex = resolveRelative(files, `src/${targetFolder}/x`, './index.js');

      if (ownFolder !== undefined && OUTER_LAYERS.includes(ownFolder)) {
        report(
          file,
          line,
          'outer-layer',
          `imports '${specifier}' (${target}): src/${ownFolder}/ reaches other folders only ` +
            `through ${OUTER_LAYER_GATEWAYS.join(', ')}; ` +
            `export what it needs from src/internal.ts and import '${path.posix.relative(
              path.posix.dirname(file),
              'src/internal.js',
            )}' instead`,
        );
      } else if (file !== 'src/index.ts' && target !== targetIndex) {
        const index = path.posix.relative(path.posix.dirname(file), `src/${targetFolder}/index.js`);
        report(
          file,
          line,
          'deep-import',
          `imports '${specifier}', a deep path into src/${targetFolder}/: import it from ` +
            `'${index.startsWith('.') ? index : `./${index}`}' (export it from ${targetIndex} if it is not)`,
        );
      }
    }
  }
  return violations;
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === import.meta.filename) {
  const root = path.resolve(process.argv[2] ?? path.join(import.meta.dirname, '..'));
  const violations = checkLayers(root);
  for (const { file, line, rule, message } of violations) {
    console.error(`${file}:${line}: [${rule}] ${message}`);
  }
  if (violations.length > 0) {
    console.error(
      `\nlayering check: ${violations.length} violation${violations.length === 1 ? '' : 's'} ` +
        '(rules: scripts/check-layers.mjs)',
    );
    process.exitCode = 1;
  } else {
    console.log('layering check: src/ follows the layering rules');
  }
}
