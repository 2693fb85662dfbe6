// cohort console: small enhancements of our own; every page works without them.
"use strict";
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
});
