// 导入 / 导出: export the document, import one (its changes first, risky
// ones in red and asked twice), and import the original sentry-white's
// data (original.js).

import { $, clearView, el, msgBox, rawAnswer, view } from "../js/dom.js";
import { api, errText, fieldText, jsonWhere, safe } from "../js/api.js";
import { t } from "../js/i18n.js";
import { dangerItems, diffList, refresh } from "../js/data.js";
import { confirmDialog } from "../js/form.js";
import { confirmOriginal, loadOriginal } from "../js/original.js";

const pending = { text: null, etag: null, dangers: [] }; // the import shown

async function exportDocument() {
  const { data, res } = await api("GET", "/document", undefined, { blob: true });
  const cd = res.headers.get("Content-Disposition") || "";
  const name = (cd.match(/filename="([^"]+)"/) || [])[1] || "sentry-white-config.json";
  const url = URL.createObjectURL(data);
  const a = el("a", { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

// showFileName says which file was picked (none yet: says so).
function showFileName(file) {
  view($("#import-file-name"), () => (file ? file.name : t("import.file.none")));
}

function reset() {
  pending.text = null;
  pending.etag = null;
  pending.dangers = [];
  $("#import-file").value = "";
  showFileName(null);
  clearView($("#import-result"));
  $("#import-actions").hidden = true;
  $("#import-danger-ack").checked = false;
  $("#import-danger").hidden = true;
}

function importErrors(err) {
  const fields = err.data.fields || [];
  return [msgBox("fail", t("import.invalid"), fields.length && err.data.code === "validation" ? null : errText(err)),
    fields.length && err.data.code === "validation" ? el("ul", { id: "import-errors" }, fields.map((f) => el("li", null, el("code", { text: f.field }), " " + fieldText(f)))) : null];
}

async function checkImport(file) {
  const box = $("#import-result");
  $("#import-actions").hidden = true;
  $("#import-danger").hidden = true;
  clearView(box);
  showFileName(file);
  if (!file) return;
  const text = await file.text();
  try {
    JSON.parse(text);
  } catch (e) {
    // In words; the browser's own message (English) is a detail.
    view(box, () => msgBox("fail", t(text.trim() ? "import.notjson" : "import.emptyfile", { file: file.name }), jsonWhere(text, e), t("import.notjson.hint"),
      rawAnswer(e.message, "raw.detail")));
    return;
  }
  try {
    const { data } = await api("POST", "/document/diff", text, { raw: true });
    if (data.identical) {
      view(box, () => msgBox("info", t("import.identical")));
      return;
    }
    pending.text = text;
    pending.etag = data.etag;
    pending.dangers = data.dangers || [];
    view(box, () => [
      el("p", { id: "import-diff-title", text: t("import.diff.title") }),
      data.webhook_token ? msgBox("info", t("import.token." + data.webhook_token)) : null,
      diffList(data.changes, 0, pending.dangers)]);
    const danger = pending.dangers.length > 0;
    $("#import-danger").hidden = !danger;
    $("#import-danger-ack").checked = false;
    if (danger) view($("#import-danger-list"), () => dangerItems(pending.dangers));
    $("#import-actions").hidden = false;
    $("#import-confirm").classList.toggle("btn-danger", danger);
    $("#import-confirm").classList.toggle("btn-primary", !danger);
    updateConfirm();
  } catch (err) {
    view(box, () => importErrors(err));
  }
}

function updateConfirm() {
  $("#import-confirm").disabled = pending.dangers.length > 0 && !$("#import-danger-ack").checked;
}

async function confirmImport() {
  if (!pending.text) return;
  const dangers = pending.dangers;
  if (dangers.length && (!$("#import-danger-ack").checked || !(await confirmDialog(t("danger.second"), t("danger.confirm"), dangers)))) return;
  try {
    const { data } = await api("PUT", "/document", pending.text, { raw: true, ifMatch: pending.etag, track: true });
    const c = data.counts;
    reset();
    view($("#import-result"), () => msgBox("ok", t("import.done", { o: c.organizations, w: c.owners, r: c.robots, p: c.projects })));
    await refresh();
  } catch (err) {
    $("#import-result").append(msgBox("fail", errText(err)));
  }
}

export default {
  name: "import",
  icon: '<path d="M7.5 4v14M4 14.5l3.5 3.5 3.5-3.5M16.5 20V6M13 9.5 16.5 6 20 9.5"/>',
  init() {
    $("#export-download").addEventListener("click", safe(exportDocument));
    $("#import-file").addEventListener("change", safe((ev) => checkImport(ev.target.files[0])));
    $("#import-confirm").addEventListener("click", safe(confirmImport));
    $("#import-cancel").addEventListener("click", reset);
    $("#import-danger-ack").addEventListener("change", updateConfirm);
    showFileName(null);
    $("#original-check").addEventListener("click", safe(loadOriginal));
    $("#original-confirm").addEventListener("click", safe(confirmOriginal));
  },
  load: loadOriginal,
};
