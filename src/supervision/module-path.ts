/**
 * Where a child module is, and how Node must be started to run it. TypeScript
 * modules run through tsx (Node 20 cannot strip types), so a checkout needs no
 * build step; built JavaScript modules run as they are.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidOptionError } from '../errors.js';

export interface ChildModule {
  /** Absolute path of the module to run. */
  path: string;
  /** Node options needed to run it (a TypeScript loader, resolve conditions). */
  execArgv: string[];
}

const TYPESCRIPT = /\.[cm]?ts$/;

/** The root of this package (the folder with its package.json), from src/ or dist/src/. */
export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('redis-actors: cannot find its own package.json');
    dir = parent;
  }
  return dir;
}

/**
 * Resolves `module`: a path relative to `cwd` (or absolute), else a module of
 * this package such as `actors/clock.ts` (its built `dist/actors/clock.js` when
 * the TypeScript source is not there). Throws {@link InvalidOptionError} naming
 * every place it looked.
 */
export function resolveChildModule(module: string, cwd = process.cwd()): ChildModule {
  const root = packageRoot();
  const candidates = [path.resolve(cwd, module)];
  if (!path.isAbsolute(module)) {
    const inPackage = path.resolve(root, module);
    candidates.push(
      inPackage,
      ...(/\.\w+$/.test(module) ? [] : [`${inPackage}.ts`, `${inPackage}.js`]),
    );
    const built = path.join(root, 'dist', module.replace(TYPESCRIPT, '.js'));
    candidates.push(/\.\w+$/.test(built) ? built : `${built}.js`);
  }
  const found = candidates.find(
    (candidate) => fs.existsSync(candidate) && fs.statSync(candidate).isFile(),
  );
  if (found === undefined) {
    throw new InvalidOptionError(
      'child module',
      `cannot find "${module}"; looked at ${[...new Set(candidates)].join(', ')}`,
    );
  }
  return { path: found, execArgv: nodeOptionsFor(found) };
}

function nodeOptionsFor(modulePath: string): string[] {
  // Resolve conditions of this process (e.g. --conditions=source) apply to children too.
  const inherited: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg.startsWith('--conditions=') || arg.startsWith('-C=')) inherited.push(arg);
    else if (arg === '--conditions' || arg === '-C') inherited.push(arg, argv[++i] ?? '');
  }
  if (!TYPESCRIPT.test(modulePath)) return inherited;
  return [...inherited, '--import', import.meta.resolve('tsx')];
}
