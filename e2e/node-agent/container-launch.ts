/**
 * Everything needed to start one container of a pod: its user (runAsUser/runAsGroup from the container
 * or the pod, checked against runAsNonRoot as the kubelet does: an image without a USER runs as root),
 * environment, argv, mounts, and the bubblewrap command line that puts it together.
 */
import {
  type ApiserverAddress,
  buildContainerEnv,
  ContainerConfigError,
  containerArgv,
} from "./container-env";
import type { ExecTarget } from "./container-exec";
import { type ImageFiles, imageFileMounts, toContainerPath } from "./image-files";
import type { ImageTarget } from "./image-map";
import type { Container, ObjectSource, Pod, PodRuntimeInfo } from "./pod-types";
import { type HostTree, resolvePath, rootLayoutArgs } from "./root-layout";
import { type SandboxMount, sandboxArgv } from "./sandbox-argv";

export interface HostTools {
  /** Host paths of the checkout and Bun, shown to containers at fixed paths (image-files.ts). */
  readonly imageFiles: ImageFiles;
  readonly bwrap: string;
  readonly setpriv: string;
  readonly nsenter: string;
  readonly tree: HostTree;
}

export interface LaunchInput {
  readonly pod: Pod;
  readonly container: Container;
  readonly image: ImageTarget;
  readonly info: PodRuntimeInfo;
  readonly api: ApiserverAddress;
  readonly objects: ObjectSource;
  readonly tools: HostTools;
  /** Volume name → host path. */
  readonly volumes: ReadonlyMap<string, string>;
  readonly hostsFile: string;
  readonly terminationLogFile: string;
  readonly signal?: AbortSignal;
}

export interface Launch {
  readonly argv: string[];
  readonly env: Record<string, string>;
  readonly exec: Omit<ExecTarget, "targetPid">;
}

export interface ContainerUser {
  readonly uid: number;
  readonly gid: number;
  readonly groups: number[];
}

export function containerUser(pod: Pod, container: Container): ContainerUser {
  const pc = pod.spec?.securityContext;
  const cc = container.securityContext;
  const uid = cc?.runAsUser ?? pc?.runAsUser ?? 0;
  const gid = cc?.runAsGroup ?? pc?.runAsGroup ?? (uid === 0 ? 0 : uid);
  if ((cc?.runAsNonRoot ?? pc?.runAsNonRoot) && uid === 0) {
    throw new ContainerConfigError("container has runAsNonRoot and image will run as root");
  }
  const groups = [...(pc?.supplementalGroups ?? []), ...(pc?.fsGroup === undefined ? [] : [pc.fsGroup])];
  return { uid, gid, groups: [...new Set(groups)] };
}

export function podHostname(pod: Pod): string {
  return (pod.spec?.hostname || pod.metadata?.name || "pod").slice(0, 63);
}

const BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export async function prepareLaunch(input: LaunchInput): Promise<Launch> {
  const { pod, container, tools } = input;
  const user = containerUser(pod, container);
  const kubeEnv = await buildContainerEnv({
    pod,
    container,
    info: input.info,
    api: input.api,
    objects: input.objects,
    ...(input.signal ? { signal: input.signal } : {}),
  });
  const inImage = (s: string) => toContainerPath(tools.imageFiles, s);
  const imageEnv = Object.fromEntries(Object.entries(input.image.env).map(([k, v]) => [k, inImage(v)]));
  const env = {
    PATH: BASE_PATH,
    HOSTNAME: podHostname(pod),
    HOME: user.uid === 0 ? "/root" : "/",
    ...imageEnv,
    ...kubeEnv,
  };
  const argv = containerArgv(container, input.image, env).map(inImage);
  if (argv.length === 0) throw new ContainerConfigError("no command specified");
  const mounts: SandboxMount[] = imageFileMounts(tools.imageFiles);
  for (const m of container.volumeMounts ?? []) {
    const base = input.volumes.get(m.name);
    if (base === undefined) throw new ContainerConfigError(`volume "${m.name}" is not defined or not ready`);
    const hostPath = m.subPath ? `${base}/${m.subPath}` : base;
    mounts.push({
      hostPath,
      containerPath: resolvePath(tools.tree, m.mountPath),
      readOnly: m.readOnly ?? false,
    });
  }
  const termPath = resolvePath(tools.tree, container.terminationMessagePath ?? "/dev/termination-log");
  mounts.push({ hostPath: input.terminationLogFile, containerPath: termPath, readOnly: false });
  const sc = container.securityContext;
  const imageDir = input.image.workingDir === undefined ? undefined : inImage(input.image.workingDir);
  const workingDir = container.workingDir || imageDir;
  const layoutTargets = mounts.map((m) => m.containerPath).filter((p) => !p.startsWith("/dev/"));
  const sandbox = sandboxArgv({
    bwrap: tools.bwrap,
    setpriv: tools.setpriv,
    layout: rootLayoutArgs(tools.tree, layoutTargets),
    hostname: podHostname(pod),
    readOnlyRoot: sc?.readOnlyRootFilesystem ?? false,
    hostsFile: input.hostsFile,
    mounts,
    ...(workingDir ? { workingDir } : {}),
    user,
    dropCaps: sc?.capabilities?.drop ?? [],
    addCaps: sc?.capabilities?.add ?? [],
    noNewPrivileges: sc?.allowPrivilegeEscalation === false,
    argv,
  });
  return {
    argv: sandbox,
    env,
    exec: { nsenter: tools.nsenter, env, ...(workingDir ? { workingDir } : {}), user },
  };
}
