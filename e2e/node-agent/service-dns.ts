/**
 * Service names for the pods of this node: keeps every attached pod's hosts file (bind-mounted at
 * /etc/hosts in its containers) in step with Services and pod readiness across the cluster. It
 * watches Services and Pods with the admin credential: the node credential may list only its own
 * pods, and EndpointSlices cannot hold loopback pod IPs (see service-endpoints.ts).
 * Files are rewritten in place (same inode), because a bind mount pins the inode it was given.
 */
import { readFileSync, writeFileSync } from "node:fs";
import type { Informer } from "../../src/kube/informer";
import { renderHostsFile } from "./hosts-file";
import type { Pod, Service } from "./pod-types";
import type { PodDns } from "./pod-worker";
import { type ServiceAddress, serviceAddresses } from "./service-endpoints";

interface Attached {
  readonly file: string;
  readonly namespace: string;
  readonly podIP: string;
  readonly hostname: string;
  readonly subdomain?: string;
}

export interface ServiceDns extends PodDns {
  /** Recomputes now (normally debounced after informer events). */
  refresh(): void;
  stop(): void;
}

export function createServiceDns(opts: {
  services: Informer<Service>;
  pods: Informer<Pod>;
  apiserverHost: string;
  debounceMs?: number;
  onError(err: unknown): void;
}): ServiceDns {
  const attached = new Map<string, Attached>();
  let addresses: ServiceAddress[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;

  const write = (a: Attached) => {
    const text = renderHostsFile({ ...a, apiserverHost: opts.apiserverHost, services: addresses });
    try {
      if (readFileSync(a.file, "utf8") !== text) writeFileSync(a.file, text);
    } catch (err) {
      opts.onError(err);
    }
  };

  const refresh = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    addresses = serviceAddresses(opts.services.list(), opts.pods.list());
    for (const a of attached.values()) write(a);
  };
  const schedule = () => {
    timer ??= setTimeout(refresh, opts.debounceMs ?? 50);
  };
  const handlers = { onAdd: schedule, onUpdate: schedule, onDelete: schedule };
  const unregister = [opts.services.addHandlers(handlers), opts.pods.addHandlers(handlers)];

  return {
    attach(uid, file, pod) {
      const a: Attached = { file, ...pod };
      attached.set(uid, a);
      write(a);
    },
    detach(uid) {
      attached.delete(uid);
    },
    refresh,
    stop() {
      if (timer) clearTimeout(timer);
      for (const u of unregister) u();
    },
  };
}
