// Standard tables beyond account and contact, as applications use them: a case (incident) with its
// customer, an email with its activity parties, and a quote with write-in quote details.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";

import { Cleanup, guidPattern, newClient, tag } from "../lib/emulator.mjs";

describe("incident (case)", () => {
  const api = newClient();
  const cleanup = new Cleanup(api);
  const t = tag();
  const title = `Case ${t}`;
  let accountId;
  let incidentId;

  before(async () => {
    accountId = cleanup.add("accounts", await api.create({ collection: "accounts", data: { name: `Customer ${t}` } }));
    incidentId = cleanup.add("incidents", await api.create({
      collection: "incidents",
      data: {
        title,
        "customerid_account@odata.bind": `/accounts(${accountId})`,
        prioritycode: 1,
        caseorigincode: 3,
      },
    }));
  });

  after(() => cleanup.run());

  it("creates a case bound to an account customer, active and in progress", async () => {
    assert.match(incidentId, guidPattern);
    const row = await api.retrieve({
      collection: "incidents",
      key: incidentId,
      select: ["title", "_customerid_value", "prioritycode", "caseorigincode", "statecode", "statuscode"],
      includeAnnotations: "*",
    });
    assert.equal(row.incidentid, incidentId);
    assert.equal(row.title, title);
    assert.equal(row._customerid_value, accountId);
    assert.equal(row._customerid_value_LogicalName, "account");
    assert.equal(row._customerid_value_NavigationProperty, "customerid_account");
    assert.equal(row._customerid_value_Formatted, `Customer ${t}`);
    assert.equal(row.prioritycode, 1);
    assert.equal(row.prioritycode_Formatted, "High");
    assert.equal(row.caseorigincode, 3);
    assert.equal(row.caseorigincode_Formatted, "Web");
    assert.equal(row.statecode, 0);
    assert.equal(row.statecode_Formatted, "Active");
    assert.equal(row.statuscode, 1);
    assert.equal(row.statuscode_Formatted, "In Progress");
  });

  it("finds the case by _customerid_value and title", async () => {
    const res = await api.retrieveMultiple({
      collection: "incidents",
      select: ["title", "_customerid_value"],
      filter: `_customerid_value eq ${accountId} and title eq '${title}'`,
    });
    assert.deepEqual(res.value.map((r) => [r.incidentid, r.title, r._customerid_value]), [[incidentId, title, accountId]]);
    const none = await api.retrieveMultiple({
      collection: "incidents",
      select: ["title"],
      filter: `_customerid_value eq ${accountId} and title eq 'Other ${t}'`,
    });
    assert.deepEqual(none.value, []);
  });

  it("expands customerid_account", async () => {
    const row = await api.retrieve({
      collection: "incidents",
      key: incidentId,
      select: ["title"],
      expand: [{ property: "customerid_account", select: ["name"] }],
    });
    assert.equal(row.title, title);
    assert.equal(row.customerid_account.accountid, accountId);
    assert.equal(row.customerid_account.name, `Customer ${t}`);
  });

  it("updates the title and deletes the case", async () => {
    assert.equal(await api.update({ collection: "incidents", key: incidentId, data: { title: `${title} (updated)` } }), true);
    const row = await api.retrieve({ collection: "incidents", key: incidentId, select: ["title", "prioritycode"] });
    assert.equal(row.title, `${title} (updated)`);
    assert.equal(row.prioritycode, 1, "columns left out of the body are kept");

    assert.equal(await api.deleteRecord({ collection: "incidents", key: incidentId }), true);
    await assert.rejects(api.retrieve({ collection: "incidents", key: incidentId }), { status: 404 });
  });

  it("rejects a case without a customer", {
    todo: "the emulator creates it; Dataverse answers 400 \"You should specify a parent contact or account.\"",
  }, async () => {
    const created = api.create({ collection: "incidents", data: { title: `Orphan ${t}` } });
    await assert.rejects(created.then((id) => cleanup.add("incidents", id)), (err) => {
      assert.equal(err.status, 400);
      assert.equal(err.message, "You should specify a parent contact or account.");
      return true;
    });
  });
});

describe("email with activity parties", () => {
  const api = newClient();
  const cleanup = new Cleanup(api);
  const t = tag();
  const subject = `Email ${t}`;
  let userId;
  let userName;
  let accountId;
  let toId;
  let ccId;
  let emailId;

  before(async () => {
    userId = (await api.callFunction("WhoAmI")).UserId;
    userName = (await api.retrieve({ collection: "systemusers", key: userId, select: ["fullname"] })).fullname;
    accountId = cleanup.add("accounts", await api.create({ collection: "accounts", data: { name: `Regarding ${t}` } }));
    toId = cleanup.add("contacts", await api.create({ collection: "contacts", data: { firstname: "Ada", lastname: `To ${t}` } }));
    ccId = cleanup.add("contacts", await api.create({ collection: "contacts", data: { firstname: "Charles", lastname: `Cc ${t}` } }));
    emailId = cleanup.add("emails", await api.create({
      collection: "emails",
      data: {
        subject,
        "regardingobjectid_account_email@odata.bind": `/accounts(${accountId})`,
        email_activity_parties: [
          { "partyid_systemuser@odata.bind": `/systemusers(${userId})`, participationtypemask: 1 },
          { "partyid_contact@odata.bind": `/contacts(${toId})`, participationtypemask: 2 },
          { "partyid_contact@odata.bind": `/contacts(${ccId})`, participationtypemask: 3 },
        ],
      },
    }));
  });

  after(() => cleanup.run());

  // [participationtypemask, party id] of each party, sender first.
  const expected = () => [[1, userId], [2, toId], [3, ccId]];
  const byMask = (a, b) => a.participationtypemask - b.participationtypemask;

  it("creates an open draft email regarding an account", async () => {
    assert.match(userId, guidPattern);
    assert.match(emailId, guidPattern);
    const row = await api.retrieve({
      collection: "emails",
      key: emailId,
      select: ["subject", "_regardingobjectid_value", "statecode", "statuscode"],
      includeAnnotations: "*",
    });
    assert.equal(row.activityid, emailId);
    assert.equal(row.subject, subject);
    assert.equal(row._regardingobjectid_value, accountId);
    assert.equal(row._regardingobjectid_value_LogicalName, "account");
    assert.equal(row._regardingobjectid_value_NavigationProperty, "regardingobjectid_account_email");
    assert.equal(row._regardingobjectid_value_Formatted, `Regarding ${t}`);
    assert.equal(row.statecode, 0);
    assert.equal(row.statecode_Formatted, "Open");
    assert.equal(row.statuscode, 1);
    assert.equal(row.statuscode_Formatted, "Draft");
  });

  it("expands email_activity_parties with the parties of the deep insert", async () => {
    const row = await api.retrieve({
      collection: "emails",
      key: emailId,
      select: ["subject"],
      expand: [{ property: "email_activity_parties", select: ["participationtypemask", "_partyid_value"] }],
    });
    assert.equal(row.subject, subject);
    const parties = row.email_activity_parties.toSorted(byMask);
    assert.deepEqual(parties.map((p) => [p.participationtypemask, p._partyid_value]), expected());
    for (const p of parties) {
      assert.match(p.activitypartyid, guidPattern);
    }
  });

  it("queries activityparties by _activityid_value", async () => {
    const res = await api.retrieveMultiple({
      collection: "activityparties",
      select: ["participationtypemask", "_partyid_value", "_activityid_value"],
      filter: `_activityid_value eq ${emailId}`,
      includeAnnotations: "*",
    });
    const parties = res.value.toSorted(byMask);
    assert.deepEqual(parties.map((p) => [p.participationtypemask, p._partyid_value]), expected());
    assert.deepEqual(parties.map((p) => p.participationtypemask_Formatted), ["Sender", "To Recipient", "CC Recipient"]);
    assert.deepEqual(parties.map((p) => p._partyid_value_LogicalName), ["systemuser", "contact", "contact"]);
    assert.deepEqual(parties.map((p) => p._partyid_value_Formatted), [userName, `Ada To ${t}`, `Charles Cc ${t}`]);
    for (const p of parties) {
      assert.equal(p._activityid_value, emailId);
    }
  });

  it("lists the email among activitypointers with activitytypecode \"email\"", async () => {
    const res = await api.retrieveMultiple({
      collection: "activitypointers",
      select: ["activitytypecode", "subject"],
      filter: `activityid eq ${emailId}`,
    });
    assert.deepEqual(res.value.map((r) => [r.activityid, r.activitytypecode, r.subject]), [[emailId, "email", subject]]);
  });

  it("deletes the email with its parties", async () => {
    assert.equal(await api.deleteRecord({ collection: "emails", key: emailId }), true);
    await assert.rejects(api.retrieve({ collection: "emails", key: emailId }), { status: 404 });
    const parties = await api.retrieveMultiple({
      collection: "activityparties",
      select: ["participationtypemask"],
      filter: `_activityid_value eq ${emailId}`,
    });
    assert.deepEqual(parties.value, []);
    const pointers = await api.retrieveMultiple({ collection: "activitypointers", select: ["subject"], filter: `activityid eq ${emailId}` });
    assert.deepEqual(pointers.value, []);
  });
});

describe("quote with quote details", () => {
  const api = newClient();
  const cleanup = new Cleanup(api);
  const t = tag();
  const name = `Quote ${t}`;
  // Write-in products: no product row, only what is sent is asserted (Dataverse computes the amounts).
  const lines = [
    { productdescription: `Widget ${t}`, quantity: 2, priceperunit: 10.5 },
    { productdescription: `Gadget ${t}`, quantity: 1.5, priceperunit: 100 },
  ];
  let priceLevelId;
  let accountId;
  let quoteId;
  const detailIds = [];

  before(async () => {
    // The price list goes first, so it is deleted last: price_level_quotes restricts its delete.
    priceLevelId = cleanup.add("pricelevels", await api.create({ collection: "pricelevels", data: { name: `Price list ${t}` } }));
    accountId = cleanup.add("accounts", await api.create({ collection: "accounts", data: { name: `Buyer ${t}` } }));
    quoteId = cleanup.add("quotes", await api.create({
      collection: "quotes",
      data: {
        name,
        "customerid_account@odata.bind": `/accounts(${accountId})`,
        "pricelevelid@odata.bind": `/pricelevels(${priceLevelId})`,
      },
    }));
    for (const line of lines) {
      detailIds.push(cleanup.add("quotedetails", await api.create({
        collection: "quotedetails",
        data: { "quoteid@odata.bind": `/quotes(${quoteId})`, isproductoverridden: true, ...line },
      })));
    }
  });

  after(() => cleanup.run());

  it("creates a draft quote for an account customer", async () => {
    assert.match(quoteId, guidPattern);
    const row = await api.retrieve({
      collection: "quotes",
      key: quoteId,
      select: ["name", "_customerid_value", "_pricelevelid_value", "statecode", "statuscode"],
      includeAnnotations: "*",
    });
    assert.equal(row.name, name);
    assert.equal(row._customerid_value, accountId);
    assert.equal(row._customerid_value_LogicalName, "account");
    assert.equal(row._customerid_value_Formatted, `Buyer ${t}`);
    assert.equal(row._pricelevelid_value, priceLevelId);
    assert.equal(row.statecode, 0);
    assert.equal(row.statecode_Formatted, "Draft");
    assert.equal(row.statuscode, 1);
    assert.equal(row.statuscode_Formatted, "In Progress");
  });

  it("expands quote_details with the write-in lines", async () => {
    const row = await api.retrieve({
      collection: "quotes",
      key: quoteId,
      select: ["name"],
      expand: [{ property: "quote_details", select: ["productdescription", "quantity", "priceperunit"] }],
    });
    assert.equal(row.name, name);
    const details = row.quote_details.toSorted((a, b) => b.productdescription.localeCompare(a.productdescription));
    assert.deepEqual(details.map((d) => [d.quotedetailid, d.productdescription, d.quantity, d.priceperunit]),
      lines.map((l, i) => [detailIds[i], l.productdescription, l.quantity, l.priceperunit]));
  });

  it("queries quotedetails by _quoteid_value with orderBy", async () => {
    const res = await api.retrieveMultiple({
      collection: "quotedetails",
      select: ["productdescription", "quantity", "priceperunit", "isproductoverridden", "_quoteid_value"],
      filter: `_quoteid_value eq ${quoteId}`,
      orderBy: ["productdescription"],
      includeAnnotations: "*",
    });
    assert.deepEqual(res.value.map((d) => d.productdescription), [`Gadget ${t}`, `Widget ${t}`]);
    assert.deepEqual(res.value.map((d) => [d.quantity, d.priceperunit]), [[1.5, 100], [2, 10.5]]);
    for (const d of res.value) {
      assert.equal(d.isproductoverridden, true);
      assert.equal(d.isproductoverridden_Formatted, "Write In");
      assert.equal(d._quoteid_value, quoteId);
      assert.equal(d._quoteid_value_LogicalName, "quote");
      assert.equal(d._quoteid_value_Formatted, name);
    }
  });

  it("deletes the quote with its details (quote_details cascades)", async () => {
    assert.equal(await api.deleteRecord({ collection: "quotes", key: quoteId }), true);
    await assert.rejects(api.retrieve({ collection: "quotes", key: quoteId }), { status: 404 });
    for (const id of detailIds) {
      await assert.rejects(api.retrieve({ collection: "quotedetails", key: id }), { status: 404 });
    }
    const res = await api.retrieveMultiple({ collection: "quotedetails", select: ["productdescription"], filter: `_quoteid_value eq ${quoteId}` });
    assert.deepEqual(res.value, []);
  });
});
