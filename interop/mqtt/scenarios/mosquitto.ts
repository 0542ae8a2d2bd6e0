import type { MqttTarget } from '../lib/target.js';
import { run, runToEnd } from '../lib/proc.js';
import type { Scenario } from './mqttjs.js';

/**
 * Scenarios driven by Debian's mosquitto-clients (mosquitto_pub / mosquitto_sub 2.0), with
 * protocol levels 3.1 (`mqttv31`), 3.1.1 and 5. Subscribers run with `-d` so the test waits
 * for their SUBACK line instead of sleeping.
 */

type Version = 'mqttv31' | 'mqttv311' | 'mqttv5';

function common(t: MqttTarget, v: Version): string[] {
  return ['-h', t.host, '-p', String(t.port), '-V', v];
}

/** Starts mosquitto_sub and resolves once its subscription is acknowledged. */
async function subscriber(t: MqttTarget, v: Version, args: string[]) {
  const p = run('mosquitto_sub', [...common(t, v), '-d', ...args]);
  await p.waitForLine(/received SUBACK/);
  return {
    proc: p,
    /** Output lines that are messages (not debug lines). */
    async lines(): Promise<string[]> {
      await p.exited;
      return p.stdout().split('\n').filter((l) => l.startsWith('M:'));
    },
  };
}

const FORMAT = ['-F', 'M:%t|%p|q%q|r%r'];
const strip = (t: MqttTarget, lines: string[]) => lines.map((l) => l.replace(`M:${t.prefix}`, 'M:'));

const scenarios: Scenario[] = [];

for (const v of ['mqttv31', 'mqttv311', 'mqttv5'] as const) {
  for (const qos of [0, 1, 2]) {
    scenarios.push({
      name: `mosquitto_pub/sub ${v} QoS ${qos}`,
      async run(t) {
        const sub = await subscriber(t, v, [...FORMAT, '-q', String(qos), '-t', `${t.prefix}/m/#`, '-C', '5', '-W', '10']);
        await runToEnd('mosquitto_pub', [...common(t, v), '-q', String(qos), '-t', `${t.prefix}/m/x`, '-l'], 'a\nb\nc\nd\ne\n');
        return strip(t, await sub.lines());
      },
      expected: ['a', 'b', 'c', 'd', 'e'].map((p) => `M:/m/x|${p}|q${qos}|r0`),
    });
  }
}

for (const v of ['mqttv311', 'mqttv5'] as const) {
  scenarios.push({
    name: `mosquitto_pub -r retained to a wildcard mosquitto_sub (${v})`,
    async run(t) {
      await runToEnd('mosquitto_pub', [...common(t, v), '-q', '1', '-r', '-t', `${t.prefix}/r/a`, '-m', 'one']);
      await runToEnd('mosquitto_pub', [...common(t, v), '-q', '1', '-r', '-t', `${t.prefix}/r/b`, '-m', 'two']);
      await runToEnd('mosquitto_pub', [...common(t, v), '-q', '1', '-r', '-t', `${t.prefix}/r/b`, '-m', 'three']);
      const sub = await subscriber(t, v, [...FORMAT, '-q', '1', '-t', `${t.prefix}/r/+`, '-C', '2', '-W', '10']);
      const lines = strip(t, await sub.lines()).sort();
      // Clear them (empty retained payload) so a peer keeps nothing.
      for (const topic of ['a', 'b']) await runToEnd('mosquitto_pub', [...common(t, v), '-r', '-n', '-t', `${t.prefix}/r/${topic}`]);
      return lines;
    },
    expected: ['M:/r/a|one|q1|r1', 'M:/r/b|three|q1|r1'],
  });

  scenarios.push({
    name: `mosquitto_sub will message when killed with SIGKILL (${v})`,
    async run(t) {
      const watch = await subscriber(t, v, [...FORMAT, '-q', '1', '-t', `${t.prefix}/lwt/#`, '-C', '1', '-W', '10']);
      const doomed = run('mosquitto_sub', [...common(t, v), '-d', '-t', `${t.prefix}/nothing`, '--will-topic', `${t.prefix}/lwt/dev`, '--will-payload', 'offline', '--will-qos', '1']);
      await doomed.waitForLine(/received SUBACK/);
      doomed.child.kill('SIGKILL');
      return strip(t, await watch.lines());
    },
    expected: ['M:/lwt/dev|offline|q1|r0'],
  });

  scenarios.push({
    name: `mosquitto_sub -c persistent session receives what was published while offline (${v})`,
    async run(t) {
      const id = `${t.prefix}-persist`;
      const first = run('mosquitto_sub', [...common(t, v), '-c', '-i', id, '-q', '1', '-t', `${t.prefix}/p/#`, '-E']);
      if ((await first.exited) !== 0) throw new Error(first.stderr());
      await runToEnd('mosquitto_pub', [...common(t, v), '-q', '1', '-t', `${t.prefix}/p/x`, '-l'], 'one\ntwo\nthree\n');
      const again = run('mosquitto_sub', [...common(t, v), '-c', '-i', id, '-q', '1', '-t', `${t.prefix}/p/#`, ...FORMAT, '-C', '3', '-W', '10']);
      await again.exited;
      // End the session on the broker.
      await runToEnd('mosquitto_sub', [...common(t, v), '-i', id, '-t', `${t.prefix}/p/#`, '-E']);
      return strip(t, again.stdout().split('\n').filter((l) => l.startsWith('M:')));
    },
    expected: ['M:/p/x|one|q1|r0', 'M:/p/x|two|q1|r0', 'M:/p/x|three|q1|r0'],
  });
}

scenarios.push({
  name: 'mosquitto_pub -D MQTT 5 properties reach mosquitto_sub',
  async run(t) {
    const sub = await subscriber(t, 'mqttv5', ['-F', 'M:%t|%p|ct=%C|rt=%R|up=%P', '-q', '1', '-t', `${t.prefix}/props`, '-C', '1', '-W', '10']);
    await runToEnd('mosquitto_pub', [
      ...common(t, 'mqttv5'), '-q', '1', '-t', `${t.prefix}/props`, '-m', 'body',
      '-D', 'publish', 'content-type', 'text/plain', '-D', 'publish', 'response-topic', 'answers/here',
      '-D', 'publish', 'user-property', 'k1', 'v1', '-D', 'publish', 'user-property', 'k2', 'v2',
    ]);
    return strip(t, await sub.lines());
  },
  expected: ['M:/props|body|ct=text/plain|rt=answers/here|up=k1:v1 k2:v2'],
});

scenarios.push({
  name: 'mosquitto_sub does not see $SYS through # and does through $SYS/#',
  async run(t) {
    // -R: retained messages other runs left behind are not what this checks.
    const all = await subscriber(t, 'mqttv311', [...FORMAT, '-R', '-t', '#', '-C', '1', '-W', '10']);
    await runToEnd('mosquitto_pub', [...common(t, 'mqttv311'), '-t', `${t.prefix}/plain`, '-m', 'p']);
    const lines = await all.lines();
    const sys = run('mosquitto_sub', [...common(t, 'mqttv311'), '-t', '$SYS/broker/version', '-C', '1', '-W', '15', '-F', 'M:%t']);
    await sys.exited;
    return { hash: strip(t, lines).map((l) => l.split('|')[0]), sys: sys.stdout().trim() };
  },
  expected: { hash: ['M:/plain'], sys: 'M:$SYS/broker/version' },
});

export const MOSQUITTO_SCENARIOS = scenarios;
