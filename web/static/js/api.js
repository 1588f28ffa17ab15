// The JSON API under /api/v1/, with the bearer token the page was opened
// with, and the words of its answers: everything the server says comes as
// a code with parameters, worded here in the reader's language (the
// server's English only where the strings have no words for a code).

import { blockForToken, el, showBanner, toast } from "./dom.js";
import { fmtTime, has, labelText, lang, listSep, t } from "./i18n.js";
import { kindLabel, ownerIdLabel } from "./kinds.js";

// session is the token and the version of the document on screen (its
// ETag), sent with writes as If-Match.
export const session = { token: "", etag: null };

export class ApiError extends Error {
  constructor(status, data) {
    super((data && data.error) || "HTTP " + status);
    this.status = status;
    this.data = data || {};
  }
}

// api calls the API. opts: raw (body is already JSON text), ifMatch, track
// (remember the answer's ETag as the version on screen), blob.
export async function api(method, path, body, opts) {
  opts = opts || {};
  const headers = { Authorization: "Bearer " + session.token };
  let payload;
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    payload = opts.raw ? body : JSON.stringify(body);
  }
  if (opts.ifMatch) headers["If-Match"] = opts.ifMatch;
  let res;
  try {
    res = await fetch("/api/v1" + path, { method, headers, body: payload, cache: "no-store" });
  } catch (e) {
    showBanner("network", () => t("banner.network", { msg: e.message }), true);
    throw new ApiError(0, { error: e.message });
  }
  const ct = res.headers.get("Content-Type") || "";
  let data = null;
  if (res.ok && opts.blob) data = await res.blob();
  else if (ct.includes("json")) data = await res.json().catch(() => null);
  if (!res.ok) {
    const err = new ApiError(res.status, data);
    if (res.status === 401) blockForToken(!session.token);
    if (res.status === 409 && err.data.code === "stale") showBanner("stale", () => t("banner.stale"), true);
    throw err;
  }
  const etag = res.headers.get("ETag");
  if (etag && opts.track) session.etag = etag;
  return { data, etag, res };
}

// wordParams puts a code's parameters into words: entity names, kind
// names and labels, lists and times.
function wordParams(params) {
  const out = {};
  for (const [k, v] of Object.entries(params || {})) {
    if (v === null || v === undefined) continue;
    if (k === "what") out[k] = has("what." + v) ? t("what." + v) : v;
    else if (k === "kinds") out[k] = (Array.isArray(v) ? v : [v]).map(kindLabel).join(listSep());
    else if ((k === "kind" || k === "was_kind") && typeof v === "string") out[k] = kindLabel(v);
    else if (k === "keys") out[k] = (Array.isArray(v) ? v : [v]).map(ownerIdLabel).join(lang() === "zh" ? "或" : " or ");
    else if (k === "cause") out[k] = has("test." + v) ? t("test." + v) : v;
    else if (k === "time") out[k] = fmtTime(v);
    else if (v && typeof v === "object" && !Array.isArray(v) && (v.zh !== undefined || v.en !== undefined)) out[k] = labelText(v);
    else if (Array.isArray(v)) out[k] = v.join(", ");
    else out[k] = v;
  }
  return out;
}

// words says a code of the server in the page's language: prefix + code,
// with its parameters; without words for it, the server's English
// (fallback).
export function words(prefix, code, params, fallback) {
  if (code && has(prefix + code)) return t(prefix + code, wordParams(params));
  return fallback || "";
}

// fieldText words one field error of an answer.
export function fieldText(fe) {
  return words("err.", fe.code, fe.params, fe.message);
}

// errText words an API error (an ApiError, or any error).
export function errText(err) {
  if (!err) return "";
  const d = err.data || {};
  if (d.code === "validation" && d.fields && d.fields.length) return d.fields.map((f) => f.field + ": " + fieldText(f)).join("；");
  if (d.code) return words("err.", d.code, d.params, err.message);
  return err.message || String(err);
}

// jsonWhere says where JSON.parse stopped reading text: a line and a column
// when the browser tells the position, else nothing.
export function jsonWhere(text, e) {
  const m = /position (\d+)/.exec(e && e.message ? e.message : "");
  if (!m) return "";
  const before = text.slice(0, Number(m[1])).split("\n");
  return t("json.where", { line: before.length, col: before[before.length - 1].length + 1 });
}

// safe runs an event handler and shows what went wrong instead of leaving
// an unhandled rejection.
export function safe(fn) {
  return (ev) => {
    Promise.resolve()
      .then(() => fn(ev))
      .catch((err) => toast(errText(err)));
  };
}

// actionButton is a row's small button.
export function actionButton(text, id, label, onclick, cls) {
  return el("button", { type: "button", id, class: cls || "btn btn-small", "aria-label": label, onclick: safe(onclick) }, text);
}
