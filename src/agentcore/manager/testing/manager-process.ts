/**
 * A controller-manager process for tests that kill and restart controllers (restart safety, leader
 * failover): `bun manager-process.ts --kubeconfig=… --allowed-namespaces=… …` with agentcore's own flags,
 * parsed by agentcore's config schema. Prints one JSON line `{"msg":"manager started"}` once campaigning,
 * and logs `leading: starting controllers` when it wins the Lease.
 */
import { loadConfig } from "../../../config/load-config";
import { kubeClientFromSettings } from "../../../kube/client-from-settings";
import { createLogger } from "../../../log/logger";
import { startControllerManager } from "../start-controller-manager";

const invocation = loadConfig(["--mode=agentcore", ...process.argv.slice(2)], process.env);
if (invocation.kind !== "run" || invocation.config.mode !== "agentcore")
  throw new Error("expected agentcore settings");
const settings = invocation.config.settings;
const log = createLogger("controller-manager", settings["log-level"]);
const manager = startControllerManager({
  client: kubeClientFromSettings(settings, "agentland-controller-test"),
  settings,
  log,
});
console.log(JSON.stringify({ msg: "manager started" }));
process.once("SIGTERM", () => {
  void manager.stop().then(() => process.exit(0));
});
