import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { StompParser, type StompParserLimits } from '../../../../protocols/stomp/codec/parser.js';
import { StompFrameError } from '../../../../protocols/stomp/codec/frame-error.js';
import type { StompFrame } from '../../../../protocols/stomp/codec/frame.js';
import { headerOf } from '../../../../protocols/stomp/codec/frame.js';
import { encodeFrame } from '../../../../protocols/stomp/codec/encoder.js';
import { CLIENT_COMMANDS, SERVER_COMMANDS, type StompCommand } from '../../../../protocols/stomp/codec/commands.js';
import type { StompVersion } from '../../../../protocols/stomp/spec/versions.js';

interface Decoded {
  command: string;
  headers: string[];
  body: string;
}

function decodeAll(input: Buffer | Buffer[], version: StompVersion = '1.2', limits?: StompParserLimits): Decoded[] {
  const frames: StompFrame[] = [];
  const parser = new StompParser((f) => frames.push(f), limits);
  parser.version = version;
  for (const chunk of Array.isArray(input) ? input : [input]) parser.push(chunk);
  expect(parser.idle).toBe(true);
  return frames.map((f) => ({ command: f.command, headers: f.headers, body: f.body.toString('latin1') }));
}

function errorOf(input: Buffer, version: StompVersion = '1.2', limits?: StompParserLimits): StompFrameError {
  const parser = new StompParser(() => {}, limits);
  parser.version = version;
  try {
    parser.push(input);
  } catch (e) {
    expect(e).toBeInstanceOf(StompFrameError);
    return e as StompFrameError;
  }
  throw new Error('expected a StompFrameError');
}

const b = (s: string) => Buffer.from(s, 'latin1');

/**
 * Golden frames: bytes as stock clients put them on the wire (stomp.py 8 CONNECT, stompit
 * SEND with content-length, stompjs 1.2 SUBSCRIBE with CRLF, RabbitMQ-style MESSAGE).
 */
const GOLDEN: Array<{ name: string; version: StompVersion; bytes: Buffer; frames: Decoded[] }> = [
  {
    name: 'stomp.py 1.2 CONNECT (not escaped, colon in passcode kept)',
    version: '1.2',
    bytes: b('CONNECT\naccept-version:1.2\nhost:/\nlogin:guest\npasscode:a:b\\c\nheart-beat:0,0\n\n\x00'),
    frames: [
      {
        command: 'CONNECT',
        headers: ['accept-version', '1.2', 'host', '/', 'login', 'guest', 'passcode', 'a:b\\c', 'heart-beat', '0,0'],
        body: '',
      },
    ],
  },
  {
    name: 'SEND with content-length and NULs in the body',
    version: '1.1',
    bytes: b('SEND\ndestination:/queue/a\ncontent-length:5\n\na\x00b\x00c\x00'),
    frames: [{ command: 'SEND', headers: ['destination', '/queue/a', 'content-length', '5'], body: 'a\x00b\x00c' }],
  },
  {
    name: '1.2 CRLF line endings and heart-beat EOLs between frames',
    version: '1.2',
    bytes: b('\r\n\nSUBSCRIBE\r\nid:0\r\ndestination:/topic/x\r\nack:client\r\n\r\n\x00\r\n\n\nDISCONNECT\r\nreceipt:77\r\n\r\n\x00'),
    frames: [
      { command: 'SUBSCRIBE', headers: ['id', '0', 'destination', '/topic/x', 'ack', 'client'], body: '' },
      { command: 'DISCONNECT', headers: ['receipt', '77'], body: '' },
    ],
  },
  {
    name: '1.2 escapes in SEND headers, repeated header kept in order',
    version: '1.2',
    bytes: b('SEND\ndestination:/queue/a\nfoo:a\\nb\\cc\\\\d\\re\nfoo:second\n\nhello\x00'),
    frames: [
      { command: 'SEND', headers: ['destination', '/queue/a', 'foo', 'a\nb:c\\d\re', 'foo', 'second'], body: 'hello' },
    ],
  },
  {
    name: '1.0 headers are not unescaped',
    version: '1.0',
    bytes: b('SEND\ndestination:/queue/a\nfoo:a\\nb\n\nhello\x00'),
    frames: [{ command: 'SEND', headers: ['destination', '/queue/a', 'foo', 'a\\nb'], body: 'hello' }],
  },
  {
    name: 'UTF-8 header values and empty body',
    version: '1.2',
    bytes: Buffer.from('SEND\ndestination:/queue/ünï\n\n\x00', 'utf8'),
    frames: [{ command: 'SEND', headers: ['destination', '/queue/ünï'], body: '' }],
  },
  {
    name: 'RabbitMQ MESSAGE',
    version: '1.2',
    bytes: b(
      'MESSAGE\nsubscription:s1\ndestination:/queue/a\nmessage-id:T_s1@@session-x@@1\nredelivered:false\nack:3\ncontent-length:2\n\nhi\x00\n',
    ),
    frames: [
      {
        command: 'MESSAGE',
        headers: [
          'subscription', 's1', 'destination', '/queue/a', 'message-id', 'T_s1@@session-x@@1',
          'redelivered', 'false', 'ack', '3', 'content-length', '2',
        ],
        body: 'hi',
      },
    ],
  },
];

describe('StompParser', () => {
  for (const g of GOLDEN) {
    it(`decodes golden frame: ${g.name}`, () => {
      expect(decodeAll(g.bytes, g.version)).toEqual(g.frames);
    });

    it(`decodes golden frame split at every byte boundary: ${g.name}`, () => {
      for (let i = 1; i < g.bytes.length; i++) {
        expect(decodeAll([g.bytes.subarray(0, i), g.bytes.subarray(i)], g.version)).toEqual(g.frames);
      }
      const bytes = [...g.bytes].map((x) => Buffer.from([x]));
      expect(decodeAll(bytes, g.version)).toEqual(g.frames);
    });
  }

  it('takes the first of repeated headers [STOMP 1.2 Repeated Header Entries]', () => {
    const [f] = decodeAll(b('SEND\ndestination:/queue/a\ndestination:/queue/b\n\n\x00'));
    expect(headerOf(f!.headers, 'destination')).toBe('/queue/a');
  });

  it('uses the first content-length when it repeats', () => {
    expect(decodeAll(b('SEND\ncontent-length:1\ncontent-length:3\n\n\x00\x00')).map((f) => f.body)).toEqual(['\x00']);
  });

  it('returns views of the chunk for a frame that arrives whole', () => {
    const chunk = b('SEND\ndestination:/q\ncontent-length:3\n\nabc\x00');
    const frames: StompFrame[] = [];
    new StompParser((f) => frames.push(f)).push(chunk);
    expect(frames[0]!.body.buffer).toBe(chunk.buffer);
    expect(frames[0]!.rawHeaders.toString()).toBe('destination:/q\ncontent-length:3\n');
  });

  it('applies the version the frame callback sets to the next frame of the same chunk', () => {
    const frames: StompFrame[] = [];
    const parser = new StompParser((f) => {
      frames.push(f);
      if (f.command === 'CONNECT') parser.version = '1.2';
    });
    parser.push(b('CONNECT\naccept-version:1.2\n\n\x00SEND\ndestination:/queue/a\\cb\n\n\x00'));
    expect(headerOf(frames[1]!.headers, 'destination')).toBe('/queue/a:b');
  });

  describe('typed errors', () => {
    it('rejects an unknown command', () => {
      expect(errorOf(b('FOO\n\n\x00')).kind).toBe('unknown-command');
    });
    it('rejects a command line longer than any command without waiting for its end', () => {
      expect(errorOf(b('GET / HTTP/1.1 and more')).kind).toBe('unknown-command');
    });
    it('rejects NACK-like typos and lower case', () => {
      expect(errorOf(b('send\n\n\x00')).kind).toBe('unknown-command');
    });
    it('rejects a header line without a colon', () => {
      expect(errorOf(b('SEND\ndestination\n\n\x00')).kind).toBe('malformed-header');
    });
    it('rejects a header line with an empty name', () => {
      expect(errorOf(b('SEND\n:x\n\n\x00')).kind).toBe('malformed-header');
    });
    it('rejects an undefined escape in 1.2 [STOMP 1.2 Value Encoding]', () => {
      expect(errorOf(b('SEND\nfoo:a\\tb\n\n\x00')).kind).toBe('bad-escape');
    });
    it('rejects \\r as an escape in 1.1 (it is 1.2 only)', () => {
      expect(errorOf(b('SEND\nfoo:a\\rb\n\n\x00'), '1.1').kind).toBe('bad-escape');
    });
    it('rejects a non-numeric content-length', () => {
      expect(errorOf(b('SEND\ncontent-length:-1\n\n\x00')).kind).toBe('bad-content-length');
    });
    it('rejects a body not followed by NUL', () => {
      expect(errorOf(b('SEND\ncontent-length:1\n\nab\x00')).kind).toBe('missing-nul');
    });
    const small: StompParserLimits = { maxHeaderBytes: 64, maxHeaders: 3, maxBodyBytes: 8 };
    it('rejects a content-length above the body limit before buffering', () => {
      expect(errorOf(b('SEND\ncontent-length:9\n\n'), '1.2', small).kind).toBe('body-too-large');
    });
    it('rejects a NUL-terminated body above the body limit', () => {
      expect(errorOf(b('SEND\n\n123456789'), '1.2', small).kind).toBe('body-too-large');
    });
    it('rejects headers above the header limit without waiting for the blank line', () => {
      expect(errorOf(b(`SEND\nx:${'y'.repeat(100)}`), '1.2', small).kind).toBe('headers-too-large');
    });
    it('rejects too many headers', () => {
      expect(errorOf(b('SEND\na:1\nb:2\nc:3\nd:4\n\n\x00'), '1.2', small).kind).toBe('too-many-headers');
    });
    it('checks the header limit across chunks', () => {
      const parser = new StompParser(() => {}, small);
      parser.push(b('SEND\nx:'));
      expect(() => {
        for (let i = 0; i < 100; i++) parser.push(b('y'));
      }).toThrow(StompFrameError);
    });
  });

  describe('properties', () => {
    const version = fc.constantFrom<StompVersion>('1.0', '1.1', '1.2');
    const text = fc.string({ unit: 'grapheme', maxLength: 12 });
    const safeText = fc.stringMatching(/^[a-z0-9/._-]{1,12}$/);
    const commands = [...CLIENT_COMMANDS, ...SERVER_COMMANDS];
    const frame = fc.record({
      command: fc.constantFrom<StompCommand>(...commands),
      headers: fc.array(fc.tuple(safeText, text), { maxLength: 6 }),
      body: fc.uint8Array({ maxLength: 64 }),
    });

    it('decode(encode(frame)) is the frame for every version (escapable headers)', () => {
      fc.assert(
        fc.property(version, fc.array(frame, { minLength: 1, maxLength: 4 }), fc.integer({ min: 1, max: 50 }), (v, frames, step) => {
          // Values with LF, ':' or '\' only survive where the version escapes them.
          const fit = frames.map((f) => {
            const raw = v === '1.0' || f.command === 'CONNECT' || f.command === 'CONNECTED';
            const headers = f.headers
              .filter(([name]) => name !== 'content-length')
              .map(([n, val]) => [n, raw ? val.replace(/[\r\n]/g, '') : v === '1.1' ? val.replace(/\r/g, '') : val]);
            return { ...f, headers: headers.flat(), body: Buffer.from(f.body) };
          });
          const bytes = Buffer.concat(fit.map((f) => encodeFrame(f.command, f.headers, f.body, v)));
          const chunks: Buffer[] = [];
          for (let i = 0; i < bytes.length; i += step) chunks.push(bytes.subarray(i, i + step));
          const got = decodeAll(chunks, v);
          expect(got.map((g) => g.command)).toEqual(fit.map((f) => f.command));
          got.forEach((g, i) => {
            const f = fit[i]!;
            const withoutLength = g.headers.filter((_, j) => !(j % 2 === 0 && g.headers[j] === 'content-length') && !(j % 2 === 1 && g.headers[j - 1] === 'content-length'));
            expect(withoutLength).toEqual(f.headers);
            expect(Buffer.from(g.body, 'latin1').equals(f.body)).toBe(true);
          });
        }),
        { numRuns: 300 },
      );
    });

    it('random bytes yield frames, a StompFrameError or need-more, never anything else', () => {
      const alphabet = b('SENDCONNECTMESAGUBRIKT\n\r\x00:\\content-length:0123456789');
      const noisy = fc.array(fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(...alphabet)), { maxLength: 200 });
      fc.assert(
        fc.property(noisy, version, fc.integer({ min: 1, max: 20 }), (bytes, v, step) => {
          const input = Buffer.from(bytes);
          const parser = new StompParser(() => {}, { maxHeaderBytes: 128, maxHeaders: 8, maxBodyBytes: 64 });
          parser.version = v;
          try {
            for (let i = 0; i < input.length; i += step) parser.push(input.subarray(i, i + step));
          } catch (e) {
            if (!(e instanceof StompFrameError)) throw e;
          }
        }),
        { numRuns: 2000 },
      );
    });
  });
});
