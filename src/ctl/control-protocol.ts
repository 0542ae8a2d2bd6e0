/**
 * The control socket's protocol: one JSON object per line each way (node:net, no dependency:
 * net-ipc was the plan, but its optional msgpackr platform packages break `npm ci`).
 *
 *   request   {"id":1,"op":"api","method":"GET","path":"/api/queues"}
 *             {"id":2,"op":"batch","requests":[{method,path,body}, ...]}   (progress per item)
 *             {"id":3,"op":"reload"}   {"id":4,"op":"status"}
 *   progress  {"id":2,"progress":{"done":3,"total":10}}   (batch items; a long api call: import)
 *   response  {"id":1,"ok":true,"status":200,"result":...}   {"id":1,"ok":false,"error":"..."}
 */
import { join } from 'node:path';

export interface ApiCall {
  method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  path: string;
  body?: unknown;
}

export type ControlRequest =
  | ({ id: number; op: 'api' } & ApiCall)
  | { id: number; op: 'batch'; requests: ApiCall[] }
  | { id: number; op: 'reload' }
  | { id: number; op: 'status' };

export type ControlReply =
  | { id: number; progress: { done: number; total: number } }
  | { id: number; ok: true; status?: number; result: unknown }
  | { id: number; ok: false; status?: number; error: string };

/** Longest request line the broker reads (a definitions import is one request). */
export const MAX_REQUEST_BYTES = 64 * 1024 * 1024;

/** The socket lives in its own owner-only (0700) directory inside the data dir. */
export function controlSocketPath(dataDir: string): string {
  return join(dataDir, 'ctl', 'polybroker.sock');
}
