// Token acquisition and WhoAmI: the first two things every dynamics-web-api application does.

import { describe, it } from "node:test";
import assert from "node:assert/strict";

import { getToken, guidPattern, newClient } from "../lib/emulator.mjs";

// The human user of the emulator's default fixtures (emulator.DefaultHumanUserID and
// DefaultHumanUserObjectID in emulator/config.go).
const humanUserId = "4d2c9a10-5e1f-4b7a-9c3d-000000000011";
const humanUserObjectId = "4d2c9a10-5e1f-4b7a-9c3d-0000000000a1";

describe("token and WhoAmI", () => {
  it("issues a client-credentials token in Entra ID's shape", async () => {
    const body = await getToken();
    assert.equal(body.token_type, "Bearer");
    assert.equal(typeof body.access_token, "string");
    assert.equal(body.access_token.split(".").length, 3, "access_token is a JWT");
    assert.ok(body.expires_in > 0, `expires_in = ${body.expires_in}`);
  });

  it("answers callFunction(\"WhoAmI\") with the caller's ids", async () => {
    const api = newClient();
    const who = await api.callFunction("WhoAmI");
    for (const key of ["UserId", "BusinessUnitId", "OrganizationId"]) {
      assert.match(who[key], guidPattern, key);
    }
    // The library copies @odata.context to oDataContext.
    assert.match(who.oDataContext, /\$metadata#Microsoft\.Dynamics\.CRM\.WhoAmIResponse$/);
  });

  it("answers the request-object form of callFunction the same way", async () => {
    const api = newClient();
    const a = await api.callFunction("WhoAmI");
    const b = await api.callFunction({ name: "WhoAmI" });
    assert.equal(b.UserId, a.UserId);
    assert.equal(b.BusinessUnitId, a.BusinessUnitId);
    assert.equal(b.OrganizationId, a.OrganizationId);
  });

  it("acts for another user with impersonate (MSCRMCallerID) and impersonateAAD (CallerObjectId)", async () => {
    const api = newClient();
    const app = await api.callFunction("WhoAmI");
    const human = humanUserId;
    const byId = await api.callFunction({ name: "WhoAmI", impersonate: human });
    assert.equal(byId.UserId, human);
    assert.notEqual(byId.UserId, app.UserId);
    const byObjectId = await api.callFunction({ name: "WhoAmI", impersonateAAD: humanUserObjectId });
    assert.equal(byObjectId.UserId, human);
  });

  it("rejects a request with a bad token with status 401", async () => {
    const api = newClient({ onTokenRefresh: async () => "not-a-jwt" });
    await assert.rejects(api.callFunction("WhoAmI"), (err) => {
      assert.equal(err.status, 401);
      return true;
    });
  });
});
