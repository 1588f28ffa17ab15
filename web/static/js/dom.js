// DOM helpers every page uses: building elements, inputs by id, messages,
// boxes drawn again when the language changes, the banner, searchable
// check lists and length counters.

import { t } from "./i18n.js";

export const $ = (sel) => document.querySelector(sel);

// el builds an element: props are attributes, "text", "class" and on…
// listeners; kids are nodes or text (null, undefined and false are left
// out).
export function el(tag, props, ...kids) {
  const n = document.createElement(tag);
  if (props) {
    for (const [k, v] of Object.entries(props)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "text") n.textContent = v;
      else if (k === "class") n.className = v;
      else if (k.startsWith("on")) n.addEventListener(k.slice(2), v);
      else n.setAttribute(k, v === true ? "" : String(v));
    }
  }
  for (const c of kids.flat()) {
    if (c !== null && c !== undefined && c !== false) n.append(c instanceof Node ? c : String(c));
  }
  return n;
}

export function val(id) {
  const n = document.getElementById(id);
  return n ? n.value : "";
}

// setVal sets an input's value and tells its counter (sw:set).
export function setVal(id, v) {
  const n = document.getElementById(id);
  if (n) {
    n.value = v === undefined || v === null ? "" : v;
    n.dispatchEvent(new Event("sw:set"));
  }
}

export function msgBox(kind, ...lines) {
  return el("div", { class: "msg " + kind }, lines.filter(Boolean).map((l) => (l instanceof Node ? l : el("p", { text: l }))));
}

let toastTimer = 0;
export function toast(text) {
  const n = $("#toast");
  n.textContent = text;
  n.classList.add("show");
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => n.classList.remove("show"), 3000);
}

export function tags(names, cls) {
  if (!names.length) return el("span", { class: "secondary", text: "—" });
  return names.map((n) => el("span", { class: "tag " + (cls || ""), text: n, title: n }));
}

export function safeURL(u) {
  return /^https?:\/\//i.test(u || "") ? u : "";
}

// httpLink is a link only when url is an http(s) URL.
export function httpLink(url, text) {
  return safeURL(url) ? el("a", { href: url, target: "_blank", rel: "noopener noreferrer", text }) : null;
}

// ---- boxes drawn again when the language changes ----

const views = new Map();

function fill(box, render) {
  box.replaceChildren(...[].concat(render()).filter((n) => n !== null && n !== undefined && n !== false));
}

// view fills box with what render returns now, and again after a language
// switch; nothing clears it.
export function view(box, render) {
  if (!box) return;
  views.set(box, render);
  fill(box, render);
}

export function clearView(box) {
  if (!box) return;
  views.delete(box);
  box.replaceChildren();
}

export function redrawViews() {
  for (const [box, render] of views) {
    if (!box.isConnected) {
      views.delete(box);
      continue;
    }
    if (box.childNodes.length === 0) continue; // cleared by other code
    fill(box, render);
  }
}

// ---- the banner: the token, the store, the network, a stale version ----

let banner = { kind: "", words: null };

export function showBanner(kind, words, reload) {
  banner = { kind, words };
  $("#banner-text").textContent = words();
  $("#banner-reload").hidden = !reload;
  $("#banner").hidden = false;
}

export function hideBanner() {
  banner = { kind: "", words: null };
  $("#banner").hidden = true;
}

export function bannerKind() {
  return banner.kind;
}

export function redrawBanner() {
  if (banner.words) $("#banner-text").textContent = banner.words();
}

// ---- searchable lists of checkboxes ----

// fillChecks fills box with a checkbox per item of list (ids prefix+id),
// those in selected ticked; detail(item) is shown beside each name.
export function fillChecks(box, prefix, list, selected, detail, emptyKey) {
  const search = box.previousElementSibling && box.previousElementSibling.classList.contains("check-search") ? box.previousElementSibling : null;
  if (search) {
    search.value = "";
    search.hidden = list.length < 2;
  }
  if (!list.length) {
    box.replaceChildren(el("p", { class: "none", text: t(emptyKey) }));
    return;
  }
  box.replaceChildren(...list.map((item) => {
    const id = prefix + item.id;
    const extra = detail(item);
    return el("label", { for: id, "data-search": (item.name + " " + extra).toLowerCase() },
      el("input", { type: "checkbox", id, value: item.id, checked: selected.includes(item.id) }),
      el("span", { class: "check-name", text: item.name }),
      el("span", { class: "secondary", text: extra }));
  }));
}

// filterChecks hides the entries of a check list that do not match its
// search input (the input before the list).
export function filterChecks(search) {
  const box = search.nextElementSibling;
  const q = search.value.trim().toLowerCase();
  box.querySelectorAll("label[data-search]").forEach((l) => {
    l.hidden = q !== "" && !l.dataset.search.includes(q);
  });
}

export function checkedIds(box) {
  return Array.from(box.querySelectorAll("input[type=checkbox]:checked")).map((n) => Number(n.value));
}

export function setChecks(sel, ids) {
  document.querySelectorAll(sel + " input[type=checkbox]").forEach((n) => {
    n.checked = ids.includes(Number(n.value));
  });
}

// addCounters gives each input with a maximum length under root a
// counter.
export function addCounters(root) {
  root.querySelectorAll("input[maxlength]:not([data-counted]), textarea[maxlength]:not([data-counted])").forEach((input) => {
    input.dataset.counted = "1";
    const counter = el("span", { class: "counter", id: input.id + "-counter", "aria-live": "polite" });
    const update = () => {
      const n = Array.from(input.value).length;
      const max = Number(input.getAttribute("maxlength"));
      counter.textContent = t("common.counter", { n, max });
      counter.classList.toggle("full", n >= max);
    };
    input.addEventListener("input", update);
    input.addEventListener("sw:set", update);
    const wrap = input.closest(".inline") || input;
    wrap.after(counter);
    update();
  });
}
