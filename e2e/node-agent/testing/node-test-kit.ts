/**
 * Helpers for node-agent tests against the real cluster: apply objects, wait for a state by polling
 * the apiserver, read a container's log file, and find processes by a marker on their command line.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type TestCluster, testCluster } from "../../harness/test-cluster";
import { containerLogPath } from "../pod-sandbox";
import type { Pod } from "../pod-types";

export interface NodeTestKit {
  readonly cluster: TestCluster;
  /** The node agent's state directory (pod dirs and logs). */
  readonly stateDir: string;
  /** A fresh namespace for one test; `cleanup` deletes it (and so stops its pods). */
  namespace(prefix: string): Promise<string>;
  /** Deletes the namespaces this kit made, without waiting: call it from `afterAll`. */
  cleanup(): Promise<void>;
  apply(ns: string, ...objects: object[]): Promise<void>;
  getPod(ns: string, name: string): Promise<Pod | undefined>;
  /** Polls `probe` until it returns a value other than undefined; fails with `what` after `timeoutMs`. */
  waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs?: number): Promise<T>;
  waitForPod(
    ns: string,
    name: string,
    what: string,
    ok: (pod: Pod) => boolean,
    timeoutMs?: number,
  ): Promise<Pod>;
  /** The container's log file content of run `restartCount` ("" if none yet). */
  logOf(pod: Pod, container: string, restartCount?: number): string;
}

export function nodeTestKit(): NodeTestKit {
  const cluster = testCluster();
  const stateDir = join(cluster.dir, "nodes", cluster.nodeName);
  const kubectl = async (args: string[], stdin?: string) => {
    const r = await cluster.kubectl(args, stdin === undefined ? {} : { stdin });
    if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")} failed: ${r.stderr}`);
    return r.stdout;
  };
  const getPod = async (ns: string, name: string) => {
    const r = await cluster.kubectl(["get", "pod", "-n", ns, name, "-o", "json"]);
    if (r.code !== 0) {
      if (r.stderr.includes("NotFound")) return undefined;
      throw new Error(`kubectl get pod ${ns}/${name}: ${r.stderr}`);
    }
    return JSON.parse(r.stdout) as Pod;
  };
  const waitFor = async <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await Bun.sleep(100);
    }
  };
  const made: string[] = [];
  return {
    cluster,
    stateDir,
    async namespace(prefix) {
      const ns = await cluster.createNamespace(prefix);
      made.push(ns);
      return ns;
    },
    async cleanup() {
      for (const ns of made.splice(0)) await cluster.kubectl(["delete", "namespace", ns, "--wait=false"]);
    },
    async apply(ns, ...objects) {
      await kubectl(
        ["apply", "-n", ns, "-f", "-"],
        JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }),
      );
    },
    getPod,
    waitFor,
    waitForPod: (ns, name, what, ok, timeoutMs) =>
      waitFor(
        `pod ${ns}/${name} ${what}`,
        async () => {
          const pod = await getPod(ns, name);
          return pod && ok(pod) ? pod : undefined;
        },
        timeoutMs,
      ),
    logOf(pod, container, restartCount = 0) {
      try {
        return readFileSync(containerLogPath(stateDir, pod, container, restartCount), "utf8");
      } catch {
        return "";
      }
    },
  };
}

export const isReady = (pod: Pod) =>
  pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;

/** Pids of live `sleep <seconds>` processes; tests use a random fractional duration as a marker. */
export function sleepers(seconds: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      const state = readFileSync(`/proc/${entry}/stat`, "utf8").split(") ")[1]?.[0];
      if (cmd === `sleep\0${seconds}\0` && state !== "Z") out.push(Number(entry));
    } catch {
      // exited
    }
  }
  return out;
}

/** A pod object running the http-echo fixture on its pod IP. */
export function echoPod(
  name: string,
  extra: { labels?: Record<string, string>; spec?: object; container?: object } = {},
) {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, labels: extra.labels ?? { app: name } },
    spec: {
      terminationGracePeriodSeconds: 5,
      containers: [{ ...echoContainer(), ...extra.container }],
      ...extra.spec,
    },
  };
}

export function echoContainer() {
  return {
    name: "echo",
    image: "agentland-fixtures/http-echo:1",
    ports: [{ name: "http", containerPort: 8080 }],
    readinessProbe: { httpGet: { path: "/readyz", port: "http" }, periodSeconds: 2 },
    env: [
      { name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
      { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
      { name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
    ],
  };
}

/** A pod running `script` with /bin/sh from the shell fixture image. */
export function shellPod(name: string, script: string, spec: object = {}) {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name },
    spec: {
      terminationGracePeriodSeconds: 5,
      containers: [{ name: "sh", image: "agentland-fixtures/shell:1", command: ["/bin/sh", "-c", script] }],
      ...spec,
    },
  };
}
