/**
 * SCRAM credentials (RFC 5802, RFC 7677; Kafka KIP-84) and the server side of a SCRAM
 * exchange. A user's password is kept only as SCRAM credentials — salt, iterations,
 * StoredKey = H(HMAC(SaltedPassword, "Client Key")), ServerKey — per hash, as Kafka and
 * PostgreSQL store them. PLAIN is verified by deriving StoredKey from the offered password
 * with the stored salt and comparing in constant time.
 */
import { createHash, createHmac, pbkdf2, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const pbkdf2Async = promisify(pbkdf2);

export type ScramAlgorithm = 'sha256' | 'sha512';
export const SCRAM_ALGORITHMS: readonly ScramAlgorithm[] = ['sha256', 'sha512'];
/** RFC 7677 recommends at least 4096 iterations (Kafka's minimum too). */
export const DEFAULT_SCRAM_ITERATIONS = 4096;

export interface ScramCredential {
  salt: Buffer;
  iterations: number;
  storedKey: Buffer;
  serverKey: Buffer;
}

export function scramAlgorithm(mechanism: string): ScramAlgorithm | null {
  if (mechanism === 'SCRAM-SHA-256') return 'sha256';
  if (mechanism === 'SCRAM-SHA-512') return 'sha512';
  return null;
}

export function scramMechanism(alg: ScramAlgorithm): string {
  return alg === 'sha256' ? 'SCRAM-SHA-256' : 'SCRAM-SHA-512';
}

const keyLength = (alg: ScramAlgorithm) => (alg === 'sha256' ? 32 : 64);

function fromSalted(alg: ScramAlgorithm, salted: Buffer, salt: Buffer, iterations: number): ScramCredential {
  const clientKey = createHmac(alg, salted).update('Client Key').digest();
  return {
    salt,
    iterations,
    storedKey: createHash(alg).update(clientKey).digest(),
    serverKey: createHmac(alg, salted).update('Server Key').digest(),
  };
}

/** Derives a credential with a fresh random salt (used when a password is set). */
export function makeScramCredential(password: string, alg: ScramAlgorithm, iterations = DEFAULT_SCRAM_ITERATIONS, salt = randomBytes(16)): ScramCredential {
  return fromSalted(alg, pbkdf2Sync(password.normalize('NFKC'), salt, iterations, keyLength(alg), alg), salt, iterations);
}

/** True when `password` matches `credential`; PBKDF2 runs on the libuv pool, the comparison is constant-time. */
export async function verifyScramPassword(password: string, alg: ScramAlgorithm, credential: ScramCredential): Promise<boolean> {
  const salted = await pbkdf2Async(password.normalize('NFKC'), credential.salt, credential.iterations, keyLength(alg), alg);
  const derived = fromSalted(alg, salted, credential.salt, credential.iterations);
  return derived.storedKey.length === credential.storedKey.length && timingSafeEqual(derived.storedKey, credential.storedKey);
}

/**
 * PostgreSQL's text form, `SCRAM-SHA-256$<iterations>:<salt b64>$<StoredKey b64>:<ServerKey b64>`,
 * used for `passwordHash` in YAML and in the users meta log.
 */
export function formatScramCredential(alg: ScramAlgorithm, c: ScramCredential): string {
  return `${scramMechanism(alg)}$${c.iterations}:${c.salt.toString('base64')}$${c.storedKey.toString('base64')}:${c.serverKey.toString('base64')}`;
}

/** Parses `formatScramCredential`'s text; null when it is not one. */
export function parseScramCredential(text: string): { alg: ScramAlgorithm; credential: ScramCredential } | null {
  const m = /^(SCRAM-SHA-(?:256|512))\$(\d+):([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)$/.exec(text);
  if (!m) return null;
  const alg = scramAlgorithm(m[1]!)!;
  const credential = { iterations: Number(m[2]), salt: Buffer.from(m[3]!, 'base64'), storedKey: Buffer.from(m[4]!, 'base64'), serverKey: Buffer.from(m[5]!, 'base64') };
  if (credential.iterations < 1 || credential.storedKey.length !== keyLength(alg) || credential.serverKey.length !== keyLength(alg)) return null;
  return { alg, credential };
}

function saslName(s: string): string {
  return s.replace(/=2C/g, ',').replace(/=3D/g, '=');
}

/**
 * One server-side SCRAM exchange: client-first -> server-first, client-final -> server-final.
 * `lookup` must return a credential for every user name, a decoy for unknown ones, so the
 * server-first message does not reveal whether the user exists; `known` says which it was.
 */
export class ScramExchange {
  private clientFirstBare = '';
  private serverFirst = '';
  private nonce = '';
  private credential: ScramCredential | null = null;
  private known = false;
  user = '';

  constructor(
    readonly alg: ScramAlgorithm,
    private readonly lookup: (user: string) => { credential: ScramCredential; known: boolean },
  ) {}

  /** Returns the server-first message; throws on a malformed message. */
  first(message: string): string {
    // gs2-header "n,," / "y,," (no channel binding; optional authzid) then "n=user,r=nonce[,ext]"
    const m = /^[ny],(?:a=[^,]*)?,(n=([^,]*),r=([^,]+)(?:,.*)?)$/.exec(message);
    if (!m) throw new Error('malformed SCRAM client-first message');
    this.clientFirstBare = m[1]!;
    this.user = saslName(m[2]!);
    const found = this.lookup(this.user);
    this.credential = found.credential;
    this.known = found.known;
    this.nonce = m[3]! + randomBytes(18).toString('base64');
    this.serverFirst = `r=${this.nonce},s=${this.credential.salt.toString('base64')},i=${this.credential.iterations}`;
    return this.serverFirst;
  }

  /** Verifies the client proof; returns the server-final message or throws. */
  final(message: string): string {
    const m = /^(c=[^,]*,r=([^,]+)(?:,.*)?),p=([^,]+)$/.exec(message);
    // Kafka's ScramSaslServer accepts a nonce that ends with ours: librdkafka sends its own
    // nonce followed by the server's full nonce.
    if (!m || !m[2]!.endsWith(this.nonce) || !this.credential) throw new Error('malformed SCRAM client-final message');
    const authMessage = `${this.clientFirstBare},${this.serverFirst},${m[1]}`;
    const proof = Buffer.from(m[3]!, 'base64');
    const signature = createHmac(this.alg, this.credential.storedKey).update(authMessage).digest();
    const clientKey = Buffer.alloc(signature.length);
    for (let i = 0; i < signature.length; i++) clientKey[i] = (proof[i] ?? 0) ^ signature[i]!;
    const stored = createHash(this.alg).update(clientKey).digest();
    const match = timingSafeEqual(stored, this.credential.storedKey) && proof.length === signature.length;
    if (!match || !this.known) throw new Error(`authentication failed for user '${this.user}'`);
    const serverSignature = createHmac(this.alg, this.credential.serverKey).update(authMessage).digest();
    return `v=${serverSignature.toString('base64')}`;
  }
}
