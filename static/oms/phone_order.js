// Product search for the phone order lines: fills the shared <datalist> with "SKU · name" matches.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("phone-order");
  const list = document.getElementById("oms-products");
  if (!form || !list) return;
  let timer = null;
  form.addEventListener("input", (event) => {
    if (event.target.getAttribute("list") !== "oms-products") return;
    const q = event.target.value.trim();
    clearTimeout(timer);
    if (q.length < 2 || q.includes(" · ")) return;
    timer = setTimeout(async () => {
      const response = await fetch(`${form.dataset.searchUrl}?q=${encodeURIComponent(q)}`);
      if (!response.ok) return;
      const { results } = await response.json();
      list.replaceChildren(...results.map((p) => {
        const option = document.createElement("option");
        option.value = `${p.sku} · ${p.name}`;
        option.label = `${p.price}`;
        return option;
      }));
    }, 150);
  });
});
