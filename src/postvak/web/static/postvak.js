// Small enhancements; every page works without them (and without any inline script: the CSP forbids it).
(function () {
  "use strict";

  // "Select all" for the letter list: shown only when this script runs.
  document.querySelectorAll("[data-select-all]").forEach(function (all) {
    var form = all.form;
    var boxes = form ? form.querySelectorAll('input[type="checkbox"][name="ids"]') : [];
    var label = all.closest("[data-select-all-label]");
    if (!boxes.length || !label) return;
    label.hidden = false;
    all.addEventListener("change", function () {
      boxes.forEach(function (box) { box.checked = all.checked; });
    });
    boxes.forEach(function (box) {
      box.addEventListener("change", function () {
        var checked = Array.prototype.filter.call(boxes, function (b) { return b.checked; }).length;
        all.checked = checked === boxes.length;
        all.indeterminate = checked > 0 && checked < boxes.length;
      });
    });
  });

  // The print page's button; without this script the page explains the browser's print command.
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    document.querySelectorAll("[data-print-hint]").forEach(function (hint) { hint.hidden = true; });
    button.addEventListener("click", function () { window.print(); });
  });
})();
