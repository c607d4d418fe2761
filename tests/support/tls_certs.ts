/**
 * Test certificates, made with /usr/bin/openssl in a temp directory: a CA, a server certificate
 * for localhost and 127.0.0.1, and client certificates signed by the CA. All X.509 v3 (the TLS
 * library refuses v1 certificates). Files are PEM; `serverPem` holds the key and the chain, as
 * KIP-651's ssl.keystore.location wants.
 */
import { run } from "./helpers.ts";

export interface TestCerts {
  dir: string;
  caPem: string;
  caKey: string;
  /** Key and certificate chain in one file (ssl.keystore.location). */
  serverPem: string;
  serverKey: string;
  serverCert: string;
  remove(): Promise<void>;
}

async function openssl(dir: string, args: string[]): Promise<void> {
  const r = await run("/usr/bin/openssl", args, { timeoutMs: 60_000, env: { HOME: dir } });
  if (r.code !== 0) throw new Error(`openssl ${args.join(" ")} failed: ${r.stderr}`);
}

/** A key and certificate for `subject` signed by the CA in `certs`, with `ext` extensions. */
export async function signedCert(
  certs: Pick<TestCerts, "dir" | "caPem" | "caKey">,
  name: string,
  subject: string,
  ext: string,
): Promise<{ key: string; cert: string; pem: string }> {
  const { dir } = certs;
  const key = `${dir}/${name}.key`;
  const cert = `${dir}/${name}.crt`;
  await openssl(dir, [
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    key,
    "-out",
    `${dir}/${name}.csr`,
    "-subj",
    subject,
  ]);
  await Deno.writeTextFile(`${dir}/${name}.ext`, ext);
  await openssl(dir, [
    "x509",
    "-req",
    "-in",
    `${dir}/${name}.csr`,
    "-CA",
    certs.caPem,
    "-CAkey",
    certs.caKey,
    "-CAcreateserial",
    "-out",
    cert,
    "-days",
    "2",
    "-extfile",
    `${dir}/${name}.ext`,
  ]);
  const pem = `${dir}/${name}.pem`;
  await Deno.writeTextFile(
    pem,
    (await Deno.readTextFile(key)) + (await Deno.readTextFile(cert)),
  );
  return { key, cert, pem };
}

export const SERVER_EXT = "subjectAltName=DNS:localhost,IP:127.0.0.1\n" +
  "extendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n";
export const CLIENT_EXT = "extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n";

/** A CA (`CN=Tributary Test CA`) and a server certificate for localhost. */
export async function makeTestCerts(caName = "Tributary Test CA"): Promise<TestCerts> {
  const dir = await Deno.makeTempDir({ prefix: "tributary-tls-" });
  const caPem = `${dir}/ca.pem`;
  const caKey = `${dir}/ca.key`;
  await openssl(dir, [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    caKey,
    "-out",
    caPem,
    "-days",
    "2",
    "-subj",
    `/CN=${caName}`,
  ]);
  const server = await signedCert({ dir, caPem, caKey }, "server", "/CN=localhost", SERVER_EXT);
  return {
    dir,
    caPem,
    caKey,
    serverPem: server.pem,
    serverKey: server.key,
    serverCert: server.cert,
    remove: () => Deno.remove(dir, { recursive: true }).catch(() => {}),
  };
}
