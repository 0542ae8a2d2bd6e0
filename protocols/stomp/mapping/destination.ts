import { StompError } from '../errors.js';

/**
 * STOMP destinations as RabbitMQ maps them (rabbitmq.com/docs/stomp "Destinations"):
 *
 * | destination                     | SEND                                | SUBSCRIBE                                       |
 * | `/queue/<name>`                 | default exchange → `<name>` (declared on first use) | declare `<name>` (durable), consume  |
 * | `/amq/queue/<name>`             | default exchange → `<name>`          | consume the existing queue `<name>`             |
 * | `/topic/<rk>`                   | `amq.topic` with `<rk>`              | own queue bound to `amq.topic` with `<rk>`      |
 * | `/exchange/<ex>[/<rk>]`         | `<ex>` with `<rk>` (or '')           | own queue bound to `<ex>` with `<rk>` (or '')   |
 * | `/temp-queue/<name>`            | in `reply-to` only: a private exclusive queue, auto-subscribed  |
 * | `/reply-queue/<queue>`          | default exchange → `<queue>` (the rewritten reply-to)           |
 *
 * Name parts are percent-decoded (`%2F` for a slash), as RabbitMQ encodes them on MESSAGE.
 */
export type Destination =
  | { kind: 'queue'; name: string }
  | { kind: 'amq-queue'; name: string }
  | { kind: 'topic'; routingKey: string }
  | { kind: 'exchange'; exchange: string; routingKey: string | undefined }
  | { kind: 'temp-queue'; name: string }
  | { kind: 'reply-queue'; name: string };

/** Destination types by prefix, with the name RabbitMQ's errors give the type. */
const PREFIXES: ReadonlyArray<[string, Destination['kind'], string]> = [
  ['/queue', 'queue', 'queue'],
  ['/amq/queue', 'amq-queue', 'amqqueue'],
  ['/topic', 'topic', 'topic'],
  ['/exchange', 'exchange', 'exchange'],
  ['/temp-queue', 'temp-queue', "'temp-queue'"],
  ['/reply-queue', 'reply-queue', 'reply_queue'],
];

/**
 * A destination of a known type whose name part is wrong (`/queue/a/b`, `/topic`, `/exchange//x`)
 * is `Invalid destination`, naming the part and the type; an unknown type is
 * `Unknown destination`: RabbitMQ's two errors (rabbit_routing_util:parse_endpoint).
 */
export function parseDestination(value: string): Destination {
  for (const [base, kind, label] of PREFIXES) {
    if (value !== base && !value.startsWith(`${base}/`)) continue;
    // What follows the type, slash included: what RabbitMQ's error quotes.
    const content = value.slice(base.length);
    const rest = content.slice(1);
    const bad = () => invalid(content, label);
    if (kind === 'exchange') {
      const slash = rest.indexOf('/');
      const exchange = decodePart(slash < 0 ? rest : rest.slice(0, slash), bad);
      if (exchange.length === 0) throw bad();
      if (slash < 0) return { kind, exchange, routingKey: undefined };
      const rk = rest.slice(slash + 1);
      if (rk.includes('/')) throw bad();
      return { kind, exchange, routingKey: decodePart(rk, bad) };
    }
    if (rest.length === 0 || rest.includes('/')) throw bad();
    const part = decodePart(rest, bad);
    return kind === 'topic' ? { kind, routingKey: part } : { kind, name: part };
  }
  throw unknown(value);
}

function decodePart(part: string, bad: () => StompError): string {
  if (!part.includes('%')) return part;
  try {
    return decodeURIComponent(part);
  } catch {
    throw bad();
  }
}

function invalid(content: string, type: string): StompError {
  return new StompError('Invalid destination', `'${content}' is not a valid ${type} destination\n`);
}

function unknown(value: string): StompError {
  return new StompError(
    'Unknown destination',
    `'${value}' is not a valid destination.\nValid destination types are: /exchange/<exchange>[/<routing-key>], /topic/<routing-key>, /queue/<queue>, /amq/queue/<queue>, /reply-queue/<queue>; /temp-queue/<name> is valid in reply-to only.\n`,
  );
}

const PLAIN = /^[\x21-\x24\x26-\x2e\x30-\x7e]*$/;

/** Percent-encodes `/`, `%` and non-ASCII bytes of a name part, as RabbitMQ does on MESSAGE. */
export function encodePart(part: string): string {
  if (PLAIN.test(part)) return part;
  let out = '';
  for (const byte of Buffer.from(part, 'utf8')) {
    out += byte > 0x20 && byte < 0x7f && byte !== 0x2f && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * The `destination` of a MESSAGE, "as though the message originated from a SEND frame": the
 * default exchange gives `/queue/<rk>`, `amq.topic` gives `/topic/<rk>`, any other exchange
 * `/exchange/<name>[/<rk>]`.
 */
export function destinationOf(exchange: string, routingKey: string): string {
  if (exchange === '') return `/queue/${encodePart(routingKey)}`;
  if (exchange === 'amq.topic') return `/topic/${encodePart(routingKey)}`;
  return routingKey === '' ? `/exchange/${encodePart(exchange)}` : `/exchange/${encodePart(exchange)}/${encodePart(routingKey)}`;
}
