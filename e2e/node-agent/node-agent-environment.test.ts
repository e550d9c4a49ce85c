/**
 * What a process in a pod sees: its environment from the downward API, Secrets and ConfigMaps,
 * mounted Secrets, projected ServiceAccount tokens that really authenticate, the apiserver at
 * KUBERNETES_SERVICE_HOST/PORT and kubernetes.default.svc, and the securityContext it asked for.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { echoContainer, echoPod, isReady, nodeTestKit, shellPod } from "./testing/node-test-kit";

const kit = nodeTestKit();
afterAll(() => kit.cleanup());
const ca = readFileSync(kit.cluster.caCert, "utf8");

async function podGet(ip: string, path: string): Promise<string> {
  const res = await fetch(`http://${ip}:8080${path}`);
  if (!res.ok) throw new Error(`GET ${path} → ${res.status}: ${await res.text()}`);
  return res.text();
}

async function whoami(token: string): Promise<string | undefined> {
  const res = await fetch(`${kit.cluster.server}/apis/authentication.k8s.io/v1/selfsubjectreviews`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" }),
    tls: { ca },
  } as RequestInit);
  if (!res.ok) return undefined;
  return ((await res.json()) as { status?: { userInfo?: { username?: string } } }).status?.userInfo?.username;
}

describe("a pod's environment", () => {
  test("env from fieldRef/secretKeyRef/configMapKeyRef/resourceFieldRef, a Secret volume and projected tokens reach the process", async () => {
    const ns = await kit.namespace("na-env");
    const base = echoContainer();
    const pod = echoPod("env", {
      labels: { app: "env", team: "blue" },
      spec: {
        serviceAccountName: "robot",
        volumes: [
          { name: "creds", secret: { secretName: "creds" } },
          {
            name: "tokens",
            projected: {
              sources: [
                {
                  serviceAccountToken: {
                    audience: "agentland-test",
                    path: "aud-token",
                    expirationSeconds: 600,
                  },
                },
              ],
            },
          },
        ],
      },
      container: {
        resources: { requests: { cpu: "250m", memory: "32Mi" }, limits: { memory: "64Mi" } },
        env: [
          ...base.env,
          { name: "POD_UID", valueFrom: { fieldRef: { fieldPath: "metadata.uid" } } },
          { name: "NODE", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
          { name: "TEAM", valueFrom: { fieldRef: { fieldPath: "metadata.labels['team']" } } },
          { name: "PASSWORD", valueFrom: { secretKeyRef: { name: "creds", key: "password" } } },
          { name: "MODE", valueFrom: { configMapKeyRef: { name: "settings", key: "mode" } } },
          { name: "MEM_MB", valueFrom: { resourceFieldRef: { resource: "limits.memory", divisor: "1Mi" } } },
          { name: "CPU_M", valueFrom: { resourceFieldRef: { resource: "requests.cpu", divisor: "1m" } } },
          { name: "GREETING", value: "hello $(POD_NAME) from $(TEAM)" },
          { name: "NODE_EXTRA_CA_CERTS", value: "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt" },
        ],
        envFrom: [{ prefix: "CFG_", configMapRef: { name: "settings" } }],
        volumeMounts: [
          { name: "creds", mountPath: "/etc/creds", readOnly: true },
          { name: "tokens", mountPath: "/var/run/secrets/tokens", readOnly: true },
        ],
      },
    });
    await kit.apply(
      ns,
      { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "robot" } },
      { apiVersion: "v1", kind: "Secret", metadata: { name: "creds" }, stringData: { password: "s3cret" } },
      {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "settings" },
        data: { mode: "fast", color: "red" },
      },
      pod,
    );
    const ready = await kit.waitForPod(ns, "env", "Ready", isReady);
    const ip = ready.status?.podIP as string;
    const env = async (name: string) => podGet(ip, `/env?name=${name}`);
    expect(await env("POD_NAME")).toBe("env");
    expect(await env("POD_IP")).toBe(ip);
    expect(await env("POD_UID")).toBe(ready.metadata?.uid as string);
    expect(await env("NODE")).toBe(kit.cluster.nodeName);
    expect(await env("TEAM")).toBe("blue");
    expect(await env("PASSWORD")).toBe("s3cret");
    expect(await env("MODE")).toBe("fast");
    expect(await env("CFG_color")).toBe("red");
    expect(await env("MEM_MB")).toBe("64");
    expect(await env("CPU_M")).toBe("250");
    expect(await env("GREETING")).toBe("hello env from blue");
    expect(await env("KUBERNETES_SERVICE_PORT")).toBe(new URL(kit.cluster.server).port);
    expect(await podGet(ip, "/file?path=/etc/creds/password")).toBe("s3cret");

    const saDir = "/var/run/secrets/kubernetes.io/serviceaccount";
    expect(await podGet(ip, `/file?path=${saDir}/namespace`)).toBe(ns);
    expect(await podGet(ip, `/file?path=${saDir}/ca.crt`)).toBe(ca);
    const token = await podGet(ip, `/file?path=${saDir}/token`);
    expect(await whoami(token)).toBe(`system:serviceaccount:${ns}:robot`);
    // A token for another audience is bound to this pod but not accepted by the apiserver.
    const audToken = await podGet(ip, "/file?path=/var/run/secrets/tokens/aud-token");
    const claims = JSON.parse(Buffer.from(audToken.split(".")[1] ?? "", "base64url").toString()) as Record<
      string,
      unknown
    >;
    expect(claims["aud"]).toEqual(["agentland-test"]);
    expect(claims["kubernetes.io"]).toMatchObject({
      namespace: ns,
      pod: { name: "env", uid: ready.metadata?.uid },
    });
    expect(await whoami(audToken)).toBeUndefined();

    // In-cluster access as agentland's components do it: kubernetes.default.svc + the mounted CA.
    const port = new URL(kit.cluster.server).port;
    const viaDns = JSON.parse(
      await podGet(ip, `/fetch?url=https://kubernetes.default.svc:${port}/version`),
    ) as { status: number; body: string };
    expect(viaDns.status).toBe(200);
    expect(viaDns.body).toContain("gitVersion");
  }, 60_000);

  test("readOnlyRootFilesystem, runAsUser and writable emptyDir volumes are enforced", async () => {
    const ns = await kit.namespace("na-secctx");
    const script =
      "id -u; id -g; touch /etc/x 2>/dev/null || echo etc-ro; touch /tmp/x 2>/dev/null || echo tmp-ro; echo hi > /data/f && echo data-rw; cat /etc/hosts | grep -c localhost";
    await kit.apply(
      ns,
      shellPod("locked", script, {
        restartPolicy: "Never",
        securityContext: { runAsUser: 65532, runAsGroup: 65532, runAsNonRoot: true },
        volumes: [{ name: "data", emptyDir: {} }],
        containers: [
          {
            name: "sh",
            image: "agentland-fixtures/shell:1",
            command: ["/bin/sh", "-c", script],
            securityContext: {
              readOnlyRootFilesystem: true,
              allowPrivilegeEscalation: false,
              capabilities: { drop: ["ALL"] },
            },
            volumeMounts: [{ name: "data", mountPath: "/data" }],
          },
        ],
      }),
    );
    const pod = await kit.waitForPod(ns, "locked", "Succeeded", (p) => p.status?.phase === "Succeeded");
    expect(kit.logOf(pod, "sh").split("\n")).toEqual([
      "65532",
      "65532",
      "etc-ro",
      "tmp-ro",
      "data-rw",
      "2",
      "",
    ]);
  }, 60_000);

  test("runAsNonRoot without a user is refused with CreateContainerConfigError, as the kubelet does", async () => {
    const ns = await kit.namespace("na-nonroot");
    await kit.apply(ns, shellPod("root", "id", { securityContext: { runAsNonRoot: true } }));
    const pod = await kit.waitForPod(
      ns,
      "root",
      "refused",
      (p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === "CreateContainerConfigError",
    );
    expect(pod.status?.containerStatuses?.[0]?.state?.waiting?.message).toContain("runAsNonRoot");
  }, 60_000);
});
