import { describe, expect, test } from "bun:test";
import { templateHash } from "./template-hash";

const base = { image: "agentland/code-interpreter:0.1.0", port: 1883, readinessPath: "/health" };

describe("template hash", () => {
  test("templates that run the same pod hash the same however they are written", () => {
    const spelled = {
      readinessPath: "/health",
      port: 1883,
      image: "agentland/code-interpreter:0.1.0",
      resources: { limits: { memory: "512Mi", cpu: "1000m" }, requests: { cpu: "0.1", memory: "128Mi" } },
    };
    expect(templateHash(spelled)).toBe(templateHash(base));
    const cpuAsNumber = {
      ...spelled,
      resources: { ...spelled.resources, limits: { cpu: 1, memory: "512Mi" } },
    };
    expect(templateHash(cpuAsNumber)).toBe(templateHash(base));
    const labelsReordered = [
      { ...base, labels: { a: "1", b: "2" } },
      { ...base, labels: { b: "2", a: "1" } },
    ];
    expect(templateHash(labelsReordered[0] ?? base)).toBe(templateHash(labelsReordered[1] ?? base));
  });

  test("templates that run different pods hash differently", () => {
    const variants = [
      base,
      { ...base, image: "agentland/code-interpreter:0.2.0" },
      { ...base, port: 8080 },
      { ...base, readinessPath: undefined },
      {
        ...base,
        env: [
          { name: "A", value: "1" },
          { name: "B", value: "$(A)" },
        ],
      },
      {
        ...base,
        env: [
          { name: "B", value: "$(A)" },
          { name: "A", value: "1" },
        ],
      },
      { ...base, runtimeClassName: "gvisor" },
      {
        ...base,
        resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "2", memory: "512Mi" } },
      },
    ];
    const hashes = new Set(variants.map((t) => templateHash(t)));
    expect(hashes.size).toBe(variants.length);
  });

  test("a hash is a valid Sandbox templateHash and label value", () => {
    expect(templateHash(base)).toMatch(/^[a-z0-9]{16}$/);
  });
});
