// The library against environments: two organisations created in one emulator through
// POST /_emulator/environments, each a serverUrl of its own under /env/{name}. Rows written in one,
// singly or in a $batch change set with a $1 reference, are never seen by the other; paging links
// and entity ids point back into the environment; a token asked for one environment is refused
// by the other.
//
// The library resolves "api/data/v9.2" against serverUrl as a base URL, so an organisation URL with
// a path must end in a slash: http://host/env/ci-1/ (without it the library would call
// http://host/env/api/data/v9.2/, and be told no environment "api" exists).

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";

import { DynamicsWebApi } from "dynamics-web-api";

import { guidPattern, serverUrl, tag } from "../lib/emulator.mjs";

const tenant = process.env.DYNLOCAL_TENANT;

/** A client-credentials token whose audience is orgUrl, from the tenant's one token endpoint. */
async function tokenFor(orgUrl) {
  const res = await fetch(`${serverUrl}/${tenant}/oauth2/v2.0/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "client_credentials",
      client_id: process.env.DYNLOCAL_CLIENT_ID,
      client_secret: process.env.DYNLOCAL_CLIENT_SECRET,
      scope: `${orgUrl}/.default`,
    }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()).access_token;
}

async function admin(method, path, body) {
  const res = await fetch(`${serverUrl}/_emulator/${path}`, {
    method,
    headers: body ? { "Content-Type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

describe("environments", () => {
  const names = [`interop-a-${tag()}`, `interop-b-${tag()}`];
  const envs = [];

  before(async () => {
    // Created at the same time, as parallel CI jobs would.
    const created = await Promise.all(names.map((name) => admin("POST", "environments", { name })));
    for (const [i, res] of created.entries()) {
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.equal(res.body.url, `${serverUrl}/env/${names[i]}`);
      const token = await tokenFor(res.body.url);
      envs.push({
        url: res.body.url,
        token,
        api: new DynamicsWebApi({ serverUrl: `${res.body.url}/`, dataApi: { version: "9.2" }, onTokenRefresh: async () => token }),
      });
    }
  });

  after(async () => {
    for (const name of names) {
      const res = await admin("DELETE", `environments/${name}`);
      assert.equal(res.status, 204);
    }
  });

  it("keeps each environment's rows to itself", async () => {
    await Promise.all(envs.map(async ({ api }, i) => {
      for (let j = 0; j < 3; j++) {
        await api.create({ collection: "accounts", data: { name: `Env ${i} row ${j}` } });
      }
    }));
    for (const [i, { api }] of envs.entries()) {
      const rows = await api.retrieveMultiple({ collection: "accounts", select: ["name"], filter: "startswith(name,'Env ')", orderBy: ["name"] });
      assert.deepEqual(rows.value.map((r) => r.name), [0, 1, 2].map((j) => `Env ${i} row ${j}`));
    }
  });

  it("runs a change set inside the environment", async () => {
    const { api } = envs[0];
    api.startBatch();
    api.create({ collection: "accounts", data: { name: "Env batch parent" }, contentId: "1" });
    api.create({ collection: "contacts", data: { lastname: "Env batch child", "parentcustomerid_account@odata.bind": "$1" } });
    const [accountId, contactId] = await api.executeBatch();
    assert.match(accountId, guidPattern);
    const contact = await api.retrieve({ collection: "contacts", key: contactId, select: ["_parentcustomerid_value"] });
    assert.equal(contact._parentcustomerid_value, accountId);
    await assert.rejects(envs[1].api.retrieve({ collection: "accounts", key: accountId }), (err) => err.status === 404);
  });

  it("pages with links into the environment", async () => {
    const { api, url } = envs[1];
    const page = await api.retrieveMultiple({ collection: "accounts", select: ["name"], maxPageSize: 2 });
    assert.equal(page.value.length, 2);
    assert.ok(page.oDataNextLink.startsWith(`${url}/api/data/v9.2/accounts?`), page.oDataNextLink);
    const all = await api.retrieveAll({ collection: "accounts", select: ["name"], maxPageSize: 2 });
    assert.ok(all.value.length > 2);
  });

  it("refuses a token asked for another environment", async () => {
    const wrong = new DynamicsWebApi({ serverUrl: `${envs[1].url}/`, dataApi: { version: "9.2" }, onTokenRefresh: async () => envs[0].token });
    await assert.rejects(wrong.callFunction("WhoAmI"), (err) => err.status === 401);
  });
});
