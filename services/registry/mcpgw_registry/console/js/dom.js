// A few DOM helpers: elements from data (never from HTML strings, so text from the API is always
// text), announcements for screen readers, and the API's errors shown where their field is.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "value") el.value = value;
    else if (key === "checked") el.checked = Boolean(value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  append(el, children);
  return el;
}

export function mount(...children) {
  const main = document.getElementById("main");
  main.replaceChildren(...children.flat().filter(Boolean));
  return main;
}

let announced = null;

export function announce(text, kind = "info") {
  const status = document.getElementById("status");
  status.className = `status ${kind}`;
  status.textContent = text;
  // Said once, then cleared: a message must not linger into pages it is not about.
  clearTimeout(announced);
  announced = setTimeout(() => { status.textContent = ""; }, 8000);
}

// A labelled form field; `field` is the API's name for it, so an error naming it lands here.
export function field(label, input, { help, field: name } = {}) {
  const id = input.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  input.id = id;
  if (name) input.dataset.field = name;
  const helpEl = help ? h("p", { class: "help", id: `${id}-help` }, help) : null;
  if (helpEl) input.setAttribute("aria-describedby", helpEl.id);
  return h("div", { class: "field" }, h("label", { for: id }, label), input, helpEl,
    h("p", { class: "field-error", id: `${id}-error`, role: "alert", hidden: true }));
}

// Shows an API error: beside the input whose data-field the message names, and in the form's box.
export function showError(form, error) {
  for (const old of form.querySelectorAll(".field-error")) { old.hidden = true; old.textContent = ""; }
  for (const old of form.querySelectorAll("[aria-invalid]")) old.removeAttribute("aria-invalid");
  const box = form.querySelector(".form-error");
  const message = error && error.message ? error.message : String(error);
  const name = error && error.field;
  let placed = false;
  if (name) {
    const candidates = [...form.querySelectorAll("[data-field]")];
    const input = candidates.find((el) => el.dataset.field === name)
      || candidates.find((el) => name.startsWith(el.dataset.field + ".") || name.startsWith(el.dataset.field + "["));
    if (input) {
      const slot = document.getElementById(`${input.id}-error`);
      if (slot) { slot.textContent = message; slot.hidden = false; }
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-errormessage", `${input.id}-error`);
      input.focus();
      placed = true;
    }
  }
  if (box) { box.textContent = message; box.hidden = false; if (!placed) box.focus(); }
}

export function clearError(form) {
  const box = form.querySelector(".form-error");
  if (box) { box.hidden = true; box.textContent = ""; }
  for (const old of form.querySelectorAll(".field-error")) { old.hidden = true; old.textContent = ""; }
}

export function errorBox() {
  return h("div", { class: "form-error", role: "alert", tabindex: "-1", hidden: true });
}

export function copyButton(getText, label = "Copy") {
  const button = h("button", { type: "button", class: "small" }, label);
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(getText());
      announce("Copied to the clipboard.");
    } catch {
      announce("The browser refused the clipboard; select the text and copy it.", "error");
    }
  });
  return button;
}

export function table(headers, rows, { caption } = {}) {
  return h("table", {},
    caption ? h("caption", {}, caption) : null,
    h("thead", {}, h("tr", {}, headers.map((x) => h("th", { scope: "col" }, x)))),
    h("tbody", {}, rows));
}

export function formatTime(ms) {
  if (!ms) return "";
  return new Date(ms).toLocaleString();
}
