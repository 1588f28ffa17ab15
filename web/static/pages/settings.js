// 设置 Settings: where the configuration is kept (through the relay, a
// folder, OSS), the relay URL and the language; the connection test.

import { $, clearView, el, msgBox, rawAnswer, setVal, view } from "../js/dom.js";
import { api, fieldText, safe } from "../js/api.js";
import { lang, t } from "../js/i18n.js";
import { refresh, state } from "../js/data.js";
import { clearErrors, fillSecret, refuseMasks, secretSource, secretValue, showErrors } from "../js/form.js";
import { switchLanguage } from "../js/nav.js";

const FIELDS = ["folder", "oss_endpoint", "oss_region", "oss_bucket", "oss_prefix", "oss_access_key_id", "oss_access_key_secret", "relay_url", "relay_admin_key"];
const STORE_KINDS = ["relay", "folder", "oss"];

function storeKind() {
  const n = document.querySelector("input[name=store_kind]:checked");
  return n ? n.value : "folder";
}

function toggleStoreFields() {
  const kind = storeKind();
  for (const k of STORE_KINDS) $("#settings-" + k + "-fields").hidden = k !== kind;
}

function describeActive(data) {
  view($("#settings-lead"), () => t("settings.lead", { file: data.settings_file }));
  view($("#settings-active"), () => [t("settings.active", { loc: data.active_store, src: t("settings.src." + data.store_source) }) +
    (data.store_error ? " — " + t("settings.store_error") : ""), rawAnswer(data.store_error)]);
  const o = data.store_override;
  const box = $("#settings-override");
  if (o) {
    view(box, () => msgBox("warn", t("settings.override", { src: t("settings.override." + o.source), store: o.store })));
  } else {
    clearView(box);
  }
}

async function load() {
  clearErrors("settings");
  const { data } = await api("GET", "/settings");
  fill(data);
  const kind = STORE_KINDS.includes(data.store_kind) ? data.store_kind : "folder";
  $("#settings-store_kind-" + kind).checked = true;
  // One language setting: the page's (the header's button and this select
  // both change it).
  $("#settings-language").value = lang();
  describeActive(data);
  toggleStoreFields();
}

function fill(data) {
  for (const f of FIELDS) {
    const input = $("#settings-" + f);
    if (input.matches("[data-secret]")) fillSecret(input, data[f]);
    else setVal(input.id, data[f]);
  }
}

// collect leaves out an empty secret: the saved one stays.
function collect() {
  const body = { store_kind: storeKind(), language: lang() };
  for (const f of FIELDS) {
    const input = $("#settings-" + f);
    const v = input.matches("[data-secret]") ? secretValue(input) : input.value;
    if (v !== undefined) body[f] = v.trim();
  }
  return body;
}

async function save() {
  const box = $("#settings-result");
  clearView(box);
  clearErrors("settings");
  if (refuseMasks("settings")) return;
  const before = state.store;
  try {
    const { data } = await api("PUT", "/settings", collect());
    describeActive(data);
    fill(data);
    await refresh();
    view(box, () => msgBox("ok", data.active_store !== before ? t("settings.switched", { loc: data.active_store }) : t("settings.saved")));
  } catch (err) {
    showErrors("settings", err);
  }
}

function testDetail(data) {
  const p = data.params || {};
  const conn = p.served ? t("test.detail.relay", { served: p.served }) : t("test.detail.conn", { store: p.store || data.store || "" });
  if (data.code === "ok") return t("test.detail.ok", Object.assign({ conn }, p));
  if (data.code === "no_document") return t("test.detail.no_document", Object.assign({ conn }, p));
  if (data.code === "invalid_document") return (data.fields || []).map((f) => f.field + ": " + fieldText(f)).join("；");
  return "";
}

async function test() {
  const box = $("#settings-result");
  clearErrors("settings");
  if (refuseMasks("settings")) return;
  const btn = $("#settings-test");
  btn.disabled = true;
  view(box, () => msgBox("info", t("settings.testing")));
  try {
    const { data } = await api("POST", "/settings/test", collect());
    // What the store answered, in its own words, is the raw answer.
    view(box, () => msgBox(data.ok ? "ok" : "fail", t("test." + data.code), el("p", { class: "detail", text: testDetail(data) }),
      rawAnswer(data.ok ? "" : (data.params || {}).detail)));
  } catch (err) {
    clearView(box);
    showErrors("settings", err);
  } finally {
    btn.disabled = false;
  }
}

export default {
  name: "settings",
  icon: '<path d="M4 6.5h9M17 6.5h3M4 12h3M11 12h9M4 17.5h11M19 17.5h1"/><circle cx="15" cy="6.5" r="2"/><circle cx="9" cy="12" r="2"/><circle cx="17" cy="17.5" r="2"/>',
  // Its form keeps what was typed when the language changes.
  keepOnLanguage: true,
  init() {
    secretSource("settings", () => "/settings/secrets");
    $("#settings-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      safe(save)();
    });
    $("#settings-test").addEventListener("click", safe(test));
    document.querySelectorAll("input[name=store_kind]").forEach((n) => n.addEventListener("change", toggleStoreFields));
    // The language is switched (and kept) at once, as the header's button does.
    $("#settings-language").addEventListener("change", (ev) => switchLanguage(ev.target.value));
  },
  render() {
    $("#settings-language").value = lang();
  },
  load,
};
