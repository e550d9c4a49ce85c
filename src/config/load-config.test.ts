import { describe, expect, test } from "bun:test";
import { ConfigError, loadConfig } from "./load-config";

function run(argv: string[], env: Record<string, string> = {}) {
  const inv = loadConfig(argv, env);
  if (inv.kind !== "run") throw new Error(`expected a run invocation, got ${inv.kind}`);
  return inv.config;
}

function errorOf(argv: string[], env: Record<string, string> = {}): ConfigError {
  try {
    loadConfig(argv, env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig", () => {
  test("--help and --version win over everything else", () => {
    expect(loadConfig(["--help", "--mode=nope"], {}).kind).toBe("help");
    expect(loadConfig(["--version"], {}).kind).toBe("version");
  });

  test("a missing or unknown mode names the valid modes", () => {
    expect(errorOf([]).message).toContain("gateway, agentcore, korokd");
    const unknown = errorOf(["--mode=proxy"]);
    expect(unknown.setting).toBe("mode");
    expect(unknown.message).toContain('unknown mode "proxy"');
  });

  test("each mode gets its own default port and listens on the pod IP when the downward API sets it", () => {
    expect(run(["--mode=gateway"]).settings["listen-port"]).toBe(8080);
    expect(run(["--mode=agentcore"]).settings["listen-port"]).toBe(8082);
    const korokd = run(["--mode", "korokd"], { POD_IP: "127.3.0.7" });
    expect(korokd.settings["listen-port"]).toBe(1883);
    expect(korokd.settings["listen-host"]).toBe("127.3.0.7");
    expect(run(["--mode=korokd"]).settings["listen-host"]).toBe("0.0.0.0");
  });

  test("a flag wins over its AGENTLAND_ environment variable", () => {
    const env = { AGENTLAND_LISTEN_PORT: "9000", AGENTLAND_DRAIN_TIMEOUT: "2s" };
    const cfg = run(["--mode=gateway", "--listen-port=9001"], env);
    expect(cfg.settings["listen-port"]).toBe(9001);
    expect(cfg.settings["drain-timeout"]).toBe(2000);
  });

  test("a bad value is rejected naming the setting", () => {
    const bad = errorOf(["--mode=gateway", "--listen-port=70000"]);
    expect(bad.setting).toBe("listen-port");
    expect(bad.message).toStartWith("--listen-port:");
    expect(errorOf(["--mode=korokd"], { AGENTLAND_DRAIN_TIMEOUT: "soon" }).setting).toBe("drain-timeout");
  });

  test("an unknown flag is an error, an unrelated AGENTLAND_ variable is not", () => {
    expect(errorOf(["--mode=gateway", "--colour=blue"]).setting).toBe("colour");
    expect(run(["--mode=gateway"], { AGENTLAND_COLOUR: "blue" }).mode).toBe("gateway");
  });
});
