// The dynlocal console: one page that shows what the emulator holds and what it was asked, read
// through the emulator's own admin API (../session, ../requests, ...) and its Web API (with the
// development user's token the session hands out). Plain DOM code, no library and no build step.
// Every value from the server goes into the page as text (textContent, attributes), never as HTML.
"use strict";

const TOKEN_KEY = "dynlocal.adminToken";
const FORMATTED = "@OData.Community.Display.V1.FormattedValue";
const LOOKUP_TABLE = "@Microsoft.Dynamics.CRM.lookuplogicalname";
const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const NAME = /^[A-Za-z0-9_]+$/;
const LOOKUP_TYPES = new Set(["Lookup", "Customer", "Owner"]);
const CHOICE_CASTS = {
  Picklist: "PicklistAttributeMetadata",
  State: "StateAttributeMetadata",
  Status: "StatusAttributeMetadata",
  MultiSelectPicklist: "MultiSelectPicklistAttributeMetadata",
};
// Column types a form can edit as text, numbers, choices or lookups.
const EDITABLE_TYPES = new Set(["String", "Memo", "Integer", "BigInt", "Decimal", "Double", "Money",
  "Boolean", "Picklist", "State", "Status", "MultiSelectPicklist", "DateTime", "Lookup", "Customer",
  "Owner", "Uniqueidentifier"]);
// Columns every table has that say little about a row; the grid shows other columns first.
const SYSTEM_COLUMNS = new Set(["createdby", "createdon", "createdonbehalfby", "modifiedby", "modifiedon",
  "modifiedonbehalfby", "ownerid", "owninguser", "owningteam", "owningbusinessunit", "versionnumber",
  "importsequencenumber", "overriddencreatedon", "timezoneruleversionnumber", "utcconversiontimezonecode",
  "statecode", "statuscode", "exchangerate", "transactioncurrencyid", "processid", "stageid", "traversedpath",
  "organizationid"]);
const POLL_MS = 2000;
const MAX_JOURNAL_ROWS = 200;

// ---------------------------------------------------------------------------------------------
// DOM helpers

const $ = (sel, root = document) => root.querySelector(sel);

// h creates an element. props: class, text, testid, on<event> handlers, and attributes; value,
// checked and selected are set as properties once the children are in.
function h(tag, props, ...children) {
  const e = document.createElement(tag);
  const late = {};
  for (const [k, v] of Object.entries(props || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k === "testid") e.dataset.testid = v;
    else if (k === "dataset") Object.assign(e.dataset, v);
    else if (k.startsWith("on") && typeof v === "function") e.addEventListener(k.slice(2), v);
    else if (k === "value" || k === "checked" || k === "selected") late[k] = v;
    else if (k === "hidden" || k === "disabled" || k === "required" || k === "readOnly" || k === "multiple") e[k] = Boolean(v);
    else e.setAttribute(k, v === true ? "" : String(v));
  }
  add(e, children);
  Object.assign(e, late);
  return e;
}

function add(parent, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    parent.append(c instanceof Node ? c : String(c));
  }
  return parent;
}

let uid = 0;
const newID = (prefix) => `${prefix}-${++uid}`;

// field wraps a control with its label; hint, when given, is tied to the control.
function field(labelText, control, hint) {
  if (!control.id) control.id = newID("f");
  const parts = [h("label", {for: control.id, text: labelText}), control];
  if (hint) {
    const hid = newID("hint");
    control.setAttribute("aria-describedby", hid);
    parts.push(h("small", {id: hid, class: "hint", text: hint}));
  }
  return h("div", {class: "field"}, parts);
}

function select(props, options, value) {
  const s = h("select", props, options.map(([v, t]) => h("option", {value: v, text: t})));
  if (value !== undefined) s.value = value;
  return s;
}

function th(text, props) {
  return h("th", Object.assign({scope: "col", text}, props || {}));
}

// table builds a data table inside a horizontally scrolling region that keyboard users can reach.
function dataTable(props, caption, headers, body) {
  const table = h("table", Object.assign({class: "grid"}, props),
    caption ? h("caption", {text: caption}) : null,
    h("thead", {}, h("tr", {}, headers.map((x) => (x instanceof Node ? x : th(x))))),
    body);
  return h("div", {class: "scroll", tabindex: "0", role: "region", "aria-label": caption || "table"}, table);
}

function code(text) {
  return h("code", {text});
}

function label(l) {
  if (!l) return "";
  if (typeof l === "string") return l;
  return (l.UserLocalizedLabel && l.UserLocalizedLabel.Label) ||
    (l.LocalizedLabels && l.LocalizedLabels[0] && l.LocalizedLabels[0].Label) || "";
}

function formatTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (isNaN(d)) return String(iso);
  return d.toLocaleString(undefined, {hour12: false});
}

// when shows a time as the time of day (with the date when it is not today), in a <time>.
function when(iso) {
  const d = new Date(iso);
  if (!iso || isNaN(d)) return h("span", {text: iso ? String(iso) : ""});
  const p2 = (n) => String(n).padStart(2, "0");
  let text = `${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, "0")}`;
  if (d.toDateString() !== new Date().toDateString()) text = `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())} ${text}`;
  return h("time", {datetime: d.toISOString(), text});
}

// userName resolves a systemuserid to the user's name (cached); the id when it cannot.
const userNames = new Map();
function userName(id) {
  if (!GUID.test(id)) return Promise.resolve(id);
  if (!userNames.has(id)) {
    userNames.set(id, api(`systemusers(${id})?$select=fullname`, {annotations: false})
      .then(({data}) => data.fullname || id)
      .catch(() => id));
  }
  return userNames.get(id);
}

function userCell(id) {
  const span = h("span", {class: "caller", dataset: {user: id}, text: id});
  userName(id).then((n) => {
    span.textContent = n;
  });
  return span;
}

function pretty(text) {
  if (!text) return "";
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

function busy(el, on) {
  if (on) el.setAttribute("aria-busy", "true");
  else el.removeAttribute("aria-busy");
}

// announce puts a message in the polite live region (and on screen, briefly).
let announceTimer = 0;
function announce(msg) {
  const s = $("#status");
  s.textContent = msg;
  s.classList.add("shown");
  clearTimeout(announceTimer);
  announceTimer = setTimeout(() => s.classList.remove("shown"), 6000);
}

// ---------------------------------------------------------------------------------------------
// Errors

// ApiError is an answer that was not a success, with Dataverse's error code and message when the
// body has the error envelope.
class ApiError extends Error {
  constructor(status, statusText, code, message) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.statusText = statusText;
    this.code = code;
  }
}

async function readError(res) {
  const text = await res.text().catch(() => "");
  let codeText = "";
  let message = "";
  try {
    const body = JSON.parse(text);
    if (body && body.error) {
      codeText = body.error.code || "";
      message = body.error.message || "";
    }
  } catch {
    // not JSON: the text is the message
  }
  if (!message && res.status === 401 && res.headers.get("WWW-Authenticate")) {
    // The Web API's 401 has no body; its header says which authority and resource it wanted.
    message = `The access token was refused. WWW-Authenticate: ${res.headers.get("WWW-Authenticate")}`;
  }
  if (!message) message = text.trim() || res.statusText || `HTTP ${res.status}`;
  return new ApiError(res.status, res.statusText, codeText, message);
}

// errorBox shows an error as the server gave it: status, code and message.
function errorBox(err, testid) {
  const box = h("div", {class: "error", role: "alert", testid});
  if (err instanceof ApiError) {
    box.append(h("p", {class: "error-head"},
      h("strong", {text: `HTTP ${err.status}${err.statusText ? " " + err.statusText : ""}`}),
      err.code ? [" — code ", h("code", {testid: testid ? testid + "-code" : null, text: err.code})] : null));
  }
  box.append(h("p", {class: "error-message", testid: testid ? testid + "-message" : null,
    text: (err && err.message) || String(err)}));
  return box;
}

// slot is a place for an error: show(err) replaces what it shows, show(null) empties it.
function errorSlot(testid) {
  const el = h("div", {class: "error-slot", testid: testid});
  return {
    el,
    show(err) {
      el.replaceChildren();
      if (err) el.append(errorBox(err, testid ? testid + "-box" : null));
    },
  };
}

const aborted = (e) => e && e.name === "AbortError";

// ---------------------------------------------------------------------------------------------
// The admin API and the admin token

function adminURL(path, root) {
  return root ? new URL(path, location.origin) : new URL("../" + path, location.href);
}

// admin calls the admin API, asking for the admin token when the emulator wants one.
async function admin(path, opts = {}) {
  const {method = "GET", body, signal, root = false} = opts;
  for (;;) {
    const headers = {Accept: "application/json"};
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) headers.Authorization = "Bearer " + token;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const res = await fetch(adminURL(path, root), {
      method, headers, signal, cache: "no-store",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (res.status === 401 && (res.headers.get("WWW-Authenticate") || "").includes("dynlocal admin")) {
      const now = sessionStorage.getItem(TOKEN_KEY);
      if (now && now !== token) continue; // someone signed in meanwhile
      if (token) {
        sessionStorage.removeItem(TOKEN_KEY);
        await signIn("That admin token was not accepted. Enter the value the emulator was started with.");
      } else {
        await signIn("");
      }
      continue;
    }
    if (!res.ok) throw await readError(res);
    if (res.status === 204) return null;
    const type = res.headers.get("Content-Type") || "";
    return type.includes("json") ? res.json() : res.text();
  }
}

let signInWaiters = null;

// signIn shows the sign-in form and resolves once a token was entered.
function signIn(message) {
  const section = $("#signin");
  const err = $("#signin-error");
  const wasHidden = section.hidden;
  section.hidden = false;
  $("#view").hidden = true;
  err.hidden = !message;
  err.textContent = message || "";
  const input = $("#signin-token");
  if (message) input.setAttribute("aria-invalid", "true");
  else input.removeAttribute("aria-invalid");
  if (wasHidden || message) {
    input.value = "";
    input.focus();
  }
  if (!signInWaiters) signInWaiters = [];
  return new Promise((resolve) => signInWaiters.push(resolve));
}

function setupSignIn() {
  $("#signin-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const input = $("#signin-token");
    const value = input.value.trim();
    if (!value) {
      const err = $("#signin-error");
      err.textContent = "Enter the admin token.";
      err.hidden = false;
      input.setAttribute("aria-invalid", "true");
      input.focus();
      return;
    }
    sessionStorage.setItem(TOKEN_KEY, value);
    input.value = "";
    $("#signin").hidden = true;
    $("#view").hidden = false;
    $("#admin-signout").hidden = false;
    const waiters = signInWaiters || [];
    signInWaiters = null;
    waiters.forEach((resolve) => resolve());
    const heading = $("#view h1");
    if (heading) heading.focus();
  });
  $("#admin-signout").hidden = !sessionStorage.getItem(TOKEN_KEY);
  $("#admin-signout").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    location.reload();
  });
}

// ---------------------------------------------------------------------------------------------
// The session: where the Web API is and a token for it

let session = null;
let sessionPromise = null;
let sessionTimer = 0;

function loadSession() {
  if (!sessionPromise) {
    sessionPromise = admin("session")
      .then((s) => {
        session = s;
        session.loadedAt = Date.now();
        showWho();
        scheduleRefresh();
        return s;
      })
      .finally(() => {
        sessionPromise = null;
      });
  }
  return sessionPromise;
}

// scheduleRefresh fetches a new token two minutes before this one expires (or at three
// quarters of a short lifetime).
function scheduleRefresh() {
  clearTimeout(sessionTimer);
  const life = Number(session.expiresIn) || 3600;
  const secs = life > 300 ? life - 120 : Math.max(5, life * 0.75);
  sessionTimer = setTimeout(() => {
    loadSession().catch((e) => announce("Could not renew the access token: " + e.message));
  }, Math.min(secs * 1000, 2 ** 31 - 1));
}

function showWho() {
  const where = $("#where");
  where.replaceChildren();
  add(where, [session.environment ? ["Environment ", h("strong", {text: session.environment})] : "Default organization",
    " · ", h("span", {class: "url", text: session.organizationUrl})]);
  const u = session.user || {};
  $("#who").textContent = u.name ? `Signed in to the Web API as ${u.name} (${u.username})` : "";
  document.documentElement.dataset.ready = "true";
}

// ---------------------------------------------------------------------------------------------
// The Web API

// api calls the Web API with the session's token. path is relative to the Web API root, or a
// full URL (a nextLink). It returns {res, data}; data is parsed JSON, text, or null.
async function api(path, opts = {}) {
  const {method = "GET", body, signal, headers = {}, pageSize, annotations = true, raw = false} = opts;
  if (!session) await loadSession();
  const url = /^https?:/.test(path) ? path : session.webApiUrl + path;
  for (let attempt = 0; ; attempt++) {
    const hdrs = {
      Accept: "application/json",
      "OData-MaxVersion": "4.0",
      "OData-Version": "4.0",
      Authorization: "Bearer " + session.accessToken,
    };
    const prefer = [];
    if (annotations) prefer.push('odata.include-annotations="*"');
    if (pageSize) prefer.push(`odata.maxpagesize=${pageSize}`);
    if (prefer.length) hdrs.Prefer = prefer.join(",");
    if (body !== undefined) hdrs["Content-Type"] = "application/json; charset=utf-8";
    Object.assign(hdrs, headers);
    const res = await fetch(url, {
      method, signal, cache: "no-store", headers: hdrs,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (res.status === 401 && attempt === 0) {
      // The token expired (a laptop that slept): get a new one and try once more.
      await loadSession();
      continue;
    }
    if (raw) return {res, data: null};
    if (!res.ok) throw await readError(res);
    if (res.status === 204) return {res, data: null};
    const text = await res.text();
    const type = res.headers.get("Content-Type") || "";
    return {res, data: text && type.includes("json") ? JSON.parse(text) : text};
  }
}

const enc = encodeURIComponent;

function checkName(name) {
  if (!NAME.test(name)) throw new Error(`'${name}' is not a table or column name.`);
  return name;
}

// ---------------------------------------------------------------------------------------------
// Metadata, cached for the page's life (dropped on reset, restore and Refresh)

const meta = {
  tables: null,
  attrs: new Map(),
  choices: new Map(),
  rels: new Map(),
  counts: new Map(),
};

function dropCaches() {
  meta.tables = null;
  meta.attrs.clear();
  meta.choices.clear();
  meta.rels.clear();
  meta.counts.clear();
}

function cached(map, key, load) {
  if (!map.has(key)) {
    const p = load();
    map.set(key, p);
    p.catch(() => map.delete(key));
  }
  return map.get(key);
}

function tableList() {
  if (!meta.tables) {
    const p = api("EntityDefinitions?$select=LogicalName,EntitySetName,PrimaryIdAttribute,PrimaryNameAttribute,DisplayName,ObjectTypeCode",
      {annotations: false})
      .then(({data}) => data.value.sort((a, b) => a.LogicalName.localeCompare(b.LogicalName)));
    meta.tables = p;
    p.catch(() => {
      if (meta.tables === p) meta.tables = null;
    });
  }
  return meta.tables;
}

async function tableByName(logical) {
  const list = await tableList();
  const t = list.find((x) => x.LogicalName === logical);
  if (!t) throw new Error(`This organization has no table named '${logical}'.`);
  return t;
}

const defPath = (logical) => `EntityDefinitions(LogicalName='${checkName(logical)}')`;

function attributes(logical) {
  return cached(meta.attrs, logical, () =>
    api(`${defPath(logical)}/Attributes?$select=LogicalName,SchemaName,AttributeType,AttributeTypeName,` +
      "RequiredLevel,DisplayName,IsValidForRead,IsValidForCreate,IsValidForUpdate,AttributeOf,IsPrimaryId,IsPrimaryName",
    {annotations: false}).then(({data}) => data.value));
}

// choices reads the options of a table's choice columns, the labels of its yes/no columns and
// the targets of its lookups: a Map from column name to {options: [[value, label]], targets}.
function choices(logical) {
  return cached(meta.choices, logical, async () => {
    const base = `${defPath(logical)}/Attributes/Microsoft.Dynamics.CRM.`;
    const out = new Map();
    const get = (k) => {
      if (!out.has(k)) out.set(k, {options: null, targets: null});
      return out.get(k);
    };
    const reads = Object.values(CHOICE_CASTS).map((cast) =>
      api(`${base}${cast}?$select=LogicalName&$expand=OptionSet($select=Options)`, {annotations: false})
        .then(({data}) => {
          for (const a of data.value) {
            const opts = (a.OptionSet && a.OptionSet.Options) || [];
            get(a.LogicalName).options = opts.map((o) => [o.Value, label(o.Label)]);
          }
        }));
    reads.push(api(`${base}BooleanAttributeMetadata?$select=LogicalName&$expand=OptionSet($select=TrueOption,FalseOption)`,
      {annotations: false}).then(({data}) => {
      for (const a of data.value) {
        const os = a.OptionSet || {};
        get(a.LogicalName).options = [[true, label(os.TrueOption && os.TrueOption.Label) || "Yes"],
          [false, label(os.FalseOption && os.FalseOption.Label) || "No"]];
      }
    }));
    reads.push(api(`${base}LookupAttributeMetadata?$select=LogicalName,Targets`, {annotations: false})
      .then(({data}) => {
        for (const a of data.value) get(a.LogicalName).targets = a.Targets || [];
      }));
    await Promise.all(reads);
    return out;
  });
}

const REL_SELECT = {
  OneToManyRelationships: "SchemaName,ReferencedEntity,ReferencedAttribute,ReferencingEntity,ReferencingAttribute," +
    "ReferencedEntityNavigationPropertyName,ReferencingEntityNavigationPropertyName",
  ManyToOneRelationships: "SchemaName,ReferencedEntity,ReferencedAttribute,ReferencingEntity,ReferencingAttribute," +
    "ReferencedEntityNavigationPropertyName,ReferencingEntityNavigationPropertyName",
  ManyToManyRelationships: "SchemaName,Entity1LogicalName,Entity2LogicalName,IntersectEntityName," +
    "Entity1NavigationPropertyName,Entity2NavigationPropertyName",
};

function relationships(logical, kind) {
  return cached(meta.rels, `${logical}/${kind}`, () =>
    api(`${defPath(logical)}/${kind}?$select=${REL_SELECT[kind]}`, {annotations: false})
      .then(({data}) => data.value.sort((a, b) => a.SchemaName.localeCompare(b.SchemaName))));
}

const isLookup = (a) => LOOKUP_TYPES.has(a.AttributeType);
const apiName = (a) => (isLookup(a) ? `_${a.LogicalName}_value` : a.LogicalName);
// typeName is a column's type: AttributeType, with the finer AttributeTypeName when it says more
// (Virtual columns that are images, files or multi-select choices).
const typeName = (a) => {
  const fine = (a.AttributeTypeName && a.AttributeTypeName.Value) || "";
  if (!a.AttributeType) return fine;
  return fine && fine !== a.AttributeType + "Type" ? `${a.AttributeType} (${fine})` : a.AttributeType;
};

// limiter runs at most n tasks at once.
function limiter(n) {
  let active = 0;
  const queue = [];
  const next = () => {
    if (active >= n || !queue.length) return;
    active++;
    const {fn, resolve, reject} = queue.shift();
    Promise.resolve().then(fn).then(resolve, reject).finally(() => {
      active--;
      next();
    });
  };
  return (fn) => new Promise((resolve, reject) => {
    queue.push({fn, resolve, reject});
    next();
  });
}
const countLimit = limiter(4);

// ---------------------------------------------------------------------------------------------
// Values in cells

// valueNode shows a property of a Web API row: a lookup as a link to its row (named by the
// lookup's formatted value), else the formatted value, else the value.
function valueNode(row, key) {
  const v = row[key];
  const formatted = row[key + FORMATTED];
  const table = row[key + LOOKUP_TABLE];
  if (v === null || v === undefined) return h("span", {class: "empty", text: ""});
  if (table && typeof v === "string" && GUID.test(v)) {
    return h("a", {href: `#/rows/${enc(table)}/${v}`, class: "lookup", text: formatted || v,
      dataset: {table, id: v}});
  }
  if (formatted !== undefined && formatted !== null) return document.createTextNode(String(formatted));
  if (typeof v === "object") return h("code", {text: JSON.stringify(v)});
  return document.createTextNode(String(v));
}

function rawText(v) {
  if (v === null || v === undefined) return "";
  return typeof v === "object" ? JSON.stringify(v) : String(v);
}

// ---------------------------------------------------------------------------------------------
// The confirmation dialog

function confirmDialog(message, okLabel = "OK") {
  const d = $("#confirm");
  const form = $("#confirm-form");
  $("#confirm-message").textContent = message;
  $("#confirm-ok").textContent = okLabel;
  d.returnValue = "";
  // The listeners belong to this question only: a dialog's close event arrives after the next
  // question may already be showing, so nothing global decides an answer.
  return new Promise((resolve) => {
    let answered = false;
    const finish = (ok) => {
      if (answered) return;
      answered = true;
      form.removeEventListener("submit", onSubmit);
      d.removeEventListener("cancel", onCancel);
      resolve(ok);
    };
    const onSubmit = (e) => {
      e.preventDefault();
      const ok = Boolean(e.submitter && e.submitter.value === "ok");
      d.close(ok ? "ok" : "cancel");
      finish(ok);
    };
    const onCancel = () => finish(false); // Escape
    form.addEventListener("submit", onSubmit);
    d.addEventListener("cancel", onCancel);
    d.showModal();
    $("#confirm-cancel").focus();
  });
}

// ---------------------------------------------------------------------------------------------
// Copying

async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // no clipboard API (an insecure origin) or no permission: the old way
  }
  const ta = h("textarea", {class: "offscreen", readonly: "", "aria-hidden": "true"});
  ta.value = text;
  document.body.append(ta);
  ta.select();
  let ok = false;
  try {
    ok = document.execCommand("copy");
  } catch {
    ok = false;
  }
  ta.remove();
  return ok;
}

function copyButton(what, value, testid) {
  return h("button", {type: "button", class: "small", testid, "aria-label": `Copy ${what}`,
    text: "Copy",
    onclick: async (e) => {
      const b = e.currentTarget;
      const ok = await copyText(typeof value === "function" ? value() : value);
      b.dataset.copied = ok ? "true" : "false";
      announce(ok ? `Copied the ${what}.` : `Could not copy the ${what}: select it and copy it by hand.`);
    }});
}

// ---------------------------------------------------------------------------------------------
// Routing

let current = null; // {ac: AbortController, cleanups: []}

function parseHash() {
  const raw = location.hash.replace(/^#/, "");
  const q = raw.indexOf("?");
  const path = q >= 0 ? raw.slice(0, q) : raw;
  const params = new URLSearchParams(q >= 0 ? raw.slice(q + 1) : "");
  const parts = path.split("/").filter(Boolean).map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  });
  return {parts, params};
}

async function render(fromNavigation) {
  const {parts, params} = parseHash();
  if (!parts.length) {
    location.replace("#/tables");
    return;
  }
  if (current) {
    current.ac.abort();
    current.cleanups.forEach((fn) => fn());
  }
  const ctx = {ac: new AbortController(), cleanups: []};
  ctx.signal = ctx.ac.signal;
  ctx.onLeave = (fn) => ctx.cleanups.push(fn);
  current = ctx;

  for (const a of document.querySelectorAll("nav.sections a")) {
    if (a.dataset.route === parts[0]) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  const view = $("#view");
  view.replaceChildren();
  view.dataset.view = parts.join("/");
  let fn = notFoundView;
  switch (parts[0]) {
    case "tables":
      fn = parts[1] ? tableView : tablesView;
      break;
    case "rows":
      fn = parts[2] ? (parts[2] === "new" ? newRowView : rowView) : parts[1] ? rowsView : rowsPickerView;
      break;
    case "requests":
      fn = requestsView;
      break;
    case "webhooks":
      fn = webhooksView;
      break;
    case "state":
      fn = stateView;
      break;
  }
  // The view's synchronous start (its heading) runs now; the rest when its data comes.
  const done = fn(ctx, view, parts, params);
  // Each view puts its heading in first; moving focus there tells screen readers the page changed.
  const first = $("h1", view);
  if (first) {
    document.title = `${first.textContent} · dynlocal console`;
    if (fromNavigation && $("#signin").hidden) first.focus();
  }
  try {
    await done;
    const hd = $("h1", view);
    if (hd) document.title = `${hd.textContent} · dynlocal console`;
  } catch (e) {
    if (!ctx.signal.aborted && !aborted(e)) view.append(errorBox(e, "view-error"));
  }
}

function heading(view, text, testid) {
  const el = h("h1", {tabindex: "-1", text, testid});
  view.append(el);
  return el;
}

function notFoundView(ctx, view) {
  heading(view, "Not found");
  view.append(h("p", {}, "There is no such page in the console. ", h("a", {href: "#/tables", text: "Go to the tables."})));
}

// replaceHashQuery keeps a view's state in the address without rendering the view again.
function replaceHashQuery(path, params) {
  const q = params.toString();
  history.replaceState(null, "", `#${path}${q ? "?" + q : ""}`);
}

// ---------------------------------------------------------------------------------------------
// Tables

async function tablesView(ctx, view) {
  heading(view, "Tables");
  const intro = h("p", {class: "muted", text: "Loading the tables…"});
  const search = h("input", {type: "search", id: "tables-search", testid: "tables-search", autocomplete: "off",
    spellcheck: "false"});
  view.append(intro, h("div", {class: "toolbar"}, field("Filter tables", search),
    h("button", {type: "button", testid: "tables-refresh", text: "Refresh",
      onclick: () => {
        dropCaches();
        render(false);
      }})));
  busy(intro, true);
  let list;
  try {
    list = await tableList();
  } finally {
    busy(intro, false);
  }
  intro.textContent = `${list.length} tables. Row counts are read as the tables scroll into view.`;
  const tbody = h("tbody");
  const observer = new IntersectionObserver((entries) => {
    for (const e of entries) {
      if (!e.isIntersecting) continue;
      observer.unobserve(e.target);
      const t = list.find((x) => x.LogicalName === e.target.dataset.table);
      if (t) loadCount(ctx, t, $("[data-count]", e.target));
    }
  });
  ctx.onLeave(() => observer.disconnect());
  for (const t of list) {
    const tr = h("tr", {testid: "table-row", dataset: {table: t.LogicalName}},
      h("th", {scope: "row"}, h("a", {href: `#/tables/${enc(t.LogicalName)}`, testid: "table-link",
        text: t.LogicalName})),
      h("td", {text: label(t.DisplayName)}),
      h("td", {}, code(t.EntitySetName || "")),
      h("td", {}, code(t.PrimaryIdAttribute || "")),
      h("td", {}, t.PrimaryNameAttribute ? code(t.PrimaryNameAttribute) : ""),
      h("td", {class: "num", testid: "table-count", dataset: {count: ""}, text: "…"}),
      h("td", {}, h("a", {href: `#/rows/${enc(t.LogicalName)}`, text: "Rows",
        "aria-label": `Rows of ${t.LogicalName}`})));
    tbody.append(tr);
    observer.observe(tr);
  }
  view.append(dataTable({id: "tables-table", testid: "tables-table"}, "Tables of this organization",
    ["Table", "Display name", "Entity set", "Primary id", "Primary name", th("Rows", {class: "num"}), "Browse"], tbody));
  search.addEventListener("input", () => {
    const q = search.value.trim().toLowerCase();
    let shown = 0;
    for (const tr of tbody.rows) {
      const match = !q || tr.textContent.toLowerCase().includes(q);
      tr.hidden = !match;
      if (match) shown++;
    }
    announce(`${shown} of ${list.length} tables shown.`);
  });
}

function loadCount(ctx, t, cell) {
  const paint = (v) => {
    if (v instanceof Error) {
      cell.textContent = "—";
      cell.title = v.message;
      cell.dataset.error = v.message;
    } else {
      cell.textContent = v.toLocaleString();
      cell.dataset.count = String(v);
    }
  };
  if (meta.counts.has(t.LogicalName)) {
    paint(meta.counts.get(t.LogicalName));
    return;
  }
  if (!t.EntitySetName) {
    paint(new Error("This table has no entity set."));
    return;
  }
  countLimit(async () => {
    if (ctx.signal.aborted) return;
    try {
      const {data} = await api(`${t.EntitySetName}/$count`, {signal: ctx.signal, annotations: false});
      const n = Number(String(data).trim());
      meta.counts.set(t.LogicalName, n);
      paint(n);
    } catch (e) {
      if (aborted(e)) return;
      meta.counts.set(t.LogicalName, e);
      paint(e);
    }
  });
}

async function tableView(ctx, view, parts) {
  const logical = parts[1];
  const title = heading(view, `Table ${logical}`, "table-title");
  const t = await tableByName(logical);
  title.textContent = `Table ${label(t.DisplayName) || logical} (${logical})`;
  view.append(h("dl", {class: "facts", testid: "table-facts"},
    fact("Entity set", code(t.EntitySetName || "")),
    fact("Primary id", code(t.PrimaryIdAttribute || "")),
    fact("Primary name", t.PrimaryNameAttribute ? code(t.PrimaryNameAttribute) : "none"),
    fact("Object type code", String(t.ObjectTypeCode ?? ""))),
  h("p", {}, h("a", {href: `#/rows/${enc(logical)}`, testid: "table-rows-link", text: `Browse the rows of ${logical}`})));

  // The sections load at once; each shows its own error.
  const columns = h("section", {"aria-labelledby": "columns-h", testid: "columns-section"},
    h("h2", {id: "columns-h", text: "Columns"}));
  const keys = h("section", {"aria-labelledby": "keys-h", testid: "keys-section"},
    h("h2", {id: "keys-h", text: "Alternate keys"}));
  const rels = h("section", {"aria-labelledby": "rels-h", testid: "relationships-section"},
    h("h2", {id: "rels-h", text: "Relationships"}));
  const jump = (section, text) => h("button", {type: "button", class: "small", text, onclick: () => {
    const h2 = $("h2", section);
    h2.setAttribute("tabindex", "-1");
    h2.scrollIntoView();
    h2.focus();
  }});
  view.append(h("nav", {class: "page-nav", "aria-label": "On this page"},
    jump(columns, "Columns"), jump(keys, "Alternate keys"), jump(rels, "Relationships")), columns, keys, rels);

  const guard = (section, p) => p.catch((e) => {
    if (!aborted(e)) section.append(errorBox(e));
  });
  await Promise.all([
    guard(columns, renderColumns(columns, logical)),
    guard(keys, renderKeys(keys, logical)),
    guard(rels, renderRelationships(rels, logical)),
  ]);
}

function fact(name, value) {
  return h("div", {}, h("dt", {text: name}), h("dd", {}, value));
}

async function renderColumns(section, logical) {
  const [attrs, ch] = await Promise.all([attributes(logical), choices(logical)]);
  const list = attrs.slice().sort((a, b) => a.LogicalName.localeCompare(b.LogicalName));
  const search = h("input", {type: "search", id: "columns-search", testid: "columns-search", autocomplete: "off",
    spellcheck: "false"});
  section.append(h("p", {class: "muted", text: `${list.length} columns.`}),
    h("div", {class: "toolbar"}, field("Filter columns", search)));
  const tbody = h("tbody");
  for (const a of list) {
    const c = ch.get(a.LogicalName) || {};
    const details = [];
    if (c.options && c.options.length) {
      details.push(h("ul", {class: "options", "aria-label": `Options of ${a.LogicalName}`},
        c.options.map(([v, l]) => h("li", {}, code(String(v)), " ", l))));
    }
    if (c.targets && c.targets.length) {
      details.push(h("p", {class: "targets"}, "Targets: ",
        c.targets.map((x, i) => [i ? ", " : "", h("a", {href: `#/tables/${enc(x)}`, text: x})])));
    }
    if (a.AttributeOf) details.push(h("p", {class: "muted", text: `Part of ${a.AttributeOf}`}));
    const flags = [];
    if (a.IsPrimaryId) flags.push("primary id");
    if (a.IsPrimaryName) flags.push("primary name");
    const can = [a.IsValidForRead && "read", a.IsValidForCreate && "create", a.IsValidForUpdate && "update"]
      .filter(Boolean).join(", ");
    tbody.append(h("tr", {testid: "column-row", dataset: {column: a.LogicalName}},
      h("th", {scope: "row"}, code(a.LogicalName),
        label(a.DisplayName) ? h("span", {class: "sub", text: label(a.DisplayName)}) : null,
        flags.length ? h("span", {class: "badge", text: flags.join(", ")}) : null),
      h("td", {testid: "column-type", text: typeName(a)}),
      h("td", {testid: "column-required", text: (a.RequiredLevel && a.RequiredLevel.Value) || ""}),
      h("td", {text: can || "—"}),
      h("td", {testid: "column-details"}, details)));
  }
  section.append(dataTable({id: "columns-table", testid: "columns-table"}, `Columns of ${logical}`,
    ["Column", "Type", "Required", "Valid for", "Options, targets"], tbody));
  search.addEventListener("input", () => {
    const q = search.value.trim().toLowerCase();
    for (const tr of tbody.rows) tr.hidden = !!q && !tr.textContent.toLowerCase().includes(q);
  });
}

async function renderKeys(section, logical) {
  const {data} = await api(`${defPath(logical)}/Keys?$select=LogicalName,SchemaName,KeyAttributes,DisplayName`,
    {annotations: false});
  if (!data.value.length) {
    section.append(h("p", {class: "muted", testid: "keys-none", text: "This table has no alternate keys."}));
    return;
  }
  const tbody = h("tbody", {}, data.value.map((k) => h("tr", {testid: "key-row", dataset: {key: k.LogicalName}},
    h("th", {scope: "row"}, code(k.LogicalName || k.SchemaName || "")),
    h("td", {text: label(k.DisplayName)}),
    h("td", {}, (k.KeyAttributes || []).map((x, i) => [i ? ", " : "", code(x)])))));
  section.append(dataTable({testid: "keys-table"}, `Alternate keys of ${logical}`, ["Key", "Display name", "Columns"], tbody));
}

async function renderRelationships(section, logical) {
  const [oneToMany, manyToOne, manyToMany] = await Promise.all([
    relationships(logical, "OneToManyRelationships"),
    relationships(logical, "ManyToOneRelationships"),
    relationships(logical, "ManyToManyRelationships"),
  ]);
  const tableLink = (x) => h("a", {href: `#/tables/${enc(x)}`, text: x});
  const part = (id, title, caption, headers, rows) => {
    const s = h("section", {"aria-labelledby": id, testid: id}, h("h3", {id, text: `${title} (${rows.length})`}));
    if (!rows.length) s.append(h("p", {class: "muted", text: "None."}));
    else s.append(dataTable({}, caption, headers, h("tbody", {}, rows)));
    section.append(s);
  };
  part("rel-1n", "One-to-many", `Tables whose lookups point at ${logical}`,
    ["Relationship", "Related table", "Its lookup column", `Collection on ${logical}`, "Its navigation property"],
    oneToMany.map((r) => h("tr", {testid: "rel-row", dataset: {rel: r.SchemaName}},
      h("th", {scope: "row"}, code(r.SchemaName)), h("td", {}, tableLink(r.ReferencingEntity)),
      h("td", {}, code(r.ReferencingAttribute || "")), h("td", {}, code(r.ReferencedEntityNavigationPropertyName || "")),
      h("td", {}, code(r.ReferencingEntityNavigationPropertyName || "")))));
  part("rel-n1", "Many-to-one", `Lookups of ${logical}`,
    ["Relationship", "Lookup column", "Related table", "Navigation property", "Collection on the related table"],
    manyToOne.map((r) => h("tr", {testid: "rel-row", dataset: {rel: r.SchemaName}},
      h("th", {scope: "row"}, code(r.SchemaName)), h("td", {}, code(r.ReferencingAttribute || "")),
      h("td", {}, tableLink(r.ReferencedEntity)), h("td", {}, code(r.ReferencingEntityNavigationPropertyName || "")),
      h("td", {}, code(r.ReferencedEntityNavigationPropertyName || "")))));
  part("rel-nn", "Many-to-many", `Many-to-many relationships of ${logical}`,
    ["Relationship", "Related table", "Intersect table", `Collection on ${logical}`],
    manyToMany.map((r) => {
      const mine = r.Entity1LogicalName === logical;
      const other = mine ? r.Entity2LogicalName : r.Entity1LogicalName;
      const nav = mine ? r.Entity1NavigationPropertyName : r.Entity2NavigationPropertyName;
      return h("tr", {testid: "rel-row", dataset: {rel: r.SchemaName}},
        h("th", {scope: "row"}, code(r.SchemaName)), h("td", {}, tableLink(other)),
        h("td", {}, code(r.IntersectEntityName || "")), h("td", {}, code(nav || "")));
    }));
}

// ---------------------------------------------------------------------------------------------
// Rows

async function rowsPickerView(ctx, view) {
  heading(view, "Rows");
  const list = await tableList();
  const last = sessionStorage.getItem("dynlocal.lastTable") || "account";
  const s = select({id: "rows-table-picker", testid: "rows-table-picker"},
    list.map((t) => [t.LogicalName, `${label(t.DisplayName) || t.LogicalName} (${t.LogicalName})`]),
    list.some((t) => t.LogicalName === last) ? last : undefined);
  const form = h("form", {class: "toolbar", onsubmit: (e) => {
    e.preventDefault();
    location.hash = `#/rows/${enc(s.value)}`;
  }}, field("Table", s), h("button", {type: "submit", class: "primary", text: "Show rows"}));
  view.append(h("p", {text: "Choose a table to browse its rows."}), form);
}

// defaultColumns picks the grid's columns: the primary name, up to five business columns and
// modifiedon. filled, when given, counts how many sampled rows have a value in each column: the
// columns most often filled come first, so that the grid shows what the data has.
function defaultColumns(t, readable, filled) {
  const cols = [];
  if (t.PrimaryNameAttribute && readable.some((a) => a.LogicalName === t.PrimaryNameAttribute)) cols.push(t.PrimaryNameAttribute);
  const rank = (a) => {
    const req = a.RequiredLevel && a.RequiredLevel.Value;
    if (req === "ApplicationRequired" || req === "SystemRequired") return 0;
    if (a.AttributeType === "String" || a.AttributeType === "Picklist" || a.AttributeType === "Money") return 1;
    if (isLookup(a)) return 2;
    return 3;
  };
  const count = (a) => (filled ? filled.get(a.LogicalName) || 0 : 0);
  readable
    .filter((a) => !SYSTEM_COLUMNS.has(a.LogicalName) && !cols.includes(a.LogicalName) && a.IsValidForCreate &&
      a.AttributeType !== "Memo" && (!filled || count(a) > 0))
    .map((a, i) => ({a, i}))
    .sort((x, y) => count(y.a) - count(x.a) || rank(x.a) - rank(y.a) || x.i - y.i)
    .slice(0, 5)
    .forEach(({a}) => cols.push(a.LogicalName));
  if (readable.some((a) => a.LogicalName === "modifiedon")) cols.push("modifiedon");
  return cols;
}

// sampledColumns reads a few rows with every column to choose the default columns by what is
// filled in; on any error it chooses by column type alone.
async function sampledColumns(ctx, t, readable) {
  try {
    const {data} = await api(`${t.EntitySetName}?$top=20`, {signal: ctx.signal, annotations: false});
    const filled = new Map();
    for (const r of data.value || []) {
      for (const [k, v] of Object.entries(r)) {
        // Yes/no columns have a value in every row (their default) and say little.
        if (k.includes("@") || v === null || v === "" || typeof v === "boolean") continue;
        filled.set(colName(k), (filled.get(colName(k)) || 0) + 1);
      }
    }
    if (filled.size) return defaultColumns(t, readable, filled);
  } catch (e) {
    if (aborted(e)) throw e;
  }
  return defaultColumns(t, readable, null);
}

const GRID_SKIP = new Set(["Virtual", "EntityName", "PartyList", "CalendarRules", "ManagedProperty", "File", "Image"]);

async function rowsView(ctx, view, parts, params) {
  const logical = parts[1];
  const title = heading(view, `Rows of ${logical}`, "rows-title");
  const [t, attrs] = await Promise.all([tableByName(logical), attributes(logical)]);
  sessionStorage.setItem("dynlocal.lastTable", logical);
  title.textContent = `Rows of ${label(t.DisplayName) || logical} (${logical})`;
  const readable = attrs
    .filter((a) => a.IsValidForRead !== false && !a.AttributeOf && !GRID_SKIP.has(a.AttributeType) &&
      a.LogicalName !== t.PrimaryIdAttribute)
    .sort((a, b) => a.LogicalName.localeCompare(b.LogicalName));
  const byName = new Map(attrs.map((a) => [a.LogicalName, a]));
  const defaults = params.get("select") ? defaultColumns(t, readable, null) : await sampledColumns(ctx, t, readable);
  const state = {
    columns: params.get("select")
      ? params.get("select").split(",").filter((c) => readable.some((a) => a.LogicalName === c))
      : defaults,
    filter: params.get("filter") || "",
    orderby: params.get("orderby") || "",
    fetchXml: params.get("fetchXml") || "",
    pageSize: Math.min(Math.max(Number(params.get("pagesize")) || 25, 1), 5000),
  };
  let mode = state.fetchXml ? "fetch" : "odata";

  view.append(h("p", {class: "links"},
    h("a", {href: `#/tables/${enc(logical)}`, text: `Columns and relationships of ${logical}`}), " · ",
    h("a", {href: `#/rows/${enc(logical)}/new`, testid: "rows-new", text: "New row"})));

  // The OData query.
  const filterInput = h("input", {type: "text", id: "rows-filter", testid: "rows-filter", value: state.filter,
    autocomplete: "off", spellcheck: "false", placeholder: "name eq 'Contoso' and revenue gt 1000"});
  const sizeSelect = select({id: "rows-pagesize", testid: "rows-pagesize"},
    [10, 25, 50, 100, 250].map((n) => [String(n), String(n)]), String(state.pageSize));
  if (sizeSelect.value !== String(state.pageSize)) {
    sizeSelect.append(h("option", {value: String(state.pageSize), text: String(state.pageSize)}));
    sizeSelect.value = String(state.pageSize);
  }
  const odataForm = h("form", {class: "query", testid: "rows-query", "aria-label": "OData query"},
    field("$filter", filterInput, "An OData filter expression, sent as it is."),
    field("Rows per page", sizeSelect),
    h("div", {class: "actions"},
      h("button", {type: "submit", class: "primary", testid: "rows-apply", text: "Apply filter"}),
      h("button", {type: "button", testid: "rows-clear", text: "Clear",
        onclick: () => {
          filterInput.value = "";
          state.filter = "";
          state.orderby = "";
          mode = "odata";
          restart();
        }})));
  odataForm.addEventListener("submit", (e) => {
    e.preventDefault();
    state.filter = filterInput.value.trim();
    state.pageSize = Number(sizeSelect.value);
    mode = "odata";
    restart();
  });

  // The FetchXML query.
  const fetchInput = h("textarea", {id: "rows-fetchxml", testid: "rows-fetchxml", rows: "6", spellcheck: "false"});
  fetchInput.value = state.fetchXml || sampleFetch(t, state.columns);
  const fetchForm = h("form", {class: "query", testid: "rows-fetch", "aria-label": "FetchXML query"},
    field("FetchXML", fetchInput, `Sent as ?fetchXml= to ${t.EntitySetName}; the entity must be ${logical}.`),
    h("div", {class: "actions"}, h("button", {type: "submit", class: "primary", testid: "rows-fetch-run", text: "Run FetchXML"})));
  fetchForm.addEventListener("submit", (e) => {
    e.preventDefault();
    state.fetchXml = fetchInput.value.trim();
    mode = "fetch";
    restart();
  });
  const fetchDetails = h("details", {class: "panel", open: mode === "fetch" ? "" : null},
    h("summary", {text: "FetchXML", testid: "rows-fetch-toggle"}), fetchForm);

  // The column chooser.
  const chooser = h("fieldset", {class: "chooser", testid: "columns-chooser"}, h("legend", {text: "Columns shown"}),
    readable.map((a) => {
      const id = newID("col");
      return h("div", {class: "check"},
        h("input", {type: "checkbox", id, value: a.LogicalName, checked: state.columns.includes(a.LogicalName),
          dataset: {column: a.LogicalName}}),
        h("label", {for: id}, code(a.LogicalName), label(a.DisplayName) ? ` ${label(a.DisplayName)}` : ""));
    }));
  const chooserForm = h("form", {testid: "columns-form"}, chooser, h("div", {class: "actions"},
    h("button", {type: "submit", class: "primary", testid: "columns-apply", text: "Show these columns"}),
    h("button", {type: "button", text: "Defaults", onclick: () => {
      for (const box of chooser.querySelectorAll("input")) box.checked = defaults.includes(box.value);
    }})));
  chooserForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const picked = [...chooser.querySelectorAll("input:checked")].map((x) => x.value);
    // Keep the order the columns had, new ones at the end.
    state.columns = state.columns.filter((c) => picked.includes(c)).concat(picked.filter((c) => !state.columns.includes(c)));
    if (mode === "fetch") mode = "odata";
    restart();
  });
  view.append(odataForm, fetchDetails,
    h("details", {class: "panel", testid: "columns-panel"}, h("summary", {text: "Columns", testid: "columns-toggle"}), chooserForm));

  const err = errorSlot("rows-error");
  const summary = h("p", {class: "summary", testid: "rows-summary", "aria-live": "polite"});
  const gridHolder = h("div", {testid: "rows-grid-holder"});
  const prev = h("button", {type: "button", testid: "rows-prev", text: "Previous page", disabled: true});
  const next = h("button", {type: "button", testid: "rows-next", text: "Next page", disabled: true});
  const pageLabel = h("span", {testid: "rows-page", class: "page"});
  view.append(err.el, summary, gridHolder, h("nav", {class: "pager", "aria-label": "Pages"}, prev, pageLabel, next));

  let pages = [];
  let starts = [0]; // the number of rows before each page
  let index = 0;
  let nextURL = "";
  let seq = 0;

  function queryURL() {
    if (mode === "fetch") {
      const xml = withPageSize(state.fetchXml, state.pageSize);
      return `${t.EntitySetName}?fetchXml=${enc(xml)}`;
    }
    const names = state.columns.map((c) => byName.get(c)).filter(Boolean).map(apiName);
    const q = [`$select=${[t.PrimaryIdAttribute, ...names].join(",")}`];
    if (state.filter) q.push(`$filter=${enc(state.filter)}`);
    if (state.orderby) q.push(`$orderby=${enc(state.orderby)}`);
    q.push("$count=true");
    return `${t.EntitySetName}?${q.join("&")}`;
  }

  function remember() {
    const p = new URLSearchParams();
    if (mode === "fetch") p.set("fetchXml", state.fetchXml);
    else {
      if (state.filter) p.set("filter", state.filter);
      if (state.orderby) p.set("orderby", state.orderby);
      if (state.columns.join(",") !== defaults.join(",")) p.set("select", state.columns.join(","));
    }
    if (state.pageSize !== 25) p.set("pagesize", String(state.pageSize));
    replaceHashQuery(`/rows/${logical}`, p);
  }

  function restart() {
    pages = [];
    starts = [0];
    index = 0;
    try {
      pages.push(queryURL());
    } catch (e) {
      err.show(e);
      return;
    }
    remember();
    load();
  }

  async function load() {
    const my = ++seq;
    err.show(null);
    busy(gridHolder, true);
    prev.disabled = next.disabled = true;
    summary.textContent = "Loading…";
    try {
      const {data} = await api(pages[index], {signal: ctx.signal, pageSize: mode === "odata" ? state.pageSize : 0});
      if (my !== seq) return;
      const rows = data.value || [];
      if (mode === "fetch") {
        nextURL = data["@Microsoft.Dynamics.CRM.morerecords"]
          ? nextFetchURL(pages[index], data["@Microsoft.Dynamics.CRM.fetchxmlpagingcookie"]) : "";
      } else {
        nextURL = data["@odata.nextLink"] || "";
      }
      renderGrid(rows);
      starts[index + 1] = starts[index] + rows.length;
      const first = starts[index] + 1;
      const count = data["@odata.count"];
      summary.textContent = rows.length
        ? `Rows ${first}–${first + rows.length - 1}${typeof count === "number" ? ` of ${count}` : ""}.`
        : index ? "No more rows." : "No rows match.";
      pageLabel.textContent = `Page ${index + 1}`;
      prev.disabled = index === 0;
      next.disabled = !nextURL;
    } catch (e) {
      if (aborted(e) || my !== seq) return;
      gridHolder.replaceChildren();
      summary.textContent = "";
      pageLabel.textContent = "";
      prev.disabled = index === 0;
      err.show(e);
    } finally {
      if (my === seq) busy(gridHolder, false);
    }
  }

  function renderGrid(rows) {
    let headers;
    if (mode === "fetch") {
      const keys = [];
      for (const r of rows) {
        for (const k of Object.keys(r)) {
          if (!k.includes("@") && k !== t.PrimaryIdAttribute && !keys.includes(k)) keys.push(k);
        }
      }
      headers = keys.map((k) => ({key: k, title: k, name: k, sort: ""}));
    } else {
      headers = state.columns.map((c) => byName.get(c)).filter(Boolean).map((a) => ({
        key: apiName(a), title: label(a.DisplayName) || a.LogicalName, name: a.LogicalName, sort: apiName(a),
      }));
    }
    // The primary name's cell links to the row; without that column, a first column does.
    const nameKey = headers.some((c) => c.key === t.PrimaryNameAttribute) ? t.PrimaryNameAttribute : "";
    const [sortKey, sortDir] = state.orderby.split(/\s+/);
    const heads = (nameKey ? [] : [h("th", {scope: "col", text: "Row"})]).concat(headers.map((c) => {
      const cell = h("th", {scope: "col", dataset: {column: c.name}});
      if (!c.sort) {
        cell.append(code(c.title));
        return cell;
      }
      const sorted = sortKey === c.sort;
      const desc = sorted && sortDir === "desc";
      if (sorted) cell.setAttribute("aria-sort", desc ? "descending" : "ascending");
      cell.append(h("button", {type: "button", class: "sort" + (sorted ? (desc ? " desc" : " asc") : ""),
        testid: "sort-" + c.name,
        onclick: () => {
          state.orderby = `${c.sort} ${sorted && !desc ? "desc" : "asc"}`;
          restart();
        }}, h("span", {text: c.title}), h("span", {class: "sub", text: c.name}),
      h("span", {class: "sr-only", text: sorted ? (desc ? ", sorted descending" : ", sorted ascending") : ", sort"})));
      return cell;
    }));
    const tbody = h("tbody", {}, rows.map((r) => {
      const id = r[t.PrimaryIdAttribute];
      const link = (text) => (id
        ? h("a", {href: `#/rows/${enc(logical)}/${id}`, testid: "row-link", text}) : text);
      const cells = headers.map((c) => (c.key === nameKey
        ? h("th", {scope: "row", dataset: {column: c.name}}, link(r[c.key] ? String(r[c.key]) : `(no name) ${id || ""}`))
        : h("td", {dataset: {column: c.name}}, valueNode(r, c.key))));
      if (!nameKey) cells.unshift(h("th", {scope: "row"}, link(id || "")));
      return h("tr", {testid: "row", dataset: {id: id || ""}}, cells);
    }));
    gridHolder.replaceChildren(dataTable({id: "rows-grid", testid: "rows-grid"}, `Rows of ${logical}`, heads, tbody));
  }

  prev.addEventListener("click", () => {
    if (index > 0) {
      index--;
      load();
    }
  });
  next.addEventListener("click", () => {
    if (nextURL) {
      pages[index + 1] = nextURL;
      index++;
      load();
    }
  });
  restart();
}

function sampleFetch(t, columns) {
  const attrs = columns.slice(0, 4).map((c) => `    <attribute name="${c}" />`).join("\n");
  const order = t.PrimaryNameAttribute ? `\n    <order attribute="${t.PrimaryNameAttribute}" />` : "";
  return `<fetch>\n  <entity name="${t.LogicalName}">\n${attrs}${order}\n  </entity>\n</fetch>`;
}

// withPageSize gives a FetchXML query without count or top the grid's page size.
function withPageSize(xml, size) {
  const doc = new DOMParser().parseFromString(xml, "application/xml");
  const root = doc.documentElement;
  if (doc.getElementsByTagName("parsererror").length || root.nodeName !== "fetch") return xml;
  if (root.hasAttribute("count") || root.hasAttribute("top")) return xml;
  root.setAttribute("count", String(size));
  return new XMLSerializer().serializeToString(doc);
}

// nextFetchURL is the URL of a FetchXML query's next page: page + 1 and the paging cookie.
function nextFetchURL(url, cookie) {
  const [path, query] = url.split("?fetchXml=");
  const doc = new DOMParser().parseFromString(decodeURIComponent(query), "application/xml");
  const root = doc.documentElement;
  if (doc.getElementsByTagName("parsererror").length || root.nodeName !== "fetch") return "";
  root.setAttribute("page", String((Number(root.getAttribute("page")) || 1) + 1));
  if (cookie) {
    const c = new DOMParser().parseFromString(cookie, "application/xml").documentElement;
    const value = c && c.getAttribute("pagingcookie");
    if (value) {
      try {
        root.setAttribute("paging-cookie", decodeURIComponent(decodeURIComponent(value)));
      } catch {
        root.removeAttribute("paging-cookie");
      }
    }
  }
  return `${path}?fetchXml=${enc(new XMLSerializer().serializeToString(doc))}`;
}

// ---------------------------------------------------------------------------------------------
// One row

async function rowView(ctx, view, parts) {
  const [, logical, id] = parts;
  const title = heading(view, `Row of ${logical}`, "row-title");
  if (!GUID.test(id)) throw new Error(`'${id}' is not a row id (a GUID).`);
  const [t, attrs] = await Promise.all([tableByName(logical), attributes(logical)]);
  const byName = new Map(attrs.map((a) => [a.LogicalName, a]));
  const url = `${t.EntitySetName}(${id})`;
  const err = errorSlot("row-error");
  const conflict = h("div", {testid: "row-conflict-holder"});
  const body = h("div", {testid: "row-body"});
  const editButton = h("button", {type: "button", testid: "row-edit", text: "Edit"});
  const deleteButton = h("button", {type: "button", class: "danger", testid: "row-delete", text: "Delete"});
  const reloadButton = h("button", {type: "button", testid: "row-reload", text: "Reload"});
  const onlyFilled = h("input", {type: "checkbox", id: "row-only-filled", testid: "row-only-filled"});
  const findField = h("input", {type: "search", id: "row-find", testid: "row-find", autocomplete: "off", spellcheck: "false"});
  const filterFields = () => {
    const q = findField.value.trim().toLowerCase();
    for (const tr of body.querySelectorAll('tr[data-testid="field-row"]')) {
      tr.hidden = (onlyFilled.checked && tr.dataset.empty === "true") || (!!q && !tr.textContent.toLowerCase().includes(q));
    }
  };
  onlyFilled.addEventListener("change", filterFields);
  findField.addEventListener("input", filterFields);
  const rowFilters = h("div", {class: "toolbar"}, field("Find a column", findField),
    h("div", {class: "check"}, onlyFilled, h("label", {for: "row-only-filled", text: "Only columns with a value"})));

  view.append(h("p", {class: "links"},
    h("a", {href: `#/rows/${enc(logical)}`, text: `All rows of ${logical}`}), " · ",
    h("a", {href: `#/tables/${enc(logical)}`, text: `Columns of ${logical}`})),
  h("div", {class: "toolbar"}, editButton, reloadButton, deleteButton), conflict, err.el, rowFilters, body);

  let row = null;

  async function load() {
    err.show(null);
    busy(body, true);
    try {
      const {data} = await api(url, {signal: ctx.signal});
      row = data;
      const name = t.PrimaryNameAttribute && row[t.PrimaryNameAttribute];
      title.textContent = `${label(t.DisplayName) || logical}: ${name || id}`;
      document.title = `${title.textContent} · dynlocal console`;
      showRow();
    } catch (e) {
      if (!aborted(e)) err.show(e);
    } finally {
      busy(body, false);
    }
  }

  function showRow() {
    editButton.disabled = deleteButton.disabled = false;
    rowFilters.hidden = false;
    const keys = Object.keys(row).filter((k) => !k.includes("@")).sort((a, b) => colName(a).localeCompare(colName(b)));
    const tbody = h("tbody", {}, keys.map((k) => {
      const a = byName.get(colName(k));
      const raw = rawText(row[k]);
      const shown = valueNode(row, k);
      return h("tr", {testid: "field-row", dataset: {field: colName(k), empty: String(row[k] === null || row[k] === "")}},
        h("th", {scope: "row"}, code(k), a && label(a.DisplayName) ? h("span", {class: "sub", text: label(a.DisplayName)}) : null),
        h("td", {testid: "field-value"}, shown),
        h("td", {testid: "field-raw"}, raw && raw !== shown.textContent ? code(raw) : ""));
    }));
    body.replaceChildren(
      h("p", {class: "muted", testid: "row-etag"}, "Version (ETag): ", code(row["@odata.etag"] || "")),
      dataTable({id: "row-fields", testid: "row-fields"}, "Every column of the row", ["Column", "Value", "Raw value"], tbody));
    filterFields();
  }

  editButton.addEventListener("click", async () => {
    if (!row) return;
    editButton.disabled = deleteButton.disabled = true;
    conflict.replaceChildren();
    try {
      const form = await rowForm(ctx, t, attrs, row, "edit", {
        onCancel: () => showRow(),
        onSubmit: async (payload) => {
          if (!Object.keys(payload).length) {
            announce("Nothing changed: no request sent.");
            return false;
          }
          const {res} = await api(url, {method: "PATCH", body: payload, raw: true,
            headers: {"If-Match": row["@odata.etag"]}});
          if (res.status === 412) {
            const e = await readError(res);
            showConflict(e);
            return false;
          }
          if (!res.ok) throw await readError(res);
          conflict.replaceChildren();
          announce("Saved.");
          await load();
          editButton.focus();
          return true;
        },
      });
      rowFilters.hidden = true;
      body.replaceChildren(form);
      const first = form.querySelector("input, select, textarea");
      if (first) first.focus();
    } catch (e) {
      editButton.disabled = deleteButton.disabled = false;
      if (!aborted(e)) err.show(e);
    }
  });

  function showConflict(e) {
    const reload = h("button", {type: "button", class: "primary", testid: "row-conflict-reload",
      text: "Reload the row (drops your changes)",
      onclick: async () => {
        conflict.replaceChildren();
        await load();
        announce("Reloaded the row.");
        editButton.focus();
      }});
    conflict.replaceChildren(h("div", {class: "error conflict", role: "alert", testid: "row-conflict"},
      h("p", {class: "error-head"}, h("strong", {text: "Not saved: this row was changed by someone else after you opened it."})),
      h("p", {}, "Your changes are still in the form. Reload the row to see its current values, then make your changes again. ",
        `The Web API answered HTTP ${e.status}${e.code ? ` (code ${e.code})` : ""}: `, h("span", {testid: "row-conflict-message", text: e.message})),
      h("div", {class: "actions"}, reload)));
    reload.focus();
  }

  deleteButton.addEventListener("click", async () => {
    if (!row) return;
    const name = (t.PrimaryNameAttribute && row[t.PrimaryNameAttribute]) || id;
    if (!(await confirmDialog(`Delete the ${logical} row “${name}”? This cannot be undone.`, "Delete"))) return;
    try {
      await api(url, {method: "DELETE"});
      meta.counts.delete(logical);
      announce(`Deleted ${name}.`);
      location.hash = `#/rows/${enc(logical)}`;
    } catch (e) {
      err.show(e);
    }
  });
  reloadButton.addEventListener("click", async () => {
    conflict.replaceChildren();
    await load();
    announce("Reloaded the row.");
  });
  editButton.disabled = deleteButton.disabled = true;
  await load();
}

function colName(key) {
  const m = /^_(.+)_value$/.exec(key);
  return m ? m[1] : key;
}

async function newRowView(ctx, view, parts) {
  const logical = parts[1];
  const title = heading(view, `New row of ${logical}`, "new-title");
  const [t, attrs] = await Promise.all([tableByName(logical), attributes(logical)]);
  title.textContent = `New ${label(t.DisplayName) || logical} row`;
  const err = errorSlot("row-error");
  view.append(h("p", {class: "links"}, h("a", {href: `#/rows/${enc(logical)}`, text: `All rows of ${logical}`})), err.el);
  const form = await rowForm(ctx, t, attrs, null, "create", {
    onCancel: () => {
      location.hash = `#/rows/${enc(logical)}`;
    },
    onSubmit: async (payload) => {
      const {res} = await api(t.EntitySetName, {method: "POST", body: payload, raw: true});
      if (!res.ok) throw await readError(res);
      const m = /\(([0-9a-fA-F-]{36})\)$/.exec(res.headers.get("OData-EntityId") || "");
      meta.counts.delete(logical);
      announce("Created the row.");
      location.hash = m ? `#/rows/${enc(logical)}/${m[1]}` : `#/rows/${enc(logical)}`;
      return true;
    },
  });
  view.append(form);
}

// rowForm builds the edit (or create) form of a row: one control per column that can be
// written, filled with the row's values. onSubmit gets only the columns that changed.
async function rowForm(ctx, t, attrs, row, kind, {onSubmit, onCancel}) {
  const logical = t.LogicalName;
  const [ch, manyToOne, tables] = await Promise.all([choices(logical),
    relationships(logical, "ManyToOneRelationships"), tableList()]);
  const writable = attrs.filter((a) => (kind === "edit" ? a.IsValidForUpdate : a.IsValidForCreate) &&
    !a.AttributeOf && EDITABLE_TYPES.has(a.AttributeType) && a.LogicalName !== t.PrimaryIdAttribute);
  const rank = (a) => (a.LogicalName === t.PrimaryNameAttribute ? 0
    : a.RequiredLevel && /Required/.test(a.RequiredLevel.Value) ? 1 : 2);
  writable.sort((a, b) => rank(a) - rank(b) || a.LogicalName.localeCompare(b.LogicalName));

  const fields = [];
  const err = errorSlot("form-error");
  const controls = writable.map((a) => {
    const c = ch.get(a.LogicalName) || {};
    const key = apiName(a);
    const current = row ? row[key] : null;
    const id = `field-${a.LogicalName}`;
    const required = a.RequiredLevel && /Required/.test(a.RequiredLevel.Value);
    const text = `${label(a.DisplayName) || a.LogicalName} (${a.LogicalName})${required ? " — required" : ""}`;
    if (isLookup(a)) {
      const targets = (c.targets && c.targets.length ? c.targets : [row && row[key + LOOKUP_TABLE]].filter(Boolean));
      const currentTable = (row && row[key + LOOKUP_TABLE]) || targets[0] || "";
      const tableSel = select({id: id + "-table", testid: id + "-table"},
        targets.map((x) => [x, x]), currentTable);
      const idInput = h("input", {type: "text", id, testid: id, value: current || "", spellcheck: "false",
        autocomplete: "off", placeholder: "row id (GUID)", class: "guid"});
      const group = h("fieldset", {class: "field lookup-field", dataset: {field: a.LogicalName}},
        h("legend", {text}), h("div", {class: "inline"},
          h("span", {hidden: targets.length < 2},
            h("label", {for: tableSel.id, class: "sr-only", text: `${a.LogicalName}: table`}), tableSel),
          h("label", {for: id, class: "sr-only", text: `${a.LogicalName}: row id`}), idInput));
      fields.push({a, kind: "lookup", get: () => [tableSel.value, idInput.value.trim()],
        initial: [currentTable, current || ""]});
      return group;
    }
    let control;
    let initial = current === null || current === undefined ? "" : String(current);
    if (c.options && (a.AttributeType !== "MultiSelectPicklist")) {
      control = select({id, testid: id}, [["", "(empty)"]].concat(c.options.map(([v, l]) => [String(v), `${l} (${v})`])), initial);
    } else if (a.AttributeType === "Memo") {
      control = h("textarea", {id, testid: id, rows: "3"});
      control.value = initial;
    } else {
      control = h("input", {type: "text", id, testid: id, value: initial, autocomplete: "off",
        inputmode: ["Integer", "BigInt", "Decimal", "Double", "Money"].includes(a.AttributeType) ? "decimal" : null,
        placeholder: a.AttributeType === "DateTime" ? "2026-01-31T12:00:00Z" : null});
    }
    fields.push({a, kind: "value", get: () => control.value, initial});
    const hint = a.AttributeType === "MultiSelectPicklist" && c.options
      ? "Values separated by commas: " + c.options.map(([v, l]) => `${v} ${l}`).join(", ") : typeName(a);
    return h("div", {dataset: {field: a.LogicalName}}, field(text, control, hint));
  });

  const search = h("input", {type: "search", id: "form-search", testid: "form-search", autocomplete: "off"});
  search.addEventListener("input", () => {
    const q = search.value.trim().toLowerCase();
    for (const c of controls) c.hidden = !!q && !c.textContent.toLowerCase().includes(q) && !c.dataset.field.includes(q);
  });
  const save = h("button", {type: "submit", class: "primary", testid: "row-save", text: kind === "edit" ? "Save" : "Create"});
  const form = h("form", {class: "row-form", testid: "row-form", "aria-label": kind === "edit" ? "Edit the row" : "New row"},
    h("div", {class: "toolbar"}, field("Find a column", search)),
    h("div", {class: "form-grid"}, controls),
    err.el,
    h("div", {class: "actions sticky"}, save,
      h("button", {type: "button", testid: "row-cancel", text: "Cancel", onclick: () => onCancel()})));

  const byLogical = new Map(tables.map((x) => [x.LogicalName, x]));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    err.show(null);
    const payload = {};
    try {
      for (const f of fields) {
        if (f.kind === "lookup") {
          const [table, gid] = f.get();
          if (table === f.initial[0] && gid === f.initial[1]) continue;
          const rel = manyToOne.find((r) => r.ReferencingAttribute === f.a.LogicalName && r.ReferencedEntity === table) ||
            manyToOne.find((r) => r.ReferencingAttribute === f.a.LogicalName);
          if (!rel) throw new Error(`No relationship binds ${f.a.LogicalName}.`);
          const nav = rel.ReferencingEntityNavigationPropertyName;
          if (!gid) {
            payload[`${nav}@odata.bind`] = null;
          } else {
            const target = byLogical.get(table);
            payload[`${nav}@odata.bind`] = `/${target ? target.EntitySetName : table}(${gid})`;
          }
          continue;
        }
        const v = f.get();
        if (v === f.initial) continue;
        payload[f.a.LogicalName] = toJSON(f.a, v);
      }
    } catch (ex) {
      err.show(ex);
      return;
    }
    save.disabled = true;
    busy(form, true);
    try {
      await onSubmit(payload);
    } catch (ex) {
      if (!aborted(ex)) err.show(ex);
    } finally {
      save.disabled = false;
      busy(form, false);
    }
  });
  return form;
}

// toJSON turns what was typed into the JSON value of a column. Text that is not a number for a
// number column is sent as it is, so that the Web API's own error says what is wrong.
function toJSON(a, v) {
  const s = v.trim();
  switch (a.AttributeType) {
    case "Integer": case "BigInt": case "Picklist": case "State": case "Status":
      if (s === "") return null;
      return /^-?\d+$/.test(s) ? Number(s) : v;
    case "Decimal": case "Double": case "Money":
      if (s === "") return null;
      return Number.isFinite(Number(s)) ? Number(s) : v;
    case "Boolean":
      if (s === "") return null;
      return s === "true" ? true : s === "false" ? false : v;
    case "String": case "Memo":
      return v === "" ? null : v;
    default:
      return s === "" ? null : s;
  }
}

// ---------------------------------------------------------------------------------------------
// Requests: the journal and the fault rules

async function requestsView(ctx, view) {
  heading(view, "Requests");
  view.append(h("p", {class: "muted", text:
    "The emulator's journal of Web API and sign-in requests, newest first. The console's own Web API calls are in it too."}));

  // Filters.
  const method = select({id: "journal-method", testid: "journal-method"},
    [["", "Any"], ["GET", "GET"], ["POST", "POST"], ["PATCH", "PATCH"], ["PUT", "PUT"], ["DELETE", "DELETE"], ["OPTIONS", "OPTIONS"]]);
  const path = h("input", {type: "text", id: "journal-path", testid: "journal-path", autocomplete: "off",
    spellcheck: "false", placeholder: "/api/data/v9.2/accounts"});
  const status = h("input", {type: "text", id: "journal-status", testid: "journal-status", autocomplete: "off",
    placeholder: "4xx", size: "5"});
  const caller = h("input", {type: "text", id: "journal-caller", testid: "journal-caller", autocomplete: "off",
    spellcheck: "false", placeholder: "systemuserid"});
  const since = select({id: "journal-since", testid: "journal-since"},
    [["", "Any time"], ["60", "Last minute"], ["300", "Last 5 minutes"], ["3600", "Last hour"]]);
  const live = h("button", {type: "button", testid: "journal-live", "aria-pressed": "true", text: "Pause live updates"});
  const clear = h("button", {type: "button", class: "danger", testid: "journal-clear", text: "Clear the journal"});
  const filters = h("form", {class: "filters", testid: "journal-filters", "aria-label": "Journal filters"},
    field("Method", method), field("Path starts with", path), field("Status", status, "A code or a class: 404, 4xx"),
    field("Caller", caller), field("Since", since),
    h("div", {class: "actions"}, h("button", {type: "submit", text: "Apply"}), live, clear));
  const err = errorSlot("journal-error");
  const summary = h("p", {class: "summary", testid: "journal-summary"});
  const tbody = h("tbody");
  const table = dataTable({id: "journal-table", testid: "journal-table"}, "Requests, newest first",
    ["Time", "Method", "Path", "Status", th("Duration", {class: "num"}), "Caller", "Details"], tbody);

  const faultsSection = h("section", {"aria-labelledby": "faults-h", testid: "faults-section"},
    h("h2", {id: "faults-h", text: "Faults"}));
  const limitsSection = h("section", {"aria-labelledby": "limits-h", testid: "limits-section"},
    h("h2", {id: "limits-h", text: "Service protection limits"}));
  view.append(filters, err.el, summary, table, faultsSection, limitsSection);

  let paused = false;
  let timer = 0;
  const rows = new Map(); // id → {tr, detail}
  const expanded = new Set();

  function query() {
    const p = new URLSearchParams();
    if (method.value) p.set("method", method.value);
    if (path.value.trim()) p.set("path", path.value.trim());
    if (status.value.trim()) p.set("status", status.value.trim());
    if (caller.value.trim()) p.set("caller", caller.value.trim());
    if (since.value) p.set("since", new Date(Date.now() - Number(since.value) * 1000).toISOString());
    const q = p.toString();
    return "requests" + (q ? "?" + q : "");
  }

  let generation = 0;
  async function poll() {
    clearTimeout(timer);
    const my = ++generation; // a newer poll (filters changed) supersedes this one
    try {
      const data = await admin(query(), {signal: ctx.signal});
      if (my !== generation) return;
      err.show(null);
      show((data.value || []).slice(0, MAX_JOURNAL_ROWS), (data.value || []).length);
    } catch (e) {
      if (aborted(e) || my !== generation) return;
      err.show(e);
    }
    await faults.refresh();
    await limits.refresh();
    if (my === generation && !paused && !ctx.signal.aborted) timer = setTimeout(poll, POLL_MS);
  }
  ctx.onLeave(() => clearTimeout(timer));

  // show updates the table in place: new entries go on top and nothing that stays is moved, so
  // focus and open details survive the updates.
  function show(list, total) {
    const ids = new Set(list.map((e) => e.id));
    for (const [id, r] of rows) {
      if (!ids.has(id)) {
        r.tr.remove();
        r.detail.remove();
        rows.delete(id);
      }
    }
    let before = tbody.firstChild;
    for (const e of list) {
      const have = rows.get(e.id);
      if (have) {
        before = have.detail.nextSibling;
        continue;
      }
      const r = entryRows(e);
      rows.set(e.id, r);
      tbody.insertBefore(r.tr, before);
      tbody.insertBefore(r.detail, before);
    }
    summary.textContent = total > list.length ? `The newest ${list.length} of ${total} requests.`
      : `${total} request${total === 1 ? "" : "s"}.`;
  }

  function entryRows(e) {
    const detailID = `journal-detail-${e.id}`;
    const open = expanded.has(e.id);
    const toggle = h("button", {type: "button", class: "small", testid: "journal-expand", "aria-expanded": String(open),
      "aria-controls": detailID, text: open ? "Hide" : "Show",
      "aria-label": `Details of request ${e.id}: ${e.method} ${e.path}`});
    const tr = h("tr", {testid: "journal-entry", class: e.status >= 400 ? "failed" : "",
      dataset: {id: String(e.id), method: e.method, path: e.path, status: String(e.status)}},
      h("td", {class: "when"}, when(e.time)),
      h("td", {}, code(e.method)),
      h("th", {scope: "row", class: "path"}, h("span", {class: "wrap", text: e.path + (e.query ? "?" + safeDecode(e.query) : "")}),
        e.reason ? h("span", {class: "sub reason", text: e.reason}) : null,
        e.fault ? h("span", {class: "badge fault", text: `fault #${e.fault}`}) : null,
        e.batchId ? h("span", {class: "badge", text: `part of batch #${e.batchId}`}) : null),
      h("td", {class: "http-status s" + String(e.status)[0], text: String(e.status)}),
      h("td", {class: "num", text: `${e.durationMs} ms`}),
      h("td", {}, e.caller ? userCell(e.caller) : ""),
      h("td", {}, toggle));
    const detail = h("tr", {class: "detail", id: detailID, hidden: !open, testid: "journal-detail"},
      h("td", {colspan: "7"}, journalDetail(e)));
    toggle.addEventListener("click", () => {
      const show = detail.hidden;
      detail.hidden = !show;
      toggle.setAttribute("aria-expanded", String(show));
      toggle.textContent = show ? "Hide" : "Show";
      if (show) expanded.add(e.id);
      else expanded.delete(e.id);
    });
    return {tr, detail};
  }

  live.addEventListener("click", () => {
    paused = !paused;
    live.setAttribute("aria-pressed", String(!paused));
    live.textContent = paused ? "Resume live updates" : "Pause live updates";
    announce(paused ? "Live updates paused." : "Live updates resumed.");
    if (!paused) poll();
    else clearTimeout(timer);
  });
  clear.addEventListener("click", async () => {
    if (!(await confirmDialog("Clear the request journal? Every entry goes.", "Clear"))) return;
    try {
      await admin("requests", {method: "DELETE"});
      announce("The journal is empty.");
      poll();
    } catch (e) {
      err.show(e);
    }
  });
  filters.addEventListener("submit", (e) => {
    e.preventDefault();
    for (const r of rows.values()) {
      r.tr.remove();
      r.detail.remove();
    }
    rows.clear();
    poll();
  });
  for (const c of [method, since]) c.addEventListener("change", () => filters.requestSubmit());

  const faults = faultsPanel(ctx, faultsSection);
  const limits = limitsPanel(ctx, limitsSection);
  await poll();
}

// limitsPanel shows the service protection limits in force (--limits) and each user's use of
// them in the current window.
function limitsPanel(ctx, section) {
  const err = errorSlot("limits-error");
  const summary = h("p", {testid: "limits-summary"});
  const tbody = h("tbody");
  const list = dataTable({id: "limits-table", testid: "limits-table"}, "Use of the limits in the current window, by user",
    ["User", th("Requests", {class: "num"}), th("Execution time (ms)", {class: "num"}), th("In flight", {class: "num"})], tbody);
  section.append(err.el, summary, list);

  async function refresh() {
    try {
      const l = await admin("limits", {signal: ctx.signal});
      err.show(null);
      if (!l.enabled) {
        summary.textContent = "No limits are enforced (start the emulator with --limits dataverse, or scale=F, to get Dataverse's 429 answers).";
        list.hidden = true;
        return;
      }
      const parts = [];
      if (l.requests) parts.push(`${l.requests} requests`);
      if (l.executionTimeMs) parts.push(`${l.executionTimeMs} ms of execution time`);
      summary.textContent = `Per user: ${parts.join(" and ") || "no count"} in ${l.windowSeconds} s` +
        (l.concurrent ? `, at most ${l.concurrent} at once.` : ".");
      list.hidden = false;
      tbody.replaceChildren(...(l.users || []).map((u) => {
        const who = h("th", {scope: "row", text: u.caller});
        userName(u.caller).then((n) => { who.textContent = n; });
        return h("tr", {testid: "limits-user"}, who,
          h("td", {class: "num", text: String(u.requests)}),
          h("td", {class: "num", text: String(u.executionTimeMs)}),
          h("td", {class: "num", text: String(u.inFlight)}));
      }));
    } catch (ex) {
      if (!aborted(ex)) err.show(ex);
    }
  }

  return {refresh};
}

function safeDecode(s) {
  try {
    return decodeURIComponent(s.replace(/\+/g, " "));
  } catch {
    return s;
  }
}

function journalDetail(e) {
  const headers = Object.entries(e.headers || {}).sort(([a], [b]) => a.localeCompare(b));
  const respHeaders = Object.entries(e.responseHeaders || {}).sort(([a], [b]) => a.localeCompare(b));
  return h("div", {class: "journal-detail"},
    h("div", {class: "half"},
      h("h3", {text: "Request"}),
      h("p", {}, code(`${e.method} ${e.path}${e.query ? "?" + e.query : ""}`)),
      headers.length ? h("dl", {class: "headers", testid: "journal-request-headers"},
        headers.map(([k, v]) => h("div", {}, h("dt", {text: k}), h("dd", {text: v})))) : null,
      e.requestBody ? h("pre", {class: "body", testid: "journal-request-body", tabindex: "0", text: pretty(e.requestBody)})
        : h("p", {class: "muted", text: "No request body."})),
    h("div", {class: "half"},
      h("h3", {text: "Response"}),
      h("p", {}, h("strong", {text: `HTTP ${e.status}`}), ` in ${e.durationMs} ms`,
        e.caller ? ["; caller ", userCell(e.caller), " ", code(e.caller)] : null),
      e.reason ? h("p", {class: "reason", text: e.reason}) : null,
      e.fault ? h("p", {text: `Answered by fault rule #${e.fault}.`}) : null,
      respHeaders.length ? h("dl", {class: "headers", testid: "journal-response-headers"},
        respHeaders.map(([k, v]) => h("div", {}, h("dt", {text: k}), h("dd", {text: v})))) : null,
      e.responseBody ? h("pre", {class: "body", testid: "journal-response-body", tabindex: "0", text: pretty(e.responseBody)})
        : h("p", {class: "muted", text: "No response body."}),
      e.truncated ? h("p", {class: "muted", text: "A body was longer than the journal keeps and is cut."}) : null));
}

// faultsPanel lists the fault rules and has the form that adds one.
function faultsPanel(ctx, section) {
  const err = errorSlot("faults-error");
  const tbody = h("tbody");
  const empty = h("p", {class: "muted", testid: "faults-none", text: "No fault rules: every request is served."});
  const list = dataTable({id: "faults-table", testid: "faults-table"}, "Fault rules, in the order they apply",
    ["Rule", "Matches", "Does", th("Applied", {class: "num"}), "Left", "Remove"], tbody);
  section.append(h("p", {class: "muted", text:
    "Fault rules make matching requests fail on purpose: an error answer, latency, a reset connection or no answer."}),
  err.el, empty, list);

  const f = (name, control, hint) => {
    control.id = `fault-${name}`;
    control.dataset.testid = `fault-${name}`;
    return field(fieldLabels[name], control, hint);
  };
  const fieldLabels = {
    method: "Method", path: "Path starts with", entityset: "Entity set", operation: "Function or action",
    query: "Query contains", header: "Header", batch: "$batch parts", effect: "Effect", status: "Status",
    code: "Error code", message: "Error message", latency: "Latency (ms)", timeout: "Give up after (ms)",
    times: "Times", probability: "Probability", seed: "Seed",
  };
  const text = (placeholder) => h("input", {type: "text", autocomplete: "off", spellcheck: "false", placeholder});
  const num = (placeholder) => h("input", {type: "number", min: "0", placeholder, inputmode: "numeric"});
  const c = {
    method: select({}, [["", "Any"], ["GET", "GET"], ["POST", "POST"], ["PATCH", "PATCH"], ["PUT", "PUT"], ["DELETE", "DELETE"]]),
    path: text("/api/data/v9.2/accounts"),
    entityset: text("accounts"),
    operation: text("WhoAmI"),
    query: text("fetchXml="),
    header: text("Name: value"),
    batch: select({}, [["", "Both"], ["true", "Only $batch parts"], ["false", "Only requests on their own"]]),
    effect: select({}, [["error", "Answer with an error"], ["latency", "Only add latency"],
      ["reset", "Reset the connection"], ["timeout", "Never answer"]]),
    status: h("input", {type: "number", min: "400", max: "599", value: "503", inputmode: "numeric"}),
    code: text("0x80040216"),
    message: text("default for the status"),
    latency: num("0"),
    timeout: num("until the client gives up"),
    times: num("0 = until removed"),
    probability: h("input", {type: "number", min: "0", max: "1", step: "0.05", placeholder: "1", inputmode: "decimal"}),
    seed: num("0"),
  };
  const errorOnly = h("div", {class: "form-grid"}, f("status", c.status), f("code", c.code), f("message", c.message));
  const timeoutOnly = h("div", {class: "form-grid"}, f("timeout", c.timeout));
  const formErr = errorSlot("fault-error");
  const form = h("form", {class: "fault-form", testid: "fault-form", "aria-labelledby": "fault-form-h"},
    h("h3", {id: "fault-form-h", text: "Add a fault rule"}),
    h("fieldset", {}, h("legend", {text: "Which requests (empty fields match any)"}),
      h("div", {class: "form-grid"}, f("method", c.method), f("path", c.path), f("entityset", c.entityset),
        f("operation", c.operation), f("query", c.query), f("header", c.header, "Matches the value exactly"),
        f("batch", c.batch))),
    h("fieldset", {}, h("legend", {text: "What happens"}),
      h("div", {class: "form-grid"}, f("effect", c.effect), f("latency", c.latency)), errorOnly, timeoutOnly),
    h("fieldset", {}, h("legend", {text: "How often"}),
      h("div", {class: "form-grid"}, f("times", c.times, "How many matching requests; empty or 0: until removed"),
        f("probability", c.probability, "A share between 0 and 1; empty: every one"), f("seed", c.seed))),
    formErr.el,
    h("div", {class: "actions"}, h("button", {type: "submit", class: "primary", testid: "fault-add", text: "Add the rule"})));
  section.append(form);
  const sync = () => {
    errorOnly.hidden = c.effect.value !== "error";
    timeoutOnly.hidden = c.effect.value !== "timeout";
  };
  c.effect.addEventListener("change", sync);
  sync();

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    formErr.show(null);
    const rule = {match: {}};
    const put = (obj, k, v) => {
      if (v !== "") obj[k] = v;
    };
    put(rule.match, "method", c.method.value);
    put(rule.match, "path", c.path.value.trim());
    put(rule.match, "entitySet", c.entityset.value.trim());
    put(rule.match, "operation", c.operation.value.trim());
    put(rule.match, "query", c.query.value.trim());
    put(rule.match, "header", c.header.value.trim());
    if (c.batch.value) rule.match.batchPart = c.batch.value === "true";
    const n = (x) => (x.value.trim() === "" ? "" : Number(x.value));
    switch (c.effect.value) {
      case "error":
        rule.response = {status: Number(c.status.value)};
        put(rule.response, "code", c.code.value.trim());
        put(rule.response, "message", c.message.value.trim());
        break;
      case "reset":
        rule.action = "reset";
        break;
      case "timeout":
        rule.action = "timeout";
        put(rule, "timeoutMs", n(c.timeout));
        break;
    }
    put(rule, "latencyMs", n(c.latency));
    put(rule, "times", n(c.times));
    put(rule, "probability", n(c.probability));
    put(rule, "seed", n(c.seed));
    try {
      const added = await admin("faults", {method: "POST", body: rule});
      announce(`Added fault rule #${added.id}.`);
      await refresh();
    } catch (ex) {
      formErr.show(ex);
    }
  });

  async function refresh() {
    try {
      const data = await admin("faults", {signal: ctx.signal});
      err.show(null);
      const rules = Array.isArray(data) ? data : data.value || [];
      empty.hidden = rules.length > 0;
      list.hidden = rules.length === 0;
      // Rebuild only when something changed, so that a focused Remove button stays focused.
      const sig = JSON.stringify(rules.map((r) => [r.id, r.applied, r.remaining]));
      if (sig === tbody.dataset.sig) return;
      tbody.dataset.sig = sig;
      const focused = document.activeElement && document.activeElement.dataset.rule;
      tbody.replaceChildren(...rules.map((r) => faultRow(r)));
      if (focused) {
        const b = tbody.querySelector(`button[data-rule="${CSS.escape(focused)}"]`);
        if (b) b.focus();
      }
    } catch (ex) {
      if (!aborted(ex)) err.show(ex);
    }
  }

  function faultRow(r) {
    const m = r.match || {};
    const matches = [m.method, m.path && `path ${m.path}*`, m.entitySet && `set ${m.entitySet}`, m.operation && `operation ${m.operation}`,
      m.query && `query has ${m.query}`, m.header && `header ${m.header}`,
      m.batchPart === true ? "$batch parts" : m.batchPart === false ? "not $batch parts" : ""].filter(Boolean).join(", ") || "every request";
    const does = [];
    if (r.response) does.push(`HTTP ${r.response.status} ${r.response.code || ""}: ${r.response.message || ""}`);
    if (r.action === "reset") does.push("reset the connection");
    if (r.action === "timeout") does.push(r.timeoutMs ? `no answer for ${r.timeoutMs} ms` : "no answer");
    if (r.latencyMs) does.push(`${r.latencyMs} ms latency`);
    if (r.probability && r.probability < 1) does.push(`${Math.round(r.probability * 100)}% of matches`);
    const remove = h("button", {type: "button", class: "small danger", testid: "fault-remove", dataset: {rule: String(r.id)},
      text: "Remove", "aria-label": `Remove fault rule ${r.id}`,
      onclick: async () => {
        try {
          await admin(`faults/${r.id}`, {method: "DELETE"});
          announce(`Removed fault rule #${r.id}.`);
        } catch (ex) {
          err.show(ex);
        }
        await refresh();
      }});
    return h("tr", {testid: "fault-row", dataset: {id: String(r.id), status: r.response ? String(r.response.status) : ""}},
      h("th", {scope: "row", text: `#${r.id}`}),
      h("td", {text: matches}),
      h("td", {testid: "fault-does", text: does.join("; ")}),
      h("td", {class: "num", testid: "fault-applied", text: String(r.applied || 0)}),
      h("td", {text: r.times ? `${r.remaining} of ${r.times}` : "until removed"}),
      h("td", {}, remove));
  }

  return {refresh};
}

// ---------------------------------------------------------------------------------------------
// Webhooks

async function webhooksView(ctx, view) {
  heading(view, "Webhooks");
  const refresh = h("button", {type: "button", testid: "webhooks-refresh", text: "Refresh"});
  view.append(h("p", {class: "muted", text:
    "Webhooks registered through serviceendpoints and sdkmessageprocessingsteps, the calls the emulator made, and the system jobs that failed."}),
  h("div", {class: "toolbar"}, refresh));
  const sections = {
    steps: h("section", {"aria-labelledby": "steps-h", testid: "steps-section"}, h("h2", {id: "steps-h", text: "Steps"})),
    endpoints: h("section", {"aria-labelledby": "endpoints-h", testid: "endpoints-section"}, h("h2", {id: "endpoints-h", text: "Endpoints"})),
    deliveries: h("section", {"aria-labelledby": "deliveries-h", testid: "deliveries-section"}, h("h2", {id: "deliveries-h", text: "Recent deliveries"})),
    jobs: h("section", {"aria-labelledby": "jobs-h", testid: "jobs-section"}, h("h2", {id: "jobs-h", text: "Failed system jobs"})),
  };
  view.append(...Object.values(sections));
  const holders = {};
  for (const [k, s] of Object.entries(sections)) {
    holders[k] = h("div");
    s.append(holders[k]);
  }

  async function fill(key, build) {
    const holder = holders[key];
    busy(holder, true);
    try {
      holder.replaceChildren(await build());
    } catch (e) {
      if (!aborted(e)) holder.replaceChildren(errorBox(e, `${key}-error`));
    } finally {
      busy(holder, false);
    }
  }
  const none = (testid, text) => h("p", {class: "muted", testid, text});
  const fv = (r, k) => {
    const v = r[k + FORMATTED];
    return v !== undefined && v !== null ? String(v) : rawText(r[k]);
  };

  const load = () => Promise.all([
    fill("steps", async () => {
      const {data} = await api("sdkmessageprocessingsteps?$select=name,stage,mode,rank,statecode,filteringattributes," +
        "_sdkmessageid_value,_sdkmessagefilterid_value,_eventhandler_value&$orderby=name asc", {signal: ctx.signal, pageSize: 500});
      if (!data.value.length) return none("steps-none", "No steps are registered.");
      return dataTable({testid: "steps-table"}, "Registered steps",
        ["Step", "Message", "Filter", "Stage", "Mode", "Rank", "Handler", "Filtering columns", "State"],
        h("tbody", {}, data.value.map((r) => h("tr", {testid: "step-row", dataset: {id: r.sdkmessageprocessingstepid}},
          h("th", {scope: "row"}, h("a", {href: `#/rows/sdkmessageprocessingstep/${r.sdkmessageprocessingstepid}`, text: r.name || r.sdkmessageprocessingstepid})),
          h("td", {text: fv(r, "_sdkmessageid_value")}),
          h("td", {text: fv(r, "_sdkmessagefilterid_value")}),
          h("td", {text: fv(r, "stage")}),
          h("td", {text: fv(r, "mode")}),
          h("td", {class: "num", text: rawText(r.rank)}),
          h("td", {}, valueNode(r, "_eventhandler_value")),
          h("td", {text: r.filteringattributes || "all"}),
          h("td", {text: fv(r, "statecode")})))));
    }),
    fill("endpoints", async () => {
      const {data} = await api("serviceendpoints?$select=name,url,contract,authtype,messageformat,namespaceaddress&$orderby=name asc",
        {signal: ctx.signal, pageSize: 500});
      if (!data.value.length) return none("endpoints-none", "No service endpoints.");
      return dataTable({testid: "endpoints-table"}, "Service endpoints",
        ["Endpoint", "URL", "Contract", "Authentication", "Message format"],
        h("tbody", {}, data.value.map((r) => h("tr", {testid: "endpoint-row", dataset: {id: r.serviceendpointid}},
          h("th", {scope: "row"}, h("a", {href: `#/rows/serviceendpoint/${r.serviceendpointid}`, text: r.name || r.serviceendpointid})),
          h("td", {}, h("span", {class: "wrap", text: r.url || r.namespaceaddress || ""})),
          h("td", {text: fv(r, "contract")}),
          h("td", {text: fv(r, "authtype")}),
          h("td", {text: fv(r, "messageformat")})))));
    }),
    fill("deliveries", async () => {
      const data = await admin("webhooks/deliveries", {signal: ctx.signal});
      const list = (data.value || []).slice().sort((a, b) => String(b.time).localeCompare(String(a.time)));
      if (!list.length) return none("deliveries-none", "The emulator has called no webhook yet.");
      return dataTable({testid: "deliveries-table"}, "Webhook calls, newest first",
        ["Time", "Step", "Message", "Row", "Mode", "URL", "Attempts", "Status", th("Duration", {class: "num"}), "Answer"],
        h("tbody", {}, list.map((d) => h("tr", {testid: "delivery-row", class: d.succeeded ? "" : "failed",
          dataset: {status: String(d.status), succeeded: String(d.succeeded)}},
          h("td", {class: "when"}, when(d.time)),
          h("th", {scope: "row", text: d.stepName || d.stepId}),
          h("td", {text: `${d.message} ${d.entity}`}),
          h("td", {}, d.recordId && d.entity ? h("a", {href: `#/rows/${enc(d.entity)}/${d.recordId}`, text: d.recordId}) : ""),
          h("td", {text: d.mode}),
          h("td", {}, h("span", {class: "wrap", text: d.url})),
          h("td", {class: "num", text: String(d.attempts)}),
          h("td", {class: "http-status " + (d.succeeded ? "s2" : "s5"), text: d.status ? String(d.status) : "no answer"}),
          h("td", {class: "num", text: `${d.durationMs} ms`}),
          h("td", {}, d.response || d.error
            ? h("details", {}, h("summary", {text: d.error ? "Error" : "Body"}),
              h("pre", {class: "body", tabindex: "0", text: d.error ? d.error : pretty(d.response)}))
            : "")))));
    }),
    fill("jobs", async () => {
      const {data} = await api("asyncoperations?$select=name,operationtype,messagename,primaryentitytype,message," +
        "friendlymessage,errorcode,retrycount,createdon,completedon,statuscode,_regardingobjectid_value" +
        `&$filter=${enc("statuscode eq 31")}&$orderby=createdon desc`, {signal: ctx.signal, pageSize: 100});
      if (!data.value.length) return none("jobs-none", "No system job has failed.");
      return dataTable({testid: "jobs-table"}, "System jobs with status Failed (31)",
        ["Job", "Message", "Row", "Created", "Completed", "Retries", "Error"],
        h("tbody", {}, data.value.map((r) => h("tr", {testid: "job-row"},
          h("th", {scope: "row"}, h("a", {href: `#/rows/asyncoperation/${r.asyncoperationid}`, text: r.name || r.asyncoperationid})),
          h("td", {text: [r.messagename, r.primaryentitytype].filter(Boolean).join(" ")}),
          h("td", {}, valueNode(r, "_regardingobjectid_value")),
          h("td", {text: formatTime(r.createdon)}),
          h("td", {text: formatTime(r.completedon)}),
          h("td", {class: "num", text: rawText(r.retrycount)}),
          h("td", {}, h("span", {class: "wrap", text: r.friendlymessage || r.message || rawText(r.errorcode)}))))));
    }),
  ]);
  refresh.addEventListener("click", async () => {
    await load();
    announce("Webhooks refreshed.");
  });
  await load();
}

// ---------------------------------------------------------------------------------------------
// State: connection, snapshots, reset, environments

async function stateView(ctx, view) {
  heading(view, "State");
  const conn = h("section", {"aria-labelledby": "conn-h", testid: "connection-section"}, h("h2", {id: "conn-h", text: "Connection"}));
  const snaps = h("section", {"aria-labelledby": "snaps-h", testid: "snapshots-section"}, h("h2", {id: "snaps-h", text: "Snapshots"}));
  const reset = h("section", {"aria-labelledby": "reset-h", testid: "reset-section"}, h("h2", {id: "reset-h", text: "Reset"}));
  const envs = h("section", {"aria-labelledby": "envs-h", testid: "environments-section"}, h("h2", {id: "envs-h", text: "Environments"}));
  view.append(conn, snaps, reset, envs);

  // Connection facts.
  const s = session;
  const facts = [
    ["Web API URL", s.webApiUrl, "webapi"],
    ["Organization URL", s.organizationUrl, "org"],
    ["Token URL", s.tokenUrl, "token"],
    ["Authorize URL", s.authorizeUrl, "authorize"],
    ["Tenant id", s.tenantId, "tenant"],
    ["Client id", s.clientId, "client"],
    ["Scope", s.scope, "scope"],
  ];
  const u = s.user || {};
  conn.append(h("p", {class: "muted", text:
    "What a client needs to reach this organization. The client secret is the emulator's development secret (see the README)."}),
  h("dl", {class: "facts copyable", testid: "connection"},
    facts.map(([name, value, key]) => h("div", {dataset: {fact: key}},
      h("dt", {text: name}),
      h("dd", {}, h("code", {testid: `conn-${key}`, text: value || ""}), " ", copyButton(name, value || "", `copy-${key}`)))),
    h("div", {dataset: {fact: "admin"}}, h("dt", {text: "Admin API"}),
      h("dd", {testid: "conn-admin", text: s.adminTokenRequired
        ? "Needs the admin token (--admin-token); this tab keeps it for its session."
        : "Open to this machine's own pages and tools (no --admin-token)."})),
    h("div", {dataset: {fact: "user"}}, h("dt", {text: "Console user"}),
      h("dd", {}, `${u.name || ""} `, code(u.username || ""), " ", code(u.systemuserid || ""))),
    h("div", {dataset: {fact: "accesstoken"}}, h("dt", {text: "Access token"}),
      h("dd", {}, h("span", {class: "muted", text: "The console's delegated token for the Web API. "}),
        copyButton("access token", () => session.accessToken, "copy-accesstoken")))));
  const health = h("p", {class: "muted", testid: "health"});
  conn.append(health);
  admin("health", {signal: ctx.signal}).then((hl) => {
    health.textContent = `Health: ${hl.status}; ${hl.entitySets} tables; emulator time ${formatTime(hl.time)}.`;
  }).catch((e) => {
    if (!aborted(e)) health.replaceChildren(errorBox(e));
  });

  // Snapshots.
  const snapErr = errorSlot("snapshots-error");
  const snapList = h("div", {testid: "snapshots-list"});
  const nameInput = h("input", {type: "text", id: "snapshot-name", testid: "snapshot-name", autocomplete: "off",
    spellcheck: "false", pattern: "[A-Za-z0-9._\\-]{1,64}", required: true, placeholder: "before-import"});
  const saveForm = h("form", {class: "toolbar", testid: "snapshot-form", "aria-label": "Save a snapshot"},
    field("Snapshot name", nameInput, "1 to 64 letters, digits, '.', '_' or '-'. An existing snapshot of that name is replaced."),
    h("button", {type: "submit", class: "primary", testid: "snapshot-save", text: "Save a snapshot"}));
  snaps.append(h("p", {class: "muted", text: "A snapshot is a copy of all the data; restoring it puts the data back as it was."}),
    saveForm, snapErr.el, snapList);

  async function loadSnapshots() {
    try {
      const data = await admin("snapshots", {signal: ctx.signal});
      const names = data.value || [];
      if (!names.length) {
        snapList.replaceChildren(h("p", {class: "muted", testid: "snapshots-none", text: "No snapshots saved."}));
        return;
      }
      snapList.replaceChildren(dataTable({testid: "snapshots-table"}, "Saved snapshots", ["Snapshot", "Restore", "Delete"],
        h("tbody", {}, names.map((n) => h("tr", {testid: "snapshot-row", dataset: {name: n}},
          h("th", {scope: "row"}, code(n)),
          h("td", {}, h("button", {type: "button", class: "small", testid: "snapshot-restore", text: "Restore",
            "aria-label": `Restore snapshot ${n}`,
            onclick: async () => {
              if (!(await confirmDialog(`Restore snapshot “${n}”? The data now in the emulator is replaced.`, "Restore"))) return;
              try {
                await admin(`snapshots/${enc(n)}/restore`, {method: "POST"});
                dropCaches();
                announce(`Restored snapshot ${n}.`);
              } catch (e) {
                snapErr.show(e);
              }
            }})),
          h("td", {}, h("button", {type: "button", class: "small danger", testid: "snapshot-delete", text: "Delete",
            "aria-label": `Delete snapshot ${n}`,
            onclick: async () => {
              if (!(await confirmDialog(`Delete snapshot “${n}”?`, "Delete"))) return;
              try {
                await admin(`snapshots/${enc(n)}`, {method: "DELETE"});
                announce(`Deleted snapshot ${n}.`);
              } catch (e) {
                snapErr.show(e);
              }
              loadSnapshots();
            }})))))));
    } catch (e) {
      if (!aborted(e)) snapErr.show(e);
    }
  }
  saveForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    snapErr.show(null);
    const n = nameInput.value.trim();
    if (!n) {
      nameInput.setAttribute("aria-invalid", "true");
      snapErr.show(new Error("Enter a name for the snapshot."));
      nameInput.focus();
      return;
    }
    nameInput.removeAttribute("aria-invalid");
    try {
      await admin(`snapshots/${enc(n)}`, {method: "PUT"});
      announce(`Saved snapshot ${n}.`);
      nameInput.value = "";
      await loadSnapshots();
    } catch (ex) {
      snapErr.show(ex);
    }
  });

  // Reset.
  const resetErr = errorSlot("reset-error");
  reset.append(h("p", {text: "Put the data back to the fixtures the emulator started with. Snapshots stay."}),
    h("button", {type: "button", class: "danger", testid: "reset", text: "Reset to the fixtures",
      onclick: async () => {
        if (!(await confirmDialog("Reset the data to the fixtures? Every change since the start is lost (snapshots stay).", "Reset"))) return;
        resetErr.show(null);
        try {
          await admin("reset", {method: "POST"});
          dropCaches();
          announce("The data is back to the fixtures.");
        } catch (e) {
          resetErr.show(e);
        }
      }}), resetErr.el);

  // Environments.
  const envErr = errorSlot("environments-error");
  const envList = h("div", {testid: "environments-list"});
  const envName = h("input", {type: "text", id: "environment-name", testid: "environment-name", autocomplete: "off",
    spellcheck: "false", pattern: "[A-Za-z0-9][A-Za-z0-9._\\-]{0,63}", placeholder: "ci-1"});
  const envForm = h("form", {class: "toolbar", testid: "environment-form", "aria-label": "Create an environment"},
    field("Environment name", envName, "Optional: a name is made up when empty."),
    h("button", {type: "submit", class: "primary", testid: "environment-create", text: "Create an environment"}));
  envs.append(h("p", {class: "muted", text:
    "An environment is a second organization in this emulator, with its own data, journal and faults, under /env/{name}/."}),
  s.environment ? h("p", {}, `This console shows environment ${s.environment}. `,
    h("a", {href: "/_emulator/ui/", text: "Open the default organization's console"})) : null,
  envForm, envErr.el, envList);

  async function loadEnvironments() {
    try {
      const data = await admin("_emulator/environments", {root: true, signal: ctx.signal});
      const list = data.value || [];
      if (!list.length) {
        envList.replaceChildren(h("p", {class: "muted", testid: "environments-none", text: "No environments."}));
        return;
      }
      envList.replaceChildren(dataTable({testid: "environments-table"}, "Environments",
        ["Environment", "Web API URL", "Created", "Console", "Delete"],
        h("tbody", {}, list.map((env) => h("tr", {testid: "environment-row", dataset: {name: env.name}},
          h("th", {scope: "row"}, code(env.name), env.name === s.environment ? h("span", {class: "badge", text: "this one"}) : null),
          h("td", {}, h("span", {class: "wrap", text: env.apiUrl || ""}), " ", copyButton(`Web API URL of ${env.name}`, env.apiUrl || "")),
          h("td", {text: formatTime(env.createdOn)}),
          h("td", {}, h("a", {href: `/env/${enc(env.name)}/_emulator/ui/`, testid: "environment-open", text: "Open",
            "aria-label": `Open the console of ${env.name}`})),
          h("td", {}, h("button", {type: "button", class: "small danger", testid: "environment-delete", text: "Delete",
            "aria-label": `Delete environment ${env.name}`,
            onclick: async () => {
              if (!(await confirmDialog(`Delete environment “${env.name}” and all its data?`, "Delete"))) return;
              try {
                await admin(`_emulator/environments/${enc(env.name)}`, {method: "DELETE", root: true});
                announce(`Deleted environment ${env.name}.`);
              } catch (e) {
                envErr.show(e);
              }
              loadEnvironments();
            }})))))));
    } catch (e) {
      if (!aborted(e)) envErr.show(e);
    }
  }
  envForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    envErr.show(null);
    const n = envName.value.trim();
    try {
      const created = await admin("_emulator/environments", {method: "POST", root: true, body: n ? {name: n} : {}});
      announce(`Created environment ${created.name}.`);
      envName.value = "";
      await loadEnvironments();
    } catch (ex) {
      envErr.show(ex);
    }
  });

  await Promise.all([loadSnapshots(), loadEnvironments()]);
}

// ---------------------------------------------------------------------------------------------
// Start

async function start() {
  setupSignIn();
  $("#skip-link").addEventListener("click", (e) => {
    e.preventDefault();
    $("#main").focus();
  });
  try {
    await loadSession();
  } catch (e) {
    const view = $("#view");
    view.replaceChildren(h("h1", {tabindex: "-1", text: "The console could not start"}), errorBox(e, "session-error"),
      h("button", {type: "button", text: "Try again", onclick: () => location.reload()}));
    $("#where").textContent = "Not connected";
    return;
  }
  window.addEventListener("hashchange", () => render(true));
  render(false);
}

start();
