/**
 * A leader-election candidate in its own process, so a test can SIGKILL a leader that then never
 * releases its Lease. Reads its settings as JSON on stdin; prints `LEADING` / `STOPPED` lines.
 */
import { createKubeClient } from "../kube-client";
import { loadKubeconfigFile } from "../kube-config";
import { createLeaderElector } from "../leader-election";

interface Settings {
  kubeconfig: string;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

const s = JSON.parse(await Bun.stdin.text()) as Settings;
const elector = createLeaderElector({
  client: createKubeClient(loadKubeconfigFile(s.kubeconfig)),
  namespace: s.namespace,
  name: s.name,
  identity: s.identity,
  leaseDurationMs: s.leaseDurationMs,
  renewDeadlineMs: s.renewDeadlineMs,
  retryPeriodMs: s.retryPeriodMs,
  onStartedLeading: () => console.log("LEADING"),
  onStoppedLeading: () => console.log("STOPPED"),
});
elector.start();
process.once("SIGTERM", () => {
  void elector.stop().then(() => process.exit(0));
});
