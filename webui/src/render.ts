// Assistant markdown: marked → DOMPurify → highlight.js, with a Copy button on code blocks.

import DOMPurify from "dompurify";
import { Marked } from "marked";
import hljs from "highlight.js/lib/core";
import bash from "highlight.js/lib/languages/bash";
import css from "highlight.js/lib/languages/css";
import javascript from "highlight.js/lib/languages/javascript";
import json from "highlight.js/lib/languages/json";
import python from "highlight.js/lib/languages/python";
import sql from "highlight.js/lib/languages/sql";
import typescript from "highlight.js/lib/languages/typescript";
import xml from "highlight.js/lib/languages/xml";
import { copyButton, h } from "./dom";

hljs.registerLanguage("python", python);
hljs.registerLanguage("javascript", javascript);
hljs.registerLanguage("typescript", typescript);
hljs.registerLanguage("bash", bash);
hljs.registerLanguage("json", json);
hljs.registerLanguage("sql", sql);
hljs.registerLanguage("xml", xml);
hljs.registerLanguage("css", css);
hljs.registerAliases(["shell", "console", "sh"], { languageName: "bash" });
hljs.registerAliases(["py"], { languageName: "python" });

const marked = new Marked({ gfm: true, breaks: true });

DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  if (node instanceof HTMLAnchorElement && node.getAttribute("href")) {
    const href = node.getAttribute("href") ?? "";
    if (!href.startsWith("#")) {
      node.setAttribute("target", "_blank");
      node.setAttribute("rel", "noopener noreferrer nofollow");
    }
  }
});

const PURIFY = {
  FORBID_TAGS: ["style", "form", "input", "button", "textarea", "select", "iframe", "object", "embed"],
  FORBID_ATTR: ["style"],
};

/** Safe HTML for a markdown string (an unfinished code fence is closed for display). */
export function markdownToHtml(text: string, streaming = false): string {
  let src = text;
  if (streaming && (src.match(/^\s*(```|~~~)/gm)?.length ?? 0) % 2 === 1) src += "\n```";
  const html = marked.parse(src, { async: false }) as string;
  return DOMPurify.sanitize(html, PURIFY) as string;
}

/** Fill `el` with rendered markdown; code blocks get highlighting and a Copy button. */
export function renderMarkdown(el: HTMLElement, text: string, streaming = false): void {
  el.innerHTML = markdownToHtml(text, streaming);
  for (const code of Array.from(el.querySelectorAll<HTMLElement>("pre > code"))) {
    const pre = code.parentElement as HTMLElement;
    const lang = /language-([\w+-]+)/.exec(code.className)?.[1]?.toLowerCase() ?? "";
    const raw = code.textContent ?? "";
    try {
      if (lang && hljs.getLanguage(lang)) {
        code.innerHTML = hljs.highlight(raw, { language: lang, ignoreIllegals: true }).value;
      } else if (!streaming && raw.length < 20000) {
        const auto = hljs.highlightAuto(raw);
        if (auto.relevance >= 5) code.innerHTML = auto.value;
      }
      code.classList.add("hljs");
    } catch {
      code.textContent = raw;
    }
    const label = lang || "code";
    const head = h("div", { class: "code-head" }, h("span", { class: "code-lang" }, label), copyButton(() => raw));
    const wrap = h("div", { class: "code-block" });
    pre.replaceWith(wrap);
    wrap.append(head, pre);
  }
}
