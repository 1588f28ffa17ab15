// Webhook 接入: the URL to paste into Sentry (the relay URL and the
// token), copying it, a new token, and asking the relay whether it is
// deployed and serves the saved version.

import { $, clearView, el, msgBox, rawAnswer, setVal, toast, val, view } from "../js/dom.js";
import { api, errText, safe, session, words } from "../js/api.js";
import { fmtTime, t } from "../js/i18n.js";
import { markProgress, refresh } from "../js/data.js";
import { clearErrors, confirmDialog, showErrors } from "../js/form.js";
import { current } from "../js/nav.js";
import { loadWebhookCard } from "../js/original.js";

function notes(data) {
  const out = [];
  if (!data.relay_url) out.push(msgBox("info", t("webhook.norelay")));
  if (data.warning_code) out.push(msgBox("warn", words("webhook.warn.", data.warning_code, null, data.warning)));
  if (!data.token_set) out.push(msgBox("warn", t("webhook.notoken")));
  return out;
}

async function loadWebhook() {
  clearErrors("webhook");
  const { data } = await api("GET", "/webhook");
  setVal("webhook-relay_url", data.relay_url);
  setVal("webhook-url", data.url);
  setVal("webhook-token", data.token);
  setVal("webhook-path", data.path);
  $("#webhook-copy").disabled = !data.url;
  $("#webhook-check").disabled = !data.relay_url;
  view($("#webhook-notes"), () => notes(data));
}

async function saveRelay() {
  clearErrors("webhook");
  try {
    await api("PUT", "/settings", { relay_url: val("webhook-relay_url").trim() });
    toast(t("common.saved"));
    clearView($("#webhook-check-result"));
    await loadWebhook();
  } catch (err) {
    showErrors("webhook", err);
  }
}

async function copyWebhook() {
  const input = $("#webhook-url");
  try {
    await navigator.clipboard.writeText(input.value);
  } catch (e) {
    input.select();
    document.execCommand("copy");
  }
  markProgress("copied");
  view($("#webhook-status"), () => t("webhook.copied"));
}

async function regenerate() {
  if (!(await confirmDialog(t("webhook.regenerate.confirm"), t("webhook.regenerate")))) return;
  try {
    await api("POST", "/webhook-token/regenerate", {}, { ifMatch: session.etag, track: true });
    await loadWebhook();
    view($("#webhook-status"), () => t("webhook.regenerated"));
    await refresh();
  } catch (err) {
    if (err.data.code !== "stale") view($("#webhook-status"), () => errText(err));
  }
}

// relayCheckView words the relay check; what the relay answered in its own
// words (its message, the store's error, the delivery's health) is the raw
// answer.
function relayCheckView(d) {
  const lines = [];
  let kind = d.ok ? "ok" : d.code === "degraded" || d.code === "token_mismatch" ? "warn" : "fail";
  lines.push(el("p", { class: "relay-state", text: t("relay." + d.code) }));
  if (d.version) {
    lines.push(el("p", { text: t("relay.version", { version: d.version, projects: d.projects || 0, loaded: d.loaded_at ? fmtTime(d.loaded_at) : "—" }) }));
    lines.push(el("p", { text: t("relay.saved", { version: d.saved_version }) }));
    lines.push(el("p", { class: d.matches ? "relay-match" : "relay-mismatch", id: "webhook-check-match", text: d.matches ? t("relay.matches") : t("relay.mismatch") }));
    if (!d.matches && kind === "ok") kind = "warn";
  }
  if (d.error) lines.push(el("p", { class: "detail", text: t("relay.error") }));
  if (d.delivery) lines.push(el("p", { class: "detail", text: t("relay.delivery") }));
  if (d.warning_code) lines.push(el("p", { class: "detail", text: t("webhook.warn." + d.warning_code) }));
  if (!d.ok || d.error || d.delivery) lines.push(rawAnswer([d.message, d.detail, d.error, d.delivery].filter(Boolean).join("\n")));
  return msgBox(kind, ...lines);
}

async function checkRelay() {
  const box = $("#webhook-check-result");
  const btn = $("#webhook-check");
  btn.disabled = true;
  view(box, () => msgBox("info", t("relay.checking")));
  try {
    const { data } = await api("POST", "/relay-check", {});
    view(box, () => relayCheckView(data));
  } catch (err) {
    view(box, () => msgBox("fail", errText(err)));
  } finally {
    btn.disabled = false;
  }
}

export default {
  name: "webhook",
  icon: '<path d="M10 14a4 4 0 0 0 5.66 0l3-3a4 4 0 0 0-5.66-5.66l-1 1M14 10a4 4 0 0 0-5.66 0l-3 3a4 4 0 0 0 5.66 5.66l1-1"/>',
  // Its form keeps what was typed when the language changes.
  keepOnLanguage: true,
  init() {
    $("#webhook-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      safe(saveRelay)();
    });
    $("#webhook-copy").addEventListener("click", safe(copyWebhook));
    $("#webhook-regenerate").addEventListener("click", safe(regenerate));
    $("#webhook-check").addEventListener("click", safe(checkRelay));
  },
  render() {
    if (current() === "webhook") safe(loadWebhookCard)();
  },
  async load() {
    safe(loadWebhookCard)();
    await loadWebhook();
  },
};
