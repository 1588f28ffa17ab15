// 负责人 Owners: name, mobile and, per robot kind that mentions by a user
// id, that id (the inputs come from the kinds' description); the Sentry
// user an "I'll take it" link assigns, picked from the organization's
// members as Sentry lists them (…/sentry-members) or typed.

import { $, addCounters, clearView, el, fillTable, msgBox, rowActions, setVal, view } from "../js/dom.js";
import { actionButton, api, errText, safe } from "../js/api.js";
import { labelText, t } from "../js/i18n.js";
import { kindLabel, ownerIdKinds } from "../js/kinds.js";
import { state, usedBy } from "../js/data.js";
import { confirmDelete, entityForm, openForm } from "../js/form.js";
import { sentryError } from "./sentryprojects.js";

function render() {
  const rows = state.data.owners.map((o) => {
    const ids = ownerIdKinds().filter((k) => o[k.owner_id.key]).map((k) => kindLabel(k.name) + " " + o[k.owner_id.key]);
    if (o.sentry_user) ids.push(t("owners.sentry_user", { user: o.sentry_user }));
    return el("tr", { id: "owner-row-" + o.id, class: "row" },
      el("td", { class: "name" }, el("strong", { text: o.name })),
      el("td", { class: "nowrap", text: o.mobile || "—" }),
      el("td", { class: "wrap" }, ids.length ? ids.map((s) => el("div", { class: "secondary", text: s })) : el("span", { class: "secondary", text: "—" })),
      el("td", { class: "wrap" }, usedBy("owner", o.id)),
      el("td", { class: "actions" }, rowActions("owner-" + o.id, t("common.more", { name: o.name }),
        [actionButton(t("common.edit"), "owner-edit-" + o.id, t("common.edit") + " " + o.name, () => openForm("owner", o)),
          actionButton(t("common.delete"), "owner-delete-" + o.id, t("common.delete") + " " + o.name, () => confirmDelete("owner", o), "btn btn-small btn-link")], [])));
  });
  fillTable($("#owners-rows"), rows);
  $("#owners-empty").hidden = state.data.owners.length > 0;
}

// buildOwnerIds makes one input per kind that mentions by user id.
function buildOwnerIds() {
  const box = $("#owner-ids");
  box.replaceChildren(...ownerIdKinds().map((k) => {
    const key = k.owner_id.key, id = "owner-" + key;
    return el("div", { class: "field" },
      el("label", { for: id, text: labelText(k.owner_id.label) }),
      el("input", { id, name: key, type: "text", autocomplete: "off", spellcheck: "false", maxlength: 128, "aria-describedby": id + "-hint " + id + "-error" }),
      el("p", { class: "hint", id: id + "-hint", text: labelText(k.owner_id.help) }),
      el("p", { class: "field-error", id: id + "-error" }));
  }));
  addCounters(box);
}

// ---- the Sentry user, from the organization's members ----

// fillSentryOrgs offers the organizations to read members of, those with
// a Sentry token first; the member list starts closed.
function fillSentryOrgs() {
  const orgs = state.data.organizations.slice().sort((a, b) => (b.api_token ? 1 : 0) - (a.api_token ? 1 : 0));
  const sel = $("#owner-sentry-org");
  sel.replaceChildren(...orgs.map((o) => el("option", { value: o.id, text: o.slug ? `${o.name} (${o.slug})` : o.name })));
  sel.disabled = !orgs.length;
  $("#owner-sentry-pick").disabled = !orgs.length;
  $("#owner-sentry-members").hidden = true;
  if (orgs.length) clearView($("#owner-sentry-status"));
  else view($("#owner-sentry-status"), () => el("p", { class: "hint", text: t("owner.sentry.noorgs") }));
}

function memberText(m) {
  const name = m.name && m.name !== m.email ? `${m.name} <${m.email}>` : m.email || m.username || m.id;
  if (m.pending) return t("owner.sentry.pending", { name });
  return m.role ? `${name} · ${m.role}` : name;
}

async function pickFromSentry() {
  const org = state.data.organizations.find((o) => String(o.id) === $("#owner-sentry-org").value);
  if (!org) return;
  const status = $("#owner-sentry-status");
  const box = $("#owner-sentry-members");
  const btn = $("#owner-sentry-pick");
  box.hidden = true;
  btn.disabled = true;
  view(status, () => msgBox("info", t("owner.sentry.loading", { org: org.name })));
  try {
    const { data } = await api("GET", `/organizations/${org.id}/sentry-members`);
    if (!data.ok) {
      view(status, () => sentryError(data.error, "members"));
      return;
    }
    const typed = $("#owner-sentry_user").value.trim().toLowerCase();
    const sel = $("#owner-sentry-member");
    sel.replaceChildren(el("option", { value: "", text: t("owner.sentry.choose") }),
      ...data.members.map((m) => el("option", { value: m.value, disabled: !m.value, text: memberText(m) })));
    const match = data.members.find((m) => m.value && [m.value, m.email, m.username, m.user_id].some((v) => v && v.toLowerCase() === typed));
    sel.value = match ? match.value : "";
    box.hidden = false;
    view(status, () => el("p", { class: "hint", text: t("owner.sentry.count", { org: org.name, n: data.members.length }) }));
    sel.focus();
  } catch (err) {
    view(status, () => msgBox("fail", errText(err)));
  } finally {
    btn.disabled = false;
  }
}

export default {
  name: "owners",
  icon: '<circle cx="12" cy="8" r="3.5"/><path d="M5 20c0-3.6 3.1-5.5 7-5.5s7 1.9 7 5.5"/>',
  init() {
    entityForm({
      kind: "owner",
      path: "/owners",
      list: "owners",
      fields: () => ["name", "mobile"].concat(ownerIdKinds().map((k) => k.owner_id.key), ["sentry_user"]),
      prepare() {
        buildOwnerIds();
        fillSentryOrgs();
      },
    });
    $("#owners-new").addEventListener("click", () => openForm("owner"));
    $("#owner-sentry-pick").addEventListener("click", safe(pickFromSentry));
    $("#owner-sentry-member").addEventListener("change", (ev) => {
      if (ev.target.value) setVal("owner-sentry_user", ev.target.value);
    });
  },
  render,
};
