// Create and retrieve: ids, representations, $select, $expand, annotations, typed values and
// conditional GET.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";

import { Cleanup, etagPattern, guidPattern, newClient, tag } from "../lib/emulator.mjs";

describe("create and retrieve", () => {
  const api = newClient();
  const cleanup = new Cleanup(api);
  const t = tag();
  let contactId;
  let accountId;

  before(async () => {
    contactId = cleanup.add("contacts", await api.create({
      collection: "contacts",
      data: { firstname: "Grace", lastname: `Hopper ${t}`, birthdate: "1906-12-09" },
    }));
    accountId = cleanup.add("accounts", await api.create({
      collection: "accounts",
      data: {
        name: `Interop ${t}`,
        accountnumber: `INT-${t}`,
        revenue: 1234567.891,
        numberofemployees: 4300,
        creditonhold: false,
        accountcategorycode: 1,
        "primarycontactid@odata.bind": `contacts(${contactId})`,
      },
    }));
  });

  after(() => cleanup.run());

  it("returns the new id from OData-EntityId", () => {
    assert.match(accountId, guidPattern);
    assert.match(contactId, guidPattern);
  });

  it("returns the row with returnRepresentation and select", async () => {
    const row = await api.create({
      collection: "accounts",
      data: { name: `Represented ${t}`, numberofemployees: 7, revenue: 20000 },
      returnRepresentation: true,
      select: ["name", "numberofemployees", "revenue"],
    });
    cleanup.add("accounts", row.accountid);
    assert.match(row.accountid, guidPattern);
    assert.match(row["@odata.etag"], etagPattern);
    assert.equal(row.name, `Represented ${t}`);
    assert.equal(row.numberofemployees, 7);
    assert.equal(row.revenue, 20000);
    assert.match(row.oDataContext, /\$metadata#accounts\(name,numberofemployees,revenue\)\/\$entity$/);
    assert.equal("telephone1" in row, false, "unselected columns stay out");
  });

  it("joins returnRepresentation and includeAnnotations in one Prefer header", async () => {
    const row = await api.create({
      collection: "accounts",
      data: { name: `Annotated ${t}`, revenue: 99.5, accountcategorycode: 2 },
      returnRepresentation: true,
      select: ["name", "revenue", "accountcategorycode"],
      includeAnnotations: "*",
    });
    cleanup.add("accounts", row.accountid);
    assert.equal(row.revenue, 99.5);
    assert.equal(row.revenue_Formatted, "$99.50");
    assert.equal(row.accountcategorycode_Formatted, "Standard");
  });

  it("retrieves selected columns with their types", async () => {
    const row = await api.retrieve({
      collection: "accounts",
      key: accountId,
      select: ["name", "revenue", "numberofemployees", "creditonhold", "accountcategorycode", "createdon"],
    });
    assert.equal(row.accountid, accountId);
    assert.equal(row.name, `Interop ${t}`);
    assert.equal(row.revenue, 1234567.89, "money rounded to the column's precision, as a number");
    assert.equal(row.numberofemployees, 4300);
    assert.equal(row.creditonhold, false);
    assert.equal(row.accountcategorycode, 1);
    assert.ok(row.createdon instanceof Date, `createdon revived as a Date, got ${JSON.stringify(row.createdon)}`);
    assert.ok(Math.abs(row.createdon.getTime() - Date.now()) < 10 * 60 * 1000, `createdon ${row.createdon.toISOString()} is now`);
    assert.match(row["@odata.etag"], etagPattern);
  });

  it("retrieves by alternate key", async () => {
    const single = await api.retrieve({ collection: "accounts", key: `accountnumber='INT-${t}'`, select: ["name"] });
    assert.equal(single.accountid, accountId);
    // The library turns double quotes into single quotes.
    const double = await api.retrieve({ collection: "accounts", key: `accountnumber="INT-${t}"`, select: ["name"] });
    assert.equal(double.accountid, accountId);
  });

  it("expands a lookup written as a string", async () => {
    const row = await api.retrieve({
      collection: "accounts",
      key: accountId,
      select: ["name"],
      expand: "primarycontactid($select=fullname)",
    });
    assert.equal(row.name, `Interop ${t}`);
    assert.equal(row.primarycontactid.fullname, `Grace Hopper ${t}`);
    assert.equal(row.primarycontactid.contactid, contactId);
  });

  it("expands a lookup written as expand objects", async () => {
    const row = await api.retrieve({
      collection: "accounts",
      key: accountId,
      select: ["name"],
      expand: [{ property: "primarycontactid", select: ["firstname", "lastname", "birthdate"] }],
    });
    assert.equal(row.primarycontactid.contactid, contactId);
    assert.equal(row.primarycontactid.firstname, "Grace");
    assert.equal(row.primarycontactid.lastname, `Hopper ${t}`);
    assert.equal(row.primarycontactid.birthdate, "1906-12-09", "date-only columns stay strings");
  });

  it("adds _Formatted, _LogicalName and _NavigationProperty with includeAnnotations \"*\"", async () => {
    const row = await api.retrieve({
      collection: "accounts",
      key: accountId,
      select: ["revenue", "numberofemployees", "creditonhold", "accountcategorycode", "statecode", "_primarycontactid_value"],
      includeAnnotations: "*",
    });
    assert.equal(row.revenue_Formatted, "$1,234,567.89");
    assert.equal(row.numberofemployees_Formatted, "4,300");
    assert.equal(row.creditonhold_Formatted, "No");
    assert.equal(row.accountcategorycode_Formatted, "Preferred Customer");
    assert.equal(row.statecode_Formatted, "Active");
    assert.equal(row._primarycontactid_value, contactId);
    assert.equal(row._primarycontactid_value_Formatted, `Grace Hopper ${t}`);
    assert.equal(row._primarycontactid_value_LogicalName, "contact");
    assert.equal(row._primarycontactid_value_NavigationProperty, "primarycontactid");
    assert.equal(row._transactioncurrencyid_value_LogicalName, "transactioncurrency");
    // The raw annotations stay beside the library's copies.
    assert.equal(row["revenue@OData.Community.Display.V1.FormattedValue"], "$1,234,567.89");
  });

  it("leaves annotations out when none are asked for", async () => {
    const row = await api.retrieve({ collection: "accounts", key: accountId, select: ["revenue", "_primarycontactid_value"] });
    assert.equal(row.revenue_Formatted, undefined);
    assert.equal(row._primarycontactid_value_LogicalName, undefined);
  });

  it("resolves undefined when ifnonematch matches (304)", async () => {
    const row = await api.retrieve({ collection: "accounts", key: accountId, select: ["name"] });
    const etag = row["@odata.etag"];
    assert.equal(await api.retrieve({ collection: "accounts", key: accountId, select: ["name"], ifnonematch: etag }), undefined);
    // After a change the old ETag no longer matches and the row comes back.
    await api.update({ collection: "accounts", key: accountId, data: { telephone1: "555-0100" } });
    const again = await api.retrieve({ collection: "accounts", key: accountId, select: ["telephone1"], ifnonematch: etag });
    assert.equal(again.telephone1, "555-0100");
    assert.notEqual(again["@odata.etag"], etag);
  });

  it("never answers 304 when the request has $expand or asks for annotations", async () => {
    const etag = (await api.retrieve({ collection: "accounts", key: accountId, select: ["name"] }))["@odata.etag"];
    const expanded = await api.retrieve({
      collection: "accounts",
      key: accountId,
      select: ["name"],
      expand: [{ property: "primarycontactid", select: ["fullname"] }],
      ifnonematch: etag,
    });
    assert.equal(expanded?.primarycontactid?.fullname, `Grace Hopper ${t}`);
    const annotated = await api.retrieve({ collection: "accounts", key: accountId, select: ["revenue"], includeAnnotations: "*", ifnonematch: etag });
    assert.equal(annotated?.revenue_Formatted, "$1,234,567.89");
  });

  it("accepts a key in braces and upper case (the library strips the braces)", async () => {
    const row = await api.retrieve({ collection: "accounts", key: `{${accountId.toUpperCase()}}`, select: ["name"] });
    assert.equal(row.accountid, accountId);
  });

  it("reads a lookup's $ref and the related row through the navigation property", async () => {
    const ref = await api.retrieve({ collection: "accounts", key: accountId, select: ["primarycontactid/$ref"] });
    assert.equal(ref.id, contactId);
    assert.equal(ref.collection, "contacts");
    const related = await api.retrieve({ collection: "accounts", key: accountId, select: ["/primarycontactid", "lastname"] });
    assert.equal(related.contactid, contactId);
    assert.equal(related.lastname, `Hopper ${t}`);
  });

  it("revives date-time columns as Date objects", async () => {
    const taskId = cleanup.add("tasks", await api.create({
      collection: "tasks",
      data: { subject: `Due ${t}`, scheduledend: "2024-01-31T12:34:56Z" },
    }));
    const row = await api.retrieve({ collection: "tasks", key: taskId, select: ["subject", "scheduledend"] });
    assert.ok(row.scheduledend instanceof Date, `scheduledend = ${JSON.stringify(row.scheduledend)}`);
    assert.equal(row.scheduledend.getTime(), Date.UTC(2024, 0, 31, 12, 34, 56));
    // A Date sent by the library is serialised with milliseconds (…56.000Z); it must be accepted.
    await api.update({ collection: "tasks", key: taskId, data: { scheduledend: new Date(Date.UTC(2025, 5, 1, 8, 0, 0)) } });
    const updated = await api.retrieve({ collection: "tasks", key: taskId, select: ["scheduledend"] });
    assert.equal(updated.scheduledend.getTime(), Date.UTC(2025, 5, 1, 8, 0, 0));
  });

  it("round-trips non-ASCII text the library sends as \\u escapes", async () => {
    const name = `Z\u00fcrich \u2603 \ud83d\ude00 ${t}`;
    const row = await api.create({ collection: "accounts", data: { name }, returnRepresentation: true, select: ["name"] });
    cleanup.add("accounts", row.accountid);
    assert.equal(row.name, name);
  });
});
