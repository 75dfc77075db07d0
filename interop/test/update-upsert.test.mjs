// update, updateSingleProperty and upsert, with the concurrency headers the library adds.

import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";

import { Cleanup, etagPattern, newClient, tag } from "../lib/emulator.mjs";

describe("update", () => {
  const api = newClient();
  const cleanup = new Cleanup(api);
  const t = tag();
  let id;

  before(async () => {
    id = cleanup.add("accounts", await api.create({ collection: "accounts", data: { name: `Update ${t}`, numberofemployees: 10 } }));
  });

  after(() => cleanup.run());

  it("updates an existing row and resolves true", async () => {
    assert.equal(await api.update({ collection: "accounts", key: id, data: { numberofemployees: 11, telephone1: "555-0101" } }), true);
    const row = await api.retrieve({ collection: "accounts", key: id, select: ["name", "numberofemployees", "telephone1"] });
    assert.equal(row.name, `Update ${t}`, "columns left out of the body are kept");
    assert.equal(row.numberofemployees, 11);
    assert.equal(row.telephone1, "555-0101");
  });

  it("returns the row with returnRepresentation", async () => {
    const row = await api.update({
      collection: "accounts",
      key: id,
      data: { telephone1: "555-0102" },
      returnRepresentation: true,
      select: ["telephone1", "numberofemployees"],
    });
    assert.equal(row.accountid, id);
    assert.equal(row.telephone1, "555-0102");
    assert.equal(row.numberofemployees, 11);
    assert.match(row["@odata.etag"], etagPattern);
  });

  it("clears a column set to null", async () => {
    await api.update({ collection: "accounts", key: id, data: { telephone1: null } });
    const row = await api.retrieve({ collection: "accounts", key: id, select: ["telephone1"] });
    assert.equal(row.telephone1, null);
  });

  it("never creates: its If-Match: * makes a missing row a 404", async () => {
    const missing = randomUUID();
    await assert.rejects(api.update({ collection: "accounts", key: missing, data: { name: `Ghost ${t}` } }), (err) => {
      assert.equal(err.status, 404);
      assert.equal(err.code, "0x80040217");
      assert.equal(err.message, `Entity 'account' With Id = ${missing} Does Not Exist`);
      return true;
    });
    await assert.rejects(api.retrieve({ collection: "accounts", key: missing }), { status: 404 });
  });

  it("resolves false for a stale ifmatch (412) and leaves the row alone", async () => {
    const before = await api.retrieve({ collection: "accounts", key: id, select: ["name"] });
    const stale = before["@odata.etag"];
    assert.equal(await api.update({ collection: "accounts", key: id, data: { name: `Renamed ${t}` }, ifmatch: stale }), true,
      "the current ETag is accepted");
    assert.equal(await api.update({ collection: "accounts", key: id, data: { name: `Lost ${t}` }, ifmatch: stale }), false);
    const row = await api.retrieve({ collection: "accounts", key: id, select: ["name"] });
    assert.equal(row.name, `Renamed ${t}`);
  });

  it("propagates the 412 with propagateErrors", async () => {
    const strict = newClient({ propagateErrors: true });
    await assert.rejects(strict.update({ collection: "accounts", key: id, data: { name: "x" }, ifmatch: 'W/"1"' }), (err) => {
      assert.equal(err.status, 412);
      assert.equal(err.code, "0x80060882");
      assert.equal(err.message, "The version of the existing record doesn't match the RowVersion property provided.");
      return true;
    });
  });

  it("accepts a retrieved row sent back with its @odata.context and @odata.etag", async () => {
    const row = await api.retrieve({ collection: "accounts", key: id, select: ["name", "telephone1"] });
    assert.ok("@odata.context" in row && "@odata.etag" in row);
    row.telephone1 = "555-0123";
    assert.equal(await api.update({ collection: "accounts", key: id, data: row }), true);
    const after = await api.retrieve({ collection: "accounts", key: id, select: ["telephone1"] });
    assert.equal(after.telephone1, "555-0123");
  });

  it("writes one column with updateSingleProperty", async () => {
    const result = await api.updateSingleProperty({ collection: "accounts", key: id, fieldValuePair: { telephone1: "555-0111" } });
    assert.equal(result, undefined);
    const row = await api.retrieve({ collection: "accounts", key: id, select: ["telephone1"] });
    assert.equal(row.telephone1, "555-0111");
  });
});

describe("upsert", () => {
  const api = newClient();
  const cleanup = new Cleanup(api);
  const t = tag();

  after(() => cleanup.run());

  it("creates, then updates, a row with a client-chosen id", async () => {
    const id = cleanup.add("accounts", randomUUID());
    assert.equal(await api.upsert({ collection: "accounts", key: id, data: { name: `Upsert ${t}`, numberofemployees: 1 } }), id);
    let row = await api.retrieve({ collection: "accounts", key: id, select: ["name", "numberofemployees"] });
    assert.equal(row.name, `Upsert ${t}`);
    assert.equal(row.numberofemployees, 1);
    assert.equal(await api.upsert({ collection: "accounts", key: id, data: { numberofemployees: 2 } }), id);
    row = await api.retrieve({ collection: "accounts", key: id, select: ["name", "numberofemployees"] });
    assert.equal(row.name, `Upsert ${t}`);
    assert.equal(row.numberofemployees, 2);
  });

  it("returns the row with returnRepresentation on create and on update", async () => {
    const id = cleanup.add("accounts", randomUUID());
    const created = await api.upsert({ collection: "accounts", key: id, data: { name: `Rep ${t}` }, returnRepresentation: true, select: ["name"] });
    assert.equal(created.accountid, id);
    assert.equal(created.name, `Rep ${t}`);
    const updated = await api.upsert({ collection: "accounts", key: id, data: { name: `Rep2 ${t}` }, returnRepresentation: true, select: ["name"] });
    assert.equal(updated.accountid, id);
    assert.equal(updated.name, `Rep2 ${t}`);
  });

  it("upserts by alternate key", async () => {
    const key = `accountnumber='UPS-${t}'`;
    const id = await api.upsert({ collection: "accounts", key, data: { name: `By key ${t}` } });
    cleanup.add("accounts", id);
    const row = await api.retrieve({ collection: "accounts", key, select: ["name", "accountnumber"] });
    assert.equal(row.accountid, id);
    assert.equal(row.accountnumber, `UPS-${t}`);
  });

  it("resolves null with ifnonematch \"*\" on an existing row (412) and changes nothing", async () => {
    const id = cleanup.add("accounts", randomUUID());
    await api.upsert({ collection: "accounts", key: id, data: { name: `Existing ${t}` } });
    assert.equal(await api.upsert({ collection: "accounts", key: id, data: { name: `Overwritten ${t}` }, ifnonematch: "*" }), null);
    const row = await api.retrieve({ collection: "accounts", key: id, select: ["name"] });
    assert.equal(row.name, `Existing ${t}`);
  });

  it("creates with ifnonematch \"*\" when the row is missing", async () => {
    const id = cleanup.add("accounts", randomUUID());
    assert.equal(await api.upsert({ collection: "accounts", key: id, data: { name: `Fresh ${t}` }, ifnonematch: "*" }), id);
  });

  it("resolves null with ifmatch \"*\" on a missing row (404) and creates nothing", async () => {
    const id = randomUUID();
    assert.equal(await api.upsert({ collection: "accounts", key: id, data: { name: `Nowhere ${t}` }, ifmatch: "*" }), null);
    await assert.rejects(api.retrieve({ collection: "accounts", key: id }), { status: 404 });
  });

  it("updates with ifmatch \"*\" when the row exists", async () => {
    const id = cleanup.add("accounts", randomUUID());
    await api.upsert({ collection: "accounts", key: id, data: { name: `Before ${t}` } });
    assert.equal(await api.upsert({ collection: "accounts", key: id, data: { name: `After ${t}` }, ifmatch: "*" }), id);
    const row = await api.retrieve({ collection: "accounts", key: id, select: ["name"] });
    assert.equal(row.name, `After ${t}`);
  });
});
