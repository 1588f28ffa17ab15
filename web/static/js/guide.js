// The getting-started guide (开始使用): owner → robot → project → test
// alert → webhook URL, one working button per step, on every page until
// every step is done (a test alert delivered and the URL copied are
// remembered in the browser, per store).

import { $, el } from "./dom.js";
import { safe, session } from "./api.js";
import { t } from "./i18n.js";
import { progress, state } from "./data.js";
import { openForm } from "./form.js";
import { current, go } from "./nav.js";
import { testProject } from "../pages/projects.js";

export function renderGuide() {
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
  // A step is done when what it asks is there and every step before it is
  // done: a robot's test alert before any project does not tick step 4.
  steps.forEach((s, i) => {
    s.done = s.done && (i === 0 || steps[i - 1].done);
  });
  const items = steps.map((s, i) => el("li", { class: s.done ? "done" : "", id: "guide-step-" + s.id },
    el("span", null, el("span", { class: "step-num", text: s.done ? "✓ " : i + 1 + ". " }), s.text),
    s.done ? el("span", { class: "secondary", text: t("guide.done") })
      : el("button", { type: "button", class: "btn btn-small", id: "guide-go-" + s.id, disabled: !s.go, onclick: s.go ? safe(s.go) : null }, s.label || t("guide.go"))));
  $("#guide-steps").replaceChildren(...items);
  // The guide is on every list page until every step is done.
  const all = steps.every((s) => s.done);
  const guide = $("#guide");
  guide.hidden = all || !session.token;
  const page = $("#page-" + current());
  const slot = page && page.querySelector(".guide-slot");
  if (slot && guide.parentNode !== slot) slot.append(guide);
}
