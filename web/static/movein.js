// Moving in, for teams that arrive with data elsewhere:
// - from the original sentry-white (its objects api/v1/originals, projects,
//   robots, responsible_people in the same store): a notice on the projects
//   page, 从旧版导入 / Import from the original on the import page (the
//   changes and every problem, then one write), and the one change Sentry
//   needs on the webhook page;
// - from Sentry: with an auth token kept on this computer, the
//   organizations page lists the organization's Sentry projects, adds
//   several at once and flags configured slugs Sentry does not know.
// Loaded after app.js, whose helpers it takes from window.SW; it listens to
// sw:render (the lists were drawn again) and sw:page (a page was opened).
"use strict";

(function () {
  const SW = window.SW;
  if (!SW) return;
  const { state, api, t, has, el, msgBox, safe, toast, refresh, diffList, dangerBox, confirmDialog, fillChecks, checkedIds, errText, fieldText, view, listSep, kindLabel, ownerIdKinds } = SW;
  const $ = (sel) => document.querySelector(sel);

  const mv = {
    detected: null, // whether the store holds the original's data; null: not asked yet
    detectedFor: "", // the store it was asked for
    detecting: null,
    preview: null, // {etag, digest} of the import shown
    sentry: { orgId: 0, tokenFor: 0, token: null, list: null, listFor: 0, selected: new Set(), names: new Map(), unknown: [] },
  };

  // ---- the original sentry-white ----

  // detect asks once per store whether it holds the original's data.
  async function detect(force) {
    if (!state.token || !state.store) return mv.detected;
    if (!force && mv.detectedFor === state.store && mv.detected !== null) return mv.detected;
    if (!force && mv.detecting) return mv.detecting;
    const store = state.store;
    mv.detecting = api("GET", "/original?detect=1")
      .then(({ data }) => {
        mv.detected = !!data.detected;
        mv.detectedFor = store;
        return mv.detected;
      })
      .catch(() => {
        mv.detected = false;
        mv.detectedFor = store;
        return false;
      })
      .finally(() => {
        mv.detecting = null;
      });
    return mv.detecting;
  }

  function renderNotice() {
    const box = $("#movein-notice");
    const show = mv.detected === true && state.data.projects.length === 0;
    box.hidden = !show;
    if (show) $("#movein-notice-text").textContent = t("movein.notice.text", { store: state.store });
  }

  function recordName(list, id, name) {
    const s = t("original.rec." + list, { id: id || "" }).trim(); // no id: a record without a usable one
    return name ? s + " " + t("original.quoted", { name }) : s;
  }

  // problemText says one problem of the report in the page's language.
  function problemText(p) {
    const params = {
      rec: recordName(p.list, p.id, p.name),
      ref: p.ref_list ? recordName(p.ref_list, p.ref_id, "") : "",
      reason: p.reason && has("original.reason." + p.reason) ? t("original.reason." + p.reason) : "",
      field: p.field || "",
      value: p.value || "",
      key: p.key || "",
      count: p.count || 0,
      fields: (p.fields || []).join(", "),
      list: p.list || "",
      why: "",
    };
    if (p.code === "invalid" || p.code === "fixed") params.why = t("original.why." + p.reason, { n: p.count || 0 });
    return has("original.problem." + p.code) ? t("original.problem." + p.code, params) : p.message;
  }

  function problemList(id, problems) {
    return el("ul", { class: "problems", id }, problems.map((p) => el("li", { class: "problem-" + p.level, "data-code": p.code }, problemText(p))));
  }

  function renderPreview(data) {
    const status = $("#original-status");
    const box = $("#original-preview");
    const confirm = $("#original-confirm");
    confirm.hidden = true;
    mv.preview = null;
    if (!data.detected) {
      status.replaceChildren(msgBox("info", t("original.none", { store: data.store || state.store }), t("original.none.hint")));
      box.hidden = true;
      return;
    }
    const rep = data.report;
    const lists = el("ul", { class: "original-lists", id: "original-lists" }, rep.lists.map((l) =>
      el("li", null, el("code", { text: l.key }), " — " + t("original.state." + l.state, { n: l.records, objects: l.objects }))));
    const c = data.counts;
    const parts = [el("p", { text: t("original.found", { store: data.store }) }), lists];
    if (data.identical) {
      status.replaceChildren(msgBox("ok", t("original.identical", { o: c.organizations, w: c.owners, r: c.robots, p: c.projects })));
    } else {
      status.replaceChildren(msgBox("info", t("original.will", { o: c.organizations, w: c.owners, r: c.robots, p: c.projects })));
      const dangers = data.dangers || [];
      // What the import clears or replaces (the original's robots have no
      // signing secret): in red, and asked again on confirming.
      if (dangers.length) parts.push(dangerBox("original-dangers", t("danger.title"), dangers));
      parts.push(el("p", { id: "original-diff-title", text: t("original.diff.title") }), diffList(data.changes, 0, dangers));
      const dc = data.document_counts || {};
      if (data.document_exists && (dc.organizations || dc.owners || dc.robots || dc.projects)) {
        parts.push(msgBox("warn", t("original.replace", { o: dc.organizations, w: dc.owners, r: dc.robots, p: dc.projects })));
      }
      mv.preview = { etag: data.etag, digest: data.digest, dangers: data.dangers || [] };
      confirm.hidden = false;
    }
    const skipped = rep.problems.filter((p) => p.level === "skipped");
    const other = rep.problems.filter((p) => p.level !== "skipped");
    if (skipped.length) {
      parts.push(el("h3", { text: t("original.skipped", { n: skipped.length }) }), problemList("original-skipped", skipped));
    }
    if (other.length) {
      parts.push(el("h3", { text: t("original.problems", { n: other.length }) }), problemList("original-problems", other));
    }
    box.replaceChildren(...parts);
    box.hidden = false;
  }

  async function loadOriginal() {
    $("#original-result").replaceChildren();
    $("#original-status").replaceChildren(msgBox("info", t("original.checking")));
    $("#original-preview").hidden = true;
    $("#original-confirm").hidden = true;
    try {
      const { data } = await api("GET", "/original");
      mv.detected = !!data.detected;
      mv.detectedFor = state.store;
      renderPreview(data);
      renderNotice();
    } catch (err) {
      $("#original-status").replaceChildren(msgBox("fail", errText(err)));
    }
  }

  async function confirmOriginal() {
    if (!mv.preview) return;
    const dangers = mv.preview.dangers;
    if (dangers.length && (!(await confirmDialog(t("danger.original"), t("danger.confirm"), dangers)) || !mv.preview)) return;
    const btn = $("#original-confirm");
    btn.disabled = true;
    const out = $("#original-result");
    try {
      const { data } = await api("POST", "/original/import", { digest: mv.preview.digest }, { ifMatch: mv.preview.etag, track: true });
      const c = data.counts;
      btn.hidden = true;
      mv.preview = null;
      $("#original-status").replaceChildren();
      $("#original-preview").hidden = true;
      out.replaceChildren(msgBox("ok", t("original.done", { o: c.organizations, w: c.owners, r: c.robots, p: c.projects }),
        t("original.done.kept"),
        el("p", null, t("original.done.next") + " ", el("a", { href: "#webhook", id: "original-go-webhook", text: t("original.done.webhook") }))));
      out.focus();
      await refresh();
    } catch (err) {
      if (err.data && err.data.code === "original_changed") {
        await loadOriginal();
        out.replaceChildren(msgBox("warn", t("original.changed")));
      } else if (!(err.data && err.data.code === "stale")) {
        out.replaceChildren(msgBox("fail", errText(err)));
      }
    } finally {
      btn.disabled = false;
    }
  }

  // The webhook page: after moving in, Sentry needs the new URL.
  async function loadWebhookCard() {
    const card = $("#movein-webhook");
    const detected = await detect(false);
    const show = detected === true && state.data.projects.length > 0;
    card.hidden = !show;
    if (!show) return;
    const { data } = await api("GET", "/webhook");
    $("#movein-webhook-url").textContent = data.url ? t("movein.webhook.url", { url: data.url }) : t("movein.webhook.norelay");
  }

  // ---- projects from Sentry ----

  function sentryOrg() {
    return state.data.organizations.find((o) => o.id === mv.sentry.orgId);
  }

  // configuredSlugs are the slugs the organization's projects use: its own,
  // and those without an organization when it is the only one.
  function configuredSlugs(org) {
    const only = state.data.organizations.length === 1;
    const out = new Map();
    for (const p of state.data.projects) {
      if (p.organization_id === org.id || (!p.organization_id && only)) out.set(p.slug.toLowerCase(), p);
    }
    return out;
  }

  function fillSentryOrgs() {
    const sel = $("#sentryp-org");
    const orgs = state.data.organizations;
    if (!orgs.some((o) => o.id === mv.sentry.orgId)) {
      const first = orgs.find((o) => o.slug) || orgs[0];
      mv.sentry.orgId = first ? first.id : 0;
    }
    sel.replaceChildren(...orgs.map((o) => el("option", { value: o.id, text: o.slug ? `${o.name} (${o.slug})` : `${o.name} — ${t("sentryp.noslug.short")}` })));
    sel.value = String(mv.sentry.orgId);
    sel.disabled = orgs.length === 0;
    const org = sentryOrg();
    const hint = $("#sentryp-org-hint");
    if (!org) hint.textContent = t("sentryp.noorgs");
    else if (!org.slug) hint.textContent = t("sentryp.noslug");
    else hint.textContent = t("sentryp.orgurl", { url: org.sentry_url || "https://sentry.io" });
    const ready = !!(org && org.slug);
    $("#sentryp-token").disabled = !ready;
    $("#sentryp-token-save").disabled = !ready;
    $("#sentryp-list").disabled = !ready;
  }

  async function loadToken() {
    const org = sentryOrg();
    const status = $("#sentryp-token-status");
    $("#sentryp-token-error").textContent = "";
    $("#sentryp-token-remove").hidden = true;
    if (!org || !org.slug) {
      status.textContent = "";
      mv.sentry.token = null;
      return;
    }
    mv.sentry.tokenFor = org.id;
    const { data } = await api("GET", `/organizations/${org.id}/sentry-token`);
    if (mv.sentry.tokenFor !== org.id) return;
    mv.sentry.token = data;
    status.textContent = data.token_set ? t("sentryp.token.saved", { token: data.token }) : t("sentryp.token.none");
    $("#sentryp-token-remove").hidden = !data.token_set;
  }

  async function saveToken() {
    const org = sentryOrg();
    if (!org) return;
    const input = $("#sentryp-token");
    $("#sentryp-token-error").textContent = "";
    input.removeAttribute("aria-invalid");
    try {
      await api("PUT", `/organizations/${org.id}/sentry-token`, { token: input.value });
      input.value = "";
      toast(t("sentryp.token.stored"));
      await loadToken();
    } catch (err) {
      const f = (err.data.fields || [])[0];
      $("#sentryp-token-error").textContent = f ? fieldText(f) : errText(err);
      input.setAttribute("aria-invalid", "true");
      input.focus();
    }
  }

  async function removeToken() {
    const org = sentryOrg();
    if (!org) return;
    await api("DELETE", `/organizations/${org.id}/sentry-token`);
    toast(t("sentryp.token.removed"));
    await loadToken();
  }

  function sentryError(e) {
    const params = { host: e.host || "", org: e.org || "", status: e.status || "" };
    const msg = has("sentryp.err." + e.code) ? t("sentryp.err." + e.code, params) : e.message;
    const fix = has("sentryp.fix." + e.code) ? t("sentryp.fix." + e.code, params) : e.fix;
    return msgBox("fail", msg, e.detail ? t("sentryp.said", { detail: e.detail }) : "", t("alert.fix", { fix }));
  }

  async function listSentry() {
    const org = sentryOrg();
    if (!org) return;
    const box = $("#sentryp-result");
    const btn = $("#sentryp-list");
    btn.disabled = true;
    box.replaceChildren(msgBox("info", t("sentryp.listing", { url: org.sentry_url || "https://sentry.io" })));
    $("#sentryp-projects").hidden = true;
    try {
      const { data } = await api("GET", `/organizations/${org.id}/sentry-projects`);
      if (!data.ok) {
        box.replaceChildren(sentryError(data.error));
        mv.sentry.list = null;
        return;
      }
      mv.sentry.list = data.projects;
      mv.sentry.listFor = org.id;
      mv.sentry.selected = new Set();
      mv.sentry.names = new Map(data.projects.map((p) => [p.slug, p.name || p.slug]));
      mv.sentry.unknown = data.unknown || [];
      renderSentryList();
      box.focus();
    } catch (err) {
      box.replaceChildren(msgBox("fail", errText(err)));
    } finally {
      btn.disabled = false;
    }
  }

  function renderSentryList() {
    const org = sentryOrg();
    const list = mv.sentry.list;
    const wrap = $("#sentryp-projects");
    if (!org || !list || mv.sentry.listFor !== org.id) {
      wrap.hidden = true;
      return;
    }
    const have = configuredSlugs(org);
    const inSentry = new Set(list.map((p) => p.slug.toLowerCase()));
    const unknown = Array.from(have.values()).filter((p) => !inSentry.has(p.slug.toLowerCase()));
    const box = $("#sentryp-result");
    const out = [msgBox("ok", t("sentryp.count", { n: list.length, c: list.filter((p) => have.has(p.slug.toLowerCase())).length }))];
    if (unknown.length) {
      out.push(el("div", { class: "msg warn", id: "sentryp-unknown" },
        el("p", { text: t("sentryp.unknown", { n: unknown.length }) }),
        el("ul", null, unknown.map((p) => el("li", null, el("strong", { text: p.name }), " ", el("code", { text: p.slug }))))));
    }
    box.replaceChildren(...out);
    const rows = list.map((p, i) => {
      const done = have.get(p.slug.toLowerCase());
      const id = "sentryp-pick-" + i;
      const name = mv.sentry.names.get(p.slug) || p.slug;
      return el("tr", { id: "sentryp-row-" + p.slug, class: done ? "configured" : "" },
        el("td", null, el("input", { type: "checkbox", id, value: p.slug, disabled: !!done, checked: !done && mv.sentry.selected.has(p.slug),
          "aria-label": t("sentryp.pick", { slug: p.slug }),
          onchange: (ev) => {
            if (ev.target.checked) mv.sentry.selected.add(p.slug);
            else mv.sentry.selected.delete(p.slug);
            updateAdd();
          } })),
        el("td", null, done ? el("strong", { text: done.name })
          : el("input", { type: "text", id: "sentryp-name-" + i, value: name, maxlength: 100, "aria-label": t("sentryp.name", { slug: p.slug }),
            oninput: (ev) => mv.sentry.names.set(p.slug, ev.target.value) })),
        el("td", null, el("code", { text: p.slug })),
        el("td", { class: "secondary", text: p.platform || "—" }),
        el("td", null, done ? el("span", { class: "tag result-delivered", text: t("sentryp.configured") })
          : el("span", { class: "tag", text: p.status && p.status !== "active" ? p.status : t("sentryp.new") })));
    });
    $("#sentryp-rows").replaceChildren(...rows);
    const keepOwners = checkedIds($("#sentryp-owners"));
    const keepRobots = checkedIds($("#sentryp-robots"));
    fillChecks($("#sentryp-owners"), "sentryp-owner-", state.data.owners, keepOwners, (o) => o.mobile || ownerIdKinds().map((k) => o[k.owner_id.key]).find(Boolean) || "", "project.owners.empty");
    fillChecks($("#sentryp-robots"), "sentryp-robot-", state.data.robots, keepRobots.length ? keepRobots : state.data.robots.length === 1 ? [state.data.robots[0].id] : [], (r) => kindLabel(r.kind), "project.robots.empty");
    wrap.hidden = false;
    updateAdd();
  }

  function selectable() {
    const org = sentryOrg();
    if (!org || !mv.sentry.list) return [];
    const have = configuredSlugs(org);
    return mv.sentry.list.filter((p) => !have.has(p.slug.toLowerCase()));
  }

  function updateAdd() {
    const n = selectable().filter((p) => mv.sentry.selected.has(p.slug)).length;
    const btn = $("#sentryp-add");
    btn.textContent = n ? t("sentryp.add", { n }) : t("sentryp.add.none");
    btn.disabled = n === 0;
    const all = $("#sentryp-all");
    const total = selectable().length;
    all.checked = total > 0 && n === total;
    all.indeterminate = n > 0 && n < total;
    all.disabled = total === 0;
  }

  function toggleAll(ev) {
    mv.sentry.selected = new Set(ev.target.checked ? selectable().map((p) => p.slug) : []);
    renderSentryList();
  }

  async function addSentry() {
    const org = sentryOrg();
    if (!org) return;
    const chosen = selectable().filter((p) => mv.sentry.selected.has(p.slug));
    if (!chosen.length) return;
    const btn = $("#sentryp-add");
    btn.disabled = true;
    $("#sentryp-form-error").textContent = "";
    for (const id of ["sentryp-owner_ids-error", "sentryp-robot_ids-error"]) $("#" + id).textContent = "";
    const body = {
      projects: chosen.map((p) => ({ slug: p.slug, name: (mv.sentry.names.get(p.slug) || "").trim() || p.slug })),
      owner_ids: checkedIds($("#sentryp-owners")),
      robot_ids: checkedIds($("#sentryp-robots")),
    };
    try {
      const { data } = await api("POST", `/organizations/${org.id}/sentry-projects`, body, { track: true });
      mv.sentry.selected = new Set();
      await refresh(); // draws the list again with the new projects configured
      const names = data.created.map((p) => p.name).join(listSep());
      $("#sentryp-result").prepend(msgBox("ok", t("sentryp.added", { n: data.created.length, list: names }),
        data.skipped && data.skipped.length ? t("sentryp.skipped", { list: data.skipped.map((s) => s.slug).join(listSep()) }) : "",
        body.robot_ids.length ? "" : t("sentryp.norobot")));
      toast(t("common.saved"));
    } catch (err) {
      const fields = (err.data && err.data.fields) || [];
      const loose = [];
      for (const f of fields) {
        const box = document.getElementById("sentryp-" + f.field + "-error");
        if (box) box.textContent = fieldText(f);
        else loose.push(f.field + ": " + fieldText(f));
      }
      if (!fields.length) loose.push(errText(err));
      $("#sentryp-form-error").textContent = loose.join("；");
    } finally {
      updateAdd();
    }
  }

  // A button on each organization's row opens its Sentry projects.
  function rowButtons() {
    for (const o of state.data.organizations) {
      const row = document.getElementById("organization-row-" + o.id);
      const cell = row && row.querySelector("td.actions");
      if (!cell || document.getElementById("organization-sentry-" + o.id)) continue;
      cell.prepend(el("button", { type: "button", class: "btn btn-small", id: "organization-sentry-" + o.id, "aria-label": t("sentryp.row.label", { name: o.name }),
        onclick: safe(async () => {
          mv.sentry.orgId = o.id;
          fillSentryOrgs();
          renderSentryList();
          $("#sentryp-card").scrollIntoView({ block: "start" });
          await loadToken();
          (o.slug ? $("#sentryp-list") : $("#sentryp-org")).focus();
        }) }, t("sentryp.row")));
    }
  }

  function renderSentry() {
    const before = mv.sentry.orgId;
    fillSentryOrgs();
    rowButtons();
    renderSentryList();
    const org = sentryOrg();
    if (org && (mv.sentry.tokenFor !== org.id || before !== mv.sentry.orgId || mv.sentry.token === null)) safe(loadToken)();
  }

  // ---- wiring ----

  function onPage(page) {
    if (page === "import") safe(loadOriginal)();
    if (page === "webhook") safe(loadWebhookCard)();
    if (page === "organizations") renderSentry();
  }

  document.addEventListener("sw:render", () => {
    renderSentry();
    renderNotice();
    if (state.store && mv.detectedFor !== state.store) safe(async () => {
      await detect(false);
      renderNotice();
    })();
    if (state.page === "webhook") safe(loadWebhookCard)();
  });
  document.addEventListener("sw:page", (ev) => onPage(ev.detail));

  $("#original-check").addEventListener("click", safe(loadOriginal));
  $("#original-confirm").addEventListener("click", safe(confirmOriginal));
  $("#movein-notice-go").addEventListener("click", () => {
    $("#movein-notice").hidden = true;
  });
  $("#sentryp-org").addEventListener("change", safe(async (ev) => {
    mv.sentry.orgId = Number(ev.target.value);
    fillSentryOrgs();
    renderSentryList();
    $("#sentryp-result").replaceChildren();
    await loadToken();
  }));
  $("#sentryp-token-save").addEventListener("click", safe(saveToken));
  $("#sentryp-token").addEventListener("keydown", (ev) => {
    if (ev.key === "Enter") {
      ev.preventDefault();
      safe(saveToken)();
    }
  });
  $("#sentryp-token-remove").addEventListener("click", safe(removeToken));
  $("#sentryp-list").addEventListener("click", safe(listSentry));
  $("#sentryp-all").addEventListener("change", toggleAll);
  $("#sentryp-add").addEventListener("click", safe(addSentry));

  SW.ready.then(() => {
    renderSentry();
    onPage(state.page);
  });
})();
