/**
 * TLS settings of the TLS listeners: files read and checked at start (a missing file, a
 * malformed PEM, a key that does not match the certificate, an expired or not-yet-valid
 * certificate are a `TlsConfigError` naming the file, not a crash later), re-read when they
 * change, and the user a verified client certificate names.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { createSecureContext, type SecureContextOptions, type TLSSocket, type TlsOptions } from 'node:tls';
import type { CertificateUser, TlsConfig } from '../config/index.js';

export class TlsConfigError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TlsConfigError';
  }
}

function read(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new TlsConfigError(`tls.${what}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
}

/** The secure-context part (certificate, key, CA, versions, ciphers), checked. */
export function loadSecureContextOptions(cfg: TlsConfig, now = new Date()): SecureContextOptions {
  if (!cfg.cert || !cfg.key) throw new TlsConfigError('a TLS listener is enabled but tls.cert and tls.key are not both set');
  const cert = read(cfg.cert, 'cert');
  const key = read(cfg.key, 'key');
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (err) {
    throw new TlsConfigError(`tls.cert: ${cfg.cert} is not a PEM certificate (${(err as Error).message})`, { cause: err });
  }
  if (new Date(x509.validTo) < now) throw new TlsConfigError(`tls.cert: the certificate in ${cfg.cert} (${x509.subject.replace(/\n/g, ', ')}) expired on ${x509.validTo}`);
  if (new Date(x509.validFrom) > now) throw new TlsConfigError(`tls.cert: the certificate in ${cfg.cert} is not valid before ${x509.validFrom}`);
  let privateKey;
  try {
    privateKey = createPrivateKey({ key, passphrase: cfg.passphrase ?? undefined });
  } catch (err) {
    throw new TlsConfigError(`tls.key: ${cfg.key} is not a usable PEM private key (${(err as Error).message})`, { cause: err });
  }
  if (!x509.checkPrivateKey(privateKey)) throw new TlsConfigError(`tls.key: the key in ${cfg.key} does not match the certificate in ${cfg.cert}`);
  const options: SecureContextOptions = { cert, key, minVersion: cfg.minVersion };
  if (cfg.passphrase) options.passphrase = cfg.passphrase;
  if (cfg.ca) options.ca = read(cfg.ca, 'ca');
  if (cfg.ciphers) options.ciphers = cfg.ciphers;
  if (cfg.clientCertificates !== 'none' && !cfg.ca) throw new TlsConfigError(`tls.clientCertificates is ${cfg.clientCertificates} but tls.ca (the CA client certificates are verified against) is not set`);
  try {
    createSecureContext(options);
  } catch (err) {
    throw new TlsConfigError(`tls: ${(err as Error).message}`, { cause: err });
  }
  return options;
}

/** Server options for `tls.createServer` / `https.createServer`. */
export function tlsServerOptions(cfg: TlsConfig, handshakeTimeoutMs: number): TlsOptions {
  return {
    ...loadSecureContextOptions(cfg),
    requestCert: cfg.clientCertificates !== 'none',
    rejectUnauthorized: cfg.clientCertificates === 'required',
    handshakeTimeout: handshakeTimeoutMs,
  };
}

/** The user a verified client certificate names, or undefined (no certificate, not verified, or `certificateUser: none`). */
export function certificateUserOf(socket: TLSSocket, mode: CertificateUser): string | undefined {
  if (mode === 'none' || !socket.authorized) return undefined;
  const cert = socket.getPeerCertificate();
  if (!cert || !cert.subject) return undefined;
  if (mode === 'commonName') {
    const cn = cert.subject.CN;
    return Array.isArray(cn) ? cn[0] : cn || undefined;
  }
  // RFC 4514 order (most specific first), as RabbitMQ's distinguished_name.
  const x509 = socket.getPeerX509Certificate();
  return x509 ? x509.subject.split('\n').reverse().join(',') : undefined;
}

/** Modification stamp of the configured files, to notice a renewed certificate. */
export function tlsFilesStamp(cfg: TlsConfig): string {
  return [cfg.cert, cfg.key, cfg.ca]
    .map((p) => {
      if (!p) return '-';
      try {
        const s = statSync(p);
        return `${s.mtimeMs}:${s.size}`;
      } catch {
        return 'missing';
      }
    })
    .join('|');
}
