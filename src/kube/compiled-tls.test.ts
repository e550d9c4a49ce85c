/**
 * TLS in a `bun build --compile` executable against the real apiserver: kubeconfig (CA + client
 * certificate) and in-cluster (ServiceAccount token + ca.crt). Also proves the TLS settings are really
 * applied (client-node's HTTP layer drops them under Bun): a wrong CA fails, skip-verify then succeeds.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { kubeTestEnv } from "./testdata/kube-test-env";

const env = kubeTestEnv();
const work = mkdtempSync(join(tmpdir(), "kube-compiled-"));
const exe = join(work, "kube-probe");
let ns = "";

beforeAll(async () => {
  const built = Bun.spawnSync(
    [
      process.execPath,
      "build",
      "--compile",
      join(import.meta.dir, "testdata", "compiled-entry.ts"),
      "--outfile",
      exe,
    ],
    { stdout: "pipe", stderr: "pipe" },
  );
  if (built.exitCode !== 0) throw new Error(`bun build --compile failed: ${built.stderr.toString()}`);
  ns = await env.cluster.createNamespace("kube-compiled");
  // The controller-manager publishes kube-root-ca.crt into a new namespace asynchronously; the probe lists it.
  const deadline = Date.now() + 30_000;
  while ((await env.cluster.kubectl(["get", "configmap", "kube-root-ca.crt", "-n", ns])).code !== 0) {
    if (Date.now() > deadline) throw new Error(`kube-root-ca.crt never appeared in ${ns}`);
    await Bun.sleep(100);
  }
}, 240_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function probe(
  settings: object,
): Promise<{ ok: boolean; names?: string[]; reason?: string; message?: string }> {
  const proc = Bun.spawn([exe], {
    stdin: new TextEncoder().encode(JSON.stringify(settings)),
    stdout: "pipe",
    stderr: "pipe",
    // No NODE_EXTRA_CA_CERTS or anything else from the test's environment: TLS must come from the config.
    env: { PATH: "/usr/bin:/bin" },
  });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`probe exited ${code}: ${err}`);
  return JSON.parse(out);
}

/** The admin kubeconfig with its cluster entry changed. */
function kubeconfigVariant(name: string, cluster: Record<string, unknown>): string {
  const doc = Bun.YAML.parse(readFileSync(env.cluster.kubeconfig, "utf8")) as {
    clusters: { cluster: Record<string, unknown> }[];
  };
  for (const c of doc.clusters) {
    delete c.cluster["certificate-authority-data"];
    Object.assign(c.cluster, cluster);
  }
  const path = join(work, name);
  writeFileSync(path, JSON.stringify(doc));
  return path;
}

test("a compiled executable reaches the apiserver with a kubeconfig (CA + client certificate)", async () => {
  const result = await probe({ mode: "kubeconfig", path: env.cluster.kubeconfig, namespace: ns });
  expect(result).toEqual({ ok: true, names: ["kube-root-ca.crt"] });
}, 60_000);

test("a compiled executable reaches the apiserver with in-cluster config (ServiceAccount token + ca.crt)", async () => {
  expect((await env.cluster.kubectl(["create", "serviceaccount", "reader", "-n", ns])).code).toBe(0);
  const bind = [
    "create",
    "rolebinding",
    "reader",
    "--clusterrole=view",
    `--serviceaccount=${ns}:reader`,
    "-n",
    ns,
  ];
  expect((await env.cluster.kubectl(bind)).code).toBe(0);
  const token = await env.cluster.kubectl(["create", "token", "reader", "-n", ns]);
  const sa = join(work, "serviceaccount");
  mkdirSync(sa, { recursive: true });
  writeFileSync(join(sa, "token"), token.stdout.trim());
  writeFileSync(join(sa, "ca.crt"), readFileSync(env.cluster.caCert));
  writeFileSync(join(sa, "namespace"), ns);
  const { hostname, port } = new URL(env.cluster.server);
  const result = await probe({ mode: "in-cluster", host: hostname, port, serviceAccountDir: sa });
  expect(result).toEqual({ ok: true, names: ["kube-root-ca.crt"] });
}, 60_000);

test("the CA is really enforced: a wrong CA fails the handshake, insecure-skip-tls-verify then succeeds", async () => {
  const otherCa = join(work, "other-ca");
  const made = Bun.spawnSync(
    [
      "openssl",
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-subj",
      "/CN=not-the-cluster-ca",
      "-days",
      "1",
      "-keyout",
      `${otherCa}.key`,
      "-out",
      `${otherCa}.crt`,
    ],
    { stdout: "ignore", stderr: "pipe" },
  );
  expect(made.exitCode).toBe(0);
  const wrongCa = kubeconfigVariant("wrong-ca", { "certificate-authority": `${otherCa}.crt` });
  const refused = await probe({ mode: "kubeconfig", path: wrongCa, namespace: ns });
  expect(refused.ok).toBe(false);
  expect(refused.reason).toBe("NetworkError");
  const skip = kubeconfigVariant("skip-verify", { "insecure-skip-tls-verify": true });
  expect(await probe({ mode: "kubeconfig", path: skip, namespace: ns })).toEqual({
    ok: true,
    names: ["kube-root-ca.crt"],
  });
}, 60_000);
