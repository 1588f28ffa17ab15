// 历史版本 History: the saves of the document, newest first, with what
// each did; what restoring the version before it would change, and the
// restore (risky changes asked a second time, in red).

import { $, el, fillTable, msgBox, rowActions, searchBox, subRow, view } from "../js/dom.js";
import { actionButton, api, errText, session } from "../js/api.js";
import { fmtTime, has, t } from "../js/i18n.js";
import { dangerBox, diffList, refresh } from "../js/data.js";
import { confirmDialog } from "../js/form.js";

function saveText(v) {
  const s = v.save;
  if (!s) return t("history.action.unknown");
  const kind = s.kind ? t("what." + s.kind.replace(/s$/, "")) : "";
  const key = "history.action." + s.action;
  let text = has(key) ? t(key, { kind }) : t("history.action.unknown");
  if (s.id && s.kind) {
    const c = (v.changes || []).find((x) => x.kind === s.kind && x.id === s.id);
    text += " #" + s.id + (c && c.name ? " " + c.name : "");
  }
  return text;
}

let versions = [];
let filterRows = () => 0;

async function load() {
  const { data } = await api("GET", "/history");
  versions = data;
  fillTable($("#history-rows"), data.map((v, i) => {
    const what = saveText(v);
    const search = [fmtTime(v.time), what, ...(v.changes || []).map((c) => [t("diff.kind." + c.kind), c.name || "", (c.fields || []).join(" ")].join(" "))].join(" ").toLowerCase();
    return el("tr", { id: "history-row-" + i, class: "row", "data-search": search },
      el("td", { class: "nowrap" }, fmtTime(v.time)),
      el("td", { class: "history-change" }, el("strong", { id: "history-save-" + i, text: what }),
        v.changes && v.changes.length ? diffList(v.changes, v.more) : el("div", { class: "secondary", text: t("history.nochange") })),
      el("td", { class: "secondary", text: v.counts ? t("history.counts", { o: v.counts.organizations, w: v.counts.owners, r: v.counts.robots, p: v.counts.projects }) : "—" }),
      el("td", { class: "actions" }, rowActions("history-" + i, t("history.diff") + " " + fmtTime(v.time),
        [actionButton(t("history.diff"), "history-diff-" + i, t("history.diff.label", { time: fmtTime(v.time) }), () => toggleVersion(i))], [])));
  }));
  filterRows();
  $("#history-empty").hidden = data.length > 0;
  $("#history-search-box").hidden = data.length < 2;
}

// toggleVersion opens, under row i, what restoring the version before that
// save would change, with its restore button; pressed again, it closes.
async function toggleVersion(i) {
  const open = document.getElementById("history-detail-" + i);
  document.querySelectorAll("#history-rows tr.sub").forEach((n) => n.remove());
  document.querySelectorAll("#history-rows [aria-expanded=true]").forEach((n) => n.setAttribute("aria-expanded", "false"));
  if (open) return;
  const v = versions[i];
  const { data } = await api("GET", "/history/" + encodeURIComponent(v.id));
  const dangers = data.dangers || [];
  const box = el("div", { class: "history-detail" });
  view(box, () => [el("h2", { id: "history-detail-title-" + i, tabindex: "-1", text: t("history.diff.title", { time: fmtTime(v.time) }) }),
    dangers.length ? dangerBox("history-dangers", t("danger.title.restore"), dangers) : null,
    data.changes.length ? diffList(data.changes, 0, dangers) : el("p", { text: t("history.identical") }),
    el("div", { class: "buttons" },
      actionButton(t("history.restore"), "history-restore-" + i, t("history.restore.before") + " " + fmtTime(v.time), () => restoreVersion(v),
        dangers.length ? "btn btn-danger" : "btn btn-primary"),
      actionButton(t("common.close"), "history-close-" + i, t("common.close"), () => toggleVersion(i), "btn"))]);
  const row = document.getElementById("history-row-" + i);
  if (!row) return;
  row.after(subRow("history-detail-" + i, $("#history-table"), box));
  $("#history-diff-" + i).setAttribute("aria-expanded", "true");
  row.scrollIntoView({ block: "nearest" });
  $("#history-detail-title-" + i).focus({ preventScroll: true });
}

async function restoreVersion(v) {
  if (!(await confirmDialog(t("history.restore.confirm", { time: fmtTime(v.time) }), t("history.restore")))) return;
  // Risky changes (a secret cleared, a robot taken off a project…): asked a
  // second time, with each of them in red.
  const { data } = await api("GET", "/history/" + encodeURIComponent(v.id));
  if (data.dangers && data.dangers.length && !(await confirmDialog(t("danger.restore"), t("history.restore"), data.dangers))) return;
  const box = $("#history-result");
  try {
    await api("POST", "/history/" + encodeURIComponent(v.id) + "/restore", {}, { ifMatch: session.etag, track: true });
    await refresh();
    await load();
    view(box, () => msgBox("ok", t("history.restored", { time: fmtTime(v.time) })));
  } catch (err) {
    if (err.data.code !== "stale") view(box, () => msgBox("fail", errText(err)));
  }
}

export default {
  name: "history",
  icon: '<path d="M3.5 12a8.5 8.5 0 1 0 2.5-6M3.5 4v4h4"/><path d="M12 7.5V12l3 2"/>',
  init() {
    filterRows = searchBox($("#history-search"), $("#history-rows"), $("#history-nomatch"));
  },
  load,
};
