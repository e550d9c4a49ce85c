/** Writes a kubeconfig with the CA and client certificate embedded, so it works from any directory. */
import { readFileSync, writeFileSync } from "node:fs";

const b64 = (path: string) => readFileSync(path).toString("base64");

export function writeKubeconfig(
  path: string,
  opts: { server: string; caCert: string; cert: string; key: string; user: string; cluster: string },
): void {
  const yaml = `apiVersion: v1
kind: Config
clusters:
- name: ${opts.cluster}
  cluster:
    server: ${opts.server}
    certificate-authority-data: ${b64(opts.caCert)}
users:
- name: ${opts.user}
  user:
    client-certificate-data: ${b64(opts.cert)}
    client-key-data: ${b64(opts.key)}
contexts:
- name: ${opts.user}@${opts.cluster}
  context:
    cluster: ${opts.cluster}
    user: ${opts.user}
current-context: ${opts.user}@${opts.cluster}
`;
  writeFileSync(path, yaml, { mode: 0o600 });
}
