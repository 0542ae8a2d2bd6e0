import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MqttTarget } from '../lib/target.js';
import { runToEnd } from '../lib/proc.js';
import type { Scenario } from './mqttjs.js';

/** Scenarios driven by Eclipse Paho for Python (Debian's python3-paho-mqtt, run with /usr/bin/python3). */

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '..', 'paho_client.py');

async function paho(t: MqttTarget, scenario: string, ...args: string[]): Promise<unknown> {
  const out = await runToEnd('/usr/bin/python3', [SCRIPT, scenario, t.host, String(t.port), t.prefix, ...args]);
  return JSON.parse(out.trim().split('\n').pop()!);
}

const scenarios: Scenario[] = [];

for (const v of ['3.1', '3.1.1', '5']) {
  for (const qos of [0, 1, 2]) {
    scenarios.push({
      name: `paho ${v} QoS ${qos} publish/subscribe`,
      run: (t) => paho(t, 'pubsub', v, String(qos)),
      expected: Array.from({ length: 5 }, (_, i) => ({ topic: '/p/x', payload: `m${i}`, qos, retain: false })),
    });
  }
}

for (const v of ['3.1.1', '5']) {
  scenarios.push({
    name: `paho ${v} retained messages`,
    run: (t) => paho(t, 'retained', v),
    expected: [{ topic: '/r/a', payload: '1', qos: 1, retain: true }, { topic: '/r/b', payload: '2', qos: 1, retain: true }],
  });
  scenarios.push({
    name: `paho ${v} will message when the connection drops`,
    run: (t) => paho(t, 'will', v),
    expected: [{ topic: '/lwt', payload: 'gone', qos: 1, retain: false }],
  });
  scenarios.push({
    name: `paho ${v} persistent session`,
    run: (t) => paho(t, 'persistent', v),
    expected: { first_present: false, session_present: true, got: ['k0', 'k1', 'k2'] },
  });
  scenarios.push({
    name: `paho ${v} persistent session across a broker restart`,
    restart: true,
    async run(t) {
      const before = (await paho(t, 'persistent', v, 'before')) as Record<string, unknown>;
      await t.restart!();
      const after = (await paho(t, 'persistent', v, 'after')) as Record<string, unknown>;
      return { ...before, ...after };
    },
    expected: { first_present: false, session_present: true, got: ['k0', 'k1', 'k2'] },
  });
}

scenarios.push({
  name: 'paho 5 session resumed with session expiry 0 delivers its queued messages',
  run: (t) => paho(t, 'resume_expiry_zero', '5'),
  expected: { session_present: true, got: ['z0', 'z1', 'z2'], present_after: false },
});

export const PAHO_SCENARIOS = scenarios;
