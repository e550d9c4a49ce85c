import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadInClusterConfig, loadKubeconfigFile } from "./kube-config";
import { KubeError } from "./kube-error";
import { manualClock } from "./testdata/manual-clock";

const dir = mkdtempSync(join(tmpdir(), "kube-config-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const b64 = (s: string) => Buffer.from(s).toString("base64");
const write = (name: string, text: string) => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

const kubeconfig = write(
  "config",
  `apiVersion: v1
kind: Config
clusters:
- name: embedded
  cluster:
    server: https://127.0.0.1:6443/
    certificate-authority-data: ${b64("CA-PEM")}
    tls-server-name: kubernetes
- name: files
  cluster:
    server: https://files.example:443
    certificate-authority: pki/ca.crt
- name: skip
  cluster:
    server: https://skip.example
    insecure-skip-tls-verify: true
users:
- name: cert-data
  user:
    client-certificate-data: ${b64("CERT-PEM")}
    client-key-data: ${b64("KEY-PEM")}
- name: cert-files
  user:
    client-certificate: pki/client.crt
    client-key: ${join(dir, "pki", "client.key")}
- name: token
  user:
    token: static-token
- name: token-file
  user:
    tokenFile: token
contexts:
- name: admin
  context: { cluster: embedded, user: cert-data }
- name: files
  context: { cluster: files, user: cert-files, namespace: team-a }
- name: skip-token
  context: { cluster: skip, user: token }
- name: skip-token-file
  context: { cluster: skip, user: token-file }
current-context: admin
`,
);
mkdirSync(join(dir, "pki"));
write("pki/ca.crt", "FILE-CA");
write("pki/client.crt", "FILE-CERT");
write("pki/client.key", "FILE-KEY");
write("token", "file-token\n");

test("the current context gives server, embedded CA and client certificate, and the default namespace", () => {
  const config = loadKubeconfigFile(kubeconfig);
  expect(config.server).toBe("https://127.0.0.1:6443");
  expect(config.tls).toEqual({
    ca: "CA-PEM",
    cert: "CERT-PEM",
    key: "KEY-PEM",
    insecureSkipVerify: false,
    serverName: "kubernetes",
  });
  expect(config.token).toBeUndefined();
  expect(config.namespace).toBe("default");
});

test("an explicit context wins; relative file references resolve against the kubeconfig's directory", () => {
  const config = loadKubeconfigFile(kubeconfig, { context: "files" });
  expect(config.server).toBe("https://files.example:443");
  expect(config.tls).toEqual({
    ca: "FILE-CA",
    cert: "FILE-CERT",
    key: "FILE-KEY",
    insecureSkipVerify: false,
  });
  expect(config.namespace).toBe("team-a");
});

test("bearer token, token file and insecure-skip-tls-verify", () => {
  const token = loadKubeconfigFile(kubeconfig, { context: "skip-token" });
  expect(token.tls.insecureSkipVerify).toBe(true);
  expect(token.token?.token()).toBe("static-token");
  expect(loadKubeconfigFile(kubeconfig, { context: "skip-token-file" }).token?.token()).toBe("file-token");
});

test("an unknown context is a KubeError that names it", () => {
  const load = () => loadKubeconfigFile(kubeconfig, { context: "nope" });
  expect(load).toThrow(KubeError);
  expect(load).toThrow('context "nope" not found');
});

test("a kubeconfig missing its server is rejected with the field's path", () => {
  const bad = write("bad", "clusters:\n- name: c\n  cluster: {}\ncontexts: []\ncurrent-context: x\n");
  expect(() => loadKubeconfigFile(bad)).toThrow(/clusters\.0\.cluster\.server/);
});

function serviceAccountDir(token: string): string {
  const sa = mkdtempSync(join(dir, "sa-"));
  writeFileSync(join(sa, "token"), token);
  writeFileSync(join(sa, "ca.crt"), "SA-CA");
  writeFileSync(join(sa, "namespace"), "agentland-system");
  return sa;
}

test("in-cluster: server from the service host/port, CA and namespace from the mounted ServiceAccount", () => {
  const sa = serviceAccountDir("t1");
  const config = loadInClusterConfig({ host: "10.96.0.1", port: "443", serviceAccountDir: sa });
  expect(config.server).toBe("https://10.96.0.1:443");
  expect(config.tls).toEqual({ ca: "SA-CA", insecureSkipVerify: false });
  expect(config.namespace).toBe("agentland-system");
  expect(config.token?.token()).toBe("t1");
  expect(loadInClusterConfig({ host: "fd00::1", port: 6443, serviceAccountDir: sa }).server).toBe(
    "https://[fd00::1]:6443",
  );
});

test("in-cluster: a rotated token is picked up after a minute, or at once after invalidate()", async () => {
  const clock = manualClock();
  const sa = serviceAccountDir("old");
  const source = loadInClusterConfig({ host: "h", port: 1, serviceAccountDir: sa, clock }).token;
  expect(source?.token()).toBe("old");
  writeFileSync(join(sa, "token"), "new");
  expect(source?.token()).toBe("old");
  await clock.advance(60_000);
  expect(source?.token()).toBe("new");
  writeFileSync(join(sa, "token"), "newer");
  source?.invalidate();
  expect(source?.token()).toBe("newer");
});

test("in-cluster without the service environment fails clearly", () => {
  expect(() => loadInClusterConfig({ host: "", port: "", serviceAccountDir: dir })).toThrow(
    "KUBERNETES_SERVICE_HOST",
  );
});
