// cohort console: small enhancements of our own; every page works without them.
"use strict";

/** Fetches a fragment of one of our pages and parses it. */
async function fragment(url) {
  const r = await fetch(url, { credentials: "same-origin", headers: { accept: "text/html" } });
  if (!r.ok) throw new Error(`${r.status}`);
  const t = document.createElement("template");
  t.innerHTML = await r.text();
  return t.content;
}

/** Offers suggestions under an input marked data-picker, as the person types. */
function picker(input) {
  let list = input.list;
  if (!list) {
    list = document.createElement("datalist");
    list.id = `${input.id || input.name}-options`;
    input.after(list);
    input.setAttribute("list", list.id);
  }
  const tenant = location.pathname.split("/")[2];
  const kind = input.getAttribute("data-picker");
  let timer = 0;
  let asked = "";
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      // In a list separated by commas, the last item is the one being typed.
      const at = input.value.lastIndexOf(",") + 1;
      const head = input.value.slice(0, at);
      const term = input.value.slice(at).trim();
      if (!term || term === asked) return;
      asked = term;
      const r = await fetch(`/t/${tenant}/portal/pick/${kind}?q=${encodeURIComponent(term)}`, { credentials: "same-origin" });
      if (!r.ok) return;
      list.replaceChildren(...(await r.json()).map((s) => {
        const o = document.createElement("option");
        o.value = head ? `${head} ${s.value}` : s.value;
        o.label = s.label;
        return o;
      }));
    }, 150);
  });
}

document.addEventListener("DOMContentLoaded", () => {
  // A button marked data-confirm asks before its form is sent.
  for (const b of document.querySelectorAll("[data-confirm]")) {
    b.addEventListener("click", (e) => {
      if (!window.confirm(b.getAttribute("data-confirm"))) e.preventDefault();
    });
  }
  // A checkbox marked data-select-all ticks every box of its table.
  for (const all of document.querySelectorAll("[data-select-all]")) {
    all.addEventListener("change", () => {
      const table = all.closest("table");
      if (!table) return;
      for (const c of table.querySelectorAll("tbody input[type=checkbox]")) c.checked = all.checked;
    });
  }
  for (const input of document.querySelectorAll("input[data-picker]")) picker(input);
  // A level list marked data-levels-of offers only the levels of the chosen resource's type.
  for (const levels of document.querySelectorAll("select[data-levels-of]")) {
    const resource = document.getElementById(levels.getAttribute("data-levels-of"));
    if (!resource) continue;
    const follow = () => {
      const type = resource.selectedOptions[0]?.getAttribute("data-type");
      for (const o of levels.querySelectorAll("option[data-type]")) {
        o.hidden = o.disabled = type != null && o.getAttribute("data-type") !== type;
      }
      if (levels.selectedOptions[0]?.disabled) levels.value = "";
    };
    resource.addEventListener("change", follow);
    follow();
  }
});

// The tree opens a group's children in place, and loads a level's next page in place.
document.addEventListener("click", async (e) => {
  const open = e.target.closest("a[data-children]");
  const more = e.target.closest("a[data-more]");
  if (open) {
    e.preventDefault();
    const li = open.closest("li");
    const shown = li.querySelector(":scope > ul.tree");
    if (shown) {
      shown.hidden = !shown.hidden;
    } else {
      li.append(await fragment(open.getAttribute("data-children")));
    }
    open.setAttribute("aria-expanded", String(!li.querySelector(":scope > ul.tree").hidden));
  } else if (more) {
    e.preventDefault();
    const li = more.closest("li");
    const next = await fragment(more.getAttribute("data-more"));
    li.replaceWith(...next.firstElementChild.children);
  }
});
