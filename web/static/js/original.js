// Moving in from the original sentry-white (its objects api/v1/originals,
// projects, robots, responsible_people in the same store): whether the
// store holds them, the import on the import page (the changes and every
// problem, then one write), a notice on the projects page and the one
// change Sentry needs on the webhook page.

import { $, el, msgBox } from "./dom.js";
import { api, errText, session } from "./api.js";
import { has, t } from "./i18n.js";
import { dangerBox, diffList, refresh, state } from "./data.js";
import { confirmDialog } from "./form.js";

const mv = {
  detected: null, // whether the store holds the original's data; null: not asked yet
  detectedFor: "", // the store it was asked for
  detecting: null,
  preview: null, // {etag, digest, dangers} of the import shown
};

// detect asks once per store whether it holds the original's data.
export async function detect(force) {
  if (!session.token || !state.store) return mv.detected;
  if (!force && mv.detectedFor === state.store && mv.detected !== null) return mv.detected;
  if (!force && mv.detecting) return mv.detecting;
  const store = state.store;
  mv.detecting = api("GET", "/original?detect=1")
    .then(({ data }) => {
      mv.detected = !!data.detected;
      mv.detectedFor = store;
      return mv.detected;
    })
    .catch(() => {
      mv.detected = false;
      mv.detectedFor = store;
      return false;
    })
    .finally(() => {
      mv.detecting = null;
    });
  return mv.detecting;
}

// detectedHere says whether the question was asked for the store in use.
export function detectedHere() {
  return mv.detectedFor === state.store;
}

// renderNotice shows the projects page's notice while the store holds the
// original's data and no project is configured.
export function renderNotice() {
  const box = $("#movein-notice");
  const show = mv.detected === true && state.data.projects.length === 0;
  box.hidden = !show;
  if (show) $("#movein-notice-text").textContent = t("movein.notice.text", { store: state.store });
}

function recordName(list, id, name) {
  const s = t("original.rec." + list, { id: id || "" }).trim(); // no id: a record without a usable one
  return name ? s + " " + t("original.quoted", { name }) : s;
}

// problemText says one problem of the report in the page's language.
function problemText(p) {
  const params = {
    rec: recordName(p.list, p.id, p.name),
    ref: p.ref_list ? recordName(p.ref_list, p.ref_id, "") : "",
    reason: p.reason && has("original.reason." + p.reason) ? t("original.reason." + p.reason) : "",
    field: p.field || "",
    value: p.value || "",
    key: p.key || "",
    count: p.count || 0,
    fields: (p.fields || []).join(", "),
    list: p.list || "",
    why: "",
  };
  if (p.code === "invalid" || p.code === "fixed") params.why = t("original.why." + p.reason, { n: p.count || 0 });
  return has("original.problem." + p.code) ? t("original.problem." + p.code, params) : p.message;
}

function problemList(id, problems) {
  return el("ul", { class: "problems", id }, problems.map((p) => el("li", { class: "problem-" + p.level, "data-code": p.code }, problemText(p))));
}

function renderPreview(data) {
  const status = $("#original-status");
  const box = $("#original-preview");
  const confirm = $("#original-confirm");
  confirm.hidden = true;
  mv.preview = null;
  if (!data.detected) {
    status.replaceChildren(msgBox("info", t("original.none", { store: data.store || state.store }), t("original.none.hint")));
    box.hidden = true;
    return;
  }
  const rep = data.report;
  const lists = el("ul", { class: "original-lists", id: "original-lists" }, rep.lists.map((l) =>
    el("li", null, el("code", { text: l.key }), " — " + t("original.state." + l.state, { n: l.records, objects: l.objects }))));
  const c = data.counts;
  const parts = [el("p", { text: t("original.found", { store: data.store }) }), lists];
  if (data.identical) {
    status.replaceChildren(msgBox("ok", t("original.identical", { o: c.organizations, w: c.owners, r: c.robots, p: c.projects })));
  } else {
    status.replaceChildren(msgBox("info", t("original.will", { o: c.organizations, w: c.owners, r: c.robots, p: c.projects })));
    const dangers = data.dangers || [];
    // What the import clears or replaces (the original's robots have no
    // signing secret): in red, and asked again on confirming.
    if (dangers.length) parts.push(dangerBox("original-dangers", t("danger.title"), dangers));
    parts.push(el("p", { id: "original-diff-title", text: t("original.diff.title") }), diffList(data.changes, 0, dangers));
    const dc = data.document_counts || {};
    if (data.document_exists && (dc.organizations || dc.owners || dc.robots || dc.projects)) {
      parts.push(msgBox("warn", t("original.replace", { o: dc.organizations, w: dc.owners, r: dc.robots, p: dc.projects })));
    }
    mv.preview = { etag: data.etag, digest: data.digest, dangers };
    confirm.hidden = false;
  }
  const skipped = rep.problems.filter((p) => p.level === "skipped");
  const other = rep.problems.filter((p) => p.level !== "skipped");
  if (skipped.length) {
    parts.push(el("h3", { text: t("original.skipped", { n: skipped.length }) }), problemList("original-skipped", skipped));
  }
  if (other.length) {
    parts.push(el("h3", { text: t("original.problems", { n: other.length }) }), problemList("original-problems", other));
  }
  box.replaceChildren(...parts);
  box.hidden = false;
}

// loadOriginal shows what importing the original's data would do.
export async function loadOriginal() {
  $("#original-result").replaceChildren();
  $("#original-status").replaceChildren(msgBox("info", t("original.checking")));
  $("#original-preview").hidden = true;
  $("#original-confirm").hidden = true;
  try {
    const { data } = await api("GET", "/original");
    mv.detected = !!data.detected;
    mv.detectedFor = state.store;
    renderPreview(data);
    renderNotice();
  } catch (err) {
    $("#original-status").replaceChildren(msgBox("fail", errText(err)));
  }
}

// confirmOriginal writes the import shown, asking again about its risky
// changes.
export async function confirmOriginal() {
  if (!mv.preview) return;
  const dangers = mv.preview.dangers;
  if (dangers.length && (!(await confirmDialog(t("danger.original"), t("danger.confirm"), dangers)) || !mv.preview)) return;
  const btn = $("#original-confirm");
  btn.disabled = true;
  const out = $("#original-result");
  try {
    const { data } = await api("POST", "/original/import", { digest: mv.preview.digest }, { ifMatch: mv.preview.etag, track: true });
    const c = data.counts;
    btn.hidden = true;
    mv.preview = null;
    $("#original-status").replaceChildren();
    $("#original-preview").hidden = true;
    out.replaceChildren(msgBox("ok", t("original.done", { o: c.organizations, w: c.owners, r: c.robots, p: c.projects }),
      t("original.done.kept"),
      el("p", null, t("original.done.next") + " ", el("a", { href: "#webhook", id: "original-go-webhook", text: t("original.done.webhook") }))));
    out.focus();
    await refresh();
  } catch (err) {
    if (err.data && err.data.code === "original_changed") {
      await loadOriginal();
      out.replaceChildren(msgBox("warn", t("original.changed")));
    } else if (!(err.data && err.data.code === "stale")) {
      out.replaceChildren(msgBox("fail", errText(err)));
    }
  } finally {
    btn.disabled = false;
  }
}

// loadWebhookCard shows, on the webhook page after moving in, the one
// change Sentry needs.
export async function loadWebhookCard() {
  const card = $("#movein-webhook");
  const detected = await detect(false);
  const show = detected === true && state.data.projects.length > 0;
  card.hidden = !show;
  if (!show) return;
  const { data } = await api("GET", "/webhook");
  $("#movein-webhook-url").textContent = data.url ? t("movein.webhook.url", { url: data.url }) : t("movein.webhook.norelay");
}
