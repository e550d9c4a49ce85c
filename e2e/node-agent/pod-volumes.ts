/**
 * Materialises a pod's volumes under `<podDir>/volumes/<name>` on the host; the sandbox binds them at
 * their mountPaths. emptyDir is a plain directory (mode 0777; `medium: Memory` and `sizeLimit` are
 * not emulated); secret, configMap, downwardAPI and projected volumes are written with the kubelet's
 * atomic layout and rewritten when their sources change (`sync` runs again periodically); the
 * projected `serviceAccountToken` source comes from the TokenRequest API, bound to the pod, and is
 * renewed after 80% of its lifetime as the kubelet does; hostPath binds the host path.
 * Any other volume type fails with a message naming it: the pod stays ContainerCreating.
 */
import { chmodSync, chownSync, existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { type PayloadFile, writePayload } from "./atomic-writer";
import { formatMap, resolveFieldRef, resolveResourceField } from "./field-ref";
import type { ObjectSource, Pod, PodRuntimeInfo, Volume } from "./pod-types";

export class VolumeError extends Error {
  override readonly name = "VolumeError";
}

export interface IssuedToken {
  readonly token: string;
  /** Epoch ms. */
  readonly expiresAt: number;
}

export interface TokenIssuer {
  /** TokenRequest for the pod's ServiceAccount, bound to the pod. */
  issue(
    pod: Pod,
    audience: string | undefined,
    expirationSeconds: number,
    signal?: AbortSignal,
  ): Promise<IssuedToken>;
}

export interface VolumeDeps {
  readonly objects: ObjectSource;
  readonly tokens: TokenIssuer;
  readonly info: PodRuntimeInfo;
  readonly now?: () => number;
}

export interface PodVolumes {
  /** Volume name → host path to bind. Filled by `sync`. */
  readonly paths: ReadonlyMap<string, string>;
  /** Creates or refreshes every volume; throws VolumeError naming the volume that failed. */
  sync(signal?: AbortSignal): Promise<void>;
}

type Files = Map<string, PayloadFile>;
type Projection = NonNullable<NonNullable<Volume["projected"]>["sources"]>[number];

export function createPodVolumes(pod: Pod, podDir: string, deps: VolumeDeps): PodVolumes {
  const paths = new Map<string, string>();
  const tokens = new Map<string, IssuedToken & { issuedAt: number }>();
  const now = deps.now ?? Date.now;
  const ns = pod.metadata?.namespace ?? "default";
  const fsGroup = pod.spec?.securityContext?.fsGroup;
  const gid = typeof fsGroup === "number" ? fsGroup : undefined;

  const decode = (data: Record<string, string> | undefined, b64: boolean) =>
    Object.fromEntries(
      Object.entries(data ?? {}).map(([k, val]) => [k, b64 ? Buffer.from(val, "base64") : Buffer.from(val)]),
    );

  async function keyed(
    files: Files,
    kind: "Secret" | "ConfigMap",
    name: string,
    items: readonly { key: string; path: string; mode?: number | undefined }[] | undefined,
    optional: boolean,
    mode: number,
    signal?: AbortSignal,
  ): Promise<void> {
    const obj =
      kind === "Secret"
        ? await deps.objects.secret(ns, name, signal)
        : await deps.objects.configMap(ns, name, signal);
    if (!obj) {
      if (optional) return;
      throw new VolumeError(`${kind.toLowerCase()} "${name}" not found`);
    }
    const data: Record<string, Buffer> =
      kind === "Secret"
        ? decode((obj as { data?: Record<string, string> }).data, true)
        : {
            ...decode((obj as { data?: Record<string, string> }).data, false),
            ...decode((obj as { binaryData?: Record<string, string> }).binaryData, true),
          };
    if (!items?.length) {
      for (const [k, content] of Object.entries(data)) files.set(k, { content, mode });
      return;
    }
    for (const item of items) {
      const content = data[item.key];
      if (content === undefined) {
        if (optional) continue;
        throw new VolumeError(`couldn't find key ${item.key} in ${kind} ${ns}/${name}`);
      }
      files.set(item.path, { content, mode: item.mode ?? mode });
    }
  }

  function downward(files: Files, items: NonNullable<Volume["downwardAPI"]>["items"], mode: number): void {
    for (const item of items ?? []) {
      let content: string;
      if (item.fieldRef) {
        const path = item.fieldRef.fieldPath;
        content =
          path === "metadata.labels" || path === "metadata.annotations"
            ? formatMap(path === "metadata.labels" ? pod.metadata?.labels : pod.metadata?.annotations)
            : resolveFieldRef(pod, path, deps.info);
      } else if (item.resourceFieldRef) content = resolveResourceField(pod, item.resourceFieldRef, deps.info);
      else continue;
      files.set(item.path, { content, mode: item.mode ?? mode });
    }
  }

  async function token(
    files: Files,
    src: NonNullable<Projection["serviceAccountToken"]>,
    mode: number,
    signal?: AbortSignal,
  ) {
    const expiration = src.expirationSeconds ?? 3600;
    const key = `${src.audience ?? ""}|${expiration}|${src.path}`;
    const cached = tokens.get(key);
    const fresh = cached && now() < cached.issuedAt + 0.8 * (cached.expiresAt - cached.issuedAt);
    const issued =
      fresh && cached
        ? cached
        : { ...(await deps.tokens.issue(pod, src.audience, expiration, signal)), issuedAt: now() };
    tokens.set(key, issued);
    files.set(src.path, { content: issued.token, mode });
  }

  async function projected(files: Files, vol: NonNullable<Volume["projected"]>, signal?: AbortSignal) {
    const mode = vol.defaultMode ?? 0o644;
    for (const src of vol.sources ?? []) {
      if (src.secret)
        await keyed(
          files,
          "Secret",
          src.secret.name ?? "",
          src.secret.items,
          src.secret.optional ?? false,
          mode,
          signal,
        );
      else if (src.configMap)
        await keyed(
          files,
          "ConfigMap",
          src.configMap.name ?? "",
          src.configMap.items,
          src.configMap.optional ?? false,
          mode,
          signal,
        );
      else if (src.downwardAPI) downward(files, src.downwardAPI.items, mode);
      else if (src.serviceAccountToken) await token(files, src.serviceAccountToken, mode, signal);
      else
        throw new VolumeError(
          `projected source ${Object.keys(src).join(",")} is not supported by the host-process node agent`,
        );
    }
  }

  async function materialise(vol: Volume, signal?: AbortSignal): Promise<string> {
    const dir = join(podDir, "volumes", vol.name);
    if (vol.emptyDir) {
      if (!existsSync(dir)) {
        mkdirSync(dir, { recursive: true });
        if (gid !== undefined) chownSync(dir, 0, gid);
        // mkdir's mode is filtered by the umask; emptyDirs are world-writable as in the kubelet.
        chmodSync(dir, 0o777);
      }
      return dir;
    }
    if (vol.hostPath) return hostPath(vol.hostPath.path, vol.hostPath.type ?? "");
    const files: Files = new Map();
    if (vol.secret) {
      const s = vol.secret;
      await keyed(
        files,
        "Secret",
        s.secretName ?? "",
        s.items,
        s.optional ?? false,
        s.defaultMode ?? 0o644,
        signal,
      );
    } else if (vol.configMap) {
      const c = vol.configMap;
      await keyed(
        files,
        "ConfigMap",
        c.name ?? "",
        c.items,
        c.optional ?? false,
        c.defaultMode ?? 0o644,
        signal,
      );
    } else if (vol.downwardAPI) downward(files, vol.downwardAPI.items, vol.downwardAPI.defaultMode ?? 0o644);
    else if (vol.projected) await projected(files, vol.projected, signal);
    else {
      const type = Object.keys(vol).find((k) => k !== "name") ?? "unknown";
      throw new VolumeError(`volume type ${type} is not supported by the host-process node agent`);
    }
    writePayload(dir, files, gid === undefined ? {} : { gid });
    return dir;
  }

  return {
    paths,
    async sync(signal) {
      for (const vol of pod.spec?.volumes ?? []) {
        try {
          paths.set(vol.name, await materialise(vol, signal));
        } catch (err) {
          const msg = err instanceof Error ? err.message : String(err);
          throw new VolumeError(`MountVolume.SetUp failed for volume "${vol.name}": ${msg}`, { cause: err });
        }
      }
    },
  };
}

function hostPath(path: string, type: string): string {
  const exists = existsSync(path);
  if (type === "DirectoryOrCreate" && !exists) mkdirSync(path, { recursive: true, mode: 0o755 });
  else if (type === "FileOrCreate" && !exists) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, "", { mode: 0o644 });
  } else if (type === "Directory" && !(exists && statSync(path).isDirectory()))
    throw new VolumeError(`hostPath ${path} is not a directory`);
  else if (type === "File" && !(exists && statSync(path).isFile()))
    throw new VolumeError(`hostPath ${path} is not a file`);
  return path;
}
