import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

function newestProfile(dir: string): { file: string; prof: Profile } {
  const file = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).sort().pop();
  if (!file) throw new Error(`no .cpuprofile in ${dir}`);
  return { file: join(dir, file), prof: JSON.parse(readFileSync(join(dir, file), 'utf8')) as Profile };
}

function frameName(node: ProfileNode): string {
  const f = node.callFrame;
  return `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(dist|node_modules)\//, '')}:${f.lineNumber + 1}`;
}

/**
 * Prints the call tree of the newest .cpuprofile in `dir` top-down with inclusive time: every
 * node of at least `minPercent` % of the samples (self time alone hides who calls the hot code).
 */
export function printCpuProfileTree(dir: string, minPercent: number, megabytes?: number): void {
  const { file, prof } = newestProfile(dir);
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < prof.samples.length; i++) self.set(prof.samples[i]!, (self.get(prof.samples[i]!) ?? 0) + (prof.timeDeltas[i] ?? 0));
  const total = new Map<number, number>();
  const inclusive = (node: ProfileNode): number => {
    let us = self.get(node.id) ?? 0;
    for (const c of node.children ?? []) us += inclusive(byId.get(c)!);
    total.set(node.id, us);
    return us;
  };
  const root = prof.nodes[0]!;
  const all = inclusive(root);
  console.log(`call tree ${file}: inclusive time, nodes ≥ ${minPercent} %`);
  const walk = (node: ProfileNode, depth: number): void => {
    const us = total.get(node.id)!;
    if ((us / all) * 100 < minPercent) return;
    const perMb = megabytes ? `${(us / 1000 / megabytes).toFixed(3).padStart(6)} ms/MB ` : '';
    const selfUs = self.get(node.id) ?? 0;
    console.log(`${((us / all) * 100).toFixed(1).padStart(5)} % ${perMb}(self ${((selfUs / all) * 100).toFixed(1)} %) ${'  '.repeat(depth)}${frameName(node)}`);
    const kids = (node.children ?? []).map((c) => byId.get(c)!).sort((a, b) => total.get(b.id)! - total.get(a.id)!);
    for (const k of kids) walk(k, depth + 1);
  };
  walk(root, 0);
}

/** Prints the `top` functions by self time of the newest .cpuprofile in `dir` (bench profiling tools). */
export function printCpuProfileSummary(dir: string, top: number, megabytes?: number): void {
  const { file, prof } = newestProfile(dir);
  const self = new Map<number, number>();
  for (let i = 0; i < prof.samples.length; i++) self.set(prof.samples[i]!, (self.get(prof.samples[i]!) ?? 0) + (prof.timeDeltas[i] ?? 0));
  const byFn = new Map<string, number>();
  let total = 0;
  for (const node of prof.nodes) {
    const us = self.get(node.id) ?? 0;
    total += us;
    const key = frameName(node);
    byFn.set(key, (byFn.get(key) ?? 0) + us);
  }
  console.log(`profile ${file}: ${(total / 1e6).toFixed(2)} s sampled`);
  for (const [k, us] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    const perMb = megabytes ? `  ${(us / 1000 / megabytes).toFixed(3).padStart(6)} ms/MB` : '';
    console.log(`${((us / total) * 100).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(6)} ms${perMb}  ${k}`);
  }
}
