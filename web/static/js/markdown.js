// The markdown the chat tools take (headings, quotes, lists, bold, links,
// @-mentions), shown safely: DOM nodes only, never HTML from the message.

import { el, msgBox, rawAnswer, safeURL } from "./dom.js";
import { listSep, t } from "./i18n.js";
import { kindColour, kindTag } from "./kinds.js";

function decodeEntities(s) {
  return s.replace(/&(amp|lt|gt|quot|#39|#x27|nbsp);/g, (m, e) => ({ amp: "&", lt: "<", gt: ">", quot: "\"", "#39": "'", "#x27": "'", nbsp: " " }[e]));
}

// inline renders bold, italic, code, links, coloured text and @-mentions
// of one line into nodes.
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

// markdown renders src as nodes.
export function markdown(src) {
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

// messageBubble shows a rendered message from its parts, for a kind whose
// request carries no markdown text (a card).
export function messageBubble(m, title) {
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

// chatPreview shows one robot's message of a preview (POST
// /projects/{id}/preview's robots[i], GET /robots/{id}/summary's preview)
// as the group sees it, in a chat bubble of the robot's kind, with the
// exact request one click away; its elements are named <prefix>-robot-i,
// <prefix>-chat-i, <prefix>-bubble-i, <prefix>-json-i.
export function chatPreview(r, prefix, i, extra) {
  const box = el("div", { class: "preview-robot", id: `${prefix}-robot-${i}` },
    el("h3", null, r.robot, " ", kindTag(r.kind)),
    el("p", { class: "hint" }, t("preview.keyword", { kw: r.keyword }), " · ",
      r.mentions && r.mentions.length ? t("preview.mentions", { list: r.mentions.join(listSep()) }) : t("preview.nomention")));
  if (r.error) box.append(msgBox("fail", t("preview.error"), rawAnswer(r.error)));
  box.append(el("p", { class: "preview-as", text: t("preview.as") }),
    el("div", { class: "chat " + kindColour(r.kind), id: `${prefix}-chat-${i}` },
      el("div", { class: "chat-avatar", "aria-hidden": "true", text: (r.robot || "?").slice(0, 1) }),
      el("div", { class: "chat-body" },
        el("div", { class: "chat-name", text: r.robot }),
        el("div", { class: "chat-bubble", id: `${prefix}-bubble-${i}` }, r.text ? markdown(r.text) : messageBubble(r.message, r.title)))));
  if (extra) box.append(extra);
  const json = r.bodies ? (r.bodies.length === 1 ? r.bodies[0] : r.bodies) : r.message;
  box.append(el("details", { class: "preview-raw" }, el("summary", { text: t("preview.raw") }), el("pre", { class: "preview-json", id: `${prefix}-json-${i}`, text: JSON.stringify(json, null, 2) })));
  return box;
}
