// Lead pages: no inline scripts (CSP). Small behaviours only; every rule is enforced on the server.
(function () {
  "use strict";

  // A second click while the first submit is on its way would only meet a version conflict.
  document.addEventListener("submit", function (event) {
    var button = event.target.querySelector("[data-submit-once]");
    if (button) {
      window.setTimeout(function () { button.disabled = true; }, 0);
    }
  });

  // Triage: "select all" for the tips on this page.
  document.addEventListener("change", function (event) {
    var all = event.target.closest("[data-check-all]");
    if (!all) return;
    var name = all.getAttribute("data-check-all");
    document.querySelectorAll('input[type=checkbox][name="' + name + '"]').forEach(function (box) {
      box.checked = all.checked;
    });
  });

  // Triage bulk bar: show the lead number only for "merge".
  function syncBulk() {
    var select = document.getElementById("id_bulk_action");
    if (!select) return;
    document.querySelectorAll("[data-bulk-show]").forEach(function (el) {
      el.hidden = el.getAttribute("data-bulk-show") !== select.value;
    });
  }
  document.addEventListener("change", function (event) {
    if (event.target.id === "id_bulk_action") syncBulk();
  });

  // Lead page: a link to #act-<action> (from the review queue) opens that action's form.
  function openFromHash() {
    if (!window.location.hash || window.location.hash.indexOf("#act-") !== 0) return;
    var name = window.location.hash.slice(5);
    var panel = document.getElementById("form-" + name);
    if (panel && window.bootstrap) {
      window.bootstrap.Collapse.getOrCreateInstance(panel).show();
      panel.scrollIntoView({ block: "center" });
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    syncBulk();
    openFromHash();
  });
})();

// Practice pages (issue 11): sort select on the task lists, and the print button of the lead sheet.
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var select = event.target.closest("[data-sort-select]");
    if (!select) return;
    var url = new URL(window.location.href);
    url.searchParams.set("sort", select.value);
    url.searchParams.delete("page");
    window.location.assign(url.toString());
  });
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) window.print();
  });
})();
