// associate/disassociate on a one-to-many collection and on a lookup.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";

import { Cleanup, newClient, tag } from "../lib/emulator.mjs";

describe("relationships", () => {
  const api = newClient();
  const cleanup = new Cleanup(api);
  const t = tag();
  let accountId;
  let contactId;

  before(async () => {
    accountId = cleanup.add("accounts", await api.create({ collection: "accounts", data: { name: `Parent ${t}` } }));
    contactId = cleanup.add("contacts", await api.create({ collection: "contacts", data: { firstname: "Alan", lastname: `Turing ${t}` } }));
  });

  after(() => cleanup.run());

  const parentOf = () =>
    api.retrieve({ collection: "contacts", key: contactId, select: ["_parentcustomerid_value"], includeAnnotations: "*" });

  it("associates and disassociates through contact_customer_accounts", async () => {
    const args = {
      collection: "accounts",
      primaryKey: accountId,
      relationshipName: "contact_customer_accounts",
      relatedCollection: "contacts",
      relatedKey: contactId,
    };
    assert.equal(await api.associate(args), undefined);
    let row = await parentOf();
    assert.equal(row._parentcustomerid_value, accountId);
    assert.equal(row._parentcustomerid_value_LogicalName, "account");
    assert.equal(row._parentcustomerid_value_NavigationProperty, "parentcustomerid_account");
    assert.equal(row._parentcustomerid_value_Formatted, `Parent ${t}`);

    const { relatedCollection, ...disassociateArgs } = args;
    assert.equal(await api.disassociate(disassociateArgs), undefined);
    row = await parentOf();
    assert.equal(row._parentcustomerid_value, null);
  });

  it("sets and clears primarycontactid with associateSingleValued/disassociateSingleValued", async () => {
    assert.equal(await api.associateSingleValued({
      collection: "accounts",
      primaryKey: accountId,
      navigationProperty: "primarycontactid",
      relatedCollection: "contacts",
      relatedKey: contactId,
    }), undefined);
    let row = await api.retrieve({
      collection: "accounts",
      key: accountId,
      select: ["_primarycontactid_value"],
      expand: [{ property: "primarycontactid", select: ["fullname"] }],
    });
    assert.equal(row._primarycontactid_value, contactId);
    assert.equal(row.primarycontactid.fullname, `Alan Turing ${t}`);

    assert.equal(await api.disassociateSingleValued({ collection: "accounts", primaryKey: accountId, navigationProperty: "primarycontactid" }), undefined);
    row = await api.retrieve({ collection: "accounts", key: accountId, select: ["_primarycontactid_value"] });
    assert.equal(row._primarycontactid_value, null);
  });
});
