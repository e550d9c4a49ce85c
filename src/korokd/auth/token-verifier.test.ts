import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { base64url, SignJWT } from "jose";
import { silentLogger } from "../../log/logger";
import { KorokdError } from "../korokd-error";
import {
  createSigningKey,
  createTestKeys,
  mintToken,
  removeTempDirs,
  type SigningKey,
  startTestKorokd,
  type TestKorokd,
} from "../korokd-test-kit";
import { createJwksFile } from "./jwks-file";
import { createReplayCache } from "./replay-cache";
import { createTokenVerifier } from "./token-verifier";

// Real processes on a shared machine: allow for load (bun test's default is 5 s).
setDefaultTimeout(30_000);

let korokd: TestKorokd;
let key: SigningKey;
beforeAll(async () => {
  korokd = await startTestKorokd();
  key = korokd.keys.key;
});
afterAll(async () => {
  await korokd.stop();
  removeTempDirs();
});

/** Calls an authenticated endpoint with exactly this Authorization header (or none). */
async function callWith(authorization: string | undefined) {
  const res = await fetch(`${korokd.url}/api/contexts`, {
    headers: authorization === undefined ? {} : { authorization },
  });
  return { status: res.status, body: (await res.json()) as { error?: { code: string; message: string } } };
}

const now = () => Math.floor(Date.now() / 1000);
const b64json = (value: unknown) => base64url.encode(JSON.stringify(value));

async function expectCode(authorization: string | undefined, code: string) {
  const { status, body } = await callWith(authorization);
  expect({ status, code: body.error?.code }).toEqual({ status: 401, code });
  return body.error?.message;
}

describe("korokd accepts only the gateway's tokens for this pod", () => {
  test("a valid token is accepted", async () => {
    expect((await callWith(`Bearer ${await mintToken(key)}`)).status).toBe(200);
  });

  test("no Authorization header, or another scheme, is token_missing", async () => {
    await expectCode(undefined, "token_missing");
    await expectCode("Basic dXNlcjpwYXNz", "token_missing");
    await expectCode("Bearer", "token_missing");
  });

  test("malformed tokens are token_invalid", async () => {
    for (const token of ["abc", "a.b.c", "a.b", `${b64json({ alg: "EdDSA" })}.e30.`, "x".repeat(9000)]) {
      await expectCode(`Bearer ${token}`, "token_invalid");
    }
  });

  test("alg none is token_invalid", async () => {
    const payload = b64json({
      iss: "agentland-gateway",
      aud: "ns-test/pod-a",
      sid: "s",
      jti: "j1",
      exp: now() + 60,
    });
    await expectCode(`Bearer ${b64json({ alg: "none", kid: key.kid })}.${payload}.`, "token_invalid");
  });

  test("HS256 signed with the public key's bytes is token_invalid", async () => {
    const claims = { iss: "agentland-gateway", aud: "ns-test/pod-a", sid: "s", jti: crypto.randomUUID() };
    for (const secret of [
      base64url.decode(key.publicJwk.x as string),
      new TextEncoder().encode(JSON.stringify(key.publicJwk)),
    ]) {
      const token = await new SignJWT(claims)
        .setProtectedHeader({ alg: "HS256", kid: key.kid })
        .setExpirationTime("60s")
        .sign(secret);
      await expectCode(`Bearer ${token}`, "token_invalid");
    }
  });

  test("an unknown kid and a known kid with a foreign signature fail alike, revealing nothing", async () => {
    const stranger = await createSigningKey("stranger");
    const unknownKid = await expectCode(`Bearer ${await mintToken(stranger)}`, "token_invalid");
    const forged = await expectCode(
      `Bearer ${await mintToken({ ...stranger, kid: key.kid })}`,
      "token_invalid",
    );
    expect(unknownKid).toBe(forged);
    expect(unknownKid).not.toContain(key.kid);
  });

  test("a valid token for another pod is token_wrong_audience, as is one naming several pods", async () => {
    await expectCode(`Bearer ${await mintToken(key, { audience: "ns-test/pod-b" })}`, "token_wrong_audience");
    await expectCode(
      `Bearer ${await mintToken(key, { audience: "other-ns/pod-a" })}`,
      "token_wrong_audience",
    );
    const both = await mintToken(key, { claims: { aud: ["ns-test/pod-a", "ns-test/pod-b"] } });
    await expectCode(`Bearer ${both}`, "token_wrong_audience");
  });

  test("an expired token is token_expired", async () => {
    await expectCode(
      `Bearer ${await mintToken(key, { claims: { exp: now() - 60, iat: now() - 120 } })}`,
      "token_expired",
    );
  });

  test("nbf in the future, iat in the future and exp too far ahead are token_invalid", async () => {
    await expectCode(`Bearer ${await mintToken(key, { claims: { nbf: now() + 120 } })}`, "token_invalid");
    await expectCode(`Bearer ${await mintToken(key, { claims: { iat: now() + 120 } })}`, "token_invalid");
    await expectCode(`Bearer ${await mintToken(key, { expiresInSeconds: 3600 })}`, "token_invalid");
  });

  test("a replayed jti is token_replayed", async () => {
    const token = await mintToken(key);
    expect((await callWith(`Bearer ${token}`)).status).toBe(200);
    await expectCode(`Bearer ${token}`, "token_replayed");
  });

  test("missing exp, jti, sid or aud, or a foreign issuer, is token_invalid", async () => {
    for (const claim of ["exp", "jti", "sid", "aud"]) {
      await expectCode(`Bearer ${await mintToken(key, { omit: [claim] })}`, "token_invalid");
    }
    await expectCode(`Bearer ${await mintToken(key, { claims: { iss: "someone-else" } })}`, "token_invalid");
    await expectCode(`Bearer ${await mintToken(key, { claims: { sid: 7 } })}`, "token_invalid");
  });

  test("a token without kid is token_invalid even though only one key exists", async () => {
    const token = await new SignJWT({ aud: "ns-test/pod-a", sid: "s", jti: crypto.randomUUID() })
      .setProtectedHeader({ alg: "EdDSA" })
      .setIssuer("agentland-gateway")
      .setExpirationTime("60s")
      .sign(key.privateKey);
    await expectCode(`Bearer ${token}`, "token_invalid");
  });

  test("a signed token with its payload swapped, or a crit/b64 header, or a non-object payload is token_invalid", async () => {
    const valid = await mintToken(key);
    const [header, , signature] = valid.split(".");
    const claims = {
      iss: "agentland-gateway",
      aud: "ns-test/pod-a",
      sid: "s",
      jti: crypto.randomUUID(),
      exp: now() + 60,
    };
    await expectCode(`Bearer ${header}.${b64json(claims)}.${signature}`, "token_invalid");
    await expectCode(`Bearer ${header}.${b64json(claims)}.${signature}AA`, "token_invalid");
    const signed = async (h: Record<string, unknown>, payload: unknown) => {
      const input = `${b64json({ alg: "EdDSA", kid: key.kid, ...h })}.${b64json(payload)}`;
      const sig = await crypto.subtle.sign("Ed25519", key.privateKey, new TextEncoder().encode(input));
      return `${input}.${base64url.encode(new Uint8Array(sig))}`;
    };
    // The control: the same hand-made signing yields an accepted token, so the refusals below are real.
    expect((await callWith(`Bearer ${await signed({}, claims)}`)).status).toBe(200);
    const fresh = () => ({ ...claims, jti: crypto.randomUUID() });
    await expectCode(`Bearer ${await signed({ crit: ["exp"] }, fresh())}`, "token_invalid");
    await expectCode(`Bearer ${await signed({ b64: false, crit: ["b64"] }, fresh())}`, "token_invalid");
    await expectCode(`Bearer ${await signed({}, [fresh()])}`, "token_invalid");
    await expectCode(`Bearer ${await signed({}, { ...fresh(), exp: "soon" })}`, "token_invalid");
  });

  test("health stays open without a token", async () => {
    expect((await fetch(`${korokd.url}/health`)).status).toBe(200);
  });
});

describe("token times are checked against the injected clock", () => {
  test("expiry honours the clock skew, and the jti is remembered through it", async () => {
    const keys = await createTestKeys();
    const jwks = createJwksFile({ path: keys.jwksPath, pollIntervalMs: 60_000, log: silentLogger });
    const clock = { t: Date.now(), now: () => clock.t };
    const verifier = createTokenVerifier({
      jwks,
      replay: createReplayCache({ clock, capacity: 100 }),
      clock,
      issuer: "agentland-gateway",
      audience: "ns-test/pod-a",
      maxLifetimeMs: 300_000,
      clockSkewMs: 5_000,
    });
    const token = await mintToken(keys.key, { expiresInSeconds: 60 });
    const exp = (JSON.parse(atob(token.split(".")[1] as string)) as { exp: number }).exp * 1000;
    clock.t = exp + 3_000; // expired, but within the skew
    expect((await verifier.verify(`Bearer ${token}`)).sessionId).toBe("session-1");
    clock.t = exp + 4_500; // still within the skew: the jti must still be remembered
    await expect(verifier.verify(`Bearer ${token}`)).rejects.toMatchObject({ code: "token_replayed" });
    clock.t = exp + 6_000;
    const late = verifier.verify(`Bearer ${await mintToken(keys.key, { claims: { exp: exp / 1000 } })}`);
    await expect(late).rejects.toBeInstanceOf(KorokdError);
    await expect(late).rejects.toMatchObject({ code: "token_expired" });
    jwks.stop();
  });
});
