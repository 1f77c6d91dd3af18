// The index's map and ranking (render/finder.py): the radio buttons choose the indicator
// the map is coloured by (the map and its legend follow `data-indicateur`), a click on a
// column header of the ranking sorts it. Without this script the map shows exports and
// the table stays ranked by exports.
(function () {
  "use strict";

  function setupMap(form) {
    var body = document.querySelector(".carte-corps");
    form.hidden = false;
    form.addEventListener("change", function (event) {
      var key = event.target.value;
      body.dataset.indicateur = key;
      document.querySelectorAll(".carte-legende").forEach(function (legend) {
        legend.hidden = legend.dataset.legende !== key;
      });
    });
  }

  function setupSort(table) {
    var headers = table.querySelectorAll("thead th[data-tri]");
    var body = table.tBodies[0];
    headers.forEach(function (header, column) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "tri";
      while (header.firstChild) {
        button.appendChild(header.firstChild);
      }
      header.appendChild(button);
      button.addEventListener("click", function () {
        var numeric = header.dataset.tri === "nombre";
        // Numbers largest first, names from A; a second click reverses.
        var current = header.getAttribute("aria-sort");
        var descending = current ? current === "ascending" : numeric;
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = a.cells[column].dataset.valeur, y = b.cells[column].dataset.valeur;
          var order = numeric ? Number(x) - Number(y) : x.localeCompare(y, "fr");
          return descending ? -order : order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
        headers.forEach(function (other) { other.removeAttribute("aria-sort"); });
        header.setAttribute("aria-sort", descending ? "descending" : "ascending");
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form.carte-indicateur");
    if (form) {
      setupMap(form);
    }
    var table = document.querySelector("table.tableau-classement");
    if (table) {
      setupSort(table);
    }
  });
})();
