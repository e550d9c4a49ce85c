/**
 * Services for the real node's pods, which have no kube-proxy and no cluster DNS (the control plane runs
 * without EndpointSlice controllers, and Debian 12 has no CoreDNS):
 *   - DNS on the bridge address, port 53/udp: A records for `<svc>.<ns>.svc.cluster.local` (ClusterIP),
 *     an empty answer for other types of such names, NXDOMAIN for everything else. Nothing is forwarded:
 *     pods never reach the host's resolver.
 *   - a user-space TCP proxy per ClusterIP port: the ClusterIP is added to the bridge as a /32, a listener
 *     there forwards each connection to a Ready pod of the Service on this node's subnet. Host-originated
 *     connections need no IP forwarding, which stays off.
 * `bun e2e/real-node/service-proxy.ts <node-dir>/service-proxy.json` ({kubeconfig, bridge, bridgeIP, subnetPrefix});
 * polls the apiserver every second (a handful of Services: cheaper than watches to get right).
 */
import { readFileSync } from "node:fs";
import type { Socket, TCPSocketListener } from "bun";
import { createKubeClient } from "../../src/kube/kube-client";
import { loadKubeconfigFile } from "../../src/kube/kube-config";
import { PODS, SERVICES } from "../../src/kube/resources";
import { answerQuery } from "./dns-answer";

const { kubeconfig, bridge, bridgeIP, subnetPrefix } = JSON.parse(
  readFileSync(process.argv[2] as string, "utf8"),
) as {
  kubeconfig: string;
  bridge: string;
  bridgeIP: string;
  subnetPrefix: string;
};
const client = createKubeClient(loadKubeconfigFile(kubeconfig));

interface Backend {
  readonly ip: string;
  readonly port: number;
}
/** `ip:port` of a ClusterIP → ready backends. */
const backends = new Map<string, Backend[]>();
/** `<name>.<ns>` → ClusterIP. */
const names = new Map<string, string>();
const listeners = new Map<string, TCPSocketListener<{ peer?: Socket<unknown> }>>();
const addresses = new Set<string>();

function ensureAddress(ip: string): void {
  if (addresses.has(ip)) return;
  Bun.spawnSync(["ip", "addr", "add", `${ip}/32`, "dev", bridge], { stdout: "ignore", stderr: "ignore" });
  addresses.add(ip);
}

function listen(ip: string, port: number): void {
  const key = `${ip}:${port}`;
  if (listeners.has(key)) return;
  ensureAddress(ip);
  try {
    const l = Bun.listen<{ peer?: Socket<unknown>; pending?: Uint8Array[] | undefined }>({
      hostname: ip,
      port,
      socket: {
        open(sock) {
          const list = backends.get(key) ?? [];
          const target = list[Math.floor(Math.random() * list.length)];
          if (!target) {
            sock.end();
            return;
          }
          sock.data = { pending: [] };
          Bun.connect({
            hostname: target.ip,
            port: target.port,
            socket: {
              open(peer) {
                sock.data.peer = peer as unknown as Socket<unknown>;
                for (const chunk of sock.data.pending ?? []) peer.write(chunk);
                sock.data.pending = undefined;
              },
              data(_peer, chunk) {
                sock.write(chunk);
              },
              close() {
                sock.end();
              },
              error() {
                sock.end();
              },
            },
          }).catch(() => sock.end());
        },
        data(sock, chunk) {
          if (sock.data.peer) sock.data.peer.write(chunk);
          else sock.data.pending?.push(new Uint8Array(chunk));
        },
        close(sock) {
          sock.data.peer?.end();
        },
        error(sock) {
          sock.data.peer?.end();
        },
      },
    });
    listeners.set(key, l as unknown as TCPSocketListener<{ peer?: Socket<unknown> }>);
  } catch (err) {
    console.error(`cannot listen on ${key}: ${String(err)}`);
  }
}

async function sync(): Promise<void> {
  const [services, pods] = await Promise.all([
    client.resource(SERVICES).list({ timeoutMs: 5_000 }),
    client.resource(PODS).list({ timeoutMs: 5_000 }),
  ]);
  const ready = pods.items.filter(
    (p) =>
      p.status?.podIP?.startsWith(subnetPrefix) &&
      p.status.conditions?.some((c) => c.type === "Ready" && c.status === "True") &&
      !p.metadata?.deletionTimestamp,
  );
  names.clear();
  for (const svc of services.items) {
    const ip = svc.spec?.clusterIP;
    const ns = svc.metadata?.namespace ?? "";
    if (!ip || ip === "None" || svc.metadata?.name === "kubernetes") continue;
    names.set(`${svc.metadata?.name}.${ns}`, ip);
    const selector = svc.spec?.selector ?? {};
    const members = ready.filter(
      (p) =>
        p.metadata?.namespace === ns &&
        Object.entries(selector).every(([k, v]) => p.metadata?.labels?.[k] === v) &&
        Object.keys(selector).length > 0,
    );
    for (const sp of svc.spec?.ports ?? []) {
      if ((sp.protocol ?? "TCP") !== "TCP") continue;
      const list: Backend[] = [];
      for (const p of members) {
        const tp = sp.targetPort ?? sp.port;
        const port =
          typeof tp === "number"
            ? tp
            : p.spec?.containers.flatMap((c) => c.ports ?? []).find((cp) => cp.name === tp)?.containerPort;
        if (port && p.status?.podIP) list.push({ ip: p.status.podIP, port });
      }
      backends.set(`${ip}:${sp.port}`, list);
      listen(ip, sp.port);
    }
  }
}

Bun.udpSocket({
  hostname: bridgeIP,
  port: 53,
  socket: {
    data(sock, buf, port, addr) {
      const reply = answerQuery(new Uint8Array(buf), (name) => names.get(name));
      if (reply) sock.send(reply, port, addr);
    },
  },
});

for (;;) {
  try {
    await sync();
  } catch (err) {
    console.error(`sync failed: ${String(err)}`);
  }
  await Bun.sleep(1000);
}
