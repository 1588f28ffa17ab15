// The shell of the configurator page: it loads the strings and the pages,
// keeps the token, switches the language and the page, and draws the pages
// again when the document was read again. Plain ES modules, no build step.
//
// PAGES is the registry, in the navigation's order: each name is a page,
// the module pages/<name>.js (its default export: {name, icon, separator,
// init(), render(), load(), keepOnLanguage}) and its markup
// pages/<name>.html. See docs/architecture.md, "How to add a page".

import { $, addCounters, blockForToken, el, filterChecks, followMenus, hideBanner } from "./dom.js";
import { api, safe, session } from "./api.js";
import { lang, load as loadStrings, setLang } from "./i18n.js";
import { onProgress, onRefresh, refresh } from "./data.js";
import { addSecretToggles, editingDialog, reloadKeepingInput } from "./form.js";
import { all, current, load, onRender, onShow, register, rememberLanguage, render, show, switchLanguage, wordAgain } from "./nav.js";
import { renderGuide } from "./guide.js";

const PAGES = ["projects", "owners", "schedules", "robots", "organizations", "deliveries", "webhook", "import", "history", "settings"];

// readToken takes the token from the URL the page was opened with (and
// removes it from the address bar), else from this tab's storage.
function readToken() {
  const u = new URL(location.href);
  const fromURL = u.searchParams.get("token");
  if (fromURL) {
    try {
      sessionStorage.setItem("sw-token", fromURL);
    } catch (e) {
      /* keep it in memory only */
    }
    u.searchParams.delete("token");
    history.replaceState(null, "", u.pathname + u.search + u.hash);
  }
  let stored = "";
  try {
    stored = sessionStorage.getItem("sw-token") || "";
  } catch (e) {
    stored = "";
  }
  return fromURL || stored;
}

function bind() {
  $("#lang-toggle").addEventListener("click", () => switchLanguage(lang() === "zh" ? "en" : "zh"));
  $("#banner-reload").addEventListener("click", safe(async () => {
    if (editingDialog()) {
      await reloadKeepingInput();
    } else {
      hideBanner();
      await refresh();
    }
    load(current());
  }));
  window.addEventListener("hashchange", () => show(location.hash.slice(1)));
  // A row's menu stays by its button.
  window.addEventListener("scroll", followMenus, { capture: true, passive: true });
  window.addEventListener("resize", followMenus);
  document.querySelectorAll("dialog [data-close]").forEach((b) => b.addEventListener("click", () => b.closest("dialog").close()));
  document.querySelectorAll(".check-search").forEach((n) => n.addEventListener("input", () => filterChecks(n)));
  addSecretToggles(document);
  addCounters(document);
}

// loadPage reads a page's module and markup.
async function loadPage(name) {
  const [mod, res] = await Promise.all([import(`../pages/${name}.js`), fetch(`pages/${name}.html`, { cache: "no-cache" })]);
  if (!res.ok) throw new Error(`pages/${name}.html: HTTP ${res.status}`);
  return { page: mod.default, markup: await res.text() };
}

// place puts a page in the shell: its link in the navigation, its section
// in main (the dialogs of its markup at the end of the body).
function place(page, markup) {
  const icon = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  icon.setAttribute("class", "nav-icon");
  icon.setAttribute("viewBox", "0 0 24 24");
  icon.setAttribute("aria-hidden", "true");
  icon.setAttribute("focusable", "false");
  icon.innerHTML = page.icon || ""; // static markup of the page's module
  $("#nav-pages").append(el("li", { class: page.separator ? "nav-sep" : null },
    el("a", { href: "#" + page.name, id: "nav-" + page.name, "data-page": page.name }, icon, el("span", { "data-i18n": "nav." + page.name }))));
  const section = el("section", { id: "page-" + page.name, class: "page", "aria-labelledby": page.name + "-title", hidden: true });
  section.innerHTML = markup; // the page's own file, never data
  for (const dlg of section.querySelectorAll(":scope > dialog")) document.body.append(dlg);
  $("#main").append(section);
}

async function init() {
  const [, loaded] = await Promise.all([loadStrings(), Promise.all(PAGES.map(loadPage))]);
  // The language this browser last used, until the settings say theirs.
  let saved = "";
  try {
    saved = localStorage.getItem("sw-lang") || "";
  } catch (e) {
    saved = "";
  }
  setLang(saved);
  for (const { page, markup } of loaded) place(page, markup);
  register(loaded.map((l) => l.page));
  for (const p of all()) if (p.init) p.init();
  bind();
  session.token = readToken();
  wordAgain();
  onRefresh(render);
  onRender(renderGuide);
  onShow(renderGuide);
  onProgress(renderGuide);
  if (!session.token) {
    blockForToken(true);
    return;
  }
  // The settings first: the language is theirs (one setting for the
  // header's button and 设置), and a token that is not this configurator's
  // shows its screen here (api.js), before any page asks for anything.
  let settings;
  try {
    settings = (await api("GET", "/settings")).data;
  } catch (err) {
    if (err.status === 401) return;
    settings = {};
  }
  if (settings.language && settings.language !== lang()) {
    setLang(settings.language);
    wordAgain();
  }
  rememberLanguage();
  show(location.hash.slice(1));
  await refresh();
}

safe(init)();
