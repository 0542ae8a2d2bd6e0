import { Ajv, type ValidateFunction } from 'ajv';
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { isMap, LineCounter, parseDocument } from 'yaml';
import { describeValue, formatIssue, issuesFromAjv, type ConfigIssue } from './issues.js';
import { applyOverride, environmentOverrides, type ConfigOverride } from './overrides.js';
import { configSchema } from './schema.js';
import type { BrokerConfig } from './sections/index.js';
import { ConfigSourceMap } from './source-map.js';

/** The configuration is not valid; `issues` says every problem found, each located. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly issues: readonly ConfigIssue[],
  ) {
    super(`${file}: invalid configuration (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n${issues.map((i) => `  ${formatIssue(i)}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export const DEFAULT_CONFIG_FILE = 'polybroker.yaml';
/** Shown as the source when no file is read. */
export const EMBEDDED_DEFAULTS = '(embedded defaults)';

export interface LoadOptions {
  /** `--config FILE`: must exist. */
  file?: string;
  /** Where `./polybroker.yaml` is looked for; default the working directory. */
  cwd?: string;
  /** Environment for `POLYBROKER_*` overrides; default none (pass `process.env` to use them). */
  env?: NodeJS.ProcessEnv;
  /** Further overrides (command-line flags), applied after the environment. */
  overrides?: ConfigOverride[];
}

export interface LoadedConfig {
  config: BrokerConfig;
  /** The file read, or EMBEDDED_DEFAULTS. */
  source: string;
}

let validator: ValidateFunction | undefined;

function validate(): ValidateFunction {
  // useDefaults fills absent keys from the schema's `default`s while validating.
  validator ??= new Ajv({ allErrors: true, verbose: true, useDefaults: true, strict: true, allowUnionTypes: true }).compile(configSchema());
  return validator;
}

/** Which file `start` reads: `--config`, else ./polybroker.yaml when present, else none. */
export function resolveConfigFile(file: string | undefined, cwd: string = process.cwd()): string | undefined {
  if (file !== undefined) return resolve(cwd, file);
  const local = resolve(cwd, DEFAULT_CONFIG_FILE);
  return existsSync(local) ? local : undefined;
}

/** Reads, overrides and validates the configuration; throws ConfigError listing every problem. */
export function loadConfig(options: LoadOptions = {}): LoadedConfig {
  const file = resolveConfigFile(options.file, options.cwd);
  if (file === undefined) return { config: parseConfig('', EMBEDDED_DEFAULTS, options), source: EMBEDDED_DEFAULTS };
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new ConfigError(file, [
      { path: [], origin: { kind: 'override', name: file }, expected: 'a readable YAML file', found: reason },
    ]);
  }
  return { config: parseConfig(text, file, options), source: file };
}

/** Validates YAML text as polybroker.yaml; `file` names it in errors. */
export function parseConfig(text: string, file: string, options: Pick<LoadOptions, 'env' | 'overrides'> = {}): BrokerConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  const sources = new ConfigSourceMap(file, doc, lines);
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => {
        const pos = e.linePos?.[0] ?? lines.linePos(e.pos[0]);
        return {
          path: [],
          origin: { kind: 'file', file, line: pos.line, column: pos.col },
          expected: 'valid YAML',
          found: e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, ''),
        } satisfies ConfigIssue;
      }),
    );
  }
  const contents = doc.contents;
  let data: unknown = contents === null ? {} : doc.toJS({ maxAliasCount: 100 });
  if (data === null || data === undefined) data = {};
  if (contents !== null && !isMap(contents) && (typeof data !== 'object' || Array.isArray(data))) {
    throw new ConfigError(file, [{ path: [], origin: sources.origin([]), expected: 'a map of sections (node, listeners, storage, log ...)', found: describeValue(data) }]);
  }
  const root = data as Record<string, unknown>;
  for (const override of [...environmentOverrides(options.env ?? {}), ...(options.overrides ?? [])]) {
    applyOverride(root, override);
    sources.addOverride(override.path, override.source);
  }
  const check = validate();
  if (!check(root)) {
    const issues = issuesFromAjv(check.errors ?? [], sources).sort(byPlace);
    throw new ConfigError(file, issues);
  }
  const config = root as unknown as BrokerConfig;
  // Defaults that depend on the machine, not expressible in the schema.
  config.node.nodeId ??= hostname();
  return config;
}

function byPlace(a: ConfigIssue, b: ConfigIssue): number {
  const la = a.origin.kind === 'file' ? a.origin.line * 1e6 + a.origin.column : Infinity;
  const lb = b.origin.kind === 'file' ? b.origin.line * 1e6 + b.origin.column : Infinity;
  return la - lb;
}
