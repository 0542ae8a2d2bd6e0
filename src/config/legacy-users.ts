import type { UserConfig } from '../core/index.js';
import type { BrokerConfig } from './sections/index.js';

const ALL = { configure: '.*', write: '.*', read: '.*' };

/**
 * The per-protocol user lists of session 1 (`amqp.users`, `mqtt.users`, `stomp.users`,
 * `kafka.sasl.users`), deprecated by the broker-wide `users:` section: each becomes a
 * broker-wide user (AMQP ones keep their permissions; the others get full permissions on
 * their adapter's vhost, as they had). A name also in `users:` is left to `users:`.
 * Returns the users and one deprecation line per list used.
 */
export function legacyUsers(config: BrokerConfig): { users: UserConfig[]; deprecations: string[] } {
  const named = new Set((config.users ?? []).map((u) => u.name));
  const out = new Map<string, UserConfig>();
  const deprecations: string[] = [];
  const add = (section: string, name: string, password: string, permissions: UserConfig['permissions']) => {
    if (named.has(name)) return;
    const prev = out.get(name);
    out.set(name, { name, password, permissions: { ...prev?.permissions, ...permissions } });
    if (!deprecations.some((d) => d.startsWith(section))) deprecations.push(`${section} is deprecated: move these users to the broker-wide users: section (docs/security.md)`);
  };
  for (const u of config.amqp?.users ?? []) add('amqp.users', u.username, u.password, u.permissions ?? { '/': ALL });
  for (const u of config.mqtt?.users ?? []) add('mqtt.users', u.username, u.password, { [config.mqtt.vhost ?? '/']: ALL });
  for (const u of config.stomp?.users ?? []) add('stomp.users', u.username, u.password, { '/': ALL });
  for (const u of config.kafka?.sasl?.users ?? []) add('kafka.sasl.users', u.name, u.password, { [config.kafka.vhost ?? '/']: ALL });
  return { users: [...out.values()], deprecations };
}
