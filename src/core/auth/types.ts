import type { Permission, ResourceKind, TopicPermission, VhostPermissions } from './permissions.js';
import type { ScramAlgorithm, ScramCredential } from './scram.js';

/** RabbitMQ's user tags: `administrator` (everything), `management`, `monitoring`, `policymaker`; others are kept as labels. */
export type UserTag = string;

/** A user as stored durably (the users meta log) and listed by the management API: no password, only derived credentials. */
export interface UserDefinition {
  name: string;
  tags: UserTag[];
  /** Stored credential texts (`credentials.ts`); empty = the user cannot log in with a password (certificate only). */
  credentials: string[];
  /** Per vhost: configure / write / read expressions. */
  permissions: Record<string, VhostPermissions>;
  /** Per vhost: topic permissions per exchange. */
  topicPermissions: Record<string, TopicPermission[]>;
}

export interface UserUpdate {
  /** A clear password: SCRAM-SHA-256 and SCRAM-SHA-512 credentials are derived from it and it is dropped. */
  password?: string;
  /** Stored credential texts instead of a password (see `credentials.ts`). */
  credentials?: string[];
  tags?: UserTag[];
  /** Replaces all the user's vhost permissions when given. */
  permissions?: Record<string, VhostPermissions>;
  /** Replaces all the user's topic permissions when given. */
  topicPermissions?: Record<string, TopicPermission[]>;
}

export interface AuthOptions {
  /** Users who may log in from loopback only (RabbitMQ's `loopback_users`). Default `['guest']`. */
  loopbackUsers?: string[];
  /** Extra delay before a failed login is answered, ms. Default 1000. */
  failedLoginDelayMs?: number;
  /** User created on first start (empty users log), with full permissions on the default vhost and tag administrator; null = none. Default guest/guest. */
  defaultUser?: { name: string; password: string } | null;
}

export type AuthResult = { ok: true; user: AuthenticatedUser } | { ok: false; reason: string };

export interface LoginContext {
  /** Peer address (for loopback-only users and the failure log). */
  remoteAddress: string;
  /** `PLAIN`, `AMQPLAIN`, `SCRAM-SHA-256`, `EXTERNAL`, `mqtt-password`, ... for counters and logs. */
  mechanism: string;
}

export interface UserChange {
  user: string;
  kind: 'put' | 'delete';
}

/**
 * An authenticated user as a connection holds it. Checks read the store live, so permission
 * changes and deletions apply to open connections at their next operation.
 */
export interface AuthenticatedUser {
  readonly name: string;
  /**
   * Changes (by identity) whenever the user's definition changes or the user is deleted, so an
   * adapter may cache its decisions per connection while this stays the same (MQTT: per topic).
   */
  readonly revision: unknown;
  hasTag(tag: UserTag): boolean;
  /** True when the user (still exists and) has any permissions on the vhost. */
  mayAccessVhost(vhost: string): boolean;
  /** True when `perm` on the resource is granted. */
  allows(vhost: string, kind: ResourceKind, name: string, perm: Permission): boolean;
  /** Throws AccessRefused naming the resource, RabbitMQ's wording: `access to queue 'q' in vhost '/' refused for user 'u'`. */
  check(vhost: string, kind: ResourceKind, name: string, perm: Permission): void;
  /** Topic permission on a routing key (true when the user has none for the exchange). */
  allowsTopic(vhost: string, exchange: string, routingKey: string, perm: 'write' | 'read', clientId?: string): boolean;
  /** Throws AccessRefused: `access to topic 'a.b' in exchange 'amq.topic' in vhost '/' refused for user 'u'`. */
  checkTopic(vhost: string, exchange: string, routingKey: string, perm: 'write' | 'read', clientId?: string): void;
}

/** Login counters (for logs and metrics). */
export interface LoginStats {
  succeeded: number;
  failed: number;
  failedByUser: ReadonlyMap<string, number>;
}

/**
 * The broker-wide users: credentials, tags, permissions; durable in the `users` meta log.
 * One store serves every protocol.
 */
export interface UserStore {
  /** Checks a user name and password in constant time (an unknown user is checked against a decoy); failures are delayed and counted. */
  authenticate(username: string, password: string, ctx: LoginContext): Promise<AuthResult>;
  /** A user authenticated by other means (TLS client certificate subject: AMQP EXTERNAL, Kafka SSL): exists and may log in from there. */
  authenticateExternal(username: string, ctx: LoginContext): Promise<AuthResult>;
  /** SCRAM credential for a SASL exchange; a stable decoy with `known: false` for an unknown user (nothing reveals existence). */
  scramCredential(username: string, alg: ScramAlgorithm): { credential: ScramCredential; known: boolean };
  /** Both SCRAM credentials of a user (undefined when absent), e.g. for MQTT 5 enhanced auth. */
  scramCredentials(username: string): Partial<Record<ScramAlgorithm, ScramCredential>> | undefined;
  /** Records the outcome of an exchange verified outside `authenticate` (SCRAM); a failure waits the failed-login delay. */
  loginFinished(username: string, ok: boolean, ctx: LoginContext): Promise<AuthResult>;
  /** The user as a permission handle (no authentication), e.g. for internal or trusted callers. */
  principal(username: string): AuthenticatedUser;

  get(username: string): UserDefinition | undefined;
  list(): UserDefinition[];
  /** Creates or updates a user (durable before it resolves). */
  putUser(username: string, update: UserUpdate): Promise<void>;
  /** Deletes a user; NotFound when absent. */
  deleteUser(username: string): Promise<void>;
  setPermissions(username: string, vhost: string, permissions: VhostPermissions): Promise<void>;
  clearPermissions(username: string, vhost: string): Promise<void>;
  /** Sets the topic permission of (vhost, exchange), replacing one for the same exchange. */
  setTopicPermission(username: string, vhost: string, permission: TopicPermission): Promise<void>;
  /** Clears one exchange's topic permission, or all of the vhost when `exchange` is omitted. */
  clearTopicPermissions(username: string, vhost: string, exchange?: string): Promise<void>;
  /** Subscribes to user changes (e.g. close a deleted user's connections); returns an unsubscribe function. */
  onChange(listener: (change: UserChange) => void): () => void;
  /** Changes loopback users and the failed-login delay (config reload). */
  configure(options: Pick<AuthOptions, 'loopbackUsers' | 'failedLoginDelayMs'>): void;
  readonly stats: LoginStats;
}
