// The Webhook page's lead card: every value of Sentry's internal-
// integration form (GET /sentry-integration) — name, webhook URL with the
// token, Alert Rule Action, the alert-rule-action schema, the permissions
// and why, the issue webhooks — each with a copy button.

import { $, copyText, el, view } from "../js/dom.js";
import { api, safe, words } from "../js/api.js";
import { t } from "../js/i18n.js";
import { markProgress } from "../js/data.js";

let info = null; // the last answer of GET /sentry-integration

// permKey is the strings' key of a permission's resource as Sentry's form
// names it ("Issue & Event" → issue_event).
function permKey(resource) {
  return resource.toLowerCase().replace(/[^a-z]+/g, "_").replace(/^_|_$/g, "");
}

// rows are the form's values in the order Sentry's form asks them.
function rows(d) {
  const out = [
    { id: "name", label: t("integ.name"), value: d.name, why: t("integ.name.why") },
    { id: "webhook_url", label: t("integ.webhook_url"), value: d.webhook_url, why: t("integ.webhook_url.why"), missing: t("integ.webhook_url.missing") },
    { id: "alert_rule_action", label: t("integ.alert_rule_action"), value: t("integ.alert_rule_action.value"), copy: "on", why: t("integ.alert_rule_action.why") },
    { id: "schema", label: t("integ.schema"), value: d.schema_text, why: t("integ.schema.why"), block: true },
  ];
  for (const p of d.permissions || []) {
    const key = "integ.perm." + permKey(p.resource);
    out.push({ id: "perm-" + permKey(p.resource), label: t("integ.perm", { resource: p.resource }), value: p.access, copy: p.resource + ": " + p.access,
      scopes: p.scopes, optional: p.optional, why: words("", key, null, p.why) });
  }
  out.push({ id: "perm-other", label: t("integ.perm", { resource: t("integ.perm.other") }), value: t("integ.perm.other.value"), copy: "No Access", why: t("integ.perm.other.why") });
  out.push({ id: "webhooks", label: t("integ.webhooks"), value: (d.webhooks || []).join(", "), why: t("integ.webhooks.why") });
  return out;
}

async function copyRow(r) {
  await copyText(r.copy || r.value);
  if (r.id === "webhook_url") markProgress("copied");
  view($("#integ-status"), () => t("integ.copied", { what: r.label }));
}

function rowView(r) {
  const has = !!r.value;
  const value = r.block ? el("pre", { class: "copy-value block", id: "integ-value-" + r.id, text: r.value || "" })
    : el("code", { class: "copy-value", id: "integ-value-" + r.id, text: has ? r.value : r.missing || "—" });
  return el("div", { class: "copy-row", id: "integ-row-" + r.id },
    el("div", { class: "copy-head" },
      el("strong", { class: "copy-label", text: r.label }),
      r.optional ? el("span", { class: "tag", text: t("integ.optional") }) : null,
      el("button", { type: "button", class: "btn btn-small", id: "integ-copy-" + r.id, disabled: !has, "aria-label": t("integ.copy.label", { what: r.label }),
        onclick: safe(() => copyRow(r)) }, t("integ.copy"))),
    value,
    r.scopes && r.scopes.length ? el("p", { class: "hint" }, r.scopes.map((s) => el("code", { class: "scope", text: s }))) : null,
    el("p", { class: "hint copy-why", text: r.why }));
}

// loadIntegration reads the form's values and draws them (again in
// another language).
let asked = 0; // the latest question: an earlier answer arriving later is not drawn

export async function loadIntegration() {
  const mine = ++asked;
  const { data } = await api("GET", "/sentry-integration");
  if (mine !== asked) return;
  info = data;
  view($("#integ-rows"), () => rows(info).map(rowView));
}
