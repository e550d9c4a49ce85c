/**
 * The local cluster's PKI, made with Debian's openssl: one CA, the apiserver serving certificate,
 * client certificates for the admin, controller-manager, scheduler and the node, and the
 * service-account signing key. EC P-256 keys: generating all of it takes well under a second.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface Pki {
  readonly dir: string;
  readonly caCert: string;
  readonly caKey: string;
  readonly saKey: string;
  readonly saPub: string;
  cert(name: ClientName | "apiserver"): { readonly cert: string; readonly key: string };
}

export type ClientName = "admin" | "controller-manager" | "scheduler" | "node";

interface Subject {
  readonly cn: string;
  readonly o?: string;
  readonly san?: string;
  readonly usage: "serverAuth" | "clientAuth";
}

function subjects(nodeName: string): Record<ClientName | "apiserver", Subject> {
  return {
    apiserver: {
      cn: "kube-apiserver",
      usage: "serverAuth",
      san: [
        "IP:127.0.0.1",
        "IP:10.96.0.1",
        "DNS:localhost",
        "DNS:kubernetes",
        "DNS:kubernetes.default",
        "DNS:kubernetes.default.svc",
        "DNS:kubernetes.default.svc.cluster.local",
      ].join(","),
    },
    admin: { cn: "agentland-admin", o: "system:masters", usage: "clientAuth" },
    "controller-manager": { cn: "system:kube-controller-manager", usage: "clientAuth" },
    scheduler: { cn: "system:kube-scheduler", usage: "clientAuth" },
    node: { cn: `system:node:${nodeName}`, o: "system:nodes", usage: "clientAuth" },
  };
}

function openssl(args: string[]): void {
  const r = Bun.spawnSync(["openssl", ...args], { stdout: "ignore", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr.toString()}`);
}

const genKey = (path: string) =>
  openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path]);

export function createPki(dir: string, nodeName: string): Pki {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const p = (f: string) => join(dir, f);
  genKey(p("ca.key"));
  openssl([
    "req",
    "-x509",
    "-new",
    "-key",
    p("ca.key"),
    "-subj",
    "/CN=agentland-local-ca",
    "-days",
    "3650",
    "-out",
    p("ca.crt"),
  ]);
  for (const [name, s] of Object.entries(subjects(nodeName))) {
    genKey(p(`${name}.key`));
    const subj = `/CN=${s.cn}${s.o ? `/O=${s.o}` : ""}`;
    openssl(["req", "-new", "-key", p(`${name}.key`), "-subj", subj, "-out", p(`${name}.csr`)]);
    const ext = [
      "basicConstraints=CA:FALSE",
      "keyUsage=critical,digitalSignature,keyEncipherment",
      `extendedKeyUsage=${s.usage}`,
      ...(s.san ? [`subjectAltName=${s.san}`] : []),
    ].join("\n");
    writeFileSync(p(`${name}.ext`), `${ext}\n`);
    openssl([
      "x509",
      "-req",
      "-in",
      p(`${name}.csr`),
      "-CA",
      p("ca.crt"),
      "-CAkey",
      p("ca.key"),
      "-CAcreateserial",
      "-days",
      "365",
      "-extfile",
      p(`${name}.ext`),
      "-out",
      p(`${name}.crt`),
    ]);
  }
  genKey(p("sa.key"));
  openssl(["pkey", "-in", p("sa.key"), "-pubout", "-out", p("sa.pub")]);
  return {
    dir,
    caCert: p("ca.crt"),
    caKey: p("ca.key"),
    saKey: p("sa.key"),
    saPub: p("sa.pub"),
    cert: (name) => ({ cert: p(`${name}.crt`), key: p(`${name}.key`) }),
  };
}
