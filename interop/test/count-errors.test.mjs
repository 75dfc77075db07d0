// count() without a filter (accounts/$count, a text/plain body) and the error shape the library
// surfaces.

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";

import { Cleanup, newClient, tag } from "../lib/emulator.mjs";

describe("count", () => {
  const api = newClient();
  const cleanup = new Cleanup(api);

  after(() => cleanup.run());

  // Leads are touched by no other test file, so the count is stable while files run in parallel.
  it("counts a collection through /$count", async () => {
    const before = await api.count({ collection: "leads" });
    assert.equal(typeof before, "number");
    assert.ok(Number.isInteger(before) && before >= 0, `count = ${before}`);
    cleanup.add("leads", await api.create({ collection: "leads", data: { lastname: `Count ${tag()}`, subject: "interop" } }));
    assert.equal(await api.count({ collection: "leads" }), before + 1);
  });
});

describe("errors", () => {
  const api = newClient();
  const cleanup = new Cleanup(api);
  const t = tag();

  after(() => cleanup.run());

  // The library lower-cases collection names, so a misspelt case would still find "accounts".
  it("reports an unknown entity set as 404 with the segment", async () => {
    await assert.rejects(api.retrieve({ collection: "nosuchthings", key: "00000000-0000-0000-0000-000000000001" }), (err) => {
      assert.ok(err instanceof Error);
      assert.equal(err.status, 404);
      assert.equal(err.code, "0x8006088a");
      assert.equal(err.message, "Resource not found for the segment 'nosuchthings'.");
      return true;
    });
    await assert.rejects(api.create({ collection: "nosuchthings", data: { name: "x" } }), { status: 404, code: "0x8006088a" });
  });

  it("reports an unknown property in $select as 400", async () => {
    const id = cleanup.add("accounts", await api.create({ collection: "accounts", data: { name: `Errors ${t}` } }));
    await assert.rejects(api.retrieve({ collection: "accounts", key: id, select: ["nothere"] }), (err) => {
      assert.equal(err.status, 400);
      assert.equal(err.code, "0x0");
      assert.equal(err.message, "Could not find a property named 'nothere' on type 'Microsoft.Dynamics.CRM.account'.");
      return true;
    });
  });

  it("reports an unknown property in a body as 400", async () => {
    await assert.rejects(api.create({ collection: "accounts", data: { name: `Bad ${t}`, nothere: 1 } }), (err) => {
      assert.equal(err.status, 400);
      assert.equal(err.code, "0x0");
      assert.match(err.message, /Invalid property 'nothere' was found in entity 'Microsoft\.Dynamics\.CRM\.account'/);
      return true;
    });
  });

  it("reports an unknown action as 404 with the segment", async () => {
    await assert.rejects(api.callAction({ actionName: "NoSuchAction", action: {} }), {
      status: 404,
      code: "0x8006088a",
      message: "Resource not found for the segment 'NoSuchAction'.",
    });
  });

  it("reports a missing row as 404", async () => {
    const missing = "00000000-0000-0000-0000-0000000000aa";
    await assert.rejects(api.retrieve({ collection: "accounts", key: missing }), {
      status: 404,
      code: "0x80040217",
      message: `Entity 'account' With Id = ${missing} Does Not Exist`,
    });
  });
});
