/**
 * `polybroker ctl ...`: operates a running broker through its control socket
 * (`<dataDir>/ctl/polybroker.sock`). Output is a table, or JSON with `--json`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../config/index.js';
import { BrokerNotRunningError, ControlClient, ControlError } from './control-client.js';
import { controlSocketPath, MAX_REQUEST_BYTES, type ApiCall } from './control-protocol.js';
import { ProgressBar } from './progress-bar.js';
import { formatTable } from './table.js';

interface GlobalOptions {
  dataDir?: string;
  config?: string;
  json?: boolean;
  vhost?: string;
}

const enc = encodeURIComponent;

/** What each `list` kind reads and which columns its table shows. */
const LISTS: Record<string, { path: (o: GlobalOptions) => string; columns: string[] }> = {
  connections: { path: () => '/api/connections', columns: ['name', 'protocol', 'vhost', 'user', 'client_id', 'peer_host', 'channels'] },
  channels: { path: () => '/api/channels', columns: ['name', 'vhost', 'user', 'consumer_count', 'messages_unacknowledged', 'prefetch_count'] },
  consumers: { path: (o) => (o.vhost ? `/api/consumers/${enc(o.vhost)}` : '/api/consumers'), columns: ['queue.vhost', 'queue.name', 'consumer_tag', 'polybroker_protocol', 'ack_required', 'prefetch_count', 'activity_status', 'channel_details.name'] },
  'vhost-limits': { path: (o) => (o.vhost ? `/api/vhost-limits/${enc(o.vhost)}` : '/api/vhost-limits'), columns: ['vhost', 'value.max-connections', 'value.max-queues'] },
  queues: { path: (o) => (o.vhost ? `/api/queues/${enc(o.vhost)}` : '/api/queues'), columns: ['vhost', 'name', 'type', 'messages_ready', 'messages_unacknowledged', 'consumers'] },
  exchanges: { path: (o) => (o.vhost ? `/api/exchanges/${enc(o.vhost)}` : '/api/exchanges'), columns: ['vhost', 'name', 'type', 'durable'] },
  bindings: { path: (o) => (o.vhost ? `/api/bindings/${enc(o.vhost)}` : '/api/bindings'), columns: ['vhost', 'source', 'destination', 'destination_type', 'routing_key'] },
  streams: { path: (o) => (o.vhost ? `/api/streams/${enc(o.vhost)}` : '/api/streams'), columns: ['vhost', 'name', 'partitions', 'messages', 'retention_ms'] },
  groups: { path: (o) => (o.vhost ? `/api/consumer-groups/${enc(o.vhost)}` : '/api/consumer-groups'), columns: ['vhost', 'group', 'state', 'members', 'lag'] },
  delayed: { path: (o) => (o.vhost ? `/api/delayed/${enc(o.vhost)}` : '/api/delayed'), columns: ['vhost', 'delayed', 'id', 'due_at', 'exchange', 'routing_key', 'queue', 'retry'] },
  'dead-letters': { path: () => '/api/dead-letters', columns: ['vhost', 'queue', 'dead_lettered', 'dead_letter_exchange'] },
  sessions: { path: () => '/api/mqtt/sessions', columns: ['vhost', 'client_id', 'connected', 'messages', 'subscriptions'] },
  vhosts: { path: () => '/api/vhosts', columns: ['name', 'messages', 'polybroker_connections'] },
  users: { path: () => '/api/users', columns: ['name', 'tags'] },
  policies: { path: () => '/api/policies', columns: ['vhost', 'name', 'pattern', 'apply-to', 'priority', 'definition'] },
};

function socketPath(o: GlobalOptions): string {
  if (o.dataDir) return controlSocketPath(resolve(o.dataDir));
  const loaded = loadConfig({ file: o.config, env: process.env });
  return controlSocketPath(resolve(loaded.config.node.dataDir));
}

/** Connects, runs `fn`, prints errors as one line and sets the exit code. */
async function withClient(o: GlobalOptions, fn: (c: ControlClient) => Promise<void>): Promise<void> {
  let client: ControlClient;
  try {
    client = await ControlClient.connect(socketPath(o));
  } catch (err) {
    process.stderr.write(`polybroker ctl: ${err instanceof BrokerNotRunningError ? err.message : (err as Error).message}\n`);
    process.exitCode = 1;
    return;
  }
  try {
    await fn(client);
  } catch (err) {
    process.stderr.write(`polybroker ctl: ${err instanceof ControlError ? err.message : (err as Error).message}\n`);
    process.exitCode = 1;
  } finally {
    client.close();
  }
}

function print(o: GlobalOptions, value: unknown, columns?: string[]): void {
  if (o.json || !columns || !Array.isArray(value)) {
    process.stdout.write(JSON.stringify(value, null, 2) + '\n');
    return;
  }
  const rows = (value as Record<string, unknown>[]).map((r) => {
    const row = { ...r };
    if (Array.isArray(row.members)) row.members = row.members.length;
    if (Array.isArray(row.tags)) row.tags = row.tags.join(',');
    if (Array.isArray(row.subscriptions)) row.subscriptions = row.subscriptions.join(' ');
    return row;
  });
  process.stdout.write(formatTable(rows, columns));
}

/** Runs many API calls with a progress bar (more than one call) and returns their results. */
async function batch(c: ControlClient, label: string, calls: ApiCall[]): Promise<unknown[]> {
  if (calls.length <= 1) return calls.length ? [await c.api(calls[0]!.method, calls[0]!.path, calls[0]!.body)] : [];
  const bar = new ProgressBar(label);
  try {
    return await c.batch(calls, (done, total) => bar.update(done, total));
  } finally {
    bar.finish();
  }
}

export function registerCtl(program: Command): void {
  const ctl = program
    .command('ctl')
    .description('operate a running broker through its control socket (in the data dir)')
    .option('-d, --data-dir <dir>', 'data directory of the broker (default: from the config)')
    .option('-c, --config <file>', 'config file to read node.dataDir from')
    .option('--json', 'print JSON instead of tables')
    .option('--vhost <vhost>', 'vhost (default / where one is needed)');
  const opts = (cmd: Command) => cmd.optsWithGlobals<GlobalOptions>();

  ctl
    .command('status')
    .description('is the broker running: pid, listeners, connections')
    .action((_o, cmd: Command) =>
      withClient(opts(cmd), async (c) => {
        const s = await c.status();
        if (opts(cmd).json) print(opts(cmd), s);
        else {
          const listeners = Object.entries((s.listeners ?? {}) as Record<string, { host: string; port: number }>).map(([n, a]) => `${n} ${a.host}:${a.port}`);
          process.stdout.write(`status: ${String(s.status)}\nversion: ${String(s.version)}\npid: ${String(s.pid)}\ndata dir: ${String(s.dataDir)}\nuptime: ${Math.round(Number(s.uptimeMs) / 1000)} s\nlisteners: ${listeners.join(', ')}\nconnections: ${JSON.stringify(s.connections)}\n`);
        }
      }),
    );

  ctl
    .command('list')
    .description(`list objects: ${Object.keys(LISTS).join(', ')}`)
    .argument('<kind>', Object.keys(LISTS).join(' | '))
    .action((kind: string, _o, cmd: Command) => {
      const spec = LISTS[kind];
      if (!spec) {
        process.stderr.write(`polybroker ctl: cannot list '${kind}': choose one of ${Object.keys(LISTS).join(', ')}\n`);
        process.exitCode = 1;
        return;
      }
      return withClient(opts(cmd), async (c) => print(opts(cmd), await c.api('GET', spec.path(opts(cmd))), spec.columns));
    });

  ctl
    .command('purge')
    .description('remove the ready messages of a queue (or of every queue matching --pattern)')
    .argument('[queue]', 'queue name')
    .option('--pattern <regex>', 'every queue whose name matches')
    .action((queue: string | undefined, o: { pattern?: string }, cmd: Command) =>
      withClient(opts(cmd), async (c) => {
        const vhost = opts(cmd).vhost ?? '/';
        const names = await targetQueues(c, vhost, queue, o.pattern);
        await batch(c, 'purging', names.map((n) => ({ method: 'DELETE', path: `/api/queues/${enc(vhost)}/${enc(n)}/contents` })));
        process.stdout.write(`purged ${names.length} queue(s): ${names.join(', ')}\n`);
      }),
    );

  ctl
    .command('delete')
    .description('delete a queue, exchange or stream (queues also by --pattern)')
    .argument('<kind>', 'queue | exchange | stream')
    .argument('[name]', 'its name')
    .option('--pattern <regex>', 'queues: every queue whose name matches')
    .action((kind: string, name: string | undefined, o: { pattern?: string }, cmd: Command) =>
      withClient(opts(cmd), async (c) => {
        const vhost = opts(cmd).vhost ?? '/';
        const base = kind === 'queue' ? 'queues' : kind === 'exchange' ? 'exchanges' : kind === 'stream' ? 'streams' : null;
        if (!base) throw new ControlError(`cannot delete '${kind}': choose queue, exchange or stream`);
        const names = kind === 'queue' ? await targetQueues(c, vhost, name, o.pattern) : name ? [name] : [];
        if (names.length === 0) throw new ControlError(`name the ${kind} to delete`);
        await batch(c, 'deleting', names.map((n) => ({ method: 'DELETE', path: `/api/${base}/${enc(vhost)}/${enc(n)}` })));
        process.stdout.write(`deleted ${names.length} ${kind}(s): ${names.join(', ')}\n`);
      }),
    );

  ctl
    .command('close')
    .description('close a connection (any protocol) by its name from `list connections`')
    .argument('<connection>', 'connection name, e.g. conn-12')
    .option('--reason <text>', 'reason sent to the client', 'closed by polybroker ctl')
    .action((name: string, o: { reason: string }, cmd: Command) =>
      withClient(opts(cmd), async (c) => {
        const conns = (await c.api('GET', '/api/connections')) as { name: string }[];
        if (!conns.some((x) => x.name === name)) throw new ControlError(`no connection '${name}'`);
        await c.api('DELETE', `/api/connections/${enc(name)}`, { reason: o.reason });
        process.stdout.write(`closed ${name}\n`);
      }),
    );

  ctl
    .command('reset-offsets')
    .description("reset a consumer group's committed offsets (prints the plan; --execute commits it, as kafka-consumer-groups)")
    .argument('<group>', 'consumer group')
    .option('--stream <stream>', 'only this stream (default: every stream the group committed)')
    .option('--partitions <list>', 'comma-separated partitions (default: all)')
    .option('--to-earliest', 'to the log start')
    .option('--to-latest', 'to the end')
    .option('--to-offset <n>', 'to an offset')
    .option('--to-datetime <iso>', 'to the first offset at or after a time (ISO 8601 or ms)')
    .option('--shift-by <n>', 'move by n (negative: back)')
    .option('--execute', 'commit the new offsets (default: dry run)')
    .action((group: string, o: Record<string, string | boolean | undefined>, cmd: Command) =>
      withClient(opts(cmd), async (c) => {
        const vhost = opts(cmd).vhost ?? '/';
        const body: Record<string, unknown> = { dry_run: o.execute !== true };
        if (typeof o.stream === 'string') body.stream = o.stream;
        if (typeof o.partitions === 'string') body.partitions = o.partitions.split(',').map(Number);
        if (o.toEarliest) body.to = 'earliest';
        else if (o.toLatest) body.to = 'latest';
        else if (o.toOffset !== undefined) Object.assign(body, { to: 'offset', offset: Number(o.toOffset) });
        else if (o.toDatetime !== undefined) Object.assign(body, { to: 'timestamp', timestamp: /^\d+$/.test(String(o.toDatetime)) ? Number(o.toDatetime) : String(o.toDatetime) });
        else if (o.shiftBy !== undefined) Object.assign(body, { to: 'shift-by', shift_by: Number(o.shiftBy) });
        else throw new ControlError('say where to: --to-earliest, --to-latest, --to-offset, --to-datetime or --shift-by');
        const res = (await c.api('POST', `/api/consumer-groups/${enc(vhost)}/${enc(group)}/reset-offsets`, body)) as { dry_run: boolean; plan: Record<string, unknown>[] };
        if (opts(cmd).json) print(opts(cmd), res);
        else {
          process.stdout.write(formatTable(res.plan, ['stream', 'partition', 'current', 'target']));
          process.stdout.write(res.dry_run ? 'dry run: nothing committed (add --execute to commit)\n' : `committed ${res.plan.length} offset(s)\n`);
        }
      }),
    );

  ctl
    .command('redrive')
    .description('move dead-lettered messages from a queue back to the queue each died in (or --to a queue)')
    .argument('<queue>', 'the dead-letter queue')
    .option('--to <queue>', 'move them here instead of their origin queues')
    .option('--limit <n>', 'at most n messages')
    .action((queue: string, o: { to?: string; limit?: string }, cmd: Command) =>
      withClient(opts(cmd), async (c) => {
        const vhost = opts(cmd).vhost ?? '/';
        const body: Record<string, unknown> = {};
        if (o.to) body.to = o.to;
        if (o.limit !== undefined) body.limit = Number(o.limit);
        const res = (await c.api('POST', `/api/queues/${enc(vhost)}/${enc(queue)}/redrive`, body)) as { moved: number; skipped: number };
        if (opts(cmd).json) print(opts(cmd), res);
        else process.stdout.write(`moved ${res.moved} message(s), skipped ${res.skipped} (no origin queue)\n`);
      }),
    );

  ctl
    .command('export')
    .description('export definitions (RabbitMQ definitions JSON) to a file or stdout')
    .argument('[file]', 'output file (default: stdout)')
    .action((file: string | undefined, _o, cmd: Command) =>
      withClient(opts(cmd), async (c) => {
        const defs = await c.api('GET', '/api/definitions');
        const text = JSON.stringify(defs, null, 2) + '\n';
        if (file) {
          writeFileSync(file, text);
          process.stdout.write(`exported definitions to ${file}\n`);
        } else process.stdout.write(text);
      }),
    );

  ctl
    .command('import')
    .description('import definitions (RabbitMQ or polybroker export), idempotently and all or nothing; shows progress')
    .argument('<file>', 'definitions JSON file')
    .action((file: string, _o, cmd: Command) =>
      withClient(opts(cmd), async (c) => {
        let defs: Record<string, unknown>;
        try {
          defs = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
        } catch (err) {
          throw new ControlError(`${file}: ${(err as Error).message}`);
        }
        // One call: the broker checks the whole document first and applies all of it or nothing.
        const size = Buffer.byteLength(JSON.stringify(defs));
        if (size > MAX_REQUEST_BYTES - 1024) throw new ControlError(`${file}: ${Math.ceil(size / 2 ** 20)} MiB of definitions is more than one import takes (64 MiB)`);
        const bar = new ProgressBar('importing');
        let changes: string[];
        try {
          changes = ((await c.api('POST', '/api/definitions', defs, (done, total) => bar.update(done, total))) as { changes: string[] }).changes;
        } catch (err) {
          bar.abandon();
          throw err;
        }
        bar.finish();
        if (opts(cmd).json) print(opts(cmd), { changes });
        else process.stdout.write(changes.length ? `${changes.map((x) => `  ${x}`).join('\n')}\nimported: ${changes.length} change(s)\n` : 'imported: nothing changed\n');
      }),
    );

  ctl
    .command('reload')
    .description('re-read the config file and apply definition and user changes (as SIGHUP)')
    .action((_o, cmd: Command) =>
      withClient(opts(cmd), async (c) => {
        const report = await c.reload();
        if (opts(cmd).json) print(opts(cmd), report);
        else process.stdout.write(report.changes.length ? `${report.changes.map((x) => `  ${x}`).join('\n')}\nreloaded: ${report.changes.length} change(s)\n` : 'reloaded: nothing changed\n');
      }),
    );
}

async function targetQueues(c: ControlClient, vhost: string, name: string | undefined, pattern: string | undefined): Promise<string[]> {
  if (name && !pattern) return [name];
  if (!pattern) throw new ControlError('name a queue or give --pattern');
  const re = new RegExp(pattern);
  const queues = (await c.api('GET', `/api/queues/${enc(vhost)}`)) as { name: string }[];
  return queues.map((q) => q.name).filter((n) => re.test(n));
}
