// Accountability pages: add rectification items to a draft, and show the fields that fit the kind.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-add-item]");
    if (!button) return;
    event.preventDefault();
    var prefix = button.dataset.addItem;
    var total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
    var template = document.getElementById("item-template");
    var rows = document.getElementById("item-rows");
    if (!total || !template || !rows) return;
    var index = parseInt(total.value, 10) || 0;
    var html = template.innerHTML.replace(/__prefix__/g, String(index));
    rows.insertAdjacentHTML("beforeend", html);
    total.value = String(index + 1);
    var added = rows.lastElementChild && rows.lastElementChild.querySelector("textarea, input");
    if (added) added.focus();
  });

  function syncKind(form) {
    var kind = form.querySelector("select[name=kind]");
    if (!kind) return;
    form.querySelectorAll("[data-kinds]").forEach(function (el) {
      var kinds = el.dataset.kinds.split(/\s+/);
      el.hidden = kinds.indexOf(kind.value) === -1;
    });
  }
  document.querySelectorAll("form#action-edit").forEach(function (form) {
    syncKind(form);
    form.addEventListener("change", function (event) {
      if (event.target.name === "kind") syncKind(form);
    });
  });
})();
