// 负责人 Owners: name, mobile and, per robot kind that mentions by a user
// id, that id (the inputs come from the kinds' description).

import { $, addCounters, el, fillTable, rowActions } from "../js/dom.js";
import { actionButton } from "../js/api.js";
import { labelText, t } from "../js/i18n.js";
import { kindLabel, ownerIdKinds } from "../js/kinds.js";
import { state, usedBy } from "../js/data.js";
import { confirmDelete, entityForm, openForm } from "../js/form.js";

function render() {
  const rows = state.data.owners.map((o) => {
    const ids = ownerIdKinds().filter((k) => o[k.owner_id.key]).map((k) => kindLabel(k.name) + " " + o[k.owner_id.key]);
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

export default {
  name: "owners",
  icon: '<circle cx="12" cy="8" r="3.5"/><path d="M5 20c0-3.6 3.1-5.5 7-5.5s7 1.9 7 5.5"/>',
  init() {
    entityForm({
      kind: "owner",
      path: "/owners",
      list: "owners",
      fields: () => ["name", "mobile"].concat(ownerIdKinds().map((k) => k.owner_id.key)),
      prepare: buildOwnerIds,
    });
    $("#owners-new").addEventListener("click", () => openForm("owner"));
  },
  render,
};
