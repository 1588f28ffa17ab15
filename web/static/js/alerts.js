// Test alerts and re-sends: what a delivery to each robot did, in words.

import { msgBox, view } from "./dom.js";
import { api, errText, words } from "./api.js";
import { listSep, t } from "./i18n.js";
import { markProgress } from "./data.js";
import { kindFix } from "./kinds.js";

// fixLine says what to do about a robot's refusal (r: a result or a
// delivery of the API): in the words of the robot's kind, else the page's.
export function fixLine(r) {
  const fix = kindFix(r.kind, r.fix_code, r.fix_params) || words("fix.", r.fix_code, r.fix_params, r.fix);
  return fix ? t("alert.fix", { fix }) : "";
}

// failDetail says which robot refused and what it answered.
export function failDetail(r) {
  return (r.detail || "") + (r.code ? ` (errcode ${r.code})` : "");
}

function alertResult(data, showProject) {
  const out = [];
  if (!data.results.length) out.push(msgBox("warn", t("alert.none", { note: words("drop.", data.note_code, data.note_params, data.note) })));
  for (const r of data.results) {
    const suffix = showProject && data.project ? t("alert.project", { project: data.project }) : "";
    if (r.ok) {
      const mentions = r.mentions && r.mentions.length ? t("alert.mentions", { list: r.mentions.join(listSep()) }) : "";
      out.push(msgBox("ok", t("alert.ok", { robot: r.robot, mentions }) + suffix));
    } else {
      out.push(msgBox("fail", t("alert.fail", { robot: r.robot, error: failDetail(r) }) + suffix, fixLine(r)));
    }
  }
  return out;
}

// runTest sends a test alert (POST path) and shows the results in box;
// btn says it is sending meanwhile.
export async function runTest(btn, box, path, showProject) {
  const old = btn ? btn.textContent : "";
  if (btn) {
    btn.disabled = true;
    btn.textContent = t("common.sending");
  }
  view(box, () => msgBox("info", t("common.sending")));
  try {
    const { data } = await api("POST", path, {});
    if (data.results.some((r) => r.ok)) markProgress("tested");
    view(box, () => alertResult(data, showProject));
  } catch (err) {
    view(box, () => msgBox("fail", errText(err)));
  } finally {
    if (btn) {
      btn.disabled = false;
      btn.textContent = old;
    }
  }
}
