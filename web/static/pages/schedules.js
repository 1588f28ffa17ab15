// 值班表 Schedules: on-call rotations. A card per schedule says its rule,
// who is on duty now and next, the next four weeks at a glance (the
// timeline API; times are the schedule's time zone's) and its overrides; a
// day of the calendar opens an override there — a cover (someone takes a
// range) or a swap (two people trade their shifts). The form edits the
// rotation and previews its next weeks before it is saved.

import { $, checkedIds, clearView, el, fillChecks, msgBox, setChecks, setVal, toast, val, view } from "../js/dom.js";
import { actionButton, api, errText, safe, session } from "../js/api.js";
import { listSep, t } from "../js/i18n.js";
import { kindLabel, meta } from "../js/kinds.js";
import { byId, refresh, state } from "../js/data.js";
import { clearErrors, confirmDelete, confirmDialog, entityForm, openForm, showErrors } from "../js/form.js";
import { DAY, dayKey, isoWeekday, localInput, timezoneList, todayIn, wall, wallClock, wallDate, wallShortDate, wallTime, weekdayName } from "../js/oncall.js";

let timelines = new Map(); // schedule id → its timeline as last read (or {error})
let drawSeq = 0;

function zoneOf(sc) {
  return (sc && sc.timezone) || meta.oncall.default_timezone;
}

// span is what the calendar shows: from the Monday of this week in the
// schedule's time zone, whole weeks, at least four weeks ahead.
function span(tz) {
  const today = wall(todayIn(tz));
  const back = isoWeekday(today) - 1;
  return { from: dayKey(today - back * DAY), days: Math.ceil((back + meta.oncall.timeline_days) / 7) * 7 };
}

// ---- the rotation's rule (the same arithmetic as the relay's, on wall clocks) ----

function clockMs(s) {
  const m = /^(\d{2}):(\d{2})$/.exec(s || "");
  return m ? (Number(m[1]) * 60 + Number(m[2])) * 60000 : 0;
}

function periodMs(sc) {
  return sc.period === "week" ? 7 * DAY : DAY;
}

// firstShift is when shift 0 starts: the first handoff on or after the
// start date.
function firstShift(sc) {
  const st = wall(sc.start);
  if (sc.period !== "week") return st + clockMs(sc.handoff);
  const wd = sc.handoff_weekday || isoWeekday(st);
  return st + ((wd - isoWeekday(st) + 7) % 7) * DAY + clockMs(sc.handoff);
}

// shiftAt is the index of the rotation's shift at wall ms ms (negative
// before the first).
function shiftAt(sc, ms) {
  return Math.floor((ms - firstShift(sc)) / periodMs(sc));
}

function shiftRange(sc, k) {
  const s = firstShift(sc) + k * periodMs(sc);
  return [s, s + periodMs(sc)];
}

function shiftOwner(sc, k) {
  const ids = sc.owner_ids || [];
  return k < 0 || !ids.length ? 0 : ids[k % ids.length];
}

function ownerName(id) {
  const o = byId(state.data.owners, id);
  return o ? o.name : "#" + id;
}

function ruleText(sc) {
  const start = wall(sc.start);
  const params = { time: sc.handoff, tz: zoneOf(sc), start: isNaN(start) ? sc.start : wallShortDate(start) };
  if (sc.period === "week") {
    params.weekday = weekdayName(sc.handoff_weekday || (isNaN(start) ? 1 : isoWeekday(start)));
    return t("schedules.rule.week", params);
  }
  return t("schedules.rule.day", params);
}

// ---- the calendar: who is on duty, day by day ----

// palette gives each person of a timeline a colour: the rotation's order
// first, then whoever overrides.
function palette(sc, tl) {
  const ids = [];
  for (const id of sc.owner_ids || []) if (!ids.includes(id)) ids.push(id);
  for (const s of tl.shifts) if (s.owner_id && !ids.includes(s.owner_id)) ids.push(s.owner_id);
  return new Map(ids.map((id, i) => [id, "p" + (i % 8)]));
}

function segments(tl) {
  return tl.shifts.map((s) => ({ start: wall(s.start), end: wall(s.end), id: s.owner_id, name: s.owner || "", override: s.override }))
    .filter((s) => s.end > s.start);
}

// dayParts are the pieces of the segments within the day starting at d.
function dayParts(segs, d) {
  const parts = [];
  for (const s of segs) {
    const a = Math.max(s.start, d), b = Math.min(s.end, d + DAY);
    if (b > a) parts.push({ seg: s, a, b });
  }
  return parts;
}

function clockOf(ms, d) {
  return ms >= d + DAY ? "24:00" : wallClock(ms);
}

// dayLabel says a day in full: 12月9日 周三：李四 00:00–18:00，王五（临时替班）18:00–24:00.
function dayLabel(parts, d) {
  const who = parts.map((p) => t(p.seg.override ? "schedules.cal.pieceOverride" : "schedules.cal.piece",
    { name: p.seg.id ? p.seg.name : t("schedules.nobody"), from: clockOf(p.a, d), to: clockOf(p.b, d) }));
  return wallDate(d) + t("schedules.cal.sep") + (who.length ? who.join(listSep()) : t("schedules.nobody"));
}

function dayCell(sc, colors, segs, d, now, first, interactive) {
  const parts = dayParts(segs, d);
  const total = new Map();
  for (const p of parts) total.set(p.seg.id, (total.get(p.seg.id) || 0) + p.b - p.a);
  let main = 0, most = -1;
  for (const [id, n] of total) {
    if (n > most) {
      main = id;
      most = n;
    }
  }
  const mainPart = parts.find((p) => p.seg.id === main);
  // Whoever else takes over during the day: a handoff or an override.
  const starts = parts.filter((p, i) => p.a > d && p.seg.id && p.seg.id !== main && (i === 0 || parts[i - 1].seg.id !== p.seg.id));
  const date = new Date(d).getUTCDate();
  const label = dayLabel(parts, d);
  const bar = el("span", { class: "cal-bar", "aria-hidden": "true" }, parts.map((p) => {
    const seg = el("span", { class: "cal-seg " + (p.seg.id ? colors.get(p.seg.id) : "none") + (p.seg.override ? " ov" : "") });
    seg.style.flexGrow = String((p.b - p.a) / 60000);
    return seg;
  }));
  const mainOv = parts.some((p) => p.seg.id === main && p.seg.override);
  const inner = [
    el("span", { class: "cal-date", "aria-hidden": "true", text: first || date === 1 ? wallShortDate(d) : String(date) }),
    bar,
    el("span", { class: "cal-name" + (mainOv ? " ov" : "") + (main ? "" : " none"), "aria-hidden": "true", text: mainPart && main ? mainPart.seg.name : "—" }),
    ...starts.map((p) => el("span", { class: "cal-more" + (p.seg.override ? " ov" : ""), "aria-hidden": "true", text: wallClock(p.a) + " " + p.seg.name })),
  ];
  const cls = ["cal-day"];
  if (d + DAY <= now) cls.push("past");
  if (d <= now && now < d + DAY) cls.push("today");
  if (parts.some((p) => p.seg.override)) cls.push("has-ov");
  const id = `schedule-${sc.id}-day-${dayKey(d)}`;
  const cell = interactive
    ? el("button", { type: "button", class: "cal-cell", id, title: label, "aria-label": label + t("schedules.cal.sep") + t("schedules.cal.add"), onclick: () => openOverride(sc, d) }, inner)
    : el("div", { class: "cal-cell", title: label }, inner, el("span", { class: "visually-hidden", text: label }));
  return el("td", { class: cls.join(" "), "data-day": dayKey(d), "aria-current": cls.includes("today") ? "date" : null }, cell);
}

// calendar is a week per row, Monday first, from the timeline's first day
// to its last.
function calendar(sc, tl, interactive) {
  const colors = palette(sc, tl);
  const segs = segments(tl);
  const from = wall(tl.from), to = wall(tl.to), now = wall(tl.now);
  const monday = from - (isoWeekday(from) - 1) * DAY;
  const rows = [];
  for (let w = monday; w < to; w += 7 * DAY) {
    const cells = [];
    for (let d = w; d < w + 7 * DAY; d += DAY) {
      cells.push(d < from || d >= to ? el("td", { class: "cal-day out" }) : dayCell(sc, colors, segs, d, now, d === from, interactive));
    }
    rows.push(el("tr", null, cells));
  }
  const head = el("tr", null, [1, 2, 3, 4, 5, 6, 7].map((n) => el("th", { scope: "col", text: weekdayName(n) })));
  return el("table", { class: "cal", id: interactive ? "schedule-cal-" + sc.id : "schedule-preview-cal" },
    el("caption", { class: "visually-hidden", text: t("schedules.cal.caption", { name: sc.name || "", from: wallDate(from), to: wallDate(to - DAY), tz: tl.timezone }) }),
    el("thead", null, head), el("tbody", null, rows));
}

function legend(sc, tl) {
  const colors = palette(sc, tl);
  const names = new Map();
  for (const s of tl.shifts) if (s.owner_id) names.set(s.owner_id, s.owner);
  const items = Array.from(colors.entries()).map(([id, cls]) =>
    el("li", null, el("span", { class: "swatch " + cls, "aria-hidden": "true" }), names.get(id) || ownerName(id)));
  if (tl.shifts.some((s) => s.override)) items.push(el("li", null, el("span", { class: "swatch ov", "aria-hidden": "true" }), t("schedules.override")));
  return el("ul", { class: "cal-legend", "aria-label": t("schedules.legend") }, items);
}

// nowLine says who is on duty now and who takes over next.
function nowLine(sc, tl, id) {
  const now = wall(tl.now);
  const next = tl.handoffs.find((h) => wall(h.at) > now && h.owner);
  if (tl.on_duty) {
    const [before, after] = t("schedules.now", { name: "\u0001" }).split("\u0001");
    return el("p", { class: "schedule-now", id },
      before, el("strong", { class: "oncall-name", text: tl.on_duty.name }), after,
      next ? el("span", { class: "secondary", text: " · " + t("schedules.next", { time: wallTime(wall(next.at)), name: next.owner.name }) }) : null);
  }
  const first = tl.shifts.find((s) => s.owner_id && wall(s.start) >= now);
  return el("p", { class: "schedule-now none", id },
    first ? t("schedules.now.notyet", { time: wallTime(wall(first.start)), name: first.owner }) : t("schedules.now.nobody"));
}

function noticeLine(sc, tl) {
  const names = tl.notice_robots.map((r) => r.name).join(listSep());
  if (!names) return el("p", { class: "hint", text: t("schedules.notice.none") });
  return el("p", { class: "hint", text: t((sc.robot_ids || []).length ? "schedules.notice" : "schedules.notice.projects", { list: names }) });
}

function shiftList(sc, tl) {
  const colors = palette(sc, tl);
  return el("details", { class: "schedule-shifts" }, el("summary", { text: t("schedules.shifts") }),
    el("ol", null, tl.shifts.filter((s) => s.owner_id).map((s) => el("li", { class: s.override ? "ov" : null },
      el("span", { class: "swatch " + colors.get(s.owner_id) + (s.override ? " ov" : ""), "aria-hidden": "true" }),
      el("strong", { text: s.owner }), " ",
      el("span", { text: wallTime(wall(s.start)) + " – " + wallTime(wall(s.end)) }),
      s.override ? el("span", { class: "tag", text: t("schedules.override") }) : null))));
}

function timelineParts(sc, tl, interactive) {
  if (tl.error) return msgBox("fail", errText(tl.error));
  const parts = [nowLine(sc, tl, interactive ? "schedule-now-" + sc.id : "schedule-preview-now"),
    el("div", { class: "cal-wrap" }, calendar(sc, tl, interactive)), legend(sc, tl)];
  if (interactive) parts.push(el("p", { class: "hint cal-tip", text: t("schedules.cal.tip") }), noticeLine(sc, tl), shiftList(sc, tl));
  return parts;
}

// ---- the cards ----

function overridesList(sc, tl) {
  const now = tl && !tl.error ? wall(tl.now) : NaN;
  const list = sc.overrides || [];
  return el("section", { class: "schedule-overrides", "aria-labelledby": "schedule-overrides-title-" + sc.id },
    el("h3", { id: "schedule-overrides-title-" + sc.id, text: t("schedules.overrides") }),
    list.length
      ? el("ul", { id: "schedule-overrides-" + sc.id }, list.map((o, i) => {
        const past = wall(o.to) <= now;
        const name = ownerName(o.owner_id);
        return el("li", { id: `schedule-${sc.id}-override-${i}`, class: past ? "past" : null },
          el("span", null, el("strong", { text: name }), " ", wallTime(wall(o.from)) + " → " + wallTime(wall(o.to)),
            past ? el("span", { class: "tag", text: t("schedules.override.past") }) : null),
          actionButton(t("common.delete"), `schedule-${sc.id}-override-delete-${i}`, t("schedules.override.delete.label", { name, from: o.from }),
            () => removeOverride(sc, i), "btn btn-small btn-link"));
      }))
      : el("p", { class: "hint", text: t("schedules.overrides.none") }));
}

function card(sc) {
  const tl = timelines.get(sc.id);
  const order = (sc.owner_ids || []).map(ownerName);
  return el("article", { class: "card schedule", id: "schedule-card-" + sc.id, "aria-labelledby": "schedule-title-" + sc.id },
    el("div", { class: "schedule-head" },
      el("h2", { id: "schedule-title-" + sc.id, text: sc.name }),
      el("div", { class: "action-group" },
        actionButton(t("schedules.override.add"), "schedule-override-" + sc.id, t("schedules.override.add") + " " + sc.name, () => openOverride(sc), "btn btn-small btn-primary"),
        actionButton(t("common.edit"), "schedule-edit-" + sc.id, t("common.edit") + " " + sc.name, () => openForm("schedule", sc)),
        actionButton(t("common.delete"), "schedule-delete-" + sc.id, t("common.delete") + " " + sc.name, () => confirmDelete("schedule", sc), "btn btn-small btn-link"))),
    el("p", { class: "schedule-rule", text: ruleText(sc) }),
    el("p", { class: "schedule-order", text: t("schedules.order", { list: order.join(" → ") }) }),
    el("div", { class: "schedule-timeline", id: "schedule-timeline-" + sc.id },
      tl && tl.shifts || tl && tl.error ? timelineParts(sc, tl, true) : el("p", { class: "hint", text: t("common.loading") })),
    overridesList(sc, tl));
}

function drawCards() {
  const list = state.data.schedules;
  $("#schedules-list").replaceChildren(...list.map(card));
  const empty = $("#schedules-empty");
  empty.hidden = list.length > 0;
  empty.textContent = state.data.owners.length ? t("schedules.empty") : t("schedules.empty.noowners");
}

// loadTimelines reads each schedule's next weeks and draws the cards; the
// list's data-drawn counts the draws (tests wait on it).
async function loadTimelines() {
  const seq = ++drawSeq;
  const results = await Promise.all(state.data.schedules.map(async (sc) => {
    const { from, days } = span(zoneOf(sc));
    try {
      const { data } = await api("GET", `/schedules/${sc.id}/timeline?from=${from}&days=${days}`);
      return [sc.id, data];
    } catch (err) {
      return [sc.id, { error: err }];
    }
  }));
  if (seq !== drawSeq) return; // a later draw answers instead
  timelines = new Map(results);
  drawCards();
  $("#schedules-list").dataset.drawn = String(seq);
}

function shown() {
  return !$("#page-schedules").hidden;
}

function render() {
  drawCards();
  if ($("#override-dialog").open) relabelOverride();
  if (shown()) safe(loadTimelines)();
}

async function removeOverride(sc, i) {
  const o = sc.overrides[i];
  if (!(await confirmDialog(t("schedules.override.delete.confirm", { name: ownerName(o.owner_id), from: wallTime(wall(o.from)), to: wallTime(wall(o.to)) }), t("common.delete")))) return;
  const box = $("#schedules-result");
  try {
    await api("DELETE", `/schedules/${sc.id}/overrides/${i}`, undefined, { ifMatch: session.etag, track: true });
    clearView(box);
    toast(t("common.deleted"));
    await refresh();
  } catch (err) {
    if (err.data.code !== "stale") view(box, () => msgBox("fail", errText(err)));
  }
}

// ---- the schedule form ----

let order = []; // the owners in rotation order
let formOverrides = []; // the edited schedule's overrides, sent back as they are
let editingId = 0;
let previewTimer = 0;
let previewSeq = 0;

function options(select, list, keep) {
  const cur = keep ? select.value : "";
  select.replaceChildren(...list.map(([v, text]) => el("option", { value: v, text })));
  if (keep) select.value = cur;
}

function buildChoices(keep) {
  options($("#schedule-period"), meta.oncall.periods.map((p) => [p, t("schedule.period." + p)]), keep);
  options($("#schedule-handoff_weekday"), [1, 2, 3, 4, 5, 6, 7].map((n) => [String(n), weekdayName(n)]).concat([["0", t("schedule.weekday.start")]]), keep);
}

function drawOrder() {
  const ol = $("#schedule-order");
  const move = (i, j, focus) => {
    [order[i], order[j]] = [order[j], order[i]];
    drawOrder();
    schedulePreview();
    const b = document.getElementById(`schedule-order-${j}-${focus}`);
    if (b && !b.disabled) b.focus();
    else document.getElementById(`schedule-order-${j}-name`).focus();
  };
  ol.replaceChildren(...order.map((id, i) => {
    const name = ownerName(id);
    return el("li", { id: "schedule-order-" + i },
      el("span", { class: "order-name", id: `schedule-order-${i}-name`, tabindex: "-1", text: name }),
      el("span", { class: "order-actions" },
        el("button", { type: "button", class: "btn btn-small", id: `schedule-order-${i}-up`, disabled: i === 0, "aria-label": t("schedule.owners.up", { name }), onclick: () => move(i, i - 1, "up") }, "↑"),
        el("button", { type: "button", class: "btn btn-small", id: `schedule-order-${i}-down`, disabled: i === order.length - 1, "aria-label": t("schedule.owners.down", { name }), onclick: () => move(i, i + 1, "down") }, "↓"),
        el("button", { type: "button", class: "btn btn-small btn-link", id: `schedule-order-${i}-remove`, "aria-label": t("schedule.owners.remove", { name }), onclick: () => {
          order.splice(i, 1);
          drawOrder();
          schedulePreview();
          $("#schedule-add-owner").focus();
        } }, "✕")));
  }));
  ol.hidden = order.length === 0;
  const free = state.data.owners.filter((o) => !order.includes(o.id));
  const add = $("#schedule-add-owner");
  add.replaceChildren(el("option", { value: "", text: t(state.data.owners.length ? (free.length ? "schedule.owners.pick" : "schedule.owners.all") : "schedule.owners.empty") }),
    ...free.map((o) => el("option", { value: o.id, text: o.name })));
  add.disabled = $("#schedule-add-owner-btn").disabled = free.length === 0;
}

function addOwner() {
  const id = Number(val("schedule-add-owner"));
  if (!id) return;
  order.push(id);
  drawOrder();
  schedulePreview();
  $("#schedule-add-owner").focus();
}

function showWeekday() {
  $("#schedule-weekday-field").hidden = val("schedule-period") !== "week";
}

// draft is the schedule as the form holds it (for the preview).
function draft() {
  return {
    id: editingId, name: val("schedule-name").trim() || "…", owner_ids: order.slice(), period: val("schedule-period"), handoff: val("schedule-handoff"),
    handoff_weekday: val("schedule-period") === "week" ? Number(val("schedule-handoff_weekday")) || 0 : 0,
    timezone: val("schedule-timezone").trim(), start: val("schedule-start"), overrides: formOverrides, robot_ids: checkedIds($("#schedule-robots")),
  };
}

function schedulePreview() {
  clearTimeout(previewTimer);
  previewTimer = setTimeout(safe(drawPreview), 250);
}

// drawPreview shows the next weeks of the schedule as typed (the
// timeline of an unsaved schedule; nothing is saved).
async function drawPreview() {
  const box = $("#schedule-preview");
  if (!$("#schedule-dialog").open) return;
  const sc = draft();
  const seq = ++previewSeq;
  if (!sc.owner_ids.length || !sc.handoff || !sc.start) {
    view(box, () => el("p", { class: "hint", text: t("schedule.preview.incomplete") }));
    return;
  }
  const { from, days } = span(sc.timezone || meta.oncall.default_timezone);
  try {
    const { data } = await api("POST", "/schedules/timeline", { schedule: sc, from, days });
    if (seq !== previewSeq) return;
    view(box, () => timelineParts(sc, data, false));
    box.dataset.drawn = String(seq);
  } catch (err) {
    if (seq !== previewSeq) return;
    view(box, () => el("p", { class: "hint", text: t("schedule.preview.invalid", { why: errText(err) }) }));
  }
}

const form = {
  kind: "schedule",
  path: "/schedules",
  list: "schedules",
  fields: () => ["name", "period", "handoff", "timezone", "start"],
  prepare() {
    buildChoices(false);
  },
  fill(item) {
    editingId = item ? item.id : 0;
    order = item ? (item.owner_ids || []).slice() : [];
    formOverrides = item ? item.overrides || [] : [];
    if (!item) {
      const tz = meta.oncall.default_timezone;
      setVal("schedule-period", "week");
      setVal("schedule-handoff", "09:00");
      setVal("schedule-timezone", tz);
      setVal("schedule-start", todayIn(tz));
    }
    $("#schedule-timezone").placeholder = meta.oncall.default_timezone;
    setVal("schedule-handoff_weekday", String(item ? item.handoff_weekday || 0 : isoWeekday(wall(todayIn(meta.oncall.default_timezone)))));
    fillChecks($("#schedule-robots"), "schedule-robot-", state.data.robots, item ? item.robot_ids || [] : [], (r) => kindLabel(r.kind), "schedule.robots.empty");
    drawOrder();
    showWeekday();
    clearView($("#schedule-preview"));
    schedulePreview();
  },
  collect(body) {
    body.owner_ids = order.slice();
    body.handoff_weekday = body.period === "week" ? Number(val("schedule-handoff_weekday")) || 0 : 0;
    body.robot_ids = checkedIds($("#schedule-robots"));
    body.overrides = formOverrides;
  },
  put(k, v) {
    if (k === "owner_ids") {
      order = v.slice();
      drawOrder();
    } else if (k === "robot_ids") setChecks("#schedule-robots", v);
    else if (k === "handoff_weekday") setVal("schedule-handoff_weekday", String(v));
    else if (k === "overrides") formOverrides = v;
    else return false;
    schedulePreview();
    return true;
  },
  relabel() {
    buildChoices(true);
    drawOrder();
    schedulePreview();
  },
};

// ---- overrides: a cover or a swap ----

let ov = null; // {sc, tl} of the open override dialog

function overrideKind() {
  return $("#override-kind-swap").checked ? "swap" : "cover";
}

// openOverride opens the override dialog for schedule sc, from the day
// starting at wall ms day (today without one).
function openOverride(sc, day) {
  const tl = timelines.get(sc.id);
  ov = { sc };
  clearErrors("override");
  clearView($("#override-swap"));
  const tz = tl && tl.timezone ? tl.timezone : zoneOf(sc);
  $("#override-dialog").dataset.tz = tz;
  const sel = $("#override-owner_id");
  sel.replaceChildren(el("option", { value: "", text: t("override.owner.pick") }), ...state.data.owners.map((o) => el("option", { value: o.id, text: o.name })));
  $("#override-kind-cover").checked = true;
  const d = day === undefined ? wall(todayIn(tz)) : day;
  const from = d + clockMs(sc.handoff);
  setVal("override-from", localInput(from));
  setVal("override-to", localInput(from + DAY));
  ov.day = from;
  overrideKindChanged();
  const dlg = $("#override-dialog");
  if (!dlg.open) dlg.showModal();
  sel.focus();
}

// relabelOverride words what the override dialog builds (a language
// switch too).
function relabelOverride() {
  const swap = overrideKind() === "swap";
  const tz = $("#override-dialog").dataset.tz;
  $("#override-schedule").textContent = t("override.schedule", { name: ov.sc.name, tz });
  $("#override-range-hint").textContent = t(swap ? "override.swap.how" : "override.range.hint", { tz });
  $("#override-owner_id-label").textContent = t(swap ? "override.owner.swap" : "override.owner.cover");
  $("#override-save").textContent = t(swap ? "override.save.swap" : "override.save");
  $("#override-owner_id").options[0].textContent = t("override.owner.pick");
}

function overrideKindChanged() {
  const swap = overrideKind() === "swap";
  relabelOverride();
  $("#override-from").readOnly = $("#override-to").readOnly = swap;
  if (swap) {
    // A swap trades whole shifts: the one around the day picked.
    const k = Math.max(shiftAt(ov.sc, wall(val("override-from"))), 0);
    const [a, b] = shiftRange(ov.sc, k);
    setVal("override-from", localInput(a));
    setVal("override-to", localInput(b));
  }
  showSwap();
}

// swapPlan works out a swap: whoever has the shift at from (A) gives it to
// the person chosen (B), and takes B's next shift after it. It returns
// {overrides, a, b, mine, theirs} or {problem}.
function swapPlan() {
  const sc = ov.sc;
  const b = Number(val("override-owner_id"));
  if (!b) return { problem: "" };
  const k = shiftAt(sc, wall(val("override-from")));
  if (k < 0) return { problem: t("override.swap.before") };
  const a = shiftOwner(sc, k);
  if (a === b) return { problem: t("override.swap.same", { name: ownerName(b) }) };
  const n = (sc.owner_ids || []).length;
  let kb = -1;
  for (let j = k + 1; j <= k + n; j++) {
    if (shiftOwner(sc, j) === b) {
      kb = j;
      break;
    }
  }
  if (kb < 0) return { problem: t("override.swap.notInRotation", { name: ownerName(b) }) };
  const mine = shiftRange(sc, k), theirs = shiftRange(sc, kb);
  return {
    a, b, mine, theirs,
    overrides: [{ owner_id: b, from: localInput(mine[0]), to: localInput(mine[1]) }, { owner_id: a, from: localInput(theirs[0]), to: localInput(theirs[1]) }],
  };
}

function showSwap() {
  const box = $("#override-swap");
  if (overrideKind() !== "swap") {
    clearView(box);
    return;
  }
  view(box, () => {
    const p = swapPlan();
    if (p.problem === "") return el("p", { class: "hint", text: t("override.swap.pick") });
    if (p.problem) return msgBox("warn", p.problem);
    return msgBox("info",
      t("override.swap.mine", { b: ownerName(p.b), a: ownerName(p.a), from: wallTime(p.mine[0]), to: wallTime(p.mine[1]) }),
      t("override.swap.theirs", { b: ownerName(p.b), a: ownerName(p.a), from: wallTime(p.theirs[0]), to: wallTime(p.theirs[1]) }));
  });
}

// overrideErrors shows an answer's field errors next to the dialog's
// inputs (schedules[0].overrides[2].from → from).
function overrideErrors(err) {
  const data = Object.assign({}, err.data, {
    fields: (err.data.fields || []).map((f) => Object.assign({}, f, { field: f.field.replace(/^schedules\[\d+\]\.overrides\[\d+\]\./, "") })),
  });
  showErrors("override", { status: err.status, data, message: err.message });
}

async function saveOverride() {
  const sc = ov.sc;
  clearErrors("override");
  const owner = Number(val("override-owner_id"));
  if (!owner) {
    overrideErrors({ status: 422, data: { code: "validation", fields: [{ field: "owner_id", code: "required", message: "is required" }] } });
    return;
  }
  const btn = $("#override-save");
  btn.disabled = true;
  try {
    if (overrideKind() === "swap") {
      const p = swapPlan();
      if (p.problem) {
        $("#override-form-error").textContent = p.problem;
        return;
      }
      // Both overrides in one write: the schedule with them added.
      const body = Object.assign({}, sc, { overrides: (sc.overrides || []).concat(p.overrides) });
      delete body.id;
      await api("PUT", `/schedules/${sc.id}`, body, { ifMatch: session.etag, track: true });
    } else {
      await api("POST", `/schedules/${sc.id}/overrides`, { owner_id: owner, from: val("override-from"), to: val("override-to") }, { ifMatch: session.etag, track: true });
    }
    await refresh();
    $("#override-dialog").close();
    toast(t("override.saved"));
  } catch (err) {
    overrideErrors(err);
  } finally {
    btn.disabled = false;
  }
}

export default {
  name: "schedules",
  icon: '<rect x="3.5" y="5" width="17" height="15" rx="2"/><path d="M3.5 9.5h17M8 3v4M16 3v4M7.5 13h3M7.5 16.5h3M13.5 13h3"/>',
  keepOnLanguage: true,
  init() {
    entityForm(form);
    $("#schedules-new").addEventListener("click", () => openForm("schedule"));
    $("#schedule-add-owner-btn").addEventListener("click", addOwner);
    $("#schedule-period").addEventListener("change", showWeekday);
    $("#schedule-timezone").setAttribute("list", timezoneList());
    const f = $("#schedule-form");
    f.addEventListener("input", schedulePreview);
    f.addEventListener("change", schedulePreview);
    $("#override-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      safe(saveOverride)();
    });
    document.querySelectorAll('input[name="override-kind"]').forEach((n) => n.addEventListener("change", overrideKindChanged));
    $("#override-owner_id").addEventListener("change", showSwap);
    $("#override-dialog").addEventListener("close", () => clearErrors("override"));
  },
  render,
  load: loadTimelines,
};
