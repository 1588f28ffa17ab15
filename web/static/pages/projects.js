// 项目 Projects: the list, the project form, the test alert, the preview
// of each robot's message, and the notice that the store holds the
// original sentry-white's data.

import { $, checkedIds, clearView, el, fillChecks, fillTable, msgBox, rawAnswer, rowActions, searchBox, setChecks, setVal, tags, val, view } from "../js/dom.js";
import { actionButton, api, errText, fieldText, jsonWhere, safe, words } from "../js/api.js";
import { listSep, t } from "../js/i18n.js";
import { kindColour, kindLabel, kindTag, meta, ownerDetail } from "../js/kinds.js";
import { byId, state } from "../js/data.js";
import { confirmDelete, confirmDialog, entityForm, openForm } from "../js/form.js";
import { runTest, statusRow } from "../js/alerts.js";
import { go } from "../js/nav.js";
import { detect, detectedHere, renderNotice } from "../js/original.js";
import { markdown, messageBubble } from "../js/markdown.js";
import { nowView, oncallSection } from "./project-oncall.js";

// The form's sections beyond its own fields, each with its fieldsets (see
// project-oncall.js): a further setting is one more module in this list.
const sections = [oncallSection];

let previewProject = null;
let editedProject = null; // the project the form was filled with (null: a new one)

let filterRows = () => 0;

function render() {
  const { projects, owners, robots, organizations } = state.data;
  const rows = projects.map((p) => {
    const org = byId(organizations, p.organization_id);
    const ownerNames = (p.owner_ids || []).map((id) => (byId(owners, id) || { name: "#" + id }).name);
    const robotNames = (p.robot_ids || []).map((id) => (byId(robots, id) || { name: "#" + id }).name);
    const filters = [];
    if (p.environments && p.environments.length) filters.push(t("projects.filter.env", { v: p.environments.join(", ") }));
    if (p.min_level) filters.push(t("projects.filter.min", { v: p.min_level }));
    if (p.mention_level) filters.push(t("projects.filter.mention", { v: p.mention_level }));
    if (p.follow_ups === false) filters.push(t("projects.filter.nofollow"));
    if (p.repeat_window_seconds) filters.push(t("projects.filter.repeat", { v: p.repeat_window_seconds }));
    for (const s of sections) filters.push(...s.tags(p));
    const search = [p.name, p.slug, org ? org.name : "", ...ownerNames, ...robotNames].join(" ").toLowerCase();
    return [el("tr", { id: "project-row-" + p.id, class: "row", "data-search": search },
      el("td", { class: "name" }, el("strong", { text: p.name }), el("div", null, el("code", { class: "slug", text: p.slug })),
        org ? el("div", { class: "secondary", text: org.name }) : null),
      el("td", { class: "wrap" }, ownerNames.length ? tags(ownerNames) : el("span", { class: "secondary", text: t("projects.noowner") })),
      // A project without a robot never alerts: said, not a dash.
      el("td", { class: "wrap" }, robotNames.length ? tags(robotNames) : el("span", { class: "warn-text", id: "project-norobot-" + p.id, text: t("projects.norobot") })),
      el("td", { class: "wrap" }, filters.length ? tags(filters) : el("span", { class: "secondary", text: t("projects.nofilter") })),
      el("td", { class: "actions" }, rowActions("project-" + p.id, t("common.more", { name: p.name }),
        [actionButton(t("projects.test"), "project-test-" + p.id, t("projects.test") + " " + p.name, () => testProject(p), "btn btn-small btn-primary"),
          actionButton(t("common.edit"), "project-edit-" + p.id, t("common.edit") + " " + p.name, () => openForm("project", p))],
        [actionButton(t("projects.preview"), "project-preview-" + p.id, t("projects.preview") + " " + p.name, () => openPreview(p)),
          actionButton(t("common.delete"), "project-delete-" + p.id, t("common.delete") + " " + p.name, () => confirmDelete("project", p), "btn btn-small btn-link")]))),
    statusRow("project", p.id)];
  });
  fillTable($("#projects-rows"), rows);
  filterRows();
  $("#projects-empty").hidden = projects.length > 0;
  $("#projects-search-box").hidden = projects.length < 6 && !$("#projects-search").value;
  renderNotice();
  if (state.store && !detectedHere()) {
    safe(async () => {
      await detect(false);
      renderNotice();
    })();
  }
}

// ---- the form ----

function levelOptions(select, selected) {
  const opts = [el("option", { value: "", text: t("project.level.any") })];
  for (const l of meta.levels) opts.push(el("option", { value: l, text: l }));
  select.replaceChildren(...opts);
  select.value = selected || "";
}

const form = {
  kind: "project",
  path: "/projects",
  list: "projects",
  fields: () => ["name", "slug"],
  fill(item, preset) {
    const d = state.data;
    const org = $("#project-organization_id");
    org.replaceChildren(el("option", { value: "0", text: t("common.none") }), ...d.organizations.map((o) => el("option", { value: o.id, text: o.name + (o.slug ? " (" + o.slug + ")" : "") })));
    const orgID = item ? item.organization_id || 0 : preset && preset.organization_id ? preset.organization_id : d.organizations.length === 1 ? d.organizations[0].id : 0;
    org.value = String(orgID);
    fillChecks($("#project-owners"), "project-owner-", d.owners, item ? item.owner_ids || [] : [], ownerDetail, "project.owners.empty");
    fillChecks($("#project-robots"), "project-robot-", d.robots, item ? item.robot_ids || [] : d.robots.length === 1 ? [d.robots[0].id] : [], (r) => kindLabel(r.kind), "project.robots.empty");
    setVal("project-environments", item && item.environments ? item.environments.join(", ") : "");
    levelOptions($("#project-min_level"), item && item.min_level);
    levelOptions($("#project-mention_level"), item && item.mention_level);
    $("#project-follow_ups").checked = !item || item.follow_ups !== false;
    setVal("project-repeat_window_seconds", item && item.repeat_window_seconds ? item.repeat_window_seconds : 0);
    const filtered = item && ((item.environments && item.environments.length) || item.min_level || item.mention_level || item.follow_ups === false || item.repeat_window_seconds);
    $("#project-filters").open = !!filtered;
    if (preset) {
      if (preset.slug) setVal("project-slug", preset.slug);
      if (preset.name) setVal("project-name", preset.name);
    }
    editedProject = item;
    for (const s of sections) s.fill(item, preset);
  },
  collect(body) {
    body.organization_id = Number(val("project-organization_id")) || 0;
    body.owner_ids = checkedIds($("#project-owners"));
    body.robot_ids = checkedIds($("#project-robots"));
    body.environments = val("project-environments").split(/[,，\s]+/).filter(Boolean);
    body.min_level = val("project-min_level");
    body.mention_level = val("project-mention_level");
    body.follow_ups = $("#project-follow_ups").checked ? null : false;
    const rw = val("project-repeat_window_seconds").trim();
    body.repeat_window_seconds = rw === "" ? 0 : Number(rw);
    for (const s of sections) s.collect(body);
    // A save replaces the project: members no field of this form shows
    // (settings a later version edits) are sent back as they are.
    for (const [k, v] of Object.entries(editedProject || {})) if (k !== "id" && !(k in body)) body[k] = v;
  },
  put(k, v) {
    if (k === "owner_ids") setChecks("#project-owners", v);
    else if (k === "robot_ids") setChecks("#project-robots", v);
    else if (k === "organization_id") setVal("project-organization_id", String(v));
    else if (k === "environments") setVal("project-environments", v.join(", "));
    else if (k === "follow_ups") $("#project-follow_ups").checked = v !== false;
    else return sections.some((s) => s.put(k, v));
    return true;
  },
  relabel() {
    for (const s of sections) s.relabel();
  },
  // Saving a project without robots or owners asks first.
  async check(body) {
    if (body.robot_ids.length && body.owner_ids.length) return true;
    const key = !body.robot_ids.length && !body.owner_ids.length ? "project.warn.none" : !body.robot_ids.length ? "project.warn.norobot" : "project.warn.noowner";
    return confirmDialog(t(key), t("project.warn.save"));
  },
};

// newProject opens the form for a new project, started from preset
// ({slug, name, organization_id}).
export function newProject(preset) {
  openForm("project", null, preset);
}

// ---- test alert and preview ----

export async function testProject(p) {
  await go("projects");
  return runTest("project", p.id, `/projects/${p.id}/test`, $("#project-test-" + p.id));
}

async function openPreview(p) {
  previewProject = p;
  const dlg = $("#preview-dialog");
  $("#preview-payload").value = "";
  $("#preview-payload-error").textContent = "";
  if (!dlg.open) dlg.showModal();
  $("#preview-title").focus();
  await runPreview();
}

async function runPreview() {
  const p = previewProject;
  if (!p) return;
  const body = {};
  const text = $("#preview-payload").value.trim();
  const errBox = $("#preview-payload-error");
  errBox.textContent = "";
  $("#preview-payload").removeAttribute("aria-invalid");
  if (text) {
    try {
      body.payload = JSON.parse(text);
    } catch (e) {
      errBox.textContent = t("preview.notjson", { where: jsonWhere(text, e) });
      $("#preview-payload").setAttribute("aria-invalid", "true");
      return;
    }
  }
  const out = $("#preview-body");
  view(out, () => el("p", { class: "hint", text: t("common.loading") }));
  try {
    const { data } = await api("POST", `/projects/${p.id}/preview`, body);
    view(out, () => previewParts(data, p));
  } catch (err) {
    if (err.data.fields && err.data.fields.length) {
      errBox.textContent = fieldText(err.data.fields[0]);
      $("#preview-payload").setAttribute("aria-invalid", "true");
      clearView(out);
    } else {
      view(out, () => msgBox("fail", errText(err)));
    }
  }
}

function previewParts(data, p) {
  const parts = [];
  const ev = data.event || {};
  parts.push(el("p", null, el("strong", { text: ev.title || "" }), " ",
    el("span", { class: "tag", text: ev.level || "?" }),
    ev.environment ? el("span", { class: "tag", text: ev.environment }) : null,
    data.sample ? el("span", { class: "tag", text: t("preview.sample") }) : null));
  if (data.warning) parts.push(msgBox("warn", words("warn.", data.warning_code, data.warning_params, data.warning)));
  if (data.now) parts.push(nowView(data.now, p));
  if (data.dropped) parts.push(msgBox("warn", t("preview.dropped", { reason: words("drop.", data.dropped_code, data.dropped_params, data.dropped) })));
  if (data.mentions_suppressed) parts.push(msgBox("info", t("preview.suppressed")));
  if (!data.robots.length && !data.dropped) parts.push(msgBox("info", t("preview.norobot")));
  data.robots.forEach((r, i) => {
    const box = el("div", { class: "preview-robot", id: "preview-robot-" + i },
      el("h3", null, r.robot, " ", kindTag(r.kind)),
      el("p", { class: "hint" }, t("preview.keyword", { kw: r.keyword }), " · ",
        r.mentions && r.mentions.length ? t("preview.mentions", { list: r.mentions.join(listSep()) }) : t("preview.nomention")));
    if (r.error) box.append(msgBox("fail", t("preview.error"), rawAnswer(r.error)));
    box.append(el("p", { class: "preview-as", text: t("preview.as") }),
      el("div", { class: "chat " + kindColour(r.kind), id: "preview-chat-" + i },
        el("div", { class: "chat-avatar", "aria-hidden": "true", text: (r.robot || "?").slice(0, 1) }),
        el("div", { class: "chat-body" },
          el("div", { class: "chat-name", text: r.robot }),
          el("div", { class: "chat-bubble", id: "preview-bubble-" + i }, r.text ? markdown(r.text) : messageBubble(r.message, r.title)))));
    const json = r.bodies ? (r.bodies.length === 1 ? r.bodies[0] : r.bodies) : r.message;
    box.append(el("details", { class: "preview-raw" }, el("summary", { text: t("preview.raw") }), el("pre", { class: "preview-json", id: "preview-json-" + i, text: JSON.stringify(json, null, 2) })));
    parts.push(box);
  });
  return parts;
}

export default {
  name: "projects",
  icon: '<path d="M3 6.5A1.5 1.5 0 0 1 4.5 5H9l2 2h8.5A1.5 1.5 0 0 1 21 8.5v9a1.5 1.5 0 0 1-1.5 1.5h-15A1.5 1.5 0 0 1 3 17.5z"/>',
  init() {
    entityForm(form);
    for (const s of sections) s.init();
    $("#projects-new").addEventListener("click", () => openForm("project"));
    filterRows = searchBox($("#projects-search"), $("#projects-rows"), $("#projects-nomatch"));
    $("#preview-run").addEventListener("click", safe(runPreview));
    $("#movein-notice-go").addEventListener("click", () => {
      $("#movein-notice").hidden = true;
    });
  },
  render,
};
