// 组织 Organizations: Sentry URL and slug, the shared login posted with
// each alert, the integration's Client Secret; and adding projects from
// Sentry (sentryprojects.js).

import { $, el, fillTable, rowActions, setVal } from "../js/dom.js";
import { actionButton } from "../js/api.js";
import { t } from "../js/i18n.js";
import { state, usedBy } from "../js/data.js";
import { confirmDelete, entityForm, openForm } from "../js/form.js";
import * as sentryProjects from "./sentryprojects.js";

function render() {
  const rows = state.data.organizations.map((o) => el("tr", { id: "organization-row-" + o.id, class: "row" },
    el("td", { class: "name" }, el("strong", { text: o.name })),
    el("td", { class: "wrap", text: o.sentry_url || "—" }),
    el("td", { class: "wrap" }, o.slug ? el("code", { class: "slug", text: o.slug }) : "—"),
    el("td", { class: "wrap" }, o.account ? [el("div", { text: o.account }), el("div", { class: "masked", text: o.password || "" }), el("div", { class: "secondary", text: t("organizations.posted") })] : el("span", { class: "secondary", text: "—" })),
    el("td", null, el("span", { class: "masked", text: o.client_secret || "—" })),
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
      fields: () => ["name", "sentry_url", "slug", "account", "password", "client_secret"],
      fill(item) {
        $("#organization-require_signature").checked = !!(item && item.require_signature);
        if (!item) setVal("organization-sentry_url", "https://sentry.io");
      },
      collect(body) {
        body.require_signature = $("#organization-require_signature").checked;
      },
    });
    $("#organizations-new").addEventListener("click", () => openForm("organization"));
    sentryProjects.init();
  },
  render,
  load: sentryProjects.render,
};
