// Sales and service actions through callAction: QualifyLead (bound to a lead), WinOpportunity and
// Merge (unbound), the way a dynamics-web-api application calls them.

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";

import { Cleanup, guidPattern, newClient, tag } from "../lib/emulator.mjs";

describe("sales actions", () => {
  const api = newClient();
  const cleanup = new Cleanup(api);
  const t = tag();

  after(() => cleanup.run());

  it("qualifies a lead with the bound QualifyLead action", async () => {
    const leadId = cleanup.add("leads", await api.create({
      collection: "leads",
      data: { firstname: "Ada", lastname: `Lovelace ${t}`, companyname: `Engines ${t}`, subject: `Engine ${t}` },
    }));
    const res = await api.callAction({
      collection: "leads",
      key: leadId,
      actionName: "Microsoft.Dynamics.CRM.QualifyLead",
      action: { CreateAccount: true, CreateContact: false, CreateOpportunity: true, Status: 3 },
    });
    assert.match(res.oDataContext, /\$metadata#Microsoft\.Dynamics\.CRM\.QualifyLeadResponse$/);
    assert.equal(res.CreatedEntities.length, 2);
    const [account, opportunity] = res.CreatedEntities;
    assert.equal(account["@odata.type"], "#Microsoft.Dynamics.CRM.account");
    assert.match(account.accountid, guidPattern);
    assert.match(opportunity.opportunityid, guidPattern);
    cleanup.add("opportunities", opportunity.opportunityid);
    cleanup.add("accounts", account.accountid);
    const lead = await api.retrieve({ collection: "leads", key: leadId, select: ["statecode", "statuscode"] });
    assert.equal(lead.statecode, 1);
    assert.equal(lead.statuscode, 3);
  });

  it("wins an opportunity with WinOpportunity, and refuses to win it twice", async () => {
    const oppId = cleanup.add("opportunities", await api.create({ collection: "opportunities", data: { name: `Deal ${t}` } }));
    const win = {
      actionName: "WinOpportunity",
      action: { Status: 3, OpportunityClose: { subject: "Won", "opportunityid@odata.bind": `opportunities(${oppId})` } },
    };
    assert.equal(await api.callAction(win), undefined);
    const opp = await api.retrieve({ collection: "opportunities", key: oppId, select: ["statecode", "statuscode"] });
    assert.equal(opp.statecode, 1);
    assert.equal(opp.statuscode, 3);
    await assert.rejects(api.callAction(win), { status: 400, code: "0x80040515" });
  });

  it("merges two accounts with Merge", async () => {
    const target = cleanup.add("accounts", await api.create({ collection: "accounts", data: { name: `Target ${t}` } }));
    const sub = cleanup.add("accounts", await api.create({ collection: "accounts", data: { name: `Sub ${t}` } }));
    const ref = (id) => ({ "@odata.type": "Microsoft.Dynamics.CRM.account", accountid: id });
    await api.callAction({
      actionName: "Merge",
      action: { Target: ref(target), Subordinate: ref(sub), PerformParentingChecks: false },
    });
    const row = await api.retrieve({ collection: "accounts", key: sub, select: ["statecode", "merged", "_masterid_value"] });
    assert.equal(row.statecode, 1);
    assert.equal(row.merged, true);
    assert.equal(row._masterid_value, target);
  });
});
