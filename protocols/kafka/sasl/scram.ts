/**
 * SCRAM-SHA-256/512 server side (RFC 5802, RFC 7677; Kafka KIP-84). Credentials are derived
 * from the configured password at start: salt, iterations, StoredKey = H(ClientKey),
 * ServerKey, as Kafka stores them; the password itself is not kept per exchange.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

export type ScramAlgorithm = 'sha256' | 'sha512';

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

export function makeScramCredential(password: string, alg: ScramAlgorithm, iterations = 4096): ScramCredential {
  const salt = randomBytes(16);
  const salted = pbkdf2Sync(password, salt, iterations, alg === 'sha256' ? 32 : 64, alg);
  const clientKey = createHmac(alg, salted).update('Client Key').digest();
  return {
    salt,
    iterations,
    storedKey: createHash(alg).update(clientKey).digest(),
    serverKey: createHmac(alg, salted).update('Server Key').digest(),
  };
}

/** One server-side SCRAM exchange: client-first -> server-first, client-final -> server-final. */
export class ScramExchange {
  private clientFirstBare = '';
  private serverFirst = '';
  private nonce = '';
  private credential: ScramCredential | null = null;
  user = '';

  constructor(
    private readonly alg: ScramAlgorithm,
    private readonly lookup: (user: string) => ScramCredential | null,
  ) {}

  /** Returns the server-first message; throws on a malformed message or unknown user. */
  first(message: string): string {
    // gs2-header "n,," (no channel binding, no authzid) then "n=user,r=nonce[,extensions]"
    const m = /^[ny],[^,]*,(n=([^,]*),r=([^,]+)(?:,.*)?)$/.exec(message);
    if (!m) throw new Error('malformed SCRAM client-first message');
    this.clientFirstBare = m[1]!;
    this.user = m[2]!.replace(/=2C/g, ',').replace(/=3D/g, '=');
    this.credential = this.lookup(this.user);
    if (!this.credential) throw new Error(`authentication failed for user ${this.user}`);
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
    if (proof.length !== signature.length) throw new Error(`authentication failed for user ${this.user}`);
    const clientKey = Buffer.alloc(proof.length);
    for (let i = 0; i < proof.length; i++) clientKey[i] = proof[i]! ^ signature[i]!;
    const stored = createHash(this.alg).update(clientKey).digest();
    if (!timingSafeEqual(stored, this.credential.storedKey)) throw new Error(`authentication failed for user ${this.user}`);
    const serverSignature = createHmac(this.alg, this.credential.serverKey).update(authMessage).digest();
    return `v=${serverSignature.toString('base64')}`;
  }
}
