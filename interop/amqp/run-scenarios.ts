import { SCENARIOS } from './scenarios.js';
import { RAW_SCENARIOS } from './raw-scenarios.js';
import { STOCK_CLIENT_SCENARIOS } from './stock-clients.js';
import { runScenario } from './scenario-kit.js';
const port = Number(process.argv[2]);
const only = process.argv[3];
for (const s of [...SCENARIOS, ...RAW_SCENARIOS, ...STOCK_CLIENT_SCENARIOS]) {
  if (only && s.name !== only) continue;
  const obs = await runScenario(s, '127.0.0.1', port);
  console.log(s.name, JSON.stringify(obs, null, 0));
}
