import { createServer, type Server, type Socket } from 'node:net';
import { FrameSplitter } from '../protocols/kafka/codec/frame-splitter.js';
import { encodeResponseFrame, readHeaderRest, readHeaderStart } from '../protocols/kafka/codec/frame.js';
import { Reader } from '../protocols/kafka/codec/reader.js';
import { RequestBuffers } from '../protocols/kafka/codec/request-buffers.js';
import { decode, isFlexible, type Message } from '../protocols/kafka/codec/schema-codec.js';
import { Writer } from '../protocols/kafka/codec/writer.js';
import { apiVersions, metadata, produce } from '../protocols/kafka/schema/apis.js';
import type { ApiDef } from '../protocols/kafka/schema/types.js';

/**
 * A discarding Kafka sink for measuring a load generator's ceiling (bench/kafka.ts,
 * bench/kafka-generator-ceiling.ts): a listener speaking the real codec (ApiVersions, Metadata,
 * Produce) that answers every Produce at once and stores nothing. Not a broker: it shows how fast
 * librdkafka can send on this machine when the receiver is as cheap as it gets.
 */
/** The same API ranges the broker advertises for these keys, so librdkafka enables the same features. */
const RANGES = [
  { apiKey: 0, minVersion: 0, maxVersion: 11 },
  { apiKey: 1, minVersion: 0, maxVersion: 17 },
  { apiKey: 3, minVersion: 0, maxVersion: 12 },
  { apiKey: 18, minVersion: 0, maxVersion: 3 },
];
const APIS = new Map<number, ApiDef>([
  [0, produce],
  [3, metadata],
  [18, apiVersions],
]);

function serveSink(socket: Socket, port: number, pool: RequestBuffers): void {
  socket.setNoDelay(true);
  const splitter = new FrameSplitter(100 << 20, pool);
  const w = new Writer();
  const offsets = new Map<string, number>();
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk: Buffer) => {
    for (const frame of splitter.push(chunk)) {
      const r = new Reader(frame);
      const h = readHeaderStart(r);
      const api = APIS.get(h.apiKey);
      if (!api) {
        socket.destroy();
        return;
      }
      readHeaderRest(r, h, isFlexible(api.request, h.apiVersion));
      const req = decode(api.request, h.apiVersion, r);
      if (req.error !== null) {
        socket.destroy();
        return;
      }
      const body = answer(h.apiKey, req.value, port, offsets);
      pool.release(frame);
      if (body === null) continue;
      const flexibleHeader = h.apiKey !== 18 && isFlexible(api.response, h.apiVersion);
      socket.write(encodeResponseFrame(w, h.correlationId, flexibleHeader, api.response, h.apiVersion, body));
    }
  });
}

function answer(apiKey: number, req: Message, port: number, offsets: Map<string, number>): Message | null {
  if (apiKey === 18) return { errorCode: 0, apiKeys: RANGES, throttleTimeMs: 0 };
  if (apiKey === 3) {
    const names: string[] = (req.topics ?? []).map((t: Message) => t.name as string);
    return {
      throttleTimeMs: 0,
      brokers: [{ nodeId: 0, host: '127.0.0.1', port, rack: null }],
      clusterId: 'sink',
      controllerId: 0,
      topics: names.map((name) => ({
        errorCode: 0,
        name,
        isInternal: false,
        partitions: [{ errorCode: 0, partitionIndex: 0, leaderId: 0, leaderEpoch: 0, replicaNodes: [0], isrNodes: [0], offlineReplicas: [] }],
        topicAuthorizedOperations: -2147483648,
      })),
    };
  }
  if (req.acks === 0) return null;
  return {
    throttleTimeMs: 0,
    responses: (req.topicData as Message[]).map((t) => ({
      name: t.name,
      partitionResponses: (t.partitionData as Message[]).map((p) => {
        const key = `${t.name}/${p.index}`;
        const base = offsets.get(key) ?? 0;
        const records = p.records as Buffer | null;
        const count = records !== null && records.length >= 61 ? records.readInt32BE(57) : 0;
        offsets.set(key, base + count);
        return { index: p.index, errorCode: 0, baseOffset: base, logAppendTimeMs: -1, logStartOffset: 0, recordErrors: [], errorMessage: null };
      }),
    })),
  };
}


export interface DiscardingSink {
  port: number;
  close(): void;
}

export async function startDiscardingSink(): Promise<DiscardingSink> {
  const pool = new RequestBuffers();
  let port = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    serveSink(s, port, pool);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
  return {
    port,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}
