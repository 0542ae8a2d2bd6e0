/**
 * `npm run bench -- business`: issue 11's benchmark. The filter rows come from
 * bench/business-filter.ts; the delay engineer adds the delayed-delivery rows here.
 * `--only filter|selector` runs one group.
 */
import type { Harness } from './harness.js';
import { runSelectorBench, runTagFilterBench } from './business-filter.js';

export async function run(h: Harness): Promise<void> {
  const i = h.args.indexOf('--only');
  const only = i >= 0 ? h.args[i + 1] : undefined;
  if (only === undefined || only === 'selector') await runSelectorBench(h);
  if (only === undefined || only === 'filter') await runTagFilterBench(h);
}
