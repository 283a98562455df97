// Tip forms: hide the identity fields for anonymous tips, count characters, check files before upload.
// Everything here is an enhancement: the forms work, and the server checks everything, without it.
(function () {
  "use strict";

  function formatSize(bytes) {
    if (bytes >= 1048576) return (bytes / 1048576).toFixed(1) + " MB";
    return Math.max(1, Math.round(bytes / 1024)) + " KB";
  }

  // Anonymous or named: the named fields are hidden and disabled (so not sent) for anonymous tips.
  function syncNamed(form) {
    const box = form.querySelector("[data-named-fields]");
    const checked = form.querySelector("input[name=anonymous]:checked");
    if (!box || !checked) return;
    const anonymous = checked.value === "1";
    const hasErrors = box.querySelector(".is-invalid") !== null;
    const hide = anonymous && !hasErrors;
    box.hidden = hide;
    box.querySelectorAll("input, textarea, select").forEach((el) => { el.disabled = hide; });
  }

  function counter(textarea) {
    const out = document.querySelector('[data-counter-for="' + textarea.id + '"]');
    if (!out) return;
    const limit = parseInt(textarea.dataset.counter, 10);
    const update = () => {
      const n = textarea.value.length;
      out.textContent = n + " / " + limit;
      out.classList.toggle("text-danger", n > limit);
    };
    textarea.addEventListener("input", update);
    update();
  }

  function fileState(input) {
    const files = Array.from(input.files || []);
    const box = input.closest("[data-attachments]");
    const kept = box ? Array.from(box.querySelectorAll("input[name=keep_files]:checked")) : [];
    const maxFiles = parseInt(input.dataset.maxFiles, 10);
    const maxBytes = parseInt(input.dataset.maxBytes, 10);
    const maxTotal = parseInt(input.dataset.maxTotal, 10);
    const problems = [];
    let total = 0;
    files.forEach((f) => {
      total += f.size;
      if (f.size > maxBytes) problems.push("“" + f.name + "”超过单个文件上限 " + formatSize(maxBytes));
    });
    if (files.length + kept.length > maxFiles) problems.push("附件最多 " + maxFiles + " 个");
    if (total > maxTotal) problems.push("附件合计超过 " + formatSize(maxTotal));
    return { files, problems };
  }

  function showFiles(input) {
    const box = input.closest("[data-attachments]");
    const list = box && box.querySelector(".file-preview");
    if (!list) return;
    const state = fileState(input);
    list.replaceChildren();
    state.files.forEach((f) => {
      const li = document.createElement("li");
      const icon = document.createElement("i");
      icon.className = "bi bi-paperclip";
      icon.setAttribute("aria-hidden", "true");
      li.append(icon, " " + f.name + "（" + formatSize(f.size) + "）");
      list.appendChild(li);
    });
    state.problems.forEach((p) => {
      const li = document.createElement("li");
      li.className = "text-danger";
      li.textContent = p + "，请重新选择。";
      list.appendChild(li);
    });
  }

  document.querySelectorAll("form").forEach((form) => {
    if (form.querySelector("[data-named-fields]")) {
      syncNamed(form);
      form.addEventListener("change", (e) => { if (e.target.name === "anonymous") syncNamed(form); });
    }
    form.querySelectorAll("textarea[data-counter]").forEach(counter);
    form.querySelectorAll("input[type=file][data-max-files]").forEach((input) => {
      input.addEventListener("change", () => showFiles(input));
    });
    form.addEventListener("submit", (e) => {
      // Too much to upload would be refused anyway; stop here so nothing typed is lost.
      const bad = Array.from(form.querySelectorAll("input[type=file][data-max-files]")).some((i) => fileState(i).problems.length);
      if (bad) {
        e.preventDefault();
        form.querySelectorAll("input[type=file][data-max-files]").forEach(showFiles);
        return;
      }
      const button = form.querySelector("button[type=submit]");
      if (button) {
        // Keep the button's name/value semantics but avoid a double submission of the same tip.
        setTimeout(() => { button.disabled = true; }, 0);
      }
    });
  });

  const errors = document.getElementById("form-errors");
  if (errors) errors.focus();
})();
