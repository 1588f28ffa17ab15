// The page's words: i18n/zh.json and i18n/en.json, loaded once before
// anything is drawn. A value is plain text unless its key ends in ".html"
// (static markup, never user data). {name} is a parameter; in English
// {n|item|items} is the number n followed by the word in its singular or
// plural form.

const LANGS = ["zh", "en"];
const dicts = { zh: {}, en: {} };
const missing = new Set();
let current = "zh";

// load fetches the strings of both languages, so a switch is immediate.
export async function load() {
  await Promise.all(LANGS.map(async (l) => {
    const res = await fetch("i18n/" + l + ".json", { cache: "no-cache" });
    if (!res.ok) throw new Error("i18n/" + l + ".json: HTTP " + res.status);
    dicts[l] = await res.json();
  }));
}

export function lang() {
  return current;
}

export function setLang(l) {
  current = l === "en" ? "en" : "zh";
}

export function has(key) {
  return dicts[current][key] !== undefined || dicts.zh[key] !== undefined;
}

// format fills a template's parameters: {name} is a parameter; {n|one|other}
// is the number n and the word for it.
export function format(s, params) {
  if (!params) return s;
  s = s.replace(/\{(\w+)\|([^|}]*)\|([^}]*)\}/g, (m, k, one, other) => {
    if (params[k] === undefined) return m;
    return params[k] + " " + (Number(params[k]) === 1 ? one : other);
  });
  return s.replace(/\{(\w+)\}/g, (m, k) => (params[k] !== undefined ? String(params[k]) : m));
}

// t words a key with params. A key without words is a mistake of the
// page: it is said once on the console (the browser tests fail on it).
export function t(key, params) {
  let s = dicts[current][key];
  if (s === undefined) s = dicts.zh[key];
  if (s === undefined) {
    if (!missing.has(key)) console.error("no words for " + key);
    missing.add(key);
    return key;
  }
  return format(s, params);
}

// labelText is a {zh, en} text of the server's (a robot kind's label) in
// the page's language.
export function labelText(label) {
  return label ? label[current] || label.zh || "" : "";
}

export function listSep() {
  return current === "zh" ? "、" : ", ";
}

export function fmtTime(s) {
  const d = new Date(s);
  return isNaN(d) ? s : d.toLocaleString(current === "zh" ? "zh-CN" : "en-GB");
}

// fmtClock is the time of day of s (a test's moment), in local time.
export function fmtClock(s) {
  const d = new Date(s);
  return isNaN(d) ? String(s) : d.toLocaleTimeString(current === "zh" ? "zh-CN" : "en-GB", { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

// applyStatic words the markup: data-i18n (text), data-i18n-html (static
// markup from the strings only), data-i18n-aria-label and
// data-i18n-placeholder.
export function applyStatic(root) {
  root.querySelectorAll("[data-i18n]").forEach((n) => {
    n.textContent = t(n.dataset.i18n);
  });
  root.querySelectorAll("[data-i18n-html]").forEach((n) => {
    n.innerHTML = t(n.dataset.i18nHtml);
  });
  root.querySelectorAll("[data-i18n-aria-label]").forEach((n) => {
    n.setAttribute("aria-label", t(n.dataset.i18nAriaLabel));
  });
  root.querySelectorAll("[data-i18n-placeholder]").forEach((n) => {
    n.setAttribute("placeholder", t(n.dataset.i18nPlaceholder));
  });
}
