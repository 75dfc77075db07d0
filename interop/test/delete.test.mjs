// deleteRecord: whole rows, optimistic concurrency, and single columns.

import { randomUUID } from "node:crypto";
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";

import { Cleanup, newClient, tag } from "../lib/emulator.mjs";

describe("deleteRecord", () => {
  const api = newClient();
  const cleanup = new Cleanup(api);
  const t = tag();

  after(() => cleanup.run());

  it("deletes a row and resolves true", async () => {
    const id = cleanup.add("accounts", await api.create({ collection: "accounts", data: { name: `Doomed ${t}` } }));
    assert.equal(await api.deleteRecord({ collection: "accounts", key: id }), true);
    await assert.rejects(api.retrieve({ collection: "accounts", key: id }), { status: 404 });
  });

  it("rejects with 404 for a missing row", async () => {
    const missing = randomUUID();
    await assert.rejects(api.deleteRecord({ collection: "accounts", key: missing }), (err) => {
      assert.equal(err.status, 404);
      assert.equal(err.code, "0x80040217");
      assert.equal(err.message, `Entity 'account' With Id = ${missing} Does Not Exist`);
      return true;
    });
  });

  it("resolves false for a stale ifmatch (412) and keeps the row; the current one deletes", async () => {
    const id = cleanup.add("accounts", await api.create({ collection: "accounts", data: { name: `Guarded ${t}` } }));
    const stale = (await api.retrieve({ collection: "accounts", key: id, select: ["name"] }))["@odata.etag"];
    await api.update({ collection: "accounts", key: id, data: { name: `Changed ${t}` } });
    assert.equal(await api.deleteRecord({ collection: "accounts", key: id, ifmatch: stale }), false);
    const current = await api.retrieve({ collection: "accounts", key: id, select: ["name"] });
    assert.equal(current.name, `Changed ${t}`);
    assert.equal(await api.deleteRecord({ collection: "accounts", key: id, ifmatch: current["@odata.etag"] }), true);
  });

  it("clears one column with property", async () => {
    const id = cleanup.add("accounts", await api.create({ collection: "accounts", data: { name: `Props ${t}`, telephone1: "555-0199" } }));
    assert.equal(await api.deleteRecord({ collection: "accounts", key: id, property: "telephone1" }), true);
    const row = await api.retrieve({ collection: "accounts", key: id, select: ["name", "telephone1"] });
    assert.equal(row.telephone1, null);
    assert.equal(row.name, `Props ${t}`);
  });
});
