// The project form's escalation section (contract §7 projects[].escalation):
// when nobody takes an alert within after_minutes, it is posted again to
// each step in turn (oncall: the person on duty, owners: every owner, all:
// everyone in the group), for alerts at or above min_level. The form says
// in plain words what would happen as typed, and whether the relay can
// know that someone took an alert (GET /projects/{id}/escalation's
// acknowledgements: without issue webhooks from the organization, and
// without action links, it sends no escalation). The preview shows the same
// plan for its alert (the preview's `escalation`).
//
// A section of the project form (see project-oncall.js): fill, collect,
// put, relabel, tags; its markup is the fieldset in <details
// id="project-escalation-section">.

import { $, checkedIds, el, msgBox, setVal, val } from "../js/dom.js";
import { api, safe } from "../js/api.js";
import { listSep, t } from "../js/i18n.js";
import { levelOptions } from "../js/kinds.js";
import { byId, state } from "../js/data.js";

const STEPS = ["oncall", "owners", "all"];
const DEFAULT_MINUTES = 15;

let base = null; // the project being edited (null: a new one)
let steps = []; // the steps as drawn
let ack = null; // GET /projects/{id}/escalation's acknowledgements for the project edited
let seq = 0; // the form's fills: an answer for an earlier one is dropped
const onDuty = new Map(); // schedule id → {person, fallback} now, or a promise of it

// ---- the plan in words ----

// stepText words one step of a plan: whom it rings, named.
function stepText(s) {
  const list = (s.names || []).join(listSep());
  if (s.step === "all") return t("esc.step.all.who");
  if (s.step === "owners") return list ? t("esc.step.owners.who", { list }) : t("esc.step.owners.nobody");
  if (s.noSchedule) return t("esc.step.oncall.noschedule");
  if (s.fallback) return list ? t("esc.step.oncall.fallback", { list }) : t("esc.step.oncall.nobody");
  return list ? t("esc.step.oncall.who", { list }) : t("esc.step.oncall");
}

// planParts words a plan ({after_minutes, min_level, steps: [{step,
// names, fallback, noSchedule}]}): the sentence, each step with when, the
// alerts it is for and what stops it. idPrefix names its elements.
export function planParts(plan, idPrefix) {
  const n = plan.after_minutes;
  const list = plan.steps.map(stepText);
  const sentence = list.length ? t("esc.words", { n, first: list[0], rest: list.slice(1).map((s) => t("esc.words.then", { step: s, n })).join("") }) : t("esc.words.none");
  return [
    el("p", { id: idPrefix + "-sentence", class: "escalation-sentence", text: sentence }),
    el("ol", { class: "escalation-timeline", id: idPrefix + "-timeline" },
      plan.steps.map((s, i) => el("li", null, el("span", { class: "escalation-at", text: t("esc.at", { n: n * (i + 1) }) }), stepText(s)))),
    el("p", { class: "hint", id: idPrefix + "-level", text: plan.min_level ? t("esc.level", { level: plan.min_level }) : t("esc.level.any") }),
    el("p", { class: "hint", text: t("esc.stops") }),
  ];
}

// ackParts says whether the relay can know that an alert was taken
// (acknowledgements of GET /projects/{id}/escalation, or the same members
// of a preview's escalation), with what to do when it cannot.
export function ackParts(a, id) {
  if (!a || !a.warning_code) return null;
  const box = msgBox(a.warning_code === "no_issue_webhooks" ? "fail" : "warn",
    t("esc.ack." + a.warning_code), t("esc.ack.fix"),
    el("p", null, el("a", { href: "#webhook", class: "btn btn-small", onclick: () => document.querySelectorAll("dialog[open]").forEach((d) => d.close()) }, t("esc.ack.go"))));
  box.id = id;
  box.dataset.code = a.warning_code;
  return box;
}

// previewView is the preview's escalation: what would happen to its alert
// if nobody took it (the server's steps, whom each rings now).
export function previewView(e) {
  const plan = {
    after_minutes: e.after_minutes, min_level: e.min_level,
    steps: (e.steps || []).map((s) => ({ step: s.step, names: (s.rings || []).map((r) => r.name), fallback: s.fallback })),
  };
  return el("section", { class: "now-box escalation-plan", id: "preview-escalation", "aria-labelledby": "preview-escalation-title", "data-applies": e.applies ? "true" : "false" },
    el("h3", { id: "preview-escalation-title", text: t("esc.preview.title") }),
    e.applies ? planParts(plan, "preview-escalation") : el("p", { id: "preview-escalation-sentence", text: t("esc.preview.below", { level: e.level, min: e.min_level }) }),
    ackParts(e, "preview-escalation-ack"));
}

// ---- the form ----

function stepLabel(s) {
  return t("esc.step." + s);
}

function drawSteps() {
  const ol = $("#project-escalation-steps");
  ol.replaceChildren(...steps.map((s, i) => el("li", { id: "project-escalation-step-" + i, "data-step": s },
    el("span", { class: "order-name", text: stepLabel(s) }),
    el("span", { class: "order-actions" },
      el("button", { type: "button", class: "btn btn-small btn-ghost", id: `project-escalation-step-${i}-up`, disabled: i === 0, "aria-label": t("esc.step.up", { step: stepLabel(s) }), onclick: () => move(i, -1) }, "↑"),
      el("button", { type: "button", class: "btn btn-small btn-ghost", id: `project-escalation-step-${i}-down`, disabled: i === steps.length - 1, "aria-label": t("esc.step.down", { step: stepLabel(s) }), onclick: () => move(i, 1) }, "↓"),
      el("button", { type: "button", class: "btn btn-small btn-ghost", id: `project-escalation-step-${i}-remove`, "aria-label": t("esc.step.remove", { step: stepLabel(s) }), onclick: () => removeStep(i) }, "✕")))));
  const add = $("#project-escalation-add-step");
  const keep = add.value;
  add.replaceChildren(...STEPS.map((s) => el("option", { value: s, text: stepLabel(s) })));
  add.value = STEPS.includes(keep) ? keep : steps.includes("all") ? "owners" : "all";
  drawPlan();
}

function move(i, d) {
  const j = i + d;
  if (j < 0 || j >= steps.length) return;
  [steps[i], steps[j]] = [steps[j], steps[i]];
  drawSteps();
  const b = document.getElementById(`project-escalation-step-${j}-${d < 0 ? "up" : "down"}`);
  (b && !b.disabled ? b : document.getElementById(`project-escalation-step-${j}-remove`)).focus();
}

function removeStep(i) {
  steps.splice(i, 1);
  drawSteps();
  $("#project-escalation-add").focus();
}

function addStep() {
  steps.push($("#project-escalation-add-step").value);
  drawSteps();
}

function minLevelOptions(selected) {
  levelOptions(document.getElementById("project-escalation.min_level"), t("esc.level.option.any"), selected);
}

function showBody() {
  $("#project-escalation-body").hidden = !$("#project-escalation-on").checked;
  drawPlan();
}

// dutyNow is who is on duty now on schedule id, asked once per form.
function dutyNow(id) {
  if (onDuty.has(id)) return onDuty.get(id);
  const p = api("GET", `/schedules/${id}/timeline?days=1`).then(({ data }) => {
    const v = { person: data.on_duty ? data.on_duty.name : "" };
    onDuty.set(id, v);
    drawPlan();
    return v;
  }, () => {
    onDuty.set(id, { person: "", failed: true });
  });
  onDuty.set(id, p);
  return p;
}

// formPlan is the plan as the form holds it now: the owners ticked, the
// person on duty of the schedule chosen.
function formPlan() {
  const owners = checkedIds($("#project-owners")).map((id) => (byId(state.data.owners, id) || { name: "#" + id }).name);
  const schedule = Number(val("project-schedule_id")) || 0;
  const duty = schedule ? dutyNow(schedule) : null;
  const person = duty && !(duty instanceof Promise) ? duty.person : "";
  return {
    after_minutes: Number(val("project-escalation.after_minutes")) || "?",
    min_level: val("project-escalation.min_level"),
    steps: steps.map((s) => {
      if (s === "owners") return { step: s, names: owners };
      if (s === "oncall") {
        if (!schedule) return { step: s, noSchedule: true };
        if (duty instanceof Promise || duty.failed) return { step: s, names: [] };
        return person ? { step: s, names: [person] } : { step: s, names: owners, fallback: true };
      }
      return { step: s };
    }),
  };
}

function drawPlan() {
  const box = $("#project-escalation-words");
  if (!box || $("#project-escalation-body").hidden) return;
  box.replaceChildren(...planParts(formPlan(), "project-escalation-plan"));
}

function drawAck() {
  const on = $("#project-escalation-on").checked;
  const org = Number(val("project-organization_id")) || 0;
  // The answer speaks of the saved organization: another one chosen here
  // is told after saving.
  const same = base && org === (base.organization_id || 0);
  $("#project-escalation-ack").replaceChildren(...[on && same ? ackParts(ack, "project-escalation-warning") : null].filter(Boolean));
}

async function loadAck(item) {
  const mine = ++seq;
  ack = null;
  drawAck();
  if (!item) return;
  const { data } = await api("GET", `/projects/${item.id}/escalation`);
  if (mine !== seq) return;
  ack = data.acknowledgements || (data.escalation && data.escalation.warning_code ? data.escalation : null);
  drawAck();
}

// setEscalation fills the inputs from e (null: none, the inputs ready with
// the usual chain: the person on duty when the project has a schedule,
// then the owners, then everyone).
function setEscalation(e, item) {
  $("#project-escalation-on").checked = !!e;
  setVal("project-escalation.after_minutes", e ? e.after_minutes : DEFAULT_MINUTES);
  minLevelOptions(e ? e.min_level : "error");
  steps = e && e.steps ? e.steps.slice() : (item && item.schedule_id ? ["oncall", "owners", "all"] : ["owners", "all"]);
  drawSteps();
  showBody();
  drawAck();
}

function escalationValue() {
  if (!$("#project-escalation-on").checked) return null;
  const raw = val("project-escalation.after_minutes").trim();
  return Object.assign({}, (base && base.escalation) || {}, {
    // A number the server names when it is wrong (a blank is 0: “between 1 and 1440”).
    after_minutes: raw === "" ? 0 : Number(raw),
    steps: steps.slice(),
    min_level: val("project-escalation.min_level"),
  });
}

export const escalationSection = {
  init() {
    $("#project-escalation-on").addEventListener("change", () => {
      showBody();
      drawAck();
    });
    $("#project-escalation-add").addEventListener("click", addStep);
    // The plan follows what is typed anywhere in the form (owners, the
    // schedule, the minutes, the level).
    $("#project-form").addEventListener("input", drawPlan);
    $("#project-form").addEventListener("change", () => {
      drawPlan();
      drawAck();
    });
  },
  fill(item) {
    base = item;
    onDuty.clear();
    setEscalation(item && item.escalation, item);
    $("#project-escalation-section").open = !!(item && item.escalation);
    safe(() => loadAck(item))();
  },
  collect(body) {
    body.escalation = escalationValue();
  },
  put(k, v) {
    if (k !== "escalation") return false;
    setEscalation(v, base);
    return true;
  },
  relabel() {
    minLevelOptions(val("project-escalation.min_level"));
    drawSteps();
    drawAck();
  },
  tags(p) {
    const e = p.escalation;
    if (!e || !e.steps || !e.steps.length) return [];
    return [t("projects.tag.escalation", { n: e.after_minutes, steps: e.steps.map((s) => t("esc.step.short." + s)).join(" → ") })];
  },
};
