import type { ConfigSection } from '../section.js';

export type ClientCertificates = 'none' | 'optional' | 'required';
export type CertificateUser = 'none' | 'commonName' | 'distinguishedName';

/** The `tls:` section: one certificate setup for every TLS listener (amqps, mqtts, stomps, kafkas, https). */
export interface TlsConfig {
  /** PEM certificate chain of the broker. */
  cert: string | null;
  /** PEM private key of `cert`. */
  key: string | null;
  /** Passphrase of an encrypted key. */
  passphrase: string | null;
  /** PEM CA bundle that client certificates are verified against. */
  ca: string | null;
  minVersion: 'TLSv1.2' | 'TLSv1.3';
  /** OpenSSL cipher list (TLS 1.2); null = Node's default. */
  ciphers: string | null;
  clientCertificates: ClientCertificates;
  /** How a verified client certificate names its user (AMQP EXTERNAL, Kafka SSL principal, MQTT/STOMP without login). */
  certificateUser: CertificateUser;
  /** Re-read the files when they change, ms between checks; 0 = only on reload. */
  watchIntervalMs: number;
}

const file = (what: string) => ({ type: ['string', 'null'], default: null, description: what });

export const tlsSection: ConfigSection = {
  key: 'tls',
  defaultToEmpty: true,
  schema: {
    type: 'object',
    description: 'Certificates and client-certificate rules of the TLS listeners (docs/security.md).',
    additionalProperties: false,
    properties: {
      cert: file('Path of the PEM certificate (chain) the TLS listeners present.'),
      key: file('Path of the PEM private key of `cert`.'),
      passphrase: { type: ['string', 'null'], default: null, description: 'Passphrase of an encrypted key.' },
      ca: file('Path of the PEM CA bundle client certificates are verified against.'),
      minVersion: { type: 'string', enum: ['TLSv1.2', 'TLSv1.3'], default: 'TLSv1.2', description: 'Lowest TLS version accepted.' },
      ciphers: { type: ['string', 'null'], default: null, description: "OpenSSL cipher list for TLS 1.2; null = Node's default." },
      clientCertificates: { type: 'string', enum: ['none', 'optional', 'required'], default: 'none', description: 'Whether client certificates are not asked for, verified when given, or required.' },
      certificateUser: {
        type: 'string',
        enum: ['none', 'commonName', 'distinguishedName'],
        default: 'commonName',
        description: "What names the user of a verified client certificate (RabbitMQ's ssl_cert_login_from); none = certificates never log in.",
      },
      watchIntervalMs: { type: 'integer', minimum: 0, default: 5000, description: 'How often certificate files are checked for changes (reloaded without restart); 0 = only on reload.' },
    },
  },
};
