/**
 * Sandbox → Pod, as a pure function. Every pod is hardened whatever its template says (the template has no
 * security fields at all): it passes the Kubernetes "restricted" Pod Security Standard, runs as a non-root
 * user on a read-only root filesystem with only `/tmp` and the workspace writable, gets no ServiceAccount
 * token and no service links, and reports Ready only when its readiness probe on the sandbox port passes.
 */
import type { V1Container, V1EnvVar, V1Pod, V1Probe, V1Volume } from "@kubernetes/client-node";
import { API_VERSION } from "../../api/group";
import {
  LABELS,
  MANAGED_BY,
  RESERVED_PREFIX,
  SANDBOX_JWKS_KEY,
  SANDBOX_PORT_NAME,
} from "../../api/reserved-keys";
import { SANDBOX, type Sandbox } from "../../api/sandbox";
import type { SandboxTemplate } from "../../api/sandbox-template";
import type { Wire } from "../../kube/kube-object";

export type Pod = Wire<V1Pod>;

export interface PodRenderOptions {
  /** The gateway's public JWKS ConfigMap in the sandbox's namespace. */
  readonly jwksConfigMap: string;
}

/** Where korokd reads the JWKS by default (`--jwks-path=/etc/agentland/jwks/jwks.json`). */
export const JWKS_MOUNT_PATH = "/etc/agentland/jwks";
export const WORKSPACE_PATH = "/workspace";
export const SANDBOX_CONTAINER = "sandbox";
/** A fixed non-root identity (the distroless "nonroot" user), so files in the emptyDirs are its own. */
export const SANDBOX_UID = 65532;
/** Sandboxes hold no state worth a long drain; a short grace keeps deletes and pool turnover quick. */
const TERMINATION_GRACE_SECONDS = 5;

/** Downward-API variables korokd needs: its token audience is `<POD_NAMESPACE>/<POD_NAME>`. */
const DOWNWARD_ENV: readonly V1EnvVar[] = [
  { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
  { name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
  { name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
];
const DOWNWARD_NAMES = new Set(DOWNWARD_ENV.map((e) => e.name));

export function renderSandboxPod(sandbox: Sandbox, opts: PodRenderOptions): Pod {
  const name = sandbox.metadata.name ?? "";
  const template = sandbox.spec.sandboxTemplate;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      namespace: sandbox.metadata.namespace ?? "",
      labels: podLabels(sandbox),
      ...(template.annotations ? { annotations: { ...template.annotations } } : {}),
      ownerReferences: [
        {
          apiVersion: API_VERSION,
          kind: SANDBOX.kind,
          name,
          uid: sandbox.metadata.uid ?? "",
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      // A sandbox's state lives in its one process: a restart would silently lose it, so a dead process
      // fails the pod (and the Sandbox) instead of crash-looping. Pools replace failed sandboxes.
      restartPolicy: "Never",
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: TERMINATION_GRACE_SECONDS,
      ...(template.runtimeClassName ? { runtimeClassName: template.runtimeClassName } : {}),
      ...(template.nodeSelector ? { nodeSelector: { ...template.nodeSelector } } : {}),
      ...(template.tolerations ? { tolerations: template.tolerations.map((t) => ({ ...t })) } : {}),
      securityContext: {
        runAsNonRoot: true,
        runAsUser: SANDBOX_UID,
        runAsGroup: SANDBOX_UID,
        fsGroup: SANDBOX_UID,
        seccompProfile: { type: "RuntimeDefault" },
      },
      containers: [renderContainer(template)],
      volumes: renderVolumes(opts),
    },
  };
}

function podLabels(sandbox: Sandbox): Record<string, string> {
  // Provenance labels (pool, session, runtime, claim) travel from the Sandbox so `kubectl get pods -l` works.
  const inherited = Object.entries(sandbox.metadata.labels ?? {}).filter(([k]) =>
    k.startsWith(RESERVED_PREFIX),
  );
  return {
    ...sandbox.spec.sandboxTemplate.labels,
    ...Object.fromEntries(inherited),
    [LABELS.managedBy]: MANAGED_BY,
    [LABELS.sandbox]: sandbox.metadata.name ?? "",
    ...(sandbox.spec.templateHash ? { [LABELS.templateHash]: sandbox.spec.templateHash } : {}),
  };
}

function renderContainer(template: SandboxTemplate): Wire<V1Container> {
  const userEnv = (template.env ?? []).filter((e) => !DOWNWARD_NAMES.has(e.name));
  return {
    name: SANDBOX_CONTAINER,
    image: template.image,
    imagePullPolicy: "IfNotPresent",
    ...(template.command ? { command: [...template.command] } : {}),
    ...(template.args ? { args: [...template.args] } : {}),
    workingDir: WORKSPACE_PATH,
    ports: [{ name: SANDBOX_PORT_NAME, containerPort: template.port, protocol: "TCP" }],
    // The downward-API variables come last and user variables of the same name are dropped: korokd's
    // token audience must be the pod's real identity.
    env: [...userEnv.map((e) => ({ ...e })), ...DOWNWARD_ENV],
    resources: {
      ...(template.resources.requests ? { requests: stringQuantities(template.resources.requests) } : {}),
      ...(template.resources.limits ? { limits: stringQuantities(template.resources.limits) } : {}),
    },
    ...probes(template),
    securityContext: {
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { drop: ["ALL"] },
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      seccompProfile: { type: "RuntimeDefault" },
    },
    volumeMounts: [
      { name: "tmp", mountPath: "/tmp" },
      { name: "workspace", mountPath: WORKSPACE_PATH },
      { name: "jwks", mountPath: JWKS_MOUNT_PATH, readOnly: true },
    ],
  };
}

/**
 * Ready means ready: the template's HTTP path answers 2xx, or (without one) the port accepts connections.
 * A warm pool keeps hundreds of idle sandboxes, so once started each is checked every 5 s, not every
 * second: at 200 pods a 1 s readiness probe cost ~0.25 of a core (korokd ~1 ms of CPU per probe, the node
 * its share). The startup probe keeps the first Ready fast: it tries every second, and the kubelet runs
 * the readiness probe the moment it passes. It gives a slow start 5 minutes before restarting it.
 */
const PROBE_PERIOD_SECONDS = { startup: 1, readiness: 5 } as const;
const STARTUP_GRACE_SECONDS = 300;

function sandboxProbe(template: SandboxTemplate): Wire<V1Probe> {
  if (template.readinessPath !== undefined)
    return { httpGet: { path: template.readinessPath, port: SANDBOX_PORT_NAME, scheme: "HTTP" } };
  return { tcpSocket: { port: SANDBOX_PORT_NAME } };
}

function probes(template: SandboxTemplate): Pick<Wire<V1Container>, "startupProbe" | "readinessProbe"> {
  const check = sandboxProbe(template);
  return {
    startupProbe: {
      ...check,
      periodSeconds: PROBE_PERIOD_SECONDS.startup,
      timeoutSeconds: 1,
      successThreshold: 1,
      failureThreshold: STARTUP_GRACE_SECONDS / PROBE_PERIOD_SECONDS.startup,
    },
    readinessProbe: {
      ...check,
      periodSeconds: PROBE_PERIOD_SECONDS.readiness,
      timeoutSeconds: 1,
      successThreshold: 1,
      failureThreshold: 2,
    },
  };
}

function renderVolumes(opts: PodRenderOptions): Wire<V1Volume>[] {
  return [
    { name: "tmp", emptyDir: {} },
    { name: "workspace", emptyDir: {} },
    {
      name: "jwks",
      // Only the `jwks.json` key, at korokd's default path /etc/agentland/jwks/jwks.json.
      // Optional: a namespace whose JWKS the gateway has not published yet still starts its pods; korokd
      // reports not-ready until the file appears (ConfigMap volumes update in place).
      configMap: {
        name: opts.jwksConfigMap,
        optional: true,
        items: [{ key: SANDBOX_JWKS_KEY, path: SANDBOX_JWKS_KEY }],
      },
    },
  ];
}

/** Pods take quantities as strings; a template may hold bare integers (`cpu: 1`). */
function stringQuantities(list: Readonly<Record<string, number | string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(list).map(([k, q]) => [k, String(q)]));
}
