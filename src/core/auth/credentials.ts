/**
 * A user's stored password forms, as text (never the password itself):
 * - `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` and the SHA-512 twin
 *   (PostgreSQL's form): verify PLAIN and serve SCRAM (Kafka SASL, MQTT 5 enhanced auth);
 * - `RABBIT-SHA-256$<base64>` / `RABBIT-SHA-512$<base64>`: RabbitMQ's `password_hash`
 *   (4-byte salt + H(salt ++ password)) from imported definitions; PLAIN only.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { formatScramCredential, makeScramCredential, parseScramCredential, verifyScramPassword, type ScramAlgorithm, type ScramCredential } from './scram.js';

export interface StoredCredentials {
  scram: Partial<Record<ScramAlgorithm, ScramCredential>>;
  rabbit: { alg: 'sha256' | 'sha512'; hash: Buffer } | null;
}

/** Derives both SCRAM credentials from a clear password (which is then dropped). */
export function credentialsFromPassword(password: string, iterations?: number): string[] {
  return (['sha256', 'sha512'] as const).map((alg) => formatScramCredential(alg, makeScramCredential(password, alg, iterations)));
}

/** The text form of RabbitMQ's `password_hash` with its `hashing_algorithm`. */
export function rabbitCredential(passwordHash: string, hashingAlgorithm = 'rabbit_password_hashing_sha256'): string {
  const alg = hashingAlgorithm === 'rabbit_password_hashing_sha512' ? 'SHA-512' : 'SHA-256';
  return `RABBIT-${alg}$${passwordHash}`;
}

/** Why `text` is not a stored credential, or null when it is one. */
export function credentialSyntaxError(text: string): string | null {
  if (parseScramCredential(text)) return null;
  if (/^RABBIT-SHA-(256|512)\$[A-Za-z0-9+/=]{8,}$/.test(text)) return null;
  return 'expected SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey> (or SCRAM-SHA-512, RABBIT-SHA-256$<hash>)';
}

export function parseCredentials(texts: readonly string[]): StoredCredentials {
  const out: StoredCredentials = { scram: {}, rabbit: null };
  for (const t of texts) {
    const s = parseScramCredential(t);
    if (s) out.scram[s.alg] = s.credential;
    const r = /^RABBIT-SHA-(256|512)\$(.+)$/.exec(t);
    if (r) out.rabbit = { alg: r[1] === '512' ? 'sha512' : 'sha256', hash: Buffer.from(r[2]!, 'base64') };
  }
  return out;
}

/** True when the stored credentials accept `password`. */
export async function verifyPassword(password: string, c: StoredCredentials): Promise<boolean> {
  const alg = c.scram.sha256 ? 'sha256' : c.scram.sha512 ? 'sha512' : null;
  if (alg) return verifyScramPassword(password, alg, c.scram[alg]!);
  if (c.rabbit && c.rabbit.hash.length > 4) {
    const salt = c.rabbit.hash.subarray(0, 4);
    const digest = createHash(c.rabbit.alg).update(salt).update(password, 'utf8').digest();
    const expected = c.rabbit.hash.subarray(4);
    return digest.length === expected.length && timingSafeEqual(digest, expected);
  }
  return false;
}
