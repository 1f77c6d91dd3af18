// Draws the charts of a department page and filters the index. Loaded after the Vega
// bundle (assets/vega.js), which defines window.vegaEmbed; wrapped in a function so that
// nothing here clashes with the bundle's top-level names.
(function () {
  "use strict";

  // vega-embed's menu offers the image downloads only: its other entries link to a
  // web editor outside the machine.
  var EMBED_OPTIONS = {
    renderer: "svg",
    actions: { export: true, source: false, compiled: false, editor: false },
    i18n: {
      SVG_ACTION: "Enregistrer en SVG",
      PNG_ACTION: "Enregistrer en PNG",
      CLICK_TO_VIEW_ACTIONS: "Cliquer pour les actions",
    },
  };

  function drawCharts() {
    document.querySelectorAll("div.vega[data-spec]").forEach(function (container) {
      var spec = JSON.parse(document.getElementById(container.dataset.spec).textContent);
      window.vegaEmbed(container, spec, EMBED_OPTIONS).catch(function (error) {
        container.textContent = "Graphique indisponible : " + error;
        console.error(error);
      });
    });
  }

  function fold(text) {
    return text.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  function setupFilter(input) {
    var none = document.getElementById("aucun");
    input.addEventListener("input", function () {
      var words = fold(input.value).split(/\s+/).filter(Boolean);
      var shown = 0;
      document.querySelectorAll("section.region").forEach(function (region) {
        var inRegion = 0;
        region.querySelectorAll("li[data-filtre]").forEach(function (item) {
          var match = words.every(function (word) {
            return item.dataset.filtre.indexOf(word) !== -1;
          });
          item.hidden = !match;
          inRegion += match ? 1 : 0;
        });
        region.hidden = inRegion === 0;
        shown += inRegion;
      });
      none.hidden = shown !== 0;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (window.vegaEmbed) {
      drawCharts();
    }
    var input = document.getElementById("filtre");
    if (input) {
      setupFilter(input);
    }
  });
})();
