// The Webhook page's "在群里处理 / Act from the chat" card: the document's
// relay_url the action links are built on (GET/PUT /action-links,
// prefilled from the relay URL of the page's first card), which
// organizations' messages carry links, and rotating the key that signs
// them (POST /action-links/rotate-key), which ends every link sent so far.

import { $, clearView, msgBox, setVal, val, view } from "../js/dom.js";
import { api, errText } from "../js/api.js";
import { t } from "../js/i18n.js";
import { refresh } from "../js/data.js";
import { clearErrors, confirmDialog, showErrors } from "../js/form.js";

let links = null; // the last answer of GET /action-links

function stateView(d) {
  if (!d.relay_url) return msgBox("info", t("links.off.no_relay_url"));
  if (!d.organizations.length) return msgBox("info", t("act.noorgs"));
  return d.organizations.map((o) => msgBox(o.links ? "ok" : "warn", t(o.links ? "act.org.on" : "act.org.off", { name: o.name })));
}

function showLinks(d, fallback) {
  links = d;
  const hint = $("#act-relay_url-hint");
  // The saved one, else the relay URL of the page's first card (not
  // saved until 保存).
  if (d.relay_url) {
    setVal("act-relay_url", d.relay_url);
    view(hint, () => t("act.relay.saved"));
  } else if (fallback) {
    setVal("act-relay_url", fallback);
    view(hint, () => t("act.relay.prefilled"));
  } else {
    setVal("act-relay_url", "");
    view(hint, () => t("act.relay.none"));
  }
  view($("#act-state"), () => stateView(links));
}

// loadActionLinks reads the action links' settings; relayURL is the relay
// URL the page's first card holds.
let asked = 0; // the latest read: an earlier answer arriving later is not drawn

export async function loadActionLinks(relayURL) {
  clearErrors("act");
  const mine = ++asked;
  const { data } = await api("GET", "/action-links");
  if (mine === asked) showLinks(data, relayURL);
}

export async function saveRelayURL() {
  clearErrors("act");
  clearView($("#act-result"));
  try {
    // One field of its own: saved whatever else changed meanwhile (no
    // If-Match), then the page reads the document again.
    const { data } = await api("PUT", "/action-links", { relay_url: val("act-relay_url").trim() });
    asked++;
    showLinks(data, "");
    view($("#act-result"), () => msgBox("ok", t("common.saved")));
    await refresh();
  } catch (err) {
    showErrors("act", err);
  }
}

export async function rotateKey() {
  if (!(await confirmDialog(t("act.rotate.confirm"), t("act.rotate")))) return;
  const box = $("#act-result");
  try {
    const { data } = await api("POST", "/action-links/rotate-key", {});
    asked++;
    showLinks(data, "");
    view(box, () => msgBox("ok", t("act.rotated")));
    await refresh();
  } catch (err) {
    view(box, () => msgBox("fail", errText(err)));
  }
}
