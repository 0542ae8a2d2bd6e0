import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, type RunningBroker } from '../../test/helpers/broker.js';
import { connectStompit, disconnect } from './lib/stompit-client.js';
import type { StompTarget } from './lib/target.js';
import { RawClient } from '../../test/protocols/stomp/raw-client.js';

/** The `stomp:` section of polybroker.yaml, read by the real broker. */
let broker: RunningBroker;
beforeAll(async () => {
  broker = await startBroker({
    config: { stomp: { users: [{ username: 'alice', password: 's3cret' }], defaultUser: null, heartBeatMinMs: 1000 } },
  });
});
afterAll(async () => {
  await broker?.stop();
});

const target = (login: string, passcode: string): StompTarget => ({ name: 'polybroker', host: '127.0.0.1', port: broker.ports.stomp, vhost: '/', login, passcode });

async function connectError(t: StompTarget, headers: Record<string, string> = {}): Promise<string> {
  try {
    const c = await connectStompit(t, headers);
    c.client.destroy();
    return 'connected';
  } catch (e) {
    return (e as Error).message;
  }
}

describe('stomp config section', () => {
  it('accepts a configured user', async () => {
    const c = await connectStompit(target('alice', 's3cret'));
    await disconnect(c);
  });
  it('refuses a configured user with the wrong passcode', async () => {
    expect(await connectError(target('alice', 'nope'))).toBe('Bad CONNECT');
  });
  it('requires a login when defaultUser is null', async () => {
    // No stock client omits login on purpose: a bare CONNECT written by hand.
    const c = await RawClient.open(broker.ports.stomp);
    c.write('CONNECT\naccept-version:1.2\nhost:/\n\n\0');
    const f = await c.frame(0);
    expect([f.command, f.headers.message, f.body.toString()]).toEqual(['ERROR', 'Bad CONNECT', 'login is required']);
    c.close();
  });
  it('still accepts the built-in guest from loopback', async () => {
    const c = await connectStompit(target('guest', 'guest'));
    await disconnect(c);
  });
  it('raises heart-beat intervals to heartBeatMinMs', async () => {
    const c = await connectStompit(target('guest', 'guest'), { 'heart-beat': '100,100' });
    expect((c.client as unknown as { headers: Record<string, string> }).headers['heart-beat']).toBe('1000,1000');
    await disconnect(c);
  });
});
