/** The real node's kubelet client identity, signed by the local cluster's CA. */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ClusterInfo } from "../cluster/cluster-state";
import type { NodeLayout } from "./node-layout";

function run(argv: string[]): string {
  const r = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${argv.join(" ")} failed: ${r.stderr.toString().trim()}`);
  return r.stdout.toString();
}

/** A client certificate `system:node:<name>` (group system:nodes) signed by the cluster's CA. */
export function nodeCertificate(cluster: ClusterInfo, l: NodeLayout): { cert: string; key: string } {
  const dir = join(l.base, "pki");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const p = (f: string) => join(dir, f);
  const caKey = join(cluster.dir, "pki", "ca.key");
  run([
    "openssl",
    "genpkey",
    "-algorithm",
    "EC",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-out",
    p("node.key"),
  ]);
  run([
    "openssl",
    "req",
    "-new",
    "-key",
    p("node.key"),
    "-subj",
    `/CN=system:node:${l.nodeName}/O=system:nodes`,
    "-out",
    p("node.csr"),
  ]);
  writeFileSync(
    p("node.ext"),
    "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n",
  );
  run([
    "openssl",
    "x509",
    "-req",
    "-in",
    p("node.csr"),
    "-CA",
    cluster.caCert,
    "-CAkey",
    caKey,
    "-CAcreateserial",
    "-CAserial",
    p("ca.srl"),
    "-days",
    "30",
    "-extfile",
    p("node.ext"),
    "-out",
    p("node.crt"),
  ]);
  return { cert: p("node.crt"), key: p("node.key") };
}
