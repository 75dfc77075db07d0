// Connection to a running dynlocal emulator, shared by the test files.
//
// The emulator's address and the development app's credentials come from the environment, so the
// same tests can be pointed at an emulator started by hand or by interop_test.go.

import { DynamicsWebApi } from "dynamics-web-api";

function required(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set; see interop/README.md for how to run these tests`);
  }
  return value;
}

// dynamics-web-api sends every request through $http_proxy/$https_proxy when they are set and
// ignores NO_PROXY, which would route loopback traffic to the proxy. Refuse to run rather than
// produce confusing proxy errors.
for (const name of ["http_proxy", "https_proxy"]) {
  if (process.env[name]) {
    throw new Error(`${name} is set; unset it, dynamics-web-api would send loopback requests through it`);
  }
}

/** Origin of the emulator, without a trailing slash (e.g. http://127.0.0.1:8080). */
export const serverUrl = required("DYNLOCAL_URL").replace(/\/+$/, "");
const tenant = required("DYNLOCAL_TENANT");
const clientId = required("DYNLOCAL_CLIENT_ID");
const clientSecret = required("DYNLOCAL_CLIENT_SECRET");

/** Base URL of the Web API as the library builds it. */
export const apiUrl = `${serverUrl}/api/data/v9.2/`;

/**
 * Gets an access token with the client-credentials grant, as a daemon app would from Entra ID.
 * The library never fetches tokens itself; it asks onTokenRefresh before each request.
 */
export async function getToken() {
  const res = await fetch(`${serverUrl}/${tenant}/oauth2/v2.0/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "client_credentials",
      client_id: clientId,
      client_secret: clientSecret,
      scope: `${serverUrl}/.default`,
    }),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  if (res.status !== 200) {
    throw new Error(`token endpoint answered ${res.status}: ${text}`);
  }
  return JSON.parse(text);
}

let tokenPromise;

/** Returns one cached access token for the whole test file. */
export function token() {
  tokenPromise ??= getToken().then((body) => body.access_token);
  return tokenPromise;
}

/** Builds a client the way an application would point it at Dataverse. */
export function newClient(config = {}) {
  return new DynamicsWebApi({
    serverUrl,
    dataApi: { version: "9.2" },
    timeout: 15_000,
    onTokenRefresh: token,
    ...config,
  });
}

/** A short random tag that keeps rows of concurrent test files and runs apart. */
export function tag() {
  return Math.random().toString(36).slice(2, 10);
}

/**
 * Registers created rows and deletes them when the test ends, whether it passed or not, so a
 * failing run leaves no rows behind in a long-lived emulator.
 */
export class Cleanup {
  #api;
  #rows = [];

  constructor(api) {
    this.#api = api;
  }

  /** Remembers a row to delete; returns the key for chaining. */
  add(collection, key) {
    this.#rows.push({ collection, key });
    return key;
  }

  /** Deletes every remembered row, newest first; rows already gone are fine. */
  async run() {
    const errors = [];
    for (const { collection, key } of this.#rows.reverse()) {
      try {
        await this.#api.deleteRecord({ collection, key });
      } catch (err) {
        if (err.status !== 404) {
          errors.push(`${collection}(${key}): ${err.status} ${err.message}`);
        }
      }
    }
    this.#rows = [];
    if (errors.length) {
      throw new Error(`cleanup failed: ${errors.join("; ")}`);
    }
  }
}

/** Matches a lower-case GUID. */
export const guidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Matches a weak ETag as Dataverse writes it: W/"<row version>". */
export const etagPattern = /^W\/"\d+"$/;
