/**
 * The certificates of the mutual-TLS Temporal cluster (`npm run temporal:cluster`), made with the
 * `openssl` CLI the first time and reused afterwards: a private CA, the server's certificate (the
 * frontend and the services between themselves), and one client certificate each for the wallet
 * (API and worker) and for an operator (the CLI and the Web UI). Keys are EC P-256 in PKCS#8, which
 * Go (the server, the CLI, the UI) and the SDK's Rust core all read.
 *
 * Run alone (`node --import tsx scripts/temporal-certs.ts DIR`) it makes them in DIR, which is how
 * docker-compose.yml's one-shot job makes the compose cluster's.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run_file = promisify(execFile);

/** Long enough for a development cluster; a leaf under 825 days is what every TLS stack accepts. */
const ca_days = 3650;
const leaf_days = 825;
/** A certificate that ends within this is made again with the rest, before anything refuses it. */
const renew_before_s = 7 * 86_400;
/** The names the server answers to: this machine, and the compose service name. */
const server_names = ['DNS:localhost', 'IP:127.0.0.1', 'DNS:temporal'];

export interface CertPair {
  cert: string;
  key: string;
}

export interface TemporalCerts {
  dir: string;
  ca: string;
  /** Presented by the frontend and by each service to the others (it is also their client certificate). */
  server: CertPair;
  wallet: CertPair;
  operator: CertPair;
}

export function certPaths(dir: string): TemporalCerts {
  const pair = (name: string): CertPair => ({
    cert: path.join(dir, `${name}.pem`),
    key: path.join(dir, `${name}-key.pem`),
  });
  return {
    dir,
    ca: path.join(dir, 'ca.pem'),
    server: pair('server'),
    wallet: pair('wallet'),
    operator: pair('operator'),
  };
}

/** Makes the set in `dir` unless a complete one is there and valid for another week; returns the paths. */
export async function ensureTemporalCerts(dir: string): Promise<TemporalCerts> {
  const certs = certPaths(dir);
  if (await isComplete(certs)) return certs;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const caKey = path.join(dir, 'ca-key.pem');
  await newKey(caKey);
  await openssl([
    'req',
    '-x509',
    '-new',
    '-key',
    caKey,
    '-days',
    String(ca_days),
    '-subj',
    '/O=wallet/CN=wallet temporal dev CA',
    '-out',
    certs.ca,
  ]);
  await signLeaf(certs, caKey, certs.server, 'temporal-server', [
    'extendedKeyUsage=serverAuth,clientAuth',
    `subjectAltName=${server_names.join(',')}`,
  ]);
  await signLeaf(certs, caKey, certs.wallet, 'wallet', ['extendedKeyUsage=clientAuth']);
  await signLeaf(certs, caKey, certs.operator, 'operator', ['extendedKeyUsage=clientAuth']);
  return certs;
}

async function isComplete(certs: TemporalCerts): Promise<boolean> {
  const pairs = [certs.server, certs.wallet, certs.operator];
  const files = [certs.ca, ...pairs.flatMap((pair) => [pair.cert, pair.key])];
  if (!files.every((file) => existsSync(file))) return false;
  try {
    for (const file of [certs.ca, ...pairs.map((pair) => pair.cert)]) {
      await openssl(['x509', '-in', file, '-noout', '-checkend', String(renew_before_s)]);
    }
    for (const pair of pairs) await openssl(['verify', '-CAfile', certs.ca, pair.cert]);
    return true;
  } catch {
    return false; // ending soon, or signed by a CA that was replaced: make the whole set again
  }
}

async function signLeaf(
  certs: TemporalCerts,
  caKey: string,
  pair: CertPair,
  commonName: string,
  extensions: string[],
): Promise<void> {
  await newKey(pair.key);
  const request = `${pair.cert}.csr`;
  const extensionsFile = `${pair.cert}.ext`;
  writeFileSync(
    extensionsFile,
    ['basicConstraints=CA:FALSE', 'keyUsage=digitalSignature,keyEncipherment', ...extensions].join('\n') + '\n',
  );
  await openssl(['req', '-new', '-key', pair.key, '-subj', `/O=wallet/CN=${commonName}`, '-out', request]);
  await openssl([
    'x509',
    '-req',
    '-in',
    request,
    '-CA',
    certs.ca,
    '-CAkey',
    caKey,
    '-CAcreateserial',
    '-days',
    String(leaf_days),
    '-sha256',
    '-extfile',
    extensionsFile,
    '-out',
    pair.cert,
  ]);
  for (const file of [request, extensionsFile]) rmSync(file);
}

async function newKey(file: string): Promise<void> {
  await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file]);
}

async function openssl(args: string[]): Promise<void> {
  await run_file('openssl', args).catch((error) => {
    throw new Error(`openssl ${args[0]} failed: ${error.stderr || error.message}`);
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = process.argv[2];
  if (!dir) throw new Error('usage: scripts/temporal-certs.ts DIR');
  ensureTemporalCerts(path.resolve(dir)).then(
    (certs) => console.log(`temporal certificates in ${certs.dir}`),
    (error) => {
      console.error(`wallet temporal-certs: ${(error as Error).message}`);
      process.exit(1);
    },
  );
}
