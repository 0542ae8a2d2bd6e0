import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StompTarget } from '../lib/target.js';
import type { Scenario } from './stompit.js';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '..', 'clients', 'stomppy_scenarios.py');

/** Debian's python with python3-stomp (pyenv's python3 on PATH has no stomp module). */
export const PYTHON = '/usr/bin/python3';

export const STOMPPY_VERSIONS = ['1.0', '1.1', '1.2'] as const;

/** Scenario names of stomppy_scenarios.py, with the versions each applies to (NACK is 1.1+). */
export const STOMPPY_SCENARIO_NAMES: Record<string, readonly string[]> = {
  roundtrip: STOMPPY_VERSIONS,
  nack: ['1.1', '1.2'],
  transactions: STOMPPY_VERSIONS,
  binary: STOMPPY_VERSIONS,
  durable: STOMPPY_VERSIONS,
  'temp-queue': STOMPPY_VERSIONS,
  heartbeat: ['1.1', '1.2'],
  'silent-client': ['1.1', '1.2'],
  'wrong-passcode': STOMPPY_VERSIONS,
  'bad-destination': STOMPPY_VERSIONS,
};

export function runStomppy(name: string, version: string, target: StompTarget): Promise<unknown> {
  return new Promise((resolve, reject) => {
    execFile(PYTHON, [SCRIPT, name, String(target.port), version, target.vhost], { timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) {
        reject(new Error(`stomp.py ${name} ${version} failed: ${err.message}\n${stderr}`));
        return;
      }
      try {
        resolve(JSON.parse(stdout.trim().split('\n').pop()!));
      } catch {
        reject(new Error(`stomp.py ${name} ${version} printed no JSON:\n${stdout}\n${stderr}`));
      }
    });
  });
}

export const STOMPPY_SCENARIOS: Record<string, Scenario> = Object.fromEntries(
  Object.entries(STOMPPY_SCENARIO_NAMES).flatMap(([name, versions]) =>
    versions.map((v) => [`stomp.py ${v} ${name}`, (t: StompTarget) => runStomppy(name, v, t)] as const),
  ),
);
