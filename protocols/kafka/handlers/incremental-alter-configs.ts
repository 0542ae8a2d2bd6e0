import { incrementalAlterConfigs } from '../schema/apis.js';
import { TOPIC_CONFIGS, topicConfigError } from '../mapping/topic-configs.js';
import { applyTopicConfig } from './alter-configs.js';
import type { Handler } from './handler.js';
import type { Message } from '../codec/schema-codec.js';

/** IncrementalAlterConfigs operations (KIP-339). */
const SET = 0;
const DELETE = 1;
const APPEND = 2;
const SUBTRACT = 3;

/** IncrementalAlterConfigs: SET, DELETE, and APPEND/SUBTRACT on list configs (cleanup.policy). */
export const incrementalAlterConfigsHandler: Handler = {
  api: incrementalAlterConfigs,
  minVersion: 0,
  maxVersion: 1,
  async handle(req, ctx) {
    const vhost = ctx.node.vhost();
    const responses: Message[] = [];
    for (const r of req.resources as Message[]) {
      const current = vhost.stream(r.resourceName) ? vhost.streamConfig(r.resourceName) : {};
      const entries: Record<string, string | null> = {};
      const errors: string[] = [];
      for (const c of r.configs as Message[]) {
        const def = TOPIC_CONFIGS[c.name];
        let value: string | null;
        switch (c.configOperation) {
          case SET:
            value = c.value;
            break;
          case DELETE:
            value = null;
            break;
          case APPEND:
          case SUBTRACT: {
            if (def?.type !== 'list') {
              errors.push(`Config ${c.name} is not a list: APPEND/SUBTRACT are not allowed`);
              continue;
            }
            const list = (entries[c.name] ?? current[c.name] ?? def.default).split(',').map((s) => s.trim()).filter(Boolean);
            const items = String(c.value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
            const next = c.configOperation === APPEND ? [...list, ...items.filter((i) => !list.includes(i))] : list.filter((i) => !items.includes(i));
            value = next.join(',');
            break;
          }
          default:
            errors.push(`Unknown config operation ${c.configOperation}`);
            continue;
        }
        const err = topicConfigError(c.name, value);
        if (err) errors.push(err);
        entries[c.name] = value;
      }
      responses.push(await applyTopicConfig(ctx, r, entries, errors, req.validateOnly));
    }
    return { throttleTimeMs: 0, responses };
  },
};
