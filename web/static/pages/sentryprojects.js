// Adding projects from Sentry, on the organizations page: with an auth
// token kept on this computer, list an organization's Sentry projects, add
// several at once and flag configured slugs Sentry does not know.

import { $, checkedIds, clearView, el, fillChecks, fillTable, msgBox, rawAnswer, searchBox, toast, view } from "../js/dom.js";
import { api, errText, fieldText, safe } from "../js/api.js";
import { has, listSep, t } from "../js/i18n.js";
import { kindLabel, ownerDetail } from "../js/kinds.js";
import { refresh, state } from "../js/data.js";

const sp = { orgId: 0, tokenFor: 0, token: null, list: null, listFor: 0, selected: new Set(), names: new Map(), unknown: [], added: null };
let filterRows = () => 0; // the search over the listed projects

function sentryOrg() {
  return state.data.organizations.find((o) => o.id === sp.orgId);
}

// configuredSlugs are the slugs the organization's projects use: its own,
// and those without an organization when it is the only one.
function configuredSlugs(org) {
  const only = state.data.organizations.length === 1;
  const out = new Map();
  for (const p of state.data.projects) {
    if (p.organization_id === org.id || (!p.organization_id && only)) out.set(p.slug.toLowerCase(), p);
  }
  return out;
}

function fillOrgs() {
  const sel = $("#sentryp-org");
  const orgs = state.data.organizations;
  if (!orgs.some((o) => o.id === sp.orgId)) {
    const first = orgs.find((o) => o.slug) || orgs[0];
    sp.orgId = first ? first.id : 0;
  }
  sel.replaceChildren(...orgs.map((o) => el("option", { value: o.id, text: o.slug ? `${o.name} (${o.slug})` : `${o.name} — ${t("sentryp.noslug.short")}` })));
  sel.value = String(sp.orgId);
  sel.disabled = orgs.length === 0;
  const org = sentryOrg();
  const hint = $("#sentryp-org-hint");
  if (!org) hint.textContent = t("sentryp.noorgs");
  else if (!org.slug) hint.textContent = t("sentryp.noslug");
  else hint.textContent = t("sentryp.orgurl", { url: org.sentry_url || "https://sentry.io" });
  const ready = !!(org && org.slug);
  $("#sentryp-token").disabled = !ready;
  $("#sentryp-token-save").disabled = !ready;
  $("#sentryp-list").disabled = !ready;
}

async function loadToken() {
  const org = sentryOrg();
  const status = $("#sentryp-token-status");
  $("#sentryp-token-error").textContent = "";
  $("#sentryp-token-remove").hidden = true;
  if (!org || !org.slug) {
    clearView(status);
    sp.token = null;
    return;
  }
  sp.tokenFor = org.id;
  const { data } = await api("GET", `/organizations/${org.id}/sentry-token`);
  if (sp.tokenFor !== org.id) return;
  sp.token = data;
  // Worded again when the language changes.
  view(status, () => (data.token_set ? t("sentryp.token.saved", { token: data.token }) : t("sentryp.token.none")));
  $("#sentryp-token-remove").hidden = !data.token_set;
}

async function saveToken() {
  const org = sentryOrg();
  if (!org) return;
  const input = $("#sentryp-token");
  $("#sentryp-token-error").textContent = "";
  input.removeAttribute("aria-invalid");
  try {
    await api("PUT", `/organizations/${org.id}/sentry-token`, { token: input.value });
    input.value = "";
    toast(t("sentryp.token.stored"));
    await loadToken();
  } catch (err) {
    const f = (err.data.fields || [])[0];
    $("#sentryp-token-error").textContent = f ? fieldText(f) : errText(err);
    input.setAttribute("aria-invalid", "true");
    input.focus();
  }
}

async function removeToken() {
  const org = sentryOrg();
  if (!org) return;
  await api("DELETE", `/organizations/${org.id}/sentry-token`);
  toast(t("sentryp.token.removed"));
  await loadToken();
}

// sentryError words what went wrong asking Sentry; what Sentry (or the
// server, for a failure it has no code for) said is the raw answer.
function sentryError(e) {
  const params = { host: e.host || "", org: e.org || "", status: e.status || "" };
  const known = has("sentryp.err." + e.code);
  const msg = t("sentryp.err." + (known ? e.code : "error"), params);
  const fix = t("sentryp.fix." + (has("sentryp.fix." + e.code) ? e.code : "error"), params);
  return msgBox("fail", msg, t("alert.fix", { fix }), rawAnswer([e.detail, known ? "" : e.message].filter(Boolean).join("\n")));
}

async function listSentry() {
  const org = sentryOrg();
  if (!org) return;
  const box = $("#sentryp-result");
  const btn = $("#sentryp-list");
  btn.disabled = true;
  view(box, () => msgBox("info", t("sentryp.listing", { url: org.sentry_url || "https://sentry.io" })));
  $("#sentryp-projects").hidden = true;
  try {
    const { data } = await api("GET", `/organizations/${org.id}/sentry-projects`);
    if (!data.ok) {
      view(box, () => sentryError(data.error));
      sp.list = null;
      return;
    }
    sp.list = data.projects;
    sp.listFor = org.id;
    sp.selected = new Set();
    sp.names = new Map(data.projects.map((p) => [p.slug, p.name || p.slug]));
    sp.unknown = data.unknown || [];
    sp.added = null;
    $("#sentryp-search").value = "";
    renderList();
    box.focus();
  } catch (err) {
    view(box, () => msgBox("fail", errText(err)));
  } finally {
    btn.disabled = false;
  }
}

function renderList() {
  const org = sentryOrg();
  const list = sp.list;
  const wrap = $("#sentryp-projects");
  if (!org || !list || sp.listFor !== org.id) {
    wrap.hidden = true;
    return;
  }
  const have = configuredSlugs(org);
  const inSentry = new Set(list.map((p) => p.slug.toLowerCase()));
  const unknown = Array.from(have.values()).filter((p) => !inSentry.has(p.slug.toLowerCase()));
  view($("#sentryp-result"), () => {
    const out = [msgBox("ok", t("sentryp.count", { n: list.length, c: list.filter((p) => have.has(p.slug.toLowerCase())).length }))];
    if (sp.added) out.unshift(sp.added());
    if (unknown.length) {
      out.push(el("div", { class: "msg warn", id: "sentryp-unknown" },
        el("p", { text: t("sentryp.unknown", { n: unknown.length }) }),
        el("ul", null, unknown.map((p) => el("li", null, el("strong", { text: p.name }), " ", el("code", { text: p.slug }))))));
    }
    return out;
  });
  const rows = list.map((p, i) => {
    const done = have.get(p.slug.toLowerCase());
    const id = "sentryp-pick-" + i;
    const name = sp.names.get(p.slug) || p.slug;
    return el("tr", { id: "sentryp-row-" + p.slug, class: done ? "configured" : "", "data-search": [p.slug, name, p.platform || ""].join(" ").toLowerCase() },
      el("td", null, el("input", { type: "checkbox", id, value: p.slug, disabled: !!done, checked: !done && sp.selected.has(p.slug),
        "aria-label": t("sentryp.pick", { slug: p.slug }),
        onchange: (ev) => {
          if (ev.target.checked) sp.selected.add(p.slug);
          else sp.selected.delete(p.slug);
          updateAdd();
        } })),
      el("td", null, done ? el("strong", { text: done.name })
        : el("input", { type: "text", id: "sentryp-name-" + i, value: name, maxlength: 100, "aria-label": t("sentryp.name", { slug: p.slug }),
          oninput: (ev) => sp.names.set(p.slug, ev.target.value) })),
      el("td", null, el("code", { text: p.slug })),
      el("td", { class: "secondary", text: p.platform || "—" }),
      el("td", null, done ? el("span", { class: "tag result-delivered", text: t("sentryp.configured") })
        : el("span", { class: "tag", text: p.status && p.status !== "active" ? p.status : t("sentryp.new") })));
  });
  fillTable($("#sentryp-rows"), rows);
  filterRows();
  const keepOwners = checkedIds($("#sentryp-owners"));
  const keepRobots = checkedIds($("#sentryp-robots"));
  fillChecks($("#sentryp-owners"), "sentryp-owner-", state.data.owners, keepOwners, ownerDetail, "project.owners.empty");
  fillChecks($("#sentryp-robots"), "sentryp-robot-", state.data.robots, keepRobots.length ? keepRobots : state.data.robots.length === 1 ? [state.data.robots[0].id] : [], (r) => kindLabel(r.kind), "project.robots.empty");
  wrap.hidden = false;
  updateAdd();
}

function selectable() {
  const org = sentryOrg();
  if (!org || !sp.list) return [];
  const have = configuredSlugs(org);
  return sp.list.filter((p) => !have.has(p.slug.toLowerCase()));
}

// shown are the projects that can be added and that the search shows.
function shown() {
  return selectable().filter((p) => {
    const row = document.getElementById("sentryp-row-" + p.slug);
    return row && !row.hidden;
  });
}

function updateAdd() {
  const n = selectable().filter((p) => sp.selected.has(p.slug)).length;
  const btn = $("#sentryp-add");
  btn.textContent = n ? t("sentryp.add", { n }) : t("sentryp.add.none");
  btn.disabled = n === 0;
  const all = $("#sentryp-all");
  const visible = shown();
  const picked = visible.filter((p) => sp.selected.has(p.slug)).length;
  all.checked = visible.length > 0 && picked === visible.length;
  all.indeterminate = picked > 0 && picked < visible.length;
  all.disabled = visible.length === 0;
}

// toggleAll picks, or leaves, every project the search shows.
function toggleAll(ev) {
  for (const p of shown()) {
    if (ev.target.checked) sp.selected.add(p.slug);
    else sp.selected.delete(p.slug);
  }
  renderList();
}

async function addSentry() {
  const org = sentryOrg();
  if (!org) return;
  const chosen = selectable().filter((p) => sp.selected.has(p.slug));
  if (!chosen.length) return;
  const btn = $("#sentryp-add");
  btn.disabled = true;
  $("#sentryp-form-error").textContent = "";
  for (const id of ["sentryp-owner_ids-error", "sentryp-robot_ids-error"]) $("#" + id).textContent = "";
  const body = {
    projects: chosen.map((p) => ({ slug: p.slug, name: (sp.names.get(p.slug) || "").trim() || p.slug })),
    owner_ids: checkedIds($("#sentryp-owners")),
    robot_ids: checkedIds($("#sentryp-robots")),
  };
  try {
    const { data } = await api("POST", `/organizations/${org.id}/sentry-projects`, body, { track: true });
    sp.selected = new Set();
    const names = data.created.map((p) => p.name).join(listSep());
    sp.added = () => msgBox("ok", t("sentryp.added", { n: data.created.length, list: names }),
      data.skipped && data.skipped.length ? t("sentryp.skipped", { list: data.skipped.map((s) => s.slug).join(listSep()) }) : "",
      body.robot_ids.length ? "" : t("sentryp.norobot"));
    await refresh(); // draws the list again with the new projects configured, and what was added
    toast(t("common.saved"));
  } catch (err) {
    const fields = (err.data && err.data.fields) || [];
    const loose = [];
    for (const f of fields) {
      const box = document.getElementById("sentryp-" + f.field + "-error");
      if (box) box.textContent = fieldText(f);
      else loose.push(f.field + ": " + fieldText(f));
    }
    if (!fields.length) loose.push(errText(err));
    $("#sentryp-form-error").textContent = loose.join("；");
  } finally {
    updateAdd();
  }
}

// rowButton is the Sentry 项目 button of an organization's row.
export function rowButton(o) {
  return el("button", { type: "button", class: "btn btn-small", id: "organization-sentry-" + o.id, "aria-label": t("sentryp.row.label", { name: o.name }),
    onclick: safe(async () => {
      sp.orgId = o.id;
      fillOrgs();
      renderList();
      $("#sentryp-card").scrollIntoView({ block: "start" });
      await loadToken();
      (o.slug ? $("#sentryp-list") : $("#sentryp-org")).focus();
    }) }, t("sentryp.row"));
}

// render draws the card from the document (after a refresh, a language
// switch, or when the page is shown).
export function render() {
  const before = sp.orgId;
  fillOrgs();
  renderList();
  const org = sentryOrg();
  if (org && (sp.tokenFor !== org.id || before !== sp.orgId || sp.token === null)) safe(loadToken)();
}

export function init() {
  $("#sentryp-org").addEventListener("change", safe(async (ev) => {
    sp.orgId = Number(ev.target.value);
    sp.added = null;
    fillOrgs();
    renderList();
    clearView($("#sentryp-result"));
    await loadToken();
  }));
  const filter = searchBox($("#sentryp-search"), $("#sentryp-rows"), $("#sentryp-nomatch"));
  filterRows = () => {
    const n = filter();
    updateAdd();
    return n;
  };
  $("#sentryp-search").addEventListener("input", updateAdd);
  $("#sentryp-token-save").addEventListener("click", safe(saveToken));
  $("#sentryp-token").addEventListener("keydown", (ev) => {
    if (ev.key === "Enter") {
      ev.preventDefault();
      safe(saveToken)();
    }
  });
  $("#sentryp-token-remove").addEventListener("click", safe(removeToken));
  $("#sentryp-list").addEventListener("click", safe(listSentry));
  $("#sentryp-all").addEventListener("change", toggleAll);
  $("#sentryp-add").addEventListener("click", safe(addSentry));
}
