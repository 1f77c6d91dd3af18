// The pages work without this script: every chart is drawn (a static SVG) with its
// summary, table and data. When it runs it
// - makes each chart interactive (tooltips, an image menu) once it comes near the screen:
//   the Vega bundle (assets/vega.js, ~1 MB) and the chart's spec (charts/<hash>.js) are
//   loaded then, not before, so the page shows at once on a phone;
// - filters the index, the number of departments shown announced to screen readers.
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
      CLICK_TO_VIEW_ACTIONS: "Menu du graphique",
    },
  };
  var MENU_LABEL = "Menu du graphique : l'enregistrer en image";

  var vegaLoading = null;

  function loadScript(src, onload) {
    var script = document.createElement("script");
    script.src = src;
    script.onload = onload || null;
    script.onerror = function () {
      console.warn("Graphique interactif indisponible : " + src);
    };
    document.head.appendChild(script);
    return script;
  }

  // A spec script calls this with itself and its spec (two charts may share a spec: each
  // loads its own script element).
  window.ticomexSpec = function (script, spec) {
    if (script && script.ticomexDone) {
      script.ticomexDone(spec);
    }
  };

  function withVega(then) {
    if (window.vegaEmbed) {
      then();
      return;
    }
    if (!vegaLoading) {
      vegaLoading = [];
      var article = document.querySelector("[data-vega]");
      loadScript(article.dataset.vega, function () {
        vegaLoading.forEach(function (callback) { callback(); });
      });
    }
    vegaLoading.push(then);
  }

  // The interactive chart replaces the static drawing; it keeps the drawing's name and
  // description, and its inner marks are not read one by one.
  function enhance(figure) {
    var src = figure.dataset.spec;
    var img = figure.querySelector(".dessin img");
    var script = loadScript(src);
    script.ticomexDone = function (spec) {
      withVega(function () {
        var live = document.createElement("div");
        live.className = "interactif";
        img.parentNode.insertBefore(live, img);
        window.vegaEmbed(live, spec, EMBED_OPTIONS).then(function () {
          var svg = live.querySelector("svg");
          if (svg) {
            svg.setAttribute("role", "img");
            svg.setAttribute("aria-label", img.alt);
            svg.setAttribute("aria-describedby", img.getAttribute("aria-describedby"));
            svg.removeAttribute("aria-roledescription");
            svg.querySelectorAll("[role], [aria-label], [aria-roledescription]").forEach(function (el) {
              el.removeAttribute("role");
              el.removeAttribute("aria-label");
              el.removeAttribute("aria-roledescription");
            });
          }
          var menu = live.querySelector("details > summary");
          if (menu) {
            menu.setAttribute("aria-label", MENU_LABEL);
            menu.setAttribute("title", MENU_LABEL);
          }
          img.hidden = true;
        }).catch(function (error) {
          live.remove();
          console.warn("Graphique interactif indisponible : " + error);
        });
      });
    };
  }

  function setupCharts() {
    var figures = document.querySelectorAll("figure[data-spec]");
    if (!figures.length || !("IntersectionObserver" in window)) {
      return;
    }
    var observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (entry.isIntersecting) {
          observer.unobserve(entry.target);
          enhance(entry.target);
        }
      });
    }, { rootMargin: "200px 0px" });
    figures.forEach(function (figure) { observer.observe(figure); });
  }

  function fold(text) {
    // As ticomex.conventions.fold: accents and ligatures away ("coeur" finds "Cœur").
    return text.toLowerCase().replace(/œ/g, "oe").replace(/æ/g, "ae")
      .normalize("NFKD").replace(/[\u0300-\u036f]/g, "");
  }

  function count(n, one, many) {
    return n === 1 ? "1 " + one : n + " " + many;
  }

  // "3 départements et 1 Territoire d'industrie correspondent à la recherche."
  function found(departments, territories) {
    if (departments + territories === 0) {
      return "Aucun département ni territoire ne correspond à la recherche.";
    }
    var parts = [];
    if (departments) parts.push(count(departments, "département", "départements"));
    if (territories) parts.push(count(territories, "Territoire d'industrie", "Territoires d'industrie"));
    var verb = departments + territories === 1 ? " correspond" : " correspondent";
    return parts.join(" et ") + verb + " à la recherche.";
  }

  function setupFilter(input) {
    var status = document.getElementById("resultat");
    var timer = null;
    input.addEventListener("input", function () {
      var words = fold(input.value).split(/\s+/).filter(Boolean);
      var shown = 0;
      var territories = 0;
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
        if (region.classList.contains("territoires")) {
          territories += inRegion;
        } else {
          shown += inRegion;
        }
      });
      // Announced once typing pauses, not at every key.
      clearTimeout(timer);
      timer = setTimeout(function () {
        status.textContent = found(shown, territories);
      }, 300);
    });
  }

  function start() {
    setupCharts();
    var input = document.getElementById("filtre");
    if (input) {
      setupFilter(input);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
