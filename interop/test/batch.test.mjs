// $batch as the library builds it: startBatch / executeBatch with change sets, Content-ID
// references, rollback, continue-on-error and GET parts, and the long GET it silently turns into a
// $batch.

import http from "node:http";
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";

import { Cleanup, apiUrl, guidPattern, newClient, tag } from "../lib/emulator.mjs";

/**
 * A forwarding HTTP proxy on loopback that remembers each request (method, absolute URL, body), so
 * a test can see what the library put on the wire. dynamics-web-api sends requests through
 * config.proxy with the absolute URL in the request line and the proxy's own Host header.
 */
async function startRecorder() {
  const requests = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const target = new URL(req.url);
      requests.push({ method: req.method, url: req.url, body: body.toString("utf8") });
      const headers = { ...req.headers, host: target.host };
      delete headers.connection;
      delete headers["proxy-connection"];
      const upstream = http.request(target, { method: req.method, headers }, (up) => {
        res.writeHead(up.statusCode, up.statusMessage, up.headers);
        up.pipe(res);
      });
      upstream.on("error", (err) => {
        res.writeHead(502, { "Content-Type": "text/plain" });
        res.end(String(err));
      });
      upstream.end(body);
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    requests,
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(resolve);
    }),
  };
}

describe("$batch", () => {
  const api = newClient();
  const cleanup = new Cleanup(api);
  const t = tag();
  // Every row of this file starts with prefix, so no query sees another file's rows.
  const prefix = `Batch ${t}`;
  let recorder;
  let recorded;

  before(async () => {
    recorder = await startRecorder();
    recorded = newClient({ proxy: { url: recorder.url } });
  });

  after(async () => {
    await recorder?.close();
    await cleanup.run();
  });

  /** Counts the accounts and contacts whose names start with p. */
  async function countRows(p) {
    return [
      await api.count({ collection: "accounts", filter: `startswith(name,'${p}')` }),
      await api.count({ collection: "contacts", filter: `startswith(lastname,'${p}')` }),
    ];
  }

  it("runs a change set with $1 references and resolves the results in order", async () => {
    api.startBatch();
    api.create({ collection: "accounts", data: { name: `${prefix} parent` }, contentId: "1" });
    api.create({ collection: "contacts", data: { lastname: `${prefix} child`, "parentcustomerid_account@odata.bind": "$1" } });
    // The reference is the request target: PATCH $1, with the library's If-Match: *.
    api.update({ contentId: "$1", data: { telephone1: "555-0101" } });
    const results = await api.executeBatch();

    assert.equal(results.length, 3);
    const [accountId, contactId, updated] = results;
    assert.match(accountId, guidPattern, "create → the id from OData-EntityId");
    assert.match(contactId, guidPattern);
    assert.equal(updated, true, "bodiless update → true");
    cleanup.add("accounts", accountId);
    cleanup.add("contacts", contactId);

    const account = await api.retrieve({
      collection: "accounts",
      key: accountId,
      select: ["name", "telephone1"],
      expand: [{ property: "contact_customer_accounts", select: ["lastname"] }],
    });
    assert.equal(account.name, `${prefix} parent`);
    assert.equal(account.telephone1, "555-0101");
    assert.deepEqual(account.contact_customer_accounts.map((c) => [c.contactid, c.lastname]), [[contactId, `${prefix} child`]]);
    const contact = await api.retrieve({ collection: "contacts", key: contactId, select: ["_parentcustomerid_value"] });
    assert.equal(contact._parentcustomerid_value, accountId);
  });

  it("rolls a change set back when its last operation fails, and rejects with the failure", async () => {
    const p = `${prefix} rollback`;
    assert.deepEqual(await countRows(p), [0, 0]);
    api.startBatch();
    api.create({ collection: "accounts", data: { name: `${p} parent` }, contentId: "1" });
    api.create({ collection: "contacts", data: { lastname: `${p} child`, "parentcustomerid_account@odata.bind": "$1" } });
    // account.name has MaxLength 160.
    const tooLong = `${p} `.padEnd(161, "x");
    assert.equal(tooLong.length, 161);
    api.create({ collection: "accounts", data: { name: tooLong } });

    let rejection;
    await api.executeBatch().then(
      (value) => assert.fail(`executeBatch resolved with ${JSON.stringify(value)}`),
      (err) => { rejection = err; },
    );
    // A 400 batch body rejects with the parsed parts: just the failing one.
    assert.ok(Array.isArray(rejection), `rejects with an array: ${rejection}`);
    assert.equal(rejection.length, 1);
    const [failure] = rejection;
    assert.ok(failure instanceof Error);
    assert.equal(failure.status, 400);
    // The library leaves the error object under .error, not on the Error itself.
    assert.equal(failure.error.code, "0x80044331");
    assert.equal(failure.error.message,
      "A validation error occurred.  The length of the 'name' attribute of the 'account' entity exceeded the maximum allowed length of '160'.");

    assert.deepEqual(await countRows(p), [0, 0], "nothing of the change set was kept");
  });

  it("continues after a failure with continueOnError and returns every result", async () => {
    const missing = "00000000-0000-0000-0000-0000000000b7";
    api.startBatch();
    api.create({ collection: "accounts", data: { name: `${prefix} coe 1` }, inChangeSet: false });
    api.update({ collection: "accounts", key: missing, data: { name: `${prefix} never` }, inChangeSet: false });
    api.create({ collection: "accounts", data: { name: `${prefix} coe 2` }, inChangeSet: false });
    api.deleteRecord({ collection: "accounts", key: missing, inChangeSet: false });
    const results = await api.executeBatch({ continueOnError: true });

    assert.equal(results.length, 4);
    const [first, notFound, second, notDeleted] = results;
    assert.match(first, guidPattern);
    assert.match(second, guidPattern);
    cleanup.add("accounts", first);
    cleanup.add("accounts", second);
    for (const err of [notFound, notDeleted]) {
      assert.ok(err instanceof Error, `an Error object in the results: ${err}`);
      assert.equal(err.status, 404);
      assert.equal(err.error.code, "0x80040217");
      assert.equal(err.error.message, `Entity 'account' With Id = ${missing} Does Not Exist`);
    }
    const rows = await api.retrieveMultiple({ collection: "accounts", select: ["name"], filter: `startswith(name,'${prefix} coe')`, orderBy: ["name"] });
    assert.deepEqual(rows.value.map((r) => [r.accountid, r.name]), [[first, `${prefix} coe 1`], [second, `${prefix} coe 2`]]);
    assert.equal(await api.count({ collection: "accounts", filter: `name eq '${prefix} never'` }), 0);
  });

  it("answers GET parts whose targets keep raw spaces and quotes", async () => {
    const p = `${prefix} get`;
    const ids = [];
    for (const name of [`${p} a`, `${p} b`, `${p} c`]) {
      ids.push(cleanup.add("accounts", await api.create({ collection: "accounts", data: { name, numberofemployees: ids.length + 1 } })));
    }
    recorder.requests.length = 0;
    recorded.startBatch();
    recorded.retrieveMultiple({ collection: "accounts", select: ["name"], filter: `startswith(name,'${p}')`, orderBy: ["name desc"], top: 2 });
    recorded.retrieve({ collection: "accounts", key: ids[0], select: ["name", "numberofemployees"] });
    recorded.count({ collection: "accounts", filter: `startswith(name,'${p}')` });
    const [list, row, count] = await recorded.executeBatch();

    // What went on the wire: one POST $batch, the GET parts with a raw space and raw quotes.
    assert.deepEqual(recorder.requests.map((r) => [r.method, r.url]), [["POST", `${apiUrl}$batch`]]);
    const body = recorder.requests[0].body;
    assert.match(body, /^GET http:\/\/\S+\/accounts\?\$select=name&\$filter=startswith\(name%2C'[^ ]+'\)&\$top=2&\$orderby=name desc HTTP\/1\.1\r$/m);

    assert.deepEqual(list.value.map((r) => r.name), [`${p} c`, `${p} b`]);
    assert.match(list.oDataContext, /\$metadata#accounts\(name\)$/);
    assert.equal(row.accountid, ids[0]);
    assert.equal(row.name, `${p} a`);
    assert.equal(row.numberofemployees, 1);
    assert.equal(count, 3, "count() inside a batch still returns a number");
  });

  it("sends a retrieveMultiple longer than 2000 characters as a $batch and returns its result", async () => {
    const p = `${prefix} long`;
    const ids = {};
    for (const i of [3, 7, 11]) {
      const name = `${p} ${i}`;
      ids[name] = cleanup.add("accounts", await api.create({ collection: "accounts", data: { name, numberofemployees: i } }));
    }
    // Sixty "or" terms, of which three match.
    const filter = Array.from({ length: 60 }, (_, i) => `name eq '${p} ${i}'`).join(" or ");
    assert.ok(encodeURIComponent(filter).length > 2000);
    recorder.requests.length = 0;
    const res = await recorded.retrieveMultiple({
      collection: "accounts",
      select: ["name", "numberofemployees"],
      filter,
      orderBy: ["name desc"],
      count: true,
    });

    assert.deepEqual(recorder.requests.map((r) => [r.method, r.url]), [["POST", `${apiUrl}$batch`]], "sent as a $batch");
    assert.match(recorder.requests[0].body, /^GET http:\/\/\S+\/accounts\?\$select=name,numberofemployees&\$filter=name%20eq%20'/m);

    // The library unwraps the single part: the same object a plain GET gives.
    assert.ok(!Array.isArray(res), "one result, not an array");
    assert.deepEqual(res.value.map((r) => [r.name, r.numberofemployees]), [[`${p} 7`, 7], [`${p} 3`, 3], [`${p} 11`, 11]]);
    assert.deepEqual(res.value.map((r) => r.accountid), [`${p} 7`, `${p} 3`, `${p} 11`].map((n) => ids[n]));
    assert.equal(res.oDataCount, 3);
    assert.match(res.oDataContext, /\$metadata#accounts\(name,numberofemployees\)$/);
  });
});
