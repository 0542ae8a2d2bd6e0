/**
 * Test certificates made with `openssl` in a temp dir: a CA, a server certificate for
 * localhost/127.0.0.1, client certificates signed by the CA (subject CN = the user), one from
 * another CA (not trusted), and an expired server certificate.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCerts {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  expiredCert: string;
  /** Client certificate and key paths by user name (CN). */
  client(user: string): { cert: string; key: string };
  /** A client certificate from a CA the broker does not trust. */
  untrustedClient: { cert: string; key: string };
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function makeCa(dir: string, name: string): void {
  openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '30', '-subj', `/CN=${name}`]);
}

function signed(dir: string, ca: string, name: string, subject: string, ext: string): void {
  openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject]);
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.pem`, '-days', '30', '-extfile', `${name}.ext`]);
}

export function makeTestCerts(): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), 'pb-certs-'));
  makeCa(dir, 'ca');
  makeCa(dir, 'other-ca');
  signed(dir, 'ca', 'server', '/CN=localhost', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  // An expired certificate: `openssl ca` is the 3.0 way to set explicit start and end dates.
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '1000\n');
  writeFileSync(
    join(dir, 'ca.cnf'),
    `[ca]\ndefault_ca=d\n[d]\ndatabase=${dir}/index.txt\nserial=${dir}/serial\nnew_certs_dir=${dir}\ndefault_md=sha256\npolicy=p\nunique_subject=no\n[p]\ncommonName=supplied\n`,
  );
  openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'expired.key', '-out', 'expired.csr', '-subj', '/CN=localhost']);
  openssl(dir, ['ca', '-batch', '-config', 'ca.cnf', '-in', 'expired.csr', '-out', 'expired.pem', '-cert', 'ca.pem', '-keyfile', 'ca.key', '-startdate', '20200101000000Z', '-enddate', '20200201000000Z', '-notext']);
  signed(dir, 'other-ca', 'untrusted', '/CN=mallory', 'extendedKeyUsage=clientAuth\n');
  const made = new Set<string>();
  return {
    dir,
    ca: join(dir, 'ca.pem'),
    serverCert: join(dir, 'server.pem'),
    serverKey: join(dir, 'server.key'),
    expiredCert: join(dir, 'expired.pem'),
    client(user: string) {
      const name = `client-${user}`;
      if (!made.has(user)) {
        signed(dir, 'ca', name, `/CN=${user}/O=polybroker-tests`, 'extendedKeyUsage=clientAuth\n');
        made.add(user);
      }
      return { cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) };
    },
    untrustedClient: { cert: join(dir, 'untrusted.pem'), key: join(dir, 'untrusted.key') },
  };
}
