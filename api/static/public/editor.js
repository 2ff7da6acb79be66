// The SPARQL editor page: YASGUI on this server's /sparql, the project's prefixes, the canned
// questions as example tabs. No request leaves the server's origin: the remote autocompleters
// (prefix.cc, LOV) are left out and the endpoint list holds only this endpoint.
(function () {
  "use strict";
  var configEl = document.getElementById("editor-config");
  var root = document.getElementById("yasgui");
  if (!configEl || !root || typeof Yasgui === "undefined") {
    return;
  }
  var config = JSON.parse(configEl.textContent);
  var endpoint = config.endpoint;

  var yasgui = new Yasgui(root, {
    requestConfig: { endpoint: endpoint, method: "POST" },
    copyEndpointOnNewTab: true,
    endpointCatalogueOptions: { getData: function () { return [{ endpoint: endpoint }]; } },
    persistenceId: null, // each visit starts from the server's catalogue, not from old tabs
    populateFromUrl: false,
    autofocus: true,
    yasqe: {
      value: config.defaultQuery,
      autocompleters: ["prefixes", "variables"], // bundled prefixes only: nothing fetched
      prefixCcApi: null,
      resizeable: true,
      editorHeight: "22rem",
      createShareableLink: null
    },
    // the table first, then the result views of views.js (timeline, map, bar chart)
    yasr: { prefixes: config.prefixes, pluginOrder: ["table", "response"].concat(window.swapgraphViews || []) }
  });
  window.swapgraphEditor = yasgui;
  makeAccessible(yasgui);

  // Result links to IRIs under the public IRI base (config.base) go to this server's
  // page for them, which serves the same path; the IRI itself stays the link's title. A MutationObserver
  // catches every redraw (new results, table pages, plugins).
  function localLinks(scope) {
    var anchors = scope.querySelectorAll ? scope.querySelectorAll('a[href^="' + config.base + '"]') : [];
    Array.prototype.forEach.call(anchors, function (a) {
      var iri = a.getAttribute("href");
      a.setAttribute("href", "/" + iri.slice(config.base.length));
      a.setAttribute("title", iri);
      a.removeAttribute("target");
    });
  }
  new MutationObserver(function (changes) {
    changes.forEach(function (change) {
      Array.prototype.forEach.call(change.addedNodes, function (node) {
        if (node.nodeType === 1) { localLinks(node); if (node.matches && node.matches("a")) { localLinks(node.parentNode); } }
      });
    });
  }).observe(root, { childList: true, subtree: true });

  function openQuery(name, query) {
    var tab = yasgui.addTab(true, { name: name, yasqe: { value: query }, requestConfig: { endpoint: endpoint } });
    return tab;
  }

  // A shared query opens, however it was shared: `/editor?query=` (the server puts it in the config),
  // YASGUI's share link `/editor#query=...&tabTitle=...`, or `/sparql#query=`. Only the query and its
  // title are taken from a link: the endpoint stays this server's, so a link cannot send queries elsewhere.
  var shared = new URLSearchParams(window.location.hash.replace(/^#/, ""));
  var search = new URLSearchParams(window.location.search);
  var sharedQuery = shared.get("query") || config.query || search.get("query");
  // What axe-core found in YASGUI's own markup, mended here: the "+" button sat inside the tablist (only
  // tabs may), the endpoint field and CodeMirror's textarea had no label, the editor's scroll area was not
  // reachable by keyboard.
  function makeAccessible(editor) {
    var tabs = editor.tabElements;
    if (tabs && tabs.addTabEl && tabs._tabsListEl && tabs.addTabEl.parentNode === tabs._tabsListEl) {
      tabs._tabsListEl.parentNode.insertBefore(tabs.addTabEl, tabs._tabsListEl.nextSibling);
      tabs.addTabEl = null; // new tabs are then appended to the list, not put before the button
    }
    labelFields(document);
    new MutationObserver(function () { labelFields(document); }).observe(root, { childList: true, subtree: true });
  }

  function labelFields(scope) {
    Array.prototype.forEach.call(scope.querySelectorAll("input.autocomplete:not([aria-label])"), function (el) {
      el.setAttribute("aria-label", "SPARQL endpoint");
    });
    Array.prototype.forEach.call(scope.querySelectorAll(".CodeMirror textarea:not([aria-label])"), function (el) {
      el.setAttribute("aria-label", "SPARQL query");
    });
    Array.prototype.forEach.call(scope.querySelectorAll(".tab input[type=text]:not([aria-label])"), function (el) {
      el.setAttribute("aria-label", "Tab name");
    });
    Array.prototype.forEach.call(scope.querySelectorAll('.CodeMirror-scroll:not([tabindex="0"])'), function (el) {
      el.setAttribute("tabindex", "0");
      el.setAttribute("aria-label", "SPARQL query (scrollable)");
    });
  }

  var first = yasgui.getTab();
  if (sharedQuery) {
    first.setQuery(sharedQuery);
    first.setName(shared.get("tabTitle") || "Query");
  } else {
    first.setName("Start here");
  }

  var byName = {};
  config.examples.forEach(function (example) { byName[example.name] = example; });
  var select = document.getElementById("example");
  if (select) {
    select.addEventListener("change", function () {
      var example = byName[select.value];
      if (example) {
        openQuery(example.title, example.query);
      }
      select.value = "";
    });
  }
  // `#question=NAME` opens that canned question (links from the question pages can use it)
  var match = /question=([\w-]+)/.exec(window.location.hash);
  if (match && byName[match[1]]) {
    openQuery(byName[match[1]].title, byName[match[1]].query);
  }
})();
