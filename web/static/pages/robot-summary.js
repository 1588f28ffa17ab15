// A robot's morning summary (contract §7 robots[].daily_digest): its time
// and time zone in the robot form, a line under the robot's name, and
// 预览 / Preview of yesterday's summary (GET /robots/{id}/summary) with
// 立即发送 / Send now (POST /robots/{id}/summary), whose result is said
// under the robot's row like a test alert's.

import { $, el, msgBox, setVal, val, view } from "../js/dom.js";
import { api, errText, fieldText } from "../js/api.js";
import { t } from "../js/i18n.js";
import { meta } from "../js/kinds.js";
import { runTest } from "../js/alerts.js";
import { chatPreview } from "../js/markdown.js";
import { timezoneList } from "../js/oncall.js";

const DEFAULT_AT = "09:30";

let base = null; // the robot being edited (null: a new one)
let shown = null; // the robot whose summary the dialog shows

// ---- the form ----

function showBody() {
  $("#robot-digest-body").hidden = !$("#robot-digest-on").checked;
}

function setDigest(dd) {
  $("#robot-digest-on").checked = !!dd;
  setVal("robot-daily_digest.at", (dd && dd.at) || DEFAULT_AT);
  setVal("robot-daily_digest.timezone", (dd && dd.timezone) || meta.oncall.default_timezone);
  showBody();
}

function digestValue() {
  if (!$("#robot-digest-on").checked) return null;
  const was = (base && base.daily_digest) || {};
  const tz = val("robot-daily_digest.timezone").trim();
  return Object.assign({}, was, {
    at: val("robot-daily_digest.at"),
    // The default zone is left out when the robot had none, so that saving
    // the form unchanged changes nothing.
    timezone: tz === meta.oncall.default_timezone && !was.timezone ? "" : tz,
  });
}

export const digestForm = {
  init() {
    $("#robot-digest-on").addEventListener("change", showBody);
    document.getElementById("robot-daily_digest.timezone").setAttribute("list", timezoneList());
  },
  fill(item) {
    base = item;
    setDigest(item && item.daily_digest);
  },
  collect(body) {
    body.daily_digest = digestValue();
  },
  put(k, v) {
    if (k !== "daily_digest") return false;
    setDigest(v);
    return true;
  },
};

// digestLine says when a robot's summary goes, under its name.
export function digestLine(r) {
  const dd = r.daily_digest;
  const text = dd ? t("robots.digest.at", { at: dd.at, tz: dd.timezone || meta.oncall.default_timezone }) : t("robots.digest.off");
  return el("div", { class: "secondary robot-digest", id: "robot-digest-" + r.id, text });
}

// ---- preview and send now ----

function summaryParts(data) {
  const out = [];
  out.push(el("p", { id: "summary-when" }, el("strong", { text: t("summary.day", { day: data.day }) }), " ",
    el("span", { class: "secondary", text: data.scheduled ? t("summary.scheduled", { at: data.at, tz: data.timezone || meta.oncall.default_timezone }) : t("summary.unscheduled") })));
  if (!data.lines) out.push(msgBox("info", t("summary.quiet")));
  out.push(chatPreview(Object.assign({ robot: data.robot, kind: data.kind }, data.preview), "summary", 0));
  return out;
}

// previewSummary opens the dialog with robot r's summary of yesterday as
// it would go now: nothing is sent.
export async function previewSummary(r) {
  shown = r;
  const dlg = $("#summary-dialog");
  const out = $("#summary-body");
  view(out, () => el("p", { class: "hint", text: t("common.loading") }));
  $("#summary-send").disabled = true;
  if (!dlg.open) dlg.showModal();
  $("#summary-title").focus();
  try {
    const { data } = await api("GET", `/robots/${r.id}/summary`);
    if (shown !== r) return;
    view(out, () => summaryParts(data));
    $("#summary-send").disabled = false;
  } catch (err) {
    const fe = err.data && err.data.fields && err.data.fields[0];
    view(out, () => msgBox("fail", fe ? fieldText(fe) : errText(err)));
  }
}

// sendSummary sends robot r's summary now; what happened is said under its
// row, as for a test alert.
export function sendSummary(r) {
  return runTest("robot", r.id, `/robots/${r.id}/summary`, document.getElementById("robot-summary-send-" + r.id), "summary");
}

export function initSummary() {
  $("#summary-send").addEventListener("click", () => {
    const r = shown;
    $("#summary-dialog").close();
    if (r) sendSummary(r);
  });
  $("#summary-dialog").addEventListener("close", () => {
    shown = null;
  });
}
