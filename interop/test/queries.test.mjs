// Collection queries as the library sends them: retrieveMultiple (select, filter, orderBy, top,
// count, expand, apply), paging with maxPageSize and the nextLink, retrieveAll, count and countAll.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";

import { Cleanup, apiUrl, etagPattern, guidPattern, newClient, tag } from "../lib/emulator.mjs";

describe("collection queries", () => {
  const api = newClient();
  const cleanup = new Cleanup(api);
  const t = tag();
  // Every account of this file starts with prefix, so no query sees another file's rows.
  const prefix = `Query ${t}`;
  const mine = `startswith(name,'${prefix} ')`;
  // The sixth name has characters the filter encoding must carry: a quote, &, + and a non-ASCII letter.
  const special = `${prefix} 6 O'Brien & Sons+ Zürich`;
  const names = [1, 2, 3, 4, 5].map((i) => `${prefix} ${i}`).concat(special);
  const ids = {};
  let contactId;

  before(async () => {
    contactId = cleanup.add("contacts", await api.create({
      collection: "contacts",
      data: { firstname: "Pat", lastname: `Query ${t}` },
    }));
    for (const [i, name] of names.entries()) {
      const data = {
        name,
        numberofemployees: (i + 1) * 10,
        accountcategorycode: i % 2 === 0 ? 1 : 2,
      };
      if (i < 2) {
        data["primarycontactid@odata.bind"] = `contacts(${contactId})`;
      }
      ids[name] = cleanup.add("accounts", await api.create({ collection: "accounts", data }));
    }
    for (const subject of ["call b", "call a", "mail"]) {
      cleanup.add("tasks", await api.create({
        collection: "tasks",
        data: { subject: `${prefix} ${subject}`, "regardingobjectid_account_task@odata.bind": `accounts(${ids[names[0]]})` },
      }));
    }
  });

  after(() => cleanup.run());

  it("retrieveMultiple with select, filter, orderBy and top", async () => {
    const res = await api.retrieveMultiple({
      collection: "accounts",
      select: ["name", "numberofemployees"],
      filter: `${mine} and numberofemployees ge 20`,
      orderBy: ["numberofemployees desc", "name"],
      top: 2,
    });
    assert.deepEqual(res.value.map((r) => [r.name, r.numberofemployees]), [[special, 60], [names[4], 50]]);
    assert.equal(res.value[0].accountid, ids[special]);
    assert.match(res.value[0]["@odata.etag"], etagPattern);
    assert.equal("revenue" in res.value[0], false, "unselected columns stay out");
    assert.match(res.oDataContext, /\$metadata#accounts\(name,numberofemployees\)$/);
    assert.equal(res.oDataNextLink, undefined, "$top leaves no next page");
    assert.equal(res.oDataCount, undefined, "no count unless asked for");
  });

  it("encodes a filter with quotes, &, + and non-ASCII text", async () => {
    const res = await api.retrieveMultiple({
      collection: "accounts",
      select: ["name"],
      filter: `name eq '${special.replaceAll("'", "''")}'`,
    });
    assert.deepEqual(res.value.map((r) => r.name), [special]);
  });

  it("returns @odata.count as oDataCount", async () => {
    const res = await api.retrieveMultiple({
      collection: "accounts",
      select: ["name"],
      filter: `${mine} and accountcategorycode eq 1`,
      orderBy: ["name"],
      count: true,
    });
    assert.equal(res.oDataCount, 3);
    assert.equal(res["@odata.count"], 3);
    assert.deepEqual(res.value.map((r) => r.name), [names[0], names[2], names[4]]);
  });

  it("filters through a lookup path, a lambda and a query function with parameter aliases", async () => {
    const byContact = await api.retrieveMultiple({
      collection: "accounts",
      select: ["name"],
      filter: `primarycontactid/lastname eq 'Query ${t}'`,
      orderBy: ["name"],
    });
    assert.deepEqual(byContact.value.map((r) => r.name), [names[0], names[1]]);

    const withMail = await api.retrieveMultiple({
      collection: "accounts",
      select: ["name"],
      filter: `Account_Tasks/any(x:x/subject eq '${prefix} mail')`,
    });
    assert.deepEqual(withMail.value.map((r) => r.name), [names[0]]);

    const inList = await api.retrieveMultiple({
      collection: "accounts",
      select: ["name"],
      filter: `${mine} and Microsoft.Dynamics.CRM.In(PropertyName=@p1,PropertyValues=@p2)`,
      queryParams: ["@p1='numberofemployees'", '@p2=["20","40"]'],
      orderBy: ["name"],
    });
    assert.deepEqual(inList.value.map((r) => r.name), [names[1], names[3]]);
  });

  it("pages with maxPageSize and follows oDataNextLink", async () => {
    const request = { collection: "accounts", select: ["name"], filter: mine, orderBy: ["name"], maxPageSize: 4, count: true };
    const first = await api.retrieveMultiple(request);
    assert.deepEqual(first.value.map((r) => r.name), names.slice(0, 4));
    assert.equal(first.oDataCount, 6, "the count covers every page");
    assert.ok(first.oDataNextLink?.startsWith(apiUrl + "accounts?"), `nextLink ${first.oDataNextLink} starts with ${apiUrl}`);
    assert.match(first.oDataNextLink, /\$skiptoken=/);

    const second = await api.retrieveMultiple(request, first.oDataNextLink);
    assert.deepEqual(second.value.map((r) => r.name), names.slice(4));
    assert.equal(second.oDataNextLink, undefined, "no nextLink on the last page");
  });

  it("retrieveAll walks every page", async () => {
    const all = await api.retrieveAll({ collection: "accounts", select: ["name"], filter: mine, orderBy: ["name desc"], maxPageSize: 2 });
    assert.deepEqual(all.value.map((r) => r.name), names.slice().reverse());
    assert.equal(all.oDataNextLink, undefined);
  });

  it("pages a filter whose top level is an or", async () => {
    const request = { collection: "accounts", select: ["name"], filter: `${mine} or name eq '${prefix} nobody'`, orderBy: ["name"], maxPageSize: 4 };
    // Follow the nextLinks the way retrieveAll does, with a bound, so a regression fails instead of hanging.
    const seen = [];
    let link;
    for (let page = 1; page <= 4; page++) {
      const res = await api.retrieveMultiple(request, link);
      seen.push(...res.value.map((r) => r.name));
      link = res.oDataNextLink;
      if (!link) {
        break;
      }
    }
    assert.deepEqual(seen, names);
  });

  it("count with a filter uses $count=true", async () => {
    assert.equal(await api.count({ collection: "accounts", filter: mine }), 6);
    assert.equal(await api.count({ collection: "accounts", filter: `${mine} and numberofemployees gt 35` }), 3);
    assert.equal(await api.count({ collection: "accounts", filter: `name eq '${prefix} nobody'` }), 0);
  });

  it("countAll counts the rows of every page", async () => {
    assert.equal(await api.countAll({ collection: "accounts", filter: mine, select: ["accountid"] }), 6);
    const paged = newClient({ maxPageSize: 4 });
    assert.equal(await paged.countAll({ collection: "accounts", filter: mine, select: ["accountid"] }), 6);
  });

  it("expands a lookup on every row", async () => {
    const res = await api.retrieveMultiple({
      collection: "accounts",
      select: ["name"],
      filter: `${mine} and numberofemployees le 30`,
      orderBy: ["name"],
      expand: [{ property: "primarycontactid", select: ["fullname"] }],
    });
    assert.deepEqual(res.value.map((r) => r.primarycontactid?.fullname ?? null), [`Pat Query ${t}`, `Pat Query ${t}`, null]);
    assert.equal(res.value[0].primarycontactid.contactid, contactId);
    assert.match(res.oDataContext, /\$metadata#accounts\(name,primarycontactid\(fullname\)\)$/);
  });

  it("expands a collection with select, filter, orderBy and top", async () => {
    const res = await api.retrieveMultiple({
      collection: "accounts",
      select: ["name"],
      filter: `${mine} and numberofemployees le 20`,
      orderBy: ["name"],
      expand: [{ property: "Account_Tasks", select: ["subject"], filter: `startswith(subject,'${prefix} call')`, orderBy: ["subject desc"], top: 5 }],
    });
    assert.equal(res.value.length, 2);
    const [withTasks, without] = res.value;
    assert.deepEqual(withTasks.Account_Tasks.map((x) => x.subject), [`${prefix} call b`, `${prefix} call a`]);
    for (const task of withTasks.Account_Tasks) {
      assert.match(task.activityid, guidPattern);
    }
    assert.deepEqual(without.Account_Tasks, []);
    // The link to each expanded collection; the library copies it to oDataNextLink on the row.
    const link = withTasks["Account_Tasks@odata.nextLink"];
    assert.ok(link?.startsWith(`${apiUrl}accounts(${ids[names[0]]})/Account_Tasks`), `Account_Tasks@odata.nextLink = ${link}`);
  });

  it("expands a collection and a lookup in one request", async () => {
    const res = await api.retrieveMultiple({
      collection: "accounts",
      select: ["name"],
      filter: `name eq '${names[0]}'`,
      expand: [
        { property: "primarycontactid", select: ["fullname"] },
        { property: "Account_Tasks", select: ["subject"], orderBy: ["subject"] },
      ],
    });
    const [row] = res.value;
    assert.equal(row.primarycontactid.fullname, `Pat Query ${t}`);
    assert.deepEqual(row.Account_Tasks.map((x) => x.subject), ["call a", "call b", "mail"].map((s) => `${prefix} ${s}`));
  });

  it("pages expanded collections when a nested expand meets maxPageSize", async () => {
    const res = await api.retrieveMultiple({
      collection: "accounts",
      select: ["name"],
      filter: `name eq '${names[0]}'`,
      maxPageSize: 2,
      expand: [{ property: "Account_Tasks", select: ["subject"], expand: [{ property: "regardingobjectid_account_task", select: ["name"] }] }],
    });
    const [row] = res.value;
    assert.equal(row.Account_Tasks.length, 2, "one page of tasks");
    assert.match(row["Account_Tasks@odata.nextLink"], /\$skiptoken=/);
  });

  it("adds _Formatted values to the rows with includeAnnotations", async () => {
    const res = await api.retrieveMultiple({
      collection: "accounts",
      select: ["name", "accountcategorycode", "numberofemployees"],
      filter: `name eq '${names[1]}'`,
      includeAnnotations: "OData.Community.Display.V1.FormattedValue",
    });
    const [row] = res.value;
    assert.equal(row.accountcategorycode, 2);
    assert.equal(row.accountcategorycode_Formatted, "Standard");
    assert.equal(row.numberofemployees_Formatted, "20");
  });

  it("aggregates with apply", async () => {
    const res = await api.retrieveMultiple({
      collection: "accounts",
      apply: `filter(${mine})/groupby((accountcategorycode),aggregate($count as count,numberofemployees with sum as total))`,
    });
    const groups = res.value.map((r) => [r.accountcategorycode, r.count, r.total]).sort((a, b) => a[0] - b[0]);
    assert.deepEqual(groups, [[1, 3, 90], [2, 3, 120]]);
    assert.equal(res.value[0]["@odata.etag"], undefined, "aggregate rows carry no ETag");
    assert.match(res.oDataContext, /\$metadata#accounts$/);
  });

  // Dataverse documents "The query node SingleValueOpenPropertyAccess is not supported." (aggregate-data doc).
  it("refuses to order by an aggregate value", async () => {
    await assert.rejects(api.retrieveMultiple({
      collection: "accounts",
      apply: `filter(${mine})/groupby((accountcategorycode),aggregate($count as count))`,
      orderBy: ["count desc"],
    }), (err) => {
      assert.equal(err.status, 400);
      assert.match(err.message, /The query node SingleValueOpenPropertyAccess is not supported/);
      return true;
    });
  });

  it("reports an unknown property in a filter as 400", async () => {
    await assert.rejects(api.retrieveMultiple({ collection: "accounts", filter: "nosuch eq 1" }), {
      status: 400,
      code: "0x0",
      message: "Could not find a property named 'nosuch' on type 'Microsoft.Dynamics.CRM.account'.",
    });
  });
});
