// Forms: the entity dialogs (a page registers its entity's form with
// entityForm and fills in only what is its own), field errors next to
// their inputs, secret inputs, and the confirmation dialog.

import { $, clearView, el, hideBanner, msgBox, setVal, toast, val, view } from "./dom.js";
import { api, errText, fieldText, safe, session } from "./api.js";
import { listSep, t } from "./i18n.js";
import { byId, clearTest, dangerItems, projectsUsing, refresh, schedulesUsing, state } from "./data.js";

// ---- the confirmation dialog ----

// confirmDialog asks a question; dangers (risky changes of an import or a
// restore) are listed under it in red. It resolves true for OK.
export function confirmDialog(text, okText, dangers) {
  const dlg = $("#confirm-dialog");
  $("#confirm-text").textContent = text;
  const list = $("#confirm-dangers");
  list.replaceChildren(...dangerItems(dangers));
  list.hidden = !list.childElementCount;
  $("#confirm-ok").textContent = okText || t("confirm.ok");
  return new Promise((resolve) => {
    const done = (v) => {
      $("#confirm-ok").onclick = null;
      $("#confirm-cancel").onclick = null;
      dlg.onclose = null;
      if (dlg.open) dlg.close();
      resolve(v);
    };
    $("#confirm-ok").onclick = () => done(true);
    $("#confirm-cancel").onclick = () => done(false);
    // A close event still queued from the previous question fires while
    // this one is open: only a close that left the dialog closed (Esc)
    // answers it.
    dlg.onclose = () => {
      if (!dlg.open) done(false);
    };
    dlg.showModal();
    $("#confirm-cancel").focus();
  });
}

// ---- field errors ----

const fieldErrors = new Map(); // prefix → the last error shown, drawn again in another language

export function clearErrors(prefix) {
  fieldErrors.delete(prefix);
  document.querySelectorAll(`[id^="${prefix}-"][id$="-error"]`).forEach((n) => {
    n.textContent = "";
  });
  document.querySelectorAll(`[id^="${prefix}-"][aria-invalid]`).forEach((n) => n.removeAttribute("aria-invalid"));
  const fe = document.getElementById(prefix + "-form-error");
  if (fe) fe.replaceChildren();
}

// showErrors puts each field error of an API answer next to its input:
// projects[2].slug goes to #<prefix>-slug-error.
export function showErrors(prefix, err, quiet) {
  clearErrors(prefix);
  fieldErrors.set(prefix, err);
  const formError = document.getElementById(prefix + "-form-error");
  if (err.status === 409 && err.data.code === "stale") {
    if (formError) {
      formError.append(el("span", { text: t("banner.stale") + " " }));
      const dlg = formError.closest("dialog");
      if (dlg) formError.append(el("button", { type: "button", class: "btn btn-small", id: prefix + "-reload", onclick: safe(reloadKeepingInput) }, t("form.reload")));
    }
    return;
  }
  const fields = (err.data && err.data.fields) || [];
  const loose = [];
  let first = null;
  for (const fe of fields) {
    const name = fe.field.replace(/^[a-z_]+\[\d+\]\./, "").replace(/\[\d+\]$/, "");
    const box = document.getElementById(`${prefix}-${name}-error`);
    if (!box) {
      loose.push(`${fe.field}: ${fieldText(fe)}`);
      continue;
    }
    box.textContent = (box.textContent ? box.textContent + " " : "") + fieldText(fe);
    const input = document.getElementById(`${prefix}-${name}`);
    if (input) {
      input.setAttribute("aria-invalid", "true");
      if (!first) first = input;
      const details = input.closest("details");
      if (details) details.open = true;
    }
  }
  if (!fields.length) loose.push(errText(err));
  if (formError) formError.textContent = loose.join("；");
  else if (loose.length) toast(loose.join("; "));
  if (first && !quiet) {
    const target = first.matches("fieldset") ? first.querySelector("input") || first : first;
    target.focus();
  }
}

export function redrawFieldErrors() {
  for (const [prefix, err] of Array.from(fieldErrors)) showErrors(prefix, err, true);
}

// ---- secret inputs ----

// Secret inputs (data-secret) are password inputs with a show/hide button;
// those that may be empty (data-clearable: a signing secret, a password)
// also get 清除 / Clear. A secret input opens empty, and empty keeps the
// saved value: the saved value's mask (from the list) is only its
// placeholder, so nothing typed can mix with it. 显示 / Show fetches the
// real value on request.

const secretPaths = new Map(); // id prefix → () => the API path of its saved secrets, or ""

// secretSource says where the saved secrets of the inputs #<prefix>-… are
// read from.
export function secretSource(prefix, path) {
  secretPaths.set(prefix, path);
}

export function addSecretToggles(root) {
  root.querySelectorAll("input[data-secret]:not([data-toggled])").forEach((input) => {
    input.dataset.toggled = "1";
    const btn = el("button", { type: "button", class: "btn btn-small btn-ghost secret-toggle", id: input.id + "-show", "aria-controls": input.id, "aria-pressed": "false" });
    btn.addEventListener("click", safe(async () => {
      const show = input.type === "password";
      if (show && !input.value && !input.disabled && input.dataset.saved) await revealSecret(input);
      showSecret(input, show);
    }));
    const wrap = el("div", { class: "secret-wrap" });
    input.replaceWith(wrap);
    wrap.append(input, btn);
    if (input.matches("[data-clearable]")) {
      const box = el("input", { type: "checkbox", id: input.id + "-clear", "aria-controls": input.id });
      box.addEventListener("change", () => setSecretClear(input, box.checked));
      wrap.after(el("label", { class: "switch secret-clear", for: box.id, hidden: true }, box, " ", el("span", { "data-i18n": "secret.clear", text: t("secret.clear") })));
    }
    showSecret(input, false);
  });
}

export function showSecret(input, shown) {
  input.type = shown ? "text" : "password";
  const btn = document.getElementById(input.id + "-show");
  if (!btn) return;
  btn.textContent = shown ? t("common.hide") : t("common.show");
  btn.setAttribute("aria-pressed", shown ? "true" : "false");
  btn.setAttribute("aria-label", (shown ? t("common.hide") : t("common.show")) + " " + ((input.labels && input.labels[0] && input.labels[0].textContent) || ""));
}

// fillSecret opens a secret input empty, with the saved value's mask.
export function fillSecret(input, saved) {
  input.value = "";
  input.dataset.saved = saved || "";
  const clear = document.getElementById(input.id + "-clear");
  if (clear) clear.closest("label").hidden = !saved;
  setSecretClear(input, false);
  input.dispatchEvent(new Event("sw:set"));
}

// secretPlaceholder words a secret input's placeholder: the saved value's
// mask, "cleared when saved", or the form's own (fallback, remembered).
export function secretPlaceholder(input, fallback) {
  if (fallback !== undefined) input.dataset.placeholder = fallback;
  const clear = document.getElementById(input.id + "-clear");
  if (clear && clear.checked) input.placeholder = t("secret.cleared");
  else if (input.dataset.saved) input.placeholder = t("secret.saved", { mask: input.dataset.saved });
  else input.placeholder = input.dataset.placeholder || "";
}

export function setSecretClear(input, on) {
  const clear = document.getElementById(input.id + "-clear");
  if (clear) clear.checked = on;
  input.disabled = on;
  if (on) input.value = "";
  secretPlaceholder(input);
}

// secretValue is what a form sends for a secret: "" when 清除 is ticked,
// what was typed, or nothing (undefined: the saved value stays).
export function secretValue(input) {
  const clear = document.getElementById(input.id + "-clear");
  if (clear && clear.checked) return "";
  return input.value.trim() === "" ? undefined : input.value;
}

// rewordSecrets words the secret inputs again (a language switch).
export function rewordSecrets() {
  document.querySelectorAll("input[data-secret]").forEach((n) => {
    showSecret(n, n.type === "text");
    secretPlaceholder(n);
  });
}

// refuseMasks says, before anything is sent, that a secret input of a form
// holds a mask (… or ******, copied from a list): it is not the secret. The
// server refuses it as well.
export function refuseMasks(prefix) {
  const fields = Array.from(document.querySelectorAll(`input[data-secret][id^="${prefix}-"]`))
    .filter((n) => !n.disabled && (n.value.includes("…") || n.value.includes("******")))
    .map((n) => ({ field: n.name, code: "secret_masked", message: "holds a mask, not the secret" }));
  if (fields.length) showErrors(prefix, { status: 422, data: { code: "validation", fields } });
  return fields.length > 0;
}

// revealSecret fills a secret input with its saved value, asked of the API
// for this one entry (lists and reads never carry it).
async function revealSecret(input) {
  const source = secretPaths.get(input.id.split("-")[0]);
  const path = source ? source() : "";
  if (!path) return;
  const { data } = await api("GET", path);
  if (!input.value && typeof data[input.name] === "string") setVal(input.id, data[input.name]);
}

// ---- entity forms ----

// A page registers its entity's form (the dialog #<kind>-dialog holding
// #<kind>-form, inputs #<kind>-<field>, the button #<kind>-save):
//   kind      "owner", "robot", …
//   path      the API path of its list ("/owners")
//   list      its list in the document ("owners")
//   fields()  the names of its plain inputs and secret inputs
//   prepare() before the inputs are filled (build inputs, options)
//   fill(item, preset) what the plain fields do not cover; item is null
//             for a new entry, preset what to start a new one with
//   collect(body) adds what the plain fields do not cover
//   put(key, value) puts back one of those after a reload; true if it did
//   check(body) async: false stops the save (a question asked)
//   relabel() words what it built again (a language switch)
const forms = new Map();
let editing = null; // {kind, id, base: the values the form was filled with}

export function entityForm(spec) {
  forms.set(spec.kind, spec);
  secretSource(spec.kind, () => (editing && editing.kind === spec.kind && editing.id ? `${spec.path}/${editing.id}/secrets` : ""));
  $(`#${spec.kind}-form`).addEventListener("submit", (ev) => {
    ev.preventDefault();
    safe(() => submitForm(spec.kind))();
  });
  const dlg = $(`#${spec.kind}-dialog`);
  dlg.addEventListener("close", () => {
    // A close event still queued from the form closed before fires after
    // the form was opened again: it ends nothing then.
    if (dlg.open) return;
    if (editing && editing.kind === spec.kind) editing = null;
    clearErrors(spec.kind);
  });
}

// editingDialog is the entity dialog open now, if any.
export function editingDialog() {
  const dlg = editing && document.getElementById(editing.kind + "-dialog");
  return dlg && dlg.open ? dlg : null;
}

function fillForm(spec, item, preset) {
  if (spec.prepare) spec.prepare();
  for (const f of spec.fields()) {
    const input = document.getElementById(spec.kind + "-" + f);
    if (input && input.matches("[data-secret]")) fillSecret(input, item && item[f]);
    else setVal(spec.kind + "-" + f, item ? item[f] : "");
  }
  if (spec.fill) spec.fill(item, preset);
  document.querySelectorAll(`#${spec.kind}-form input[type=password]`).forEach((n) => showSecret(n, false));
}

function collectForm(spec) {
  const body = {};
  for (const f of spec.fields()) {
    const input = document.getElementById(spec.kind + "-" + f);
    if (input && input.matches("[data-secret]")) {
      const v = secretValue(input);
      if (v !== undefined) body[f] = v;
    } else {
      body[f] = val(spec.kind + "-" + f);
    }
  }
  if (spec.collect) spec.collect(body);
  return body;
}

// openForm opens kind's dialog for item (null: a new one, started from
// preset).
export function openForm(kind, item, preset) {
  const spec = forms.get(kind);
  editing = { kind, id: item ? item.id : null };
  $(`#${kind}-dialog-title`).textContent = t(`${kind}.dialog.${item ? "edit" : "new"}`);
  clearErrors(kind);
  fillForm(spec, item, preset);
  editing.base = collectForm(spec);
  const dlg = $(`#${kind}-dialog`);
  if (!dlg.open) dlg.showModal();
  $(`#${kind}-name`).focus();
}

// relabelForms words an open form again in the page's language.
export function relabelForms() {
  const dlg = editingDialog();
  if (!dlg) return;
  $(`#${editing.kind}-dialog-title`).textContent = t(`${editing.kind}.dialog.${editing.id ? "edit" : "new"}`);
  const spec = forms.get(editing.kind);
  if (spec.relabel) spec.relabel();
}

// reloadKeepingInput loads the current configuration while a form is open
// after a refused (stale) save: the form shows the entry as it is now,
// with every field the user changed kept as they typed it.
export async function reloadKeepingInput() {
  const e = editing;
  if (!e) return;
  const spec = forms.get(e.kind);
  const mine = collectForm(spec);
  const base = e.base || {};
  await refresh();
  hideBanner();
  const fresh = e.id ? byId(state.data[spec.list], e.id) : null;
  clearErrors(e.kind);
  if (e.id && !fresh) {
    document.getElementById(e.kind + "-form-error").textContent = t("form.gone");
    return;
  }
  fillForm(spec, fresh);
  e.base = collectForm(spec);
  for (const [k, v] of Object.entries(mine)) {
    if (JSON.stringify(v) === JSON.stringify(base[k])) continue; // not changed here: take theirs
    if (spec.put && spec.put(k, v)) continue;
    if (v === "" && document.getElementById(e.kind + "-" + k + "-clear")) setSecretClear($(`#${e.kind}-${k}`), true);
    else setVal(e.kind + "-" + k, v);
  }
  if (spec.relabel) spec.relabel();
  document.getElementById(e.kind + "-form-error").textContent = t("form.reloaded");
}

async function submitForm(kind) {
  const spec = forms.get(kind);
  if (refuseMasks(kind)) return;
  const body = collectForm(spec);
  const id = editing && editing.kind === kind ? editing.id : null;
  if (spec.check && !(await spec.check(body))) return;
  const btn = $(`#${kind}-save`);
  btn.disabled = true;
  try {
    if (id) await api("PUT", `${spec.path}/${id}`, body, { ifMatch: session.etag, track: true });
    else await api("POST", spec.path, body, { track: true });
    if (id) clearTest(kind, id); // its last test alert spoke of it as it was
    await refresh(); // the lists are current by the time the dialog closes
    $(`#${kind}-dialog`).close();
    toast(t("common.saved"));
  } catch (err) {
    showErrors(kind, err);
  } finally {
    btn.disabled = false;
  }
}

// confirmDelete deletes an entry after asking, naming the projects (and
// the schedules) that use it.
export async function confirmDelete(kind, item) {
  const refs = projectsUsing(kind, item.id).map((p) => ({ kind: "projects", name: p.name }))
    .concat(schedulesUsing(kind, item.id).map((s) => ({ kind: "schedules", name: s.name })));
  const text = refs.length ? referencedText(item, refs) : t("confirm.delete", { name: item.name });
  if (!(await confirmDialog(text, refs.length ? t("confirm.deleteAnyway") : t("common.delete")))) return;
  await doDelete(forms.get(kind), item, refs.length > 0);
}

// referencedText asks to delete item, which refs use: projects only are
// named as before; with a schedule, each with what it is.
function referencedText(item, refs) {
  if (refs.every((r) => r.kind === "projects")) return t("confirm.deleteReferenced", { name: item.name, list: refs.map((r) => r.name).join(listSep()) });
  const list = refs.map((r) => t(r.kind === "schedules" ? "confirm.used.schedule" : "confirm.used.project", { name: r.name })).join(listSep());
  return t("confirm.deleteUsed", { name: item.name, list });
}

async function doDelete(spec, item, force) {
  const box = $(`#${spec.list}-result`);
  try {
    await api("DELETE", `${spec.path}/${item.id}${force ? "?force=1" : ""}`, undefined, { ifMatch: session.etag, track: true });
    clearTest(spec.kind, item.id);
    toast(t("common.deleted"));
    clearView(box);
    await refresh();
  } catch (err) {
    if (err.status === 409 && err.data.code === "referenced") {
      if (await confirmDialog(referencedText(item, err.data.referenced_by || []), t("confirm.deleteAnyway"))) {
        await doDelete(spec, item, true);
      }
      return;
    }
    if (err.data.code !== "stale") view(box, () => msgBox("fail", errText(err)));
  }
}
