/**
 * The users meta log and the `UserStore` on it. Records are JSON: `{t:'u', d: UserDefinition}`
 * (create or replace) and `{t:'u-', n}` (delete), with a snapshot of every user every 1000
 * records. The first start (no record at all) creates the default user.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { MetaLog } from '../../../storage/types.js';
import { AccessRefused, InvalidArgument, NotFound } from '../errors.js';
import { credentialSyntaxError, credentialsFromPassword, parseCredentials, verifyPassword, type StoredCredentials } from './credentials.js';
import { matchesPermission, permissionResourceName, permissionSyntaxError, topicAllowed, type Permission, type ResourceKind, type TopicPermission, type VhostPermissions } from './permissions.js';
import { DEFAULT_SCRAM_ITERATIONS, makeScramCredential, type ScramAlgorithm, type ScramCredential } from './scram.js';
import type { AuthOptions, AuthResult, AuthenticatedUser, LoginContext, LoginStats, UserChange, UserDefinition, UserStore, UserUpdate } from './types.js';

type UserRecord = { t: 'u'; d: UserDefinition } | { t: 'u-'; n: string } | { t: 'snap'; users: UserDefinition[] };

const SNAPSHOT_EVERY = 1000;
const ALL: VhostPermissions = { configure: '.*', write: '.*', read: '.*' };

export function isLoopbackAddress(address: string): boolean {
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.') || address === 'localhost';
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref?.());

interface Entry {
  def: UserDefinition;
  creds: StoredCredentials;
}

export class DurableUserStore implements UserStore {
  private readonly users = new Map<string, Entry>();
  private readonly listeners = new Set<(c: UserChange) => void>();
  private log: MetaLog | null = null;
  private loopbackUsers: Set<string>;
  private failedLoginDelayMs: number;
  /** Secret for decoy SCRAM salts: stable for this process, unknown to clients. */
  private readonly decoySecret = randomBytes(32);
  /** Password check target for unknown users, so their failure costs the same PBKDF2 as a real one. */
  private readonly decoy = parseCredentials(credentialsFromPassword(randomBytes(16).toString('hex')).slice(0, 1));
  private readonly failedByUser = new Map<string, number>();
  readonly stats: LoginStats = { succeeded: 0, failed: 0, failedByUser: this.failedByUser };

  constructor(private readonly options: AuthOptions = {}) {
    this.loopbackUsers = new Set(options.loopbackUsers ?? ['guest']);
    this.failedLoginDelayMs = options.failedLoginDelayMs ?? 1000;
  }

  /** Replays the users log; creates the default user on the very first start. */
  async open(log: MetaLog, defaultVhost: string): Promise<void> {
    this.log = log;
    const { snapshot, records } = log.replay();
    const all = [...(snapshot ? [snapshot] : []), ...records];
    for (const buf of all) this.apply(JSON.parse(buf.toString('utf8')) as UserRecord);
    const defaultUser = this.options.defaultUser === undefined ? { name: 'guest', password: 'guest' } : this.options.defaultUser;
    if (all.length === 0 && defaultUser) {
      await this.putUser(defaultUser.name, { password: defaultUser.password, tags: ['administrator'], permissions: { [defaultVhost]: ALL } });
    }
  }

  private apply(r: UserRecord): void {
    if (r.t === 'u') this.users.set(r.d.name, { def: r.d, creds: parseCredentials(r.d.credentials) });
    else if (r.t === 'u-') {
      this.users.delete(r.n);
      this.principals.delete(r.n);
    } else if (r.t === 'snap') {
      this.users.clear();
      this.principals.clear();
      for (const d of r.users) this.users.set(d.name, { def: d, creds: parseCredentials(d.credentials) });
    }
  }

  private async write(r: UserRecord): Promise<void> {
    this.apply(r);
    if (!this.log) return;
    if (this.log.recordsSinceSnapshot >= SNAPSHOT_EVERY) {
      await this.log.snapshot(Buffer.from(JSON.stringify({ t: 'snap', users: this.list() } satisfies UserRecord)));
    } else {
      await this.log.append(Buffer.from(JSON.stringify(r)), 'sync');
    }
  }

  private emit(change: UserChange): void {
    for (const l of this.listeners) l(change);
  }

  onChange(listener: (change: UserChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  configure(options: Pick<AuthOptions, 'loopbackUsers' | 'failedLoginDelayMs'>): void {
    if (options.loopbackUsers) this.loopbackUsers = new Set(options.loopbackUsers);
    if (options.failedLoginDelayMs !== undefined) this.failedLoginDelayMs = options.failedLoginDelayMs;
  }

  // -- authentication ---------------------------------------------------------------------------

  async authenticate(username: string, password: string, ctx: LoginContext): Promise<AuthResult> {
    const entry = this.users.get(username);
    // Unknown users are checked against the decoy so both paths cost one PBKDF2.
    const ok = await verifyPassword(password, entry?.creds ?? this.decoy);
    return this.loginFinished(username, ok && entry !== undefined, ctx);
  }

  async authenticateExternal(username: string, ctx: LoginContext): Promise<AuthResult> {
    return this.loginFinished(username, this.users.has(username), ctx);
  }

  async loginFinished(username: string, ok: boolean, ctx: LoginContext): Promise<AuthResult> {
    if (ok && this.users.has(username)) {
      if (this.loopbackUsers.has(username) && !isLoopbackAddress(ctx.remoteAddress)) {
        this.countFailure(username);
        return { ok: false, reason: `user '${username}' can only connect via localhost` };
      }
      this.stats.succeeded++;
      return { ok: true, user: this.principal(username) };
    }
    this.countFailure(username);
    if (this.failedLoginDelayMs > 0) await sleep(this.failedLoginDelayMs);
    return { ok: false, reason: `invalid credentials for user '${username}' (${ctx.mechanism})` };
  }

  private countFailure(username: string): void {
    this.stats.failed++;
    // Bounded: guessed names must not grow this map without limit.
    if (this.failedByUser.size < 10_000 || this.failedByUser.has(username)) this.failedByUser.set(username, (this.failedByUser.get(username) ?? 0) + 1);
  }

  scramCredential(username: string, alg: ScramAlgorithm): { credential: ScramCredential; known: boolean } {
    const real = this.users.get(username)?.creds.scram[alg];
    if (real) return { credential: real, known: true };
    // A stable decoy per name: same salt on every attempt, as a real user's would be.
    const h = createHmac('sha512', this.decoySecret).update(`${alg}\0${username}`).digest();
    const size = alg === 'sha256' ? 32 : 64;
    return {
      credential: { salt: h.subarray(0, 16), iterations: DEFAULT_SCRAM_ITERATIONS, storedKey: createHmac(alg, h).update('s').digest().subarray(0, size), serverKey: createHmac(alg, h).update('k').digest().subarray(0, size) },
      known: false,
    };
  }

  scramCredentials(username: string): Partial<Record<ScramAlgorithm, ScramCredential>> | undefined {
    return this.users.get(username)?.creds.scram;
  }

  // -- authorization ----------------------------------------------------------------------------

  principal(username: string): AuthenticatedUser {
    // One handle per existing user, shared by its connections (it reads the store live).
    const cached = this.principals.get(username);
    if (cached) return cached;
    const p = new Principal(username, this.lookupDefinition);
    if (this.users.has(username)) this.principals.set(username, p);
    return p;
  }
  private readonly principals = new Map<string, Principal>();
  private readonly lookupDefinition = (n: string): UserDefinition | undefined => this.users.get(n)?.def;

  // -- definitions ------------------------------------------------------------------------------

  get(username: string): UserDefinition | undefined {
    return this.users.get(username)?.def;
  }

  list(): UserDefinition[] {
    return [...this.users.values()].map((e) => e.def);
  }

  async putUser(username: string, update: UserUpdate): Promise<void> {
    if (username === '') throw new InvalidArgument('user name must not be empty');
    const old = this.users.get(username)?.def;
    let credentials = old?.credentials ?? [];
    if (update.password !== undefined) credentials = credentialsFromPassword(update.password);
    else if (update.credentials !== undefined) {
      for (const c of update.credentials) {
        const err = credentialSyntaxError(c);
        if (err) throw new InvalidArgument(`password hash of user '${username}': ${err}`);
      }
      credentials = update.credentials;
    }
    const permissions = update.permissions ?? old?.permissions ?? {};
    for (const [vhost, p] of Object.entries(permissions)) validatePermissions(username, vhost, p);
    const topicPermissions = update.topicPermissions ?? old?.topicPermissions ?? {};
    for (const [vhost, list] of Object.entries(topicPermissions)) for (const p of list) validatePermissions(username, vhost, { configure: '', write: p.write, read: p.read });
    const def: UserDefinition = { name: username, tags: update.tags ?? old?.tags ?? [], credentials, permissions, topicPermissions };
    await this.write({ t: 'u', d: def });
    this.emit({ user: username, kind: 'put' });
  }

  async deleteUser(username: string): Promise<void> {
    if (!this.users.has(username)) throw new NotFound(`no user '${username}'`);
    await this.write({ t: 'u-', n: username });
    this.emit({ user: username, kind: 'delete' });
  }

  private existing(username: string): UserDefinition {
    const d = this.users.get(username)?.def;
    if (!d) throw new NotFound(`no user '${username}'`);
    return d;
  }

  async setPermissions(username: string, vhost: string, permissions: VhostPermissions): Promise<void> {
    const d = this.existing(username);
    await this.putUser(username, { permissions: { ...d.permissions, [vhost]: { configure: permissions.configure, write: permissions.write, read: permissions.read } } });
  }

  async clearPermissions(username: string, vhost: string): Promise<void> {
    const d = this.existing(username);
    const { [vhost]: _, ...rest } = d.permissions;
    await this.putUser(username, { permissions: rest });
  }

  async setTopicPermission(username: string, vhost: string, permission: TopicPermission): Promise<void> {
    const d = this.existing(username);
    const list = (d.topicPermissions[vhost] ?? []).filter((p) => p.exchange !== permission.exchange);
    list.push({ exchange: permission.exchange, write: permission.write, read: permission.read });
    await this.putUser(username, { topicPermissions: { ...d.topicPermissions, [vhost]: list } });
  }

  async clearTopicPermissions(username: string, vhost: string, exchange?: string): Promise<void> {
    const d = this.existing(username);
    const list = exchange === undefined ? [] : (d.topicPermissions[vhost] ?? []).filter((p) => p.exchange !== exchange);
    const { [vhost]: _, ...rest } = d.topicPermissions;
    await this.putUser(username, { topicPermissions: list.length ? { ...rest, [vhost]: list } : rest });
  }
}

function validatePermissions(user: string, vhost: string, p: VhostPermissions): void {
  for (const perm of ['configure', 'write', 'read'] as const) {
    const err = permissionSyntaxError(p[perm]);
    if (err) throw new InvalidArgument(`${perm} permission of user '${user}' in vhost '${vhost}' is not a valid regular expression: ${err}`);
  }
}

class Principal implements AuthenticatedUser {
  constructor(
    readonly name: string,
    private readonly lookup: (name: string) => UserDefinition | undefined,
  ) {}

  hasTag(tag: string): boolean {
    return this.lookup(this.name)?.tags.includes(tag) ?? false;
  }

  /** The definition object itself: every change replaces it (putUser), a deletion removes it. */
  get revision(): unknown {
    return this.lookup(this.name);
  }

  mayAccessVhost(vhost: string): boolean {
    return this.lookup(this.name)?.permissions[vhost] !== undefined;
  }

  allows(vhost: string, kind: ResourceKind, name: string, perm: Permission): boolean {
    const p = this.lookup(this.name)?.permissions[vhost];
    return p !== undefined && matchesPermission(p[perm], permissionResourceName(kind, name));
  }

  check(vhost: string, kind: ResourceKind, name: string, perm: Permission): void {
    if (!this.allows(vhost, kind, name, perm)) {
      throw new AccessRefused(`access to ${kind} '${permissionResourceName(kind, name)}' in vhost '${vhost}' refused for user '${this.name}'`);
    }
  }

  allowsTopic(vhost: string, exchange: string, routingKey: string, perm: 'write' | 'read', clientId?: string): boolean {
    const d = this.lookup(this.name);
    if (!d) return false;
    const perms = d.topicPermissions[vhost];
    return perms === undefined || topicAllowed(perms, exchange, routingKey, perm, { username: this.name, vhost, clientId });
  }

  checkTopic(vhost: string, exchange: string, routingKey: string, perm: 'write' | 'read', clientId?: string): void {
    if (!this.allowsTopic(vhost, exchange, routingKey, perm, clientId)) {
      throw new AccessRefused(`access to topic '${routingKey}' in exchange '${exchange}' in vhost '${vhost}' refused for user '${this.name}'`);
    }
  }
}

