// File columns through the library's uploadFile and downloadFile: a File column created on account
// with createAttribute, a file uploaded in chunks (x-ms-transfer-mode: chunked, then Content-Range
// PATCHes to the Location) and downloaded back by ranges.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";

import { Cleanup, guidPattern, newClient, tag } from "../lib/emulator.mjs";

const crm = "Microsoft.Dynamics.CRM.";

describe("file columns", () => {
  const api = newClient();
  const rows = new Cleanup(api);
  const t = tag();
  const schemaName = `new_IopFile${t}`;
  const column = schemaName.toLowerCase();
  let columnId;
  let accountId;

  before(async () => {
    columnId = await api.createAttribute({
      entityKey: "LogicalName='account'",
      data: {
        "@odata.type": `${crm}FileAttributeMetadata`,
        SchemaName: schemaName,
        MaxSizeInKB: 20480,
        DisplayName: { "@odata.type": `${crm}Label`, LocalizedLabels: [{ "@odata.type": `${crm}LocalizedLabel`, Label: "Interop File", LanguageCode: 1033 }] },
        RequiredLevel: { Value: "None" },
      },
    });
    accountId = rows.add("accounts", await api.create({ collection: "accounts", data: { name: `Interop files ${t}` } }));
  });

  after(async () => {
    await rows.run();
    if (typeof columnId === "string") {
      await api.deleteRecord({ collection: "EntityDefinitions", key: "LogicalName='account'", navigationProperty: "Attributes", navigationPropertyKey: columnId });
    }
  });

  it("creates the column", () => {
    assert.match(columnId, guidPattern);
  });

  for (const [name, size] of [["a small file", 1000], ["a file of several chunks", 9 * 1024 * 1024 + 12345]]) {
    it(`uploads and downloads ${name}`, async () => {
      const data = Buffer.alloc(size);
      for (let i = 0; i < size; i++) {
        data[i] = (i * 7) % 251;
      }
      await api.uploadFile({ collection: "accounts", key: accountId, property: column, fileName: `interop-${size}.bin`, data });
      const got = await api.downloadFile({ collection: "accounts", key: accountId, property: column });
      assert.equal(got.fileName, `interop-${size}.bin`);
      assert.equal(got.fileSize, size);
      assert.equal(Buffer.compare(Buffer.from(got.data), data), 0, "the downloaded bytes are the uploaded ones");
    });
  }

  it("shows the file's name on the row", async () => {
    const row = await api.retrieve({ collection: "accounts", key: accountId, select: [column, `${column}_name`] });
    assert.match(row[column], guidPattern);
    assert.equal(row[`${column}_name`], `interop-${9 * 1024 * 1024 + 12345}.bin`);
  });
});
