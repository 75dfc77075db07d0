// Table and column metadata as the library reads and writes it: retrieveEntity (by LogicalName and
// by MetadataId, select, expand Attributes), retrieveEntities, retrieveAttributes (with and without
// castType), retrieveAttribute, createAttribute, updateAttribute with mergeLabels, a row written to
// the new column, deleting the column, retrieveCsdlMetadata, useEntityNames, RetrieveTotalRecordCount
// and PublishXml.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";

import { Cleanup, guidPattern, newClient, tag } from "../lib/emulator.mjs";

const crm = "Microsoft.Dynamics.CRM.";

/** A Label as a client posts it: one LocalizedLabel per [text, language] pair. */
function label(...pairs) {
  return {
    "@odata.type": `${crm}Label`,
    LocalizedLabels: pairs.map(([text, lang]) => ({ "@odata.type": `${crm}LocalizedLabel`, Label: text, LanguageCode: lang })),
  };
}

/** The texts of a Label by language code. */
function texts(lbl) {
  return Object.fromEntries((lbl?.LocalizedLabels ?? []).map((l) => [l.LanguageCode, l.Label]));
}

describe("table metadata", () => {
  const api = newClient();
  let accountId;

  it("retrieveEntity by LogicalName with select", async () => {
    const table = await api.retrieveEntity({
      key: "LogicalName='account'",
      select: ["LogicalName", "EntitySetName", "PrimaryIdAttribute", "PrimaryNameAttribute", "ObjectTypeCode", "DisplayName"],
    });
    assert.equal(table.LogicalName, "account");
    assert.equal(table.EntitySetName, "accounts");
    assert.equal(table.PrimaryIdAttribute, "accountid");
    assert.equal(table.PrimaryNameAttribute, "name");
    assert.equal(table.ObjectTypeCode, 1);
    assert.equal(table.DisplayName.UserLocalizedLabel.Label, "Account");
    assert.match(table.MetadataId, guidPattern, "MetadataId comes back although it was not selected");
    assert.equal("SchemaName" in table, false, "unselected properties stay out");
    assert.match(table.oDataContext, /\$metadata#EntityDefinitions\(LogicalName,EntitySetName,PrimaryIdAttribute,PrimaryNameAttribute,ObjectTypeCode,DisplayName\)\/\$entity$/);
    accountId = table.MetadataId;
  });

  it("retrieveEntity by MetadataId with its columns expanded", async () => {
    const table = await api.retrieveEntity({
      key: accountId,
      select: ["LogicalName"],
      expand: [{ property: "Attributes", select: ["LogicalName", "AttributeType"] }],
    });
    assert.equal(table.LogicalName, "account");
    assert.equal(table.MetadataId, accountId);
    const byName = Object.fromEntries(table.Attributes.map((a) => [a.LogicalName, a]));
    assert.equal(byName.name.AttributeType, "String");
    assert.equal(byName.name["@odata.type"], `#${crm}StringAttributeMetadata`);
    assert.equal(byName.revenue.AttributeType, "Money");
    assert.equal(byName.ownerid.AttributeType, "Owner");
    assert.equal(byName.ownerid["@odata.type"], `#${crm}LookupAttributeMetadata`);
    assert.match(byName.accountid.MetadataId, guidPattern);
  });

  it("retrieveEntities with select and filter", async () => {
    const res = await api.retrieveEntities({
      select: ["LogicalName", "EntitySetName", "IsCustomEntity"],
      filter: "LogicalName eq 'account' or LogicalName eq 'contact'",
    });
    const tables = res.value.map((e) => [e.LogicalName, e.EntitySetName, e.IsCustomEntity]).sort();
    assert.deepEqual(tables, [["account", "accounts", false], ["contact", "contacts", false]]);
    assert.equal(res.oDataNextLink, undefined, "metadata is never paged");
  });

  it("retrieveEntities with an enum literal in the filter", async () => {
    const res = await api.retrieveEntities({
      select: ["LogicalName", "OwnershipType"],
      filter: `OwnershipType eq ${crm}OwnershipTypes'OrganizationOwned' and LogicalName eq 'transactioncurrency'`,
    });
    assert.deepEqual(res.value.map((e) => [e.LogicalName, e.OwnershipType]), [["transactioncurrency", "OrganizationOwned"]]);
  });

  it("useEntityNames looks entity set names up in EntityDefinitions", async () => {
    // The first call of such a client reads EntityDefinitions?$select=EntitySetName,LogicalName.
    const named = newClient({ useEntityNames: true });
    const res = await named.retrieveMultiple({ collection: "account", select: ["name"], top: 1 });
    assert.match(res.oDataContext, /\$metadata#accounts\(name\)$/);
  });

  it("rejects an unknown table with 404", async () => {
    await assert.rejects(api.retrieveEntity({ key: "LogicalName='new_nosuchtable'", select: ["LogicalName"] }), (err) => {
      assert.equal(err.status, 404);
      assert.equal(err.code, "0x80040217");
      assert.match(err.message, /new_nosuchtable/);
      return true;
    });
  });
});

describe("column metadata", () => {
  const api = newClient();

  it("retrieveAttributes without castType: every column says its type", async () => {
    const res = await api.retrieveAttributes({
      entityKey: "LogicalName='account'",
      select: ["LogicalName", "AttributeType"],
      filter: "LogicalName eq 'name' or LogicalName eq 'revenue' or LogicalName eq 'accountcategorycode'",
    });
    const got = res.value.map((a) => [a.LogicalName, a.AttributeType, a["@odata.type"]]).sort();
    assert.deepEqual(got, [
      ["accountcategorycode", "Picklist", `#${crm}PicklistAttributeMetadata`],
      ["name", "String", `#${crm}StringAttributeMetadata`],
      ["revenue", "Money", `#${crm}MoneyAttributeMetadata`],
    ]);
  });

  it("retrieveAttributes with castType selects type-specific properties", async () => {
    const res = await api.retrieveAttributes({
      entityKey: "LogicalName='account'",
      castType: `${crm}MoneyAttributeMetadata`,
      select: ["LogicalName", "Precision", "PrecisionSource"],
    });
    const revenue = res.value.find((a) => a.LogicalName === "revenue");
    assert.ok(revenue, `revenue among ${res.value.map((a) => a.LogicalName)}`);
    assert.equal(revenue.Precision, 2);
    assert.equal(revenue.PrecisionSource, 2);
    assert.ok(!res.value.some((a) => a.LogicalName === "name"), "the cast keeps only Money columns");
    assert.match(res.oDataContext, /Attributes\/Microsoft\.Dynamics\.CRM\.MoneyAttributeMetadata\(LogicalName,Precision,PrecisionSource\)$/);
  });

  it("retrieveAttribute with castType and the option set expanded", async () => {
    const col = await api.retrieveAttribute({
      entityKey: "LogicalName='account'",
      attributeKey: "LogicalName='accountcategorycode'",
      castType: `${crm}PicklistAttributeMetadata`,
      select: ["LogicalName", "AttributeType"],
      expand: [{ property: "OptionSet", select: ["Name", "Options"] }],
    });
    assert.equal(col.LogicalName, "accountcategorycode");
    assert.equal(col.OptionSet.Name, "account_accountcategorycode");
    assert.deepEqual(col.OptionSet.Options.map((o) => [o.Value, o.Label.UserLocalizedLabel.Label]), [[1, "Preferred Customer"], [2, "Standard"]]);
  });

  it("rejects an unknown column and a cast to another type with 404", async () => {
    await assert.rejects(api.retrieveAttribute({ entityKey: "LogicalName='account'", attributeKey: "LogicalName='new_nosuchcolumn'" }), {
      status: 404,
      code: "0x80040217",
    });
    await assert.rejects(api.retrieveAttribute({
      entityKey: "LogicalName='account'",
      attributeKey: "LogicalName='name'",
      castType: `${crm}MoneyAttributeMetadata`,
    }), { status: 404, code: "0x80040217" });
  });
});

describe("a new Money column", () => {
  const api = newClient();
  const rows = new Cleanup(api);
  const t = tag();
  const schemaName = `new_InteropBalance${t}`;
  const logicalName = schemaName.toLowerCase();
  const cast = `${crm}MoneyAttributeMetadata`;
  let columnId;
  let deleted = false;

  /** Deletes the column as the library can: deleteRecord on EntityDefinitions with the Attributes navigation. */
  const deleteColumn = (id) => api.deleteRecord({
    collection: "EntityDefinitions",
    key: "LogicalName='account'",
    navigationProperty: "Attributes",
    navigationPropertyKey: id,
  });

  before(async () => {
    columnId = await api.createAttribute({
      entityKey: "LogicalName='account'",
      data: {
        "@odata.type": cast,
        AttributeType: "Money",
        AttributeTypeName: { Value: "MoneyType" },
        SchemaName: schemaName,
        DisplayName: label(["Interop Balance", 1033]),
        Description: label(["Created by the dynamics-web-api interop tests", 1033]),
        RequiredLevel: { Value: "None", CanBeChanged: true, ManagedPropertyLogicalName: "canmodifyrequirementlevelsettings" },
        PrecisionSource: 2,
      },
    });
  });

  after(async () => {
    // Rows first, then the column, whether the tests passed or not.
    await rows.run();
    if (!deleted && typeof columnId === "string") {
      try {
        await deleteColumn(columnId);
      } catch (err) {
        if (err.status !== 404) {
          throw err;
        }
      }
    }
  });

  it("createAttribute returns the new column's id", () => {
    assert.match(columnId, guidPattern);
  });

  it("retrieveAttribute by id with castType reads it back", async () => {
    const col = await api.retrieveAttribute({
      entityKey: "LogicalName='account'",
      attributeKey: columnId,
      castType: cast,
      select: ["LogicalName", "SchemaName", "AttributeType", "PrecisionSource", "IsCustomAttribute", "DisplayName"],
    });
    assert.equal(col.MetadataId, columnId);
    assert.equal(col.LogicalName, logicalName);
    assert.equal(col.SchemaName, schemaName);
    assert.equal(col.AttributeType, "Money");
    assert.equal(col.PrecisionSource, 2);
    assert.equal(col.IsCustomAttribute, true);
    assert.deepEqual(texts(col.DisplayName), { 1033: "Interop Balance" });
  });

  it("the new column is in the castType listing", async () => {
    const res = await api.retrieveAttributes({
      entityKey: "LogicalName='account'",
      castType: cast,
      select: ["LogicalName"],
      filter: `LogicalName eq '${logicalName}'`,
    });
    assert.deepEqual(res.value.map((a) => a.MetadataId), [columnId]);
  });

  it("updateAttribute with mergeLabels keeps the other languages", async () => {
    // As the Dataverse docs say: read the whole definition with its cast, change it, PUT it back.
    // The library sends the object as it is, @odata.context included.
    const def = await api.retrieveAttribute({ entityKey: "LogicalName='account'", attributeKey: columnId, castType: cast });
    def.DisplayName = label(["Solde interop", 1036]);
    const result = await api.updateAttribute({ entityKey: "LogicalName='account'", data: def, castType: cast, mergeLabels: true });
    assert.equal(result, true);
    const after = await api.retrieveAttribute({
      entityKey: "LogicalName='account'",
      attributeKey: columnId,
      castType: cast,
      select: ["DisplayName", "Description", "PrecisionSource"],
    });
    assert.deepEqual(texts(after.DisplayName), { 1033: "Interop Balance", 1036: "Solde interop" });
    assert.equal(after.DisplayName.UserLocalizedLabel.Label, "Interop Balance", "the user's language is still 1033");
    assert.deepEqual(texts(after.Description), { 1033: "Created by the dynamics-web-api interop tests" });
    assert.equal(after.PrecisionSource, 2);
  });

  it("a row takes a value in the new column at once", async () => {
    const id = rows.add("accounts", await api.create({
      collection: "accounts",
      data: { name: `Metadata ${t}`, [logicalName]: 1234.5 },
    }));
    const row = await api.retrieve({
      collection: "accounts",
      key: id,
      select: ["name", logicalName],
      includeAnnotations: "OData.Community.Display.V1.FormattedValue",
    });
    assert.equal(row[logicalName], 1234.5);
    assert.equal(row[`${logicalName}_Formatted`], "$1,234.50", "formatted in the currency's precision");
    assert.match(row._transactioncurrencyid_value, guidPattern, "a Money column brings the row's currency");
    const found = await api.retrieveMultiple({
      collection: "accounts",
      select: ["name"],
      filter: `${logicalName} ge 1000 and name eq 'Metadata ${t}'`,
    });
    assert.deepEqual(found.value.map((r) => r.accountid), [id]);
  });

  it("retrieveCsdlMetadata returns the XML document, with the new column", async () => {
    const xml = await api.retrieveCsdlMetadata();
    assert.equal(typeof xml, "string");
    assert.match(xml, /^<\?xml version="1\.0" encoding="utf-8"\?>\s*<edmx:Edmx Version="4\.0"/);
    assert.match(xml, /<\/edmx:Edmx>\s*$/);
    const account = xml.match(/<EntityType Name="account"[^>]*>([\s\S]*?)<\/EntityType>/);
    assert.ok(account, "the account entity type");
    assert.match(account[1], new RegExp(`<Property Name="${logicalName}" Type="Edm\\.Decimal"`));
    assert.match(xml, /<EntitySet Name="accounts" EntityType="(?:Microsoft\.Dynamics\.CRM|mscrm)\.account"/);
  });

  it("deleteRecord on EntityDefinitions/Attributes deletes the column and its data", async () => {
    assert.equal(await deleteColumn(columnId), true);
    deleted = true;
    await assert.rejects(api.retrieveAttribute({ entityKey: "LogicalName='account'", attributeKey: columnId }), { status: 404, code: "0x80040217" });
    await assert.rejects(api.retrieveMultiple({ collection: "accounts", select: ["name", logicalName], top: 1 }), (err) => {
      assert.equal(err.status, 400);
      assert.equal(err.message, `Could not find a property named '${logicalName}' on type 'Microsoft.Dynamics.CRM.account'.`);
      return true;
    });
  });
});

describe("metadata functions", () => {
  const api = newClient();

  it("callFunction RetrieveTotalRecordCount with an array parameter", async () => {
    const res = await api.callFunction({ name: "RetrieveTotalRecordCount", parameters: { EntityNames: ["account", "contact"] } });
    const counts = res.EntityRecordCountCollection;
    assert.equal(counts.Count, 2);
    assert.deepEqual(counts.Keys, ["account", "contact"]);
    assert.equal(counts.Values.length, 2);
    for (const n of counts.Values) {
      assert.ok(Number.isInteger(n) && n >= 0, `count ${n}`);
    }
    assert.match(res.oDataContext, /\$metadata#Microsoft\.Dynamics\.CRM\.RetrieveTotalRecordCountResponse$/);
  });

  it("callAction PublishXml resolves", async () => {
    const res = await api.callAction({
      actionName: "PublishXml",
      action: { ParameterXml: "<importexportxml><entities><entity>account</entity></entities></importexportxml>" },
    });
    assert.equal(res, undefined);
  });
});
