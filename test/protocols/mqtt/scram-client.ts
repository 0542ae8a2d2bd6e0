import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The client side of SCRAM (RFC 5802) for the tests: what an MQTT 5 client puts into its
 * Authentication Data. Written from the RFC, independent of the broker's ScramExchange.
 */
export class ScramClient {
  readonly clientFirst: string;
  private readonly bare: string;
  private readonly nonce = randomBytes(12).toString('base64');
  private serverSignature: Buffer | null = null;

  constructor(private readonly alg: 'sha256' | 'sha512', user: string, private readonly password: string) {
    this.bare = `n=${user.replace(/=/g, '=3D').replace(/,/g, '=2C')},r=${this.nonce}`;
    this.clientFirst = `n,,${this.bare}`;
  }

  /** The client-final message for the server-first one. */
  final(serverFirst: string): string {
    const attrs = Object.fromEntries(serverFirst.split(',').map((kv) => [kv[0], kv.slice(2)]));
    if (!attrs.r?.startsWith(this.nonce)) throw new Error('server nonce does not extend ours');
    const salted = pbkdf2Sync(this.password, Buffer.from(attrs.s!, 'base64'), Number(attrs.i), this.alg === 'sha256' ? 32 : 64, this.alg);
    const clientKey = createHmac(this.alg, salted).update('Client Key').digest();
    const storedKey = createHash(this.alg).update(clientKey).digest();
    const withoutProof = `c=biws,r=${attrs.r}`;
    const authMessage = `${this.bare},${serverFirst},${withoutProof}`;
    const signature = createHmac(this.alg, storedKey).update(authMessage).digest();
    const proof = Buffer.alloc(clientKey.length);
    for (let i = 0; i < proof.length; i++) proof[i] = clientKey[i]! ^ signature[i]!;
    this.serverSignature = createHmac(this.alg, createHmac(this.alg, salted).update('Server Key').digest()).update(authMessage).digest();
    return `${withoutProof},p=${proof.toString('base64')}`;
  }

  /** True when the server-final message proves the server knows the credential. */
  verifyServer(serverFinal: string): boolean {
    const v = /^v=(.+)$/.exec(serverFinal);
    if (!v || !this.serverSignature) return false;
    const got = Buffer.from(v[1]!, 'base64');
    return got.length === this.serverSignature.length && timingSafeEqual(got, this.serverSignature);
  }
}
