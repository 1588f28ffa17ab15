// 组织 Organizations: Sentry URL and slug, the shared login posted with
// each alert, the integration's token (api_token, with 检查令牌: what it may
// do, as Sentry answers) and Client Secret; and adding projects from
// Sentry (sentryprojects.js).

import { $, clearView, el, fillTable, msgBox, rawAnswer, rowActions, setVal, view } from "../js/dom.js";
import { actionButton, api, errText, fieldText, safe } from "../js/api.js";
import { t } from "../js/i18n.js";
import { state, usedBy } from "../js/data.js";
import { confirmDelete, entityForm, openForm } from "../js/form.js";
import * as sentryProjects from "./sentryprojects.js";

let editingOrg = 0; // the organization the form edits (0: a new one)

// checkView words what a token may do (POST …/api-token/check).
function checkView(d) {
  // Sentry's index, asked first, names no organization: the answer's does.
  if (!d.ok) return sentryProjects.sentryError({ ...d.error, org: d.error.org || (d.organization && d.organization.slug) }, "token");
  const c = d.check;
  const all = c.facts && c.import && c.act;
  const can = (what) => el("p", { class: c[what] ? "can" : "cannot", id: "organization-api_token-" + what, text: t((c[what] ? "token.can." : "token.cannot.") + what) });
  const failed = (c.checks || []).filter((x) => !x.ok && x.error).map((x) => x.error.message).join("\n");
  return msgBox(all ? "ok" : "warn",
    t(d.source === "body" ? "token.ok.body" : "token.ok.saved", { host: c.host }),
    can("facts"), can("import"), can("act"),
    el("p", { class: "detail", text: c.scopes && c.scopes.length ? t("token.scopes", { scopes: c.scopes.join(", ") }) : t("token.scopes.none") }),
    c.api_url ? el("p", { class: "detail", text: t("token.api", { url: c.api_url }) }) : null,
    rawAnswer(failed));
}

async function checkToken() {
  const box = $("#organization-api_token-result");
  const errBox = $("#organization-api_token-error");
  const input = $("#organization-api_token");
  errBox.textContent = "";
  input.removeAttribute("aria-invalid");
  if (!editingOrg) {
    view(box, () => msgBox("info", t("organization.api_token.new")));
    return;
  }
  const typed = input.disabled ? "" : input.value.trim();
  const btn = $("#organization-api_token-check");
  btn.disabled = true;
  view(box, () => msgBox("info", t("token.checking")));
  try {
    const { data } = await api("POST", `/organizations/${editingOrg}/api-token/check`, typed ? { api_token: typed } : {});
    view(box, () => checkView(data));
  } catch (err) {
    const f = (err.data.fields || []).find((x) => x.field.endsWith("api_token"));
    if (f) {
      clearView(box);
      errBox.textContent = fieldText(f);
      input.setAttribute("aria-invalid", "true");
      input.focus();
    } else {
      view(box, () => msgBox("fail", errText(err)));
    }
  } finally {
    btn.disabled = false;
  }
}

function render() {
  const rows = state.data.organizations.map((o) => el("tr", { id: "organization-row-" + o.id, class: "row" },
    el("td", { class: "name" }, el("strong", { text: o.name })),
    el("td", { class: "wrap", text: o.sentry_url || "—" }),
    el("td", { class: "wrap" }, o.slug ? el("code", { class: "slug", text: o.slug }) : "—"),
    el("td", { class: "wrap" }, o.account ? [el("div", { text: o.account }), el("div", { class: "masked", text: o.password || "" }), el("div", { class: "secondary", text: t("organizations.posted") })] : el("span", { class: "secondary", text: "—" })),
    el("td", null, el("span", { class: "masked", text: o.client_secret || "—" }),
      o.api_token ? el("div", { class: "secondary masked", text: t("organizations.api_token", { mask: o.api_token }) }) : null),
    el("td", { class: "wrap" }, usedBy("organization", o.id)),
    el("td", { class: "actions" }, rowActions("organization-" + o.id, t("common.more", { name: o.name }),
      [sentryProjects.rowButton(o),
        actionButton(t("common.edit"), "organization-edit-" + o.id, t("common.edit") + " " + o.name, () => openForm("organization", o))],
      [actionButton(t("common.delete"), "organization-delete-" + o.id, t("common.delete") + " " + o.name, () => confirmDelete("organization", o), "btn btn-small btn-link")]))));
  fillTable($("#organizations-rows"), rows);
  $("#organizations-empty").hidden = state.data.organizations.length > 0;
  sentryProjects.render();
}

export default {
  name: "organizations",
  icon: '<path d="M4 20.5V6l8-3 8 3v14.5M2.5 20.5h19M9 9h.01M15 9h.01M9 13h.01M15 13h.01M10.5 20.5V17h3v3.5"/>',
  init() {
    entityForm({
      kind: "organization",
      path: "/organizations",
      list: "organizations",
      fields: () => ["name", "sentry_url", "slug", "account", "password", "api_token", "client_secret"],
      fill(item) {
        editingOrg = item ? item.id : 0;
        clearView($("#organization-api_token-result"));
        $("#organization-require_signature").checked = !!(item && item.require_signature);
        if (!item) setVal("organization-sentry_url", "https://sentry.io");
      },
      collect(body) {
        body.require_signature = $("#organization-require_signature").checked;
      },
    });
    $("#organizations-new").addEventListener("click", () => openForm("organization"));
    $("#organization-api_token-check").addEventListener("click", safe(checkToken));
    sentryProjects.init();
  },
  render,
  load: sentryProjects.render,
};
