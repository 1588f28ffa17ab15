// 投递记录 Deliveries: the relay's delivery history (the last 7 days,
// newest first), filtered by project, robot and result; a failure can be
// re-sent, and a webhook the relay refused says why and what to do.

import { $, clearView, el, fillTable, httpLink, msgBox, rawAnswer, val, view } from "../js/dom.js";
import { actionButton, api, errText, safe, words } from "../js/api.js";
import { fmtTime, has, listSep, t } from "../js/i18n.js";
import { kindTag } from "../js/kinds.js";
import { state } from "../js/data.js";
import { confirmDialog } from "../js/form.js";
import { failText, fixLine, rawLines } from "../js/alerts.js";
import { go } from "../js/nav.js";
import { newProject } from "./projects.js";

// names are the projects (slug → name) and robots of the configuration
// and of the records seen, offered as filters.
const names = { projects: new Map(), robots: new Set() };
let seq = 0;

function fmtLatency(ms) {
  if (typeof ms !== "number") return "—";
  if (ms < 1) return "< 1 ms";
  return ms < 1000 ? Math.round(ms) + " ms" : (ms / 1000).toFixed(1) + " s";
}

const RESULTS = ["failed", "refused", "held"]; // and delivered
const MARKS = { delivered: "✓ ", failed: "✕ ", refused: "⊘ ", held: "◷ " };

function resultLabel(result) {
  return t("deliveries.result." + (RESULTS.includes(result) ? result : "delivered"));
}

function resultBadge(result) {
  const cls = RESULTS.includes(result) ? result : "delivered";
  return el("span", { class: "tag result-" + cls }, el("span", { "aria-hidden": "true", text: MARKS[cls] }), resultLabel(result));
}

function filter() {
  return {
    project: val("deliveries-filter-project"),
    robot: val("deliveries-filter-robot"),
    result: val("deliveries-filter-result"),
  };
}

// fillFilters offers the projects and robots of the configuration and of
// the records seen, keeping the current choice.
function fillFilters() {
  for (const p of state.data.projects) names.projects.set(p.slug, p.name);
  for (const r of state.data.robots) names.robots.add(r.name);
  const keep = (id, opts) => {
    const sel = document.getElementById(id);
    const cur = sel.value;
    sel.replaceChildren(...opts);
    sel.value = Array.from(sel.options).some((o) => o.value === cur) ? cur : "";
  };
  const projects = Array.from(names.projects.entries()).sort((a, b) => a[0].localeCompare(b[0]));
  keep("deliveries-filter-project", [el("option", { value: "", text: t("deliveries.filter.allProjects") }),
    ...projects.map(([slug, name]) => el("option", { value: slug, text: name && name !== slug ? `${name} (${slug})` : slug }))]);
  const robots = Array.from(names.robots).sort((a, b) => a.localeCompare(b));
  keep("deliveries-filter-robot", [el("option", { value: "", text: t("deliveries.filter.allRobots") }),
    ...robots.map((n) => el("option", { value: n, text: n }))]);
}

async function load() {
  fillFilters();
  const f = filter();
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(f)) if (v) q.set(k, v);
  const qs = q.toString();
  const mine = ++seq;
  const { data } = await api("GET", "/deliveries" + (qs ? "?" + qs : ""));
  if (mine !== seq) return; // a later filter change answers instead
  let learned = false;
  for (const d of data.deliveries) {
    if (d.project && d.result !== "refused" && !names.projects.has(d.project)) {
      names.projects.set(d.project, d.project_name || "");
      learned = true;
    }
    if (d.robot && !names.robots.has(d.robot)) {
      names.robots.add(d.robot);
      learned = true;
    }
  }
  if (learned) fillFilters();
  renderRows(data, f.project || f.robot || f.result);
  // The rows shown answer this query (tests wait on it after a filter
  // change rather than on rows an earlier answer left).
  $("#deliveries-rows").dataset.query = qs;
}

function configuredSlug(slug) {
  return state.data.projects.some((p) => p.slug.toLowerCase() === String(slug).toLowerCase());
}

// addRefusedProject opens the project form for the slug a refused webhook
// named, with its organization when one has its slug.
function addRefusedProject(d) {
  const slug = String(d.project || "").split(",")[0];
  const org = state.data.organizations.find((o) => o.slug && d.org && o.slug.toLowerCase() === d.org.toLowerCase());
  go("projects");
  newProject({ slug, name: d.project_name || "", organization_id: org ? org.id : 0 });
}

function refusedRow(d) {
  const sent = [];
  if (d.resource) sent.push(t("deliveries.refused.resource", { v: d.resource }));
  if (d.org) sent.push(t("deliveries.refused.org", { v: d.org }));
  if (d.host) sent.push(t("deliveries.refused.host", { v: d.host }));
  const known = has("refusal." + d.cause);
  const result = [resultBadge(d.result),
    el("div", { class: "delivery-cause", text: t("refusal." + (known ? d.cause : "refused"), { project: d.project || "—" }) }),
    el("div", { class: "secondary delivery-error", text: t("deliveries.refused.status", { status: d.status }) })];
  if (sent.length) result.push(el("div", { class: "secondary", text: t("deliveries.refused.what", { list: sent.join(listSep()) }) }));
  result.push(el("div", { class: "delivery-fix", text: t("alert.fix", { fix: t("refusal.fix." + (known ? d.cause : "refused")) }) }));
  // What the relay answered, in its own words.
  result.push(rawAnswer([d.error, known ? "" : d.fix].filter(Boolean).join("\n")));
  const slug = String(d.project || "").split(",")[0];
  const action = d.cause === "unknown_project" && slug && !configuredSlug(slug)
    ? actionButton(t("deliveries.refused.add"), "delivery-add-" + d.id, t("deliveries.refused.add.label", { slug }), () => addRefusedProject(d), "btn btn-small btn-primary")
    : null;
  return el("tr", { id: "delivery-row-" + d.id, class: "delivery refused", "data-result": d.result },
    el("td", { class: "nowrap" }, el("time", { datetime: d.time, text: fmtTime(d.time) })),
    el("td", { class: "delivery-who" }, d.project ? el("code", { text: d.project }) : el("span", { class: "secondary", text: "—" })),
    // Whoever sent a refused webhook chose its link: text, never a link to open.
    el("td", { class: "delivery-alert" }, el("div", { text: d.title || "—" }), d.level ? el("span", { class: "tag", text: d.level }) : null,
      d.link ? el("div", { class: "secondary delivery-link", text: t("deliveries.refused.link", { v: d.link }) }) : null),
    el("td", { class: "delivery-result" }, result),
    el("td", { class: "actions" }, action));
}

// heldRow is an alert held through its project's quiet hours: until when,
// and once its digest went out, what became of it (also a row of its own,
// with the same id).
function heldRow(d) {
  const result = [resultBadge(d.result), el("div", { class: "delivery-held", text: t("deliveries.held.until", { time: fmtTime(d.held_until) }) })];
  const r = d.released;
  if (r) {
    const key = r.result === "failed" ? "deliveries.held.failed" : "deliveries.held.released";
    result.push(el("div", { class: r.result === "failed" ? "delivery-fix" : "secondary", text: t(key, { time: fmtTime(r.time), n: r.digest || 1 }) }));
  } else {
    result.push(el("div", { class: "secondary", text: t("deliveries.held.waiting") }));
  }
  return el("tr", { id: "delivery-held-" + d.id, class: "delivery held", "data-result": d.result, "data-released": r ? r.result : null },
    el("td", { class: "nowrap" }, el("time", { datetime: d.time, text: fmtTime(d.time) })),
    el("td", { class: "delivery-who" }, el("strong", { text: d.project_name || d.project }), d.project_name ? el("div", null, el("code", { text: d.project })) : null,
      el("div", { class: "robot" }, el("span", { text: d.robot + " " }), kindTag(d.kind))),
    el("td", { class: "delivery-alert" }, el("div", { text: d.title || "—" }), d.level ? el("span", { class: "tag", text: d.level }) : null, httpLink(d.link, t("deliveries.open"))),
    el("td", { class: "delivery-result" }, result),
    el("td", { class: "actions" }));
}

function renderRows(data, filtered) {
  const index = new Map(data.deliveries.map((d) => [d.id, d]));
  // The outcome of a held alert has its id: the row says it was held.
  const held = new Set(data.deliveries.filter((d) => d.result === "held").map((d) => d.id));
  const rows = data.deliveries.map((d) => {
    if (d.result === "refused") return refusedRow(d);
    if (d.result === "held") return heldRow(d);
    const failed = d.result === "failed";
    const result = [resultBadge(d.result)];
    if (d.resend_of) result.push(el("span", { class: "tag", text: t("deliveries.resendOf") }));
    if (held.has(d.id)) result.push(el("span", { class: "tag", text: t("deliveries.afterQuiet") }));
    if (d.digest) result.push(el("span", { class: "tag", text: t("deliveries.digest", { n: d.digest }) }));
    if (d.attempts > 1) result.push(el("div", { class: "secondary", text: t("deliveries.attempts", { n: d.attempts }) }));
    if (failed) {
      result.push(el("div", { class: "secondary delivery-error", text: failText("deliveries.refusedBy", d) }));
      const fix = fixLine(d);
      if (fix) result.push(el("div", { class: "delivery-fix", text: fix }));
      if (d.resent) result.push(el("div", { class: "secondary", text: t("deliveries.resent", { result: resultLabel(d.resent.result), time: fmtTime(d.resent.time) }) }));
      // What the relay recorded, the robot's answer in it: its own words.
      result.push(rawLines(d.error, d.fix_code === "text" ? d.fix : ""));
    }
    let action = null;
    if (failed) {
      const why = !d.resendable ? t("deliveries.noresend.message") : d.robot_exists === false ? t("deliveries.noresend.robot") : "";
      const again = d.resent && d.resent.result === "delivered";
      action = why ? el("span", { class: "secondary", text: why })
        : actionButton(again ? t("deliveries.resend.again") : t("deliveries.resend"), "delivery-resend-" + d.id, t("deliveries.resend.label", { title: d.title || d.project, robot: d.robot }),
          () => resend(d), again ? "btn btn-small" : "btn btn-small btn-primary");
    }
    const original = d.resend_of ? index.get(d.resend_of) : null;
    return el("tr", { id: "delivery-row-" + d.id, class: "delivery " + (failed ? "failed" : "delivered"), "data-result": d.result, "data-resend-of": d.resend_of || null },
      el("td", { class: "nowrap" }, el("time", { datetime: d.time, text: fmtTime(d.time) }),
        el("div", { class: "secondary", text: t("deliveries.latency", { v: fmtLatency(d.latency_ms) }) })),
      el("td", { class: "delivery-who" }, el("strong", { text: d.project_name || d.project }), d.project_name ? el("div", null, el("code", { text: d.project })) : null,
        el("div", { class: "robot" }, el("span", { text: d.robot + " " }), kindTag(d.kind))),
      el("td", { class: "delivery-alert" },
        el("div", { text: d.title || (original && original.title) || "—" }),
        d.level ? el("span", { class: "tag", text: d.level }) : null,
        httpLink(d.link, t("deliveries.open"))),
      el("td", { class: "delivery-result" }, result),
      el("td", { class: "actions" }, action));
  });
  fillTable($("#deliveries-rows"), rows);
  const empty = $("#deliveries-empty");
  empty.textContent = filtered ? t("deliveries.empty.filtered") : t("deliveries.empty");
  empty.hidden = rows.length > 0;
  $("#deliveries-count").textContent = rows.length ? t(data.truncated ? "deliveries.count.truncated" : "deliveries.count", { n: rows.length }) : "";
}

async function resend(d) {
  const box = $("#deliveries-result");
  const again = d.resent && d.resent.result === "delivered";
  if (again && !(await confirmDialog(t("deliveries.resend.again.confirm", { time: fmtTime(d.resent.time) }), t("deliveries.resend.again.ok")))) return;
  const btn = document.getElementById("delivery-resend-" + d.id);
  if (btn) {
    btn.disabled = true;
    btn.textContent = t("common.sending");
  }
  view(box, () => msgBox("info", t("common.sending")));
  try {
    const { data } = await api("POST", "/deliveries/" + encodeURIComponent(d.id) + "/resend", again ? { again: true } : {});
    // Show the new record even when the result filter would hide it.
    const sel = $("#deliveries-filter-result");
    let showAll = false;
    if (sel.value && data.record && sel.value !== data.record.result) {
      sel.value = "";
      showAll = true;
    }
    view(box, () => {
      const r = data.result;
      const out = [];
      if (r.ok) {
        const mentions = r.mentions && r.mentions.length ? t("alert.mentions", { list: r.mentions.join(listSep()) }) : "";
        out.push(msgBox("ok", t("deliveries.resend.ok", { robot: r.robot, mentions })));
      } else {
        out.push(msgBox("fail", failText("deliveries.resend.fail", r), fixLine(r), rawLines(r.detail, r.fix_code === "text" ? r.fix : "")));
      }
      if (data.history_error) out.push(msgBox("warn", words("err.", data.history_error_code, data.history_error_params, data.history_error), rawAnswer(data.history_error)));
      if (showAll) out.push(msgBox("info", t("deliveries.resend.showAll")));
      return out;
    });
    await load();
    const row = data.record && document.getElementById("delivery-row-" + data.record.id);
    if (row) row.classList.add("fresh");
  } catch (err) {
    view(box, () => msgBox("fail", errText(err)));
    if (btn) {
      btn.disabled = false;
      btn.textContent = again ? t("deliveries.resend.again") : t("deliveries.resend");
    }
  }
  box.focus();
}

export default {
  name: "deliveries",
  separator: true,
  icon: '<path d="M21 3 10.5 13.5M21 3l-6.5 18-4-7.5-7.5-4z"/>',
  init() {
    $("#deliveries-filters").addEventListener("submit", (ev) => ev.preventDefault());
    document.querySelectorAll("#deliveries-filters select").forEach((n) => n.addEventListener("change", safe(() => {
      clearView($("#deliveries-result"));
      return load();
    })));
    $("#deliveries-refresh").addEventListener("click", safe(load));
  },
  render: fillFilters,
  load,
};
