/**
 * Translates Kafka's JSON message definitions into our TypeScript schema objects, one file per
 * API key with the request and the response. Run by hand when a version is added:
 *
 *   npx tsx protocols/kafka/schema/generate.ts <apache/kafka>/clients/src/main/resources/common/message
 *
 * The JSON files are the protocol's specification; the output keeps their field names (camelCased),
 * version ranges, nullable/tagged versions and defaults unchanged, and copies their version-history
 * comments so the schema reads against the spec line by line.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Every API this broker decodes (handlers choose which versions they serve). */
export const API_NAMES = [
  'Produce', 'Fetch', 'ListOffsets', 'Metadata', 'OffsetCommit', 'OffsetFetch', 'FindCoordinator',
  'JoinGroup', 'Heartbeat', 'LeaveGroup', 'SyncGroup', 'DescribeGroups', 'ListGroups',
  'SaslHandshake', 'ApiVersions', 'CreateTopics', 'DeleteTopics', 'DeleteRecords', 'InitProducerId',
  'OffsetForLeaderEpoch', 'AddPartitionsToTxn', 'AddOffsetsToTxn', 'EndTxn', 'TxnOffsetCommit',
  'DescribeConfigs', 'AlterConfigs', 'SaslAuthenticate', 'CreatePartitions', 'DeleteGroups',
  'IncrementalAlterConfigs', 'OffsetDelete', 'DescribeCluster',
] as const;

interface JsonField {
  name: string;
  type: string;
  versions: string;
  nullableVersions?: string;
  taggedVersions?: string;
  tag?: number;
  default?: string | number | boolean;
  fields?: JsonField[];
}

interface JsonMessage {
  apiKey: number;
  type: string;
  name: string;
  validVersions: string;
  flexibleVersions: string;
  fields: JsonField[];
  commonStructs?: { name: string; versions: string; fields: JsonField[] }[];
}

/** Removes `//` comments outside strings and returns [json, leading comment lines]. */
function stripComments(text: string): { json: string; comments: string[] } {
  const comments: string[] = [];
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c === '/' && text[i + 1] === '/') {
      const end = text.indexOf('\n', i);
      const line = text.slice(i + 2, end < 0 ? text.length : end);
      comments.push(line.replace(/^ /, ''));
      i = end < 0 ? text.length : end - 1;
    } else out += c;
  }
  return { json: out, comments };
}

function camel(name: string): string {
  return name[0]!.toLowerCase() + name.slice(1);
}

function load(dir: string, file: string): { msg: JsonMessage; history: string[] } {
  const { json, comments } = stripComments(readFileSync(join(dir, file), 'utf8'));
  // Drop the Apache license header; keep the version history comments.
  const start = comments.findIndex((l) => l.includes('limitations under the License'));
  const history = comments.slice(start + 1).filter((l, i, a) => l.trim() !== '' || (i > 0 && a[i - 1]!.trim() !== ''));
  return { msg: JSON.parse(json) as JsonMessage, history };
}

const PRIMITIVES = new Set(['bool', 'int8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'float64', 'string', 'bytes', 'uuid', 'records']);

function emitFields(fields: JsonField[], common: Map<string, JsonField[]>, indent: string): string {
  const lines: string[] = [];
  for (const f of fields) {
    const base = f.type.startsWith('[]') ? f.type.slice(2) : f.type;
    let sub = f.fields;
    if (!PRIMITIVES.has(base) && !sub) {
      sub = common.get(base);
      if (!sub) throw new Error(`unknown type ${f.type} for ${f.name}`);
    }
    const parts = [`name: '${camel(f.name)}'`, `type: '${f.type}'`, `versions: '${f.versions}'`];
    if (f.nullableVersions) parts.push(`nullableVersions: '${f.nullableVersions}'`);
    if (f.taggedVersions) parts.push(`taggedVersions: '${f.taggedVersions}'`, `tag: ${f.tag}`);
    if (f.default !== undefined) parts.push(`default: ${JSON.stringify(String(f.default))}`);
    if (sub) {
      lines.push(`${indent}{ ${parts.join(', ')}, fields: [\n${emitFields(sub, common, indent + '  ')}${indent}] },`);
    } else {
      lines.push(`${indent}{ ${parts.join(', ')} },`);
    }
  }
  return lines.map((l) => l + '\n').join('');
}

function emitMessage(msg: JsonMessage): string {
  const common = new Map((msg.commonStructs ?? []).map((s) => [s.name, s.fields]));
  return `{
    name: '${msg.name}',
    apiKey: ${msg.apiKey},
    type: '${msg.type}',
    validVersions: '${msg.validVersions}',
    flexibleVersions: '${msg.flexibleVersions}',
    fields: [
${emitFields(msg.fields, common, '      ')}    ],
  }`;
}

function kebab(name: string): string {
  return name.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase();
}

export function generate(dir: string, outDir: string): void {
  const index: string[] = [];
  for (const api of API_NAMES) {
    const req = load(dir, `${api}Request.json`);
    const res = load(dir, `${api}Response.json`);
    const comment = (title: string, lines: string[]): string =>
      lines.length ? ` *\n * ${title}:\n${lines.map((l) => ` *   ${l}`.trimEnd()).join('\n')}\n` : '';
    const file = `// Generated by protocols/kafka/schema/generate.ts from apache/kafka
// clients/src/main/resources/common/message/${api}{Request,Response}.json. Do not edit by hand.
import type { ApiDef } from './types.js';

/**
 * ${api} (API key ${req.msg.apiKey}).
${comment('Request', req.history)}${comment('Response', res.history)} */
export const ${camel(api)}: ApiDef = {
  apiKey: ${req.msg.apiKey},
  name: '${api}',
  request: ${emitMessage(req.msg)},
  response: ${emitMessage(res.msg)},
};
`;
    writeFileSync(join(outDir, `${kebab(api)}.ts`), file);
    index.push(`export { ${camel(api)} } from './${kebab(api)}.js';`);
  }
  writeFileSync(
    join(outDir, 'apis.ts'),
    `// Generated by protocols/kafka/schema/generate.ts. Do not edit by hand.\n${index.join('\n')}\n`,
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const dir = process.argv[2];
  if (!dir) throw new Error('usage: generate.ts <kafka message json dir>');
  generate(dir, dirname(fileURLToPath(import.meta.url)));
}
