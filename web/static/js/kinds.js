// The robot kinds, as the API describes them (GET /api/v1/meta, also in
// the snapshot): labels, inputs, the owner id each mentions by, and each
// kind's own words for the fixes it gives. The page names no kind itself.

import { el } from "./dom.js";
import { format, labelText, lang } from "./i18n.js";

export const meta = {
  kinds: [],
  levels: ["debug", "info", "warning", "error", "fatal"],
  default_keyword: "详情",
  // the choices of the on-call forms (mentions, periods, quiet modes, the default time zone, the timeline's days)
  oncall: { mentions: ["owners", "oncall", "both"], periods: ["day", "week"], quiet_modes: ["hold", "silent"], default_timezone: "Asia/Shanghai", timeline_days: 28 },
};

export function setMeta(m) {
  if (!m) return;
  meta.kinds = m.kinds || [];
  meta.levels = m.levels || meta.levels;
  meta.default_keyword = m.default_keyword || meta.default_keyword;
  meta.oncall = m.oncall || meta.oncall;
}

export function kindOf(name) {
  return meta.kinds.find((k) => k.name === name);
}

export function kindLabel(name) {
  const k = kindOf(name);
  return k ? labelText(k.label) : name;
}

// kindTag shows a kind, coloured by its place in the list of kinds.
export function kindTag(name) {
  return el("span", { class: "tag kind " + kindColour(name), text: kindLabel(name) });
}

// kindColour is the class colouring a kind by its place in the list.
export function kindColour(name) {
  const i = meta.kinds.findIndex((k) => k.name === name);
  return "kind-c" + (i < 0 ? "x" : i % 4);
}

// ownerIdKinds are the kinds that mention by a user id an owner carries.
export function ownerIdKinds() {
  return meta.kinds.filter((k) => k.owner_id);
}

export function ownerIdLabel(key) {
  const k = meta.kinds.find((x) => x.owner_id && x.owner_id.key === key);
  return k ? labelText(k.owner_id.label) : key;
}

// ownerDetail is what a list of owners shows beside a name: the mobile,
// else the first user id.
export function ownerDetail(o) {
  return o.mobile || ownerIdKinds().map((k) => o[k.owner_id.key]).find(Boolean) || "";
}

// kindFix words a fix a robot of kind gave (its code and parameters) in the
// kind's own words (Kind.Fixes), or "" when the kind has none for it.
export function kindFix(kind, code, params) {
  const k = kindOf(kind);
  const w = k && k.fixes && code ? k.fixes[code] : null;
  return w ? format(w[lang()] || w.zh || "", params) : "";
}
