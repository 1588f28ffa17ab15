// sentry-white configurator page. Plain JavaScript, no build step: it talks
// to the JSON API under /api/v1/ with the bearer token from the URL it was
// opened with.
"use strict";

(function () {
  const I18N = window.I18N;
  const MESSAGES = window.I18N_MESSAGES || [];
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
    editing: null,
    importText: null,
    importEtag: null,
    previewProject: null,
    history: [],
    deliveries: [],
    deliveryNames: { projects: new Map(), robots: new Set() },
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

  function t(key, params) {
    const dict = I18N[state.lang] || I18N.zh;
    let s = dict[key];
    if (s === undefined) s = I18N.zh[key];
    if (s === undefined) return key;
    if (params) s = s.replace(/\{(\w+)\}/g, (m, k) => (params[k] !== undefined ? String(params[k]) : m));
    return s;
  }

  // trMsg puts an API message (English) into Chinese when a rule knows it.
  function trMsg(msg) {
    if (!msg || state.lang !== "zh") return msg || "";
    for (const [re, zh] of MESSAGES) {
      const m = msg.match(re);
      if (m) return zh.replace(/\$(\d)/g, (_, i) => m[Number(i)] || "");
    }
    return msg;
  }

  function byId(list, id) {
    return list.find((x) => x.id === id);
  }

  function listSep() {
    return state.lang === "zh" ? "、" : ", ";
  }

  // safe runs an event handler and shows what went wrong instead of
  // leaving an unhandled rejection.
  function safe(fn) {
    return (ev) => {
      Promise.resolve()
        .then(() => fn(ev))
        .catch((err) => toast(trMsg(err && err.message ? err.message : String(err))));
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

  function showBanner(kind, text, reload) {
    state.bannerKind = kind;
    $("#banner-text").textContent = text;
    $("#banner-reload").hidden = !reload;
    $("#banner").hidden = false;
  }

  function hideBanner() {
    state.bannerKind = "";
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
      showBanner("network", t("banner.network", { msg: e.message }), true);
      throw new ApiError(0, { error: e.message });
    }
    const ct = res.headers.get("Content-Type") || "";
    let data = null;
    if (res.ok && opts.blob) data = await res.blob();
    else if (ct.includes("json")) data = await res.json().catch(() => null);
    if (!res.ok) {
      const err = new ApiError(res.status, data);
      if (res.status === 401) showBanner("token", t("banner.token"), false);
      if (res.status === 409 && err.data.code === "stale") showBanner("stale", t("banner.stale"), true);
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
      n.innerHTML = t(n.dataset.i18nHtml); // static strings from i18n.js only
    });
    document.querySelectorAll("[data-i18n-aria-label]").forEach((n) => {
      n.setAttribute("aria-label", t(n.dataset.i18nAriaLabel));
    });
    $("#lang-toggle").setAttribute("lang", state.lang === "zh" ? "en" : "zh-CN");
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
    loadPage(state.page);
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
      if (err.status === 503) showBanner("store", t("banner.store", { msg: err.message }), true);
      else if (err.data.code === "invalid_document") showBanner("invalid", t("banner.invalid", { msg: err.message }), true);
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
    return names.map((n) => el("span", { class: "tag " + (cls || ""), text: n }));
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
        el("td", { class: "name" }, el("strong", { text: p.name })),
        el("td", null, el("code", { text: p.slug })),
        el("td", { class: "nowrap", text: org ? org.name : "—" }),
        el("td", null, tags(ownerNames)),
        el("td", null, tags(robotNames)),
        el("td", null, filters.length ? tags(filters) : el("span", { class: "secondary", text: t("projects.nofilter") })),
        el("td", { class: "actions" },
          actionButton(t("projects.test"), "project-test-" + p.id, t("projects.test") + " " + p.name, () => testProject(p), "btn btn-small btn-primary"),
          actionButton(t("projects.preview"), "project-preview-" + p.id, t("projects.preview") + " " + p.name, () => openPreview(p)),
          actionButton(t("common.edit"), "project-edit-" + p.id, t("common.edit") + " " + p.name, () => openForm("project", p)),
          actionButton(t("common.delete"), "project-delete-" + p.id, t("common.delete") + " " + p.name, () => confirmDelete("project", p), "btn btn-small btn-link")));
    });
    $("#projects-rows").replaceChildren(...rows);
    $("#projects-empty").hidden = projects.length > 0;
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
        el("td", null, ids.length ? ids.map((s) => el("div", { class: "secondary", text: s })) : el("span", { class: "secondary", text: "—" })),
        el("td", null, usedBy("owner", o.id)),
        el("td", { class: "actions" },
          actionButton(t("common.edit"), "owner-edit-" + o.id, t("common.edit") + " " + o.name, () => openForm("owner", o)),
          actionButton(t("common.delete"), "owner-delete-" + o.id, t("common.delete") + " " + o.name, () => confirmDelete("owner", o), "btn btn-small btn-link")));
    });
    $("#owners-rows").replaceChildren(...rows);
    $("#owners-empty").hidden = state.data.owners.length > 0;
  }

  function kindOf(name) {
    return state.meta.kinds.find((k) => k.name === name);
  }

  // text picks the current language from a {zh, en} label.
  function labelText(label) {
    return label ? label[state.lang] || label.zh || "" : "";
  }

  function kindLabel(name) {
    const k = kindOf(name);
    return k ? labelText(k.label) : name;
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
        el("input", { id, name: key, type: "text", autocomplete: "off", spellcheck: "false", "aria-describedby": id + "-hint " + id + "-error" }),
        el("p", { class: "hint", id: id + "-hint", text: labelText(k.owner_id.help) }),
        el("p", { class: "field-error", id: id + "-error" }));
    }));
  }

  // showKindInputs labels the robot form's token and secret for the chosen
  // kind, and hides the secret of a kind that has none.
  function showKindInputs() {
    const k = kindOf(val("robot-kind"));
    if (!k) return;
    $("#robot-access_token-label").textContent = labelText(k.token.label) + " " + t("robot.access_token.paste");
    $("#robot-access_token-hint").textContent = labelText(k.token.help);
    $("#robot-access_token").placeholder = k.url_example;
    $("#robot-secret-field").hidden = !k.secret;
    if (k.secret) {
      $("#robot-secret-label").textContent = labelText(k.secret.label);
      $("#robot-secret-hint").textContent = labelText(k.secret.help);
      $("#robot-secret").placeholder = k.secret.prefix ? k.secret.prefix + "…" : "";
    }
  }

  function renderRobots() {
    const rows = state.data.robots.map((r) => el("tr", { id: "robot-row-" + r.id },
      el("td", { class: "name" }, el("strong", { text: r.name })),
      el("td", null, kindTag(r.kind)),
      el("td", null, el("span", { class: "masked", text: r.access_token || "—" })),
      el("td", null, el("span", { class: "masked", text: r.secret || "—" })),
      el("td", { text: r.keyword || state.meta.default_keyword + " (" + t("common.default") + ")" }),
      el("td", null, usedBy("robot", r.id)),
      el("td", { class: "actions" },
        actionButton(t("robots.test"), "robot-test-" + r.id, t("robots.test") + " " + r.name, () => testRobot(r), "btn btn-small btn-primary"),
        actionButton(t("common.edit"), "robot-edit-" + r.id, t("common.edit") + " " + r.name, () => openForm("robot", r)),
        actionButton(t("common.delete"), "robot-delete-" + r.id, t("common.delete") + " " + r.name, () => confirmDelete("robot", r), "btn btn-small btn-link"))));
    $("#robots-rows").replaceChildren(...rows);
    $("#robots-empty").hidden = state.data.robots.length > 0;
  }

  function renderOrganizations() {
    const rows = state.data.organizations.map((o) => el("tr", { id: "organization-row-" + o.id },
      el("td", { class: "name" }, el("strong", { text: o.name })),
      el("td", { text: o.sentry_url || "—" }),
      el("td", null, o.slug ? el("code", { text: o.slug }) : "—"),
      el("td", null, o.account ? [el("div", { text: o.account }), el("div", { class: "masked", text: o.password || "" })] : el("span", { class: "secondary", text: "—" })),
      el("td", null, el("span", { class: "masked", text: o.client_secret || "—" })),
      el("td", null, usedBy("organization", o.id)),
      el("td", { class: "actions" },
        actionButton(t("common.edit"), "organization-edit-" + o.id, t("common.edit") + " " + o.name, () => openForm("organization", o)),
        actionButton(t("common.delete"), "organization-delete-" + o.id, t("common.delete") + " " + o.name, () => confirmDelete("organization", o), "btn btn-small btn-link"))));
    $("#organizations-rows").replaceChildren(...rows);
    $("#organizations-empty").hidden = state.data.organizations.length > 0;
  }

  function renderGuide() {
    const d = state.data;
    const steps = [
      { id: "owner", text: t("guide.owner"), done: d.owners.length > 0, go: () => { location.hash = "#owners"; openForm("owner"); } },
      { id: "robot", text: t("guide.robot"), done: d.robots.length > 0, go: () => { location.hash = "#robots"; openForm("robot"); } },
      { id: "project", text: t("guide.project"), done: d.projects.length > 0, go: () => openForm("project") },
      { id: "test", text: t("guide.test"), done: false, go: d.projects.length ? () => testProject(d.projects[0]) : null, label: t("projects.test") },
      { id: "webhook", text: t("guide.webhook"), done: false, go: () => { location.hash = "#webhook"; }, label: t("nav.webhook") },
    ];
    const items = steps.map((s, i) => el("li", { class: s.done ? "done" : "", id: "guide-step-" + s.id },
      el("span", null, el("span", { class: "step-num", text: (s.done ? "✓" : i + 1) + ". " }), s.text),
      s.done ? el("span", { class: "secondary", text: t("guide.done") })
        : el("button", { type: "button", class: "btn btn-small", id: "guide-go-" + s.id, disabled: !s.go, onclick: s.go ? safe(s.go) : null }, s.label || t("guide.go"))));
    $("#guide-steps").replaceChildren(...items);
    $("#guide").hidden = d.owners.length > 0 && d.robots.length > 0 && d.projects.length > 0;
  }

  // ---- forms ----

  function val(id) {
    const n = document.getElementById(id);
    return n ? n.value : "";
  }

  function setVal(id, v) {
    const n = document.getElementById(id);
    if (n) n.value = v === undefined || v === null ? "" : v;
  }

  function levelOptions(select, selected) {
    const opts = [el("option", { value: "", text: t("project.level.any") })];
    for (const l of state.meta.levels) opts.push(el("option", { value: l, text: l }));
    select.replaceChildren(...opts);
    select.value = selected || "";
  }

  function fillChecks(box, prefix, list, selected, detail, emptyKey) {
    if (!list.length) {
      box.replaceChildren(el("p", { class: "none", text: t(emptyKey) }));
      return;
    }
    box.replaceChildren(...list.map((item) => {
      const id = prefix + item.id;
      return el("label", { for: id },
        el("input", { type: "checkbox", id, value: item.id, checked: selected.includes(item.id) }),
        el("span", { text: item.name }),
        el("span", { class: "secondary", text: detail(item) }));
    }));
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

  function formFields(kind) {
    if (kind === "owner") return FIELDS.owner.concat(ownerIdKinds().map((k) => k.owner_id.key));
    return FIELDS[kind];
  }

  function fillForm(kind, item) {
    if (kind === "owner") buildOwnerIds();
    if (kind === "robot") {
      const sel = $("#robot-kind");
      sel.replaceChildren(...state.meta.kinds.map((k) => el("option", { value: k.name, text: labelText(k.label) })));
    }
    for (const f of formFields(kind)) setVal(kind + "-" + f, item ? item[f] : "");
    if (kind === "robot") {
      const sel = $("#robot-kind");
      sel.value = item ? item.kind : (state.meta.kinds[0] || {}).name || "";
      if (!item) setVal("robot-keyword", state.meta.default_keyword);
      showKindInputs();
    }
    if (kind === "organization" && !item) setVal("organization-sentry_url", "https://sentry.io");
    if (kind === "project") {
      const d = state.data;
      const org = $("#project-organization_id");
      org.replaceChildren(el("option", { value: "0", text: t("common.none") }), ...d.organizations.map((o) => el("option", { value: o.id, text: o.name + (o.slug ? " (" + o.slug + ")" : "") })));
      org.value = String(item ? item.organization_id || 0 : d.organizations.length === 1 ? d.organizations[0].id : 0);
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
    }
  }

  function collectForm(kind) {
    const body = {};
    for (const f of formFields(kind)) body[f] = val(kind + "-" + f);
    if (kind === "robot" && $("#robot-secret-field").hidden) body.secret = "";
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

  function clearErrors(prefix) {
    document.querySelectorAll(`[id^="${prefix}-"][id$="-error"]`).forEach((n) => {
      n.textContent = "";
    });
    document.querySelectorAll(`[id^="${prefix}-"][aria-invalid]`).forEach((n) => n.removeAttribute("aria-invalid"));
    const fe = document.getElementById(prefix + "-form-error");
    if (fe) fe.textContent = "";
  }

  // showErrors puts each field error of an API answer next to its input:
  // projects[2].slug goes to #<prefix>-slug-error.
  function showErrors(prefix, err) {
    clearErrors(prefix);
    const formError = document.getElementById(prefix + "-form-error");
    if (err.status === 409 && err.data.code === "stale") {
      if (formError) formError.textContent = t("banner.stale");
      return;
    }
    const fields = (err.data && err.data.fields) || [];
    const loose = [];
    let first = null;
    for (const fe of fields) {
      const name = fe.field.replace(/^[a-z_]+\[\d+\]\./, "").replace(/\[\d+\]$/, "");
      const box = document.getElementById(`${prefix}-${name}-error`);
      if (!box) {
        loose.push(`${fe.field}: ${trMsg(fe.message)}`);
        continue;
      }
      box.textContent = (box.textContent ? box.textContent + " " : "") + trMsg(fe.message);
      const input = document.getElementById(`${prefix}-${name}`);
      if (input) {
        input.setAttribute("aria-invalid", "true");
        if (!first) first = input;
        const details = input.closest("details");
        if (details) details.open = true;
      }
    }
    if (!fields.length) loose.push(trMsg(err.message));
    if (formError) formError.textContent = loose.join("；");
    else if (loose.length) toast(loose.join("; "));
    if (first) {
      const target = first.matches("fieldset") ? first.querySelector("input") || first : first;
      target.focus();
    }
  }

  function openForm(kind, item) {
    state.editing = { kind, id: item ? item.id : null };
    $(`#${kind}-dialog-title`).textContent = t(`${kind}.dialog.${item ? "edit" : "new"}`);
    clearErrors(kind);
    fillForm(kind, item);
    const dlg = $(`#${kind}-dialog`);
    if (!dlg.open) dlg.showModal();
    $(`#${kind}-name`).focus();
  }

  async function submitForm(kind) {
    const body = collectForm(kind);
    const id = state.editing && state.editing.kind === kind ? state.editing.id : null;
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

  // ---- confirm and delete ----

  function confirmDialog(text, okText) {
    const dlg = $("#confirm-dialog");
    $("#confirm-text").textContent = text;
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
      box.replaceChildren();
      await refresh();
    } catch (err) {
      if (err.status === 409 && err.data.code === "referenced") {
        const list = (err.data.referenced_by || []).map((r) => r.name).join(listSep());
        if (await confirmDialog(t("confirm.deleteReferenced", { name: item.name, list }), t("confirm.deleteAnyway"))) {
          await doDelete(kind, item, true);
        }
        return;
      }
      if (err.data.code !== "stale") box.replaceChildren(msgBox("fail", trMsg(err.message)));
    }
  }

  // ---- test alerts and preview ----

  function renderAlertResult(box, data, showProject) {
    const out = [];
    if (!data.results.length) out.push(msgBox("warn", t("alert.none", { note: trMsg(data.note || "") })));
    for (const r of data.results) {
      const suffix = showProject && data.project ? t("alert.project", { project: data.project }) : "";
      if (r.ok) {
        const mentions = r.mentions && r.mentions.length ? t("alert.mentions", { list: r.mentions.join(listSep()) }) : "";
        out.push(msgBox("ok", t("alert.ok", { robot: r.robot, mentions }) + suffix));
      } else {
        const detail = (r.detail || r.error || "") + (r.code ? ` (errcode ${r.code})` : "");
        out.push(msgBox("fail", t("alert.fail", { robot: r.robot, error: detail }) + suffix, r.fix ? t("alert.fix", { fix: trMsg(r.fix) }) : ""));
      }
    }
    box.replaceChildren(...out);
  }

  async function runTest(btn, box, path, showProject) {
    const old = btn ? btn.textContent : "";
    if (btn) {
      btn.disabled = true;
      btn.textContent = t("common.sending");
    }
    box.replaceChildren(msgBox("info", t("common.sending")));
    try {
      const { data } = await api("POST", path, {});
      renderAlertResult(box, data, showProject);
    } catch (err) {
      box.replaceChildren(msgBox("fail", trMsg(err.message)));
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

  function testProject(p) {
    if (location.hash !== "#projects") location.hash = "#projects";
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
    out.replaceChildren(el("p", { class: "hint", text: t("common.loading") }));
    try {
      const { data } = await api("POST", `/projects/${p.id}/preview`, body);
      renderPreview(out, data);
    } catch (err) {
      if (err.data.fields && err.data.fields.length) {
        errBox.textContent = trMsg(err.data.fields[0].message);
        $("#preview-payload").setAttribute("aria-invalid", "true");
        out.replaceChildren();
      } else {
        out.replaceChildren(msgBox("fail", trMsg(err.message)));
      }
    }
  }

  function renderPreview(out, data) {
    const parts = [];
    const ev = data.event || {};
    parts.push(el("p", null, el("strong", { text: ev.title || "" }), " ",
      el("span", { class: "tag", text: ev.level || "?" }),
      ev.environment ? el("span", { class: "tag", text: ev.environment }) : null,
      data.sample ? el("span", { class: "tag", text: t("preview.sample") }) : null));
    if (data.warning) parts.push(msgBox("warn", trMsg(data.warning)));
    if (data.dropped) parts.push(msgBox("warn", t("preview.dropped", { reason: trMsg(data.dropped) })));
    if (data.mentions_suppressed) parts.push(msgBox("info", t("preview.suppressed")));
    if (!data.robots.length && !data.dropped) parts.push(msgBox("info", t("preview.norobot")));
    data.robots.forEach((r, i) => {
      const box = el("div", { class: "preview-robot", id: "preview-robot-" + i },
        el("h3", null, r.robot, " ", kindTag(r.kind)),
        el("p", { class: "hint" }, t("preview.keyword", { kw: r.keyword }), " · ",
          r.mentions && r.mentions.length ? t("preview.mentions", { list: r.mentions.join(listSep()) }) : t("preview.nomention")));
      if (r.error) box.append(msgBox("fail", r.error));
      if (r.text) box.append(el("div", { class: "preview-text", text: r.text }));
      const json = r.bodies ? (r.bodies.length === 1 ? r.bodies[0] : r.bodies) : r.message;
      box.append(el("details", null, el("summary", { text: t("preview.body") }), el("pre", { class: "preview-json", text: JSON.stringify(json, null, 2) })));
      parts.push(box);
    });
    out.replaceChildren(...parts);
  }

  // ---- webhook ----

  async function loadWebhook() {
    clearErrors("webhook");
    const { data } = await api("GET", "/webhook");
    setVal("webhook-relay_url", data.relay_url);
    setVal("webhook-url", data.url);
    $("#webhook-copy").disabled = !data.url;
    let status = "";
    if (!data.relay_url) status = t("webhook.url.missing");
    else if (!data.token_set) status = t("webhook.notoken");
    $("#webhook-status").textContent = status;
  }

  async function saveRelay() {
    clearErrors("webhook");
    try {
      await api("PUT", "/settings", { relay_url: val("webhook-relay_url").trim() });
      toast(t("common.saved"));
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
      if (err.data.code !== "stale") $("#webhook-status").textContent = trMsg(err.message);
    }
  }

  // ---- import / export ----

  function diffList(changes) {
    return el("ul", { class: "diff" }, changes.map((c) => {
      let text = t("diff.kind." + c.kind);
      if (c.id) text += " #" + c.id;
      if (c.name) text += " " + c.name;
      if (c.fields && c.fields.length) text += ": " + c.fields.join(", ");
      return el("li", { class: c.op }, el("span", { class: "op", text: t("diff." + c.op) }), text);
    }));
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
    $("#import-file").value = "";
    $("#import-result").replaceChildren();
    $("#import-actions").hidden = true;
  }

  async function checkImport(file) {
    const box = $("#import-result");
    $("#import-actions").hidden = true;
    box.replaceChildren();
    if (!file) return;
    const text = await file.text();
    try {
      JSON.parse(text);
    } catch (e) {
      box.replaceChildren(msgBox("fail", t("import.notjson", { msg: e.message })));
      return;
    }
    try {
      const { data } = await api("POST", "/document/diff", text, { raw: true });
      if (data.identical) {
        box.replaceChildren(msgBox("info", t("import.identical")));
        return;
      }
      state.importText = text;
      state.importEtag = data.etag;
      box.replaceChildren(el("p", { id: "import-diff-title", text: t("import.diff.title") }), diffList(data.changes));
      $("#import-actions").hidden = false;
    } catch (err) {
      const fields = err.data.fields || [];
      box.replaceChildren(msgBox("fail", t("import.invalid"), fields.length ? null : trMsg(err.message)),
        fields.length ? el("ul", { id: "import-errors" }, fields.map((f) => el("li", null, el("code", { text: f.field }), " " + trMsg(f.message)))) : null);
    }
  }

  async function confirmImport() {
    if (!state.importText) return;
    try {
      const { data } = await api("PUT", "/document", state.importText, { raw: true, ifMatch: state.importEtag, track: true });
      const c = data.counts;
      resetImport();
      $("#import-result").replaceChildren(msgBox("ok", t("import.done", { o: c.organizations, w: c.owners, r: c.robots, p: c.projects })));
      await refresh();
    } catch (err) {
      $("#import-result").append(msgBox("fail", trMsg(err.message)));
    }
  }

  // ---- history ----

  function fmtTime(s) {
    const d = new Date(s);
    return isNaN(d) ? s : d.toLocaleString(state.lang === "zh" ? "zh-CN" : "en-GB");
  }

  async function loadHistory() {
    const { data } = await api("GET", "/history");
    state.history = data;
    $("#history-rows").replaceChildren(...data.map((v, i) => el("tr", { id: "history-row-" + i },
      el("td", { class: "nowrap", text: fmtTime(v.time) }),
      el("td", { class: "secondary", text: v.counts ? t("history.counts", { o: v.counts.organizations, w: v.counts.owners, r: v.counts.robots, p: v.counts.projects }) : "—" }),
      el("td", { class: "actions" },
        actionButton(t("history.diff"), "history-diff-" + i, t("history.diff") + " " + fmtTime(v.time), () => showVersion(v)),
        actionButton(t("history.restore"), "history-restore-" + i, t("history.restore") + " " + fmtTime(v.time), () => restoreVersion(v))))));
    $("#history-empty").hidden = data.length > 0;
  }

  async function showVersion(v) {
    const { data } = await api("GET", "/history/" + encodeURIComponent(v.id));
    const box = $("#history-detail");
    box.replaceChildren(el("h2", { text: t("history.diff.title", { time: fmtTime(v.time) }) }),
      data.changes.length ? diffList(data.changes) : el("p", { text: t("history.identical") }));
    box.hidden = false;
  }

  async function restoreVersion(v) {
    if (!(await confirmDialog(t("history.restore.confirm", { time: fmtTime(v.time) }), t("history.restore")))) return;
    const box = $("#history-result");
    try {
      await api("POST", "/history/" + encodeURIComponent(v.id) + "/restore", {}, { ifMatch: state.etag, track: true });
      box.replaceChildren(msgBox("ok", t("history.restored", { time: fmtTime(v.time) })));
      $("#history-detail").hidden = true;
      await refresh();
      await loadHistory();
    } catch (err) {
      if (err.data.code !== "stale") box.replaceChildren(msgBox("fail", trMsg(err.message)));
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
    return /^https?:\/\//i.test(url || "") ? el("a", { href: url, target: "_blank", rel: "noopener noreferrer", text }) : null;
  }

  function resultLabel(result) {
    return result === "failed" ? t("deliveries.result.failed") : t("deliveries.result.delivered");
  }

  function resultBadge(result) {
    const failed = result === "failed";
    return el("span", { class: "tag result-" + (failed ? "failed" : "delivered") },
      el("span", { "aria-hidden": "true", text: failed ? "✕ " : "✓ " }), resultLabel(result));
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
      if (d.project && !state.deliveryNames.projects.has(d.project)) {
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
  }

  function renderDeliveries(data, filtered) {
    const index = new Map(data.deliveries.map((d) => [d.id, d]));
    const rows = data.deliveries.map((d) => {
      const failed = d.result === "failed";
      const result = [resultBadge(d.result)];
      if (d.resend_of) result.push(el("span", { class: "tag", text: t("deliveries.resendOf") }));
      if (d.attempts > 1) result.push(el("div", { class: "secondary", text: t("deliveries.attempts", { n: d.attempts }) }));
      if (failed) {
        const code = d.code && !String(d.error || "").includes(String(d.code)) ? "errcode " + d.code + " · " : "";
        if (d.error || code) result.push(el("div", { class: "secondary delivery-error", text: code + (d.error || "") }));
        if (d.fix) result.push(el("div", { class: "delivery-fix", text: t("alert.fix", { fix: trMsg(d.fix) }) }));
        if (d.resent) result.push(el("div", { class: "secondary", text: t("deliveries.resent", { result: resultLabel(d.resent.result), time: fmtTime(d.resent.time) }) }));
      }
      let action = null;
      if (failed) {
        const why = !d.resendable ? t("deliveries.noresend.message") : d.robot_exists === false ? t("deliveries.noresend.robot") : "";
        action = why ? el("span", { class: "secondary", text: why })
          : actionButton(t("deliveries.resend"), "delivery-resend-" + d.id, t("deliveries.resend.label", { title: d.title || d.project, robot: d.robot }),
            () => resendDelivery(d), "btn btn-small btn-primary");
      }
      const original = d.resend_of ? index.get(d.resend_of) : null;
      return el("tr", { id: "delivery-row-" + d.id, class: "delivery " + (failed ? "failed" : "delivered"), "data-result": d.result, "data-resend-of": d.resend_of || null },
        el("td", { class: "nowrap" }, el("time", { datetime: d.time, text: fmtTime(d.time) })),
        el("td", { class: "nowrap" }, el("strong", { text: d.project_name || d.project }), d.project_name ? el("div", null, el("code", { text: d.project })) : null),
        el("td", { class: "nowrap" }, el("div", { text: d.robot }), kindTag(d.kind)),
        el("td", { class: "delivery-alert" },
          el("div", { text: d.title || (original && original.title) || "—" }),
          d.level ? el("span", { class: "tag", text: d.level }) : null,
          httpLink(d.link, t("deliveries.open"))),
        el("td", { class: "delivery-result" }, result),
        el("td", { class: "nowrap", text: fmtLatency(d.latency_ms) }),
        el("td", { class: "nowrap", text: d.digest ? t("deliveries.digest", { n: d.digest }) : "—" }),
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
    const btn = document.getElementById("delivery-resend-" + d.id);
    if (btn) {
      btn.disabled = true;
      btn.textContent = t("common.sending");
    }
    box.replaceChildren(msgBox("info", t("common.sending")));
    try {
      const { data } = await api("POST", "/deliveries/" + encodeURIComponent(d.id) + "/resend", {});
      const r = data.result;
      const out = [];
      if (r.ok) {
        const mentions = r.mentions && r.mentions.length ? t("alert.mentions", { list: r.mentions.join(listSep()) }) : "";
        out.push(msgBox("ok", t("deliveries.resend.ok", { robot: r.robot, mentions })));
      } else {
        const detail = (r.detail || r.error || "") + (r.code ? ` (errcode ${r.code})` : "");
        out.push(msgBox("fail", t("deliveries.resend.fail", { robot: r.robot, error: detail }), r.fix ? t("alert.fix", { fix: trMsg(r.fix) }) : ""));
      }
      if (data.history_error) out.push(msgBox("warn", trMsg(data.history_error)));
      // Show the new record even when the result filter would hide it.
      const sel = $("#deliveries-filter-result");
      if (sel.value && data.record && sel.value !== data.record.result) {
        sel.value = "";
        out.push(msgBox("info", t("deliveries.resend.showAll")));
      }
      box.replaceChildren(...out);
      await loadDeliveries();
      const row = data.record && document.getElementById("delivery-row-" + data.record.id);
      if (row) row.classList.add("fresh");
    } catch (err) {
      box.replaceChildren(msgBox("fail", trMsg(err.message)));
      if (btn) {
        btn.disabled = false;
        btn.textContent = t("deliveries.resend");
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
    $("#settings-lead").textContent = t("settings.lead", { file: data.settings_file });
    $("#settings-active").textContent = t("settings.active", { loc: data.active_store, src: t("settings.src." + data.store_source) }) +
      (data.store_error ? " — " + data.store_error : "");
  }

  async function loadSettings() {
    clearErrors("settings");
    const { data } = await api("GET", "/settings");
    for (const f of SETTINGS) setVal("settings-" + f, data[f]);
    const kind = STORE_KINDS.includes(data.store_kind) ? data.store_kind : "folder";
    $("#settings-store_kind-" + kind).checked = true;
    $("#settings-language").value = data.language || state.lang;
    describeActive(data);
    toggleStoreFields();
  }

  function collectSettings() {
    const body = { store_kind: storeKind(), language: val("settings-language") };
    for (const f of SETTINGS) body[f] = val("settings-" + f).trim();
    return body;
  }

  async function saveSettings() {
    const box = $("#settings-result");
    box.replaceChildren();
    clearErrors("settings");
    const before = state.store;
    try {
      const { data } = await api("PUT", "/settings", collectSettings());
      describeActive(data);
      setVal("settings-oss_access_key_secret", data.oss_access_key_secret);
      setVal("settings-relay_admin_key", data.relay_admin_key);
      await refresh();
      box.replaceChildren(msgBox("ok", data.active_store !== before ? t("settings.switched", { loc: data.active_store }) : t("settings.saved")));
      if (data.language && data.language !== state.lang) setLang(data.language);
    } catch (err) {
      showErrors("settings", err);
    }
  }

  async function testSettings() {
    const box = $("#settings-result");
    clearErrors("settings");
    const btn = $("#settings-test");
    btn.disabled = true;
    box.replaceChildren(msgBox("info", t("settings.testing")));
    try {
      const { data } = await api("POST", "/settings/test", collectSettings());
      box.replaceChildren(msgBox(data.ok ? "ok" : "fail", t("test." + data.code), el("p", { class: "detail", text: data.message })));
    } catch (err) {
      box.replaceChildren();
      showErrors("settings", err);
    } finally {
      btn.disabled = false;
    }
  }

  // ---- pages ----

  function loadPage(page) {
    const loaders = { webhook: loadWebhook, history: loadHistory, deliveries: loadDeliveries, settings: loadSettings };
    if (loaders[page]) safe(loaders[page])();
    document.dispatchEvent(new CustomEvent("sw:page", { detail: page }));
  }

  function showPage(page) {
    if (!PAGES.includes(page)) page = "projects";
    state.page = page;
    for (const p of PAGES) {
      $("#page-" + p).hidden = p !== page;
      const link = $("#nav-" + p);
      if (p === page) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
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
      hideBanner();
      document.querySelectorAll("dialog[open]").forEach((d) => d.close());
      await refresh();
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
    }
    document.querySelectorAll("dialog [data-close]").forEach((b) => b.addEventListener("click", () => b.closest("dialog").close()));

    $("#preview-run").addEventListener("click", safe(runPreview));

    $("#webhook-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      safe(saveRelay)();
    });
    $("#webhook-copy").addEventListener("click", safe(copyWebhook));
    $("#webhook-regenerate").addEventListener("click", safe(regenerate));

    $("#export-download").addEventListener("click", safe(exportDocument));
    $("#import-file").addEventListener("change", safe((ev) => checkImport(ev.target.files[0])));
    $("#robot-kind").addEventListener("change", safe(showKindInputs));
    $("#import-confirm").addEventListener("click", safe(confirmImport));
    $("#import-cancel").addEventListener("click", resetImport);

    $("#deliveries-filters").addEventListener("submit", (ev) => ev.preventDefault());
    document.querySelectorAll("#deliveries-filters select").forEach((n) => n.addEventListener("change", safe(() => {
      $("#deliveries-result").replaceChildren();
      return loadDeliveries();
    })));
    $("#deliveries-refresh").addEventListener("click", safe(loadDeliveries));

    $("#settings-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      safe(saveSettings)();
    });
    $("#settings-test").addEventListener("click", safe(testSettings));
    document.querySelectorAll("input[name=store_kind]").forEach((n) => n.addEventListener("change", toggleStoreFields));
  }

  // What movein.js (import from the original, projects from Sentry) uses.
  window.SW = { state, api, t, el, msgBox, safe, toast, refresh, diffList, fillChecks, checkedIds, trMsg, listSep, kindLabel, confirmDialog, showErrors, clearErrors };

  function init() {
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
    showPage(location.hash.slice(1));
    if (!state.token) {
      showBanner("token", t("banner.token"), false);
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

  init();
})();
