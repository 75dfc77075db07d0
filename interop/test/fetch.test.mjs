// FetchXML as the library sends it: fetch (attributes, filters, link-entities, annotations,
// aggregates, PagingInfo) and fetchAll, which loops while a page carries the paging cookie.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";

import { Cleanup, etagPattern, guidPattern, newClient, tag } from "../lib/emulator.mjs";

const pagingCookie = "@Microsoft.Dynamics.CRM.fetchxmlpagingcookie";
const moreRecords = "@Microsoft.Dynamics.CRM.morerecords";

describe("FetchXML", () => {
  const api = newClient();
  const cleanup = new Cleanup(api);
  const t = tag();
  // Every account of this file starts with prefix, so no query sees another file's rows.
  const prefix = `Fetch ${t}`;
  const names = [1, 2, 3, 4, 5, 6, 7].map((i) => `${prefix} ${i}`);
  const mine = `<condition attribute="name" operator="begins-with" value="${prefix} "/>`;
  const ids = {};
  let contactId;

  // The library rewrites the query only when the string starts with "<fetch": keep it that way.
  const fetchXml = (fetchAttrs, inner) => `<fetch${fetchAttrs ? " " + fetchAttrs : ""}><entity name="account">${inner}</entity></fetch>`;
  // The seven accounts by name, count rows a page.
  const paged = (count) => fetchXml(`count="${count}"`, `<attribute name="name"/><filter>${mine}</filter><order attribute="name"/>`);

  before(async () => {
    contactId = cleanup.add("contacts", await api.create({
      collection: "contacts",
      data: { firstname: "Ada", lastname: `Fetch ${t}`, jobtitle: "Engineer" },
    }));
    for (const [i, name] of names.entries()) {
      const data = {
        name,
        numberofemployees: (i + 1) * 10,
        revenue: (i + 1) * 100.5,
        accountcategorycode: i % 2 === 0 ? 1 : 2,
      };
      if (i < 2) {
        data["primarycontactid@odata.bind"] = `contacts(${contactId})`;
      }
      ids[name] = cleanup.add("accounts", await api.create({ collection: "accounts", data }));
    }
  });

  after(() => cleanup.run());

  it("fetch returns the attributes asked for, filtered and ordered, with ids and ETags", async () => {
    const res = await api.fetch({
      collection: "accounts",
      fetchXml: fetchXml("", `<attribute name="name"/><attribute name="numberofemployees"/><attribute name="telephone1"/>` +
        `<filter>${mine}<condition attribute="numberofemployees" operator="ge" value="50"/></filter>` +
        `<order attribute="numberofemployees" descending="true"/>`),
    });
    assert.deepEqual(res.value.map((r) => [r.name, r.numberofemployees]), [[names[6], 70], [names[5], 60], [names[4], 50]]);
    const [row] = res.value;
    assert.equal(row.accountid, ids[names[6]]);
    assert.match(row["@odata.etag"], etagPattern);
    assert.equal("revenue" in row, false, "attributes not asked for stay out");
    assert.equal("telephone1" in row, false, "null columns are omitted in FetchXML results");
    assert.match(res.oDataContext, /\$metadata#accounts/);
    assert.equal(res.PagingInfo, undefined, "no paging cookie unless asked for");
    assert.equal(res[pagingCookie], undefined);
  });

  it("fetch with an or filter nested in the default and filter", async () => {
    const res = await api.fetch({
      collection: "accounts",
      fetchXml: fetchXml("", `<attribute name="name"/><filter>${mine}<filter type="or">` +
        `<condition attribute="numberofemployees" operator="lt" value="20"/>` +
        `<condition attribute="numberofemployees" operator="in"><value>40</value><value>60</value></condition>` +
        `</filter></filter><order attribute="name"/>`),
    });
    assert.deepEqual(res.value.map((r) => r.name), [names[0], names[3], names[5]]);
  });

  it("builds the nested alias object from alias_x002e_column for an outer link-entity", async () => {
    const res = await api.fetch({
      collection: "accounts",
      fetchXml: fetchXml("", `<attribute name="name"/><filter>${mine}<condition attribute="numberofemployees" operator="le" value="30"/></filter>` +
        `<order attribute="name"/>` +
        `<link-entity name="contact" from="contactid" to="primarycontactid" link-type="outer" alias="pc">` +
        `<attribute name="fullname"/><attribute name="jobtitle"/></link-entity>`),
    });
    assert.deepEqual(res.value.map((r) => r.name), names.slice(0, 3));
    const [linked, , unlinked] = res.value;
    assert.equal(linked.pc_x002e_fullname, `Ada Fetch ${t}`);
    assert.equal(linked.pc_x002e_jobtitle, "Engineer");
    // The library adds row.pc = {_dwaType: "alias", fullname, jobtitle}.
    assert.deepEqual({ ...linked.pc }, { _dwaType: "alias", fullname: `Ada Fetch ${t}`, jobtitle: "Engineer" });
    assert.equal(unlinked.pc, undefined, "an outer link without a match gives no linked columns");
    assert.equal("pc_x002e_fullname" in unlinked, false);
  });

  it("filters inside an inner link-entity and keys an aliased linked attribute by its alias", async () => {
    const res = await api.fetch({
      collection: "accounts",
      fetchXml: fetchXml("", `<attribute name="name"/><filter>${mine}</filter><order attribute="name"/>` +
        `<link-entity name="contact" from="contactid" to="primarycontactid" link-type="inner" alias="pc">` +
        `<attribute name="fullname" alias="who"/><attribute name="contactid"/>` +
        `<filter><condition attribute="lastname" operator="eq" value="Fetch ${t}"/></filter></link-entity>`),
    });
    assert.deepEqual(res.value.map((r) => [r.name, r.who]), [[names[0], `Ada Fetch ${t}`], [names[1], `Ada Fetch ${t}`]]);
    assert.equal(res.value[0].pc_x002e_contactid, contactId);
    assert.equal(res.value[0].pc.contactid, contactId);
    assert.equal("fullname" in res.value[0].pc, false, "an aliased attribute is not a linked column");
  });

  it("adds _Formatted and _LogicalName copies with includeAnnotations \"*\", also inside the alias object", async () => {
    const res = await api.fetch({
      collection: "accounts",
      fetchXml: fetchXml("", `<attribute name="name"/><attribute name="revenue"/><attribute name="accountcategorycode"/>` +
        `<attribute name="numberofemployees"/><attribute name="primarycontactid"/><attribute name="createdon"/>` +
        `<filter><condition attribute="name" operator="eq" value="${names[0]}"/></filter>` +
        `<link-entity name="contact" from="contactid" to="primarycontactid" alias="pc"><attribute name="statecode"/></link-entity>`),
      includeAnnotations: "*",
    });
    assert.equal(res.value.length, 1);
    const [row] = res.value;
    assert.equal(row.revenue, 100.5);
    assert.equal(row.revenue_Formatted, "$100.50");
    assert.equal(row.accountcategorycode, 1);
    assert.equal(row.accountcategorycode_Formatted, "Preferred Customer");
    assert.equal(row.numberofemployees_Formatted, "10");
    assert.equal(row._primarycontactid_value, contactId);
    assert.equal(row._primarycontactid_value_Formatted, `Ada Fetch ${t}`);
    assert.equal(row._primarycontactid_value_LogicalName, "contact");
    assert.ok(row.createdon instanceof Date, `createdon revived as a Date: ${row.createdon}`);
    assert.equal(row.pc.statecode, 0);
    assert.equal(row.pc.statecode_Formatted, "Active");
    // A single page: no cookie, no morerecords, nothing for fetchAll to follow.
    assert.equal(res[pagingCookie], undefined);
    assert.equal(res[moreRecords], undefined);
    assert.equal(res.PagingInfo, undefined);
  });

  it("fetchAll walks three pages by paging cookie and stops at the last", async () => {
    for (const includeAnnotations of ["Microsoft.Dynamics.CRM.fetchxmlpagingcookie", "*"]) {
      const all = await api.fetchAll({ collection: "accounts", fetchXml: paged(3), includeAnnotations });
      assert.deepEqual(all.value.map((r) => r.name), names, `includeAnnotations ${includeAnnotations}`);
      const seen = all.value.map((r) => r.accountid);
      assert.equal(new Set(seen).size, names.length, "every row exactly once");
      assert.deepEqual(seen, names.map((n) => ids[n]));
    }
  });

  it("fetchAll without the annotation request stops after page one, as on Dataverse", async () => {
    // The library's well-known trap: with no Prefer asking for the cookie there is nothing to follow.
    const all = await api.fetchAll({ collection: "accounts", fetchXml: paged(3) });
    assert.deepEqual(all.value.map((r) => r.name), names.slice(0, 3));
  });

  it("pages by hand with PagingInfo: nextPage and the cookie, morerecords until the last page", async () => {
    const request = { collection: "accounts", fetchXml: paged(3), includeAnnotations: "*" };
    const first = await api.fetch(request);
    assert.deepEqual(first.value.map((r) => r.name), names.slice(0, 3));
    assert.equal(first[moreRecords], true);
    assert.match(first[pagingCookie], /^<cookie pagenumber="2" pagingcookie="%253[cC]cookie%2520page%253[dD]%25221%2522/);
    assert.equal(first.PagingInfo.page, 1);
    assert.equal(first.PagingInfo.nextPage, 2);
    // The library's sanitized inner cookie, ready for paging-cookie="…".
    assert.match(first.PagingInfo.cookie, /^&lt;cookie page=&quot;1&quot;&gt;.*&lt;\/cookie&gt;$/);
    assert.match(first.PagingInfo.cookie, new RegExp(`accountid last=&quot;\\{${ids[names[2]]}\\}&quot;`, "i"));

    const second = await api.fetch({ ...request, pageNumber: first.PagingInfo.nextPage, pagingCookie: first.PagingInfo.cookie });
    assert.deepEqual(second.value.map((r) => r.name), names.slice(3, 6));
    assert.equal(second[moreRecords], true);
    assert.equal(second.PagingInfo.page, 2);
    assert.equal(second.PagingInfo.nextPage, 3);

    const third = await api.fetch({ ...request, pageNumber: second.PagingInfo.nextPage, pagingCookie: second.PagingInfo.cookie });
    assert.deepEqual(third.value.map((r) => r.name), names.slice(6));
    assert.equal(third[pagingCookie], undefined, "no cookie on the last page");
    assert.equal(third[moreRecords], undefined, "no morerecords on the last page");
    assert.equal(third.PagingInfo, undefined);
  });

  it("pages by page number alone when there is no cookie", async () => {
    const res = await api.fetch({ collection: "accounts", fetchXml: paged(3), pageNumber: 2 });
    assert.deepEqual(res.value.map((r) => r.name), names.slice(3, 6));
    const last = await api.fetch({ collection: "accounts", fetchXml: paged(3), pageNumber: 3, includeAnnotations: "*" });
    assert.deepEqual(last.value.map((r) => r.name), names.slice(6));
    assert.equal(last.PagingInfo, undefined);
  });

  it("a cookie keeps its place when a row is inserted before it", async () => {
    const request = { collection: "accounts", fetchXml: paged(3), includeAnnotations: "Microsoft.Dynamics.CRM.fetchxmlpagingcookie" };
    const first = await api.fetch(request);
    // "<prefix> 0" sorts first, so it shifts every later row by one position.
    const earlier = await api.create({ collection: "accounts", data: { name: `${prefix} 0` } });
    try {
      const second = await api.fetch({ ...request, pageNumber: first.PagingInfo.nextPage, pagingCookie: first.PagingInfo.cookie });
      assert.deepEqual(second.value.map((r) => r.name), names.slice(3, 6));
    } finally {
      await api.deleteRecord({ collection: "accounts", key: earlier });
    }
  });

  it("fetch with top is sent unchanged and returns that many rows", async () => {
    const res = await api.fetch({
      collection: "accounts",
      fetchXml: fetchXml(`top="2"`, `<attribute name="name"/><filter>${mine}</filter><order attribute="name" descending="true"/>`),
      includeAnnotations: "*",
    });
    assert.deepEqual(res.value.map((r) => r.name), [names[6], names[5]]);
    assert.equal(res.PagingInfo, undefined);
  });

  it("aggregates with groupby, sum, avg and count, keyed by alias", async () => {
    const res = await api.fetch({
      collection: "accounts",
      fetchXml: fetchXml(`aggregate="true"`, `<attribute name="accountcategorycode" groupby="true" alias="cat"/>` +
        `<attribute name="numberofemployees" aggregate="sum" alias="total"/>` +
        `<attribute name="revenue" aggregate="avg" alias="avgrevenue"/>` +
        `<attribute name="accountid" aggregate="count" alias="n"/>` +
        `<filter>${mine}</filter><order alias="cat"/>`),
      includeAnnotations: "OData.Community.Display.V1.FormattedValue",
    });
    // Category 1: accounts 1, 3, 5, 7; category 2: accounts 2, 4, 6.
    assert.deepEqual(res.value.map((r) => [r.cat, r.n, r.total, r.avgrevenue]), [[1, 4, 160, 402], [2, 3, 120, 402]]);
    assert.deepEqual(res.value.map((r) => r.cat_Formatted), ["Preferred Customer", "Standard"]);
    assert.equal(res.value[0]["@odata.etag"], undefined, "aggregate rows carry no ETag");
    assert.equal("accountid" in res.value[0], false);
  });

  it("a FetchXML query over 2000 characters goes as a $batch GET part, and fetchAll still pages", async () => {
    // Forty more conditions that match nothing push the encoded URL past the library's limit.
    const padding = Array.from({ length: 40 }, (_, i) => `<condition attribute="name" operator="eq" value="${prefix} none ${i}"/>`).join("");
    const xml = fetchXml(`count="2"`, `<attribute name="name"/><filter>${mine}<filter type="or">` +
      `<condition attribute="numberofemployees" operator="le" value="50"/>${padding}</filter></filter><order attribute="name"/>`);
    assert.ok(encodeURIComponent(xml).length > 2000, "long enough to be sent as a $batch");
    const first = await api.fetch({ collection: "accounts", fetchXml: xml, includeAnnotations: "*" });
    assert.deepEqual(first.value.map((r) => r.name), names.slice(0, 2));
    assert.equal(first.PagingInfo.nextPage, 2);
    const all = await api.fetchAll({ collection: "accounts", fetchXml: xml, includeAnnotations: "*" });
    assert.deepEqual(all.value.map((r) => r.name), names.slice(0, 5));
  });

  it("pages by cookie when the root filter is an or filter", async () => {
    const xml = fetchXml(`count="3"`, `<attribute name="name"/><filter type="or">${mine}` +
      `<condition attribute="name" operator="eq" value="${prefix} nobody"/></filter><order attribute="name"/>`);
    // Walk the pages the way fetchAll does, with a bound, so a regression fails instead of hanging.
    const request = { collection: "accounts", fetchXml: xml, includeAnnotations: "*" };
    const seen = [];
    for (let page = 1; page <= 5; page++) {
      const res = await api.fetch(request);
      seen.push(...res.value.map((r) => r.name));
      if (!res.PagingInfo) {
        break;
      }
      request.pageNumber = res.PagingInfo.nextPage;
      request.pagingCookie = res.PagingInfo.cookie;
    }
    assert.deepEqual(seen, names);
  });

  it("reports an unknown attribute as 400 with code 0x80041103", async () => {
    await assert.rejects(api.fetch({ collection: "accounts", fetchXml: fetchXml("", `<attribute name="name"/><attribute name="nosuch"/>`) }), (err) => {
      assert.ok(err instanceof Error);
      assert.equal(err.status, 400);
      assert.equal(err.code, "0x80041103");
      assert.equal(err.message, "'account' entity doesn't contain attribute with Name = 'nosuch' and NameMapping = 'Logical'.");
      return true;
    });
    await assert.rejects(api.fetch({
      collection: "accounts",
      fetchXml: fetchXml("", `<attribute name="name"/><filter><condition attribute="nosuch" operator="eq" value="1"/></filter>`),
    }), { status: 400, code: "0x80041103" });
  });

  it("the ids it returns are GUIDs the other calls accept", async () => {
    const res = await api.fetch({ collection: "accounts", fetchXml: fetchXml(`top="1"`, `<attribute name="name"/><filter>${mine}</filter><order attribute="name"/>`) });
    const [row] = res.value;
    assert.match(row.accountid, guidPattern);
    const again = await api.retrieve({ collection: "accounts", key: row.accountid, select: ["name"] });
    assert.equal(again.name, names[0]);
  });
});
