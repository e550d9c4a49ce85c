/**
 * Typed operations on one resource type (a core kind or a CRD): get, paginated list, create, update
 * (the object's resourceVersion is the precondition), patch (merge, JSON, strategic, server-side apply),
 * delete (propagation, preconditions), the status subresource, and watch.
 */
import type { CallOptions, KubeClient, Query } from "./kube-client";
import { KubeError } from "./kube-error";
import type { KubeObject, Wire } from "./kube-object";
import { readWatchStream, type WatchStream } from "./watch-stream";

/**
 * Names one resource type; `T` is its object type as JSON (e.g. `Wire<V1Pod>`), carried for inference only.
 */
export interface ResourceType<T extends object = KubeObject> {
  /** API group; `""` for the core group. */
  readonly group: string;
  readonly version: string;
  /** Lower-case plural name, as in the URL: `pods`, `leases`, `sandboxes`. */
  readonly plural: string;
  readonly namespaced: boolean;
  /** Kind, used when an object needs apiVersion/kind filled in (server-side apply). */
  readonly kind: string;
  /** Phantom field: never set; lets `client.resource(PODS)` infer `V1Pod`. */
  readonly __type?: T;
}

/** Declares a resource type from its model type `M` (client-node's `V1Pod`, or a CRD's type). */
export function resourceType<M extends object>(
  def: Omit<ResourceType, "__type">,
): ResourceType<Wire<M> & object> {
  return def as ResourceType<Wire<M> & object>;
}

export interface NamespaceOption {
  /** Required for namespaced types (create/update may take it from the object); ignored otherwise. */
  readonly namespace?: string | undefined;
}

export interface ListOptions extends CallOptions, NamespaceOption {
  readonly labelSelector?: string | undefined;
  readonly fieldSelector?: string | undefined;
  /** Page size; with `continue`, pages through large collections. */
  readonly limit?: number | undefined;
  readonly continue?: string | undefined;
  readonly resourceVersion?: string | undefined;
  readonly resourceVersionMatch?: "Exact" | "NotOlderThan" | undefined;
}

export interface ListResult<T> {
  readonly items: T[];
  /** Collection resourceVersion: where a watch continues from. Opaque, compare for equality only. */
  readonly resourceVersion: string;
  /** Token for the next page; absent on the last page. */
  readonly continue?: string;
}

export interface WriteOptions extends CallOptions, NamespaceOption {
  readonly fieldManager?: string;
  readonly dryRun?: boolean;
}

export type JsonPatchOperation =
  | { op: "add" | "replace" | "test"; path: string; value: unknown }
  | { op: "remove"; path: string }
  | { op: "move" | "copy"; from: string; path: string };

export type PatchOptions = WriteOptions &
  (
    | { readonly type: "merge" | "strategic"; readonly patch: object }
    | { readonly type: "json"; readonly patch: readonly JsonPatchOperation[] }
    /** Server-side apply: the full intent of `fieldManager` (required); `force` takes over conflicting fields. */
    | {
        readonly type: "apply";
        readonly patch: object;
        readonly fieldManager: string;
        readonly force?: boolean;
      }
  );

export interface DeleteOptions extends CallOptions, NamespaceOption {
  readonly propagationPolicy?: "Foreground" | "Background" | "Orphan";
  readonly gracePeriodSeconds?: number;
  /** Delete only if the object still has this uid / resourceVersion (else Conflict). */
  readonly preconditions?: { readonly uid?: string; readonly resourceVersion?: string };
}

export interface WatchOptions extends CallOptions, NamespaceOption {
  readonly labelSelector?: string | undefined;
  readonly fieldSelector?: string | undefined;
  /** Start after this resourceVersion (from a list or the last event). */
  readonly resourceVersion?: string | undefined;
  readonly allowWatchBookmarks?: boolean | undefined;
  /** Server-side end of the watch; the stream then ends cleanly. */
  readonly timeoutSeconds?: number | undefined;
  /** No byte for this long = half-open connection: the stream fails (default 5 min). */
  readonly inactivityMs?: number | undefined;
}

export interface ResourceClient<T extends object> {
  readonly type: ResourceType<T>;
  get(name: string, opts?: CallOptions & NamespaceOption): Promise<T>;
  /** One page (or everything when no `limit` is given). */
  list(opts?: ListOptions): Promise<ListResult<T>>;
  /** Every page, following `continue` tokens; resourceVersion is the first page's (the snapshot's). */
  listAll(opts?: Omit<ListOptions, "continue">): Promise<ListResult<T>>;
  create(obj: T, opts?: WriteOptions): Promise<T>;
  /** PUT; fails with Conflict when `metadata.resourceVersion` is no longer current. */
  update(obj: T, opts?: WriteOptions): Promise<T>;
  patch(name: string, opts: PatchOptions): Promise<T>;
  delete(name: string, opts?: DeleteOptions): Promise<void>;
  getStatus(name: string, opts?: CallOptions & NamespaceOption): Promise<T>;
  updateStatus(obj: T, opts?: WriteOptions): Promise<T>;
  patchStatus(name: string, opts: PatchOptions): Promise<T>;
  /** Opens a watch; throws KubeError if the apiserver refuses it (e.g. 410 for a too-old resourceVersion). */
  watch(opts?: WatchOptions): Promise<WatchStream<T>>;
}

const PATCH_CONTENT_TYPE = {
  merge: "application/merge-patch+json",
  strategic: "application/strategic-merge-patch+json",
  json: "application/json-patch+json",
  // JSON is YAML, so an apply configuration can be sent as JSON under the YAML content type.
  apply: "application/apply-patch+yaml",
} as const;

export function createResourceClient<T extends object>(
  client: KubeClient,
  type: ResourceType<T>,
): ResourceClient<T> {
  const base = type.group === "" ? `/api/${type.version}` : `/apis/${type.group}/${type.version}`;
  const collection = (ns: string | undefined, forWrite: boolean): string => {
    if (!type.namespaced) return `${base}/${type.plural}`;
    if (ns) return `${base}/namespaces/${encodeURIComponent(ns)}/${type.plural}`;
    if (!forWrite) return `${base}/${type.plural}`;
    throw new KubeError(`${type.plural}: namespaced resource needs a namespace`, {
      code: 0,
      reason: "BadRequest",
    });
  };
  const item = (name: string, ns: string | undefined, sub = "") => {
    if (!name) throw new KubeError(`${type.plural}: name is required`, { code: 0, reason: "BadRequest" });
    return `${collection(ns, true)}/${encodeURIComponent(name)}${sub}`;
  };
  const meta = (obj: T) => (obj as KubeObject).metadata;
  const call = (o: CallOptions | undefined) => ({
    ...(o?.signal ? { signal: o.signal } : {}),
    ...(o?.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs }),
    ...(o?.priority ? { priority: o.priority } : {}),
  });
  const writeQuery = (o: WriteOptions | undefined): Query => ({
    fieldManager: o?.fieldManager,
    dryRun: o?.dryRun ? "All" : undefined,
  });
  const withKind = (obj: object) => ({
    apiVersion: type.group === "" ? type.version : `${type.group}/${type.version}`,
    kind: type.kind,
    ...obj,
  });

  const get = (sub: string) => async (name: string, o?: CallOptions & NamespaceOption) =>
    client.request<T>({ method: "GET", path: item(name, o?.namespace, sub), ...call(o) });
  const put = (sub: string) => async (obj: T, o?: WriteOptions) =>
    client.request<T>({
      method: "PUT",
      path: item(meta(obj)?.name ?? "", o?.namespace ?? meta(obj)?.namespace, sub),
      query: writeQuery(o),
      body: withKind(obj),
      ...call(o),
    });
  const patch = (sub: string) => async (name: string, o: PatchOptions) =>
    client.request<T>({
      method: "PATCH",
      path: item(name, o.namespace, sub),
      query: { ...writeQuery(o), force: o.type === "apply" && o.force ? true : undefined },
      body: o.type === "apply" ? withKind(o.patch) : o.patch,
      contentType: PATCH_CONTENT_TYPE[o.type],
      ...call(o),
    });

  const list = async (o?: ListOptions) =>
    client
      .request<{ items?: T[] | null; metadata?: { resourceVersion?: string; continue?: string } }>({
        method: "GET",
        path: collection(o?.namespace, false),
        query: {
          labelSelector: o?.labelSelector,
          fieldSelector: o?.fieldSelector,
          limit: o?.limit,
          continue: o?.continue,
          resourceVersion: o?.resourceVersion,
          resourceVersionMatch: o?.resourceVersionMatch,
        },
        ...call(o),
      })
      .then((res) => ({
        items: res.items ?? [],
        resourceVersion: res.metadata?.resourceVersion ?? "",
        ...(res.metadata?.continue ? { continue: res.metadata.continue } : {}),
      }));

  return {
    type,
    get: get(""),
    list,
    async listAll(o) {
      const first = await list(o);
      const items = first.items;
      for (let token = first.continue; token; ) {
        const page = await list({ ...o, continue: token });
        items.push(...page.items);
        token = page.continue;
      }
      return { items, resourceVersion: first.resourceVersion };
    },
    create: async (obj, o) =>
      client.request<T>({
        method: "POST",
        path: collection(o?.namespace ?? meta(obj)?.namespace, true),
        query: writeQuery(o),
        body: withKind(obj),
        ...call(o),
      }),
    update: put(""),
    patch: patch(""),
    async delete(name, o) {
      const body = {
        apiVersion: "v1",
        kind: "DeleteOptions",
        ...(o?.propagationPolicy ? { propagationPolicy: o.propagationPolicy } : {}),
        ...(o?.gracePeriodSeconds === undefined ? {} : { gracePeriodSeconds: o.gracePeriodSeconds }),
        ...(o?.preconditions ? { preconditions: o.preconditions } : {}),
      };
      await client.request({ method: "DELETE", path: item(name, o?.namespace), body, ...call(o) });
    },
    getStatus: get("/status"),
    updateStatus: put("/status"),
    patchStatus: patch("/status"),
    async watch(o) {
      const path = collection(o?.namespace, false);
      const ctl = new AbortController();
      const onAbort = () => ctl.abort(o?.signal?.reason);
      o?.signal?.addEventListener("abort", onAbort, { once: true });
      ctl.signal.addEventListener("abort", () => o?.signal?.removeEventListener("abort", onAbort), {
        once: true,
      });
      const res = await client.openStream({
        path,
        query: {
          watch: true,
          labelSelector: o?.labelSelector,
          fieldSelector: o?.fieldSelector,
          resourceVersion: o?.resourceVersion,
          allowWatchBookmarks: o?.allowWatchBookmarks,
          timeoutSeconds: o?.timeoutSeconds,
        },
        signal: ctl.signal,
        ...(o?.timeoutMs === undefined ? {} : { timeoutMs: o.timeoutMs }),
      });
      return readWatchStream<T>(res, ctl, `watch ${path}`, o?.inactivityMs ?? 300_000);
    },
  };
}
