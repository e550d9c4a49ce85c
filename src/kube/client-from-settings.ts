/**
 * The kube client a component uses, from its settings: an explicit kubeconfig file when one is named,
 * otherwise the in-cluster ServiceAccount (token re-read on rotation, `ca.crt`, the injected service address).
 */
import { createKubeClient, type KubeClient } from "./kube-client";
import { loadInClusterConfig, loadKubeconfigFile } from "./kube-config";

export interface KubeAccessSettings {
  readonly kubeconfig?: string | undefined;
  readonly "kubernetes-service-host"?: string | undefined;
  readonly "kubernetes-service-port"?: string | undefined;
  readonly "kube-qps": number;
  readonly "kube-burst": number;
}

export function kubeClientFromSettings(settings: KubeAccessSettings, userAgent: string): KubeClient {
  const config = settings.kubeconfig
    ? loadKubeconfigFile(settings.kubeconfig)
    : loadInClusterConfig({
        host: settings["kubernetes-service-host"] ?? "",
        port: settings["kubernetes-service-port"] ?? "",
      });
  return createKubeClient(config, { qps: settings["kube-qps"], burst: settings["kube-burst"], userAgent });
}
