// The library against service protection limits: an emulator started with --limits answers a
// burst beyond the request limit with Dataverse's 429; the library rejects with the status, the
// code and the Retry-After header, which is what a caller's retry needs, and after that wait the
// calls go through again. dynamics-web-api has no retry policy of its own.
//
// Runs only when DYNLOCAL_LIMITS is set (to the emulator's --limits value); interop_test.go runs this
// file that way against a second emulator.

import { describe, it } from "node:test";
import assert from "node:assert/strict";

import { newClient } from "../lib/emulator.mjs";

const skip = process.env.DYNLOCAL_LIMITS ? false : "DYNLOCAL_LIMITS is not set: start the emulator with --limits";

describe("service protection limits", { skip }, () => {
  const api = newClient();

  it("rejects a burst with 429 and Retry-After, and recovers after the wait", async () => {
    let refusal;
    for (let i = 0; i < 50 && !refusal; i++) {
      try {
        await api.callFunction("WhoAmI");
      } catch (err) {
        refusal = err;
      }
    }
    assert.ok(refusal, "50 calls in a burst were never throttled");
    assert.equal(refusal.status, 429);
    assert.equal(refusal.code, "0x80072322");
    assert.match(refusal.message, /^Number of requests exceeded the limit of \d+ over time window of \d+ seconds\.$/);
    const retryAfter = Number(refusal.headers?.["retry-after"]);
    assert.ok(retryAfter >= 1, `Retry-After ${refusal.headers?.["retry-after"]}`);

    // What a caller's retry does: wait as told, then call again.
    await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000));
    const me = await api.callFunction("WhoAmI");
    assert.ok(me.UserId);
  });
});
