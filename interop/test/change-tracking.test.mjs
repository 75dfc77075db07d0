// Change tracking as the library does it: retrieveMultiple with trackChanges sends
// Prefer: odata.track-changes and hands back oDataDeltaLink; passing that link as the next page
// link returns what changed since, deletions as $deletedEntity entries, and a new delta link.
// Competitors are used because no other test file writes them.

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";

import { Cleanup, newClient, tag } from "../lib/emulator.mjs";

describe("change tracking", () => {
  const api = newClient();
  const cleanup = new Cleanup(api);
  const t = tag();

  after(() => cleanup.run());

  it("follows delta links through a create, an update and a delete", async () => {
    const first = await api.retrieveMultiple({ collection: "competitors", select: ["name"], trackChanges: true });
    assert.ok(first.oDataDeltaLink, "no delta link on the first answer");
    assert.match(first.oDataDeltaLink, /competitors\?\$select=name&\$deltatoken=/);

    const one = cleanup.add("competitors", await api.create({ collection: "competitors", data: { name: `ct ${t} one` } }));
    const two = await api.create({ collection: "competitors", data: { name: `ct ${t} two` } });

    const d1 = await api.retrieveMultiple({ collection: "competitors" }, first.oDataDeltaLink);
    assert.deepEqual(d1.value.map((r) => r.name).sort(), [`ct ${t} one`, `ct ${t} two`]);
    assert.ok(d1.value.every((r) => r.competitorid && r["@odata.etag"]));
    assert.ok(d1.oDataDeltaLink && d1.oDataDeltaLink !== first.oDataDeltaLink);

    await api.update({ collection: "competitors", key: one, data: { name: `ct ${t} one b` } });
    await api.deleteRecord({ collection: "competitors", key: two });
    const d2 = await api.retrieveMultiple({ collection: "competitors" }, d1.oDataDeltaLink);
    assert.equal(d2.value.length, 2, JSON.stringify(d2.value));
    assert.equal(d2.value[0].competitorid, one);
    assert.equal(d2.value[0].name, `ct ${t} one b`);
    assert.equal(d2.value[1].id, two, "the deletion comes last, as a $deletedEntity entry");
    assert.equal(d2.value[1].reason, "deleted");
  });

  it("rejects $filter with change tracking, as Dataverse does", async () => {
    await assert.rejects(
      api.retrieveMultiple({ collection: "competitors", filter: "name eq 'x'", trackChanges: true }),
      (err) => err.status === 400 && /isn't supported when Change Tracking is enabled/.test(err.message),
    );
  });
});
