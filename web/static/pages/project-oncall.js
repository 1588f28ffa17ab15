// The project form's on-call section (contract §7): whom an alert rings
// (`mention`: every owner, the person on duty of a schedule, or both) and
// quiet hours (windows by weekday and local time in a time zone, hold or
// silent, a level that goes through anyway); their tags in the list; and
// "if an alert came now" in the preview (GET /projects/{id}/now).
//
// A section of the project form is an object with the form's hooks —
// fill(item), collect(body), put(key, value), relabel() — and tags(p) for
// the list; pages/projects.js calls every section's. Its markup is a
// fieldset in the form's <details id="project-oncall">.

import { $, el, setVal, val } from "../js/dom.js";
import { api, safe } from "../js/api.js";
import { listSep, t } from "../js/i18n.js";
import { meta } from "../js/kinds.js";
import { byId, state } from "../js/data.js";
import { crossesMidnight, timezoneList, wall, wallTime, weekdayName, windowText } from "../js/oncall.js";

let base = null; // the project being edited (null: a new one)
let windows = []; // the quiet-hours windows as last drawn, with any members this page does not know

const defaultWindow = () => ({ days: [1, 2, 3, 4, 5, 6, 7], from: "22:00", to: "08:00" });

// ---- mention ----

function mentionValue() {
  const r = document.querySelector('#project-mention input[name="mention"]:checked');
  return r ? r.value : "owners";
}

function setMention(m) {
  const r = document.getElementById("project-mention-" + (m || "owners"));
  if (r) r.checked = true;
}

function scheduleOptions(selected) {
  const sel = $("#project-schedule_id");
  const list = state.data.schedules;
  sel.replaceChildren(el("option", { value: "0", text: t(list.length ? "project.schedule.none" : "project.schedule.empty") }),
    ...list.map((s) => el("option", { value: s.id, text: s.name })));
  sel.value = String(selected || 0);
  if (sel.value !== String(selected || 0)) sel.value = "0";
}

// ---- quiet hours ----

function windowNote(from, to) {
  if (from && from === to) return t("project.quiet.note.allDay");
  return crossesMidnight(from, to) ? t("project.quiet.note.nextDay", { to }) : "";
}

function windowRow(w, i, count) {
  const f = `project-quiet_hours.windows[${i}]`;
  const days = el("fieldset", { class: "weekdays", id: f + ".days", "aria-describedby": f + ".days-error" },
    el("legend", { class: "visually-hidden", text: t("project.quiet.days", { n: i + 1 }) }),
    [1, 2, 3, 4, 5, 6, 7].map((n) => {
      const id = `project-quiet-${i}-day-${n}`;
      return el("label", { for: id, class: "day-toggle" },
        el("input", { type: "checkbox", id, value: n, checked: (w.days || []).includes(n) }), el("span", { text: weekdayName(n) }));
    }));
  const from = el("input", { type: "time", id: f + ".from", value: w.from || "", "aria-describedby": `${f}-note ${f}.from-error` });
  const to = el("input", { type: "time", id: f + ".to", value: w.to || "", "aria-describedby": `${f}-note ${f}.to-error` });
  const note = el("span", { class: "hint quiet-note", id: f + "-note", "aria-live": "polite" });
  const update = () => {
    note.textContent = windowNote(from.value, to.value);
  };
  from.addEventListener("input", update);
  to.addEventListener("input", update);
  update();
  return el("div", { class: "quiet-window", id: "project-quiet-window-" + i },
    days,
    el("div", { class: "quiet-times" },
      el("label", { for: from.id, text: t("project.quiet.from") }), from,
      el("label", { for: to.id, text: t("project.quiet.to") }), to,
      note,
      count > 1 ? el("button", { type: "button", class: "btn btn-small btn-link", id: `project-quiet-${i}-remove`, "aria-label": t("project.quiet.remove.label", { n: i + 1 }), onclick: () => removeWindow(i) }, t("common.delete")) : null),
    ["days", "from", "to"].map((k) => el("p", { class: "field-error", id: `${f}.${k}-error` })));
}

function drawWindows() {
  $("#project-quiet-windows").replaceChildren(...windows.map((w, i) => windowRow(w, i, windows.length)));
}

// readWindows is the windows as the inputs hold them, each keeping the
// members this page does not know.
function readWindows() {
  return windows.map((w, i) => {
    const f = `project-quiet_hours.windows[${i}]`;
    const days = [1, 2, 3, 4, 5, 6, 7].filter((n) => document.getElementById(`project-quiet-${i}-day-${n}`).checked);
    return Object.assign({}, w, { days, from: document.getElementById(f + ".from").value, to: document.getElementById(f + ".to").value });
  });
}

function addWindow() {
  windows = readWindows();
  windows.push(defaultWindow());
  drawWindows();
  document.getElementById(`project-quiet-${windows.length - 1}-day-1`).focus();
}

function removeWindow(i) {
  windows = readWindows();
  windows.splice(i, 1);
  drawWindows();
  $("#project-quiet-add").focus();
}

function quietMode() {
  const r = document.querySelector('input[name="quiet-mode"]:checked');
  return r ? r.value : "hold";
}

function bypassOptions(selected) {
  const sel = document.getElementById("project-quiet_hours.bypass_level");
  sel.replaceChildren(el("option", { value: "", text: t("project.quiet.bypass.none") }), ...meta.levels.map((l) => el("option", { value: l, text: l })));
  sel.value = selected || "";
}

function showQuiet() {
  $("#project-quiet-body").hidden = !$("#project-quiet-on").checked;
}

// setQuiet fills the quiet-hours inputs from q (null: none, the inputs
// ready with a usual night).
function setQuiet(q) {
  $("#project-quiet-on").checked = !!q;
  windows = q && q.windows && q.windows.length ? q.windows.map((w) => Object.assign({}, w)) : [defaultWindow()];
  setVal("project-quiet_hours.timezone", (q && q.timezone) || meta.oncall.default_timezone);
  document.getElementById("project-quiet-mode-" + ((q && q.mode) || "hold")).checked = true;
  bypassOptions(q ? q.bypass_level : "fatal");
  drawWindows();
  showQuiet();
}

// orDefault leaves out a value equal to its default when the entry had
// none, so that saving the form unchanged changes nothing.
function orDefault(v, def, had) {
  return v === def && !had ? "" : v;
}

function quietValue() {
  if (!$("#project-quiet-on").checked) return null;
  const was = (base && base.quiet_hours) || {};
  return Object.assign({}, was, {
    timezone: orDefault(val("project-quiet_hours.timezone").trim(), meta.oncall.default_timezone, was.timezone),
    mode: orDefault(quietMode(), "hold", was.mode),
    bypass_level: val("project-quiet_hours.bypass_level"),
    windows: readWindows(),
  });
}

// ---- the section ----

export const oncallSection = {
  init() {
    $("#project-quiet-on").addEventListener("change", showQuiet);
    $("#project-quiet-add").addEventListener("click", addWindow);
    document.getElementById("project-quiet_hours.timezone").setAttribute("list", timezoneList());
  },
  fill(item) {
    base = item;
    setMention(item && item.mention);
    scheduleOptions(item && item.schedule_id);
    setQuiet(item && item.quiet_hours);
    $("#project-oncall").open = !!(item && ((item.mention && item.mention !== "owners") || item.schedule_id || item.quiet_hours));
  },
  collect(body) {
    body.mention = orDefault(mentionValue(), "owners", base && base.mention);
    body.schedule_id = Number(val("project-schedule_id")) || 0;
    body.quiet_hours = quietValue();
  },
  put(k, v) {
    if (k === "mention") setMention(v);
    else if (k === "schedule_id") scheduleOptions(v);
    else if (k === "quiet_hours") setQuiet(v);
    else return false;
    return true;
  },
  relabel() {
    scheduleOptions(Number(val("project-schedule_id")));
    bypassOptions(val("project-quiet_hours.bypass_level"));
    windows = readWindows();
    drawWindows();
  },
  // tags words the project's settings for the list.
  tags(p) {
    const out = [];
    const sc = p.schedule_id ? byId(state.data.schedules, p.schedule_id) : null;
    const name = sc ? sc.name : "#" + p.schedule_id;
    if (p.mention === "oncall" || p.mention === "both") out.push(t("projects.tag.mention." + p.mention, { name }));
    else if (p.schedule_id) out.push(t("projects.tag.schedule", { name }));
    const q = p.quiet_hours;
    if (q) out.push(t("projects.tag.quiet." + (q.mode || "hold"), { windows: (q.windows || []).map(windowText).join(listSep()) }));
    return out;
  },
};

// ---- if an alert came now ----

// at words a time of the quiet hours' zone tz, naming the zone when it is
// not the browser's.
function at(s, tz) {
  let here = "";
  try {
    here = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (e) {
    here = "";
  }
  return wallTime(wall(s)) + (tz && tz !== here ? ` (${tz})` : "");
}

function rungText(now) {
  const list = now.rung.map((r) => r.name).join(listSep());
  const schedule = now.schedule ? now.schedule.name : "—";
  if (now.mentions_suppressed) return t("now.suppressed", { level: now.level });
  if (!now.rung.length) return t(now.mention === "owners" ? "now.nobody" : "now.nobody.oncall", { schedule });
  if (now.fallback) return t("now.fallback", { list, schedule });
  return t("now." + (["oncall", "both"].includes(now.mention) ? now.mention : "owners"), { list, schedule });
}

function quietText(now, tz) {
  const q = now.quiet || {};
  if (q.decision === "held") return t("now.held", { until: at(q.until, tz) });
  if (q.decision === "silent") return t("now.silent", { until: at(q.until, tz) });
  if (q.bypassed) return t("now.bypassed", { level: now.level, bypass: q.bypass_level, until: at(q.until, tz) });
  return t(q.mode ? "now.deliver.outside" : "now.deliver");
}

// nowView says what an alert of project p would do if it came now: whom it
// rings, and whether quiet hours hold it, send it silently or let it
// through; the level can be changed (the answer is kept in now, so that
// drawing it again in another language shows the level chosen).
export function nowView(now, p) {
  const box = el("section", { class: "now-box", id: "preview-now", "aria-labelledby": "preview-now-title", "data-decision": (now.quiet || {}).decision });
  const tz = (p.quiet_hours && p.quiet_hours.timezone) || meta.oncall.default_timezone;
  const draw = () => {
    const sel = el("select", { id: "preview-now-level" }, meta.levels.map((l) => el("option", { value: l, text: l, selected: l === now.level })));
    sel.addEventListener("change", safe(async () => {
      const { data } = await api("GET", `/projects/${p.id}/now?level=${encodeURIComponent(sel.value)}`);
      Object.assign(now, data);
      box.dataset.decision = (now.quiet || {}).decision;
      draw();
      document.getElementById("preview-now-level").focus();
    }));
    box.replaceChildren(
      el("div", { class: "now-head" },
        el("h3", { id: "preview-now-title", text: t("now.title") }),
        el("label", { for: "preview-now-level", text: t("now.level") }), sel),
      el("p", { id: "preview-now-rung", text: rungText(now) }),
      el("p", { id: "preview-now-quiet", class: "now-quiet " + ((now.quiet || {}).decision || ""), text: quietText(now, tz) }));
  };
  draw();
  return box;
}
