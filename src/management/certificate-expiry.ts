import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isTlsListener, LISTENER_NAMES, type BrokerConfig } from '../config/index.js';

/** RabbitMQ's units for `/api/health/checks/certificate-expiration/{within}/{unit}`. */
const UNIT_MS: Record<string, number> = { days: 86_400_000, weeks: 7 * 86_400_000, months: 30 * 86_400_000, years: 365 * 86_400_000 };

export function windowMs(within: string, unit: string): number | null {
  const n = Number(within);
  const ms = UNIT_MS[unit];
  return Number.isInteger(n) && n >= 0 && ms !== undefined ? n * ms : null;
}

export interface ExpiringCertificate {
  file: string;
  subject: string;
  valid_to: string;
}

/**
 * Certificates of the `tls:` section (the broker's chain and the client CA bundle) that expire
 * before `deadline` (ms since the epoch), when a TLS listener is enabled; as RabbitMQ's check,
 * which looks at the certificates its TLS listeners use.
 */
export async function expiringCertificates(config: BrokerConfig, deadline: number): Promise<ExpiringCertificate[]> {
  const tlsOn = LISTENER_NAMES.some((n) => isTlsListener(n) && config.listeners[n]?.enabled);
  if (!tlsOn) return [];
  const out: ExpiringCertificate[] = [];
  for (const file of [config.tls.cert, config.tls.ca]) {
    if (!file) continue;
    const pem = await readFile(file, 'utf8');
    for (const block of pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []) {
      const cert = new X509Certificate(block);
      if (Date.parse(cert.validTo) < deadline) out.push({ file, subject: cert.subject.replace(/\n/g, ', '), valid_to: new Date(cert.validTo).toISOString() });
    }
  }
  return out;
}
