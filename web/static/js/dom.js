// DOM helpers every page uses: building elements, inputs by id, messages,
// raw answers, boxes drawn again when the language changes, the banner and
// the screen of a wrong token, tables (cards when narrow, a row's actions,
// searching the rows), searchable check lists and length counters.

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

// rawAnswer is what a relay, a robot, Sentry or a store answered in its own
// words (often in another language than the page's), kept behind a closed
// 原始回答 / raw answer: the page says in its own words what it means.
// null without text. label is the key of the toggle's words.
export function rawAnswer(text, label) {
  if (!text) return null;
  return el("details", { class: "raw" }, el("summary", { text: t(label || "raw.answer") }), el("pre", { text: String(text) }));
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

// ---- the screen of a link without this configurator's token ----

// blockForToken shows, instead of the pages, that the link's token is not
// this configurator's (missing: the link has none) and how to get the right
// link. Nothing else works without it.
export function blockForToken(missing) {
  document.body.classList.add("blocked");
  $("#token-screen").hidden = false;
  $("#token-screen-wrong").hidden = !!missing;
  $("#token-screen-missing").hidden = !missing;
  hideBanner();
}

export function blocked() {
  return document.body.classList.contains("blocked");
}

// ---- the banner: the store, the network, a stale version ----

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

// clearOutcomes empties the boxes that say what an action did (.outcome):
// after the store changed they would speak of another configuration.
export function clearOutcomes() {
  document.querySelectorAll(".outcome").forEach(clearView);
}

// ---- tables: cards when narrow, a row's actions, searching the rows ----

// fillTable puts rows (nodes, or lists of them; null left out) in a table's
// body, and gives each cell its column's header (data-label), which a
// narrow window shows beside the cell when the table is drawn as cards.
// A row that belongs to the one before it (its status, its diff) is a
// tr.sub with one cell across the table.
export function fillTable(tbody, rows) {
  tbody.replaceChildren(...rows.flat().filter(Boolean));
  labelCells(tbody.closest("table"));
}

export function labelCells(table) {
  const heads = Array.from(table.querySelectorAll("thead th")).map((th) => th.textContent.trim());
  table.querySelectorAll("tbody > tr:not(.sub)").forEach((tr) => {
    Array.from(tr.children).forEach((td, i) => {
      if (heads[i]) td.dataset.label = heads[i];
    });
  });
}

// subRow is a row under the row before it, one cell across the table (a
// status, a diff).
export function subRow(id, table, ...kids) {
  const cols = table ? table.querySelectorAll("thead th").length : 1;
  return el("tr", { id, class: "sub" }, el("td", { colspan: cols }, kids));
}

// rowActions shows a row's first actions (shown: buttons) and keeps the
// others (more) in a compact menu (⋯), so a row's actions take a line, two
// at most, at any width. id names the menu (id-more opens id-menu); label
// says whose actions they are.
export function rowActions(id, label, shown, more) {
  const group = el("div", { class: "action-group" }, shown);
  if (!more.length) return group;
  const menu = el("div", { id: id + "-menu", class: "menu", popover: "auto", role: "menu", "aria-label": label });
  for (const b of more) {
    b.setAttribute("role", "menuitem");
    b.className = "menu-item" + (b.classList.contains("btn-link") ? " danger" : "");
    menu.append(b);
  }
  const btn = el("button", { type: "button", class: "btn btn-small btn-more", id: id + "-more", popovertarget: menu.id,
    "aria-haspopup": "menu", "aria-expanded": "false", "aria-label": label, title: label }, el("span", { "aria-hidden": "true", text: "⋯" }));
  menu.addEventListener("toggle", (ev) => {
    const open = ev.newState === "open";
    btn.setAttribute("aria-expanded", String(open));
    if (!open) return;
    placeMenu(menu, btn);
    const first = menu.querySelector("button:not([disabled])");
    if (first) first.focus();
  });
  // An item's own handler runs first; then the menu closes.
  menu.addEventListener("click", (ev) => {
    if (ev.target.closest("button") && menu.matches(":popover-open")) menu.hidePopover();
  });
  menu.addEventListener("keydown", (ev) => {
    if (ev.key !== "ArrowDown" && ev.key !== "ArrowUp") return;
    ev.preventDefault();
    const items = Array.from(menu.querySelectorAll("button:not([disabled])"));
    const i = items.indexOf(document.activeElement);
    items[(i + (ev.key === "ArrowDown" ? 1 : items.length - 1)) % items.length].focus();
  });
  group.append(btn, menu);
  return group;
}

// placeMenu puts an open menu under its button (above it when there is no
// room below), inside the window.
function placeMenu(menu, btn) {
  const r = btn.getBoundingClientRect();
  const w = menu.offsetWidth, h = menu.offsetHeight;
  const left = Math.max(8, Math.min(r.right - w, window.innerWidth - w - 8));
  const top = r.bottom + 4 + h <= window.innerHeight - 8 ? r.bottom + 4 : Math.max(8, r.top - h - 4);
  menu.style.left = left + "px";
  menu.style.top = top + "px";
}

// followMenus keeps the open row menus by their buttons when the page
// scrolls or the window changes; a menu whose button left the window
// closes.
export function followMenus() {
  document.querySelectorAll(".menu:popover-open").forEach((m) => {
    const btn = document.querySelector(`[popovertarget="${m.id}"]`);
    const r = btn ? btn.getBoundingClientRect() : null;
    if (!r || r.bottom < 0 || r.top > window.innerHeight || !btn.getClientRects().length) m.hidePopover();
    else placeMenu(m, btn);
  });
}

// filterRows shows the rows of tbody whose words (data-search, else their
// text) hold every word of query, and the rows that belong to them (tr.sub
// after them). It returns how many rows it shows.
export function filterRows(tbody, query) {
  const words = query.trim().toLowerCase().split(/\s+/).filter(Boolean);
  let show = true;
  let shown = 0;
  for (const tr of tbody.children) {
    if (tr.classList.contains("sub")) {
      tr.hidden = !show;
      continue;
    }
    const text = (tr.dataset.search || tr.textContent).toLowerCase();
    show = words.every((w) => text.includes(w));
    tr.hidden = !show;
    if (show) shown++;
  }
  return shown;
}

// searchBox wires a search input to a table's body: typing filters the
// rows, a note says when none match; filter() applies the words again
// after the rows were drawn again.
export function searchBox(input, tbody, none) {
  const filter = () => {
    const q = input.value;
    const n = filterRows(tbody, q);
    if (none) none.hidden = !(q.trim() && n === 0 && tbody.children.length);
    return n;
  };
  input.addEventListener("input", filter);
  return filter;
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
