/**
 * Command A (`npm start`): agentland, locally, for real. Builds nothing by hand: installs the Debian
 * packages it needs, brings up the local control plane and the host-process node (`cluster up`), installs
 * `manifests/` with kubectl, waits for the control plane and a warm pool, runs one piece of code through the
 * gateway with curl, and stays up until Ctrl-C (then tears everything down). `--detach` leaves it running;
 * `npm run cluster down -- --name=dev` stops it later.
 */
import { clusterDown, clusterUp } from "./cluster/control-plane";
import { bringUpPlatform } from "./platform/bring-up-platform";
import { ensureSystemPackages } from "./setup/system-packages";

const NAME = "dev";
const detach = process.argv.includes("--detach");
const started = Date.now();
const step = (msg: string) => console.error(`==> [${Math.round((Date.now() - started) / 1000)} s] ${msg}`);

step("system packages (openssl, bubblewrap, iproute2, curl)");
await ensureSystemPackages();
step("local Kubernetes cluster (the first run builds Kubernetes 1.34 from source: 15-25 min on 2 cores)");
const cluster = await clusterUp({ name: NAME, log: (l) => console.error(`    ${l}`) });
const platform = await bringUpPlatform(cluster, (l) => step(l));
const gateway = platform.gatewayUrls[0] ?? "";

const curl = [
  "curl",
  "-sS",
  "-i",
  `${gateway}/api/code-runner/run`,
  "-H",
  `authorization: Bearer ${platform.apiKey}`,
  "-H",
  "content-type: application/json",
  "-d",
  JSON.stringify({
    language: "python",
    code: "import sys, socket; print(socket.gethostname(), sys.version.split()[0])",
  }),
];
step("a first code run through the gateway:");
console.log(`\n$ ${curl.map((a) => (/[\s'"{}]/.test(a) ? `'${a}'` : a)).join(" ")}`);
const run = Bun.spawnSync(curl, { stdout: "pipe", stderr: "pipe" });
console.log(`${run.stdout.toString()}${run.stderr.toString()}\n`);

console.log(`agentland is up (${Math.round((Date.now() - started) / 1000)} s).
  gateway      ${platform.gatewayUrls.join("  ")}
  API key      ${platform.apiKey}   (principal "${platform.principal}")
  kubectl      eval "$(npm run --silent cluster env -- --name=${NAME})" && kubectl get agentland -A
Send x-agentland-session back to reuse the sandbox; see README.md for the agent invocation API.`);

if (detach) {
  console.log(`Left running. Stop it with: npm run cluster down -- --name=${NAME}`);
  process.exit(0);
}
console.log("Press Ctrl-C to stop and remove everything.");
await new Promise<void>((resolve) => {
  process.once("SIGINT", resolve);
  process.once("SIGTERM", resolve);
});
step("tearing down");
await clusterDown(NAME);
step("done: no process, mount or directory left");
