// 机器人 Robots: name, kind, token (a pasted webhook URL picks the kind),
// signing secret and keyword; a test alert per robot. The kinds and their
// inputs come from the API.

import { $, el, fillTable, rowActions, setVal, val } from "../js/dom.js";
import { actionButton, api, safe } from "../js/api.js";
import { labelText, t } from "../js/i18n.js";
import { kindLabel, kindOf, kindTag, meta } from "../js/kinds.js";
import { state, usedBy } from "../js/data.js";
import { confirmDelete, entityForm, openForm, secretPlaceholder } from "../js/form.js";
import { runTest, statusRow } from "../js/alerts.js";

function render() {
  const rows = state.data.robots.map((r) => [el("tr", { id: "robot-row-" + r.id, class: "row" },
    el("td", { class: "name" }, el("strong", { text: r.name })),
    el("td", null, kindTag(r.kind)),
    el("td", null, el("span", { class: "masked", text: r.access_token || "—" })),
    el("td", null, el("span", { class: "masked", text: r.secret || "—" })),
    el("td", { class: "wrap", text: r.keyword || meta.default_keyword + " (" + t("common.default") + ")" }),
    el("td", { class: "wrap" }, usedBy("robot", r.id)),
    el("td", { class: "actions" }, rowActions("robot-" + r.id, t("common.more", { name: r.name }),
      [actionButton(t("robots.test"), "robot-test-" + r.id, t("robots.test") + " " + r.name, () => testRobot(r), "btn btn-small btn-primary"),
        actionButton(t("common.edit"), "robot-edit-" + r.id, t("common.edit") + " " + r.name, () => openForm("robot", r))],
      [actionButton(t("common.delete"), "robot-delete-" + r.id, t("common.delete") + " " + r.name, () => confirmDelete("robot", r), "btn btn-small btn-link")]))),
  statusRow("robot", r.id)]);
  fillTable($("#robots-rows"), rows);
  $("#robots-empty").hidden = state.data.robots.length > 0;
}

function testRobot(r) {
  return runTest("robot", r.id, `/robots/${r.id}/test`, $("#robot-test-" + r.id));
}

// showKindInputs labels the token and the secret for the chosen kind, and
// hides the secret of a kind that has none.
function showKindInputs() {
  const k = kindOf(val("robot-kind"));
  if (!k) return;
  $("#robot-access_token-label").textContent = labelText(k.token.label) + " " + t("robot.access_token.paste");
  $("#robot-access_token-hint").textContent = labelText(k.token.help);
  secretPlaceholder($("#robot-access_token"), k.url_example);
  $("#robot-secret-field").hidden = !k.secret;
  if (k.secret) {
    $("#robot-secret-label").textContent = labelText(k.secret.label);
    $("#robot-secret-hint").textContent = labelText(k.secret.help);
    secretPlaceholder($("#robot-secret"), k.secret.prefix ? k.secret.prefix + "…" : "");
  }
  checkSecretLive();
}

// recognizeToken asks the server whose webhook URL was pasted and switches
// the kind; a token that is not alone is said at once.
let recognizeSeq = 0;
async function recognizeToken() {
  const v = val("robot-access_token").trim();
  const note = $("#robot-access_token-note");
  const errBox = $("#robot-access_token-error");
  note.textContent = "";
  if (errBox.dataset.live) {
    errBox.textContent = "";
    delete errBox.dataset.live;
    $("#robot-access_token").removeAttribute("aria-invalid");
  }
  if (!v || v.includes("…") || v.includes("*")) return;
  const seq = ++recognizeSeq;
  if (v.includes("/") || v.includes("://")) {
    const { data } = await api("POST", "/robots/recognize", { url: v });
    if (seq !== recognizeSeq) return;
    if (data.recognized) {
      $("#robot-kind").value = data.kind;
      showKindInputs();
      note.textContent = t("robot.recognized", { kind: kindLabel(data.kind) });
    } else if (data.code) {
      errBox.textContent = t("err." + data.code);
      errBox.dataset.live = "1";
      $("#robot-access_token").setAttribute("aria-invalid", "true");
    }
  } else if (!/^[A-Za-z0-9._~-]+$/.test(v)) {
    errBox.textContent = t("err.token_alone");
    errBox.dataset.live = "1";
    $("#robot-access_token").setAttribute("aria-invalid", "true");
  }
}

// checkSecretLive says at once that a secret lacks its kind's prefix.
function checkSecretLive() {
  const k = kindOf(val("robot-kind"));
  const input = $("#robot-secret");
  const errBox = $("#robot-secret-error");
  const v = input.value.trim();
  const bad = k && k.secret && k.secret.prefix && v && !v.includes("…") && !v.includes("*") && !v.startsWith(k.secret.prefix);
  if (bad) {
    errBox.textContent = t("err.secret_prefix.live", { prefix: k.secret.prefix });
    errBox.dataset.live = "1";
    input.setAttribute("aria-invalid", "true");
  } else if (errBox.dataset.live) {
    errBox.textContent = "";
    delete errBox.dataset.live;
    input.removeAttribute("aria-invalid");
  }
}

const form = {
  kind: "robot",
  path: "/robots",
  list: "robots",
  fields: () => ["name", "kind", "access_token", "secret", "keyword"],
  prepare() {
    $("#robot-kind").replaceChildren(...meta.kinds.map((k) => el("option", { value: k.name, text: labelText(k.label) })));
  },
  fill(item) {
    $("#robot-kind").value = item ? item.kind : (meta.kinds[0] || {}).name || "";
    if (!item) setVal("robot-keyword", meta.default_keyword);
    $("#robot-access_token-note").textContent = "";
    showKindInputs();
  },
  collect(body) {
    if ($("#robot-secret-field").hidden) body.secret = "";
  },
  relabel: showKindInputs,
};

export default {
  name: "robots",
  icon: '<rect x="4.5" y="8" width="15" height="11" rx="2.5"/><path d="M12 4.5V8M9.5 13v.5M14.5 13v.5M2.5 12.5v2M21.5 12.5v2"/>',
  init() {
    entityForm(form);
    $("#robots-new").addEventListener("click", () => openForm("robot"));
    $("#robot-kind").addEventListener("change", safe(showKindInputs));
    let recognizeTimer = 0;
    $("#robot-access_token").addEventListener("input", () => {
      clearTimeout(recognizeTimer);
      recognizeTimer = setTimeout(safe(recognizeToken), 150);
    });
    $("#robot-secret").addEventListener("input", checkSecretLive);
  },
  render,
};
