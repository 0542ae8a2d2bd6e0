import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }

/** Prints the `top` functions by self time of the newest .cpuprofile in `dir` (bench profiling tools). */
export function printCpuProfileSummary(dir: string, top: number, megabytes?: number): void {
  const file = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort().pop();
  if (!file) throw new Error(`no .cpuprofile in ${dir}`);
  const prof = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
  const self = new Map<number, number>();
  for (let i = 0; i < prof.samples.length; i++) self.set(prof.samples[i]!, (self.get(prof.samples[i]!) ?? 0) + (prof.timeDeltas[i] ?? 0));
  const byFn = new Map<string, number>();
  let total = 0;
  for (const node of prof.nodes) {
    const us = self.get(node.id) ?? 0;
    total += us;
    const f = node.callFrame;
    const key = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(dist|node_modules)\//, '')}:${f.lineNumber + 1}`;
    byFn.set(key, (byFn.get(key) ?? 0) + us);
  }
  console.log(`profile ${join(dir, file)}: ${(total / 1e6).toFixed(2)} s sampled`);
  for (const [k, us] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    const perMb = megabytes ? `  ${(us / 1000 / megabytes).toFixed(3).padStart(6)} ms/MB` : '';
    console.log(`${((us / total) * 100).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(6)} ms${perMb}  ${k}`);
  }
}
