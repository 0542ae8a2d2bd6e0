/**
 * An exchange and its bindings (as source), indexed per type so routing never scans every
 * binding: direct -> Map by routing key, topic -> TopicTrie, fanout -> list, headers -> list of
 * compiled matchers.
 */
import type { Arguments, ExchangeInfo, ExchangeType } from './api.js';
import { compileHeadersBinding, headersMatch, type HeadersBinding } from './headers-match.js';
import type { Header } from './message.js';
import { canonicalArg } from './queue-args.js';
import { TopicTrie } from './topic-trie.js';

/** Something a binding can point at. Marks let routing dedupe without allocating a Set. */
export interface Routable {
  readonly kind: 'queue' | 'stream' | 'exchange';
  readonly name: string;
  /** Publish stamp: already collected as a destination of the current publish. */
  routeMark: number;
  /** Bindings pointing at it (for removal on delete); null when none. */
  boundBy: Binding[] | null;
}

export interface Binding {
  source: Exchange;
  destination: Routable;
  routingKey: string;
  args: Arguments;
  /** Canonical args, part of the binding's identity. */
  argsKey: string;
  headers: HeadersBinding | null;
}

export function argsKey(args: Arguments): string {
  const keys = Object.keys(args).sort();
  if (keys.length === 0) return '';
  return keys.map((k) => `${k}=${canonicalArg(args[k])}`).join('\u0000');
}

const NO_BINDINGS: readonly Binding[] = [];

export type RoutingType = Exclude<ExchangeType, 'x-delayed-message'>;
const ROUTING_TYPES: readonly string[] = ['direct', 'fanout', 'topic', 'headers'];

/** The `x-delayed-type` of a delayed-message exchange, or null when missing or not a routing type. */
export function delayedTypeArg(args: Arguments): RoutingType | null {
  const v = args['x-delayed-type'];
  const t = Buffer.isBuffer(v) ? v.toString('utf8') : v;
  return typeof t === 'string' && ROUTING_TYPES.includes(t) ? (t as RoutingType) : null;
}

function delayedRoutingType(args: Arguments): RoutingType {
  return delayedTypeArg(args) ?? 'direct';
}

export class Exchange implements Routable {
  readonly kind = 'exchange' as const;
  routeMark = 0;
  /** Visit stamp of the current routing key walk (e2e loops end here). */
  visitMark = 0;
  boundBy: Binding[] | null = null;
  /** Bindings with this exchange as source; a Set so removal is O(1) with 100,000 bindings. */
  private readonly bindingSet = new Set<Binding>();
  private bindingList: Binding[] | null = null;
  private direct: Map<string, Binding[]> | null = null;
  private trie: TopicTrie<Binding> | null = null;

  /**
   * How bindings match: the type, or for `x-delayed-message` (RabbitMQ's delayed-message
   * plugin) its `x-delayed-type` argument.
   */
  readonly routingType: RoutingType;

  constructor(
    readonly name: string,
    readonly type: ExchangeType,
    readonly durable: boolean,
    readonly autoDelete: boolean,
    readonly internal: boolean,
    readonly args: Arguments,
    readonly vhostName: string,
  ) {
    this.routingType = type === 'x-delayed-message' ? delayedRoutingType(args) : type;
  }

  /** Messages with an `x-delay` header wait that many ms before they are routed. */
  get delayed(): boolean {
    return this.type === 'x-delayed-message';
  }

  /** Effective alternate exchange (argument, else policy). */
  alternate: string | null = null;

  info(): ExchangeInfo {
    return { name: this.name, type: this.type, durable: this.durable, autoDelete: this.autoDelete, internal: this.internal, arguments: this.args };
  }

  describe(): string {
    return `exchange '${this.name}' in vhost '${this.vhostName}'`;
  }

  /** Bindings with this exchange as source, as an array (cached until the next change). */
  get bindings(): readonly Binding[] {
    return (this.bindingList ??= [...this.bindingSet]);
  }

  get bindingCount(): number {
    return this.bindingSet.size;
  }

  /** Looks through the destination's own bindings (usually one or two), not the exchange's. */
  find(destination: Routable, routingKey: string, key: string): Binding | undefined {
    const by = destination.boundBy;
    if (!by) return undefined;
    for (const b of by) if (b.source === this && b.routingKey === routingKey && b.argsKey === key) return b;
    return undefined;
  }

  /** Adds a binding (the caller checks it is new). Throws InvalidArgument for a bad x-match. */
  add(destination: Routable, routingKey: string, args: Arguments): Binding {
    const b: Binding = {
      source: this,
      destination,
      routingKey,
      args,
      argsKey: argsKey(args),
      headers: this.routingType === 'headers' ? compileHeadersBinding(args) : null,
    };
    this.bindingSet.add(b);
    this.bindingList = null;
    (destination.boundBy ??= []).push(b);
    if (this.routingType === 'direct') {
      this.direct ??= new Map();
      const list = this.direct.get(routingKey);
      if (list) list.push(b);
      else this.direct.set(routingKey, [b]);
    } else if (this.routingType === 'topic') {
      (this.trie ??= new TopicTrie<Binding>()).add(routingKey, b);
    }
    return b;
  }

  remove(b: Binding): void {
    if (!this.bindingSet.delete(b)) return;
    this.bindingList = null;
    const by = b.destination.boundBy;
    if (by) {
      const j = by.indexOf(b);
      if (j >= 0) by.splice(j, 1);
      if (by.length === 0) b.destination.boundBy = null;
    }
    if (this.routingType === 'direct') {
      const list = this.direct?.get(b.routingKey);
      if (list) {
        const k = list.indexOf(b);
        if (k >= 0) list.splice(k, 1);
        if (list.length === 0) this.direct!.delete(b.routingKey);
      }
    } else if (this.routingType === 'topic') {
      this.trie?.remove(b.routingKey, b);
    }
  }

  /** Bindings matching a message. The array may be shared: do not modify it. */
  match(routingKey: string, headers: readonly Header[]): readonly Binding[] {
    switch (this.routingType) {
      case 'direct':
        return this.direct?.get(routingKey) ?? NO_BINDINGS;
      case 'topic':
        return this.trie ? this.trie.match(routingKey) : NO_BINDINGS;
      case 'fanout':
        return this.bindings;
      case 'headers': {
        let out: Binding[] | null = null;
        for (const b of this.bindings) if (headersMatch(b.headers!, headers)) (out ??= []).push(b);
        return out ?? NO_BINDINGS;
      }
    }
  }
}
