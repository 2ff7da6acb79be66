// The SPARQL editor's result views, like the Wikidata Query Service's: a timeline, a map and bar charts,
// as YASR plugins. Each sends the results to this server's /views/{kind} (api/views.py), which draws them
// with the same code as the question pages and answers an HTML figure with SVG; nothing is fetched from
// another host. Loaded before editor.js, which lists the views in YASR's plugin order.
(function () {
  "use strict";
  var configEl = document.getElementById("editor-config");
  if (!configEl || typeof Yasgui === "undefined" || !Yasgui.Yasr) {
    return;
  }
  var config = JSON.parse(configEl.textContent).views;
  var XSD = "http://www.w3.org/2001/XMLSchema#";
  var DATE_TYPES = [XSD + "date", XSD + "dateTime", XSD + "gYear", XSD + "gYearMonth"];
  var ISO_DATE = /^-?\d{4}(-\d\d(-\d\d)?)?(T[\d:.]+(Z|[+-]\d\d:\d\d)?)?$/;
  var NUMBERS = ["integer", "decimal", "double", "float", "long", "int", "short", "byte", "nonNegativeInteger",
                 "positiveInteger", "unsignedLong", "unsignedInt"].map(function (t) { return XSD + t; });
  var WKT = /^\s*(<[^>]*>\s*)?point\s*\(/i;

  function terms(yasr) {
    var results = yasr.results;
    if (!results || results.hasError() || !results.getVariables) { return []; }
    var out = [];
    (results.getBindings() || []).forEach(function (row) {
      Object.keys(row).forEach(function (name) { out.push(row[name]); });
    });
    return out;
  }

  function isLiteral(term) { return term.type === "literal" || term.type === "typed-literal"; }

  // Which results each view can draw (the server has the last word, and says why when it cannot)
  var VIEWS = {
    timeline: {
      label: "Timeline", priority: 5,
      handles: function (all) {
        return all.some(function (t) {
          return isLiteral(t) && (DATE_TYPES.indexOf(t.datatype) >= 0 || (!t.datatype && ISO_DATE.test(t.value)));
        });
      }
    },
    map: {
      label: "Map", priority: 4,
      handles: function (all) {
        return all.some(function (t) {
          return (t.type === "uri" && config.mappable.some(function (p) { return t.value.indexOf(p) === 0; }))
            || (isLiteral(t) && WKT.test(t.value));
        });
      }
    },
    bars: {
      label: "Bar chart", priority: 3,
      handles: function (all, yasr) {
        var rows = (yasr.results.getBindings() || []).length;
        return rows > 1 && all.some(function (t) { return isLiteral(t) && NUMBERS.indexOf(t.datatype) >= 0; });
      }
    }
  };

  function payload(yasr) {
    var results = yasr.results;
    var bindings = (results.getBindings() || []).slice(0, config.maxRows).map(function (row) {
      var plain = {};
      Object.keys(row).forEach(function (name) {
        var t = row[name];
        plain[name] = { type: t.type === "typed-literal" ? "literal" : t.type, value: t.value };
        if (t.datatype) { plain[name].datatype = t.datatype; }
        if (t["xml:lang"]) { plain[name]["xml:lang"] = t["xml:lang"]; }
      });
      return plain;
    });
    return JSON.stringify({ head: { vars: results.getVariables() }, results: { bindings: bindings } });
  }

  function message(el, text) {
    var p = document.createElement("p");
    p.className = "view-message";
    p.setAttribute("role", "status");
    p.textContent = text;
    el.appendChild(p);
  }

  function makeView(kind, spec) {
    function View(yasr) {
      this.yasr = yasr;
      this.svg = null;
    }
    View.prototype.priority = spec.priority;
    View.prototype.label = spec.label;
    View.prototype.helpReference = "/docs#/Views/draw_view_views__kind__post";
    View.prototype.canHandleResults = function () {
      var all = terms(this.yasr);
      return all.length > 0 && spec.handles(all, this.yasr);
    };
    View.prototype.getIcon = function () { return undefined; };
    View.prototype.draw = function () {
      var view = this;
      var el = this.yasr.resultsEl;
      var shown = Math.min((this.yasr.results.getBindings() || []).length, config.maxRows);
      el.setAttribute("aria-busy", "true");
      return fetch(config.url + kind, {
        method: "POST", headers: { "Content-Type": "application/sparql-results+json", Accept: "text/html" },
        body: payload(this.yasr), credentials: "same-origin"
      }).then(function (response) {
        return response.text().then(function (text) { return { ok: response.ok, text: text }; });
      }).then(function (answer) {
        el.removeAttribute("aria-busy");
        while (el.firstChild) { el.removeChild(el.firstChild); }
        if (!answer.ok) {
          var reason;
          try { reason = JSON.parse(answer.text).message; } catch (e) { reason = answer.text; }
          message(el, "The " + spec.label.toLowerCase() + " cannot show these results: " + reason + ".");
          return;
        }
        var doc = new DOMParser().parseFromString(answer.text, "text/html");
        var figure = doc.body.firstElementChild;
        if (figure) {
          figure.classList.add("yasr-view", "yasr-view-" + kind);
          el.appendChild(document.importNode(figure, true));
          var svg = el.querySelector("svg");
          view.svg = svg ? new XMLSerializer().serializeToString(svg) : null;
        }
        if ((view.yasr.results.getBindings() || []).length > shown) {
          message(el, "Only the first " + shown + " rows are drawn.");
        }
      }).catch(function (error) {
        el.removeAttribute("aria-busy");
        message(el, "The " + spec.label.toLowerCase() + " could not be drawn: " + error);
      });
    };
    View.prototype.download = function () {
      var svg = this.svg;
      if (!svg) { return undefined; }
      return { contentType: "image/svg+xml", getData: function () { return svg; }, filename: kind + ".svg",
               title: "Download the " + spec.label.toLowerCase() + " (SVG)" };
    };
    return View;
  }

  Object.keys(VIEWS).forEach(function (kind) {
    Yasgui.Yasr.registerPlugin(kind, makeView(kind, VIEWS[kind]));
  });
  window.swapgraphViews = Object.keys(VIEWS);
})();
