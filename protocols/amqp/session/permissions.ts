import { AmqpChannelError } from '../codec/errors.js';
import { ReplyCode } from '../spec/reply-codes.js';

/**
 * RabbitMQ-style permissions: per user and vhost, three regexes over resource names.
 * configure: declare/delete queues and exchanges; write: publish to an exchange, bind a queue
 * (or destination exchange); read: consume/get/purge a queue, bind from an exchange.
 * The default exchange is checked under the name `amq.default`, as RabbitMQ does.
 */
export type Permission = 'configure' | 'write' | 'read';
export type ResourceKind = 'queue' | 'exchange';

export interface VhostPermissions {
  configure: RegExp;
  write: RegExp;
  read: RegExp;
}

export class UserPermissions {
  /** null = the user may do anything in every vhost (the built-in guest). */
  constructor(private readonly byVhost: Map<string, VhostPermissions> | null) {}

  static all(): UserPermissions {
    return new UserPermissions(null);
  }

  static fromConfig(p: Record<string, { configure: string; write: string; read: string }>): UserPermissions {
    const m = new Map<string, VhostPermissions>();
    // RabbitMQ anchors permission regexes at both ends.
    const re = (s: string) => new RegExp(`^(?:${s})$`);
    for (const [vhost, v] of Object.entries(p)) m.set(vhost, { configure: re(v.configure), write: re(v.write), read: re(v.read) });
    return new UserPermissions(m);
  }

  canUseVhost(vhost: string): boolean {
    return this.byVhost === null || this.byVhost.has(vhost);
  }

  /** Throws ACCESS_REFUSED (channel) when the user lacks `perm` on the resource. */
  check(user: string, vhost: string, kind: ResourceKind, name: string, perm: Permission, classId: number, methodId: number): void {
    if (this.byVhost === null) return;
    const p = this.byVhost.get(vhost);
    const resource = kind === 'exchange' && name === '' ? 'amq.default' : name;
    if (p && p[perm].test(resource)) return;
    throw new AmqpChannelError(ReplyCode.ACCESS_REFUSED, `access to ${kind} '${resource}' in vhost '${vhost}' refused for user '${user}'`, classId, methodId);
  }
}
