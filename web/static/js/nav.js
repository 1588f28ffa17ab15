// The pages: which one is shown, and drawing them again in another
// language. The shell registers the pages (each a module of pages/, see
// main.js); a page is the section #page-<name> with the link #nav-<name>.

import { $, blocked, redrawBanner, redrawViews } from "./dom.js";
import { api, safe, session } from "./api.js";
import { applyStatic, lang, setLang, t } from "./i18n.js";
import { redrawFieldErrors, relabelForms, rewordSecrets } from "./form.js";

const pages = new Map(); // name → page module
const shown = []; // listeners called when a page is shown
const drawn = []; // listeners called when the pages were drawn again
let cur = "";

export function register(list) {
  for (const p of list) pages.set(p.name, p);
}

export function all() {
  return Array.from(pages.values());
}

export function current() {
  return cur;
}

// onShow calls fn(name) whenever a page is shown.
export function onShow(fn) {
  shown.push(fn);
}

// onRender calls fn whenever the pages were drawn again.
export function onRender(fn) {
  drawn.push(fn);
}

// show shows the page named name (the first page for a name it does not
// know) and loads what it reads from the server.
export function show(name) {
  if (!pages.has(name)) name = pages.keys().next().value;
  if (cur === name && !$("#page-" + name).hidden) return;
  cur = name;
  for (const p of pages.keys()) {
    $("#page-" + p).hidden = p !== name;
    const link = $("#nav-" + p);
    if (p === name) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  for (const fn of shown) fn(name);
  load(name);
}

// go shows a page from code (a button elsewhere), as its link would.
export async function go(name) {
  if (cur !== name) {
    location.hash = "#" + name;
    show(name);
  }
}

// load runs the page's load(), which reads what the page shows from the
// server. The section's data-loads counts the loads that have ended
// (failed ones too): whoever waits for the page (a test) waits for it to
// change.
export function load(name) {
  const p = pages.get(name);
  const section = $("#page-" + name);
  const loaded = () => {
    section.dataset.loads = String(Number(section.dataset.loads || 0) + 1);
  };
  if (!p.load) {
    loaded();
    return;
  }
  safe(async () => {
    try {
      await p.load();
    } finally {
      loaded();
    }
  })();
}

// render draws every page from the document (after a refresh).
export function render() {
  for (const p of pages.values()) if (p.render) p.render();
  for (const fn of drawn) fn();
}

// rememberLanguage keeps the language in this browser, to open the page in
// it before the settings are read (and when they cannot be).
export function rememberLanguage() {
  try {
    localStorage.setItem("sw-lang", lang());
  } catch (e) {
    /* storage may be off; the switch still works for this page */
  }
}

// applyLanguage words the shell's markup in the page's language.
function applyLanguage() {
  document.documentElement.lang = lang() === "zh" ? "zh-CN" : "en";
  document.title = t("doc.title");
  applyStatic(document);
  $("#lang-toggle").setAttribute("lang", lang() === "zh" ? "en" : "zh-CN");
  redrawBanner();
}

// switchLanguage shows the page in lang ("zh" or "en"): what is on the
// page is worded again; pages drawn from their data are drawn again, and
// forms keep what was typed. The language is one setting, kept in the
// settings file (the header's button and 设置 both change it); this
// browser remembers it too, to open in it before the settings are read.
export function switchLanguage(l) {
  setLang(l);
  rememberLanguage();
  if (session.token && !blocked()) safe(() => api("PUT", "/settings", { language: lang() }))();
  wordAgain();
  render();
  if (!blocked() && !pages.get(cur).keepOnLanguage) load(cur);
}

// wordAgain words again what is on the page in its language: the markup,
// the boxes drawn from data, field errors, open forms, secret inputs.
export function wordAgain() {
  applyLanguage();
  redrawViews();
  redrawFieldErrors();
  relabelForms();
  rewordSecrets();
}
