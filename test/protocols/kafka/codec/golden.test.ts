/**
 * Golden bytes: request frames captured from stock clients talking to polybroker
 * (test/fixtures/kafka/<client>/, recorded by helpers/capture-fixtures.ts). For each: the decode
 * equals the recorded object, re-encoding gives the client's exact bytes, and the frame splitter
 * yields the same frame whatever byte boundaries the bytes arrive in.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeRequestFrame, readHeaderRest, readHeaderStart } from '../../../../protocols/kafka/codec/frame.js';
import { FrameSplitter } from '../../../../protocols/kafka/codec/frame-splitter.js';
import { Reader } from '../../../../protocols/kafka/codec/reader.js';
import { decode, isFlexible } from '../../../../protocols/kafka/codec/schema-codec.js';
import { handlerTable } from '../../../../protocols/kafka/handlers/index.js';

const root = join(import.meta.dirname, '../../../fixtures/kafka');
const handlers = handlerTable();

function toJson(v: unknown): unknown {
  if (Buffer.isBuffer(v)) return { hex: v.toString('hex') };
  if (Array.isArray(v)) return v.map(toJson);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toJson(x)]));
  return v;
}

for (const client of readdirSync(root)) {
  describe(`golden requests from ${client}`, () => {
    for (const file of readdirSync(join(root, client)).filter((f) => f.endsWith('.bin'))) {
      it(file.replace('.bin', ''), () => {
        const frame = readFileSync(join(root, client, file));
        const expected = JSON.parse(readFileSync(join(root, client, file.replace('.bin', '.json')), 'utf8'));
        const r = new Reader(frame);
        const header = readHeaderStart(r);
        const handler = handlers.get(header.apiKey)!;
        expect(header.apiVersion).toBeGreaterThanOrEqual(handler.minVersion);
        expect(header.apiVersion).toBeLessThanOrEqual(handler.maxVersion);
        const flexible = isFlexible(handler.api.request, header.apiVersion);
        readHeaderRest(r, header, flexible);
        const body = decode(handler.api.request, header.apiVersion, r);
        expect(body.error).toBeNull();
        expect({ header, body: toJson(body.value) }).toEqual(expected);

        // Re-encoded, the request is byte-identical to what the client sent (tagged header
        // fields aside: none of these clients sends any).
        const again = encodeRequestFrame(header, flexible, handler.api.request, body.value!);
        expect(again.subarray(4)).toEqual(frame);

        // Split at every boundary, the splitter still yields exactly this frame.
        for (let cut = 1; cut < again.length; cut += Math.max(1, Math.floor(again.length / 40))) {
          const s = new FrameSplitter(1 << 20);
          const out = [...s.push(again.subarray(0, cut)), ...s.push(again.subarray(cut))];
          expect(out).toEqual([frame]);
        }
      });
    }
  });
}
