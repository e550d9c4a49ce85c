/** A throw-away CRD (namespaced, status subresource) so the generic resource API is tested on custom types. */

import type { KubeClient } from "../kube-client";
import { isAlreadyExists } from "../kube-error";
import type { ObjectMeta } from "../kube-object";
import { resourceType } from "../resource-client";
import { CUSTOM_RESOURCE_DEFINITIONS } from "../resources";

export interface Widget {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: { size?: number; color?: string };
  status?: { phase?: string; observedSize?: number };
}

export const WIDGETS = resourceType<Widget>({
  group: "kube-test.agentland.dev",
  version: "v1",
  plural: "widgets",
  kind: "Widget",
  namespaced: true,
});

const open = { type: "object", "x-kubernetes-preserve-unknown-fields": true };

export async function ensureWidgetCrd(client: KubeClient): Promise<void> {
  const crds = client.resource(CUSTOM_RESOURCE_DEFINITIONS);
  try {
    await crds.create({
      metadata: { name: "widgets.kube-test.agentland.dev" },
      spec: {
        group: "kube-test.agentland.dev",
        names: { plural: "widgets", singular: "widget", kind: "Widget", listKind: "WidgetList" },
        scope: "Namespaced",
        versions: [
          {
            name: "v1",
            served: true,
            storage: true,
            subresources: { status: {} },
            schema: {
              openAPIV3Schema: {
                type: "object",
                properties: {
                  spec: {
                    type: "object",
                    properties: { size: { type: "integer", minimum: 0 }, color: { type: "string" } },
                  },
                  status: open,
                },
              },
            },
          },
        ],
      },
    });
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
  for (let i = 0; i < 300; i++) {
    const crd = await crds.get("widgets.kube-test.agentland.dev");
    if (crd.status?.conditions?.some((c) => c.type === "Established" && c.status === "True")) {
      // Established means served, but discovery in the apiserver may lag a moment: probe a list.
      try {
        await client.resource(WIDGETS).list({ namespace: "default", limit: 1 });
        return;
      } catch {}
    }
    await Bun.sleep(100);
  }
  throw new Error("widget CRD never became established");
}
