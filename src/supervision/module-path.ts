/**
 * Where a child module is, and how Node must be started to run it. TypeScript
 * modules run through tsx (Node 20 cannot strip types), so a checkout needs no
 * build step; built JavaScript modules run as they are. tsx is an optional peer
 * dependency: without it, a TypeScript module of this package runs from its
 * built JavaScript twin in dist/, and any other TypeScript module is refused
 * with a message that says what to install.
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

/**
 * Finds the tsx loader: returns what `node --import` needs to load it (a
 * `file:` URL), throws when tsx is not installed.
 */
export type TsxResolver = () => string;

/** tsx as installed next to this package (a devDependency in a checkout, or the user's own). */
const resolveInstalledTsx: TsxResolver = () => import.meta.resolve('tsx');

/** What to run to make TypeScript children work. */
export const TSX_INSTALL_COMMAND = 'npm install --save-dev tsx';

/**
 * A TypeScript child module cannot run: tsx is not installed and there is no
 * built JavaScript of it. The supervisor reports it as a SpawnError.
 */
export class TypeScriptLoaderMissingError extends Error {
  constructor(
    readonly module: string,
    /** The TypeScript file that was found. */
    readonly typescriptPath: string,
    /** Where its built JavaScript was looked for, when it is a module of this package. */
    readonly builtTwinPath: string | undefined,
    /** What went wrong, worded to follow the module's name. */
    readonly detail: string,
  ) {
    super(`"${module}" ${detail}`);
    this.name = 'TypeScriptLoaderMissingError';
  }
}

const TYPESCRIPT = /\.([cm]?)ts$/;
/** A Node resolve condition that points this package's imports at its TypeScript source. */
const SOURCE_CONDITION = 'source';

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
 * the TypeScript source is not there). A TypeScript module runs through tsx,
 * found by `resolveTsx`; when that throws, a module of this package runs from
 * its built twin in dist/ instead.
 *
 * Throws {@link InvalidOptionError} naming every place it looked, or
 * {@link TypeScriptLoaderMissingError} for TypeScript that cannot run without tsx.
 */
export function resolveChildModule(
  module: string,
  cwd = process.cwd(),
  resolveTsx: TsxResolver = resolveInstalledTsx,
): ChildModule {
  const root = packageRoot();
  const candidates = [path.resolve(cwd, module)];
  if (!path.isAbsolute(module)) {
    const inPackage = path.resolve(root, module);
    candidates.push(
      inPackage,
      ...(/\.\w+$/.test(module) ? [] : [`${inPackage}.ts`, `${inPackage}.js`]),
    );
    const built = path.join(root, 'dist', builtName(module));
    candidates.push(/\.\w+$/.test(built) ? built : `${built}.js`);
  }
  const found = candidates.find(isFile);
  if (found === undefined) {
    throw new InvalidOptionError(
      'child module',
      `cannot find "${module}"; looked at ${[...new Set(candidates)].join(', ')}`,
    );
  }
  const conditions = inheritedConditions();
  if (!TYPESCRIPT.test(found)) return { path: found, execArgv: conditionFlags(conditions) };
  const tsx = tryResolve(resolveTsx);
  if (tsx !== undefined) {
    return { path: found, execArgv: [...conditionFlags(conditions), '--import', tsx] };
  }
  const twin = builtTwin(found, root);
  if (twin !== undefined && isFile(twin)) {
    // The `source` condition would lead the twin's own imports back to TypeScript.
    const withoutSource = conditions.filter((condition) => condition !== SOURCE_CONDITION);
    return { path: twin, execArgv: conditionFlags(withoutSource) };
  }
  throw new TypeScriptLoaderMissingError(
    module,
    found,
    twin,
    `is TypeScript (${found}), which runs through the tsx loader, but tsx is not installed` +
      (twin === undefined ? '' : ` and there is no built JavaScript of it at ${twin}`) +
      `. Install it with \`${TSX_INSTALL_COMMAND}\`, or spawn the module's compiled JavaScript instead`,
  );
}

function isFile(candidate: string): boolean {
  return fs.existsSync(candidate) && fs.statSync(candidate).isFile();
}

function tryResolve(resolveTsx: TsxResolver): string | undefined {
  try {
    return resolveTsx();
  } catch {
    return undefined;
  }
}

/** What tsc makes of a TypeScript file name: `.ts` → `.js`, `.mts` → `.mjs`, `.cts` → `.cjs`. */
function builtName(file: string): string {
  return file.replace(TYPESCRIPT, '.$1js');
}

/** The built JavaScript of a TypeScript file of this package (dist/ mirrors the package). */
function builtTwin(typescriptPath: string, root: string): string | undefined {
  const relative = path.relative(root, typescriptPath);
  if (relative.split(path.sep)[0] === '..' || path.isAbsolute(relative)) return undefined;
  return path.join(root, 'dist', builtName(relative));
}

/** Resolve conditions of this process (e.g. --conditions=source): children get them too. */
function inheritedConditions(): string[] {
  const conditions: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const inline = /^(?:--conditions|-C)=(.*)$/.exec(arg);
    if (inline !== null) conditions.push(inline[1] ?? '');
    else if (arg === '--conditions' || arg === '-C') conditions.push(argv[++i] ?? '');
  }
  return conditions;
}

function conditionFlags(conditions: readonly string[]): string[] {
  return conditions.map((condition) => `--conditions=${condition}`);
}
