// The configuration document as the page holds it: its lists, the store it
// came from, the last test alert of each robot and project, what changes
// between versions look like, and the guide's progress in this browser.
// refresh reads it again and tells the pages.

import { $, bannerKind, clearOutcomes, el, hideBanner, showBanner, tags } from "./dom.js";
import { api, fieldText, errText, words } from "./api.js";
import { has, t } from "./i18n.js";
import { setMeta } from "./kinds.js";

export const state = {
  data: { organizations: [], owners: [], robots: [], projects: [], schedules: [] },
  store: "",
};

const refreshed = [];
const progressed = [];

// onRefresh calls fn after every refresh (the lists were read again).
export function onRefresh(fn) {
  refreshed.push(fn);
}

// onProgress calls fn when the guide's progress changed.
export function onProgress(fn) {
  progressed.push(fn);
}

// refresh reads the document, the kinds and the store.
export async function refresh() {
  try {
    const { data } = await api("GET", "/snapshot", undefined, { track: true });
    state.data = { organizations: data.organizations, owners: data.owners, robots: data.robots, projects: data.projects, schedules: data.schedules || [] };
    setMeta(data.meta);
    if (state.store !== data.store) storeChanged();
    state.store = data.store;
    $("#store-loc").textContent = data.store;
    if (["store", "invalid", "network", "stale"].includes(bannerKind())) hideBanner();
  } catch (err) {
    if (err.status === 503) showBanner("store", () => t("banner.store", { msg: errText(err) }), true);
    else if (err.data.code === "invalid_document") showBanner("invalid", () => t("banner.invalid", { msg: (err.data.fields || []).map((f) => f.field + ": " + fieldText(f)).join("；") }), true);
    state.data = { organizations: [], owners: [], robots: [], projects: [], schedules: [] };
    if (state.store) storeChanged();
    state.store = "";
    $("#store-loc").textContent = t("store.none");
  }
  for (const fn of refreshed) fn();
}

// storeChanged forgets what was said about the store edited until now: the
// rows' test results and the pages' outcomes.
function storeChanged() {
  tests.clear();
  clearOutcomes();
}

// ---- the last test alert of each robot and project ----

// tests holds, by "<kind>:<id>", a row's last test alert: {time, sending,
// data (the API's answer) or err, print (the entry when it was sent)}. It
// is shown while the entry is as it was then: an edit (here or elsewhere)
// clears it, and so does another store.
const tests = new Map();

// entryPrint is what a test alert of an entry depended on: a robot; a
// project with its robots and owners.
export function entryPrint(kind, id) {
  const d = state.data;
  if (kind === "robot") return JSON.stringify(byId(d.robots, id) || null);
  const p = byId(d.projects, id);
  if (!p) return "null";
  return JSON.stringify([p, (p.robot_ids || []).map((r) => byId(d.robots, r) || null), (p.owner_ids || []).map((o) => byId(d.owners, o) || null)]);
}

export function setTest(kind, id, entry) {
  tests.set(kind + ":" + id, Object.assign({ print: entryPrint(kind, id) }, entry));
}

// lastTest is a row's last test alert while the entry is as it was then.
export function lastTest(kind, id) {
  const key = kind + ":" + id;
  const e = tests.get(key);
  if (!e) return null;
  if (!e.sending && e.print !== entryPrint(kind, id)) {
    tests.delete(key);
    return null;
  }
  return e;
}

export function clearTest(kind, id) {
  tests.delete(kind + ":" + id);
}

export function byId(list, id) {
  return list.find((x) => x.id === id);
}

// projectsUsing lists the projects that use an entry.
export function projectsUsing(kind, id) {
  return state.data.projects.filter((p) => {
    if (kind === "owner") return (p.owner_ids || []).includes(id);
    if (kind === "robot") return (p.robot_ids || []).includes(id);
    if (kind === "organization") return p.organization_id === id;
    if (kind === "schedule") return p.schedule_id === id;
    return false;
  });
}

// schedulesUsing lists the schedules that use an owner (in the rotation or
// an override) or a robot (told at a handoff).
export function schedulesUsing(kind, id) {
  return (state.data.schedules || []).filter((s) => {
    if (kind === "owner") return (s.owner_ids || []).includes(id) || (s.overrides || []).some((o) => o.owner_id === id);
    if (kind === "robot") return (s.robot_ids || []).includes(id);
    return false;
  });
}

// usedBy shows the names of the projects that use an entry.
export function usedBy(kind, id) {
  const ps = projectsUsing(kind, id);
  return ps.length ? tags(ps.map((p) => p.name)) : el("span", { class: "secondary", text: "—" });
}

// progress remembers, per store, what the guide cannot see in the lists:
// a test alert that arrived and the webhook URL copied.
export function progress() {
  try {
    return JSON.parse(localStorage.getItem("sw-guide:" + state.store) || "{}") || {};
  } catch (e) {
    return {};
  }
}

export function markProgress(step) {
  const p = progress();
  if (p[step]) return;
  p[step] = true;
  try {
    localStorage.setItem("sw-guide:" + state.store, JSON.stringify(p));
  } catch (e) {
    /* the guide then just stays */
  }
  for (const fn of progressed) fn();
}

// ---- changes between versions ----

// diffList lists changes; those that dangers name are marked risky.
export function diffList(changes, more, dangers) {
  const items = changes.map((c) => {
    let text = t("diff.kind." + c.kind);
    if (c.id) text += " #" + c.id;
    if (c.name) text += " " + c.name;
    if (c.fields && c.fields.length) text += ": " + c.fields.join(", ");
    const risky = (dangers || []).some((d) => d.params && d.params.list === c.kind && (d.params.id || 0) === (c.id || 0));
    return el("li", { class: c.op + (risky ? " danger" : "") }, el("span", { class: "op", text: t("diff." + c.op) }), text);
  });
  if (more) items.push(el("li", { class: "more", text: t("history.more", { n: more }) }));
  return el("ul", { class: "diff" }, items);
}

// dangerText words a risky change: the entry, the field, and its value
// before → after (secrets masked by the server).
function dangerText(d) {
  const p = Object.assign({}, d.params);
  if (p.field && has("field." + p.list + "." + p.field)) p.field = t("field." + p.list + "." + p.field);
  for (const k of ["before", "after"]) if (p[k] === "") p[k] = t("danger.empty");
  return words("danger.", d.code, p, d.message);
}

export function dangerItems(dangers) {
  return (dangers || []).map((d) => el("li", { text: dangerText(d) }));
}

// dangerBox shows risky changes in red under a title.
export function dangerBox(id, title, dangers) {
  return el("div", { class: "msg fail danger", id }, el("p", null, el("strong", { text: title })),
    el("ul", { class: "dangers", id: id + "-list" }, dangerItems(dangers)));
}
