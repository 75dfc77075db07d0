// The library over HTTPS: the emulator's --tls listener, its certificate trusted through
// NODE_EXTRA_CA_CERTS (the development CA's ca.pem), as an app insisting on https would connect.
//
// Runs only when DYNLOCAL_URL is an https URL; interop_test.go runs this file that way against
// the same emulator, after the whole suite over http.

import https from "node:https";
import tls from "node:tls";
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";

import { Cleanup, getToken, guidPattern, newClient, serverUrl, tag } from "../lib/emulator.mjs";

const skip = serverUrl.startsWith("https://")
  ? false
  : "DYNLOCAL_URL is not https: start the emulator with --tls and point DYNLOCAL_URL at its HTTPS listener";

/** The claims of a JWT, unverified. */
function claims(jwt) {
  return JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString("utf8"));
}

describe("over HTTPS", { skip }, () => {
  const api = newClient();
  const cleanup = new Cleanup(api);
  const t = tag();

  after(() => cleanup.run());

  it("trusts the emulator through NODE_EXTRA_CA_CERTS, and only through it", async () => {
    assert.ok(process.env.NODE_EXTRA_CA_CERTS, "NODE_EXTRA_CA_CERTS names the development CA");
    // With Node's own roots alone the certificate is refused: the trust above came from the CA file.
    await assert.rejects(
      new Promise((resolve, reject) => {
        const req = https.get(`${serverUrl}/`, { ca: tls.rootCertificates, timeout: 10_000 }, (res) => {
          res.resume();
          resolve(res.statusCode);
        });
        req.on("error", reject);
      }),
      (err) => {
        assert.match(err.code, /CERT|SIGNATURE|ISSUER/, err.message);
        return true;
      },
    );
  });

  it("issues a token for the https origin from the https token URL", async () => {
    const body = await getToken();
    assert.equal(body.token_type, "Bearer");
    const c = claims(body.access_token);
    assert.equal(c.aud, serverUrl);
    assert.ok(c.iss.startsWith(`${serverUrl}/`), `iss ${c.iss}`);
  });

  it("answers callFunction(\"WhoAmI\")", async () => {
    const who = await api.callFunction("WhoAmI");
    for (const key of ["UserId", "BusinessUnitId", "OrganizationId"]) {
      assert.match(who[key], guidPattern, key);
    }
    assert.ok(who.oDataContext.startsWith(`${serverUrl}/api/data/v9.2/`), who.oDataContext);
  });

  it("creates, retrieves and deletes an account", async () => {
    const id = cleanup.add("accounts", await api.create({ collection: "accounts", data: { name: `Secure ${t}` } }));
    assert.match(id, guidPattern);
    const row = await api.retrieve({ collection: "accounts", key: id, select: ["name"] });
    assert.equal(row.name, `Secure ${t}`);
    assert.ok(row.oDataContext.startsWith(`${serverUrl}/api/data/v9.2/$metadata#accounts`), row.oDataContext);
    assert.equal(await api.deleteRecord({ collection: "accounts", key: id }), true);
    await assert.rejects(api.retrieve({ collection: "accounts", key: id }), { status: 404 });
  });
});
