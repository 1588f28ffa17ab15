// Test alerts and re-sends: what a delivery to each robot did, in the
// page's words (the robot's own answer behind 原始回答 / raw answer), and
// each robot's and project's last test alert, shown under its row.

import { $, el, msgBox, rawAnswer, subRow } from "./dom.js";
import { api, errText, words } from "./api.js";
import { fmtClock, listSep, t } from "./i18n.js";
import { lastTest, markProgress, setTest, state } from "./data.js";
import { kindFix } from "./kinds.js";

// fixLine says what to do about a robot's refusal (r: a result or a
// delivery of the API): in the words of the robot's kind, else the page's.
// A fix the server could give only in its own English (code "text") is no
// line of the page's: rawLines keeps it.
export function fixLine(r) {
  if (r.fix_code === "text") return "";
  const fix = kindFix(r.kind, r.fix_code, r.fix_params) || words("fix.", r.fix_code, r.fix_params, "");
  return fix ? t("alert.fix", { fix }) : "";
}

// failText says that a robot did not take a message: its name and its
// answer code, in the page's words (what it said is rawLines').
export function failText(key, r) {
  return t(key, { robot: r.robot, error: r.code ? t("alert.code", { code: r.code }) : t("alert.nocode") });
}

// rawLines is what the robot (and the relay, and a fix worded only in
// English) said, for 原始回答.
export function rawLines(...parts) {
  return rawAnswer(parts.filter(Boolean).join("\n"));
}

// resultParts words an answer of a test alert: one message per robot.
function resultParts(data, showProject, when) {
  const out = [];
  if (!data.results.length) {
    const note = data.note_code === "text" ? t("alert.none.text") : words("drop.", data.note_code, data.note_params, t("alert.none.text"));
    out.push(msgBox("warn", when + t("alert.none", { note }), data.note_code === "text" ? rawLines(data.note) : null));
  }
  for (const r of data.results) {
    const suffix = showProject && data.project ? t("alert.project", { project: data.project }) : "";
    if (r.ok) {
      const mentions = r.mentions && r.mentions.length ? t("alert.mentions", { list: r.mentions.join(listSep()) }) : "";
      out.push(msgBox("ok", "✓ " + when + t("alert.ok", { robot: r.robot, mentions }) + suffix));
    } else {
      out.push(msgBox("fail", "✗ " + when + failText("alert.fail", r) + suffix, fixLine(r), rawLines(r.detail, r.fix_code === "text" ? r.fix : "")));
    }
  }
  return out;
}

// statusParts words a row's last test alert.
function statusParts(e, showProject) {
  if (e.sending) return [msgBox("info", t("common.sending"))];
  const when = t("status.when", { time: fmtClock(e.time) });
  if (e.err) return [msgBox("fail", "✗ " + when + errText(e.err))];
  return resultParts(e.data, showProject, when);
}

// statusRow is the row under a robot's or a project's row that says what
// its last test alert did (kind "robot" or "project"; null when there is
// none, or when the entry changed since).
export function statusRow(kind, id) {
  const e = lastTest(kind, id);
  if (!e) return null;
  return subRow(kind + "-status-" + id, $(`#${kind}s-table`), el("div", { class: "row-status", "aria-live": "polite" }, statusParts(e, kind === "robot")));
}

// drawStatus puts a row's status under it again (only that row: the page's
// buttons keep their focus).
function drawStatus(kind, id) {
  const old = document.getElementById(kind + "-status-" + id);
  if (old) old.remove();
  const row = document.getElementById(kind + "-row-" + id);
  const next = statusRow(kind, id);
  if (row && next) {
    next.hidden = row.hidden;
    row.after(next);
  }
}

// runTest sends a test alert of a robot or a project (kind, id: POST path)
// and shows what happened under its row; btn says it is sending meanwhile.
export async function runTest(kind, id, path, btn) {
  const old = btn ? btn.textContent : "";
  if (btn) {
    btn.disabled = true;
    btn.textContent = t("common.sending");
  }
  setTest(kind, id, { sending: true });
  drawStatus(kind, id);
  try {
    const { data } = await api("POST", path, {});
    // The guide's step 4 is a test alert that reached a group once there is
    // a project (step 3).
    if (data.results.some((r) => r.ok) && state.data.projects.length) markProgress("tested");
    setTest(kind, id, { time: new Date(), data });
  } catch (err) {
    setTest(kind, id, { time: new Date(), err });
  } finally {
    drawStatus(kind, id);
    const b = btn && btn.isConnected ? btn : document.getElementById(btn ? btn.id : "");
    if (b) {
      b.disabled = false;
      b.textContent = old;
    }
  }
}
