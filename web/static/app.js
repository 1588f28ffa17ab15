// sentry-white configurator page. Plain JavaScript, no build step: it talks
// to the JSON API under /api/v1/ with the bearer token from the URL it was
// opened with. Everything the server says comes as a code with parameters,
// and is worded here from the strings in i18n/<lang>.json in the reader's
// language; what is on the page is drawn again when the language changes.
"use strict";

(function () {
  // The page's strings by language (i18n/zh.json, i18n/en.json), loaded
  // before anything is drawn.
  const I18N = { zh: {}, en: {} };
  const LANGS = ["zh", "en"];

  async function loadStrings() {
    await Promise.all(LANGS.map(async (lang) => {
      const res = await fetch("i18n/" + lang + ".json", { cache: "no-cache" });
      if (!res.ok) throw new Error("i18n/" + lang + ".json: HTTP " + res.status);
      I18N[lang] = await res.json();
    }));
  }
  const PAGES = ["projects", "owners", "robots", "organizations", "deliveries", "webhook", "import", "history", "settings"];

  const state = {
    token: "",
    etag: null,
    lang: "zh",
    page: "projects",
    data: { organizations: [], owners: [], robots: [], projects: [] },
    // meta.kinds describes each robot kind (GET /api/v1/meta): its label,
    // token and secret inputs, the owner id it mentions by. The page names
    // no kind itself.
    meta: { kinds: [], levels: ["debug", "info", "warning", "error", "fatal"], default_keyword: "详情" },
    store: "",
    bannerKind: "",
    editing: null, // {kind, id, base: the values the form was filled with}
    importText: null,
    importEtag: null,
    previewProject: null,
    history: [],
    deliveries: [],
    deliveryNames: { projects: new Map(), robots: new Set() },
    webhook: null, // the last GET /webhook
  };

  // ---- helpers ----

  const $ = (sel) => document.querySelector(sel);

  function el(tag, props, ...kids) {
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

  function has(key) {
    const dict = I18N[state.lang] || I18N.zh;
    return dict[key] !== undefined || I18N.zh[key] !== undefined;
  }

  // t words a key with params: {name} is a parameter; {n|one|other} is the
  // number n and the word for it (English plurals).
  const missing = new Set();

  function t(key, params) {
    const dict = I18N[state.lang] || I18N.zh;
    let s = dict[key];
    if (s === undefined) s = I18N.zh[key];
    if (s === undefined) {
      // A key without words is a mistake of the page: say so once (the
      // browser tests fail on it).
      if (!missing.has(key)) console.error("no words for " + key);
      missing.add(key);
      return key;
    }
    if (params) {
      s = s.replace(/\{(\w+)\|([^|}]*)\|([^}]*)\}/g, (m, k, one, other) => {
        if (params[k] === undefined) return m;
        return params[k] + " " + (Number(params[k]) === 1 ? one : other);
      });
      s = s.replace(/\{(\w+)\}/g, (m, k) => (params[k] !== undefined ? String(params[k]) : m));
    }
    return s;
  }

  function labelText(label) {
    return label ? label[state.lang] || label.zh || "" : "";
  }

  function listSep() {
    return state.lang === "zh" ? "、" : ", ";
  }

  function kindOf(name) {
    return state.meta.kinds.find((k) => k.name === name);
  }

  function kindLabel(name) {
    const k = kindOf(name);
    return k ? labelText(k.label) : name;
  }

  function fmtTime(s) {
    const d = new Date(s);
    return isNaN(d) ? s : d.toLocaleString(state.lang === "zh" ? "zh-CN" : "en-GB");
  }

  // wordParams puts a code's parameters into words: entity names, kind
  // names and labels, lists, times and limits.
  function wordParams(params) {
    const out = {};
    for (const [k, v] of Object.entries(params || {})) {
      if (v === null || v === undefined) continue;
      if (k === "what") out[k] = has("what." + v) ? t("what." + v) : v;
      else if (k === "kinds") out[k] = (Array.isArray(v) ? v : [v]).map(kindLabel).join(listSep());
      else if ((k === "kind" || k === "was_kind") && typeof v === "string") out[k] = kindLabel(v);
      else if (k === "keys") out[k] = (Array.isArray(v) ? v : [v]).map(ownerIdLabel).join(state.lang === "zh" ? "或" : " or ");
      else if (k === "cause") out[k] = has("test." + v) ? t("test." + v) : v;
      else if (k === "time") out[k] = fmtTime(v);
      else if (k === "limits") out[k] = v.map((l) => t("limit.per", { n: l.n, per: l.seconds === 1 ? t("limit.second") : l.seconds === 60 ? t("limit.minute") : t("limit.seconds", { n: l.seconds }) })).join(listSep());
      else if (v && typeof v === "object" && !Array.isArray(v) && (v.zh !== undefined || v.en !== undefined)) out[k] = labelText(v);
      else if (Array.isArray(v)) out[k] = v.join(", ");
      else out[k] = v;
    }
    return out;
  }

  function ownerIdLabel(key) {
    const k = state.meta.kinds.find((x) => x.owner_id && x.owner_id.key === key);
    return k ? labelText(k.owner_id.label) : key;
  }

  // words says a code of the server in the page's language: prefix + code,
  // with its parameters; without a text for it, the server's English.
  function words(prefix, code, params, fallback) {
    if (code && has(prefix + code)) {
      const p = wordParams(params);
      if (prefix === "fix." && code === "rate_limited") p.block = params && params.block_minutes ? t("fix.rate_limited.block", { n: params.block_minutes }) : "";
      return t(prefix + code, p);
    }
    return fallback || "";
  }

  // fieldText words one field error of an answer.
  function fieldText(fe) {
    return words("err.", fe.code, fe.params, fe.message);
  }

  // errText words an API error (an ApiError, or any error).
  function errText(err) {
    if (!err) return "";
    const d = err.data || {};
    if (d.code === "validation" && d.fields && d.fields.length) return d.fields.map((f) => f.field + ": " + fieldText(f)).join("；");
    if (d.code) return words("err.", d.code, d.params, err.message);
    return err.message || String(err);
  }

  // ---- views drawn again when the language changes ----

  // views maps a container to the function that fills it; setLang draws
  // them again.
  const views = new Map();

  // view fills box with what render returns now and again after a
  // language switch; nothing clears it.
  function view(box, render) {
    if (!box) return;
    views.set(box, render);
    const nodes = render();
    box.replaceChildren(...[].concat(nodes).filter((n) => n !== null && n !== undefined && n !== false));
  }

  function clearView(box) {
    if (!box) return;
    views.delete(box);
    box.replaceChildren();
  }

  function redrawViews() {
    for (const [box, render] of views) {
      if (!box.isConnected) {
        views.delete(box);
        continue;
      }
      if (box.childNodes.length === 0) continue; // cleared by other code
      const nodes = render();
      box.replaceChildren(...[].concat(nodes).filter((n) => n !== null && n !== undefined && n !== false));
    }
  }

  // safe runs an event handler and shows what went wrong instead of
  // leaving an unhandled rejection.
  function safe(fn) {
    return (ev) => {
      Promise.resolve()
        .then(() => fn(ev))
        .catch((err) => toast(errText(err)));
    };
  }

  let toastTimer = 0;
  function toast(text) {
    const n = $("#toast");
    n.textContent = text;
    n.classList.add("show");
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => n.classList.remove("show"), 3000);
  }

  function msgBox(kind, ...lines) {
    return el("div", { class: "msg " + kind }, lines.filter(Boolean).map((l) => (l instanceof Node ? l : el("p", { text: l }))));
  }

  let bannerWords = null;
  function showBanner(kind, wordsFn, reload) {
    state.bannerKind = kind;
    bannerWords = wordsFn;
    $("#banner-text").textContent = wordsFn();
    $("#banner-reload").hidden = !reload;
    $("#banner").hidden = false;
  }

  function hideBanner() {
    state.bannerKind = "";
    bannerWords = null;
    $("#banner").hidden = true;
  }

  // ---- API ----

  class ApiError extends Error {
    constructor(status, data) {
      super((data && data.error) || "HTTP " + status);
      this.status = status;
      this.data = data || {};
    }
  }

  // api calls the JSON API. opts: raw (body is already JSON text), ifMatch,
  // track (remember the answer's ETag as the version on screen), blob.
  async function api(method, path, body, opts) {
    opts = opts || {};
    const headers = { Authorization: "Bearer " + state.token };
    let payload;
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      payload = opts.raw ? body : JSON.stringify(body);
    }
    if (opts.ifMatch) headers["If-Match"] = opts.ifMatch;
    let res;
    try {
      res = await fetch("/api/v1" + path, { method, headers, body: payload, cache: "no-store" });
    } catch (e) {
      showBanner("network", () => t("banner.network", { msg: e.message }), true);
      throw new ApiError(0, { error: e.message });
    }
    const ct = res.headers.get("Content-Type") || "";
    let data = null;
    if (res.ok && opts.blob) data = await res.blob();
    else if (ct.includes("json")) data = await res.json().catch(() => null);
    if (!res.ok) {
      const err = new ApiError(res.status, data);
      if (res.status === 401) showBanner("token", () => t("banner.token"), false);
      if (res.status === 409 && err.data.code === "stale") showBanner("stale", () => t("banner.stale"), true);
      throw err;
    }
    const etag = res.headers.get("ETag");
    if (etag && opts.track) state.etag = etag;
    return { data, etag, res };
  }

  // ---- language ----

  function applyLang() {
    document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
    document.title = t("doc.title");
    document.querySelectorAll("[data-i18n]").forEach((n) => {
      n.textContent = t(n.dataset.i18n);
    });
    document.querySelectorAll("[data-i18n-html]").forEach((n) => {
      n.innerHTML = t(n.dataset.i18nHtml); // static strings from i18n/<lang>.json only
    });
    document.querySelectorAll("[data-i18n-aria-label]").forEach((n) => {
      n.setAttribute("aria-label", t(n.dataset.i18nAriaLabel));
    });
    document.querySelectorAll("[data-i18n-placeholder]").forEach((n) => {
      n.setAttribute("placeholder", t(n.dataset.i18nPlaceholder));
    });
    $("#lang-toggle").setAttribute("lang", state.lang === "zh" ? "en" : "zh-CN");
    if (bannerWords) $("#banner-text").textContent = bannerWords();
  }

  function setLang(lang) {
    state.lang = lang === "en" ? "en" : "zh";
    try {
      localStorage.setItem("sw-lang", state.lang);
    } catch (e) {
      /* storage may be off; the switch still works for this page */
    }
    applyLang();
    renderAll();
    redrawViews();
    redrawFieldErrors();
    relabelForms();
    document.querySelectorAll("input[data-secret]").forEach((n) => {
      showSecret(n, n.type === "text");
      secretPlaceholder(n);
    });
    // Pages drawn from their data are drawn again; the forms of the
    // settings and webhook pages keep what was typed.
    if (!["settings", "webhook"].includes(state.page)) loadPage(state.page);
  }

  // ---- data ----

  async function refresh() {
    try {
      const { data } = await api("GET", "/snapshot", undefined, { track: true });
      state.data = { organizations: data.organizations, owners: data.owners, robots: data.robots, projects: data.projects };
      state.meta = data.meta || state.meta;
      state.store = data.store;
      $("#store-loc").textContent = data.store;
      if (["store", "invalid", "network", "stale"].includes(state.bannerKind)) hideBanner();
    } catch (err) {
      if (err.status === 503) showBanner("store", () => t("banner.store", { msg: errText(err) }), true);
      else if (err.data.code === "invalid_document") showBanner("invalid", () => t("banner.invalid", { msg: (err.data.fields || []).map((f) => f.field + ": " + fieldText(f)).join("；") }), true);
      state.data = { organizations: [], owners: [], robots: [], projects: [] };
      $("#store-loc").textContent = t("store.none");
    }
    renderAll();
  }

  function projectsUsing(kind, id) {
    return state.data.projects.filter((p) => {
      if (kind === "owner") return (p.owner_ids || []).includes(id);
      if (kind === "robot") return (p.robot_ids || []).includes(id);
      if (kind === "organization") return p.organization_id === id;
      return false;
    });
  }

  // ---- rendering ----

  function renderAll() {
    renderProjects();
    renderOwners();
    renderRobots();
    renderOrganizations();
    renderGuide();
    fillDeliveryFilters();
    document.dispatchEvent(new CustomEvent("sw:render")); // movein.js re-renders its parts
  }

  function actionButton(text, id, label, onclick, cls) {
    return el("button", { type: "button", id, class: cls || "btn btn-small", "aria-label": label, onclick: safe(onclick) }, text);
  }

  function tags(names, cls) {
    if (!names.length) return el("span", { class: "secondary", text: "—" });
    return names.map((n) => el("span", { class: "tag " + (cls || ""), text: n, title: n }));
  }

  function renderProjects() {
    const { projects, owners, robots, organizations } = state.data;
    const rows = projects.map((p) => {
      const org = byId(organizations, p.organization_id);
      const ownerNames = (p.owner_ids || []).map((id) => (byId(owners, id) || { name: "#" + id }).name);
      const robotNames = (p.robot_ids || []).map((id) => (byId(robots, id) || { name: "#" + id }).name);
      const filters = [];
      if (p.environments && p.environments.length) filters.push(t("projects.filter.env", { v: p.environments.join(", ") }));
      if (p.min_level) filters.push(t("projects.filter.min", { v: p.min_level }));
      if (p.mention_level) filters.push(t("projects.filter.mention", { v: p.mention_level }));
      if (p.follow_ups === false) filters.push(t("projects.filter.nofollow"));
      if (p.repeat_window_seconds) filters.push(t("projects.filter.repeat", { v: p.repeat_window_seconds }));
      return el("tr", { id: "project-row-" + p.id },
        el("td", { class: "name" }, el("strong", { text: p.name }), el("div", null, el("code", { class: "slug", text: p.slug })),
          org ? el("div", { class: "secondary", text: org.name }) : null),
        el("td", { class: "wrap" }, tags(ownerNames)),
        el("td", { class: "wrap" }, tags(robotNames)),
        el("td", { class: "wrap" }, filters.length ? tags(filters) : el("span", { class: "secondary", text: t("projects.nofilter") })),
        el("td", { class: "actions" },
          el("div", { class: "action-group" },
            actionButton(t("projects.test"), "project-test-" + p.id, t("projects.test") + " " + p.name, () => testProject(p), "btn btn-small btn-primary"),
            actionButton(t("projects.preview"), "project-preview-" + p.id, t("projects.preview") + " " + p.name, () => openPreview(p)),
            actionButton(t("common.edit"), "project-edit-" + p.id, t("common.edit") + " " + p.name, () => openForm("project", p)),
            actionButton(t("common.delete"), "project-delete-" + p.id, t("common.delete") + " " + p.name, () => confirmDelete("project", p), "btn btn-small btn-link"))));
    });
    $("#projects-rows").replaceChildren(...rows);
    $("#projects-empty").hidden = projects.length > 0;
  }

  function byId(list, id) {
    return list.find((x) => x.id === id);
  }

  function usedBy(kind, id) {
    const ps = projectsUsing(kind, id);
    return ps.length ? tags(ps.map((p) => p.name)) : el("span", { class: "secondary", text: "—" });
  }

  function renderOwners() {
    const rows = state.data.owners.map((o) => {
      const ids = ownerIdKinds().filter((k) => o[k.owner_id.key]).map((k) => kindLabel(k.name) + " " + o[k.owner_id.key]);
      return el("tr", { id: "owner-row-" + o.id },
        el("td", { class: "name" }, el("strong", { text: o.name })),
        el("td", { class: "nowrap", text: o.mobile || "—" }),
        el("td", { class: "wrap" }, ids.length ? ids.map((s) => el("div", { class: "secondary", text: s })) : el("span", { class: "secondary", text: "—" })),
        el("td", { class: "wrap" }, usedBy("owner", o.id)),
        el("td", { class: "actions" }, el("div", { class: "action-group" },
          actionButton(t("common.edit"), "owner-edit-" + o.id, t("common.edit") + " " + o.name, () => openForm("owner", o)),
          actionButton(t("common.delete"), "owner-delete-" + o.id, t("common.delete") + " " + o.name, () => confirmDelete("owner", o), "btn btn-small btn-link"))));
    });
    $("#owners-rows").replaceChildren(...rows);
    $("#owners-empty").hidden = state.data.owners.length > 0;
  }

  // kindTag shows a kind, coloured by its place in the list of kinds.
  function kindTag(name) {
    const i = state.meta.kinds.findIndex((k) => k.name === name);
    return el("span", { class: "tag kind kind-c" + (i < 0 ? "x" : i % 4), text: kindLabel(name) });
  }

  function ownerIdKinds() {
    return state.meta.kinds.filter((k) => k.owner_id);
  }

  // buildOwnerIds makes one input per kind that mentions by user id.
  function buildOwnerIds() {
    const box = $("#owner-ids");
    if (!box) return;
    box.replaceChildren(...ownerIdKinds().map((k) => {
      const key = k.owner_id.key, id = "owner-" + key;
      return el("div", { class: "field" },
        el("label", { for: id, text: labelText(k.owner_id.label) }),
        el("input", { id, name: key, type: "text", autocomplete: "off", spellcheck: "false", maxlength: 128, "aria-describedby": id + "-hint " + id + "-error" }),
        el("p", { class: "hint", id: id + "-hint", text: labelText(k.owner_id.help) }),
        el("p", { class: "field-error", id: id + "-error" }));
    }));
    addCounters(box);
  }

  // showKindInputs labels the robot form's token and secret for the chosen
  // kind, and hides the secret of a kind that has none.
  function showKindInputs() {
    const k = kindOf(val("robot-kind"));
    if (!k) return;
    $("#robot-access_token-label").textContent = labelText(k.token.label) + " " + t("robot.access_token.paste");
    $("#robot-access_token-hint").textContent = labelText(k.token.help);
    secretPlaceholder($("#robot-access_token"), k.url_example);
    $("#robot-secret-field").hidden = !k.secret;
    if (k.secret) {
      $("#robot-secret-label").textContent = labelText(k.secret.label);
      $("#robot-secret-hint").textContent = labelText(k.secret.help);
      secretPlaceholder($("#robot-secret"), k.secret.prefix ? k.secret.prefix + "…" : "");
    }
    checkSecretLive();
  }

  function renderRobots() {
    const rows = state.data.robots.map((r) => el("tr", { id: "robot-row-" + r.id },
      el("td", { class: "name" }, el("strong", { text: r.name })),
      el("td", null, kindTag(r.kind)),
      el("td", null, el("span", { class: "masked", text: r.access_token || "—" })),
      el("td", null, el("span", { class: "masked", text: r.secret || "—" })),
      el("td", { class: "wrap", text: r.keyword || state.meta.default_keyword + " (" + t("common.default") + ")" }),
      el("td", { class: "wrap" }, usedBy("robot", r.id)),
      el("td", { class: "actions" }, el("div", { class: "action-group" },
        actionButton(t("robots.test"), "robot-test-" + r.id, t("robots.test") + " " + r.name, () => testRobot(r), "btn btn-small btn-primary"),
        actionButton(t("common.edit"), "robot-edit-" + r.id, t("common.edit") + " " + r.name, () => openForm("robot", r)),
        actionButton(t("common.delete"), "robot-delete-" + r.id, t("common.delete") + " " + r.name, () => confirmDelete("robot", r), "btn btn-small btn-link")))));
    $("#robots-rows").replaceChildren(...rows);
    $("#robots-empty").hidden = state.data.robots.length > 0;
  }

  function renderOrganizations() {
    const rows = state.data.organizations.map((o) => el("tr", { id: "organization-row-" + o.id },
      el("td", { class: "name" }, el("strong", { text: o.name })),
      el("td", { class: "wrap", text: o.sentry_url || "—" }),
      el("td", { class: "wrap" }, o.slug ? el("code", { class: "slug", text: o.slug }) : "—"),
      el("td", { class: "wrap" }, o.account ? [el("div", { text: o.account }), el("div", { class: "masked", text: o.password || "" })] : el("span", { class: "secondary", text: "—" })),
      el("td", null, el("span", { class: "masked", text: o.client_secret || "—" })),
      el("td", { class: "wrap" }, usedBy("organization", o.id)),
      el("td", { class: "actions" }, el("div", { class: "action-group" },
        actionButton(t("common.edit"), "organization-edit-" + o.id, t("common.edit") + " " + o.name, () => openForm("organization", o)),
        actionButton(t("common.delete"), "organization-delete-" + o.id, t("common.delete") + " " + o.name, () => confirmDelete("organization", o), "btn btn-small btn-link")))));
    $("#organizations-rows").replaceChildren(...rows);
    $("#organizations-empty").hidden = state.data.organizations.length > 0;
  }

  // ---- the getting-started guide ----

  // progress remembers, per store, what the guide cannot see in the lists:
  // a test alert that arrived and the webhook URL copied.
  function progress() {
    try {
      return JSON.parse(localStorage.getItem("sw-guide:" + state.store) || "{}") || {};
    } catch (e) {
      return {};
    }
  }

  function markProgress(step) {
    const p = progress();
    if (p[step]) return;
    p[step] = true;
    try {
      localStorage.setItem("sw-guide:" + state.store, JSON.stringify(p));
    } catch (e) {
      /* the guide then just stays */
    }
    renderGuide();
  }

  async function go(page) {
    if (state.page !== page) {
      location.hash = "#" + page;
      showPage(page);
    }
  }

  function renderGuide() {
    const d = state.data;
    const p = progress();
    const steps = [
      { id: "owner", text: t("guide.owner"), done: d.owners.length > 0, go: () => { go("owners"); openForm("owner"); } },
      { id: "robot", text: t("guide.robot"), done: d.robots.length > 0, go: () => { go("robots"); openForm("robot"); } },
      { id: "project", text: t("guide.project"), done: d.projects.length > 0, go: () => { go("projects"); openForm("project"); } },
      { id: "test", text: t("guide.test"), done: !!p.tested, go: d.projects.length ? () => testProject(d.projects[0]) : null,
        label: d.projects.length ? t("projects.test") : t("guide.test.need") },
      { id: "webhook", text: t("guide.webhook"), done: !!p.copied, go: () => go("webhook").then(() => $("#webhook-copy").focus()), label: t("guide.webhook.copy") },
    ];
    const items = steps.map((s, i) => el("li", { class: s.done ? "done" : "", id: "guide-step-" + s.id },
      el("span", null, el("span", { class: "step-num", text: (s.done ? "✓" : i + 1) + ". " }), s.text),
      s.done ? el("span", { class: "secondary", text: t("guide.done") })
        : el("button", { type: "button", class: "btn btn-small", id: "guide-go-" + s.id, disabled: !s.go, onclick: s.go ? safe(s.go) : null }, s.label || t("guide.go"))));
    $("#guide-steps").replaceChildren(...items);
    // The guide is on every list page until every step is done.
    const all = steps.every((s) => s.done);
    const guide = $("#guide");
    guide.hidden = all || !state.token;
    const page = $("#page-" + state.page);
    const slot = page && page.querySelector(".guide-slot");
    if (slot && guide.parentNode !== slot) slot.append(guide);
  }

  // ---- forms ----

  function val(id) {
    const n = document.getElementById(id);
    return n ? n.value : "";
  }

  function setVal(id, v) {
    const n = document.getElementById(id);
    if (n) {
      n.value = v === undefined || v === null ? "" : v;
      n.dispatchEvent(new Event("sw:set"));
    }
  }

  function levelOptions(select, selected) {
    const opts = [el("option", { value: "", text: t("project.level.any") })];
    for (const l of state.meta.levels) opts.push(el("option", { value: l, text: l }));
    select.replaceChildren(...opts);
    select.value = selected || "";
  }

  // fillChecks fills a searchable list of checkboxes.
  function fillChecks(box, prefix, list, selected, detail, emptyKey) {
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
  // search input.
  function filterChecks(search) {
    const box = search.nextElementSibling;
    const q = search.value.trim().toLowerCase();
    box.querySelectorAll("label[data-search]").forEach((l) => {
      l.hidden = q !== "" && !l.dataset.search.includes(q);
    });
  }

  function checkedIds(box) {
    return Array.from(box.querySelectorAll("input[type=checkbox]:checked")).map((n) => Number(n.value));
  }

  const FIELDS = {
    owner: ["name", "mobile"], // and an id per kind: ownerIdKinds()
    robot: ["name", "kind", "access_token", "secret", "keyword"],
    organization: ["name", "sentry_url", "slug", "account", "password", "client_secret"],
    project: ["name", "slug"],
  };
  const PATHS = { owner: "/owners", robot: "/robots", organization: "/organizations", project: "/projects" };
  const LISTS = { owner: "owners", robot: "robots", organization: "organizations", project: "projects" };

  function formFields(kind) {
    if (kind === "owner") return FIELDS.owner.concat(ownerIdKinds().map((k) => k.owner_id.key));
    return FIELDS[kind];
  }

  function fillForm(kind, item, preset) {
    if (kind === "owner") buildOwnerIds();
    if (kind === "robot") {
      const sel = $("#robot-kind");
      sel.replaceChildren(...state.meta.kinds.map((k) => el("option", { value: k.name, text: labelText(k.label) })));
    }
    for (const f of formFields(kind)) {
      const input = document.getElementById(kind + "-" + f);
      if (input && input.matches("[data-secret]")) fillSecret(input, item && item[f]);
      else setVal(kind + "-" + f, item ? item[f] : "");
    }
    if (kind === "organization") $("#organization-require_signature").checked = !!(item && item.require_signature);
    if (kind === "robot") {
      const sel = $("#robot-kind");
      sel.value = item ? item.kind : (state.meta.kinds[0] || {}).name || "";
      if (!item) setVal("robot-keyword", state.meta.default_keyword);
      $("#robot-access_token-note").textContent = "";
      showKindInputs();
    }
    if (kind === "organization" && !item) setVal("organization-sentry_url", "https://sentry.io");
    if (kind === "project") {
      const d = state.data;
      const org = $("#project-organization_id");
      org.replaceChildren(el("option", { value: "0", text: t("common.none") }), ...d.organizations.map((o) => el("option", { value: o.id, text: o.name + (o.slug ? " (" + o.slug + ")" : "") })));
      const orgID = item ? item.organization_id || 0 : preset && preset.organization_id ? preset.organization_id : d.organizations.length === 1 ? d.organizations[0].id : 0;
      org.value = String(orgID);
      fillChecks($("#project-owners"), "project-owner-", d.owners, item ? item.owner_ids || [] : [],
        (o) => o.mobile || ownerIdKinds().map((k) => o[k.owner_id.key]).find(Boolean) || "", "project.owners.empty");
      fillChecks($("#project-robots"), "project-robot-", d.robots, item ? item.robot_ids || [] : d.robots.length === 1 ? [d.robots[0].id] : [], (r) => kindLabel(r.kind), "project.robots.empty");
      setVal("project-environments", item && item.environments ? item.environments.join(", ") : "");
      levelOptions($("#project-min_level"), item && item.min_level);
      levelOptions($("#project-mention_level"), item && item.mention_level);
      $("#project-follow_ups").checked = !item || item.follow_ups !== false;
      setVal("project-repeat_window_seconds", item && item.repeat_window_seconds ? item.repeat_window_seconds : 0);
      const filtered = item && ((item.environments && item.environments.length) || item.min_level || item.mention_level || item.follow_ups === false || item.repeat_window_seconds);
      $("#project-filters").open = !!filtered;
      if (preset) {
        if (preset.slug) setVal("project-slug", preset.slug);
        if (preset.name) setVal("project-name", preset.name);
      }
    }
    document.querySelectorAll(`#${kind}-form input[type=password]`).forEach((n) => showSecret(n, false));
  }

  function collectForm(kind) {
    const body = {};
    for (const f of formFields(kind)) {
      const input = document.getElementById(kind + "-" + f);
      if (input && input.matches("[data-secret]")) {
        const v = secretValue(input);
        if (v !== undefined) body[f] = v;
      } else {
        body[f] = val(kind + "-" + f);
      }
    }
    if (kind === "robot" && $("#robot-secret-field").hidden) body.secret = "";
    if (kind === "organization") body.require_signature = $("#organization-require_signature").checked;
    if (kind === "project") {
      body.organization_id = Number(val("project-organization_id")) || 0;
      body.owner_ids = checkedIds($("#project-owners"));
      body.robot_ids = checkedIds($("#project-robots"));
      body.environments = val("project-environments").split(/[,，\s]+/).filter(Boolean);
      body.min_level = val("project-min_level");
      body.mention_level = val("project-mention_level");
      body.follow_ups = $("#project-follow_ups").checked ? null : false;
      const rw = val("project-repeat_window_seconds").trim();
      body.repeat_window_seconds = rw === "" ? 0 : Number(rw);
    }
    return body;
  }

  const fieldErrors = new Map(); // prefix → the last error shown, drawn again in another language

  function clearErrors(prefix) {
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
  function showErrors(prefix, err, quiet) {
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

  function redrawFieldErrors() {
    for (const [prefix, err] of Array.from(fieldErrors)) showErrors(prefix, err, true);
  }

  function openForm(kind, item, preset) {
    state.editing = { kind, id: item ? item.id : null };
    $(`#${kind}-dialog-title`).textContent = t(`${kind}.dialog.${item ? "edit" : "new"}`);
    clearErrors(kind);
    fillForm(kind, item, preset);
    state.editing.base = collectForm(kind);
    const dlg = $(`#${kind}-dialog`);
    if (!dlg.open) dlg.showModal();
    $(`#${kind}-name`).focus();
  }

  // relabelForms words an open form again in the page's language.
  function relabelForms() {
    const e = state.editing;
    if (!e) return;
    const dlg = document.getElementById(e.kind + "-dialog");
    if (!dlg || !dlg.open) return;
    $(`#${e.kind}-dialog-title`).textContent = t(`${e.kind}.dialog.${e.id ? "edit" : "new"}`);
    if (e.kind === "robot") showKindInputs();
  }

  // reloadKeepingInput loads the current configuration while a form is
  // open after a refused (stale) save: the form shows the entry as it is
  // now, with every field the user changed kept as they typed it.
  async function reloadKeepingInput() {
    const e = state.editing;
    if (!e) return;
    const mine = collectForm(e.kind);
    const base = e.base || {};
    await refresh();
    hideBanner();
    const list = state.data[LISTS[e.kind]];
    const fresh = e.id ? byId(list, e.id) : null;
    clearErrors(e.kind);
    if (e.id && !fresh) {
      document.getElementById(e.kind + "-form-error").textContent = t("form.gone");
      return;
    }
    fillForm(e.kind, fresh);
    e.base = collectForm(e.kind);
    for (const [k, v] of Object.entries(mine)) {
      if (JSON.stringify(v) === JSON.stringify(base[k])) continue; // not changed here: take theirs
      if (k === "owner_ids") setChecks("#project-owners", v);
      else if (k === "robot_ids") setChecks("#project-robots", v);
      else if (k === "organization_id") setVal("project-organization_id", String(v));
      else if (k === "environments") setVal("project-environments", v.join(", "));
      else if (k === "follow_ups") $("#project-follow_ups").checked = v !== false;
      else if (v === "" && document.getElementById(e.kind + "-" + k + "-clear")) setSecretClear($(`#${e.kind}-${k}`), true);
      else setVal(e.kind + "-" + k, v);
    }
    if (e.kind === "robot") showKindInputs();
    document.getElementById(e.kind + "-form-error").textContent = t("form.reloaded");
  }

  function setChecks(sel, ids) {
    document.querySelectorAll(sel + " input[type=checkbox]").forEach((n) => {
      n.checked = ids.includes(Number(n.value));
    });
  }

  async function submitForm(kind) {
    if (refuseMasks(kind)) return;
    const body = collectForm(kind);
    const id = state.editing && state.editing.kind === kind ? state.editing.id : null;
    if (kind === "project" && (!body.robot_ids.length || !body.owner_ids.length)) {
      const key = !body.robot_ids.length && !body.owner_ids.length ? "project.warn.none" : !body.robot_ids.length ? "project.warn.norobot" : "project.warn.noowner";
      if (!(await confirmDialog(t(key), t("project.warn.save")))) return;
    }
    const btn = $(`#${kind}-save`);
    btn.disabled = true;
    try {
      if (id) await api("PUT", `${PATHS[kind]}/${id}`, body, { ifMatch: state.etag, track: true });
      else await api("POST", PATHS[kind], body, { track: true });
      await refresh(); // the lists are current by the time the dialog closes
      $(`#${kind}-dialog`).close();
      toast(t("common.saved"));
    } catch (err) {
      showErrors(kind, err);
    } finally {
      btn.disabled = false;
    }
  }

  // Inputs with a maximum length get a counter.
  function addCounters(root) {
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

  // Secret inputs are password inputs with a show/hide button; those that
  // may be empty (a signing secret, a password) also get 清除 / Clear.
  function addSecretToggles(root) {
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

  function showSecret(input, shown) {
    input.type = shown ? "text" : "password";
    const btn = document.getElementById(input.id + "-show");
    if (!btn) return;
    btn.textContent = shown ? t("common.hide") : t("common.show");
    btn.setAttribute("aria-pressed", shown ? "true" : "false");
    btn.setAttribute("aria-label", (shown ? t("common.hide") : t("common.show")) + " " + ((input.labels && input.labels[0] && input.labels[0].textContent) || ""));
  }

  // A secret input opens empty, and empty keeps the saved value: the
  // saved value's mask (from the list) is only its placeholder, so nothing
  // typed can mix with it. 显示 / Show fetches the real value on request.
  function fillSecret(input, saved) {
    input.value = "";
    input.dataset.saved = saved || "";
    const clear = document.getElementById(input.id + "-clear");
    if (clear) clear.closest("label").hidden = !saved;
    setSecretClear(input, false);
    input.dispatchEvent(new Event("sw:set"));
  }

  // secretPlaceholder words a secret input's placeholder: the saved value's
  // mask, "cleared when saved", or the form's own (fallback, remembered).
  function secretPlaceholder(input, fallback) {
    if (fallback !== undefined) input.dataset.placeholder = fallback;
    const clear = document.getElementById(input.id + "-clear");
    if (clear && clear.checked) input.placeholder = t("secret.cleared");
    else if (input.dataset.saved) input.placeholder = t("secret.saved", { mask: input.dataset.saved });
    else input.placeholder = input.dataset.placeholder || "";
  }

  function setSecretClear(input, on) {
    const clear = document.getElementById(input.id + "-clear");
    if (clear) clear.checked = on;
    input.disabled = on;
    if (on) input.value = "";
    secretPlaceholder(input);
  }

  // secretValue is what a form sends for a secret: "" when 清除 is ticked,
  // what was typed, or nothing (undefined: the saved value stays).
  function secretValue(input) {
    const clear = document.getElementById(input.id + "-clear");
    if (clear && clear.checked) return "";
    return input.value.trim() === "" ? undefined : input.value;
  }

  // refuseMasks says, before anything is sent, that a secret input of a
  // form holds a mask (… or ******, copied from a list): it is not the
  // secret. The server refuses it as well.
  function refuseMasks(prefix) {
    const fields = Array.from(document.querySelectorAll(`input[data-secret][id^="${prefix}-"]`))
      .filter((n) => !n.disabled && (n.value.includes("…") || n.value.includes("******")))
      .map((n) => ({ field: n.name, code: "secret_masked", message: "holds a mask, not the secret" }));
    if (fields.length) showErrors(prefix, { status: 422, data: { code: "validation", fields } });
    return fields.length > 0;
  }

  // revealSecret fills a secret input with its saved value, asked of the
  // API for this one entry (lists and reads never carry it).
  async function revealSecret(input) {
    const prefix = input.id.split("-")[0];
    const e = state.editing;
    let path = "";
    if (prefix === "settings") path = "/settings/secrets";
    else if (e && e.kind === prefix && e.id) path = `${PATHS[prefix]}/${e.id}/secrets`;
    if (!path) return;
    const { data } = await api("GET", path);
    if (!input.value && typeof data[input.name] === "string") setVal(input.id, data[input.name]);
  }

  // ---- robot form: the kind from a pasted URL, formats checked at once ----

  let recognizeSeq = 0;
  async function recognizeToken() {
    const v = val("robot-access_token").trim();
    const note = $("#robot-access_token-note");
    const errBox = $("#robot-access_token-error");
    note.textContent = "";
    if (errBox.dataset.live) {
      errBox.textContent = "";
      delete errBox.dataset.live;
      $("#robot-access_token").removeAttribute("aria-invalid");
    }
    if (!v || v.includes("…") || v.includes("*")) return;
    const seq = ++recognizeSeq;
    if (v.includes("/") || v.includes("://")) {
      const { data } = await api("POST", "/robots/recognize", { url: v });
      if (seq !== recognizeSeq) return;
      if (data.recognized) {
        $("#robot-kind").value = data.kind;
        showKindInputs();
        note.textContent = t("robot.recognized", { kind: kindLabel(data.kind) });
      } else if (data.code) {
        errBox.textContent = t("err." + data.code);
        errBox.dataset.live = "1";
        $("#robot-access_token").setAttribute("aria-invalid", "true");
      }
    } else if (!/^[A-Za-z0-9._~-]+$/.test(v)) {
      errBox.textContent = t("err.token_alone");
      errBox.dataset.live = "1";
      $("#robot-access_token").setAttribute("aria-invalid", "true");
    }
  }

  function checkSecretLive() {
    const k = kindOf(val("robot-kind"));
    const input = $("#robot-secret");
    const errBox = $("#robot-secret-error");
    const v = input.value.trim();
    const bad = k && k.secret && k.secret.prefix && v && !v.includes("…") && !v.includes("*") && !v.startsWith(k.secret.prefix);
    if (bad) {
      errBox.textContent = t("err.secret_prefix.live", { prefix: k.secret.prefix });
      errBox.dataset.live = "1";
      input.setAttribute("aria-invalid", "true");
    } else if (errBox.dataset.live) {
      errBox.textContent = "";
      delete errBox.dataset.live;
      input.removeAttribute("aria-invalid");
    }
  }

  // ---- confirm and delete ----

  // confirmDialog asks a question; dangers (risky changes of an import or
  // a restore) are listed under it in red.
  function confirmDialog(text, okText, dangers) {
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

  async function confirmDelete(kind, item) {
    const refs = projectsUsing(kind, item.id);
    const text = refs.length
      ? t("confirm.deleteReferenced", { name: item.name, list: refs.map((p) => p.name).join(listSep()) })
      : t("confirm.delete", { name: item.name });
    if (!(await confirmDialog(text, refs.length ? t("confirm.deleteAnyway") : t("common.delete")))) return;
    await doDelete(kind, item, refs.length > 0);
  }

  async function doDelete(kind, item, force) {
    const box = $(`#${kind === "project" ? "projects" : kind + "s"}-result`);
    try {
      await api("DELETE", `${PATHS[kind]}/${item.id}${force ? "?force=1" : ""}`, undefined, { ifMatch: state.etag, track: true });
      toast(t("common.deleted"));
      clearView(box);
      await refresh();
    } catch (err) {
      if (err.status === 409 && err.data.code === "referenced") {
        const list = (err.data.referenced_by || []).map((r) => r.name).join(listSep());
        if (await confirmDialog(t("confirm.deleteReferenced", { name: item.name, list }), t("confirm.deleteAnyway"))) {
          await doDelete(kind, item, true);
        }
        return;
      }
      if (err.data.code !== "stale") view(box, () => msgBox("fail", errText(err)));
    }
  }

  // ---- test alerts and preview ----

  function fixLine(r) {
    const fix = words("fix.", r.fix_code, r.fix_params, r.fix);
    return fix ? t("alert.fix", { fix }) : "";
  }

  function alertResult(data, showProject) {
    const out = [];
    if (!data.results.length) out.push(msgBox("warn", t("alert.none", { note: words("drop.", data.note_code, data.note_params, data.note) })));
    for (const r of data.results) {
      const suffix = showProject && data.project ? t("alert.project", { project: data.project }) : "";
      if (r.ok) {
        const mentions = r.mentions && r.mentions.length ? t("alert.mentions", { list: r.mentions.join(listSep()) }) : "";
        out.push(msgBox("ok", t("alert.ok", { robot: r.robot, mentions }) + suffix));
      } else {
        const detail = (r.detail || "") + (r.code ? ` (errcode ${r.code})` : "");
        out.push(msgBox("fail", t("alert.fail", { robot: r.robot, error: detail }) + suffix, fixLine(r)));
      }
    }
    return out;
  }

  async function runTest(btn, box, path, showProject) {
    const old = btn ? btn.textContent : "";
    if (btn) {
      btn.disabled = true;
      btn.textContent = t("common.sending");
    }
    view(box, () => msgBox("info", t("common.sending")));
    try {
      const { data } = await api("POST", path, {});
      if (data.results.some((r) => r.ok)) markProgress("tested");
      view(box, () => alertResult(data, showProject));
    } catch (err) {
      view(box, () => msgBox("fail", errText(err)));
    } finally {
      if (btn) {
        btn.disabled = false;
        btn.textContent = old;
      }
    }
  }

  function testRobot(r) {
    return runTest($("#robot-test-" + r.id), $("#robots-result"), `/robots/${r.id}/test`, true);
  }

  async function testProject(p) {
    await go("projects");
    return runTest($("#project-test-" + p.id), $("#projects-result"), `/projects/${p.id}/test`, false);
  }

  async function openPreview(p) {
    state.previewProject = p;
    const dlg = $("#preview-dialog");
    $("#preview-payload").value = "";
    $("#preview-payload-error").textContent = "";
    if (!dlg.open) dlg.showModal();
    $("#preview-title").focus();
    await runPreview();
  }

  async function runPreview() {
    const p = state.previewProject;
    if (!p) return;
    const body = {};
    const text = $("#preview-payload").value.trim();
    const errBox = $("#preview-payload-error");
    errBox.textContent = "";
    $("#preview-payload").removeAttribute("aria-invalid");
    if (text) {
      try {
        body.payload = JSON.parse(text);
      } catch (e) {
        errBox.textContent = t("import.notjson", { msg: e.message });
        $("#preview-payload").setAttribute("aria-invalid", "true");
        return;
      }
    }
    const out = $("#preview-body");
    view(out, () => el("p", { class: "hint", text: t("common.loading") }));
    try {
      const { data } = await api("POST", `/projects/${p.id}/preview`, body);
      view(out, () => previewParts(data));
    } catch (err) {
      if (err.data.fields && err.data.fields.length) {
        errBox.textContent = fieldText(err.data.fields[0]);
        $("#preview-payload").setAttribute("aria-invalid", "true");
        clearView(out);
      } else {
        view(out, () => msgBox("fail", errText(err)));
      }
    }
  }

  function previewParts(data) {
    const parts = [];
    const ev = data.event || {};
    parts.push(el("p", null, el("strong", { text: ev.title || "" }), " ",
      el("span", { class: "tag", text: ev.level || "?" }),
      ev.environment ? el("span", { class: "tag", text: ev.environment }) : null,
      data.sample ? el("span", { class: "tag", text: t("preview.sample") }) : null));
    if (data.warning) parts.push(msgBox("warn", words("warn.", data.warning_code, data.warning_params, data.warning)));
    if (data.dropped) parts.push(msgBox("warn", t("preview.dropped", { reason: words("drop.", data.dropped_code, data.dropped_params, data.dropped) })));
    if (data.mentions_suppressed) parts.push(msgBox("info", t("preview.suppressed")));
    if (!data.robots.length && !data.dropped) parts.push(msgBox("info", t("preview.norobot")));
    data.robots.forEach((r, i) => {
      const k = state.meta.kinds.findIndex((x) => x.name === r.kind);
      const box = el("div", { class: "preview-robot", id: "preview-robot-" + i },
        el("h3", null, r.robot, " ", kindTag(r.kind)),
        el("p", { class: "hint" }, t("preview.keyword", { kw: r.keyword }), " · ",
          r.mentions && r.mentions.length ? t("preview.mentions", { list: r.mentions.join(listSep()) }) : t("preview.nomention")));
      if (r.error) box.append(msgBox("fail", r.error));
      box.append(el("p", { class: "preview-as", text: t("preview.as") }),
        el("div", { class: "chat kind-c" + (k < 0 ? "x" : k % 4), id: "preview-chat-" + i },
          el("div", { class: "chat-avatar", "aria-hidden": "true", text: (r.robot || "?").slice(0, 1) }),
          el("div", { class: "chat-body" },
            el("div", { class: "chat-name", text: r.robot }),
            el("div", { class: "chat-bubble", id: "preview-bubble-" + i }, r.text ? markdown(r.text) : messageBubble(r.message, r.title)))));
      const json = r.bodies ? (r.bodies.length === 1 ? r.bodies[0] : r.bodies) : r.message;
      box.append(el("details", { class: "preview-raw" }, el("summary", { text: t("preview.raw") }), el("pre", { class: "preview-json", id: "preview-json-" + i, text: JSON.stringify(json, null, 2) })));
      parts.push(box);
    });
    return parts;
  }

  // messageBubble shows a rendered message from its parts, for a kind whose
  // request carries no markdown text (a card).
  function messageBubble(m, title) {
    if (!m) return [];
    const out = [el("div", { class: "md-h", text: title || m.title })];
    if (m.heading) out.push(el("p", null, el("strong", { text: m.heading })));
    for (const f of m.fields || []) out.push(el("p", null, el("span", { class: "md-label", text: f.label + "：" }), f.value));
    if (m.note) out.push(el("p", { class: "md-note", text: m.note }));
    const link = safeURL(m.link);
    if (link) out.push(el("p", null, el("a", { href: link, target: "_blank", rel: "noopener noreferrer", text: m.keyword || "Sentry" })));
    if (m.mentions && m.mentions.length) out.push(el("p", { class: "md-at", text: m.mentions.map((x) => "@" + x).join(" ") }));
    return out;
  }

  // ---- markdown, safely: DOM nodes only, no HTML from the message ----

  function safeURL(u) {
    return /^https?:\/\//i.test(u || "") ? u : "";
  }

  function decodeEntities(s) {
    return s.replace(/&(amp|lt|gt|quot|#39|#x27|nbsp);/g, (m, e) => ({ amp: "&", lt: "<", gt: ">", quot: "\"", "#39": "'", "#x27": "'", nbsp: " " }[e]));
  }

  // inline renders bold, italic, code, links, coloured text and
  // @-mentions of one line into nodes.
  function inline(text) {
    const out = [];
    const re = /(\*\*([^*]+)\*\*)|(`([^`]+)`)|(\[([^\]]*)\]\(([^)\s]+)\))|(<font[^>]*>([\s\S]*?)<\/font>)|(<at [^>]*>([\s\S]*?)<\/at>)|(<br\s*\/?>)|(\*([^*\s][^*]*)\*)|(\\([\\`*_{}[\]()#+\-.!|~>]))/g;
    let last = 0, m;
    while ((m = re.exec(text))) {
      if (m.index > last) out.push(decodeEntities(text.slice(last, m.index)));
      if (m[1]) out.push(el("strong", null, inline(m[2])));
      else if (m[3]) out.push(el("code", { text: decodeEntities(m[4]) }));
      else if (m[5]) {
        const href = safeURL(decodeEntities(m[7]));
        out.push(href ? el("a", { href, target: "_blank", rel: "noopener noreferrer" }, inline(m[6])) : decodeEntities(m[6]));
      } else if (m[8]) out.push(el("span", { class: "md-font" }, inline(m[9])));
      else if (m[10]) out.push(el("span", { class: "md-at", text: "@" + decodeEntities(m[11]) }));
      else if (m[12]) out.push(el("br"));
      else if (m[13]) out.push(el("em", null, inline(m[14])));
      else if (m[15]) out.push(m[16]);
      last = re.lastIndex;
    }
    if (last < text.length) out.push(decodeEntities(text.slice(last)));
    return out;
  }

  // markdown renders the markdown the chat tools take (headings, quotes,
  // lists, bold, links) as nodes.
  function markdown(src) {
    const out = [];
    let list = null;
    for (const raw of String(src).split(/\r?\n/)) {
      const line = raw.replace(/\s+$/, "");
      let m;
      if ((m = line.match(/^\s*[-*]\s+(.*)$/))) {
        if (!list) {
          list = el("ul");
          out.push(list);
        }
        list.append(el("li", null, inline(m[1])));
        continue;
      }
      list = null;
      if (!line.trim()) continue;
      if ((m = line.match(/^(#{1,6})\s+(.*)$/))) out.push(el("div", { class: "md-h md-h" + m[1].length }, inline(m[2])));
      else if ((m = line.match(/^>\s?(.*)$/))) out.push(el("blockquote", null, inline(m[1])));
      else if (/^(-{3,}|\*{3,})$/.test(line.trim())) out.push(el("hr"));
      else out.push(el("p", null, inline(line)));
    }
    return out;
  }

  // ---- webhook ----

  function webhookView(data) {
    const out = [];
    if (!data.relay_url) out.push(msgBox("info", t("webhook.norelay")));
    if (data.warning_code) out.push(msgBox("warn", words("webhook.warn.", data.warning_code, null, data.warning)));
    if (!data.token_set) out.push(msgBox("warn", t("webhook.notoken")));
    return out;
  }

  async function loadWebhook() {
    clearErrors("webhook");
    const { data } = await api("GET", "/webhook");
    state.webhook = data;
    setVal("webhook-relay_url", data.relay_url);
    setVal("webhook-url", data.url);
    setVal("webhook-token", data.token);
    setVal("webhook-path", data.path);
    $("#webhook-copy").disabled = !data.url;
    $("#webhook-check").disabled = !data.relay_url;
    view($("#webhook-notes"), () => webhookView(data));
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
    $("#webhook-status").textContent = t("webhook.copied");
  }

  async function regenerate() {
    if (!(await confirmDialog(t("webhook.regenerate.confirm"), t("webhook.regenerate")))) return;
    try {
      await api("POST", "/webhook-token/regenerate", {}, { ifMatch: state.etag, track: true });
      await loadWebhook();
      $("#webhook-status").textContent = t("webhook.regenerated");
      await refresh();
    } catch (err) {
      if (err.data.code !== "stale") $("#webhook-status").textContent = errText(err);
    }
  }

  function relayCheckView(d) {
    const lines = [];
    let kind = d.ok ? "ok" : d.code === "degraded" || d.code === "token_mismatch" ? "warn" : "fail";
    lines.push(el("p", { class: "relay-state", text: t("relay." + d.code, { message: d.message || "", detail: d.detail || "" }) }));
    if (d.version) {
      lines.push(el("p", { text: t("relay.version", { version: d.version, projects: d.projects || 0, loaded: d.loaded_at ? fmtTime(d.loaded_at) : "—" }) }));
      lines.push(el("p", { text: t("relay.saved", { version: d.saved_version }) }));
      lines.push(el("p", { class: d.matches ? "relay-match" : "relay-mismatch", id: "webhook-check-match", text: d.matches ? t("relay.matches") : t("relay.mismatch") }));
      if (!d.matches && kind === "ok") kind = "warn";
    }
    if (d.error) lines.push(el("p", { class: "detail", text: t("relay.error", { error: d.error }) }));
    if (d.delivery) lines.push(el("p", { class: "detail", text: t("relay.delivery", { delivery: d.delivery }) }));
    if (d.warning_code) lines.push(el("p", { class: "detail", text: t("webhook.warn." + d.warning_code) }));
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

  // ---- import / export ----

  // diffList lists changes; those that dangers name are marked risky.
  function diffList(changes, more, dangers) {
    const items = changes.map((c) => {
      let text = t("diff.kind." + c.kind);
      if (c.id) text += " #" + c.id;
      if (c.name) text += " " + c.name;
      if (c.fields && c.fields.length) text += ": " + c.fields.join(", ");
      const risky = (dangers || []).some((d) => d.params && d.params.list === c.kind && (d.params.id || 0) === (c.id || 0));
      return el("li", { class: c.op + (risky ? " danger" : "") }, el("span", { class: "op", text: t("diff." + c.op) }), text);
    });
    if (more) items.push(el("li", { class: "more", text: t("history.more", { n: more }) }));
    return el("ul", { class: "diff" }, items);
  }

  // dangerText words a risky change: the entry, the field, and its value
  // before → after (secrets masked by the server).
  function dangerText(d) {
    const p = Object.assign({}, d.params);
    if (p.field && has("field." + p.list + "." + p.field)) p.field = t("field." + p.list + "." + p.field);
    for (const k of ["before", "after"]) if (p[k] === "") p[k] = t("danger.empty");
    return words("danger.", d.code, p, d.message);
  }

  function dangerItems(dangers) {
    return (dangers || []).map((d) => el("li", { text: dangerText(d) }));
  }

  // dangerBox shows risky changes in red under a title.
  function dangerBox(id, title, dangers) {
    return el("div", { class: "msg fail danger", id }, el("p", null, el("strong", { text: title })),
      el("ul", { class: "dangers", id: id + "-list" }, dangerItems(dangers)));
  }

  async function exportDocument() {
    const { data, res } = await api("GET", "/document", undefined, { blob: true });
    const cd = res.headers.get("Content-Disposition") || "";
    const name = (cd.match(/filename="([^"]+)"/) || [])[1] || "sentry-white-config.json";
    const url = URL.createObjectURL(data);
    const a = el("a", { href: url, download: name, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 0);
  }

  function resetImport() {
    state.importText = null;
    state.importEtag = null;
    state.importDangers = [];
    $("#import-file").value = "";
    clearView($("#import-result"));
    $("#import-actions").hidden = true;
    $("#import-danger-ack").checked = false;
    $("#import-danger").hidden = true;
  }

  function importErrors(err) {
    const fields = err.data.fields || [];
    return [msgBox("fail", t("import.invalid"), fields.length && err.data.code === "validation" ? null : errText(err)),
      fields.length && err.data.code === "validation" ? el("ul", { id: "import-errors" }, fields.map((f) => el("li", null, el("code", { text: f.field }), " " + fieldText(f)))) : null];
  }

  async function checkImport(file) {
    const box = $("#import-result");
    $("#import-actions").hidden = true;
    $("#import-danger").hidden = true;
    clearView(box);
    if (!file) return;
    const text = await file.text();
    try {
      JSON.parse(text);
    } catch (e) {
      view(box, () => msgBox("fail", t("import.notjson", { msg: e.message })));
      return;
    }
    try {
      const { data } = await api("POST", "/document/diff", text, { raw: true });
      if (data.identical) {
        view(box, () => msgBox("info", t("import.identical")));
        return;
      }
      state.importText = text;
      state.importEtag = data.etag;
      state.importDangers = data.dangers || [];
      view(box, () => [
        el("p", { id: "import-diff-title", text: t("import.diff.title") }),
        data.webhook_token ? msgBox("info", t("import.token." + data.webhook_token)) : null,
        diffList(data.changes, 0, state.importDangers)]);
      const danger = state.importDangers.length > 0;
      $("#import-danger").hidden = !danger;
      $("#import-danger-ack").checked = false;
      if (danger) view($("#import-danger-list"), () => dangerItems(state.importDangers));
      $("#import-actions").hidden = false;
      $("#import-confirm").classList.toggle("btn-danger", danger);
      $("#import-confirm").classList.toggle("btn-primary", !danger);
      updateImportConfirm();
    } catch (err) {
      view(box, () => importErrors(err));
    }
  }

  function updateImportConfirm() {
    const danger = (state.importDangers || []).length > 0;
    $("#import-confirm").disabled = danger && !$("#import-danger-ack").checked;
  }

  async function confirmImport() {
    if (!state.importText) return;
    const dangers = state.importDangers || [];
    if (dangers.length && (!$("#import-danger-ack").checked || !(await confirmDialog(t("danger.second"), t("danger.confirm"), dangers)))) return;
    try {
      const { data } = await api("PUT", "/document", state.importText, { raw: true, ifMatch: state.importEtag, track: true });
      const c = data.counts;
      resetImport();
      view($("#import-result"), () => msgBox("ok", t("import.done", { o: c.organizations, w: c.owners, r: c.robots, p: c.projects })));
      await refresh();
    } catch (err) {
      $("#import-result").append(msgBox("fail", errText(err)));
    }
  }

  // ---- history ----

  function saveText(v) {
    const s = v.save;
    if (!s) return t("history.action.unknown");
    const kind = s.kind ? t("what." + s.kind.replace(/s$/, "")) : "";
    const key = "history.action." + s.action;
    let text = has(key) ? t(key, { kind }) : t("history.action.unknown");
    if (s.id && s.kind) {
      const c = (v.changes || []).find((x) => x.kind === s.kind && x.id === s.id);
      text += " #" + s.id + (c && c.name ? " " + c.name : "");
    }
    return text;
  }

  async function loadHistory() {
    const { data } = await api("GET", "/history");
    state.history = data;
    $("#history-rows").replaceChildren(...data.map((v, i) => el("tr", { id: "history-row-" + i },
      el("td", { class: "nowrap", text: fmtTime(v.time) }),
      el("td", { class: "history-change" }, el("strong", { id: "history-save-" + i, text: saveText(v) }),
        v.changes && v.changes.length ? diffList(v.changes, v.more) : el("div", { class: "secondary", text: t("history.nochange") })),
      el("td", { class: "secondary", text: v.counts ? t("history.counts", { o: v.counts.organizations, w: v.counts.owners, r: v.counts.robots, p: v.counts.projects }) : "—" }),
      el("td", { class: "actions" }, el("div", { class: "action-group" },
        actionButton(t("history.diff"), "history-diff-" + i, t("history.diff") + " " + fmtTime(v.time), () => showVersion(v)),
        actionButton(t("history.restore"), "history-restore-" + i, t("history.restore.before") + " " + fmtTime(v.time), () => restoreVersion(v)))))));
    $("#history-empty").hidden = data.length > 0;
  }

  async function showVersion(v) {
    const { data } = await api("GET", "/history/" + encodeURIComponent(v.id));
    const box = $("#history-detail");
    const dangers = data.dangers || [];
    view(box, () => [el("h2", { id: "history-detail-title", tabindex: "-1", text: t("history.diff.title", { time: fmtTime(v.time) }) }),
      dangers.length ? dangerBox("history-dangers", t("danger.title.restore"), dangers) : null,
      data.changes.length ? diffList(data.changes, 0, dangers) : el("p", { text: t("history.identical") })]);
    box.hidden = false;
    box.scrollIntoView({ block: "start" });
    $("#history-detail-title").focus({ preventScroll: true });
  }

  async function restoreVersion(v) {
    if (!(await confirmDialog(t("history.restore.confirm", { time: fmtTime(v.time) }), t("history.restore")))) return;
    // Risky changes (a secret cleared, a robot taken off a project…): asked
    // a second time, with each of them in red.
    const { data } = await api("GET", "/history/" + encodeURIComponent(v.id));
    if (data.dangers && data.dangers.length && !(await confirmDialog(t("danger.restore"), t("history.restore"), data.dangers))) return;
    const box = $("#history-result");
    try {
      await api("POST", "/history/" + encodeURIComponent(v.id) + "/restore", {}, { ifMatch: state.etag, track: true });
      view(box, () => msgBox("ok", t("history.restored", { time: fmtTime(v.time) })));
      $("#history-detail").hidden = true;
      await refresh();
      await loadHistory();
    } catch (err) {
      if (err.data.code !== "stale") view(box, () => msgBox("fail", errText(err)));
    }
  }

  // ---- deliveries ----

  function fmtLatency(ms) {
    if (typeof ms !== "number") return "—";
    if (ms < 1) return "< 1 ms";
    return ms < 1000 ? Math.round(ms) + " ms" : (ms / 1000).toFixed(1) + " s";
  }

  // httpLink is a link to Sentry only when it is an http(s) URL.
  function httpLink(url, text) {
    return safeURL(url) ? el("a", { href: url, target: "_blank", rel: "noopener noreferrer", text }) : null;
  }

  function resultLabel(result) {
    return t("deliveries.result." + (["failed", "refused"].includes(result) ? result : "delivered"));
  }

  function resultBadge(result) {
    const cls = ["failed", "refused"].includes(result) ? result : "delivered";
    return el("span", { class: "tag result-" + cls },
      el("span", { "aria-hidden": "true", text: cls === "delivered" ? "✓ " : cls === "failed" ? "✕ " : "⊘ " }), resultLabel(result));
  }

  function deliveryFilter() {
    return {
      project: val("deliveries-filter-project"),
      robot: val("deliveries-filter-robot"),
      result: val("deliveries-filter-result"),
    };
  }

  // fillDeliveryFilters offers the projects and robots of the configuration
  // and of the records seen, keeping the current choice.
  function fillDeliveryFilters() {
    const names = state.deliveryNames;
    for (const p of state.data.projects) names.projects.set(p.slug, p.name);
    for (const r of state.data.robots) names.robots.add(r.name);
    const keep = (id, opts) => {
      const sel = document.getElementById(id);
      const cur = sel.value;
      sel.replaceChildren(...opts);
      sel.value = Array.from(sel.options).some((o) => o.value === cur) ? cur : "";
    };
    const projects = Array.from(names.projects.entries()).sort((a, b) => a[0].localeCompare(b[0]));
    keep("deliveries-filter-project", [el("option", { value: "", text: t("deliveries.filter.allProjects") }),
      ...projects.map(([slug, name]) => el("option", { value: slug, text: name && name !== slug ? `${name} (${slug})` : slug }))]);
    const robots = Array.from(names.robots).sort((a, b) => a.localeCompare(b));
    keep("deliveries-filter-robot", [el("option", { value: "", text: t("deliveries.filter.allRobots") }),
      ...robots.map((n) => el("option", { value: n, text: n }))]);
  }

  let deliveriesSeq = 0;

  async function loadDeliveries() {
    fillDeliveryFilters();
    const f = deliveryFilter();
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(f)) if (v) q.set(k, v);
    const qs = q.toString();
    const seq = ++deliveriesSeq;
    const { data } = await api("GET", "/deliveries" + (qs ? "?" + qs : ""));
    if (seq !== deliveriesSeq) return; // a later filter change answers instead
    state.deliveries = data.deliveries;
    let learned = false;
    for (const d of data.deliveries) {
      if (d.project && d.result !== "refused" && !state.deliveryNames.projects.has(d.project)) {
        state.deliveryNames.projects.set(d.project, d.project_name || "");
        learned = true;
      }
      if (d.robot && !state.deliveryNames.robots.has(d.robot)) {
        state.deliveryNames.robots.add(d.robot);
        learned = true;
      }
    }
    if (learned) fillDeliveryFilters();
    renderDeliveries(data, f.project || f.robot || f.result);
    // The rows shown answer this query (tests wait on it after a filter
    // change rather than on rows an earlier answer left).
    $("#deliveries-rows").dataset.query = qs;
  }

  function configuredSlug(slug) {
    return state.data.projects.some((p) => p.slug.toLowerCase() === String(slug).toLowerCase());
  }

  // addRefusedProject opens the project form for the slug a refused
  // webhook named, with its organization when one has its slug.
  function addRefusedProject(d) {
    const slug = String(d.project || "").split(",")[0];
    const org = state.data.organizations.find((o) => o.slug && d.org && o.slug.toLowerCase() === d.org.toLowerCase());
    go("projects");
    openForm("project", null, { slug, name: d.project_name || "", organization_id: org ? org.id : 0 });
  }

  function refusedRow(d) {
    const sent = [];
    if (d.resource) sent.push(t("deliveries.refused.resource", { v: d.resource }));
    if (d.org) sent.push(t("deliveries.refused.org", { v: d.org }));
    if (d.host) sent.push(t("deliveries.refused.host", { v: d.host }));
    const result = [resultBadge(d.result),
      el("div", { class: "delivery-cause", text: t("refusal." + (has("refusal." + d.cause) ? d.cause : "refused"), { project: d.project || "—" }) }),
      el("div", { class: "secondary delivery-error", text: t("deliveries.refused.status", { status: d.status }) + (d.error ? " · " + d.error : "") })];
    if (sent.length) result.push(el("div", { class: "secondary", text: t("deliveries.refused.what", { list: sent.join(listSep()) }) }));
    result.push(el("div", { class: "delivery-fix", text: t("alert.fix", { fix: words("refusal.fix.", d.cause, null, d.fix) }) }));
    const slug = String(d.project || "").split(",")[0];
    const action = d.cause === "unknown_project" && slug && !configuredSlug(slug)
      ? actionButton(t("deliveries.refused.add"), "delivery-add-" + d.id, t("deliveries.refused.add.label", { slug }), () => addRefusedProject(d), "btn btn-small btn-primary")
      : null;
    return el("tr", { id: "delivery-row-" + d.id, class: "delivery refused", "data-result": d.result },
      el("td", { class: "nowrap" }, el("time", { datetime: d.time, text: fmtTime(d.time) })),
      el("td", { class: "delivery-who" }, d.project ? el("code", { text: d.project }) : el("span", { class: "secondary", text: "—" })),
      // Whoever sent a refused webhook chose its link: text, never a link to open.
      el("td", { class: "delivery-alert" }, el("div", { text: d.title || "—" }), d.level ? el("span", { class: "tag", text: d.level }) : null,
        d.link ? el("div", { class: "secondary delivery-link", text: t("deliveries.refused.link", { v: d.link }) }) : null),
      el("td", { class: "delivery-result" }, result),
      el("td", { class: "actions" }, action));
  }

  function renderDeliveries(data, filtered) {
    const index = new Map(data.deliveries.map((d) => [d.id, d]));
    const rows = data.deliveries.map((d) => {
      if (d.result === "refused") return refusedRow(d);
      const failed = d.result === "failed";
      const result = [resultBadge(d.result)];
      if (d.resend_of) result.push(el("span", { class: "tag", text: t("deliveries.resendOf") }));
      if (d.digest) result.push(el("span", { class: "tag", text: t("deliveries.digest", { n: d.digest }) }));
      if (d.attempts > 1) result.push(el("div", { class: "secondary", text: t("deliveries.attempts", { n: d.attempts }) }));
      if (failed) {
        const code = d.code && !String(d.error || "").includes(String(d.code)) ? "errcode " + d.code + " · " : "";
        if (d.error || code) result.push(el("div", { class: "secondary delivery-error", text: code + (d.error || "") }));
        const fix = words("fix.", d.fix_code, d.fix_params, d.fix);
        if (fix) result.push(el("div", { class: "delivery-fix", text: t("alert.fix", { fix }) }));
        if (d.resent) result.push(el("div", { class: "secondary", text: t("deliveries.resent", { result: resultLabel(d.resent.result), time: fmtTime(d.resent.time) }) }));
      }
      let action = null;
      if (failed) {
        const why = !d.resendable ? t("deliveries.noresend.message") : d.robot_exists === false ? t("deliveries.noresend.robot") : "";
        const again = d.resent && d.resent.result === "delivered";
        action = why ? el("span", { class: "secondary", text: why })
          : actionButton(again ? t("deliveries.resend.again") : t("deliveries.resend"), "delivery-resend-" + d.id, t("deliveries.resend.label", { title: d.title || d.project, robot: d.robot }),
            () => resendDelivery(d), again ? "btn btn-small" : "btn btn-small btn-primary");
      }
      const original = d.resend_of ? index.get(d.resend_of) : null;
      return el("tr", { id: "delivery-row-" + d.id, class: "delivery " + (failed ? "failed" : "delivered"), "data-result": d.result, "data-resend-of": d.resend_of || null },
        el("td", { class: "nowrap" }, el("time", { datetime: d.time, text: fmtTime(d.time) }),
          el("div", { class: "secondary", text: t("deliveries.latency", { v: fmtLatency(d.latency_ms) }) })),
        el("td", { class: "delivery-who" }, el("strong", { text: d.project_name || d.project }), d.project_name ? el("div", null, el("code", { text: d.project })) : null,
          el("div", { class: "robot" }, el("span", { text: d.robot + " " }), kindTag(d.kind))),
        el("td", { class: "delivery-alert" },
          el("div", { text: d.title || (original && original.title) || "—" }),
          d.level ? el("span", { class: "tag", text: d.level }) : null,
          httpLink(d.link, t("deliveries.open"))),
        el("td", { class: "delivery-result" }, result),
        el("td", { class: "actions" }, action));
    });
    $("#deliveries-rows").replaceChildren(...rows);
    const empty = $("#deliveries-empty");
    empty.textContent = filtered ? t("deliveries.empty.filtered") : t("deliveries.empty");
    empty.hidden = rows.length > 0;
    $("#deliveries-count").textContent = rows.length ? t(data.truncated ? "deliveries.count.truncated" : "deliveries.count", { n: rows.length }) : "";
  }

  async function resendDelivery(d) {
    const box = $("#deliveries-result");
    const again = d.resent && d.resent.result === "delivered";
    if (again && !(await confirmDialog(t("deliveries.resend.again.confirm", { time: fmtTime(d.resent.time) }), t("deliveries.resend.again.ok")))) return;
    const btn = document.getElementById("delivery-resend-" + d.id);
    if (btn) {
      btn.disabled = true;
      btn.textContent = t("common.sending");
    }
    view(box, () => msgBox("info", t("common.sending")));
    try {
      const { data } = await api("POST", "/deliveries/" + encodeURIComponent(d.id) + "/resend", again ? { again: true } : {});
      // Show the new record even when the result filter would hide it.
      const sel = $("#deliveries-filter-result");
      let showAll = false;
      if (sel.value && data.record && sel.value !== data.record.result) {
        sel.value = "";
        showAll = true;
      }
      view(box, () => {
        const r = data.result;
        const out = [];
        if (r.ok) {
          const mentions = r.mentions && r.mentions.length ? t("alert.mentions", { list: r.mentions.join(listSep()) }) : "";
          out.push(msgBox("ok", t("deliveries.resend.ok", { robot: r.robot, mentions })));
        } else {
          const detail = (r.detail || "") + (r.code ? ` (errcode ${r.code})` : "");
          out.push(msgBox("fail", t("deliveries.resend.fail", { robot: r.robot, error: detail }), fixLine(r)));
        }
        if (data.history_error) out.push(msgBox("warn", words("err.", data.history_error_code, data.history_error_params, data.history_error)));
        if (showAll) out.push(msgBox("info", t("deliveries.resend.showAll")));
        return out;
      });
      await loadDeliveries();
      const row = data.record && document.getElementById("delivery-row-" + data.record.id);
      if (row) row.classList.add("fresh");
    } catch (err) {
      view(box, () => msgBox("fail", errText(err)));
      if (btn) {
        btn.disabled = false;
        btn.textContent = again ? t("deliveries.resend.again") : t("deliveries.resend");
      }
    }
    box.focus();
  }

  // ---- settings ----

  const SETTINGS = ["folder", "oss_endpoint", "oss_region", "oss_bucket", "oss_prefix", "oss_access_key_id", "oss_access_key_secret", "relay_url", "relay_admin_key"];
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
    view($("#settings-active"), () => t("settings.active", { loc: data.active_store, src: t("settings.src." + data.store_source) }) +
      (data.store_error ? " — " + data.store_error : ""));
    const o = data.store_override;
    const box = $("#settings-override");
    if (o) {
      view(box, () => msgBox("warn", t("settings.override", { src: t("settings.override." + o.source), store: o.store })));
    } else {
      clearView(box);
    }
  }

  async function loadSettings() {
    clearErrors("settings");
    const { data } = await api("GET", "/settings");
    fillSettings(data);
    const kind = STORE_KINDS.includes(data.store_kind) ? data.store_kind : "folder";
    $("#settings-store_kind-" + kind).checked = true;
    $("#settings-language").value = data.language || state.lang;
    describeActive(data);
    toggleStoreFields();
  }

  function fillSettings(data) {
    for (const f of SETTINGS) {
      const input = $("#settings-" + f);
      if (input.matches("[data-secret]")) fillSecret(input, data[f]);
      else setVal(input.id, data[f]);
    }
  }

  // collectSettings leaves out an empty secret: the saved one stays.
  function collectSettings() {
    const body = { store_kind: storeKind(), language: val("settings-language") };
    for (const f of SETTINGS) {
      const input = $("#settings-" + f);
      const v = input.matches("[data-secret]") ? secretValue(input) : input.value;
      if (v !== undefined) body[f] = v.trim();
    }
    return body;
  }

  async function saveSettings() {
    const box = $("#settings-result");
    clearView(box);
    clearErrors("settings");
    if (refuseMasks("settings")) return;
    const before = state.store;
    try {
      const { data } = await api("PUT", "/settings", collectSettings());
      describeActive(data);
      fillSettings(data);
      await refresh();
      view(box, () => msgBox("ok", data.active_store !== before ? t("settings.switched", { loc: data.active_store }) : t("settings.saved")));
      if (data.language && data.language !== state.lang) setLang(data.language);
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
    return p.detail ? t("test.detail.raw", { detail: p.detail }) : "";
  }

  async function testSettings() {
    const box = $("#settings-result");
    clearErrors("settings");
    if (refuseMasks("settings")) return;
    const btn = $("#settings-test");
    btn.disabled = true;
    view(box, () => msgBox("info", t("settings.testing")));
    try {
      const { data } = await api("POST", "/settings/test", collectSettings());
      view(box, () => msgBox(data.ok ? "ok" : "fail", t("test." + data.code), el("p", { class: "detail", text: testDetail(data) })));
    } catch (err) {
      clearView(box);
      showErrors("settings", err);
    } finally {
      btn.disabled = false;
    }
  }

  // ---- pages ----

  // loadPage fills a page that reads from the server when it is shown. The
  // page's data-loads counts its loads that have ended (failed ones too):
  // whoever waits for the page (a test) waits for it to change.
  function loadPage(page) {
    const loaders = { webhook: loadWebhook, history: loadHistory, deliveries: loadDeliveries, settings: loadSettings };
    const section = $("#page-" + page);
    const loaded = () => { section.dataset.loads = String(Number(section.dataset.loads || 0) + 1); };
    if (loaders[page]) {
      safe(async () => {
        try {
          await loaders[page]();
        } finally {
          loaded();
        }
      })();
    } else {
      loaded();
    }
    document.dispatchEvent(new CustomEvent("sw:page", { detail: page }));
  }

  function showPage(page) {
    if (!PAGES.includes(page)) page = "projects";
    if (state.page === page && !$("#page-" + page).hidden) return;
    state.page = page;
    for (const p of PAGES) {
      $("#page-" + p).hidden = p !== page;
      const link = $("#nav-" + p);
      if (p === page) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    renderGuide();
    loadPage(page);
  }

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
    $("#lang-toggle").addEventListener("click", () => setLang(state.lang === "zh" ? "en" : "zh"));
    $("#banner-reload").addEventListener("click", safe(async () => {
      const e = state.editing;
      const dlg = e && document.getElementById(e.kind + "-dialog");
      if (dlg && dlg.open) {
        await reloadKeepingInput();
      } else {
        hideBanner();
        await refresh();
      }
      loadPage(state.page);
    }));
    window.addEventListener("hashchange", () => showPage(location.hash.slice(1)));

    $("#projects-new").addEventListener("click", () => openForm("project"));
    $("#owners-new").addEventListener("click", () => openForm("owner"));
    $("#robots-new").addEventListener("click", () => openForm("robot"));
    $("#organizations-new").addEventListener("click", () => openForm("organization"));
    for (const kind of ["project", "owner", "robot", "organization"]) {
      $(`#${kind}-form`).addEventListener("submit", (ev) => {
        ev.preventDefault();
        safe(() => submitForm(kind))();
      });
      $(`#${kind}-dialog`).addEventListener("close", () => {
        if (state.editing && state.editing.kind === kind) state.editing = null;
        clearErrors(kind);
      });
    }
    document.querySelectorAll("dialog [data-close]").forEach((b) => b.addEventListener("click", () => b.closest("dialog").close()));
    document.querySelectorAll(".check-search").forEach((n) => n.addEventListener("input", () => filterChecks(n)));

    $("#preview-run").addEventListener("click", safe(runPreview));

    $("#webhook-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      safe(saveRelay)();
    });
    $("#webhook-copy").addEventListener("click", safe(copyWebhook));
    $("#webhook-regenerate").addEventListener("click", safe(regenerate));
    $("#webhook-check").addEventListener("click", safe(checkRelay));

    $("#export-download").addEventListener("click", safe(exportDocument));
    $("#import-file").addEventListener("change", safe((ev) => checkImport(ev.target.files[0])));
    $("#robot-kind").addEventListener("change", safe(showKindInputs));
    let recognizeTimer = 0;
    $("#robot-access_token").addEventListener("input", () => {
      clearTimeout(recognizeTimer);
      recognizeTimer = setTimeout(safe(recognizeToken), 150);
    });
    $("#robot-secret").addEventListener("input", checkSecretLive);
    $("#import-confirm").addEventListener("click", safe(confirmImport));
    $("#import-cancel").addEventListener("click", resetImport);
    $("#import-danger-ack").addEventListener("change", updateImportConfirm);

    $("#deliveries-filters").addEventListener("submit", (ev) => ev.preventDefault());
    document.querySelectorAll("#deliveries-filters select").forEach((n) => n.addEventListener("change", safe(() => {
      clearView($("#deliveries-result"));
      return loadDeliveries();
    })));
    $("#deliveries-refresh").addEventListener("click", safe(loadDeliveries));

    $("#settings-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      safe(saveSettings)();
    });
    $("#settings-test").addEventListener("click", safe(testSettings));
    document.querySelectorAll("input[name=store_kind]").forEach((n) => n.addEventListener("change", toggleStoreFields));
    addSecretToggles(document);
    addCounters(document);
  }

  // What movein.js (import from the original, projects from Sentry) uses.
  window.SW = { state, api, t, el, msgBox, safe, toast, refresh, diffList, dangerBox, fillChecks, checkedIds, errText, fieldText, words, view, clearView,
    listSep, kindLabel, confirmDialog, showErrors, clearErrors, ownerIdKinds, has };
  // SW.ready settles once the strings are loaded: movein.js draws nothing
  // before.
  let stringsLoaded;
  window.SW.ready = new Promise((resolve) => {
    stringsLoaded = resolve;
  });

  async function init() {
    await loadStrings();
    stringsLoaded();
    state.token = readToken();
    let lang = "";
    try {
      lang = localStorage.getItem("sw-lang") || "";
    } catch (e) {
      lang = "";
    }
    state.lang = lang === "en" ? "en" : "zh";
    applyLang();
    bind();
    state.page = "";
    showPage(location.hash.slice(1));
    if (!state.token) {
      showBanner("token", () => t("banner.token"), false);
      renderAll();
      return;
    }
    safe(async () => {
      await refresh();
      if (!lang) {
        // No choice in this browser yet: use the one saved in the settings.
        const { data } = await api("GET", "/settings");
        if (data.language && data.language !== state.lang) setLang(data.language);
      }
    })();
  }

  init().catch((err) => {
    document.body.prepend(el("p", { class: "msg fail", text: String(err) }));
  });
})();
