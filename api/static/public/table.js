// Result tables of the canned questions: sort by any column (header buttons, keyboard too), filter by
// text, facets for columns with few distinct values (a cell listing "a; b" counts for both), and pages
// of PAGE rows. Without script the full table stays as the server sent it.
(function () {
  "use strict";
  var PAGE = 25;
  var MAX_FACET_VALUES = 15;

  function text(cell) { return cell ? cell.textContent.trim() : ""; }

  function values(cell) {
    return text(cell).split(/;\s*/).filter(function (v) { return v !== ""; });
  }

  function compare(a, b) {
    var x = parseFloat(a), y = parseFloat(b);
    if (a !== "" && b !== "" && !isNaN(x) && !isNaN(y) && /^-?[\d.,]+$/.test(a) && /^-?[\d.,]+$/.test(b)) {
      return x - y;
    }
    if (a === "") { return b === "" ? 0 : 1; }  // empty cells last
    if (b === "") { return -1; }
    return a.localeCompare(b, undefined, { sensitivity: "base", numeric: true });
  }

  function element(tag, attrs, content) {
    var el = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { el.setAttribute(k, attrs[k]); });
    if (content) { el.textContent = content; }
    return el;
  }

  function enhance(table, index) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
    var state = { column: -1, descending: false, filter: "", facets: {}, page: 0 };
    var controls = element("div", { "class": "table-controls", role: "group", "aria-label": "Filter and page the table" });
    var filterId = "table-filter-" + index;
    controls.appendChild(element("label", { "for": filterId }, "Filter rows"));
    var filter = element("input", { id: filterId, type: "search", placeholder: "any text in a row" });
    controls.appendChild(filter);

    headers.forEach(function (th, column) {
      var distinct = {};
      rows.forEach(function (row) { values(row.cells[column]).forEach(function (v) { distinct[v] = true; }); });
      var names = Object.keys(distinct).sort(compare);
      if (rows.length > 5 && names.length > 1 && names.length <= MAX_FACET_VALUES) {
        var id = "table-facet-" + index + "-" + column;
        controls.appendChild(element("label", { "for": id }, th.textContent.trim()));
        var select = element("select", { id: id, "data-column": String(column) });
        select.appendChild(element("option", { value: "" }, "any"));
        names.forEach(function (name) { select.appendChild(element("option", { value: name }, name)); });
        select.addEventListener("change", function () {
          state.facets[column] = select.value;
          state.page = 0;
          draw();
        });
        controls.appendChild(select);
      }
      var button = element("button", { type: "button", "class": "sort" }, th.textContent.trim());
      button.addEventListener("click", function () {
        state.descending = state.column === column ? !state.descending : false;
        state.column = column;
        draw();
      });
      th.textContent = "";
      th.appendChild(button);
    });

    var pager = element("div", { "class": "table-pager" });
    var previous = element("button", { type: "button" }, "Previous rows");
    var next = element("button", { type: "button" }, "Next rows");
    var status = element("span", { role: "status", "aria-live": "polite" });
    pager.appendChild(previous);
    pager.appendChild(status);
    pager.appendChild(next);
    previous.addEventListener("click", function () { state.page -= 1; draw(); });
    next.addEventListener("click", function () { state.page += 1; draw(); });
    filter.addEventListener("input", function () { state.filter = filter.value.toLowerCase(); state.page = 0; draw(); });

    var wrap = table.parentNode;
    wrap.parentNode.insertBefore(controls, wrap);
    wrap.parentNode.insertBefore(pager, wrap.nextSibling);

    function draw() {
      var kept = rows.filter(function (row) {
        if (state.filter && row.textContent.toLowerCase().indexOf(state.filter) < 0) { return false; }
        return Object.keys(state.facets).every(function (column) {
          var wanted = state.facets[column];
          return !wanted || values(row.cells[column]).indexOf(wanted) >= 0;
        });
      });
      if (state.column >= 0) {
        kept.sort(function (a, b) {
          var order = compare(text(a.cells[state.column]), text(b.cells[state.column]));
          return state.descending ? -order : order;
        });
      }
      headers.forEach(function (th, column) {
        th.setAttribute("aria-sort", column !== state.column ? "none" : state.descending ? "descending" : "ascending");
      });
      var pages = Math.max(1, Math.ceil(kept.length / PAGE));
      state.page = Math.min(Math.max(state.page, 0), pages - 1);
      var first = state.page * PAGE;
      var shown = kept.slice(first, first + PAGE);
      rows.forEach(function (row) { row.hidden = true; });
      shown.forEach(function (row) { row.hidden = false; body.appendChild(row); });
      status.textContent = kept.length
        ? "rows " + (first + 1) + "–" + (first + shown.length) + " of " + kept.length +
          (kept.length < rows.length ? " (of " + rows.length + " in all)" : "")
        : "no row matches";
      previous.disabled = state.page === 0;
      next.disabled = state.page >= pages - 1;
      pager.hidden = rows.length <= PAGE;
    }
    draw();
  }

  Array.prototype.forEach.call(document.querySelectorAll("table[data-sortable]"), enhance);
})();
