// Custom APIs: defined through the Web API with deep insert, implemented by a webhook step at the
// main operation stage (30), called with callAction and callFunction.

import http from "node:http";
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";

import { Cleanup, newClient, tag } from "../lib/emulator.mjs";

// startHook answers every webhook call with answer(context), the execution context decoded.
function startHook(answer) {
  const calls = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      const ctx = JSON.parse(body);
      calls.push(ctx);
      const { status, json } = answer(ctx);
      res.writeHead(status, { "Content-Type": "application/json" });
      res.end(JSON.stringify(json));
    });
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => resolve({ server, calls, url: `http://127.0.0.1:${server.address().port}/hook` }));
  });
}

// inputs turns the context's key/value list into an object.
const inputs = (ctx) => Object.fromEntries(ctx.InputParameters.map((p) => [p.key, p.value]));

describe("custom APIs", () => {
  const api = newClient();
  const cleanup = new Cleanup(api);
  const t = tag();
  const name = `interop_Greet${t}`;
  const bound = `interop_Rank${t}`;
  let hook;

  before(async () => {
    hook = await startHook((ctx) => {
      const input = inputs(ctx);
      if (ctx.MessageName === bound) {
        return { status: 200, json: { OutputParameters: [{ key: "Rank", value: 7 }] } };
      }
      if (input.Name === "nobody") {
        return { status: 400, json: { message: "Nobody cannot be greeted." } };
      }
      return {
        status: 200,
        json: {
          OutputParameters: [
            { key: "Greeting", value: `Hello, ${input.Name}!` },
            { key: "Count", value: (input.Times ?? 1) * 2 },
          ],
        },
      };
    });

    // The custom API and its parameters in one request, as makers create them.
    await api.create({
      collection: "customapis",
      data: {
        uniquename: name, name, displayname: name, description: "interop", bindingtype: 0, isfunction: false,
        CustomAPIRequestParameters: [
          { uniquename: "Name", name: "Name", displayname: "Name", description: "d", type: 10, isoptional: false },
          { uniquename: "Times", name: "Times", displayname: "Times", description: "d", type: 7, isoptional: true },
        ],
        CustomAPIResponseProperties: [
          { uniquename: "Greeting", name: "Greeting", displayname: "Greeting", description: "d", type: 10 },
          { uniquename: "Count", name: "Count", displayname: "Count", description: "d", type: 7 },
        ],
      },
    });
    await api.create({
      collection: "customapis",
      data: {
        uniquename: bound, name: bound, displayname: bound, description: "interop", bindingtype: 1,
        boundentitylogicalname: "account", isfunction: true,
        CustomAPIResponseProperties: [{ uniquename: "Rank", name: "Rank", displayname: "Rank", description: "d", type: 7 }],
      },
    });

    const endpoint = cleanup.add("serviceendpoints", await api.create({
      collection: "serviceendpoints",
      data: { name: `interop ${t}`, contract: 8, url: hook.url, authtype: 5, authvalue: "", messageformat: 2 },
    }));
    for (const message of [name, bound]) {
      const msgs = await api.retrieveMultiple({ collection: "sdkmessages", select: ["name"], filter: `name eq '${message}'` });
      assert.equal(msgs.value.length, 1, "creating the custom API creates its message");
      cleanup.add("sdkmessageprocessingsteps", await api.create({
        collection: "sdkmessageprocessingsteps",
        data: {
          name: `main ${message}`, stage: 30, mode: 0, rank: 1, supporteddeployment: 0,
          "sdkmessageid@odata.bind": `/sdkmessages(${msgs.value[0].sdkmessageid})`,
          "eventhandler_serviceendpoint@odata.bind": `/serviceendpoints(${endpoint})`,
        },
      }));
    }
  });

  after(async () => {
    await cleanup.run();
    hook?.server.close();
  });

  it("calls an unbound action with callAction and answers the webhook's output parameters", async () => {
    const res = await api.callAction({ actionName: name, action: { Name: "Ada", Times: 3 } });
    assert.equal(res.Greeting, "Hello, Ada!");
    assert.equal(res.Count, 6);
    const ctx = hook.calls.at(-1);
    assert.equal(ctx.MessageName, name);
    assert.equal(ctx.Stage, 30);
    assert.deepEqual(inputs(ctx), { Name: "Ada", Times: 3 });
  });

  it("refuses a call without a required parameter", async () => {
    await assert.rejects(api.callAction({ actionName: name, action: { Times: 1 } }), (err) => {
      assert.equal(err.status, 400);
      assert.match(err.message, /The parameter 'Name' of the operation '.*' is required/);
      return true;
    });
  });

  it("fails the call with the main operation's message", async () => {
    await assert.rejects(api.callAction({ actionName: name, action: { Name: "nobody" } }), (err) => {
      assert.equal(err.status, 400);
      assert.equal(err.message, "Nobody cannot be greeted.");
      return true;
    });
  });

  it("calls a function bound to a row with callFunction", async () => {
    const id = cleanup.add("accounts", await api.create({ collection: "accounts", data: { name: `Ranked ${t}` } }));
    const res = await api.callFunction({ name: `Microsoft.Dynamics.CRM.${bound}`, collection: "accounts", key: id });
    assert.equal(res.Rank, 7);
    const ctx = hook.calls.at(-1);
    assert.equal(ctx.PrimaryEntityName, "account");
    assert.equal(inputs(ctx).Target.Id, id);
  });
});

// The same with the main operation written in Go (client/webhook.NewOperationReceiver), which
// interop_test.go serves and names in DYNLOCAL_GO_OPERATION_URL.
const goOperation = process.env.DYNLOCAL_GO_OPERATION_URL;

describe("a custom API implemented by a Go webhook receiver", { skip: goOperation ? false : "DYNLOCAL_GO_OPERATION_URL is not set" }, () => {
  const api = newClient();
  const cleanup = new Cleanup(api);
  const name = `interop_Shout${tag()}`;

  before(async () => {
    await api.create({
      collection: "customapis",
      data: {
        uniquename: name, name, displayname: name, description: "interop", bindingtype: 0, isfunction: false,
        CustomAPIRequestParameters: [{ uniquename: "Text", name: "Text", displayname: "Text", description: "d", type: 10, isoptional: false }],
        CustomAPIResponseProperties: [{ uniquename: "Shouted", name: "Shouted", displayname: "Shouted", description: "d", type: 10 }],
      },
    });
    const endpoint = cleanup.add("serviceendpoints", await api.create({
      collection: "serviceendpoints",
      data: {
        name: `go ${name}`, contract: 8, url: goOperation, authtype: 5, messageformat: 2,
        authvalue: '<settings><setting name="x-shout-key" value="interop" /></settings>',
      },
    }));
    const msgs = await api.retrieveMultiple({ collection: "sdkmessages", select: ["name"], filter: `name eq '${name}'` });
    cleanup.add("sdkmessageprocessingsteps", await api.create({
      collection: "sdkmessageprocessingsteps",
      data: {
        name: `main ${name}`, stage: 30, mode: 0, rank: 1, supporteddeployment: 0,
        "sdkmessageid@odata.bind": `/sdkmessages(${msgs.value[0].sdkmessageid})`,
        "eventhandler_serviceendpoint@odata.bind": `/serviceendpoints(${endpoint})`,
      },
    }));
  });

  after(() => cleanup.run());

  it("answers what the Go handler returned", async () => {
    const res = await api.callAction({ actionName: name, action: { Text: "hello" } });
    assert.equal(res.Shouted, "HELLO");
  });

  it("fails the call with the Go handler's message", async () => {
    await assert.rejects(api.callAction({ actionName: name, action: { Text: "" } }), (err) => {
      assert.equal(err.status, 400);
      assert.match(err.message, /Nothing to shout\./);
      return true;
    });
  });
});
