// The action links of a preview's message (解决 / 忽略 1 小时 / 我来处理):
// each robot's links, or, when the message carries none, why (the
// preview's action_links.off_code, worded here).

import { el, httpLink } from "./dom.js";
import { words } from "./api.js";
import { has, t } from "./i18n.js";

// linksOff says why the preview's messages carry no action links; null
// when they carry them.
export function linksOff(info) {
  if (!info || info.on) return null;
  return el("p", { class: "hint", id: "preview-links-off" }, el("strong", { text: t("links.title") }), " · ", words("links.off.", info.off_code, null, info.off));
}

// robotLinks lists the action links of robot r's message (id: its index
// in the preview).
export function robotLinks(info, r, i) {
  if (!info || !info.on || !r.actions || !r.actions.length) return null;
  return el("div", { class: "preview-links", id: "preview-links-" + i },
    el("p", { class: "hint" }, el("strong", { text: t("links.title") }), " · ", t(info.sample_issue ? "links.on" : "links.on.event")),
    el("ul", null, r.actions.map((a) => el("li", null, httpLink(a.url, has("action.kind." + a.action) ? t("action.kind." + a.action) : a.label) || a.label))));
}
